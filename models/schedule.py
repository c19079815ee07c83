"""Periods, and each site's capacity and each service's demand per period (SPEC §9, §11).

A static instance has one period, the horizon, whose id is "all" (SPEC §8), so code
written per period serves both kinds. Capacities here are the timeline's; chosen
expansions add to them (`expansion_*` give what each one adds and from when).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.accelerators import COOLING_KINDS, CoolingKind
from models.v2_rules import STATIC_PERIOD

if TYPE_CHECKING:
    from models.instance import Instance
    from models.v2_fields import Expansion


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    """One period: id, first hour and length in hours (hours [start, start + hours))."""

    id: str
    start: float
    hours: float

    @property
    def end(self) -> float:
        """The hour the period ends (exclusive)."""
        return self.start + self.hours


@dataclass
class Schedule:
    """Periods with each site's grid, cooling and stock and each service's demand in each.

    Lists are indexed by period position; a cooling limit of None is unlimited."""

    periods: list[PeriodSpan]
    grid_kw: dict[str, list[float]] = field(default_factory=dict)
    cooling_kw: dict[tuple[str, CoolingKind], list[float | None]] = field(default_factory=dict)
    count: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    demand: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    #: Position of the period each expansion comes online in, by (site, expansion id).
    expansion_period: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def build(cls, instance: Instance) -> Schedule:
        """Resolve timelines and demand_by_period into per-period values."""
        if instance.periods is None:
            spans = [PeriodSpan(STATIC_PERIOD, 0.0, float(instance.horizon_hours))]
        else:
            spans = []
            start = 0
            for period in instance.periods:
                spans.append(PeriodSpan(period.id, float(start), float(period.hours)))
                start += period.hours
        position = {span.id: index for index, span in enumerate(spans)}
        result = cls(spans)
        n = len(spans)
        for site in instance.sites:
            grid = [site.grid_kw] * n
            cooling = {kind: [site.cooling_limit_kw(kind)] * n for kind in COOLING_KINDS}
            stock = {item.accelerator: [item.count] * n for item in site.inventory}
            for entry in site.timeline or []:
                first = position[entry.period]
                if entry.grid_kw is not None:
                    grid[first:] = [entry.grid_kw] * (n - first)
                for kind, limit in (entry.cooling_kw or {}).items():
                    cooling[kind][first:] = [limit] * (n - first)
                for item in entry.inventory or []:
                    stock[item.accelerator][first:] = [item.count] * (n - first)
            result.grid_kw[site.id] = grid
            for kind, limits in cooling.items():
                result.cooling_kw[(site.id, kind)] = limits
            for accelerator, counts in stock.items():
                result.count[(site.id, accelerator)] = counts
            for expansion in site.expansions or []:
                first = (
                    0 if expansion.period in (None, STATIC_PERIOD) else position[expansion.period]
                )
                result.expansion_period[(site.id, expansion.id)] = first
        for service in instance.inference:
            result.demand[service.id] = [service.demand_in(span.id) for span in spans]
        return result

    @property
    def horizon_hours(self) -> float:
        """The hours the plan covers."""
        return self.periods[-1].end

    def period_at(self, hour: float) -> int:
        """Position of the period that holds `hour` (0 <= hour < horizon)."""
        starts = [span.start for span in self.periods]
        return max(0, bisect.bisect_right(starts, hour) - 1)

    def demand_regions(self, service_id: str) -> dict[str, float]:
        """Each region's largest demand over the periods (regions with none left out)."""
        largest: dict[str, float] = {}
        for demand in self.demand[service_id]:
            for region, rps in demand.items():
                if rps > 0:
                    largest[region] = max(largest.get(region, 0.0), rps)
        return largest


def expansion_adds(expansion: Expansion) -> tuple[float, dict[CoolingKind, float], dict[str, int]]:
    """What a chosen expansion adds: grid kW, cooling kW by kind, accelerators by type."""
    return (
        expansion.grid_kw or 0.0,
        dict(expansion.cooling_kw or {}),
        {item.accelerator: item.count for item in expansion.inventory or []},
    )


def largest_capacity(
    instance: Instance, site_id: str
) -> tuple[float, dict[CoolingKind, float | None], dict[str, int]]:
    """The most a site can ever offer: its largest timeline values plus every expansion.

    Used to keep options that fit in some period (eligibility), never as a limit."""
    schedule = instance.schedule
    site = instance.site_by_id[site_id]
    grid = max(schedule.grid_kw[site_id])
    cooling: dict[CoolingKind, float | None] = {}
    for kind in COOLING_KINDS:
        limits = schedule.cooling_kw[(site_id, kind)]
        cooling[kind] = None if any(v is None for v in limits) else max(v or 0.0 for v in limits)
    stock = {
        item.accelerator: max(schedule.count[(site_id, item.accelerator)])
        for item in site.inventory
    }
    for expansion in site.expansions or []:
        add_grid, add_cooling, add_stock = expansion_adds(expansion)
        grid += add_grid
        for kind, kw in add_cooling.items():
            limit = cooling[kind]
            if limit is not None:
                cooling[kind] = limit + kw
        for accelerator, count in add_stock.items():
            stock[accelerator] = stock.get(accelerator, 0) + count
    return grid, cooling, stock
