"""Comparison data model tests: every figure equals what the evaluator computes, differences
are plan minus first, placements that differ are exactly those, and warnings name plans
the evaluator rejects.

The plans come from `two_plans()`: the shipped generated instance S-0 solved for two
seconds, and a scenario of it (another name, ashburn-3's grid budget cut to 60 %, demand
up 20 %) solved the same way, so they differ in costs, sites, latency and placements. Other
report test modules import `two_plans` and `ScenarioPlans` from here; the solves run
once per test process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson
import pytest

from models import Instance, Solution, load_instance, parse_instance, parse_solution
from solver import Comparison, Evaluation, compare, evaluate, report, solve
from solver.evaluation.costs import COST_PARTS
from solver.report.compare import compare_evaluated, unique_labels
from tests import builders
from tests.test_report_latency import inverted_cdf_quantiles

S0_PATH = Path(__file__).resolve().parent.parent / "instances" / "generated" / "S-0.json"
DATA = Path(__file__).resolve().parent / "data"
#: The site whose grid budget the scenario cuts, and to what share.
CUT_SITE = "ashburn-3"
CUT_SHARE = 0.6
#: Demand growth of the scenario, every service and region.
DEMAND_GROWTH = 1.2


@dataclass(frozen=True)
class ScenarioPlans:
    """Two scenarios of one family with a plan each, and the evaluator's view of both."""

    base: Instance
    cut: Instance
    base_plan: Solution
    cut_plan: Solution
    base_eval: Evaluation
    cut_eval: Evaluation

    def comparison(self) -> Comparison:
        """The two plans compared, base first, labelled `base` and `cut`."""
        return compare_evaluated(
            [
                (self.base, self.base_plan, self.base_eval),
                (self.cut, self.cut_plan, self.cut_eval),
            ],
            labels=["base", "cut"],
        )


def cut_instance_document() -> dict[str, object]:
    """S-0 as a JSON document, renamed, with CUT_SITE's grid budget cut and demand grown."""
    document: dict[str, object] = orjson.loads(S0_PATH.read_bytes())
    document["name"] = "gen-S-0-cut"
    sites = document["sites"]
    assert isinstance(sites, list)
    for site in sites:
        if site["id"] == CUT_SITE:
            site["grid_kw"] = round(site["grid_kw"] * CUT_SHARE)
    services = document["inference"]
    assert isinstance(services, list)
    for service in services:
        service["demand_rps"] = {
            region: round(rps * DEMAND_GROWTH) for region, rps in service["demand_rps"].items()
        }
    return document


@cache
def two_plans() -> ScenarioPlans:
    """Solve S-0 and its cut scenario for two seconds each (once per process)."""
    base = load_instance(S0_PATH)
    cut = parse_instance(cut_instance_document())
    base_plan = solve(base, time_limit_s=2, workers=1, seed=0)
    cut_plan = solve(cut, time_limit_s=2, workers=1, seed=0)
    return ScenarioPlans(
        base, cut, base_plan, cut_plan, evaluate(base, base_plan), evaluate(cut, cut_plan)
    )


@pytest.fixture(scope="module")
def plans() -> ScenarioPlans:
    """The two solved scenarios."""
    return two_plans()


@pytest.fixture(scope="module")
def comparison(plans: ScenarioPlans) -> Comparison:
    """The two plans compared."""
    return plans.comparison()


def test_plans_are_feasible_and_differ(plans: ScenarioPlans) -> None:
    """Both plans pass the evaluator and differ in objective (the premise of the other tests)."""
    assert plans.base_eval.feasible and plans.cut_eval.feasible
    assert plans.base_eval.objective != plans.cut_eval.objective


def test_summary_holds_evaluator_figures(plans: ScenarioPlans, comparison: Comparison) -> None:
    """Objective, costs, status, bound, gap and solver settings are the evaluator's and plan's."""
    for plan, solution, evaluation in zip(
        comparison.plans,
        [plans.base_plan, plans.cut_plan],
        [plans.base_eval, plans.cut_eval],
        strict=True,
    ):
        summary = plan.summary
        assert summary.objective == evaluation.objective
        assert summary.costs == {part: getattr(evaluation.costs, part) for part in COST_PARTS}
        assert summary.status == solution.status
        assert summary.bound == solution.bound
        assert summary.gap == solution.gap
        assert summary.solver.seed == solution.solver.seed
        assert summary.solver.time_limit_s == solution.solver.time_limit_s
        assert summary.solver.workers == solution.solver.workers
        assert summary.feasible and summary.violation_counts == {}
    assert [plan.summary.instance for plan in comparison.plans] == ["gen-S-0", "gen-S-0-cut"]


