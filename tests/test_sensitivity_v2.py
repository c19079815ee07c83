"""`sensitivity` of a v2 plan by hand (SPEC §9-§11).

One site, GPUs at 1 kW, PUE 1, 1.0 per GPU-hour, energy free; periods q1 and q2 of 100 h;
the grid is 50 kW in q1 and 100 kW from q2 (a timeline entry). Job j needs 100 GPUs for
100 h, due at hour 100 at 10 per late hour: it cannot run in q1, so it runs [100, 200),
100 h late: 10,000 + 1,000 = 11,000. Expansion x adds 50 kW from q1 for 1,500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
from typer.testing import CliRunner

from models import Instance, parse_instance
from solver import solve
from solver.cli import app
from solver.sensitivity_v2 import sensitivity_v2
from solver.whatif import AddGrid, apply_edits
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from pathlib import Path

LIMIT = 5.0


def document() -> dict[str, object]:
    return {
        "schema": "infraplan/v2",
        "name": "late",
        "periods": [{"id": "q1", "hours": 100}, {"id": "q2", "hours": 100}],
        "accelerators": [{"id": "gpu", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"}],
        "sites": [
            {
                "id": "dc",
                "grid_kw": 50,
                "pue": 1.0,
                "energy_price_per_kwh": 0.0,
                "inventory": [{"accelerator": "gpu", "count": 100, "hourly_cost": 1.0}],
                "timeline": [{"period": "q2", "grid_kw": 100}],
                "expansions": [{"id": "x", "period": "q1", "cost": 1500, "grid_kw": 50}],
            }
        ],
        "training": [
            {
                "id": "j",
                "options": [{"accelerator": "gpu", "count": 100}],
                "run_hours": 100,
                "due_hour": 100,
                "late_cost_per_hour": 10,
            }
        ],
    }


def instance() -> Instance:
    return parse_instance(document())


def test_add_grid_raises_one_period_only() -> None:
    """+50 kW in q1 only: q1 100 kW, q2 still 100 kW (an entry restores it)."""
    edited = apply_edits(instance(), [AddGrid("dc", "q1", 50)])
    assert edited.schedule.grid_kw["dc"] == [100.0, 100.0]
    edited = apply_edits(instance(), [AddGrid("dc", "q2", 25)])
    assert edited.schedule.grid_kw["dc"] == [50.0, 125.0]


def test_each_question_by_hand() -> None:
    """The plan: 11,000 (late 100 h). +50 kW in q1: runs on time, -1,000 (20 per kW);
    +50 kW in q2: nothing. The q2 power date a period earlier: -1,000. Expansion x free
    saves 1,000, so it is chosen under 1,000: 500 cheaper than its 1,500."""
    problem = instance()
    plan = solve(problem, time_limit_s=LIMIT, workers=1)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(11000.0)
    assert_valid_plan(problem, plan)
    result = sensitivity_v2(problem, plan, step_kw=50, time_limit_s=LIMIT, workers=1)
    rows = {(c.kind, c.subject): c for c in result.changes}
    q1 = rows["grid +step in a period", "dc in q1 (+50 kW)"]
    assert q1.change == pytest.approx(-1000.0)
    assert q1.per_unit == pytest.approx(20.0)
    assert q1.proved
    assert rows["grid +step in a period", "dc in q2 (+50 kW)"].change == pytest.approx(0.0)
    earlier = rows["power date one period earlier", "dc q2 -> q1"]
    assert earlier.change == pytest.approx(-1000.0)
    assert earlier.proved
    expansion = rows["expansion not chosen", "dc x"]
    assert expansion.per_unit == pytest.approx(500.0)
    assert expansion.note == "chosen if it cost under 1,000 (now 1,500): 500 cheaper"


def test_cli_sensitivity_reads_a_v2_plan(tmp_path: Path) -> None:
    """The command line dispatches v2 files to these questions (JSON output)."""
    path = tmp_path / "late.json"
    path.write_bytes(orjson.dumps(document()))
    runner = CliRunner()
    solved = runner.invoke(
        app, ["solve", str(path), "-o", str(tmp_path), "--time-limit", "5", "--jobs", "1"]
    )
    assert solved.exit_code == 0, solved.stderr
    result = runner.invoke(
        app,
        ["sensitivity", str(path), str(tmp_path / "late.solution.json"), "--step-kw", "50",
         "--time-limit", "5", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = orjson.loads(result.stdout)
    kinds = sorted({c["kind"] for c in data["changes"]})
    assert kinds == [
        "expansion not chosen",
        "grid +step in a period",
        "power date one period earlier",
    ]
