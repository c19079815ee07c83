"""`solve()`: the one entry point from an instance to a plan (SPEC section 7)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import Solution, SolverInfo
from solver.cpsat.model import add_hint, build_model, extract_plan

if TYPE_CHECKING:
    from models import Instance
    from solver.cpsat.model import BuiltModel

#: on_progress(wall seconds since the call began, objective, bound) per improving plan.
ProgressCallback = Callable[[float, float, float | None], None]

SOLVER_NAME = "infraplan-cpsat"
#: The shortest time CP-SAT is given, even when the model build used up the limit.
MIN_SOLVE_S = 0.05


class ModelInvalidError(RuntimeError):
    """CP-SAT rejected the model: a bug in infraplan, never a property of the instance."""


def _versions() -> str:
    try:
        own = version("infraplan")
    except PackageNotFoundError:
        own = "unknown"
    return f"{own} (ortools {version('ortools')})"


def default_workers() -> int:
    """CP-SAT workers when not given: the machine's cores, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings beyond the common keyword arguments of `solve`."""

    #: Search in a reproducible order (CP-SAT `interleave_search`): same instance, seed and
    #: settings give the same plan whenever the search ends before the wall-time limit.
    deterministic: bool = True
    #: Stop once the proved relative gap is at most this.
    relative_gap: float = 0.0
    #: Print CP-SAT's search log to stdout.
    log_search: bool = False
    #: Extra CP-SAT parameters by name (for experiments; recorded in the solution).
    parameters: dict[str, float | int | bool] = field(default_factory=dict)


class _ProgressRelay(cp_model.CpSolverSolutionCallback):
    """Reports each improving plan's objective and the bound, in currency; nothing heavier."""

    def __init__(self, callback: ProgressCallback, scale: float, started: float) -> None:
        super().__init__()
        self._callback = callback
        self._scale = scale
        self._started = started

    def on_solution_callback(self) -> None:
        bound = self.best_objective_bound / self._scale
        self._callback(
            time.perf_counter() - self._started, self.objective_value / self._scale, bound
        )


def solve(
    instance: Instance,
    *,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    hint: Solution | None = None,
    on_progress: ProgressCallback | None = None,
    options: SolveOptions | None = None,
) -> Solution:
    """Find the cheapest plan of `instance` within `time_limit_s` (model build included).

    Returns a Solution whose `objective` and `costs` are recomputed in float64 from
    the plan and whose `bound` is a proved lower bound on the SPEC optimum (None
    when none is proved). `hint` warm-starts the search from a previous plan, also
    one made for an edited instance. Raises ModelInvalidError if CP-SAT rejects the
    model.
    """
    started = time.perf_counter()
    options = options or SolveOptions()
    workers = workers or default_workers()
    built = build_model(instance)
    if hint is not None:
        add_hint(built, hint)

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(MIN_SOLVE_S, time_limit_s - (time.perf_counter() - started))
    params.num_workers = workers
    params.random_seed = seed
    params.relative_gap_limit = options.relative_gap
    params.log_search_progress = options.log_search
    if options.deterministic:
        params.interleave_search = True
    for name, value in sorted(options.parameters.items()):
        setattr(params, name, value)

    relay = _ProgressRelay(on_progress, built.scale.factor, started) if on_progress else None
    status = solver.solve(built.model, relay)
    if status == cp_model.MODEL_INVALID:
        raise ModelInvalidError(f"CP-SAT rejected the model: {built.model.validate()}")
    return _solution(instance, built, solver, status, seed, time_limit_s, workers, options, started)


def _solution(
    instance: Instance,
    built: BuiltModel,
    solver: cp_model.CpSolver,
    status: cp_model.CpSolverStatus,
    seed: int,
    time_limit_s: float,
    workers: int,
    options: SolveOptions,
    started: float,
) -> Solution:
    """Map CP-SAT's answer to the SPEC's status words, plan and bound."""
    has_plan = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    bound: float | None = None
    if built.exact and status in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        raw_bound = solver.best_objective_bound
        if raw_bound == raw_bound and abs(raw_bound) != float("inf"):
            bound = raw_bound / built.scale.factor
    if status == cp_model.OPTIMAL and built.exact:
        word = "optimal"
    elif has_plan:
        word = "feasible"
    elif status == cp_model.INFEASIBLE and built.exact:
        word = "infeasible"
    else:
        word = "unknown"

    info = SolverInfo(
        name=SOLVER_NAME,
        version=_versions(),
        seed=seed,
        time_limit_s=time_limit_s,
        wall_s=round(time.perf_counter() - started, 3),
        workers=workers,
        build_s=round(built.build_s, 3),
        deterministic=options.deterministic,
        model_exact=built.exact,
        model_notes=sorted(set(built.notes.inexact)),
    )
    common = {
        "instance": instance.name,
        "instance_sha256": instance.sha256,
        "status": word,
        "solver": info,
    }
    if not has_plan:
        return Solution(**common, bound=bound if word == "unknown" else None)  # type: ignore[arg-type]

    plan = extract_plan(built, solver.response_proto.solution)
    objective = plan.objective
    if bound is not None:
        bound = min(bound, objective)
    return Solution(
        **common,  # type: ignore[arg-type]
        objective=objective,
        bound=bound,
        training=plan.training,
        unplaced_training=plan.unplaced_training,
        inference=plan.inference,
        routes=plan.routes,
        unserved=plan.unserved,
        costs=plan.costs,
    )
