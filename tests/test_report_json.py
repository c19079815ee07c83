"""JSON report tests: the document holds the evaluator's figures as numbers, every row,
the differences, and ids verbatim as JSON strings."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from solver import report
from solver.evaluation.costs import COST_PARTS
from solver.report.data import REPORT_SCHEMA
from solver.report.json_report import render_json
from tests.test_report_compare import SERVICE, SITE_A, SITE_B, hostile_plan, two_plans


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The two-plan comparison as parsed JSON."""
    parsed: dict[str, Any] = orjson.loads(render_json(two_plans().comparison()))
    return parsed


def test_document_shape(document: dict[str, Any]) -> None:
    """Schema tag, labels, one delta, shared latency bins with one more edge than bins."""
    assert document["schema"] == REPORT_SCHEMA
    assert document["labels"] == ["base", "cut"]
    assert len(document["plans"]) == 2 and len(document["deltas"]) == 1
    bins = document["latency_bins_ms"]
    for plan in document["plans"]:
        assert len(plan["latency"]["histogram_rps"]) == len(bins) - 1


def test_figures_are_the_evaluators(document: dict[str, Any]) -> None:
    """Objective, cost parts, site power and accelerators, link loads: exact numbers."""
    plans = two_plans()
    for plan, evaluation in zip(document["plans"], [plans.base_eval, plans.cut_eval], strict=True):
        assert plan["summary"]["objective"] == evaluation.objective
        assert plan["summary"]["costs"] == {
            part: getattr(evaluation.costs, part) for part in COST_PARTS
        }
        for site_id, usage in evaluation.sites.items():
            site = plan["sites"][site_id]
            assert site["facility_kw"] == usage.facility_kw
            assert site["grid_kw"] == usage.grid_kw
            assert {row["accelerator"]: row["used"] for row in site["accelerators"]} == {
                name: item.used for name, item in usage.accelerators.items()
            }
        assert [link["used_gbps"] for link in plan["links"]] == [
            link.used_gbps for link in evaluation.links
        ]
        for service_id, usage in evaluation.services.items():
            assert plan["services"][service_id]["worst_latency_ms"] == usage.worst_latency_ms
            if usage.resilience == "n+1":
                left = plan["resilience"][service_id]["capacity_left_by_domain"]
                assert left == usage.capacity_left_by_domain


def test_deltas_in_json(document: dict[str, Any]) -> None:
    """The delta's objective and costs are cut minus base."""
    plans = two_plans()
    delta = document["deltas"][0]
    assert delta["label"] == "cut" and delta["baseline"] == "base"
    assert delta["objective"] == plans.cut_eval.objective - plans.base_eval.objective
    for part in COST_PARTS:
        expected = getattr(plans.cut_eval.costs, part) - getattr(plans.base_eval.costs, part)
        assert delta["costs"][part] == expected
    moved = {move["job"] for move in delta["training_moves"]}
    assert moved == {move.job for move in plans.comparison().deltas[0].training_moves}


def test_hostile_ids_round_trip() -> None:
    """Ids come back verbatim from the JSON (it is data, escaped by JSON string rules)."""
    instance, solution = hostile_plan()
    parsed = orjson.loads(render_json(report(instance, solution)))
    assert set(parsed["plans"][0]["sites"]) == {SITE_A, SITE_B}
    assert list(parsed["plans"][0]["services"]) == [SERVICE]
