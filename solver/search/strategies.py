"""The searches `solve` chooses between by instance size, and the extra searches it runs
for a repair or a proof.

Each finds plans (and CP-SAT's bounds) only: `solver.solve` checks every plan with the
evaluator and turns bounds into claims. The whole model's search (`full_search`), the
rounding search around the LP's values (`rounding_search`), the neighbourhood search of a
complete plan (`neighbourhood_search`), the greedy start of instances too large for the
LP (`large_greedy_plans`), and searches of the restricted model (`restricted_search`,
for plans that need no repair) and of the widened model on fine units (`fine_search`,
for a tighter bound). docs/formulation.md, "The search", describes them in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import Solution
from solver.cpsat.model import add_hint, build_model, extract_plan, hint_solution, plan_values
from solver.heuristics import neighbourhood
from solver.heuristics.greedy import Guide, greedy
from solver.heuristics.rounding import rounding_model
from solver.heuristics.training_block import training_block_model
from solver.plan import Plan
from solver.search import runner
from solver.search.progress import ProgressRelay

if TYPE_CHECKING:
    import threading
    from collections.abc import Sequence

    from models import Instance
    from solver.cpsat.model import BuiltModel
    from solver.lagrangian import LagrangianResult
    from solver.search.options import SolveOptions
    from solver.search.progress import Reporter

#: The rounding neighbourhoods tried in turn (docs/tuning.md#rounding_steps).
ROUNDING_STEPS: tuple[tuple[bool, bool], ...] = ((True, True), (True, False), (False, False))
#: State the rounding copy's link rows exactly (docs/tuning.md#rounding_exact_links).
ROUNDING_EXACT_LINKS = True
#: The tuned search's LNS step's share of its time (docs/tuning.md#lns_share).
LNS_SHARE = 0.65
#: The first-plan step's largest share of the search time (docs/tuning.md#first_plan_share).
FIRST_PLAN_SHARE = 0.3
#: Most of the limit for the greedy start of the largest (docs/tuning.md#large_greedy_share).
LARGE_GREEDY_SHARE = 0.6
#: The prices' weight in the priced greedy plan (docs/tuning.md#lagrangian_price_weight).
LAGRANGIAN_PRICE_WEIGHT = 1.0
#: Most seconds kept back from the neighbourhood search for the answer's assembly.
NEIGHBOURHOOD_RESERVE_S = 2.0
#: ... and at most this share of the time left (as solve() keeps after its search).
NEIGHBOURHOOD_RESERVE_SHARE = 0.1

#: `solve` as the neighbourhood search calls it for each re-plan.
Replanner = Callable[..., Solution]


def full_search(
    built: BuiltModel,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: ProgressRelay | None,
    *,
    lns_first: bool,
    first_plan: bool = False,
    stop: threading.Event | None = None,
) -> runner.Search:
    """The whole model's search until `deadline`, or until `stop` is set (the step under
    way stops and no other starts). With `lns_first` (the model's hint is a
    complete plan), where the search is tuned (`runner.tuned`), first CP-SAT's
    large-neighbourhood workers alone improve the hinted plan for LNS_SHARE of the time,
    then the full subsolvers, hinted with their plan, raise the bound (unless the LNS
    step proved its plan optimal: presolve alone does on small models). Without
    `SolveOptions.prove` the LNS step has all the time and no bound step follows.

    With `first_plan` (the hint, if any, is not a complete plan), a tuned search first
    looks for a plan by CP-SAT's local search alone (`runner.first_plan_options`), until
    its first plan or for FIRST_PLAN_SHARE of the time; the LNS step and the bound step
    start from the plan it finds."""
    full = runner.full_options(built, workers, options)
    tuned = runner.tuned(built, workers, options)
    first: runner.Search | None = None
    if first_plan and tuned:
        first_end = time.perf_counter() + FIRST_PLAN_SHARE * (deadline - time.perf_counter())
        first_options = runner.first_plan_options(options)
        first = runner.search(
            built, first_end, workers, seed, first_options, _watch(built, relay), stop=stop
        )
        if first.status in (cp_model.OPTIMAL, cp_model.INFEASIBLE) or _set(stop):
            return first
        if first.has_plan:
            hint_solution(built, first.values)
            lns_first = True
    if not lns_first or not tuned:
        # With `lns_first` the hint is a complete plan: the model has plans.
        return runner.search(
            built, deadline, workers, seed, full, relay, hint_is_plan=lns_first, stop=stop
        )
    share = LNS_SHARE if options.prove else 1.0
    lns_end = time.perf_counter() + share * (deadline - time.perf_counter())
    # No bound is reported from this step: with the LNS workers alone it is presolve's.
    watch = _watch(built, relay)
    lns = runner.lns_options(options)
    improved = runner.search(built, lns_end, workers, seed, lns, watch, stall=True, stop=stop)
    if first is not None:
        improved = runner.combined(first, improved)
    if improved.status == cp_model.OPTIMAL or _set(stop):
        return improved
    if improved.has_plan:
        hint_solution(built, improved.values)
    if not options.prove:
        return improved
    proving = runner.search(
        built, deadline, workers, seed, full, relay, hint_is_plan=improved.has_plan, stop=stop
    )
    return runner.combined(improved, proving)


def _set(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def _watch(built: BuiltModel, relay: ProgressRelay | None) -> ProgressRelay:
    """A relay for a step whose bound is not reported (presolve's only): its plans are."""
    return relay.restricted() if relay is not None else ProgressRelay(None, built.scale.factor)


def rounding_search(
    built: BuiltModel,
    lp_values: Sequence[float],
    start: Solution | Plan | None,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: ProgressRelay | None,
    *,
    share: float,
) -> Plan | None:
    """The best plan of the model restricted around the LP's values, found in `share` of
    the time to `deadline`, when it is better than `start` (or `start` is incomplete);
    else None. The plan is the whole model's (its flows on the model's grid): `solve`
    makes it a SPEC plan, or not, before it counts.

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
        rounding = runner.rounding_options(options)
        # Widened by the incumbent, the copy has the incumbent (its hint) among its plans.
        found = runner.search(
            restricted,
            budget_end,
            workers,
            seed,
            rounding,
            restricted_relay,
            hint_is_plan=widened and start is not None,
        )
        if found.has_plan:
            plan = extract_plan(built, found.values)
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
    return plan


def training_block_search(
    built: BuiltModel,
    start: Plan,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    relay: ProgressRelay | None,
    *,
    share: float,
) -> Plan | None:
    """The best plan of the model with `start`'s replica counts fixed (every training job
    free: solver.heuristics.training_block), searched from `start` for `share` of the time
    to `deadline` (less when CP-SAT proves it optimal); None without one. The plan is the
    whole model's (its flows on the model's grid): `solve` makes it a SPEC plan, or not,
    and compares it with `start`, before it counts."""
    block = training_block_model(built, plan_values(built, start))
    if block is None:
        return None
    add_hint(block, start)
    end = time.perf_counter() + share * (deadline - time.perf_counter())
    watch = relay.restricted() if relay is not None else None
    found = runner.search(block, end, workers, seed, options, watch, hint_is_plan=True)
    return extract_plan(built, found.values) if found.has_plan else None


def complete(start: Solution | Plan | None) -> bool:
    """Whether `start` is a complete SPEC plan (a feasible solution, or a plan that
    leaves no work out)."""
    if isinstance(start, Solution):
        return start.status in ("feasible", "optimal")
    return isinstance(start, Plan) and not start.uses_slack


def _complete_values(built: BuiltModel, start: Solution | Plan | None) -> dict[int, int] | None:
    """The variable values of `start` when it is a complete SPEC plan, else None."""
    return plan_values(built, start) if start is not None and complete(start) else None


def greedy_plan(solution: Solution) -> Plan | None:
    """The greedy planner's plan, when it is a complete SPEC plan."""
    if solution.status != "feasible":
        return None
    return Plan.of(solution)


