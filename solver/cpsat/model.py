"""Build the CP-SAT model of an instance, hint it from a plan, and read the plan back."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ortools.sat.python import cp_model

from models import (
    CostBreakdown,
    ReplicaAssignment,
    RouteFlow,
    TrainingAssignment,
    UnservedDemand,
)
from solver.cpsat.constraints import ModelNotes, add_constraints
from solver.cpsat.objective import ObjectiveTerms, cost_estimates, objective_terms, set_objective
from solver.cpsat.scaling import CostScale, ScalingWarning
from solver.cpsat.variables import PlanVariables, create_variables
from solver.plan import Plan

#: Flow values (in rps units) below this are read as zero.
FLOW_ZERO = 1e-9

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance


@dataclass
class BuiltModel:
    """A CP-SAT model with its variables, float objective, cost scale and notes."""

    model: cp_model.CpModel
    variables: PlanVariables
    objective: ObjectiveTerms
    scale: CostScale
    notes: ModelNotes
    build_s: float

    @property
    def exact(self) -> bool:
        """Whether the restricted model rounded nothing towards the tighter side (its
        rows are the SPEC's on the rps grid); a restricted model's bound is never a
        claim all the same (see `proves`)."""
        return not self.notes.inexact

    @property
    def proves(self) -> bool:
        """Whether the model is the widened one: every SPEC plan, to the SPEC's tolerance,
        is one of its plans, so CP-SAT's bound and infeasibility are proofs about the
        SPEC, and its plans are not SPEC plans until checked."""
        return self.notes.widened

    @property
    def relaxed(self) -> bool:
        """Whether some rows are looser than the SPEC's, so plans need their flows polished."""
        return bool(self.notes.relaxed)

    def continuous(self) -> set[int]:
        """Indices of the flow and unserved-demand variables (continuous in an LP/MIP)."""
        return {v.index for v in self.variables.flow.values()} | {
            v.index for v in self.variables.unserved.values()
        }


def build_model(
    instance: Instance,
    *,
    relax_bandwidth: bool = True,
    elastic: bool = False,
    widened: bool = False,
    fine_units: bool = False,
) -> BuiltModel:
    """Variables, constraints and objective of `instance`, in deterministic order.

    The restricted model (the default) rounds every row towards the tighter side, so
    that its plans are SPEC plans (once their flows fit the exact link rows: with
    `relax_bandwidth`, the default, link rows carrying traffic get the grid rounding
    allowance; without it they are stated exactly on the grid). With `widened`, every
    row is a relaxation of the SPEC's to its tolerance, so that CP-SAT's bound and
    infeasibility are proofs (docs/formulation.md, "Two models"); with `fine_units` too,
    every service's rps are counted on a unit finer than the tolerance, which makes the
    link rows' grid allowance negligible (slower to search). With `elastic`,
    required work may be left out at a penalty (see `create_variables`)."""
    start = time.perf_counter()
    model = cp_model.CpModel()
    model.name = instance.name
    variables = create_variables(
        model, instance, elastic=elastic, widened=widened, fine=widened and fine_units
    )
    notes = add_constraints(
        model, instance, variables, relax_bandwidth=relax_bandwidth or widened, widened=widened
    )
    objective = objective_terms(instance, variables)
    low, high, units = cost_estimates(instance, variables, objective)
    costs = [cost for _, cost in objective.per_variable().values()]
    with warnings.catch_warnings():
        if widened:
            # The restricted model of the same instance says it once; a coarser scale
            # here only weakens the bound (coefficients round down either way).
            warnings.simplefilter("ignore", ScalingWarning)
        scale = CostScale.choose(low, high, units, costs)
    set_objective(model, objective, scale)
    return BuiltModel(model, variables, objective, scale, notes, time.perf_counter() - start)


class PlanLike(Protocol):
    """Anything that lists a plan's decisions: a Solution or a Plan."""

    @property
    def training(self) -> Sequence[TrainingAssignment]: ...
    @property
    def inference(self) -> Sequence[ReplicaAssignment]: ...
    @property
    def routes(self) -> Sequence[RouteFlow]: ...
    @property
    def unserved(self) -> Sequence[UnservedDemand]: ...


def add_hint(built: BuiltModel, plan: PlanLike) -> int:
    """Hint every variable from a previous plan (possibly of an edited instance).

    Variables the plan does not mention are hinted 0, so the hint is complete;
    decisions of the plan with no variable in this model are skipped. Returns
    how many variables received a non-zero hint.
    """
    model, variables = built.model, built.variables
    model.clear_hints()
    values = plan_values(built, plan)
    for var in _all_variables(variables):
        model.add_hint(var, values.get(var.index, 0))
    for total, terms in variables.totals:
        model.add_hint(total, sum(coef * values.get(var.index, 0) for var, coef in terms))
    return sum(1 for v in values.values() if v)


def hint_solution(built: BuiltModel, solution_values: Sequence[float]) -> None:
    """Hint every variable with its value in a solution of this model (a CP-SAT response's
    values, one per variable), replacing the hint there was."""
    model = built.model
    model.clear_hints()
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(solution_values)))
    hint.values.extend(round(value) for value in solution_values)


