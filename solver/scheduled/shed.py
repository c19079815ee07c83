"""A first plan after an incident under a move budget: whole jobs moved off the sites
over their limits, everything else as it runs now.

After a grid cut `current` breaks the limits of a few sites (the anchor), and the move
budgets keep a re-plan near it. Moving whole training jobs elsewhere is what sheds the
most load per move, and leaves every replica and route as it is (no replica change).
`shed_load` does that greedily: while an anchor site is over a limit of its period (grid
power, a cooling kind, an accelerator type's stock), it makes the move that costs least
per share of the excess it removes (to another eligible placement where the job fits
among what runs there, or out of the plan for an optional job), within the training-move
budget. Then replicas, within the change budget: moved or stopped, the step whose cost
plus a price per change is least per share of the excess first, with the lowest price
whose plan fits the budget (docs/formulation.md, "The greedy shed"). The plan counts
only once the evaluator accepts it.

It is a construction heuristic: a restriction, which proves nothing. Static instances
only (one period, no start hours), where the site neighbourhoods
(`solver.scheduled.site_search`) improve it; on generated M's grid incident their search
had no plan in 10 s from the broken current plan (docs/formulation.md, "Under a move
budget").
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import ReplicaAssignment, TrainingAssignment
from models.network import GBPS_PER_RPS_KB
from solver.costs import replica_costs, replica_size, training_costs
from solver.flows import cheapest_flows
from solver.scheduled.check import accepted
from solver.scheduled.costs import move_cost
from solver.scheduled.plan import ScheduledPlan

if TYPE_CHECKING:
    from collections.abc import Iterator

    from models import Instance
    from models.accelerators import CoolingKind
    from models.eligibility import ReplicaOption, TrainingPlacement


class _Loads:
    """Accelerators of each type, IT kW of each cooling kind, at each site; Gbps on each
    link (the plan's traffic and remote dataset reads)."""

    def __init__(self, instance: Instance, plan: ScheduledPlan) -> None:
        self.instance = instance
        self.used: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.gbps: dict[int, float] = defaultdict(float)
        for flow in plan.routes:
            kb = instance.inference_by_id[flow.service].kb_per_request
            route = instance.paths.route(flow.region, flow.site)
            if kb > 0 and route is not None:
                for link in route.links:
                    self.gbps[link] += flow.rps * kb * GBPS_PER_RPS_KB
        for entry in plan.training:
            self.used[entry.site][entry.accelerator] += entry.count
            self.read(entry.job, entry.site, 1.0)
        for group in plan.inference:
            size = next(
                p.per_replica
                for p in instance.inference_by_id[group.service].profiles
                if p.accelerator == group.accelerator
            )
            self.used[group.site][group.accelerator] += group.replicas * size

    def copy(self) -> _Loads:
        """An independent copy."""
        other = _Loads.__new__(_Loads)
        other.instance = self.instance
        other.used = defaultdict(lambda: defaultdict(float))
        for site, used in self.used.items():
            other.used[site].update(used)
        other.gbps = defaultdict(float, self.gbps)
        return other

    def _limits(self, site: str) -> Iterator[tuple[float, float]]:
        """(load, limit) of each limit of `site`: grid power, each cooling kind, each
        accelerator type's stock."""
        instance = self.instance
        schedule = instance.schedule
        specs = instance.accelerator_by_id
        used = self.used[site]
        heat: dict[CoolingKind, float] = defaultdict(float)
        for accelerator, count in used.items():
            heat[specs[accelerator].cooling] += count * specs[accelerator].power_kw
        yield instance.site_by_id[site].pue * math.fsum(heat.values()), schedule.grid_kw[site][0]
        for kind, kw in heat.items():
            limit = schedule.cooling_kw[(site, kind)][0]
            if limit is not None:
                yield kw, limit
        for accelerator, count in used.items():
            stock = schedule.count.get((site, accelerator))
            yield count, stock[0] if stock is not None else 0.0

    def excess(self, site: str) -> list[float]:
        """How far over each of its limits `site` is, as a share of the limit (0: within)."""
        return [max(0.0, load - limit) / max(limit, 1e-9) for load, limit in self._limits(site)]

    def over(self, site: str) -> bool:
        """Whether `site` is over one of its limits (some `excess` above 0)."""
        return any(load > limit for load, limit in self._limits(site))

    def move(self, site: str, accelerator: str, count: float) -> None:
        self.used[site][accelerator] += count

    def fits(self, site: str, accelerator: str, count: float) -> bool:
        """Whether `count` more accelerators fit at `site` within all its limits."""
        self.move(site, accelerator, count)
        fits = not self.over(site)
        self.move(site, accelerator, -count)
        return fits

    def share_shed(self, site: str, accelerator: str, count: float) -> float:
        """The share of `site`'s excess over its limits that `count` fewer accelerators
        remove (the site is over a limit)."""
        before = sum(self.excess(site))
        self.move(site, accelerator, -count)
        after = sum(self.excess(site))
        self.move(site, accelerator, count)
        return (before - after) / before

    def _reads(self, job: str, site: str) -> tuple[list[int], float]:
        """The links a job at `site` reads its remote dataset over, and the Gbps."""
        dataset = self.instance.training_by_id[job].dataset
        if dataset is None or dataset.read_gbps <= 0 or dataset.at == site:
            return [], 0.0
        route = self.instance.paths.route(dataset.at, site)
        return ([], 0.0) if route is None else (list(route.links), dataset.read_gbps)

    def read(self, job: str, site: str, sign: float) -> None:
        """Add (sign 1) or take away (-1) the job's dataset reads at `site`."""
        links, gbps = self._reads(job, site)
        for link in links:
            self.gbps[link] += sign * gbps

    def reads_fit(self, job: str, site: str) -> bool:
        """Whether the job's dataset reads at `site` fit on the links' spare bandwidth."""
        links, gbps = self._reads(job, site)
        for link in links:
            capacity = self.instance.links[link].bandwidth_gbps
            if capacity is not None and self.gbps[link] + gbps > capacity:
                return False
        return True


@dataclass(frozen=True, slots=True)
class Shed:
    """What `shed_load` made: a plan the evaluator accepts, if any, and the greedy's
    decisions either way (a start nearer to a plan than `current`, for the
    neighbourhoods), None when it changed nothing."""

    plan: ScheduledPlan | None
    nearer: ScheduledPlan | None


def shed_load(
    instance: Instance,
    start: ScheduledPlan,
    anchor: set[str],
    max_moves: int | None,
    max_changes: int | None,
) -> Shed:
    """`start` (what runs now, over its limits at the `anchor` sites) with jobs moved off
    the anchor, then replicas, until every site is within its limits, in at most
    `max_moves` training moves and `max_changes` replica changes (None: any number)."""
    if instance.periods is not None:
        return Shed(None, None)
    loads = _Loads(instance, start)
    placed = {entry.job: entry for entry in start.training}
    unplaced = set(start.unplaced_training)
    moved = _move_jobs(instance, start, anchor, max_moves, loads, placed, unplaced)

    def priced(price: float) -> Shed:
        return _with_replicas(
            instance, start, anchor, max_changes, loads.copy(), placed, unplaced, moved, price
        )

    # Replicas the cheapest way first (price 0 per change). When that runs out of
    # changes, the most shed per change (no price) and, when that fits, the lowest price
    # per change that fits, by bisection on its logarithm (generated M's grid incident,
    # 16 / 1,000 changes: 175.3M with no price, 160.0M at 1,000 per change).
    cheapest = priced(0.0)
    if cheapest.plan is not None or max_changes is None:
        return cheapest
    frugal = priced(math.inf)
    if frugal.plan is None:
        return frugal
    best = frugal.plan
    scale = _change_scale(instance, start, anchor)
    low, high = PRICE_RANGE
    for _ in range(PRICE_STEPS):
        middle = (low + high) / 2
        found = priced(scale * 2.0**middle).plan
        if found is None:
            low = middle
            continue
        high = middle
        if found.objective < best.objective:
            best = found
    return Shed(best, best)


#: Prices per replica change the greedy tries (`shed_load`), as powers of 2 of the
#: median cost of a replica at the anchor sites: on generated M's grid incident the
#: lowest that fits 1,000 changes was between 2^-4.4 and 2^-2.7 of it.
PRICE_RANGE = (-10.0, 4.0)
#: Bisection steps over PRICE_RANGE: the price found is within 2^(14/16) of the lowest.
PRICE_STEPS = 4


def _change_scale(instance: Instance, start: ScheduledPlan, anchor: set[str]) -> float:
    """The median cost of one replica (over the horizon) among the groups at `anchor`."""
    costs = sorted(
        replica_costs(instance, _option(instance, (g.service, g.site, g.accelerator))).total
        for g in start.inference
        if g.site in anchor
    )
    return costs[len(costs) // 2] if costs else 1.0


def _with_replicas(
    instance: Instance,
    start: ScheduledPlan,
    anchor: set[str],
    max_changes: int | None,
    loads: _Loads,
    placed: dict[str, TrainingAssignment],
    unplaced: set[str],
    moved: bool,
    price: float,
) -> Shed:
    """The plan once replicas are moved off the anchor (`_move_replicas`, with `price`
    per change) after the jobs `placed` and `unplaced` (`moved`: whether any moved)."""
    counts = {(g.service, g.site, g.accelerator): g.replicas for g in start.inference}
    changed = _move_replicas(instance, start, anchor, max_changes, loads, counts, price)
    if not (moved or changed):
        return Shed(None, None)
    training = list(placed.values())
    inference = [
        ReplicaAssignment(service=service, site=site, accelerator=accelerator, replicas=n)
        for (service, site, accelerator), n in counts.items()
        if n > 0
    ]
    within = not any(loads.over(site) for site in anchor)
    flows = cheapest_flows(instance, training, inference) if within and changed else None
    routes, unserved = flows if flows is not None else (list(start.routes), list(start.unserved))
    plan = ScheduledPlan.build(
        instance, training, sorted(unplaced), inference, routes, unserved, list(start.expansions)
    )
    if not within or (changed and flows is None):
        return Shed(None, plan)
    return Shed(accepted(instance, plan), plan)


def _move_jobs(
    instance: Instance,
    start: ScheduledPlan,
    anchor: set[str],
    max_moves: int | None,
    loads: _Loads,
    placed: dict[str, TrainingAssignment],
    unplaced: set[str],
) -> bool:
    """Move jobs off the anchor sites over a limit, in `placed`, `unplaced` and `loads`,
    the cheapest per share of the excess removed first; whether any moved."""
    moved: set[str] = set()
    order: list[str] = []
    while True:
        over = sorted(site for site in anchor if loads.over(site))
        if not over or (max_moves is not None and len(moved) >= max_moves):
            break
        # Each move should remove its fair part of what is left (a job of a few GPUs
        # would spend a move for nothing); without such a move, the one that removes most.
        fair = 0.0 if max_moves is None else len(over) / (max_moves - len(moved))
        best: tuple[bool, float, str, TrainingPlacement | None] | None = None
        for site in over:
            for entry in start.training:
                if entry.site != site or entry.job in moved:
                    continue
                share = loads.share_shed(site, entry.accelerator, entry.count)
                if share <= 0:
                    continue
                for option, cost in _options(instance, entry, loads, anchor):
                    # Fair moves first, the cheapest per share of the excess; then the
                    # largest share.
                    key = (
                        (False, cost / share if cost >= 0 else cost * share)
                        if share >= min(1.0, fair)
                        else (True, -share)
                    )
                    if best is None or key < best[:2]:
                        best = (*key, entry.job, option)
        if best is None:
            break
        _, _, job, option = best
        entry = placed.pop(job)
        loads.move(entry.site, entry.accelerator, -entry.count)
        loads.read(job, entry.site, -1.0)
        moved.add(job)
        order.append(job)
        if option is None:
            unplaced.add(job)
        else:
            loads.move(option.site, option.accelerator, option.count)
            loads.read(job, option.site, 1.0)
            placed[job] = TrainingAssignment(
                job=job, site=option.site, accelerator=option.accelerator, count=option.count
            )
    # Moves that later ones made needless (a small job moved before a big one) go back.
    for job in reversed(order):
        entry = next(e for e in start.training if e.job == job)
        now = placed.get(job)
        if now is not None:
            loads.move(now.site, now.accelerator, -now.count)
            loads.read(job, now.site, -1.0)
        loads.move(entry.site, entry.accelerator, entry.count)
        loads.read(job, entry.site, 1.0)
        if loads.over(entry.site):
            loads.move(entry.site, entry.accelerator, -entry.count)
            loads.read(job, entry.site, -1.0)
            if now is not None:
                loads.move(now.site, now.accelerator, now.count)
                loads.read(job, now.site, 1.0)
            continue
        placed[job] = entry
        unplaced.discard(job)
        moved.discard(job)
    return bool(moved)


def _move_replicas(
    instance: Instance,
    start: ScheduledPlan,
    anchor: set[str],
    max_changes: int | None,
    loads: _Loads,
    counts: dict[tuple[str, str, str], int],
    price: float,
) -> bool:
    """Move replicas off the anchor sites still over a limit, in `counts` and `loads`, or
    stop them (a service with an unserved price): each step takes one group's replicas,
    as many as the excess needs and the budget allows, to the site that serves every
    region the group serves within its SLO at the least cost per rps with room for them
    (a moved replica is a change where it stops and more where it starts), or nowhere when
    the service's replicas at other sites that serve those regions have the spare rps;
    the step whose cost plus `price` per change is least per share of the excess first
    (with an infinite `price`: the most shed per change, the cheapest among equals).
    Whether any changed."""
    served: dict[tuple[str, str], set[str]] = defaultdict(set)
    for flow in start.routes:
        served[flow.service, flow.site].add(flow.region)
    within: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for service, pairs in instance.eligibility.routes.items():
        for pair in pairs:
            within[service][pair.site].add(pair.region)
    # rps each group's replicas could serve beyond what is routed to them now.
    spare: dict[tuple[str, str], float] = defaultdict(float)
    for (service, site, accelerator), replicas in counts.items():
        spare[service, site] += replicas * _rps(instance, service, accelerator)
    for flow in start.routes:
        spare[flow.service, flow.site] -= flow.rps
    outside: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for group in sorted(spare):
        if group[1] not in anchor:
            outside[group[0]].append(group)
    hours = instance.horizon_hours
    changes = 0
    changed = False
    tried: set[tuple[str, str, str]] = set()
    destinations: dict[tuple[str, str], ReplicaOption] = {}
    while True:
        over = sorted(site for site in anchor if loads.over(site))
        left = None if max_changes is None else max_changes - changes
        if not over or (left is not None and left <= 0):
            break
        best: tuple[float, float, tuple[str, str, str], ReplicaOption | None, float] | None = None
        for key, replicas in counts.items():
            service, site, accelerator = key
            if site not in over or replicas <= 0 or key in tried:
                continue
            share = loads.share_shed(
                site, accelerator, replica_size(instance, service, accelerator)
            )
            if share <= 0:
                continue
            own = instance.inference_by_id[service]
            rps = _rps(instance, service, accelerator)
            here = replica_costs(instance, _option(instance, key)).total
            steps: list[tuple[ReplicaOption | None, float, int]] = []
            sharing = _sharing(served[service, site], within[service], spare, outside[service])
            if math.fsum(spare[pair] for pair in sharing) >= rps:
                # Others of the service serving the same regions have the room.
                steps.append((None, -here, 1))
            elif own.unserved_cost_per_rps_hour is not None:
                steps.append((None, rps * own.unserved_cost_per_rps_hour * hours - here, 1))
            # The cheapest site per rps outside the anchor that serves the same regions.
            # Load outside the anchor only grows here, so the one found before stays the
            # cheapest while it has room.
            option = destinations.get((service, site))
            if option is None or not _fits(loads, option, 1):
                reach = {
                    o.site
                    for o in instance.eligibility.replicas[service]
                    if o.site not in anchor and served[service, site] <= within[service][o.site]
                }
                option = _cheapest(instance, service, reach, loads, None)
                if option is not None:
                    destinations[service, site] = option
            if option is not None:
                ratio = math.ceil(rps / option.rps - 1e-12)
                there = ratio * replica_costs(instance, option).total
                steps.append((option, there - here, 1 + ratio))
            for destination, cost, per in steps:
                if left is not None and per > left:
                    continue  # not even one fits the changes left
                if math.isinf(price):
                    rank = (-share / per, cost)
                else:
                    total = cost + price * per
                    rank = (total / share if total >= 0 else total * share, -share / per)
                if best is None or rank < best[:2]:
                    best = (*rank, key, destination, share)
        if best is None:
            break
        _, _, key, destination, share = best
        service, site, accelerator = key
        ratio = (
            0
            if destination is None
            else math.ceil(_rps(instance, service, accelerator) / destination.rps - 1e-12)
        )
        wanted = min(counts[key], math.ceil(1.0 / share - 1e-12))
        k = wanted if left is None else min(wanted, left // (1 + ratio))
        rps = _rps(instance, service, accelerator)
        sharing = _sharing(served[service, site], within[service], spare, outside[service])
        room = math.fsum(spare[pair] for pair in sharing)
        if destination is None and room >= rps:
            k = min(k, math.floor(room / rps + 1e-12))
        while k > 0:
            fits = destination is None or _fits(loads, destination, k * ratio)
            if fits and _still_served(instance, counts, key, destination, k, ratio):
                break
            k //= 2
        if k <= 0:
            tried.add(key)  # no room for even one of them
            continue
        if destination is None and room >= rps:
            _absorb(sharing, spare, k * rps)
        loads.move(site, accelerator, -k * replica_size(instance, service, accelerator))
        counts[key] -= k
        if destination is not None:
            loads.move(
                destination.site, destination.accelerator, k * ratio * destination.per_replica
            )
            target = (destination.service, destination.site, destination.accelerator)
            counts[target] = counts.get(target, 0) + k * ratio
        changes += k * (1 + ratio)
        changed = True
    return changed


def _still_served(
    instance: Instance,
    counts: dict[tuple[str, str, str], int],
    key: tuple[str, str, str],
    destination: ReplicaOption | None,
    k: int,
    ratio: int,
) -> bool:
    """Whether a must-serve service keeps the capacity for its whole demand (n+1: with its
    largest failure domain lost) once `k` replicas of `key` go to `destination` (`ratio`
    each; None: stopped). In total only: the routes decide per region."""
    service = instance.inference_by_id[key[0]]
    if service.unserved_cost_per_rps_hour is not None:
        return True
    held = _domains(instance, counts, service.id)
    held[instance.site_by_id[key[1]].domain] -= k * _rps(instance, service.id, key[2])
    if destination is not None:
        held[instance.site_by_id[destination.site].domain] += k * ratio * destination.rps
    total = math.fsum(held.values())
    if service.resilience == "n+1":
        total -= max(held.values())
    return total >= math.fsum(service.demand_rps.values())


def _sharing(
    regions: set[str],
    within: dict[str, set[str]],
    spare: dict[tuple[str, str], float],
    pairs: list[tuple[str, str]],
) -> list[tuple[str, str]]:
    """The (service, site) pairs of `pairs` (one service's outside the anchor, in order)
    with spare rps that serve every region of `regions` within the service's SLO."""
    return [pair for pair in pairs if spare[pair] > 0 and regions <= within[pair[1]]]


def _absorb(
    sharing: list[tuple[str, str]], spare: dict[tuple[str, str], float], rps: float
) -> None:
    """Take `rps` of the spare rps of the pairs `sharing`, in order."""
    for pair in sharing:
        taken = min(rps, spare[pair])
        spare[pair] -= taken
        rps -= taken
        if rps <= 0:
            return


def _option(instance: Instance, key: tuple[str, str, str]) -> ReplicaOption:
    """The replica option of a group (service, site, accelerator)."""
    return next(
        option
        for option in instance.eligibility.replicas[key[0]]
        if (option.site, option.accelerator) == key[1:]
    )


def _rps(instance: Instance, service: str, accelerator: str) -> float:
    return next(
        p.rps for p in instance.inference_by_id[service].profiles if p.accelerator == accelerator
    )


def _options(
    instance: Instance, entry: TrainingAssignment, loads: _Loads, anchor: set[str]
) -> list[tuple[TrainingPlacement | None, float]]:
    """Where the job of `entry` can go without breaking a limit there (None: left out, for
    an optional job), each with what it costs more than staying."""
    job = instance.training_by_id[entry.job]
    here = next(
        p
        for p in instance.eligibility.training[entry.job]
        if (p.site, p.accelerator) == (entry.site, entry.accelerator)
    )
    staying = training_costs(instance, here).total + move_cost(
        instance, entry.job, entry.site, entry.accelerator
    )
    options: list[tuple[TrainingPlacement | None, float]] = []
    if not job.required:
        left_out = job.unplaced_cost + move_cost(instance, entry.job, None, None)
        options.append((None, left_out - staying))
    for placement in instance.eligibility.training[entry.job]:
        if placement.site == entry.site or placement.site in anchor:
            continue
        if loads.fits(placement.site, placement.accelerator, placement.count) and (
            loads.reads_fit(entry.job, placement.site)
        ):
            cost = training_costs(instance, placement).total + move_cost(
                instance, entry.job, placement.site, placement.accelerator
            )
            options.append((placement, cost - staying))
    return options


@dataclass(frozen=True, slots=True)
class Grown:
    """What `grow_replicas` made: a plan the evaluator accepts, if any; the greedy's
    decisions either way (None when it added nothing); and the sites where demand stays
    short for want of room (the centre for the site neighbourhoods)."""

    plan: ScheduledPlan | None
    nearer: ScheduledPlan | None
    crowded: set[str]


def grow_replicas(instance: Instance, start: ScheduledPlan, max_changes: int | None) -> Grown:
    """`start` (what runs now, short of capacity for demand that grew) with replicas added
    where must-serve demand is short, within `max_changes` replica changes (None: any
    number): per short (service, region), beyond what the service's replicas that serve
    the region can still take, as many replicas as the shortfall needs at the option
    cheapest per rps that serves the region within the SLO and has room (where none has,
    its sites are `crowded`); then, for an n+1 service, replicas outside its largest
    failure domain (at any of its sites) until losing that domain leaves the whole demand
    served. The routes are then the cheapest, and the plan counts once the evaluator
    accepts it."""
    if instance.periods is not None:
        return Grown(None, None, set())
    loads = _Loads(instance, start)
    counts = {(g.service, g.site, g.accelerator): g.replicas for g in start.inference}
    routed: dict[tuple[str, str], float] = defaultdict(float)
    served: dict[tuple[str, str], float] = defaultdict(float)
    for flow in start.routes:
        routed[flow.service, flow.site] += flow.rps
        served[flow.service, flow.region] += flow.rps
    within: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for name, pairs in instance.eligibility.routes.items():
        for pair in pairs:
            within[name][pair.region].add(pair.site)
    changes = 0
    crowded: set[str] = set()
    for service in instance.inference:
        if service.unserved_cost_per_rps_hour is not None:
            continue
        spare = {
            site: capacity - routed[service.id, site]
            for site, capacity in _capacity(instance, counts, service.id).items()
        }
        for region, wanted in sorted(service.demand_rps.items()):
            short = wanted - served[service.id, region]
            for site in sorted(within[service.id][region]):
                taken = min(max(0.0, short), max(0.0, spare.get(site, 0.0)))
                spare[site] = spare.get(site, 0.0) - taken
                short -= taken
            while short > 1e-9:
                option = _cheapest(instance, service.id, within[service.id][region], loads, None)
                if option is None:
                    crowded |= within[service.id][region]
                    break
                k = math.ceil(short / option.rps - 1e-12)
                while k > 1 and not _fits(loads, option, k):
                    k //= 2
                if max_changes is not None:
                    k = min(k, max_changes - changes)
                if k <= 0:
                    break
                _add(loads, counts, option, k)
                short -= k * option.rps
                changes += k
        while service.resilience == "n+1":
            held = _domains(instance, counts, service.id)
            if not held or math.fsum(held.values()) - max(held.values()) >= math.fsum(
                service.demand_rps.values()
            ):
                break
            largest = max(sorted(held), key=lambda domain: held[domain])
            # Capacity counts for n+1 wherever it is, within the SLO of a region or not.
            sites = {option.site for option in instance.eligibility.replicas[service.id]}
            option = _cheapest(instance, service.id, sites, loads, largest)
            if option is None or (max_changes is not None and changes + 1 > max_changes):
                break
            _add(loads, counts, option, 1)
            changes += 1
    if not changes:
        return Grown(None, None, crowded)
    inference = [
        ReplicaAssignment(service=service, site=site, accelerator=accelerator, replicas=n)
        for (service, site, accelerator), n in counts.items()
        if n > 0
    ]
    flows = cheapest_flows(instance, start.training, inference)
    routes, unserved = flows if flows is not None else (list(start.routes), list(start.unserved))
    plan = ScheduledPlan.build(
        instance,
        list(start.training),
        list(start.unplaced_training),
        inference,
        routes,
        unserved,
        list(start.expansions),
    )
    if flows is None:
        return Grown(None, plan, crowded)
    return Grown(accepted(instance, plan), plan, crowded)


def _capacity(
    instance: Instance, counts: dict[tuple[str, str, str], int], service: str
) -> dict[str, float]:
    """The service's rps capacity at each site."""
    capacity: dict[str, float] = defaultdict(float)
    for (name, site, accelerator), replicas in counts.items():
        if name == service and replicas > 0:
            capacity[site] += replicas * _rps(instance, name, accelerator)
    return capacity


def _domains(
    instance: Instance, counts: dict[tuple[str, str, str], int], service: str
) -> dict[str, float]:
    """The service's rps capacity in each failure domain."""
    held: dict[str, float] = defaultdict(float)
    for site, rps in _capacity(instance, counts, service).items():
        held[instance.site_by_id[site].domain] += rps
    return held


def _fits(loads: _Loads, option: ReplicaOption, k: int) -> bool:
    """Whether `k` more replicas of `option` fit at its site."""
    return loads.fits(option.site, option.accelerator, k * option.per_replica)


def _add(
    loads: _Loads, counts: dict[tuple[str, str, str], int], option: ReplicaOption, k: int
) -> None:
    loads.move(option.site, option.accelerator, k * option.per_replica)
    key = (option.service, option.site, option.accelerator)
    counts[key] = counts.get(key, 0) + k


def _cheapest(
    instance: Instance, service: str, sites: set[str], loads: _Loads, not_in: str | None
) -> ReplicaOption | None:
    """The service's replica option cheapest per rps at one of `sites` (outside failure
    domain `not_in`) with room for one replica."""
    best: tuple[float, ReplicaOption] | None = None
    for option in instance.eligibility.replicas[service]:
        if option.site not in sites or not _fits(loads, option, 1):
            continue
        if not_in is not None and instance.site_by_id[option.site].domain == not_in:
            continue
        price = replica_costs(instance, option).total / option.rps
        if best is None or price < best[0]:
            best = (price, option)
    return None if best is None else best[1]
