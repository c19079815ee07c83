"""Cost coefficients of SPEC section 6, per decision, split into the SPEC's parts.

Shared by every model of the SPEC (CP-SAT, the LP relaxation) and by the plan
costing in `solver.solution_builder`; the evaluator computes costs on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import CostBreakdown
from models.eligibility import TrainingPlacement

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import (
        Instance,
        ReplicaAssignment,
        ReplicaOption,
        RouteFlow,
        TrainingAssignment,
        TrainingJob,
        UnservedDemand,
    )

PARTS = ("compute", "energy", "carbon", "egress", "site_costs", "fixed", "unserved", "unplaced")

GRAMS_PER_TONNE = 1e6
KB_PER_GB = 1e6
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class PartCosts:
    """A cost split into SPEC parts (only the parts a decision can carry)."""

    compute: float = 0.0
    energy: float = 0.0
    carbon: float = 0.0
    egress: float = 0.0
    site_costs: float = 0.0

    @property
    def total(self) -> float:
        """Sum of the parts."""
        return self.compute + self.energy + self.carbon + self.egress + self.site_costs


def accelerator_hour_costs(instance: Instance, site_id: str, accelerator_id: str) -> PartCosts:
    """rate(s, a) of SPEC section 6, split into compute, energy and carbon."""
    return _rates(instance)[site_id, accelerator_id]


def _rates(instance: Instance) -> dict[tuple[str, str], PartCosts]:
    """rate(s, a) for every inventory pair, computed once per instance."""
    cached: dict[tuple[str, str], PartCosts] | None = instance.__dict__.get("_infraplan_rates")
    if cached is None:
        cached = {
            (site.id, item.accelerator): _rate(instance, site.id, item.accelerator)
            for site in instance.sites
            for item in site.inventory
        }
        # Stored like a cached_property: instances are immutable, so it never goes stale.
        instance.__dict__["_infraplan_rates"] = cached
    return cached


def _rate(instance: Instance, site_id: str, accelerator_id: str) -> PartCosts:
    site = instance.site_by_id[site_id]
    accelerator = instance.accelerator_by_id[accelerator_id]
    hourly_cost = instance.inventory_by_pair[site_id, accelerator_id].hourly_cost
    facility_kw = accelerator.power_kw * site.pue
    return PartCosts(
        compute=hourly_cost,
        energy=facility_kw * site.energy_price_per_kwh,
        carbon=facility_kw
        * site.carbon_g_per_kwh
        * instance.carbon_price_per_tonne
        / GRAMS_PER_TONNE,
    )


def dataset_egress(instance: Instance, job: TrainingJob, site_id: str) -> float:
    """Egress cost of moving a job's dataset to `site_id` (SPEC section 6)."""
    if job.dataset is None or job.dataset.size_gb <= 0:
        return 0.0
    route = instance.paths.route(job.dataset.at, site_id)
    assert route is not None, "eligible placements are reachable from their dataset"
    return job.dataset.size_gb * route.egress_per_gb


def training_costs(instance: Instance, placement: TrainingPlacement) -> PartCosts:
    """Cost of placing a training job: accelerator-hours, surcharge and dataset egress."""
    job = instance.training_by_id[placement.job]
    rate = accelerator_hour_costs(instance, placement.site, placement.accelerator)
    hours = placement.count * job.run_hours
    egress = dataset_egress(instance, job, placement.site)
    return PartCosts(
        compute=hours * rate.compute,
        energy=hours * rate.energy,
        carbon=hours * rate.carbon,
        egress=egress,
        site_costs=job.site_costs.get(placement.site, 0.0),
    )


def replica_costs(instance: Instance, option: ReplicaOption) -> PartCosts:
    """Cost of one replica over the horizon."""
    rate = accelerator_hour_costs(instance, option.site, option.accelerator)
    hours = option.per_replica * instance.horizon_hours
    return PartCosts(
        compute=hours * rate.compute, energy=hours * rate.energy, carbon=hours * rate.carbon
    )


def replica_size(instance: Instance, service_id: str, accelerator: str) -> int:
    """Accelerators one replica of a service takes on `accelerator` (its profile's)."""
    service = instance.inference_by_id[service_id]
    return next(p.per_replica for p in service.profiles if p.accelerator == accelerator)


def traffic_egress_per_rps(
    instance: Instance, kb_per_request: float, region: str, site: str
) -> float:
    """Egress cost over the horizon of serving one rps from `region` at `site`."""
    route = instance.paths.route(region, site)
    assert route is not None, "route pairs are reachable"
    gb_per_rps = kb_per_request * SECONDS_PER_HOUR * instance.horizon_hours / KB_PER_GB
    return gb_per_rps * route.egress_per_gb


def unserved_cost(instance: Instance, short: UnservedDemand) -> float:
    """The penalty for demand left unserved over the horizon (none where the SPEC has no
    price: such demand must be served)."""
    price = instance.inference_by_id[short.service].unserved_cost_per_rps_hour or 0.0
    return short.rps * price * instance.horizon_hours


def plan_costs(
    instance: Instance,
    training: Sequence[TrainingAssignment],
    unplaced_training: Sequence[str],
    inference: Sequence[ReplicaAssignment],
    routes: Sequence[RouteFlow],
    unserved: Sequence[UnservedDemand],
) -> CostBreakdown:
    """The SPEC cost parts of a whole plan, each summed in float64."""
    parts: dict[str, list[float]] = {part: [] for part in PARTS}
    for t in training:
        costs = training_costs(instance, TrainingPlacement(t.job, t.site, t.accelerator, t.count))
        for part in ("compute", "energy", "carbon", "egress", "site_costs"):
            parts[part].append(getattr(costs, part))
    for r in inference:
        if r.replicas <= 0:
            continue
        rate = accelerator_hour_costs(instance, r.site, r.accelerator)
        hours = replica_size(instance, r.service, r.accelerator) * instance.horizon_hours
        hours *= r.replicas
        parts["compute"].append(hours * rate.compute)
        parts["energy"].append(hours * rate.energy)
        parts["carbon"].append(hours * rate.carbon)
    for flow in routes:
        service = instance.inference_by_id[flow.service]
        if service.kb_per_request > 0 and flow.rps > 0:
            per_rps = traffic_egress_per_rps(
                instance, service.kb_per_request, flow.region, flow.site
            )
            parts["egress"].append(flow.rps * per_rps)
    parts["unserved"] = [unserved_cost(instance, w) for w in unserved]
    parts["unplaced"] = [instance.training_by_id[j].unplaced_cost for j in unplaced_training]
    active = {t.site for t in training} | {r.site for r in inference if r.replicas > 0}
    parts["fixed"] = [instance.site_by_id[s].fixed_cost for s in sorted(active)]
    return CostBreakdown(**{part: math.fsum(values) for part, values in parts.items()})