def plan_values(built: BuiltModel, plan: PlanLike) -> dict[int, int]:
    """The decision variables' values that state `plan`, by variable index (variables the
    plan does not mention are left out: their value is 0)."""
    variables = built.variables
    values: dict[int, int] = {}
    placed = {(t.job, t.site, t.accelerator) for t in plan.training}
    for placement, var in variables.placement.items():
        if (placement.job, placement.site, placement.accelerator) in placed:
            values[var.index] = 1
    placed_jobs = {t.job for t in plan.training}
    for job_id, var in variables.unplaced.items():
        values[var.index] = 0 if job_id in placed_jobs else 1
    replicas = {(r.service, r.site, r.accelerator): r.replicas for r in plan.inference}
    for option, var in variables.replicas.items():
        count = replicas.get((option.service, option.site, option.accelerator), 0)
        values[var.index] = min(count, variables.replica_bound[option])
    flows = {(f.service, f.region, f.site): f.rps for f in plan.routes}
    for pair, var in variables.flow.items():
        rps = flows.get((pair.service, pair.region, pair.site), 0.0)
        values[var.index] = round(rps / variables.units[pair.service].unit)
    unserved = {(u.service, u.region): u.rps for u in plan.unserved}
    for key, var in variables.unserved.items():
        values[var.index] = round(unserved.get(key, 0.0) / variables.units[key[0]].unit)
    active = {t.site for t in plan.training} | {r.site for r in plan.inference if r.replicas > 0}
    for site_id, var in variables.site_active.items():
        values[var.index] = 1 if site_id in active else 0
    return values


def _all_variables(variables: PlanVariables) -> list[cp_model.IntVar]:
    return [
        *variables.placement.values(),
        *variables.unplaced.values(),
        *variables.replicas.values(),
        *variables.flow.values(),
        *variables.unserved.values(),
        *variables.site_active.values(),
    ]


def extract_plan(built: BuiltModel, solution_values: Sequence[float]) -> Plan:
    """The plan held by variable values indexed by variable index (from CP-SAT, or from
    the flow-polishing LP, where flows are continuous)."""
    variables = built.variables
    integral = {v.index for v in _all_variables(variables)} - {
        v.index for v in (*variables.flow.values(), *variables.unserved.values())
    }

    def value(var: cp_model.IntVar) -> float:
        raw = float(solution_values[var.index])
        if var.index in integral:
            return round(raw)
        return raw if raw > FLOW_ZERO else 0.0

    training = sorted(
        (
            TrainingAssignment(job=p.job, site=p.site, accelerator=p.accelerator, count=p.count)
            for p, var in variables.placement.items()
            if value(var)
        ),
        key=lambda t: (t.job, t.site, t.accelerator),
    )
    placed = {t.job for t in training}
    inference = sorted(
        (
            ReplicaAssignment(
                service=o.service, site=o.site, accelerator=o.accelerator, replicas=int(value(var))
            )
            for o, var in variables.replicas.items()
            if value(var)
        ),
        key=lambda r: (r.service, r.site, r.accelerator),
    )
    routes = sorted(
        (
            RouteFlow(
                service=p.service,
                region=p.region,
                site=p.site,
                rps=variables.units[p.service].rps(value(var)),
            )
            for p, var in variables.flow.items()
            if value(var)
        ),
        key=lambda f: (f.service, f.region, f.site),
    )
    unserved = sorted(
        (
            UnservedDemand(service=s, region=u, rps=variables.units[s].rps(value(var)))
            for (s, u), var in variables.unserved.items()
            if value(var)
        ),
        key=lambda w: (w.service, w.region),
    )
    values = {var.index: value(var) for var, _, _ in built.objective.terms}
    costs = CostBreakdown(**built.objective.breakdown(values))
    return Plan(
        training=training,
        unplaced_training=sorted(
            job_id for job_id, var in variables.unplaced.items() if job_id not in placed
        ),
        inference=inference,
        routes=routes,
        unserved=unserved,
        costs=costs,
        uses_slack=variables.uses_slack(value),
    )
