"""Neighbourhood search: residual instances, merged plans, and improvement by re-planning."""

from __future__ import annotations

import random
import time

import pytest

from models import (
    CostBreakdown,
    Instance,
    ReplicaAssignment,
    RouteFlow,
    Solution,
    TrainingAssignment,
    UnservedDemand,
    load_instance,
)
from solver import SolveOptions, solve
from solver.costs import plan_costs
from solver.heuristics import neighbourhood
from solver.heuristics.greedy import greedy
from solver.heuristics.neighbourhood import (
    Neighbourhood,
    choose_neighbourhood,
    improve,
    left_out_neighbourhood,
    merged,
    region_neighbourhood,
    residual_instance,
    short_region,
)
from solver.plan import Plan
from tests import builders as b
from tests.checks import assert_valid_plan


def shared_site() -> Instance:
    """Job `j` (4 GPUs, reading its dataset from `store` at 0.25 Gbps) and service `s`
    (2 replicas of 2 GPUs, 1 KB per request from region r) share site A."""
    return b.instance(
        sites=[
            b.site(
                "A",
                {"gpu": (8, 1.0)},
                grid_kw=20.0,
                pue=1.25,
                cooling_kw={"air": 10.0},
                fixed_cost=50.0,
            ),
            b.site("B", {"gpu": (8, 2.0)}, fixed_cost=30.0),
        ],
        regions=["r"],
        transit=["store"],
        links=[
            b.link("r", "A", bandwidth_gbps=1.0),
            b.link("r", "B"),
            b.link("store", "A", bandwidth_gbps=1.0),
        ],
        training=[b.job("j", {"gpu": 4}, dataset={"at": "store", "read_gbps": 0.25})],
        inference=[
            b.service("s", {"gpu": (2, 50.0)}, {"r": 100.0}, request_kb=0.5, response_kb=0.5)
        ],
    )


def plan_at_a() -> Plan:
    """Both workloads at A (costs are not read by the residual instance)."""
    return Plan(
        training=[TrainingAssignment(job="j", site="A", accelerator="gpu", count=4)],
        unplaced_training=[],
        inference=[ReplicaAssignment(service="s", site="A", accelerator="gpu", replicas=2)],
        routes=[RouteFlow(service="s", region="r", site="A", rps=100.0)],
        unserved=[],
        costs=CostBreakdown(),
    )


def test_residual_instance_leaves_what_the_rest_of_the_plan_does_not_use() -> None:
    """Freeing `s` leaves it A's 4 other GPUs, 20 - 4 x 1.25 grid kW, 10 - 4 kW of air
    cooling and the link capacity `j` does not read over; A costs no fixed cost (`j`
    keeps it active), B does."""
    instance = shared_site()
    residual = residual_instance(
        instance, plan_at_a(), Neighbourhood(frozenset({"s"}), frozenset())
    )
    a, b_site = residual.site_by_id["A"], residual.site_by_id["B"]
    assert a.inventory[0].count == 4
    assert a.grid_kw == pytest.approx(15.0)
    assert a.cooling_kw == {"air": pytest.approx(6.0)}
    assert (a.fixed_cost, b_site.fixed_cost) == (0.0, 30.0)
    assert [link.bandwidth_gbps for link in residual.links] == [1.0, None, 0.75]
    assert [w.id for w in residual.inference] == ["s"] and residual.training == []
    # Freeing `j` instead: its link keeps all of its bandwidth; s's traffic (100 rps of
    # 1 KB: 0.0008 Gbps) is taken off r-A.
    residual = residual_instance(
        instance, plan_at_a(), Neighbourhood(frozenset(), frozenset({"j"}))
    )
    assert residual.links[0].bandwidth_gbps == pytest.approx(1.0 - 100 * 8e-6)
    assert residual.links[2].bandwidth_gbps == 1.0


def test_merged_plan_costs_what_the_evaluator_says() -> None:
    """A residual plan merged back into the whole plan is a valid plan whose recomputed
    costs the evaluator confirms."""
    instance = shared_site()
    free = Neighbourhood(frozenset({"s"}), frozenset())
    residual = residual_instance(instance, plan_at_a(), free)
    part = solve(residual, time_limit_s=10.0, workers=2)
    assert part.has_plan
    whole = merged(instance, plan_at_a(), free, part)
    assert_valid_plan(instance, whole.solution(instance, "feasible", None, part.solver))


