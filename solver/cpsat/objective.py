"""The objective of SPEC section 6 as float coefficients per variable, and its integer form.

`ObjectiveTerms` keeps every variable's cost split into SPEC parts in float64; the
CP-SAT objective uses the same coefficients scaled and rounded down
(`solver.cpsat.scaling.CostScale`), and the plan's reported costs are recomputed
from the float coefficients and the plan's values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from solver.costs import replica_costs, traffic_egress_per_rps, training_costs

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import CpModel, IntVar

    from models import Instance
    from solver.cpsat.scaling import CostScale
    from solver.cpsat.variables import PlanVariables


#: Objective part of elastic slack; not a SPEC cost part.
PENALTY = "penalty"
#: How far above the dearest real option elastic slack is priced.
PENALTY_FACTOR = 10.0


@dataclass
class ObjectiveTerms:
    """Per variable (by name of its SPEC part), the float cost of one unit of the variable."""

    terms: list[tuple[IntVar, str, float]] = field(default_factory=list)
    constant: float = 0.0
    _totals: dict[int, tuple[IntVar, float]] | None = field(default=None, repr=False)

    def add(self, var: IntVar, part: str, cost: float) -> None:
        """Record `cost` per unit of `var` in SPEC part `part` (zero costs are left out)."""
        if cost != 0.0:
            self.terms.append((var, part, cost))
            self._totals = None

    def per_variable(self) -> dict[int, tuple[IntVar, float]]:
        """Total float cost per unit of each variable, by variable index (cached until the
        next `add`)."""
        if self._totals is None:
            totals: dict[int, tuple[IntVar, float]] = {}
            for var, _, cost in self.terms:
                previous = totals.get(var.index)
                totals[var.index] = (var, cost + (previous[1] if previous else 0.0))
            self._totals = totals
        return self._totals

    def breakdown(self, value_of: dict[int, float]) -> dict[str, float]:
        """Cost per SPEC part for the given variable values (by variable index)."""
        parts: dict[str, list[float]] = defaultdict(list)
        for var, part, cost in self.terms:
            if part == PENALTY:
                continue
            units = value_of.get(var.index, 0)
            if units:
                parts[part].append(cost * units)
        return {part: math.fsum(values) for part, values in parts.items()}


def objective_terms(instance: Instance, variables: PlanVariables) -> ObjectiveTerms:
    """Float cost coefficients of every variable, split into SPEC parts."""
    objective = ObjectiveTerms()
    for placement, var in variables.placement.items():
        costs = training_costs(instance, placement)
        objective.add(var, "compute", costs.compute)
        objective.add(var, "energy", costs.energy)
        objective.add(var, "carbon", costs.carbon)
        objective.add(var, "egress", costs.egress)
        objective.add(var, "site_costs", costs.site_costs)
    for option, var in variables.replicas.items():
        costs = replica_costs(instance, option)
        objective.add(var, "compute", costs.compute)
        objective.add(var, "energy", costs.energy)
        objective.add(var, "carbon", costs.carbon)
    for pair, var in variables.flow.items():
        service = instance.inference_by_id[pair.service]
        if service.kb_per_request > 0:
            per_rps = traffic_egress_per_rps(
                instance, service.kb_per_request, pair.region, pair.site
            )
            objective.add(var, "egress", per_rps * variables.units[pair.service].unit)
    penalties = (
        _elastic_penalties(instance, variables, objective)
        if variables.elastic_unplaced or variables.elastic_unserved
        else {}
    )
    for (service_id, region), var in variables.unserved.items():
        service = instance.inference_by_id[service_id]
        unit = variables.units[service_id].unit
        if (service_id, region) in variables.elastic_unserved:
            objective.add(var, PENALTY, penalties[service_id] * unit)
        else:
            assert service.unserved_cost_per_rps_hour is not None
            per_rps = service.unserved_cost_per_rps_hour * instance.horizon_hours
            objective.add(var, "unserved", per_rps * unit)
    for job_id, var in variables.unplaced.items():
        if job_id in variables.elastic_unplaced:
            objective.add(var, PENALTY, penalties[job_id])
        else:
            objective.add(var, "unplaced", instance.training_by_id[job_id].unplaced_cost)
    for site_id, var in variables.site_active.items():
        objective.add(var, "fixed", instance.site_by_id[site_id].fixed_cost)
    return objective


def _elastic_penalties(
    instance: Instance, variables: PlanVariables, objective: ObjectiveTerms
) -> dict[str, float]:
    """Penalty per unplaced required job and per unserved must-serve rps: well above the
    dearest way of doing the work, fixed costs of every site it could use included."""
    totals = objective.per_variable()

    def cost(var: IntVar) -> float:
        entry = totals.get(var.index)
        return entry[1] if entry else 0.0

    fixed = {s.id: s.fixed_cost for s in instance.sites}
    penalties: dict[str, float] = {}
    for job_id, choices in variables.placements_by_job().items():
        if job_id in variables.elastic_unplaced:
            dearest = max((cost(var) for _, var in choices), default=0.0)
            sites = sum(fixed[p.site] for p, _ in choices)
            penalties[job_id] = PENALTY_FACTOR * (dearest + sites) + 1.0
    for job_id in variables.elastic_unplaced - penalties.keys():
        penalties[job_id] = 1.0
    elastic_services = {service for service, _ in variables.elastic_unserved}
    replicas = variables.replicas_by_service()
    flows = variables.flows_by_service()
    for service_id in elastic_services:
        options = replicas.get(service_id, [])
        per_rps = max((cost(var) / option.rps for option, var in options), default=0.0)
        unit = variables.units[service_id].unit
        egress = max((cost(var) / unit for _, var in flows.get(service_id, [])), default=0.0)
        demand = sum(instance.inference_by_id[service_id].demand_rps.values())
        sites = sum(fixed[s] for s in {option.site for option, _ in options})
        penalties[service_id] = PENALTY_FACTOR * (per_rps + egress + sites / max(demand, 1.0))
        penalties[service_id] += 1.0
    return penalties


def cost_estimates(
    instance: Instance, variables: PlanVariables, objective: ObjectiveTerms
) -> tuple[float, float, float]:
    """(low, high, units): rough lower and upper sizes of the optimum and the most
    variable units a plan can use, to choose the cost scale."""
    low = high = 0.0
    totals = objective.per_variable()

    def cost(var: IntVar) -> float:
        entry = totals.get(var.index)
        return entry[1] if entry else 0.0

    by_job = variables.placements_by_job()
    for job in instance.training:
        costs = [cost(var) for _, var in by_job.get(job.id, [])]
        if job.id in variables.unplaced and job.id not in variables.elastic_unplaced:
            costs.append(cost(variables.unplaced[job.id]))
        if costs:
            low += min(costs)
            high += max(costs)
    units = float(len(instance.training) + len(variables.site_active))
    replicas = variables.replicas_by_service()
    for service in instance.inference:
        demand = sum(rps for rps in service.demand_rps.values() if rps > 0)
        per_rps = [cost(var) / option.rps for option, var in replicas.get(service.id, [])]
        if per_rps:
            low += demand * min(per_rps)
            high += demand * max(per_rps) + max(cost(v) for _, v in replicas[service.id])
            slowest = min(option.rps for option, _ in replicas[service.id])
            units += 2 * (1 + demand / slowest)
        if service.unserved_cost_per_rps_hour is not None:
            high += demand * service.unserved_cost_per_rps_hour * instance.horizon_hours
        units += demand / variables.units[service.id].unit
    high += sum(cost(v) for v in variables.site_active.values())
    return low, max(high, low), units


def set_objective(model: CpModel, objective: ObjectiveTerms, scale: CostScale) -> None:
    """Minimise the scaled, rounded-down objective."""
    totals = objective.per_variable()
    ordered = [totals[index] for index in sorted(totals)]
    model.minimize(
        cp_model.LinearExpr.weighted_sum(
            [var for var, _ in ordered], [scale.down(cost) for _, cost in ordered]
        )
    )
