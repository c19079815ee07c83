"""What a plan consumes, computed once: per site, per link, per route and per service.

These are the figures the constraint checks compare with their limits and the
reports print; every one comes from the indexed plan in a single pass over its
entries, so the cost is linear in the plan's size.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.accelerators import COOLING_KINDS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from models import InferenceService, Instance
    from models.accelerators import CoolingKind
    from models.workloads import Resilience
    from solver.evaluation.eligibility import Flow, IndexedPlan, JobPlacement, ReplicaGroup
    from solver.evaluation.lookup import InstanceLookup
    from solver.evaluation.paths import Route

#: Gbps carried per rps for each KB of request plus response (SPEC §5.7).
GBPS_PER_RPS_KB = 8e-6


def ratio(used: float, available: float) -> float:
    """Used over available: 0 when nothing is used, inf when something is used of nothing."""
    if available == 0:
        return 0.0 if used == 0 else math.inf
    return used / available


@dataclass(frozen=True, slots=True)
class AcceleratorUsage:
    """Accelerators of one type used at a site against its inventory count."""

    accelerator: str
    used: int
    count: int
    #: whether the site lists the type at all (using an unlisted type is an eligibility error)
    in_inventory: bool = True

    @property
    def utilization(self) -> float:
        """Used over installed."""
        return ratio(self.used, self.count)


@dataclass(frozen=True, slots=True)
class HeatUsage:
    """IT heat of one cooling kind at a site against its limit (None = unlimited)."""

    cooling: CoolingKind
    it_kw: float
    limit_kw: float | None


@dataclass(frozen=True, slots=True)
class SiteUsage:
    """Power, heat and accelerators used at one site."""

    site: str
    #: hosts any training job or any replica (pays fixed_cost)
    active: bool
    it_kw: float
    facility_kw: float
    grid_kw: float
    #: per cooling kind that carries heat or has a limit
    heat: dict[CoolingKind, HeatUsage]
    #: per accelerator type in the inventory or used here
    accelerators: dict[str, AcceleratorUsage]

    @property
    def accelerators_used(self) -> int:
        """Accelerators in use, all types."""
        return sum(usage.used for usage in self.accelerators.values())

    @property
    def accelerators_installed(self) -> int:
        """Accelerators in the inventory, all types."""
        return sum(usage.count for usage in self.accelerators.values())

    @property
    def utilization(self) -> float:
        """Accelerators used over installed (0 at a site with no inventory and no use)."""
        return ratio(self.accelerators_used, self.accelerators_installed)

    @property
    def power_utilization(self) -> float:
        """Facility power over grid power."""
        return ratio(self.facility_kw, self.grid_kw)


@dataclass(frozen=True, slots=True)
class LinkUsage:
    """Bandwidth carried by one link: inference traffic plus remote dataset reads."""

    index: int
    a: str
    b: str
    traffic_gbps: float
    dataset_gbps: float
    #: None = unlimited
    capacity_gbps: float | None

    @property
    def name(self) -> str:
        """The link as `a-b`."""
        return f"{self.a}-{self.b}"

    @property
    def used_gbps(self) -> float:
        """Traffic plus dataset reads."""
        return self.traffic_gbps + self.dataset_gbps


@dataclass(frozen=True, slots=True)
class RouteUsage:
    """One route entry of the plan with its path latency (None: unknown or unreachable site)."""

    service: str
    region: str
    site: str
    rps: float
    latency_ms: float | None
    latency_slo_ms: float
    #: the route's period in a scheduled instance (None elsewhere)
    period: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceUsage:
    """Demand, service and capacity of one inference service."""

    service: str
    resilience: Resilience
    latency_slo_ms: float
    demand_rps: float
    served_rps: float
    unserved_rps: float
    served_by_region: dict[str, float]
    unserved_by_region: dict[str, float]
    served_by_site: dict[str, float]
    capacity_by_site: dict[str, float]
    capacity_rps: float
    #: highest latency of a route carrying traffic; None without such a route
    worst_latency_ms: float | None
    #: n+1 services: capacity left after losing each failure domain that hosts capacity
    #: (losing any other domain leaves `capacity_rps`); empty for other services
    capacity_left_by_domain: dict[str, float]


@dataclass(frozen=True, slots=True)
class PlanUsage:
    """All figures of a plan."""

    sites: dict[str, SiteUsage]
    links: list[LinkUsage]
    routes: list[RouteUsage]
    services: dict[str, ServiceUsage]


def measure(instance: Instance, lookup: InstanceLookup, plan: IndexedPlan) -> PlanUsage:
    """Compute every figure of an indexed plan."""
    return PlanUsage(
        sites=_site_usage(instance, lookup, plan),
        links=_link_usage(instance, plan),
        routes=route_usage(plan.flows, scheduled=False),
        services=_service_usage(instance, plan),
    )


def route_usage(flows: Iterable[Flow], *, scheduled: bool) -> list[RouteUsage]:
    """One figure per route entry, in plan order (with its period when `scheduled`)."""
    return [
        RouteUsage(
            flow.service.id,
            flow.region,
            flow.site,
            flow.rps,
            None if flow.route is None else flow.route.latency_ms,
            flow.service.latency_slo_ms,
            flow.period if scheduled else None,
        )
        for flow in flows
    ]


def _site_usage(
    instance: Instance, lookup: InstanceLookup, plan: IndexedPlan
) -> dict[str, SiteUsage]:
    used: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for placement in plan.placements:
        used[placement.site.id][placement.accelerator.id] += placement.count
    for group in plan.replica_groups:
        used[group.site.id][group.accelerator.id] += group.accelerators
    active = active_sites(plan)
    sites: dict[str, SiteUsage] = {}
    for site in instance.sites:
        sites[site.id] = site_usage(
            lookup,
            site.id,
            active=site.id in active,
            used_here=used.get(site.id, {}),
            grid_kw=site.grid_kw,
            cooling_kw={kind: site.cooling_limit_kw(kind) for kind in COOLING_KINDS},
            counts={item.accelerator: item.count for item in site.inventory},
            pue=site.pue,
        )
    return sites


def active_sites(plan: IndexedPlan) -> set[str]:
    """Sites that host a training job or a positive replica entry in any period (z[s] = 1:
    SPEC §5.8 and §9; a chosen expansion alone does not count)."""
    active = {placement.site.id for placement in plan.placements}
    active.update(group.site.id for group in plan.replica_groups if group.replicas > 0)
    return active


def site_usage(
    lookup: InstanceLookup,
    site_id: str,
    *,
    active: bool,
    used_here: Mapping[str, int],
    grid_kw: float,
    cooling_kw: Mapping[CoolingKind, float | None],
    counts: Mapping[str, int],
    pue: float,
) -> SiteUsage:
    """A site's figures from the accelerators it uses and the limits it has (cooling None
    is unlimited; `counts` holds the inventory's types)."""
    accelerators = {
        accelerator: AcceleratorUsage(accelerator, used_here.get(accelerator, 0), count)
        for accelerator, count in counts.items()
    }
    for accelerator, number in used_here.items():
        if accelerator not in accelerators:
            accelerators[accelerator] = AcceleratorUsage(accelerator, number, 0, in_inventory=False)
    heat_kw: dict[CoolingKind, float] = defaultdict(float)
    for accelerator, number in used_here.items():
        spec = lookup.accelerators[accelerator]
        heat_kw[spec.cooling] += spec.power_kw * number
    it_kw = math.fsum(heat_kw.values())
    heat = {
        kind: HeatUsage(kind, heat_kw.get(kind, 0.0), cooling_kw.get(kind))
        for kind in COOLING_KINDS
        if kind in heat_kw or cooling_kw.get(kind) is not None
    }
    return SiteUsage(
        site=site_id,
        active=active,
        it_kw=it_kw,
        facility_kw=pue * it_kw,
        grid_kw=grid_kw,
        heat=heat,
        accelerators=accelerators,
    )


