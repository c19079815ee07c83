"""The greedy planner: valid plans, largest-first choices, and honest failure."""

from __future__ import annotations

import pytest

from models import Instance, load_instance
from solver.cpsat.model import build_model
from solver.heuristics.greedy import Guide, capacity_prices, greedy, placement
from solver.linear import solve_linear
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
    """With `partial` (work that does not fit is left out, then planned first in a retry)
    the greedy planner completes every shipped S instance; the evaluator accepts each plan."""
    instance = load_instance(f"instances/generated/S-{seed}.json")
    plan = greedy(instance, partial=True)
    assert plan.status == "feasible", plan.summary()
    assert_valid_plan(instance, plan)


@pytest.mark.parametrize("seed", [0, 2, 3, 4])
def test_greedy_without_partial_plans_generated_instances(seed: int) -> None:
    """Without `partial` the planner completes S-0, S-2, S-3 and S-4; the evaluator agrees."""
    instance = load_instance(f"instances/generated/S-{seed}.json")
    plan = greedy(instance)
    assert plan.status == "feasible", plan.summary()
    assert_valid_plan(instance, plan)


def test_greedy_without_partial_returns_no_plan_where_it_gives_up() -> None:
    """Without `partial` the planner gives up on a service it cannot plan as a whole (30
    rps that must be served, room for two 10 rps replicas) and says `unknown` with nothing
    in it, not a partial plan; with `partial` it serves what fits and says `unknown`."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (2, 1.0)})],
        regions=["r"],
        links=[b.link("r", "A")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 30.0})],
    )
    plan = greedy(instance)
    assert plan.status == "unknown"
    assert plan.objective is None
    assert (plan.training, plan.inference, plan.routes) == ([], [], [])
    partial = greedy(instance, partial=True)
    assert partial.status == "unknown"
    assert [(r.site, r.replicas) for r in partial.inference] == [("A", 2)]


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


def tight_and_flexible() -> Instance:
    """Service `tight` has a region (r1) that only site A serves within its SLO; `flex`
    can be served at A or B and, with fewer eligible sites, comes first in an order by
    site count: it would take A's only GPU (cheaper than B) and leave r1 unserved."""
    slo = {"slo_ms": 20.0}
    return b.instance(
        sites=[
            b.site("A", {"gpu": (1, 1.0)}),
            b.site("B", {"gpu": (2, 2.0)}),
            b.site("C", {"gpu": (1, 3.0)}),
        ],
        regions=["r1", "r2", "r3"],
        links=[
            b.link("r1", "A", 5.0),
            b.link("r2", "A", 10.0),
            b.link("r2", "B", 10.0),
            b.link("r3", "B", 5.0),
            b.link("r3", "C", 6.0),
        ],
        inference=[
            b.service("flex", {"gpu": (1, 10.0)}, {"r2": 10.0}, **slo),
            b.service("tight", {"gpu": (1, 10.0)}, {"r1": 10.0, "r3": 1.0}, **slo),
        ],
    )


def test_service_with_a_region_few_sites_serve_goes_first() -> None:
    """One pass (no retries) serves everything: `tight` goes first, as its region r1 has
    one site, and `flex` then takes B: 1 + 2 + 2 per hour over 10 hours."""
    instance = tight_and_flexible()
    sites = {s: {o.site for o in instance.eligibility.replicas[s]} for s in ("flex", "tight")}
    assert sites == {"flex": {"A", "B"}, "tight": {"A", "B", "C"}}
    plan = greedy(instance)
    assert plan.status == "feasible"
    assert_valid_plan(instance, plan)
    assert {(r.service, r.site) for r in plan.inference} == {
        ("tight", "A"),
        ("tight", "B"),
        ("flex", "B"),
    }
    assert plan.objective == pytest.approx(50.0)


