"""A v2 plan's figures over time: step series per site and link, each period's peaks and
serving, and one peak snapshot in v1's shape for reports written for v1 plans."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from solver.evaluation.periods import demand_in
from solver.evaluation.steps import link_steps, site_steps
from solver.evaluation.usage import route_usage, service_usage

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from models import Instance
    from solver.evaluation.capacity import SiteCapacity
    from solver.evaluation.eligibility import Flow, IndexedPlan, ReplicaGroup
    from solver.evaluation.lookup import InstanceLookup
    from solver.evaluation.steps import LinkStep, SiteStep
    from solver.evaluation.usage import LinkUsage, RouteUsage, ServiceUsage, SiteUsage


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    """One period of a v2 plan: each site at its highest facility power in the period,
    each link at its busiest, and each service's demand, serving and capacity."""

    period: str
    start: float
    hours: float
    sites: dict[str, SiteUsage]
    links: list[LinkUsage]
    services: dict[str, ServiceUsage]


@dataclass(frozen=True, slots=True)
class TimedUsage:
    """Every figure of a v2 plan (static plans have one period and one step per site)."""

    site_steps: dict[str, list[SiteStep]]
    #: by link index (as `instance.links`), for links that are limited or carry anything
    link_steps: dict[int, list[LinkStep]]
    periods: list[PeriodUsage]
    routes: list[RouteUsage]
    #: each site at its highest facility power over the horizon (earliest on ties)
    peak_sites: dict[str, SiteUsage]
    #: each link at its busiest over the horizon (earliest on ties)
    peak_links: list[LinkUsage]
    #: each service in its period of highest demand (earliest on ties)
    peak_services: dict[str, ServiceUsage]


def measure_over_time(
    instance: Instance,
    lookup: InstanceLookup,
    plan: IndexedPlan,
    capacities: dict[str, list[SiteCapacity]],
    active: set[str],
) -> TimedUsage:
    """Measure a v2 plan at every event against each period's capacities."""
    horizon = lookup.horizon
    sites = site_steps(instance, lookup, plan, capacities, active)
    links = link_steps(instance, lookup, plan)
    flows: dict[str, list[Flow]] = defaultdict(list)
    for flow in plan.flows:
        flows[flow.period].append(flow)
    groups: dict[str, list[ReplicaGroup]] = defaultdict(list)
    for group in plan.replica_groups:
        groups[group.period].append(group)
    unserved: dict[str, dict[tuple[str, str, str], float]] = defaultdict(dict)
    for key, rps in plan.unserved.items():
        unserved[key[2]][key] = rps
    periods: list[PeriodUsage] = []
    for period in horizon.periods:
        periods.append(
            PeriodUsage(
                period.id,
                period.start,
                period.hours,
                sites={
                    site_id: _highest_power(s for s in steps if s.period == period.id)
                    for site_id, steps in sites.items()
                },
                links=[
                    _busiest(s for s in steps if s.period == period.id) for steps in links.values()
                ],
                services=service_usage(
                    instance,
                    flows.get(period.id, []),
                    groups.get(period.id, []),
                    unserved.get(period.id, {}),
                    partial(demand_in, period_id=period.id),
                ),
            )
        )
    return TimedUsage(
        site_steps=sites,
        link_steps=links,
        periods=periods,
        routes=route_usage(plan.flows, scheduled=horizon.scheduled),
        peak_sites={site_id: _highest_power(steps) for site_id, steps in sites.items()},
        peak_links=[_busiest(steps) for steps in links.values()],
        peak_services=_peak_services(instance, periods),
    )


def _highest_power(steps: Iterable[SiteStep]) -> SiteUsage:
    best: SiteStep | None = None
    for step in steps:
        if best is None or step.usage.facility_kw > best.usage.facility_kw:
            best = step
    assert best is not None, "every period has a step"
    return best.usage


def _busiest(steps: Iterable[LinkStep]) -> LinkUsage:
    best: LinkStep | None = None
    for step in steps:
        if best is None or step.usage.used_gbps > best.usage.used_gbps:
            best = step
    assert best is not None, "every period has a step"
    return best.usage


def _peak_services(instance: Instance, periods: Sequence[PeriodUsage]) -> dict[str, ServiceUsage]:
    peaks: dict[str, ServiceUsage] = {}
    for service in instance.inference:
        best = periods[0].services[service.id]
        for period in periods[1:]:
            figures = period.services[service.id]
            if figures.demand_rps > best.demand_rps:
                best = figures
        peaks[service.id] = best
    return peaks
