"""The report's v2 sections (SPEC §8-§12) as plain-text tables: training timeline, power per
site over time, serving and costs per period, moves against `current`, expansions, and
what changed in time between two v2 plans.

Shown only when some plan is a plan of a v2 instance, after the v1 sections (so v1 reports
are unchanged). Long tables keep `max_rows` rows (the most telling first) and say how many
they leave out; the JSON report has every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from solver.report.tables import Section, Table
from solver.report.text import MISSING, flag, number, over_limit, percent, signed

if TYPE_CHECKING:
    from solver.report.data import Comparison, PlanReport
    from solver.report.data_v2 import (
        ChosenExpansion,
        DeltaV2,
        ExpansionsReport,
        MovesReport,
        PlanV2,
        SitePower,
    )


def sections_v2(comparison: Comparison, max_rows: int) -> list[Section]:
    """The v2 sections that have something to show, in reading order."""
    plans = [(plan, plan.v2) for plan in comparison.plans if plan.v2 is not None]
    if not plans:
        return []
    found = [
        _timeline_section(plans, max_rows),
        _power_section(plans, max_rows),
        _serving_section(plans, max_rows),
        _period_costs_section(plans),
        _moves_section(plans, max_rows),
        _expansions_section(plans, max_rows),
        _changes_section(comparison, max_rows),
    ]
    return [section for section in found if section is not None]


# --- training timeline ----------------------------------------------------------------


def _timeline_section(plans: list[tuple[PlanReport, PlanV2]], max_rows: int) -> Section | None:
    scheduled = [(plan, v2) for plan, v2 in plans if v2.scheduled]
    if not scheduled:
        return None
    tables: list[Table] = []
    for plan, v2 in scheduled:
        rows = v2.timeline
        # Late jobs first when the table is cut, then shown by start hour.
        keep = sorted(rows, key=lambda row: (-row.late_hours, row.start, row.job))[:max_rows]
        shown = sorted(keep, key=lambda row: (row.start, row.job))
        tables.append(
            Table(
                f"Training timeline in {plan.summary.label}",
                [
                    "job",
                    "site",
                    "accelerator",
                    "count",
                    "start h",
                    "end h",
                    "release h",
                    "deadline h",
                    "due h",
                    "hours late",
                    "lateness cost",
                ],
                [
                    [
                        row.job,
                        row.site,
                        row.accelerator,
                        f"{row.count:,}",
                        f"{row.start:,}",
                        _hour(row.end),
                        f"{row.release:,}",
                        _hour(row.deadline),
                        MISSING if row.due is None else f"{row.due:,}",
                        _hour(row.late_hours) + flag(row.late_hours > 0),
                        number(row.lateness_cost),
                    ]
                    for row in shown
                ],
                frozenset(range(3, 11)),
                _cut(len(rows), len(shown), "placed jobs", "latest to finish late")
                or ("" if rows else "No training job placed."),
            )
        )
    intro = (
        "When each placed job runs, [start, end) in hours from the plan's start, against its "
        "release, deadline and due hour (SPEC §9); ⚠ marks a job that ends after its due hour."
    )
    return Section("timeline", "Training timeline", intro, tables)


# --- power over time ------------------------------------------------------------------


def busiest_sites(power: list[SitePower], limit: int) -> list[SitePower]:
    """The `limit` sites with the highest facility power at any time (ties by site id),
    in instance order."""
    keep = {row.site for row in sorted(power, key=lambda row: (-row.peak_kw, row.site))[:limit]}
    return [row for row in power if row.site in keep]


def _power_section(plans: list[tuple[PlanReport, PlanV2]], max_rows: int) -> Section:
    tables: list[Table] = []
    for plan, v2 in plans:
        shown = busiest_sites(v2.power, max_rows)
        expanded = any(row.expanded for row in v2.power)
        rows = []
        for site in shown:
            cells = [site.site]
            for period in site.periods:
                cell = used_of_budget(period.peak_kw, period.grid_kw)
                if expanded and period.grid_kw != period.grid_before_expansions_kw:
                    cell += f" ({number(period.grid_before_expansions_kw, 1)} before expansions)"
                cells.append(cell)
            rows.append(cells)
        tables.append(
            Table(
                f"Peak facility power per period in {plan.summary.label}: kW of the grid budget",
                ["site", *[period.period for period in v2.periods]],
                rows,
                frozenset(range(1, len(v2.periods) + 1)),
                _cut(len(v2.power), len(shown), "sites", "highest facility power"),
            )
        )
    intro = (
        "Each site's highest facility power (IT × PUE) in each period against the period's "
        "grid budget, chosen expansions included (the budget before them in brackets where "
        "they add to it); ⚠ marks power past the budget."
    )
    return Section("power-over-time", "Power per site over time", intro, tables)


def used_of_budget(used: float, budget: float) -> str:
    """`120.0 / 120.0 (100.0%)`, flagged past the budget."""
    share = "" if budget == 0 else f" ({percent(used / budget)})"
    return f"{number(used, 1)} / {number(budget, 1)}{share}" + flag(over_limit(used, budget))


# --- serving per period ---------------------------------------------------------------


def _serving_section(plans: list[tuple[PlanReport, PlanV2]], max_rows: int) -> Section | None:
    if not any(period.services for _, v2 in plans for period in v2.serving):
        return None
    tables: list[Table] = []
    for plan, v2 in plans:
        label = plan.summary.label
        tables.append(
            Table(
                f"Serving per period in {label}",
                ["period", "replicas", "demand rps", "served rps", "unserved rps"],
                [
                    [
                        period.period,
                        f"{period.replicas:,}",
                        number(period.demand_rps, 1),
                        number(period.served_rps, 1),
                        number(period.unserved_rps, 1) + flag(period.unserved_rps > 0),
                    ]
                    for period in v2.serving
                ],
                frozenset({1, 2, 3, 4}),
            )
        )
        tables.append(_services_by_period(label, v2, max_rows))
        services = len(v2.serving[0].services) if v2.serving else 0
        if services > max_rows:
            tables.append(_sites_by_period(label, v2, max_rows))
    intro = (
        "Replicas the plan runs in each period and the rps served and left unserved there "
        "(SPEC §9: §5's serving rows per period); a cell reads replicas · served / demand rps."
    )
    return Section("serving", "Serving per period", intro, tables)


def _services_by_period(label: str, v2: PlanV2, max_rows: int) -> Table:
    by_service: dict[str, list[str]] = {}
    pressure: dict[str, tuple[float, float]] = {}
    for period in v2.serving:
        for row in period.services:
            cell = (
                f"{row.replicas:,} · {number(row.served_rps, 1)} / {number(row.demand_rps, 1)}"
                + flag(row.unserved_rps > 0)
            )
            by_service.setdefault(row.service, []).append(cell)
            unserved, demand = pressure.get(row.service, (0.0, 0.0))
            pressure[row.service] = (max(unserved, row.unserved_rps), max(demand, row.demand_rps))
    keep = set(sorted(by_service, key=lambda s: (-pressure[s][0], -pressure[s][1], s))[:max_rows])
    rows = [[service, *cells] for service, cells in by_service.items() if service in keep]
    rows.append(
        [
            "total",
            *[
                f"{period.replicas:,} · {number(period.served_rps, 1)} / "
                f"{number(period.demand_rps, 1)}"
                for period in v2.serving
            ],
        ]
    )
    return Table(
        f"Replicas and rps per service and period in {label}",
        ["service", *[period.period for period in v2.periods]],
        rows,
        frozenset(range(1, len(v2.periods) + 1)),
        _cut(len(by_service), len(keep), "services", "most unserved, then highest demand"),
    )


def _sites_by_period(label: str, v2: PlanV2, max_rows: int) -> Table:
    sites: dict[str, list[int]] = {}
    for index, period in enumerate(v2.serving):
        for site, replicas in period.replicas_by_site.items():
            sites.setdefault(site, [0] * len(v2.serving))[index] = replicas
    keep = set(sorted(sites, key=lambda site: (-max(sites[site]), site))[:max_rows])
    rows = [
        [site, *[f"{count:,}" for count in counts]]
        for site, counts in sorted(sites.items())
        if site in keep
    ]
    return Table(
        f"Replicas per site and period in {label} (all services)",
        ["site", *[period.period for period in v2.periods]],
        rows,
        frozenset(range(1, len(v2.periods) + 1)),
        _cut(len(sites), len(keep), "sites", "most replicas"),
    )


# --- costs per period -----------------------------------------------------------------


def _period_costs_section(plans: list[tuple[PlanReport, PlanV2]]) -> Section:
    tables: list[Table] = []
    for plan, v2 in plans:
        rows = [
            [
                row.period,
                number(row.training),
                number(row.serving),
                number(row.traffic_egress),
                number(row.unserved),
                number(row.replica_starts),
                number(row.expansions),
                number(row.total),
            ]
            for row in v2.period_costs
        ]
        one_time = "; ".join(
            f"{name} {number(value)}" for name, value in v2.one_time_costs.items() if value
        )
        total_one_time = sum(v2.one_time_costs.values())
        tables.append(
            Table(
                f"Costs per period in {plan.summary.label}",
                [
                    "period",
                    "training",
                    "serving",
                    "traffic egress",
                    "unserved",
                    "replica starts",
                    "expansions",
                    "total",
                ],
                rows,
                frozenset(range(1, 8)),
                f"Not tied to a period: {number(total_one_time)}"
                + (f" ({one_time})." if one_time else "."),
            )
        )
    intro = (
        "What each period costs: training priced by the hours jobs run in it, replicas, "
        "traffic egress and unserved demand of its hours, replicas started at its start and "
        "expansions coming online in it. With the costs tied to no period they sum to the "
        "objective."
    )
    return Section("costs-by-period", "Costs per period", intro, tables)


# --- moves ----------------------------------------------------------------------------


def _moves_section(plans: list[tuple[PlanReport, PlanV2]], max_rows: int) -> Section | None:
    with_moves = [(plan, v2.moves) for plan, v2 in plans if v2.moves is not None]
    if not with_moves:
        return None
    tables: list[Table] = []
    for plan, moves in with_moves:
        tables += _moves_tables(plan.summary.label, moves, max_rows)
    intro = (
        "Against `current`, what runs at hour 0 (SPEC §10): jobs moved (move cost plus "
        "checkpoint egress) or continuing, replicas started and stopped at the start, and "
        "the move budgets."
    )
    return Section("moves", "Moves from the current plan", intro, tables)


def _moves_tables(label: str, moves: MovesReport, max_rows: int) -> list[Table]:
    moved = sorted(moves.moved, key=lambda row: (-row.cost, row.job))[:max_rows]
    summary = Table(
        f"Moves in {label}",
        ["figure", "value"],
        [
            ["jobs moved", _budgeted(len(moves.moved), moves.max_training_moves)],
            ["jobs continuing", f"{len(moves.continuing):,}"],
            ["checkpoint data moved (GB)", number(moves.checkpoint_gb, 1)],
            ["move cost (moves + checkpoint egress)", number(moves.move_cost)],
            [
                "replica changes in the first period",
                _budgeted(moves.replica_changes, moves.max_replica_changes),
            ],
            ["replicas started, all periods", f"{moves.replicas_started:,}"],
            ["replica start cost", number(moves.replica_start_cost)],
        ],
        frozenset({1}),
    )
    jobs = Table(
        f"Jobs moved in {label}",
        ["job", "from", "to", "move cost", "checkpoint GB", "checkpoint egress", "cost"],
        [
            [
                row.job,
                f"{row.from_site} / {row.from_accelerator}",
                "not placed" if row.to_site is None else f"{row.to_site} / {row.to_accelerator}",
                number(row.move_cost),
                number(row.checkpoint_gb, 1),
                number(row.checkpoint_cost),
                number(row.cost),
            ]
            for row in moved
        ],
        frozenset({3, 4, 5, 6}),
        _cut(len(moves.moved), len(moved), "moved jobs", "dearest")
        or ("" if moves.moved else "No job of the current plan moved."),
    )
    continuing = ", ".join(moves.continuing[:max_rows])
    if len(moves.continuing) > max_rows:
        continuing += f" and {len(moves.continuing) - max_rows:,} more"
    jobs_note = f"Continuing at their current site and accelerator: {continuing or 'none'}."
    changes = sorted(
        moves.replica_changes_by_site,
        key=lambda row: (-(row.started + row.stopped), row.site),
    )[:max_rows]
    replicas = Table(
        f"Replicas per site, current against the first period, in {label}",
        ["site", "current", "first period", "started", "stopped"],
        [
            [
                row.site,
                f"{row.current:,}",
                f"{row.first_period:,}",
                f"{row.started:,}",
                f"{row.stopped:,}",
            ]
            for row in sorted(changes, key=lambda row: row.site)
        ],
        frozenset({1, 2, 3, 4}),
        _cut(len(moves.replica_changes_by_site), len(changes), "sites", "most changed")
        or ("" if changes else "No replicas in the current plan or the first period."),
    )
    return [summary, _with_note(jobs, jobs_note), replicas]


def _budgeted(used: int, budget: int | None) -> str:
    if budget is None:
        return f"{used:,}"
    return f"{used:,} of budget {budget:,}" + flag(used > budget)


# --- expansions -----------------------------------------------------------------------


def _expansions_section(plans: list[tuple[PlanReport, PlanV2]], max_rows: int) -> Section | None:
    with_offers = [(plan, v2.expansions) for plan, v2 in plans if v2.expansions is not None]
    if not with_offers:
        return None
    tables: list[Table] = []
    for plan, expansions in with_offers:
        tables += _expansion_tables(plan.summary.label, expansions, max_rows)
    intro = (
        "Expansions chosen per site and period with their cost (SPEC §11); at the sites they "
        "expand, each resource they add to per period: the limit before and after, the "
        "highest use, and how much of what was bought is used (use above the limit before "
        "expansions over what they add)."
    )
    return Section("expansions", "Capacity expansions", intro, tables)


def _expansion_tables(label: str, report: ExpansionsReport, max_rows: int) -> list[Table]:
    chosen = report.chosen[:max_rows]
    chosen_table = Table(
        f"Expansions chosen in {label}",
        ["site", "expansion", "period", "adds", "cost"],
        [[row.site, row.expansion, row.period, _adds(row), number(row.cost)] for row in chosen],
        frozenset({4}),
        f"{len(report.chosen):,} of {report.offered:,} offered chosen; spend "
        f"{number(report.spend)}."
        + (
            f" Showing {len(chosen)} (site order); the JSON report has all."
            if len(chosen) < len(report.chosen)
            else ""
        ),
    )
    rows = report.capacity[:max_rows]
    capacity = Table(
        f"Capacity before and after expansions against use in {label}",
        [
            "site",
            "resource",
            "period",
            "before",
            "after",
            "peak use",
            "bought",
            "used of bought",
            "utilization of bought",
        ],
        [
            [
                row.site,
                row.resource,
                row.period,
                _limit(row.before),
                _limit(row.after),
                number(row.peak_use, 1)
                + flag(row.after is not None and over_limit(row.peak_use, row.after)),
                number(row.bought, 1),
                number(row.use_above_before, 1),
                percent(row.utilization),
            ]
            for row in rows
        ],
        frozenset(range(3, 9)),
        _cut(len(report.capacity), len(rows), "rows", "site, resource and period order")
        or ("" if rows else "No expansion chosen."),
    )
    return [chosen_table, capacity]


def _adds(row: ChosenExpansion) -> str:
    parts = []
    if row.grid_kw:
        parts.append(f"grid {number(row.grid_kw, 1)} kW")
    parts += [f"cooling {kind} {number(kw, 1)} kW" for kind, kw in row.cooling_kw.items()]
    parts += [f"{accelerator} × {count:,}" for accelerator, count in row.accelerators.items()]
    return "; ".join(parts) or MISSING


def _limit(value: float | None) -> str:
    return "unlimited" if value is None else number(value, 1)


# --- changes between two v2 plans -----------------------------------------------------


def _changes_section(comparison: Comparison, max_rows: int) -> Section | None:
    deltas = [(delta.label, delta.baseline, delta.v2) for delta in comparison.deltas if delta.v2]
    if not deltas:
        return None
    tables: list[Table] = []
    for label, baseline, delta in deltas:
        tables += _change_tables(label, baseline, delta, max_rows)
    intro = (
        "Between two v2 plans: jobs that start at another hour (by how much) or run at "
        "another site or accelerator, each period's cost, and the objective change against "
        "what moving from `current` costs."
    )
    return Section("changes-in-time", "What moved in time and place", intro, tables)


def _change_tables(label: str, baseline: str, delta: DeltaV2, max_rows: int) -> list[Table]:
    versus = f"{label} against {baseline}"
    retimed = delta.retimed[:max_rows]
    resited = delta.resited[:max_rows]
    return [
        Table(
            f"Jobs that start at another hour: {versus}",
            ["job", f"{baseline}: start h", f"{label}: start h", "shift h"],
            [
                [
                    row.job,
                    f"{row.start_before:,}",
                    f"{row.start_after:,}",
                    signed(row.shift_hours, 0),
                ]
                for row in retimed
            ],
            frozenset({1, 2, 3}),
            _cut(len(delta.retimed), len(retimed), "jobs", "largest shift")
            or ("" if retimed else "No job starts at another hour."),
        ),
        Table(
            f"Jobs that run at another site or accelerator: {versus}",
            ["job", baseline, label],
            [
                [
                    row.job,
                    f"{row.site_before} / {row.accelerator_before}",
                    f"{row.site_after} / {row.accelerator_after}",
                ]
                for row in resited
            ],
            frozenset(),
            _cut(len(delta.resited), len(resited), "jobs", "instance order")
            or ("" if resited else "No job runs at another site or accelerator."),
        ),
        Table(
            f"Cost per period: {versus}",
            ["period", baseline, label, "Δ"],
            [
                [row.period, number(row.before), number(row.after), signed(row.change)]
                for row in delta.period_costs
            ]
            + [["not tied to a period", "", "", signed(delta.one_time_change)]],
            frozenset({1, 2, 3}),
        ),
        Table(
            f"Objective change against the cost of moving: {versus}",
            ["figure", "value"],
            [
                ["objective change", signed(delta.objective_change)],
                ["of which move cost (moves + checkpoint egress)", signed(delta.move_cost_change)],
                ["change leaving moving aside", signed(delta.change_before_moves)],
            ],
            frozenset({1}),
            _moving_note(delta),
        ),
    ]


def _moving_note(delta: DeltaV2) -> str:
    before_moves = delta.change_before_moves
    if before_moves is None or delta.move_cost_change <= 0:
        return ""
    saving = -before_moves
    if saving > delta.move_cost_change:
        return (
            f"Moving costs {number(delta.move_cost_change)} and saves {number(saving)} "
            "elsewhere: it pays."
        )
    return (
        f"Moving costs {number(delta.move_cost_change)} and saves {number(max(saving, 0.0))} "
        "elsewhere: it does not pay for itself."
    )


# --- helpers --------------------------------------------------------------------------


def _hour(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _cut(total: int, shown: int, what: str, order: str) -> str:
    if shown >= total:
        return ""
    return f"Showing {shown} of {total} {what} ({order} first); the JSON report has all."


def _with_note(table: Table, note: str) -> Table:
    return Table(
        table.title,
        table.headers,
        table.rows,
        table.numeric,
        " ".join(part for part in (table.note, note) if part),
    )
