"""The greedy planner: valid plans, largest-first choices, and honest failure."""

from __future__ import annotations

import pytest

from models import load_instance
from solver.heuristics.greedy import Guide, greedy
from tests import builders as b
from tests.checks import assert_valid_plan


def test_greedy_plan_of_worked_example_is_optimal() -> None:
    """On the SPEC example the greedy plan is the optimum (one option each)."""
    instance = load_instance("instances/example.json")
    plan = greedy(instance)
    assert plan.status == "feasible"
    assert plan.objective == pytest.approx(2_778_598.80)
    assert_valid_plan(instance, plan)


@pytest.mark.parametrize("seed", range(5))
def test_greedy_plans_of_generated_instances_are_valid(seed: int) -> None:
    """Every plan the greedy planner returns passes the evaluator."""
    instance = load_instance(f"instances/generated/S-{seed}.json")
    plan = greedy(instance)
    if plan.has_plan:
        assert_valid_plan(instance, plan)


def test_greedy_is_myopic() -> None:
    """Largest job first takes the cheap site, though the optimum puts the two small jobs there."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (8, 2.0)})],
        training=[b.job("big", {"gpu": 4}), b.job("s1", {"gpu": 2}), b.job("s2", {"gpu": 2})],
    )
    plan = greedy(instance)
    assert_valid_plan(instance, plan)
    assert {t.job: t.site for t in plan.training}["big"] == "A"


def test_greedy_fails_honestly() -> None:
    """When a required job finds no room the greedy planner says `unknown`, not a bad plan."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (6, 1.0)})],
        training=[b.job("j1", {"gpu": 4}), b.job("j2", {"gpu": 4})],
    )
    assert greedy(instance).status == "unknown"
    partial = greedy(instance, partial=True)
    assert partial.status == "unknown"
    assert len(partial.training) == 1
    assert len(partial.unplaced_training) == 1


def test_greedy_stops_at_its_time_limit() -> None:
    """With no time at all the greedy planner returns an incomplete plan, not a late one."""
    instance = load_instance("instances/generated/S-0.json")
    plan = greedy(instance, partial=True, time_limit_s=0.0)
    assert plan.status == "unknown"
    assert plan.inference == []
    assert greedy(instance, time_limit_s=0.0).status == "unknown"


def test_optional_job_the_lp_places_goes_with_the_required_ones() -> None:
    """The optional job `o` fits only at A, whose 8 GPUs the required job `r` would take
    first (A is cheaper for it than B). Leaving `o` out costs 1,000; guided by an LP that
    places `o` whole, the planner places it first and `r` at B: 80 + 80 = 160 instead
    of 40 + 1,000."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (8, 1.0)}), b.site("B", {"gpu": (4, 2.0)})],
        training=[
            b.job("r", {"gpu": 4}),
            b.job("o", {"gpu": 8}, required=False, unplaced_cost=1000.0),
        ],
    )
    o_at_a = next(p for p in instance.eligibility.training["o"] if p.site == "A")
    unguided = greedy(instance)
    assert unguided.unplaced_training == ["o"]
    guided = greedy(instance, guide=Guide(placements={o_at_a: 1.0}))
    assert guided.unplaced_training == []
    assert {t.job: t.site for t in guided.training} == {"o": "A", "r": "B"}
    assert guided.objective == pytest.approx(160.0)
    assert unguided.objective == pytest.approx(1040.0)
    assert_valid_plan(instance, unguided)
    assert_valid_plan(instance, guided)
