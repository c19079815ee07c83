"""Reports of v2 plans (SPEC §8-§12): costs with the v2 parts, training timeline, power per
site over time, serving and costs per period, moves against `current`, expansions, and
what changed in time between two v2 plans, in Markdown, JSON and HTML.

Every plan goes through the evaluator first (`assert_valid_plan`); the figures checked
are worked out by hand in each docstring.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from models import Instance, Solution, load_instance, parse_solution
from solver import compare, report, solve
from solver.report import charts_v2 as charts_v2_module
from solver.report import render
from solver.report.charts import charts
from tests.builders import job, link, service, site
from tests.checks import assert_valid_plan
from tests.test_report_markdown import Row, by_first_column, parse_tables
from tests.v2_builders import v2_instance

if TYPE_CHECKING:
    from solver import Comparison

EXAMPLE = Path(__file__).resolve().parents[1] / "instances" / "v2" / "example-v2.json"


@dataclass(frozen=True)
class Plan:
    """An instance and a plan of it the evaluator accepts."""

    instance: Instance
    solution: Solution


def solved(instance: Instance) -> Plan:
    """The instance solved to optimality, checked by the evaluator."""
    solution = solve(instance)
    assert solution.status == "optimal"
    assert_valid_plan(instance, solution)
    return Plan(instance, solution)


def markdown_tables(comparison: Comparison, max_rows: int = 40) -> dict[str, list[Row]]:
    """The comparison's Markdown read back into tables."""
    return parse_tables(render(comparison, "md", max_rows=max_rows))


# -- SPEC §9 worked example ------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Plan:
    """SPEC §9's example, solved: optimal at 40,056.00."""
    plan = solved(load_instance(EXAMPLE))
    assert plan.solution.objective == pytest.approx(40_056.0, abs=1e-6)
    return plan


@pytest.fixture(scope="module")
def example_tables(example: Plan) -> dict[str, list[Row]]:
    """The example's one-plan report as Markdown tables."""
    return markdown_tables(report(example.instance, example.solution, label="optimum"))


def test_costs_show_the_v2_parts(example_tables: dict[str, list[Row]]) -> None:
    """Replica starts 200 (4 replicas started at 50), no lateness, moves or expansions;
    total 40,056.00."""
    costs = by_first_column(example_tables["Cost breakdown"])
    assert costs["replica_starts"]["optimum"] == "200.00"
    assert costs["lateness"]["optimum"] == "0.00"
    assert costs["moves"]["optimum"] == "0.00"
    assert costs["expansions"]["optimum"] == "0.00"
    assert costs["total"]["optimum"] == "40,056.00"


def test_timeline_table_holds_the_start_hours(example_tables: dict[str, list[Row]]) -> None:
    """pretrain [0, 100), finetune [100, 150) due 150: on time; both may run until 200."""
    rows = by_first_column(example_tables["Training timeline in optimum"])
    assert list(rows) == ["pretrain", "finetune"]
    pretrain, finetune = rows["pretrain"], rows["finetune"]
    assert (pretrain["site"], pretrain["accelerator"], pretrain["count"]) == ("dc", "h100", "96")
    assert (pretrain["start h"], pretrain["end h"], pretrain["due h"]) == ("0", "100", "–")
    assert (finetune["start h"], finetune["end h"], finetune["due h"]) == ("100", "150", "150")
    assert (finetune["release h"], finetune["deadline h"]) == ("0", "200")
    assert finetune["hours late"] == "0" and finetune["count"] == "160"


def test_power_table_per_period(example_tables: dict[str, list[Row]]) -> None:
    """q1: pretrain's 96 H100 and chat's 4 = 100 x 1.2 = 120 kW of 120; q2: finetune's 160
    and chat's 8, (160 + 8) x 1.2 = 201.6 kW of 240."""
    dc = by_first_column(
        example_tables["Peak facility power per period in optimum: kW of the grid budget"]
    )["dc"]
    assert dc["q1"] == "120.0 / 120.0 (100.0%)"
    assert dc["q2"] == "201.6 / 240.0 (84.0%)"


