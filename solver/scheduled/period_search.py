"""Re-planning one period's inference at a time with v1's solver (the improvement step of
large scheduled instances; docs/formulation.md, "Scheduled instances").

With the plan's training and the other periods' inference booked in an hourly ledger,
one period's inference is a static v1 problem: the period's demand, H = its hours, and
what the rest leaves at each site and link over the period (`period_view`; a site the
rest keeps active has no fixed cost there). v1's `solve` re-plans it from the plan's own
decisions for the period (a plan of the view, so never worse as a start); the new
decisions replace the old only when the whole plan then costs less (replica start costs
couple periods, and are counted there). No bound is proved here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from models import Solution, SolverInfo
from solver.scheduled.greedy import book
from solver.scheduled.ledger import Ledger
from solver.scheduled.period_view import period_view
from solver.scheduled.plan import ScheduledPlan

if TYPE_CHECKING:
    from models import Instance
    from solver.search.options import SolveOptions

#: Least seconds a period's re-plan is worth starting with.
MIN_PERIOD_S = 1.0
#: A new plan must be cheaper by this share of the old one to be kept (float noise).
MIN_GAIN = 1e-9


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


def improve_periods(
    instance: Instance,
    plan: ScheduledPlan,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> ScheduledPlan:
    """`plan` with each period's inference re-planned by v1's solver in turn (periods with
    more replica-hours first), the time left shared evenly among the periods still to
    go (none started once the time left is under the last one's); never a costlier
    plan."""
    from solver.solve import solve

    if plan.expansions:
        return plan  # the views know no expansions
    ledger = training_ledger(instance, plan)
    count = len(instance.schedule.periods)
    parts = [period_part(instance, plan, p) for p in range(count)]
    for position, part in enumerate(parts):
        book(instance, ledger, part, position)
    ordered = sorted(range(count), key=lambda p: -_inference_size(instance, plan, p))
    last_s = 0.0
    for done, position in enumerate(ordered):
        began = time.perf_counter()
        left = deadline - began
        budget = left / (count - done)
        if budget < MIN_PERIOD_S or left < last_s:
            break
        book(instance, ledger, parts[position], position, give_back=True)
        active = {t.site for t in plan.training} | {
            r.site
            for r in plan.inference
            if r.replicas > 0 and r.period != _period(instance, position)
        }
        everything = [s.id for s in instance.inference]
        view = period_view(instance, ledger, position, everything, active)
        hint = parts[position].model_copy(
            update={"instance": view.name, "instance_sha256": view.sha256}
        )
        found = solve(
            view,
            time_limit_s=budget,
            workers=workers,
            seed=seed,
            hint=hint,
            options=options,
        )
        if found.has_plan:
            candidate = with_period(instance, plan, position, found)
            if candidate.objective < plan.objective * (1 - MIN_GAIN):
                plan = candidate
                parts[position] = period_part(instance, plan, position)
        book(instance, ledger, parts[position], position)
        last_s = time.perf_counter() - began
    return plan


def _period(instance: Instance, position: int) -> str | None:
    return instance.schedule.periods[position].id if instance.is_scheduled else None


def _inference_size(instance: Instance, plan: ScheduledPlan, position: int) -> float:
    """Replica-hours of a period (the order of re-planning)."""
    period = _period(instance, position)
    hours = instance.schedule.periods[position].hours
    return sum(r.replicas * hours for r in plan.inference if r.period == period)
