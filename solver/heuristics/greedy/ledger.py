"""The capacity ledger of one greedy pass: what is left of every site's inventory,
power and cooling and of every link's bandwidth while work is placed, and which sites
are open (their fixed cost paid)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models import COOLING_KINDS

if TYPE_CHECKING:
    from models import Instance

#: Relative slack kept on every limit, so float sums never overshoot it.
SAFETY = 1e-9


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

    def copy(self) -> Capacity:
        """An independent ledger with the same room left (to try a plan on)."""
        return Capacity(
            inventory=dict(self.inventory),
            it_kw=dict(self.it_kw),
            cooling_kw=dict(self.cooling_kw),
            link_gbps=dict(self.link_gbps),
            active=set(self.active),
            accelerators=self.accelerators,
            domain_of=self.domain_of,
        )

    def adopt(self, other: Capacity) -> None:
        """Take the room left in `other` (a copy on which a plan was kept)."""
        self.inventory = other.inventory
        self.it_kw = other.it_kw
        self.cooling_kw = other.cooling_kw
        self.link_gbps = other.link_gbps
        self.active = other.active

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


def fixed_cost(instance: Instance, capacity: Capacity, site: str) -> float:
    """What opening `site` costs now: its fixed cost, or 0 once something runs there."""
    return 0.0 if site in capacity.active else instance.site_by_id[site].fixed_cost
