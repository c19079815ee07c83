"""`solve()`: the one entry point from an instance to a plan (SPEC section 7)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import Solution, SolverInfo
from solver.cpsat.model import Plan, add_hint, build_model, extract_plan
from solver.linear import solve_linear

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance
    from models.solution import Status
    from solver.cpsat.model import BuiltModel

#: on_progress(wall seconds since the call began, objective, bound) per improving plan.
ProgressCallback = Callable[[float, float, float | None], None]

SOLVER_NAME = "infraplan-cpsat"
#: Share of the time limit kept for the LP steps of an inexact model.
LP_SHARE = 0.1
#: A plan within this relative distance of a proved bound counts as proved optimal
#: (the SPEC's feasibility tolerance).
PROOF_TOLERANCE = 1e-6
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
    deadline = started + time_limit_s
    options = options or SolveOptions()
    workers = workers or default_workers()
    built = build_model(instance)
    if hint is not None:
        add_hint(built, hint)
    # Keep time for the LP steps that follow the search (bound, flow polish).
    reserve_s = LP_SHARE * time_limit_s if built.relaxed or not built.exact else 0.0
    relay = _ProgressRelay(on_progress, built.scale.factor, started) if on_progress else None
    search = _search(built, deadline - reserve_s, workers, seed, options, relay)
    outcome = _outcome(built, search, deadline)
    if outcome.needs_repair:
        outcome = _repair(instance, outcome, deadline, workers, seed, options)
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
        "status": outcome.status,
        "bound": outcome.bound,
        "solver": info,
    }
    if outcome.plan is None:
        return Solution(**common)  # type: ignore[arg-type]
    plan = outcome.plan
    return Solution(
        **common,  # type: ignore[arg-type]
        objective=plan.objective,
        training=plan.training,
        unplaced_training=plan.unplaced_training,
        inference=plan.inference,
        routes=plan.routes,
        unserved=plan.unserved,
        costs=plan.costs,
    )


@dataclass
class _Search:
    """What one CP-SAT run returned."""

    status: cp_model.CpSolverStatus
    values: list[float]
    bound: float | None


def _search(
    built: BuiltModel,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: _ProgressRelay | None,
) -> _Search:
    """Run CP-SAT on a built model until `deadline` (a perf_counter time)."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(MIN_SOLVE_S, deadline - time.perf_counter())
    params.num_workers = workers
    params.random_seed = seed
    params.relative_gap_limit = options.relative_gap
    params.log_search_progress = options.log_search
    if options.deterministic:
        params.interleave_search = True
    for name, value in sorted(options.parameters.items()):
        setattr(params, name, value)
    status = solver.solve(built.model, relay)
    if status == cp_model.MODEL_INVALID:
        raise ModelInvalidError(f"CP-SAT rejected the model: {built.model.validate()}")
    has_plan = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    raw_bound = solver.best_objective_bound
    bound = raw_bound / built.scale.factor if math.isfinite(raw_bound) else None
    values = [float(v) for v in solver.response_proto.solution] if has_plan else []
    return _Search(status, values, bound if status != cp_model.INFEASIBLE else None)


@dataclass
class _Outcome:
    status: Status
    bound: float | None
    plan: Plan | None
    #: Integer decisions of a plan whose flows could not be made to fit exact rows.
    needs_repair: bool = False
    rejected: list[float] | None = None


def _outcome(built: BuiltModel, search: _Search, deadline: float) -> _Outcome:
    """Map a CP-SAT answer to the SPEC's status words, plan and proved bound.

    On a model with no restriction CP-SAT's bound (of the rounded-down objective)
    is a proved SPEC bound; otherwise the bound is the LP relaxation's. Plans of a
    model with relaxed rows get their flows re-optimised continuously against the
    exact rows; when that fails the plan needs repair.
    """
    if built.exact:
        bound = search.bound
        if search.status == cp_model.INFEASIBLE:
            return _Outcome("infeasible", None, None)
    else:
        relaxation = solve_linear(built, time_limit_s=max(1.0, deadline - time.perf_counter()))
        bound = relaxation.bound
        if relaxation.status == "infeasible":
            return _Outcome("infeasible", None, None)
    if not search.values:
        return _Outcome("unknown", bound, None)

    values: Sequence[float] = search.values
    if built.relaxed:
        polished = _polished(built, values, deadline - time.perf_counter())
        if polished is None:
            return _Outcome("unknown", bound, None, needs_repair=True, rejected=search.values)
        values = polished
    plan = extract_plan(built, values)
    objective = plan.objective
    if bound is not None:
        bound = min(bound, objective)
    proved = bound is not None and objective - bound <= PROOF_TOLERANCE * max(1.0, abs(objective))
    optimal = (search.status == cp_model.OPTIMAL and built.exact and not built.relaxed) or proved
    return _Outcome("optimal" if optimal else "feasible", bound, plan)


def _polished(built: BuiltModel, values: Sequence[float], remaining_s: float) -> list[float] | None:
    """Flows and unserved demand re-optimised continuously against the exact rows, with the
    plan's placements and replicas fixed; None when no such flows exist."""
    variables = built.variables
    integral = [
        *variables.placement.values(),
        *variables.unplaced.values(),
        *variables.replicas.values(),
        *variables.site_active.values(),
    ]
    fixed = {var.index: float(values[var.index]) for var in integral}
    polish = solve_linear(built, fixed=fixed, time_limit_s=max(1.0, remaining_s))
    if polish.status != "optimal":
        return None
    return polish.values


def _repair(
    instance: Instance,
    failed: _Outcome,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> _Outcome:
    """Search again on the model whose link rows are exact on the rps grid (every plan of
    it is a SPEC plan), hinted with the rejected plan; the proved bound is kept."""
    built = build_model(instance, relax_bandwidth=False)
    search = _search(built, deadline, workers, seed, options, None)
    if not search.values:
        return _Outcome("unknown", failed.bound, None)
    plan = extract_plan(built, search.values)
    bound = None if failed.bound is None else min(failed.bound, plan.objective)
    proved = bound is not None and plan.objective - bound <= PROOF_TOLERANCE * max(
        1.0, abs(plan.objective)
    )
    return _Outcome("optimal" if proved else "feasible", bound, plan)
