"""What changed in time between two v2 plans: start hours, sites, per-period costs, and
the objective change against the cost of moving."""

from __future__ import annotations

from typing import TYPE_CHECKING

from solver.report.data_v2 import DeltaV2, PeriodCostDelta, ResitedJob, RetimedJob

if TYPE_CHECKING:
    from solver.report.data import PlanReport


def delta_v2(baseline: PlanReport, plan: PlanReport) -> DeltaV2 | None:
    """`plan` against `baseline` when both are v2 plans; None otherwise."""
    before, after = baseline.v2, plan.v2
    if before is None or after is None:
        return None
    starts_before = {row.job: row for row in before.timeline}
    retimed = [
        RetimedJob(
            row.job,
            starts_before[row.job].start,
            row.start,
            row.start - starts_before[row.job].start,
        )
        for row in after.timeline
        if row.job in starts_before and starts_before[row.job].start != row.start
    ]
    resited: list[ResitedJob] = []
    for job, row in plan.training.items():
        old = baseline.training.get(job)
        if old is None or old.site is None or row.site is None:
            continue
        if (old.site, old.accelerator) != (row.site, row.accelerator):
            resited.append(
                ResitedJob(job, old.site, old.accelerator or "", row.site, row.accelerator or "")
            )
    costs_before = {row.period: row.total for row in before.period_costs}
    costs_after = {row.period: row.total for row in after.period_costs}
    period_costs = []
    for period in dict.fromkeys([*costs_before, *costs_after]):
        old_cost, new_cost = costs_before.get(period), costs_after.get(period)
        change = None if old_cost is None or new_cost is None else new_cost - old_cost
        period_costs.append(PeriodCostDelta(period, old_cost, new_cost, change))
    objective_change = (
        None
        if plan.summary.objective is None or baseline.summary.objective is None
        else plan.summary.objective - baseline.summary.objective
    )
    move_change = plan.summary.costs.get("moves", 0.0) - baseline.summary.costs.get("moves", 0.0)
    return DeltaV2(
        retimed=sorted(retimed, key=lambda row: (-abs(row.shift_hours), row.job)),
        resited=resited,
        period_costs=period_costs,
        one_time_change=sum(after.one_time_costs.values()) - sum(before.one_time_costs.values()),
        objective_change=objective_change,
        move_cost_change=move_change,
        change_before_moves=None if objective_change is None else objective_change - move_change,
    )
