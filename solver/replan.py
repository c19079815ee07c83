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