def test_site_rows_hold_evaluator_usage(plans: ScenarioPlans, comparison: Comparison) -> None:
    """Per site: power, grid, heat per cooling kind, accelerators per type and utilization."""
    for plan, evaluation in zip(comparison.plans, [plans.base_eval, plans.cut_eval], strict=True):
        assert list(plan.sites) == list(evaluation.sites)
        for site_id, usage in evaluation.sites.items():
            row = plan.sites[site_id]
            assert (row.active, row.it_kw, row.facility_kw, row.grid_kw) == (
                usage.active,
                usage.it_kw,
                usage.facility_kw,
                usage.grid_kw,
            )
            assert row.power_utilization == pytest.approx(usage.facility_kw / usage.grid_kw)
            assert {(c.cooling, c.it_kw, c.limit_kw) for c in row.cooling} == {
                (h.cooling, h.it_kw, h.limit_kw) for h in usage.heat.values()
            }
            assert {(a.accelerator, a.used, a.count) for a in row.accelerators} == {
                (a.accelerator, a.used, a.count) for a in usage.accelerators.values()
            }
            assert row.utilization == pytest.approx(usage.utilization)
    cut_row = comparison.plans[1].sites[CUT_SITE]
    assert cut_row.facility_kw <= cut_row.grid_kw * (1 + 1e-9)


def test_latency_distribution_from_routes(plans: ScenarioPlans, comparison: Comparison) -> None:
    """Served, unserved and quantiles match the evaluator's routes and service figures."""
    for plan, evaluation in zip(comparison.plans, [plans.base_eval, plans.cut_eval], strict=True):
        points = sorted(
            (route.latency_ms, route.rps)
            for route in evaluation.routes
            if route.latency_ms is not None and route.rps > 0
        )
        total = math.fsum(rps for _, rps in points)
        assert plan.latency.served_rps == pytest.approx(total)
        assert plan.latency.unserved_rps == pytest.approx(
            sum(service.unserved_rps for service in evaluation.services.values())
        )
        assert plan.latency.quantiles["max"] == points[-1][0]
        median = next(latency for latency, cumulative in _cumulative(points) if cumulative >= 0.5)
        assert plan.latency.quantiles["p50"] == median
        assert sum(plan.latency.histogram_rps) == pytest.approx(total)
        for service_id, usage in evaluation.services.items():
            row = plan.services[service_id]
            assert row.worst_latency_ms == usage.worst_latency_ms
            assert row.latency_slo_ms == usage.latency_slo_ms
            assert row.unserved_rps == usage.unserved_rps


