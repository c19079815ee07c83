"""Placing work on the capacity ledger: training jobs on their cheapest option that
fits (`place_training`), services region by region where one more rps is cheapest, then
spare capacity outside every failure domain for n+1 (`plan_service`)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.network import GBPS_PER_RPS_KB
from solver.heuristics.greedy.ledger import fixed_cost

if TYPE_CHECKING:
    from collections.abc import Collection

    from models import Instance, ReplicaOption, TrainingPlacement
    from solver.heuristics.greedy.ledger import Capacity
    from solver.heuristics.greedy.pricing import Guide, Prices

#: Less rps than this is not worth a new replica.
MIN_RPS = 1e-6
#: How much cheaper a decision the LP uses looks to the planner (a share of its cost).
GUIDE_WEIGHT = 0.5
#: An optional job the LP places at least this much of is planned with the required ones.
LP_PLACED = 0.5
#: With lp_first, jobs the LP places at least this much of at one option go first.
LP_WHOLE = 0.999
#: With a guide, plan n+1 services a second time with their serving spread over failure
#: domains, and keep the cheaper plan (docs/tuning.md#spread_n_plus_one).
SPREAD_N_PLUS_ONE = True


def place_training(
    instance: Instance,
    capacity: Capacity,
    partial: bool,
    guide: Guide,
    lp_first: bool,
    prices: Prices,
    jobs: Collection[str],
) -> tuple[list[TrainingPlacement], list[str]] | None:
    """Largest of `jobs` first, each on its cheapest option that fits; None if a required
    job fails. With `lp_first`, optional jobs the LP places are planned with the required
    ones."""
    eligibility = instance.eligibility

    def size(job_id: str) -> float:
        job = instance.training_by_id[job_id]
        return max(
            o.count * instance.accelerator_by_id[o.accelerator].power_kw for o in job.options
        )

    placed: list[TrainingPlacement] = []
    unplaced: list[str] = []

    placed_by_lp = guide.placed_by_job()
    whole_by_lp = {p.job for p, value in guide.placements.items() if value >= LP_WHOLE}

    # Required jobs (with lp_first, also the optional ones the LP places mostly whole)
    # first; among them (with lp_first) those the LP places whole at one option, largest
    # first, then the fewest options first (nowhere else to go), then largest.
    def order(job_id: str) -> tuple[bool, bool, float, float, str]:
        job = instance.training_by_id[job_id]
        first = job.required or (lp_first and placed_by_lp.get(job_id, 0.0) >= LP_PLACED)
        if lp_first and job_id in whole_by_lp:
            return (not first, False, -size(job_id), 0.0, job_id)
        return (not first, True, len(eligibility.training[job_id]), -size(job_id), job_id)

    for job_id in sorted(jobs, key=order):
        job = instance.training_by_id[job_id]
        best: tuple[float, TrainingPlacement] | None = None
        for placement in eligibility.training[job_id]:
            if capacity.fits(instance, placement.site, placement.accelerator, placement.count) < 1:
                continue
            if (
                job.dataset is not None
                and job.dataset.read_gbps > 0
                and job.dataset.at != placement.site
            ):
                route = instance.paths.route(job.dataset.at, placement.site)
                assert route is not None
                if capacity.link_room(route.links, job.dataset.read_gbps) < 1:
                    continue
            cost = prices.placement(placement) + fixed_cost(instance, capacity, placement.site)
            # Placements the LP uses rank first (cost measured against the LP's own share).
            cost -= guide.placements.get(placement, 0.0) * GUIDE_WEIGHT * abs(cost)
            if best is None or cost < best[0]:
                best = (cost, placement)
        if best is None or (not job.required and best[0] >= job.unplaced_cost):
            if job.required and not partial:
                return None
            unplaced.append(job_id)
            continue
        placement = best[1]
        capacity.take(instance, placement.site, placement.accelerator, placement.count)
        if (
            job.dataset is not None
            and job.dataset.read_gbps > 0
            and job.dataset.at != placement.site
        ):
            route = instance.paths.route(job.dataset.at, placement.site)
            assert route is not None
            capacity.use_links(route.links, job.dataset.read_gbps)
        placed.append(placement)
    return placed, unplaced


@dataclass
class ServicePlan:
    """One service's plan as it grows: replicas, spare rps per site, flows, unserved rps."""

    replicas: dict[ReplicaOption, int] = field(default_factory=lambda: defaultdict(int))
    spare_rps: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    routes: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    unserved: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def plan_service(
    instance: Instance,
    capacity: Capacity,
    service_id: str,
    partial: bool,
    guide: Guide,
    prices: Prices,
) -> ServicePlan | None:
    """Serve each region (largest first) where one more rps is cheapest; None on failure.

    With a guide (an LP's or the Lagrangian relaxation's), an n+1 service is planned
    twice, each on a copy of the ledger, and the cheaper plan is kept: as above, and with
    each failure domain serving at most its share of the demand (`_domain_share`), so
    that the spare capacity n+1 needs spreads over many domains instead of doubling the
    one that serves most."""
    service = instance.inference_by_id[service_id]
    # Only with a relaxation's guide: spreading takes capacity at more sites, which the
    # planner can weigh only through the guide's prices and choices (without one, the
    # scheduled path's period plans of sched-expand-M-0 came out 0.8% dearer).
    guided = bool(guide.replicas or guide.capacity_prices)
    if service.resilience != "n+1" or not SPREAD_N_PLUS_ONE or not guided:
        return _plan_service(instance, capacity, service_id, partial, guide, prices, None)
    best: tuple[float, ServicePlan, Capacity] | None = None
    for share in (None, _domain_share(instance, service_id, capacity)):
        trial = capacity.copy()
        plan = _plan_service(instance, trial, service_id, partial, guide, prices, share)
        if plan is None:
            continue
        cost = _plan_cost(instance, service_id, plan, capacity, prices, guide)
        if best is None or cost < best[0] - 1e-9 * abs(cost):
            best = (cost, plan, trial)
    if best is None:
        return None
    capacity.adopt(best[2])
    return best[1]


