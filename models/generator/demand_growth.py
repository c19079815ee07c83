"""Demand that grows period by period, and the witness replicas and routes that serve it.

A service is drawn as in v1 (`draw_service`): its demand then is the first period's. Each later
period multiplies it by a growth factor drawn per service; every witness route keeps its share
of its region's demand, and each site keeps at least its first-period replicas scaled by the
growth of the service's total, so n+1 (SPEC §5.6) still holds in every period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.generator.network import uniform

if TYPE_CHECKING:
    import numpy as np

    from models.generator.workloads import Witness

#: (region, site, rps) of one witness route.
Route = tuple[str, str, int]


@dataclass
class ServicePlan:
    """One service's witness in every period."""

    id: str
    kb_per_request: float
    #: accelerator and accelerators per replica at each site the witness uses
    shape: dict[str, tuple[str, int]]
    demand: list[dict[str, int]] = field(default_factory=list)
    routes: list[list[Route]] = field(default_factory=list)
    #: site -> replicas, per period
    replicas: list[dict[str, int]] = field(default_factory=list)

    def used(self, period: int) -> dict[tuple[str, str], int]:
        """Accelerators the witness uses per (site, accelerator) in a period."""
        return {
            (site, self.shape[site][0]): count * self.shape[site][1]
            for site, count in self.replicas[period].items()
            if count > 0
        }


def grow_service(
    rng: np.random.Generator,
    service: dict[str, Any],
    witness: Witness,
    period_ids: tuple[str, ...],
    growth: tuple[float, float],
) -> ServicePlan:
    """Set `demand_by_period` on a drawn service and return its witness per period."""
    service_id = service["id"]
    rps_of = {p["accelerator"]: p["rps"] for p in service["profiles"]}
    base_replicas = {
        site: replicas
        for (sid, site), (_, replicas, _) in witness.replicas.items()
        if sid == service_id
    }
    shape = {
        site: (acc, per_replica)
        for (sid, site), (acc, _, per_replica) in witness.replicas.items()
        if sid == service_id
    }
    base_routes = [(r, s, round(rps)) for sid, r, s, rps in witness.routes if sid == service_id]
    base_demand = {region: round(rps) for region, rps in service["demand_rps"].items()}
    factor = uniform(rng, *growth)
    plan = ServicePlan(service_id, service["request_kb"] + service["response_kb"], shape)
    base_total = sum(base_demand.values())
    for period in range(len(period_ids)):
        demand = {r: round(rps * factor**period) for r, rps in base_demand.items()}
        routes = _split_routes(base_routes, base_demand, demand)
        served: dict[str, int] = {}
        for _, site, rps in routes:
            served[site] = served.get(site, 0) + rps
        scale = sum(demand.values()) / base_total
        plan.demand.append(demand)
        plan.routes.append(routes)
        plan.replicas.append(
            {
                site: max(
                    math.ceil(served.get(site, 0) / rps_of[shape[site][0]]),
                    math.ceil(base * scale),
                )
                for site, base in base_replicas.items()
            }
        )
    service["demand_by_period"] = {
        period_id: {r: float(rps) for r, rps in plan.demand[p].items()}
        for p, period_id in enumerate(period_ids)
        if p > 0
    }
    return plan


def _split_routes(
    base_routes: list[Route], base_demand: dict[str, int], demand: dict[str, int]
) -> list[Route]:
    """Routes carrying `demand`, each with its first-period share of its region's demand
    (whole rps; the last route of a region takes what is left)."""
    routes: list[Route] = []
    for region, total in demand.items():
        mine = [(s, rps) for r, s, rps in base_routes if r == region]
        left = total
        for index, (site, rps) in enumerate(mine):
            share = left if index == len(mine) - 1 else round(total * rps / base_demand[region])
            share = min(share, left)
            routes.append((region, site, share))
            left -= share
    return routes
