"""Differences of one plan against the first: figures, moved training jobs, changed replicas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from solver.report.data import PlanDelta, ReplicaChange, SiteDelta, TrainingMove
from solver.report.diff_v2 import delta_v2

if TYPE_CHECKING:
    from solver.report.data import PlanReport, ReplicaRow, TrainingRow


def plan_delta(baseline: PlanReport, plan: PlanReport, site_ids: list[str]) -> PlanDelta:
    """`plan` minus `baseline`, figure by figure, and the placements that differ."""
    before, after = baseline.summary, plan.summary
    objective = _minus(after.objective, before.objective)
    relative = (
        None
        if objective is None or before.objective is None or before.objective == 0
        else objective / abs(before.objective)
    )
    return PlanDelta(
        label=after.label,
        baseline=before.label,
        objective=objective,
        objective_relative=relative,
        costs={
            part: after.costs.get(part, 0.0) - before.costs.get(part, 0.0)
            for part in dict.fromkeys([*before.costs, *after.costs])
        },
        sites=[_site_delta(site, baseline, plan) for site in site_ids],
        latency_quantiles={
            name: _minus(plan.latency.quantiles.get(name), value)
            for name, value in baseline.latency.quantiles.items()
        },
        unserved_rps=plan.latency.unserved_rps - baseline.latency.unserved_rps,
        training_moves=training_moves(baseline, plan),
        replica_changes=replica_changes(baseline, plan),
        v2=delta_v2(baseline, plan),
    )


def training_moves(baseline: PlanReport, plan: PlanReport) -> list[TrainingMove]:
    """Jobs whose site, accelerator or count differs, or that only one plan's instance has."""
    moves: list[TrainingMove] = []
    for job in dict.fromkeys([*baseline.training, *plan.training]):
        before = baseline.training.get(job)
        after = plan.training.get(job)
        if _placement(before) != _placement(after):
            moves.append(TrainingMove(job, before, after))
    return moves


def replica_changes(baseline: PlanReport, plan: PlanReport) -> list[ReplicaChange]:
    """Services whose replicas differ at any (site, accelerator), or that one side lacks."""
    changes: list[ReplicaChange] = []
    for service in dict.fromkeys([*baseline.services, *plan.services]):
        before_row = baseline.services.get(service)
        after_row = plan.services.get(service)
        before = None if before_row is None else before_row.replicas
        after = None if after_row is None else after_row.replicas
        if _replica_key(before) != _replica_key(after):
            changes.append(ReplicaChange(service, before, after))
    return changes


def _site_delta(site: str, baseline: PlanReport, plan: PlanReport) -> SiteDelta:
    before = baseline.sites.get(site)
    after = plan.sites.get(site)
    return SiteDelta(
        site=site,
        facility_kw=None
        if before is None or after is None
        else after.facility_kw - before.facility_kw,
        utilization=None
        if before is None or after is None
        else _minus(after.utilization, before.utilization),
        active_before=None if before is None else before.active,
        active_after=None if after is None else after.active,
    )


def _placement(row: TrainingRow | None) -> tuple[str | None, str | None, int] | None:
    return None if row is None else (row.site, row.accelerator, row.count)


def _replica_key(rows: list[ReplicaRow] | None) -> tuple[tuple[str, str, int], ...] | None:
    if rows is None:
        return None
    return tuple(sorted((row.site, row.accelerator, row.replicas) for row in rows))


def _minus(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before