def test_serving_per_period(example_tables: dict[str, list[Row]]) -> None:
    """chat: 2 replicas serve 20 rps in q1, 4 serve 40 in q2; nothing unserved."""
    periods = by_first_column(example_tables["Serving per period in optimum"])
    assert [periods["q1"][c] for c in ("replicas", "served rps", "unserved rps")] == [
        "2",
        "20.0",
        "0.0",
    ]
    assert periods["q2"]["replicas"] == "4" and periods["q2"]["demand rps"] == "40.0"
    chat = by_first_column(example_tables["Replicas and rps per service and period in optimum"])
    assert chat["chat"]["q1"] == "2 · 20.0 / 20.0"
    assert chat["chat"]["q2"] == "4 · 40.0 / 40.0"
    assert chat["total"]["q2"] == "4 · 40.0 / 40.0"


def test_costs_per_period_sum_to_the_objective(example_tables: dict[str, list[Row]]) -> None:
    """Rate 2.12: q1 = pretrain 96 x 100 h (20,352) + chat 4 H100 x 100 h (848) + 2 starts
    (100) = 21,300; q2 = finetune 160 x 50 h (16,960) + 8 H100 x 100 h (1,696) + 2 starts
    (100) = 18,756; 21,300 + 18,756 = 40,056."""
    rows = by_first_column(example_tables["Costs per period in optimum"])
    assert (rows["q1"]["training"], rows["q1"]["serving"]) == ("20,352.00", "848.00")
    assert rows["q1"]["replica starts"] == "100.00" and rows["q1"]["total"] == "21,300.00"
    assert rows["q2"]["training"] == "16,960.00" and rows["q2"]["total"] == "18,756.00"


def test_json_carries_the_v2_figures(example: Plan) -> None:
    """Schema infraplan-report/v2 and the figures above in plans[0].v2."""
    document = orjson.loads(render(report(example.instance, example.solution), "json"))
    assert document["schema"] == "infraplan-report/v2"
    v2 = document["plans"][0]["v2"]
    assert [(row["job"], row["start"], row["end"]) for row in v2["timeline"]] == [
        ("pretrain", 0, 100.0),
        ("finetune", 100, 150.0),
    ]
    peaks = [(p["period"], p["peak_kw"], p["grid_kw"]) for p in v2["power"][0]["periods"]]
    assert peaks == [("q1", pytest.approx(120.0), 120.0), ("q2", pytest.approx(201.6), 240.0)]
    assert document["plans"][0]["summary"]["costs"]["replica_starts"] == 200.0
    assert v2["moves"] is None and v2["expansions"] is None


def test_v1_json_has_no_v2_keys() -> None:
    """A v1 plan's report keeps schema v1 and no `v2` key (the golden tests pin the rest)."""
    from tests.test_report_compare import two_plans

    document = orjson.loads(render(two_plans().comparison(), "json"))
    assert document["schema"] == "infraplan-report/v1"
    assert all("v2" not in plan for plan in document["plans"])
    assert all("v2" not in delta for delta in document["deltas"])


def test_html_has_the_timeline_and_power_charts(example: Plan) -> None:
    """One self-contained page with the Gantt and the power step chart inline."""
    page = render(report(example.instance, example.solution), "html")
    assert '<figure id="chart-timeline">' in page
    assert '<figure id="chart-power-time">' in page
    assert 'id="timeline"' in page and 'id="power-over-time"' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script" not in page


# -- a late plan compared with the optimum -------------------------------------------------


@pytest.fixture(scope="module")
def late(example: Plan) -> Plan:
    """The optimum with pretrain from hour 1 and finetune from 101: finetune ends at 151,
    one hour past due: lateness 1,000, objective 41,056.00."""
    document: dict[str, Any] = orjson.loads(example.solution.model_dump_json(by_alias=True))
    document = copy.deepcopy(document)
    for entry in document["training"]:
        entry["start_hour"] += 1
    document["costs"]["lateness"] = 1_000.0
    document["objective"] = 41_056.0
    document["status"] = "feasible"
    document["bound"] = None
    solution = parse_solution(document)
    assert_valid_plan(example.instance, solution)
    return Plan(example.instance, solution)


