"""What is left of every limit of a v2 instance at every hour (stock, grid, cooling,
link bandwidth), as the list-scheduling first plan books work into it.

Limits as written (no tolerance) and no expansion: work that fits the ledger meets
SPEC §9's rows 1-3 and 7 as written.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from models.schedule import expansion_adds

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import NDArray

    from models import Instance

#: Relative room against float rounding when comparing usage with a limit.
ROOM = 1e-9


class Ledger:
    """What is left of every limit at every hour of [0, H)."""

    def __init__(self, instance: Instance, *, expanded: bool = False) -> None:
        """The limits as written (no expansion chosen), or with `expanded` every
        expansion's additions from its period on (the most any plan may have)."""
        schedule = instance.schedule
        self.instance = instance
        self.hours = [round(span.hours) for span in schedule.periods]
        self.starts = [round(span.start) for span in schedule.periods]
        self.horizon = sum(self.hours)

        def per_hour(values: list[float | None]) -> NDArray[np.float64]:
            return np.repeat(
                np.array([math.inf if v is None else v for v in values], dtype=np.float64),
                self.hours,
            )

        self.stock = {key: per_hour([float(c) for c in v]) for key, v in schedule.count.items()}
        self.grid = {key: per_hour(list(v)) for key, v in schedule.grid_kw.items()}
        self.cooling = {key: per_hour(list(v)) for key, v in schedule.cooling_kw.items()}
        if expanded:
            self._expand(instance)
        self.links = {
            index: np.full(self.horizon, link.bandwidth_gbps, dtype=np.float64)
            for index, link in enumerate(instance.links)
            if link.bandwidth_gbps is not None
        }

    def _expand(self, instance: Instance) -> None:
        schedule = instance.schedule
        for site in instance.sites:
            for expansion in site.expansions or []:
                first = self.starts[schedule.expansion_period[site.id, expansion.id]]
                add_grid, add_cooling, add_stock = expansion_adds(expansion)
                self.grid[site.id][first:] += add_grid
                for kind, kw in add_cooling.items():
                    self.cooling[site.id, kind][first:] += kw  # inf stays inf
                for type_id, extra in add_stock.items():
                    self.stock[site.id, type_id][first:] += extra

    def period(self, position: int) -> slice:
        """The hours of the period at `position`."""
        start = self.starts[position]
        return slice(start, start + self.hours[position])

    def _uses(
        self, site_id: str, accelerator_id: str, count: int
    ) -> list[tuple[NDArray[np.float64], float]]:
        site = self.instance.site_by_id[site_id]
        accelerator = self.instance.accelerator_by_id[accelerator_id]
        kw = accelerator.power_kw * count
        return [
            (self.stock[site_id, accelerator_id], float(count)),
            (self.grid[site_id], site.pue * kw),
            (self.cooling[site_id, accelerator.cooling], kw),
        ]

    def fits(
        self, site_id: str, accelerator_id: str, count: int, links: dict[int, float]
    ) -> NDArray[np.bool_]:
        """Hours at which `count` more accelerators (and `links` more Gbps) fit."""
        ok = np.ones(self.horizon, dtype=bool)
        uses = self._uses(site_id, accelerator_id, count)
        uses += [(self.links[i], gbps) for i, gbps in links.items() if i in self.links]
        for left, amount in uses:
            ok &= left - amount >= -ROOM * np.maximum(1.0, np.abs(left))
        return ok

    def take(
        self,
        site_id: str,
        accelerator_id: str,
        count: int,
        links: dict[int, float],
        hours: slice,
    ) -> None:
        """Use `count` accelerators (and `links` Gbps) during `hours` (a negative count
        and negative Gbps give them back)."""
        for left, amount in self._uses(site_id, accelerator_id, count):
            left[hours] -= amount
        self.carry(links.items(), hours)

    def carry(self, gbps: Iterable[tuple[int, float]], hours: slice) -> None:
        """Use Gbps on links (by index) during `hours`; unlimited links are skipped."""
        for index, amount in gbps:
            if index in self.links:
                self.links[index][hours] -= amount

    def least(self, left: NDArray[np.float64], hours: slice) -> float:
        """The least that is left of one limit over `hours` (never below 0)."""
        return max(0.0, float(left[hours].min()))

    def copy(self) -> Ledger:
        """An independent copy (same instance, own arrays)."""
        twin = object.__new__(Ledger)
        twin.instance = self.instance
        twin.hours, twin.starts, twin.horizon = self.hours, self.starts, self.horizon
        twin.stock = {key: left.copy() for key, left in self.stock.items()}
        twin.grid = {key: left.copy() for key, left in self.grid.items()}
        twin.cooling = {key: left.copy() for key, left in self.cooling.items()}
        twin.links = {key: left.copy() for key, left in self.links.items()}
        return twin
