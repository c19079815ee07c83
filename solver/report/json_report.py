"""The comparison as JSON, for other tools: the whole data model, every row, no formatting.

The document is `{"schema": "infraplan-report/v1", "labels": [...], "plans": [...],
"deltas": [...], "site_ids": [...], "latency_bins_ms": [...], "warnings": [...]}` with
the fields of `solver.report.data`; figures are plain numbers in the SPEC's units,
shares are fractions (0.5 = 50 %), and a missing figure is null. With plans of v2
instances (SPEC §8-§12) the schema is "infraplan-report/v2": each such plan, and each
delta between two of them, has a `v2` object with the fields of `solver.report.data_v2`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

import orjson

from solver.report.data import REPORT_SCHEMA, REPORT_SCHEMA_V2

if TYPE_CHECKING:
    from solver.report.data import Comparison, PlanDelta, PlanReport


def report_document(comparison: Comparison) -> dict[str, Any]:
    """The JSON document as Python objects (dataclasses left for orjson to serialise); a
    plan or delta without v2 figures has no `v2` key, so v1 reports read as before."""
    return {
        "schema": REPORT_SCHEMA_V2 if comparison.has_v2 else REPORT_SCHEMA,
        "labels": comparison.labels,
        "plans": [_without_empty_v2(plan) for plan in comparison.plans],
        "deltas": [_without_empty_v2(delta) for delta in comparison.deltas],
        "site_ids": comparison.site_ids,
        "latency_bins_ms": comparison.latency_bins_ms,
        "warnings": comparison.warnings,
    }


def render_json(comparison: Comparison) -> str:
    """The report as indented JSON text (ends with a newline)."""
    data = orjson.dumps(
        report_document(comparison), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    )
    return data.decode()


def _without_empty_v2(record: PlanReport | PlanDelta) -> PlanReport | PlanDelta | dict[str, Any]:
    """The record as it is when it has v2 figures, else its fields without `v2`."""
    if record.v2 is not None:
        return record
    return {item.name: getattr(record, item.name) for item in fields(record) if item.name != "v2"}
