"""CP-SAT decision variables of SPEC section 4, created only for eligible decisions.

Flows and unserved demand are integers in units of the service's `rps_unit`
(see `solver.cpsat.scaling`). Every variable gets the tightest cheap upper bound:
replicas never exceed what inventory, power or cooling allow at the site, nor
what the service's whole demand needs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.tolerance import ABS_TOL, FLOAT_ROOM, REL_TOL
from models.tolerance import widened as tol_widened
from solver.cpsat.scaling import rps_unit, snap_ceil, snap_floor

#: Flow values (in rps units) at or below this are read as zero.
FLOW_EPSILON = 1e-9

if TYPE_CHECKING:
    from collections.abc import Callable

    from ortools.sat.python.cp_model import CpModel, IntVar

    from models import Instance, ReplicaOption, RoutePair, TrainingPlacement
    from models.workloads import InferenceService


@dataclass(frozen=True)
class ServiceUnits:
    """How a service's rps are counted in the model.

    A region's served and unserved units sum to `demand_units`. In the restricted model
    a replica serves at most `capacity_units` (rounded down). In the widened model, on a
    unit coarse enough that the SPEC's tolerance cannot change which replica counts can
    route the demand (`tolerance_rps`), the rows are exact on it; else, on a unit finer
    than the tolerance, a replica serves up to `capacity_units` (rounded up, the SPEC's
    relative tolerance included) and every capacity row has `slack` units more (its
    absolute tolerance). `demand_low`, when given, lets the served and unserved units
    fall to it (a relaxation of the demand rows themselves; unused by the models here)."""

    unit: float
    exact: bool
    demand_units: dict[str, int]
    capacity_units: dict[str, int]
    demand_low: dict[str, int] = field(default_factory=dict)
    slack: int = 0
    #: Widened model, rows stated exactly on a coarse unit: the most rps the SPEC's
    #: tolerance (and the unit's snapping) can shift in the service's flow rows, less
    #: than half a unit (see `_tolerance_rps`).
    tolerance_rps: float = 0.0

    def least(self, region: str) -> int:
        """The fewest units of `region`'s demand a plan may serve or leave unserved."""
        return self.demand_low.get(region, self.demand_units[region])

    def least_total(self) -> int:
        """The fewest units of the whole demand a plan may serve or leave unserved."""
        return sum(self.least(region) for region in self.demand_units)

    def rps(self, units: float) -> float:
        """Units back to rps, without float noise."""
        return round(units * self.unit, 9)


@dataclass
class PlanVariables:
    """All decision variables of one model, keyed by the eligible decisions they stand for."""

    placement: dict[TrainingPlacement, IntVar] = field(default_factory=dict)
    unplaced: dict[str, IntVar] = field(default_factory=dict)
    replicas: dict[ReplicaOption, IntVar] = field(default_factory=dict)
    flow: dict[RoutePair, IntVar] = field(default_factory=dict)
    unserved: dict[tuple[str, str], IntVar] = field(default_factory=dict)
    site_active: dict[str, IntVar] = field(default_factory=dict)
    units: dict[str, ServiceUnits] = field(default_factory=dict)
    #: Replica upper bounds, reused by constraints that need them (site use).
    replica_bound: dict[ReplicaOption, int] = field(default_factory=dict)
    #: Elastic slack: required jobs that may stay unplaced and must-serve demand that may
    #: go unserved in the model, at a penalty. A plan using any is not a SPEC plan.
    elastic_unplaced: set[str] = field(default_factory=set)
    elastic_unserved: set[tuple[str, str]] = field(default_factory=set)
    #: Auxiliary totals the constraints define (`total == sum(coef * var)`), so that a
    #: hint can give them their values too.
    totals: list[tuple[IntVar, list[tuple[IntVar, int]]]] = field(default_factory=list)
    #: Groupings computed once from the variables (see usage_terms, capacity_terms).
    _usage: dict[tuple[str, str], list[tuple[IntVar, int, int]]] | None = field(
        default=None, repr=False
    )
    _capacity: dict[tuple[str, str], list[tuple[IntVar, int]]] | None = field(
        default=None, repr=False
    )

    def uses_slack(self, value_of: Callable[[IntVar], float]) -> bool:
        """Whether a solution leaves a required job unplaced or must-serve demand unserved."""
        return any(value_of(self.unplaced[j]) > 0.5 for j in self.elastic_unplaced) or any(
            value_of(self.unserved[key]) > FLOW_EPSILON for key in self.elastic_unserved
        )

    def usage_terms(self) -> dict[tuple[str, str], list[tuple[IntVar, int, int]]]:
        """used[s, a] as (var, accelerators per var unit, var upper bound) per (site,
        accelerator); computed once, since variables do not change once created."""
        if self._usage is None:
            usage: dict[tuple[str, str], list[tuple[IntVar, int, int]]] = defaultdict(list)
            for placement, var in self.placement.items():
                usage[placement.site, placement.accelerator].append((var, placement.count, 1))
            for option, var in self.replicas.items():
                bound = self.replica_bound[option]
                usage[option.site, option.accelerator].append((var, option.per_replica, bound))
            self._usage = usage
        return self._usage

    def capacity_terms(self) -> dict[tuple[str, str], list[tuple[IntVar, int]]]:
        """Replica capacity in rps units per (service, site); computed once."""
        if self._capacity is None:
            capacity: dict[tuple[str, str], list[tuple[IntVar, int]]] = defaultdict(list)
            for option, var in self.replicas.items():
                per_replica = self.units[option.service].capacity_units[option.accelerator]
                capacity[option.service, option.site].append((var, per_replica))
            self._capacity = capacity
        return self._capacity

    def placements_by_job(self) -> dict[str, list[tuple[TrainingPlacement, IntVar]]]:
        """Placement variables grouped by job."""
        grouped: dict[str, list[tuple[TrainingPlacement, IntVar]]] = defaultdict(list)
        for placement, var in self.placement.items():
            grouped[placement.job].append((placement, var))
        return grouped

    def flows_by_service(self) -> dict[str, list[tuple[RoutePair, IntVar]]]:
        """Flow variables grouped by service."""
        grouped: dict[str, list[tuple[RoutePair, IntVar]]] = defaultdict(list)
        for pair, var in self.flow.items():
            grouped[pair.service].append((pair, var))
        return grouped

    def replicas_by_service(self) -> dict[str, list[tuple[ReplicaOption, IntVar]]]:
        """Replica variables grouped by service."""
        grouped: dict[str, list[tuple[ReplicaOption, IntVar]]] = defaultdict(list)
        for option, var in self.replicas.items():
            grouped[option.service].append((option, var))
        return grouped


