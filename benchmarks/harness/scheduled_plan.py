"""The scheduled MIP peer's plan as an `infraplan-solution/v2` Solution (SPEC §9, §12).

Integer columns are read rounded; flows and unserved demand per (service, region, period) are
cleaned to sum to that period's demand exactly (as the compact peer does); every cost part is
computed from the plan itself in float64, with hours_p for the per-period terms.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models import CostBreakdown, Solution
from models.solution import SOLUTION_SCHEMA_V2
from solver.costs import (
    KB_PER_GB,
    SECONDS_PER_HOUR,
    accelerator_hour_costs,
    training_costs,
)

if TYPE_CHECKING:
    from benchmarks.harness.scheduled_mip import ScheduledModel
    from models import Instance, SolverInfo
    from models.eligibility import TrainingPlacement

#: Flows below this many rps (relative to the demand) are read as zero.
FLOW_EPSILON = 1e-9


@dataclass(frozen=True)
class StartColumn:
    """A start column: the placement, its start hour and the lateness it pays."""

    placement: TrainingPlacement
    start: int
    lateness: float


def scheduled_solution(model: ScheduledModel, values: list[float], info: SolverInfo) -> Solution:
    """The plan of rounded integer columns and cleaned flows, status `feasible`, no bound."""
    instance = model.instance
    periods = instance.schedule.periods
    # A placement starts at its first candidate whose step column is 1.
    chosen = [
        next(column for x, column in steps if round(values[x]) == 1)
        for steps in model.steps
        if round(values[steps[-1][0]]) == 1
    ]
    training = [
        {
            "job": c.placement.job,
            "site": c.placement.site,
            "accelerator": c.placement.accelerator,
            "count": c.placement.count,
            "start_hour": c.start,
        }
        for c in sorted(chosen, key=lambda c: (c.placement.job, c.placement.site))
    ]
    placed = {c.placement.job for c in chosen}
    unplaced = sorted(j.id for j in instance.training if not j.required and j.id not in placed)
    # replicas[service, site, accelerator][p]
    replicas: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
    for r, (option, p) in model.period_replicas.items():
        count = round(values[r])
        if count > 0:
            replicas[option.service, option.site, option.accelerator][p] = count
    inference = [
        {"service": s, "site": site, "accelerator": a, "replicas": n, "period": periods[p].id}
        for (s, site, a), by_period in sorted(replicas.items())
        for p, n in sorted(by_period.items())
    ]
    routes, unserved = _clean_flows(model, values)
    built = sorted(key for e, key in model.expansions.items() if round(values[e]) == 1)
    costs = _costs(instance, chosen, unplaced, replicas, routes, unserved, built)
    return Solution.model_validate(
        {
            "schema": SOLUTION_SCHEMA_V2,
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "status": "feasible",
            "objective": costs.total,
            "training": training,
            "unplaced_training": unplaced,
            "inference": inference,
            "routes": [
                {"service": s, "region": u, "site": site, "rps": rps, "period": periods[p].id}
                for s, u, site, p, rps in routes
            ],
            "unserved": [
                {"service": s, "region": u, "rps": rps, "period": periods[p].id}
                for s, u, p, rps in unserved
            ],
            "expansions": [{"site": site, "expansion": x} for site, x in built],
            "costs": costs,
            "solver": info,
        }
    )


def _clean_flows(
    model: ScheduledModel, values: list[float]
) -> tuple[list[tuple[str, str, str, int, float]], list[tuple[str, str, int, float]]]:
    """Routes (service, region, site, period, rps) and unserved (service, region, period, rps),
    sorted, each (service, region, period) summing to its demand exactly: flows below
    FLOW_EPSILON dropped, the rest scaled down if they pass the demand, the remainder unserved
    where priced (else the flows scaled up to the demand)."""
    instance = model.instance
    schedule = instance.schedule
    flows: dict[tuple[str, str, int], list[tuple[str, float]]] = defaultdict(list)
    for x, (pair, p) in model.period_routes.items():
        flows[pair.service, pair.region, p].append((pair.site, values[x]))
    routes: list[tuple[str, str, str, int, float]] = []
    unserved: list[tuple[str, str, int, float]] = []
    for service in instance.inference:
        priced = service.unserved_cost_per_rps_hour is not None
        for p, demand_map in enumerate(schedule.demand[service.id]):
            for region, demand in demand_map.items():
                if demand <= 0:
                    continue
                kept = [
                    (site, rps)
                    for site, rps in flows.get((service.id, region, p), [])
                    if rps > FLOW_EPSILON * max(1.0, demand)
                ]
                served = math.fsum(rps for _, rps in kept)
                if served > demand or (not priced and served > 0):
                    kept = [(site, rps * demand / served) for site, rps in kept]
                    served = math.fsum(rps for _, rps in kept)
                routes.extend((service.id, region, site, p, rps) for site, rps in kept)
                short = demand - served
                if priced and short > FLOW_EPSILON * max(1.0, demand):
                    unserved.append((service.id, region, p, short))
    return sorted(routes), sorted(unserved)


def _costs(
    instance: Instance,
    chosen: list[StartColumn],
    unplaced: list[str],
    replicas: dict[tuple[str, str, str], dict[int, int]],
    routes: list[tuple[str, str, str, int, float]],
    unserved: list[tuple[str, str, int, float]],
    built: list[tuple[str, str]],
) -> CostBreakdown:
    """SPEC §9's objective (with §10's replica starts and §11's expansions, `built` as
    (site, expansion id)) split into §7 and §12 parts."""
    periods = instance.schedule.periods
    parts: dict[str, list[float]] = defaultdict(list)
    for c in chosen:
        costs = training_costs(instance, c.placement)
        for part in ("compute", "energy", "carbon", "egress", "site_costs"):
            parts[part].append(getattr(costs, part))
        parts["lateness"].append(c.lateness)
    for (service_id, site, accelerator), by_period in replicas.items():
        service = instance.inference_by_id[service_id]
        size = next(x.per_replica for x in service.profiles if x.accelerator == accelerator)
        rate = accelerator_hour_costs(instance, site, accelerator)
        before = 0
        for p, span in enumerate(periods):
            count = by_period.get(p, 0)
            hours = count * size * span.hours
            parts["compute"].append(hours * rate.compute)
            parts["energy"].append(hours * rate.energy)
            parts["carbon"].append(hours * rate.carbon)
            parts["replica_starts"].append(service.start_cost * max(0, count - before))
            before = count
    for service_id, region, site, p, rps in routes:
        kb = instance.inference_by_id[service_id].kb_per_request
        route = instance.paths.route(region, site)
        if kb > 0 and route is not None:
            gb = rps * kb * SECONDS_PER_HOUR * periods[p].hours / KB_PER_GB
            parts["egress"].append(gb * route.egress_per_gb)
    for service_id, _, p, rps in unserved:
        price = instance.inference_by_id[service_id].unserved_cost_per_rps_hour or 0.0
        parts["unserved"].append(rps * price * periods[p].hours)
    parts["unplaced"] = [instance.training_by_id[j].unplaced_cost for j in unplaced]
    cost_of = {(site.id, x.id): x.cost for site in instance.sites for x in site.expansions or []}
    parts["expansions"] = [cost_of[key] for key in built]
    active = {c.placement.site for c in chosen} | {site for _, site, _ in replicas}
    parts["fixed"] = [instance.site_by_id[s].fixed_cost for s in sorted(active)]
    names: tuple[str, ...] = (
        *("compute", "energy", "carbon", "egress", "site_costs", "fixed", "unserved"),
        *("unplaced", "lateness", "moves", "replica_starts", "expansions"),
    )
    totals: dict[str, Any] = {name: math.fsum(parts.get(name, [])) for name in names}
    return CostBreakdown(**totals)
