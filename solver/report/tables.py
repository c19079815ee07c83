"""The report's sections as plain-text tables, shared by the Markdown and HTML renderers.

Cells are unescaped text: each renderer escapes every title, header and cell for its own
format, so ids, names and labels from an instance can never become markup. Long tables
keep the `max_rows` most telling rows (highest load, worst latency) and say how many
they leave out; the JSON report always holds every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from solver.report.data import QUANTILES
from solver.report.text import (
    MISSING,
    flag,
    number,
    over_limit,
    percent,
    signed,
    signed_points,
    signed_relative,
    used_of,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from solver.report.data import (
        Comparison,
        LinkRow,
        PlanReport,
        ReplicaRow,
        SiteRow,
        TrainingRow,
    )

#: Rows a long table shows by default.
DEFAULT_MAX_ROWS = 40


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of text cells; `numeric` columns are right-aligned."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()
    #: a line under the table, e.g. how many rows were left out
    note: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """A heading, a line of explanation, and its tables."""

    key: str
    title: str
    intro: str
    tables: list[Table] = field(default_factory=list)


def sections(comparison: Comparison, max_rows: int = DEFAULT_MAX_ROWS) -> list[Section]:
    """Every section of the report, in reading order: v1's, then (with v2 plans) the
    sections of `solver.report.tables_v2`."""
    from solver.report.tables_v2 import sections_v2  # it builds on this module's tables

    return [
        _plans_section(comparison),
        _costs_section(comparison),
        _sites_section(comparison, max_rows),
        _latency_section(comparison, max_rows),
        _links_section(comparison, max_rows),
        _placements_section(comparison, max_rows),
        _resilience_section(comparison, max_rows),
        *sections_v2(comparison, max_rows),
    ]


def headline(comparison: Comparison) -> str:
    """The report's title."""
    if len(comparison.plans) == 1:
        return f"Plan report: {comparison.labels[0]}"
    return "Plan comparison: " + " vs ".join(comparison.labels)


def lead(comparison: Comparison) -> str:
    """One line saying what is compared with what."""
    base = comparison.baseline.summary
    instances = dict.fromkeys(plan.summary.instance for plan in comparison.plans)
    read = (
        f"read against instance {base.instance}"
        if len(instances) == 1
        else "each read against its own instance (" + ", ".join(instances) + ")"
    )
    if len(comparison.plans) == 1:
        return f"One plan, {read}; every figure is recomputed by the evaluator."
    return (
        f"{len(comparison.plans)} plans, {read}; every figure is recomputed by the evaluator; "
        f"Δ columns are each plan minus the first ({base.label})."
    )


# --- plans and costs ------------------------------------------------------------------


def _plans_section(comparison: Comparison) -> Section:
    plans = [plan.summary for plan in comparison.plans]
    deltas = comparison.deltas
    width = len(plans) + len(deltas)
    blank = [""] * len(deltas)

    def objective_delta(index: int) -> str:
        delta = deltas[index]
        if delta.objective is None:
            return MISSING
        relative = (
            ""
            if delta.objective_relative is None
            else f" ({signed_relative(delta.objective_relative)})"
        )
        return signed(delta.objective) + relative

    def verdict(index: int) -> str:
        plan = plans[index]
        if not plan.has_plan:
            return "no plan"
        if plan.feasible:
            return "feasible"
        return f"NOT FEASIBLE ({plan.violation_count} violations) ⚠"

    rows = [
        ["instance", *[plan.instance for plan in plans], *blank],
        ["status", *[plan.status for plan in plans], *blank],
        ["evaluator", *[verdict(index) for index in range(len(plans))], *blank],
        [
            "objective",
            *[number(plan.objective) for plan in plans],
            *[objective_delta(index) for index in range(len(deltas))],
        ],
        ["reported objective", *[number(plan.reported_objective) for plan in plans], *blank],
        [
            "bound",
            *[number(plan.bound) for plan in plans],
            *[signed(_minus(plan.bound, plans[0].bound)) for plan in plans[1:]],
        ],
        ["gap", *[percent(plan.gap, 3) for plan in plans], *blank],
        ["solver", *[f"{plan.solver.name} {plan.solver.version}" for plan in plans], *blank],
        ["seed", *[str(plan.solver.seed) for plan in plans], *blank],
        ["time limit (s)", *[number(plan.solver.time_limit_s, 1) for plan in plans], *blank],
        [
            "workers",
            *[
                MISSING if plan.solver.workers is None else str(plan.solver.workers)
                for plan in plans
            ],
            *blank,
        ],
        [
            "wall time (s)",
            *[number(plan.solver.wall_s, 2) for plan in plans],
            *[signed(plan.solver.wall_s - plans[0].solver.wall_s) for plan in plans[1:]],
        ],
    ]
    table = Table(
        "Plans",
        ["", *comparison.labels, *_delta_headers(comparison)],
        rows,
        frozenset(range(1, width + 1)),
    )
    intro = "Status and solver settings; objective and costs as the evaluator recomputes them."
    return Section("plans", "Plans", intro, [table])