def _domain_share(instance: Instance, service_id: str, capacity: Capacity) -> float | None:
    """The most rps one failure domain serves in the spread plan of an n+1 service: its
    demand over (domains that may serve it - 1), as with that many equal domains the
    capacity outside any one covers the demand exactly. None with fewer than three."""
    service = instance.inference_by_id[service_id]
    domains = {capacity.domain_of[pair.site] for pair in instance.eligibility.routes[service_id]}
    if len(domains) < 3:
        return None
    return sum(service.demand_rps.values()) / (len(domains) - 1)


def _plan_cost(
    instance: Instance,
    service_id: str,
    plan: ServicePlan,
    before: Capacity,
    prices: Prices,
    guide: Guide,
) -> float:
    """What `plan` costs as the planner prices it: replicas (with their capacity prices),
    the fixed costs of the sites it opens (`before` is the ledger before it), egress and
    unserved demand."""
    service = instance.inference_by_id[service_id]
    view = prices.service(service_id, guide)
    cost = math.fsum(view.per_replica[option] * count for option, count in plan.replicas.items())
    opened = {option.site for option, count in plan.replicas.items() if count > 0}
    cost += math.fsum(fixed_cost(instance, before, site) for site in sorted(opened))
    cost += math.fsum(
        view.routes[region][0][site] * rps for (region, site), rps in plan.routes.items()
    )
    price = service.unserved_cost_per_rps_hour
    unserved = math.fsum(plan.unserved.values())
    if unserved > 0:
        cost += math.inf if price is None else price * instance.horizon_hours * unserved
    return cost


