"""A proof, before any search, that no plan keeps the move budgets (SPEC §10).

`current` may break a site's limits (that is often why one re-plans), and every plan
must meet them from hour 0. At hour 0 a site still carries every job of `current` that is
not moved and, of each of its current replica groups, at least the current count less
the group's replica changes. So the load a site must shed to meet a limit (grid power,
a cooling kind, an accelerator type's stock) can come only from moved jobs, each one
training move, and stopped replicas, each one replica change. A group that is no longer
eligible must stop all its replicas, whatever they weigh.

Per site this gives the fewest replica changes it needs with t of its current jobs moved
(each limit alone needs at least as many as it would with the t heaviest jobs for it
moved and its heaviest replicas stopped first; the site needs the most of its limits
plus its forced stops); across sites, the training moves are shared out to need the
fewest replica changes in all (a small knapsack). When that least number is above
`max_replica_changes`, or some site cannot be brought within a limit with the moves
allowed, no plan keeps the budgets.

This relaxes the SPEC (it drops every other constraint and every other way a plan adds
load), so "infeasible" from it is a proof. The sums are exact (`fractions.Fraction` of
the input floats), and a limit counts as broken only above `widened` (the SPEC's
tolerance, with room for the evaluator's float sums). It is cheap: linear in `current`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from models.accelerators import COOLING_KINDS
from models.tolerance import widened

if TYPE_CHECKING:
    from models import Instance, Site


#: Relative margin under a limit below which a float sum of the load counts as within it
#: without the exact sum (float sums of a site's few thousand terms err by far less).
FLOAT_SCREEN = 1e-9


@dataclass(frozen=True, slots=True)
class SiteNeed:
    """What one site needs at hour 0 to meet its limits."""

    site: str
    #: The fewest replica changes at the site with t of its current jobs moved, for
    #: t = 0, 1, ... up to all of them (None: no number of changes is enough).
    changes: tuple[int | None, ...]
    #: The limit that needs the most changes with no job moved, in words.
    limit: str
    #: Load over that limit at hour 0 with nothing moved or stopped (its unit: kW, or
    #: accelerators for a stock).
    over: float


@dataclass(frozen=True, slots=True)
class BudgetShortfall:
    """The move budgets cannot be kept: the proof's figures."""

    needs: tuple[SiteNeed, ...]
    #: The fewest replica changes in all with the training moves shared out at best
    #: (None: no number is enough with the moves allowed).
    fewest_changes: int | None
    max_training_moves: int | None
    max_replica_changes: int | None

    def message(self) -> str:
        """One line for a planner: the budgets, what the sites over their limits need."""
        moves = (
            "any number of training moves"
            if self.max_training_moves is None
            else f"{self.max_training_moves} training moves"
        )
        over = "; ".join(
            f"{need.site}: {need.limit} over by {need.over:,.2f}" for need in self.needs[:3]
        )
        more = f" (and {len(self.needs) - 3} more sites)" if len(self.needs) > 3 else ""
        if self.fewest_changes is None:
            need = f"with {moves}, no number of replica changes brings them within their limits"
        else:
            need = (
                f"with {moves} they need at least {self.fewest_changes:,} replica changes "
                f"(budget {self.max_replica_changes:,})"
            )
        return f"no plan keeps the move budgets: at hour 0 {over}{more}; {need}"


def budget_shortfall(instance: Instance) -> BudgetShortfall | None:
    """The proof that no plan of `instance` keeps its move budgets, or None when this
    check finds none (which proves nothing)."""
    budgets = instance.moves
    if instance.current is None or budgets is None:
        return None
    moves, changes = budgets.max_training_moves, budgets.max_replica_changes
    if moves is None and changes is None:
        return None
    running, groups, forced = _current_by_site(instance)
    needs = tuple(
        need
        for site in instance.sites
        if site.id in running or site.id in groups or site.id in forced
        if (
            need := _site_need(
                instance,
                site,
                running.get(site.id, []),
                groups.get(site.id, []),
                forced.get(site.id, 0),
                moves,
            )
        )
        is not None
    )
    fewest = _fewest_changes(needs, moves)
    if fewest is not None and (changes is None or fewest <= changes):
        return None
    return BudgetShortfall(needs, fewest, moves, changes)


