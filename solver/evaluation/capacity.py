"""Each site's limits in each period (SPEC §9 timelines plus §11 chosen expansions),
resolved by the evaluator itself, never through the solver's `Instance.schedule`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.accelerators import COOLING_KINDS

if TYPE_CHECKING:
    from models import Instance
    from models.accelerators import CoolingKind
    from solver.evaluation.expansions import BuiltExpansion
    from solver.evaluation.periods import Horizon


@dataclass(frozen=True, slots=True)
class SiteCapacity:
    """What a site offers in one period: grid kW, IT heat per cooling kind (None is
    unlimited) and accelerators per type of its base inventory."""

    grid_kw: float
    cooling_kw: dict[CoolingKind, float | None]
    count: dict[str, int]


def resolve_capacities(
    instance: Instance, horizon: Horizon, built: list[BuiltExpansion]
) -> dict[str, list[SiteCapacity]]:
    """Per site, its capacity in each period (indexed by period position): the base
    values, each timeline entry from its period on, then each chosen expansion added from
    its period on (an unlimited cooling kind stays unlimited)."""
    n = len(horizon.periods)
    by_site: dict[str, list[SiteCapacity]] = {}
    for site in instance.sites:
        grid = [site.grid_kw] * n
        cooling = {kind: [site.cooling_limit_kw(kind)] * n for kind in COOLING_KINDS}
        count = {item.accelerator: [item.count] * n for item in site.inventory}
        for entry in site.timeline or []:
            period = horizon.get(entry.period)
            if period is None:
                continue
            for p in range(period.position, n):
                if entry.grid_kw is not None:
                    grid[p] = entry.grid_kw
                for kind, limit in (entry.cooling_kw or {}).items():
                    cooling[kind][p] = limit
                for item in entry.inventory or []:
                    count[item.accelerator][p] = item.count
        for expansion in built:
            if expansion.site.id != site.id:
                continue
            for p in range(expansion.online.position, n):
                grid[p] += expansion.expansion.grid_kw or 0.0
                for kind, kw in (expansion.expansion.cooling_kw or {}).items():
                    limit = cooling[kind][p]
                    if limit is not None:
                        cooling[kind][p] = limit + kw
                for accelerator, added in expansion.added_accelerators.items():
                    if accelerator in count:
                        count[accelerator][p] += added
        by_site[site.id] = [
            SiteCapacity(
                grid_kw=grid[p],
                cooling_kw={kind: cooling[kind][p] for kind in COOLING_KINDS},
                count={accelerator: counts[p] for accelerator, counts in count.items()},
            )
            for p in range(n)
        ]
    return by_site
