"""The gap-versus-time figure: one panel per instance and time limit, one line per method."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from benchmarks.harness.methods import METHODS
from benchmarks.harness.report import TARGET_GAP, gap_trace

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from benchmarks.harness.report import Row

#: Gaps are drawn on a log scale; a gap of 0 is drawn at this floor.
GAP_FLOOR = 1e-5
PANEL_COLUMNS = 3
COLORS = {
    "infraplan": "tab:blue",
    "cpsat-monolithic": "tab:orange",
    "mip-highs": "tab:green",
    "greedy": "tab:red",
}


def plot_gap_vs_time(rows: Sequence[Row], stem: Path) -> list[Path]:
    """Draw every plan-making run's gap over time; write `stem`.png and `stem`.svg.

    Methods that report their improving plans are steps through them; the others are
    one point at their wall time. Returns the files written (none without runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: dict[tuple[str, float], list[Row]] = {}
    for row in rows:
        if row.record.method in COLORS:
            panels.setdefault((row.record.instance, row.record.time_limit_s), []).append(row)
    if not panels:
        return []
    columns = min(PANEL_COLUMNS, len(panels))
    lines_of_panels = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(
        lines_of_panels,
        columns,
        figsize=(5 * columns, 3.6 * lines_of_panels),
        squeeze=False,
    )
    order: dict[str, int] = {method: index for index, method in enumerate(METHODS)}
    for index, ((instance, time_limit_s), members) in enumerate(panels.items()):
        axis = axes[index // columns][index % columns]
        latest = time_limit_s
        for row in sorted(members, key=lambda r: order[r.record.method]):
            trace = gap_trace(row.record, row.best_bound)
            method = row.record.method
            if not trace:
                axis.plot([], [], color=COLORS[method], label=f"{method} (no plan)")
                continue
            times = [t for t, _ in trace]
            latest = max(latest, times[-1])
            gaps = [max(gap, GAP_FLOOR) for _, gap in trace]
            if len(trace) > 1:
                axis.step(times, gaps, where="post", color=COLORS[method], label=method)
            axis.plot(
                times[-1:],
                gaps[-1:],
                marker="o",
                color=COLORS[method],
                label=None if len(trace) > 1 else method,
            )
        axis.axhline(TARGET_GAP, color="grey", linestyle="--", linewidth=0.8)
        axis.set_yscale("log")
        axis.set_ylim(GAP_FLOOR / 2, 1.5)
        axis.set_xlim(0, latest * 1.1)
        axis.set_title(f"{instance} ({time_limit_s:g} s)", fontsize=10)
        axis.set_xlabel("seconds")
        axis.set_ylabel("gap to best bound")
        axis.legend(fontsize=7, loc="lower left", framealpha=0.8)
    for index in range(len(panels), lines_of_panels * columns):
        axes[index // columns][index % columns].set_visible(False)
    figure.tight_layout()
    written = []
    for suffix in (".png", ".svg"):
        path = stem.with_suffix(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
        written.append(path)
    plt.close(figure)
    return written
