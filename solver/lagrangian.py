"""A proved lower bound without the whole model: Lagrangian relaxation of capacity.

For instances too large for the LP relaxation (or CP-SAT's whole model), a bound comes
from a relaxation that splits into one tiny problem per workload. Relative to the SPEC
(sections 5 and 6):

* every inventory, grid power and (limited) cooling row moves into the objective with a
  multiplier `>= 0` (Lagrangian relaxation: for any multipliers the relaxed optimum
  minus `sum(multiplier * limit)` is at most the SPEC optimum); one accelerator of
  (s, a) then costs `price[s, a]`, the multipliers of the rows it takes times what it
  takes of each;
* bandwidth rows are dropped (dropping a row can only lower the optimum);
* a site's fixed cost is paid for a share `open[s]` in [0, 1] of the site, and every
  (site, accelerator) of a site with a fixed cost gets the row `used[s, a] <= count[s, a]
  * open[s]` (facility location's strong capacity cut; every plan meets it with `open` its
  site-use flag), priced too: a site opens where its rows' credit for the stock it opens
  passes its fixed cost;
* replicas are continuous, and a site's capacity for a service is at most the service's
  whole demand plus one replica (a plan with more can drop a replica and stay feasible
  at no more cost);
* every n+1 resilience row (SPEC 5.6: capacity outside failure domain F >= served)
  moves into the objective too, with a multiplier `beta[i, F] >= 0`: then each rps
  served costs `B[i] = sum_F beta[i, F]` more, and capacity at a site of domain F is
  credited `B[i] - beta[i, F]` per rps. Where that credit exceeds the capacity's priced
  cost, the site holds the most capacity it may; elsewhere it holds what it serves.

Then each training job takes its cheapest placement (at `price`) or stays unplaced if
optional and cheaper, and each service's demand from each region is served at the
cheapest site within the SLO (capacity and egress) or left unserved, whichever costs
less per rps. The multipliers follow the subgradient method with Polyak steps towards
a known plan's cost (or a guessed target, before there is a plan); every iterate's value
is a proved bound, and the best is kept.

Two relaxations run in turn. The *quick* one prices only the limit rows, has no site
rows, and keeps of each service's n+1 rows only their aggregate (with k failure domains,
summing the k rows gives spare capacity of at least `served / (k - 1)`, bought at the
cheapest option); its steps cost about 10 ms on generated XL-0 against 24 ms, and its
prices guide the greedy planner. The *full* one above starts where it equals the quick
one's best (`beta[i, F] = cheapest / (k - 1)`, site rows unpriced) and can only raise
the bound from there. Measured on generated L-0, where the LP is known (920.3M; without
the bandwidth rows and fixed costs 914.0M, and 893.5M without the n+1 rows as well): the
quick relaxation alone 884.3M (885.6M with stalls of 30), the full one 911.3M. On XL-0
(2,978 n+1 services, 234,275 resilience rows) 4,587.2M → 4,721.3M in 60 s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from models.tolerance import ABS_TOL, FLOAT_ROOM, REL_TOL
from solver.costs import accelerator_hour_costs, dataset_egress, traffic_egress_per_rps

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from models import Instance, TrainingPlacement

#: Polyak step scale at the start, halved after a stall of this many iterations without
#: a better bound: the quick relaxation's steps are cheap and many, the full one's few
#: and slow to settle. Generated XL-0, the full relaxation alone in 60 s: stalls of 30
#: 4,684.8M, of 100 4,716.7M; L-0: 30, 100 and 300 904.2M, 910.6M, 913.1M. Fixed counts
#: (not a share of the iterations the time allows) keep the result independent of the
#: machine's speed whenever the steps collapse before the time limit.
START_STEP = 2.0
STALL_ITERATIONS = 20
FULL_STALL_ITERATIONS = 100
#: The most time the quick relaxation may take: this share of what is left after the
#: build, and at least QUICK_LEAST_S (all of it when less is left); it stops earlier
#: once its steps collapse, and the full relaxation gets the rest.
QUICK_SHARE = 0.3
QUICK_LEAST_S = 10.0
#: Stop once the step scale is below this.
MIN_STEP = 1e-4
#: The bound is lowered by this share of its size, against float rounding in the sums.
SAFETY = 1e-9
#: Without a plan's cost to step towards, the steps aim at this multiple of the value at
#: zero prices, moved up to this multiple of any value that reaches it. Generated XL-0
#: (value at zero prices 3,868.9M): aiming at 1.5x gives 4,587.2M, at a plan's cost
#: (6,328.5M) 4,595.3M, at 5,300M 4,582.0M (60 s each); generated L-0 885.6M and 878.7M.
GUESS_FACTOR = 1.5


def _least_per_run(
    values: NDArray[np.float64], starts: NDArray[np.int64], run: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per contiguous run (entry i in run `run[i]`, runs starting at `starts`), the least
    value and the index of an entry reaching it."""
    least = np.minimum.reduceat(values, starts)
    reaching = np.flatnonzero(values <= least[run])
    # Every run reaches its least; the first entry of each run among those reaching it.
    runs = run[reaching]
    first = np.concatenate(([True], runs[1:] != runs[:-1]))
    return least, reaching[first]