def large_greedy_plans(
    instance: Instance,
    relaxation: LagrangianResult | None,
    deadline: float,
    time_limit_s: float,
    reporter: Reporter | None,
) -> tuple[Solution, Plan | None]:
    """The greedy start of an instance too large for the LP: (the greedy planner's answer,
    possibly incomplete; the cheapest complete plan, if any), reported with the
    `relaxation`'s bound.

    The Lagrangian `relaxation`'s prices of contended capacity guide the first greedy
    plan; the unguided greedy plan follows only when that one is incomplete (or there is
    no relaxation), and takes its place (docs/tuning.md#lagrangian_price_weight)."""
    bound = None if relaxation is None else relaxation.bound
    answer: Solution | None = None
    first: Plan | None = None
    if relaxation is not None and relaxation.prices:
        answer = greedy(
            instance,
            partial=True,
            # All the time there is: without it there is no plan to improve.
            time_limit_s=max(
                runner.MIN_SOLVE_S, runner.time_left(deadline) - NEIGHBOURHOOD_RESERVE_S
            ),
            guide=Guide(capacity_prices=relaxation.prices, placements=relaxation.placements),
            price_weights=(LAGRANGIAN_PRICE_WEIGHT,),
            # Optional jobs after the required ones (docs/tuning.md#optional-jobs-last).
            job_orders=(False,),
        )
        first = greedy_plan(answer)
    if first is None:
        # No complete priced plan: plan unguided; its answer, complete or not, is returned.
        answer = greedy(
            instance,
            partial=True,
            time_limit_s=min(LARGE_GREEDY_SHARE * time_limit_s, runner.time_left(deadline)),
        )
        first = greedy_plan(answer)
    if first is not None and reporter is not None:
        reporter.plan(first.objective, bound)
    assert answer is not None
    return answer, first


