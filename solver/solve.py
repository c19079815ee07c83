"""`solve()`: the one entry point from an instance to a plan (SPEC section 7)."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import Solution, SolverInfo
from solver.costs import plan_costs
from solver.cpsat.model import (
    Plan,
    add_hint,
    build_model,
    extract_plan,
    hint_solution,
    plan_values,
)
from solver.evaluate import evaluate
from solver.flows import cheapest_flows
from solver.heuristics import neighbourhood
from solver.heuristics.greedy import Guide, greedy
from solver.heuristics.rounding import rounding_model
from solver.lagrangian import lagrangian
from solver.linear import LinearResult, solve_linear

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance
    from models.solution import Status
    from solver.cpsat.model import BuiltModel

#: on_progress(wall seconds since the call began, objective, bound) per improving plan.
ProgressCallback = Callable[[float, float, float | None], None]

SOLVER_NAME = "infraplan-cpsat"
#: Most of the time limit kept for what may follow the main search: the LP bound, flow
#: polishing, and a repair search.
RESERVE_SHARE = 0.1
#: A plan within this relative distance of a proved bound counts as proved optimal
#: (the SPEC's feasibility tolerance).
PROOF_TOLERANCE = 1e-6
#: Largest model whose LP relaxation is solved for a bound after the search.
MAX_LP_VARIABLES = 300_000
#: Least time left for that LP to be tried.
MIN_LP_S = 0.5
#: Most of the time limit the LP relaxation that guides the greedy start and the rounding
#: search may take. Large: the rounding search's plans are worth it (OR-Library capa, 100
#: sites by 1,000 jobs, needs about 60 s of a 120 s limit for its LP).
LP_SHARE = 0.5
#: The LP solver: HiGHS's dual simplex, measured 4x faster than GLOP on generated L-0
#: (6.6 s against 27.7 s) and 2x on OR-Library capa; equal on M.
LP_SOLVER = "HIGHS"
#: Most of the time left after the build that the greedy start may take (on the largest
#: instances it then stops early and the search starts from an incomplete plan).
GREEDY_SHARE = 0.25
#: Most of the search time (after the LP and the greedy start) that the search around the
#: LP's rounded replica counts may take; it stops earlier once it proves its own optimum.
#: With the full search's LNS step (LNS_SHARE), generated M-0/1/2 at 30 s: 0.7 138.94 /
#: 130.35 / 235.89M, 0.4 138.86 / 130.34 / 236.08M; but at 0.4 a 14,425-variable
#: re-plan of L-1's neighbourhood search (20 s) reached 268.0M where 0.7 reached 247.6M
#: (found after 6.1 s), and L-1 at 120 s ended at 1,105.8M instead of 1,088.0M.
ROUNDING_SHARE = 0.7
#: The neighbourhoods the rounding search tries in turn, as (forbid the placements the LP
#: leaves unused, widen by the incumbent plan): the first one with a plan is kept.
ROUNDING_STEPS: tuple[tuple[bool, bool], ...] = ((True, True), (True, False), (False, False))
#: The rounding search stops once its plan is this close to the best its copy can hold
#: (the copy's own bound): the rest of its time goes to the full search.
ROUNDING_GAP = 1e-3
#: State the link rows of the rounding search's copy at their exact limits (no grid
#: allowance; at the incumbent's grid usage where that is more), so that its plan's flows
#: fit the exact rows even where the full search's do not.
ROUNDING_EXACT_LINKS = True
#: CP-SAT's full-search workers for the rounding search: the LP-guided dives, which find
#: the plans near the LP's values; the bound-proving ones are of no use in a restricted
#: copy (its bound proves nothing). Large-neighbourhood workers run as usual.
ROUNDING_SUBSOLVERS: tuple[str, ...] = ("default_lp", "max_lp")
#: CP-SAT's full-problem subsolvers for the whole model's search when several workers
#: search reproducibly (interleaved) on a model of at least FULL_SUBSOLVERS_MIN_VARIABLES
#: variables; the large-neighbourhood ones run as usual. Interleaved, each full subsolver
#: runs in chunks of one unit of deterministic time, which on generated M (10,000
#: variables) take 5 to 14 s of wall time each: in the 15 s the full search has at 30 s,
#: the eight of the default portfolio ran one chunk each and the LNS workers never ran.
#: With these two, measured at 30 s (2 workers, one run after another), M-0/1/2 went
#: from 138.96 / 131.27 / 239.81M with bounds 136.81 / 128.17 / 232.08M to 138.96 /
#: 130.81 / 239.81M with bounds 136.81 / 129.07 / 232.07M (`reduced_costs` raises M-1's
#: bound past max_lp's root; LNS improved M-1's plan). Also tried: max_lp first (M-2's
#: bound 231.01M: max_lp's root stopped short), adding quick_restart, default_lp, core
#: or no_lp (M-1 131.2-131.3M: the LNS workers had less time).
FULL_SUBSOLVERS: tuple[str, ...] = ("reduced_costs", "max_lp")
FULL_SUBSOLVERS_MIN_VARIABLES = 5_000
#: There, when the search starts from a complete plan on an instance without the
#: neighbourhood search, it runs in two steps: CP-SAT's large-neighbourhood workers alone
#: (`use_lns_only`) for LNS_SHARE of the time, each neighbourhood's search limited to
#: LNS_DTIME units of deterministic time at first (CP-SAT adapts it), then the full
#: subsolvers, hinted with that step's plan, for the bound. In one search the full
#: subsolvers' chunks (9 s of wall time for reduced_costs' on generated M-1) held the
#: LNS workers back, and CP-SAT's first LNS limit, 0.1, gave each neighbourhood 0.2 to
#: 0.5 s. Measured at 30 s (2 workers, one run after another, rounding share 0.4):
#: M-1 130.79M with bound 129.07M in one search; LNS steps of limit 0.1 / 0.05 / 0.02 /
#: 0.01 / 0.005 / 0.002 with the bound step first: 130.53 / 130.43 / 130.36 / 130.35 /
#: 130.32 / 130.44M; bound step last, LNS share 0.75 / 0.65 / 0.5: 130.33M with bound
#: 129.02M / 130.34M with 129.23M (the better plan lets the bound step fix more by
#: reduced costs) / 130.38M with 129.29M. M-2 239.81M became 236.08M (bound 232.07M).
LNS_SHARE = 0.65
#: When the search starts from no complete plan (the greedy plan left work out), the
#: tuned search first looks for one with CP-SAT's local search alone (`use_ls_only`:
#: feasibility jump and violation LS), until its first plan or for at most
#: FIRST_PLAN_SHARE of the time, then runs the LNS step and the bound step from it. The
#: full subsolvers alone find first plans by their LP dives only: on Yagiura's GAP
#: c60900 (54,000 assignments, 60 s, 2 workers) one batch of reduced_costs and max_lp
#: ran 25 s with no plan and the search ended with none; local search alone found one
#: 2.7 s after the start of its search.
FIRST_PLAN_SHARE = 0.3
LNS_DTIME = 0.005
#: The LNS step gives way to the bound step early once it has found no better plan for
#: LNS_STALL_S, or for LNS_STALL_SHARE of the time it has run if that is longer: on a
#: model CP-SAT proves quickly (its plan already optimal) the proof is not kept waiting.
#: On generated M its plans improve every 0.2 to 1 s.
LNS_STALL_S = 2.0
LNS_STALL_SHARE = 0.25
#: How often (seconds) the stall is checked.
STALL_POLL_S = 0.1
#: Most of the time limit the greedy start may take on an instance too large for the LP
#: (generated XL-0 needs five passes, 28 to 35 s, to be complete).
LARGE_GREEDY_SHARE = 0.6
#: Most of the time limit the Lagrangian bound may take on an instance too large for the
#: LP (first, before any plan).
LAGRANGIAN_SHARE = 0.1
#: The Lagrangian relaxation's prices guide the first greedy plan on those instances
#: (each option costed with this share of the prices of what it takes); the unguided
#: greedy plan follows only when the priced one is incomplete. Generated XL-0: unguided
#: 6,328.5M in 31 s; priced with weight 1.0 5,711.8M (32.5 s; the relaxation first, 6 s).
#: With prices from steps towards the unguided plan's cost: 1.0 5,777.7M (41 s), 0.5 an
#: incomplete plan, 0.25 6,333.5M, 1.5 6,576.9M; with the full relaxation's 60 s
#: (`4b759bf`): 0.8 5,810.7M, 0.9 5,759.3M, 1.0 5,718.8M, 1.1 5,809.7M, 1.2 5,855.3M.
#: The unguided plan used to follow at 600 s too, where it never won: XL-0/1/2 unguided
#: 6,328.5 / 6,580.3 / 6,167.6M (31-37 s) against priced 5,754.1 / 5,921.1 / 5,445.7M.
#: The plan is also guided by the relaxation's placement shares of the training jobs
#: (`LagrangianResult.placements`), as the LP's values guide it on smaller instances.
#: XL-0, two runs of 60 s of the relaxation (their prices differ), prices alone 5,718.8M
#: and 5,795.8M, with the shares 5,710.7M and 5,680.2M (unserved penalties 449.0 ->
#: 436.7M and 532.5 -> 409.6M); at weight 0.5 with the shares the plan was incomplete.
LAGRANGIAN_PRICE_WEIGHT = 1.0
#: When the greedy plans of an instance too large for the LP are incomplete, its whole
#: model is built and searched only while this many times its estimated build time is
#: left; else the answer is `unknown`, with the Lagrangian bound, within the limit. The
#: build takes about BUILD_S_PER_DECISION per eligible decision (generated XL-0: 45.9 s
#: for 1.2 million on the 2-core VM); without the check, a 60 s solve whose greedy plan
#: ran out of time would build for 46 s past its limit.
WHOLE_MODEL_ROOM = 2.0
BUILD_S_PER_DECISION = 4e-5
#: Most seconds kept back from the neighbourhood search for the answer's assembly.
NEIGHBOURHOOD_RESERVE_S = 2.0
#: Least eligible decisions for the neighbourhood search to run on an instance the whole
#: model is built for (three neighbourhoods' worth: generated L has 67,000 to 83,000).
NEIGHBOURHOOD_MIN_DECISIONS = 3 * neighbourhood.NEIGHBOURHOOD_DECISIONS
#: On those, the rounding search's share of the search time (instead of ROUNDING_SHARE)
#: when the greedy plan is incomplete; a complete one goes to the neighbourhood search
#: as it is. From complete greedy plans the rounding search gained at most 0.02% there
#: (generated L-0 1,040.94M to 1,040.80M and L-1 1,111.30M to 1,111.26M, in 18-19 s of
#: 120 s on a machine where the build took 4-6 s), while that time raised the full
#: search's bound: L-0, 120 s, with it 1,017.81M and bound 920.28M (the LP's: the full
#: search's 26.5 s proved 887.4M), without it 1,017.95M and 944.40M (37.9 s)...
MID_ROUNDING_SHARE = 0.15
#: ... and the neighbourhood search's share of what is left after it; the full search,
#: hinted with its plan, gets the rest (it raises the bound above the LP's). With 0.3 and
#: 0.6 the full search on generated L-0 had too little time to raise the bound; 0.7 (at
#: `b9fc969`) gave L-0/1/2 the same plans and L-0 a bound of 923.5M against 945.1M.
MID_NEIGHBOURHOOD_SHARE = 0.5
#: The time limit of one neighbourhood's re-plan there (large instances: STEP_S of
#: solver.heuristics.neighbourhood, 5 s). Generated L-0/1/2 at 120 s, 2 workers, the
#: same neighbourhoods in the same order: 10 s 1,034.1 / 1,108.6 / 949.8M; 20 s 1,036.5 /
#: 1,090.2 / 948.2M; 30 s 1,036.5 / 1,090.2 / 949.1M (on L-1 the 20 s steps take the
#: plan from 1,111.3M to 1,090.2M at 54 s; the 10 s steps reach 1,108.6M). Again after
#: the faster greedy planner (`d317b6f`): L-0 at 120 s 1,012.8M with 10 s, 1,007.3M with 20 s.
MID_STEP_S = 20.0
#: Largest model (in eligible decisions) whose proof is completed, when the search ends
#: with a gap and some link has a bandwidth limit, by a search of the widened model with
#: every service counted on a unit finer than the tolerance: the grid allowance of the
#: link rows (two units per flow) that keeps the bound a proof also loosens it (a tiny
#: random instance of tests/test_solve_bruteforce.py: plan 68, the optimum, against a
#: bound of 56 on the coarse unit).
MAX_FINE_PROOF_DECISIONS = 2_000
#: A bound is lowered by this share of its size when it leaves integers (CP-SAT's bound
#: of the rounded-down objective divided by the cost scale), against float rounding in
#: that division and in the float costs of the plan it is compared with.
BOUND_FLOAT_ROOM = 1e-9
#: Least time left for a search on the exact-grid model to be worth starting.
MIN_REPAIR_S = 1.0
#: The shortest time CP-SAT is given, even when the model build used up the limit.
MIN_SOLVE_S = 0.05


class ModelInvalidError(RuntimeError):
    """CP-SAT rejected the model: a bug in infraplan, never a property of the instance."""


class ClaimContradictionError(RuntimeError):
    """Two proofs contradict each other (a proved bound above a checked plan's cost, or
    a plan of an instance proved to have none): a bug in infraplan, raised rather than
    hidden, with the figures."""


def solver_version() -> str:
    """infraplan's and OR-Tools' versions, as recorded in every solution."""
    return _versions()


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

    #: Search in a reproducible order (CP-SAT `interleave_search` with several workers; one
    #: worker's single-thread search is reproducible as it is): same instance, seed and
    #: settings give the same plan whenever the search ends before the wall-time limit.
    deterministic: bool = True
    #: Stop once the proved relative gap is at most this.
    relative_gap: float = 0.0
    #: Print CP-SAT's search log to stdout.
    log_search: bool = False
    #: Extra CP-SAT parameters by name (for experiments; recorded in the solution).
    parameters: dict[str, float | int | bool | str | list[str]] = field(default_factory=dict)
    #: Search the elastic model first (required work may be left out at a penalty), which
    #: always has a plan to improve on, then the strict one if work is still left out. Off
    #: by default: on the generated M family the strict model started from the greedy plan
    #: found better plans in the same time (docs/formulation.md).
    elastic: bool = False
    #: Without a `hint`, start from the greedy planner's plan (possibly incomplete).
    greedy_start: bool = True
    #: Solve the LP relaxation: to guide the greedy start and as a bound when the search
    #: proves less. Off is faster when only a first plan matters (diagnosis checks).
    lp: bool = True
    #: Before the full search, search the model with every replica count limited to the
    #: integers around its LP value (solver.heuristics.rounding); its best plan, when
    #: better than the greedy one, is the full search's hint. Needs `lp`.
    lp_rounding: bool = True
    #: On an instance too large for the LP, improve a complete greedy plan by re-planning
    #: neighbourhoods of it (solver.heuristics.neighbourhood) instead of building the
    #: whole model; no bound is proved then.
    neighbourhood_search: bool = True
    #: With several workers searching reproducibly, the whole model's search on a model
    #: of FULL_SUBSOLVERS_MIN_VARIABLES or more runs CP-SAT's full-problem subsolvers
    #: FULL_SUBSOLVERS only, and from a complete plan (without neighbourhood search) after
    #: an LNS step (LNS_SHARE); off: one search with CP-SAT's default portfolio (as the
    #: monolithic peer of the benchmarks runs).
    tuned_subsolvers: bool = True
    #: Spend search time on the bound: the tuned whole-model search's bound step after
    #: its LNS step. Off for the neighbourhood search's re-plans, whose bound proves
    #: nothing about the whole instance: their LNS step keeps the time (the answer's
    #: bound is then what the LP relaxation and the searches proved on the way).
    prove: bool = True


@dataclass
class _Reporter:
    """Passes improving plans to the caller's progress callback; a plan no better than
    one already reported (the hint CP-SAT starts from, a restricted search's first plan)
    is not reported again."""

    callback: ProgressCallback
    started: float
    best: float = math.inf

    def plan(self, objective: float, bound: float | None) -> None:
        """Report a plan of cost `objective` (in currency) if it improves on the last."""
        if objective < self.best:
            self.best = objective
            self.callback(time.perf_counter() - self.started, objective, bound)


class _ProgressRelay(cp_model.CpSolverSolutionCallback):
    """Reports each improving plan's objective and the bound, in currency, to `reporter`
    (if any), and notes when the last one came; nothing heavier."""

    def __init__(self, reporter: _Reporter | None, scale: float, *, proves: bool = False) -> None:
        super().__init__()
        self._reporter = reporter
        self._scale = scale
        #: Whether the searched model's bound is a bound of the SPEC problem (the widened
        #: model's; a restricted model's bound proves nothing about the SPEC's optimum).
        self._proves = proves
        #: When (perf_counter) the search found its last plan; None before the first.
        self.last_plan_at: float | None = None

    def restricted(self) -> _ProgressRelay:
        """The same reporting for a search of a restricted copy: plans, but no bound."""
        return _ProgressRelay(self._reporter, self._scale, proves=False)

    def on_solution_callback(self) -> None:
        self.last_plan_at = time.perf_counter()
        if self._reporter is None:
            return
        bound = self.best_objective_bound / self._scale if self._proves else None
        self._reporter.plan(self.objective_value / self._scale, bound)


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
    one made for an edited instance. `on_progress(wall_s, objective, bound)` sees
    each improving plan of the search (penalties for left-out work included while
    there are any). Raises ModelInvalidError if CP-SAT rejects the model.

    The search starts from the greedy plan (possibly incomplete) unless a hint is
    given; with `SolveOptions.elastic` it runs on the elastic model first.
    """
    started = time.perf_counter()
    deadline = started + time_limit_s
    options = options or SolveOptions()
    workers = workers or default_workers()
    reporter = _Reporter(on_progress, started) if on_progress else None
    start: Solution | Plan | None = hint
    #: The cheapest complete SPEC plan of the steps before the full search (the greedy
    #: planner's, the rounding search's), returned when the search ends with none better.
    fallback: Plan | None = None
    decisions = _decisions(instance)
    if decisions > MAX_LP_VARIABLES:
        # Too large for the LP that guides the greedy start: plan greedily without the
        # whole model (its build alone may take most of the time), then improve that plan
        # by re-planning neighbourhoods of it, each small enough for the whole pipeline.
        # A caller's hint that is a valid plan of this instance is improved instead. An
        # incomplete greedy plan is the hint of the whole model's search below. The bound
        # is the Lagrangian relaxation's.
        first: Plan | None = None
        bound: float | None = None
        if hint is not None and options.neighbourhood_search:
            first = _valid_plan(instance, hint)
            if first is not None:
                if reporter is not None:
                    reporter.plan(first.objective, None)
                found = lagrangian(instance, first.objective, LAGRANGIAN_SHARE * time_limit_s)
                bound = None if found is None else found.bound
        elif start is None and options.greedy_start:
            start, first, bound = _large_greedy_plans(
                instance, deadline, time_limit_s, reporter, with_bound=options.neighbourhood_search
            )
            fallback = first
            no_time = _time_left(deadline) < _whole_model_s(decisions)
            if first is None and options.neighbourhood_search and no_time:
                return _large_answer(
                    instance, None, bound, seed, time_limit_s, started, workers, options
                )
        if first is not None and options.neighbourhood_search:
            plan = _neighbourhood_search(
                instance, first, deadline, workers, seed, options, reporter, bound
            )
            return _large_answer(
                instance, plan, bound, seed, time_limit_s, started, workers, options
            )
    # The widened model: every SPEC plan (to the SPEC's tolerance) is one of its plans,
    # so its bound and infeasibility are proofs; its plans are checked before they count.
    built = build_model(instance, elastic=options.elastic, widened=True)
    lp_bound: float | None = None
    relaxation: LinearResult | None = None
    if start is None and options.greedy_start:
        # The LP relaxation guides the greedy start and gives a bound to begin with.
        lp_deadline = started + LP_SHARE * time_limit_s
        relaxation = _relaxation(built, lp_deadline) if options.lp else None
        guide = None
        if relaxation is not None and relaxation.status == "optimal":
            lp_bound = relaxation.bound
            guide = Guide.from_lp(built, relaxation)
        budget = GREEDY_SHARE * (deadline - time.perf_counter())
        start = greedy(instance, partial=True, time_limit_s=budget, guide=guide)
        fallback = _greedy_plan(start)
        if fallback is not None and reporter is not None:
            reporter.plan(fallback.objective, lp_bound)
    if start is not None:
        add_hint(built, start)
    relay = _ProgressRelay(reporter, built.scale.factor, proves=True) if reporter else None
    # Time for the steps after the search (LP bound, flow polish) grows with the model,
    # which the build time measures; never more than a tenth of the limit.
    reserve_s = min(RESERVE_SHARE * time_limit_s, 1.0 + 2.0 * built.build_s)
    # Mid-sized instances (several neighbourhoods' worth of decisions): part of the time
    # goes to neighbourhood search before the full search; the rounding search runs
    # there only when the greedy plan is incomplete (the neighbourhood search needs a
    # complete one).
    neighbourhoods = options.neighbourhood_search and decisions >= NEIGHBOURHOOD_MIN_DECISIONS
    rounding = options.lp_rounding and not (neighbourhoods and fallback is not None)
    if rounding and relaxation is not None and relaxation.status == "optimal":
        share = MID_ROUNDING_SHARE if neighbourhoods else ROUNDING_SHARE
        rounded = _rounding_search(
            instance,
            built,
            relaxation.values,
            start,
            deadline - reserve_s,
            workers,
            seed,
            options,
            relay,
            share=share,
        )
        if rounded is not None:
            start, safe = rounded
            add_hint(built, start)
            if safe is not None and (fallback is None or safe.objective < fallback.objective):
                fallback = safe
    replanned = neighbourhoods and fallback is not None
    if replanned and fallback is not None:
        end = time.perf_counter() + MID_NEIGHBOURHOOD_SHARE * (
            deadline - reserve_s - time.perf_counter()
        )
        improved = _neighbourhood_search(
            instance, fallback, end, workers, seed, options, reporter, step_s=MID_STEP_S
        )
        if improved.objective < fallback.objective:
            fallback = start = improved
            add_hint(built, start)
    search = _full_search(
        built,
        deadline - reserve_s,
        workers,
        seed,
        options,
        relay,
        lns_first=_complete(start) and not replanned,
        first_plan=not _complete(start),
    )
    outcome = _outcome(instance, built, search, deadline, lp_bound, use_lp=options.lp)
    left_out = outcome.plan is None or outcome.plan.uses_slack
    if outcome.rejected is not None or (options.elastic and left_out):
        # A plan the evaluator refused (it leant on the widened rows), or an elastic
        # search that left work out: search the restricted model for a SPEC plan.
        outcome = _strict(instance, outcome, deadline, workers, seed, options)
    outcome = _claimed(instance, _at_least(outcome, fallback))
    if options.prove and decisions <= MAX_FINE_PROOF_DECISIONS:
        outcome = _fine_proof(instance, outcome, deadline, workers, seed, options)

    info = _info(
        seed,
        time_limit_s,
        started,
        workers,
        options,
        build_s=round(built.build_s, 3),
        exact=built.exact,
        notes=sorted(set(built.notes.inexact)),
    )
    return _answer(instance, outcome.plan, outcome.status, outcome.bound, info)


def _info(
    seed: int,
    time_limit_s: float,
    started: float,
    workers: int,
    options: SolveOptions,
    *,
    build_s: float | None,
    exact: bool,
    notes: list[str],
) -> SolverInfo:
    """How the plan was made, as every solution records it."""
    return SolverInfo(
        name=SOLVER_NAME,
        version=_versions(),
        seed=seed,
        time_limit_s=time_limit_s,
        wall_s=round(time.perf_counter() - started, 3),
        workers=workers,
        build_s=build_s,
        deterministic=options.deterministic,
        model_exact=exact,
        model_notes=notes,
    )


@dataclass
class _Search:
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


def _search(
    built: BuiltModel,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: _ProgressRelay | None,
    *,
    stall: bool = False,
) -> _Search:
    """Run CP-SAT on a built model until `deadline` (a perf_counter time); with `stall`
    (and a `relay`), also stop once the search has found no better plan for a while
    (`_stop_when_stalled`)."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    if options.parameters.get("stop_after_first_solution"):
        # OR-Tools 9.15 aborts the whole process (`Check failed: solution->size() ==
        # postsolve_mapping.size()`) when an interleaved search of several workers stops
        # at its first plan and that plan is the model's complete, feasible hint: always
        # on generated S-0 with its greedy plan; XL's neighbourhood re-plans hit it in 3
        # runs of 4. One worker (reproducible as it is) does not.
        workers = 1
    params.max_time_in_seconds = max(MIN_SOLVE_S, deadline - time.perf_counter())
    params.num_workers = workers
    params.random_seed = seed
    params.relative_gap_limit = options.relative_gap
    params.log_search_progress = options.log_search
    # One worker searches in one thread, reproducibly as it is; interleaving CP-SAT's
    # portfolio in that thread instead left the rounding search's LP dives too little
    # time each (make demo, 1 worker, 20 s: M-0 148.3M interleaved, 140.5M not).
    if options.deterministic and workers > 1:
        params.interleave_search = True
    for name, value in sorted(options.parameters.items()):
        if isinstance(value, list | tuple):
            field = getattr(params, name)
            field.clear()
            field.extend(value)
        else:
            setattr(params, name, value)
    with _stall_watch(solver, relay) if stall and relay is not None else nullcontext():
        status = solver.solve(built.model, relay)
    if status == cp_model.MODEL_INVALID:
        raise ModelInvalidError(f"CP-SAT rejected the model: {built.model.validate()}")
    has_plan = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    raw_bound = solver.best_objective_bound
    bound = raw_bound / built.scale.factor if math.isfinite(raw_bound) else None
    values = [float(v) for v in solver.response_proto.solution] if has_plan else []
    objective = solver.objective_value / built.scale.factor if has_plan else None
    return _Search(status, values, bound if status != cp_model.INFEASIBLE else None, objective)


@contextmanager
def _stall_watch(solver: cp_model.CpSolver, relay: _ProgressRelay) -> Iterator[None]:
    """While inside, a thread stops `solver`'s search once it stalls (`_stop_when_stalled`)."""
    done = threading.Event()
    watcher = threading.Thread(
        target=_stop_when_stalled, args=(solver, relay, time.perf_counter(), done)
    )
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def _stop_when_stalled(
    solver: cp_model.CpSolver, relay: _ProgressRelay, started: float, done: threading.Event
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


def _full_search(
    built: BuiltModel,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: _ProgressRelay | None,
    *,
    lns_first: bool,
    first_plan: bool = False,
) -> _Search:
    """The whole model's search until `deadline`. With `lns_first` (the model's hint is a
    complete plan), where the search is tuned (`_tuned`), first CP-SAT's
    large-neighbourhood workers alone improve the hinted plan for LNS_SHARE of the time,
    then the full subsolvers, hinted with their plan, raise the bound (unless the LNS
    step proved its plan optimal: presolve alone does on small models). Without
    `SolveOptions.prove` the LNS step has all the time and no bound step follows.

    With `first_plan` (the hint, if any, is not a complete plan), a tuned search first
    looks for a plan by CP-SAT's local search alone (`_first_plan_options`), until its
    first plan or for FIRST_PLAN_SHARE of the time; the LNS step and the bound step
    start from the plan it finds."""
    full = _full_options(built, workers, options)
    tuned = _tuned(built, workers, options)
    first: _Search | None = None
    if first_plan and tuned:
        first_end = time.perf_counter() + FIRST_PLAN_SHARE * (deadline - time.perf_counter())
        first_options = _first_plan_options(options)
        first = _search(built, first_end, workers, seed, first_options, _watch(built, relay))
        if first.status in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            return first
        if first.has_plan:
            hint_solution(built, first.values)
            lns_first = True
    if not lns_first or not tuned:
        return _search(built, deadline, workers, seed, full, relay)
    share = LNS_SHARE if options.prove else 1.0
    lns_end = time.perf_counter() + share * (deadline - time.perf_counter())
    # No bound is reported from this step: with the LNS workers alone it is presolve's.
    watch = _watch(built, relay)
    improved = _search(built, lns_end, workers, seed, _lns_options(options), watch, stall=True)
    if first is not None:
        improved = _combined(first, improved)
    if improved.status == cp_model.OPTIMAL:
        return improved
    if improved.has_plan:
        hint_solution(built, improved.values)
    if not options.prove:
        return improved
    proving = _search(built, deadline, workers, seed, full, relay)
    return _combined(improved, proving)


def _watch(built: BuiltModel, relay: _ProgressRelay | None) -> _ProgressRelay:
    """A relay for a step whose bound is not reported (presolve's only): its plans are."""
    return relay.restricted() if relay is not None else _ProgressRelay(None, built.scale.factor)


def _combined(improved: _Search, proving: _Search) -> _Search:
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
    return _Search(cp_model.FEASIBLE, best.values, bound, best.objective)


@dataclass
class _Outcome:
    status: Status
    bound: float | None
    plan: Plan | None
    #: A plan whose flows could not be made to fit the exact link rows (to repair).
    rejected: Plan | None = None


def _proved(objective: float, bound: float | None) -> bool:
    """Whether a proved `bound` is within the SPEC's 1e-6 of a plan's cost (optimal)."""
    return bound is not None and objective - bound <= PROOF_TOLERANCE * max(1.0, abs(objective))


def _check_bound(bound: float | None, objective: float, source: str) -> None:
    """Raise ClaimContradictionError when a proved bound is above a checked plan's cost
    (beyond the float rounding of the two sums): one of the proofs is wrong."""
    if bound is not None and bound > objective + 1e-12 * max(1.0, abs(objective)):
        raise ClaimContradictionError(
            f"internal error: the {source} bound {bound!r} is above the cost {objective!r} of "
            "a plan the evaluator accepts; please report this instance"
        )


def _outcome(
    instance: Instance,
    built: BuiltModel,
    search: _Search,
    deadline: float,
    lp_bound: float | None = None,
    *,
    use_lp: bool = True,
) -> _Outcome:
    """Map a CP-SAT answer on the widened model to the SPEC's status words, a checked
    plan and a proved bound.

    The widened model's bound (CP-SAT's, or its LP relaxation's safe bound when that is
    higher) is a proved SPEC bound, and its infeasibility a proof. Its plan gets its flows
    re-optimised against the SPEC's own rows (`_polish`) and must pass the evaluator; a
    plan that does not is returned as `rejected` (for a search of the restricted model)."""
    if search.status == cp_model.INFEASIBLE:
        return _Outcome("infeasible", None, None)
    bound = _lowered(search.bound)
    unproved = search.status != cp_model.OPTIMAL
    if lp_bound is None and use_lp and unproved:
        relaxation = _relaxation(built, deadline)
        if relaxation is not None and relaxation.status == "optimal":
            lp_bound = relaxation.bound
    bound = _best_bound(bound, lp_bound)
    if not search.has_plan:
        return _Outcome("unknown", bound, None)
    plan = extract_plan(built, search.values)
    if plan.uses_slack:
        return _Outcome("unknown", bound, plan)
    polished = _polish(instance, plan, deadline)
    checked = None if polished is None else _checked(instance, polished)
    if checked is None:
        return _Outcome("unknown", bound, None, rejected=plan)
    return _Outcome("feasible", bound, checked)


def _polish(instance: Instance, plan: Plan, deadline: float) -> Plan | None:
    """`plan` with its flows and unserved demand re-optimised against the SPEC's own rows
    (solver.flows; to the tolerance when the rows as written admit no routing),
    placements and replicas as they are; None when no routing fits."""
    limit_s = max(1.0, _time_left(deadline))
    flows = cheapest_flows(instance, plan.training, plan.inference, time_limit_s=limit_s)
    if flows is None:
        # Replicas or reads that fit only within the SPEC's tolerance: route to it.
        flows = cheapest_flows(
            instance, plan.training, plan.inference, time_limit_s=limit_s, to_tolerance=True
        )
    if flows is None:
        return None
    routes, unserved = flows
    costs = plan_costs(
        instance, plan.training, plan.unplaced_training, plan.inference, routes, unserved
    )
    return replace(plan, routes=routes, unserved=unserved, costs=costs)


def _checked(instance: Instance, plan: Plan) -> Plan | None:
    """`plan` when the evaluator accepts it as a SPEC plan (its claimed figures aside),
    with the evaluator's own costs; else None."""
    info = SolverInfo(name=SOLVER_NAME, version=_versions(), seed=0, time_limit_s=0, wall_s=0)
    return _valid_plan(instance, plan.solution(instance, "feasible", None, info))


def _claimed(instance: Instance, outcome: _Outcome) -> _Outcome:
    """`outcome` with the status its proofs support, its plan checked by the evaluator
    (and costed by it): `optimal` when the proved bound is within the SPEC's 1e-6 of the
    plan's cost; `infeasible` only from the widened model. Raises
    ClaimContradictionError when the plan fails the evaluator (every path to here checks
    or constructs SPEC plans) or a proved bound lies above its cost."""
    if outcome.status == "infeasible":
        return outcome
    plan = outcome.plan
    if plan is None or plan.uses_slack:
        return _Outcome("unknown", outcome.bound, None)
    plan = _checked(instance, plan)
    if plan is None:
        raise ClaimContradictionError(
            "internal error: the plan to be returned fails the evaluator; "
            "please report this instance"
        )
    _check_bound(outcome.bound, plan.objective, "proved")
    status: Status = "optimal" if _proved(plan.objective, outcome.bound) else "feasible"
    return _Outcome(status, outcome.bound, plan)


def _fine_proof(
    instance: Instance,
    outcome: _Outcome,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> _Outcome:
    """`outcome` with the bound of the widened model on fine units (see
    MAX_FINE_PROOF_DECISIONS), searched for the time left and hinted with the plan, when
    the plan is unproved and some link has a bandwidth limit (else as it is). A cheaper
    plan it finds is taken once checked."""
    plan = outcome.plan
    limited = any(link.bandwidth_gbps is not None for link in instance.links)
    if outcome.status != "feasible" or plan is None or not limited:
        return outcome
    if _time_left(deadline) < MIN_REPAIR_S:
        return outcome
    fine = build_model(instance, widened=True, fine_units=True)
    add_hint(fine, plan)
    search = _search(fine, deadline - 0.5, workers, seed, options, None)
    found = _outcome(instance, fine, search, deadline, use_lp=False)
    if found.status == "infeasible":
        raise ClaimContradictionError(
            f"internal error: the widened model has no plan, but a plan of cost "
            f"{plan.objective!r} passes the evaluator; please report this instance"
        )
    if found.plan is not None and found.plan.objective < plan.objective:
        plan = found.plan
    return _claimed(instance, _Outcome("feasible", _best_bound(outcome.bound, found.bound), plan))


def _lowered(bound: float | None) -> float | None:
    """A bound from integers, lowered by BOUND_FLOAT_ROOM of its size."""
    if bound is None:
        return None
    return bound - BOUND_FLOAT_ROOM * abs(bound)


def _rounding_search(
    instance: Instance,
    built: BuiltModel,
    lp_values: Sequence[float],
    start: Solution | Plan | None,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: _ProgressRelay | None,
    *,
    share: float = ROUNDING_SHARE,
) -> tuple[Plan, Plan | None] | None:
    """The best plan of the model restricted around the LP's values, when it is better
    than `start` (or `start` is incomplete); else None. Returned with the same plan as a
    SPEC plan (its flows polished to the exact link rows on a relaxed-link model), or
    None when its flows cannot be made to fit them.

    Tries the neighbourhoods of ROUNDING_STEPS in turn until one has a plan in its
    time; those widened by the incumbent need `start` to be a complete plan."""
    incumbent = _complete_values(built, start)
    plan: Plan | None = None
    for fix_placements, widened in ROUNDING_STEPS:
        if widened and incumbent is None:
            continue
        restricted = rounding_model(
            built,
            lp_values,
            fix_placements=fix_placements,
            exact_links=ROUNDING_EXACT_LINKS,
            incumbent=incumbent if widened else None,
        )
        if restricted is None:
            continue
        if widened and start is not None:
            add_hint(restricted, start)
        budget_end = time.perf_counter() + share * (deadline - time.perf_counter())
        restricted_relay = relay.restricted() if relay is not None else None
        search = _search(
            restricted, budget_end, workers, seed, _rounding_options(options), restricted_relay
        )
        if search.has_plan:
            plan = extract_plan(built, search.values)
            break
    if plan is None:
        return None
    if (
        isinstance(start, Solution)
        and start.status == "feasible"
        and start.objective is not None
        and start.objective <= plan.objective
    ):
        return None
    if plan.uses_slack:
        return plan, None
    polished = _polish(instance, plan, deadline)
    return plan, None if polished is None else _checked(instance, polished)


def _tuned(built: BuiltModel, workers: int, options: SolveOptions) -> bool:
    """Whether the whole model's search is infraplan's tuned one: several workers
    searching reproducibly (interleaved) on a model of FULL_SUBSOLVERS_MIN_VARIABLES or
    more, unless the options name CP-SAT's subsolvers or ask for its default portfolio
    (`tuned_subsolvers=False`)."""
    return (
        options.deterministic
        and workers > 1
        and options.tuned_subsolvers
        and "subsolvers" not in options.parameters
        and "use_lns_only" not in options.parameters
        and len(built.model.proto.variables) >= FULL_SUBSOLVERS_MIN_VARIABLES
    )


def _full_options(built: BuiltModel, workers: int, options: SolveOptions) -> SolveOptions:
    """`options` for the whole model's search: CP-SAT's full-problem subsolvers are
    FULL_SUBSOLVERS where the search is tuned (`_tuned`)."""
    if not _tuned(built, workers, options):
        return options
    return replace(options, parameters={**options.parameters, "subsolvers": list(FULL_SUBSOLVERS)})


def _first_plan_options(options: SolveOptions) -> SolveOptions:
    """`options` for the first-plan step of the whole model's search (`_full_search`):
    CP-SAT's local search alone, stopping at its first plan."""
    parameters = {**options.parameters, "use_ls_only": True, "stop_after_first_solution": True}
    return replace(options, parameters=parameters)


def _lns_options(options: SolveOptions) -> SolveOptions:
    """`options` for the LNS step of the whole model's search (`_full_search`)."""
    parameters = {
        **options.parameters,
        "use_lns_only": True,
        "lns_initial_deterministic_limit": LNS_DTIME,
    }
    return replace(options, parameters=parameters)


def _rounding_options(options: SolveOptions) -> SolveOptions:
    """`options` with the rounding search's subsolvers, unless they name their own."""
    gap = max(options.relative_gap, ROUNDING_GAP)
    if not ROUNDING_SUBSOLVERS or "subsolvers" in options.parameters:
        return replace(options, relative_gap=gap)
    parameters = {**options.parameters, "subsolvers": list(ROUNDING_SUBSOLVERS)}
    return replace(options, parameters=parameters, relative_gap=gap)


def _complete(start: Solution | Plan | None) -> bool:
    """Whether `start` is a complete SPEC plan (a feasible solution, or a plan that
    leaves no work out)."""
    if isinstance(start, Solution):
        return start.status in ("feasible", "optimal")
    return isinstance(start, Plan) and not start.uses_slack


def _complete_values(built: BuiltModel, start: Solution | Plan | None) -> dict[int, int] | None:
    """The variable values of `start` when it is a complete SPEC plan, else None."""
    return plan_values(built, start) if start is not None and _complete(start) else None


def _relaxation(built: BuiltModel, deadline: float) -> LinearResult | None:
    """The LP relaxation, if it is small enough to be cheap and time is left."""
    remaining = deadline - time.perf_counter()
    if len(built.model.proto.variables) > MAX_LP_VARIABLES or remaining < MIN_LP_S:
        return None
    return solve_linear(built, solver_id=LP_SOLVER, time_limit_s=remaining)


def _strict(
    instance: Instance,
    first: _Outcome,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> _Outcome:
    """Search the restricted model (rows rounded towards the tighter side, link rows
    exact on the rps grid, no work left out), hinted with the first search's plan, for
    the time left, and keep the better of the two plans. Every plan of that model is a
    SPEC plan; it is checked all the same. Plans only: the bound stays the first
    search's (the restricted model's proves nothing)."""
    built = build_model(instance, relax_bandwidth=False)
    start = first.rejected or first.plan
    if start is not None:
        add_hint(built, start)
    search = _search(built, deadline, workers, seed, options, None)
    found = extract_plan(built, search.values) if search.has_plan else None
    checked = None if found is None or found.uses_slack else _checked(instance, found)
    if found is not None and not found.uses_slack and checked is None:
        raise ClaimContradictionError(
            "internal error: a plan of the restricted model fails the evaluator; "
            "please report this instance"
        )
    usable = [p for p in (first.plan, checked) if p is not None and not p.uses_slack]
    if not usable:
        return _Outcome("unknown", first.bound, None)
    return _Outcome("feasible", first.bound, min(usable, key=lambda p: p.objective))


def _large_greedy_plans(
    instance: Instance,
    deadline: float,
    time_limit_s: float,
    reporter: _Reporter | None,
    *,
    with_bound: bool,
) -> tuple[Solution, Plan | None, float | None]:
    """The greedy start of an instance too large for the LP: (the greedy planner's answer,
    possibly incomplete; the cheapest complete plan, if any; the Lagrangian bound).

    The Lagrangian relaxation comes first (`with_bound`), and its prices of contended
    capacity guide the first greedy plan; the unguided greedy plan follows only when that
    one is incomplete, and takes its place. Generated XL-0: unguided 6,328.5M (31 s);
    priced 5,711.8M (32.5 s, after 6 s of the relaxation aiming at a guessed target)."""
    found = lagrangian(instance, None, LAGRANGIAN_SHARE * time_limit_s) if with_bound else None
    bound = None if found is None else found.bound
    answer: Solution | None = None
    first: Plan | None = None
    if found is not None and found.prices:
        answer = greedy(
            instance,
            partial=True,
            # All the time there is: without it there is no plan to improve.
            time_limit_s=max(MIN_SOLVE_S, _time_left(deadline) - NEIGHBOURHOOD_RESERVE_S),
            guide=Guide(capacity_prices=found.prices, placements=found.placements),
            price_weights=(LAGRANGIAN_PRICE_WEIGHT,),
            # Optional jobs after the required ones: the relaxation's shares guide where
            # each job goes, not which optional ones come first (XL-0: 5,680.2M against
            # 5,755.5M with them).
            job_orders=(False,),
        )
        first = _greedy_plan(answer)
    if first is None:
        # No complete priced plan: plan unguided; its answer, complete or not, is returned.
        answer = greedy(
            instance,
            partial=True,
            time_limit_s=min(LARGE_GREEDY_SHARE * time_limit_s, _time_left(deadline)),
        )
        first = _greedy_plan(answer)
    if first is not None and reporter is not None:
        reporter.plan(first.objective, bound)
    assert answer is not None
    return answer, first, bound


def _valid_plan(instance: Instance, solution: Solution) -> Plan | None:
    """`solution`'s plan, costed for `instance`, when it is a complete plan of it that the
    evaluator accepts (its claimed costs aside: it may be a plan of an edited instance);
    else None."""
    if not solution.has_plan:
        return None
    evaluation = evaluate(instance, solution)
    claims = ("status", "bound", "objective", "cost_breakdown")
    if any(v.constraint not in claims for v in evaluation.violations):
        return None
    return Plan.of(solution, costs=evaluation.costs)


def _greedy_plan(solution: Solution) -> Plan | None:
    """The greedy planner's plan, when it is a complete SPEC plan."""
    if solution.status != "feasible":
        return None
    return Plan.of(solution)


def _at_least(outcome: _Outcome, fallback: Plan | None) -> _Outcome:
    """`outcome`, or `fallback` in its place when the search ended with no plan or a
    costlier one (a search can lose its plan when the flows of a relaxed-link model do
    not fit the exact link rows and the repair search runs out of time); the bound
    stays, the status is `_claimed`'s to give. Raises ClaimContradictionError when the
    search proved that no plan exists."""
    if fallback is None:
        return outcome
    if outcome.status == "infeasible":
        raise ClaimContradictionError(
            f"internal error: the widened model has no plan, but a plan of cost "
            f"{fallback.objective!r} was found; please report this instance"
        )
    plan = outcome.plan
    if plan is not None and not plan.uses_slack and plan.objective <= fallback.objective:
        return outcome
    return _Outcome("feasible", outcome.bound, fallback)


def _decisions(instance: Instance) -> int:
    """How many eligible decisions (placements, replica options, routes) the model has:
    about its variable count, known before it is built."""
    eligibility = instance.eligibility
    return sum(
        len(options)
        for table in (eligibility.training, eligibility.replicas, eligibility.routes)
        for options in table.values()
    )


def _neighbourhood_search(
    instance: Instance,
    plan: Plan,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    reporter: _Reporter | None,
    bound: float | None = None,
    *,
    step_s: float = neighbourhood.STEP_S,
) -> Plan:
    """`plan` improved by re-planning neighbourhoods of it with `solve` (at most `step_s`
    each) until `deadline` (each better plan reported with `bound`)."""
    own = replace(options, neighbourhood_search=False, prove=False)

    def replan(residual: Instance, limit_s: float) -> Solution:
        return solve(residual, time_limit_s=limit_s, workers=workers, seed=seed, options=own)

    def report(better: Plan) -> None:
        if reporter is not None:
            reporter.plan(better.objective, bound)

    margin = min(RESERVE_SHARE * (deadline - time.perf_counter()), NEIGHBOURHOOD_RESERVE_S)
    return neighbourhood.improve(
        instance, plan, deadline - margin, replan, seed=seed, on_plan=report, step_s=step_s
    )


def _answer(
    instance: Instance, plan: Plan | None, status: Status, bound: float | None, info: SolverInfo
) -> Solution:
    """The solution of `instance`: `plan`'s, or one without a plan."""
    if plan is None:
        return Solution(
            instance=instance.name,
            instance_sha256=instance.sha256,
            status=status,
            bound=bound,
            solver=info,
        )
    return plan.solution(instance, status, bound, info)


def _large_answer(
    instance: Instance,
    plan: Plan | None,
    bound: float | None,
    seed: int,
    time_limit_s: float,
    started: float,
    workers: int,
    options: SolveOptions,
) -> Solution:
    """The answer on an instance whose whole model is not built, with the Lagrangian
    bound: the neighbourhood search's plan, or none (status `unknown`) when no greedy
    plan was complete and too little time is left to build and search the whole model."""
    status: Status
    if plan is None:
        status = "unknown"
        note = (
            "no complete greedy plan in time, and too little time left to build the whole "
            "model (too large for its LP relaxation); bound from the Lagrangian relaxation "
            "(solver.lagrangian)"
        )
    else:
        checked = _checked(instance, plan)
        if checked is None:
            raise ClaimContradictionError(
                "internal error: the neighbourhood search's plan fails the evaluator; "
                "please report this instance"
            )
        plan = checked
        _check_bound(bound, plan.objective, "Lagrangian")
        status = "optimal" if _proved(plan.objective, bound) else "feasible"
        note = (
            "whole model not built (too large for its LP relaxation): greedy plan improved "
            "by neighbourhood search; bound from the Lagrangian relaxation of inventory, "
            "grid power and cooling (solver.lagrangian)"
        )
    info = _info(
        seed, time_limit_s, started, workers, options, build_s=None, exact=False, notes=[note]
    )
    return _answer(instance, plan, status, bound, info)


def _whole_model_s(decisions: int) -> float:
    """The least time worth building and searching the whole model of an instance with
    `decisions` eligible decisions: WHOLE_MODEL_ROOM times its estimated build."""
    return WHOLE_MODEL_ROOM * BUILD_S_PER_DECISION * decisions


def _time_left(deadline: float) -> float:
    return deadline - time.perf_counter()


def _best_bound(*bounds: float | None) -> float | None:
    known = [b for b in bounds if b is not None]
    return max(known) if known else None
