"""solver.scheduled.shed: the greedy shed of an incident's load under move budgets, and
replicas added for demand that grew.

tests/test_site_search.py's incident, priced by hand there (10 hours, 1 kW per GPU, PUE
1): job j (2 GPUs, move cost 3) and two replicas of s (1 GPU, 10 rps each; 20 rps from
region r, must be served) run at A (1.0 per GPU-hour), whose grid is cut to 2 kW; B
(1.2) serves r as A does; C (1.5) is too far from r for s.
"""

from __future__ import annotations

import pytest

from models import (
    Instance,
    ReplicaAssignment,
    RouteFlow,
    Solution,
    SolverInfo,
    TrainingAssignment,
    parse_instance,
)
from solver import solve
from solver.evaluate import evaluate
from solver.replan import current_from_solution, restated, with_current
from solver.scheduled.plan import ScheduledPlan
from solver.scheduled.shed import Shed, grow_replicas, shed_load
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2
from tests.test_site_search import before_the_cut, cut


def shed(moves: int, changes: int, *, spare_at_b: bool = False) -> tuple[Shed, Instance]:
    """The shed from `current` (everything at A; with `spare_at_b` also one replica of s
    at B that no route uses), and the instance."""
    base = before_the_cut()
    current = solve(base, time_limit_s=10, workers=1)
    if spare_at_b:
        plan = ScheduledPlan.build(
            base,
            [TrainingAssignment(job="j", site="A", accelerator="gpu", count=2)],
            [],
            [
                ReplicaAssignment(service="s", site="A", accelerator="gpu", replicas=2),
                ReplicaAssignment(service="s", site="B", accelerator="gpu", replicas=1),
            ],
            [RouteFlow(service="s", region="r", site="A", rps=20.0)],
            [],
            [],
        )
        current = plan.solution(base, "feasible", None, current.solver)
    projected = current_from_solution(cut(base), current).current
    instance = with_current(
        cut(base), projected, max_training_moves=moves, max_replica_changes=changes
    )
    stated, _ = restated(instance, current)
    start = ScheduledPlan.projected(instance, stated)
    return shed_load(instance, start, {"A"}, moves, changes), instance


def test_one_move_takes_the_job_to_the_cheapest_site_with_room() -> None:
    """j to B (+7 against +13 at C) sheds all of A's excess: 47, the budgets' optimum."""
    result, instance = shed(1, 2)
    assert result.plan is not None
    checked(instance, result.plan)
    assert result.plan.objective == pytest.approx(47.0)
    assert [(t.job, t.site) for t in result.plan.training] == [("j", "B")]


def test_without_moves_replicas_go_where_they_serve_the_same_users() -> None:
    """Both replicas to B (4 changes): j at A 20 + s at B 24 = 44, the routes made anew."""
    result, instance = shed(0, 4)
    assert result.plan is not None
    solution = checked(instance, result.plan)
    assert result.plan.objective == pytest.approx(44.0)
    assert {(g.site, g.replicas) for g in result.plan.inference} == {("B", 2)}
    figures = evaluate(instance, solution).replan
    assert figures is not None
    assert figures.replica_changes == 4


def test_a_budget_too_small_leaves_decisions_nearer_a_plan_but_no_plan() -> None:
    """Two changes move one replica (a stop at A, a start at B): A still draws 3 kW."""
    result, _ = shed(0, 2)
    assert result.plan is None
    assert result.nearer is not None
    assert {(g.site, g.replicas) for g in result.nearer.inference} == {("A", 1), ("B", 1)}


def test_a_replica_whose_users_others_can_serve_stops_for_one_change() -> None:
    """With a spare replica of s at B (10 rps no route uses), stopping one at A sheds
    A's 1 kW... of the 2 kW over; a second stop finds no spare left and moves (2 more
    changes). Within 3 changes: two replicas at B, one of them started: 20 + 24 = 44."""
    result, instance = shed(0, 3, spare_at_b=True)
    assert result.plan is not None
    checked(instance, result.plan)
    assert {(g.site, g.replicas) for g in result.plan.inference} == {("B", 2)}
    assert result.plan.objective == pytest.approx(44.0)


def checked(instance: Instance, plan: ScheduledPlan) -> Solution:
    """`plan` as a solution of `instance`, after the evaluator and the tests' own check."""
    solution = plan.solution(instance, "feasible", None, _info())
    assert_checked(instance, solution)
    return solution


def _info() -> SolverInfo:
    return SolverInfo(name="infraplan-cpsat", version="", seed=0, time_limit_s=0, wall_s=0)


