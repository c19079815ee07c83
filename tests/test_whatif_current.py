"""`whatif --current` (re-plan from the base plan) and `--scale-grid`, figures by hand.

The instance: sites `a` (2.0 per GPU-hour) and `b` (3.0), 100 GPUs each at 1 kW, PUE 1,
free power, horizon 100 h; jobs j1, j2, j3 of 10, 20 and 30 GPUs for 100 h, each with
`move_cost` 100. The base plan runs all three at `a`: 60 x 100 x 2 = 12,000, which uses
a's 60 kW grid exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import pytest
from typer.testing import CliRunner

from models import load_instance, load_solution, parse_instance, parse_solution
from solver.cli import app
from solver.whatif import EditError, ScaleGrid, apply_edits, whatif
from tests.builders import job, site
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
LIMIT = 5.0


def document() -> dict[str, Any]:
    return {
        "schema": "infraplan/v2",
        "name": "ab",
        "horizon_hours": 100,
        "accelerators": [{"id": "gpu", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"}],
        "sites": [
            site("a", {"gpu": (100, 2.0)}, grid_kw=60.0),
            site("b", {"gpu": (100, 3.0)}, grid_kw=1000.0),
        ],
        "training": [
            job(name, {"gpu": count}, 100, move_cost=100.0)
            for name, count in (("j1", 10), ("j2", 20), ("j3", 30))
        ],
    }


def base_plan() -> dict[str, Any]:
    return {
        "schema": "infraplan-solution/v2",
        "instance": "ab",
        "instance_sha256": "0" * 64,
        "status": "optimal",
        "objective": 12000.0,
        "training": [
            {"job": name, "site": "a", "accelerator": "gpu", "count": count}
            for name, count in (("j1", 10), ("j2", 20), ("j3", 30))
        ],
        "expansions": [],
        "solver": {"name": "hand", "version": "0"},
    }


def test_scale_grid_scales_the_base_and_every_timeline_entry() -> None:
    """0.6 of 100 kW base and of the 200 kW timeline entry; the cooling-only entry and
    the expansion's added kW are left alone."""
    instance = parse_instance(
        {
            "schema": "infraplan/v2",
            "name": "t",
            "periods": [{"id": "q1", "hours": 10}, {"id": "q2", "hours": 10}],
            "accelerators": [{"id": "gpu", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"}],
            "sites": [
                site(
                    "dc",
                    {"gpu": (10, 1.0)},
                    grid_kw=100.0,
                    timeline=[{"period": "q2", "grid_kw": 200.0}],
                    expansions=[{"id": "x", "period": "q2", "cost": 5, "grid_kw": 50.0}],
                )
            ],
        }
    )
    edited = apply_edits(instance, [ScaleGrid.parse("dc=0.6")])
    dc = edited.site_by_id["dc"]
    assert dc.grid_kw == pytest.approx(60.0)
    assert dc.timeline is not None and dc.timeline[0].grid_kw == pytest.approx(120.0)
    assert dc.expansions is not None and dc.expansions[0].grid_kw == pytest.approx(50.0)
    assert edited.schedule.grid_kw["dc"] == pytest.approx([60.0, 120.0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nowhere=0.5", "--scale-grid nowhere=0.5: no site 'nowhere'"),
        ("a=half", "--scale-grid a=half: 'half' is not a number"),
        ("0.5", "--scale-grid 0.5: expected SITE=F"),
    ],
)
def test_scale_grid_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(EditError) as caught:
        apply_edits(parse_instance(document()), [ScaleGrid.parse(text)])
    assert str(caught.value) == message


def test_losing_40_percent_moves_the_fewest_cheapest_jobs() -> None:
    """a keeps 36 kW: at least 24 GPUs must leave. Moving 30 is the least (j3, or j1 and
    j2), 30 x 100 x (3 - 2) = 3,000 more; j3 alone pays one move cost: 12,000 + 3,000 +
    100 = 15,100 (j1 and j2 would pay 200)."""
    result = whatif(
        parse_instance(document()),
        [ScaleGrid("a", 0.6)],
        base=parse_solution(base_plan()),
        time_limit_s=LIMIT,
        from_current=True,
    )
    assert result.replanned is not None
    assert result.edited.status == "optimal"
    assert result.edited.objective == pytest.approx(15100.0)
    assert {t.job: t.site for t in result.edited.training} == {"j1": "a", "j2": "a", "j3": "b"}
    assert result.edited.costs.moves == pytest.approx(100.0)
    assert_valid_plan(result.edited_instance, result.edited)
    assert result.edited_instance.current is not None
    assert result.replanned.baseline_violations[0].startswith("grid_power")
    assert "move j3: a on gpu -> b on gpu (move cost 100.00" in result.summary()


def test_no_move_allowed_has_no_plan() -> None:
    """--max-training-moves 0: the three jobs cannot all stay within 36 kW: infeasible."""
    result = whatif(
        parse_instance(document()),
        [ScaleGrid("a", 0.6)],
        base=parse_solution(base_plan()),
        time_limit_s=LIMIT,
        from_current=True,
        max_training_moves=0,
    )
    assert result.edited.status == "infeasible"


def test_cli_whatif_current_writes_the_replanned_files(tmp_path: Path) -> None:
    """The command line: --current and --scale-grid; the saved instance carries
    `current`, the saved plan is 15,100 and passes the evaluator."""
    instance = tmp_path / "ab.json"
    instance.write_bytes(orjson.dumps(document()))
    base = tmp_path / "base.json"
    base.write_bytes(orjson.dumps(base_plan()))
    result = runner.invoke(
        app,
        [
            "whatif", str(instance), "--current", str(base), "--scale-grid", "a=0.6",
            "--time-limit", str(LIMIT), "-o", str(tmp_path / "r.md"),
            "--save-instance", str(tmp_path / "e.json"),
            "--save-solution", str(tmp_path / "e.solution.json"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "re-planned from the base plan:" in result.stdout
    edited = load_instance(tmp_path / "e.json")
    plan = load_solution(tmp_path / "e.solution.json")
    assert edited.current is not None and len(edited.current.training) == 3
    assert plan.objective == pytest.approx(15100.0)
    assert_valid_plan(edited, plan)


def test_cli_base_and_current_together_is_a_usage_error(tmp_path: Path) -> None:
    instance = tmp_path / "ab.json"
    instance.write_bytes(orjson.dumps(document()))
    result = runner.invoke(
        app, ["whatif", str(instance), "--base", str(instance), "--current", str(instance)]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: give the base plan as --base or as --current, not both"
    )


def test_cli_bad_scale_is_one_line(tmp_path: Path) -> None:
    """A negative grid after scaling: one line naming the file and the JSON path."""
    instance = tmp_path / "ab.json"
    instance.write_bytes(orjson.dumps(document()))
    result = runner.invoke(app, ["whatif", str(instance), "--scale-grid", "a=-1"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {instance} (after edits): ")
    assert "sites[0].grid_kw" in lines[0]
