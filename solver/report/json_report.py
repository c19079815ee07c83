"""The comparison as JSON, for other tools: the whole data model, every row, no formatting.

The document is `{"schema": "infraplan-report/v1", "labels": [...], "plans": [...],
"deltas": [...], "site_ids": [...], "latency_bins_ms": [...], "warnings": [...]}` with
the fields of `solver.report.data`; figures are plain numbers in the SPEC's units,
shares are fractions (0.5 = 50 %), and a missing figure is null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from solver.report.data import REPORT_SCHEMA

if TYPE_CHECKING:
    from solver.report.data import Comparison


def report_document(comparison: Comparison) -> dict[str, Any]:
    """The JSON document as Python objects (dataclasses left for orjson to serialise)."""
    return {
        "schema": REPORT_SCHEMA,
        "labels": comparison.labels,
        "plans": comparison.plans,
        "deltas": comparison.deltas,
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