def service_units(
    instance: Instance, *, widened: bool = False, fine: bool = False
) -> dict[str, ServiceUnits]:
    """Choose each service's rps unit and express demand and replica capacity in it
    (rounded to the restricted or to the widened side; see ServiceUnits). With `fine`,
    the widened model counts every service on a unit finer than its tolerance."""
    result: dict[str, ServiceUnits] = {}
    for service in instance.inference:
        values = [*service.demand_rps.values(), *(p.rps for p in service.profiles)]
        unit, exact = rps_unit(values)
        demands = {region: rps for region, rps in service.demand_rps.items() if rps > 0}
        if not widened:
            result[service.id] = ServiceUnits(
                unit=unit,
                exact=exact,
                demand_units={region: round(rps / unit) for region, rps in demands.items()},
                # Rounded down when inexact, so modelled capacity never exceeds the real one.
                capacity_units={p.accelerator: snap_floor(p.rps / unit) for p in service.profiles},
            )
            continue
        tolerance = _tolerance_rps(instance, service, unit) if exact and not fine else math.inf
        if tolerance < 0.5 * unit:
            # All the tolerance can shift in the flow rows is less than a unit: the rows
            # stay exact on this unit (docs/formulation.md, "Two models").
            result[service.id] = ServiceUnits(
                unit=unit,
                exact=True,
                demand_units={region: round(rps / unit) for region, rps in demands.items()},
                capacity_units={p.accelerator: snap_ceil(p.rps / unit) for p in service.profiles},
                tolerance_rps=tolerance,
            )
            continue
        # Else a unit no larger than the smallest tolerance of the service's rows, so that
        # rounding each capacity row outward loses at most about the tolerance itself.
        smallest = min([*demands.values(), *(p.rps for p in service.profiles)])
        finest = 10.0 ** math.floor(math.log10(max(ABS_TOL, REL_TOL * smallest)))
        unit = min(unit, finest)
        result[service.id] = ServiceUnits(
            unit=unit,
            exact=True,
            demand_units={region: round(rps / unit) for region, rps in demands.items()},
            # The relative tolerance per replica, the absolute one once per row (`slack`).
            capacity_units={
                p.accelerator: math.ceil(p.rps / (1.0 - REL_TOL) * (1.0 + FLOAT_ROOM) / unit)
                for p in service.profiles
            },
            slack=snap_ceil(ABS_TOL / unit),
        )
    return result


