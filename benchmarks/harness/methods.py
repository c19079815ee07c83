"""The methods the benchmark compares, each run on the SPEC model of one instance.

Every method takes the instance, the shared settings and a progress callback, and
returns a `MethodOutcome`: a SPEC Solution (with or without a plan) for the plan
makers, only a proved bound for the LP relaxation. Time zero is the call itself
(the instance is already loaded); model building counts against the time limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from models import Solution, SolverInfo
from solver.cpsat.model import build_model, extract_plan
from solver.heuristics.greedy import greedy
from solver.linear import solve_linear
from solver.solve import PROOF_TOLERANCE, SolveOptions, solve

if TYPE_CHECKING:
    from collections.abc import Callable

    from models import Instance
    from models.solution import Status
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
    #: Seconds spent building the CP-SAT model (None when the method builds none).
    build_s: float | None


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
    """The SPEC MIP (integer placements and replicas, continuous flows) solved by HiGHS
    through pywraplp, which has no progress callbacks: only the final answer is seen.

    The time limit covers the CP-SAT model build; the translation to pywraplp is not
    under HiGHS's own limit, so its wall time may exceed the limit by that much."""
    started = time.perf_counter()
    built = build_model(instance)
    remaining = max(1.0, settings.time_limit_s - (time.perf_counter() - started))
    result = solve_linear(
        built,
        solver_id="HIGHS",
        integer=True,
        time_limit_s=remaining,
        threads=settings.workers,
    )
    bound = result.bound if result.bound is not None and math.isfinite(result.bound) else None
    info = SolverInfo(
        name="highs-mip",
        version="pywraplp",
        seed=settings.seed,
        time_limit_s=settings.time_limit_s,
        wall_s=round(time.perf_counter() - started, 3),
        workers=settings.workers,
        build_s=round(built.build_s, 3),
    )
    common = {"instance": instance.name, "instance_sha256": instance.sha256, "solver": info}
    if result.status == "infeasible":
        solution = Solution(status="infeasible", **common)  # type: ignore[arg-type]
        return MethodOutcome("infeasible", solution, None, built.build_s)
    if not result.values:
        solution = Solution(status="unknown", bound=bound, **common)  # type: ignore[arg-type]
        return MethodOutcome("unknown", solution, bound, built.build_s)
    plan = extract_plan(built, result.values)
    if bound is not None:
        bound = min(bound, plan.objective)
    status = _plan_status(plan.objective, bound)
    solution = plan.solution(instance, status, bound, info)
    return MethodOutcome(status, solution, bound, built.build_s)


def _plan_status(objective: float, bound: float | None) -> Status:
    """`optimal` only when the bound meets the objective to the SPEC tolerance (HiGHS
    calls a plan optimal at its own, looser, default gap)."""
    if bound is not None and objective - bound <= PROOF_TOLERANCE * max(1.0, abs(objective)):
        return "optimal"
    return "feasible"


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
