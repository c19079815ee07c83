"""Every claim is a proof, whatever the numbers look like (issue: rates such as 1/3).

`infeasible`, `optimal` and the bound come from the solver's widened model (a relaxation
of the SPEC to its tolerance) and plans from checked searches (docs/formulation.md, "Two
models"). These tests pin the cases that used to be answered wrongly, and hunt for more
with awkward figures (thirds, sevenths, ninths; magnitudes from 1e-7 to 1e7) against the
exhaustive oracle of tests/test_solve_bruteforce.py, which shares no solver code.

The property test runs INFRAPLAN_HYPOTHESIS examples: profile `fast` (30) in `make test`,
`slow` (500) on demand: `INFRAPLAN_HYPOTHESIS=slow .venv/bin/pytest tests/test_claims.py`.
"""

from __future__ import annotations

import importlib
import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import solve
from solver.solve import ClaimContradictionError
from tests import builders as b
from tests.checks import assert_valid_plan
from tests.test_solve_bruteforce import build, oracle, tiny_cases

settings.register_profile("fast", max_examples=30)
settings.register_profile("slow", max_examples=500)
PROFILE = settings.get_profile(os.environ.get("INFRAPLAN_HYPOTHESIS", "fast"))


def one_service(rps: float, demand: float) -> Any:
    """One site of 100 accelerators (1 kW, 1 per hour), one region 1 ms away, one service
    of one 1-accelerator profile at `rps` with `demand` from the region, SLO 10 ms, 1 hour."""
    return b.instance(
        sites=[b.site("s", {"gpu": (100, 1.0)}, grid_kw=1000.0)],
        regions=["r"],
        links=[b.link("r", "s", 1.0)],
        inference=[b.service("svc", {"gpu": (1, rps)}, {"r": demand}, slo_ms=10.0)],
        horizon_hours=1.0,
    )


@pytest.mark.parametrize(
    ("rps", "demand", "replicas"),
    [
        (0.3333333333333333, 1.0, 3),
        (2.3333333333333335, 7.0, 3),
        (3.3333333333333335, 10.0, 3),
        (0.14285714285714285, 3.0, 21),
        (0.1, 0.3, 3),
    ],
)
def test_rates_that_are_not_short_decimals_are_planned(
    rps: float, demand: float, replicas: int
) -> None:
    """Three replicas of 1/3 rps serve 1 rps (and the like): optimal, not 'infeasible'."""
    instance = one_service(rps, demand)
    solution = solve(instance, time_limit_s=10.0, workers=2, seed=0)
    assert solution.status == "optimal", solution.summary()
    assert_valid_plan(instance, solution)
    assert [r.replicas for r in solution.inference] == [replicas]
    assert solution.objective == pytest.approx(float(replicas), rel=1e-9)
    assert solution.bound is not None and solution.bound <= solution.objective


def test_a_replica_short_of_the_demand_by_more_than_the_tolerance_is_short() -> None:
    """Two replicas of 12 rps do not serve 25 rps: the tolerance is not a replica's worth."""
    instance = one_service(12.0, 25.0)
    solution = solve(instance, time_limit_s=10.0, workers=2, seed=0)
    assert solution.status == "optimal"
    assert_valid_plan(instance, solution)
    assert [r.replicas for r in solution.inference] == [3]


def test_a_limit_met_only_within_the_tolerance_is_met() -> None:
    """A job that needs 1e-7 kW more than the grid has (within the SPEC's 1e-6) is placed;
    one that needs 1% more is not, and that is proved."""
    within = b.instance(
        sites=[b.site("A", {"gpu": (4, 1.0)}, grid_kw=4.0 - 1e-7)],
        training=[b.job("j", {"gpu": 4})],
    )
    solution = solve(within, time_limit_s=10.0, workers=2, seed=0)
    assert solution.status == "optimal", solution.summary()
    assert_valid_plan(within, solution)
    beyond = b.instance(
        sites=[b.site("A", {"gpu": (4, 1.0)}, grid_kw=3.96)],
        training=[b.job("j", {"gpu": 4})],
    )
    assert solve(beyond, time_limit_s=10.0, workers=2, seed=0).status == "infeasible"


