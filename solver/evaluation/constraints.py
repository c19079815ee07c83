"""The SPEC section 5 constraints 1-7, checked on a plan's measured usage.

One function per constraint family, each returning its violations in instance
order; `check_constraints` runs them in SPEC order. Constraint 8 (site use) holds
by construction: the fixed cost is computed from the placements themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from solver.evaluation.tolerance import excess, mismatch
from solver.evaluation.violations import Violation, fmt

if TYPE_CHECKING:
    from models import Instance
    from solver.evaluation.usage import PlanUsage


def check_constraints(instance: Instance, usage: PlanUsage) -> list[Violation]:
    """Every violation of SPEC section 5 constraints 1-7, in SPEC order."""
    return [
        *_inventory(usage),
        *_grid_power(usage),
        *_cooling(usage),
        *_demand(instance, usage),
        *_serving_capacity(usage),
        *_resilience(usage),
        *_bandwidth(usage),
    ]


def _inventory(usage: PlanUsage) -> list[Violation]:
    """1. used[s,a] <= count[s,a] (types missing from the inventory are eligibility errors)."""
    violations: list[Violation] = []
    for site in usage.sites.values():
        for accelerators in site.accelerators.values():
            if not accelerators.in_inventory:
                continue
            over = excess(accelerators.used, accelerators.count)
            if over > 0:
                violations.append(
                    Violation(
                        "inventory",
                        f"site {site.site} / {accelerators.accelerator}",
                        over,
                        f"uses {accelerators.used} of {accelerators.count} installed "
                        f"(over by {fmt(over)})",
                    )
                )
    return violations


def _grid_power(usage: PlanUsage) -> list[Violation]:
    """2. pue * IT kW <= grid_kw."""
    violations: list[Violation] = []
    for site in usage.sites.values():
        over = excess(site.facility_kw, site.grid_kw)
        if over > 0:
            violations.append(
                Violation(
                    "grid_power",
                    f"site {site.site}",
                    over,
                    f"facility power {fmt(site.facility_kw)} kW exceeds the grid's "
                    f"{fmt(site.grid_kw)} kW (over by {fmt(over)} kW)",
                )
            )
    return violations


def _cooling(usage: PlanUsage) -> list[Violation]:
    """3. IT heat of each cooling kind <= its limit, where it has one."""
    violations: list[Violation] = []
    for site in usage.sites.values():
        for heat in site.heat.values():
            if heat.limit_kw is None:
                continue
            over = excess(heat.it_kw, heat.limit_kw)
            if over > 0:
                violations.append(
                    Violation(
                        "cooling",
                        f"site {site.site} / {heat.cooling}",
                        over,
                        f"{heat.cooling} heat {fmt(heat.it_kw)} kW exceeds the limit of "
                        f"{fmt(heat.limit_kw)} kW (over by {fmt(over)} kW)",
                    )
                )
    return violations


def _demand(instance: Instance, usage: PlanUsage) -> list[Violation]:
    """4. served + unserved = demand per (service, region); unserved is 0 without a price."""
    violations: list[Violation] = []
    for service in instance.inference:
        figures = usage.services[service.id]
        for region, demand in service.demand_rps.items():
            entity = f"service {service.id} / region {region}"
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
                            f"{fmt(unserved)} rps unserved, but the service must serve all "
                            "its demand",
                        )
                    )
            off = mismatch(served + unserved, demand)
            if off > 0:
                side = "short of" if served + unserved < demand else "over"
                violations.append(
                    Violation(
                        "demand",
                        entity,
                        off,
                        f"served {fmt(served)} + unserved {fmt(unserved)} rps is {side} the "
                        f"demand of {fmt(demand)} rps by {fmt(off)}",
                    )
                )
    return violations


def _serving_capacity(usage: PlanUsage) -> list[Violation]:
    """5. rps served at a site <= the capacity of the service's replicas there."""
    violations: list[Violation] = []
    for figures in usage.services.values():
        for site, served in figures.served_by_site.items():
            capacity = figures.capacity_by_site.get(site, 0.0)
            over = excess(served, capacity)
            if over > 0:
                violations.append(
                    Violation(
                        "serving_capacity",
                        f"service {figures.service} / site {site}",
                        over,
                        f"serves {fmt(served)} rps with capacity {fmt(capacity)} rps "
                        f"(over by {fmt(over)})",
                    )
                )
    return violations


def _resilience(usage: PlanUsage) -> list[Violation]:
    """6. n+1: capacity outside each failure domain still covers all served demand.

    Only domains that host capacity are checked: losing any other domain leaves the
    whole capacity, and total capacity below served demand already breaks constraint 5.
    """
    violations: list[Violation] = []
    for figures in usage.services.values():
        for domain, left in sorted(figures.capacity_left_by_domain.items()):
            short = excess(figures.served_rps, left)
            if short > 0:
                violations.append(
                    Violation(
                        "resilience",
                        f"service {figures.service} / domain {domain}",
                        short,
                        f"losing domain {domain} leaves {fmt(left)} rps of capacity for "
                        f"{fmt(figures.served_rps)} rps served (short by {fmt(short)})",
                    )
                )
    return violations


def _bandwidth(usage: PlanUsage) -> list[Violation]:
    """7. traffic plus remote dataset reads on a link <= its bandwidth, where limited."""
    violations: list[Violation] = []
    for link in usage.links:
        if link.capacity_gbps is None:
            continue
        over = excess(link.used_gbps, link.capacity_gbps)
        if over > 0:
            violations.append(
                Violation(
                    "bandwidth",
                    f"link {link.name}",
                    over,
                    f"carries {fmt(link.used_gbps)} Gbps (traffic {fmt(link.traffic_gbps)}, "
                    f"datasets {fmt(link.dataset_gbps)}) over {fmt(link.capacity_gbps)} Gbps "
                    f"(over by {fmt(over)})",
                )
            )
    return violations
