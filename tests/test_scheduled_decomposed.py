"""The large-instance path of the scheduled solver (solver/scheduled/decomposed.py, bound.py,
rounding.py) on instances small enough to know the answer: the decomposition's bound never
exceeds the exhaustive oracle's optimum, and every plan it returns passes the evaluator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from models.generator.scheduled import generate_scheduled_with_witness
from solver import solve
from solver.scheduled import solve as scheduled_solve
from solver.scheduled.bound import period_lp, summed_bound, training_floor
from solver.scheduled.ledger import Ledger
from solver.scheduled.period_view import period_view
from solver.scheduled.rounding import rounded_period
from tests import builders as b
from tests.checks import assert_valid_plan
from tests.scheduled_cases import assert_checked, v2
from tests.test_scheduled_oracle import TOL, build, draw, oracle

if TYPE_CHECKING:
    from models import Instance

TWO = [("p1", 10), ("p2", 10)]


def decomposition_bound(instance: Instance) -> float | None:
    floors = training_floor(instance)
    if floors is None:
        return None
    periods = [period_lp(instance, p, float("inf")) for p in range(len(instance.schedule.periods))]
    return summed_bound(floors, periods)


@pytest.mark.parametrize("seed", range(40))
def test_the_decomposition_bound_never_exceeds_the_oracle(seed: int) -> None:
    case = draw(seed)
    instance = build(case)
    expected = oracle(case)
    bound = decomposition_bound(instance)
    if expected is None or bound is None:
        return
    assert bound <= expected + TOL * max(1.0, abs(expected))


@pytest.mark.parametrize("seed", range(0, 40, 4))
def test_the_large_path_on_tiny_instances(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every instance sent down the large path: its claims hold against the oracle."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    case = draw(seed)
    instance = build(case)
    expected = oracle(case)
    solution = solve(instance, time_limit_s=5, workers=1, seed=seed)
    if expected is None:
        assert solution.status in ("infeasible", "unknown")
        return
    slack = TOL * max(1.0, abs(expected))
    assert solution.status != "infeasible"
    if solution.bound is not None:
        assert solution.bound <= expected + slack
    if solution.has_plan:
        assert_checked(instance, solution)
        assert solution.objective is not None
        assert solution.objective >= expected - slack


def test_a_required_job_without_a_window_is_infeasible_on_the_large_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance = v2(
        TWO,
        sites=[b.site("A", {"gpu": (8, 1.0)})],
        training=[b.job("j", {"gpu": 8}, 5, deadline_hour=4)],
    )
    assert solve(instance, time_limit_s=5, workers=1).status == "infeasible"


def test_rounding_an_lp_gives_a_plan_of_the_view() -> None:
    """Two sites near one region, 10 rps of demand, 4 rps per 1-GPU replica and 3 GPUs at
    the cheap site: the LP uses at least 2.5 replicas there (v1's cover rows make it 3); the
    rounding keeps 3 at the cheap site and the exact flow LP routes the demand."""
    instance = v2(
        TWO,
        sites=[b.site("cheap", {"gpu": (3, 1.0)}), b.site("dear", {"gpu": (8, 3.0)})],
        regions=["city"],
        links=[b.link("city", "cheap", 2.0), b.link("city", "dear", 2.0)],
        inference=[b.service("chat", {"gpu": (1, 4.0)}, {"city": 10.0}, slo_ms=5.0)],
    )
    view = period_view(instance, Ledger(instance), 0, ["chat"])
    lp = period_lp(instance, 0, float("inf"))
    assert sum(lp.replicas.values()) >= 2.5 - 1e-9
    part = rounded_period(view, lp.replicas)
    assert part is not None
    assert_valid_plan(view, part)
    assert {(r.site, r.replicas) for r in part.inference} == {("cheap", 3)}
    assert sum(f.rps for f in part.routes) == pytest.approx(10.0)


def test_rounding_sends_what_the_floors_cannot_route_to_the_greedy_planner() -> None:
    """The LP's 2.5 replicas at a site with stock for 2: the floor (2) fits, the rounding up
    does not; the 2 rps left over go to a replica at the dearer site."""
    instance = v2(
        TWO,
        sites=[b.site("cheap", {"gpu": (2, 1.0)}), b.site("dear", {"gpu": (8, 3.0)})],
        regions=["city"],
        links=[b.link("city", "cheap", 2.0), b.link("city", "dear", 2.0)],
        inference=[b.service("chat", {"gpu": (1, 4.0)}, {"city": 10.0}, slo_ms=5.0)],
    )
    view = period_view(instance, Ledger(instance), 0, ["chat"])
    part = rounded_period(
        view, {o: 2.5 for o in view.eligibility.replicas["chat"] if o.site == "cheap"}
    )
    assert part is not None
    assert_valid_plan(view, part)
    assert {(r.site, r.replicas) for r in part.inference} == {("cheap", 2), ("dear", 1)}


def test_the_large_path_on_generated_sched_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance, _ = generate_scheduled_with_witness("sched-S", 1)
    solution = solve(instance, time_limit_s=10, workers=1)
    assert solution.has_plan
    assert_checked(instance, solution)
    exact = solve(instance, time_limit_s=10, workers=1)
    assert solution.bound is not None and exact.objective is not None
    assert solution.bound <= exact.objective + TOL * abs(exact.objective)


def test_the_large_path_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance, _ = generate_scheduled_with_witness("sched-S", 2)
    one = solve(instance, time_limit_s=30, workers=1)
    two = solve(instance, time_limit_s=30, workers=1)
    assert one.has_plan
    assert (one.training, one.inference, one.routes, one.unserved) == (
        two.training,
        two.inference,
        two.routes,
        two.unserved,
    )
    assert one.bound == two.bound
