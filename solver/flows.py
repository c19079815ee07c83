"""The cheapest routing of a plan's placements and replicas, against the SPEC's own rows.

With placements and replicas fixed, what is left of SPEC sections 4-6 is a linear
program in the flows x[i,u,s] and unserved rps w[i,u]: demand rows, serving capacity,
the n+1 rows and link bandwidth, stated here straight from the instance in float64
(no rps grid, no scaling). A plan whose replicas came from a model with rounded or
widened rows gets its flows from here before it is checked and returned: its routes
then meet the SPEC's rows to the LP solver's tolerance (1e-7), well inside the SPEC's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from models import RouteFlow, UnservedDemand
from models.network import GBPS_PER_RPS_KB
from models.tolerance import widened
from solver.costs import traffic_egress_per_rps
from solver.linear import LinearRows, solve_rows

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance, ReplicaAssignment, TrainingAssignment

#: Flows below this many rps are read as zero.
FLOW_ZERO = 1e-9


def cheapest_flows(
    instance: Instance,
    training: Sequence[TrainingAssignment],
    inference: Sequence[ReplicaAssignment],
    *,
    time_limit_s: float | None = None,
    to_tolerance: bool = False,
) -> tuple[list[RouteFlow], list[UnservedDemand]] | None:
    """The cheapest routes and unserved demand for fixed placements and replicas (sorted
    as SPEC section 7 lists them); None when no routing meets the rows (or the LP solver
    gave no optimum in its time). With `to_tolerance`, the capacity, n+1 and link rows
    may be met to the SPEC's tolerance (for replicas that fit only within it); the demand
    rows are always met as written."""
    room = widened if to_tolerance else _as_is
    capacity: dict[tuple[str, str], float] = defaultdict(float)
    for entry in inference:
        if entry.replicas <= 0:
            continue
        service = instance.inference_by_id[entry.service]
        rate = {p.accelerator: p.rps for p in service.profiles}[entry.accelerator]
        capacity[entry.service, entry.site] += rate * entry.replicas
    lower: list[float] = []
    upper: list[float] = []
    costs: dict[int, float] = {}
    rows: list[tuple[dict[int, float], float, float]] = []
    #: (service, region, site, variable index) and (service, region, variable index).
    flows: list[tuple[str, str, str, int]] = []
    unserved: list[tuple[str, str, int]] = []
    link_rows: dict[int, dict[int, float]] = defaultdict(dict)

    def variable(high: float, cost: float) -> int:
        lower.append(0.0)
        upper.append(high)
        if cost:
            costs[len(lower) - 1] = cost
        return len(lower) - 1

    paths = instance.paths
    hours = instance.horizon_hours
    for service in instance.inference:
        by_site: dict[str, dict[int, float]] = defaultdict(dict)
        served: dict[int, float] = {}
        routes = instance.eligibility.routes[service.id]
        for region, demand in sorted(service.demand_rps.items()):
            if demand <= 0:
                continue
            terms: dict[int, float] = {}
            for pair in routes:
                if pair.region != region or capacity.get((service.id, pair.site), 0.0) <= 0:
                    continue
                egress = 0.0
                if service.kb_per_request > 0:
                    egress = traffic_egress_per_rps(
                        instance, service.kb_per_request, region, pair.site
                    )
                index = variable(demand, egress)
                flows.append((service.id, region, pair.site, index))
                terms[index] = 1.0
                by_site[pair.site][index] = 1.0
                served[index] = 1.0
                if service.kb_per_request > 0:
                    route = paths.route(region, pair.site)
                    assert route is not None
                    for link in route.links:
                        link_rows[link][index] = service.kb_per_request * GBPS_PER_RPS_KB
            if service.unserved_cost_per_rps_hour is not None:
                index = variable(demand, service.unserved_cost_per_rps_hour * hours)
                unserved.append((service.id, region, index))
                terms[index] = 1.0
            rows.append((terms, demand, demand))
        for site, terms in sorted(by_site.items()):
            rows.append((terms, -math.inf, room(capacity[service.id, site])))
        if service.resilience == "n+1" and served:
            held: dict[str, float] = defaultdict(float)
            for (service_id, site), amount in capacity.items():
                if service_id == service.id:
                    held[instance.site_by_id[site].domain] += amount
            total = math.fsum(held.values())
            for domain in sorted(held):
                rows.append((dict(served), -math.inf, room(total - held[domain])))
    reads: dict[int, float] = defaultdict(float)
    for placed in training:
        dataset = instance.training_by_id[placed.job].dataset
        if dataset is None or dataset.read_gbps <= 0 or dataset.at == placed.site:
            continue
        route = paths.route(dataset.at, placed.site)
        if route is not None:
            for link in route.links:
                reads[link] += dataset.read_gbps
    for link_index, terms in sorted(link_rows.items()):
        gbps = instance.links[link_index].bandwidth_gbps
        if gbps is not None:
            rows.append((terms, -math.inf, room(gbps) - reads[link_index]))
    data = LinearRows(lower, upper, [False] * len(lower), rows, [], costs)
    result = solve_rows(data, time_limit_s)
    if result.status != "optimal":
        return None
    values = result.values
    routes_out = [
        RouteFlow(service=service_id, region=region, site=site, rps=round(values[k], 9))
        for service_id, region, site, k in flows
        if values[k] > FLOW_ZERO
    ]
    unserved_out = [
        UnservedDemand(service=service_id, region=region, rps=round(values[k], 9))
        for service_id, region, k in unserved
        if values[k] > FLOW_ZERO
    ]
    return (
        sorted(routes_out, key=lambda f: (f.service, f.region, f.site)),
        sorted(unserved_out, key=lambda w: (w.service, w.region)),
    )


def _as_is(limit: float) -> float:
    return limit