def _tolerance_rps(instance: Instance, service: InferenceService, unit: float) -> float:
    """The most rps by which the SPEC's tolerance, and the snapping of demands and rates
    to `unit`, can move a service's flow rows; while it is under one unit, a routing that
    meets the rows to the tolerance implies one that meets them exactly on the unit and
    serves at most this many rps more (docs/formulation.md, "Two models").

    Each demand row may fall short by its tolerance; the capacity rows may hold 1e-6 more
    than their capacity, which over all sites is 1e-6 of what they serve together (at most
    the whole demand), plus the absolute 1e-6 per row; the n+1 rows all cap the same
    total, so together they add the most one of them adds."""
    demands = [rps for rps in service.demand_rps.values() if rps > 0]
    total = math.fsum(demands)
    sites = {option.site for option in instance.eligibility.replicas[service.id]}
    slowest = min(p.rps for p in service.profiles)
    snapping = math.fsum(abs(d - round(d / unit) * unit) for d in demands)
    snapping += max(abs(p.rps - round(p.rps / unit) * unit) for p in service.profiles) * (
        total / slowest + len(sites)
    )
    demand_room = math.fsum(max(ABS_TOL, REL_TOL * d) for d in demands)
    capacity_room = 2.0 * REL_TOL * total + ABS_TOL * len(sites)
    if service.resilience == "n+1":
        capacity_room += 2.0 * REL_TOL * total + ABS_TOL
    return (demand_room + capacity_room + snapping) * (1.0 + 1e-6)


def _replica_bound(
    instance: Instance, option: ReplicaOption, demand_rps: float, *, widened: bool
) -> int:
    """The most replicas of `option` a plan can run: what the site's stock, grid and
    cooling allow (to the SPEC's tolerance in the widened model), and no more than the
    service's whole demand needs."""
    site = instance.site_by_id[option.site]
    accelerator = instance.accelerator_by_id[option.accelerator]
    count = instance.inventory_by_pair[option.site, option.accelerator].count
    replica_kw = accelerator.power_kw * option.per_replica

    def most(limit: float, per: float) -> int:
        if widened:
            return math.floor(tol_widened(limit) / per)
        return math.floor(limit / per + 1e-9)

    bounds = [
        most(count, option.per_replica),
        most(site.grid_kw, site.pue * replica_kw),
    ]
    cooling = site.cooling_limit_kw(accelerator.cooling)
    if cooling is not None:
        bounds.append(most(cooling, replica_kw))
    # More capacity at one site than the whole demand never helps, n+1 included.
    bounds.append(math.ceil(demand_rps / option.rps - 1e-9))
    return max(0, min(bounds))


def create_variables(
    model: CpModel,
    instance: Instance,
    *,
    elastic: bool = False,
    widened: bool = False,
    fine: bool = False,
) -> PlanVariables:
    """Create every decision variable for the eligible decisions of `instance`.

    With `elastic`, required jobs get an unplaced variable and must-serve demand an
    unserved one too (penalised in the objective): the model then always has a plan,
    which lets the search improve from the first moment, and it is a relaxation of
    the SPEC, so its bound stays a proved SPEC bound. With `widened`, rps are counted as
    the widened model counts them (see ServiceUnits)."""
    eligibility = instance.eligibility
    variables = PlanVariables(units=service_units(instance, widened=widened, fine=fine))

    for job in instance.training:
        for placement in eligibility.training[job.id]:
            name = f"y[{job.id},{placement.site},{placement.accelerator}]"
            variables.placement[placement] = model.new_bool_var(name)
        if not job.required or elastic:
            variables.unplaced[job.id] = model.new_bool_var(f"unplaced[{job.id}]")
            if job.required:
                variables.elastic_unplaced.add(job.id)

    for service in instance.inference:
        units = variables.units[service.id]
        total_demand = sum(rps for rps in service.demand_rps.values() if rps > 0)
        hosting: set[str] = set()
        for option in eligibility.replicas[service.id]:
            bound = _replica_bound(instance, option, total_demand, widened=widened)
            if bound <= 0:
                continue
            name = f"r[{service.id},{option.site},{option.accelerator}]"
            variables.replicas[option] = model.new_int_var(0, bound, name)
            variables.replica_bound[option] = bound
            hosting.add(option.site)
        for pair in eligibility.routes[service.id]:
            if pair.site not in hosting:
                continue
            demand = units.demand_units[pair.region]
            name = f"x[{service.id},{pair.region},{pair.site}]"
            variables.flow[pair] = model.new_int_var(0, demand, name)
        if service.unserved_cost_per_rps_hour is not None or elastic:
            for region, demand in units.demand_units.items():
                name = f"w[{service.id},{region}]"
                variables.unserved[service.id, region] = model.new_int_var(0, demand, name)
                if service.unserved_cost_per_rps_hour is None:
                    variables.elastic_unserved.add((service.id, region))

    used_sites = {p.site for p in variables.placement} | {o.site for o in variables.replicas}
    for site in instance.sites:
        if site.fixed_cost > 0 and site.id in used_sites:
            variables.site_active[site.id] = model.new_bool_var(f"z[{site.id}]")
    return variables
