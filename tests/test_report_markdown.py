"""Markdown report tests: the tables carry the evaluator's figures in the right rows and
columns, differences are second minus first, long tables say what they leave out, and
instance-supplied text is escaped.

Tables are read back with a small GFM table parser, so a figure is checked in its cell,
not just found somewhere in the text.
"""

from __future__ import annotations

import re

import pytest

from models import Solution
from solver import Comparison, compare, report
from solver.evaluation.costs import COST_PARTS
from solver.report import render
from solver.report.markdown import escape, render_markdown
from tests.test_report_compare import (
    CUT_SITE,
    HOSTILE_NAME,
    JOB,
    REGION,
    SERVICE,
    SITE_A,
    SITE_B,
    ScenarioPlans,
    hostile_plan,
    thin_resilience_plan,
    two_plans,
)

Row = dict[str, str]


def parse_tables(markdown: str) -> dict[str, list[Row]]:
    """Every `### title` table as a list of rows keyed by (unescaped) header."""
    tables: dict[str, list[Row]] = {}
    title = ""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("### "):
            title = unescape(line[4:])
        elif (
            line.startswith("| ") and index + 1 < len(lines) and lines[index + 1].startswith("| -")
        ):
            headers = split_row(line)
            rows: list[Row] = []
            index += 2
            while index < len(lines) and lines[index].startswith("| "):
                rows.append(dict(zip(headers, split_row(lines[index]), strict=True)))
                index += 1
            tables[title] = rows
            continue
        index += 1
    return tables


def split_row(line: str) -> list[str]:
    """Cells of a table line, split on unescaped pipes, then unescaped."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [unescape(cell.strip()) for cell in cells]


def unescape(text: str) -> str:
    """Undo backslash escapes."""
    return re.sub(r"\\(.)", r"\1", text)


def by_first_column(rows: list[Row]) -> dict[str, Row]:
    """Rows keyed by their first cell."""
    return {next(iter(row.values())): row for row in rows}


def money(value: float) -> str:
    """A figure as the report prints money: two decimals, thousands separators."""
    return f"{value:,.2f}"


@pytest.fixture(scope="module")
def plans() -> ScenarioPlans:
    """The two solved scenarios."""
    return two_plans()


@pytest.fixture(scope="module")
def comparison(plans: ScenarioPlans) -> Comparison:
    """The two plans compared, labelled base and cut."""
    return plans.comparison()


@pytest.fixture(scope="module")
def tables(comparison: Comparison) -> dict[str, list[Row]]:
    """The comparison's Markdown, parsed back into tables."""
    return parse_tables(render_markdown(comparison))


def test_plans_table_objective_and_gap(plans: ScenarioPlans, tables: dict[str, list[Row]]) -> None:
    """Objective, bound, gap and settings sit in each plan's column; Δ is cut minus base."""
    rows = by_first_column(tables["Plans"])
    assert rows["objective"]["base"] == money(plans.base_eval.objective)
    assert rows["objective"]["cut"] == money(plans.cut_eval.objective)
    difference = plans.cut_eval.objective - plans.base_eval.objective
    relative = 100 * difference / plans.base_eval.objective
    assert rows["objective"]["Δ cut"] == f"{difference:+,.2f} ({relative:+,.2f}%)"
    assert plans.base_plan.gap is not None
    assert rows["gap"]["base"] == f"{plans.base_plan.gap * 100:.3f}%"
    assert rows["status"]["cut"] == plans.cut_plan.status
    assert rows["evaluator"]["base"] == "feasible"
    assert rows["instance"]["cut"] == "gen-S-0-cut"
    assert rows["seed"]["base"] == str(plans.base_plan.solver.seed)


def test_cost_table_parts_and_total(plans: ScenarioPlans, tables: dict[str, list[Row]]) -> None:
    """Each SPEC §7 part and the total, per plan and as a difference."""
    rows = by_first_column(tables["Cost breakdown"])
    for part in COST_PARTS:
        base = getattr(plans.base_eval.costs, part)
        cut = getattr(plans.cut_eval.costs, part)
        assert rows[part]["base"] == money(base)
        assert rows[part]["cut"] == money(cut)
        expected = "0" if money(cut - base) in ("0.00", "-0.00") else f"{cut - base:+,.2f}"
        assert rows[part]["Δ cut"] == expected
    assert rows["total"]["cut"] == money(plans.cut_eval.objective)


