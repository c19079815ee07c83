"""Candidate start hours of the scheduled MIP peer's training jobs (SPEC §9).

Why a set of candidates can be exact (a left-shift argument). Take any SPEC plan and a placed
job j whose start S_j is none of: its release hour, a period's first hour, or the end
S_k + run_k of another placed job k. Then hour S_j − 1 lies in S_j's period (same replicas, same
limits), every other job running at S_j − 1 also runs at S_j (none ends at S_j), and j's
predecessors end before S_j. Starting j an hour earlier therefore keeps every inventory, power,
cooling and bandwidth row, the window and `after`, and never raises lateness (which grows with
the start); training costs do not depend on the start. Repeating this ends (the starts only
fall) in a plan at least as cheap whose every start is a release hour, a period start or the
end of another job's start. So the *closure* of {0, period starts, release hours} under
"add a job's run_hours to one of that job's candidates", cut to each job's window, holds the
starts of an optimal plan: with it the peer's MIP is exact.

The closure can grow like subset sums of the run hours. When it passes `max_points`, the peer
falls back to a *restricted grid*: per job at most `max_per_job` starts in its window: its
earliest start (release and predecessors' chains), latest start and on-time start (due hour −
run hours) always, then up to half the rest from period starts and the ends of other jobs
started at their earliest, on-time or latest starts (at most `max_global` such ends over all
jobs), the remainder spread evenly over the window (narrow windows get every hour). Plans on a
restricted grid are SPEC plans; the MIP's bound is then no bound on the SPEC optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import Instance

#: The most distinct start hours the exact closure may reach before the restricted grid.
MAX_POINTS = 600
#: The most job ends the restricted grid offers as starts to other jobs.
MAX_GLOBAL = 400
#: The most candidate starts one job keeps on the restricted grid.
MAX_PER_JOB = 12


@dataclass(frozen=True)
class StartGrid:
    """Each job's candidate start hours (ascending; empty when its window is too short)."""

    starts: dict[str, list[int]]
    #: True when the grid is the full closure (the MIP is then exact, not a restriction).
    exact: bool
    #: Earliest and latest start of each job from its window and its `after` chains.
    earliest: dict[str, int]
    latest: dict[str, int]


def job_windows(instance: Instance) -> tuple[dict[str, int], dict[str, int]]:
    """Earliest and latest start hour of every job in any SPEC plan that places it, from
    release, deadline and `after` (a job whose earliest start passes its latest can never be
    placed)."""
    horizon = round(instance.schedule.horizon_hours)
    jobs = {job.id: job for job in instance.training}
    order = _topological(instance)
    earliest: dict[str, int] = {}
    for job_id in order:
        job = jobs[job_id]
        chain = [earliest[k] + round(jobs[k].run_hours) for k in job.predecessors]
        earliest[job_id] = max([job.release, *chain])
    # Only successors that every plan places bound a job's latest start: required jobs and
    # their predecessors, transitively (SPEC §9: a required job forces what it lists).
    forced = {job.id for job in instance.training if job.required}
    for job_id in reversed(order):
        if job_id in forced:
            forced.update(jobs[job_id].predecessors)
    latest: dict[str, int] = {}
    successors: dict[str, list[str]] = {job_id: [] for job_id in jobs}
    for job in instance.training:
        if job.id in forced:
            for k in job.predecessors:
                successors[k].append(job.id)
    for job_id in reversed(order):
        job = jobs[job_id]
        run = round(job.run_hours)
        deadline = round(job.deadline(horizon))
        ends = [latest[s] for s in successors[job_id]]
        latest[job_id] = min([deadline, *ends]) - run
    return earliest, latest


def _topological(instance: Instance) -> list[str]:
    """Job ids with every job after its predecessors (the `after` graph is acyclic)."""
    placed: list[str] = []
    seen: set[str] = set()
    jobs = {job.id: job for job in instance.training}

    def visit(job_id: str) -> None:
        if job_id in seen:
            return
        seen.add(job_id)
        for k in jobs[job_id].predecessors:
            visit(k)
        placed.append(job_id)

    for job in instance.training:
        visit(job.id)
    return placed


