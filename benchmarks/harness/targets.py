"""The issue's targets, checked against the medians of a benchmark run.

Targets are measured, never asserted in tests: a check is met, missed, or not
run (no runs of that family at that time limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.harness.report import Summary

OURS = "infraplan"
PEERS = ("cpsat-monolithic", "mip-highs")
#: At equal time, infraplan's median gap may be at most this share of each peer's.
PEER_GAP_SHARE = 0.1
#: (family, time limit in s, largest median gap of infraplan).
GAP_TARGETS = (("M", 30.0, 0.01), ("L", 120.0, 0.02), ("XL", 600.0, 0.03))
#: XL: a plan within this many seconds, at the time limit of that length.
XL_FIRST_PLAN_S = 60.0
XL_BUILD_S = 30.0
XL_PEAK_MB = 8 * 1024.0


@dataclass(frozen=True)
class TargetCheck:
    """One target: what was measured against what was asked, and the margin."""

    target: str
    measured: str
    #: None when the run holds nothing to check it against.
    met: bool | None
    margin: str


def _find(
    summaries: Sequence[Summary], family: str, method: str, time_limit_s: float | None = None
) -> list[Summary]:
    return [
        s
        for s in summaries
        if s.family == family
        and s.method == method
        and (time_limit_s is None or s.time_limit_s == time_limit_s)
    ]


def _percent(value: float | None) -> str:
    if value is None:
        return "no bound"
    return "no plan" if math.isinf(value) else f"{value:.2%}"


def _not_run(target: str) -> TargetCheck:
    return TargetCheck(target, "not run", None, "-")


def gap_target(
    summaries: Sequence[Summary], family: str, time_limit_s: float, limit: float
) -> TargetCheck:
    """infraplan's median gap on `family` at `time_limit_s` is at most `limit`."""
    target = f"{family}: within {limit:.0%} of the best bound in {time_limit_s:g} s"
    found = _find(summaries, family, OURS, time_limit_s)
    if not found or found[0].median_gap is None:
        return _not_run(target)
    gap = found[0].median_gap
    met = gap <= limit
    margin = "-" if math.isinf(gap) else f"{(limit - gap) * 100:+.2f} points"
    return TargetCheck(target, f"median gap {_percent(gap)}", met, margin)


def first_plan_target(summaries: Sequence[Summary]) -> TargetCheck:
    """XL: infraplan's median time to its first plan is at most XL_FIRST_PLAN_S, in runs
    limited to that time."""
    target = f"XL: a plan within {XL_FIRST_PLAN_S:g} s"
    found = _find(summaries, "XL", OURS, XL_FIRST_PLAN_S)
    if not found or found[0].median_first_plan_s is None:
        return _not_run(target)
    seconds = found[0].median_first_plan_s
    if math.isinf(seconds):
        return TargetCheck(target, "no plan", False, "-")
    return TargetCheck(
        target,
        f"median first plan {seconds:.1f} s",
        seconds <= XL_FIRST_PLAN_S,
        f"{XL_FIRST_PLAN_S - seconds:+.1f} s",
    )


def build_target(summaries: Sequence[Summary]) -> TargetCheck:
    """XL: infraplan's longest model build is under XL_BUILD_S."""
    target = f"XL: model build under {XL_BUILD_S:g} s"
    builds = [s.max_build_s for s in _find(summaries, "XL", OURS) if s.max_build_s is not None]
    if not builds:
        return _not_run(target)
    longest = max(builds)
    return TargetCheck(
        target,
        f"longest build {longest:.1f} s",
        longest < XL_BUILD_S,
        f"{XL_BUILD_S - longest:+.1f} s",
    )


def memory_target(summaries: Sequence[Summary]) -> TargetCheck:
    """XL: infraplan's peak memory is under XL_PEAK_MB."""
    target = f"XL: peak memory under {XL_PEAK_MB / 1024:g} GB"
    peaks = [
        s.max_peak_rss_mb for s in _find(summaries, "XL", OURS) if s.max_peak_rss_mb is not None
    ]
    if not peaks:
        return _not_run(target)
    peak = max(peaks)
    return TargetCheck(
        target,
        f"peak {peak / 1024:.2f} GB",
        peak < XL_PEAK_MB,
        f"{(XL_PEAK_MB - peak) / 1024:+.2f} GB",
    )


def peer_targets(summaries: Sequence[Summary]) -> list[TargetCheck]:
    """Per family and time limit: infraplan's median gap is at most PEER_GAP_SHARE of each
    peer's (a peer without a plan has an infinite gap)."""
    checks = []
    for ours in (s for s in summaries if s.method == OURS):
        for peer_name in PEERS:
            target = (
                f"{ours.family} @{ours.time_limit_s:g} s: gap at most "
                f"{PEER_GAP_SHARE:g} x {peer_name}'s"
            )
            found = _find(summaries, ours.family, peer_name, ours.time_limit_s)
            if not found or found[0].median_gap is None or ours.median_gap is None:
                checks.append(_not_run(target))
                continue
            peer = found[0].median_gap
            measured = f"{_percent(ours.median_gap)} vs {_percent(peer)}"
            ratio = gap_ratio(ours.median_gap, peer)
            margin = "-" if math.isinf(ratio) else f"ratio {ratio:.3f}"
            checks.append(TargetCheck(target, measured, ratio <= PEER_GAP_SHARE, margin))
    return checks


def gap_ratio(ours: float, peer: float) -> float:
    """ours / peer: 0 when ours is 0 or the peer has no plan (inf); inf when ours has
    no plan, or ours is above a peer's 0."""
    if math.isinf(ours):
        return math.inf
    if math.isinf(peer) or ours == 0:
        return 0.0
    if peer == 0:
        return math.inf
    return ours / peer


def check_targets(summaries: Sequence[Summary]) -> list[TargetCheck]:
    """Every target of the issue, in the issue's order."""
    checks = [gap_target(summaries, family, t, limit) for family, t, limit in GAP_TARGETS[:2]]
    checks.append(first_plan_target(summaries))
    family, time_limit_s, limit = GAP_TARGETS[2]
    checks.append(gap_target(summaries, family, time_limit_s, limit))
    checks.append(build_target(summaries))
    checks.append(memory_target(summaries))
    checks.extend(peer_targets(summaries))
    return checks