def _costs_section(comparison: Comparison) -> Section:
    plans = [plan.summary for plan in comparison.plans]
    parts = list(dict.fromkeys(part for plan in plans for part in plan.costs))
    rows = [
        [
            part,
            *[number(plan.costs.get(part)) for plan in plans],
            *[signed(delta.costs.get(part)) for delta in comparison.deltas],
        ]
        for part in parts
    ]
    rows.append(
        [
            "total",
            *[number(plan.objective) for plan in plans],
            *[signed(delta.objective) for delta in comparison.deltas],
        ]
    )
    table = Table(
        "Cost breakdown",
        ["part", *comparison.labels, *_delta_headers(comparison)],
        rows,
        frozenset(range(1, len(plans) + len(comparison.deltas) + 1)),
    )
    intro = "The SPEC §7 parts over the horizon; the total is the recomputed objective."
    if comparison.has_v2:
        intro = (
            "The SPEC §7 parts over the horizon, and for v2 plans §12's lateness, moves, "
            "replica starts and expansions (– where a plan's schema has no such part); the "
            "total is the recomputed objective."
        )
    return Section("costs", "Cost breakdown", intro, [table])


# --- sites ----------------------------------------------------------------------------


def _sites_section(comparison: Comparison, max_rows: int) -> Section:
    shown = chart_sites(comparison, max_rows)
    note = _left_out(len(comparison.site_ids), len(shown), "sites", "highest facility power")
    headers = ["site", "active"]
    for label in comparison.labels:
        headers += [f"{label}: facility / grid kW", f"{label}: accelerators used / installed"]
    headers += [f"Δ {delta.label}: facility kW" for delta in comparison.deltas]
    headers += [f"Δ {delta.label}: utilization" for delta in comparison.deltas]
    rows: list[list[str]] = []
    for site in shown:
        row_sites = [plan.sites.get(site) for plan in comparison.plans]
        active = " → ".join(
            MISSING if row is None else ("yes" if row.active else "no") for row in row_sites
        )
        cells = [site, active]
        for row in row_sites:
            cells += [_power_cell(row), _accelerator_cell(row)]
        deltas = [next(d for d in delta.sites if d.site == site) for delta in comparison.deltas]
        cells += [signed(d.facility_kw, 1) for d in deltas]
        cells += [signed_points(d.utilization) for d in deltas]
        rows.append(cells)
    overview = Table("Sites side by side", headers, rows, frozenset(range(2, len(headers))), note)
    details = [
        Table(
            f"Sites in {plan.summary.label}",
            [
                "site",
                "active",
                "IT kW",
                "facility / grid kW",
                "power",
                "cooling: IT kW / limit",
                "accelerators: used / installed",
                "utilization",
            ],
            [_site_detail(plan.sites[site]) for site in shown if site in plan.sites],
            frozenset({2, 3, 4, 7}),
            note,
        )
        for plan in comparison.plans
    ]
    intro = (
        "Facility power (IT × PUE) against the grid budget, IT heat against cooling limits, "
        "accelerators used against inventory; ⚠ marks a figure past its limit."
    )
    return Section("sites", "Sites", intro, [overview, *details])