def neighbourhood_search(
    instance: Instance,
    plan: Plan,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    reporter: Reporter | None,
    bound: float | None = None,
    *,
    solve: Replanner,
    step_s: float = neighbourhood.STEP_S,
) -> Plan:
    """`plan` improved by re-planning neighbourhoods of it with `solve` (the entry point,
    passed in: it is the caller; at most `step_s` each, without a bound or neighbourhood
    search of their own) until `deadline` (each better plan reported with `bound`)."""
    # HiGHS on the LP's support runs in the re-plans as in any solve (`rens`, when the
    # step leaves it MIP_MIN_S: L's 20 s steps, not XL's 5 s; docs/tuning.md#rens).
    own = replace(options, neighbourhood_search=False, prove=False, highs=False)

    def replan(residual: Instance, limit_s: float) -> Solution:
        return solve(residual, time_limit_s=limit_s, workers=workers, seed=seed, options=own)

    def report(better: Plan) -> None:
        if reporter is not None:
            reporter.plan(better.objective, bound)

    margin = min(
        NEIGHBOURHOOD_RESERVE_SHARE * (deadline - time.perf_counter()), NEIGHBOURHOOD_RESERVE_S
    )
    return neighbourhood.improve(
        instance, plan, deadline - margin, replan, seed=seed, on_plan=report, step_s=step_s
    )


def restricted_search(
    instance: Instance,
    start: Plan | None,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> Plan | None:
    """The best plan of the restricted model (rows rounded towards the tighter side, link
    rows exact on the rps grid, no work left out) in the time to `deadline`, hinted with
    `start`; None without one. Every plan of that model is a SPEC plan (`solve` checks it
    all the same); its bound proves nothing and is not returned."""
    built = build_model(instance, relax_bandwidth=False)
    if start is not None:
        add_hint(built, start)
    found = runner.search(built, deadline, workers, seed, options, None)
    return extract_plan(built, found.values) if found.has_plan else None


def fine_search(
    instance: Instance,
    plan: Plan,
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
) -> tuple[BuiltModel, runner.Search]:
    """The widened model with every service counted on a unit finer than the tolerance
    (a tighter link allowance, so a tighter bound), searched until half a second before
    `deadline`, hinted with `plan`; with the model, whose plans and bound `solve` reads."""
    fine = build_model(instance, widened=True, fine_units=True)
    add_hint(fine, plan)
    return fine, runner.search(fine, deadline - 0.5, workers, seed, options, None)