def test_site_tables_power_and_accelerators(
    plans: ScenarioPlans, tables: dict[str, list[Row]]
) -> None:
    """Per site: facility / grid kW, power share, accelerators by type, utilization, active."""
    for label, evaluation in (("base", plans.base_eval), ("cut", plans.cut_eval)):
        rows = by_first_column(tables[f"Sites in {label}"])
        assert set(rows) == set(evaluation.sites)
        for site_id, usage in evaluation.sites.items():
            row = rows[site_id]
            assert row["facility / grid kW"].startswith(
                f"{usage.facility_kw:,.1f} / {usage.grid_kw:,.1f}"
            )
            assert row["IT kW"] == f"{usage.it_kw:,.1f}"
            assert row["power"] == f"{100 * usage.facility_kw / usage.grid_kw:,.1f}%"
            assert row["active"] == ("yes" if usage.active else "no")
            for item in usage.accelerators.values():
                assert (
                    f"{item.accelerator} {item.used:,} / {item.count:,}"
                    in row["accelerators: used / installed"]
                )
            assert row["utilization"] == f"{100 * usage.utilization:,.1f}%"
    side = by_first_column(tables["Sites side by side"])
    delta = plans.cut_eval.sites[CUT_SITE].facility_kw - plans.base_eval.sites[CUT_SITE].facility_kw
    assert side[CUT_SITE]["Δ cut: facility kW"] in (f"{delta:+,.1f}", "0")


def test_latency_tables(plans: ScenarioPlans, tables: dict[str, list[Row]]) -> None:
    """Served and unserved rps, the max latency, and each service's worst latency / SLO."""
    rows = by_first_column(tables["Network latency of served traffic, weighted by rps"])
    for label, evaluation in (("base", plans.base_eval), ("cut", plans.cut_eval)):
        served = sum(route.rps for route in evaluation.routes)
        unserved = sum(service.unserved_rps for service in evaluation.services.values())
        worst = max(route.latency_ms or 0.0 for route in evaluation.routes if route.rps > 0)
        assert rows["served (rps)"][label] == f"{served:,.1f}"
        assert rows["unserved (rps)"][label] == f"{unserved:,.1f}"
        assert rows["max latency (ms)"][label] == f"{worst:,.2f}"
    services = by_first_column(tables["Worst latency per service against its SLO"])
    assert set(services) == set(plans.base_eval.services)
    for service_id, usage in plans.cut_eval.services.items():
        cell = services[service_id]["cut: worst / SLO ms"]
        worst_text = "–" if usage.worst_latency_ms is None else f"{usage.worst_latency_ms:,.1f}"
        assert cell.startswith(f"{worst_text} / {usage.latency_slo_ms:,.1f}")
        assert services[service_id]["cut: unserved rps"] == f"{usage.unserved_rps:,.1f}"


def test_links_table_most_loaded_first(plans: ScenarioPlans, tables: dict[str, list[Row]]) -> None:
    """Limited links with used / capacity Gbps, ordered by their highest load."""
    rows = tables["Most loaded links"]
    limited = {
        tuple(sorted((link.a, link.b))): link
        for link in plans.base_eval.links
        if link.capacity_gbps is not None
    }
    assert len(rows) == len(limited)
    for row in rows:
        first, second = row["link"].split(" – ")
        link = limited[(first, second)]
        assert link.capacity_gbps is not None
        assert row["base: used / capacity Gbps"].startswith(
            f"{link.used_gbps:,.3f} / {link.capacity_gbps:,.3f}"
        )
    peaks = [
        max(
            float(cell.split("(")[1].rstrip("%) ⚠")) for key, cell in row.items() if "used /" in key
        )
        for row in rows
    ]
    assert peaks == sorted(peaks, reverse=True)


