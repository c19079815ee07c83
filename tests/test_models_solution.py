"""Tests of models/solution.py: parsing, round trips, gap and summary (SPEC section 7)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from models import InputError, Solution, load_solution, parse_solution, save_solution

if TYPE_CHECKING:
    from pathlib import Path


def solution_dict(**changes: Any) -> dict[str, Any]:
    """The SPEC section 7 example solution, with `changes` applied at the top level."""
    document: dict[str, Any] = {
        "schema": "infraplan-solution/v1",
        "instance": "example",
        "instance_sha256": "ab" * 32,
        "status": "optimal",
        "objective": 123456.78,
        "bound": 123400.0,
        "training": [
            {"job": "pretrain-a", "site": "us-east", "accelerator": "h100", "count": 2048}
        ],
        "unplaced_training": [],
        "inference": [
            {"service": "chat-70b", "site": "us-east", "accelerator": "h100", "replicas": 26}
        ],
        "routes": [{"service": "chat-70b", "region": "nyc", "site": "us-east", "rps": 300.0}],
        "unserved": [{"service": "chat-70b", "region": "sfo", "rps": 1.5}],
        "costs": {
            "compute": 100000.0,
            "energy": 20000.0,
            "carbon": 3000.0,
            "egress": 400.0,
            "site_costs": 50.0,
            "fixed": 6.0,
            "unserved": 0.78,
            "unplaced": 0.0,
        },
        "solver": {
            "name": "cp-sat",
            "version": "9.12",
            "seed": 0,
            "time_limit_s": 60,
            "wall_s": 1.9,
            "presolve": "on",
        },
    }
    document.update(changes)
    return document


def test_parse_reads_every_field() -> None:
    """The SPEC example parses into typed assignments, flows and costs."""
    solution = parse_solution(solution_dict())
    assert solution.schema_ == "infraplan-solution/v1"
    assert solution.training[0].count == 2048
    assert solution.inference[0].replicas == 26
    assert solution.routes[0].rps == 300.0
    assert solution.unserved[0].region == "sfo"
    assert solution.costs.egress == 400.0
    assert solution.solver.seed == 0
    assert solution.has_plan


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    """parse -> save -> load gives an equal solution, extra solver fields included."""
    original = parse_solution(solution_dict())
    save_solution(original, tmp_path / "plan.json")
    again = load_solution(tmp_path / "plan.json")
    assert again == original
    assert again.solver.model_extra == {"presolve": "on"}
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_dump_uses_spec_field_names(tmp_path: Path) -> None:
    """The written file says "schema" (not schema_) and spells out every field."""
    save_solution(parse_solution(solution_dict(unserved=[])), tmp_path / "plan.json")
    written = orjson.loads((tmp_path / "plan.json").read_bytes())
    assert written["schema"] == "infraplan-solution/v1"
    assert "schema_" not in written
    assert written["unserved"] == []
    assert set(written) == set(solution_dict())


def test_minimal_solution_takes_defaults() -> None:
    """A solution without a plan needs only identity, status and solver."""
    solution = parse_solution(
        {
            "instance": "x",
            "instance_sha256": "0" * 64,
            "status": "infeasible",
            "solver": {"name": "cp-sat", "version": "9"},
        }
    )
    assert solution.schema_ == "infraplan-solution/v1"
    assert (solution.objective, solution.bound, solution.gap) == (None, None, None)
    assert solution.training == []
    assert solution.costs.total == 0
    assert not solution.has_plan


@pytest.mark.parametrize(
    ("objective", "bound", "gap"),
    [
        (100.0, 90.0, 0.1),
        (100.0, 100.0, 0.0),
        (100.0, 100.5, -0.005),
        (0.0, 1.0, -math.inf),
        (200.0, 0.0, 1.0),
        (0.0, 0.0, 0.0),
        (0.0, -1.0, None),
        (100.0, None, None),
        (None, 90.0, None),
    ],
)
def test_gap(objective: float | None, bound: float | None, gap: float | None) -> None:
    """gap = (objective - bound) / |objective|, negative when the bound is above the plan
    (never clipped), None without both figures."""
    solution = parse_solution(solution_dict(objective=objective, bound=bound))
    if gap is None:
        assert solution.gap is None
    else:
        assert solution.gap == pytest.approx(gap)


def test_costs_total_sums_every_part() -> None:
    """CostBreakdown.total adds all eight parts."""
    costs = parse_solution(solution_dict()).costs
    assert costs.total == pytest.approx(123456.78)


def test_summary_is_one_line() -> None:
    """summary() gives status, objective, bound, gap and wall time on one line."""
    solution = parse_solution(solution_dict(objective=100.0, bound=90.0))
    assert (
        str(solution)
        == solution.summary()
        == ("example: optimal objective=100.00 bound=90.00 gap=10.0000% wall=1.90s")
    )
    unknown = parse_solution(solution_dict(status="unknown", objective=None, bound=None))
    assert unknown.summary() == "example: unknown objective=- bound=- gap=- wall=1.90s"


@pytest.mark.parametrize("status", ["optimal", "feasible", "infeasible", "unknown"])
def test_status_words(status: str) -> None:
    """The four SPEC status words are accepted; only optimal and feasible hold a plan."""
    solution = parse_solution(solution_dict(status=status))
    assert solution.has_plan == (status in ("optimal", "feasible"))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status": "solved"}, "status: Input should be 'optimal', 'feasible', 'infeasible' or"),
        ({"schema": "infraplan/v1"}, "schema: Input should be 'infraplan-solution/v1'"),
        ({"objectiv": 3}, "objectiv: unknown field"),
        ({"objective": "3"}, "objective: Input should be a valid number (got '3')"),
        (
            {"routes": [{"service": "s", "region": "r", "site": "x", "rps": -1}]},
            "routes[0].rps: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            {"training": [{"job": "j", "site": "s", "accelerator": "a"}]},
            "training[0].count: required field missing",
        ),
    ],
)
def test_invalid_solutions(changes: dict[str, Any], expected: str) -> None:
    """Bad solution documents are InputErrors with located, readable issues."""
    with pytest.raises(InputError) as caught:
        parse_solution(solution_dict(**changes), "plan.json")
    assert str(caught.value.issues[0]).startswith(expected)


def test_solution_is_immutable() -> None:
    """Solutions are frozen: a plan read from disk cannot be changed by accident."""
    solution = parse_solution(solution_dict())
    with pytest.raises(ValueError, match="frozen"):
        solution.status = "feasible"  # type: ignore[misc]
    assert isinstance(solution, Solution)
