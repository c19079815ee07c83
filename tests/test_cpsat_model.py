"""The CP-SAT model: hints are complete and, from a valid plan, feasible in the model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from ortools.sat.python import cp_model

from models import load_instance
from solver import solve
from solver.cpsat import constraints
from solver.cpsat.model import add_hint, build_model, extract_plan, hint_solution
from solver.heuristics.greedy import greedy
from solver.linear import solve_linear
from tests import builders as b
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from models import Instance
    from solver.cpsat.model import BuiltModel


def violated_rows(built: BuiltModel) -> list[str]:
    """Rows of the model the hinted values break (checked on the proto, by hand)."""
    proto = built.model.proto
    hint = dict(zip(proto.solution_hint.vars, proto.solution_hint.values, strict=True))
    assert len(hint) == len(proto.variables), "the hint must give every variable a value"

    def literal(ref: int) -> int:
        return hint[ref] if ref >= 0 else 1 - hint[-ref - 1]

    broken = []
    for index, row in enumerate(proto.constraints):
        if row.enforcement_literal and not all(literal(r) for r in row.enforcement_literal):
            continue
        if row.has_linear():
            total = sum(
                hint[v] * c for v, c in zip(row.linear.vars, row.linear.coeffs, strict=True)
            )
            low, high = list(row.linear.domain)[:2]
            if not low <= total <= high:
                broken.append(str(built.notes.labels.get(index, index)))
        elif row.has_bool_and() and not all(literal(r) for r in row.bool_and.literals):
            broken.append(str(built.notes.labels.get(index, index)))
    return broken


def test_greedy_hint_is_complete_and_feasible_on_generated_instance() -> None:
    """A complete greedy plan of S-0 hints every variable and breaks no row."""
    instance = load_instance("instances/generated/S-0.json")
    plan = greedy(instance)
    assert plan.status == "feasible"
    built = build_model(instance)
    add_hint(built, plan)
    assert violated_rows(built) == []


def test_hint_from_a_solution_s_values_restates_that_plan() -> None:
    """`hint_solution` hints every variable with a CP-SAT solution's values: a search that
    may only follow the hint finds that same plan again."""
    instance = b.flexible_job_on_latency_bound_site(2.0)
    built = build_model(instance)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(built.model) == cp_model.OPTIMAL
    values = [float(v) for v in solver.response_proto.solution]
    built.model.clear_hints()
    hint_solution(built, values)
    assert len(built.model.proto.solution_hint.vars) == len(built.model.proto.variables)
    again = cp_model.CpSolver()
    again.parameters.num_workers = 1
    again.parameters.fix_variables_to_their_hinted_value = True
    assert again.solve(built.model) == cp_model.OPTIMAL
    assert list(again.response_proto.solution) == [round(v) for v in values]
    plan = extract_plan(built, values)
    assert plan.objective == pytest.approx(84.0)
    assert_valid_plan(instance, plan.solution(instance, "feasible", None, greedy(instance).solver))


def test_hint_covers_total_capacity_variables() -> None:
    """With many failure domains the n+1 totals are hinted from the replicas too."""
    sites = [b.site(name, {"gpu": (100, 1.0 + n)}) for n, name in enumerate("ABCDE")]
    instance = b.instance(
        sites=sites,
        regions=["u"],
        links=[b.link("u", s["id"]) for s in sites],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 10}, resilience="n+1")],
    )
    built = build_model(instance)
    assert built.variables.totals, "five domains use total-capacity variables"
    add_hint(built, greedy(instance))
    assert violated_rows(built) == []


def test_every_row_is_labelled() -> None:
    """Diagnosis and duals rely on a family and entity for every constraint row."""
    built = build_model(load_instance("instances/generated/S-1.json"))
    assert set(built.notes.labels) == set(range(len(built.model.proto.constraints)))


def without_rows(built: BuiltModel, family: str) -> BuiltModel:
    """`built` with every row of `family` stated with no limit (as if it were not there)."""
    proto = built.model.proto
    for index, label in built.notes.labels.items():
        if label.family == family:
            domain = proto.constraints[index].linear.domain
            domain.clear()
            domain.extend([-(2**62), 2**62])
    return built


def test_site_flow_cover_rows_open_a_site_by_the_demand_it_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One region's 1 rps, unserved at 1,000 per rps-hour (10,000 over 10 h), can go to A
    or B (fixed cost 100 each, free replicas of 1 accelerator serving 100 rps): one site
    opens (100). With serving rows at the replicas' full rate, site use and site capacity
    let the LP run 1% of a replica and open its site 1% (1); the redundant flow cover rows
    give the LP the whole 100, and the optimum is unchanged."""
    monkeypatch.setattr(constraints, "SERVING_TIGHTENED", False)
    sites = [b.site(name, {"gpu": (100, 0.0)}, fixed_cost=100.0) for name in "AB"]
    instance = b.instance(
        sites=sites,
        regions=["r"],
        links=[b.link("r", "A"), b.link("r", "B")],
        inference=[
            b.service("s", {"gpu": (1, 100.0)}, {"r": 1.0}, unserved_cost_per_rps_hour=1000.0)
        ],
    )
    built = build_model(instance)
    assert built.notes.rows["site_flow_cover"] == 2
    assert solve_linear(built).bound == pytest.approx(100.0)

    without = without_rows(build_model(instance), "site_flow_cover")
    assert solve_linear(without).bound == pytest.approx(1.0)

    solution = solve(instance, time_limit_s=20.0, workers=2)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(100.0)
    assert_valid_plan(instance, solution)


