"""Conflicts: sets of limits that cannot all hold, shrunk to minimal sets by deletion.

CP-SAT's sufficient assumptions for infeasibility give a set of limits that conflict (a
core), often with members that are not needed. Deletion makes it minimal: drop one
member, ask again whether the rest conflict; if they do, keep the smaller set (cut to the
new core CP-SAT returns), otherwise the member is needed. Every member of the result is
needed: dropping any one leaves limits that admit a plan.

After a conflict is found its limits are set aside (relaxed) and the search asks again,
so an instance with several independent conflicts gets each named.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import Solution
    from solver.diagnosis.guarded import GuardedModel
    from solver.diagnosis.limits import Limit
    from solver.whatif import Edit


@dataclass(frozen=True)
class FoundConflict:
    """A set of limits that cannot all hold."""

    limits: tuple[Limit, ...]
    #: Every member was shown to be needed (False when a check ran out of time).
    minimal: bool


@dataclass(frozen=True)
class Search:
    """The conflicts found, and whether the limits left over admit a plan."""

    conflicts: list[FoundConflict]
    #: "feasible" (the rest admits a plan), "infeasible" (more conflicts than searched
    #: for), or "unknown" (a check ran out of time).
    rest: str


class Budget:
    """A deadline shared by every solve of one diagnosis, and a cap per solve."""

    def __init__(self, total_s: float, per_check_s: float) -> None:
        self.deadline = time.perf_counter() + total_s
        self.per_check_s = per_check_s

    def left(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline - time.perf_counter())

    def check_s(self) -> float:
        """The time limit of the next solve."""
        return min(self.per_check_s, self.left())

    @property
    def spent(self) -> bool:
        """Whether the deadline has passed (a solve still gets a moment)."""
        return self.left() <= 0.05


#: Decides with a real solve whether a plan exists once some limits are lifted (and,
#: optionally, other edits are applied first): "feasible", "infeasible" or "unknown",
#: with the solution.
PlanCheck = Callable[[set["Limit"], Sequence["Edit"]], tuple[str, "Solution"]]


def find_conflicts(
    guarded: GuardedModel,
    budget: Budget,
    *,
    set_aside: set[Limit],
    max_conflicts: int,
    plan_check: PlanCheck | None = None,
    seed: int = 0,
) -> Search:
    """Find up to `max_conflicts` minimal conflicts among the limits not `set_aside`.

    Whether the limits left admit a plan is asked of the diagnosis model in a quick pass
    first; when that does not settle it, `plan_check` (a real solve, which finds plans of
    big instances far sooner) decides, and a full check names the next conflict."""
    relaxed = set(set_aside)
    conflicts: list[FoundConflict] = []
    while True:
        status, core = _rest(guarded, budget, relaxed, plan_check, seed)
        if status != "infeasible" or len(conflicts) >= max_conflicts:
            return Search(conflicts, status)
        if not core:
            # No guarded limit is to blame (cannot happen with every promise guarded).
            return Search(conflicts, "infeasible")
        limits, minimal = shrink(guarded, core, budget, seed=seed)
        conflicts.append(FoundConflict(tuple(limits), minimal))
        relaxed.update(limits)


def _rest(
    guarded: GuardedModel,
    budget: Budget,
    relaxed: set[Limit],
    plan_check: PlanCheck | None,
    seed: int,
) -> tuple[str, list[Limit]]:
    """Whether the limits not `relaxed` admit a plan, and a core when they do not."""
    enforced = [limit for limit in guarded.limits if limit not in relaxed]
    quick = plan_check is not None
    answer = guarded.check(enforced, time_limit_s=budget.check_s(), seed=seed, quick_only=quick)
    if answer.status == "unknown" and plan_check is not None and not budget.spent:
        if plan_check(relaxed, ())[0] == "feasible":
            return "feasible", []
        answer = guarded.check(enforced, time_limit_s=budget.check_s(), seed=seed)
    return answer.status, answer.core


def shrink(
    guarded: GuardedModel, core: list[Limit], budget: Budget, *, seed: int = 0
) -> tuple[list[Limit], bool]:
    """A minimal conflicting subset of `core` by deletion; also whether minimality was
    shown for every member (a check that runs out of time keeps its member)."""
    members = list(core)
    proved = True
    position = 0
    while position < len(members):
        if budget.spent:
            return members, False
        trial = members[:position] + members[position + 1 :]
        answer = guarded.check(trial, time_limit_s=budget.check_s(), seed=seed)
        if answer.status == "infeasible":
            smaller = set(answer.core) if answer.core else set(trial)
            members = [limit for limit in trial if limit in smaller]
            # Members before `position` were shown needed already; a new core keeps them
            # (dropping one leaves a plan), so the scan resumes where it was.
            position = min(position, len(members))
        else:
            proved = proved and answer.status == "feasible"
            position += 1
    return members, proved
