"""SPEC §9 timing of a scheduled plan's training jobs: release, deadline, `after`, a job
of `current` that continues starting at hour 0 (SPEC §10), and lateness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.evaluation.violations import Violation, fmt

if TYPE_CHECKING:
    from solver.evaluation.eligibility import IndexedPlan, JobPlacement
    from solver.evaluation.periods import Horizon


@dataclass(frozen=True, slots=True)
class JobTiming:
    """When a placed job runs in a scheduled plan, and how late it ends."""

    job: str
    site: str
    accelerator: str
    start: int
    end: float
    #: max(0, end - due_hour); 0 without a due hour
    late_hours: float
    #: late_cost_per_hour x late_hours
    lateness_cost: float


def job_timings(plan: IndexedPlan, horizon: Horizon) -> list[JobTiming]:
    """Each placed job with a start hour, in plan order (none in a static plan)."""
    if not horizon.scheduled:
        return []
    timings: list[JobTiming] = []
    for placement in plan.placements:
        if placement.start_hour is None:
            continue
        job = placement.job
        end = placement.start_hour + job.run_hours
        late = 0.0 if job.due_hour is None else max(0.0, end - job.due_hour)
        timings.append(
            JobTiming(
                job.id,
                placement.site.id,
                placement.accelerator.id,
                placement.start_hour,
                end,
                late,
                job.late_cost * late,
            )
        )
    return timings


def check_timing(plan: IndexedPlan, horizon: Horizon, continuing: set[str]) -> list[Violation]:
    """Release, deadline and `after` of every placed job with a start hour, and hour 0 for
    the jobs that continue from `current` (`continuing`), in plan order."""
    if not horizon.scheduled:
        return []
    first: dict[str, JobPlacement] = {}
    for placement in plan.placements:
        first.setdefault(placement.job.id, placement)
    violations: list[Violation] = []
    for placement in plan.placements:
        start = placement.start_hour
        if start is None:
            continue
        job = placement.job
        entity = f"job {job.id}"
        end = start + job.run_hours
        deadline = job.deadline(horizon.hours)
        if start < job.release:
            violations.append(
                Violation(
                    "timing",
                    entity,
                    job.release - start,
                    f"starts at hour {start}, before its release hour {job.release}",
                )
            )
        if end > deadline:
            violations.append(
                Violation(
                    "timing",
                    entity,
                    end - deadline,
                    f"ends at hour {fmt(end)}, after its deadline hour {fmt(deadline)}",
                )
            )
        if job.id in continuing and start != 0:
            violations.append(
                Violation(
                    "timing",
                    entity,
                    start,
                    f"continues from the current plan at site {placement.site.id} on "
                    f"{placement.accelerator.id}, so it starts at hour 0, not at hour {start}",
                )
            )
        for before_id in job.predecessors:
            before = first.get(before_id)
            if before is None:
                violations.append(
                    Violation(
                        "timing",
                        entity,
                        1,
                        f"runs after job {before_id}, which is not placed",
                    )
                )
                continue
            if before.start_hour is None:
                continue
            before_end = before.start_hour + before.job.run_hours
            if start < before_end:
                violations.append(
                    Violation(
                        "timing",
                        entity,
                        before_end - start,
                        f"starts at hour {start}, before job {before_id} ends at hour "
                        f"{fmt(before_end)}",
                    )
                )
    return violations