def test_late_job_is_flagged(late: Plan) -> None:
    """finetune: 1 hour late at 1,000 an hour."""
    tables = markdown_tables(report(late.instance, late.solution, label="late"))
    finetune = by_first_column(tables["Training timeline in late"])["finetune"]
    assert (finetune["start h"], finetune["end h"]) == ("101", "151")
    assert finetune["hours late"] == "1 ⚠" and finetune["lateness cost"] == "1,000.00"
    svg = charts(report(late.instance, late.solution))["timeline"]
    assert "1 h late" in svg


def test_compare_shows_start_hour_changes(example: Plan, late: Plan) -> None:
    """Both jobs start 1 hour later; pretrain's last hour (96 x 2.12 = 203.52) moves from
    q1 to q2; lateness 1,000 is tied to no period; the objective rises by 1,000."""
    comparison = compare(
        [(example.instance, example.solution), (late.instance, late.solution)],
        labels=["optimum", "late"],
    )
    tables = markdown_tables(comparison)
    shifted = by_first_column(tables["Jobs that start at another hour: late against optimum"])
    assert shifted["pretrain"]["optimum: start h"] == "0"
    assert shifted["pretrain"]["late: start h"] == "1"
    assert shifted["pretrain"]["shift h"] == "+1" and shifted["finetune"]["shift h"] == "+1"
    per_period = by_first_column(tables["Cost per period: late against optimum"])
    assert per_period["q1"]["Δ"] == "-203.52" and per_period["q2"]["Δ"] == "+203.52"
    assert per_period["not tied to a period"]["Δ"] == "+1,000.00"
    assert "Jobs that run at another site or accelerator: late against optimum" not in tables
    assert "_No job runs at another site or accelerator._" in render(comparison, "md")
    delta = comparison.deltas[0].v2
    assert delta is not None and delta.objective_change == pytest.approx(1_000.0)
    assert "timeline-1" in charts(comparison) and "power-time-2" in charts(comparison)


# -- SPEC §10: moves from the current plan ---------------------------------------------------


def moving_instance() -> Instance:
    """Static, 10 h. Site A charges 10 per GPU-hour, B nothing; link A-B egress 0.02/GB.
    Current: j (4 GPUs, 5 h, move cost 100, checkpoint 500 GB) and k (2 GPUs, 5 h, move
    cost 1,000) at A, service s with 3 replicas at A (needs 2: 20 rps at 10 per replica;
    start cost 5). Optimum 220: j moves to B (100 + 500 x 0.02 = 110 instead of 4 x 5 x 10
    = 200 at A), k stays (2 x 5 x 10 = 100 < 1,000), s starts 2 replicas at B (10) and
    stops A's 3."""
    return v2_instance(
        name="moving",
        sites=[site("A", {"gpu": (8, 10.0)}), site("B", {"gpu": (8, 0.0)})],
        regions=["r"],
        links=[
            link("A", "B", 5.0, egress_cost_per_gb=0.02),
            link("r", "A", 5.0),
            link("r", "B", 5.0),
        ],
        training=[
            job("j", {"gpu": 4}, 5, move_cost=100.0, checkpoint_gb=500.0),
            job("k", {"gpu": 2}, 5, move_cost=1_000.0, checkpoint_gb=50.0),
        ],
        inference=[service("s", {"gpu": (1, 10.0)}, {"r": 20.0}, replica_start_cost=5.0)],
        current={
            "training": [
                {"job": "j", "site": "A", "accelerator": "gpu"},
                {"job": "k", "site": "A", "accelerator": "gpu"},
            ],
            "inference": [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 3}],
        },
    )


@pytest.fixture(scope="module")
def moved() -> Plan:
    """The moving instance solved: 220.00."""
    plan = solved(moving_instance())
    assert plan.solution.objective == pytest.approx(220.0, abs=1e-6)
    return plan


