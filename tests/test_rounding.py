"""The search around the LP's rounded replica counts (solver.heuristics.rounding)."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from models import Instance, load_instance
from solver import SolveOptions, solve
from solver.cpsat.model import add_hint, build_model, extract_plan, plan_values
from solver.heuristics.greedy import greedy
from solver.heuristics.rounding import rounding_model
from tests import builders as b
from tests.checks import assert_valid_plan


def two_site_service() -> Instance:
    """One service (25 rps, 10 rps per replica) that may run at A or B, and one job."""
    return b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}), b.site("B", {"gpu": (100, 2.0)})],
        regions=["u"],
        links=[b.link("u", "A"), b.link("u", "B")],
        training=[b.job("j", {"gpu": 4})],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 25})],
    )


def thin_link_to_a() -> Instance:
    """One service (20 rps of 125 KB requests, 10 rps per replica) at A or the dearer B;
    the link to A carries 0.01 Gbps, that is 10 rps."""
    return b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}), b.site("B", {"gpu": (100, 2.0)})],
        regions=["u"],
        links=[b.link("u", "A", bandwidth_gbps=0.01), b.link("u", "B")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 20}, request_kb=100, response_kb=25)],
    )


def domain(model: cp_model.CpModel, index: int) -> list[int]:
    return list(model.proto.variables[index].domain)


def test_rounding_model_narrows_replica_counts_only() -> None:
    """Replica counts get [floor, ceil] of their LP values (an integral value fixes the
    count); placements keep their domains; the original model is untouched; no hint."""
    instance = two_site_service()
    built = build_model(instance)
    add_hint(built, greedy(instance))
    values = [0.0] * len(built.model.proto.variables)
    replica = {o.site: v for o, v in built.variables.replicas.items()}
    values[replica["A"].index] = 2.4
    values[replica["B"].index] = 1.0
    restricted = rounding_model(built, values)
    assert restricted is not None
    assert domain(restricted.model, replica["A"].index) == [2, 3]
    assert domain(restricted.model, replica["B"].index) == [1, 1]
    for var in built.variables.placement.values():
        assert domain(restricted.model, var.index) == domain(built.model, var.index)
    assert domain(built.model, replica["A"].index) == [0, 3]
    assert len(restricted.model.proto.solution_hint.vars) == 0
    assert len(built.model.proto.solution_hint.vars) > 0


def test_rounding_model_without_replicas() -> None:
    """Nothing to round without inference services."""
    instance = b.instance(sites=[b.site("A", {"gpu": (8, 1.0)})], training=[b.job("j", {"gpu": 4})])
    built = build_model(instance)
    assert rounding_model(built, [0.0] * len(built.model.proto.variables)) is None


def test_restriction_without_a_plan_leaves_the_solve_exact() -> None:
    """LP values of zero forbid every replica: the restricted model has no plan, and the
    solve still finds the optimum (3 replicas at A, 30 + 40 = 70) from the greedy start."""
    instance = two_site_service()
    built = build_model(instance)
    restricted = rounding_model(built, [0.0] * len(built.model.proto.variables))
    assert restricted is not None
    assert cp_model.CpSolver().solve(restricted.model) == cp_model.INFEASIBLE
    solution = solve(instance, time_limit_s=20.0, workers=2)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(70.0)
    assert_valid_plan(instance, solution)


@pytest.mark.parametrize("name", ["instances/example.json", "instances/generated/S-0.json"])
def test_same_optimum_with_and_without_rounding(name: str) -> None:
    """The rounding search only changes where the full search starts: both settings
    prove the same optimum, and both plans pass the evaluator.

    S-0's proofs take 7-8 s each alone (S-2's, 16 s since `LP_WHOLE`, took 42 s of the
    suite's time); the limit leaves room for the suite's other tests on the same cores."""
    instance = load_instance(name)
    objectives = []
    for rounding in (True, False):
        options = SolveOptions(lp_rounding=rounding)
        solution = solve(instance, time_limit_s=60.0, workers=2, options=options)
        assert solution.status == "optimal"
        assert_valid_plan(instance, solution)
        objectives.append(solution.objective)
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-6)


def test_fix_placements_forbids_placements_the_lp_leaves_unused() -> None:
    """With fix_placements, a placement at LP value 0 is fixed to 0 and one the LP uses
    keeps its domain; with every placement in use there is nothing more to restrict."""
    instance = two_site_service()
    built = build_model(instance)
    values = [0.0] * len(built.model.proto.variables)
    placement = {p.site: v for p, v in built.variables.placement.items()}
    values[placement["A"].index] = 1.0
    restricted = rounding_model(built, values, fix_placements=True)
    assert restricted is not None
    assert domain(restricted.model, placement["A"].index) == [0, 1]
    assert domain(restricted.model, placement["B"].index) == [0, 0]
    values[placement["B"].index] = 0.5
    assert rounding_model(built, values, fix_placements=True) is None


def test_rounding_search_reports_plans_without_a_bound() -> None:
    """The restricted copy's bound proves nothing about the whole problem: its plans are
    reported with bound None, and every bound reported is at most the optimum (on S-0,
    where the rounding search improves on the greedy start, so it reports plans)."""
    instance = load_instance("instances/generated/S-0.json")
    calls: list[tuple[float, float, float | None]] = []
    solution = solve(
        instance,
        time_limit_s=30.0,
        workers=2,
        on_progress=lambda wall, objective, bound: calls.append((wall, objective, bound)),
    )
    assert solution.status == "optimal"
    assert solution.objective is not None
    assert any(bound is None for _, _, bound in calls)
    assert all(bound is None or bound <= solution.objective + 1e-6 for _, _, bound in calls)


def test_incumbent_widens_the_rounding_to_hold_its_plan() -> None:
    """With an incumbent, each replica count ranges from its LP rounding to the plan's
    value, and the plan's placements stay allowed where the LP leaves them unused."""
    instance = two_site_service()
    built = build_model(instance)
    values = [0.0] * len(built.model.proto.variables)
    replica = {o.site: v for o, v in built.variables.replicas.items()}
    placement = {p.site: v for p, v in built.variables.placement.items()}
    values[replica["A"].index] = 2.4
    values[placement["A"].index] = 1.0
    incumbent = {replica["B"].index: 3, placement["B"].index: 1}
    restricted = rounding_model(built, values, fix_placements=True, incumbent=incumbent)
    assert restricted is not None
    assert domain(restricted.model, replica["A"].index) == [0, 3]
    assert domain(restricted.model, replica["B"].index) == [0, 3]
    assert domain(restricted.model, placement["B"].index) == [0, 1]
    without = rounding_model(built, values, fix_placements=True)
    assert without is not None
    assert domain(without.model, replica["B"].index) == [0, 0]
    assert domain(without.model, placement["B"].index) == [0, 0]