def grown(demand: float, changes: int) -> tuple[ScheduledPlan | None, Instance]:
    """The incident's instance before the cut, with s's demand from r grown to `demand`
    (A's 4 GPUs are full: j's 2 and s's 2 replicas), re-planned from its optimum."""
    base = before_the_cut()
    current = solve(base, time_limit_s=10, workers=1)
    document = base.model_dump(mode="json", by_alias=True, exclude_unset=True)
    document["inference"][0]["demand_rps"] = {"r": demand}
    projected = current_from_solution(parse_instance(document), current).current
    instance = with_current(
        parse_instance(document), projected, max_training_moves=0, max_replica_changes=changes
    )
    stated, _ = restated(instance, current)
    grown_plan = grow_replicas(instance, ScheduledPlan.projected(instance, stated), changes)
    return grown_plan.plan, instance


def test_demand_that_grew_gets_replicas_where_there_is_room() -> None:
    """30 rps: a third replica, at B (A is full; C is too far): 40 + 12 = 52."""
    plan, instance = grown(30.0, 1)
    assert plan is not None
    checked(instance, plan)
    assert plan.objective == pytest.approx(52.0)
    assert {(g.site, g.replicas) for g in plan.inference} == {("A", 2), ("B", 1)}
    # 40 rps needs two more, and one change is too few.
    assert grown(40.0, 1)[0] is None
    two, _ = grown(40.0, 2)
    assert two is not None
    assert two.objective == pytest.approx(64.0)


def test_a_job_goes_only_where_its_dataset_reads_fit_on_the_links() -> None:
    """j reads 5 Gbps from a dataset at r; the link r-B carries 1 Gbps, so j goes to C
    (+13 against +7 at B): 30 + 3 + 20 = 53 (tests/test_site_search.py's second option)."""
    base = before_the_cut()
    document = base.model_dump(mode="json", by_alias=True, exclude_unset=True)
    document["training"][0]["dataset"] = {"at": "r", "read_gbps": 5.0}
    for link in document["links"]:
        if link["b"] == "B":
            link["bandwidth_gbps"] = 1.0
    base = parse_instance(document)
    current = solve(base, time_limit_s=10, workers=1)
    assert [(t.job, t.site) for t in current.training] == [("j", "A")]
    projected = current_from_solution(cut(base), current).current
    instance = with_current(cut(base), projected, max_training_moves=1, max_replica_changes=2)
    stated, _ = restated(instance, current)
    result = shed_load(instance, ScheduledPlan.projected(instance, stated), {"A"}, 1, 2)
    assert result.plan is not None
    checked(instance, result.plan)
    assert [(t.job, t.site) for t in result.plan.training] == [("j", "C")]
    assert result.plan.objective == pytest.approx(53.0)


def two_services(grid_kw: float) -> Instance:
    """j (2 GPUs) and services s1 (two replicas, 20 rps, unserved at 0.5 per rps-hour)
    and s2 (one replica, 10 rps, unserved at 0.3) at A (1.0 per GPU-hour, 6 GPUs); B
    (1.2) serves r as A does; C (1.5) is too far. Before the cut everything runs at A:
    20 + 20 + 10 = 50."""
    return v2(
        None,
        sites=[
            b.site("A", {"gpu": (6, 1.0)}, grid_kw=grid_kw),
            b.site("B", {"gpu": (6, 1.2)}),
            b.site("C", {"gpu": (6, 1.5)}),
        ],
        regions=["r"],
        links=[b.link("r", "A", 5.0), b.link("r", "B", 5.0), b.link("r", "C", 100.0)],
        training=[b.job("j", {"gpu": 2}, move_cost=3.0)],
        inference=[
            b.service("s1", {"gpu": (1, 10.0)}, {"r": 20.0}, unserved_cost_per_rps_hour=0.5),
            b.service("s2", {"gpu": (1, 10.0)}, {"r": 10.0}, unserved_cost_per_rps_hour=0.3),
        ],
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [(3, 150.0), (4, 112.0), (6, 56.0)],
)
def test_replica_changes_are_spent_where_they_save_most(changes: int, expected: float) -> None:
    """A's grid is cut to 2 kW and j may not move: its three replicas leave A, each
    stopped (1 change; s1's costs 50 of unserved demand, s2's 30) or moved to B (2
    changes, 12). 6 changes: all moved, 20 + 36 = 56. 4: one of s1's moved, the other
    and s2's stopped, 20 + 12 + 50 + 30 = 112 (moving the cheapest way first moves both
    of s1's and has no change left for s2; the most shed per change stops all three).
    3: all stopped, 20 + 100 + 30 = 150. Each is the budgets' optimum (the solver's
    too)."""
    base = two_services(1e6)
    current = solve(base, time_limit_s=10, workers=1)
    assert current.objective == pytest.approx(50.0)
    instance = with_current(
        two_services(2.0),
        current_from_solution(two_services(2.0), current).current,
        max_training_moves=0,
        max_replica_changes=changes,
    )
    stated, _ = restated(instance, current)
    result = shed_load(instance, ScheduledPlan.projected(instance, stated), {"A"}, 0, changes)
    assert result.plan is not None
    checked(instance, result.plan)
    assert result.plan.objective == pytest.approx(expected)
    assert solve(instance, time_limit_s=10, workers=1).objective == pytest.approx(expected)