@dataclass(frozen=True, slots=True)
class _Limit:
    name: str
    #: Load per accelerator of each type.
    weight: dict[str, Fraction]
    #: The most load the SPEC's tolerance accepts.
    cap: Fraction
    #: Load in the unit of `name` (for the message).
    raw_limit: float


def _limits(instance: Instance, site: Site) -> list[_Limit]:
    """The site's limits in its first period (its timeline there, plus every expansion
    that can be online then: a relaxation), each as load per accelerator and cap."""
    schedule = instance.schedule
    grid = schedule.grid_kw[site.id][0]
    cooling = {kind: schedule.cooling_kw[(site.id, kind)][0] for kind in COOLING_KINDS}
    stock = {
        item.accelerator: schedule.count[(site.id, item.accelerator)][0] for item in site.inventory
    }
    for expansion in site.expansions or []:
        if schedule.expansion_period[(site.id, expansion.id)] != 0:
            continue
        grid += expansion.grid_kw or 0.0
        for kind, kw in (expansion.cooling_kw or {}).items():
            limit = cooling[kind]
            if limit is not None:
                cooling[kind] = limit + kw
        for item in expansion.inventory or []:
            stock[item.accelerator] = stock.get(item.accelerator, 0) + item.count
    specs = instance.accelerator_by_id
    pue = Fraction(site.pue)
    limits = [
        _Limit(
            f"grid power ({grid:,.2f} kW)",
            {a: pue * Fraction(spec.power_kw) for a, spec in specs.items()},
            Fraction(widened(grid)),
            grid,
        )
    ]
    for kind, limit in cooling.items():
        if limit is not None:
            limits.append(
                _Limit(
                    f"{kind} cooling ({limit:,.2f} kW)",
                    {a: Fraction(s.power_kw) for a, s in specs.items() if s.cooling == kind},
                    Fraction(widened(limit)),
                    limit,
                )
            )
    for accelerator, count in stock.items():
        limits.append(
            _Limit(
                f"{accelerator} stock ({count:,})",
                {accelerator: Fraction(1)},
                Fraction(widened(float(count))),
                float(count),
            )
        )
    return limits


def _current_by_site(
    instance: Instance,
) -> tuple[dict[str, list[tuple[str, int]]], dict[str, list[tuple[str, int, int]]], dict[str, int]]:
    """Per site, what `current` runs there: (accelerator, accelerators) of each job;
    (accelerator, accelerators per replica, replicas) of each group that may keep some;
    and the replicas of groups that are no longer eligible (each must stop)."""
    assert instance.current is not None
    jobs = instance.training_by_id
    services = instance.inference_by_id
    running: dict[str, list[tuple[str, int]]] = {}
    for job in instance.current.training:
        count = next(o.count for o in jobs[job.job].options if o.accelerator == job.accelerator)
        running.setdefault(job.site, []).append((job.accelerator, count))
    eligible = {
        (option.service, option.site, option.accelerator)
        for options in instance.eligibility.replicas.values()
        for option in options
    }
    groups: dict[str, list[tuple[str, int, int]]] = {}
    forced: dict[str, int] = {}
    for group in instance.current.inference:
        if group.replicas == 0:
            continue
        if (group.service, group.site, group.accelerator) not in eligible:
            forced[group.site] = forced.get(group.site, 0) + group.replicas
            continue
        per_replica = next(
            p.per_replica
            for p in services[group.service].profiles
            if p.accelerator == group.accelerator
        )
        groups.setdefault(group.site, []).append((group.accelerator, per_replica, group.replicas))
    return running, groups, forced


