"""Figures of a v2 plan that reports show and no check needs (SPEC §9-§11): the cost of each
period, each site's limits before chosen expansions, and each replica group's first period
against `current`.

Nothing here decides feasibility; the terms are priced as `costs.recompute_costs` prices
them (the same `_Terms`), only split by period, so a period's figures sum with the one-time
costs to the objective.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.evaluation.costs import GB_PER_RPS_KB_HOUR, _Terms
from solver.evaluation.steps import run_hours_of

if TYPE_CHECKING:
    from models import Instance
    from solver.evaluation.eligibility import IndexedPlan
    from solver.evaluation.expansions import BuiltExpansion
    from solver.evaluation.lookup import InstanceLookup
    from solver.evaluation.replanning import ReplanFigures


@dataclass(frozen=True, slots=True)
class PeriodCosts:
    """What one period costs: each term of SPEC §6/§9-§11 that belongs to an hour or a period.

    `training` prices the accelerator-hours jobs run inside the period (a job's cost does
    not depend on when it runs, SPEC §9, so this only says where in time it falls)."""

    period: str
    training: float
    serving: float
    traffic_egress: float
    unserved: float
    replica_starts: float
    #: chosen expansions that come online in this period
    expansions: float

    @property
    def total(self) -> float:
        """All of the period's costs."""
        return math.fsum(
            (
                self.training,
                self.serving,
                self.traffic_egress,
                self.unserved,
                self.replica_starts,
                self.expansions,
            )
        )


@dataclass(frozen=True, slots=True)
class OneTimeCosts:
    """The costs that belong to no period: per job or site, or once per plan."""

    dataset_egress: float
    site_costs: float
    fixed: float
    unplaced: float
    lateness: float
    moves: float
    #: training hours outside [0, H) (only a plan that breaks its deadline has them)
    training_outside: float

    @property
    def total(self) -> float:
        """All one-time costs."""
        return math.fsum(
            (
                self.dataset_egress,
                self.site_costs,
                self.fixed,
                self.unplaced,
                self.lateness,
                self.moves,
                self.training_outside,
            )
        )


@dataclass(frozen=True, slots=True)
class CostsOverTime:
    """The plan's cost split by period, plus what belongs to no period; together they sum
    to the objective."""

    periods: list[PeriodCosts]
    one_time: OneTimeCosts


@dataclass(frozen=True, slots=True)
class GroupChange:
    """A replica group (service, site, accelerator) in the first period against `current`."""

    service: str
    site: str
    accelerator: str
    current: int
    first_period: int

    @property
    def started(self) -> int:
        """Replicas started at the start of the plan."""
        return max(0, self.first_period - self.current)

    @property
    def stopped(self) -> int:
        """Replicas stopped at the start of the plan."""
        return max(0, self.current - self.first_period)


