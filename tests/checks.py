"""Checks every test applies to a plan: the independent evaluator accepts it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from solver.evaluate import evaluate

if TYPE_CHECKING:
    from models import Instance, Solution


def assert_valid_plan(instance: Instance, solution: Solution) -> None:
    """The evaluator finds no violation and agrees with the reported objective."""
    evaluation = evaluate(instance, solution)
    assert evaluation.feasible, "\n".join(str(v) for v in evaluation.violations)
    assert solution.objective is not None
    assert abs(evaluation.objective - solution.objective) <= 1e-6 * max(
        1.0, abs(evaluation.objective)
    )
