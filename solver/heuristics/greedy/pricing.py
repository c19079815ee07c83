"""Costs as the greedy planner sees them: the guide an LP relaxation or the Lagrangian
gives (`Guide`: its values of the decisions and its prices of capacity, which
`capacity_prices` reads from the LP's row duals), and each option's cost with its share
of those prices, computed once per `greedy` call (`Prices`, `ServiceView`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.eligibility import RoutePair as RoutePairKey
from solver.costs import replica_costs, traffic_egress_per_rps, training_costs

if TYPE_CHECKING:
    from models import Instance, ReplicaOption, RoutePair, TrainingPlacement
    from solver.cpsat.model import BuiltModel
    from solver.linear import LinearResult

#: LP values below this count as unused.
GUIDE_MIN = 1e-6


@dataclass(frozen=True)
class Guide:
    """Preferences from an LP relaxation: the fractional value it gives each decision.

    With a guide the planner tries the decisions the LP uses first (the LP weighed
    every workload against every other, which the one-by-one planner cannot), and
    serves demand the LP serves even where leaving it unserved looks cheaper locally.
    """

    placements: dict[TrainingPlacement, float] = field(default_factory=dict)
    replicas: dict[ReplicaOption, float] = field(default_factory=dict)
    flows: dict[RoutePair, float] = field(default_factory=dict)
    #: What one accelerator of each (site, accelerator) is worth to the rest of the plan
    #: (currency over the horizon): the LP's prices of the inventory, grid power and
    #: cooling rows it uses. Added to an option's cost, so that flexible work leaves
    #: the capacity that latency-bound work needs.
    capacity_prices: dict[tuple[str, str], float] = field(default_factory=dict)

    def placed_by_job(self) -> dict[str, float]:
        """How much of each training job the LP places (its placements' values summed;
        jobs it leaves out are missing)."""
        placed: dict[str, float] = defaultdict(float)
        for placement, value in self.placements.items():
            placed[placement.job] += value
        return dict(placed)

    @classmethod
    def from_lp(cls, built: BuiltModel, result: LinearResult) -> Guide:
        """The LP's values of a model's placement, replica and flow decisions (flows in
        rps), and its prices of capacity."""
        variables = built.variables
        values = result.values
        return cls(
            placements={p: values[v.index] for p, v in variables.placement.items()},
            replicas={o: values[v.index] for o, v in variables.replicas.items()},
            flows={
                pair: values[v.index] * variables.units[pair.service].unit
                for pair, v in variables.flow.items()
            },
            capacity_prices=capacity_prices(built, result),
        )


#: Constraint families that limit what a site's accelerators may use.
CAPACITY_FAMILIES = ("inventory", "grid_power", "cooling")


def capacity_prices(built: BuiltModel, result: LinearResult) -> dict[tuple[str, str], float]:
    """Per (site, accelerator), the LP dual price of one more accelerator in use there:
    minus the duals of the inventory, grid power and cooling rows, each times the row's
    coefficient per accelerator. Zero where no such row binds."""
    if not result.duals:
        return {}
    per_accelerator: dict[int, tuple[tuple[str, str], int]] = {}
    for pair, terms in built.variables.usage_terms().items():
        for var, per, _ in terms:
            per_accelerator[var.index] = (pair, per)
    prices: dict[tuple[str, str], float] = defaultdict(float)
    proto = built.model.proto
    for index, label in built.notes.labels.items():
        if label.family not in CAPACITY_FAMILIES:
            continue
        dual = sum(result.duals[row] for row in result.rows_of_constraint[index])
        if dual >= 0:
            continue
        exact = built.notes.relaxed.get(index)
        if exact is not None:
            coefficients = exact.coefficients
        else:
            linear = proto.constraints[index].linear
            coefficients = dict(zip(linear.vars, linear.coeffs, strict=True))
        seen: dict[tuple[str, str], float] = {}
        for var_index, coefficient in coefficients.items():
            pair, per = per_accelerator[var_index]
            seen[pair] = max(seen.get(pair, 0.0), -dual * coefficient / per)
        for pair, price in seen.items():
            prices[pair] += price
    return dict(prices)


@dataclass
class Prices:
    """Each option's cost, computed once per greedy call (every pass asks again)."""

    instance: Instance
    #: Capacity prices (see Guide.capacity_prices) added to every option's cost.
    capacity: dict[tuple[str, str], float] = field(default_factory=dict)
    replicas: dict[ReplicaOption, float] = field(default_factory=dict)
    placements: dict[TrainingPlacement, float] = field(default_factory=dict)
    services: dict[str, ServiceView] = field(default_factory=dict)

    def service(self, service_id: str, guide: Guide) -> ServiceView:
        """What no pass changes of a service (one guide per greedy call)."""
        view = self.services.get(service_id)
        if view is None:
            view = self.services[service_id] = _service_view(self.instance, service_id, guide, self)
        return view

    def replica(self, option: ReplicaOption) -> float:
        """Cost of one replica of `option` over the horizon."""
        cost = self.replicas.get(option)
        if cost is None:
            cost = replica_costs(self.instance, option).total
            cost += option.per_replica * self.capacity.get((option.site, option.accelerator), 0.0)
            self.replicas[option] = cost
        return cost

    def placement(self, placement: TrainingPlacement) -> float:
        """Cost of running a job at `placement` (fixed site cost not included)."""
        cost = self.placements.get(placement)
        if cost is None:
            cost = training_costs(self.instance, placement).total
            cost += placement.count * self.capacity.get(
                (placement.site, placement.accelerator), 0.0
            )
            self.placements[placement] = cost
        return cost


