"""Build the v2 part of a plan report (`PlanV2`) from (Instance, Solution, Evaluation).

Figures are the evaluator's: job timings, each site's step series and per-period limits
(with and without chosen expansions), each period's serving, the re-planning figures and
the costs over time. The report only selects and sums them (a site's peak is the highest
of its steps; a period's totals are sums over its services).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from solver.report.data_v2 import (
    CapacityRow,
    ChosenExpansion,
    ExpansionsReport,
    JobTimelineRow,
    MovedJob,
    MovesReport,
    PeriodCostRow,
    PeriodPower,
    PeriodServing,
    PeriodSpan,
    PlanV2,
    PowerStep,
    ServicePeriodRow,
    SitePower,
    SiteReplicaChange,
)

if TYPE_CHECKING:
    from models import Instance, Solution
    from solver.evaluation import Evaluation, SiteStep
    from solver.evaluation.capacity import SiteCapacity


def plan_v2(instance: Instance, solution: Solution, evaluation: Evaluation) -> PlanV2 | None:
    """The v2 figures of a plan of a v2 instance; None for v1 (and without a plan)."""
    if not instance.is_v2 or not solution.has_plan or evaluation.costs_over_time is None:
        return None
    periods = [PeriodSpan(p.period, p.start, p.hours) for p in evaluation.periods]
    over_time = evaluation.costs_over_time
    one_time = over_time.one_time
    return PlanV2(
        scheduled=instance.is_scheduled,
        periods=periods,
        timeline=_timeline(instance, solution, evaluation),
        power=_power(instance, evaluation),
        serving=_serving(instance, solution, evaluation),
        period_costs=[
            PeriodCostRow(
                cost.period,
                cost.training,
                cost.serving,
                cost.traffic_egress,
                cost.unserved,
                cost.replica_starts,
                cost.expansions,
                cost.total,
            )
            for cost in over_time.periods
        ],
        one_time_costs={
            "dataset egress": one_time.dataset_egress,
            "site costs": one_time.site_costs,
            "fixed": one_time.fixed,
            "unplaced": one_time.unplaced,
            "lateness": one_time.lateness,
            "moves": one_time.moves,
            "training outside the horizon": one_time.training_outside,
        },
        moves=_moves(instance, evaluation),
        expansions=_expansions(instance, evaluation),
    )


def _timeline(
    instance: Instance, solution: Solution, evaluation: Evaluation
) -> list[JobTimelineRow]:
    counts = {entry.job: entry.count for entry in solution.training}
    horizon = evaluation.periods[-1].start + evaluation.periods[-1].hours
    rows: list[JobTimelineRow] = []
    for timing in evaluation.jobs:
        job = instance.training_by_id[timing.job]
        rows.append(
            JobTimelineRow(
                job=timing.job,
                site=timing.site,
                accelerator=timing.accelerator,
                count=counts.get(timing.job, 0),
                start=timing.start,
                end=timing.end,
                release=job.release,
                deadline=job.deadline(horizon),
                due=job.due_hour,
                late_hours=timing.late_hours,
                lateness_cost=timing.lateness_cost,
            )
        )
    return sorted(rows, key=lambda row: (row.start, row.job))


def _power(instance: Instance, evaluation: Evaluation) -> list[SitePower]:
    positions = {period.period: index for index, period in enumerate(evaluation.periods)}
    sites: list[SitePower] = []
    for site in instance.sites:
        series = evaluation.site_steps.get(site.id, [])
        before = evaluation.capacities_before_expansions.get(site.id, [])
        steps = [
            PowerStep(
                step.period,
                step.start,
                step.end,
                step.usage.facility_kw,
                step.usage.grid_kw,
                _grid(before, positions[step.period], step.usage.grid_kw),
            )
            for step in series
        ]
        periods = [
            PeriodPower(
                period.period,
                period.sites[site.id].facility_kw,
                period.sites[site.id].grid_kw,
                _grid(before, index, period.sites[site.id].grid_kw),
            )
            for index, period in enumerate(evaluation.periods)
        ]
        sites.append(
            SitePower(
                site=site.id,
                peak_kw=max((step.facility_kw for step in steps), default=0.0),
                expanded=any(row.grid_kw != row.grid_before_expansions_kw for row in periods),
                steps=steps,
                periods=periods,
            )
        )
    return sites


def _grid(before: list[SiteCapacity], position: int, fallback: float) -> float:
    return before[position].grid_kw if position < len(before) else fallback


def _serving(instance: Instance, solution: Solution, evaluation: Evaluation) -> list[PeriodServing]:
    first = evaluation.periods[0].period
    replicas: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in solution.inference:
        replicas[(entry.period or first, entry.service)][entry.site] += entry.replicas
    serving: list[PeriodServing] = []
    for period in evaluation.periods:
        rows: list[ServicePeriodRow] = []
        by_site: dict[str, int] = defaultdict(int)
        for service in instance.inference:
            usage = period.services.get(service.id)
            if usage is None:
                continue
            placed = {
                site: count
                for site, count in sorted(replicas[(period.period, service.id)].items())
                if count > 0
            }
            for site, count in placed.items():
                by_site[site] += count
            rows.append(
                ServicePeriodRow(
                    service=service.id,
                    period=period.period,
                    replicas=sum(placed.values()),
                    replicas_by_site=placed,
                    demand_rps=usage.demand_rps,
                    served_rps=usage.served_rps,
                    unserved_rps=usage.unserved_rps,
                    capacity_rps=usage.capacity_rps,
                )
            )
        serving.append(
            PeriodServing(
                period=period.period,
                replicas=sum(row.replicas for row in rows),
                demand_rps=sum(row.demand_rps for row in rows),
                served_rps=sum(row.served_rps for row in rows),
                unserved_rps=sum(row.unserved_rps for row in rows),
                replicas_by_site=dict(sorted(by_site.items())),
                services=rows,
            )
        )
    return serving


def _moves(instance: Instance, evaluation: Evaluation) -> MovesReport | None:
    replan = evaluation.replan
    if instance.current is None or replan is None:
        return None
    moved = [
        MovedJob(
            job=move.job,
            from_site=move.from_site,
            from_accelerator=move.from_accelerator,
            to_site=move.to_site,
            to_accelerator=move.to_accelerator,
            move_cost=move.move_cost,
            checkpoint_cost=move.checkpoint_cost,
            checkpoint_gb=instance.training_by_id[move.job].checkpoint_size_gb
            if move.to_site is not None and move.to_site != move.from_site
            else 0.0,
            cost=move.move_cost + move.checkpoint_cost,
        )
        for move in replan.moves
    ]
    by_site: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for change in evaluation.first_period_changes:
        figures = by_site[change.site]
        figures[0] += change.current
        figures[1] += change.first_period
        figures[2] += change.started
        figures[3] += change.stopped
    budgets = instance.moves
    return MovesReport(
        moved=moved,
        continuing=list(replan.continuing),
        replica_changes_by_site=[
            SiteReplicaChange(site, *figures) for site, figures in sorted(by_site.items())
        ],
        replica_changes=replan.replica_changes,
        replicas_started=replan.replicas_started,
        checkpoint_gb=sum(move.checkpoint_gb for move in moved),
        move_cost=evaluation.costs.moves or 0.0,
        replica_start_cost=evaluation.costs.replica_starts or 0.0,
        max_training_moves=None if budgets is None else budgets.max_training_moves,
        max_replica_changes=None if budgets is None else budgets.max_replica_changes,
    )


def _expansions(instance: Instance, evaluation: Evaluation) -> ExpansionsReport | None:
    offered = sum(len(site.expansions or []) for site in instance.sites)
    if offered == 0:
        return None
    chosen = [
        ChosenExpansion(
            site=built.site.id,
            expansion=built.expansion.id,
            period=built.online.id,
            cost=built.expansion.cost,
            grid_kw=built.expansion.grid_kw or 0.0,
            cooling_kw={str(kind): kw for kind, kw in (built.expansion.cooling_kw or {}).items()},
            accelerators=built.added_accelerators,
        )
        for built in evaluation.expansions
    ]
    expanded = list(dict.fromkeys(row.site for row in chosen))
    capacity = [row for site in expanded for row in _capacity_rows(site, evaluation)]
    return ExpansionsReport(
        offered=offered,
        chosen=chosen,
        spend=evaluation.costs.expansions or 0.0,
        capacity=capacity,
    )


def _capacity_rows(site: str, evaluation: Evaluation) -> list[CapacityRow]:
    """Grid, each cooling kind and each accelerator type of the site, per period: limits
    before and after expansions and the highest use among the period's steps."""
    after = evaluation.capacities[site]
    before = evaluation.capacities_before_expansions[site]
    steps_by_period: dict[str, list[SiteStep]] = defaultdict(list)
    for step in evaluation.site_steps.get(site, []):
        steps_by_period[step.period].append(step)
    rows: dict[str, list[CapacityRow]] = defaultdict(list)
    for index, period in enumerate(evaluation.periods):
        steps = steps_by_period[period.period]
        rows["grid kW"].append(
            _capacity_row(
                site,
                "grid kW",
                period.period,
                before[index].grid_kw,
                after[index].grid_kw,
                max((step.usage.facility_kw for step in steps), default=0.0),
            )
        )
        for kind, limit in after[index].cooling_kw.items():
            resource = f"cooling {kind} kW"
            rows[resource].append(
                _capacity_row(
                    site,
                    resource,
                    period.period,
                    before[index].cooling_kw[kind],
                    limit,
                    max(
                        (step.usage.heat[kind].it_kw for step in steps if kind in step.usage.heat),
                        default=0.0,
                    ),
                )
            )
        for accelerator, count in after[index].count.items():
            rows[accelerator].append(
                _capacity_row(
                    site,
                    accelerator,
                    period.period,
                    float(before[index].count.get(accelerator, 0)),
                    float(count),
                    float(
                        max(
                            (
                                step.usage.accelerators[accelerator].used
                                for step in steps
                                if accelerator in step.usage.accelerators
                            ),
                            default=0,
                        )
                    ),
                )
            )
    # Keep the resources some chosen expansion changes in some period.
    return [
        row
        for resource_rows in rows.values()
        if any(row.bought > 0 for row in resource_rows)
        for row in resource_rows
    ]


def _capacity_row(
    site: str, resource: str, period: str, before: float | None, after: float | None, use: float
) -> CapacityRow:
    bought = 0.0 if before is None or after is None else after - before
    above = 0.0 if before is None else max(0.0, use - before)
    return CapacityRow(
        site=site,
        resource=resource,
        period=period,
        before=before,
        after=after,
        peak_use=use,
        bought=bought,
        use_above_before=above,
        utilization=None if bought <= 0 else above / bought,
    )
