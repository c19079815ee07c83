"""`solve()`: the one entry point from an instance to a plan (SPEC section 7), and the
bookkeeping that makes each of its claims a proof: a plan counts once its flows come
from the exact flow LP and the evaluator accepts it, a bound only from the widened model
(CP-SAT's, or its LP relaxation's safe bound) or the Lagrangian relaxation, and the
status from those two alone (docs/formulation.md, "Two models").

The searches themselves are in `solver.search`: the strategies chosen by instance size
(`solver.search.strategies`), the CP-SAT runner and its parameters
(`solver.search.runner`), the options (`solver.search.options`) and progress reporting
(`solver.search.progress`). The measurements behind the constants are in docs/tuning.md.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import Solution, SolverInfo
from solver.budget_proof import budget_shortfall
from solver.costs import plan_costs
from solver.cpsat.model import add_hint, build_model, extract_plan, hint_solution
from solver.evaluate import evaluate
from solver.flows import cheapest_flows
from solver.heuristics import neighbourhood
from solver.heuristics.greedy import Guide, greedy
from solver.heuristics.training_block import lp_jobs_left_out
from solver.lagrangian import lagrangian
from solver.linear import LinearResult, solve_linear
from solver.mip.portfolio import HighsRun, Support
from solver.plan import Plan
from solver.search import strategies
from solver.search.options import SolveOptions, default_workers
from solver.search.progress import ProgressCallback, ProgressRelay, Reporter
from solver.search.runner import ModelInvalidError, Search, combined, time_left

if TYPE_CHECKING:
    from collections.abc import Callable

    from models import Instance
    from models.solution import Status
    from solver.cpsat.model import BuiltModel

__all__ = [
    "PROOF_TOLERANCE",
    "SOLVER_NAME",
    "ClaimContradictionError",
    "ModelInvalidError",
    "ProgressCallback",
    "SolveOptions",
    "default_workers",
    "solve",
    "solver_version",
]

_LOG = logging.getLogger(__name__)

#: The solver's name in every solution's `solver` record.
SOLVER_NAME = "infraplan-cpsat"
#: Most of the limit kept for the LP bound, flow polish and repair after the main search.
RESERVE_SHARE = 0.1
#: A plan within this relative distance of a proved bound is optimal (SPEC §7's tolerance).
PROOF_TOLERANCE = 1e-6
#: Most eligible decisions (`_decisions`) for the whole model and its LP relaxation; larger
#: instances take the large path. The LP itself is bounded by time only: its model may hold
#: more variables than decisions (small-L-100: 304,180 for 291,487 decisions).
MAX_WHOLE_DECISIONS = 300_000
#: Least time left for that LP to be tried.
MIN_LP_S = 0.5
#: Most of the limit for the LP that guides the greedy start (docs/tuning.md#lp_share).
LP_SHARE = 0.5
#: The LP solver: HiGHS's dual simplex (docs/tuning.md#lp_solver).
LP_SOLVER = "HIGHS"
#: Most of the time left after the build for the greedy start (docs/tuning.md#greedy_share).
GREEDY_SHARE = 0.25
#: Most of the search time for the rounding search (docs/tuning.md#rounding_share).
ROUNDING_SHARE = 0.7
#: Most of the limit for the Lagrangian bound of the largest (docs/tuning.md#lagrangian_share).
LAGRANGIAN_SHARE = 0.1
#: Build the whole model only with this many builds' time left (docs/tuning.md#whole_model_room).
WHOLE_MODEL_ROOM = 2.0
#: Estimated build seconds per eligible decision (docs/tuning.md#build_s_per_decision).
BUILD_S_PER_DECISION = 4e-5
#: Least decisions for mid-sized neighbourhoods (docs/tuning.md#neighbourhood_min_decisions).
NEIGHBOURHOOD_MIN_DECISIONS = 3 * neighbourhood.NEIGHBOURHOOD_DECISIONS
#: Mid-sized: the rounding search's share, greedy incomplete (docs/tuning.md#mid_rounding_share).
MID_ROUNDING_SHARE = 0.15
#: Most of the time to the full search the training block may take
#: (docs/tuning.md#training_block_share).
TRAINING_BLOCK_SHARE = 0.4
#: Mid-sized: the neighbourhoods' share of the rest (docs/tuning.md#mid_neighbourhood_share).
MID_NEIGHBOURHOOD_SHARE = 0.5
#: Mid-sized: one neighbourhood re-plan's time limit (docs/tuning.md#mid_step_s).
MID_STEP_S = 20.0
#: Largest model given the fine-unit proof search (docs/tuning.md#max_fine_proof_decisions).
MAX_FINE_PROOF_DECISIONS = 2_000
#: Share of its size a bound from integers is lowered by, against float rounding.
BOUND_FLOAT_ROOM = 1e-9
#: Least time left for a search on the exact-grid model to be worth starting.
MIN_REPAIR_S = 1.0
#: Least eligible decisions for HiGHS beside CP-SAT (docs/tuning.md#mip_min_decisions).
MIP_MIN_DECISIONS = 1_000
#: Most eligible decisions for HiGHS beside CP-SAT (docs/tuning.md#mip_min_decisions).
MIP_MAX_DECISIONS = NEIGHBOURHOOD_MIN_DECISIONS
#: HiGHS's share of the search time before it hands over (docs/tuning.md#mip_share).
MIP_SHARE = 0.7
#: Least search time for HiGHS beside CP-SAT to be started (docs/tuning.md#mip_min_decisions).
MIP_MIN_S = 5.0


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
    if instance.is_v2:
        from solver.v1_equivalent import as_v1, as_v1_solution, as_v2_solution, means_v1

        if means_v1(instance):
            # A v2 file that uses no v2 field means what v1 says (SPEC §8): the v1 path,
            # its plan restated as a v2 solution and checked as one.
            answer = as_v2_solution(
                instance,
                solve(
                    as_v1(instance),
                    time_limit_s=time_limit_s,
                    workers=workers,
                    seed=seed,
                    hint=None if hint is None else as_v1_solution(hint),
                    on_progress=on_progress,
                    options=options,
                ),
            )
            if answer.has_plan and not evaluate(instance, answer).feasible:
                raise ClaimContradictionError(
                    "internal error: a v1 plan restated for its v2 instance fails the "
                    "evaluator; please report this instance"
                )
            return answer
        shortfall = budget_shortfall(instance)
        if shortfall is not None:
            from solver.scheduled.plan import no_plan_solution

            # The move budgets cannot shed what the sites over their limits must shed at
            # hour 0: a relaxation's proof, before any model is built.
            info = search_record(seed, time_limit_s, workers, proof=shortfall.message())
            return no_plan_solution(instance, "infeasible", None, info)
        # Schema infraplan/v2 (SPEC §8-§12): the search its fields call for.
        return v2_search(instance)(
            instance,
            time_limit_s=time_limit_s,
            workers=workers,
            seed=seed,
            hint=hint,
            on_progress=on_progress,
            options=options,
        )
    started = time.perf_counter()
    deadline = started + time_limit_s
    options = options or SolveOptions()
    workers = workers or default_workers()
    reporter = Reporter(on_progress, started) if on_progress else None
    # A hint that is not a complete plan of this instance (a plan of an edited one that
    # now breaks a limit or leaves demand short) would take the greedy start's place and
    # start the search from a broken plan: on the demand +20% re-plan of generated M it
    # ended 16.5% above the search without it (benchmarks/RESULTS.md, "Re-planning").
    # Such a hint is dropped; a valid one is improved.
    valid_hint = None if hint is None else _valid_plan(instance, hint)
    if valid_hint is None:
        hint = None
    start: Solution | Plan | None = hint
    #: The cheapest complete SPEC plan of the steps before the full search (the greedy
    #: planner's, the rounding search's), returned when the search ends with none better.
    fallback: Plan | None = None
    decisions = _decisions(instance)
    if decisions > MAX_WHOLE_DECISIONS:
        # Too large for the LP that guides the greedy start: plan greedily without the
        # whole model (its build alone may take most of the time), then improve that plan
        # by re-planning neighbourhoods of it, each small enough for the whole pipeline.
        # A caller's hint that is a valid plan of this instance is improved instead. An
        # incomplete greedy plan is the hint of the whole model's search below. The bound
        # is the Lagrangian relaxation's.
        first: Plan | None = None
        bound: float | None = None
        if hint is not None and options.neighbourhood_search:
            first = valid_hint
            if first is not None:
                if reporter is not None:
                    reporter.plan(first.objective, None)
                found = lagrangian(instance, first.objective, LAGRANGIAN_SHARE * time_limit_s)
                bound = None if found is None else found.bound
        elif start is None and options.greedy_start:
            # The Lagrangian relaxation first: its prices guide the greedy plan.
            found = (
                lagrangian(instance, None, LAGRANGIAN_SHARE * time_limit_s)
                if options.neighbourhood_search
                else None
            )
            bound = None if found is None else found.bound
            start, first = strategies.large_greedy_plans(
                instance, found, deadline, time_limit_s, reporter
            )
            fallback = first
            no_time = time_left(deadline) < whole_model_s(decisions)
            if first is None and options.neighbourhood_search and no_time:
                return _large_answer(
                    instance, None, bound, seed, time_limit_s, started, workers, options
                )
        if first is not None and options.neighbourhood_search:
            plan = strategies.neighbourhood_search(
                instance, first, deadline, workers, seed, options, reporter, bound, solve=solve
            )
            return _large_answer(
                instance, plan, bound, seed, time_limit_s, started, workers, options
            )
    if time_left(deadline) < whole_model_s(decisions):
        # Too little time to build and search the whole model: v1's search of generated
        # L's relaxed re-plan, given 2.7 s, built it for 7 s and ran 9.3 s. The hint
        # when it is a valid plan, else the greedy plan when it is complete; no bound.
        quick: Plan | None = valid_hint
        if quick is None and options.greedy_start:
            quick = strategies.greedy_plan(
                greedy(instance, time_limit_s=max(time_left(deadline), 0.0))
            )
        return _large_answer(
            instance, quick, None, seed, time_limit_s, started, workers, options, short=True
        )
    # The widened model: every SPEC plan (to the SPEC's tolerance) is one of its plans,
    # so its bound and infeasibility are proofs; its plans are checked before they count.
    built = build_model(instance, elastic=options.elastic, widened=True)
    lp_bound: float | None = None
    relaxation: LinearResult | None = None
    guide: Guide | None = None
    #: The decisions the LP uses, for HiGHS on its support (docs/tuning.md#rens).
    support: Support | None = None
    greedy_first = start is None and options.greedy_start
    if options.lp and (greedy_first or start is not None):
        # The LP relaxation guides the greedy start and gives a bound to begin with; for
        # a caller's plan to improve, the bound alone (after the search, in the reserve,
        # it did not finish on generated L's relaxed re-plan, whose answer had a bound of
        # 0 where the LP proves 927.49M).
        relaxation = _relaxation(built, started + LP_SHARE * time_limit_s)
        if relaxation is not None and relaxation.status == "optimal":
            lp_bound = relaxation.bound
            if greedy_first:
                guide = Guide.from_lp(built, relaxation)
            if options.rens:
                support = Support.of(guide or Guide.from_lp(built, relaxation))
    if greedy_first:
        budget = GREEDY_SHARE * (deadline - time.perf_counter())
        start = greedy(instance, partial=True, time_limit_s=budget, guide=guide)
        fallback = strategies.greedy_plan(start)
        if fallback is not None and reporter is not None:
            reporter.plan(fallback.objective, lp_bound)
    if start is not None:
        add_hint(built, start)
    relay = ProgressRelay(reporter, built.scale.factor, proves=True) if reporter else None
    # Time for the steps after the search (LP bound, flow polish) grows with the model,
    # which the build time measures; never more than a tenth of the limit.
    reserve_s = min(RESERVE_SHARE * time_limit_s, 1.0 + 2.0 * built.build_s)
    # Mid-sized instances (several neighbourhoods' worth of decisions): part of the time
    # goes to neighbourhood search before the full search; the rounding search runs
    # there only when the greedy plan is incomplete (the neighbourhood search needs a
    # complete one).
    neighbourhoods = options.neighbourhood_search and decisions >= NEIGHBOURHOOD_MIN_DECISIONS
    rounding = options.lp_rounding and not (neighbourhoods and fallback is not None)
    search_end = deadline - reserve_s
    # HiGHS on the compact MIP beside CP-SAT (solver.mip), on one of the workers' cores,
    # from the greedy plan (or the caller's hint) when it is a complete plan, until
    # MIP_SHARE of the search time; CP-SAT searches with the other workers until then, and
    # then with all of them from the better plan (docs/tuning.md#mip_share). By default
    # the MIP is restricted to the LP's support and the greedy plan's decisions
    # (docs/tuning.md#rens).
    first = fallback if fallback is not None or hint is None else valid_hint
    highs = _highs_run(instance, decisions, workers, options, first, seed, search_end, support)
    cp_workers = workers - 1 if highs is not None else workers
    phase_end = highs.deadline if highs is not None else search_end
    if rounding and relaxation is not None and relaxation.status == "optimal":
        share = MID_ROUNDING_SHARE if neighbourhoods else ROUNDING_SHARE
        rounded = strategies.rounding_search(
            built,
            relaxation.values,
            start,
            phase_end,
            cp_workers,
            seed,
            options,
            relay,
            share=share,
        )
        if rounded is not None:
            # As a SPEC plan: its flows fitted to the exact link rows (None when they
            # cannot be), checked by the evaluator.
            safe = None if rounded.uses_slack else _spec_plan(instance, rounded, search_end)
            start = rounded
            add_hint(built, start)
            if safe is not None and (fallback is None or safe.objective < fallback.objective):
                fallback = safe
    if (
        options.training_block
        and fallback is not None
        and not neighbourhoods
        and guide is not None
        and lp_jobs_left_out(fallback, guide)
    ):
        # The plan leaves out a job the LP places: every training job re-placed at once
        # around the plan's inference (solver.heuristics.training_block;
        # docs/tuning.md#training_block_share).
        blocked = strategies.training_block_search(
            built,
            fallback,
            phase_end,
            cp_workers,
            seed,
            options,
            relay,
            share=TRAINING_BLOCK_SHARE,
        )
        safe = None if blocked is None else _spec_plan(instance, blocked, search_end)
        if safe is not None and safe.objective < fallback.objective:
            fallback = start = safe
            add_hint(built, start)
    replanned = neighbourhoods and fallback is not None
    if replanned and fallback is not None:
        end = time.perf_counter() + MID_NEIGHBOURHOOD_SHARE * (
            deadline - reserve_s - time.perf_counter()
        )
        improved = strategies.neighbourhood_search(
            instance,
            fallback,
            end,
            workers,
            seed,
            options,
            reporter,
            solve=solve,
            step_s=MID_STEP_S,
        )
        if improved.objective < fallback.objective:
            fallback = start = improved
            add_hint(built, start)
    early: Search | None = None
    if highs is not None:
        _LOG.debug(
            "search beside HiGHS: %.1f s to its hand-over, %.1f s to the end; start %s",
            highs.deadline - time.perf_counter(),
            search_end - time.perf_counter(),
            None if start is None or not strategies.complete(start) else "complete",
        )
        early, handed = _beside_highs(
            instance, built, highs, start, cp_workers, seed, options, relay, search_end
        )
        if early.has_plan:
            hint_solution(built, early.values)
            start = extract_plan(built, early.values)
        if handed is not None and (fallback is None or handed.objective < fallback.objective):
            fallback = handed
            if reporter is not None:
                reporter.plan(handed.objective, None)
            if early.objective is None or handed.objective < early.objective:
                start = handed
                add_hint(built, start)
    if early is not None and early.status in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
        search = early
    else:
        search = strategies.full_search(
            built,
            search_end,
            workers,
            seed,
            options,
            relay,
            lns_first=strategies.complete(start) and not replanned,
            first_plan=not strategies.complete(start),
        )
        if early is not None:
            search = combined(early, search)
    # An LP that ran out of its share before the search will not finish in the reserve.
    tried_lp = relaxation is not None
    outcome = _outcome(
        instance, built, search, deadline, lp_bound, use_lp=options.lp and not tried_lp
    )
    left_out = outcome.plan is None or outcome.plan.uses_slack
    if outcome.rejected is not None or (options.elastic and left_out):
        # A plan the evaluator refused (it leant on the widened rows), or an elastic
        # search that left work out: search the restricted model for a SPEC plan.
        outcome = _repaired(instance, outcome, deadline, workers, seed, options)
    outcome = _claimed(instance, at_least(outcome, fallback))
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


def search_record(seed: int, time_limit_s: float, workers: int | None, **extra: str) -> SolverInfo:
    """The solver record of an answer given before any model was built (its wall time is
    the caller's to set), with `extra` fields (such as the reason for `infeasible`)."""
    fields: dict[str, object] = {
        "name": SOLVER_NAME,
        "version": solver_version(),
        "seed": seed,
        "time_limit_s": time_limit_s,
        "wall_s": 0.0,
        "workers": workers or default_workers(),
    }
    return SolverInfo.model_validate(fields | extra)


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
class Outcome:
    """A search's answer on its way to the claims: the status its proofs support so far,
    the proved bound, and the plan (checked once it is claimed)."""

    status: Status
    bound: float | None
    plan: Plan | None
    #: A plan whose flows could not be made to fit the exact link rows (to repair).
    rejected: Plan | None = None


def v2_search(instance: Instance) -> Callable[..., Solution]:
    """The search for a v2 instance that uses v2 fields: above the whole v2 model's size,
    a static re-plan goes through v1's search on the v1 instance that relaxes it
    (`solver.static_replan`), a static instance with expansions through v1's search with
    every expansion free and with those its plan needs (`solver.static_expansion`);
    everything else to the v2 model and its claims (`solver.scheduled.solve_v2`)."""
    from solver import static_expansion, static_replan
    from solver.scheduled.solve import solve_v2

    if static_replan.applies(instance):
        return static_replan.solve_static_replan
    if static_expansion.applies(instance):
        return static_expansion.solve_static_expansion
    return solve_v2


def proved(objective: float, bound: float | None) -> bool:
    """Whether a proved `bound` is within the SPEC's 1e-6 of a plan's cost (optimal)."""
    return bound is not None and objective - bound <= PROOF_TOLERANCE * max(1.0, abs(objective))


def check_bound(bound: float | None, objective: float, source: str) -> None:
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
    search: Search,
    deadline: float,
    lp_bound: float | None = None,
    *,
    use_lp: bool = True,
) -> Outcome:
    """Map a CP-SAT answer on the widened model to the SPEC's status words, a checked
    plan and a proved bound.

    The widened model's bound (CP-SAT's, or its LP relaxation's safe bound when that is
    higher) is a proved SPEC bound, and its infeasibility a proof. Its plan gets its flows
    re-optimised against the SPEC's own rows (`_polish`) and must pass the evaluator; a
    plan that does not is returned as `rejected` (for a search of the restricted model)."""
    if search.status == cp_model.INFEASIBLE:
        return Outcome("infeasible", None, None)
    bound = lowered_bound(search.bound)
    unproved = search.status != cp_model.OPTIMAL
    if lp_bound is None and use_lp and unproved:
        relaxation = _relaxation(built, deadline)
        if relaxation is not None and relaxation.status == "optimal":
            lp_bound = relaxation.bound
    bound = _best_bound(bound, lp_bound)
    if not search.has_plan:
        return Outcome("unknown", bound, None)
    plan = extract_plan(built, search.values)
    if plan.uses_slack:
        return Outcome("unknown", bound, plan)
    checked = _spec_plan(instance, plan, deadline)
    if checked is None:
        return Outcome("unknown", bound, None, rejected=plan)
    return Outcome("feasible", bound, checked)


