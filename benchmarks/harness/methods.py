"""The methods the benchmark compares, each run on one instance.

infraplan, CP-SAT monolithic and the LP bound use infraplan's SPEC model; mip-highs its own
compact MIP written from the SPEC (`benchmarks.harness.compact_mip`; on scheduled instances the
start-indexed MIP of `benchmarks.harness.scheduled_mip`); greedy no model.
Every method takes the instance, the shared settings and a progress callback, and
returns a `MethodOutcome`: a SPEC Solution (with or without a plan) for the plan
makers, only a proved bound for the LP relaxation. Time zero is the call itself
(the instance is already loaded); model building counts against the time limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from benchmarks.harness.compact_mip import compact_highs
from benchmarks.harness.scheduled_mip import scheduled_highs
from solver.cpsat.model import build_model
from solver.heuristics.greedy import greedy
from solver.linear import solve_linear
from solver.solve import SolveOptions, solve

if TYPE_CHECKING:
    from collections.abc import Callable

    from models import Instance, Solution
    from solver.solve import ProgressCallback

MethodName = Literal["infraplan", "cpsat-monolithic", "mip-highs", "greedy", "lp-bound"]
#: Every method, in the order they run on an instance.
METHODS: tuple[MethodName, ...] = (
    "infraplan",
    "cpsat-monolithic",
    "mip-highs",
    "greedy",
    "lp-bound",
)
#: Methods whose search reports each improving plan (time to first plan and to 1% gap
#: are read from those reports; for the others, from the final answer).
TRACED_METHODS: frozenset[MethodName] = frozenset({"infraplan", "cpsat-monolithic"})
LpSolver = Literal["GLOP", "HIGHS"]


@dataclass(frozen=True)
class MethodSettings:
    """What every method of one benchmark run shares."""

    time_limit_s: float
    seed: int = 0
    workers: int = 2
    #: The LP bound is the yardstick, not a competitor: it has its own limit.
    lp_time_limit_s: float = 900.0
    lp_solver: LpSolver = "HIGHS"


@dataclass
class MethodOutcome:
    """What one method returned."""

    #: A SPEC status word for the plan makers; for the LP bound, `optimal` when the LP
    #: was solved (its objective is then a proved bound), else `unknown`/`infeasible`.
    status: str
    solution: Solution | None
    #: A proved lower bound on the SPEC optimum (None if the method proves none).
    bound: float | None
    #: Seconds spent building the method's model (None when the method builds none).
    build_s: float | None
    #: A bound the method's solver reports to its own tolerances (HiGHS's dual bound for
    #: mip-highs): shown beside the proved bounds, never counted as one.
    solver_bound: float | None = None


def run_method(
    name: MethodName,
    instance: Instance,
    settings: MethodSettings,
    on_progress: ProgressCallback | None = None,
) -> MethodOutcome:
    """Run one method on `instance`; `on_progress` hears each improving plan of the
    methods in TRACED_METHODS."""
    return _RUNNERS[name](instance, settings, on_progress)


def run_infraplan(
    instance: Instance, settings: MethodSettings, on_progress: ProgressCallback | None
) -> MethodOutcome:
    """infraplan's `solve()` as shipped (elastic model from the greedy start)."""
    solution = solve(
        instance,
        time_limit_s=settings.time_limit_s,
        workers=settings.workers,
        seed=settings.seed,
        on_progress=on_progress,
    )
    return MethodOutcome(solution.status, solution, solution.bound, solution.solver.build_s)


def run_cpsat_monolithic(
    instance: Instance, settings: MethodSettings, on_progress: ProgressCallback | None
) -> MethodOutcome:
    """The plain monolithic CP-SAT model: strict, no hint, no decomposition, CP-SAT's
    default portfolio of subsolvers."""
    solution = solve(
        instance,
        time_limit_s=settings.time_limit_s,
        workers=settings.workers,
        seed=settings.seed,
        on_progress=on_progress,
        options=SolveOptions(elastic=False, greedy_start=False, tuned_subsolvers=False),
    )
    return MethodOutcome(solution.status, solution, solution.bound, solution.solver.build_s)


def run_mip_highs(
    instance: Instance, settings: MethodSettings, on_progress: ProgressCallback | None
) -> MethodOutcome:
    """HiGHS on the compact MIP written from the SPEC (`benchmarks.harness.compact_mip`):
    its own presolve and heuristics, one thread, the time limit (model build included). Its
    plan has status `feasible`; HiGHS's dual bound is kept apart as `solver_bound` (to
    HiGHS's tolerances), never counted as a proved bound. MathOpt gives HiGHS no progress
    callbacks: only the final answer is seen. A scheduled instance (SPEC §9) gets the
    start-indexed MIP of `benchmarks.harness.scheduled_mip` instead, whose HiGHS bound is kept
    only when its start grid is exact (else the bound is the restriction's, not the SPEC's)."""
    peer = scheduled_highs if instance.is_scheduled else compact_highs
    answer = peer(instance, time_limit_s=settings.time_limit_s, seed=settings.seed)
    solution = answer.solution
    return MethodOutcome(
        solution.status, solution, None, answer.build_s, solver_bound=answer.highs_bound
    )


def run_greedy(
    instance: Instance, settings: MethodSettings, on_progress: ProgressCallback | None
) -> MethodOutcome:
    """The greedy planner: largest first, cheapest option with capacity left."""
    solution = greedy(instance)
    return MethodOutcome(solution.status, solution, None, None)


def run_lp_bound(
    instance: Instance, settings: MethodSettings, on_progress: ProgressCallback | None
) -> MethodOutcome:
    """The LP relaxation of the SPEC model: its optimum is a proved lower bound."""
    built = build_model(instance)
    result = solve_linear(
        built,
        solver_id=settings.lp_solver,
        integer=False,
        time_limit_s=settings.lp_time_limit_s,
    )
    if result.status == "optimal" and result.bound is not None:
        return MethodOutcome("optimal", None, result.bound, built.build_s)
    status = "infeasible" if result.status == "infeasible" else "unknown"
    return MethodOutcome(status, None, None, built.build_s)


_RUNNERS: dict[
    MethodName,
    Callable[[Instance, MethodSettings, ProgressCallback | None], MethodOutcome],
] = {
    "infraplan": run_infraplan,
    "cpsat-monolithic": run_cpsat_monolithic,
    "mip-highs": run_mip_highs,
    "greedy": run_greedy,
    "lp-bound": run_lp_bound,
}
