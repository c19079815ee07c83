"""The comparison as one self-contained HTML page: inline CSS, inline SVG charts, no script.

Nothing is fetched: there are no external links, fonts, images or scripts, and a
Content-Security-Policy meta tag forbids any request should one slip in. Every piece
of text from an instance, a solution or a file name goes through `html.escape`
(quotes included); chart text is escaped by matplotlib's SVG writer.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from solver.report.charts import MAX_CHART_SITES, charts
from solver.report.tables import DEFAULT_MAX_ROWS, headline, lead, sections
from solver.report.text import number

if TYPE_CHECKING:
    from solver.report.data import Comparison, PlanSummary
    from solver.report.tables import Table

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
:root { --ink: #1d2430; --muted: #5b6575; --line: #d9dee6; --bad: #b42318; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system,
  "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 14px; margin: 18px 0 6px; }
p.lead, p.intro, p.note { color: var(--muted); margin: 4px 0 10px; }
.warnings { border-left: 4px solid var(--bad); background: #fef3f2; padding: 8px 14px;
  margin: 14px 0; }
.warnings li { color: var(--bad); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 220px;
  background: var(--bg); }
.card .label { font-weight: 600; }
.card .figure { font-size: 20px; font-variant-numeric: tabular-nums; }
.card .bad { color: var(--bad); font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px;
  align-items: start; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 4px 0 8px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
  vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""


def render_html(comparison: Comparison, *, max_rows: int = DEFAULT_MAX_ROWS) -> str:
    """The whole report as one HTML document."""
    title = escape(headline(comparison))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{title}</h1>",
        f'<p class="lead">{escape(lead(comparison))}</p></header>',
    ]
    if comparison.warnings:
        items = "".join(f"<li>{escape(line)}</li>" for line in comparison.warnings)
        parts.append(f'<section class="warnings" id="warnings"><ul>{items}</ul></section>')
    parts.append(
        '<section class="cards" id="totals">'
        + "".join(_card(plan.summary) for plan in comparison.plans)
        + "</section>"
    )
    figures = "".join(
        f'<figure id="chart-{name}">{svg}{_caption(name, comparison)}</figure>'
        for name, svg in charts(comparison).items()
    )
    parts.append(f'<section class="charts" id="charts">{figures}</section>')
    for section in sections(comparison, max_rows):
        parts.append(f'<section id="{escape(section.key)}">')
        parts.append(f"<h2>{escape(section.title)}</h2>")
        parts.append(f'<p class="intro">{escape(section.intro)}</p>')
        parts.extend(_table(table) for table in section.tables)
        parts.append("</section>")
    parts += [
        "<footer>infraplan report: figures recomputed by the plan evaluator.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _caption(chart: str, comparison: Comparison) -> str:
    """Say so under a per-site chart that leaves sites out."""
    if chart.startswith("power-time"):
        return _power_time_caption(chart, comparison)
    sites = len(comparison.site_ids)
    if chart not in ("power", "utilization") or sites <= MAX_CHART_SITES:
        return ""
    return (
        f"<figcaption>The {MAX_CHART_SITES} of {sites} sites drawing most facility power "
        "in any plan; the tables and the JSON report have all.</figcaption>"
    )


def _power_time_caption(chart: str, comparison: Comparison) -> str:
    """The busiest sites of a v2 plan's power-over-time chart, and how many are left out."""
    from solver.report.charts_v2 import MAX_POWER_TIME_SITES

    number_part = chart.removeprefix("power-time").removeprefix("-")
    plan = comparison.plans[int(number_part) - 1 if number_part else 0]
    sites = 0 if plan.v2 is None else len(plan.v2.power)
    if sites <= MAX_POWER_TIME_SITES:
        return ""
    return (
        f"<figcaption>The {MAX_POWER_TIME_SITES} of {sites} sites drawing most facility "
        f"power at any time in {escape(plan.summary.label)}; {sites - MAX_POWER_TIME_SITES} "
        "left out (the tables and the JSON report have all).</figcaption>"
    )


def _card(summary: PlanSummary) -> str:
    if not summary.has_plan:
        verdict = f'<div class="bad">status {escape(summary.status)}: no plan</div>'
    elif summary.feasible:
        verdict = f"<div>status {escape(summary.status)}; evaluator: feasible</div>"
    else:
        verdict = (
            f'<div class="bad">status {escape(summary.status)}; evaluator: NOT FEASIBLE '
            f"({summary.violation_count} violations)</div>"
        )
    return (
        '<div class="card">'
        f'<div class="label">{escape(summary.label)}</div>'
        f'<div class="figure">{escape(number(summary.objective))}</div>'
        f"{verdict}"
        f"<div>instance {escape(summary.instance)}</div>"
        "</div>"
    )


def _table(table: Table) -> str:
    html = [f"<h3>{escape(table.title)}</h3>"]
    if table.rows:
        head = "".join(
            f"<th{_class(column, table)}>{escape(header)}</th>"
            for column, header in enumerate(table.headers)
        )
        body = "".join(
            "<tr>"
            + "".join(
                f"<td{_class(column, table)}>{escape(cell)}</td>" for column, cell in enumerate(row)
            )
            + "</tr>"
            for row in table.rows
        )
        html.append(
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    if table.note:
        html.append(f'<p class="note">{escape(table.note)}</p>')
    return "\n".join(html)


def _class(column: int, table: Table) -> str:
    return ' class="num"' if column in table.numeric else ""
