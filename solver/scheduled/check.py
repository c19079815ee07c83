"""The check a v2 plan passes before it is returned (docs/formulation.md, "Two models").

`accepted` hands the plan to the independent evaluator (`solver.evaluate.evaluate`),
whose word is final: a plan it refuses is not returned, and its costs are the plan's.
An exception inside the evaluator is a bug and propagates (it is never read as a plan
that passes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import SolverInfo
from solver.evaluate import evaluate

if TYPE_CHECKING:
    from models import Instance
    from solver.scheduled.plan import ScheduledPlan

#: The claims the evaluator checks besides the plan's rules (not asked of a plan here).
CLAIMS = ("status", "bound", "objective", "cost_breakdown")


def accepted(instance: Instance, plan: ScheduledPlan) -> ScheduledPlan | None:
    """`plan`, costed by the evaluator, when the evaluator finds it a SPEC plan of
    `instance` (its claimed figures aside); else None."""
    info = SolverInfo(name="infraplan-cpsat", version="", seed=0, time_limit_s=0, wall_s=0)
    solution = plan.solution(instance, "feasible", None, info)
    evaluation = evaluate(instance, solution)
    if any(v.constraint not in CLAIMS for v in evaluation.violations):
        return None
    plan.costs = evaluation.costs
    return plan
