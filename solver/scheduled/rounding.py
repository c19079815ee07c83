"""A period's inference from an LP relaxation's replicas (v1's model of the period's static
view): rounded to whole replicas within the view's capacity, the demand they cannot route
planned by v1's greedy planner in what is left, and the routes of the whole from v1's
exact flow LP.

Must-serve services first, then the others in what they leave:

1. Every option of the group the LP uses gets the floor of its LP replicas (largest
   first), then one more where the LP's fraction is largest, while the view's stock,
   grid and cooling allow (v1's capacity ledger).
2. Routing the replicas so far with every demand priced (must-serve demand at a price
   above every real cost) shows the group's demand they leave out.
3. That demand goes to v1's greedy planner, on a view holding only it and the capacity
   and bandwidth the replicas so far and their routes leave.
4. The exact flow LP routes the union; the replicas those routes leave idle are dropped
   (`trimmed`) and the LP routes what is left; None when it cannot (the caller keeps
   its plan).
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from typing import TYPE_CHECKING

from models import COOLING_KINDS, ReplicaAssignment, Solution, SolverInfo
from models.network import GBPS_PER_RPS_KB as GBPS
from solver.costs import accelerator_hour_costs, plan_costs, replica_size
from solver.flows import cheapest_flows
from solver.heuristics.greedy import greedy
from solver.heuristics.greedy.ledger import Capacity
from solver.heuristics.neighbourhood import MIN_LINK_SHARE
from solver.scheduled.period_view import static_instance

if TYPE_CHECKING:
    from models import Instance, ReplicaOption, RouteFlow
    from models.workloads import InferenceProfile

#: Relative and absolute room a trimmed site or n+1 row keeps over what is routed.
TRIM_ROOM = 1e-7
#: LP replicas within this of a whole number count as that number.
WHOLE = 1e-6
#: Price per rps-hour that stands for "must be served" when routing rounded replicas:
#: this many times the dearest unserved price or egress price of the view.
MUST_SERVE_FACTOR = 1e3


def rounded_period(view: Instance, replicas: dict[ReplicaOption, float]) -> Solution | None:
    """A v1 plan of `view` from LP replicas (see the module's docstring), or None."""
    capacity = Capacity.of(view)
    counts: dict[ReplicaOption, int] = defaultdict(int)
    used = [(o, v) for o, v in replicas.items() if v > WHOLE]
    used.sort(key=lambda item: (-item[1], item[0].service, item[0].site, item[0].accelerator))
    must = {s.id for s in view.inference if s.unserved_cost_per_rps_hour is None}
    fractions = [(o, v) for o, v in used if v - math.floor(v + WHOLE) > WHOLE]
    fractions.sort(
        key=lambda item: (
            -(item[1] - math.floor(item[1])),
            item[0].service,
            item[0].site,
            item[0].accelerator,
        )
    )
    extra: list[ReplicaAssignment] = []
    for first in (True, False):
        # Must-serve services first: their floors, their rounding up, then their left-out
        # demand; then the same for the others in what is left.
        for option, value in used:
            if (option.service in must) == first:
                _add(view, capacity, counts, option, math.floor(value + WHOLE))
        for option, value in fractions:
            if (option.service in must) == first and counts[option] < math.ceil(value - WHOLE):
                _add(view, capacity, counts, option, 1)
        group = must if first else {s.id for s in view.inference} - must
        routed = _left_out(view, [*_assignments(counts), *extra], group)
        if routed is None:
            return None
        routes, left = routed
        if left:
            carried = copy.deepcopy(capacity)
            for flow in routes:
                service = view.inference_by_id[flow.service]
                if service.kb_per_request > 0:
                    route = view.paths.route(flow.region, flow.site)
                    assert route is not None
                    carried.use_links(route.links, flow.rps * service.kb_per_request * GBPS)
            rest = greedy(_leftover_view(view, carried, left), partial=True)
            extra += rest.inference
            for entry in rest.inference:
                size = entry.replicas * replica_size(view, entry.service, entry.accelerator)
                capacity.take(view, entry.site, entry.accelerator, size)
    merged: dict[tuple[str, str, str], int] = defaultdict(int)
    for replica in [*_assignments(counts), *extra]:
        merged[replica.service, replica.site, replica.accelerator] += replica.replicas
    inference = [
        ReplicaAssignment(service=s, site=site, accelerator=a, replicas=n)
        for (s, site, a), n in sorted(merged.items())
        if n > 0
    ]
    final = cheapest_flows(view, [], inference)
    if final is None:
        return None
    inference = trimmed(view, inference, final[0])
    final = cheapest_flows(view, [], inference)
    if final is None:
        return None
    routes, short = final
    costs = plan_costs(view, [], [], inference, routes, short)
    info = SolverInfo(name="lp-rounding", version="", seed=0, time_limit_s=None, wall_s=0.0)
    return Solution(
        instance=view.name,
        instance_sha256=view.sha256,
        status="feasible",
        objective=math.fsum(costs.parts().values()),
        inference=inference,
        routes=routes,
        unserved=short,
        costs=costs,
        solver=info,
    )


def trimmed(
    view: Instance, inference: list[ReplicaAssignment], routes: list[RouteFlow]
) -> list[ReplicaAssignment]:
    """`inference` less the replicas its routes leave idle: dearest first, a replica goes
    when its site keeps room for the load routed there (with TRIM_ROOM to spare) and, for
    an n+1 service, every failure domain's outside capacity still covers all it serves.
    The routes stay valid for what is left."""
    load: dict[tuple[str, str], float] = defaultdict(float)
    served: dict[str, float] = defaultdict(float)
    for flow in routes:
        load[flow.service, flow.site] += flow.rps
        served[flow.service] += flow.rps
    rate: dict[tuple[str, str], float] = {}
    capacity: dict[tuple[str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str, str], int] = {}
    price: dict[tuple[str, str, str], float] = {}
    for entry in inference:
        service = view.inference_by_id[entry.service]
        profile = next(p for p in service.profiles if p.accelerator == entry.accelerator)
        group = (entry.service, entry.site, entry.accelerator)
        rate[entry.service, entry.accelerator] = profile.rps
        capacity[entry.service, entry.site] += profile.rps * entry.replicas
        counts[group] = entry.replicas
        price[group] = replica_costs_per_rps(view, entry.site, entry.accelerator, profile)
    domain = {site.id: site.domain for site in view.sites}

    def resilient(service_id: str) -> bool:
        service = view.inference_by_id[service_id]
        if service.resilience != "n+1" or served[service_id] <= 0:
            return True
        held: dict[str, float] = defaultdict(float)
        for (sid, site_id), amount in capacity.items():
            if sid == service_id:
                held[domain[site_id]] += amount
        total = math.fsum(held.values())
        need = served[service_id] * (1 + TRIM_ROOM) + TRIM_ROOM
        return all(total - amount >= need for amount in held.values())

    for group in sorted(counts, key=lambda g: (-price[g], g)):
        service_id, site_id, accelerator = group
        step = rate[service_id, accelerator]
        while counts[group] > 0:
            left = capacity[service_id, site_id] - step
            if left < load[service_id, site_id] * (1 + TRIM_ROOM) + TRIM_ROOM:
                break
            capacity[service_id, site_id] = left
            if not resilient(service_id):
                capacity[service_id, site_id] += step
                break
            counts[group] -= 1
    return [
        ReplicaAssignment(service=s, site=site, accelerator=a, replicas=n)
        for (s, site, a), n in sorted(counts.items())
        if n > 0
    ]


def replica_costs_per_rps(
    view: Instance, site_id: str, accelerator: str, profile: InferenceProfile
) -> float:
    """What one rps of capacity of a replica costs per hour at a site."""
    rate = accelerator_hour_costs(view, site_id, accelerator).total
    return rate * profile.per_replica / profile.rps


def _add(
    view: Instance,
    capacity: Capacity,
    counts: dict[ReplicaOption, int],
    option: ReplicaOption,
    wanted: int,
) -> None:
    """Up to `wanted` more replicas of `option`, as many as the capacity left allows."""
    if wanted <= 0:
        return
    fit = min(wanted, capacity.fits(view, option.site, option.accelerator, option.per_replica))
    if fit > 0:
        capacity.take(view, option.site, option.accelerator, fit * option.per_replica)
        counts[option] += fit


def _left_out(
    view: Instance, replicas: list[ReplicaAssignment], services: set[str]
) -> tuple[list[RouteFlow], dict[str, dict[str, float]]] | None:
    """The routes of `replicas` and the demand of `services` they cannot route (service ->
    region -> rps), every demand priced (`_all_priced`); None when the routing LP fails."""
    routed = cheapest_flows(_all_priced(view), [], replicas)
    if routed is None:
        return None
    left: dict[str, dict[str, float]] = defaultdict(dict)
    for entry in routed[1]:
        if entry.rps > 0 and entry.service in services:
            left[entry.service][entry.region] = entry.rps
    return routed[0], dict(left)


def _assignments(counts: dict[ReplicaOption, int]) -> list[ReplicaAssignment]:
    return [
        ReplicaAssignment(service=o.service, site=o.site, accelerator=o.accelerator, replicas=n)
        for o, n in sorted(
            counts.items(), key=lambda item: (item[0].service, item[0].site, item[0].accelerator)
        )
        if n > 0
    ]


def _all_priced(view: Instance) -> Instance:
    """`view` with must-serve demand priced above every real cost per rps-hour (with
    replicas fixed, routing costs egress and the unserved prices only; one rps-hour of
    egress costs at most every link's egress price times the largest request)."""
    kb = max([s.kb_per_request for s in view.inference], default=0.0)
    egress = math.fsum(link.egress_cost_per_gb for link in view.links) * kb * 3600 / 1e6
    prices = [s.unserved_cost_per_rps_hour or 0.0 for s in view.inference]
    price = MUST_SERVE_FACTOR * max([1.0, egress, *prices])
    inference = [
        s
        if s.unserved_cost_per_rps_hour is not None
        else s.model_copy(update={"unserved_cost_per_rps_hour": price})
        for s in view.inference
    ]
    return static_instance(
        view, view.name, view.horizon_hours, list(view.sites), list(view.links), inference
    )


def _leftover_view(
    view: Instance, capacity: Capacity, left: dict[str, dict[str, float]]
) -> Instance:
    """`view` holding only the demand left (`left`: service -> region -> rps) and the
    capacity and bandwidth `capacity` has left."""
    sites = []
    for site in view.sites:
        cooling = {
            kind: capacity.cooling_kw[site.id, kind]
            for kind in COOLING_KINDS
            if math.isfinite(capacity.cooling_kw[site.id, kind])
        }
        sites.append(
            site.model_copy(
                update={
                    "inventory": [
                        item.model_copy(
                            update={"count": max(0, capacity.inventory[site.id, item.accelerator])}
                        )
                        for item in site.inventory
                    ],
                    "grid_kw": max(0.0, capacity.it_kw[site.id] * site.pue),
                    "cooling_kw": {k: max(0.0, v) for k, v in cooling.items()},
                    "fixed_cost": 0.0 if site.id in capacity.active else site.fixed_cost,
                }
            )
        )
    links = [
        link
        if link.bandwidth_gbps is None
        else link.model_copy(
            update={
                "bandwidth_gbps": max(
                    link.bandwidth_gbps * MIN_LINK_SHARE, capacity.link_gbps[index]
                )
            }
        )
        for index, link in enumerate(view.links)
    ]
    inference = [
        s.model_copy(update={"demand_rps": {u: r for u, r in left[s.id].items() if r > 0}})
        for s in view.inference
        if s.id in left and any(r > 0 for r in left[s.id].values())
    ]
    return static_instance(view, f"{view.name}/left", view.horizon_hours, sites, links, inference)
