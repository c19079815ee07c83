"""The HTML report's v2 charts (SPEC §8-§12), drawn like `solver.report.charts`: matplotlib
to static inline SVG under the same deterministic settings.

- `timeline_chart`: a Gantt chart of a scheduled plan's training, one row per job grouped
  by site, bars from start hour to end, period boundaries as dashed lines, late jobs edged
  in red and labelled with their hours late.
- `power_time_chart`: each site's facility power as a step line over the horizon against
  its grid budget per period (and the budget before chosen expansions when any adds to
  it), for the `MAX_POWER_TIME_SITES` busiest sites; the caption says how many are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from solver.report.charts import _RC, _WIDTH_IN, _plan_colour, _svg
from solver.report.tables_v2 import busiest_sites

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from solver.report.data import Comparison
    from solver.report.data_v2 import PeriodSpan, PlanV2, PowerStep

#: Sites the power-over-time chart draws at most (the busiest at any time).
MAX_POWER_TIME_SITES = 6
#: Jobs the timeline chart draws at most (late ones first, then the earliest).
MAX_TIMELINE_JOBS = 40
_LATE = "#b42318"
_SITE_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3", "#64b5cd")


def charts_v2(comparison: Comparison) -> dict[str, str]:
    """The v2 charts by name: per v2 plan its timeline (scheduled plans with placed jobs)
    and its power over time; names carry the plan's number when there are several plans."""
    found: dict[str, str] = {}
    several = len(comparison.plans) > 1
    for index, plan in enumerate(comparison.plans):
        v2 = plan.v2
        if v2 is None:
            continue
        suffix = f"-{index + 1}" if several else ""
        label = plan.summary.label
        if v2.scheduled and v2.timeline:
            found[f"timeline{suffix}"] = timeline_chart(label, v2, f"timeline{suffix}")
        found[f"power-time{suffix}"] = power_time_chart(label, v2, index, f"power-time{suffix}")
    return found


def timeline_chart(label: str, v2: PlanV2, name: str = "timeline") -> str:
    """Training jobs as bars [start, end) per site, period boundaries dashed, late jobs red."""
    keep = sorted(v2.timeline, key=lambda row: (-row.late_hours, row.start, row.job))
    keep = keep[:MAX_TIMELINE_JOBS]
    rows = sorted(keep, key=lambda row: (row.site, row.start, row.job))
    sites = list(dict.fromkeys(row.site for row in rows))
    colour = {site: _SITE_COLOURS[i % len(_SITE_COLOURS)] for i, site in enumerate(sites)}
    horizon = v2.periods[-1].start + v2.periods[-1].hours
    with mpl.rc_context(_RC):
        figure = Figure(figsize=(_WIDTH_IN, 1.5 + 0.28 * len(rows)), layout="constrained")
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        ys = list(range(len(rows)))[::-1]
        for y, row in zip(ys, rows, strict=True):
            late = row.late_hours > 0
            axes.barh(
                y,
                row.end - row.start,
                left=row.start,
                height=0.6,
                color=colour[row.site],
                edgecolor=_LATE if late else "none",
                linewidth=2 if late else 0,
            )
            if late:
                axes.text(
                    row.end,
                    y,
                    f" {row.late_hours:,.0f} h late",
                    va="center",
                    fontsize=8,
                    color=_LATE,
                )
            if row.due is not None:
                axes.plot([row.due, row.due], [y - 0.4, y + 0.4], color="black", linewidth=1)
        axes.set_yticks(ys, [f"{row.site}: {row.job}" for row in rows])
        axes.set_ylim(-0.8, len(rows) - 0.2)
        _period_lines(axes, v2.periods)
        axes.set_xlim(0, horizon)
        axes.set_xlabel("hour (black tick: due hour)")
        title = f"Training timeline in {label}"
        if len(keep) < len(v2.timeline):
            title += f" ({len(keep)} of {len(v2.timeline)} jobs)"
        axes.set_title(title)
        return _svg(figure, name)


def power_time_chart(label: str, v2: PlanV2, plan_index: int, name: str = "power-time") -> str:
    """Facility power of the busiest sites as step lines against the grid budget per period."""
    sites = busiest_sites(v2.power, MAX_POWER_TIME_SITES)
    horizon = v2.periods[-1].start + v2.periods[-1].hours
    with mpl.rc_context(_RC):
        figure = Figure(figsize=(_WIDTH_IN, 0.6 + 1.5 * len(sites)), layout="constrained")
        FigureCanvasSVG(figure)
        grid = figure.subplots(len(sites), 1, sharex=True, squeeze=False)
        for axes, site in zip(grid[:, 0], sites, strict=True):
            _steps(axes, site.steps, "facility_kw", _plan_colour(plan_index), "-", "facility kW")
            _steps(axes, site.steps, "grid_kw", "black", "--", "grid budget")
            if site.expanded:
                _steps(
                    axes,
                    site.steps,
                    "grid_before_expansions_kw",
                    "#8c8c8c",
                    ":",
                    "budget before expansions",
                )
            _period_lines(axes, v2.periods, labels=axes is grid[0, 0])
            axes.set_ylabel(f"{site.site}\nkW", fontsize=8)
            axes.set_ylim(bottom=0)
            axes.set_xlim(0, horizon)
            axes.legend(loc="lower right", fontsize=7)
        grid[-1, 0].set_xlabel("hour")
        title = f"Facility power over time in {label}"
        if len(sites) < len(v2.power):
            title += f" (busiest {len(sites)} of {len(v2.power)} sites)"
        figure.suptitle(title, fontsize=10)
        return _svg(figure, name)


def _steps(
    axes: Axes, steps: list[PowerStep], field: str, colour: str, style: str, name: str
) -> None:
    """One figure of the steps as a step line over [start, end) of each step."""
    if not steps:
        return
    edges = [steps[0].start, *[step.end for step in steps]]
    values = [getattr(step, field) for step in steps]
    axes.stairs(
        values, edges, baseline=None, color=colour, linestyle=style, linewidth=1.6, label=name
    )


def _period_lines(axes: Axes, periods: list[PeriodSpan], *, labels: bool = True) -> None:
    """A dashed line at each period's start after the first, the period ids above the axes."""
    for period in periods[1:]:
        axes.axvline(period.start, color="#8c8c8c", linestyle="--", linewidth=0.8)
    if labels:
        for period in periods:
            axes.text(
                period.start + period.hours / 2,
                1.0,
                period.period,
                transform=axes.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=7,
                color="#5b6575",
            )