def _plan_service(
    instance: Instance,
    capacity: Capacity,
    service_id: str,
    partial: bool,
    guide: Guide,
    prices: Prices,
    domain_share: float | None,
) -> ServicePlan | None:
    """`plan_service`'s plan, with at most `domain_share` rps of capacity per failure
    domain while the demand is served (None: no such limit)."""
    service = instance.inference_by_id[service_id]
    view = prices.service(service_id, guide)
    options_at, per_replica, guided = view.options_at, view.per_replica, view.guided
    gbps_per_rps = service.kb_per_request * GBPS_PER_RPS_KB
    unserved_per_rps = (
        math.inf
        if service.unserved_cost_per_rps_hour is None
        else service.unserved_cost_per_rps_hour * instance.horizon_hours
    )
    plan = ServicePlan()
    domain_of = capacity.domain_of
    held: dict[str, float] = defaultdict(float)

    for region, demand in view.regions:
        remaining = demand
        sites, egress, links_to, by_egress = view.sites_of[region], *view.routes[region]
        served_by_lp = view.served_by_lp[region]
        while remaining > 1e-9:
            # Spare capacity first, cheapest egress first.
            used_spare = False
            for site in by_egress:
                links = links_to[site]
                room = min(plan.spare_rps[site], capacity.link_room(links, gbps_per_rps), remaining)
                if room > 1e-9 and egress[site] < unserved_per_rps:
                    plan.spare_rps[site] -= room
                    plan.routes[region, site] += room
                    capacity.use_links(links, room * gbps_per_rps)
                    remaining -= room
                    used_spare = True
            if remaining <= 1e-9:
                break
            best: tuple[float, ReplicaOption, int] | None = None
            # Within the domains' shares first; past them where no domain has room left.
            for share in (domain_share, None) if domain_share is not None else (None,):
                for site in sites:
                    # New capacity only helps as far as the links to it still carry traffic.
                    usable = min(remaining, capacity.link_room(links_to[site], gbps_per_rps))
                    usable -= plan.spare_rps[site]
                    if usable <= MIN_RPS:
                        continue
                    fixed = fixed_cost(instance, capacity, site)
                    for option in options_at[site]:
                        fit = capacity.fits(instance, site, option.accelerator, option.per_replica)
                        if share is not None:
                            # Whole replicas only while the domain holds less than its share.
                            room = share - held[domain_of[site]]
                            fit = min(fit, max(0, math.ceil(room / option.rps - 1e-9)))
                        if fit < 1:
                            continue
                        count = min(fit, math.ceil(usable / option.rps - 1e-9))
                        served = min(usable, option.rps * count)
                        cost = (per_replica[option] * count + fixed) / served
                        cost += egress[site]
                        if guided[option]:
                            cost -= GUIDE_WEIGHT * abs(cost)
                        if best is None or (cost, site) < (best[0], best[1].site):
                            best = (cost, option, count)
                if best is not None:
                    break
            if best is None or (best[0] >= unserved_per_rps and not served_by_lp):
                if unserved_per_rps == math.inf and not used_spare and not partial:
                    return None
                if unserved_per_rps < math.inf or (partial and not used_spare):
                    plan.unserved[region] += remaining
                    remaining = 0.0
                continue
            _, option, count = best
            capacity.take(instance, option.site, option.accelerator, option.per_replica * count)
            plan.replicas[option] += count
            plan.spare_rps[option.site] += option.rps * count
            held[domain_of[option.site]] += option.rps * count
    resilient = service.resilience != "n+1" or _add_spare_domains(
        instance, capacity, plan, per_replica, view.by_cover_cost
    )
    if not resilient:
        if not partial:
            return None
        _shed_to_resilient(instance, plan)
    return plan


