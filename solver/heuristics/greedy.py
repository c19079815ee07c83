"""A greedy planner: what a planner does without an optimizer.

Workloads are placed one by one, largest first, each on its cheapest eligible
option that still has inventory, power, cooling and bandwidth left (as per-task
optimizers such as SkyPilot do); services with a region that few sites serve
within the SLO go first, as a planner would take the hardest-to-place first.
Services grow replicas where serving one more rps is cheapest, reuse spare
capacity first, leave demand unserved where that is cheaper (and allowed), and
finally add replicas outside the worst failure domain until n+1 holds. Used as
a benchmark peer and as a complete first plan (hint) for CP-SAT. It may fail to
find a plan where an optimizer would.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from models import (
    COOLING_KINDS,
    CostBreakdown,
    ReplicaAssignment,
    RouteFlow,
    Solution,
    SolverInfo,
    TrainingAssignment,
    UnservedDemand,
)
from models.eligibility import RoutePair as RoutePairKey
from models.network import GBPS_PER_RPS_KB
from solver.costs import (
    plan_costs,
    replica_costs,
    traffic_egress_per_rps,
    training_costs,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from models import InferenceService, Instance, ReplicaOption, RoutePair, TrainingPlacement
    from solver.cpsat.model import BuiltModel
    from solver.linear import LinearResult

#: Relative slack kept on every limit, so float sums never overshoot it.
SAFETY = 1e-9
#: Less rps than this is not worth a new replica.
MIN_RPS = 1e-6
#: How much cheaper a decision the LP uses looks to the planner (a share of its cost).
GUIDE_WEIGHT = 0.5
#: Shares of the LP's capacity prices the guided passes add to option costs, in the order
#: tried (the cheapest plan is kept). Measured on generated M-0..2 and L-0..2 (guided
#: greedy, best of both job orders): weight 1 gave 143.1 / 138.1 / 246.3M and
#: 1,087.8 / 1,146.7 / 973.3M, weight 0.5 143.8 / 138.7 / 245.9M and 1,047.6 / 1,131.6 /
#: 967.4M, weight 0.25 144.6 / 139.0 / 245.7M and 1,075.0 / 1,113.4 / 966.5M, no prices
#: 149.0 / 137.1 / 245.9M and 1,122.1 / 1,163.1 / 974.7M.
PRICE_WEIGHTS = (0.5, 0.25, 0.0)
#: LP values below this count as unused.
GUIDE_MIN = 1e-6
#: An optional job the LP places at least this much of is planned with the required ones.
LP_PLACED = 0.5
#: From this pass on (counted from 0), the services earlier passes left short are planned
#: before the training jobs.
SHORT_BEFORE_TRAINING = 2
#: Most greedy passes of a partial plan (generated L-0 needs five to be complete).
GREEDY_ATTEMPTS = 8


@dataclass(frozen=True)
class Guide:
    """Preferences from an LP relaxation: the fractional value it gives each decision.

    With a guide the planner tries the decisions the LP uses first (the LP weighed
    every workload against every other, which the one-by-one planner cannot), and
    serves demand the LP serves even where leaving it unserved looks cheaper locally.
    """

    placements: dict[TrainingPlacement, float] = field(default_factory=dict)
    replicas: dict[ReplicaOption, float] = field(default_factory=dict)
    flows: dict[RoutePair, float] = field(default_factory=dict)
    #: What one accelerator of each (site, accelerator) is worth to the rest of the plan
    #: (currency over the horizon): the LP's prices of the inventory, grid power and
    #: cooling rows it uses. Added to an option's cost, so that flexible work leaves
    #: the capacity that latency-bound work needs.
    capacity_prices: dict[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def from_lp(cls, built: BuiltModel, result: LinearResult) -> Guide:
        """The LP's values of a model's placement, replica and flow decisions (flows in
        rps), and its prices of capacity."""
        variables = built.variables
        values = result.values
        return cls(
            placements={p: values[v.index] for p, v in variables.placement.items()},
            replicas={o: values[v.index] for o, v in variables.replicas.items()},
            flows={
                pair: values[v.index] * variables.units[pair.service].unit
                for pair, v in variables.flow.items()
            },
            capacity_prices=capacity_prices(built, result),
        )


#: Constraint families that limit what a site's accelerators may use.
CAPACITY_FAMILIES = ("inventory", "grid_power", "cooling")


def capacity_prices(built: BuiltModel, result: LinearResult) -> dict[tuple[str, str], float]:
    """Per (site, accelerator), the LP dual price of one more accelerator in use there:
    minus the duals of the inventory, grid power and cooling rows, each times the row's
    coefficient per accelerator. Zero where no such row binds."""
    if not result.duals:
        return {}
    per_accelerator: dict[int, tuple[tuple[str, str], int]] = {}
    for pair, terms in built.variables.usage_terms().items():
        for var, per, _ in terms:
            per_accelerator[var.index] = (pair, per)
    prices: dict[tuple[str, str], float] = defaultdict(float)
    proto = built.model.proto
    for index, label in built.notes.labels.items():
        if label.family not in CAPACITY_FAMILIES:
            continue
        dual = sum(result.duals[row] for row in result.rows_of_constraint[index])
        if dual >= 0:
            continue
        exact = built.notes.relaxed.get(index)
        if exact is not None:
            coefficients = exact.coefficients
        else:
            linear = proto.constraints[index].linear
            coefficients = dict(zip(linear.vars, linear.coeffs, strict=True))
        seen: dict[tuple[str, str], float] = {}
        for var_index, coefficient in coefficients.items():
            pair, per = per_accelerator[var_index]
            seen[pair] = max(seen.get(pair, 0.0), -dual * coefficient / per)
        for pair, price in seen.items():
            prices[pair] += price
    return dict(prices)


@dataclass
class Capacity:
    """What is left at every site and link while the plan grows."""

    inventory: dict[tuple[str, str], int]
    it_kw: dict[str, float]
    cooling_kw: dict[tuple[str, str], float]
    link_gbps: dict[int, float]
    active: set[str] = field(default_factory=set)
    #: Per accelerator, its power (kW) and cooling kind (looked up on every fit).
    accelerators: dict[str, tuple[float, str]] = field(default_factory=dict)
    #: Each site's failure domain.
    domain_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, instance: Instance) -> Capacity:
        """Full capacity of an instance."""
        cooling: dict[tuple[str, str], float] = {}
        for site in instance.sites:
            for kind in COOLING_KINDS:
                limit = site.cooling_limit_kw(kind)
                cooling[site.id, kind] = math.inf if limit is None else limit * (1 - SAFETY)
        return cls(
            inventory={(s.id, i.accelerator): i.count for s in instance.sites for i in s.inventory},
            it_kw={s.id: s.grid_kw / s.pue * (1 - SAFETY) for s in instance.sites},
            cooling_kw=cooling,
            link_gbps={
                index: math.inf
                if link.bandwidth_gbps is None
                else link.bandwidth_gbps * (1 - SAFETY)
                for index, link in enumerate(instance.links)
            },
            accelerators={a.id: (a.power_kw, a.cooling) for a in instance.accelerators},
            domain_of={s.id: s.domain for s in instance.sites},
        )

    def fits(self, instance: Instance, site: str, accelerator: str, count: int) -> int:
        """How many units of `count` accelerators fit at the site (0 if none)."""
        by_inventory = self.inventory.get((site, accelerator), 0) // count
        if by_inventory < 1:
            return 0
        power_kw, cooling = self.accelerators[accelerator]
        kw = power_kw * count
        by_power = self.it_kw[site] / kw
        fit = by_inventory if by_inventory <= by_power else int(by_power)
        by_cooling = self.cooling_kw[site, cooling] / kw
        if by_cooling < fit:
            fit = math.floor(by_cooling)
        return fit if fit > 0 else 0

    def take(self, instance: Instance, site: str, accelerator: str, count: int) -> None:
        """Use `count` accelerators at a site."""
        power_kw, cooling = self.accelerators[accelerator]
        self.inventory[site, accelerator] -= count
        self.it_kw[site] -= power_kw * count
        self.cooling_kw[site, cooling] -= power_kw * count
        self.active.add(site)

    def link_room(self, links: tuple[int, ...], gbps_per_unit: float) -> float:
        """How many units of traffic (gbps_per_unit each) the links still carry."""
        if gbps_per_unit <= 0 or not links:
            return math.inf
        link_gbps = self.link_gbps
        return min([link_gbps[i] for i in links]) / gbps_per_unit

    def use_links(self, links: tuple[int, ...], gbps: float) -> None:
        """Carry `gbps` more over the links."""
        for index in links:
            self.link_gbps[index] -= gbps


@dataclass
class _Prices:
    """Each option's cost, computed once per greedy call (every pass asks again)."""

    instance: Instance
    #: Capacity prices (see Guide.capacity_prices) added to every option's cost.
    capacity: dict[tuple[str, str], float] = field(default_factory=dict)
    replicas: dict[ReplicaOption, float] = field(default_factory=dict)
    placements: dict[TrainingPlacement, float] = field(default_factory=dict)
    services: dict[str, _ServiceView] = field(default_factory=dict)

    def service(self, service_id: str, guide: Guide) -> _ServiceView:
        """What no pass changes of a service (one guide per greedy call)."""
        view = self.services.get(service_id)
        if view is None:
            view = self.services[service_id] = _service_view(self.instance, service_id, guide, self)
        return view

    def replica(self, option: ReplicaOption) -> float:
        """Cost of one replica of `option` over the horizon."""
        cost = self.replicas.get(option)
        if cost is None:
            cost = replica_costs(self.instance, option).total
            cost += option.per_replica * self.capacity.get((option.site, option.accelerator), 0.0)
            self.replicas[option] = cost
        return cost

    def placement(self, placement: TrainingPlacement) -> float:
        """Cost of running a job at `placement` (fixed site cost not included)."""
        cost = self.placements.get(placement)
        if cost is None:
            cost = training_costs(self.instance, placement).total
            cost += placement.count * self.capacity.get(
                (placement.site, placement.accelerator), 0.0
            )
            self.placements[placement] = cost
        return cost