def start_grid(
    instance: Instance,
    *,
    max_points: int = MAX_POINTS,
    max_per_job: int = MAX_PER_JOB,
    max_global: int = MAX_GLOBAL,
) -> StartGrid:
    """The exact closure of candidate starts if it stays within `max_points`, else the
    restricted grid (module docstring)."""
    earliest, latest = job_windows(instance)
    base = {round(span.start) for span in instance.schedule.periods}
    base |= {job.release for job in instance.training}
    closure = _closure(instance, base, earliest, latest, max_points)
    if closure is not None:
        return StartGrid(closure, True, earliest, latest)
    restricted = _restricted(instance, earliest, latest, max_per_job, max_global)
    return StartGrid(restricted, False, earliest, latest)


def _within(points: set[int], low: int, high: int) -> list[int]:
    return sorted(t for t in points if low <= t <= high)


def _closure(
    instance: Instance,
    base: set[int],
    earliest: dict[str, int],
    latest: dict[str, int],
    max_points: int,
) -> dict[str, list[int]] | None:
    """The closure of `base` under job ends (None once it passes `max_points`)."""
    horizon = round(instance.schedule.horizon_hours)
    runs = {job.id: round(job.run_hours) for job in instance.training}
    points = set(base)
    while True:
        starts = {j: _within(points, earliest[j], latest[j]) for j in runs}
        grown = {t + runs[j] for j, ts in starts.items() for t in ts if t + runs[j] < horizon}
        if grown <= points:
            return starts
        points |= grown
        if len(points) > max_points:
            return None


def _restricted(
    instance: Instance,
    earliest: dict[str, int],
    latest: dict[str, int],
    max_per_job: int,
    max_global: int,
) -> dict[str, list[int]]:
    """Each job's earliest start always; then, in its window, its latest and on-time starts,
    period starts and the ends of other jobs started at their earliest, on-time or latest
    starts (at most `max_global` of those over all jobs, evenly thinned), and hours evenly
    spread over the window; at most `max_per_job` in all, evenly thinned."""
    horizon = round(instance.schedule.horizon_hours)
    runs = {job.id: round(job.run_hours) for job in instance.training}
    placeable = [job for job in instance.training if earliest[job.id] <= latest[job.id]]
    key_starts: dict[str, set[int]] = {}
    for job in placeable:
        low, high = earliest[job.id], latest[job.id]
        keys = {low, high}
        if job.due_hour is not None and low <= job.due_hour - runs[job.id] <= high:
            keys.add(job.due_hour - runs[job.id])
        key_starts[job.id] = keys
    ends = {t + runs[j] for j, keys in key_starts.items() for t in keys if t + runs[j] < horizon}
    shared = {round(span.start) for span in instance.schedule.periods}
    shared |= set(_thin(sorted(ends), max_global))
    starts: dict[str, list[int]] = {job.id: [] for job in instance.training}
    for job in placeable:
        low, high = earliest[job.id], latest[job.id]
        keys = key_starts[job.id]
        others = set(_within(shared, low, high)) - keys
        spread = _thin(list(range(low, high + 1)), max_per_job)
        room = max(0, max_per_job - len(keys))
        chosen = keys | set(_thin(sorted(others), room // 2))
        chosen |= set(_thin(sorted(set(spread) - chosen), max_per_job - len(chosen)))
        starts[job.id] = sorted(chosen)
    return starts


def _thin(ordered: list[int], keep: int) -> list[int]:
    """At most `keep` of `ordered`, evenly spread, first and last kept when keep >= 2."""
    if len(ordered) <= keep:
        return ordered
    if keep <= 0:
        return []
    if keep == 1:
        return [ordered[0]]
    step = (len(ordered) - 1) / (keep - 1)
    return sorted({ordered[round(k * step)] for k in range(keep)})
