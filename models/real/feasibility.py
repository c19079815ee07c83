"""A greedy plan that proves a real instance feasible before it is written.

The builder asserts that every required training job is placed and every demand
that may not be dropped is served by this plan, within inventory, grid power,
cooling, SLOs and n+1. The plan is not meant to be good, only valid; tests feed
it to the independent evaluator as a second check.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.solution import (
    ReplicaAssignment,
    RouteFlow,
    Solution,
    SolverInfo,
    TrainingAssignment,
    UnservedDemand,
)

if TYPE_CHECKING:
    from models import Instance, ReplicaOption

#: Headroom kept below every power and cooling limit so that rounding can never bite.
SLACK = 1e-6


class InfeasibleInstance(ValueError):
    """The greedy plan could not place a required job or serve required demand."""


@dataclass
class GreedyPlan:
    """A feasible plan: placements, replicas, routes, and what was left out."""

    training: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)
    replicas: dict[tuple[str, str, str], int] = field(default_factory=dict)
    routes: dict[tuple[str, str, str], float] = field(default_factory=dict)
    unserved: dict[tuple[str, str], float] = field(default_factory=dict)
    it_kw: dict[str, float] = field(default_factory=dict)


class _Capacity:
    """What is left of each site's inventory, grid power and cooling."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.used: dict[tuple[str, str], int] = defaultdict(int)
        self.it_kw: dict[str, float] = defaultdict(float)
        self.cooled_kw: dict[tuple[str, str], float] = defaultdict(float)

    def max_units(self, site_id: str, accelerator_id: str, unit: int) -> int:
        """How many groups of `unit` accelerators still fit at a site."""
        item = self.instance.inventory_by_pair.get((site_id, accelerator_id))
        if item is None:
            return 0
        site = self.instance.site_by_id[site_id]
        accelerator = self.instance.accelerator_by_id[accelerator_id]
        by_inventory = (item.count - self.used[site_id, accelerator_id]) // unit
        power_left = site.grid_kw / site.pue - self.it_kw[site_id] - SLACK
        by_power = math.floor(power_left / (accelerator.power_kw * unit))
        limit = site.cooling_limit_kw(accelerator.cooling)
        by_cooling = by_inventory
        if limit is not None:
            cooling_left = limit - self.cooled_kw[site_id, accelerator.cooling] - SLACK
            by_cooling = math.floor(cooling_left / (accelerator.power_kw * unit))
        return max(0, min(by_inventory, by_power, by_cooling))

    def take(self, site_id: str, accelerator_id: str, count: int) -> None:
        """Use `count` accelerators at a site."""
        accelerator = self.instance.accelerator_by_id[accelerator_id]
        self.used[site_id, accelerator_id] += count
        self.it_kw[site_id] += accelerator.power_kw * count
        self.cooled_kw[site_id, accelerator.cooling] += accelerator.power_kw * count


def rate(instance: Instance, site_id: str, accelerator_id: str) -> float:
    """SPEC rate(s, a): price of one accelerator-hour with its energy and carbon."""
    site = instance.site_by_id[site_id]
    accelerator = instance.accelerator_by_id[accelerator_id]
    item = instance.inventory_by_pair[site_id, accelerator_id]
    per_kwh = (
        site.energy_price_per_kwh + site.carbon_g_per_kwh * instance.carbon_price_per_tonne / 1e6
    )
    return item.hourly_cost + accelerator.power_kw * site.pue * per_kwh


def _place_training(
    instance: Instance, capacity: _Capacity, plan: GreedyPlan, job_ids: list[str]
) -> None:
    for job_id in job_ids:
        job = instance.training_by_id[job_id]
        placements = sorted(
            instance.eligibility.training[job_id],
            key=lambda p: (p.count * rate(instance, p.site, p.accelerator), p.site, p.accelerator),
        )
        for placement in placements:
            if capacity.max_units(placement.site, placement.accelerator, placement.count) >= 1:
                capacity.take(placement.site, placement.accelerator, placement.count)
                plan.training[job_id] = (placement.site, placement.accelerator, placement.count)
                break
        else:
            if job.required:
                raise InfeasibleInstance(f"{instance.name}: no room for required job {job_id}")
            plan.unplaced.append(job_id)


def _cost_per_rps(instance: Instance, option: ReplicaOption) -> float:
    return rate(instance, option.site, option.accelerator) * option.per_replica / option.rps


def _add_replicas(
    capacity: _Capacity,
    plan: GreedyPlan,
    spare: dict[str, float],
    option: ReplicaOption,
    wanted: int,
) -> int:
    fit = min(wanted, capacity.max_units(option.site, option.accelerator, option.per_replica))
    if fit > 0:
        capacity.take(option.site, option.accelerator, fit * option.per_replica)
        key = (option.service, option.site, option.accelerator)
        plan.replicas[key] = plan.replicas.get(key, 0) + fit
        spare[option.site] += fit * option.rps
    return fit