@dataclass(frozen=True)
class _ServiceView:
    """What `_plan_service` needs of a service that no pass changes: its options by
    site, their costs per replica, which the LP uses, and per region (largest demand
    first) the sites that serve it, their egress per rps, the links to them and those
    sites cheapest egress first."""

    options_at: dict[str, list[ReplicaOption]]
    per_replica: dict[ReplicaOption, float]
    guided: dict[ReplicaOption, bool]
    regions: list[tuple[str, float]]
    sites_of: dict[str, list[str]]
    routes: dict[str, tuple[dict[str, float], dict[str, tuple[int, ...]], list[str]]]
    served_by_lp: dict[str, bool]
    #: The options cheapest per rps first (ties: by site, then in eligibility order).
    by_cover_cost: list[ReplicaOption]


def _service_view(
    instance: Instance, service_id: str, guide: Guide, prices: _Prices
) -> _ServiceView:
    service = instance.inference_by_id[service_id]
    eligibility = instance.eligibility
    options = eligibility.replicas[service_id]
    options_at: dict[str, list[ReplicaOption]] = defaultdict(list)
    for option in options:
        options_at[option.site].append(option)
    sites_of: dict[str, list[str]] = defaultdict(list)
    for pair in eligibility.routes[service_id]:
        sites_of[pair.region].append(pair.site)
    regions = sorted(service.demand_rps.items(), key=lambda item: (-item[1], item[0]))
    routes: dict[str, tuple[dict[str, float], dict[str, tuple[int, ...]], list[str]]] = {}
    served_by_lp: dict[str, bool] = {}
    for region, _ in regions:
        egress = {
            site: traffic_egress_per_rps(instance, service.kb_per_request, region, site)
            if service.kb_per_request > 0
            else 0.0
            for site in sites_of[region]
        }
        links_to: dict[str, tuple[int, ...]] = {}
        for site in sites_of[region]:
            route = instance.paths.route(region, site)
            assert route is not None
            links_to[site] = route.links
        by_egress = sorted(sites_of[region], key=lambda s: (egress[s], s))
        routes[region] = (egress, links_to, by_egress)
        served_by_lp[region] = any(
            guide.flows.get(RoutePairKey(service_id, region, site), 0.0) > GUIDE_MIN
            for site in sites_of[region]
        )
    per_replica = {o: prices.replica(o) for o in options}
    return _ServiceView(
        options_at=options_at,
        per_replica=per_replica,
        guided={o: guide.replicas.get(o, 0.0) > GUIDE_MIN for o in options},
        regions=regions,
        sites_of=sites_of,
        routes=routes,
        served_by_lp=served_by_lp,
        by_cover_cost=sorted(options, key=lambda o: (per_replica[o] / o.rps, o.site)),
    )