def chart_sites(comparison: Comparison, max_rows: int) -> list[str]:
    """Sites to show: all of them, or the `max_rows` with most facility power in any plan
    (kept in site order)."""
    if len(comparison.site_ids) <= max_rows:
        return list(comparison.site_ids)

    def peak(site: str) -> float:
        return max(
            (plan.sites[site].facility_kw for plan in comparison.plans if site in plan.sites),
            default=0.0,
        )

    keep = set(sorted(comparison.site_ids, key=lambda site: (-peak(site), site))[:max_rows])
    return [site for site in comparison.site_ids if site in keep]


def _power_cell(row: SiteRow | None) -> str:
    if row is None:
        return "absent"
    share = "" if row.power_utilization is None else f" ({percent(row.power_utilization)})"
    return (
        used_of(row.facility_kw, row.grid_kw)
        + share
        + flag(over_limit(row.facility_kw, row.grid_kw))
    )


def _accelerator_cell(row: SiteRow | None) -> str:
    if row is None:
        return "absent"
    share = "" if row.utilization is None else f" ({percent(row.utilization)})"
    return f"{row.accelerators_used:,} / {row.accelerators_installed:,}{share}"


def _site_detail(row: SiteRow) -> list[str]:
    cooling = "; ".join(
        f"{item.cooling} {used_of(item.it_kw, item.limit_kw)}"
        + flag(over_limit(item.it_kw, item.limit_kw))
        for item in row.cooling
    )
    accelerators = "; ".join(
        f"{item.accelerator} {item.used:,} / {item.count:,}"
        + flag(over_limit(item.used, item.count))
        for item in row.accelerators
    )
    return [
        row.site,
        "yes" if row.active else "no",
        number(row.it_kw, 1),
        used_of(row.facility_kw, row.grid_kw) + flag(over_limit(row.facility_kw, row.grid_kw)),
        percent(row.power_utilization),
        cooling or MISSING,
        accelerators or MISSING,
        percent(row.utilization),
    ]


# --- latency --------------------------------------------------------------------------


def _latency_section(comparison: Comparison, max_rows: int) -> Section:
    plans = comparison.plans
    deltas = comparison.deltas
    numeric = frozenset(range(1, len(plans) + len(deltas) + 1))

    def figure_row(name: str, values: list[float | None], digits: int) -> list[str]:
        first = values[0]
        return [
            name,
            *[number(value, digits) for value in values],
            *[signed(_minus(value, first), digits) for value in values[1:]],
        ]

    rows = [
        figure_row("demand (rps)", [plan.latency.demand_rps for plan in plans], 1),
        figure_row("served (rps)", [plan.latency.served_rps for plan in plans], 1),
        figure_row("unserved (rps)", [plan.latency.unserved_rps for plan in plans], 1),
        figure_row("mean latency (ms)", [plan.latency.mean_ms for plan in plans], 2),
        *[
            figure_row(f"{name} latency (ms)", [plan.latency.quantiles[name] for plan in plans], 2)
            for name, _ in QUANTILES
        ],
    ]
    distribution = Table(
        "Network latency of served traffic, weighted by rps",
        ["figure", *comparison.labels, *_delta_headers(comparison)],
        rows,
        numeric,
    )
    services = list(dict.fromkeys(service for plan in plans for service in plan.services))

    def pressure(service: str) -> tuple[float, float, str]:
        unserved = 0.0
        ratio = 0.0
        for plan in plans:
            row = plan.services.get(service)
            if row is None:
                continue
            unserved = max(unserved, row.unserved_rps)
            if row.worst_latency_ms is not None:
                ratio = max(ratio, row.worst_latency_ms / row.latency_slo_ms)
        return (-unserved, -ratio, service)

    shown = sorted(services, key=pressure)[:max_rows]
    service_rows: list[list[str]] = []
    for service in shown:
        rows_by_plan = [plan.services.get(service) for plan in plans]
        cells = [service]
        for row in rows_by_plan:
            if row is None:
                cells.append("absent")
                continue
            worst = row.worst_latency_ms
            late = worst is not None and over_limit(worst, row.latency_slo_ms)
            cells.append(f"{number(worst, 1)} / {number(row.latency_slo_ms, 1)}" + flag(late))
        first = rows_by_plan[0]
        cells += [
            signed(
                None
                if row is None or first is None
                else _minus(row.worst_latency_ms, first.worst_latency_ms),
                1,
            )
            for row in rows_by_plan[1:]
        ]
        cells += [MISSING if row is None else number(row.unserved_rps, 1) for row in rows_by_plan]
        service_rows.append(cells)
    per_service = Table(
        "Worst latency per service against its SLO",
        [
            "service",
            *[f"{label}: worst / SLO ms" for label in comparison.labels],
            *[f"Δ {delta.label}: worst ms" for delta in deltas],
            *[f"{label}: unserved rps" for label in comparison.labels],
        ],
        service_rows,
        frozenset(range(1, 1 + 2 * len(plans) + len(deltas))),
        _left_out(
            len(services), len(shown), "services", "unserved demand, then worst latency / SLO"
        ),
    )
    intro = (
        "Quantiles are of served rps by network round-trip latency (region to site); "
        "per service, the slowest route that carries traffic against the SLO."
    )
    return Section("latency", "Latency and unserved demand", intro, [distribution, per_service])


