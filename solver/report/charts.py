"""The HTML report's charts, drawn with matplotlib as static inline SVG (no script, no fetch).

Each function returns one `<svg>` element ready to paste into HTML: the XML prolog and
DOCTYPE are dropped and every element id is prefixed with the chart's name, so several
charts on one page never share an id. Output is deterministic: a fixed hash salt, no
date in the metadata, text kept as text (`svg.fonttype = none`), and mathtext off so an
id containing `$` stays literal. Matplotlib escapes the text it writes into the SVG.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from solver.report.tables import chart_sites

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from matplotlib.axes import Axes

    from solver.report.data import Comparison

#: One colour per plan, in plan order (matplotlib's tab10, colour-blind friendlier order).
PLAN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
#: One colour per cost part, in SPEC order.
COST_COLOURS = (
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    # SPEC §12's parts of a v2 plan: lateness, moves, replica_starts, expansions
    "#ccb974",
    "#64b5cd",
    "#2f4b7c",
    "#a05195",
)
#: Sites a per-site chart shows at most (the ones drawing most power).
MAX_CHART_SITES = 30
_WIDTH_IN = 8.0

# Keys typed loosely: matplotlib types them as a Literal that older releases do not export.
_RC: dict[Any, Any] = {
    "svg.hashsalt": "infraplan-report",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
#: The RDF block names the file format by URL; a page needs none of it.
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')


def charts(comparison: Comparison) -> dict[str, str]:
    """Every chart of the HTML report by name; the two short ones first, then the per-site
    ones, then (with v2 plans) those of `solver.report.charts_v2`."""
    found = {
        "costs": cost_chart(comparison),
        "latency": latency_chart(comparison),
        "power": power_chart(comparison),
        "utilization": utilization_chart(comparison),
    }
    if comparison.has_v2:
        from solver.report.charts_v2 import charts_v2  # it draws with this module's helpers

        found.update(charts_v2(comparison))
    return found


def power_chart(comparison: Comparison) -> str:
    """Facility power per site and plan as bars, each site's grid budget as a black tick."""
    sites = chart_sites(comparison, MAX_CHART_SITES)
    with _figure(len(sites) * len(comparison.plans)) as (figure, axes):
        positions = _group_positions(len(sites), len(comparison.plans))
        for index, plan in enumerate(comparison.plans):
            rows = [plan.sites.get(site) for site in sites]
            ys = positions[index]
            axes.barh(
                ys,
                [0.0 if row is None else row.facility_kw for row in rows],
                height=0.8 / len(comparison.plans),
                color=_plan_colour(index),
                label=plan.summary.label,
            )
            budgets = [(y, row.grid_kw) for y, row in zip(ys, rows, strict=True) if row is not None]
            axes.scatter(
                [budget for _, budget in budgets],
                [y for y, _ in budgets],
                marker="|",
                s=120,
                color="black",
                zorder=3,
                label="grid budget" if index == 0 else None,
            )
        _site_axis(axes, sites)
        axes.set_xlabel("facility power (kW)")
        axes.set_title("Facility power per site against the grid budget")
        axes.legend(loc="lower right", fontsize=8)
        return _svg(figure, "power")


def cost_chart(comparison: Comparison) -> str:
    """Each plan's cost breakdown as a stacked bar; below it, with two or more plans, each
    part's difference against the first plan (small parts that move stay visible there)."""
    plans = comparison.plans
    parts = [
        part
        for part in plans[0].summary.costs
        if any(plan.summary.costs[part] for plan in plans)
        or any(delta.costs[part] for delta in comparison.deltas)
    ]
    colours = {
        part: COST_COLOURS[index % len(COST_COLOURS)]
        for index, part in enumerate(plans[0].summary.costs)
    }
    height = 1.6 + 0.55 * len(plans) + (1.0 + 0.3 * len(parts) if comparison.deltas else 0.0)
    with mpl.rc_context(_RC):
        figure = Figure(figsize=(_WIDTH_IN, height), layout="constrained")
        FigureCanvasSVG(figure)
        if comparison.deltas:
            totals, changes = figure.subplots(
                2, 1, height_ratios=[0.55 * len(plans) + 0.8, 0.3 * len(parts) + 0.8]
            )
        else:
            totals, changes = figure.add_subplot(), None
        ys = list(range(len(plans)))[::-1]
        left = [0.0] * len(plans)
        for part in parts:
            widths = [plan.summary.costs[part] for plan in plans]
            totals.barh(ys, widths, left=left, height=0.6, color=colours[part], label=part)
            left = [start + width for start, width in zip(left, widths, strict=True)]
        totals.set_yticks(ys, [plan.summary.label for plan in plans])
        totals.set_title("Cost breakdown over the horizon")
        totals.xaxis.set_major_formatter(FuncFormatter(_short_number))
        totals.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        if changes is not None:
            _cost_changes(changes, comparison, parts)
        return _svg(figure, "costs")


