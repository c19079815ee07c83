"""The float cost of a v2 plan (SPEC §6 as §9-§11 amend it), split into its parts.

Per decision (`placement_moves`, `period_hours`) for the objective's coefficients, and
for a whole plan (`plan_costs`), which is what a plan reports: always recomputed in
float64 from the plan itself, never read back from the scaled integers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from models import CostBreakdown
from models.eligibility import TrainingPlacement
from solver.costs import (
    KB_PER_GB,
    SECONDS_PER_HOUR,
    accelerator_hour_costs,
    replica_size,
    training_costs,
)
from solver.scheduled.variables import current_replicas, current_training

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import (
        ChosenExpansion,
        Instance,
        ReplicaAssignment,
        RouteFlow,
        TrainingAssignment,
        UnservedDemand,
    )

#: The cost parts of a v2 solution, in CostBreakdown's order.
PARTS = (
    "compute",
    "energy",
    "carbon",
    "egress",
    "site_costs",
    "fixed",
    "unserved",
    "unplaced",
    "lateness",
    "moves",
    "replica_starts",
    "expansions",
)


def period_position(instance: Instance, period: str | None) -> int:
    """Position of a plan entry's period (a static instance's entries carry none)."""
    if period is None:
        return 0
    return next(i for i, span in enumerate(instance.schedule.periods) if span.id == period)


def move_cost(instance: Instance, job_id: str, site: str | None, accelerator: str | None) -> float:
    """What placing `job_id` at (site, accelerator) costs in moves (None: unplaced): 0 for a
    job not in `current` or left where it runs; else move_cost, plus the checkpoint's
    egress when it changes site (SPEC §10)."""
    where = current_training(instance).get(job_id)
    if where is None or (site, accelerator) == where:
        return 0.0
    job = instance.training_by_id[job_id]
    cost = job.moving_cost
    if site is not None and site != where[0] and job.checkpoint_size_gb > 0:
        route = instance.paths.route(where[0], site)
        assert route is not None, "a job with a checkpoint moves only where it can reach"
        cost += job.checkpoint_size_gb * route.egress_per_gb
    return cost


def late_hours(instance: Instance, job_id: str, start_hour: int | None) -> float:
    """Hours a job placed at `start_hour` ends after its due hour (SPEC §9)."""
    job = instance.training_by_id[job_id]
    if job.due_hour is None or start_hour is None:
        return 0.0
    return max(0.0, start_hour + job.run_hours - job.due_hour)


def traffic_egress_per_rps_hour(
    instance: Instance, kb_per_request: float, region: str, site: str
) -> float:
    """Egress cost of serving one rps from `region` at `site` for one hour."""
    route = instance.paths.route(region, site)
    assert route is not None, "route pairs are reachable"
    return kb_per_request * SECONDS_PER_HOUR / KB_PER_GB * route.egress_per_gb


def plan_costs(
    instance: Instance,
    training: Sequence[TrainingAssignment],
    unplaced_training: Sequence[str],
    inference: Sequence[ReplicaAssignment],
    routes: Sequence[RouteFlow],
    unserved: Sequence[UnservedDemand],
    expansions: Sequence[ChosenExpansion],
) -> CostBreakdown:
    """The SPEC cost parts of a whole v2 plan, each summed in float64."""
    parts: dict[str, list[float]] = {part: [] for part in PARTS}
    spans = instance.schedule.periods
    placed = set()
    for t in training:
        placed.add(t.job)
        costs = training_costs(instance, TrainingPlacement(t.job, t.site, t.accelerator, t.count))
        for part in ("compute", "energy", "carbon", "egress", "site_costs"):
            parts[part].append(getattr(costs, part))
        job = instance.training_by_id[t.job]
        parts["lateness"].append(job.late_cost * late_hours(instance, t.job, t.start_hour))
        parts["moves"].append(move_cost(instance, t.job, t.site, t.accelerator))
    for job_id in current_training(instance):
        if job_id not in placed:
            parts["moves"].append(move_cost(instance, job_id, None, None))
    replicas: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * len(spans))
    for r in inference:
        if r.replicas <= 0:
            continue
        position = period_position(instance, r.period)
        replicas[r.service, r.site, r.accelerator][position] += r.replicas
        rate = accelerator_hour_costs(instance, r.site, r.accelerator)
        hours = replica_size(instance, r.service, r.accelerator) * spans[position].hours
        hours *= r.replicas
        parts["compute"].append(hours * rate.compute)
        parts["energy"].append(hours * rate.energy)
        parts["carbon"].append(hours * rate.carbon)
    current = current_replicas(instance)
    for group in sorted(set(replicas) | set(current)):
        price = instance.inference_by_id[group[0]].start_cost
        if price <= 0:
            continue
        before = current.get(group, 0)
        for count in replicas.get(group, [0] * len(spans)):
            parts["replica_starts"].append(price * max(0, count - before))
            before = count
    for flow in routes:
        service = instance.inference_by_id[flow.service]
        if service.kb_per_request > 0 and flow.rps > 0:
            hours = spans[period_position(instance, flow.period)].hours
            per_rps = traffic_egress_per_rps_hour(
                instance, service.kb_per_request, flow.region, flow.site
            )
            parts["egress"].append(flow.rps * per_rps * hours)
    for short in unserved:
        price = instance.inference_by_id[short.service].unserved_cost_per_rps_hour or 0.0
        hours = spans[period_position(instance, short.period)].hours
        parts["unserved"].append(short.rps * price * hours)
    parts["unplaced"] = [instance.training_by_id[j].unplaced_cost for j in unplaced_training]
    active = {t.site for t in training} | {r.site for r in inference if r.replicas > 0}
    parts["fixed"] = [instance.site_by_id[s].fixed_cost for s in sorted(active)]
    by_key = {
        (site.id, expansion.id): expansion.cost
        for site in instance.sites
        for expansion in site.expansions or []
    }
    parts["expansions"] = [by_key[x.site, x.expansion] for x in expansions]
    return CostBreakdown(**{part: math.fsum(values) for part, values in parts.items()})