def test_copy_widened_by_a_plan_has_that_plan_or_better() -> None:
    """LP values that round to no plan at all (every count 0) still leave a copy with a
    plan once widened by the greedy plan: CP-SAT finds one at most as costly, and it
    passes the evaluator."""
    instance = load_instance("instances/generated/S-2.json")
    start = greedy(instance)
    assert start.objective is not None
    built = build_model(instance)
    zeros = [0.0] * len(built.model.proto.variables)
    narrow = rounding_model(built, zeros, fix_placements=True)
    assert narrow is not None
    assert cp_model.CpSolver().solve(narrow.model) == cp_model.INFEASIBLE
    widened = rounding_model(built, zeros, fix_placements=True, incumbent=plan_values(built, start))
    assert widened is not None
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20.0
    assert solver.solve(widened.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    plan = extract_plan(built, [float(v) for v in solver.response_proto.solution])
    assert plan.objective <= start.objective * (1 + 1e-6)
    fields = ("training", "unplaced_training", "inference", "routes", "unserved", "costs")
    update = {name: getattr(plan, name) for name in fields}
    assert_valid_plan(instance, start.model_copy(update={**update, "objective": plan.objective}))


def test_exact_links_state_the_relaxed_rows_at_their_limit() -> None:
    """A 0.01 Gbps link to A carries at most 10 rps of 125 KB requests. The model states
    its row with the grid allowance; the copy with exact_links states it at the SPEC limit,
    so the copy's optimum is the SPEC optimum (10 rps at A, 10 at the dear B: 30) and its
    flows keep the exact row as they stand."""
    instance = thin_link_to_a()
    built = build_model(instance)
    assert built.relaxed
    values = [0.0] * len(built.model.proto.variables)
    for var in built.variables.replicas.values():
        values[var.index] = 1.0
    exact = rounding_model(built, values, exact_links=True)
    assert exact is not None
    for index in built.notes.relaxed:
        relaxed_limit = list(built.model.proto.constraints[index].linear.domain)[-1]
        exact_limit = list(exact.model.proto.constraints[index].linear.domain)[-1]
        assert exact_limit < relaxed_limit
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(exact.model) == cp_model.OPTIMAL
    solution = [float(v) for v in solver.response_proto.solution]
    for row in built.notes.relaxed.values():
        used = sum(coef * solution[i] for i, coef in row.coefficients.items())
        assert used <= row.limit * (1 + 1e-9)
    plan = extract_plan(built, solution)
    assert plan.objective == pytest.approx(30.0)
    assert {f.site: f.rps for f in plan.routes} == pytest.approx({"A": 10.0, "B": 10.0})


def test_exact_links_keep_the_incumbents_usage() -> None:
    """Where the incumbent's grid flows use more of a link than its SPEC limit, the row
    is stated at that usage, so the incumbent stays a plan of the copy; elsewhere at the
    limit."""
    instance = thin_link_to_a()
    built = build_model(instance)
    values = [0.0] * len(built.model.proto.variables)
    exact = rounding_model(built, values, exact_links=True)
    assert exact is not None
    (index,) = built.notes.relaxed
    at_limit = list(exact.model.proto.constraints[index].linear.domain)[-1]
    to_a = next(v for pair, v in built.variables.flow.items() if pair.site == "A")
    over = rounding_model(built, values, exact_links=True, incumbent={to_a.index: 10**6})
    assert over is not None
    linear = over.model.proto.constraints[index].linear
    usage = sum(
        c * 10**6 for v, c in zip(linear.vars, linear.coeffs, strict=True) if v == to_a.index
    )
    assert list(linear.domain)[-1] == usage > at_limit
