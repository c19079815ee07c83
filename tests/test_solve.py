"""Solver tests: each SPEC constraint family binds on a tiny instance with a hand-known optimum.

Every plan goes through the independent evaluator (`tests.checks.assert_valid_plan`).
"""

from __future__ import annotations

import importlib
import itertools
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import orjson
import pytest
from ortools.sat.python import cp_model

from models import CostBreakdown, Solution, load_instance
from solver import SolveOptions, solve
from solver.cpsat.model import add_hint, build_model
from solver.heuristics import neighbourhood
from solver.heuristics.greedy import Guide, greedy
from solver.lagrangian import lagrangian
from solver.plan import Plan
from solver.search import runner, strategies
from solver.search.progress import ProgressRelay
from solver.search.runner import Search, combined, full_options
from solver.solve import Outcome, at_least
from tests import builders as b
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from collections.abc import Callable

TIME_LIMIT_S = 20.0
#: The module (the package exports its `solve` function under the same name).
solve_module = importlib.import_module("solver.solve")


def patch_greedy(monkeypatch: pytest.MonkeyPatch, planner: Callable[..., Solution]) -> None:
    """Make `planner` every greedy call of `solve` (its own, and its strategies')."""
    for module in (solve_module, strategies):
        monkeypatch.setattr(module, "greedy", planner)


def solved(instance, *, expect_plan: bool = True, **kwargs) -> Solution:  # type: ignore[no-untyped-def]
    """Solve with a short limit; a plan must come (unless `expect_plan` is False, when none
    may) and pass the independent evaluator."""
    solution = solve(instance, time_limit_s=TIME_LIMIT_S, workers=2, **kwargs)
    assert solution.has_plan == expect_plan, solution.summary()
    if expect_plan:
        assert_valid_plan(instance, solution)
    return solution


def solve_watched(instance, **kwargs) -> tuple[Solution, list[float]]:  # type: ignore[no-untyped-def]
    """`solve`, and the objectives of the plans it reports through `on_progress`."""
    seen: list[float] = []

    def watch(wall: float, objective: float | None, bound: float | None) -> None:
        seen.append(objective)  # type: ignore[arg-type]

    return solve(instance, on_progress=watch, **kwargs), seen


def without_timing(solution: Solution) -> bytes:
    """A solution's JSON bytes without the timing fields (which vary between runs)."""
    data = solution.model_dump(mode="json", by_alias=True)
    for timing in ("wall_s", "build_s"):
        data["solver"].pop(timing)
    return orjson.dumps(data)


def two_jobs(sites: list[dict], accelerators: list[dict] | None = None) -> object:  # type: ignore[type-arg]
    """Two 4-accelerator, 10-hour jobs on the given sites."""
    return b.instance(
        sites=sites,
        accelerators=accelerators,
        training=[b.job("j1", {"gpu": 4}), b.job("j2", {"gpu": 4})],
    )


def test_spec_worked_example() -> None:
    """The SPEC §2 worked example solves to 2,778,598.80 with 25 replicas."""
    instance = load_instance("instances/example.json")
    solution = solved(instance)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(2_778_598.80, rel=1e-9)
    assert [r.replicas for r in solution.inference] == [25]
    assert solution.bound == pytest.approx(solution.objective, rel=1e-6)


def test_inventory_binds() -> None:
    """Four cheap accelerators fit one job; the other goes to the dearer site (40 + 80)."""
    instance = two_jobs([b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (8, 2.0)})])
    solution = solved(instance)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(120.0)
    assert sorted(t.site for t in solution.training) == ["A", "B"]


def test_grid_power_binds() -> None:
    """A 5 kW grid at the cheap site takes one 4 kW job, not two."""
    instance = two_jobs(
        [b.site("A", {"gpu": (100, 1.0)}, grid_kw=5.0), b.site("B", {"gpu": (100, 2.0)})]
    )
    solution = solved(instance)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(120.0)


def test_grid_power_counts_pue() -> None:
    """With PUE 1.5 a 6 kW grid holds one 4 kW job (6 kW facility), and energy is billed at PUE."""
    instance = two_jobs(
        [
            b.site("A", {"gpu": (100, 1.0)}, grid_kw=6.0, pue=1.5, energy_price=0.1),
            b.site("B", {"gpu": (100, 2.0)}),
        ]
    )
    solution = solved(instance)
    # A: 40 compute + 4 kW * 1.5 * 0.1 * 10 h = 6 energy; B: 80.
    assert solution.objective == pytest.approx(126.0)
    assert solution.costs.energy == pytest.approx(6.0)


