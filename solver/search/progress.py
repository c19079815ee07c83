"""Progress reporting: each improving plan passed on to the caller's `on_progress`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

#: on_progress(wall seconds since the call began, objective, bound) per improving plan.
ProgressCallback = Callable[[float, float, float | None], None]


@dataclass
class Reporter:
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


class ProgressRelay(cp_model.CpSolverSolutionCallback):
    """Reports each improving plan's objective and the bound, in currency, to `reporter`
    (if any), and notes when the last one came (for the stall watch of
    `solver.search.runner.search`); nothing heavier."""

    def __init__(self, reporter: Reporter | None, scale: float, *, proves: bool = False) -> None:
        super().__init__()
        self._reporter = reporter
        self._scale = scale
        #: Whether the searched model's bound is a bound of the SPEC problem (the widened
        #: model's; a restricted model's bound proves nothing about the SPEC's optimum).
        self._proves = proves
        #: When (perf_counter) the search found its last plan; None before the first.
        self.last_plan_at: float | None = None

    def restricted(self) -> ProgressRelay:
        """The same reporting for a search of a restricted copy: plans, but no bound."""
        return ProgressRelay(self._reporter, self._scale, proves=False)

    def on_solution_callback(self) -> None:
        self.last_plan_at = time.perf_counter()
        if self._reporter is None:
            return
        bound = self.best_objective_bound / self._scale if self._proves else None
        self._reporter.plan(self.objective_value / self._scale, bound)


def shifted(
    reporter: Reporter | None, extra_cost: float, bound: float | None
) -> ProgressCallback | None:
    """A callback for a search of another instance inside a larger one (v1's search in
    `solver.static_expansion`): its plans reach `reporter` (timed from the whole search's
    start, improving plans only) at their cost plus `extra_cost`, what the larger
    instance adds to each of them, with `bound`, a proof for the larger instance, in
    place of the inner search's own bound, which proves nothing about it."""
    if reporter is None:
        return None

    def report(_elapsed: float, objective: float, _inner_bound: float | None) -> None:
        reporter.plan(objective + extra_cost, bound)

    return report