def _fixed_cost(instance: Instance, capacity: Capacity, site: str) -> float:
    return 0.0 if site in capacity.active else instance.site_by_id[site].fixed_cost


def _place_training(
    instance: Instance,
    capacity: Capacity,
    partial: bool,
    guide: Guide,
    lp_first: bool,
    prices: _Prices,
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

    placed_by_lp: dict[str, float] = defaultdict(float)
    for placement, value in guide.placements.items():
        placed_by_lp[placement.job] += value

    # Required jobs (with lp_first, also the optional ones the LP places mostly whole)
    # first; among them the fewest options first (nowhere else to go), then largest.
    def order(job_id: str) -> tuple[bool, int, float, str]:
        job = instance.training_by_id[job_id]
        first = job.required or (lp_first and placed_by_lp[job_id] >= LP_PLACED)
        return (not first, len(eligibility.training[job_id]), -size(job_id), job_id)

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
            cost = prices.placement(placement) + _fixed_cost(instance, capacity, placement.site)
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
class _ServicePlan:
    replicas: dict[ReplicaOption, int] = field(default_factory=lambda: defaultdict(int))
    spare_rps: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    routes: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    unserved: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def _plan_service(
    instance: Instance,
    capacity: Capacity,
    service_id: str,
    partial: bool,
    guide: Guide,
    prices: _Prices,
) -> _ServicePlan | None:
    """Serve each region (largest first) where one more rps is cheapest; None on failure."""
    service = instance.inference_by_id[service_id]
    view = prices.service(service_id, guide)
    options_at, per_replica, guided = view.options_at, view.per_replica, view.guided
    gbps_per_rps = service.kb_per_request * GBPS_PER_RPS_KB
    unserved_per_rps = (
        math.inf
        if service.unserved_cost_per_rps_hour is None
        else service.unserved_cost_per_rps_hour * instance.horizon_hours
    )
    plan = _ServicePlan()

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
            for site in sites:
                # New capacity only helps as far as the links to it still carry traffic.
                usable = min(remaining, capacity.link_room(links_to[site], gbps_per_rps))
                usable -= plan.spare_rps[site]
                if usable <= MIN_RPS:
                    continue
                fixed = _fixed_cost(instance, capacity, site)
                for option in options_at[site]:
                    fit = capacity.fits(instance, site, option.accelerator, option.per_replica)
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
    resilient = service.resilience != "n+1" or _add_spare_domains(
        instance, capacity, plan, per_replica, view.by_cover_cost
    )
    if not resilient:
        if not partial:
            return None
        _shed_to_resilient(instance, plan)
    return plan


def _shed_to_resilient(instance: Instance, plan: _ServicePlan) -> None:
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
    plan: _ServicePlan,
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


def greedy(
    instance: Instance,
    *,
    partial: bool = False,
    time_limit_s: float | None = None,
    guide: Guide | None = None,
    price_weights: Sequence[float] = PRICE_WEIGHTS,
    job_orders: Sequence[bool] | None = None,
) -> Solution:
    """The greedy plan of `instance` (status `feasible`), or status `unknown` if it fails.

    With `partial`, a failure does not stop it: what could not be placed or served
    is left out, and the incomplete plan (status `unknown`) still serves as a hint;
    it then tries again (up to GREEDY_ATTEMPTS passes) with every service that has
    come up short so far planned first, from the third pass also before the
    training jobs, and every required job left out so far placed before all else,
    and returns the first complete plan (or the one leaving least
    must-serve demand out). Past `time_limit_s` no further
    service is planned. A `guide` (LP relaxation values) makes it prefer what the
    LP uses; with a guide the passes run twice, the second time with the optional jobs
    the LP places planned with the required ones, and the cheaper complete plan is kept
    (the first helps on generated L-1, the second on M-1 and M-2). A guide with capacity
    prices runs both once for each of `price_weights`, each option costed with that share
    of the prices of the capacity it takes, so that work with many places to go leaves
    the capacity that latency-bound work needs. `job_orders` chooses which of the two
    runs happen (False: the optional jobs after the required ones; True: with them);
    None: both when the guide places jobs, else the first."""
    started = time.perf_counter()
    deadline = math.inf if time_limit_s is None else started + time_limit_s
    guide = guide or Guide()
    best: Solution | None = None
    weights = price_weights if guide.capacity_prices else (0.0,)
    if job_orders is None:
        job_orders = (False, True) if guide.placements else (False,)
    for weight in weights:
        capacity = {pair: weight * price for pair, price in guide.capacity_prices.items()}
        prices = _Prices(instance, capacity if weight > 0 else {})
        for lp_first in job_orders:
            if best is not None and time.perf_counter() > deadline:
                break
            solution = _greedy_passes(instance, partial, deadline, guide, lp_first, prices)
            if best is None or _rank(instance, solution) < _rank(instance, best):
                best = solution
    assert best is not None
    wall_s = round(time.perf_counter() - started, 3)
    return best.model_copy(update={"solver": best.solver.model_copy(update={"wall_s": wall_s})})


def _rank(instance: Instance, solution: Solution) -> tuple[float, float]:
    """Plans that leave less required work out first, then cheaper ones."""
    return _shortfall(instance, solution), solution.objective or math.inf


@dataclass(frozen=True)
class _PassOrder:
    """What one greedy pass plans ahead of the usual order: the work earlier passes left
    out."""

    #: Services planned before the other services.
    services: frozenset[str] = frozenset()
    #: Whether those services also go before the training jobs.
    services_before_training: bool = False
    #: Required jobs placed before everything else.
    jobs: frozenset[str] = frozenset()


def _greedy_passes(
    instance: Instance,
    partial: bool,
    deadline: float,
    guide: Guide,
    lp_first: bool,
    prices: _Prices,
) -> Solution:
    """The passes of `greedy` in one job order; the first complete plan, or the one that
    leaves least required work out."""
    best: Solution | None = None
    order = _PassOrder()
    must_serve = {s.id for s in instance.inference if s.unserved_cost_per_rps_hour is None}
    required = {j.id for j in instance.training if j.required}
    for attempt in range(GREEDY_ATTEMPTS if partial else 0):
        order = replace(order, services_before_training=attempt >= SHORT_BEFORE_TRAINING)
        solution = _greedy_once(instance, partial, deadline, guide, order, lp_first, prices)
        if best is None or _shortfall(instance, solution) < _shortfall(instance, best):
            best = solution
        if _shortfall(instance, solution) == 0 or time.perf_counter() > deadline:
            break
        order = replace(
            order,
            services=order.services
            | {w.service for w in solution.unserved if w.service in must_serve},
            jobs=order.jobs | (required & set(solution.unplaced_training)),
        )
    if best is None:
        best = _greedy_once(instance, partial, deadline, guide, _PassOrder(), lp_first, prices)
    return best


def _shortfall(instance: Instance, solution: Solution) -> float:
    """Must-serve rps and required jobs a (partial) plan leaves out; inf without a plan."""
    if solution.objective is None:
        return math.inf
    required = {j.id for j in instance.training if j.required}
    must_serve = {s.id for s in instance.inference if s.unserved_cost_per_rps_hour is None}
    planned = {r.service for r in solution.inference} | {w.service for w in solution.unserved}
    missing_services = sum(
        sum(s.demand_rps.values()) for s in instance.inference if s.id not in planned
    )
    return (
        sum(w.rps for w in solution.unserved if w.service in must_serve)
        + missing_services
        + 1e6 * len(required & set(solution.unplaced_training))
    )


def _greedy_once(
    instance: Instance,
    partial: bool,
    deadline: float,
    guide: Guide,
    first: _PassOrder,
    lp_first: bool,
    prices: _Prices,
) -> Solution:
    """One greedy pass: the jobs of `first` are placed first, then its services planned
    (before or after the other training jobs), then the rest (`lp_first`: see
    _place_training)."""
    capacity = Capacity.of(instance)
    info = SolverInfo(name="greedy", version="1", seed=0, time_limit_s=None, wall_s=0.0)

    tightness = _tightness(instance)

    # Services with a region that few sites can serve first (others would take those
    # sites' capacity), then those that must be served, the fewest sites, the largest.
    def order(service: InferenceService) -> tuple[bool, int, bool, int, float, str]:
        sites = {o.site for o in instance.eligibility.replicas[service.id]}
        return (
            service.id not in first.services,
            tightness[service.id],
            service.unserved_cost_per_rps_hour is not None,
            len(sites),
            -sum(service.demand_rps.values()),
            service.id,
        )

    ordered = [s.id for s in sorted(instance.inference, key=order)]
    early = [s for s in ordered if s in first.services] if first.services_before_training else []
    early_jobs = [j for j in instance.training_by_id if j in first.jobs]
    other_jobs = [j for j in instance.training_by_id if j not in first.jobs]
    services: dict[str, _ServicePlan] = {}
    complete_services = True
    training: tuple[list[TrainingPlacement], list[str]] | None = ([], [])
    batches: list[tuple[str, list[str]]] = [
        ("jobs", early_jobs),
        ("services", early),
        ("jobs", other_jobs),
        ("services", [s for s in ordered if s not in early]),
    ]
    for kind, batch in batches:
        if kind == "jobs":
            jobs = _place_training(instance, capacity, partial, guide, lp_first, prices, batch)
            if jobs is None or training is None:
                training = None
                break
            training = (training[0] + jobs[0], training[1] + jobs[1])
            continue
        for service_id in batch:
            if time.perf_counter() > deadline:
                complete_services = False
                break
            plan = _plan_service(instance, capacity, service_id, partial, guide, prices)
            if plan is None:
                complete_services = False
                break
            services[service_id] = plan
        if not complete_services and not partial:
            break
    if training is None or (not complete_services and not partial):
        return Solution(
            instance=instance.name, instance_sha256=instance.sha256, status="unknown", solver=info
        )
    placed, unplaced = training
    solution = _solution(instance, placed, unplaced, services, info)
    if partial and (len(services) < len(instance.inference) or not _complete(instance, solution)):
        return solution.model_copy(update={"status": "unknown"})
    return solution


def _tightness(instance: Instance) -> dict[str, int]:
    """For each service, how many sites can serve its hardest-to-serve region (with
    demand) within the SLO; 0 if such a region has none."""
    sites: dict[tuple[str, str], int] = defaultdict(int)
    for service_id, pairs in instance.eligibility.routes.items():
        for pair in pairs:
            sites[service_id, pair.region] += 1
    return {
        service.id: min(
            (sites[service.id, region] for region, rps in service.demand_rps.items() if rps > 0),
            default=0,
        )
        for service in instance.inference
    }


def _complete(instance: Instance, solution: Solution) -> bool:
    """Whether a partial greedy plan nonetheless placed every required job and served
    every demand that must be served."""
    required = {j.id for j in instance.training if j.required}
    if required & set(solution.unplaced_training):
        return False
    must_serve = {s.id for s in instance.inference if s.unserved_cost_per_rps_hour is None}
    return not any(w.service in must_serve for w in solution.unserved)


def _solution(
    instance: Instance,
    placed: list[TrainingPlacement],
    unplaced: list[str],
    services: dict[str, _ServicePlan],
    info: SolverInfo,
) -> Solution:
    training = sorted(
        (
            TrainingAssignment(job=p.job, site=p.site, accelerator=p.accelerator, count=p.count)
            for p in placed
        ),
        key=lambda t: t.job,
    )
    replicas, routes, unserved = [], [], []
    for service_id, plan in services.items():
        for option, count in plan.replicas.items():
            if count > 0:
                replicas.append(
                    ReplicaAssignment(
                        service=service_id,
                        site=option.site,
                        accelerator=option.accelerator,
                        replicas=count,
                    )
                )
        for (region, site), rps in plan.routes.items():
            if rps > 0:
                routes.append(RouteFlow(service=service_id, region=region, site=site, rps=rps))
        # A partial plan may leave must-serve demand out; it has no price then.
        for region, rps in plan.unserved.items():
            if rps > 0:
                unserved.append(UnservedDemand(service=service_id, region=region, rps=rps))
    replicas.sort(key=lambda r: (r.service, r.site, r.accelerator))
    routes.sort(key=lambda f: (f.service, f.region, f.site))
    unserved.sort(key=lambda w: (w.service, w.region))
    breakdown = plan_costs(instance, training, sorted(unplaced), replicas, routes, unserved)
    objective = math.fsum(getattr(breakdown, part) for part in CostBreakdown.model_fields)
    return Solution(
        instance=instance.name,
        instance_sha256=instance.sha256,
        status="feasible",
        objective=objective,
        training=training,
        unplaced_training=sorted(unplaced),
        inference=replicas,
        routes=routes,
        unserved=unserved,
        costs=breakdown,
        solver=info,
    )
