"""How an assignment benchmark becomes a SPEC instance (shared by the GAP and SSCFLP importers).

Each agent or facility is a site with its own accelerator type, whose inventory
count is the capacity; each job or customer is a required training job with one
option per site (count = its resource use there) and `site_costs` = the
assignment cost. Everything else is made neutral: one-hour horizon and run,
zero hourly cost and energy price, PUE 1, no network. Accelerators draw a token
1 W each (the SPEC needs power > 0) and every site has 1 kW of grid power per
unit of capacity, a thousand times what its whole inventory draws, so power
never binds and the objective is exactly Σ site_costs + Σ fixed_cost of the
sites used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models import Instance, parse_instance
from models.instance import INSTANCE_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Sequence

HORIZON_HOURS = 1.0
RUN_HOURS = 1.0
#: IT power per accelerator: a token 1 W, since the SPEC needs power > 0.
ACCELERATOR_POWER_KW = 1e-3
ACCELERATOR_MEMORY_GB = 1.0
#: Grid power per unit of capacity: 1000x the draw, and a round number in the files.
GRID_KW_PER_UNIT = 1.0


@dataclass(frozen=True, slots=True)
class Holder:
    """One agent or facility: a site id, its capacity and its fixed cost."""

    id: str
    capacity: int
    fixed_cost: float = 0.0


@dataclass(frozen=True, slots=True)
class Assignee:
    """One job or customer: its id, and per holder the resource use and assignment cost."""

    id: str
    counts: Sequence[int]
    costs: Sequence[float]


def padded_ids(prefix: str, how_many: int) -> list[str]:
    """`prefix-01`, `prefix-02`, ... (1-based, zero-padded so ids sort in input order)."""
    width = max(2, len(str(how_many)))
    return [f"{prefix}-{number:0{width}d}" for number in range(1, how_many + 1)]


def assignment_instance(
    *,
    name: str,
    description: str,
    meta: dict[str, Any],
    holders: Sequence[Holder],
    assignees: Sequence[Assignee],
    source: str,
) -> Instance:
    """Build and validate the SPEC instance of an assignment problem (see module docstring)."""
    sites: list[dict[str, Any]] = []
    for holder in holders:
        site: dict[str, Any] = {
            "id": holder.id,
            "grid_kw": holder.capacity * GRID_KW_PER_UNIT,
            "pue": 1.0,
            "energy_price_per_kwh": 0.0,
            "inventory": [{"accelerator": holder.id, "count": holder.capacity}],
        }
        if holder.fixed_cost:
            site["fixed_cost"] = holder.fixed_cost
        sites.append(site)
    training = [
        {
            "id": assignee.id,
            "options": [
                {"accelerator": holder.id, "count": count}
                for holder, count in zip(holders, assignee.counts, strict=True)
            ],
            "run_hours": RUN_HOURS,
            "site_costs": {
                holder.id: cost for holder, cost in zip(holders, assignee.costs, strict=True)
            },
        }
        for assignee in assignees
    ]
    document = {
        "schema": INSTANCE_SCHEMA,
        "name": name,
        "description": description,
        "meta": meta,
        "horizon_hours": HORIZON_HOURS,
        "accelerators": [
            {
                "id": holder.id,
                "memory_gb": ACCELERATOR_MEMORY_GB,
                "power_kw": ACCELERATOR_POWER_KW,
                "cooling": "air",
            }
            for holder in holders
        ],
        "sites": sites,
        "training": training,
    }
    return parse_instance(document, source)