@pytest.fixture(scope="module")
def stayed(moved: Plan) -> Plan:
    """Everything stays at A (2 of the 3 replicas kept): j 200 + k 100 + s 2 x 10 h x 10
    = 200; no move, nothing started: 500.00."""
    inst = moved.instance
    document = {
        "schema": "infraplan-solution/v2",
        "instance": inst.name,
        "instance_sha256": inst.sha256,
        "status": "feasible",
        "objective": 500.0,
        "training": [
            {"job": "j", "site": "A", "accelerator": "gpu", "count": 4},
            {"job": "k", "site": "A", "accelerator": "gpu", "count": 2},
        ],
        "unplaced_training": [],
        "inference": [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 2}],
        "routes": [{"service": "s", "region": "r", "site": "A", "rps": 20.0}],
        "unserved": [],
        "expansions": [],
        "costs": {
            "compute": 500.0,
            "lateness": 0.0,
            "moves": 0.0,
            "replica_starts": 0.0,
            "expansions": 0.0,
        },
        "solver": {"name": "hand", "version": "0"},
    }
    solution = parse_solution(document)
    assert_valid_plan(inst, solution)
    return Plan(inst, solution)


def test_moves_report(moved: Plan) -> None:
    """j moved A -> B: 100 + 500 GB x 0.02 = 110; k continues; A stops 3 replicas, B
    starts 2 (start cost 10); 500 GB of checkpoint moved."""
    tables = markdown_tables(report(moved.instance, moved.solution, label="replan"))
    jobs = by_first_column(tables["Jobs moved in replan"])
    assert list(jobs) == ["j"]
    j = jobs["j"]
    assert (j["from"], j["to"]) == ("A / gpu", "B / gpu")
    assert (j["move cost"], j["checkpoint GB"], j["checkpoint egress"]) == (
        "100.00",
        "500.0",
        "10.00",
    )
    assert j["cost"] == "110.00"
    summary = {row["figure"]: row["value"] for row in tables["Moves in replan"]}
    assert summary["jobs moved"] == "1" and summary["jobs continuing"] == "1"
    assert summary["checkpoint data moved (GB)"] == "500.0"
    assert summary["move cost (moves + checkpoint egress)"] == "110.00"
    assert summary["replica changes in the first period"] == "5"
    assert summary["replica start cost"] == "10.00"
    sites = by_first_column(
        tables["Replicas per site, current against the first period, in replan"]
    )
    assert [sites["A"][c] for c in ("current", "first period", "started", "stopped")] == [
        "3",
        "0",
        "0",
        "3",
    ]
    assert [sites["B"][c] for c in ("current", "first period", "started", "stopped")] == [
        "0",
        "2",
        "2",
        "0",
    ]
    markdown = render(report(moved.instance, moved.solution), "md")
    assert "Continuing at their current site and accelerator: k." in markdown


def test_moving_against_the_saving(stayed: Plan, moved: Plan) -> None:
    """Against staying (500), the replan costs 220: -280, of which +110 is moving, so
    leaving moving aside the change is -390: moving pays."""
    comparison = compare(
        [(stayed.instance, stayed.solution), (moved.instance, moved.solution)],
        labels=["stay", "replan"],
    )
    tables = markdown_tables(comparison)
    figures = {
        row["figure"]: row["value"]
        for row in tables["Objective change against the cost of moving: replan against stay"]
    }
    assert figures["objective change"] == "-280.00"
    assert figures["of which move cost (moves + checkpoint egress)"] == "+110.00"
    assert figures["change leaving moving aside"] == "-390.00"
    markdown = render(comparison, "md")
    assert "Moving costs 110.00 and saves 390.00 elsewhere: it pays." in markdown
    resited = by_first_column(
        tables["Jobs that run at another site or accelerator: replan against stay"]
    )
    assert resited["j"] == {"job": "j", "stay": "A / gpu", "replan": "B / gpu"}