@dataclass(frozen=True)
class ServiceView:
    """What `plan_service` needs of a service that no pass changes: its options by
    site, their costs per replica, which the LP uses, and per region (largest demand
    first) the sites that serve it, their egress per rps, the links to them and those
    sites cheapest egress first."""

    options_at: dict[str, list[ReplicaOption]]
    per_replica: dict[ReplicaOption, float]
    guided: dict[ReplicaOption, bool]
    regions: list[tuple[str, float]]
    sites_of: dict[str, list[str]]
    routes: dict[str, tuple[dict[str, float], dict[str, tuple[int, ...]], list[str]]]
    served_by_lp: dict[str, bool]
    #: The options cheapest per rps first (ties: by site, then in eligibility order).
    by_cover_cost: list[ReplicaOption]


def _service_view(instance: Instance, service_id: str, guide: Guide, prices: Prices) -> ServiceView:
    """The view `Prices.service` keeps of one service."""
    service = instance.inference_by_id[service_id]
    eligibility = instance.eligibility
    options = eligibility.replicas[service_id]
    options_at: dict[str, list[ReplicaOption]] = defaultdict(list)
    for option in options:
        options_at[option.site].append(option)
    sites_of: dict[str, list[str]] = defaultdict(list)
    for pair in eligibility.routes[service_id]:
        sites_of[pair.region].append(pair.site)
    regions = sorted(service.demand_rps.items(), key=lambda item: (-item[1], item[0]))
    routes: dict[str, tuple[dict[str, float], dict[str, tuple[int, ...]], list[str]]] = {}
    served_by_lp: dict[str, bool] = {}
    for region, _ in regions:
        egress = {
            site: traffic_egress_per_rps(instance, service.kb_per_request, region, site)
            if service.kb_per_request > 0
            else 0.0
            for site in sites_of[region]
        }
        links_to: dict[str, tuple[int, ...]] = {}
        for site in sites_of[region]:
            route = instance.paths.route(region, site)
            assert route is not None
            links_to[site] = route.links
        by_egress = sorted(sites_of[region], key=lambda s: (egress[s], s))
        routes[region] = (egress, links_to, by_egress)
        served_by_lp[region] = any(
            guide.flows.get(RoutePairKey(service_id, region, site), 0.0) > GUIDE_MIN
            for site in sites_of[region]
        )
    per_replica = {o: prices.replica(o) for o in options}
    return ServiceView(
        options_at=options_at,
        per_replica=per_replica,
        guided={o: guide.replicas.get(o, 0.0) > GUIDE_MIN for o in options},
        regions=regions,
        sites_of=sites_of,
        routes=routes,
        served_by_lp=served_by_lp,
        by_cover_cost=sorted(options, key=lambda o: (per_replica[o] / o.rps, o.site)),
    )
