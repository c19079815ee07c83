"""Re-planning from a plan that runs now (SPEC §10).

`current_from_solution` turns a plan (of this instance, or of an earlier version of it)
into the instance's `current`: what runs at hour 0. Entries that no longer fit the
instance (ids that are gone, placements that are no longer eligible, jobs that now have
a release hour or predecessors) are dropped, each with a one-line reason, so the caller
can report them. `replan` solves the instance from that current plan, with move budgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import CurrentPlan, CurrentReplicas, CurrentTraining, MoveBudgets
from models.v2_rules import current_training_issue

if TYPE_CHECKING:
    from models import Instance, Solution


@dataclass(frozen=True)
class CurrentProjection:
    """A plan read as `current`, and what of it was dropped (one line each)."""

    current: CurrentPlan
    dropped: list[str]


def current_from_solution(instance: Instance, solution: Solution) -> CurrentProjection:
    """What of `solution` runs at hour 0, as a `current` valid for `instance`.

    Training: placed jobs that start at hour 0 (every placed job of a static plan).
    Inference: the replicas of the plan's first period (the first of the instance's
    periods the plan names; a static plan's only one). Groups of existing services,
    sites and accelerators are kept even when no longer eligible (SPEC §10: they must
    then go to 0)."""
    dropped: list[str] = []
    training: list[CurrentTraining] = []
    for entry in solution.training:
        if entry.start_hour not in (None, 0):
            continue
        where = f"training job {entry.job!r} at {entry.site!r} on {entry.accelerator!r}"
        reason = current_training_issue(instance, entry.job, entry.site, entry.accelerator)
        if reason:
            dropped.append(f"{where}: {reason}")
            continue
        training.append(
            CurrentTraining(job=entry.job, site=entry.site, accelerator=entry.accelerator)
        )
    first = _first_period(instance, solution)
    inference: list[CurrentReplicas] = []
    for group in solution.inference:
        if group.period != first or group.replicas == 0:
            continue
        where = f"replicas of {group.service!r} at {group.site!r} on {group.accelerator!r}"
        missing = _missing_ids(instance, group.service, group.site, group.accelerator)
        if missing:
            dropped.append(f"{where}: {missing}")
            continue
        inference.append(
            CurrentReplicas(
                service=group.service,
                site=group.site,
                accelerator=group.accelerator,
                replicas=group.replicas,
            )
        )
    return CurrentProjection(CurrentPlan(training=training, inference=inference), dropped)


def _first_period(instance: Instance, solution: Solution) -> str | None:
    named = [group.period for group in solution.inference if group.period is not None]
    if not named:
        return None
    order = {period.id: index for index, period in enumerate(instance.periods or [])}
    known = [period for period in named if period in order]
    if known:
        return min(known, key=order.__getitem__)
    return named[0]


def _missing_ids(instance: Instance, service: str, site: str, accelerator: str) -> str:
    if service not in instance.inference_by_id:
        return f"no service {service!r} any more"
    if site not in instance.site_by_id:
        return f"no site {site!r} any more"
    if accelerator not in instance.accelerator_by_id:
        return f"no accelerator {accelerator!r} any more"
    return ""


def with_current(
    instance: Instance,
    current: CurrentPlan,
    *,
    max_training_moves: int | None = None,
    max_replica_changes: int | None = None,
) -> Instance:
    """`instance` as schema v2 with `current` and move budgets set (validated again)."""
    budgets = instance.moves or MoveBudgets()
    if max_training_moves is not None:
        budgets = budgets.model_copy(update={"max_training_moves": max_training_moves})
    if max_replica_changes is not None:
        budgets = budgets.model_copy(update={"max_replica_changes": max_replica_changes})
    update: dict[str, object] = {
        "schema": "infraplan/v2",
        "current": current.model_dump(),
        "moves": None if budgets == MoveBudgets() else budgets.model_dump(),
    }
    return instance.model_copy(update=update)


@dataclass(frozen=True)
class Replan:
    """A re-plan: the instance with `current` set, the plan read as current (and what of
    it was dropped), and the new plan."""

    instance: Instance
    current: Solution
    dropped: list[str]
    solution: Solution
    #: Whether the new plan is the current plan kept as it is (it was no worse than what
    #: the search found in its time).
    kept_current: bool


def replan(
    instance: Instance,
    current: Solution,
    *,
    max_training_moves: int | None = None,
    max_replica_changes: int | None = None,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
) -> Replan:
    """Solve `instance` from the plan `current` runs now (SPEC §10), with move budgets.

    The current plan is the search's first hint; when it is itself a feasible plan of the
    re-plan instance and the search found nothing cheaper, it is what is returned, so a
    re-plan is never worse than keeping the current plan."""
    from solver.solve import solve

    projection = current_from_solution(instance, current)
    edited = with_current(
        instance,
        projection.current,
        max_training_moves=max_training_moves,
        max_replica_changes=max_replica_changes,
    )
    found = solve(
        edited,
        time_limit_s=time_limit_s,
        workers=workers,
        seed=seed,
        hint=current if current.has_plan else None,
    )
    kept = kept_plan(edited, current, found)
    solution = kept if kept is not None else found
    return Replan(edited, current, projection.dropped, solution, kept is not None)


#: Evaluator families about a solution's claims rather than its plan.
_CLAIM_FAMILIES = frozenset({"objective", "cost_breakdown", "bound", "status"})


def kept_plan(instance: Instance, current: Solution, found: Solution) -> Solution | None:
    """The current plan as a plan of `instance`, when it is feasible there and cheaper than
    `found` (or `found` has no plan); else None. Its figures are the evaluator's; the
    bound `found` proved carries over (it bounds every plan of the instance)."""
    from solver.evaluate import evaluate
    from solver.solve import PROOF_TOLERANCE

    if not current.has_plan:
        return None
    candidate = current.model_copy(
        update={
            "schema_": found.schema_,
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "status": "feasible",
            "bound": None,
        }
    )
    checked = evaluate(instance, candidate)
    if any(v.constraint not in _CLAIM_FAMILIES for v in checked.violations):
        return None
    objective = checked.objective
    if found.has_plan and found.objective is not None and found.objective <= objective:
        return None
    bound = found.bound
    proved = bound is not None and objective - bound <= PROOF_TOLERANCE * max(1.0, abs(objective))
    kept = candidate.model_copy(
        update={
            "objective": objective,
            "costs": checked.costs,
            "bound": bound,
            "status": "optimal" if proved else "feasible",
            "solver": found.solver,
        }
    )
    if not evaluate(instance, kept).feasible:
        return None
    return kept