def small_demands() -> Instance:
    """Two regions' 1 rps each, unserved at 1,000 per rps-hour (20,000 over 10 h), reach
    only A and only B; a replica of 1 accelerator at 10 per hour (100 over 10 h) serves 100
    rps: one replica runs at each site (200)."""
    return b.instance(
        sites=[b.site(name, {"gpu": (4, 10.0)}) for name in "AB"],
        regions=["r1", "r2"],
        links=[b.link("r1", "A"), b.link("r2", "B")],
        inference=[
            b.service(
                "s", {"gpu": (1, 100.0)}, {"r1": 1.0, "r2": 1.0}, unserved_cost_per_rps_hour=1000.0
            )
        ],
    )


def test_serving_rows_cap_a_replica_at_the_demand_its_site_may_serve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In `small_demands` a replica's 100 rps are capped at the 1 rps its site may serve:
    the LP runs a whole replica at each site (200), where at the full rate it runs 1% of
    one (2); the optimum is 200 either way."""
    instance = small_demands()
    assert solve_linear(build_model(instance)).bound == pytest.approx(200.0)
    solution = solve(instance, time_limit_s=20.0, workers=2)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(200.0)
    assert [group.replicas for group in solution.inference] == [1, 1]
    assert_valid_plan(instance, solution)

    monkeypatch.setattr(constraints, "SERVING_TIGHTENED", False)
    # (A replica's rate in the widened model carries the SPEC's tolerance: 2 less 2e-5.)
    assert solve_linear(build_model(instance)).bound == pytest.approx(2.0, rel=1e-4)
    assert solve(instance, time_limit_s=20.0, workers=2).objective == pytest.approx(200.0)


def small_resilient_demand() -> Instance:
    """One region's 1 rps, n+1, unserved at 1,000 per rps-hour (10,000 over 10 h), reaching
    A and B in two failure domains; a replica of 1 accelerator at 10 per hour (100 over 10
    h) serves 100 rps: n+1 needs a replica in each domain (200). (With a price on unserved
    demand the replica-count rows do not apply: they hold for must-serve services only.)"""
    return b.instance(
        sites=[b.site(name, {"gpu": (4, 10.0)}, failure_domain=f"d{name}") for name in "AB"],
        regions=["r"],
        links=[b.link("r", "A"), b.link("r", "B")],
        inference=[
            b.service(
                "s",
                {"gpu": (1, 100.0)},
                {"r": 1.0},
                resilience="n+1",
                unserved_cost_per_rps_hour=1000.0,
            )
        ],
    )


def test_resilience_rows_cap_a_replica_at_the_service_demand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In `small_resilient_demand` a replica's 100 rps count for the 1 rps the service
    serves in its n+1 rows: the LP runs a whole replica in each domain (200), where at the
    full rate it runs 1% of one outside each domain and one replica in all (100); the
    optimum is 200 either way."""
    instance = small_resilient_demand()
    assert solve_linear(build_model(instance)).bound == pytest.approx(200.0, rel=1e-4)
    solution = solve(instance, time_limit_s=20.0, workers=2)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(200.0)
    assert sorted(group.site for group in solution.inference) == ["A", "B"]
    assert_valid_plan(instance, solution)

    monkeypatch.setattr(constraints, "RESILIENCE_TIGHTENED", False)
    assert solve_linear(build_model(instance)).bound == pytest.approx(100.0, rel=1e-4)
    assert solve(instance, time_limit_s=20.0, workers=2).objective == pytest.approx(200.0)


def test_site_capacity_rows_make_fixed_costs_grow_with_use() -> None:
    """Four 5-accelerator jobs on four 10-accelerator sites with a fixed cost of 100: two
    sites must open (200). Site use alone lets the LP open each site a quarter (100); the
    redundant site capacity rows give the LP the whole 200, and the optimum is unchanged."""
    sites = [b.site(name, {"gpu": (10, 0.0)}, fixed_cost=100.0) for name in "ABCD"]
    instance = b.instance(sites=sites, training=[b.job(f"j{n}", {"gpu": 5}) for n in range(4)])
    built = build_model(instance)
    assert built.notes.rows["site_capacity"] == 4
    relaxation = solve_linear(built)
    assert relaxation.bound == pytest.approx(200.0)

    without = without_rows(build_model(instance), "site_capacity")
    assert solve_linear(without).bound == pytest.approx(100.0)

    solution = solve(instance, time_limit_s=20.0, workers=2)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(200.0)
    assert_valid_plan(instance, solution)
