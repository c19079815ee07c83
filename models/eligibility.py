"""Eligible (site, accelerator) options of every workload (SPEC section 4).

Options that can never fit on their own (more accelerators than the site has, or
more power or cooling than the site offers for that one placement) are left out:
no feasible plan uses them. Replica options of a service without n+1 resilience
are also left out at sites that no demand region reaches within the SLO: replicas
there cost money and serve nothing (for n+1 services they may still carry spare
capacity, so they stay; so do the sites of replicas of `current` when a replica change
budget is set: stopping them uses the budget).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.paths import to_ns
from models.schedule import largest_capacity
from models.tolerance import widened

if TYPE_CHECKING:
    from models.accelerators import Accelerator
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
        sites = instance.sites
        accelerators = instance.accelerator_by_id
        # The most each site ever offers (timeline and every expansion, SPEC §9 and §11):
        # an option that fits then is kept; the model checks each period's limits.
        capacity = {site.id: largest_capacity(instance, site.id) for site in sites}
        inventory = {
            (site_id, accelerator): count
            for site_id, (_, _, stock) in capacity.items()
            for accelerator, count in stock.items()
        }
        # Thousands of workloads share a few shapes and site filters: memoise both.
        fits_memo: dict[tuple[str, str, int], bool] = {}
        allowed_memo: dict[tuple[tuple[str, ...] | None, frozenset[str]], list[Site]] = {}

        def fits_alone(site: Site, accelerator: str, count: int) -> bool:
            key = (site.id, accelerator, count)
            fits = fits_memo.get(key)
            if fits is None:
                grid_kw, cooling_kw, _ = capacity[site.id]
                fits = _fits_alone(
                    site,
                    accelerators[accelerator],
                    count,
                    inventory.get(key[:2], 0),
                    grid_kw,
                    cooling_kw[accelerators[accelerator].cooling],
                )
                fits_memo[key] = fits
            return fits

        def allowed_sites_of(allowed: list[str] | None, tags: list[str]) -> list[Site]:
            key = (None if allowed is None else tuple(allowed), frozenset(tags))
            chosen = allowed_memo.get(key)
            if chosen is None:
                allowed_ids = None if allowed is None else set(allowed)
                chosen = [
                    site
                    for site in sites
                    if (allowed_ids is None or site.id in allowed_ids)
                    and key[1].issubset(site.tags)
                ]
                allowed_memo[key] = chosen
            return chosen

        running_at = {
            entry.job: entry.site
            for entry in (instance.current.training if instance.current else [])
        }
        for job in instance.training:
            placements: list[TrainingPlacement] = []
            # A job of `current` that carries a checkpoint can only move where it can reach
            # (SPEC §10).
            moves_from = running_at.get(job.id) if job.checkpoint_size_gb > 0 else None
            for site in allowed_sites_of(job.allowed_sites, job.requires_tags):
                if job.dataset is not None and paths.route(job.dataset.at, site.id) is None:
                    continue
                if (
                    moves_from is not None
                    and site.id != moves_from
                    and paths.route(moves_from, site.id) is None
                ):
                    continue
                placements.extend(
                    TrainingPlacement(job.id, site.id, option.accelerator, option.count)
                    for option in job.options
                    if fits_alone(site, option.accelerator, option.count)
                )
            result.training[job.id] = placements

        site_order = {site.id: index for index, site in enumerate(sites)}
        # Per region: reachable sites sorted by latency, so an SLO cut is one bisect.
        by_latency: dict[str, tuple[list[int], list[str]]] = {}
        for region in instance.regions:
            ranked = sorted(
                (route.latency_ns, site_order[site_id], site_id)
                for site_id, route in paths.from_source(region.id).items()
            )
            by_latency[region.id] = ([r[0] for r in ranked], [r[2] for r in ranked])
        # (region, SLO in ns, allowed sites) -> allowed sites within the SLO, in input order.
        within_memo: dict[tuple[str, int, int], list[str]] = {}

        # Replicas of `current` under a change budget may have to stay, idle (SPEC §10).
        budgeted = instance.moves is not None and instance.moves.max_replica_changes is not None
        kept_idle = {
            (group.service, group.site)
            for group in (instance.current.inference if instance.current and budgeted else [])
            if group.replicas > 0
        }
        for service in instance.inference:
            allowed_sites = allowed_sites_of(service.allowed_sites, service.requires_tags)
            allowed_ids = {site.id for site in allowed_sites}
            slo_ns = to_ns(service.latency_slo_ms)
            within_slo: dict[str, list[str]] = {}
            for region_id in instance.schedule.demand_regions(service.id):
                # The memoised site lists live as long as the memo, so their ids are stable keys.
                memo_key = (region_id, slo_ns, id(allowed_sites))
                cut = within_memo.get(memo_key)
                if cut is None:
                    latencies, ranked_sites = by_latency[region_id]
                    reachable = ranked_sites[: bisect.bisect_right(latencies, slo_ns)]
                    cut = sorted(
                        (s for s in reachable if s in allowed_ids), key=site_order.__getitem__
                    )
                    within_memo[memo_key] = cut
                within_slo[region_id] = cut
            serving_sites = {s for cut in within_slo.values() for s in cut}
            options: list[ReplicaOption] = []
            hosting: set[str] = set()
            shapes = [(p.accelerator, p.per_replica, p.rps) for p in service.profiles]
            prune_idle = service.resilience == "none"
            for site in allowed_sites:
                site_id = site.id
                if (
                    prune_idle
                    and site_id not in serving_sites
                    and (service.id, site_id) not in kept_idle
                ):
                    continue
                for accelerator, per_replica, rps in shapes:
                    fits = fits_memo.get((site_id, accelerator, per_replica))
                    if fits is None:
                        fits = fits_alone(site, accelerator, per_replica)
                    if fits:
                        options.append(
                            ReplicaOption(service.id, site_id, accelerator, per_replica, rps)
                        )
                        hosting.add(site_id)
            result.routes[service.id] = [
                RoutePair(service.id, region_id, site_id)
                for region_id, cut in within_slo.items()
                for site_id in cut
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
                for region in instance.schedule.demand_regions(service.id)
                if region not in served
            )
        return missing


def _fits_alone(
    site: Site,
    accelerator: Accelerator,
    count: int,
    in_stock: int,
    grid_kw: float,
    cooling_kw: float | None,
) -> bool:
    """Whether `count` accelerators alone fit the site's largest stock, grid power and
    cooling."""
    # To the SPEC's tolerance: an option that fits only within it is still a SPEC option,
    # and the solver's widened model (whose bound and infeasibility are proofs) needs it.
    if count > widened(in_stock):
        return False
    it_kw = accelerator.power_kw * count
    if site.pue * it_kw > widened(grid_kw):
        return False
    return cooling_kw is None or it_kw <= widened(cooling_kw)
