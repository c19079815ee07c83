"""The SPEC section 5 constraints 1-7, checked on a plan's measured usage.

One function per constraint family and entity (a site, a link, a service), each
returning its violations; `check_constraints` runs them over a v1 plan in SPEC order.
The same functions check each moment and period of a v2 plan, with `where` naming the
period and hour (" in period q1 at hour 120"). Constraint 8 (site use) holds by
construction: the fixed cost is computed from the placements themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from solver.evaluation.tolerance import excess, mismatch
from solver.evaluation.violations import Violation, fmt

if TYPE_CHECKING:
    from collections.abc import Mapping

    from models import InferenceService, Instance
    from solver.evaluation.usage import LinkUsage, PlanUsage, ServiceUsage, SiteUsage


def check_constraints(instance: Instance, usage: PlanUsage) -> list[Violation]:
    """Every violation of SPEC section 5 constraints 1-7, in SPEC order."""
    sites = list(usage.sites.values())
    return [
        *(v for site in sites for v in inventory(site)),
        *(v for site in sites for v in grid_power(site)),
        *(v for site in sites for v in cooling(site)),
        *(
            v
            for service in instance.inference
            for v in demand(service, usage.services[service.id], service.demand_rps)
        ),
        *(v for figures in usage.services.values() for v in serving_capacity(figures)),
        *(v for figures in usage.services.values() for v in resilience(figures)),
        *(v for link in usage.links for v in bandwidth(link)),
    ]


def inventory(site: SiteUsage, where: str = "") -> list[Violation]:
    """1. used[s,a] <= count[s,a] (types missing from the inventory are eligibility errors)."""
    violations: list[Violation] = []
    for accelerators in site.accelerators.values():
        if not accelerators.in_inventory:
            continue
        over = excess(accelerators.used, accelerators.count)
        if over > 0:
            violations.append(
                Violation(
                    "inventory",
                    f"site {site.site} / {accelerators.accelerator}{where}",
                    over,
                    f"uses {accelerators.used} of {accelerators.count} installed "
                    f"(over by {fmt(over)})",
                )
            )
    return violations


def grid_power(site: SiteUsage, where: str = "") -> list[Violation]:
    """2. pue * IT kW <= grid_kw."""
    over = excess(site.facility_kw, site.grid_kw)
    if over <= 0:
        return []
    return [
        Violation(
            "grid_power",
            f"site {site.site}{where}",
            over,
            f"facility power {fmt(site.facility_kw)} kW exceeds the grid's "
            f"{fmt(site.grid_kw)} kW (over by {fmt(over)} kW)",
        )
    ]


def cooling(site: SiteUsage, where: str = "") -> list[Violation]:
    """3. IT heat of each cooling kind <= its limit, where it has one."""
    violations: list[Violation] = []
    for heat in site.heat.values():
        if heat.limit_kw is None:
            continue
        over = excess(heat.it_kw, heat.limit_kw)
        if over > 0:
            violations.append(
                Violation(
                    "cooling",
                    f"site {site.site} / {heat.cooling}{where}",
                    over,
                    f"{heat.cooling} heat {fmt(heat.it_kw)} kW exceeds the limit of "
                    f"{fmt(heat.limit_kw)} kW (over by {fmt(over)} kW)",
                )
            )
    return violations


def demand(
    service: InferenceService,
    figures: ServiceUsage,
    demand_rps: Mapping[str, float],
    where: str = "",
) -> list[Violation]:
    """4. served + unserved = demand per region; unserved is 0 without a price."""
    violations: list[Violation] = []
    for region, wanted in demand_rps.items():
        entity = f"service {service.id} / region {region}{where}"
        served = figures.served_by_region.get(region, 0.0)
        unserved = figures.unserved_by_region.get(region, 0.0)
        if service.unserved_cost_per_rps_hour is None:
            left_out = excess(unserved, 0.0)
            if left_out > 0:
                violations.append(
                    Violation(
                        "demand",
                        entity,
                        left_out,
                        f"{fmt(unserved)} rps unserved, but the service must serve all its demand",
                    )
                )
        off = mismatch(served + unserved, wanted)
        if off > 0:
            side = "short of" if served + unserved < wanted else "over"
            violations.append(
                Violation(
                    "demand",
                    entity,
                    off,
                    f"served {fmt(served)} + unserved {fmt(unserved)} rps is {side} the "
                    f"demand of {fmt(wanted)} rps by {fmt(off)}",
                )
            )
    return violations


def serving_capacity(figures: ServiceUsage, where: str = "") -> list[Violation]:
    """5. rps served at a site <= the capacity of the service's replicas there."""
    violations: list[Violation] = []
    for site, served in figures.served_by_site.items():
        capacity = figures.capacity_by_site.get(site, 0.0)
        over = excess(served, capacity)
        if over > 0:
            violations.append(
                Violation(
                    "serving_capacity",
                    f"service {figures.service} / site {site}{where}",
                    over,
                    f"serves {fmt(served)} rps with capacity {fmt(capacity)} rps "
                    f"(over by {fmt(over)})",
                )
            )
    return violations


def resilience(figures: ServiceUsage, where: str = "") -> list[Violation]:
    """6. n+1: capacity outside each failure domain still covers all served demand.

    Only domains that host capacity are checked: losing any other domain leaves the
    whole capacity, and total capacity below served demand already breaks constraint 5.
    """
    violations: list[Violation] = []
    for domain, left in sorted(figures.capacity_left_by_domain.items()):
        short = excess(figures.served_rps, left)
        if short > 0:
            violations.append(
                Violation(
                    "resilience",
                    f"service {figures.service} / domain {domain}{where}",
                    short,
                    f"losing domain {domain} leaves {fmt(left)} rps of capacity for "
                    f"{fmt(figures.served_rps)} rps served (short by {fmt(short)})",
                )
            )
    return violations


def bandwidth(link: LinkUsage, where: str = "") -> list[Violation]:
    """7. traffic plus remote dataset reads on a link <= its bandwidth, where limited."""
    if link.capacity_gbps is None:
        return []
    over = excess(link.used_gbps, link.capacity_gbps)
    if over <= 0:
        return []
    return [
        Violation(
            "bandwidth",
            f"link {link.name}{where}",
            over,
            f"carries {fmt(link.used_gbps)} Gbps (traffic {fmt(link.traffic_gbps)}, "
            f"datasets {fmt(link.dataset_gbps)}) over {fmt(link.capacity_gbps)} Gbps "
            f"(over by {fmt(over)})",
        )
    ]
