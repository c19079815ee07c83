"""A static v1 view of one period of a scheduled instance, for v1's machinery (the
greedy planner, the exact flow LP) to plan the period's inference.

The view has the period's demand, H = the period's hours, and at each site and link
what a ledger leaves over the whole period (its least over the period's hours): every
replica and route that fits the view fits every hour of the period, next to the work
already booked. Sites already hosting work have no fixed cost in the view.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from models import COOLING_KINDS, Instance
from solver.heuristics.neighbourhood import MIN_LINK_SHARE

if TYPE_CHECKING:
    from collections.abc import Collection

    from models import InferenceService, Site
    from models.network import Link
    from models.v2_fields import SupplyLimit
    from solver.scheduled.ledger import Ledger


def period_view(
    instance: Instance,
    ledger: Ledger,
    position: int,
    services: Collection[str],
    active: Collection[str] = (),
) -> Instance:
    """The v1 instance of period `position` holding the named services (those with
    demand in it) and the capacity `ledger` leaves over the period."""
    hours = ledger.period(position)
    schedule = instance.schedule
    sites = []
    for site in instance.sites:
        inventory = [
            item.model_copy(
                update={
                    "count": math.floor(
                        ledger.least(ledger.stock[site.id, item.accelerator], hours) + 1e-9
                    )
                }
            )
            for item in site.inventory
        ]
        cooling = {
            kind: ledger.least(ledger.cooling[site.id, kind], hours)
            for kind in COOLING_KINDS
            if math.isfinite(ledger.least(ledger.cooling[site.id, kind], hours))
        }
        sites.append(
            site.model_copy(
                update={
                    "inventory": inventory,
                    "grid_kw": ledger.least(ledger.grid[site.id], hours),
                    "cooling_kw": cooling,
                    "fixed_cost": 0.0 if site.id in active else site.fixed_cost,
                    "timeline": None,
                    "expansions": None,
                }
            )
        )
    links = []
    for index, link in enumerate(instance.links):
        if link.bandwidth_gbps is not None:
            left = max(
                link.bandwidth_gbps * MIN_LINK_SHARE, ledger.least(ledger.links[index], hours)
            )
            link = link.model_copy(update={"bandwidth_gbps": left})
        links.append(link)
    wanted = set(services)
    inference = []
    for service in instance.inference:
        demand = {u: rps for u, rps in schedule.demand[service.id][position].items() if rps > 0}
        if service.id in wanted and demand:
            inference.append(
                service.model_copy(
                    update={
                        "demand_rps": demand,
                        "demand_by_period": None,
                        "replica_start_cost": None,
                    }
                )
            )
    name = f"{instance.name}/{schedule.periods[position].id}"
    return static_instance(instance, name, float(ledger.hours[position]), sites, links, inference)


def static_instance(
    base: Instance,
    name: str,
    hours: float,
    sites: list[Site],
    links: list[Link],
    inference: list[InferenceService],
    *,
    supply_limits: list[SupplyLimit] | None = None,
) -> Instance:
    """A static instance on `base`'s network (same nodes, latencies and prices; the given
    sites and links), holding the given services only; `base`'s paths are shared. v1,
    unless a site has candidate expansions (then v2, with `supply_limits`)."""
    v2 = any(site.expansions for site in sites)
    view = Instance(
        schema_="infraplan/v2" if v2 else "infraplan/v1",
        name=name,
        horizon_hours=hours,
        carbon_price_per_tonne=base.carbon_price_per_tonne,
        accelerators=base.accelerators,
        sites=sites,
        regions=base.regions,
        transit=base.transit,
        links=links,
        training=[],
        inference=inference,
        supply_limits=supply_limits if v2 else None,
    )
    # Same nodes, links and latencies: the instance's minimum-latency paths hold.
    view.__dict__["paths"] = base.paths
    return view