def traffic_gbps_by_link(link_count: int, flows: Iterable[Flow]) -> list[float]:
    """Inference traffic on each link (indexed as `instance.links`) from these flows."""
    # Traffic is summed per (region, site) path first, so each path is walked once.
    pair_gbps: dict[tuple[str, str], float] = defaultdict(float)
    pair_route: dict[tuple[str, str], Route] = {}
    for flow in flows:
        if flow.route is None or flow.rps <= 0:
            continue
        key = (flow.region, flow.site)
        pair_gbps[key] += flow.rps * flow.service.kb_per_request * GBPS_PER_RPS_KB
        pair_route[key] = flow.route
    traffic = [0.0] * link_count
    for key, gbps in pair_gbps.items():
        for link_index in pair_route[key].links:
            traffic[link_index] += gbps
    return traffic


def remote_reads(placement: JobPlacement) -> tuple[float, tuple[int, ...]]:
    """A placed job's remote dataset reads: Gbps and the links they cross (0 and none for
    a local dataset, or without one)."""
    route = placement.dataset_route
    data = placement.job.dataset
    if route is None or data is None or data.at == placement.site.id:
        return 0.0, ()
    return data.read_gbps, route.links


def _link_usage(instance: Instance, plan: IndexedPlan) -> list[LinkUsage]:
    traffic = traffic_gbps_by_link(len(instance.links), plan.flows)
    dataset = [0.0] * len(instance.links)
    for placement in plan.placements:
        read_gbps, links = remote_reads(placement)
        for link_index in links:
            dataset[link_index] += read_gbps
    return [
        LinkUsage(index, link.a, link.b, traffic[index], dataset[index], link.bandwidth_gbps)
        for index, link in enumerate(instance.links)
        if link.bandwidth_gbps is not None or traffic[index] > 0 or dataset[index] > 0
    ]