def costs_over_time(
    instance: Instance,
    lookup: InstanceLookup,
    plan: IndexedPlan,
    active: set[str],
    replan: ReplanFigures,
    built: list[BuiltExpansion],
    lateness: float,
) -> CostsOverTime:
    """Each period's costs and the one-time costs of a v2 plan."""
    horizon = lookup.horizon
    training: dict[str, _Terms] = defaultdict(_Terms)
    serving: dict[str, _Terms] = defaultdict(_Terms)
    outside = _Terms()
    dataset_egress: list[float] = []
    site_costs: list[float] = []
    for placement in plan.placements:
        # A static plan counts every job over the one period (SPEC §8): its run hours fall
        # there, whatever the period's length.
        start, end = (
            run_hours_of(placement, horizon)
            if horizon.scheduled
            else (0.0, float(placement.job.run_hours))
        )
        inside = 0.0
        for period in horizon.periods:
            hours = max(0.0, min(end, period.end) - max(start, period.start))
            if hours > 0:
                inside += hours
                training[period.id].accelerator_hours(
                    instance,
                    lookup,
                    placement.site,
                    placement.accelerator,
                    placement.count * hours,
                )
        if end - start - inside > 0:
            outside.accelerator_hours(
                instance,
                lookup,
                placement.site,
                placement.accelerator,
                placement.count * (end - start - inside),
            )
        site_costs.append(placement.job.site_costs.get(placement.site.id, 0.0))
        job = placement.job
        if job.dataset is not None and placement.dataset_route is not None:
            dataset_egress.append(job.dataset.size_gb * placement.dataset_route.egress_per_gb)
    hours_of = {period.id: period.hours for period in horizon.periods}
    for group in plan.replica_groups:
        serving[group.period].accelerator_hours(
            instance,
            lookup,
            group.site,
            group.accelerator,
            group.accelerators * hours_of[group.period],
        )
    egress: dict[str, list[float]] = defaultdict(list)
    for flow in plan.flows:
        if flow.route is not None:
            gigabytes = (
                flow.rps * flow.service.kb_per_request * GB_PER_RPS_KB_HOUR * hours_of[flow.period]
            )
            egress[flow.period].append(gigabytes * flow.route.egress_per_gb)
    unserved: dict[str, list[float]] = defaultdict(list)
    for (service_id, _region, period_id), rps in plan.unserved.items():
        price = lookup.services[service_id].unserved_cost_per_rps_hour
        if price is not None:
            unserved[period_id].append(rps * hours_of[period_id] * price)
    starts: dict[str, list[float]] = defaultdict(list)
    for start_figure in replan.replica_starts:
        starts[start_figure.period].append(start_figure.cost)
    expansions: dict[str, list[float]] = defaultdict(list)
    for expansion in built:
        expansions[expansion.online.id].append(expansion.expansion.cost)
    periods = [
        PeriodCosts(
            period=period.id,
            training=_accelerator_cost(training.get(period.id)),
            serving=_accelerator_cost(serving.get(period.id)),
            traffic_egress=math.fsum(egress.get(period.id, [])),
            unserved=math.fsum(unserved.get(period.id, [])),
            replica_starts=math.fsum(starts.get(period.id, [])),
            expansions=math.fsum(expansions.get(period.id, [])),
        )
        for period in horizon.periods
    ]
    one_time = OneTimeCosts(
        dataset_egress=math.fsum(dataset_egress),
        site_costs=math.fsum(site_costs),
        fixed=math.fsum(site.fixed_cost for site in instance.sites if site.id in active),
        unplaced=math.fsum(job.unplaced_cost for job in plan.unplaced_jobs),
        lateness=lateness,
        moves=math.fsum(t for m in replan.moves for t in (m.move_cost, m.checkpoint_cost)),
        training_outside=_accelerator_cost(outside),
    )
    return CostsOverTime(periods, one_time)


def first_period_changes(
    instance: Instance, lookup: InstanceLookup, plan: IndexedPlan
) -> list[GroupChange]:
    """Every replica group in `current` or in the first period, sorted by (service, site,
    accelerator); empty without `current`."""
    if instance.current is None:
        return []
    first = lookup.horizon.first.id
    now: dict[tuple[str, str, str], int] = defaultdict(int)
    for entry in instance.current.inference:
        now[(entry.service, entry.site, entry.accelerator)] += entry.replicas
    planned: dict[tuple[str, str, str], int] = defaultdict(int)
    for group in plan.replica_groups:
        if group.period == first:
            planned[(group.service.id, group.site.id, group.accelerator.id)] += group.replicas
    return [
        GroupChange(*key, current=now.get(key, 0), first_period=planned.get(key, 0))
        for key in sorted({*now, *planned})
        if now.get(key, 0) or planned.get(key, 0)
    ]


def _accelerator_cost(terms: _Terms | None) -> float:
    """Compute, energy and carbon of accelerator-hours."""
    if terms is None:
        return 0.0
    return math.fsum([*terms.compute, *terms.energy, *terms.carbon])
