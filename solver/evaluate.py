"""Evaluate a plan independently of the solver: SPEC sections 4-7 recomputed.

`evaluate(instance, solution)` checks every decision against the SPEC section 4
rules, every constraint of section 5, the reported objective and cost breakdown
against section 6 recomputed in float64, and the section 7 claims the plan can
check (a bound is finite and no higher than a feasible plan's cost; "optimal"
has a bound within the tolerance of the plan's cost), all to the section 7
tolerance. It reads only the instance and the plan (the section 3 paths it
computes itself), never the CP-SAT model, `Instance.eligibility` or
`Instance.paths`, so it can judge any plan from any source.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from models import CostBreakdown
from solver.evaluation.constraints import check_constraints
from solver.evaluation.costs import check_claims, recompute_costs
from solver.evaluation.eligibility import index_plan
from solver.evaluation.lookup import InstanceLookup
from solver.evaluation.result import Evaluation
from solver.evaluation.usage import measure
from solver.evaluation.violations import Violation

if TYPE_CHECKING:
    from models import Instance, Solution


def evaluate(instance: Instance, solution: Solution) -> Evaluation:
    """Recompute a plan's feasibility, objective, cost breakdown and usage figures."""
    notes = _identity_notes(instance, solution)
    if not solution.has_plan:
        return Evaluation(
            instance=instance.name,
            status=solution.status,
            feasible=False,
            objective=math.inf,
            costs=CostBreakdown(),
            violations=[
                Violation(
                    "status",
                    "solution",
                    1,
                    f"status {solution.status}: the solution holds no plan",
                )
            ],
            reported_objective=solution.objective,
            notes=notes,
        )
    lookup = InstanceLookup.build(instance)
    plan = index_plan(instance, lookup, solution)
    usage = measure(instance, lookup, plan)
    recomputed = recompute_costs(instance, lookup, plan, usage)
    broken = [*plan.violations, *check_constraints(instance, usage)]
    violations = [*broken, *check_claims(solution, recomputed, plan_feasible=not broken)]
    return Evaluation(
        instance=instance.name,
        status=solution.status,
        feasible=not violations,
        objective=recomputed.objective,
        costs=recomputed.costs,
        violations=violations,
        reported_objective=solution.objective,
        sites=usage.sites,
        links=usage.links,
        routes=usage.routes,
        services=usage.services,
        notes=notes,
    )


def _identity_notes(instance: Instance, solution: Solution) -> list[str]:
    """Say so when the solution names another instance (not a violation: the plan is
    judged on the instance given)."""
    notes: list[str] = []
    if solution.instance != instance.name:
        notes.append(f"the solution is for instance '{solution.instance}', not '{instance.name}'")
    elif solution.instance_sha256 != instance.sha256:
        notes.append(
            "the solution's instance_sha256 differs from this instance's "
            f"({solution.instance_sha256[:12]} vs {instance.sha256[:12]})"
        )
    return notes
