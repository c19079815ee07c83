"""From the compact MIP's column values to a SPEC plan (`plan_solution`), and from a plan to
column values (`start_values`, HiGHS's MIP start)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from models import Solution
from models.solution import SOLUTION_SCHEMA_V2
from solver.costs import plan_costs
from solver.scheduled.costs import plan_costs as v2_plan_costs

if TYPE_CHECKING:
    from models import SolverInfo
    from solver.mip.compact import CompactModel
    from solver.plan import Plan

#: Flows below this many rps (relative to the demand) are read as zero.
FLOW_EPSILON = 1e-9


def plan_solution(model: CompactModel, values: list[float], info: SolverInfo) -> Solution:
    """The plan of rounded integer columns and cleaned flows as a SPEC Solution (status
    `feasible`, no bound), costed by `solver.costs.plan_costs` (v1) or
    `solver.scheduled.costs.plan_costs` (v2, with the chosen expansions)."""
    instance = model.instance
    training = [
        {"job": p.job, "site": p.site, "accelerator": p.accelerator, "count": p.count}
        for y, p in model.placements.items()
        if round(values[y]) == 1
    ]
    placed = {t["job"] for t in training}
    unplaced = sorted(j.id for j in instance.training if not j.required and j.id not in placed)
    replicas: dict[tuple[str, str, str], int] = {}
    for r, option in model.options.items():
        count = round(values[r])
        if count > 0:
            replicas[option.service, option.site, option.accelerator] = count
    routes, unserved = clean_flows(model, values)
    inference = [
        {"service": s, "site": site, "accelerator": a, "replicas": n}
        for (s, site, a), n in sorted(replicas.items())
    ]
    plan = {
        "training": sorted(training, key=lambda t: (t["job"], t["site"], t["accelerator"])),
        "unplaced_training": unplaced,
        "inference": inference,
        "routes": routes,
        "unserved": unserved,
    }
    built = sorted(key for e, key in model.expansions.items() if round(values[e]) == 1)
    v2: dict[str, object] = {}
    if instance.is_v2:
        v2 = {
            "schema": SOLUTION_SCHEMA_V2,
            "expansions": [{"site": s, "expansion": x} for s, x in built],
        }
    draft = Solution.model_validate(
        {
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "status": "feasible",
            "solver": info,
            **plan,
            **v2,
        }
    )
    parts = (draft.training, draft.unplaced_training, draft.inference, draft.routes, draft.unserved)
    if instance.is_v2:
        # Every v2 part (the expansions' among them) as the v2 path prices them.
        costs = v2_plan_costs(instance, *parts, draft.expansions or [])
    else:
        costs = plan_costs(instance, *parts)
    return draft.model_copy(update={"objective": costs.total, "costs": costs})


def clean_flows(
    model: CompactModel, values: list[float]
) -> tuple[list[dict[str, str | float]], list[dict[str, str | float]]]:
    """Routes and unserved demand with every (service, region) summing to its demand exactly:
    flows below FLOW_EPSILON dropped, the rest scaled down if they pass the demand, the
    remainder unserved where priced (else the flows scaled up to the demand)."""
    instance = model.instance
    flows: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for x, pair in model.pairs.items():
        flows[pair.service, pair.region].append((pair.site, values[x]))
    routes: list[tuple[str, str, str, float]] = []
    unserved: list[tuple[str, str, float]] = []
    for service in instance.inference:
        priced = service.unserved_cost_per_rps_hour is not None
        for region, demand in service.demand_rps.items():
            if demand <= 0:
                continue
            kept = [
                (site, rps)
                for site, rps in flows.get((service.id, region), [])
                if rps > FLOW_EPSILON * max(1.0, demand)
            ]
            served = math.fsum(rps for _, rps in kept)
            if served > demand or (not priced and served > 0):
                kept = [(site, rps * demand / served) for site, rps in kept]
                served = math.fsum(rps for _, rps in kept)
            routes.extend((service.id, region, site, rps) for site, rps in kept)
            short = demand - served
            if priced and short > FLOW_EPSILON * max(1.0, demand):
                unserved.append((service.id, region, short))
    return (
        [
            {"service": s, "region": u, "site": site, "rps": rps}
            for s, u, site, rps in sorted(routes)
        ],
        [{"service": s, "region": u, "rps": rps} for s, u, rps in sorted(unserved)],
    )


def start_values(model: CompactModel, plan: Plan) -> list[float]:
    """The column values that state `plan` (a complete SPEC plan of the model's instance):
    HiGHS's MIP start. Decisions the model has no column for are left out."""
    values = [0.0] * len(model.cost)
    placed = {(t.job, t.site, t.accelerator) for t in plan.training}
    for y, p in model.placements.items():
        if (p.job, p.site, p.accelerator) in placed:
            values[y] = 1.0
    placed_jobs = {t.job for t in plan.training}
    for u, job_id in model.unplaced.items():
        values[u] = 0.0 if job_id in placed_jobs else 1.0
    replicas = {(r.service, r.site, r.accelerator): r.replicas for r in plan.inference}
    for r, option in model.options.items():
        count = replicas.get((option.service, option.site, option.accelerator), 0)
        values[r] = min(float(count), model.upper[r])
    flows = {(f.service, f.region, f.site): f.rps for f in plan.routes}
    for x, pair in model.pairs.items():
        values[x] = min(flows.get((pair.service, pair.region, pair.site), 0.0), model.upper[x])
    unserved = {(u.service, u.region): u.rps for u in plan.unserved}
    for w, key in model.unserved.items():
        values[w] = min(unserved.get(key, 0.0), model.upper[w])
    active = {t.site for t in plan.training} | {r.site for r in plan.inference if r.replicas > 0}
    for z, site_id in model.opened.items():
        values[z] = 1.0 if site_id in active else 0.0
    return values
