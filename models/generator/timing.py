"""Start hours, pipelines, windows and due dates of a scheduled instance's training jobs.

Every job is placed first (v1's `draw_training`); here it gets a witness start hour. Jobs are
grouped into pipelines linked by `after` (bigger classes first: pre-train, then train, then
fine-tune), each pipeline is laid out in time, and windows and due dates are cut around the
witness: a window always holds the witness run, a due date is the witness end (so any later
start costs) or, for a few jobs, a little before it (so the witness itself pays lateness).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.catalog import accelerator
from models.generator.network import chance, uniform

if TYPE_CHECKING:
    import numpy as np

    from models.generator.scheduled_families import ScheduledFamily

#: Pipelines run bigger classes first (job ids start with the class name).
CLASS_ORDER = ("pretrain", "train", "finetune")


@dataclass
class TimedJob:
    """A training job's witness placement and start hour."""

    id: str
    site: str
    accelerator: str
    count: int
    run_hours: int
    #: The earliest start the witness aims for (power or accelerators arriving at its site).
    earliest: int = 0
    start: int = 0

    @property
    def end(self) -> int:
        """The hour the witness run ends (exclusive)."""
        return self.start + self.run_hours

    def runs_at(self, hour: int) -> bool:
        """Whether the witness runs the job at `hour`."""
        return self.start <= hour < self.end


def class_rank(job_id: str) -> int:
    """Position of the job's class in a pipeline (pre-train first)."""
    return CLASS_ORDER.index(job_id.rsplit("-", 1)[0])


def draw_pipelines(
    rng: np.random.Generator, jobs: list[TimedJob], family: ScheduledFamily
) -> list[list[int]]:
    """Job positions grouped into pipelines (each in run order) and single jobs."""
    order = [int(i) for i in rng.permutation(len(jobs))]
    groups: list[list[int]] = []
    weights = list(family.pipeline_weights)
    while order:
        length = 1
        if chance(rng, family.pipeline_share):
            drawn = int(rng.choice(len(weights), p=[w / sum(weights) for w in weights]))
            length = min(family.pipeline_lengths[drawn], len(order))
        members, order = order[:length], order[length:]
        groups.append(sorted(members, key=lambda i: (class_rank(jobs[i].id), jobs[i].id)))
    return sorted(groups, key=lambda group: group[0])


def lay_out(rng: np.random.Generator, pipeline: list[TimedJob], horizon: int) -> None:
    """Start hours for a pipeline's jobs, in order, each after the one before and all within
    the horizon; each job starts at its `earliest` when the pipeline still fits."""
    total = sum(job.run_hours for job in pipeline)
    first = int(rng.integers(0, horizon - total + 1))
    gaps = [0] + [int(rng.integers(0, job.run_hours // 4 + 1)) for job in pipeline[1:]]
    for use_gaps, use_earliest in ((True, True), (False, True), (False, False)):
        hour = first
        for job, gap in zip(pipeline, gaps, strict=True):
            job.start = max(hour + (gap if use_gaps else 0), job.earliest if use_earliest else 0)
            hour = job.end
        if hour <= horizon:
            return
    raise AssertionError("a pipeline longer than the horizon")  # run hours are capped


def cut_windows(
    rng: np.random.Generator,
    family: ScheduledFamily,
    job: TimedJob,
    document: dict[str, Any],
    horizon: int,
) -> None:
    """Release, deadline, due date and late cost of one job, around its witness run."""
    run = job.run_hours
    if chance(rng, family.window_p):
        document["release_hour"] = max(0, job.start - int(rng.integers(0, run + 1)))
        document["deadline_hour"] = min(horizon, job.end + int(rng.integers(0, run + 1)))
    if chance(rng, family.due_p):
        late_by = 0
        if chance(rng, family.late_share):
            late_by = int(rng.integers(1, max(1, run // 10) + 1))
        document["due_hour"] = job.end - late_by
        # Paying 0.5-3x the job's hourly list price per hour late: lateness matters.
        burn = job.count * accelerator(job.accelerator).list_price_per_hour
        document["late_cost_per_hour"] = float(max(1, round(burn * uniform(rng, 0.5, 3.0))))


def link_pipeline(pipeline: list[TimedJob], documents: dict[str, dict[str, Any]]) -> None:
    """Each job of a pipeline runs after the one before it."""
    for before, after in itertools.pairwise(pipeline):
        documents[after.id]["after"] = [before.id]
