"""The objective of SPEC §9-§11 as float coefficients per variable (v1's ObjectiveTerms),
and the cost scale that turns them into CP-SAT's rounded-down integers."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from solver.costs import accelerator_hour_costs, training_costs
from solver.cpsat.objective import ObjectiveTerms
from solver.cpsat.scaling import CostScale
from solver.scheduled.costs import move_cost, traffic_egress_per_rps_hour

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import IntVar

    from models import Instance
    from solver.scheduled.variables import ScheduledVariables


def objective_terms(instance: Instance, variables: ScheduledVariables) -> ObjectiveTerms:
    """Float cost of one unit of every variable, split into SPEC parts."""
    objective = ObjectiveTerms()
    spans = instance.schedule.periods
    for placement, var in variables.placement.items():
        costs = training_costs(instance, placement)
        objective.add(var, "compute", costs.compute)
        objective.add(var, "energy", costs.energy)
        objective.add(var, "carbon", costs.carbon)
        objective.add(var, "egress", costs.egress)
        objective.add(var, "site_costs", costs.site_costs)
        moved = move_cost(instance, placement.job, placement.site, placement.accelerator)
        objective.add(var, "moves", moved)
    for job_id, var in variables.unplaced.items():
        objective.add(var, "unplaced", instance.training_by_id[job_id].unplaced_cost)
        objective.add(var, "moves", move_cost(instance, job_id, None, None))
    for job_id, var in variables.late.items():
        objective.add(var, "lateness", instance.training_by_id[job_id].late_cost)
    for position, view in enumerate(variables.periods):
        hours = spans[position].hours
        for option, var in view.replicas.items():
            rate = accelerator_hour_costs(instance, option.site, option.accelerator)
            replica_hours = option.per_replica * hours
            objective.add(var, "compute", replica_hours * rate.compute)
            objective.add(var, "energy", replica_hours * rate.energy)
            objective.add(var, "carbon", replica_hours * rate.carbon)
        for pair, var in view.flow.items():
            service = instance.inference_by_id[pair.service]
            if service.kb_per_request > 0:
                per_rps = traffic_egress_per_rps_hour(
                    instance, service.kb_per_request, pair.region, pair.site
                )
                objective.add(var, "egress", per_rps * hours * view.units[pair.service].unit)
        for (service_id, _), var in view.unserved.items():
            price = instance.inference_by_id[service_id].unserved_cost_per_rps_hour
            assert price is not None
            objective.add(var, "unserved", price * hours * view.units[service_id].unit)
    for (option, _), var in variables.starts.items():
        objective.add(var, "replica_starts", instance.inference_by_id[option.service].start_cost)
    for site_id, var in variables.site_active.items():
        objective.add(var, "fixed", instance.site_by_id[site_id].fixed_cost)
    prices = {
        (site.id, expansion.id): expansion.cost
        for site in instance.sites
        for expansion in site.expansions or []
    }
    for key, var in variables.expansion.items():
        objective.add(var, "expansions", prices[key])
    return objective


def cost_scale(
    instance: Instance, variables: ScheduledVariables, objective: ObjectiveTerms
) -> CostScale:
    """v1's cost scale (`CostScale.choose`) from rough sizes of the optimum: per job its
    cheapest and dearest way (lateness at its most), per service and period its demand
    at the cheapest and dearest rps (egress and unserved included), and every fixed cost,
    start and expansion in the high one."""
    totals = objective.per_variable()

    def cost(var: IntVar) -> float:
        entry = totals.get(var.index)
        return entry[1] if entry else 0.0

    low = high = units = 0.0
    by_job = variables.placements_by_job()
    for job in instance.training:
        ways = [cost(var) for _, var in by_job.get(job.id, [])]
        if job.id in variables.unplaced:
            ways.append(cost(variables.unplaced[job.id]))
        if ways:
            low += min(ways) if job.required else 0.0
            high += max(ways)
        late = variables.late.get(job.id)
        if late is not None:
            high += cost(late) * late.proto.domain[-1]
            units += late.proto.domain[-1]
        units += 1.0
    for view in variables.periods:
        unserved_of: dict[str, list[float]] = defaultdict(list)
        for (service_id, _), var in view.unserved.items():
            unserved_of[service_id].append(cost(var))
        egress_of: dict[str, list[float]] = defaultdict(list)
        for pair, var in view.flow.items():
            egress_of[pair.service].append(cost(var))
        by_service: dict[str, list[float]] = defaultdict(list)
        most_replica: dict[str, float] = defaultdict(float)
        for option, var in view.replicas.items():
            by_service[option.service].append(cost(var) / option.rps)
            most_replica[option.service] = max(most_replica[option.service], cost(var))
            units += 2 * view.replica_bound[option]
        for service_id, service_units in view.units.items():
            demand = sum(service_units.demand_units.values()) * service_units.unit
            per_rps = by_service.get(service_id, [0.0])
            unserved = [c / service_units.unit for c in unserved_of.get(service_id, [])]
            egress = [c / service_units.unit for c in egress_of.get(service_id, [])]
            low += demand * min([*per_rps, *unserved])
            high += demand * (max(per_rps) + max(egress, default=0.0) + max(unserved, default=0.0))
            high += most_replica[service_id]
            units += 2 * sum(service_units.demand_units.values())
    for var in (*variables.starts.values(), *variables.site_active.values()):
        high += cost(var) * var.proto.domain[-1]
        units += var.proto.domain[-1]
    for var in variables.expansion.values():
        high += cost(var)
        units += 1.0
    costs = [c for _, c in totals.values()]
    return CostScale.choose(low, max(high, low), units, costs)
