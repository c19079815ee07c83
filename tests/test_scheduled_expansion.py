"""Expansions on the large scheduled path (solver/scheduled/expansion.py): the bound that
charges each expansion its share in every period it can serve, and the plan made with the
expansions the periods' LPs build, on instances priced by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from models.solution import ReplicaAssignment, RouteFlow
from solver import solve
from solver.scheduled import solve as scheduled_solve
from solver.scheduled.bound import PeriodLP, period_lp, summed_bound, training_floor
from solver.scheduled.expansion import (
    charged_lps,
    chosen_expansions,
    cost_shares,
    period_expansion_view,
    unneeded,
    with_built,
)
from solver.scheduled.plan import ScheduledPlan
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2

if TYPE_CHECKING:
    from models import Instance

INF = float("inf")


def one_gpu_step(period: str = "p1", cost: float = 30.0) -> Instance:
    """Two periods of 10 h. A service needs one 1-GPU replica (10 rps) in each, with no
    unserved price. A has no GPU but an expansion (online from `period`, `cost`) that adds
    one, at 1 per GPU-hour; B has 4 GPUs at 5. From p1 at 30: the step, 30 + 2 x 10 = 50,
    against 2 x 50 = 100 at B. Each period's LP pays its 15 share for the whole step (one
    replica needs the whole of it), so the charged bound is 2 x (15 + 10) = 50: optimal;
    the free bound only 2 x 10 = 20."""
    step = {
        "id": "A-gpu",
        "period": period,
        "cost": cost,
        "inventory": [{"accelerator": "gpu", "count": 1}],
    }
    return v2(
        [("p1", 10), ("p2", 10)],
        sites=[
            b.site("A", {"gpu": (0, 1.0)}, expansions=[step]),
            b.site("B", {"gpu": (4, 5.0)}),
        ],
        regions=["r"],
        links=[b.link("r", "A"), b.link("r", "B")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 10.0})],
    )  # fmt: skip


def free_bound(instance: Instance) -> float | None:
    floors = training_floor(instance)
    assert floors is not None
    periods = [period_lp(instance, p, INF) for p in range(len(instance.schedule.periods))]
    return summed_bound(floors, periods)


def charged_bound(instance: Instance) -> float | None:
    floors = training_floor(instance)
    lps = charged_lps(instance, INF)
    assert floors is not None and lps is not None
    return summed_bound(floors, [PeriodLP(lp.bound) for lp in lps])


def test_each_expansion_cost_is_split_over_the_hours_it_can_serve() -> None:
    assert cost_shares(one_gpu_step("p1", 30.0)) == {("A", "A-gpu"): [15.0, 15.0]}
    assert cost_shares(one_gpu_step("p2", 30.0)) == {("A", "A-gpu"): [0.0, 30.0]}


def test_a_period_view_offers_only_the_expansions_online_by_then() -> None:
    instance = one_gpu_step("p2")
    shares = cost_shares(instance)
    first = period_expansion_view(instance, 0, shares)
    second = period_expansion_view(instance, 1, shares)
    assert [s.expansions for s in first.sites] == [None, None]
    [step] = second.site_by_id["A"].expansions or []
    assert (step.cost, step.period) == (30.0, None)
    assert second.supply_limits is None
    assert second.horizon_hours == 10.0


def test_the_charged_bound_charges_the_step_where_the_free_one_does_not() -> None:
    instance = one_gpu_step()
    assert free_bound(instance) == pytest.approx(20.0, rel=1e-6)
    assert charged_bound(instance) == pytest.approx(50.0, rel=1e-6)


def test_the_step_is_chosen_and_built_into_the_timeline() -> None:
    instance = one_gpu_step()
    lps = charged_lps(instance, INF)
    assert lps is not None
    chosen = chosen_expansions(instance, lps)
    assert chosen == {("A", "A-gpu")}
    built = with_built(instance, chosen)
    assert built.schedule.count["A", "gpu"] == [1, 1]
    assert built.schedule.count["B", "gpu"] == [4, 4]
    assert all(not site.expansions for site in built.sites)
    late = with_built(one_gpu_step("p2"), {("A", "A-gpu")})
    assert late.schedule.count["A", "gpu"] == [0, 1]


def test_the_large_path_builds_the_step_and_proves_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance = one_gpu_step()
    solution = solve(instance, time_limit_s=10, workers=1)
    assert [(x.site, x.expansion) for x in solution.expansions or []] == [("A", "A-gpu")]
    assert solution.objective == pytest.approx(50.0, rel=1e-9)
    assert solution.status == "optimal"
    assert_checked(instance, solution)


def test_a_step_too_dear_is_left_out_and_the_bound_stays_below_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 200 the step costs more than B's 100: no expansion, plan 100; the charged bound
    (each period's LP: B's 50 or the 100 share + 10) is 100 too."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance = one_gpu_step(cost=200.0)
    solution = solve(instance, time_limit_s=10, workers=1)
    assert not solution.expansions
    assert solution.objective == pytest.approx(100.0, rel=1e-9)
    assert solution.bound is not None and solution.bound <= 100.0 * (1 + 1e-9)
    assert solution.status == "optimal"
    assert_checked(instance, solution)


def serving_from(site: str, instance: Instance) -> ScheduledPlan:
    """One replica at `site` serving the 10 rps in both periods of `one_gpu_step`."""
    periods = ["p1", "p2"]
    return ScheduledPlan.build(
        instance,
        [],
        [],
        [
            ReplicaAssignment(service="s", site=site, accelerator="gpu", replicas=1, period=p)
            for p in periods
        ],
        [RouteFlow(service="s", region="r", site=site, rps=10.0, period=p) for p in periods],
        [],
        [],
    )


def test_an_expansion_the_plan_does_not_use_is_not_needed() -> None:
    instance = one_gpu_step()
    chosen = {("A", "A-gpu")}
    built = with_built(instance, chosen)
    assert unneeded(instance, built, serving_from("A", built), chosen) == set()
    assert unneeded(instance, built, serving_from("B", built), chosen) == chosen