def test_power_over_time_keeps_the_busiest_sites(
    moved: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for one site, the table and the chart keep B (j and s: 6 GPUs = 6 kW) over
    A (k: 2 kW) and say one site was left out."""
    comparison = report(moved.instance, moved.solution, label="replan")
    tables = markdown_tables(comparison, max_rows=1)
    title = "Peak facility power per period in replan: kW of the grid budget"
    assert list(by_first_column(tables[title])) == ["B"]
    assert "Showing 1 of 2 sites (highest facility power first)" in render(
        comparison, "md", max_rows=1
    )
    monkeypatch.setattr(charts_v2_module, "MAX_POWER_TIME_SITES", 1)
    page = render(comparison, "html")
    assert "The 1 of 2 sites drawing most facility power at any time in replan; 1 left out" in page
    assert "busiest 1 of 2 sites" in page


# -- SPEC §11: expansions ----------------------------------------------------------------


def expansion_instance() -> Instance:
    """Periods p1, p2 of 10 h. Site A: 10 GPUs (1 kW each, PUE 1), grid 10 kW, fixed cost
    500; expansion x from p2 (cost 1,000) adds 5 kW and 4 GPUs. Job j needs 12 GPUs for 5 h:
    it fits only in p2 with x. Optimum 1,500."""
    return v2_instance(
        {"p1": 10, "p2": 10},
        name="expanding",
        sites=[
            site(
                "A",
                {"gpu": (10, 0.0)},
                grid_kw=10.0,
                fixed_cost=500.0,
                expansions=[
                    {
                        "id": "x",
                        "period": "p2",
                        "cost": 1_000.0,
                        "grid_kw": 5.0,
                        "inventory": [{"accelerator": "gpu", "count": 4}],
                    }
                ],
            )
        ],
        training=[job("j", {"gpu": 12}, 5)],
    )


def test_expansions_report() -> None:
    """x chosen in p2 for 1,000. In p2 the grid goes 10 -> 15 kW and j draws 12: 2 of the 5
    kW bought are used (40 %); GPUs 10 -> 14, 12 used: 2 of 4 (50 %). In p1 nothing is
    bought. The power table shows p2's budget before expansions."""
    plan = solved(expansion_instance())
    assert plan.solution.objective == pytest.approx(1_500.0, abs=1e-6)
    comparison = report(plan.instance, plan.solution, label="grow")
    tables = markdown_tables(comparison)
    chosen = tables["Expansions chosen in grow"]
    assert chosen == [
        {
            "site": "A",
            "expansion": "x",
            "period": "p2",
            "adds": "grid 5.0 kW; gpu × 4",
            "cost": "1,000.00",
        }
    ]
    rows = {
        (row["resource"], row["period"]): row
        for row in tables["Capacity before and after expansions against use in grow"]
    }
    grid = rows[("grid kW", "p2")]
    assert [grid[c] for c in ("before", "after", "peak use", "bought", "used of bought")] == [
        "10.0",
        "15.0",
        "12.0",
        "5.0",
        "2.0",
    ]
    assert grid["utilization of bought"] == "40.0%"
    assert rows[("gpu", "p2")]["utilization of bought"] == "50.0%"
    assert rows[("gpu", "p1")]["bought"] == "0.0"
    assert rows[("gpu", "p1")]["utilization of bought"] == "–"
    power = by_first_column(
        tables["Peak facility power per period in grow: kW of the grid budget"]
    )["A"]
    assert power["p2"] == "12.0 / 15.0 (80.0%) (10.0 before expansions)"
    markdown = render(comparison, "md")
    assert "1 of 1 offered chosen; spend 1,000.00." in markdown
    costs = by_first_column(tables["Cost breakdown"])
    assert costs["expansions"]["grow"] == "1,000.00"
    assert "budget before expansions" in charts(comparison)["power-time"]


@pytest.mark.parametrize("build", ["example", "moving", "expanding"])
def test_costs_over_time_sum_to_the_objective(build: str, example: Plan) -> None:
    """Each period's costs plus the one-time costs are the evaluator's objective."""
    plan = {
        "example": lambda: example,
        "moving": lambda: solved(moving_instance()),
        "expanding": lambda: solved(expansion_instance()),
    }[build]()
    v2 = report(plan.instance, plan.solution).plans[0].v2
    assert v2 is not None
    total = sum(row.total for row in v2.period_costs) + sum(v2.one_time_costs.values())
    assert total == pytest.approx(plan.solution.objective, rel=1e-9)