def test_a_stop_at_a_requested_gap_is_not_optimal() -> None:
    """With relative_gap 0.5 CP-SAT may stop early and call that optimal; the answer is
    `optimal` only when its bound is within 1e-6 of the plan, else `feasible`."""
    from solver import SolveOptions

    instance = build(
        {
            "sites": [
                {
                    "id": n,
                    "count": 8,
                    "price": p,
                    "grid_kw": 100.0,
                    "pue": 1.0,
                    "fixed": 15.0,
                    "domain": n,
                    "latency": 5.0,
                    "egress": 0.0,
                    "bandwidth": None,
                }
                for n, p in (("A", 1.0), ("B", 1.5))
            ],
            "jobs": [{"count": 3, "required": True, "unplaced_cost": 10.0}],
            "service": {
                "rps": 5.0,
                "per_replica": 1,
                "demand": 23,
                "resilience": "n+1",
                "unserved": None,
                "kb": 0.0,
            },
        }
    )
    options = SolveOptions(relative_gap=0.5, lp=False)
    solution = solve(instance, time_limit_s=10.0, workers=1, seed=0, options=options)
    assert solution.objective is not None and solution.bound is not None
    proved = solution.objective - solution.bound <= 1e-6 * max(1.0, abs(solution.objective))
    assert solution.status == ("optimal" if proved else "feasible")


DIVISORS = (3.0, 7.0, 9.0)
MAGNITUDES = (1e-7, 1e-3, 1.0, 1e3, 1e7)


@st.composite
def awkward_cases(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A tiny case of the exhaustive oracle with awkward figures: rates and demand divided
    by 3, 7 or 9 (whole ratios in real arithmetic, not in floats), prices scaled and
    divided, and sometimes one huge and one tiny price in one instance. Returns the case
    and whether its figures stay within ordinary magnitudes."""
    case = draw(tiny_cases())
    divisor = draw(st.sampled_from(DIVISORS))
    extreme = draw(st.booleans())
    scales = [draw(st.sampled_from(MAGNITUDES)) if extreme else 1.0 for _ in case["sites"]]
    for site, scale in zip(case["sites"], scales, strict=True):
        site["price"] = site["price"] * scale / divisor
        site["fixed"] = site["fixed"] * scale / divisor
        site["egress"] = site["egress"] / divisor
    for job in case["jobs"]:
        job["unplaced_cost"] = job["unplaced_cost"] / divisor
    service = case["service"]
    if service is not None:
        service["rps"] = service["rps"] / divisor
        service["demand"] = service["demand"] / divisor
        if service["unserved"] is not None:
            service["unserved"] = service["unserved"] / divisor
    return case, not extreme


def _within(value: float, expected: float) -> bool:
    return abs(value - expected) <= 1e-6 * max(1.0, abs(expected))


@settings(PROFILE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(awkward_cases())
def test_no_claim_contradicts_the_exhaustive_oracle(case: tuple[dict[str, Any], bool]) -> None:
    """On awkward figures: `infeasible` only when no plan exists, the bound never above the
    optimum, `optimal` only at the optimum, every plan valid; and with ordinary
    magnitudes the optimum is proved."""
    figures, ordinary = case
    instance = build(figures)
    expected = oracle(figures)
    solution = solve(instance, time_limit_s=20.0, workers=2, seed=0)
    if expected is None:
        assert solution.status == "infeasible", solution.summary()
        return
    assert solution.status != "infeasible", solution.summary()
    if solution.bound is not None:
        assert solution.bound <= expected + 1e-9 * max(1.0, abs(expected)), solution.summary()
    if solution.has_plan:
        assert_valid_plan(instance, solution)
        assert solution.objective is not None
        assert solution.objective >= expected - 1e-6 * max(1.0, abs(expected))
    if solution.status == "optimal":
        assert solution.objective is not None and _within(solution.objective, expected)
    if ordinary:
        assert solution.status == "optimal", solution.summary()
        assert math.isfinite(expected)


def test_a_bound_above_a_checked_plan_is_raised_not_clipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proved bound above a plan the evaluator accepts is a contradiction: `solve` raises
    with the figures instead of reporting a 0% gap (here the bound is forced 1 too high)."""
    solve_module = importlib.import_module("solver.solve")

    def too_high(bound: float | None) -> float | None:
        return None if bound is None else bound + 1.0

    monkeypatch.setattr(solve_module, "lowered_bound", too_high)
    with pytest.raises(ClaimContradictionError, match=r"bound 4\.0.* above the cost 3\.0"):
        solve(one_service(1 / 3, 1.0), time_limit_s=10.0, workers=2, seed=0)


def test_a_negative_gap_is_shown_as_it_is() -> None:
    """Solution.gap of a bound above the objective is negative, never clipped to 0."""
    instance = one_service(1 / 3, 1.0)
    solution = solve(instance, time_limit_s=10.0, workers=2, seed=0)
    contradicted = solution.model_copy(update={"bound": 3.3})
    assert contradicted.gap == pytest.approx(-0.1)