def _shed_to_resilient(instance: Instance, plan: ServicePlan) -> None:
    """Move served demand to unserved until capacity outside every failure domain covers
    what is served (a partial plan stays consistent with the n+1 rule)."""
    domain_of = {s.id: s.domain for s in instance.sites}
    by_domain: dict[str, float] = defaultdict(float)
    for option, count in plan.replicas.items():
        by_domain[domain_of[option.site]] += option.rps * count
    total = sum(by_domain.values())
    allowed = min((total - held for held in by_domain.values()), default=0.0)
    excess = sum(plan.routes.values()) - max(0.0, allowed)
    for key in sorted(plan.routes, key=lambda k: (-plan.routes[k], k)):
        if excess <= 1e-9:
            break
        cut = min(plan.routes[key], excess)
        plan.routes[key] -= cut
        plan.unserved[key[0]] += cut
        excess -= cut


def _add_spare_domains(
    instance: Instance,
    capacity: Capacity,
    plan: ServicePlan,
    per_replica: dict[ReplicaOption, float],
    by_cover_cost: list[ReplicaOption],
) -> bool:
    """Add replicas until the capacity outside every failure domain covers what is
    served (n+1), each time the one that costs least per rps of cover it adds.

    The cover is the capacity outside the largest domain. A replica in domain d adds
    its rps to the cover, less what it lifts d above the largest other domain, so
    spare capacity spreads over several domains (with k equal domains the plan holds
    k / (k - 1) times what it serves, not twice)."""
    served = sum(plan.routes.values())
    domain_of = capacity.domain_of
    by_domain: dict[str, float] = defaultdict(float)
    for option, count in plan.replicas.items():
        by_domain[domain_of[option.site]] += option.rps * count
    # Per domain, its options cheapest per rps first (`by_cover_cost`: ties by site, then
    # in eligibility order), so that equal keys pick the same option every time. Capacity
    # only shrinks while the plan grows, so an option that no longer fits is dropped for
    # good.
    options_of: dict[str, list[ReplicaOption]] = defaultdict(list)
    for option in by_cover_cost:
        options_of[domain_of[option.site]].append(option)
    while True:
        total = largest = second = 0.0
        for held in by_domain.values():
            total += held
            if held > largest:
                largest, second = held, largest
            elif held > second:
                second = held
        cover = total - largest
        if cover >= served - 1e-9:
            return True
        best: tuple[float, str, ReplicaOption, int] | None = None
        # Where domains tie for the largest, one replica adds no cover, but it lets the
        # next one add some: then the option cheapest per rps outside one largest domain.
        fallback: tuple[float, str, ReplicaOption] | None = None
        worst = next((d for d in sorted(by_domain) if by_domain[d] == largest), None)
        for domain, options in sorted(options_of.items()):
            held = by_domain.get(domain, 0.0)
            others = second if held == largest else largest
            fitting: list[ReplicaOption] = []
            for option in options:
                fit = capacity.fits(instance, option.site, option.accelerator, option.per_replica)
                if fit < 1:
                    continue
                fitting.append(option)
                if domain != worst:
                    cheapest = (per_replica[option] / option.rps, option.site, option)
                    if fallback is None or cheapest[:2] < fallback[:2]:
                        fallback = cheapest
                gained = min(total + option.rps - max(others, held + option.rps), served) - cover
                if gained <= 1e-9:
                    continue
                # More replicas add as much cover each while the domain stays below the
                # largest other one, and while cover is still missing.
                count = min(fit, math.floor((others - held) / option.rps + 1e-9))
                count = min(count, math.ceil((served - cover) / option.rps - 1e-9))
                key = (per_replica[option] / gained, option.site)
                if best is None or key < best[:2]:
                    best = (*key, option, max(1, count))
            options_of[domain] = fitting
        if best is None and fallback is not None:
            best = (*fallback, 1)
        if best is None:
            return False
        _, _, chosen, count = best
        capacity.take(instance, chosen.site, chosen.accelerator, chosen.per_replica * count)
        plan.replicas[chosen] += count
        by_domain[domain_of[chosen.site]] += chosen.rps * count
