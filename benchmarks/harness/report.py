"""Figures derived from raw run records: best known bounds, gaps, times to a gap, medians.

The gap of a plan is (objective - best bound) / |objective|, where the best bound
of an instance is the largest proved lower bound any run found for it: the LP
relaxation's or any method's own. It is known only once every method ran, so
every figure here is computed from the stored records, never during a run.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.harness.methods import METHODS, TRACED_METHODS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from benchmarks.harness.records import RunRecord

#: The gap whose time-to-reach is reported.
TARGET_GAP = 0.01
#: Relative slack when checking that no bound exceeds a plan's objective.
BOUND_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Row:
    """One run with the figures that need the instance's best known bound."""

    record: RunRecord
    best_bound: float | None
    #: Gap to the best bound (inf without a plan, None without a bound).
    gap: float | None
    time_to_first_plan_s: float | None
    #: Seconds to a plan within TARGET_GAP of the best bound (None: not reached).
    time_to_target_gap_s: float | None


@dataclass(frozen=True)
class Summary:
    """Medians of one method over the instances of one family at one time limit."""

    family: str
    time_limit_s: float
    method: str
    runs: int
    #: Runs whose plan the evaluator accepts.
    accepted: int
    median_gap: float | None
    median_first_plan_s: float | None
    median_target_gap_s: float | None
    median_wall_s: float | None
    max_build_s: float | None
    max_peak_rss_mb: float | None


def relative_gap(objective: float, bound: float) -> float:
    """(objective - bound) / |objective| (0 for a zero objective). Negative when the bound
    is above the plan: a contradiction (`bound_conflicts` names it), never clipped."""
    if objective == 0:
        return 0.0
    return (objective - bound) / abs(objective)


def best_bounds(records: Iterable[RunRecord]) -> dict[str, float | None]:
    """Per instance, the largest proved lower bound any finished run found."""
    bounds: dict[str, float | None] = {}
    for record in records:
        bounds.setdefault(record.instance, None)
        if record.outcome != "finished" or record.bound is None:
            continue
        if not math.isfinite(record.bound):
            continue
        known = bounds[record.instance]
        bounds[record.instance] = record.bound if known is None else max(known, record.bound)
    return bounds


def bound_conflicts(records: Iterable[RunRecord]) -> list[str]:
    """Plans cheaper than some proved bound of their instance: each is a bug somewhere."""
    records = list(records)
    bounds = best_bounds(records)
    conflicts = []
    for record in records:
        bound = bounds.get(record.instance)
        if not record.has_plan or bound is None or record.objective is None:
            continue
        if record.objective < bound - BOUND_TOLERANCE * max(1.0, abs(bound)):
            conflicts.append(
                f"{record.instance} {record.method} @{record.time_limit_s:g}s: objective "
                f"{record.objective:,.2f} is below the best proved bound {bound:,.2f}"
            )
    return conflicts


def accepted_plan(record: RunRecord) -> bool:
    """Whether the run has a plan the evaluator accepts."""
    return record.has_plan and record.evaluator_accepts is True


def time_to_gap(record: RunRecord, best_bound: float | None, target: float) -> float | None:
    """Seconds until the run held a plan within `target` of `best_bound` (None if never).

    Traced methods: the first improving plan that close, else the final plan at the
    run's wall time; others: the final plan at the wall time."""
    if best_bound is None or not accepted_plan(record) or record.objective is None:
        return None
    if record.method in TRACED_METHODS:
        for wall_s, objective, _ in record.progress:
            if relative_gap(objective, best_bound) <= target:
                return wall_s
    if relative_gap(record.objective, best_bound) <= target:
        return record.wall_s
    return None


def time_to_first_plan(record: RunRecord) -> float | None:
    """Seconds until the run's first plan: the first improving plan reported by a traced
    method, else the wall time; None when the run ends without an accepted plan."""
    if not accepted_plan(record):
        return None
    if record.method in TRACED_METHODS and record.progress:
        return record.progress[0][0]
    return record.wall_s


def gap_trace(record: RunRecord, best_bound: float | None) -> list[tuple[float, float]]:
    """(seconds, gap) of each improving plan, ending with the final plan at the wall time."""
    if best_bound is None or not accepted_plan(record) or record.objective is None:
        return []
    points: list[tuple[float, float]] = []
    if record.method in TRACED_METHODS:
        points = [(t, relative_gap(objective, best_bound)) for t, objective, _ in record.progress]
    if record.wall_s is not None:
        points.append((record.wall_s, relative_gap(record.objective, best_bound)))
    return points


def derive_rows(records: Sequence[RunRecord]) -> list[Row]:
    """Every record with its gap and times, ordered by instance, time limit and method."""
    bounds = best_bounds(records)
    order: dict[str, int] = {method: index for index, method in enumerate(METHODS)}
    rows = []
    for record in records:
        best = bounds.get(record.instance)
        gap: float | None
        if record.method == "lp-bound":
            gap = None
        elif not accepted_plan(record) or record.objective is None:
            gap = math.inf
        else:
            gap = None if best is None else relative_gap(record.objective, best)
        rows.append(
            Row(
                record=record,
                best_bound=best,
                gap=gap,
                time_to_first_plan_s=time_to_first_plan(record),
                time_to_target_gap_s=time_to_gap(record, best, TARGET_GAP),
            )
        )
    rows.sort(
        key=lambda r: (
            _family_order(r.record.family),
            r.record.seed,
            r.record.instance,
            r.record.time_limit_s,
            order.get(r.record.method, len(order)),
        )
    )
    return rows


def _family_order(family: str) -> tuple[int, str]:
    known = ("S", "M", "L", "XL")
    return (known.index(family) if family in known else len(known), family)


def _median(values: Iterable[float | None], missing: float | None) -> float | None:
    """Median where None counts as `missing` (inf: never reached), or None if no values."""
    present = [missing if v is None else v for v in values]
    finite_or_inf = [v for v in present if v is not None]
    if not finite_or_inf:
        return None
    return float(statistics.median(finite_or_inf))


def summarize(rows: Sequence[Row]) -> list[Summary]:
    """Medians per (family, time limit, method), in row order."""
    groups: dict[tuple[str, float, str], list[Row]] = {}
    for row in rows:
        record = row.record
        groups.setdefault((record.family, record.time_limit_s, record.method), []).append(row)
    summaries = []
    for (family, time_limit_s, method), members in groups.items():
        records = [row.record for row in members]
        builds = [r.build_s for r in records if r.build_s is not None]
        peaks = [r.peak_rss_mb for r in records if r.peak_rss_mb is not None]
        plan_maker = method != "lp-bound"
        summaries.append(
            Summary(
                family=family,
                time_limit_s=time_limit_s,
                method=method,
                runs=len(members),
                accepted=sum(1 for r in records if accepted_plan(r)),
                median_gap=_median((row.gap for row in members), None) if plan_maker else None,
                median_first_plan_s=_median((row.time_to_first_plan_s for row in members), math.inf)
                if plan_maker
                else None,
                median_target_gap_s=_median((row.time_to_target_gap_s for row in members), math.inf)
                if plan_maker
                else None,
                median_wall_s=_median((r.wall_s for r in records), math.inf),
                max_build_s=max(builds) if builds else None,
                max_peak_rss_mb=max(peaks) if peaks else None,
            )
        )
    return summaries
