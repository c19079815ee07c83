"""Tiny v2 instances for the scheduled solver's tests, built from tests/builders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from solver.scheduled.plan import ScheduledPlan
from tests import builders as b
from tests.checks import assert_valid_plan
from tests.scheduled_spec_check import spec_problems

if TYPE_CHECKING:
    from models import Instance, Solution


def v2(periods: list[tuple[str, int]] | None = None, **parts: Any) -> Instance:
    """A validated infraplan/v2 instance (scheduled when `periods` is given)."""
    extra: dict[str, Any] = {"schema": "infraplan/v2"}
    if periods is not None:
        extra["periods"] = [{"id": pid, "hours": hours} for pid, hours in periods]
        parts.setdefault("horizon_hours", sum(hours for _, hours in periods))
    return b.instance(**parts, **extra)


def assert_checked(instance: Instance, solution: Solution) -> None:
    """The plan passes the evaluator and the tests' own SPEC check."""
    plan = ScheduledPlan.of(instance, solution)
    assert spec_problems(instance, plan) == []
    assert solution.objective is not None
    assert abs(plan.objective - solution.objective) <= 1e-6 * max(1.0, abs(plan.objective))
    assert_valid_plan(instance, solution)


def scheduled_copy(document: dict[str, Any], seed: int = 0, periods: int = 4) -> Instance:
    """A scheduled v2 instance from a v1 document (for measurements such as generated M):
    `periods` equal periods, each job released in the first half (no deadline), due at
    1.2 times its run after release (late cost 1% of its GPU-hours
    per hour), demand scaled by period, and a fifth of the sites' grids 20% larger from the
    third period."""
    import math
    import random

    from models.io import parse_instance

    rng = random.Random(seed)
    data = dict(document)
    horizon = int(data["horizon_hours"])
    base = horizon // periods
    lengths = [base] * (periods - 1) + [horizon - base * (periods - 1)]
    ids = [f"q{i + 1}" for i in range(periods)]
    data["schema"] = "infraplan/v2"
    data["periods"] = [{"id": pid, "hours": h} for pid, h in zip(ids, lengths, strict=True)]
    jobs = []
    for job in data.get("training", []):
        job = dict(job)
        run = int(job["run_hours"])
        release = rng.randint(0, max(0, horizon // 2 - run))
        job["release_hour"] = release
        job["due_hour"] = release + math.ceil(1.2 * run)
        count = min(option["count"] for option in job["options"])
        job["late_cost_per_hour"] = round(0.01 * count * run, 2)
        jobs.append(job)
    data["training"] = jobs
    factors = [0.7, 0.85, 1.0, 0.9][:periods]
    services = []
    for service in data.get("inference", []):
        service = dict(service)
        service["demand_by_period"] = {
            pid: {u: round(rps * f, 3) for u, rps in service["demand_rps"].items()}
            for pid, f in zip(ids, factors, strict=False)
        }
        services.append(service)
    data["inference"] = services
    sites = []
    for index, site in enumerate(data["sites"]):
        site = dict(site)
        if index % 5 == 0 and periods >= 3:
            site["timeline"] = [{"period": ids[2], "grid_kw": round(site["grid_kw"] * 1.2, 3)}]
        sites.append(site)
    data["sites"] = sites
    return parse_instance(data)


#: Tolerance of claims against an exhaustive oracle (SPEC §7).
ORACLE_TOL = 1e-6


def assert_claims_agree(
    instance: Instance, solution: Solution, expected: float | None, *, proves: bool = True
) -> None:
    """No claim of `solution` contradicts the oracle's optimum `expected` (None: no plan
    exists): infeasible only without a plan, a bound at most the optimum, a plan checked
    and no cheaper than it, optimal equal to it; tiny instances are proved in their limit
    (unless `proves` is False: a path whose bound is a relaxation's may stop short)."""
    if expected is None:
        assert solution.status in ("infeasible", "unknown"), solution.summary()
        return
    assert solution.status != "infeasible", f"oracle found {expected}"
    slack = ORACLE_TOL * max(1.0, abs(expected))
    if solution.bound is not None:
        assert solution.bound <= expected + slack
    if solution.has_plan:
        assert_checked(instance, solution)
        assert solution.objective is not None
        assert solution.objective >= expected - slack
    if solution.status == "optimal":
        assert solution.objective == pytest.approx(expected, rel=ORACLE_TOL, abs=ORACLE_TOL)
    if proves:
        assert solution.status == "optimal", (solution.summary(), expected)
    else:
        assert solution.has_plan, (solution.summary(), expected)
