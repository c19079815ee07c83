"""One period's part of a scheduled plan: the plan's training booked in an hourly ledger
(`training_ledger`), a period's inference decisions as a v1 solution of the period's
static view (`period_part`), and the plan with one period's decisions replaced
(`with_period`), for the large-instance path (`decomposed.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import Solution, SolverInfo
from solver.scheduled.ledger import Ledger
from solver.scheduled.plan import ScheduledPlan

if TYPE_CHECKING:
    from models import Instance


def training_ledger(instance: Instance, plan: ScheduledPlan) -> Ledger:
    """A ledger holding the plan's training (accelerators while each job runs, and its
    dataset reads)."""
    ledger = Ledger(instance)
    jobs = instance.training_by_id
    for entry in plan.training:
        job = jobs[entry.job]
        start = entry.start_hour or 0
        end = start + round(job.run_hours) if instance.is_scheduled else ledger.horizon
        reads: dict[int, float] = {}
        dataset = job.dataset
        if dataset is not None and dataset.read_gbps > 0 and dataset.at != entry.site:
            route = instance.paths.route(dataset.at, entry.site)
            assert route is not None
            reads = dict.fromkeys(route.links, dataset.read_gbps)
        ledger.take(entry.site, entry.accelerator, entry.count, reads, slice(start, end))
    return ledger


def period_part(instance: Instance, plan: ScheduledPlan, position: int) -> Solution:
    """The plan's inference decisions of one period as a v1 solution of its view."""
    period = instance.schedule.periods[position].id if instance.is_scheduled else None
    info = SolverInfo(name="period", version="", seed=0, time_limit_s=None, wall_s=0.0)
    return Solution(
        instance=f"{instance.name}/{period}",
        instance_sha256="",
        status="feasible",
        inference=[
            r.model_copy(update={"period": None}) for r in plan.inference if r.period == period
        ],
        routes=[f.model_copy(update={"period": None}) for f in plan.routes if f.period == period],
        unserved=[
            w.model_copy(update={"period": None}) for w in plan.unserved if w.period == period
        ],
        solver=info,
    )


def with_period(
    instance: Instance, plan: ScheduledPlan, position: int, part: Solution
) -> ScheduledPlan:
    """`plan` with one period's inference decisions replaced by a v1 plan of its view."""
    period = instance.schedule.periods[position].id if instance.is_scheduled else None
    return ScheduledPlan.build(
        instance,
        plan.training,
        plan.unplaced_training,
        [r for r in plan.inference if r.period != period]
        + [r.model_copy(update={"period": period}) for r in part.inference],
        [f for f in plan.routes if f.period != period]
        + [f.model_copy(update={"period": period}) for f in part.routes],
        [w for w in plan.unserved if w.period != period]
        + [w.model_copy(update={"period": period}) for w in part.unserved],
        plan.expansions,
    )


def _period(instance: Instance, position: int) -> str | None:
    return instance.schedule.periods[position].id if instance.is_scheduled else None