@dataclass(frozen=True)
class _Groups:
    """Choices grouped by workload: choice i belongs to group `group[i]`; each group is a
    contiguous run starting at `starts[g]`. Each choice uses `per_unit[i]` accelerators of
    inventory pair `pair[i]` per unit of its group's amount, at `cost[i]` per unit."""

    group: NDArray[np.int64]
    starts: NDArray[np.int64]
    pair: NDArray[np.int64]
    per_unit: NDArray[np.float64]
    cost: NDArray[np.float64]

    def cheapest(
        self, prices: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Per group, the least priced cost per unit and the index of a choice reaching it."""
        return _least_per_run(
            self.cost + prices[self.pair] * self.per_unit, self.starts, self.group
        )


def _groups(rows: list[list[tuple[int, float, float]]]) -> _Groups:
    """_Groups from per-group lists of (pair, per_unit, cost); every list non-empty."""
    sizes = np.array([len(r) for r in rows], dtype=np.int64)
    flat = [choice for r in rows for choice in r]
    return _Groups(
        group=np.repeat(np.arange(len(rows), dtype=np.int64), sizes),
        starts=np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64),
        pair=np.array([c[0] for c in flat], dtype=np.int64),
        per_unit=np.array([c[1] for c in flat], dtype=np.float64),
        cost=np.array([c[2] for c in flat], dtype=np.float64),
    )


@dataclass(frozen=True)
class _Resilient:
    """The n+1 services, with their resilience rows priced (multipliers `beta`).

    Capacity options (one per eligible (site, accelerator) of a service) are grouped by
    *slot*, one (service, site) each, contiguous from `option_starts`; each option takes
    `option_per_unit` accelerators of pair `option_pair` per rps of capacity, at
    `option_cost` per rps over the horizon. A slot belongs to service `slot_service` and
    to the resilience row `slot_row` (its failure domain's), and holds at most `slot_cap`
    rps. Routes (one per (service, region, site in reach)) are grouped by (service,
    region), contiguous from `route_starts`: route k serves from slot `route_slot[k]` at
    `route_egress[k]` per rps (for service `route_service[k]`). Per group: demand,
    penalty per rps (inf: must be served) and service. Per resilience row: its service."""

    option_pair: NDArray[np.int64]
    option_per_unit: NDArray[np.float64]
    option_cost: NDArray[np.float64]
    option_slot: NDArray[np.int64]
    option_starts: NDArray[np.int64]
    slot_service: NDArray[np.int64]
    slot_row: NDArray[np.int64]
    slot_cap: NDArray[np.float64]
    route_group: NDArray[np.int64]
    route_starts: NDArray[np.int64]
    route_slot: NDArray[np.int64]
    route_egress: NDArray[np.float64]
    route_service: NDArray[np.int64]
    group_demand: NDArray[np.float64]
    group_penalty: NDArray[np.float64]
    group_service: NDArray[np.int64]
    row_service: NDArray[np.int64]
    #: Per service: where its slots and its options begin, and 1 / (k - 1) for its k
    #: failure domains; each option's service.
    service_starts: NDArray[np.int64]
    service_option_starts: NDArray[np.int64]
    spare_share: NDArray[np.float64]
    option_service: NDArray[np.int64]
    #: Every (route, option of its slot), grouped by (service, region) like the routes,
    #: contiguous from `choice_starts`: for the quick relaxation, which needs no slots.
    choice_option: NDArray[np.int64]
    choice_group: NDArray[np.int64]
    choice_egress: NDArray[np.float64]
    choice_starts: NDArray[np.int64]

    def aggregate_value(
        self, prices: NDArray[np.float64], used: NDArray[np.float64]
    ) -> tuple[float, NDArray[np.float64]]:
        """The relaxed optimum of these services at capacity `prices` with each service's
        resilience rows replaced by their aggregate (with k domains, spare capacity of
        `served / (k - 1)`, bought at the cheapest option); adds the accelerators it takes
        to `used` and returns the resilience multipliers at which `value` equals it."""
        priced = self.option_cost + prices[self.option_pair] * self.option_per_unit
        spare_least, spare_option = _least_per_run(
            priced, self.service_option_starts, self.option_service
        )
        spare_cost = spare_least * self.spare_share
        choice_cost = (
            priced[self.choice_option]
            + self.choice_egress
            + spare_cost[self.group_service[self.choice_group]]
        )
        least, chosen = _least_per_run(choice_cost, self.choice_starts, self.choice_group)
        served = least < self.group_penalty
        total = float((np.where(served, least, self.group_penalty) * self.group_demand).sum())
        option = self.choice_option[chosen[served]]
        used += np.bincount(
            self.option_pair[option],
            weights=self.option_per_unit[option] * self.group_demand[served],
            minlength=len(used),
        )
        served_rps = np.bincount(
            self.group_service[served],
            weights=self.group_demand[served],
            minlength=len(self.service_starts),
        )
        used += np.bincount(
            self.option_pair[spare_option],
            weights=self.option_per_unit[spare_option] * served_rps * self.spare_share,
            minlength=len(used),
        )
        return total, spare_cost[self.row_service]

    def value(
        self, prices: NDArray[np.float64], beta: NDArray[np.float64], used: NDArray[np.float64]
    ) -> tuple[float, NDArray[np.float64]]:
        """The relaxed optimum of these services at capacity `prices` (per accelerator of
        each pair) and resilience multipliers `beta`; adds the accelerators it takes to
        `used` and returns the subgradient of the resilience rows (served - capacity
        outside the row's domain)."""
        services = len(self.service_starts)
        per_service = np.bincount(self.row_service, weights=beta, minlength=services)
        priced = self.option_cost + prices[self.option_pair] * self.option_per_unit
        slot_least, slot_option = _least_per_run(priced, self.option_starts, self.option_slot)
        # The credit is the same for every option of a slot.
        slot_cost = slot_least - per_service[self.slot_service] + beta[self.slot_row]
        route_cost = (
            self.route_egress
            + per_service[self.route_service]
            + np.maximum(slot_cost[self.route_slot], 0.0)
        )
        least, chosen = _least_per_run(route_cost, self.route_starts, self.route_group)
        served = least < self.group_penalty
        held = slot_cost < 0
        total = float((np.where(served, least, self.group_penalty) * self.group_demand).sum())
        total += float((slot_cost[held] * self.slot_cap[held]).sum())
        serving = np.bincount(
            self.route_slot[chosen[served]],
            weights=self.group_demand[served],
            minlength=len(self.slot_cap),
        )
        capacity = np.where(held, self.slot_cap, serving)
        used += np.bincount(
            self.option_pair[slot_option],
            weights=self.option_per_unit[slot_option] * capacity,
            minlength=len(used),
        )
        served_rps = np.bincount(
            self.group_service[served], weights=self.group_demand[served], minlength=services
        )
        service_capacity = np.bincount(self.slot_service, weights=capacity, minlength=services)
        row_capacity = np.bincount(self.slot_row, weights=capacity, minlength=len(beta))
        gradient = served_rps[self.row_service] - service_capacity[self.row_service] + row_capacity
        return total, np.asarray(gradient, dtype=np.float64)


class _ResilientRows:
    """Collects the n+1 services of an instance into a _Resilient."""

    def __init__(self) -> None:
        self.options: list[tuple[int, float, float, int]] = []
        self.slots: list[tuple[int, int, float]] = []
        self.routes: list[tuple[int, int, float]] = []
        self.groups: list[tuple[float, float, int]] = []
        self.rows: list[int] = []
        self.shares: list[float] = []
        self.choices: list[tuple[int, int, float]] = []
        self.services = 0

    def add_service(
        self,
        sites: dict[str, list[tuple[int, float, float]]],
        domain_of: dict[str, str],
        cap: dict[str, float],
        regions: list[tuple[float, float, list[tuple[str, float]]]],
    ) -> None:
        """One n+1 service: its capacity options per site as (pair, per_unit, cost per
        rps), each site's failure domain and capacity limit, and per region with demand
        (demand, penalty per rps, [(site in reach, egress per rps)])."""
        service = self.services
        self.services += 1
        domains = sorted(set(domain_of.values()))
        row_of = {domain: len(self.rows) + k for k, domain in enumerate(domains)}
        self.rows.extend(service for _ in domains)
        self.shares.append(1.0 / (len(domains) - 1))
        slot_of: dict[str, int] = {}
        options_of: dict[str, range] = {}
        for site_id in sorted(sites):
            slot_of[site_id] = len(self.slots)
            self.slots.append((service, row_of[domain_of[site_id]], cap[site_id]))
            first = len(self.options)
            self.options.extend((p, u, c, slot_of[site_id]) for p, u, c in sites[site_id])
            options_of[site_id] = range(first, len(self.options))
        for demand, penalty, reach in regions:
            group = len(self.groups)
            self.groups.append((demand, penalty, service))
            self.routes.extend((group, slot_of[site], egress) for site, egress in reach)
            self.choices.extend(
                (option, group, egress) for site, egress in reach for option in options_of[site]
            )

    def build(self) -> _Resilient | None:
        """The collected services, or None when there are none."""
        if not self.services:
            return None
        option_slot = np.array([o[3] for o in self.options], dtype=np.int64)
        route_group = np.array([r[0] for r in self.routes], dtype=np.int64)
        group_service = np.array([g[2] for g in self.groups], dtype=np.int64)
        slot_service = np.array([s[0] for s in self.slots], dtype=np.int64)
        option_service = slot_service[option_slot]
        choice_group = np.array([c[1] for c in self.choices], dtype=np.int64)
        return _Resilient(
            option_pair=np.array([o[0] for o in self.options], dtype=np.int64),
            option_per_unit=np.array([o[1] for o in self.options], dtype=np.float64),
            option_cost=np.array([o[2] for o in self.options], dtype=np.float64),
            option_slot=option_slot,
            option_starts=_run_starts(option_slot),
            slot_service=slot_service,
            slot_row=np.array([s[1] for s in self.slots], dtype=np.int64),
            slot_cap=np.array([s[2] for s in self.slots], dtype=np.float64),
            route_group=route_group,
            route_starts=_run_starts(route_group),
            route_slot=np.array([r[1] for r in self.routes], dtype=np.int64),
            route_egress=np.array([r[2] for r in self.routes], dtype=np.float64),
            route_service=group_service[route_group],
            group_demand=np.array([g[0] for g in self.groups], dtype=np.float64),
            group_penalty=np.array([g[1] for g in self.groups], dtype=np.float64),
            group_service=group_service,
            row_service=np.array(self.rows, dtype=np.int64),
            service_starts=_run_starts(slot_service),
            service_option_starts=_run_starts(option_service),
            spare_share=np.array(self.shares, dtype=np.float64),
            option_service=option_service,
            choice_option=np.array([c[0] for c in self.choices], dtype=np.int64),
            choice_group=choice_group,
            choice_egress=np.array([c[2] for c in self.choices], dtype=np.float64),
            choice_starts=_run_starts(choice_group),
        )


def _run_starts(run: NDArray[np.int64]) -> NDArray[np.int64]:
    """Where each run of a sorted run index begins (every run non-empty)."""
    return np.flatnonzero(np.concatenate(([True], run[1:] != run[:-1]))).astype(np.int64)


@dataclass(frozen=True)
class _Relaxation:
    """The decomposed relaxation of one instance."""

    count: NDArray[np.float64]
    #: The relaxed limit rows (inventory, grid power, limited cooling): entry e says that
    #: one accelerator of pair `entry_pair[e]` takes `entry_coef[e]` of row `entry_row[e]`.
    limit: NDArray[np.float64]
    entry_pair: NDArray[np.int64]
    entry_row: NDArray[np.int64]
    entry_coef: NDArray[np.float64]
    #: Site rows (the strong capacity cut of facility location, `used[s, a] <= count[s, a]
    #: * open[s]`, one per pair at a site with a fixed cost): row r limits pair
    #: `site_pair[r]` at site `site_of_row[r]` (index into `fixed`, the sites' costs).
    site_pair: NDArray[np.int64]
    site_of_row: NDArray[np.int64]
    fixed: NDArray[np.float64]
    #: Training: one group per job with placements (amount 1); what leaving it out costs
    #: (inf when required); the placement each choice stands for.
    jobs: _Groups | None
    job_unplaced: NDArray[np.float64]
    job_placements: tuple[TrainingPlacement, ...]
    #: Serving without n+1: one group per (service, region) with sites in reach (amount:
    #: its demand in rps); per group the penalty per rps (inf when it must be served) and
    #: the demand.
    serve: _Groups | None
    penalty: NDArray[np.float64]
    demand: NDArray[np.float64]
    #: The n+1 services.
    resilient: _Resilient | None
    #: Work that has no option at all and may not be left out: nothing is feasible.
    infeasible: bool
    #: Cost of work that has no option and is left out (optional jobs, penalised demand).
    left_out: float
    #: What the absolute tolerance of the serving rows may be worth (`_tolerant`).
    tolerance_cost: float = 0.0


def _relaxation(instance: Instance) -> _Relaxation:
    """The relaxation's data, with the instance's own figures (the steps and the prices run
    on these: a limit met exactly prices cleanly); `_tolerant` derives the one whose value
    is proved."""
    eligibility = instance.eligibility
    pairs = {pair: index for index, pair in enumerate(sorted(instance.inventory_by_pair))}
    count = np.array(
        [instance.inventory_by_pair[pair].count for pair in sorted(pairs)], dtype=np.float64
    )
    hours = instance.horizon_hours
    rate = {pair: accelerator_hour_costs(instance, *pair).total for pair in pairs}
    infeasible = False
    left_out = 0.0
    tolerance_cost = 0.0

    limit = list(count)
    entries: list[tuple[int, int, float]] = [(index, index, 1.0) for index in range(len(count))]
    grid_row: dict[str, int] = {}
    cooling_row: dict[tuple[str, str], int] = {}
    for (site_id, accelerator_id), index in pairs.items():
        site = instance.site_by_id[site_id]
        accelerator = instance.accelerator_by_id[accelerator_id]
        if site_id not in grid_row:
            grid_row[site_id] = len(limit)
            limit.append(site.grid_kw)
        entries.append((index, grid_row[site_id], accelerator.power_kw * site.pue))
        cooling = site.cooling_limit_kw(accelerator.cooling)
        if cooling is not None:
            key = (site_id, accelerator.cooling)
            if key not in cooling_row:
                cooling_row[key] = len(limit)
                limit.append(cooling)
            entries.append((index, cooling_row[key], accelerator.power_kw))

    fixed_sites = sorted(
        {site_id for site_id, _ in pairs if instance.site_by_id[site_id].fixed_cost > 0}
    )
    fixed_index = {site_id: k for k, site_id in enumerate(fixed_sites)}
    site_rows = [
        (index, fixed_index[site_id])
        for (site_id, _), index in pairs.items()
        if site_id in fixed_index
    ]

    job_rows: list[list[tuple[int, float, float]]] = []
    job_unplaced: list[float] = []
    job_placements: list[TrainingPlacement] = []
    for job in instance.training:
        placements = eligibility.training[job.id]
        if not placements:
            if job.required:
                infeasible = True
            else:
                left_out += job.unplaced_cost
            continue
        job_rows.append(
            [
                (
                    pairs[p.site, p.accelerator],
                    float(p.count),
                    # training_costs(...).total, with the rate looked up once per pair.
                    p.count * job.run_hours * rate[p.site, p.accelerator]
                    + job.site_costs.get(p.site, 0.0)
                    + dataset_egress(instance, job, p.site),
                )
                for p in placements
            ]
        )
        job_unplaced.append(math.inf if job.required else job.unplaced_cost)
        job_placements.extend(placements)

    serve_rows: list[list[tuple[int, float, float]]] = []
    penalty: list[float] = []
    demand: list[float] = []
    resilient = _ResilientRows()
    for service in instance.inference:
        options = eligibility.replicas[service.id]
        at_site: dict[str, list[tuple[int, float, float]]] = {}
        fastest: dict[str, float] = {}
        for o in options:
            at_site.setdefault(o.site, []).append(
                (
                    pairs[o.site, o.accelerator],
                    o.per_replica / o.rps,
                    o.per_replica * hours * rate[o.site, o.accelerator] / o.rps,
                )
            )
            fastest[o.site] = max(fastest.get(o.site, 0.0), o.rps)
        if at_site:
            # The absolute 1e-6 rps of the SPEC's tolerance on each serving row, at the
            # service's dearest rps (`_tolerant`).
            dearest = max(cost for choices in at_site.values() for _, _, cost in choices)
            tolerance_cost += ABS_TOL * (len(at_site) + 1) * dearest
        price = (
            math.inf
            if service.unserved_cost_per_rps_hour is None
            else service.unserved_cost_per_rps_hour * hours
        )
        domain_of = {site_id: instance.site_by_id[site_id].domain for site_id in at_site}
        n_plus_1 = service.resilience == "n+1"
        reach: dict[str, list[str]] = {}
        for route in eligibility.routes[service.id]:
            if route.site in at_site:
                reach.setdefault(route.region, []).append(route.site)
        regions: list[tuple[float, float, list[tuple[str, float]]]] = []
        for region, rps in sorted(service.demand_rps.items()):
            if rps <= 0:
                continue
            sites = reach.get(region, [])
            if not sites or (n_plus_1 and len(set(domain_of.values())) < 2):
                if price == math.inf:
                    infeasible = True
                else:
                    left_out += rps * price
                continue
            egress = {
                site_id: traffic_egress_per_rps(instance, service.kb_per_request, region, site_id)
                if service.kb_per_request > 0
                else 0.0
                for site_id in sites
            }
            if n_plus_1:
                regions.append((rps, price, sorted(egress.items())))
                continue
            serve_rows.append(
                [
                    (pair, per_unit, cost + egress[site_id])
                    for site_id in sites
                    for pair, per_unit, cost in at_site[site_id]
                ]
            )
            penalty.append(price)
            demand.append(rps)
        if regions:
            # A plan whose capacity at one site passes the whole demand by a replica
            # can drop that replica.
            total = sum(service.demand_rps.values())
            cap = {site_id: total + fastest[site_id] for site_id in at_site}
            resilient.add_service(at_site, domain_of, cap, regions)

    return _Relaxation(
        count=count,
        limit=np.array(limit, dtype=np.float64),
        entry_pair=np.array([e[0] for e in entries], dtype=np.int64),
        entry_row=np.array([e[1] for e in entries], dtype=np.int64),
        entry_coef=np.array([e[2] for e in entries], dtype=np.float64),
        site_pair=np.array([r[0] for r in site_rows], dtype=np.int64),
        site_of_row=np.array([r[1] for r in site_rows], dtype=np.int64),
        fixed=np.array(
            [instance.site_by_id[site_id].fixed_cost for site_id in fixed_sites], dtype=np.float64
        ),
        jobs=_groups(job_rows) if job_rows else None,
        job_unplaced=np.array(job_unplaced, dtype=np.float64),
        job_placements=tuple(job_placements),
        serve=_groups(serve_rows) if serve_rows else None,
        penalty=np.array(penalty, dtype=np.float64),
        demand=np.array(demand, dtype=np.float64),
        resilient=resilient.build(),
        infeasible=infeasible,
        left_out=left_out,
        tolerance_cost=tolerance_cost,
    )


def _tolerant(relaxation: _Relaxation) -> _Relaxation:
    """The relaxation whose value at any prices bounds every plan that meets the rows to
    the SPEC's tolerance: every limit widened (the stock's still whole: accelerators in
    use are whole), each rps taking 2e-6 less of a replica and its cost (a replica may
    carry 1e-6 more than its rate), and the absolute 1e-6 rps of each serving row paid
    for at the service's dearest rps."""
    limit = np.maximum(relaxation.limit + ABS_TOL, relaxation.limit / (1.0 - REL_TOL))
    limit = limit * (1.0 + FLOAT_ROOM)
    stock = len(relaxation.count)
    limit[:stock] = np.floor(limit[:stock])
    share = 1.0 - 2.0 * REL_TOL
    serve = relaxation.serve
    if serve is not None:
        serve = replace(serve, per_unit=serve.per_unit * share, cost=serve.cost * share)
    resilient = relaxation.resilient
    if resilient is not None:
        resilient = replace(
            resilient,
            option_per_unit=resilient.option_per_unit * share,
            option_cost=resilient.option_cost * share,
        )
    return replace(
        relaxation,
        limit=limit,
        serve=serve,
        resilient=resilient,
        left_out=relaxation.left_out - relaxation.tolerance_cost,
    )


def _pair_prices(relaxation: _Relaxation, multipliers: NDArray[np.float64]) -> NDArray[np.float64]:
    """What one accelerator of each inventory pair costs at `multipliers` (of the limit
    rows, then of the site rows): the multiplier of each row it takes, times what it
    takes of that row."""
    rows = len(relaxation.limit)
    limits = np.bincount(
        relaxation.entry_pair,
        weights=multipliers[relaxation.entry_row] * relaxation.entry_coef,
        minlength=len(relaxation.count),
    )
    sites = np.bincount(
        relaxation.site_pair,
        weights=multipliers[rows : rows + len(relaxation.site_pair)],
        minlength=len(relaxation.count),
    )
    return np.asarray(limits + sites, dtype=np.float64)


def _value(
    relaxation: _Relaxation,
    multipliers: NDArray[np.float64],
    *,
    aggregate: bool = False,
    shares: _PlacementShares | None = None,
) -> tuple[float, NDArray[np.float64]]:
    """The relaxed optimum at `multipliers` (one per limit row, per site row, then per
    resilience row; a proved bound) and its subgradient: what it takes of each limit row
    beyond the limit, of each site row beyond the stock it opens, then each resilience
    row's served demand beyond the capacity outside its domain.

    `aggregate`: the quick relaxation (see `lagrangian`), where only the limit rows are
    priced; the other multipliers are taken as those it equals, and its subgradient is
    zero there. The training placements chosen are counted in `shares` when the value is
    finite."""
    rows = len(relaxation.limit)
    site_rows = rows + len(relaxation.site_pair)
    if aggregate:
        multipliers = multipliers.copy()
        multipliers[rows:site_rows] = 0.0
    prices = _pair_prices(relaxation, multipliers[:site_rows])
    used = np.zeros_like(relaxation.count)
    total = relaxation.left_out - float(multipliers[:rows] @ relaxation.limit)
    # A site opens (wholly: its cost is linear in `open`) where its rows' credit for the
    # stock it opens passes its fixed cost.
    credit = multipliers[rows:site_rows] * relaxation.count[relaxation.site_pair]
    reduced = relaxation.fixed - np.bincount(
        relaxation.site_of_row, weights=credit, minlength=len(relaxation.fixed)
    )
    opened = reduced < 0
    total += float(reduced[opened].sum())
    jobs = relaxation.jobs
    job_choice: NDArray[np.int64] | None = None
    if jobs is not None:
        least, chosen = jobs.cheapest(prices)
        placed = least < relaxation.job_unplaced
        job_choice = chosen[placed]
        total += float(np.where(placed, least, relaxation.job_unplaced).sum())
        used += np.bincount(
            jobs.pair[job_choice], weights=jobs.per_unit[job_choice], minlength=len(used)
        )
    serve = relaxation.serve
    if serve is not None:
        least, chosen = serve.cheapest(prices)
        served = least < relaxation.penalty
        total += float((np.where(served, least, relaxation.penalty) * relaxation.demand).sum())
        rps = relaxation.demand[served]
        used += np.bincount(
            serve.pair[chosen[served]],
            weights=serve.per_unit[chosen[served]] * rps,
            minlength=len(used),
        )
    resilience = np.zeros(len(multipliers) - site_rows, dtype=np.float64)
    if relaxation.resilient is not None:
        if aggregate:
            value, _ = relaxation.resilient.aggregate_value(prices, used)
        else:
            value, resilience = relaxation.resilient.value(prices, multipliers[site_rows:], used)
        total += value
    taken = np.asarray(
        np.bincount(
            relaxation.entry_row,
            weights=used[relaxation.entry_pair] * relaxation.entry_coef,
            minlength=rows,
        ),
        dtype=np.float64,
    )
    site_gradient = (
        used[relaxation.site_pair]
        - relaxation.count[relaxation.site_pair] * opened[relaxation.site_of_row]
    )
    if aggregate:
        site_gradient[:] = 0.0
    if shares is not None and job_choice is not None and math.isfinite(total):
        shares.add(job_choice)
    return total, np.concatenate((taken - relaxation.limit, site_gradient, resilience))


def _equal_multipliers(
    relaxation: _Relaxation, multipliers: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Multipliers at which the full relaxation equals the quick one at `multipliers`:
    the same limit-row multipliers, unpriced site rows, and the resilience multipliers of
    the aggregate."""
    rows = len(relaxation.limit)
    site_rows = rows + len(relaxation.site_pair)
    equal = multipliers.copy()
    equal[rows:site_rows] = 0.0
    if relaxation.resilient is not None:
        prices = _pair_prices(relaxation, equal[:site_rows])
        _, beta = relaxation.resilient.aggregate_value(prices, np.zeros_like(relaxation.count))
        equal[site_rows:] = beta
    return equal


def _start(relaxation: _Relaxation) -> NDArray[np.float64]:
    """The first multipliers, all zero (the quick relaxation prices only the limit rows;
    the full one starts from `_equal_multipliers`)."""
    resilient = relaxation.resilient
    rows = 0 if resilient is None else len(resilient.row_service)
    return np.zeros(len(relaxation.limit) + len(relaxation.site_pair) + rows)


@dataclass(frozen=True)
class LagrangianResult:
    """A proved bound, the capacity prices of the iterate that gave it: per (site,
    accelerator), what one more accelerator in use there is worth (inventory, grid power
    and cooling multipliers, each times what one accelerator takes of its row), and per
    training placement the share of the quick relaxation's steps that chose it (see
    `_PlacementShares`; zero shares left out)."""

    bound: float
    prices: dict[tuple[str, str], float]
    placements: dict[TrainingPlacement, float] = field(default_factory=dict)


class _PlacementShares:
    """The ergodic mean of the training placements the subgradient iterates choose.

    One iterate's choice is all or nothing per job, and the choices flip as the prices
    move; their running mean over the iterates converges to an optimal solution of the
    relaxation's convex hull, which here is the LP with the relaxed rows kept (Larsson,
    Patriksson and Strömberg, Math. Programming 86, 1999). Later iterates, nearer the
    best prices, weigh more: iterate k has weight k (the s^k-rule of Gustavsson,
    Patriksson and Strömberg, Math. Programming 150, 2015). These shares stand in for the
    LP's placement values where the LP is too large to solve: generated L-0/1/2, greedy
    plans priced by the quick relaxation with and without them (best of price weights 1
    and 0.5), 1,076.0 / 1,148.4 / 984.1M without, 1,049.8 / 1,131.2 / 970.6M with
    (the LP's own values and prices: 1,041.0 / 1,111.4 / 965.8M); weights 1 for every
    iterate gave L-0 1,069.2M at price weight 1 (1,058.2M with weight k)."""

    def __init__(self, relaxation: _Relaxation) -> None:
        self.placements = relaxation.job_placements
        self.sums = np.zeros(len(self.placements), dtype=np.float64)
        self.weight = 0.0
        self.steps = 0

    def add(self, chosen: NDArray[np.int64]) -> None:
        """Count one iterate's placements (indices into the relaxation's choices)."""
        self.steps += 1
        self.sums[chosen] += self.steps
        self.weight += self.steps

    def shares(self) -> dict[TrainingPlacement, float]:
        """Per placement chosen at least once, its weighted share of the iterates."""
        if self.weight <= 0:
            return {}
        return {
            self.placements[index]: float(self.sums[index] / self.weight)
            for index in np.flatnonzero(self.sums > 0)
        }


@dataclass
class _Ascent:
    """The best iterate of a subgradient ascent: its value, and the mean of the
    multipliers that reach it."""

    value: float
    multipliers: NDArray[np.float64]


def _ascend(
    relaxation: _Relaxation,
    multipliers: NDArray[np.float64],
    upper: float | None,
    deadline: float,
    iterations: int,
    *,
    aggregate: bool,
    shares: _PlacementShares | None = None,
) -> _Ascent:
    """Subgradient steps (Polyak, towards `upper` or a guessed target) from
    `multipliers` until `deadline`, the step collapses or `iterations` are done; each
    iterate's training placements are counted in `shares`."""
    best = _Ascent(-math.inf, multipliers)
    tied = 0
    step = START_STEP
    stall = 0
    guessed = upper is None
    patience = STALL_ITERATIONS if aggregate else FULL_STALL_ITERATIONS
    for _ in range(iterations):
        with np.errstate(over="ignore", invalid="ignore"):
            value, gradient = _value(relaxation, multipliers, aggregate=aggregate, shares=shares)
        if not math.isfinite(value):
            # Rising without end (an instance with no plan) until the floats overflow.
            break
        if upper is None or (guessed and value >= upper):
            # Only a plan's cost proves the bound cannot rise further; a guess moves up.
            upper = value + (GUESS_FACTOR - 1.0) * max(abs(value), 1.0)
        if value > best.value + 1e-9 * abs(value):
            best, tied, stall = _Ascent(value, multipliers), 1, 0
        else:
            if value >= best.value - 1e-9 * abs(value):
                # As good a bound: the prices kept are the mean of all such iterates. The
                # best prices form a convex set, and its edges price capacity out of work
                # that is worth it (or let work take capacity others are worth more on).
                tied += 1
                best.multipliers = best.multipliers + (multipliers - best.multipliers) / tied
            stall += 1
            if stall >= patience:
                step, stall = step / 2, 0
        # Multipliers at zero cannot fall: their negative components do not count.
        gradient[(multipliers <= 0) & (gradient < 0)] = 0.0
        norm = float(gradient @ gradient)
        if norm <= 0 or step < MIN_STEP or upper <= value or time.perf_counter() > deadline:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            multipliers = np.maximum(0.0, multipliers + step * (upper - value) / norm * gradient)
        if not np.isfinite(multipliers).all():
            break
    return best


def lagrangian(
    instance: Instance, upper: float | None, time_limit_s: float, *, iterations: int = 10_000
) -> LagrangianResult | None:
    """The best proved lower bound on the SPEC optimum the subgradient method finds within
    `time_limit_s`, stepping towards `upper` (a plan's cost; None: a guessed target, see
    GUESS_FACTOR), with the capacity prices of the quick relaxation; None if the
    relaxation shows the instance has no plan.

    The quick relaxation comes first, for at most QUICK_SHARE of the time: only the limit
    rows priced, each service's n+1 rows replaced by their aggregate and no site rows (its
    steps are cheaper, and its prices guide the greedy planner better: generated XL-0,
    priced greedy plan 5,549.7M against 5,978.8M with the full relaxation's prices, 6 s
    each). The full relaxation then starts from where it equals the quick one's best."""
    started = time.perf_counter()
    deadline = started + time_limit_s
    relaxation = _relaxation(instance)
    if relaxation.infeasible:
        return None
    tolerant = _tolerant(relaxation)
    left = deadline - time.perf_counter()
    quick_deadline = time.perf_counter() + max(QUICK_SHARE * left, min(left, QUICK_LEAST_S))
    shares = _PlacementShares(relaxation)
    quick = _ascend(
        relaxation,
        _start(relaxation),
        upper,
        quick_deadline,
        iterations,
        aggregate=True,
        shares=shares,
    )
    equal = _equal_multipliers(relaxation, quick.multipliers)
    full = _ascend(relaxation, equal, upper, deadline, iterations, aggregate=False)
    # The proved value: the tolerant relaxation's at the prices the steps found.
    with np.errstate(over="ignore", invalid="ignore"):
        proved = [
            _value(tolerant, quick.multipliers, aggregate=True)[0],
            _value(tolerant, full.multipliers, aggregate=False)[0],
        ]
    best = max(value if math.isfinite(value) else -math.inf for value in proved)
    per_pair = _pair_prices(relaxation, equal)
    prices = {
        pair: float(per_pair[index])
        for index, pair in enumerate(sorted(instance.inventory_by_pair))
        if per_pair[index] > 0
    }
    return LagrangianResult(best - SAFETY * abs(best), prices, shares.shares())
