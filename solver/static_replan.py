"""A static re-plan (SPEC §10 without periods or expansions) through v1's search.

A static instance with `current` is v1 plus three things: move costs, replica start
costs and move budgets. `relaxed_v1` states it as a v1 instance that *relaxes* it:

- a job of `current` pays, at every site other than its current one, its move cost plus
  its checkpoint's egress from the current site, as a `site_costs` entry (SPEC §6), and
  its move cost as (extra) `unplaced_cost` when it is optional; a job with a checkpoint
  may only go where its current site reaches (its `allowed_sites`), as §10 says;
- the move costs of a job moved to another accelerator at its own site, replica start
  costs and the move budgets are left out.

Every plan of the v2 instance is a plan of the v1 one, and costs there at most what it
costs in v2 (the added amounts are rounded down by RELAXATION_MARGIN), so v1's proved
bound and "infeasible" hold for the v2 instance too. v1's plans are only candidates:
each is restated and priced by the v2 evaluator, and counts only once it passes there
(its moves within the budgets). With a budget and a hint (the current plan, from
`replan`) that breaks a limit, before v1's search: a greedy first plan near the hint
(`near_start`, `solver.scheduled.shed`); when it finds none, the whole model's presolve
may prove that the budgets admit no plan (`presolve_proof`); then site neighbourhoods
around where the hint breaks a limit search the v2 restricted model from the greedy's
plan or decisions (`near_search`, `solver.scheduled.site_search`). Under a budget the
LP of the widened whole model, whose rows include the budgets, may prove a bound above
v1's (`budgeted_lp_bound`); after an incident at some sites, where it applies, it
replaces v1's search, and the neighbourhoods search to the end (docs/formulation.md,
"Under a move budget"). When no candidate passes, the search between v1's plan and
`current` (`between_plans`), then the v2 whole model (`solver.scheduled.solve_v2`, the
one that knows the budgets, whatever the instance's size), search for the rest of the
time from the best plan (or v1's, which may break only the budgets), and the answer
keeps the better plan and the larger bound.

Why: v1's search (greedy start, neighbourhood search, LP and Lagrangian bounds) is the
strong one on static instances; the v2 large path ignored `current` and moved half the
jobs of generated M after a demand change (benchmarks/RESULTS.md, "Re-planning").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.scheduled.greedy import decisions
from solver.scheduled.variables import current_training
from solver.search.progress import Reporter, shifted

if TYPE_CHECKING:
    from models import Instance, Solution
    from models.solution import Status
    from solver.evaluation import Evaluation
    from solver.scheduled.model import ScheduledModel
    from solver.scheduled.plan import ScheduledPlan
    from solver.search.options import SolveOptions
    from solver.search.progress import ProgressCallback

#: Relative amount by which the move costs added to the v1 instance are rounded down, so
#: that float rounding can never make the v1 instance dearer than the v2 one.
RELAXATION_MARGIN = 1e-9
#: Share of the time left after v1's search for the search between v1's plan and `current`
#: when v1's plan breaks a budget (`between_plans`); the v2 whole model gets the rest.
BETWEEN_SHARE = 0.6
#: Seconds left at the end of a budgeted re-plan's site neighbourhoods (`near_search`)
#: for pricing the plan.
SITE_RESERVE_S = 1.5
#: The site neighbourhoods run only with SITE_ROOM times the whole model's least time left
#: (`whole_model_s`): on generated M (0.87 s) their first plan came 5-6 s after they
#: started (the model's build, then the first neighbourhood); with less time left they
#: find none, and the time is the whole model's, which can prove that the budgets admit
#: no plan (the grid incident with budgets 5 / 50 at 10 s).
SITE_ROOM = 7.0
#: Share of the time limit after which the site neighbourhoods of a budgeted incident
#: (`near_search`) stop once they have a plan (v1's search and the search between its
#: plan and `current` get the rest); without a plan they go on to the end.
SITE_SHARE = 0.3
#: Share of the time limit v1's search gets after the site neighbourhoods found a plan.
NEAR_V1_SHARE = 0.4
#: Share of the time limit v1's search gets when a move budget is set (the rest goes to
#: the v2 model, which knows the budgets); with no budget v1's search gets all of it.
BUDGETED_V1_SHARE = 0.5


def applies(instance: Instance) -> bool:
    """Whether `instance` is a static re-plan `relaxed_v1` can state (static, with
    `current`, no expansions or supply limits) and too large for the v2 whole model
    (over `MAX_WHOLE_MODEL_DECISIONS` eligible decisions), whose search is exact and
    proves optimality below that size; above it, this path replaces the v2 large path."""
    from solver.scheduled import solve as scheduled

    return (
        instance.is_v2
        and not instance.is_scheduled
        and instance.current is not None
        and not instance.supply_limits
        and not any(site.expansions for site in instance.sites)
        and decisions(instance) > scheduled.MAX_WHOLE_MODEL_DECISIONS
    )


def relaxed_v1(instance: Instance) -> Instance:
    """The v1 instance that relaxes the static re-plan `instance` (module docstring)."""
    from solver.v1_equivalent import as_v1

    where = current_training(instance)
    training = []
    for job in instance.training:
        document = job.model_dump(by_alias=True, exclude_unset=True)
        document.pop("move_cost", None)
        document.pop("checkpoint_gb", None)
        here = where.get(job.id)
        if here is not None:
            site_costs = dict(job.site_costs)
            allowed = None if job.allowed_sites is None else set(job.allowed_sites)
            for site in instance.sites:
                if site.id == here[0]:
                    continue
                added = job.moving_cost
                if job.checkpoint_size_gb > 0:
                    route = instance.paths.route(here[0], site.id)
                    if route is None:
                        if allowed is None:
                            allowed = {s.id for s in instance.sites}
                        allowed.discard(site.id)
                        continue
                    added += job.checkpoint_size_gb * route.egress_per_gb
                if added > 0:
                    site_costs[site.id] = site_costs.get(site.id, 0.0) + _rounded_down(added)
            document["site_costs"] = site_costs
            if allowed is not None:
                document["allowed_sites"] = [s.id for s in instance.sites if s.id in allowed]
            if not job.required and job.moving_cost > 0:
                document["unplaced_cost"] = job.unplaced_cost + _rounded_down(job.moving_cost)
        training.append(document)
    stripped = instance.model_copy(
        update={
            "current": None,
            "moves": None,
            "training": training,  # validated by model_copy
        }
    )
    return as_v1(stripped)


def _rounded_down(amount: float) -> float:
    return amount * (1.0 - RELAXATION_MARGIN)


def solve_static_replan(
    instance: Instance,
    *,
    time_limit_s: float,
    workers: int | None,
    seed: int,
    hint: Solution | None,
    on_progress: ProgressCallback | None,
    options: SolveOptions | None,
) -> Solution:
    """The cheapest plan of a static re-plan `instance` (`applies`), with the claims the
    module docstring explains. `on_progress` sees each plan once it is priced as a plan of
    this instance (v1's search prices plans of the relaxation, whose costs leave out
    what `relaxed_v1` drops, so its own reports are not passed on), with the best proved
    bound known then."""
    from solver.replan import plan_violations, restated
    from solver.scheduled.model import build_model
    from solver.scheduled.solve import (
        PRESOLVE_PROOF_MAX_DECISIONS,
        presolve_proof,
        solve_v2,
        solver_info,
    )
    from solver.search.options import SolveOptions
    from solver.solve import check_bound, proved, search_record, solve, whole_model_s
    from solver.v1_equivalent import as_v1_solution, v2_answer

    started = time.perf_counter()
    reporter = Reporter(on_progress, started) if on_progress is not None else None
    budgeted = instance.moves is not None and (
        instance.moves.max_training_moves is not None
        or instance.moves.max_replica_changes is not None
    )
    deadline = started + time_limit_s
    whole: ScheduledModel | None = None
    stated: Solution | None = None
    checked: Evaluation | None = None
    if budgeted and hint is not None and hint.has_plan:
        stated, checked = restated(instance, hint)
    broken = checked is not None and bool(plan_violations(checked))
    greedy: NearStart | None = None
    if broken and stated is not None and checked is not None:
        # Under a budget the cheapest re-plan stays near `current`: a greedy first plan
        # where the hint (the current plan, from `replan`) breaks a limit, then site
        # neighbourhoods around there (docs/formulation.md).
        greedy = near_start(instance, stated, checked)
    if (
        broken
        and (greedy is None or greedy.plan is None)
        and decisions(instance) <= PRESOLVE_PROOF_MAX_DECISIONS
        and time_limit_s >= SITE_ROOM * whole_model_s(decisions(instance))
    ):
        # An incident under a budget that the greedy could not meet: the budgets may
        # admit no plan at all, which only the whole model knows, and its presolve often
        # proves at once.
        whole = build_model(instance, widened=True)
        settings = options or SolveOptions()
        if presolve_proof(whole, deadline, seed, settings, time_limit_s):
            info = solver_info(whole, seed, time_limit_s, started, 1, settings)
            return v2_answer(instance, None, None, "infeasible", info, started)
    plan: Solution | None = None
    cost = float("inf")
    near = False
    found: ScheduledPlan | None = None
    # The budgets' LP bound (of the whole model, whose rows include them) where it can be
    # solved: it bounds more than v1's relaxation, which leaves the budgets out.
    lp_ready = budgeted and decisions(instance) <= PRESOLVE_PROOF_MAX_DECISIONS
    lp_bound: float | None = None

    def whole_lp_bound() -> float | None:
        nonlocal whole
        whole = whole if whole is not None else build_model(instance, widened=True)
        return budgeted_lp_bound(whole, deadline - SITE_RESERVE_S)

    if greedy is not None and stated is not None:
        room = SITE_ROOM * whole_model_s(decisions(instance))
        # After an incident at a few sites the neighbourhoods around them get the time
        # v1's search would (v1's plan moved 63-68 jobs of generated M's grid incident:
        # far outside budgets of 10 or 16 moves); after demand grew v1's plan is near
        # `current`, and the search between the two reached 146.6M where the
        # neighbourhoods stayed at 150.9M (budgets 10 / 1,000).
        alone = greedy.over and lp_ready
        if alone and greedy.plan is not None:
            # A plan already: the bound first, then the neighbourhoods to the end.
            lp_bound = whole_lp_bound()
        # Else before the bound: to SITE_SHARE of the limit once there is a plan, else
        # to the end (a plan matters more than a bound); the neighbourhoods only with
        # time to build the model and search several of them (generated L's 10 s
        # re-plan overran to 25 s).
        found = near_search(
            instance,
            greedy,
            deadline - SITE_RESERVE_S
            if lp_bound is not None
            else started + SITE_SHARE * time_limit_s,
            deadline - SITE_RESERVE_S,
            workers,
            seed,
            options,
            search=deadline - time.perf_counter() >= room,
        )
        if found is not None and alone and lp_bound is None:
            # The bound, then the neighbourhoods again from their plan to the end (on
            # generated M's grid incident with no training budget they went on from
            # 157.6M to 152.5M where v1's search and the search between its plan and
            # `current` found nothing better in the time).
            lp_bound = whole_lp_bound()
            if lp_bound is not None and deadline - time.perf_counter() >= room:
                again = NearStart(found, found, greedy.centre, True)
                found = near_search(
                    instance,
                    again,
                    deadline - SITE_RESERVE_S,
                    deadline - SITE_RESERVE_S,
                    workers,
                    seed,
                    options,
                    search=True,
                )
        near = found is not None
        if found is not None:
            plan, cost = found.solution(instance, "feasible", None, stated.solver), found.objective
            if reporter is not None:
                reporter.plan(cost, lp_bound)
    left = deadline - time.perf_counter()
    v1_least = SITE_ROOM * whole_model_s(decisions(instance))
    v1_limit = (
        time_limit_s
        if not budgeted
        else min(left, max(NEAR_V1_SHARE * time_limit_s, v1_least))
        if near
        else min(left, BUDGETED_V1_SHARE * time_limit_s)
    )
    v1_hint = None
    if hint is not None and hint.has_plan and not any(e.period for e in hint.inference):
        v1_hint = as_v1_solution(hint) if hint.schema_ != "infraplan-solution/v1" else hint
    if plan is not None:
        # The neighbourhoods' plan is a plan of the relaxation too: v1's search improves
        # it (generated M, demand +20%, 10 / 1,000 at 30 s: v1's own plan cost 164.9M in
        # its 11 s; from the neighbourhoods' 150.92M, 146.35-146.54M, and the re-plan
        # 146.47-146.49M in two runs of four; generated L's grid incident: 1,007.73M ->
        # 1,007.40M at 120 s).
        v1_hint = as_v1_solution(plan)
    relaxed: Solution | None = None
    # With a plan already and too little time for v1's LP, v1 could only return its
    # greedy plan, with no bound or CP-SAT's first one (generated L at 10 s: 2.1 s for
    # nothing; M at 10 s: 1.5 s for a bound of 0, and the limit overrun by 1.2 s). With
    # SITE_ROOM times its build's time it had its bound on M (5 s, 145.6M).
    if not (near and lp_bound is not None) and (not near or v1_limit >= v1_least):
        relaxed = solve(
            relaxed_v1(instance),
            time_limit_s=v1_limit,
            workers=workers,
            seed=seed,
            hint=v1_hint,
            options=options,
        )
    info = relaxed.solver if relaxed is not None else search_record(seed, time_limit_s, workers)
    bound = None if relaxed is None else relaxed.bound
    if lp_bound is not None and (bound is None or lp_bound > bound):
        bound = lp_bound
    if relaxed is not None and relaxed.status == "infeasible":
        # The v1 instance relaxes this one: no plan there, none here.
        return v2_answer(instance, None, None, "infeasible", relaxed.solver, started)
    candidate: Solution | None = None
    if relaxed is not None and relaxed.has_plan:
        candidate, checked = restated(instance, relaxed)
        if not plan_violations(checked) and checked.objective < cost:
            plan, cost = candidate, checked.objective
            if reporter is not None:
                reporter.plan(cost, bound)
    if lp_ready and lp_bound is None:
        tighter = whole_lp_bound()
        if tighter is not None and (bound is None or tighter > bound):
            bound = tighter
            if reporter is not None and plan is not None:
                reporter.plan(cost, bound)
    if (
        (plan is None or near)
        and candidate is not None
        and candidate is not plan
        and budgeted
        and time_limit_s - (time.perf_counter() - started) >= whole_model_s(decisions(instance))
    ):
        # v1's plan breaks only the budgets: the whole model, free only where that plan
        # differs from `current`, finds one within them between the two. After the site
        # neighbourhoods too: with loose budgets (generated M's grid incident, 1,000
        # replica changes, no training budget) it reached 152.2M where they stayed at
        # 174.9M near `current`; they win with tight ones. The rest of the time then.
        left = deadline - time.perf_counter()
        share = left - SITE_RESERVE_S if near else BETWEEN_SHARE * left
        between = between_plans(
            instance,
            candidate,
            time.perf_counter() + share,
            workers,
            seed,
            options,
            incumbent=found if near else None,
        )
        if between is not None and between[1] < cost:
            plan, cost = between
            if reporter is not None:
                reporter.plan(cost, bound)
    left = time_limit_s - (time.perf_counter() - started)
    # The v2 whole model only when there is time to build and search it (its build took
    # 31 s on generated L, where the limit's 10 s were gone).
    room = left >= whole_model_s(decisions(instance))
    # After the site neighbourhoods found a plan, the rest (their reserve) is too short
    # for the whole model of an instance this size: it overran the limit by 3 s on M.
    if room and (plan is None or (budgeted and not proved(cost, bound) and not near)):
        searched = solve_v2(
            instance,
            time_limit_s=max(left, 0.0),
            workers=workers,
            seed=seed,
            # The best checked plan when there is one (a plan of the model: its search
            # starts there), else v1's plan, which may break only the budgets.
            hint=plan if plan is not None else candidate if candidate is not None else hint,
            on_progress=shifted(reporter, 0.0, bound),
            options=options,
            whole_model=True,
            built=whole,
        )
        if searched.status == "infeasible":
            return searched
        if searched.bound is not None and (bound is None or searched.bound > bound):
            bound = searched.bound
        if searched.objective is not None and (plan is None or searched.objective < cost):
            plan, cost = searched, searched.objective
    if plan is not None:
        check_bound(bound, cost, "static re-plan")
    status: Status = "unknown" if plan is None else "optimal" if proved(cost, bound) else "feasible"
    return v2_answer(instance, plan, bound, status, info, started)


def budgeted_lp_bound(whole: ScheduledModel, deadline: float) -> float | None:
    """The LP bound of the widened v2 whole model (`solver.linear.safe_bound` on HiGHS's
    duals: weak duality), whose rows include the move budgets; None when it is not solved
    to optimality by `deadline` (at least MIN_LP_S away) or a row has no linear reading.
    On generated M's grid incident with budgets 10 / 1,000: 150.56M in 1.6 s after a
    1.3 s build, where v1's relaxation (no budgets) proves 145.60M and the whole model's
    CP-SAT search 149.96M after 55 s."""
    from solver.linear import solve_linear
    from solver.solve import LP_SOLVER, MIN_LP_S

    left = deadline - time.perf_counter()
    if left <= MIN_LP_S:
        return None
    try:
        result = solve_linear(
            whole, solver_id=LP_SOLVER, time_limit_s=left if math.isfinite(left) else None
        )
    except ValueError:
        return None
    if result.status != "optimal":
        return None
    return result.bound


def between_plans(
    instance: Instance,
    candidate: Solution,
    deadline: float,
    workers: int | None,
    seed: int,
    options: SolveOptions | None,
    incumbent: ScheduledPlan | None = None,
) -> tuple[Solution, float] | None:
    """A plan within the move budgets on the way from `current` to `candidate` (a plan
    that breaks only the budgets): the v2 restricted model (every plan of which is a
    SPEC plan, checked again here) with the placements of jobs not in `current` fixed to
    `candidate`'s, and each first-period replica count where `candidate` and `current`
    agree; the jobs of `current` and every route stay free (fixing the jobs where the two
    plans agree would keep at a site whose grid was cut the job `candidate` kept there by
    moving many small ones: generated M, no plan within 10 moves). Hinted with
    `candidate`, and its cost; None when it finds none by `deadline`. With an `incumbent`
    (a plan within the budgets), the way from it to `candidate` instead: every placement
    and first-period replica count where the two agree fixed, the search hinted with
    `incumbent` (relaxation-induced neighbourhood search)."""
    from solver.scheduled.check import accepted
    from solver.scheduled.model import add_hint, build_model, extract_plan
    from solver.scheduled.plan import ScheduledPlan
    from solver.scheduled.solve import run
    from solver.scheduled.variables import current_replicas
    from solver.search.options import SolveOptions, default_workers
    from solver.solve import ClaimContradictionError

    start = ScheduledPlan.projected(instance, candidate)
    placed = {t.job: (t.site, t.accelerator) for t in start.training}
    counts = {(g.service, g.site, g.accelerator): g.replicas for g in start.inference}
    where = current_training(instance)
    running = current_replicas(instance)
    restricted = build_model(instance, widened=False)
    model = restricted.model
    if incumbent is not None:
        where = {t.job: (t.site, t.accelerator) for t in incumbent.training}
        running = {(g.service, g.site, g.accelerator): g.replicas for g in incumbent.inference}
    for placement, var in restricted.variables.placement.items():
        here = (placement.site, placement.accelerator)
        job = placement.job
        if incumbent is not None:
            if placed.get(job) == where.get(job):
                model.add(var == int(placed.get(job) == here))
        elif job not in where:
            model.add(var == int(placed.get(job) == here))
    for option, var in restricted.variables.periods[0].replicas.items():
        key = (option.service, option.site, option.accelerator)
        if counts.get(key, 0) == running.get(key, 0):
            model.add(var == counts.get(key, 0))
    add_hint(restricted, start if incumbent is None else incumbent)
    found = run(restricted, deadline, workers or default_workers(), seed, options or SolveOptions())
    if not found.has_plan:
        return None
    plan = accepted(instance, extract_plan(restricted, found.values))
    if plan is None:
        raise ClaimContradictionError(
            "internal error: a plan of the restricted model fails the check; "
            "please report this instance"
        )
    return plan.solution(instance, "feasible", None, candidate.solver), plan.objective


@dataclass(frozen=True, slots=True)
class NearStart:
    """Where the search near the current plan starts (`near_start`)."""

    #: The greedy's plan, when the evaluator accepts it.
    plan: ScheduledPlan | None
    #: The neighbourhoods' start: that plan, else the greedy's decisions, else `current`.
    start: ScheduledPlan | None
    #: The sites the neighbourhoods are centred on.
    centre: set[str]
    #: Whether they are where the current plan breaks a limit (else where demand that
    #: grew is short of room).
    over: bool


def near_start(instance: Instance, stated: Solution, checked: Evaluation) -> NearStart:
    """A greedy first plan near the current plan (`stated` as a plan of `instance`,
    `checked` its evaluation): where it breaks a site's limit, the load of those sites
    shed (`solver.scheduled.shed.shed_load`), the neighbourhoods' centre; where it breaks
    none (demand that grew), replicas added where demand is short (`grow_replicas`), the
    centre the sites that had no room for them."""
    from solver.scheduled.plan import ScheduledPlan
    from solver.scheduled.shed import grow_replicas, shed_load
    from solver.scheduled.site_search import anchor_sites

    anchor = anchor_sites(instance, checked)
    current = ScheduledPlan.projected(instance, stated)
    moves = instance.moves
    changes = None if moves is None else moves.max_replica_changes
    if anchor:
        shed = shed_load(
            instance, current, anchor, None if moves is None else moves.max_training_moves, changes
        )
        return NearStart(shed.plan, shed.plan or shed.nearer or current, anchor, True)
    # No site over a limit: from `current` the neighbourhoods around the short regions
    # were infeasible on generated M.
    grown = grow_replicas(instance, current, changes)
    return NearStart(grown.plan, grown.plan or grown.nearer, grown.crowded, False)


def near_search(
    instance: Instance,
    near: NearStart,
    soft_deadline: float,
    deadline: float,
    workers: int | None,
    seed: int,
    options: SolveOptions | None,
    *,
    search: bool,
) -> ScheduledPlan | None:
    """The best plan from `near`: its greedy plan, and with `search` the site
    neighbourhoods (`solver.scheduled.site_search`) around its centre from its start,
    until `soft_deadline` once there is a plan, else until `deadline`; None when there is
    none."""
    from solver.scheduled.site_search import nearest_sites, site_search
    from solver.search.options import SolveOptions, default_workers

    if not (search and near.centre and near.start is not None):
        return near.plan
    return site_search(
        instance,
        near.start,
        near.centre,
        nearest_sites(instance, near.centre),
        deadline,
        workers or default_workers(),
        seed,
        options or SolveOptions(),
        start_is_plan=near.plan is not None,
        soft_deadline=soft_deadline,
    )