def test_improve_places_what_the_greedy_plan_left_out() -> None:
    """The greedy plan puts required job `r` on A's 8 GPUs and leaves optional job `o`
    (only A fits it) out at 1,000; re-planning the neighbourhood (every workload, here)
    puts `o` at A and `r` at B: 80 + 80 = 160."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (8, 1.0)}), b.site("B", {"gpu": (4, 2.0)})],
        training=[
            b.job("r", {"gpu": 4}),
            b.job("o", {"gpu": 8}, required=False, unplaced_cost=1000.0),
        ],
    )
    start = greedy(instance)
    assert start.objective == pytest.approx(1040.0)
    plan = Plan.of(start)
    seen: list[float] = []

    def replan(residual: Instance, limit_s: float) -> Solution:
        options = SolveOptions(neighbourhood_search=False)
        return solve(residual, time_limit_s=min(limit_s, 5.0), workers=2, options=options)

    better = improve(
        instance,
        plan,
        time.perf_counter() + 6.0,
        replan,
        on_plan=lambda p: seen.append(p.objective),
    )
    assert better.objective == pytest.approx(160.0)
    assert seen == [pytest.approx(160.0)]


def test_improve_gives_each_re_plan_at_most_its_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each neighbourhood's re-plan gets `step_s` (or the time left, if less)."""
    monkeypatch.setattr(neighbourhood, "MIN_STEP_S", 0.01)
    instance = b.instance(sites=[b.site("A", {"gpu": (8, 1.0)})], training=[b.job("r", {"gpu": 4})])
    plan = Plan.of(greedy(instance))
    limits: list[float] = []

    def replan(residual: Instance, limit_s: float) -> Solution:
        limits.append(limit_s)
        options = SolveOptions(neighbourhood_search=False)
        return solve(residual, time_limit_s=limit_s, workers=1, options=options)

    improve(instance, plan, time.perf_counter() + 0.3, replan, step_s=0.1)
    assert limits and all(limit <= 0.1 for limit in limits)


def test_left_out_neighbourhood_is_the_work_left_out_dearest_first() -> None:
    """Service `s` leaves 10 rps unserved (0.5 per rps-hour over 10 hours: 50), `t`
    leaves 1 rps (5) and optional job `o` stays out (1,000): all three, `o` first; with
    room for two workloads' decisions, `o` and `s`; nothing left out, None."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (8, 1.0)})],
        regions=["r"],
        links=[b.link("r", "A")],
        training=[b.job("o", {"gpu": 8}, required=False, unplaced_cost=1000.0)],
        inference=[
            b.service("s", {"gpu": (1, 10.0)}, {"r": 20.0}, unserved_cost_per_rps_hour=0.5),
            b.service("t", {"gpu": (1, 10.0)}, {"r": 11.0}, unserved_cost_per_rps_hour=0.5),
        ],
    )
    plan = Plan(
        training=[],
        unplaced_training=["o"],
        inference=[
            ReplicaAssignment(service="s", site="A", accelerator="gpu", replicas=1),
            ReplicaAssignment(service="t", site="A", accelerator="gpu", replicas=1),
        ],
        routes=[
            RouteFlow(service="s", region="r", site="A", rps=10.0),
            RouteFlow(service="t", region="r", site="A", rps=10.0),
        ],
        unserved=[
            UnservedDemand(service="s", region="r", rps=10.0),
            UnservedDemand(service="t", region="r", rps=1.0),
        ],
        costs=CostBreakdown(),
    )
    everything = left_out_neighbourhood(instance, plan, decisions=10**6)
    assert everything == Neighbourhood(frozenset({"s", "t"}), frozenset({"o"}))
    # o has one placement, each service one replica option and one route: 1 + 2 + 2.
    two = left_out_neighbourhood(instance, plan, decisions=3)
    assert two == Neighbourhood(frozenset({"s"}), frozenset({"o"}))
    served = Plan(
        training=[TrainingAssignment(job="o", site="A", accelerator="gpu", count=8)],
        unplaced_training=[],
        inference=[],
        routes=[],
        unserved=[],
        costs=CostBreakdown(),
    )
    assert left_out_neighbourhood(instance, served, decisions=10**6) is None


def test_neighbourhood_is_the_work_nearest_a_region_within_its_size() -> None:
    """Workloads at the sites nearest the chosen region come first, and the neighbourhood
    stops before its workloads' eligible decisions exceed the size given."""
    instance = load_instance("instances/generated/S-0.json")
    start = greedy(instance, partial=True)
    plan = Plan.of(start)
    eligibility = instance.eligibility

    def size(free: Neighbourhood) -> int:
        return sum(
            len(eligibility.replicas[s]) + len(eligibility.routes[s]) for s in free.services
        ) + sum(len(eligibility.training[j]) for j in free.jobs)

    small = choose_neighbourhood(instance, plan, random.Random(0), decisions=200)
    assert small.services or small.jobs
    assert size(small) <= 200 or len(small.services) + len(small.jobs) == 1
    everything = choose_neighbourhood(instance, plan, random.Random(0), decisions=10**9)
    placed = {t.job for t in plan.training} | set(plan.unplaced_training)
    assert everything.jobs == placed
    assert small.services <= everything.services and small.jobs <= everything.jobs
    again = choose_neighbourhood(instance, plan, random.Random(0), decisions=200)
    assert again == small


