"""One CP-SAT run on a built model (`search`), and the parameter policy: which CP-SAT
parameters each step of the search runs with (`tuned`, `full_options`,
`first_plan_options`, `lns_options`, `rounding_options`)."""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from solver.search.progress import ProgressRelay

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from solver.cpsat.model import BuiltModel
    from solver.search.options import SolveOptions

#: The shortest time CP-SAT is given, even when the model build used up the limit.
MIN_SOLVE_S = 0.05
#: CP-SAT's full-problem subsolvers of the tuned search (docs/tuning.md#full_subsolvers).
FULL_SUBSOLVERS: tuple[str, ...] = ("reduced_costs", "max_lp")
#: Least variables for the tuned search (docs/tuning.md#full_subsolvers_min_variables).
FULL_SUBSOLVERS_MIN_VARIABLES = 5_000
#: The LNS step's first deterministic-time limit per neighbourhood (docs/tuning.md#lns_dtime).
LNS_DTIME = 0.005
#: Seconds without a better plan that end the LNS step (docs/tuning.md#lns_stall_s).
LNS_STALL_S = 2.0
#: ... or this share of the time it has run, if longer (docs/tuning.md#lns_stall_share).
LNS_STALL_SHARE = 0.25
#: How often (seconds) the stall is checked.
STALL_POLL_S = 0.1
#: The rounding search stops within this gap of its copy's bound (docs/tuning.md#rounding_gap).
ROUNDING_GAP = 1e-3
#: The rounding search's full-search subsolvers (docs/tuning.md#rounding_subsolvers).
ROUNDING_SUBSOLVERS: tuple[str, ...] = ("default_lp", "max_lp")
#: CP-SAT subsolvers left out of an interleaved search of a model whose hint is not known
#: to be one of its plans. OR-Tools 9.15.6755 aborts the whole process (`Check failed:
#: heuristics.fixed_search != nullptr`) when its `max_lp` worker runs interleaved with a
#: hint on a model it then finds infeasible (google/or-tools#5025, fixed after that
#: release; seen on a v2 re-plan, `solver.scheduled.solve`); the abort cannot be caught.
#: A model is known feasible when its hint is one of its plans (`hint_is_plan`).
HINTED_INTERLEAVE_EXCLUDED: tuple[str, ...] = ("max_lp",)


class ModelInvalidError(RuntimeError):
    """CP-SAT rejected the model: a bug in infraplan, never a property of the instance."""