def test_required_job_left_out_before_is_placed_first() -> None:
    """Required job `r` fits only A's 4 GPUs; optional job `t` takes B's 4 TPUs; service
    `s` (must be served) fits either. Passes 1 and 2 place the jobs first and leave `s`
    short; pass 3 plans `s` before training, and `s` takes A (GPUs at 1 per hour, TPUs
    at 2), leaving `r` out; pass 4 places `r` first, then `s` on B's TPUs, and leaves
    `t` out (unplaced cost 1,000): 40 + 80 + 1,000 = 1,120, the optimum. One pass alone
    fails."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"tpu": (4, 2.0)})],
        accelerators=[b.accelerator("gpu"), b.accelerator("tpu")],
        regions=["r"],
        links=[b.link("r", "A"), b.link("r", "B")],
        training=[
            b.job("r", {"gpu": 4}),
            b.job("t", {"tpu": 4}, required=False, unplaced_cost=1000.0),
        ],
        inference=[b.service("s", {"gpu": (4, 10.0), "tpu": (4, 10.0)}, {"r": 10.0})],
    )
    assert greedy(instance).status == "unknown"
    plan = greedy(instance, partial=True)
    assert plan.status == "feasible", plan.summary()
    assert_valid_plan(instance, plan)
    assert {(t.job, t.site) for t in plan.training} == {("r", "A")}
    assert plan.unplaced_training == ["t"]
    assert {(r.service, r.site, r.accelerator) for r in plan.inference} == {("s", "B", "tpu")}
    assert plan.unserved == []
    assert plan.objective == pytest.approx(1120.0)


@pytest.mark.parametrize("solver_id", ["GLOP", "HIGHS"])
def test_capacity_prices_are_the_lp_duals_per_accelerator(solver_id: str) -> None:
    """Two services share A's 4 GPUs (1 per hour) and take 2 more at B (3 per hour) for
    their 60 rps: one more GPU at A saves (3 - 1) x 10 hours = 20, and B has room.
    HiGHS goes through MathOpt, whose duals are the duals (pywraplp's are not)."""
    built = build_model(b.shared_cheap_site())
    relaxation = solve_linear(built, solver_id=solver_id)
    assert relaxation.objective == pytest.approx(100.0)
    assert capacity_prices(built, relaxation) == pytest.approx({("A", "gpu"): 20.0})


def test_capacity_prices_keep_flexible_work_off_the_latency_bound_site() -> None:
    """Job `j` runs at A (4 GPUs, 1 per hour) or B (1.1 per hour); service `s` reaches
    only A within its 10 ms SLO. Unpriced, the job takes the cheaper A and the 40 rps go
    unserved at 100 per rps-hour; with A's GPUs priced at 5 (weight 0.5 already makes A
    dearer for the job) the job goes to B: 44 + 40 = 84, the optimum."""
    instance = b.flexible_job_on_latency_bound_site(100.0)
    unpriced = greedy(instance)
    priced = greedy(instance, guide=Guide(capacity_prices={("A", "gpu"): 5.0}))
    assert_valid_plan(instance, unpriced)
    assert_valid_plan(instance, priced)
    assert unpriced.objective == pytest.approx(40 + 40 * 100 * 10)
    assert {t.job: t.site for t in priced.training} == {"j": "B"}
    assert priced.unserved == []
    assert priced.objective == pytest.approx(84.0)


def test_spare_capacity_for_n_plus_1_is_costed_by_the_cover_it_adds() -> None:
    """n+1 service `s` serves its 9 rps at A on a small replica (9 rps, 1 per hour) and
    needs 9 rps outside A. At B a big replica (48 rps, 4 per hour) is cheaper per rps,
    but only 9 rps of it count: the small one is cheaper for the cover needed. Optimum:
    two small replicas over 10 hours = 20 (a big one at B: 50)."""
    instance = b.instance(
        sites=[
            b.site("A", {"small": (4, 1.0), "big": (4, 4.0)}),
            b.site("B", {"small": (4, 1.0), "big": (4, 4.0)}),
        ],
        accelerators=[b.accelerator("small"), b.accelerator("big")],
        regions=["r"],
        links=[b.link("r", "A", 5.0), b.link("r", "B", 50.0)],
        inference=[
            b.service(
                "s",
                {"small": (1, 9.0), "big": (1, 48.0)},
                {"r": 9.0},
                slo_ms=20.0,
                resilience="n+1",
            )
        ],
    )
    plan = greedy(instance)
    assert_valid_plan(instance, plan)
    assert {(r.site, r.accelerator, r.replicas) for r in plan.inference} == {
        ("A", "small", 1),
        ("B", "small", 1),
    }
    assert plan.objective == pytest.approx(20.0)


def spread_instance() -> Instance:
    """n+1 service `s`: 30 rps from region r, which reaches A, B, C and D, each its own
    failure domain; a replica (1 gpu at 10 per hour, 100 over 10 h) serves 10 rps."""
    return b.instance(
        sites=[b.site(name, {"gpu": (8, 10.0)}) for name in "ABCD"],
        regions=["r"],
        links=[b.link("r", name) for name in "ABCD"],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 30.0}, resilience="n+1")],
    )


def test_n_plus_1_service_spreads_its_serving_over_failure_domains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`spread_instance`: serving 30 rps at one site and covering it at another takes
    3 + 3 replicas (600); one replica in each of the four domains serves 30 rps and
    leaves 30 outside any one (400, the optimum: n+1 needs total - largest >= 30 in
    whole replicas of 10). Guided by the LP, the planner plans n+1 services both ways and
    keeps the cheaper; without a guide it does not spread (it cannot weigh the capacity
    spreading takes)."""
    instance = spread_instance()
    guide = Guide.from_lp(build_model(instance), solve_linear(build_model(instance)))
    plan = greedy(instance, guide=guide)
    assert_valid_plan(instance, plan)
    assert sorted((r.site, r.replicas) for r in plan.inference) == [
        ("A", 1),
        ("B", 1),
        ("C", 1),
        ("D", 1),
    ]
    assert plan.objective == pytest.approx(400.0)

    unguided = greedy(instance)
    assert_valid_plan(instance, unguided)
    assert unguided.objective == pytest.approx(600.0)
    monkeypatch.setattr(placement, "SPREAD_N_PLUS_ONE", False)
    concentrated = greedy(instance, guide=guide)
    assert_valid_plan(instance, concentrated)
    assert concentrated.objective == pytest.approx(600.0)
