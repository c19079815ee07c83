"""Expansions on the large scheduled path (docs/formulation.md, "Large scheduled instances
with expansions"): a bound that charges them and the choice of which to build.

**The bound.** `bound.summed_bound`'s decomposition grants every expansion from its period
on at no cost. Here each expansion's one-time cost is split over the periods it can serve
(`cost_shares`: in proportion to their hours; any split into non-negative shares that sum
to the cost would do), and each period's inference is the static v2 instance
`period_expansion_view`: what the timeline offers in that period, the expansions online by
then as candidates at their shares, the supply limits. For a plan that builds a set B of
expansions, its decisions in period p with B's expansions online by p are a plan of that
view at cost (its inference cost in p) + (the shares of B's expansions in p); summed over
the periods, the shares add up to B's costs. So the jobs' floors (`bound.training_floor`)
plus every view's optimum is at most the plan's cost, and each view's optimum is at least
its LP bound (`solver.static_expansion.expansion_lp`: the widened v2 model's LP, the
prerequisite rows, `safe_bound`).

**The plan.** The views' LPs build each expansion a fraction in each period; the
expansions built at least ROUND_AT on average over the periods they can serve (weighted by
hours), most first while the supply limits allow (`solver.static_expansion.rounded`), are
built into the sites' timelines (`with_built`) and the large path plans that instance.
Its plan, with those expansions listed, is a plan of the instance itself: the same
decisions, and capacity that the chosen expansions add from their periods on; the
evaluator checks it all the same (`restated`).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np

from models import COOLING_KINDS, Instance
from models.schedule import expansion_adds
from models.solution import ChosenExpansion
from models.v2_fields import AcceleratorCount, TimelineEntry
from solver.costs import replica_size
from solver.scheduled.costs import period_position
from solver.scheduled.ledger import ROOM, Ledger
from solver.scheduled.period_parts import training_ledger
from solver.scheduled.period_view import period_view, static_instance
from solver.scheduled.plan import ScheduledPlan
from solver.static_expansion import ExpansionLP, expansion_lp, rounded

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from models import Site

#: Share of its period's hours an expansion must be built on average to be chosen (as the
#: static path's `solver.static_expansion.ROUND_AT`).
ROUND_AT = 0.25


def has_expansions(instance: Instance) -> bool:
    """Whether some site of `instance` has a candidate expansion."""
    return any(site.expansions for site in instance.sites)


def cost_shares(instance: Instance) -> dict[tuple[str, str], list[float]]:
    """Each expansion's cost split over the periods from its own on, in proportion to their
    hours (0 before): per (site, expansion), one share per period position."""
    schedule = instance.schedule
    hours = [span.hours for span in schedule.periods]
    shares: dict[tuple[str, str], list[float]] = {}
    for site in instance.sites:
        for expansion in site.expansions or []:
            first = schedule.expansion_period[site.id, expansion.id]
            served = math.fsum(hours[first:])
            shares[site.id, expansion.id] = [
                expansion.cost * h / served if position >= first else 0.0
                for position, h in enumerate(hours)
            ]
    return shares


def period_expansion_view(
    instance: Instance, position: int, shares: dict[tuple[str, str], list[float]]
) -> Instance:
    """The static v2 instance of period `position`'s inference: the timeline's capacity in
    it (no training, no fixed cost), every expansion online by then as a candidate at its
    share of the cost, and the supply limits."""
    schedule = instance.schedule
    sites = [site.id for site in instance.sites]
    view = period_view(
        instance, Ledger(instance), position, [s.id for s in instance.inference], sites
    )
    by_id = instance.site_by_id
    candidates: list[Site] = []
    for site in view.sites:
        expansions = [
            expansion.model_copy(
                update={"period": None, "cost": shares[site.id, expansion.id][position]}
            )
            for expansion in by_id[site.id].expansions or []
            if schedule.expansion_period[site.id, expansion.id] <= position
        ]
        candidates.append(site.model_copy(update={"expansions": expansions or None}))
    return static_instance(
        instance,
        view.name,
        view.horizon_hours,
        candidates,
        view.links,
        view.inference,
        supply_limits=instance.supply_limits,
    )


def charged_lps(instance: Instance, deadline: float) -> list[ExpansionLP] | None:
    """Each period's `period_expansion_view` LP (see the module's docstring), in order;
    None when one of them is not solved before `deadline`."""
    shares = cost_shares(instance)
    lps: list[ExpansionLP] = []
    for position in range(len(instance.schedule.periods)):
        if time.perf_counter() >= deadline:
            return None
        view = period_expansion_view(instance, position, shares)
        if not view.inference and not has_expansions(view):
            lps.append(ExpansionLP(0.0, {}))
            continue
        lp = expansion_lp(view, deadline)
        if lp is None:
            return None
        lps.append(lp)
    return lps


def chosen_expansions(instance: Instance, lps: list[ExpansionLP]) -> set[tuple[str, str]]:
    """The expansions the periods' LPs build at least ROUND_AT of, on average over the
    hours of the periods each can serve; most built first, within the supply limits."""
    schedule = instance.schedule
    hours = [span.hours for span in schedule.periods]
    built: dict[tuple[str, str], float] = {}
    for key, first in schedule.expansion_period.items():
        served = math.fsum(hours[first:])
        used = math.fsum(
            hours[position] * lps[position].built.get(key, 0.0)
            for position in range(first, len(hours))
        )
        built[key] = used / served if served > 0 else 0.0
    return rounded(instance, built, at=ROUND_AT)


def with_built(instance: Instance, chosen: set[tuple[str, str]]) -> Instance:
    """`instance` with the expansions in `chosen` built into the sites' timelines (from
    their periods on), no candidate expansions and no supply limits."""
    schedule = instance.schedule
    n = len(schedule.periods)
    sites = []
    for site in instance.sites:
        mine = [x for x in site.expansions or [] if (site.id, x.id) in chosen]
        if not mine:
            sites.append(site.model_copy(update={"expansions": None}))
            continue
        grid = list(schedule.grid_kw[site.id])
        cooling = {kind: list(schedule.cooling_kw[site.id, kind]) for kind in COOLING_KINDS}
        stock = {
            item.accelerator: list(schedule.count[site.id, item.accelerator])
            for item in site.inventory
        }
        for expansion in mine:
            first = schedule.expansion_period[site.id, expansion.id]
            add_grid, add_cooling, add_stock = expansion_adds(expansion)
            for position in range(first, n):
                grid[position] += add_grid
                for kind, kw in add_cooling.items():
                    limit = cooling[kind][position]
                    if limit is not None:  # an unlimited kind stays unlimited
                        cooling[kind][position] = limit + kw
                for accelerator, count in add_stock.items():
                    stock[accelerator][position] += count
        finite = {kind: limits[0] for kind, limits in cooling.items() if limits[0] is not None}
        timeline = [
            TimelineEntry(
                period=schedule.periods[position].id,
                grid_kw=grid[position],
                cooling_kw={kind: limits[position] for kind, limits in cooling.items()},
                inventory=[
                    AcceleratorCount(accelerator=a, count=c[position]) for a, c in stock.items()
                ],
            )
            for position in range(1, n)
        ]
        sites.append(
            site.model_copy(
                update={
                    "grid_kw": grid[0],
                    "cooling_kw": finite if site.cooling_kw is not None or finite else None,
                    "inventory": [
                        item.model_copy(update={"count": stock[item.accelerator][0]})
                        for item in site.inventory
                    ],
                    "timeline": timeline or None,
                    "expansions": None,
                }
            )
        )
    data = instance.model_dump(by_alias=True, exclude_none=True)
    data["sites"] = [site.model_dump(by_alias=True, exclude_none=True) for site in sites]
    data.pop("supply_limits", None)
    built = Instance.model_validate(data)
    built.__dict__["paths"] = instance.paths
    return built


def restated(
    instance: Instance, plan: ScheduledPlan, chosen: set[tuple[str, str]]
) -> ScheduledPlan:
    """A plan of `with_built(instance, chosen)` as a plan of `instance`: the same decisions
    with `chosen` listed as built, its costs recomputed for `instance` (unchecked)."""
    return ScheduledPlan.build(
        instance,
        plan.training,
        plan.unplaced_training,
        plan.inference,
        plan.routes,
        plan.unserved,
        [ChosenExpansion(site=site, expansion=expansion) for site, expansion in sorted(chosen)],
    )


def unneeded(
    instance: Instance, built: Instance, plan: ScheduledPlan, chosen: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The expansions of `chosen` that `plan` (a plan of `built = with_built(instance,
    chosen)`) does not need: dearest first, each one whose additions the plan's use leaves
    unused at every hour from its period on (stock, grid and cooling as written, as the
    ledger books them), taken out of the ledger in turn."""
    ledger = training_ledger(built, plan)
    for group in plan.inference:
        hours = ledger.period(period_position(built, group.period))
        count = group.replicas * replica_size(built, group.service, group.accelerator)
        ledger.take(group.site, group.accelerator, count, {}, hours)
    schedule = instance.schedule
    by_key = {
        (site.id, expansion.id): expansion
        for site in instance.sites
        for expansion in site.expansions or []
    }
    dropped: set[tuple[str, str]] = set()
    for key in sorted(chosen, key=lambda k: (-by_key[k].cost, k)):
        site_id = key[0]
        first = ledger.starts[schedule.expansion_period[key]]
        add_grid, add_cooling, add_stock = expansion_adds(by_key[key])
        spare: list[tuple[NDArray[np.float64], float]] = [(ledger.grid[site_id], add_grid)]
        spare += [(ledger.cooling[site_id, kind], kw) for kind, kw in add_cooling.items()]
        spare += [(ledger.stock[site_id, a], float(n)) for a, n in add_stock.items()]
        if all(_spare(left[first:], amount) for left, amount in spare):
            for left, amount in spare:
                left[first:] -= amount
            dropped.add(key)
    return dropped


def _spare(left: NDArray[np.float64], amount: float) -> bool:
    """Whether `amount` less of a limit still leaves every hour's use within it (an
    unlimited limit, inf, always does)."""
    after = left - amount
    return bool(np.all(after >= -ROOM * np.maximum(1.0, np.abs(left))))
