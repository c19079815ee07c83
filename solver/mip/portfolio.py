"""HiGHS on the compact MIP in a thread beside CP-SAT: `HighsRun`.

MathOpt's HiGHS call releases the GIL while HiGHS works (measured: a pure-Python loop in
the main thread ran to its end while HiGHS searched, at the speed the two shared cores
allowed), so the thread costs the main thread one core, not the interpreter. The model is
built in the thread too (about 0.1-0.2 s on M: Python, so that part does share the GIL), and
so is the unguided greedy plan that widens the restriction (0.0-0.7 s on M, Python too).

The run is joined at one point of `solver.solve` (`plan`): what it hands over depends on the
clock only through its deadline, as CP-SAT's searches do. Its `finished` event ends the
CP-SAT search beside it when HiGHS ends first (a restriction proved in a fraction of its
time, or with `widen` the whole MIP after it): that search, like any cut by the wall
clock, then depends on the machine's speed, and so does whether a settled restriction
leaves time for the whole MIP.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ortools.util.python.solve_interrupter import SolveInterrupter

from models import SolverInfo
from solver.heuristics.greedy import greedy
from solver.mip.compact import build_compact
from solver.mip.highs import solve_compact
from solver.mip.plan import plan_solution, start_values
from solver.plan import Plan

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance, ReplicaOption, Solution, TrainingPlacement
    from solver.heuristics.greedy import Guide
    from solver.mip.compact import CompactModel
    from solver.mip.highs import CompactResult

_LOG = logging.getLogger(__name__)

#: The shortest time HiGHS is given once its model is built.
MIN_HIGHS_S = 0.5
#: Least LP value of a decision in the LP's support (`Support`).
SUPPORT_MIN = 1e-6
#: Most of HiGHS's time for the unguided greedy plan that widens its restriction.
UNGUIDED_GREEDY_SHARE = 0.1


@dataclass(frozen=True)
class Support:
    """The decisions an LP relaxation uses: training placements and replica options, each
    as (workload, site, accelerator). HiGHS's search is restricted to them and to the MIP
    start's (`restricted_columns`)."""

    placements: frozenset[tuple[str, str, str]]
    replicas: frozenset[tuple[str, str, str]]

    @classmethod
    def of(cls, guide: Guide) -> Support:
        """The decisions `guide`'s LP gives a value above SUPPORT_MIN."""
        return cls(
            placements=frozenset(
                _placement_key(p) for p, value in guide.placements.items() if value > SUPPORT_MIN
            ),
            replicas=frozenset(
                _replica_key(o) for o, value in guide.replicas.items() if value > SUPPORT_MIN
            ),
        )


def _placement_key(placement: TrainingPlacement) -> tuple[str, str, str]:
    return placement.job, placement.site, placement.accelerator


def _replica_key(option: ReplicaOption) -> tuple[str, str, str]:
    return option.service, option.site, option.accelerator


def restricted_columns(
    model: CompactModel,
    support: Support,
    start: list[float] | None,
    also: Sequence[list[float]] = (),
) -> dict[int, float]:
    """The placement and replica columns fixed at 0 for a search restricted to `support`
    and to the columns `start` (column values, or None) uses: relaxation-enforced
    neighbourhood search (RENS, Berthold 2014), widened by the incumbent so that the MIP
    start stays a plan of the restricted model, and by the columns each plan of `also`
    (column values) uses."""
    unused = [
        column
        for column, p in model.placements.items()
        if _placement_key(p) not in support.placements
    ] + [column for column, o in model.options.items() if _replica_key(o) not in support.replicas]
    plans = ([] if start is None else [start]) + list(also)
    return {column: 0.0 for column in unused if all(plan[column] <= 0.0 for plan in plans)}


