"""Evaluate a plan independently of the solver: SPEC sections 4-7 and 9-12 recomputed.

`evaluate(instance, solution)` checks every decision against the SPEC section 4
rules, every constraint of section 5, the reported objective and cost breakdown
against section 6 recomputed in float64, and the section 7 claims the plan can
check (a bound is finite and no higher than a feasible plan's cost; "optimal"
has a bound within the tolerance of the plan's cost), all to the section 7
tolerance. For a v2 instance (SPEC §8-§12) it checks the plan's shape (start hours,
periods, expansions), every §9 constraint at every event of the plan (period starts,
job starts and ends) rather than every hour, timing, §10's moves and budgets against
`current`, §11's expansions and supply limits, and the v2 cost parts.

It reads only the instance and the plan (the section 3 paths, the periods, timelines,
demand by period and expansions it resolves itself), never the CP-SAT model,
`Instance.eligibility`, `Instance.paths` or `Instance.schedule`, so it can judge any plan
from any source.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from models import CostBreakdown
from models.solution import SOLUTION_SCHEMA, SOLUTION_SCHEMA_V2, V2_COST_PARTS
from solver.evaluation.capacity import resolve_capacities
from solver.evaluation.constraints import check_constraints
from solver.evaluation.costs import ReplanTerms, check_claims, recompute_costs
from solver.evaluation.eligibility import index_plan
from solver.evaluation.expansions import index_expansions, supply_violations
from solver.evaluation.lookup import InstanceLookup
from solver.evaluation.replanning import replan_figures
from solver.evaluation.reporting import costs_over_time, first_period_changes
from solver.evaluation.result import Evaluation
from solver.evaluation.timed_constraints import check_over_time
from solver.evaluation.timed_usage import measure_over_time
from solver.evaluation.timing import check_timing, job_timings
from solver.evaluation.usage import active_sites, measure
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
            costs=_zero_costs(instance),
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
    if instance.is_v2:
        return _evaluate_v2(instance, solution, notes)
    lookup = InstanceLookup.build(instance)
    plan = index_plan(instance, lookup, solution)
    usage = measure(instance, lookup, plan)
    recomputed = recompute_costs(instance, lookup, plan, active_sites(plan))
    _, expansion_violations = index_expansions(instance, lookup.horizon, solution)
    broken = [
        *_schema_violations(instance, solution),
        *plan.violations,
        *expansion_violations,
        *check_constraints(instance, usage),
    ]
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


def _evaluate_v2(instance: Instance, solution: Solution, notes: list[str]) -> Evaluation:
    """SPEC §8-§12: a static or scheduled plan, measured at its events."""
    lookup = InstanceLookup.build(instance)
    horizon = lookup.horizon
    plan = index_plan(instance, lookup, solution)
    built, expansion_violations = index_expansions(instance, horizon, solution)
    replan, replan_violations = replan_figures(instance, lookup, plan)
    active = active_sites(plan)
    capacities = resolve_capacities(instance, horizon, built)
    usage = measure_over_time(instance, lookup, plan, capacities, active)
    jobs = job_timings(plan, horizon)
    terms = ReplanTerms(
        lateness=[job.lateness_cost for job in jobs],
        moves=[t for move in replan.moves for t in (move.move_cost, move.checkpoint_cost)],
        replica_starts=[start.cost for start in replan.replica_starts],
        expansions=[expansion.expansion.cost for expansion in built],
    )
    recomputed = recompute_costs(instance, lookup, plan, active, terms)
    broken = [
        *_schema_violations(instance, solution),
        *plan.violations,
        *expansion_violations,
        *[v for v in replan_violations if v.constraint == "eligibility"],
        *check_over_time(instance, horizon, usage),
        *check_timing(plan, horizon, set(replan.continuing)),
        *[v for v in replan_violations if v.constraint != "eligibility"],
        *supply_violations(instance, built),
    ]
    violations = [*broken, *check_claims(solution, recomputed, plan_feasible=not broken)]
    return Evaluation(
        instance=instance.name,
        status=solution.status,
        feasible=not violations,
        objective=recomputed.objective,
        costs=recomputed.costs,
        violations=violations,
        reported_objective=solution.objective,
        sites=usage.peak_sites,
        links=usage.peak_links,
        routes=usage.routes,
        services=usage.peak_services,
        notes=notes,
        periods=usage.periods,
        site_steps=usage.site_steps,
        link_steps={
            f"{instance.links[index].a}-{instance.links[index].b}": steps
            for index, steps in usage.link_steps.items()
        },
        jobs=jobs,
        replan=replan,
        expansions=built,
        capacities=capacities,
        capacities_before_expansions=resolve_capacities(instance, horizon, []),
        costs_over_time=costs_over_time(
            instance, lookup, plan, active, replan, built, recomputed.costs.lateness or 0.0
        ),
        first_period_changes=first_period_changes(instance, lookup, plan),
    )


def _zero_costs(instance: Instance) -> CostBreakdown:
    """No costs: v1's parts, and v2's too for a v2 instance."""
    if not instance.is_v2:
        return CostBreakdown()
    return CostBreakdown(**dict.fromkeys(V2_COST_PARTS, 0.0))


def _schema_violations(instance: Instance, solution: Solution) -> list[Violation]:
    """A v1 instance takes a v1 solution, a v2 instance a v2 one (SPEC §12)."""
    expected = SOLUTION_SCHEMA_V2 if instance.is_v2 else SOLUTION_SCHEMA
    if solution.schema_ == expected:
        return []
    return [
        Violation(
            "eligibility",
            "schema",
            1,
            f"solution schema {solution.schema_}, but the instance takes {expected} (SPEC §12)",
        )
    ]


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
