"""A proved lower bound of a scheduled instance without its whole model: a decomposition
of SPEC §9-§11 into training and one static inference problem per period.

Every SPEC plan's cost is at least the sum of

* for each job, the least it can cost: its cheapest eligible placement (training cost,
  move cost, and the lateness of its earliest possible start: its release, after the
  earliest ends of the jobs it lists), or, if it is optional, being left out (unplaced
  and move cost), whichever is less;
* for each period, the optimum of its inference alone as a v1 instance (`period_view`
  with every limit at its largest: no training, every expansion from its period on, no
  fixed cost): a plan's decisions for the period are a plan of it (training and chosen
  expansions only take capacity or add less, and fixed costs, replica starts, expansion
  costs and move budgets are >= 0 or dropped rows). That optimum is bounded by v1's LP
  bound of the view (`solver.linear.safe_bound` on the widened model: weak duality, not
  the LP solver's optimum).

The sum (in float64, `math.fsum`) is lowered by BOUND_FLOAT_ROOM of the size of its
terms. Each period's LP also guides the rounding of that period's inference
(`rounding.rounded_period`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from solver.costs import training_costs
from solver.cpsat.model import build_model
from solver.heuristics.greedy import Guide
from solver.linear import solve_linear
from solver.scheduled.costs import move_cost
from solver.scheduled.jobs import job_order
from solver.scheduled.ledger import Ledger
from solver.scheduled.period_view import period_view
from solver.scheduled.variables import job_window

if TYPE_CHECKING:
    from models import Instance, ReplicaOption

#: Relative room the summed bound leaves for float rounding in its own sums.
BOUND_FLOAT_ROOM = 1e-9
#: LP solver of the period LPs (as v1's LP bound).
LP_SOLVER = "HIGHS"


@dataclass
class PeriodLP:
    """One period's LP: its safe bound (None if none) and replica values (the guide)."""

    bound: float | None
    replicas: dict[ReplicaOption, float] = field(default_factory=dict)
    wall_s: float = 0.0


def earliest_starts(instance: Instance) -> dict[str, int]:
    """Each job's earliest start if placed: its release, and the earliest ends of the
    jobs it lists (a placed job's listed jobs are placed and end before it starts)."""
    jobs = instance.training_by_id
    earliest: dict[str, int] = {}
    for job_id in job_order(instance):
        job = jobs[job_id]
        ends = [earliest[k] + math.ceil(jobs[k].run_hours - 1e-9) for k in job.predecessors]
        earliest[job_id] = max([job.release, *ends])
    return earliest


def training_floor(instance: Instance) -> list[float] | None:
    """The least each job can cost (see the module's docstring); None when a required job
    has no placement its window allows (then there is no plan)."""
    scheduled = instance.is_scheduled
    earliest = earliest_starts(instance)
    floors: list[float] = []
    for job in instance.training:
        options: list[float] = []
        if not scheduled or job_window(instance, job.id) is not None:
            late = 0.0
            if scheduled and job.due_hour is not None:
                run = math.ceil(job.run_hours - 1e-9)
                late = job.late_cost * max(0, earliest[job.id] + run - job.due_hour)
            options += [
                training_costs(instance, p).total
                + move_cost(instance, job.id, p.site, p.accelerator)
                + late
                for p in instance.eligibility.training[job.id]
            ]
        if not job.required:
            options.append(job.unplaced_cost + move_cost(instance, job.id, None, None))
        if not options:
            return None
        floors.append(min(options))
    return floors


def period_lp(instance: Instance, position: int, deadline: float) -> PeriodLP:
    """v1's LP of one period's inference at the largest limits (see the module's
    docstring)."""
    started = time.perf_counter()
    ledger = Ledger(instance, expanded=True)
    sites = [s.id for s in instance.sites]
    view = period_view(instance, ledger, position, [s.id for s in instance.inference], sites)
    if not view.inference:
        return PeriodLP(0.0, {}, time.perf_counter() - started)
    built = build_model(view, widened=True)
    left = deadline - time.perf_counter()
    if left <= 0:
        return PeriodLP(None, {}, time.perf_counter() - started)
    limit = left if math.isfinite(left) else None
    result = solve_linear(built, solver_id=LP_SOLVER, time_limit_s=limit)
    if result.status != "optimal" or result.bound is None:
        return PeriodLP(None, {}, time.perf_counter() - started)
    guide = Guide.from_lp(built, result)
    return PeriodLP(result.bound, dict(guide.replicas), time.perf_counter() - started)


def summed_bound(floors: list[float], periods: list[PeriodLP]) -> float | None:
    """The decomposition's bound: the jobs' floors and every period's LP bound summed, less
    BOUND_FLOAT_ROOM of their size; None when a period has no bound."""
    terms = list(floors)
    for part in periods:
        if part.bound is None:
            return None
        terms.append(part.bound)
    return math.fsum(terms) - BOUND_FLOAT_ROOM * math.fsum(abs(t) for t in terms)