def job_on_the_short_region_site() -> Instance:
    """Job `j` (4 GPUs, 10 hours) at A (1 per GPU-hour) or B (1.1); service `s` (40 rps,
    10 per 1-GPU replica) from region r, which reaches only A within its 10 ms SLO,
    unserved at 10 per rps-hour; service `t` (10 rps, one replica) from region q, which
    reaches only B. Optimum: j and t at B, s at A: 44 + 11 + 40 = 95."""
    return b.instance(
        sites=[b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (8, 1.1)})],
        regions=["q", "r"],
        links=[b.link("r", "A", 5.0), b.link("r", "B", 50.0), b.link("q", "B", 5.0)],
        training=[b.job("j", {"gpu": 4})],
        inference=[
            b.service(
                "s", {"gpu": (1, 10.0)}, {"r": 40.0}, slo_ms=10.0, unserved_cost_per_rps_hour=10.0
            ),
            b.service("t", {"gpu": (1, 10.0)}, {"q": 10.0}, slo_ms=10.0),
        ],
    )


def job_at_a_s_unserved(instance: Instance) -> Plan:
    """j at A, leaving s's 40 rps unserved (4,000); t at B."""
    training = [TrainingAssignment(job="j", site="A", accelerator="gpu", count=4)]
    inference = [ReplicaAssignment(service="t", site="B", accelerator="gpu", replicas=1)]
    routes = [RouteFlow(service="t", region="q", site="B", rps=10.0)]
    unserved = [UnservedDemand(service="s", region="r", rps=40.0)]
    costs = plan_costs(instance, training, [], inference, routes, unserved)
    return Plan(training, [], inference, routes, unserved, costs)


def test_short_region_is_the_dearest_unserved_region_not_tried_at_its_penalty() -> None:
    """Region r leaves 4,000 unserved; once tried at that penalty it is not chosen again,
    unless its penalty changes; a plan that serves everything has no short region."""
    instance = job_on_the_short_region_site()
    plan = job_at_a_s_unserved(instance)
    assert short_region(instance, plan, set()) == ("r", pytest.approx(4000.0))
    assert short_region(instance, plan, {("r", 4000.0)}) is None
    assert short_region(instance, plan, {("r", 3000.0)}) == ("r", pytest.approx(4000.0))
    served = Plan(plan.training, [], plan.inference, plan.routes, [], CostBreakdown())
    assert short_region(instance, served, set()) is None


def test_region_neighbourhood_frees_what_holds_the_sites_a_region_needs() -> None:
    """Around r: A's job and the service left unserved there (5 decisions); around q: B's
    service t first, then A's job."""
    instance = job_on_the_short_region_site()
    plan = job_at_a_s_unserved(instance)
    around_r = region_neighbourhood(instance, plan, "r", random.Random(0), decisions=5)
    assert around_r == Neighbourhood(frozenset({"s"}), frozenset({"j"}))
    around_q = region_neighbourhood(instance, plan, "q", random.Random(0), decisions=5)
    assert around_q == Neighbourhood(frozenset({"t"}), frozenset({"j"}))


def test_improve_re_plans_around_the_short_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neighbourhoods of 5 decisions. Re-planning the left-out work (s) alone cannot serve
    it: A is full. The next step frees the work around r, the region s is short in (j
    and s), and reaches the optimum, 95. (With seed 1 the first random region is q,
    whose neighbourhood, t and j, cannot improve the plan.)"""
    monkeypatch.setattr(neighbourhood, "NEIGHBOURHOOD_DECISIONS", 5)
    instance = job_on_the_short_region_site()
    plan = job_at_a_s_unserved(instance)
    assert plan.objective == pytest.approx(40.0 + 11.0 + 4000.0)
    freed: list[tuple[set[str], set[str]]] = []
    parts: list[Solution] = []

    def replan(residual: Instance, limit_s: float) -> Solution:
        freed.append(({s.id for s in residual.inference}, {j.id for j in residual.training}))
        options = SolveOptions(neighbourhood_search=False)
        parts.append(solve(residual, time_limit_s=min(limit_s, 5.0), workers=2, options=options))
        return parts[-1]

    when: list[int] = []
    better = improve(
        instance,
        plan,
        time.perf_counter() + 6.0,
        replan,
        seed=1,
        on_plan=lambda p: when.append(len(freed)),
    )
    assert better.objective == pytest.approx(95.0)
    assert freed[:2] == [({"s"}, set()), ({"s"}, {"j"})]
    assert when == [2]
    assert_valid_plan(instance, better.solution(instance, "feasible", None, parts[0].solver))
