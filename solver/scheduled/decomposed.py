"""Large scheduled instances without their whole model (docs/formulation.md, "Scheduled
instances", "Large instances").

With candidate expansions, the periods' LPs that charge them come first: they are the
bound and choose the expansions the plan is built with (`expansion`).

The first plan (`greedy.first_plan`) fixes the training; then, period by period, v1's LP
of the period's inference in what the plan's training leaves guides the rounding of the
period's inference (`rounding.rounded_period`), which replaces the plan's when the whole
plan then costs less. v1's LP of each period at its largest limits gives the period's
share of the bound (`bound.period_lp`, `bound.summed_bound`). Every plan returned is
checked by the evaluator. The steps are deterministic; only the time limit cuts them
(a period step starts while the time left exceeds the last one's).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from models import Solution as SolutionModel
from models import SolverInfo
from solver.cpsat.model import build_model
from solver.heuristics.greedy import Guide
from solver.linear import solve_linear
from solver.scheduled.bound import PeriodLP, period_lp, summed_bound, training_floor
from solver.scheduled.check import accepted
from solver.scheduled.expansion import (
    charged_lps,
    chosen_expansions,
    has_expansions,
    restated,
    unneeded,
    with_built,
)
from solver.scheduled.greedy import first_plan
from solver.scheduled.period_parts import training_ledger, with_period
from solver.scheduled.period_view import period_view
from solver.scheduled.rounding import rounded_period

if TYPE_CHECKING:
    from models import Instance, ReplicaOption
    from models.solution import Status
    from solver.scheduled.plan import ScheduledPlan
    from solver.search.options import SolveOptions
    from solver.search.progress import ProgressCallback

#: Share of the time left after the rounding's LPs kept for the bound's LPs (at the
#: largest limits; sched-M-0: 8 LPs of 1.2-1.5 s each against 2-4 s per rounded period).
BOUND_SHARE = 0.4
#: Least seconds worth giving an LP.
MIN_LP_S = 0.2
#: LP solver of the rounding's LPs (as v1's).
LP_SOLVER = "HIGHS"
#: Seconds kept after the period steps for the check and the answer, at least; and as
#: many times the first plan's check as the last check may take.
RESERVE_S = 1.5
CHECK_ROOM = 2.0
#: A new plan must be cheaper by this share of the old one to be kept (float noise).
MIN_GAIN = 1e-9


def guide(view: Instance, deadline: float) -> dict[ReplicaOption, float]:
    """v1's LP of a period's view (what the plan's training leaves): its replica values,
    empty when it has none in time."""
    left = deadline - time.perf_counter()
    if not view.inference or left <= MIN_LP_S:
        return {}
    built = build_model(view, widened=True)
    result = solve_linear(built, solver_id=LP_SOLVER, time_limit_s=deadline - time.perf_counter())
    if result.status != "optimal":
        return {}
    return dict(Guide.from_lp(built, result).replicas)


def rounded_periods(instance: Instance, plan: ScheduledPlan, deadline: float) -> ScheduledPlan:
    """`plan` with each period's inference replaced by the rounding of the LP of what the
    plan's training leaves in it, where that makes the whole plan cheaper; a period's step
    starts only while the time left exceeds the last step's (`Pace`)."""
    ledger = training_ledger(instance, plan)
    every = [s.id for s in instance.inference]
    pace = Pace()
    for position in range(len(instance.schedule.periods)):
        if not pace.room(deadline):
            break
        period = instance.schedule.periods[position].id if instance.is_scheduled else None
        active = {t.site for t in plan.training} | {
            r.site for r in plan.inference if r.replicas > 0 and r.period != period
        }
        view = period_view(instance, ledger, position, every, active)
        replicas = guide(view, deadline)
        if replicas and time.perf_counter() < deadline:
            part = rounded_period(view, replicas)
            if part is not None:
                candidate = with_period(instance, plan, position, part)
                if candidate.objective < plan.objective * (1 - MIN_GAIN):
                    plan = candidate
        pace.step()
    return plan


class Pace:
    """How long the last of a series of like steps took, to judge whether one more fits."""

    def __init__(self) -> None:
        self.last_s = 0.0
        self.began = time.perf_counter()

    def room(self, deadline: float) -> bool:
        """Whether the time left before `deadline` exceeds the last step's."""
        self.began = time.perf_counter()
        return deadline - self.began > max(MIN_LP_S, self.last_s)

    def step(self) -> None:
        """One step has ended."""
        self.last_s = time.perf_counter() - self.began


def decomposed(
    instance: Instance,
    fallback: ScheduledPlan | None,
    started: float,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    on_progress: ProgressCallback | None,
    check_s: float = 0.0,
) -> SolutionModel:
    """Solve a large scheduled instance (see the module's docstring); `check_s` is how long
    the evaluator took on the first plan (time is kept for checking the last one)."""
    from solver.scheduled.solve import _answer
    from solver.solve import (
        SOLVER_NAME,
        ClaimContradictionError,
        check_bound,
        proved,
        solver_version,
    )

    end = deadline - max(RESERVE_S, CHECK_ROOM * check_s)
    plan = fallback
    floors = training_floor(instance)
    lps: list[PeriodLP] = []
    charged = None
    if floors is not None and options.lp and has_expansions(instance):
        # The periods' LPs that charge expansions first: they are the bound, and they
        # choose the expansions the plan is made with (solver.scheduled.expansion).
        charged = charged_lps(instance, end - (1 - BOUND_SHARE) * (end - time.perf_counter()))
        if charged is not None:
            lps = [PeriodLP(lp.bound) for lp in charged]
    if plan is not None and options.lp and not plan.expansions:
        chosen = chosen_expansions(instance, charged) if charged is not None else set()
        built_plan = _with_expansions(instance, chosen, end) if chosen else None
        if built_plan is not None:
            if built_plan.objective < plan.objective * (1 - MIN_GAIN):
                plan = built_plan
                if on_progress is not None:
                    on_progress(time.perf_counter() - started, plan.objective, None)
        else:
            # The plan first: each period's LP of what training leaves, rounded.
            share = 0.0 if charged is not None else BOUND_SHARE
            rounded = rounded_periods(instance, plan, end - share * (end - time.perf_counter()))
            if rounded is not plan:
                plan = _checked(instance, rounded)
                if on_progress is not None:
                    on_progress(time.perf_counter() - started, plan.objective, None)
    if floors is not None and options.lp and charged is None:
        pace = Pace()
        for position in range(len(instance.schedule.periods)):
            if not pace.room(end):
                lps = []  # every period's share is needed: no bound this time
                break
            lps.append(period_lp(instance, position, end))
            pace.step()
    bound = summed_bound(floors, lps) if floors is not None and lps else None
    status: Status = "unknown"
    if floors is None:
        if plan is not None:
            raise ClaimContradictionError(
                "internal error: a required job has no placement in its window, but a plan "
                f"of cost {plan.objective!r} passes the check; please report this instance"
            )
        status = "infeasible"
    elif plan is not None:
        check_bound(bound, plan.objective, "proved")
        status = "optimal" if proved(plan.objective, bound) else "feasible"
        if on_progress is not None:
            on_progress(time.perf_counter() - started, plan.objective, bound)
    info = SolverInfo(
        name=SOLVER_NAME,
        version=solver_version(),
        seed=seed,
        time_limit_s=round(deadline - started, 3),
        wall_s=round(time.perf_counter() - started, 3),
        workers=workers,
        build_s=0.0,
        deterministic=options.deterministic,
        model_exact=True,
        model_notes=[],
    )
    return _answer(instance, plan, status, bound, info)


def _with_expansions(
    instance: Instance, chosen: set[tuple[str, str]], deadline: float
) -> ScheduledPlan | None:
    """The first plan of `instance` with the expansions in `chosen` built in
    (`expansion.with_built`), its periods rounded until `deadline`, as a checked plan of
    `instance` that lists those it needs (`expansion.unneeded`); None when that first
    plan is incomplete. A refusal of the restated plan is a bug (the same decisions in the
    same capacity), raised as ClaimContradictionError."""
    from solver.solve import ClaimContradictionError

    built = with_built(instance, chosen)
    first = accepted(built, first_plan(built))
    if first is None:
        return None
    improved = rounded_periods(built, first, deadline)
    kept = chosen - unneeded(instance, built, improved, chosen)
    checked = accepted(instance, restated(instance, improved, kept))
    if checked is None and kept != chosen:
        # The ledger books as the check counts; should they ever differ, keep them all.
        checked = accepted(instance, restated(instance, improved, chosen))
    if checked is None:
        raise ClaimContradictionError(
            "internal error: a plan with its expansions built in fails the check once "
            "they are listed; please report this instance"
        )
    return checked


def _checked(instance: Instance, plan: ScheduledPlan) -> ScheduledPlan:
    """`plan` as the evaluator costs it; a refusal is a bug (the steps keep to the limits
    as written), raised as ClaimContradictionError."""
    from solver.solve import ClaimContradictionError

    checked = accepted(instance, plan)
    if checked is None:
        raise ClaimContradictionError(
            "internal error: a re-planned period of a checked plan fails the check; "
            "please report this instance"
        )
    return checked
