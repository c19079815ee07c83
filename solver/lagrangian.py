"""A proved lower bound without the whole model: Lagrangian relaxation of capacity.

For instances too large for the LP relaxation (or CP-SAT's whole model), a bound comes
from a relaxation that splits into one tiny problem per workload. Relative to the SPEC
(sections 5 and 6):

* every inventory, grid power and (limited) cooling row moves into the objective with a
  multiplier `>= 0` (Lagrangian relaxation: for any multipliers the relaxed optimum
  minus `sum(multiplier * limit)` is at most the SPEC optimum); one accelerator of
  (s, a) then costs `price[s, a]`, the multipliers of the rows it takes times what it
  takes of each;
* bandwidth and site fixed costs are dropped (dropping a row or a cost that is never
  negative can only lower the optimum);
* replicas are continuous, and n+1 resilience is kept only as what it implies for the
  total: with k failure domains among a service's eligible sites, summing the k rows
  gives `(k - 1) * capacity >= k * served`, so capacity beyond what is served is at
  least `served / (k - 1)`, bought at the cheapest eligible option.

Then each training job takes its cheapest placement (at `price`) or stays unplaced if
optional and cheaper, and each service's demand from each region is served at the
cheapest site within the SLO or left unserved, whichever costs less per rps. The
prices follow the subgradient method with Polyak steps towards a known plan's cost (or
a guessed target, before there is a plan); every iterate's value is a proved bound, and
the best is kept.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from solver.costs import accelerator_hour_costs, traffic_egress_per_rps, training_costs

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from models import Instance

#: Polyak step scale at the start, halved after STALL_ITERATIONS without a better bound.
START_STEP = 2.0
STALL_ITERATIONS = 30
#: Stop once the step scale is below this.
MIN_STEP = 1e-4
#: The bound is lowered by this share of its size, against float rounding in the sums.
SAFETY = 1e-9
#: Without a plan's cost to step towards, the steps aim at this multiple of the value at
#: zero prices, moved up to this multiple of any value that reaches it. Generated XL-0
#: (value at zero prices 3,868.9M): aiming at 1.5x gives 4,587.2M, at a plan's cost
#: (6,328.5M) 4,595.3M, at 5,300M 4,582.0M (60 s each); generated L-0 885.6M and 878.7M.
GUESS_FACTOR = 1.5


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
        priced = self.cost + prices[self.pair] * self.per_unit
        least = np.minimum.reduceat(priced, self.starts)
        reaching = np.flatnonzero(priced <= least[self.group])
        groups, first = np.unique(self.group[reaching], return_index=True)
        chosen = np.empty(len(self.starts), dtype=np.int64)
        chosen[groups] = reaching[first]
        return least, chosen


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
class _Relaxation:
    """The decomposed relaxation of one instance."""

    count: NDArray[np.float64]
    #: The relaxed limit rows (inventory, grid power, limited cooling): entry e says that
    #: one accelerator of pair `entry_pair[e]` takes `entry_coef[e]` of row `entry_row[e]`.
    limit: NDArray[np.float64]
    entry_pair: NDArray[np.int64]
    entry_row: NDArray[np.int64]
    entry_coef: NDArray[np.float64]
    #: Training: one group per job with placements (amount 1); what leaving it out costs
    #: (inf when required).
    jobs: _Groups | None
    job_unplaced: NDArray[np.float64]
    #: Serving: one group per (service, region) with sites in reach (amount: its demand
    #: in rps); per group the penalty per rps (inf when it must be served), the demand,
    #: and the spare group of its service (-1 without n+1).
    serve: _Groups | None
    penalty: NDArray[np.float64]
    demand: NDArray[np.float64]
    spare_of: NDArray[np.int64]
    #: n+1 spare capacity: one group per n+1 service (all its options) and 1 / (k - 1).
    spare: _Groups | None
    spare_share: NDArray[np.float64]
    #: Work that has no option at all and may not be left out: nothing is feasible.
    infeasible: bool
    #: Cost of work that has no option and is left out (optional jobs, penalised demand).
    left_out: float


def _relaxation(instance: Instance) -> _Relaxation:
    eligibility = instance.eligibility
    pairs = {pair: index for index, pair in enumerate(sorted(instance.inventory_by_pair))}
    count = np.array(
        [instance.inventory_by_pair[pair].count for pair in sorted(pairs)], dtype=np.float64
    )
    hours = instance.horizon_hours
    infeasible = False
    left_out = 0.0
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

    job_rows: list[list[tuple[int, float, float]]] = []
    job_unplaced: list[float] = []
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
                (pairs[p.site, p.accelerator], float(p.count), training_costs(instance, p).total)
                for p in placements
            ]
        )
        job_unplaced.append(math.inf if job.required else job.unplaced_cost)

    serve_rows: list[list[tuple[int, float, float]]] = []
    penalty: list[float] = []
    demand: list[float] = []
    spare_of: list[int] = []
    spare_rows: list[list[tuple[int, float, float]]] = []
    spare_share: list[float] = []
    for service in instance.inference:
        options = eligibility.replicas[service.id]
        per_rps = {
            (o.site, o.accelerator): (
                pairs[o.site, o.accelerator],
                o.per_replica / o.rps,
                o.per_replica
                * hours
                * accelerator_hour_costs(instance, o.site, o.accelerator).total
                / o.rps,
            )
            for o in options
        }
        at_site: dict[str, list[tuple[int, float, float]]] = {}
        for (option_site, _), choice in per_rps.items():
            at_site.setdefault(option_site, []).append(choice)
        spare = -1
        if service.resilience == "n+1":
            domains = {instance.site_by_id[o.site].domain for o in options}
            if len(domains) >= 2:
                spare = len(spare_rows)
                spare_rows.append(list(per_rps.values()))
                spare_share.append(1.0 / (len(domains) - 1))
        price = (
            math.inf
            if service.unserved_cost_per_rps_hour is None
            else service.unserved_cost_per_rps_hour * hours
        )
        n_plus_1_impossible = service.resilience == "n+1" and spare < 0
        reach: dict[str, list[str]] = {}
        for route in eligibility.routes[service.id]:
            reach.setdefault(route.region, []).append(route.site)
        for region, rps in sorted(service.demand_rps.items()):
            if rps <= 0:
                continue
            row = [
                (
                    pair,
                    per_unit,
                    cost + traffic_egress_per_rps(instance, service.kb_per_request, region, site),
                )
                if service.kb_per_request > 0
                else (pair, per_unit, cost)
                for site in reach.get(region, [])
                for pair, per_unit, cost in at_site.get(site, [])
            ]
            if not row or n_plus_1_impossible:
                if price == math.inf:
                    infeasible = True
                else:
                    left_out += rps * price
                continue
            serve_rows.append(row)
            penalty.append(price)
            demand.append(rps)
            spare_of.append(spare)

    return _Relaxation(
        count=count,
        limit=np.array(limit, dtype=np.float64),
        entry_pair=np.array([e[0] for e in entries], dtype=np.int64),
        entry_row=np.array([e[1] for e in entries], dtype=np.int64),
        entry_coef=np.array([e[2] for e in entries], dtype=np.float64),
        jobs=_groups(job_rows) if job_rows else None,
        job_unplaced=np.array(job_unplaced, dtype=np.float64),
        serve=_groups(serve_rows) if serve_rows else None,
        penalty=np.array(penalty, dtype=np.float64),
        demand=np.array(demand, dtype=np.float64),
        spare_of=np.array(spare_of, dtype=np.int64),
        spare=_groups(spare_rows) if spare_rows else None,
        spare_share=np.array(spare_share, dtype=np.float64),
        infeasible=infeasible,
        left_out=left_out,
    )


def _pair_prices(relaxation: _Relaxation, multipliers: NDArray[np.float64]) -> NDArray[np.float64]:
    """What one accelerator of each inventory pair costs at `multipliers`: the multiplier
    of each row it takes, times what it takes of that row."""
    return np.asarray(
        np.bincount(
            relaxation.entry_pair,
            weights=multipliers[relaxation.entry_row] * relaxation.entry_coef,
            minlength=len(relaxation.count),
        ),
        dtype=np.float64,
    )


def _value(
    relaxation: _Relaxation, multipliers: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """The relaxed optimum at `multipliers` (one per limit row; a proved bound) and what
    it takes of each row."""
    prices = _pair_prices(relaxation, multipliers)
    used = np.zeros_like(relaxation.count)
    total = relaxation.left_out - float(multipliers @ relaxation.limit)
    jobs = relaxation.jobs
    if jobs is not None:
        least, chosen = jobs.cheapest(prices)
        placed = least < relaxation.job_unplaced
        total += float(np.where(placed, least, relaxation.job_unplaced).sum())
        np.add.at(used, jobs.pair[chosen[placed]], jobs.per_unit[chosen[placed]])
    serve = relaxation.serve
    if serve is not None:
        least, chosen = serve.cheapest(prices)
        extra = np.zeros_like(least)
        spare_chosen = np.zeros(0, dtype=np.int64)
        has_spare = relaxation.spare_of >= 0
        if relaxation.spare is not None:
            spare_least, spare_chosen = relaxation.spare.cheapest(prices)
            share = relaxation.spare_share[relaxation.spare_of[has_spare]]
            extra[has_spare] = spare_least[relaxation.spare_of[has_spare]] * share
        per_rps = least + extra
        served = per_rps < relaxation.penalty
        total += float((np.where(served, per_rps, relaxation.penalty) * relaxation.demand).sum())
        rps = relaxation.demand[served]
        np.add.at(used, serve.pair[chosen[served]], serve.per_unit[chosen[served]] * rps)
        if relaxation.spare is not None:
            spare_served = served & has_spare
            spare_group = relaxation.spare_of[spare_served]
            choice = spare_chosen[spare_group]
            amount = relaxation.demand[spare_served] * relaxation.spare_share[spare_group]
            np.add.at(
                used, relaxation.spare.pair[choice], relaxation.spare.per_unit[choice] * amount
            )
    taken = np.asarray(
        np.bincount(
            relaxation.entry_row,
            weights=used[relaxation.entry_pair] * relaxation.entry_coef,
            minlength=len(relaxation.limit),
        ),
        dtype=np.float64,
    )
    return total, taken


@dataclass(frozen=True)
class LagrangianResult:
    """A proved bound and the capacity prices of the iterate that gave it: per (site,
    accelerator), what one more accelerator in use there is worth (inventory, grid power
    and cooling multipliers, each times what one accelerator takes of its row)."""

    bound: float
    prices: dict[tuple[str, str], float]


def lagrangian(
    instance: Instance, upper: float | None, time_limit_s: float, *, iterations: int = 10_000
) -> LagrangianResult | None:
    """The best proved lower bound on the SPEC optimum the subgradient method finds within
    `time_limit_s`, stepping towards `upper` (a plan's cost; None: a guessed target, see
    GUESS_FACTOR), with the prices of its best iterate; None if the relaxation shows the
    instance has no plan."""
    deadline = time.perf_counter() + time_limit_s
    relaxation = _relaxation(instance)
    if relaxation.infeasible:
        return None
    multipliers = np.zeros_like(relaxation.limit)
    best = -math.inf
    best_multipliers = multipliers
    tied = 0
    step = START_STEP
    stall = 0
    guessed = upper is None
    for _ in range(iterations):
        value, used = _value(relaxation, multipliers)
        if upper is None or (guessed and value >= upper):
            # Only a plan's cost proves the bound cannot rise further; a guess moves up.
            upper = value + (GUESS_FACTOR - 1.0) * max(abs(value), 1.0)
        if value > best + 1e-9 * abs(value):
            best, best_multipliers, tied, stall = value, multipliers, 1, 0
        else:
            if value >= best - 1e-9 * abs(value):
                # As good a bound: the prices kept are the mean of all such iterates. The
                # best prices form a convex set, and its edges price capacity out of work
                # that is worth it (or let work take capacity others are worth more on).
                tied += 1
                best_multipliers = best_multipliers + (multipliers - best_multipliers) / tied
            stall += 1
            if stall >= STALL_ITERATIONS:
                step, stall = step / 2, 0
        gradient = used - relaxation.limit
        # Multipliers at zero cannot fall: their negative components do not count.
        gradient[(multipliers <= 0) & (gradient < 0)] = 0.0
        norm = float(gradient @ gradient)
        if norm <= 0 or step < MIN_STEP or upper <= value or time.perf_counter() > deadline:
            break
        multipliers = np.maximum(0.0, multipliers + step * (upper - value) / norm * gradient)
    per_pair = _pair_prices(relaxation, best_multipliers)
    prices = {
        pair: float(per_pair[index])
        for index, pair in enumerate(sorted(instance.inventory_by_pair))
        if per_pair[index] > 0
    }
    return LagrangianResult(best - SAFETY * abs(best), prices)