def _serve(instance: Instance, capacity: _Capacity, plan: GreedyPlan, service_id: str) -> None:
    service = instance.inference_by_id[service_id]
    options = sorted(
        instance.eligibility.replicas[service_id],
        key=lambda o: (_cost_per_rps(instance, o), o.site, o.accelerator),
    )
    sites_of_region: dict[str, set[str]] = defaultdict(set)
    for pair in instance.eligibility.routes[service_id]:
        sites_of_region[pair.region].add(pair.site)
    spare: dict[str, float] = defaultdict(float)
    # Heavy and far-off metros first; ties by id keep the plan reproducible.
    for region, demand in sorted(service.demand_rps.items(), key=lambda kv: (-kv[1], kv[0])):
        left = demand
        near = sites_of_region[region]
        for site_id in sorted(near, key=lambda s: -spare[s]):
            take = min(left, spare[site_id])
            if take > 0:
                spare[site_id] -= take
                key = (service_id, region, site_id)
                plan.routes[key] = plan.routes.get(key, 0.0) + take
                left -= take
        for option in options:
            if left <= 0:
                break
            if option.site not in near:
                continue
            if _add_replicas(capacity, plan, spare, option, math.ceil(left / option.rps)) == 0:
                continue
            take = min(left, spare[option.site])
            spare[option.site] -= take
            key = (service_id, region, option.site)
            plan.routes[key] = plan.routes.get(key, 0.0) + take
            left -= take
        if left > 0:
            if service.unserved_cost_per_rps_hour is None:
                raise InfeasibleInstance(
                    f"{instance.name}: {service_id} cannot serve {left:g} rps from {region}"
                )
            plan.unserved[service_id, region] = left
    if service.resilience == "n+1":
        _cover_failures(instance, capacity, plan, service_id, options)


def _cover_failures(
    instance: Instance,
    capacity: _Capacity,
    plan: GreedyPlan,
    service_id: str,
    options: list[ReplicaOption],
) -> None:
    served = sum(rps for (s, _, _), rps in plan.routes.items() if s == service_id)
    scratch: dict[str, float] = defaultdict(float)
    while True:
        by_domain: dict[str, float] = defaultdict(float)
        for (s, site_id, accelerator_id), count in plan.replicas.items():
            if s == service_id:
                rps = next(
                    o.rps for o in options if (o.site, o.accelerator) == (site_id, accelerator_id)
                )
                by_domain[instance.site_by_id[site_id].domain] += count * rps
        total = sum(by_domain.values())
        worst = max(by_domain, key=lambda d: (by_domain[d], d)) if by_domain else ""
        if total - by_domain.get(worst, 0.0) >= served:
            return
        for option in options:
            if instance.site_by_id[option.site].domain != worst and _add_replicas(
                capacity, plan, scratch, option, 1
            ):
                break
        else:
            raise InfeasibleInstance(f"{instance.name}: no spare capacity for n+1 of {service_id}")


def greedy_plan(instance: Instance) -> GreedyPlan:
    """Place required training (biggest first), serve demand (tight SLOs first), then place
    optional training where room is left."""
    capacity = _Capacity(instance)
    plan = GreedyPlan()

    def size(job_id: str) -> float:
        job = instance.training_by_id[job_id]
        return max(
            o.count * instance.accelerator_by_id[o.accelerator].power_kw for o in job.options
        )

    required = [j.id for j in instance.training if j.required]
    big = sorted((j for j in required if size(j) >= 1000), key=lambda j: (-size(j), j))
    small = sorted((j for j in required if size(j) < 1000), key=lambda j: (-size(j), j))
    optional = sorted(
        (j.id for j in instance.training if not j.required), key=lambda j: (-size(j), j)
    )
    _place_training(instance, capacity, plan, big)
    _place_training(instance, capacity, plan, small)
    services = sorted(
        instance.inference, key=lambda i: (i.latency_slo_ms, -sum(i.demand_rps.values()), i.id)
    )
    for service in services:
        _serve(instance, capacity, plan, service.id)
    _place_training(instance, capacity, plan, optional)
    plan.it_kw = dict(capacity.it_kw)
    return plan


def plan_solution(instance: Instance, plan: GreedyPlan) -> Solution:
    """The greedy plan as an (unpriced) Solution, e.g. to evaluate it or to warm-start."""
    return Solution(
        instance=instance.name,
        instance_sha256=instance.sha256,
        status="feasible",
        objective=0.0,
        training=[
            TrainingAssignment(job=job, site=site, accelerator=accelerator, count=count)
            for job, (site, accelerator, count) in sorted(plan.training.items())
        ],
        unplaced_training=sorted(plan.unplaced),
        inference=[
            ReplicaAssignment(service=service, site=site, accelerator=accelerator, replicas=n)
            for (service, site, accelerator), n in sorted(plan.replicas.items())
        ],
        routes=[
            RouteFlow(service=service, region=region, site=site, rps=rps)
            for (service, region, site), rps in sorted(plan.routes.items())
        ],
        unserved=[
            UnservedDemand(service=service, region=region, rps=rps)
            for (service, region), rps in sorted(plan.unserved.items())
        ],
        solver=SolverInfo(name="infraplan-real-greedy", version="1"),
    )