def _cost_changes(axes: Axes, comparison: Comparison, parts: list[str]) -> None:
    """Horizontal bars of each part's difference, one per later plan, in the plan's colour."""
    positions = _group_positions(len(parts), len(comparison.deltas))
    for index, delta in enumerate(comparison.deltas):
        axes.barh(
            positions[index],
            [delta.costs[part] for part in parts],
            height=0.8 / len(comparison.deltas),
            color=_plan_colour(index + 1),
            label=f"{delta.label} − {delta.baseline}",
        )
    axes.axvline(0.0, color="black", linewidth=0.8)
    _site_axis(axes, parts)
    axes.set_title("Difference by part against the first plan")
    axes.xaxis.set_major_formatter(FuncFormatter(_short_number))
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def latency_chart(comparison: Comparison) -> str:
    """Share of served rps per latency bin, one step line per plan."""
    edges = comparison.latency_bins_ms
    with _figure(8, row_in=0.4, base_in=0.8) as (figure, axes):
        for index, plan in enumerate(comparison.plans):
            served = sum(plan.latency.histogram_rps)
            shares = [
                0.0 if served <= 0 else 100.0 * rps / served for rps in plan.latency.histogram_rps
            ]
            axes.stairs(
                shares,
                edges,
                color=_plan_colour(index),
                linewidth=2,
                label=plan.summary.label,
                fill=len(comparison.plans) == 1,
                alpha=0.6 if len(comparison.plans) == 1 else 1.0,
            )
        axes.set_xlim(edges[0], edges[-1])
        axes.set_xlabel("network latency, region to site (ms)")
        axes.set_ylabel("share of served rps (%)")
        axes.set_title("Latency distribution of served traffic")
        axes.legend(loc="upper right", fontsize=8)
        return _svg(figure, "latency")


def utilization_chart(comparison: Comparison) -> str:
    """Accelerators used over installed per site and plan, in percent."""
    sites = chart_sites(comparison, MAX_CHART_SITES)
    with _figure(len(sites) * len(comparison.plans)) as (figure, axes):
        positions = _group_positions(len(sites), len(comparison.plans))
        for index, plan in enumerate(comparison.plans):
            rows = [plan.sites.get(site) for site in sites]
            axes.barh(
                positions[index],
                [
                    0.0 if row is None or row.utilization is None else 100.0 * row.utilization
                    for row in rows
                ],
                height=0.8 / len(comparison.plans),
                color=_plan_colour(index),
                label=plan.summary.label,
            )
        _site_axis(axes, sites)
        axes.set_xlim(0, 100)
        axes.set_xlabel("accelerators used / installed (%)")
        axes.set_title("Accelerator utilization per site")
        axes.legend(loc="lower right", fontsize=8)
        return _svg(figure, "utilization")


@contextmanager
def _figure(
    rows: int, *, row_in: float = 0.22, base_in: float = 1.4
) -> Iterator[tuple[Figure, Axes]]:
    """A figure whose height grows with the bars it holds, under the report's rc settings."""
    with mpl.rc_context(_RC):
        figure = Figure(figsize=(_WIDTH_IN, base_in + row_in * max(rows, 1)), layout="constrained")
        FigureCanvasSVG(figure)
        yield figure, figure.add_subplot()


def _svg(figure: Figure, name: str) -> str:
    """The figure as an inline `<svg>` element with ids prefixed by `name`."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)
    for element_id in dict.fromkeys(_ID.findall(text)):
        new_id = f"{name}-{element_id}"
        text = (
            text.replace(f'id="{element_id}"', f'id="{new_id}"')
            .replace(f'"#{element_id}"', f'"#{new_id}"')
            .replace(f"(#{element_id})", f"(#{new_id})")
        )
    return f'<svg role="img" aria-label="{name} chart" class="chart chart-{name}"' + text[4:]


def _group_positions(groups: int, members: int) -> list[list[float]]:
    """Bar centres per member (plan), groups (sites) top to bottom."""
    height = 0.8 / members
    return [
        [groups - 1 - group + 0.4 - height * (member + 0.5) for group in range(groups)]
        for member in range(members)
    ]


def _site_axis(axes: Axes, sites: Sequence[str]) -> None:
    """Label grouped bars with their names (sites or cost parts), first at the top."""
    axes.set_yticks([len(sites) - 1 - index for index in range(len(sites))], list(sites))
    axes.set_ylim(-0.6, len(sites) - 0.4)


def _plan_colour(index: int) -> str:
    return PLAN_COLOURS[index % len(PLAN_COLOURS)]


def _short_number(value: float, _position: object) -> str:
    """Axis ticks as 1.2M / 350k."""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:g}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:g}M"
    if magnitude >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"