def _spec_plan(instance: Instance, plan: Plan, deadline: float) -> Plan | None:
    """`plan` as a SPEC plan: its flows re-optimised (`_polish`), then accepted by the
    evaluator and costed by it (`_checked`); None when either fails."""
    polished = _polish(instance, plan, deadline)
    return None if polished is None else _checked(instance, polished)


def _polish(instance: Instance, plan: Plan, deadline: float) -> Plan | None:
    """`plan` with its flows and unserved demand re-optimised against the SPEC's own rows
    (solver.flows; to the tolerance when the rows as written admit no routing),
    placements and replicas as they are; None when no routing fits."""
    limit_s = max(1.0, time_left(deadline))
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


def _claimed(instance: Instance, outcome: Outcome) -> Outcome:
    """`outcome` with the status its proofs support, its plan checked by the evaluator
    (and costed by it): `optimal` when the proved bound is within the SPEC's 1e-6 of the
    plan's cost; `infeasible` only from the widened model. Raises
    ClaimContradictionError when the plan fails the evaluator (every path to here checks
    or constructs SPEC plans) or a proved bound lies above its cost."""
    if outcome.status == "infeasible":
        return outcome
    plan = outcome.plan
    if plan is None or plan.uses_slack:
        return Outcome("unknown", outcome.bound, None)
    plan = _checked(instance, plan)
    if plan is None:
        raise ClaimContradictionError(
            "internal error: the plan to be returned fails the evaluator; "
            "please report this instance"
        )
    check_bound(outcome.bound, plan.objective, "proved")
    status: Status = "optimal" if proved(plan.objective, outcome.bound) else "feasible"
    return Outcome(status, outcome.bound, plan)