# --- links ----------------------------------------------------------------------------


def _links_section(comparison: Comparison, max_rows: int) -> Section:
    plans = comparison.plans
    by_plan = [{_link_key(link): link for link in plan.links} for plan in plans]
    keys = list(dict.fromkeys(key for links in by_plan for key in links))
    limited = [
        key
        for key in keys
        if any(links.get(key) and links[key].capacity_gbps is not None for links in by_plan)
    ]

    def load(key: tuple[str, str]) -> tuple[float, str, str]:
        peak = max(
            (
                links[key].utilization or 0.0
                for links in by_plan
                if key in links and links[key].utilization is not None
            ),
            default=0.0,
        )
        return (-peak, *key)

    shown = sorted(limited, key=load)[:max_rows]
    rows: list[list[str]] = []
    for key in shown:
        links = [plan_links.get(key) for plan_links in by_plan]
        cells = [f"{key[0]} – {key[1]}"]
        cells += [_link_cell(link) for link in links]
        first = links[0]
        cells += [
            signed(None if link is None or first is None else link.used_gbps - first.used_gbps, 3)
            for link in links[1:]
        ]
        rows.append(cells)
    unlimited_busy = sum(1 for key in keys if key not in limited)
    note_parts = [_left_out(len(limited), len(shown), "links with a capacity", "highest load")]
    if unlimited_busy:
        note_parts.append(f"{unlimited_busy} unlimited links carry traffic (in the JSON report).")
    table = Table(
        "Most loaded links",
        [
            "link",
            *[f"{label}: used / capacity Gbps" for label in comparison.labels],
            *[f"Δ {delta.label}: Gbps" for delta in comparison.deltas],
        ],
        rows,
        frozenset(range(1, len(plans) + len(comparison.deltas) + 1)),
        " ".join(part for part in note_parts if part),
    )
    intro = "Inference traffic plus remote dataset reads against link capacity, most loaded first."
    return Section("links", "Links", intro, [table])


def _link_key(link: LinkRow) -> tuple[str, str]:
    first, second = sorted((link.a, link.b))
    return (first, second)


def _link_cell(link: LinkRow | None) -> str:
    if link is None:
        return "absent"
    share = "" if link.utilization is None else f" ({percent(link.utilization)})"
    return (
        used_of(link.used_gbps, link.capacity_gbps, 3)
        + share
        + flag(over_limit(link.used_gbps, link.capacity_gbps))
    )


# --- placements -----------------------------------------------------------------------


