"""The linear reading of the model: LP bound, HiGHS MIP, and flow polishing."""

from __future__ import annotations

import math

import pytest

from models import load_instance
from solver import solve
from solver.cpsat.model import build_model, extract_plan
from solver.linear import LinearRows, linear_rows, safe_bound, solve_linear
from tests import builders as b
from tests.checks import assert_valid_plan


def bandwidth_instance():  # type: ignore[no-untyped-def]
    """Two sites behind one limited and one free link (optimum 10 + 2 x 20 = 50)."""
    return b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}), b.site("B", {"gpu": (100, 2.0)})],
        regions=["u"],
        links=[b.link("u", "A", 5.0, bandwidth_gbps=0.01), b.link("u", "B", 5.0)],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 25}, request_kb=100, response_kb=25)],
    )


def test_lp_relaxation_is_a_lower_bound() -> None:
    """The LP optimum never exceeds the proved optimum."""
    instance = bandwidth_instance()
    lp = solve_linear(build_model(instance))
    optimum = solve(instance, time_limit_s=10, workers=1)
    assert lp.status == "optimal"
    assert lp.bound is not None and optimum.objective is not None
    assert lp.bound <= optimum.objective + 1e-9
    # 25 rps at 10 per replica needs 3 replicas in all (the replica-count row); A's link
    # carries 10 rps, so the LP takes 1.5 at A and 1.5 at B: 15 + 30.
    assert lp.bound == pytest.approx(45.0)


def test_highs_mip_matches_cpsat_optimum() -> None:
    """HiGHS on the same model (continuous flows) finds the CP-SAT optimum, a valid plan."""
    instance = bandwidth_instance()
    built = build_model(instance)
    mip = solve_linear(built, solver_id="HIGHS", integer=True, time_limit_s=10)
    assert mip.status == "optimal"
    plan = extract_plan(built, mip.values)
    cpsat = solve(instance, time_limit_s=10, workers=1)
    assert plan.objective == pytest.approx(cpsat.objective)
    assert mip.objective == pytest.approx(cpsat.objective)


def test_worked_example_lp_and_mip() -> None:
    """On the SPEC example LP, MIP and CP-SAT agree on 2,778,598.80."""
    built = build_model(load_instance("instances/example.json"))
    assert solve_linear(built).objective == pytest.approx(2_778_598.80)
    assert solve_linear(built, solver_id="HIGHS", integer=True).objective == pytest.approx(
        2_778_598.80
    )


def test_fixed_decisions_polish_flows() -> None:
    """A plan of the relaxed-link model keeps the exact link limit after polishing."""
    instance = bandwidth_instance()
    solution = solve(instance, time_limit_s=10, workers=1)
    assert_valid_plan(instance, solution)
    routes = {r.site: r.rps for r in solution.routes}
    assert routes.get("A", 0.0) <= 10.0 + 1e-9
    assert sum(routes.values()) == pytest.approx(25.0)
    assert solution.objective == pytest.approx(50.0)


def test_highs_writes_nothing_to_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    """HiGHS prints a banner from C++ once a time limit is set; solve_linear keeps the
    caller's stdout clean (a library call, and `infraplan` output piped to a file)."""
    built = build_model(load_instance("instances/example.json"))
    result = solve_linear(built, solver_id="HIGHS", time_limit_s=10.0)
    assert result.status == "optimal"
    captured = capfd.readouterr()
    assert captured.out == ""


@pytest.mark.parametrize("path", ["instances/example.json", "instances/generated/S-0.json"])
def test_highs_lp_duals_match_glop(path: str) -> None:
    """The HiGHS LP (through MathOpt) has GLOP's optimum and row duals, row by row, where
    the LP has one dual solution (the worked example; on S-0 the objectives agree)."""
    built = build_model(load_instance(path))
    glop = solve_linear(built, solver_id="GLOP")
    highs = solve_linear(built, solver_id="HIGHS")
    assert highs.status == glop.status == "optimal"
    assert highs.objective == pytest.approx(glop.objective, rel=1e-9)
    assert highs.rows_of_constraint == glop.rows_of_constraint
    assert len(highs.duals) == len(glop.duals)
    if path.endswith("example.json"):
        assert highs.duals == pytest.approx(glop.duals, rel=1e-6, abs=1e-6)


def test_safe_bound_holds_for_any_duals() -> None:
    """The LP bound is weak duality from the duals, not the solver's optimum: with the
    HiGHS duals it equals the LP optimum (to 1e-9 of itself), and with duals that are off
    (scaled, perturbed, signs flipped, none at all) it is still no higher than the LP."""
    instance = bandwidth_instance()
    built = build_model(instance, widened=True)
    lp = solve_linear(built, solver_id="HIGHS")
    assert lp.status == "optimal" and lp.objective is not None and lp.bound is not None
    assert lp.bound <= lp.objective
    assert lp.bound == pytest.approx(lp.objective, rel=1e-8)
    rows = linear_rows(built, integer=False)
    for duals in (
        [1.7 * y for y in lp.duals],
        [y + (0.3 if k % 2 else -0.2) for k, y in enumerate(lp.duals)],
        [-y for y in lp.duals],
        [],
    ):
        bound = safe_bound(rows, duals)
        assert bound is not None and bound <= lp.objective + 1e-9


def test_safe_bound_by_hand() -> None:
    """min x + 2y with x + y >= 3, 0 <= x <= 2, 0 <= y <= 5: optimum 4 (x 2, y 1). The
    dual 2 of the row proves 2 * 3 + min((1 - 2) x) + min((2 - 2) y) = 6 - 2 = 4; the
    dual 1 proves 3 + 0 + min(1 * y) = 3."""
    rows = LinearRows(
        lower=[0.0, 0.0],
        upper=[2.0, 5.0],
        integer=[False, False],
        rows=[({0: 1.0, 1: 1.0}, 3.0, math.inf)],
        rows_of_constraint=[[0]],
        costs={0: 1.0, 1: 2.0},
    )
    assert safe_bound(rows, [2.0]) == pytest.approx(4.0, rel=1e-8)
    assert safe_bound(rows, [1.0]) == pytest.approx(3.0, rel=1e-8)
    # A dual of the wrong sign for a `>=` row is dropped, not used: the bound is min c.x.
    assert safe_bound(rows, [-5.0]) == pytest.approx(0.0, abs=1e-12)