def _cumulative(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(latency, share of rps at or below it) for sorted points."""
    total = math.fsum(rps for _, rps in points)
    running = 0.0
    shares = []
    for latency, rps in points:
        running += rps
        shares.append((latency, running / total))
    return shares


def test_links_and_resilience_from_evaluator(plans: ScenarioPlans, comparison: Comparison) -> None:
    """Link loads and n+1 capacity left per failure domain are the evaluator's figures."""
    for plan, evaluation in zip(comparison.plans, [plans.base_eval, plans.cut_eval], strict=True):
        assert [(link.a, link.b, link.used_gbps, link.capacity_gbps) for link in plan.links] == [
            (usage.a, usage.b, usage.used_gbps, usage.capacity_gbps) for usage in evaluation.links
        ]
        resilient = {k: v for k, v in evaluation.services.items() if v.resilience == "n+1"}
        assert set(plan.resilience) == set(resilient)
        assert resilient, "S-0 has n+1 services"
        for service_id, usage in resilient.items():
            row = plan.resilience[service_id]
            assert row.capacity_left_by_domain == usage.capacity_left_by_domain
            left = usage.capacity_left_by_domain.values()
            assert row.worst_left_rps == min(left, default=usage.capacity_rps)
            assert row.covered


def test_deltas_are_plan_minus_first(plans: ScenarioPlans, comparison: Comparison) -> None:
    """Objective, cost parts, site power and unserved rps differences are second minus first."""
    (delta,) = comparison.deltas
    assert delta.objective == plans.cut_eval.objective - plans.base_eval.objective
    assert delta.objective_relative == pytest.approx(delta.objective / plans.base_eval.objective)
    for part in COST_PARTS:
        assert delta.costs[part] == getattr(plans.cut_eval.costs, part) - getattr(
            plans.base_eval.costs, part
        )
    for site_delta in delta.sites:
        assert site_delta.facility_kw == (
            plans.cut_eval.sites[site_delta.site].facility_kw
            - plans.base_eval.sites[site_delta.site].facility_kw
        )
    assert delta.unserved_rps == pytest.approx(
        comparison.plans[1].latency.unserved_rps - comparison.plans[0].latency.unserved_rps
    )


def test_placement_differences_are_exact(plans: ScenarioPlans, comparison: Comparison) -> None:
    """Moved jobs and changed services are exactly those whose assignments differ."""
    (delta,) = comparison.deltas
    base_jobs = {e.job: (e.site, e.accelerator, e.count) for e in plans.base_plan.training}
    cut_jobs = {e.job: (e.site, e.accelerator, e.count) for e in plans.cut_plan.training}
    moved = {
        job for job in base_jobs.keys() | cut_jobs.keys() if base_jobs.get(job) != cut_jobs.get(job)
    }
    assert {move.job for move in delta.training_moves} == moved
    for move in delta.training_moves:
        assert move.before is not None and move.after is not None
        after = (move.after.site, move.after.accelerator, move.after.count)
        assert after == cut_jobs.get(move.job, (None, None, 0))

    def replicas(solution: Solution) -> dict[str, set[tuple[str, str, int]]]:
        by_service: dict[str, set[tuple[str, str, int]]] = {}
        for entry in solution.inference:
            if entry.replicas:
                by_service.setdefault(entry.service, set()).add(
                    (entry.site, entry.accelerator, entry.replicas)
                )
        return by_service

    base_replicas, cut_replicas = replicas(plans.base_plan), replicas(plans.cut_plan)
    changed = {
        service
        for service in base_replicas.keys() | cut_replicas.keys()
        if base_replicas.get(service) != cut_replicas.get(service)
    }
    assert {change.service for change in delta.replica_changes} == changed
    assert moved and changed, "the scenario moves jobs and replicas"


def test_infeasible_plan_warns(plans: ScenarioPlans) -> None:
    """A plan the evaluator rejects gets a warning naming it and its violation families."""
    claimed = (plans.cut_plan.objective or 0.0) + 1000.0
    wrong = plans.cut_plan.model_copy(update={"objective": claimed})
    result = compare([(plans.base, plans.base_plan), (plans.cut, wrong)], labels=["a", "b"])
    assert not result.plans[1].summary.feasible
    assert result.plans[1].summary.violation_counts == {"objective": 1}
    assert result.warnings == ["b: not feasible per the evaluator: 1 violation(s) (objective 1)"]


def test_plan_without_plan_warns(plans: ScenarioPlans) -> None:
    """A solution without a plan compares with no objective and a warning."""
    empty = Solution(
        instance=plans.base.name,
        instance_sha256=plans.base.sha256,
        status="unknown",
        solver=plans.base_plan.solver,
    )
    result = compare([(plans.base, plans.base_plan), (plans.base, empty)])
    assert result.plans[1].summary.objective is None
    assert result.deltas[0].objective is None
    assert result.warnings == ["plan 2: status unknown, the solution holds no plan"]


def test_report_is_a_one_plan_comparison(plans: ScenarioPlans) -> None:
    """`report` compares one plan with nothing: no deltas, the given label."""
    result = report(plans.base, plans.base_plan, label="today")
    assert result.labels == ["today"] and result.deltas == []
    assert result.plans[0].summary.objective == plans.base_eval.objective


def test_labels_are_unique_and_counted() -> None:
    """Repeated labels get a number; a label count that does not match is refused."""
    assert unique_labels(["a", "a", "b", "a"]) == ["a", "a (2)", "b", "a (3)"]
    with pytest.raises(ValueError, match="at least one plan"):
        compare_evaluated([], labels=[])
    plans = two_plans()
    with pytest.raises(ValueError, match="1 labels given for 2 plans"):
        compare([(plans.base, plans.base_plan), (plans.cut, plans.cut_plan)], labels=["x"])


def test_latency_quantiles_match_the_oracle(plans: ScenarioPlans, comparison: Comparison) -> None:
    """Each plan's latency quantiles are those the test's oracle (written from the definition,
    in exact fractions) computes from the evaluator's routes, and they are not all one."""
    for plan, evaluation in zip(comparison.plans, [plans.base_eval, plans.cut_eval], strict=True):
        points = [
            (route.latency_ms, route.rps)
            for route in evaluation.routes
            if route.latency_ms is not None
        ]
        assert plan.latency.quantiles == inverted_cdf_quantiles(points)
        assert plan.latency.quantiles["p50"] != plan.latency.quantiles["max"]


def thin_resilience_plan() -> tuple[Instance, Solution]:
    """The evaluator tests' small plan with the n+1 service `search` cut to 2 replicas at ams,
    so losing fra's domain leaves 100 rps for 160 served (everything else still holds)."""
    instance = load_instance(DATA / "eval_small.json")
    document = orjson.loads((DATA / "eval_small_plan.json").read_bytes())
    for entry in document["inference"]:
        if entry["service"] == "search" and entry["site"] == "ams":
            entry["replicas"] = 2
    return instance, parse_solution(document)


def test_resilience_shortfall_is_flagged() -> None:
    """An n+1 service that a domain loss would leave short is marked not covered."""
    instance, solution = thin_resilience_plan()
    evaluation = evaluate(instance, solution)
    assert "resilience" in evaluation.violation_counts()
    row = report(instance, solution).plans[0].resilience["search"]
    fra_domain = instance.site_by_id["fra"].domain
    assert row.worst_domain == fra_domain
    assert row.worst_left_rps == evaluation.services["search"].capacity_left_by_domain[fra_domain]
    assert row.worst_left_rps < row.served_rps == 160.0
    assert not row.covered


#: Ids that would be markup, break a table or a quoted attribute, or start mathtext if not escaped.
SITE_A = '<script>alert("site")</script>'
SITE_B = "dc'\"&<b>bold</b>"
REGION = "r<img src=x onerror=alert(1)>"
ACCELERATOR = 'gpu"<i>'
JOB = "job</td><script>x</script>"
SERVICE = "svc|a*b_$x$`[l](u)"
HOSTILE_NAME = '<script>name</script>"'


@cache
def hostile_plan() -> tuple[Instance, Solution]:
    """A tiny instance whose every id is hostile markup, solved to optimality."""
    instance = builders.instance(
        name=HOSTILE_NAME,
        accelerators=[builders.accelerator(ACCELERATOR)],
        sites=[
            builders.site(SITE_A, {ACCELERATOR: (8, 2.0)}, grid_kw=10, tags=["<t>"]),
            builders.site(SITE_B, {ACCELERATOR: (8, 1.0)}, grid_kw=10, failure_domain="<fd>"),
        ],
        regions=[REGION],
        links=[
            builders.link(REGION, SITE_A, 5.0, bandwidth_gbps=1.0),
            builders.link(REGION, SITE_B, 8.0),
        ],
        training=[builders.job(JOB, {ACCELERATOR: 4})],
        inference=[
            builders.service(SERVICE, {ACCELERATOR: (1, 10.0)}, {REGION: 30.0}, resilience="n+1")
        ],
    )
    return instance, solve(instance, time_limit_s=5, workers=1, seed=0)


def test_hostile_ids_compare_unchanged() -> None:
    """The data model keeps hostile ids verbatim (escaping is each renderer's job)."""
    instance, solution = hostile_plan()
    result = report(instance, solution)
    assert result.plans[0].summary.feasible
    assert set(result.plans[0].sites) == {SITE_A, SITE_B}
    assert set(result.plans[0].training) == {JOB}
    assert set(result.plans[0].services) == {SERVICE}
