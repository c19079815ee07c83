"""Eligible (site, accelerator) options of every workload (SPEC section 4).

Options that can never fit on their own (more accelerators than the site has, or
more power or cooling than the site offers for that one placement) are left out:
no feasible plan uses them. Replica options of a service without n+1 resilience
are also left out at sites that no demand region reaches within the SLO: replicas
there cost money and serve nothing (for n+1 services they may still carry spare
capacity, so they stay).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.paths import to_ns

if TYPE_CHECKING:
    from models.instance import Instance
    from models.sites import Site


@dataclass(frozen=True, slots=True)
class TrainingPlacement:
    """Job `job` may run at `site` on `count` accelerators of type `accelerator`."""

    job: str
    site: str
    accelerator: str
    count: int


@dataclass(frozen=True, slots=True)
class ReplicaOption:
    """Service `service` may run replicas at `site` on `accelerator` (per_replica, rps each)."""

    service: str
    site: str
    accelerator: str
    per_replica: int
    rps: float


@dataclass(frozen=True, slots=True)
class RoutePair:
    """Demand of `service` from `region` may be served at `site` (within the SLO)."""

    service: str
    region: str
    site: str


@dataclass
class Eligibility:
    """All eligible decisions of an instance, in deterministic (input) order."""

    training: dict[str, list[TrainingPlacement]] = field(default_factory=dict)
    replicas: dict[str, list[ReplicaOption]] = field(default_factory=dict)
    routes: dict[str, list[RoutePair]] = field(default_factory=dict)

    @classmethod
    def build(cls, instance: Instance) -> Eligibility:
        """Enumerate eligible placements, replica options and routes."""
        result = cls()
        paths = instance.paths
        accelerators = instance.accelerator_by_id
        inventory = {
            (site.id, item.accelerator): item.count
            for site in instance.sites
            for item in site.inventory
        }

        def fits_alone(site: Site, accelerator: str, count: int) -> bool:
            if count > inventory.get((site.id, accelerator), 0):
                return False
            acc = accelerators[accelerator]
            it_kw = acc.power_kw * count
            if site.pue * it_kw > site.grid_kw * (1 + 1e-9):
                return False
            limit = site.cooling_limit_kw(acc.cooling)
            return limit is None or it_kw <= limit * (1 + 1e-9)

        def allowed(site: Site, allowed_sites: list[str] | None, tags: list[str]) -> bool:
            if allowed_sites is not None and site.id not in allowed_sites:
                return False
            return all(tag in site.tags for tag in tags)

        for job in instance.training:
            placements: list[TrainingPlacement] = []
            allowed_set = None if job.allowed_sites is None else list(job.allowed_sites)
            for site in instance.sites:
                if not allowed(site, allowed_set, job.requires_tags):
                    continue
                if job.dataset is not None and paths.route(job.dataset.at, site.id) is None:
                    continue
                for option in job.options:
                    if fits_alone(site, option.accelerator, option.count):
                        placements.append(
                            TrainingPlacement(job.id, site.id, option.accelerator, option.count)
                        )
            result.training[job.id] = placements

        site_order = {site.id: index for index, site in enumerate(instance.sites)}
        # Per region: reachable sites sorted by latency, so an SLO cut is one bisect.
        by_latency: dict[str, tuple[list[int], list[str]]] = {}
        for region in instance.regions:
            ranked = sorted(
                (route.latency_ns, site_order[site_id], site_id)
                for site_id, route in paths.from_source(region.id).items()
            )
            by_latency[region.id] = ([r[0] for r in ranked], [r[2] for r in ranked])

        for service in instance.inference:
            allowed_sites = [
                site
                for site in instance.sites
                if allowed(site, service.allowed_sites, service.requires_tags)
            ]
            allowed_ids = {site.id for site in allowed_sites}
            slo_ns = to_ns(service.latency_slo_ms)
            within_slo: dict[str, list[str]] = {}
            for region, rps in service.demand_rps.items():
                if rps <= 0:
                    continue
                latencies, sites = by_latency[region]
                reachable = sites[: bisect.bisect_right(latencies, slo_ns)]
                within_slo[region] = sorted(
                    (s for s in reachable if s in allowed_ids), key=site_order.__getitem__
                )
            serving_sites = {s for sites in within_slo.values() for s in sites}
            options: list[ReplicaOption] = []
            for site in allowed_sites:
                if service.resilience == "none" and site.id not in serving_sites:
                    continue
                options.extend(
                    ReplicaOption(
                        service.id, site.id, profile.accelerator, profile.per_replica, profile.rps
                    )
                    for profile in service.profiles
                    if fits_alone(site, profile.accelerator, profile.per_replica)
                )
            hosting = {option.site for option in options}
            result.routes[service.id] = [
                RoutePair(service.id, region, site_id)
                for region, sites in within_slo.items()
                for site_id in sites
                if site_id in hosting
            ]
            result.replicas[service.id] = options
        return result

    def unreachable_demand(self, instance: Instance) -> list[tuple[str, str]]:
        """(service, region) pairs with positive demand that no eligible site can serve."""
        missing: list[tuple[str, str]] = []
        for service in instance.inference:
            served = {pair.region for pair in self.routes[service.id]}
            missing.extend(
                (service.id, region)
                for region, rps in service.demand_rps.items()
                if rps > 0 and region not in served
            )
        return missing
