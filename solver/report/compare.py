"""Build the comparison data model from (Instance, Solution, Evaluation) triples.

`compare(plans)` evaluates each (instance, solution) pair and lines the plans up
against the first; `report(instance, solution)` is the one-plan case. Each plan is
read against its own instance, so plans of different scenarios of one family compare
site by site and workload by workload (ids missing from one side show as absent).
Every figure comes from the evaluator; nothing is recomputed here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from solver.evaluate import evaluate
from solver.report.compare_v2 import plan_v2
from solver.report.data import (
    AcceleratorRow,
    Comparison,
    CoolingRow,
    LatencyDistribution,
    LinkRow,
    PlanReport,
    PlanSummary,
    ReplicaRow,
    ResilienceRow,
    ServiceRow,
    SiteRow,
    SolverSettings,
    TrainingRow,
)
from solver.report.diff import plan_delta
from solver.report.latency import bin_edges, histogram, weighted_mean, weighted_quantiles

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance, Solution
    from solver.evaluation import Evaluation, ServiceUsage, SiteUsage

#: Violation lines kept per plan (the counts per family cover all of them).
MAX_VIOLATION_LINES = 20
#: Relative slack of the n+1 coverage check, as in SPEC §7.
_COVER_TOLERANCE = 1e-6


def compare(
    plans: Sequence[tuple[Instance, Solution]], *, labels: Sequence[str] | None = None
) -> Comparison:
    """Evaluate each plan against its own instance and compare them with the first.

    `labels` name the plans (default "plan 1", "plan 2", ...); repeated labels get a
    number appended so every plan stays distinguishable.
    """
    return compare_evaluated(
        [(instance, solution, evaluate(instance, solution)) for instance, solution in plans],
        labels=labels,
    )


def report(instance: Instance, solution: Solution, *, label: str | None = None) -> Comparison:
    """The report of one plan: a comparison with nothing to compare against."""
    return compare([(instance, solution)], labels=None if label is None else [label])


def compare_evaluated(
    entries: Sequence[tuple[Instance, Solution, Evaluation]],
    *,
    labels: Sequence[str] | None = None,
) -> Comparison:
    """Line up already evaluated plans against the first one."""
    if not entries:
        raise ValueError("compare needs at least one plan")
    if labels is not None and len(labels) != len(entries):
        raise ValueError(f"{len(labels)} labels given for {len(entries)} plans")
    names = unique_labels(labels or [f"plan {index + 1}" for index in range(len(entries))])
    points = [_latency_points(evaluation) for _, _, evaluation in entries]
    max_latency = max((latency for plan in points for latency, _ in plan), default=0.0)
    edges = bin_edges(max_latency)
    plans = [
        _plan_report(name, instance, solution, evaluation, plan_points, edges)
        for name, (instance, solution, evaluation), plan_points in zip(
            names, entries, points, strict=True
        )
    ]
    site_ids = list(dict.fromkeys(site for plan in plans for site in plan.sites))
    return Comparison(
        plans=plans,
        deltas=[plan_delta(plans[0], plan, site_ids) for plan in plans[1:]],
        site_ids=site_ids,
        latency_bins_ms=edges,
        warnings=[line for plan in plans for line in _warnings(plan.summary)],
    )


def unique_labels(labels: Sequence[str]) -> list[str]:
    """The labels with " (2)", " (3)", ... appended to repeats."""
    seen: dict[str, int] = {}
    unique: list[str] = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def _plan_report(
    label: str,
    instance: Instance,
    solution: Solution,
    evaluation: Evaluation,
    points: list[tuple[float, float]],
    edges: list[float],
) -> PlanReport:
    replicas = _replicas(solution)
    return PlanReport(
        summary=_summary(label, instance, solution, evaluation),
        sites={site_id: _site_row(usage) for site_id, usage in evaluation.sites.items()},
        latency=LatencyDistribution(
            demand_rps=math.fsum(usage.demand_rps for usage in evaluation.services.values()),
            served_rps=math.fsum(usage.served_rps for usage in evaluation.services.values())
            if evaluation.periods
            else math.fsum(rps for _, rps in points),
            unserved_rps=math.fsum(usage.unserved_rps for usage in evaluation.services.values()),
            mean_ms=weighted_mean(points),
            quantiles=weighted_quantiles(points),
            histogram_rps=histogram(points, edges),
        ),
        services={
            service_id: _service_row(usage, replicas.get(service_id, []))
            for service_id, usage in evaluation.services.items()
        },
        resilience={
            service_id: _resilience_row(usage)
            for service_id, usage in evaluation.services.items()
            if usage.resilience == "n+1"
        },
        links=[
            LinkRow(
                link=usage.name,
                a=usage.a,
                b=usage.b,
                traffic_gbps=usage.traffic_gbps,
                dataset_gbps=usage.dataset_gbps,
                used_gbps=usage.used_gbps,
                capacity_gbps=usage.capacity_gbps,
                utilization=None
                if usage.capacity_gbps is None
                else _ratio(usage.used_gbps, usage.capacity_gbps),
            )
            for usage in evaluation.links
        ],
        training=_training(instance, solution),
        v2=plan_v2(instance, solution, evaluation),
    )


def _summary(
    label: str, instance: Instance, solution: Solution, evaluation: Evaluation
) -> PlanSummary:
    info = solution.solver
    return PlanSummary(
        label=label,
        instance=instance.name,
        instance_sha256=instance.sha256,
        status=solution.status,
        has_plan=solution.has_plan,
        feasible=evaluation.feasible,
        violation_counts={
            str(family): count for family, count in evaluation.violation_counts().items()
        },
        violations=[str(v) for v in evaluation.violations[:MAX_VIOLATION_LINES]],
        notes=list(evaluation.notes),
        objective=evaluation.objective if solution.has_plan else None,
        reported_objective=solution.objective,
        bound=solution.bound,
        gap=solution.gap,
        solver=SolverSettings(
            name=info.name,
            version=info.version,
            seed=info.seed,
            time_limit_s=info.time_limit_s,
            workers=info.workers,
            wall_s=info.wall_s,
        ),
        costs={part: getattr(evaluation.costs, part) for part in evaluation.cost_parts},
    )


def _site_row(usage: SiteUsage) -> SiteRow:
    return SiteRow(
        site=usage.site,
        active=usage.active,
        it_kw=usage.it_kw,
        facility_kw=usage.facility_kw,
        grid_kw=usage.grid_kw,
        power_utilization=_ratio(usage.facility_kw, usage.grid_kw),
        cooling=[
            CoolingRow(str(heat.cooling), heat.it_kw, heat.limit_kw) for heat in usage.heat.values()
        ],
        accelerators=[
            AcceleratorRow(item.accelerator, item.used, item.count)
            for item in usage.accelerators.values()
        ],
        accelerators_used=usage.accelerators_used,
        accelerators_installed=usage.accelerators_installed,
        utilization=_ratio(usage.accelerators_used, usage.accelerators_installed),
    )


def _service_row(usage: ServiceUsage, replicas: list[ReplicaRow]) -> ServiceRow:
    return ServiceRow(
        service=usage.service,
        resilience=str(usage.resilience),
        latency_slo_ms=usage.latency_slo_ms,
        worst_latency_ms=usage.worst_latency_ms,
        demand_rps=usage.demand_rps,
        served_rps=usage.served_rps,
        unserved_rps=usage.unserved_rps,
        capacity_rps=usage.capacity_rps,
        replicas=replicas,
    )


def _resilience_row(usage: ServiceUsage) -> ResilienceRow:
    left = usage.capacity_left_by_domain
    worst_domain = min(left, key=lambda domain: (left[domain], domain)) if left else None
    worst_left = left[worst_domain] if worst_domain is not None else usage.capacity_rps
    slack = _COVER_TOLERANCE * max(1.0, usage.served_rps)
    return ResilienceRow(
        service=usage.service,
        served_rps=usage.served_rps,
        capacity_rps=usage.capacity_rps,
        capacity_left_by_domain=dict(sorted(left.items())),
        worst_domain=worst_domain,
        worst_left_rps=worst_left,
        covered=worst_left >= usage.served_rps - slack,
    )


def _replicas(solution: Solution) -> dict[str, list[ReplicaRow]]:
    """Replica entries per service, zero entries left out, sorted by site and type; in a
    scheduled plan, each (site, type) with its most replicas in any period (the per-period
    figures are in `PlanReport.v2`)."""
    by_service: dict[str, list[ReplicaRow]] = {}
    most: dict[tuple[str, str, str], int] = {}
    for entry in solution.inference:
        if entry.replicas > 0 and entry.period is not None:
            key = (entry.service, entry.site, entry.accelerator)
            most[key] = max(most.get(key, 0), entry.replicas)
        elif entry.replicas > 0:
            by_service.setdefault(entry.service, []).append(
                ReplicaRow(entry.site, entry.accelerator, entry.replicas)
            )
    for (service, site, accelerator), replicas in most.items():
        by_service.setdefault(service, []).append(ReplicaRow(site, accelerator, replicas))
    return {
        service: sorted(rows, key=lambda row: (row.site, row.accelerator))
        for service, rows in by_service.items()
    }


def _training(instance: Instance, solution: Solution) -> dict[str, TrainingRow]:
    """Every job of the instance (unplaced ones with site None), then any the plan adds."""
    placed = {entry.job: entry for entry in solution.training}
    rows: dict[str, TrainingRow] = {}
    for job_id in [job.id for job in instance.training] + list(placed):
        if job_id in rows:
            continue
        entry = placed.get(job_id)
        rows[job_id] = (
            TrainingRow(job_id, None, None, 0)
            if entry is None
            else TrainingRow(job_id, entry.site, entry.accelerator, entry.count)
        )
    return rows


def _latency_points(evaluation: Evaluation) -> list[tuple[float, float]]:
    """(latency, rps) of each route carrying traffic to a reachable site; in a scheduled
    plan each period's rps weighted by its share of the horizon (rps averaged over time)."""
    horizon = math.fsum(period.hours for period in evaluation.periods)
    share = {period.period: period.hours / horizon for period in evaluation.periods}
    return [
        (route.latency_ms, route.rps if route.period is None else route.rps * share[route.period])
        for route in evaluation.routes
        if route.latency_ms is not None and route.rps > 0
    ]


def _warnings(summary: PlanSummary) -> list[str]:
    lines: list[str] = []
    if not summary.has_plan:
        lines.append(f"{summary.label}: status {summary.status}, the solution holds no plan")
    elif not summary.feasible:
        families = ", ".join(
            f"{family} {count}" for family, count in summary.violation_counts.items()
        )
        lines.append(
            f"{summary.label}: not feasible per the evaluator: "
            f"{summary.violation_count} violation(s) ({families})"
        )
    lines.extend(f"{summary.label}: {note}" for note in summary.notes)
    return lines


def _ratio(used: float, available: float) -> float | None:
    """Used over available; None when nothing is available (0 of 0 or x of 0)."""
    return None if available == 0 else used / available