def _site_need(
    instance: Instance,
    site: Site,
    running: list[tuple[str, int]],
    groups: list[tuple[str, int, int]],
    forced: int,
    moves: int | None,
) -> SiteNeed | None:
    """The fewest replica changes `site` needs for each number of its jobs moved (`running`
    and `groups` what `current` runs there, `forced` the replicas it must stop); None
    when it needs none with no job moved."""
    most_moves = len(running) if moves is None else min(moves, len(running))
    limits = _limits(instance, site)
    per_limit = [_limit_changes(limit, running, groups, most_moves) for limit in limits]
    changes: list[int | None] = []
    for t in range(most_moves + 1):
        needed = [counts[t] for counts, _ in per_limit]
        changes.append(
            None if any(n is None for n in needed) else forced + max(n or 0 for n in needed)
        )
    if changes[0] == 0:
        return None
    worst = max(
        range(len(limits)),
        key=lambda i: math.inf if per_limit[i][0][0] is None else per_limit[i][0][0] or 0,
    )
    return SiteNeed(site.id, tuple(changes), limits[worst].name, per_limit[worst][1])


def _limit_changes(
    limit: _Limit,
    running: list[tuple[str, int]],
    groups: list[tuple[str, int, int]],
    most_moves: int,
) -> tuple[list[int | None], float]:
    """For t = 0..most_moves, the fewest replicas to stop for `limit` with its t heaviest
    jobs moved (None: stopping every replica is not enough); and the excess with nothing
    moved."""
    weight = limit.weight
    rough = math.fsum(
        float(weight.get(accelerator, 0)) * count for accelerator, count in running
    ) + math.fsum(
        float(weight.get(accelerator, 0)) * per_replica * replicas
        for accelerator, per_replica, replicas in groups
    )
    if rough <= float(limit.cap) * (1.0 - FLOAT_SCREEN):
        # Well within the limit even with the float sums' error: no exact sums needed.
        return [0] * (most_moves + 1), rough - limit.raw_limit
    load = sum(
        (weight.get(accelerator, Fraction(0)) * count for accelerator, count in running),
        Fraction(0),
    ) + sum(
        (weight.get(accelerator, Fraction(0)) * (per_replica * replicas))
        for accelerator, per_replica, replicas in groups
    )
    excess = float(load - Fraction(limit.raw_limit))
    if load <= limit.cap:
        return [0] * (most_moves + 1), excess
    job_loads = sorted(
        (weight.get(accelerator, Fraction(0)) * count for accelerator, count in running),
        reverse=True,
    )
    units = sorted(
        (
            (weight.get(accelerator, Fraction(0)) * per_replica, replicas)
            for accelerator, per_replica, replicas in groups
        ),
        key=lambda unit: unit[0],
        reverse=True,
    )
    result: list[int | None] = []
    for t in range(most_moves + 1):
        result.append(_fewest_stops(load - sum(job_loads[:t], Fraction(0)) - limit.cap, units))
    return result, excess


def _fewest_stops(excess: Fraction, units: list[tuple[Fraction, int]]) -> int | None:
    """The fewest replicas to stop, heaviest first, to shed at least `excess`; None when
    all of them together shed less."""
    if excess <= 0:
        return 0
    stopped = 0
    for load, replicas in units:
        if load <= 0:
            break
        if load * replicas >= excess:
            return stopped + math.ceil(excess / load)
        stopped += replicas
        excess -= load * replicas
    return None


def _fewest_changes(needs: tuple[SiteNeed, ...], moves: int | None) -> int | None:
    """The fewest replica changes in all when the sites share at most `moves` training
    moves (None: unlimited) at best; None when some site cannot be brought within its
    limits with the moves it can get."""
    # best[m]: the fewest changes of the sites so far using m moves.
    best: dict[int, int] = {0: 0}
    for need in needs:
        step: dict[int, int] = {}
        # Only the move counts that need fewer changes than one move less.
        worth: list[tuple[int, int]] = []
        for t, count in enumerate(need.changes):
            if count is not None and (not worth or count < worth[-1][1]):
                worth.append((t, count))
        for used, total in best.items():
            for t, count in worth:
                if moves is not None and used + t > moves:
                    continue
                if used + t not in step or total + count < step[used + t]:
                    step[used + t] = total + count
        if not step:
            return None
        best = step
    return min(best.values())
