"""Data-centre sites and their accelerator inventory (SPEC section 2)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from models.accelerators import CoolingKind
from models.base import Annotatable, Count, Id, NonNegFloat, StrictModel
from models.v2_fields import Expansion, OmitUnsetV2, TimelineEntry


class InventoryItem(StrictModel):
    """How many accelerators of one type a site has, and their price per accelerator-hour."""

    accelerator: Id
    count: Count
    hourly_cost: NonNegFloat = 0.0


class Site(Annotatable, OmitUnsetV2):
    """A data centre: power, PUE, cooling, prices, carbon, failure domain and inventory;
    in v2 also its `timeline` (SPEC §9) and candidate `expansions` (SPEC §11)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset({"timeline", "expansions"})

    id: Id
    grid_kw: NonNegFloat
    pue: float = Field(ge=1.0, le=100.0, allow_inf_nan=False)
    energy_price_per_kwh: NonNegFloat
    carbon_g_per_kwh: NonNegFloat = 0.0
    #: IT heat each cooling kind can remove; a missing kind or map means unlimited.
    cooling_kw: dict[CoolingKind, NonNegFloat] | None = None
    failure_domain: Id | None = None
    fixed_cost: NonNegFloat = 0.0
    tags: list[Id] = Field(default_factory=list)
    inventory: list[InventoryItem] = Field(default_factory=list)
    timeline: list[TimelineEntry] | None = None
    expansions: list[Expansion] | None = None

    @property
    def domain(self) -> str:
        """The failure domain, defaulting to the site's own id."""
        return self.failure_domain if self.failure_domain is not None else self.id

    def cooling_limit_kw(self, kind: CoolingKind) -> float | None:
        """IT heat limit for one cooling kind, or None when unlimited."""
        if self.cooling_kw is None:
            return None
        return self.cooling_kw.get(kind)