@dataclass
class Search:
    """What one CP-SAT run returned."""

    status: cp_model.CpSolverStatus
    values: list[float]
    bound: float | None
    #: The plan's objective in currency (None without a plan).
    objective: float | None = None

    @property
    def has_plan(self) -> bool:
        """Whether CP-SAT returned a solution (an empty model has one with no values)."""
        return self.status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def search(
    built: BuiltModel,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: ProgressRelay | None,
    *,
    stall: bool = False,
    hint_is_plan: bool = False,
    stop: threading.Event | None = None,
) -> Search:
    """Run CP-SAT on a built model until `deadline` (a perf_counter time); with `stall`
    (and a `relay`), also stop once the search has found no better plan for a while
    (`stop_when_stalled`); with `stop`, also once that event is set and the search has
    found a plan (`stop_when_set`).
    `hint_is_plan` says the model's hint is one of its plans (so the
    model is feasible); without it an interleaved, hinted search runs without
    HINTED_INTERLEAVE_EXCLUDED. Raises ModelInvalidError if CP-SAT rejects the model."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    if options.parameters.get("stop_after_first_solution"):
        # OR-Tools 9.15 can abort here with several workers
        # (docs/tuning.md#a-search-that-stops-at-its-first-plan-runs-one-worker).
        workers = 1
    params.max_time_in_seconds = max(MIN_SOLVE_S, deadline - time.perf_counter())
    params.num_workers = workers
    params.random_seed = seed
    params.relative_gap_limit = options.relative_gap
    params.log_search_progress = options.log_search
    # One worker's search is reproducible as it is, and faster not interleaved
    # (docs/tuning.md#one-worker-searches-without-interleaving).
    if options.deterministic and workers > 1:
        params.interleave_search = True
    for name, value in sorted(options.parameters.items()):
        if isinstance(value, list | tuple):
            field = getattr(params, name)
            field.clear()
            field.extend(value)
        else:
            setattr(params, name, value)
    if params.interleave_search and built.model.proto.has_solution_hint() and not hint_is_plan:
        params.ignore_subsolvers.extend(
            name for name in HINTED_INTERLEAVE_EXCLUDED if name not in params.ignore_subsolvers
        )
    # The stop watch needs to see the search's plans (it stops only after the first).
    callback = relay if relay is not None or stop is None else ProgressRelay(None, 1.0)
    with (
        _watching(stop_when_stalled, solver, relay, time.perf_counter())
        if stall and relay is not None
        else nullcontext(),
        _watching(stop_when_set, solver, stop, callback)
        if stop is not None and callback is not None
        else nullcontext(),
    ):
        status = solver.solve(built.model, callback)
    if status == cp_model.MODEL_INVALID:
        raise ModelInvalidError(f"CP-SAT rejected the model: {built.model.validate()}")
    has_plan = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    raw_bound = solver.best_objective_bound
    bound = raw_bound / built.scale.factor if math.isfinite(raw_bound) else None
    values = [float(v) for v in solver.response_proto.solution] if has_plan else []
    objective = solver.objective_value / built.scale.factor if has_plan else None
    return Search(status, values, bound if status != cp_model.INFEASIBLE else None, objective)


@contextmanager
def _watching(watch: Callable[..., None], *args: object) -> Iterator[None]:
    """While inside, a thread runs `watch(*args, done)` (a watch that may stop a search),
    and `done` is set on the way out."""
    done = threading.Event()
    watcher = threading.Thread(target=watch, args=(*args, done))
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def stop_when_set(
    solver: cp_model.CpSolver, stop: threading.Event, relay: ProgressRelay, done: threading.Event
) -> None:
    """Stop `solver`'s search once `stop` is set and the search has found a plan (`relay`
    has seen one), until `done` is set; the stop is asked again at each poll. Never before
    the first plan: OR-Tools 9.15 aborted the whole process (`Check failed:
    solution->size() == postsolve_mapping.size()`) once when a search was stopped that
    way with the whole model of the zoo's grid-M-0 presolving, and the stall watch
    (`stop_when_stalled`), which waits for the first plan too, never has."""
    while not done.wait(STALL_POLL_S):
        if stop.is_set() and relay.last_plan_at is not None:
            solver.stop_search()


def stop_when_stalled(
    solver: cp_model.CpSolver, relay: ProgressRelay, started: float, done: threading.Event
) -> None:
    """Stop `solver`'s search once it has found no better plan for LNS_STALL_S, or for
    LNS_STALL_SHARE of the time it has run if that is longer; until `done` is set. The
    clock starts at the first plan (the hint, once presolve has loaded it)."""
    while not done.wait(STALL_POLL_S):
        if relay.last_plan_at is None:
            continue
        now = time.perf_counter()
        if now - relay.last_plan_at > max(LNS_STALL_S, LNS_STALL_SHARE * (now - started)):
            solver.stop_search()
            return


def combined(improved: Search, proving: Search) -> Search:
    """One answer from two steps of the whole model's search (the first-plan step and the
    LNS step, or the LNS step and the bound step that followed it): the cheaper plan,
    and the larger bound (both are bounds of the same model)."""
    if proving.status == cp_model.OPTIMAL or not improved.has_plan:
        return proving
    bounds = [b for b in (improved.bound, proving.bound) if b is not None]
    bound = max(bounds) if bounds else None
    best = improved
    if proving.has_plan and proving.objective is not None and improved.objective is not None:
        best = proving if proving.objective < improved.objective else improved
    return Search(cp_model.FEASIBLE, best.values, bound, best.objective)


def tuned(built: BuiltModel, workers: int, options: SolveOptions) -> bool:
    """Whether the whole model's search is infraplan's tuned one: several workers (or one
    worker that interleaves CP-SAT's subsolvers, asked for by `interleave_search` in the
    parameters: CP-SAT's one core beside HiGHS) searching reproducibly (interleaved) on a
    model of FULL_SUBSOLVERS_MIN_VARIABLES or more, unless the options name CP-SAT's
    subsolvers or ask for its default portfolio (`tuned_subsolvers=False`)."""
    return (
        options.deterministic
        and (workers > 1 or options.parameters.get("interleave_search") is True)
        and options.tuned_subsolvers
        and "subsolvers" not in options.parameters
        and "use_lns_only" not in options.parameters
        and len(built.model.proto.variables) >= FULL_SUBSOLVERS_MIN_VARIABLES
    )


def full_options(built: BuiltModel, workers: int, options: SolveOptions) -> SolveOptions:
    """`options` for the whole model's search: CP-SAT's full-problem subsolvers are
    FULL_SUBSOLVERS where the search is tuned (`tuned`)."""
    if not tuned(built, workers, options):
        return options
    return replace(options, parameters={**options.parameters, "subsolvers": list(FULL_SUBSOLVERS)})


def first_plan_options(options: SolveOptions) -> SolveOptions:
    """`options` for the first-plan step of the whole model's search
    (`solver.search.strategies.full_search`): CP-SAT's local search alone, stopping at
    its first plan."""
    parameters = {**options.parameters, "use_ls_only": True, "stop_after_first_solution": True}
    return replace(options, parameters=parameters)


def lns_options(options: SolveOptions) -> SolveOptions:
    """`options` for the LNS step of the whole model's search
    (`solver.search.strategies.full_search`): CP-SAT's large-neighbourhood workers alone,
    each neighbourhood's first search limited to LNS_DTIME."""
    parameters = {
        **options.parameters,
        "use_lns_only": True,
        "lns_initial_deterministic_limit": LNS_DTIME,
    }
    return replace(options, parameters=parameters)


def rounding_options(options: SolveOptions) -> SolveOptions:
    """`options` for the rounding search: its gap (ROUNDING_GAP, or the caller's if
    larger) and its subsolvers (ROUNDING_SUBSOLVERS), unless the caller names their own."""
    gap = max(options.relative_gap, ROUNDING_GAP)
    if not ROUNDING_SUBSOLVERS or "subsolvers" in options.parameters:
        return replace(options, relative_gap=gap)
    parameters = {**options.parameters, "subsolvers": list(ROUNDING_SUBSOLVERS)}
    return replace(options, parameters=parameters, relative_gap=gap)


def time_left(deadline: float) -> float:
    """Seconds from now to `deadline` (a perf_counter time); negative once past it."""
    return deadline - time.perf_counter()