def _fine_proof(
    instance: Instance,
    outcome: Outcome,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> Outcome:
    """`outcome` with the bound of the widened model on fine units
    (`strategies.fine_search`, see MAX_FINE_PROOF_DECISIONS), searched for the time left
    and hinted with the plan, when the plan is unproved and some link has a bandwidth
    limit (else as it is). A cheaper plan it finds is taken once checked."""
    plan = outcome.plan
    limited = any(link.bandwidth_gbps is not None for link in instance.links)
    if outcome.status != "feasible" or plan is None or not limited:
        return outcome
    if time_left(deadline) < MIN_REPAIR_S:
        return outcome
    fine, search = strategies.fine_search(instance, plan, deadline, workers, seed, options)
    found = _outcome(instance, fine, search, deadline, use_lp=False)
    if found.status == "infeasible":
        raise ClaimContradictionError(
            f"internal error: the widened model has no plan, but a plan of cost "
            f"{plan.objective!r} passes the evaluator; please report this instance"
        )
    if found.plan is not None and found.plan.objective < plan.objective:
        plan = found.plan
    return _claimed(instance, Outcome("feasible", _best_bound(outcome.bound, found.bound), plan))


def lowered_bound(bound: float | None) -> float | None:
    """A bound from integers (CP-SAT's bound of the rounded-down objective divided by the
    cost scale), lowered by BOUND_FLOAT_ROOM of its size against float rounding in that
    division and in the float costs of the plan it is compared with."""
    if bound is None:
        return None
    return bound - BOUND_FLOAT_ROOM * abs(bound)


def _relaxation(built: BuiltModel, deadline: float) -> LinearResult | None:
    """The LP relaxation, if time is left (the whole model is built only for instances
    with at most MAX_WHOLE_DECISIONS decisions)."""
    remaining = deadline - time.perf_counter()
    if remaining < MIN_LP_S:
        return None
    return solve_linear(built, solver_id=LP_SOLVER, time_limit_s=remaining)


def _repaired(
    instance: Instance,
    first: Outcome,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> Outcome:
    """Search the restricted model (`strategies.restricted_search`), hinted with the first
    search's plan, for the time left, and keep the better of the two plans. Every plan of
    that model is a SPEC plan; it is checked all the same. Plans only: the bound stays the
    first search's (the restricted model's proves nothing)."""
    start = first.rejected or first.plan
    found = strategies.restricted_search(instance, start, deadline, workers, seed, options)
    checked = None if found is None or found.uses_slack else _checked(instance, found)
    if found is not None and not found.uses_slack and checked is None:
        raise ClaimContradictionError(
            "internal error: a plan of the restricted model fails the evaluator; "
            "please report this instance"
        )
    usable = [p for p in (first.plan, checked) if p is not None and not p.uses_slack]
    if not usable:
        return Outcome("unknown", first.bound, None)
    return Outcome("feasible", first.bound, min(usable, key=lambda p: p.objective))


def at_least(outcome: Outcome, fallback: Plan | None) -> Outcome:
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
    return Outcome("feasible", outcome.bound, fallback)


def _decisions(instance: Instance) -> int:
    """How many eligible decisions (placements, replica options, routes) the model has:
    about its variable count, known before it is built."""
    eligibility = instance.eligibility
    return sum(
        len(options)
        for table in (eligibility.training, eligibility.replicas, eligibility.routes)
        for options in table.values()
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
    *,
    short: bool = False,
) -> Solution:
    """The answer on an instance whose whole model is not built, with the Lagrangian
    bound: the neighbourhood search's plan, or none (status `unknown`) when no greedy
    plan was complete and too little time is left to build and search the whole model.
    With `short`, the model was not built for want of time alone: the hint or greedy
    plan, without a bound."""
    if short:
        note = "too little time to build and search the whole model: " + (
            "no complete greedy plan, no bound"
            if plan is None
            else "the hint or the greedy plan, no bound"
        )
    elif plan is None:
        note = (
            "no complete greedy plan in time, and too little time left to build the whole "
            "model (too large for its LP relaxation); bound from the Lagrangian relaxation "
            "(solver.lagrangian)"
        )
    else:
        note = (
            "whole model not built (too large for its LP relaxation): greedy plan improved "
            "by neighbourhood search; bound from the Lagrangian relaxation of inventory, "
            "grid power and cooling (solver.lagrangian)"
        )
    status: Status
    if plan is None:
        status = "unknown"
    else:
        checked = _checked(instance, plan)
        if checked is None:
            raise ClaimContradictionError(
                "internal error: the neighbourhood search's plan fails the evaluator; "
                "please report this instance"
            )
        plan = checked
        check_bound(bound, plan.objective, "Lagrangian")
        status = "optimal" if proved(plan.objective, bound) else "feasible"
    info = _info(
        seed, time_limit_s, started, workers, options, build_s=None, exact=False, notes=[note]
    )
    return _answer(instance, plan, status, bound, info)


def _highs_run(
    instance: Instance,
    decisions: int,
    workers: int,
    options: SolveOptions,
    start: Plan | None,
    seed: int,
    search_end: float,
    support: Support | None = None,
) -> HighsRun | None:
    """HiGHS on the compact MIP (solver.mip), started now in a thread from `start` (a
    complete SPEC plan, its MIP start, or None) until MIP_SHARE of the time to
    `search_end`, on an instance of MIP_MIN_DECISIONS to MIP_MAX_DECISIONS eligible
    decisions: the whole MIP with `SolveOptions.highs`; else, with `SolveOptions.rens` and
    the LP's `support`, the MIP restricted to it and to the start's decisions
    (solver.mip.portfolio.restricted_columns). None (not started) otherwise, with one
    worker (it takes one of them) or with less than MIP_MIN_S of search time."""
    now = time.perf_counter()
    if workers < 2 or search_end - now < MIP_MIN_S:
        return None
    if not MIP_MIN_DECISIONS <= decisions < MIP_MAX_DECISIONS:
        return None
    end = now + MIP_SHARE * (search_end - now)
    if options.highs:
        return HighsRun(instance, start, end, seed)
    if not options.rens or support is None:
        return None
    return HighsRun(
        instance,
        start,
        end,
        seed,
        support=support,
        unguided=options.rens_unguided,
        widen=options.rens_whole,
    )


def _beside_highs(
    instance: Instance,
    built: BuiltModel,
    highs: HighsRun,
    start: Solution | Plan | None,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: ProgressRelay | None,
    search_end: float,
) -> tuple[Search, Plan | None]:
    """The whole model's search with `workers` until `highs` hands over (at its deadline,
    or sooner when HiGHS ends sooner: a restricted MIP is often solved in a fraction of its
    time, and CP-SAT then gets HiGHS's worker back; the search is then stopped once it has
    a plan, or not started when HiGHS has already ended), then HiGHS's plan as a SPEC plan:
    its flows from the exact flow LP, accepted by the evaluator (None when it has none, or
    when either step refuses it). HiGHS is stopped early when the search proves its answer
    (optimal or infeasible): its plan is then not needed. HiGHS's bound is never used."""
    if workers == 1:
        # One core: CP-SAT's subsolvers interleaved on it (LNS included), as with several.
        options = replace(options, parameters={"interleave_search": True, **options.parameters})
    try:
        if highs.finished.is_set():
            # HiGHS ended before this search began (a restriction proved at once): every
            # worker searches after the hand-over; no search is stopped half-way.
            early = Search(cp_model.UNKNOWN, [], None)
        else:
            early = strategies.full_search(
                built,
                highs.deadline,
                workers,
                seed,
                options,
                relay,
                lns_first=strategies.complete(start),
                first_plan=not strategies.complete(start),
                stop=highs.finished,
            )
        if early.status in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            highs.stop()
            highs.plan()
            return early, None
        _LOG.debug(
            "CP-SAT beside HiGHS: status %s, plan %s, %.1f s before the hand-over",
            early.status,
            early.objective,
            highs.deadline - time.perf_counter(),
        )
        found = highs.plan()
    finally:
        highs.stop()
    handed = None if found is None else _spec_plan(instance, Plan.of(found), search_end)
    _LOG.debug(
        "HiGHS hands over at %.1f s to go: CP-SAT %s, HiGHS %s (%s), checked %s",
        search_end - time.perf_counter(),
        early.objective,
        None if found is None else found.objective,
        None if highs.result is None else highs.result.status,
        None if handed is None else handed.objective,
    )
    return early, handed


def whole_model_s(decisions: int) -> float:
    """The least time worth building and searching the whole model of an instance with
    `decisions` eligible decisions: WHOLE_MODEL_ROOM times its estimated build."""
    return WHOLE_MODEL_ROOM * BUILD_S_PER_DECISION * decisions


def _best_bound(*bounds: float | None) -> float | None:
    known = [b for b in bounds if b is not None]
    return max(known) if known else None