def test_placement_tables(comparison: Comparison, tables: dict[str, list[Row]]) -> None:
    """Moved jobs and changed services appear with both placements, readable."""
    (delta,) = comparison.deltas
    moved = tables.get("Training jobs that moved: cut against base", [])
    assert [row["job"] for row in moved] == [move.job for move in delta.training_moves]
    for row, move in zip(moved, delta.training_moves, strict=True):
        assert move.before is not None and move.before.site is not None
        assert (
            row["base"] == f"{move.before.site} / {move.before.accelerator} × {move.before.count:,}"
        )
    changed = tables.get("Services whose replicas changed: cut against base", [])
    assert [row["service"] for row in changed] == [c.service for c in delta.replica_changes]
    for row, change in zip(changed, delta.replica_changes, strict=True):
        assert row["Δ replicas"] in (
            f"{change.replicas_after - change.replicas_before:+,d}",
            "0",
        )
        assert change.after is not None
        for entry in change.after:
            assert f"{entry.site}: {entry.accelerator} × {entry.replicas:,}" in row["cut"]


def test_resilience_table(plans: ScenarioPlans, tables: dict[str, list[Row]]) -> None:
    """Each n+1 service with the capacity left after losing each failure domain."""
    rows = by_first_column(tables["n+1 services in base"])
    resilient = {k: v for k, v in plans.base_eval.services.items() if v.resilience == "n+1"}
    assert set(rows) == set(resilient)
    for service_id, usage in resilient.items():
        cell = rows[service_id]["left after losing each domain (rps)"]
        for domain, left in usage.capacity_left_by_domain.items():
            assert f"{domain}: {left:,.1f}" in cell
        assert rows[service_id]["covered"] == "yes"


def test_resilience_shortfall_and_warning_shown() -> None:
    """A plan short of n+1 capacity reads NOT FEASIBLE, with a warning and `NO ⚠`."""
    instance, solution = thin_resilience_plan()
    markdown = render_markdown(report(instance, solution, label="thin"))
    assert "> **Warning:** thin: not feasible per the evaluator" in markdown
    rows = by_first_column(parse_tables(markdown)["n+1 services in thin"])
    assert rows["search"]["covered"] == "NO ⚠"


def test_long_tables_are_cut_with_a_note(comparison: Comparison) -> None:
    """With max_rows 3 the per-service table keeps 3 rows and says how many it left out."""
    markdown = render_markdown(comparison, max_rows=3)
    rows = parse_tables(markdown)["Worst latency per service against its SLO"]
    assert len(rows) == 3
    total = len(comparison.plans[0].services)
    assert f"Showing 3 of {total} services" in markdown


def test_escape_neutralises_markup() -> None:
    """Markup, table pipes, emphasis, code, links and line breaks become literal text."""
    assert escape("<script>a|b</script>") == r"\<script\>a\|b\</script\>"
    assert escape("x*y_z`[l](u)\nnext") == r"x\*y\_z\`\[l\](u) next"
    assert unescape(escape(SERVICE)) == SERVICE


def test_hostile_ids_are_escaped() -> None:
    """No raw `<` from an id reaches the Markdown, and every id reads back intact."""
    instance, solution = hostile_plan()
    markdown = render_markdown(report(instance, solution))
    for hostile in (SITE_A, SITE_B, REGION, JOB, HOSTILE_NAME):
        assert hostile not in markdown
    assert "<" not in markdown.replace("\\<", "")
    tables = parse_tables(markdown)
    sites = by_first_column(tables[f"Sites in {solution_label()}"])
    assert set(sites) == {SITE_A, SITE_B}
    services = by_first_column(tables["Worst latency per service against its SLO"])
    assert set(services) == {SERVICE}
    jobs = by_first_column(tables["Training jobs"])
    assert set(jobs) == {JOB}


def solution_label() -> str:
    """The label `report` gives one plan without a label."""
    return "plan 1"


def test_plan_without_plan_renders_in_every_format() -> None:
    """A solution without a plan (status unknown) still gives a report in all three formats."""
    plans = two_plans()
    empty = Solution(
        instance=plans.base.name,
        instance_sha256=plans.base.sha256,
        status="unknown",
        solver=plans.base_plan.solver,
    )
    result = compare([(plans.base, plans.base_plan), (plans.base, empty)], labels=["a", "b"])
    markdown = render(result, "md")
    rows = by_first_column(parse_tables(markdown)["Plans"])
    assert rows["objective"]["b"] == "–" and rows["objective"]["Δ b"] == "–"
    assert rows["evaluator"]["b"] == "no plan"
    assert "> **Warning:** b: status unknown, the solution holds no plan" in markdown
    assert "b: status unknown, the solution holds no plan" in render(result, "html")
    assert '"objective": null' in render(result, "json")