def test_cooling_binds() -> None:
    """6 kW of air cooling at the cheap site takes one 4 kW job."""
    instance = two_jobs(
        [
            b.site("A", {"gpu": (100, 1.0)}, cooling_kw={"air": 6.0}),
            b.site("B", {"gpu": (100, 2.0)}),
        ]
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(120.0)


def test_no_liquid_cooling_excludes_liquid_accelerators() -> None:
    """A site with liquid cooling 0 cannot run a liquid-cooled job however cheap it is."""
    instance = b.instance(
        accelerators=[b.accelerator("lq", cooling="liquid")],
        sites=[
            b.site("A", {"lq": (100, 0.5)}, cooling_kw={"air": 1000.0, "liquid": 0.0}),
            b.site("B", {"lq": (100, 3.0)}),
        ],
        training=[b.job("j1", {"lq": 4})],
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(120.0)
    assert solution.training[0].site == "B"


def one_region(
    sites: list[dict], services: list[dict], latency_ms: float = 5.0, **links: dict
) -> object:  # type: ignore[type-arg]
    """Region u linked to every site."""
    return b.instance(
        sites=sites,
        regions=["u"],
        links=[b.link("u", s["id"], latency_ms, **links.get(s["id"], {})) for s in sites],
        inference=services,
    )


def test_demand_and_serving_capacity() -> None:
    """25 rps at 10 rps per replica needs 3 replicas (30)."""
    instance = one_region(
        [b.site("A", {"gpu": (100, 1.0)})], [b.service("s", {"gpu": (1, 10.0)}, {"u": 25})]
    )
    solution = solved(instance)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(30.0)
    assert solution.inference[0].replicas == 3
    assert sum(r.rps for r in solution.routes) == pytest.approx(25.0)


def test_unserved_demand_when_cheaper() -> None:
    """Leaving 5 rps unserved (7.5) beats a third replica (10): 20 + 7.5 = 27.5."""
    instance = one_region(
        [b.site("A", {"gpu": (100, 1.0)})],
        [b.service("s", {"gpu": (1, 10.0)}, {"u": 25}, unserved_cost_per_rps_hour=0.15)],
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(27.5)
    assert solution.unserved[0].rps == pytest.approx(5.0)
    assert solution.costs.unserved == pytest.approx(7.5)


def test_latency_slo_excludes_far_sites() -> None:
    """Only the expensive site is within the 50 ms SLO."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 5.0)}), b.site("B", {"gpu": (100, 1.0)})],
        regions=["u"],
        links=[b.link("u", "A", 10.0), b.link("u", "B", 60.0)],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 10}, slo_ms=50.0)],
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(50.0)
    assert solution.inference[0].site == "A"


def test_resilience_n_plus_one() -> None:
    """n+1 with A and B sharing a failure domain needs a replica at the dear site C too."""
    sites = [
        b.site("A", {"gpu": (100, 1.0)}, failure_domain="d1"),
        b.site("B", {"gpu": (100, 1.0)}, failure_domain="d1"),
        b.site("C", {"gpu": (100, 3.0)}, failure_domain="d2"),
    ]
    plain = one_region(sites, [b.service("s", {"gpu": (1, 10.0)}, {"u": 10})])
    resilient = one_region(sites, [b.service("s", {"gpu": (1, 10.0)}, {"u": 10}, resilience="n+1")])
    assert solved(plain).objective == pytest.approx(10.0)
    solution = solved(resilient)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(40.0)
    assert {r.site for r in solution.inference} & {"A", "B"}
    assert "C" in {r.site for r in solution.inference}


def test_resilience_with_many_failure_domains() -> None:
    """n+1 over five domains: the two cheapest sites each carry the whole demand (1 + 2) x 10."""
    prices = {"A": 1.0, "B": 2.0, "C": 3.0, "D": 4.0, "E": 5.0}
    sites = [b.site(name, {"gpu": (100, price)}) for name, price in prices.items()]
    instance = one_region(sites, [b.service("s", {"gpu": (1, 10.0)}, {"u": 10}, resilience="n+1")])
    solution = solved(instance)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(30.0)
    assert {r.site: r.replicas for r in solution.inference} == {"A": 1, "B": 1}


def test_bandwidth_of_traffic_binds() -> None:
    """A 0.01 Gbps link carries 10 rps of 125 KB requests; the rest goes to the dear site."""
    instance = one_region(
        [b.site("A", {"gpu": (100, 1.0)}), b.site("B", {"gpu": (100, 2.0)})],
        [b.service("s", {"gpu": (1, 10.0)}, {"u": 20}, request_kb=100, response_kb=25)],
        A={"bandwidth_gbps": 0.01},
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(30.0)
    by_site = {r.site: r.rps for r in solution.routes}
    assert by_site == pytest.approx({"A": 10.0, "B": 10.0})
    assert solution.status == "optimal"


def test_bandwidth_of_remote_dataset_binds() -> None:
    """A job reading its dataset at 5 Gbps cannot sit behind a 4 Gbps link."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}), b.site("B", {"gpu": (100, 2.0)})],
        transit=["store"],
        links=[b.link("store", "A", 1.0, bandwidth_gbps=4.0), b.link("store", "B", 1.0)],
        training=[b.job("j1", {"gpu": 4}, dataset={"at": "store", "read_gbps": 5.0})],
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(80.0)
    assert solution.training[0].site == "B"


def test_site_fixed_cost() -> None:
    """A fixed cost of 50 makes the cheaper-per-hour site worse for one job (90 vs 80)."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}, fixed_cost=50.0), b.site("B", {"gpu": (100, 2.0)})],
        training=[b.job("j1", {"gpu": 4})],
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(80.0)
    assert solution.costs.fixed == 0.0


def test_site_fixed_cost_paid_once() -> None:
    """Two jobs share A's fixed cost once: 40 + 40 + 50 = 130 beats 160."""
    instance = two_jobs(
        [b.site("A", {"gpu": (100, 1.0)}, fixed_cost=50.0), b.site("B", {"gpu": (100, 2.0)})]
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(130.0)
    assert solution.costs.fixed == pytest.approx(50.0)


def test_dataset_egress_along_multi_hop_path() -> None:
    """1,000 GB over links priced 0.01 + 0.02 costs 30; the job picks A (60 + 30 < 48 + 50)."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.5)}), b.site("B", {"gpu": (100, 1.2)})],
        transit=["store", "hub"],
        links=[
            b.link("store", "hub", 1.0, egress_cost_per_gb=0.01),
            b.link("hub", "A", 1.0, egress_cost_per_gb=0.02),
            b.link("store", "B", 1.0, egress_cost_per_gb=0.05),
        ],
        training=[b.job("j1", {"gpu": 4}, dataset={"at": "store", "size_gb": 1000.0})],
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(90.0)
    assert solution.costs.egress == pytest.approx(30.0)


def test_traffic_egress() -> None:
    """10 rps of 100 KB over 10 h is 36 GB; at 0.1 per GB that is 3.6 on top of 10."""
    instance = one_region(
        [b.site("A", {"gpu": (100, 1.0)})],
        [b.service("s", {"gpu": (1, 10.0)}, {"u": 10}, request_kb=40, response_kb=60)],
        A={"egress_cost_per_gb": 0.1},
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(13.6)
    assert solution.costs.egress == pytest.approx(3.6)


def test_optional_job_left_unplaced_when_cheaper() -> None:
    """An optional job costing 40 to run stays unplaced at an unplaced cost of 30."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)})],
        training=[b.job("j1", {"gpu": 4}, required=False, unplaced_cost=30.0)],
    )
    solution = solved(instance)
    assert solution.objective == pytest.approx(30.0)
    assert solution.unplaced_training == ["j1"]
    assert solution.training == []


def test_carbon_price() -> None:
    """Carbon at 500 g/kWh and 100 per tonne adds 0.05 per kWh: 4 kW x 10 h -> 2."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}, carbon_g_per_kwh=500.0)],
        training=[b.job("j1", {"gpu": 4})],
        carbon_price_per_tonne=100.0,
    )
    solution = solved(instance)
    assert solution.costs.carbon == pytest.approx(2.0)
    assert solution.objective == pytest.approx(42.0)


def test_infeasible_instance_is_reported_infeasible() -> None:
    """Two required 4-accelerator jobs and 6 accelerators: proved infeasible, no plan."""
    instance = two_jobs([b.site("A", {"gpu": (6, 1.0)})])
    solution = solved(instance, expect_plan=False)
    assert solution.status == "infeasible"
    assert solution.objective is None
    assert solution.training == []


def test_same_seed_gives_identical_plans() -> None:
    """Two solves with one seed give byte-identical solutions apart from timing fields."""
    instance = load_instance("instances/example.json")

    def plan_bytes() -> bytes:
        return without_timing(solved(instance, seed=7))

    assert plan_bytes() == plan_bytes()


def test_one_worker_gives_identical_plans_without_interleaving() -> None:
    """With one worker the search is not interleaved (one thread is reproducible as it
    is): two solves of S-0 (proved optimal within the limit) give the same plan."""
    instance = load_instance("instances/generated/S-0.json")

    def plan_bytes() -> bytes:
        solution = solve(instance, time_limit_s=TIME_LIMIT_S, workers=1, seed=3)
        assert solution.status == "optimal"
        assert_valid_plan(instance, solution)
        return without_timing(solution)

    assert plan_bytes() == plan_bytes()


def test_same_seed_same_plan_on_generated_instance() -> None:
    """With a deterministic-time budget a generated instance gives the same plan twice."""
    instance = load_instance("instances/generated/S-1.json")
    options = SolveOptions(parameters={"max_deterministic_time": 0.2})

    def plan_bytes() -> bytes:
        solution = solve(instance, time_limit_s=120, workers=2, seed=3, options=options)
        assert_valid_plan(instance, solution)
        return without_timing(solution)

    assert plan_bytes() == plan_bytes()


def test_hint_for_an_edited_instance() -> None:
    """A plan made before a site was removed still warm-starts the edited instance."""
    instance = two_jobs(
        [
            b.site("A", {"gpu": (4, 1.0)}),
            b.site("B", {"gpu": (8, 2.0)}),
            b.site("C", {"gpu": (8, 3.0)}),
        ]
    )
    first = solved(instance)
    edited = instance.model_copy(update={"sites": [s for s in instance.sites if s.id != "B"]})
    again = solved(edited, hint=first)
    assert again.status == "optimal"
    assert again.objective == pytest.approx(40.0 + 120.0)


def test_hint_from_previous_plan() -> None:
    """A plan hinted back into the solver is kept: the warm start returns the same cost."""
    instance = two_jobs([b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (8, 2.0)})])
    first = solved(instance)
    again = solved(instance, hint=first)
    assert again.objective == pytest.approx(first.objective)


def test_progress_callback_reports_improving_plans() -> None:
    """on_progress receives (wall, objective, bound) with objective >= bound."""
    seen: list[tuple[float, float, float | None]] = []
    instance = load_instance("instances/example.json")
    solved(
        instance, on_progress=lambda wall, objective, bound: seen.append((wall, objective, bound))
    )
    assert seen
    wall, objective, bound = seen[-1]
    assert wall >= 0
    assert bound is not None and bound <= objective + 1e-6


def test_a_lost_search_plan_falls_back_to_the_greedy_plan() -> None:
    """A search that ends without a plan, or with a costlier one, gives way to the
    complete plan of an earlier step; a cheaper search plan stays."""

    def plan(cost: float) -> Plan:
        return Plan([], [], [], [], [], CostBreakdown(compute=cost))

    lost = at_least(Outcome("unknown", 90.0, None, rejected=plan(95.0)), plan(100.0))
    assert (lost.status, lost.bound) == ("feasible", 90.0)
    assert lost.plan is not None and lost.plan.objective == 100.0
    costlier = at_least(Outcome("feasible", 90.0, plan(120.0)), plan(100.0))
    assert costlier.plan is not None and costlier.plan.objective == 100.0
    cheaper = at_least(Outcome("feasible", 90.0, plan(95.0)), plan(100.0))
    assert cheaper.plan is not None and cheaper.plan.objective == 95.0
    # The bound stays with the plan that takes the lost one's place; the status is
    # given once the plan is checked (solve._claimed), not here.
    proved = at_least(Outcome("unknown", 100.0, None), plan(100.0))
    assert (proved.status, proved.bound) == ("feasible", 100.0)


def test_large_instance_is_planned_by_neighbourhood_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An instance too large for the LP is planned greedily, without the whole model, and
    that plan improved by neighbourhood search: the Lagrangian bound (below the optimum
    the whole model proves), a note saying so, and every improving plan reported, a
    greedy one first (priced by the relaxation, or unguided when that is cheaper)."""
    monkeypatch.setattr(solve_module, "MAX_WHOLE_DECISIONS", 0)
    instance = load_instance("instances/generated/S-0.json")
    plan, seen = solve_watched(
        instance,
        time_limit_s=12.0,
        workers=2,
    )
    assert_valid_plan(instance, plan)
    assert plan.status == "feasible" and plan.bound is not None
    monkeypatch.undo()
    whole = solved(instance)
    assert whole.status == "optimal" and whole.objective is not None
    assert 0 < plan.bound <= whole.objective
    assert plan.solver.build_s is None
    note = plan.solver.model_notes[0]  # type: ignore[attr-defined]
    assert "neighbourhood search" in note and "Lagrangian" in note
    unguided = greedy(instance, partial=True)
    found = lagrangian(instance, None, 1.2)
    assert found is not None and unguided.objective is not None
    priced = greedy(
        instance,
        partial=True,
        guide=Guide(capacity_prices=found.prices, placements=found.placements),
        price_weights=(strategies.LAGRANGIAN_PRICE_WEIGHT,),
        job_orders=(False,),
    )
    assert priced.objective is not None
    assert seen[0] == pytest.approx(priced.objective) or seen[0] == pytest.approx(
        unguided.objective
    )
    assert seen[-1] == pytest.approx(plan.objective)
    assert plan.objective is not None
    assert plan.objective < min(unguided.objective, priced.objective)
    assert all(later < earlier for earlier, later in itertools.pairwise(seen))


def large_greedy_start_watched(
    monkeypatch: pytest.MonkeyPatch, *, starve_priced: bool
) -> list[Guide | None]:
    """Every instance takes the large instances' path, with no neighbourhood search; the
    list returned fills with the guide of each greedy call (`starve_priced`: the priced
    one is given no time, so its plan is incomplete)."""
    monkeypatch.setattr(solve_module, "MAX_WHOLE_DECISIONS", 0)
    monkeypatch.setattr(neighbourhood, "improve", lambda _i, plan, *_a, **_k: plan)
    guides: list[Guide | None] = []
    planner = greedy

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        guides.append(kwargs.get("guide"))
        if starve_priced and kwargs.get("guide") is not None:
            kwargs["time_limit_s"] = 0.0
        return planner(*args, **kwargs)

    patch_greedy(monkeypatch, watched)
    return guides


def test_large_instance_is_planned_greedily_at_the_relaxation_s_prices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Job `j` runs at A (1 per hour) or B (1.1); service `s` reaches only A within its
    SLO. The unguided greedy plan puts the job at A and leaves the 40 rps unserved (at 2
    per rps-hour: 840); the Lagrangian relaxation, solved first, prices A's GPUs, and the
    greedy plan priced by it puts the job at B: 44 + 40 = 84, the optimum, reported first.
    That plan is complete, so no unguided greedy plan follows. Neighbourhood search is
    switched off here, so that only the priced plan can find it."""
    guides = large_greedy_start_watched(monkeypatch, starve_priced=False)
    instance = b.flexible_job_on_latency_bound_site(2.0)
    plan, seen = solve_watched(
        instance,
        time_limit_s=10.0,
        workers=1,
    )
    assert_valid_plan(instance, plan)
    assert seen == pytest.approx([84.0])
    # One greedy plan, guided by the relaxation's prices and its placement shares.
    assert len(guides) == 1 and guides[0] is not None and guides[0].capacity_prices
    assert guides[0].placements
    assert greedy(instance, partial=True).objective == pytest.approx(40.0 + 40 * 2 * 10)
    assert plan.objective == pytest.approx(84.0)
    assert plan.bound is not None and plan.bound <= 84.0


def test_large_instance_falls_back_to_the_unguided_greedy_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the priced greedy plan is incomplete (here: it is given no time), the
    unguided greedy plan follows and is the start: the job at A, the 40 rps unserved,
    840 (neighbourhood search off)."""
    guides = large_greedy_start_watched(monkeypatch, starve_priced=True)
    instance = b.flexible_job_on_latency_bound_site(2.0)
    plan, seen = solve_watched(instance, time_limit_s=10.0, workers=1)
    assert_valid_plan(instance, plan)
    assert len(guides) == 2 and guides[0] is not None and guides[1] is None
    assert seen == pytest.approx([840.0])
    assert plan.objective == pytest.approx(840.0)


def test_progress_reports_only_improving_plans() -> None:
    """Each plan reported costs less than the one before (the greedy start first)."""
    instance = load_instance("instances/generated/S-1.json")
    seen: list[float] = []
    solved(instance, on_progress=lambda wall, objective, bound: seen.append(objective))
    assert seen
    assert all(later < earlier for earlier, later in itertools.pairwise(seen))


def test_mid_sized_instance_gets_neighbourhood_search_and_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On an instance of several neighbourhoods' worth of decisions (here S-1, with the
    thresholds lowered), a complete greedy plan goes to the neighbourhood search with no
    rounding search before it (the neighbourhoods' re-plans have theirs), and the full
    search after it still proves a bound; the plan is valid and no worse than the greedy
    start."""
    monkeypatch.setattr(solve_module, "NEIGHBOURHOOD_MIN_DECISIONS", 0)
    monkeypatch.setattr(neighbourhood, "NEIGHBOURHOOD_DECISIONS", 300)
    searched: list[float] = []
    replanning = [False]  # whether the neighbourhood search is running
    rounded: list[bool] = []  # for each rounding search: whether it is a re-plan's
    original = neighbourhood.improve
    rounding = strategies.rounding_search

    def improve(*args, **kwargs):  # type: ignore[no-untyped-def]
        replanning[0] = True
        plan = original(*args, **kwargs)
        replanning[0] = False
        searched.append(plan.objective)
        return plan

    def spied(*args, **kwargs):  # type: ignore[no-untyped-def]
        rounded.append(replanning[0])
        return rounding(*args, **kwargs)

    monkeypatch.setattr(neighbourhood, "improve", improve)
    monkeypatch.setattr(strategies, "rounding_search", spied)
    instance = load_instance("instances/generated/S-1.json")
    plan = solved(instance)
    assert len(searched) == 1
    assert rounded and all(rounded)
    assert plan.bound is not None and plan.bound <= plan.objective  # type: ignore[operator]
    assert plan.objective is not None and plan.objective <= searched[0] + 1e-6
    assert plan.objective <= greedy(instance, partial=True).objective + 1e-6  # type: ignore[operator]


def test_mid_sized_instance_rounds_an_incomplete_greedy_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a mid-sized instance (S-1, the threshold lowered) whose greedy plan leaves work
    out, the rounding search still runs on the whole model (once: with no complete plan
    there is no neighbourhood search, so no re-plan); the answer is valid."""
    monkeypatch.setattr(solve_module, "NEIGHBOURHOOD_MIN_DECISIONS", 0)
    _starve_greedy(monkeypatch)
    calls: list[float] = []
    rounding = strategies.rounding_search

    def spied(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["share"])
        return rounding(*args, **kwargs)

    monkeypatch.setattr(strategies, "rounding_search", spied)
    plan = solved(load_instance("instances/generated/S-1.json"))
    assert calls == [solve_module.MID_ROUNDING_SHARE]
    assert plan.has_plan


def test_large_instance_improves_a_valid_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    """On an instance too large for the LP, a caller's hint that the evaluator accepts as
    a plan of this instance is what the neighbourhood search starts from (reported first,
    never made worse); a hint that is not (a plan of another instance) is dropped, and the
    search runs as it does without one (greedy start and neighbourhood search, no whole
    model)."""
    monkeypatch.setattr(solve_module, "MAX_WHOLE_DECISIONS", 0)
    instance = load_instance("instances/generated/S-0.json")
    first = solve(instance, time_limit_s=8.0, workers=2)
    assert first.objective is not None
    again, seen = solve_watched(
        instance,
        time_limit_s=8.0,
        workers=2,
        hint=first,
    )
    assert_valid_plan(instance, again)
    assert seen[0] == pytest.approx(first.objective)
    assert again.objective is not None and again.objective <= first.objective + 1e-6
    assert again.solver.build_s is None
    other = solve(load_instance("instances/generated/S-1.json"), time_limit_s=5.0, workers=2)
    dropped = solved(instance, hint=other)
    assert dropped.solver.build_s is None


def test_full_search_subsolvers_on_models_large_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole model's search runs FULL_SUBSOLVERS when several workers search
    reproducibly on a model of at least FULL_SUBSOLVERS_MIN_VARIABLES variables; not with
    one worker, nor a non-reproducible search, nor a smaller model, nor when CP-SAT's
    default portfolio is asked for, and never over the caller's own choice of subsolvers."""
    built = build_model(b.flexible_job_on_latency_bound_site(2.0))
    options = SolveOptions()
    assert full_options(built, 2, options) is options  # a small model
    monkeypatch.setattr(runner, "FULL_SUBSOLVERS_MIN_VARIABLES", 1)
    chosen = full_options(built, 2, options).parameters["subsolvers"]
    assert chosen == list(runner.FULL_SUBSOLVERS)
    assert full_options(built, 1, options) is options
    parallel = SolveOptions(deterministic=False)
    assert full_options(built, 2, parallel) is parallel
    default = SolveOptions(tuned_subsolvers=False)
    assert full_options(built, 2, default) is default
    own = SolveOptions(parameters={"subsolvers": ["core"]})
    assert full_options(built, 2, own).parameters == {"subsolvers": ["core"]}


def _starve_greedy(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Give every greedy call of `solve` no time (its plans leave work out); returns the
    starved planner."""
    planner = greedy

    def starved(*args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["time_limit_s"] = 0.0
        return planner(*args, **kwargs)

    patch_greedy(monkeypatch, starved)
    return starved


def _searches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, object], float, float]]:
    """Spy on every CP-SAT search of `solve`: its CP-SAT parameters, the seconds it took,
    and the seconds it had."""
    seen: list[tuple[dict[str, object], float, float]] = []
    search = runner.search

    def spied(built, deadline, *args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        found = search(built, deadline, *args, **kwargs)
        took = time.perf_counter() - began
        seen.append((dict(args[2].parameters), took, deadline - began))
        return found

    monkeypatch.setattr(runner, "search", spied)
    return seen


def test_full_search_improves_a_complete_plan_by_lns_then_proves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the whole model's search is tuned (here: on generated S-1, the size threshold
    lowered) and starts from a complete plan, CP-SAT's LNS workers search alone first,
    then the full subsolvers, for the bound; on a tiny model the LNS step's presolve
    proves the optimum (84) and no bound step follows. With CP-SAT's default portfolio
    asked for, the search is one."""
    monkeypatch.setattr(runner, "FULL_SUBSOLVERS_MIN_VARIABLES", 1)
    seen = _searches(monkeypatch)
    generated = load_instance("instances/generated/S-1.json")
    answer = solve(generated, time_limit_s=10.0, workers=2)
    assert_valid_plan(generated, answer)
    assert answer.bound is not None and answer.objective is not None
    assert answer.bound <= answer.objective
    assert answer.objective <= greedy(generated, partial=True).objective + 1e-6  # type: ignore[operator]
    # The LNS step and the bound step after it (on a model with a bandwidth limit, the
    # fine-unit proof search may follow when time is left: solve's fine-proof step).
    lns_at = max(k for k, (parameters, _, _) in enumerate(seen) if "use_lns_only" in parameters)
    lns, proof = seen[lns_at], seen[lns_at + 1]
    assert lns[0]["use_lns_only"] is True
    assert lns[0]["lns_initial_deterministic_limit"] == runner.LNS_DTIME
    assert proof[0]["subsolvers"] == list(runner.FULL_SUBSOLVERS)
    seen.clear()
    instance = b.flexible_job_on_latency_bound_site(2.0)
    tiny = solve(instance, time_limit_s=30.0, workers=2)
    assert_valid_plan(instance, tiny)
    assert (tiny.status, tiny.objective) == ("optimal", pytest.approx(84.0))
    assert seen[-1][0].get("use_lns_only") is True
    seen.clear()
    plain = solve(
        instance, time_limit_s=30.0, workers=2, options=SolveOptions(tuned_subsolvers=False)
    )
    assert_valid_plan(instance, plain)
    assert plain.objective == pytest.approx(84.0)
    assert all("use_lns_only" not in p for p, _, _ in seen)


def test_full_search_from_no_complete_plan_looks_for_one_by_local_search_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the whole model's search is tuned (the size threshold lowered) and its hint is
    no complete plan (here: the greedy planner is given no time on generated S-1, and
    leaves work out), CP-SAT's local search alone looks for a first plan, stopping at it,
    within FIRST_PLAN_SHARE of the time; the LNS step and the bound step follow from it.
    On a tiny model with no start at all, the local-search step's presolve proves the
    optimum (84) and nothing follows."""
    monkeypatch.setattr(runner, "FULL_SUBSOLVERS_MIN_VARIABLES", 1)
    starved = _starve_greedy(monkeypatch)
    monkeypatch.setattr(solve_module, "ROUNDING_SHARE", 0.0)
    generated = load_instance("instances/generated/S-1.json")
    assert starved(generated, partial=True).status != "feasible", "the start is incomplete"
    seen = _searches(monkeypatch)
    answer = solve(generated, time_limit_s=10.0, workers=2)
    assert_valid_plan(generated, answer)
    assert answer.bound is not None and answer.objective is not None
    assert answer.bound <= answer.objective
    # The three steps follow each other; how many searches come after them depends on
    # the time they leave (the machine's load), so they are found, not counted from the end.
    starts = [i for i, (p, _, _) in enumerate(seen) if p.get("stop_after_first_solution")]
    assert starts, "no first-plan search"
    first, lns, proof = seen[starts[0] : starts[0] + 3]
    assert first[0]["use_ls_only"] is True and first[0]["stop_after_first_solution"] is True
    assert first[2] <= strategies.FIRST_PLAN_SHARE * 10.0
    assert lns[0]["use_lns_only"] is True and "use_ls_only" not in lns[0]
    assert proof[0]["subsolvers"] == list(runner.FULL_SUBSOLVERS)
    seen.clear()
    instance = b.flexible_job_on_latency_bound_site(2.0)
    cold = solve(instance, time_limit_s=30.0, workers=2, options=SolveOptions(greedy_start=False))
    assert_valid_plan(instance, cold)
    assert (cold.status, cold.objective) == ("optimal", pytest.approx(84.0))
    assert [p.get("use_ls_only") for p, _, _ in seen] == [True]


def test_stop_at_the_first_plan_from_a_complete_hint_does_not_abort() -> None:
    """Regression: OR-Tools 9.15 aborted the whole process (`Check failed:
    solution->size() == postsolve_mapping.size()`) when an interleaved search of two
    workers (the default, reproducible one) stopped at its first plan and that plan was
    the complete, feasible hint (generated S-0's greedy plan), as the diagnosis's
    first-plan checks and the full search's first-plan step ask. Run in a child process,
    so that an abort fails this test alone."""
    script = (
        "from models import load_instance\n"
        "from solver import SolveOptions, solve\n"
        "from tests.checks import assert_valid_plan\n"
        "instance = load_instance('instances/generated/S-0.json')\n"
        "options = SolveOptions(parameters={'stop_after_first_solution': True}, lp=False)\n"
        "answer = solve(instance, time_limit_s=10.0, workers=2, options=options)\n"
        "assert_valid_plan(instance, answer)\n"
        "print(answer.status)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() in ("feasible", "optimal")


def test_without_a_proof_asked_for_the_lns_step_keeps_the_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `SolveOptions(prove=False)` the tuned search from a complete plan (generated
    S-1, the size threshold lowered) ends with its LNS step, given all the time to the
    search's end; no bound step follows. The answer is a valid plan whose bound (the LP
    relaxation's) is still a bound."""
    monkeypatch.setattr(runner, "FULL_SUBSOLVERS_MIN_VARIABLES", 1)
    seen = _searches(monkeypatch)
    generated = load_instance("instances/generated/S-1.json")
    answer = solve(generated, time_limit_s=10.0, workers=2, options=SolveOptions(prove=False))
    assert_valid_plan(generated, answer)
    assert answer.bound is not None and answer.objective is not None
    assert answer.bound <= answer.objective
    assert seen[-1][0]["use_lns_only"] is True
    assert all(p.get("subsolvers") != list(runner.FULL_SUBSOLVERS) for p, _, _ in seen)


def test_the_neighbourhood_search_replans_without_proving() -> None:
    """The neighbourhood search's re-plans ask for no bound (`prove=False`) and no
    neighbourhood search of their own; the plan it returns is valid and no costlier."""
    instance = load_instance("instances/generated/S-0.json")
    start = strategies.greedy_plan(greedy(instance, partial=True))
    assert start is not None
    asked: list[SolveOptions] = []

    def spied(residual, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(kwargs["options"])
        return solve(residual, **kwargs)

    deadline = time.perf_counter() + 6.0
    better = strategies.neighbourhood_search(
        instance, start, deadline, 1, 0, SolveOptions(), None, solve=spied, step_s=1.0
    )
    assert asked and all(not o.prove and not o.neighbourhood_search for o in asked)
    assert better.objective <= start.objective + 1e-6
    info = greedy(instance).solver
    assert_valid_plan(instance, better.solution(instance, "feasible", None, info))


def test_a_search_that_finds_nothing_better_for_a_while_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The LNS step's watch stops its search once no better plan has come for
    LNS_STALL_S (here 0.2 s); before the first plan (presolve still loading the hint) it
    never does."""
    monkeypatch.setattr(runner, "LNS_STALL_S", 0.2)
    monkeypatch.setattr(runner, "STALL_POLL_S", 0.01)

    class Search:
        stopped_at: float | None = None

        def stop_search(self) -> None:
            self.stopped_at = time.perf_counter()

    search = Search()
    relay = ProgressRelay(None, 1.0)
    done = threading.Event()
    watch = threading.Thread(
        target=runner.stop_when_stalled,
        args=(search, relay, time.perf_counter(), done),
    )
    watch.start()
    time.sleep(0.5)
    assert search.stopped_at is None, "no plan yet: no stall"
    relay.last_plan_at = time.perf_counter()
    watch.join(timeout=10.0)
    done.set()
    assert search.stopped_at is not None
    assert search.stopped_at - relay.last_plan_at >= 0.2


def test_a_search_is_stopped_once_its_stop_event_is_set_and_it_has_a_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hand-over watch (`stop_when_set`) stops a search once its event is set (the
    HiGHS run beside it has ended) and the search has found a plan, never before either
    (a stop while CP-SAT presolves once aborted OR-Tools 9.15), and asks again at each
    poll."""
    monkeypatch.setattr(runner, "STALL_POLL_S", 0.01)

    class Search:
        stops = 0

        def stop_search(self) -> None:
            self.stops += 1

    search = Search()
    relay = ProgressRelay(None, 1.0)
    stop, done = threading.Event(), threading.Event()
    watch = threading.Thread(target=runner.stop_when_set, args=(search, stop, relay, done))
    watch.start()
    time.sleep(0.2)
    assert search.stops == 0, "not set: no stop"
    stop.set()
    time.sleep(0.2)
    assert search.stops == 0, "set, but no plan yet: no stop"
    relay.last_plan_at = time.perf_counter()
    for _ in range(1000):
        if search.stops >= 2:
            break
        time.sleep(0.01)
    done.set()
    watch.join(timeout=10.0)
    assert not watch.is_alive()
    assert search.stops >= 2


def test_a_full_search_whose_stop_is_set_starts_no_other_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the whole model's search runs in steps (the tuned search of generated S-2
    from its greedy plan: LNS, then the bound), a set `stop` is passed to the step under
    way and no step follows it; without one, both steps run."""
    monkeypatch.setattr(runner, "FULL_SUBSOLVERS_MIN_VARIABLES", 1)
    stops: list[threading.Event | None] = []
    search = runner.search

    def spied(*args, **kwargs):  # type: ignore[no-untyped-def]
        stops.append(kwargs.get("stop"))
        return search(*args, **kwargs)

    monkeypatch.setattr(runner, "search", spied)
    generated = load_instance("instances/generated/S-2.json")
    built = build_model(generated, widened=True)
    start = greedy(generated)
    assert strategies.complete(start)
    add_hint(built, start)
    stop = threading.Event()
    stop.set()
    options = SolveOptions()
    deadline = time.perf_counter() + 20.0
    strategies.full_search(built, deadline, 2, 0, options, None, lns_first=True, stop=stop)
    assert stops == [stop]
    stops.clear()
    deadline = time.perf_counter() + 4.0
    strategies.full_search(built, deadline, 2, 0, options, None, lns_first=True)
    assert stops == [None, None]


def test_the_lns_step_and_the_bound_step_combine_to_the_cheaper_plan_and_larger_bound() -> None:
    """The whole model's two steps answer with the cheaper of their plans and the larger
    of their bounds; a proof of the bound step stands as it is, and without a plan from
    the LNS step the bound step's answer is the answer."""
    feasible = cp_model.FEASIBLE
    lns = Search(feasible, [1.0], 10.0, 100.0)
    cheaper = combined(lns, Search(feasible, [2.0], 90.0, 95.0))
    assert (cheaper.values, cheaper.bound, cheaper.objective) == ([2.0], 90.0, 95.0)
    kept = combined(lns, Search(feasible, [2.0], 90.0, 120.0))
    assert (kept.values, kept.bound, kept.objective) == ([1.0], 90.0, 100.0)
    unbounded = combined(lns, Search(cp_model.UNKNOWN, [], None))
    assert (unbounded.status, unbounded.values, unbounded.bound) == (feasible, [1.0], 10.0)
    proved = Search(cp_model.OPTIMAL, [3.0], 99.0, 99.0)
    assert combined(lns, proved) is proved
    nothing = Search(cp_model.UNKNOWN, [], None)
    fallback = Search(feasible, [2.0], 90.0, 95.0)
    assert combined(nothing, fallback) is fallback


def test_large_instance_without_a_plan_or_time_for_the_whole_model_answers_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When every greedy plan of an instance too large for the LP is incomplete (here:
    each is given no time) and less time is left than the whole model's build would
    take (here: its estimate made huge), the answer is `unknown` with the Lagrangian
    bound, without building the whole model; with time for it, the whole model is built
    and solved as before (the optimum, 84)."""
    monkeypatch.setattr(solve_module, "MAX_WHOLE_DECISIONS", 0)
    _starve_greedy(monkeypatch)
    built: list[object] = []
    builder = solve_module.build_model

    def build(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(args[0])
        return builder(*args, **kwargs)

    monkeypatch.setattr(solve_module, "build_model", build)
    instance = b.flexible_job_on_latency_bound_site(2.0)
    monkeypatch.setattr(solve_module, "BUILD_S_PER_DECISION", 1e6)
    answer = solve(instance, time_limit_s=10.0, workers=1)
    assert answer.status == "unknown" and answer.objective is None
    assert answer.bound is not None and 0 < answer.bound <= 84.0
    assert not built
    monkeypatch.setattr(solve_module, "BUILD_S_PER_DECISION", 0.0)
    whole = solve(instance, time_limit_s=10.0, workers=1)
    assert built
    assert_valid_plan(instance, whole)
    assert whole.objective == pytest.approx(84.0)


def test_too_little_time_for_the_whole_model_returns_the_greedy_plan_without_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a limit shorter than the whole model's least time (`whole_model_s`, made
    huge here), solve builds no model: the greedy plan, no bound, status feasible. One
    site, 20 rps at 10 rps per 1-GPU replica, 1.0 per GPU-hour, 10 hours: 2 x 10 = 20."""
    monkeypatch.setattr(solve_module, "BUILD_S_PER_DECISION", 1e3)

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole model was built")

    monkeypatch.setattr(solve_module, "build_model", no_build)
    instance = b.instance(
        sites=[b.site("A", {"gpu": (4, 1.0)})],
        regions=["r"],
        links=[b.link("r", "A")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 20.0})],
    )
    solution = solve(instance, time_limit_s=5, workers=1)
    assert solution.status == "feasible"
    assert solution.bound is None
    assert solution.objective == pytest.approx(20.0)
    assert_valid_plan(instance, solution)


def test_a_valid_hint_keeps_the_lp_bound_before_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a caller's plan to improve, the LP relaxation still runs before the search,
    for its bound (after the search it ran only in the reserve, which on generated L's
    relaxed re-plan was too short: bound 0); the answer is valid and its bound at most
    its cost."""
    instance = load_instance("instances/example.json")
    first = solve(instance, time_limit_s=10.0, workers=1)
    assert first.objective is not None
    calls: list[str] = []
    relaxation = solve_module._relaxation
    search = strategies.full_search

    def lp(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("lp")
        return relaxation(*args, **kwargs)

    def searched(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("search")
        return search(*args, **kwargs)

    monkeypatch.setattr(solve_module, "_relaxation", lp)
    monkeypatch.setattr(strategies, "full_search", searched)
    again = solve(instance, time_limit_s=10.0, workers=1, hint=first)
    assert calls[:2] == ["lp", "search"]
    assert_valid_plan(instance, again)
    assert again.objective is not None and again.bound is not None
    assert again.bound <= again.objective + 1e-6