def _placements_section(comparison: Comparison, max_rows: int) -> Section:
    if not comparison.deltas:
        return _single_placements(comparison.baseline, max_rows)
    tables: list[Table] = []
    for delta in comparison.deltas:
        moves = delta.training_moves
        tables.append(
            Table(
                f"Training jobs that moved: {delta.label} against {delta.baseline}",
                ["job", delta.baseline, delta.label],
                [
                    [move.job, _training_cell(move.before), _training_cell(move.after)]
                    for move in moves[:max_rows]
                ],
                frozenset(),
                _left_out(len(moves), min(len(moves), max_rows), "jobs", "instance order")
                or ("" if moves else "No training job moved."),
            )
        )
        changes = delta.replica_changes
        tables.append(
            Table(
                f"Services whose replicas changed: {delta.label} against {delta.baseline}",
                ["service", delta.baseline, delta.label, "Δ replicas"],
                [
                    [
                        change.service,
                        _replicas_cell(change.before),
                        _replicas_cell(change.after),
                        signed(change.replicas_after - change.replicas_before, 0),
                    ]
                    for change in changes[:max_rows]
                ],
                frozenset({3}),
                _left_out(len(changes), min(len(changes), max_rows), "services", "instance order")
                or ("" if changes else "No service changed its replicas."),
            )
        )
    intro = "Placements that differ from the first plan: site / accelerator × count per job, "
    intro += "site: accelerator × replicas per service."
    return Section("placements", "Placements that differ", intro, tables)


def _single_placements(plan: PlanReport, max_rows: int) -> Section:
    jobs = list(plan.training.values())
    services = [row for row in plan.services.values() if row.replicas]
    tables = [
        Table(
            "Training jobs",
            ["job", "placement"],
            [[row.job, _training_cell(row)] for row in jobs[:max_rows]],
            frozenset(),
            _left_out(len(jobs), min(len(jobs), max_rows), "jobs", "instance order"),
        ),
        Table(
            "Service replicas",
            ["service", "replicas", "total"],
            [
                [row.service, _replicas_cell(row.replicas), str(row.total_replicas)]
                for row in services[:max_rows]
            ],
            frozenset({2}),
            _left_out(len(services), min(len(services), max_rows), "services", "instance order"),
        ),
    ]
    return Section("placements", "Placements", "Where each job and replica runs.", tables)


def _training_cell(row: TrainingRow | None) -> str:
    if row is None:
        return "absent"
    if row.site is None:
        return "not placed"
    return f"{row.site} / {row.accelerator} × {row.count:,}"


def _replicas_cell(rows: Sequence[ReplicaRow] | None) -> str:
    if rows is None:
        return "absent"
    if not rows:
        return "none"
    return "; ".join(f"{row.site}: {row.accelerator} × {row.replicas:,}" for row in rows)


# --- resilience -----------------------------------------------------------------------


def _resilience_section(comparison: Comparison, max_rows: int) -> Section:
    tables: list[Table] = []
    for plan in comparison.plans:
        rows = sorted(
            plan.resilience.values(),
            key=lambda row: (row.covered, row.worst_left_rps - row.served_rps, row.service),
        )
        tables.append(
            Table(
                f"n+1 services in {plan.summary.label}",
                [
                    "service",
                    "served rps",
                    "capacity rps",
                    "worst loss",
                    "left after it rps",
                    "covered",
                    "left after losing each domain (rps)",
                ],
                [
                    [
                        row.service,
                        number(row.served_rps, 1),
                        number(row.capacity_rps, 1),
                        row.worst_domain or MISSING,
                        number(row.worst_left_rps, 1),
                        "yes" if row.covered else "NO ⚠",
                        "; ".join(
                            f"{domain}: {number(left, 1)}"
                            for domain, left in row.capacity_left_by_domain.items()
                        )
                        or MISSING,
                    ]
                    for row in rows[:max_rows]
                ],
                frozenset({1, 2, 4}),
                _left_out(len(rows), min(len(rows), max_rows), "services", "least spare capacity")
                or ("" if rows else "No n+1 service in this plan's instance."),
            )
        )
    intro = (
        "For each n+1 service, the serving capacity left after losing each failure domain "
        "that hosts it, against the rps it serves (SPEC §5.6)."
    )
    return Section("resilience", "Resilience", intro, tables)


# --- helpers --------------------------------------------------------------------------


def _delta_headers(comparison: Comparison) -> list[str]:
    return [f"Δ {delta.label}" for delta in comparison.deltas]


def _left_out(total: int, shown: int, what: str, order: str) -> str:
    if shown >= total:
        return ""
    return f"Showing {shown} of {total} {what} ({order} first); the JSON report has all."


def _minus(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before