def _service_usage(instance: Instance, plan: IndexedPlan) -> dict[str, ServiceUsage]:
    return service_usage(
        instance,
        plan.flows,
        plan.replica_groups,
        plan.unserved,
        lambda service: service.demand_rps,
    )


def service_usage(
    instance: Instance,
    flows_in: Iterable[Flow],
    groups_in: Iterable[ReplicaGroup],
    unserved_in: Mapping[tuple[str, str, str], float],
    demand_of: Callable[[InferenceService], Mapping[str, float]],
) -> dict[str, ServiceUsage]:
    """Every service's demand (from `demand_of`), service and capacity over these
    entries (one period's, or the whole plan's)."""
    flows_by_service: dict[str, list[Flow]] = defaultdict(list)
    for flow in flows_in:
        flows_by_service[flow.service.id].append(flow)
    groups_by_service: dict[str, list[ReplicaGroup]] = defaultdict(list)
    for group in groups_in:
        groups_by_service[group.service.id].append(group)
    unserved_by_service: dict[str, dict[str, float]] = defaultdict(dict)
    for (service_id, region, _period), rps in unserved_in.items():
        unserved_by_service[service_id][region] = rps

    services: dict[str, ServiceUsage] = {}
    for service in instance.inference:
        flows = flows_by_service.get(service.id, [])
        served_by_region: dict[str, float] = defaultdict(float)
        served_by_site: dict[str, float] = defaultdict(float)
        worst_latency_ms: float | None = None
        for flow in flows:
            served_by_region[flow.region] += flow.rps
            if flow.site_known:
                served_by_site[flow.site] += flow.rps
            if flow.route is not None and flow.rps > 0:
                latency = flow.route.latency_ms
                if worst_latency_ms is None or latency > worst_latency_ms:
                    worst_latency_ms = latency
        capacity_by_site: dict[str, float] = defaultdict(float)
        capacity_by_domain: dict[str, float] = defaultdict(float)
        for group in groups_by_service.get(service.id, []):
            capacity_by_site[group.site.id] += group.capacity_rps
            capacity_by_domain[group.site.domain] += group.capacity_rps
        capacity_rps = math.fsum(capacity_by_site.values())
        served_rps = math.fsum(flow.rps for flow in flows)
        unserved_by_region = unserved_by_service.get(service.id, {})
        capacity_left = (
            {domain: capacity_rps - lost for domain, lost in capacity_by_domain.items()}
            if service.resilience == "n+1"
            else {}
        )
        services[service.id] = ServiceUsage(
            service=service.id,
            resilience=service.resilience,
            latency_slo_ms=service.latency_slo_ms,
            demand_rps=math.fsum(demand_of(service).values()),
            served_rps=served_rps,
            unserved_rps=math.fsum(unserved_by_region.values()),
            served_by_region=dict(served_by_region),
            unserved_by_region=dict(unserved_by_region),
            served_by_site=dict(served_by_site),
            capacity_by_site=dict(capacity_by_site),
            capacity_rps=capacity_rps,
            worst_latency_ms=worst_latency_ms,
            capacity_left_by_domain=capacity_left,
        )
    return services
