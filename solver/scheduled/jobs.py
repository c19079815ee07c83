"""Training start times by list scheduling on a ledger (the first plan's training).

Jobs go in an order that respects `after`: the jobs that must run (required ones and
every job a required one lists, directly or not) first, then the optional ones; within
each, a given list of jobs first (those an earlier pass left out), then by deadline, then
input order. Each job takes the placement and earliest start at which it fits every hour
it runs (stock, grid, cooling, link reads), at the least cost with lateness; a job that
need not run is placed only when that costs less than leaving it out. `schedule_jobs`
repeats the pass with the required jobs an earlier pass left out at the head of the
order.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from models import TrainingAssignment
from solver.costs import training_costs
from solver.scheduled.costs import move_cost
from solver.scheduled.variables import current_training, job_window

if TYPE_CHECKING:
    from collections.abc import Collection

    from numpy.typing import NDArray

    from models import Instance, TrainingPlacement
    from solver.scheduled.ledger import Ledger

#: Most list-scheduling passes (each puts the required jobs the last one left out first).
JOB_PASSES = 4


def must_run(instance: Instance) -> set[str]:
    """Required jobs and every job they list in `after`, directly or not."""
    jobs = instance.training_by_id
    forced: set[str] = set()
    pending = [j.id for j in instance.training if j.required]
    while pending:
        job_id = pending.pop()
        if job_id not in forced:
            forced.add(job_id)
            pending.extend(jobs[job_id].predecessors)
    return forced


def latest_ends(instance: Instance) -> dict[str, int]:
    """Each job's deadline, and for a job that must run, also the latest end that leaves
    every job listing it that must run room before its own latest end."""
    horizon = round(instance.schedule.horizon_hours)
    jobs = instance.training_by_id
    forced = must_run(instance)
    latest = {j.id: round(j.deadline(horizon)) for j in instance.training}
    for job_id in reversed(job_order(instance)):
        if job_id not in forced:
            continue
        run = math.ceil(jobs[job_id].run_hours - 1e-9)
        for before in jobs[job_id].predecessors:
            latest[before] = min(latest[before], latest[job_id] - run)
    return latest


def schedule_jobs(
    instance: Instance, reserved: Ledger, free: Ledger
) -> tuple[list[TrainingAssignment], list[str], Ledger]:
    """The first pass whose plan places every required job (or the last pass's), with a
    copy of `free` holding its jobs. Jobs are fitted to a copy of `reserved` (capacity
    held back for other work); a job that must run and fits nowhere there is fitted to
    `free` (the same jobs without the reservation) instead."""
    first: list[str] = []
    forced = must_run(instance)
    result: tuple[list[TrainingAssignment], list[str], Ledger] | None = None
    for _ in range(JOB_PASSES):
        ledger = free.copy()
        training, unplaced = list_schedule(instance, reserved.copy(), first, ledger)
        result = (training, unplaced, ledger)
        placed = {t.job for t in training}
        missing = [j for j in forced if j not in placed]
        if not missing or set(missing) <= set(first):
            break
        first = first + sorted(j for j in missing if j not in first)
    assert result is not None
    return result


def list_schedule(
    instance: Instance, ledger: Ledger, first: Collection[str] = (), free: Ledger | None = None
) -> tuple[list[TrainingAssignment], list[str]]:
    """One list-scheduling pass (see the module's docstring); books into `ledger` (and
    `free`, the fallback for jobs that must run: see `schedule_jobs`)."""
    forced = must_run(instance)
    latest = latest_ends(instance)
    scheduled = instance.is_scheduled
    jobs = instance.training_by_id
    ends: dict[str, int] = {}
    training: list[TrainingAssignment] = []
    unplaced: list[str] = []
    for job_id in job_order(instance, first, latest):
        job = jobs[job_id]
        window = job_window(instance, job_id) if scheduled else (0, 0)
        if window is None or any(k not in ends for k in job.predecessors):
            if not job.required:
                unplaced.append(job_id)
            continue
        run = math.ceil(job.run_hours - 1e-9) if scheduled else ledger.horizon
        earliest = max([window[0], *(ends[k] for k in job.predecessors)])
        window = (window[0], min(window[1], latest[job_id] - run))
        best = _best_fit(instance, ledger, job_id, earliest, window[1], run)
        if best is None and free is not None and job_id in forced:
            best = _best_fit(instance, free, job_id, earliest, window[1], run)
        if best is None or (
            job_id not in forced
            and best[0] > job.unplaced_cost + move_cost(instance, job_id, None, None)
        ):
            if not job.required:
                unplaced.append(job_id)
            continue
        _, start, placement, reads = best
        hours = slice(start, start + run)
        for booked in (ledger, free) if free is not None else (ledger,):
            booked.take(placement.site, placement.accelerator, placement.count, reads, hours)
        ends[job_id] = start + run
        training.append(
            TrainingAssignment(
                job=job_id,
                site=placement.site,
                accelerator=placement.accelerator,
                count=placement.count,
                start_hour=start if scheduled else None,
            )
        )
    return training, unplaced


def _best_fit(
    instance: Instance, ledger: Ledger, job_id: str, earliest: int, last: int, run: int
) -> tuple[float, int, TrainingPlacement, dict[int, float]] | None:
    """The cheapest placement (cost with lateness) and its earliest start in
    [earliest, last] that fits `ledger` at every hour the job runs; None if none fits."""
    scheduled = instance.is_scheduled
    job = instance.training_by_id[job_id]
    running = current_training(instance)
    paths = instance.paths
    best: tuple[float, int, TrainingPlacement, dict[int, float]] | None = None
    for placement in instance.eligibility.training[job_id]:
        reads: dict[int, float] = {}
        dataset = job.dataset
        if dataset is not None and dataset.read_gbps > 0 and dataset.at != placement.site:
            route = paths.route(dataset.at, placement.site)
            assert route is not None
            reads = dict.fromkeys(route.links, dataset.read_gbps)
        stays = running.get(job_id) == (placement.site, placement.accelerator)
        low, high = (0, 0) if stays or not scheduled else (earliest, last)
        if high < low:
            continue
        ok = ledger.fits(placement.site, placement.accelerator, placement.count, reads)
        start = first_run(ok, low, high, run)
        if start is None:
            continue
        cost = training_costs(instance, placement).total
        cost += move_cost(instance, job_id, placement.site, placement.accelerator)
        if job.due_hour is not None:
            cost += job.late_cost * max(0, start + run - job.due_hour)
        if best is None or cost < best[0]:
            best = (cost, start, placement, reads)
    return best


def first_run(ok: NDArray[np.bool_], low: int, high: int, run: int) -> int | None:
    """The first start in [low, high] with `ok` at every hour of [start, start + run)."""
    high = min(high, len(ok) - run)
    if high < low:
        return None
    bad = np.concatenate(([0], np.cumsum(~ok)))
    starts = np.arange(low, high + 1)
    clear = bad[starts + run] - bad[starts] == 0
    found = np.flatnonzero(clear)
    return int(starts[found[0]]) if found.size else None


def job_order(
    instance: Instance, first: Collection[str] = (), latest: dict[str, int] | None = None
) -> list[str]:
    """Every job after the jobs it lists; jobs that must run before optional ones, `first`
    (and what they list) before the others, then by latest end (`latest`, by default the
    deadline) and input order."""
    horizon = instance.schedule.horizon_hours
    ends = latest or {j.id: round(j.deadline(horizon)) for j in instance.training}
    jobs = instance.training_by_id
    forced = must_run(instance)
    head: set[str] = set()
    pending_heads = list(first)
    while pending_heads:
        job_id = pending_heads.pop()
        if job_id not in head:
            head.add(job_id)
            pending_heads.extend(jobs[job_id].predecessors)
    position = {job.id: i for i, job in enumerate(instance.training)}
    ranked = sorted(
        instance.training,
        key=lambda j: (j.id not in head, j.id not in forced, ends[j.id], position[j.id]),
    )
    done: set[str] = set()
    order: list[str] = []
    pending = [j.id for j in ranked]
    while pending:
        for job_id in pending:
            if all(k in done for k in jobs[job_id].predecessors):
                order.append(job_id)
                done.add(job_id)
                pending.remove(job_id)
                break
        else:  # a cycle cannot pass validation
            order.extend(pending)
            break
    return order
