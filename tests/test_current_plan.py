"""Seeded current plans (models.generator.current_plan, solver.replan_cases): the optimum
of a perturbed copy as `current`, with move costs, checkpoint sizes and start costs drawn
per job and service; deterministic per seed; re-planning from it has a plan that passes
the evaluator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.generator.current_plan import perturbed, with_move_prices
from solver import solve
from solver.replan_cases import seeded_current
from tests import builders as b
from tests.checks import assert_valid_plan
from tests.scheduled_cases import v2

if TYPE_CHECKING:
    from models import Instance


def tiny(scheduled: bool) -> Instance:
    """Three sites near one region, two jobs and one service with demand per period."""
    sites = [
        b.site(name, {"gpu": (8, cost)}, grid_kw=grid)
        for name, cost, grid in (("A", 1.0, 6.0), ("B", 1.2, 10.0), ("C", 1.5, 20.0))
    ]
    extra = {"demand_by_period": {"p2": {"r": 35.0}}} if scheduled else {}
    return v2(
        [("p1", 4), ("p2", 4)] if scheduled else None,
        horizon_hours=8,
        sites=sites,
        regions=["r"],
        links=[b.link("r", s, 2.0, egress_cost_per_gb=0.01) for s in ("A", "B", "C")],
        training=[
            b.job("j0", {"gpu": 4}, 4, required=True),
            b.job("j1", {"gpu": 3}, 2, unplaced_cost=100.0),
        ],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 25.0}, **extra)],
    )


def test_perturbation_and_prices_are_pure_functions_of_the_seed() -> None:
    document = tiny(True).model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert perturbed(document, 3) == perturbed(document, 3)
    assert perturbed(document, 3) != perturbed(document, 4)
    priced = with_move_prices(document, 3)
    assert priced == with_move_prices(document, 3)
    assert all(job["move_cost"] > 0 and job["checkpoint_gb"] > 0 for job in priced["training"])
    assert priced["inference"][0]["replica_start_cost"] > 0
    assert document.get("current") is None  # the input is left as it was


def test_a_seeded_current_is_deterministic_and_replans_cleanly() -> None:
    for scheduled in (False, True):
        instance = tiny(scheduled)
        first = seeded_current(instance, 1, time_limit_s=10)
        again = seeded_current(instance, 1, time_limit_s=10)
        assert first.plan.status == "optimal"
        assert first.instance.current == again.instance.current
        assert first.instance.current is not None
        assert first.instance.current.training or first.instance.current.inference
        assert first.dropped == []
        replanned = solve(first.instance, time_limit_s=10, workers=1)
        assert replanned.status == "optimal"
        assert_valid_plan(first.instance, replanned)


def test_seeds_give_different_current_plans() -> None:
    instance = tiny(False)
    plans = {
        repr(seeded_current(instance, seed, time_limit_s=10).instance.current) for seed in range(4)
    }
    assert len(plans) > 1