class HighsRun:
    """HiGHS on the compact MIP of `instance`, from the MIP start `start` (a complete SPEC
    plan, or None), in a daemon thread until `deadline` (a perf_counter time); with
    `support`, on the restriction of the MIP to it and to the start's decisions
    (`restricted_columns`), and with `unguided` also to those of the greedy plan made
    without the LP's guide, when that plan is complete (planned in the thread, for at
    most UNGUIDED_GREEDY_SHARE of the time). With `widen`, a restriction that HiGHS
    settles (proves its optimum or that it has no plan) with at least MIN_HIGHS_S left is
    followed by the whole MIP from the restriction's plan for the rest of the time
    (`_widened`)."""

    def __init__(
        self,
        instance: Instance,
        start: Plan | None,
        deadline: float,
        seed: int = 0,
        support: Support | None = None,
        *,
        unguided: bool = False,
        widen: bool = False,
    ) -> None:
        self.instance = instance
        self._unguided = unguided
        self._widen = widen
        self.deadline = deadline
        self._start = start
        self._seed = seed
        self._support = support
        self._interrupter = SolveInterrupter()
        self._result: CompactResult | None = None
        self._solution: Solution | None = None
        self._error: BaseException | None = None
        #: Set when the run has ended (its deadline, a proof of its MIP, an error or `stop`).
        self.finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="infraplan-highs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            model = build_compact(self.instance)
            values = None if self._start is None else start_values(model, self._start)
            fixed = None
            if self._support is not None:
                also = [] if not self._unguided else self._unguided_plans(model)
                fixed = restricted_columns(model, self._support, values, also)
            limit_s = max(MIN_HIGHS_S, self.deadline - time.perf_counter())
            result = solve_compact(
                model,
                time_limit_s=limit_s,
                seed=self._seed,
                start=values,
                fixed=fixed,
                interrupter=self._interrupter,
            )
            if fixed and self._widen:
                result = self._widened(model, result, values)
            self._result = result
            _LOG.debug(
                "HiGHS: %s %s after %.1f s (limit %.1f s, start %s)",
                result.status,
                result.objective,
                result.wall_s,
                limit_s,
                None if self._start is None else self._start.objective,
            )
            if result.values is not None:
                info = SolverInfo(
                    name="highs-compact-mip",
                    version="ortools-mathopt",
                    seed=self._seed,
                    time_limit_s=limit_s,
                    wall_s=round(result.wall_s, 3),
                    workers=1,
                )
                self._solution = plan_solution(model, result.values, info)
        except BaseException as error:  # re-raised in the caller's thread by plan()
            self._error = error
        finally:
            self.finished.set()

    def _widened(
        self, model: CompactModel, restricted: CompactResult, start: list[float] | None
    ) -> CompactResult:
        """The whole MIP after its restriction, when HiGHS settled the restriction (its
        optimum, or no plan) with at least MIN_HIGHS_S to its deadline and was not
        stopped: from the restriction's plan (else `start`), for the rest of the time.
        Its answer replaces the restriction's when it has a plan no dearer."""
        left = self.deadline - time.perf_counter()
        settled = restricted.status in ("optimal", "infeasible")
        if not settled or left < MIN_HIGHS_S or self._interrupter.interrupted:
            return restricted
        whole = solve_compact(
            model,
            time_limit_s=left,
            seed=self._seed,
            start=restricted.values if restricted.values is not None else start,
            interrupter=self._interrupter,
        )
        _LOG.debug(
            "HiGHS on the whole MIP after its restriction (%s): %s %s after %.1f s",
            restricted.objective,
            whole.status,
            whole.objective,
            whole.wall_s,
        )
        if whole.values is None or whole.objective is None:
            return restricted
        if restricted.objective is not None and restricted.objective < whole.objective:
            return restricted
        return whole

    def _unguided_plans(self, model: CompactModel) -> list[list[float]]:
        """The column values of the greedy plan made without a guide, if it is complete."""
        limit_s = UNGUIDED_GREEDY_SHARE * max(0.0, self.deadline - time.perf_counter())
        planned = greedy(self.instance, partial=True, time_limit_s=limit_s)
        if planned.status != "feasible":
            return []
        _LOG.debug(
            "HiGHS's restriction also keeps the unguided greedy plan's (%s)", planned.objective
        )
        return [start_values(model, Plan.of(planned))]

    def stop(self) -> None:
        """Ask HiGHS to stop now (it keeps its incumbent)."""
        self._interrupter.interrupt()

    def plan(self) -> Solution | None:
        """Wait for the run to end (at its deadline at the latest) and return its plan as a
        SPEC Solution, status `feasible` and unchecked (None without one). Re-raises an
        error of the thread."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._solution

    @property
    def result(self) -> CompactResult | None:
        """HiGHS's own answer once `plan` has returned (its bound is HiGHS's, not a proof)."""
        return self._result
