"""`infraplan solve` (batch), `evaluate` and `validate` on v2 files (SPEC §8-§12)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
from typer.testing import CliRunner

from models import load_instance, load_solution
from solver.cli import app
from tests.checks import assert_valid_plan
from tests.conftest import EXAMPLE_V2_PATH

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def test_batch_solves_and_evaluate_reads_a_scheduled_file(tmp_path: Path) -> None:
    """The SPEC §9 example through the batch: optimal 40,056.00, a v2 solution the
    evaluator accepts (and `infraplan evaluate` exits 0 with the v2 cost parts)."""
    result = runner.invoke(
        app,
        ["solve", str(EXAMPLE_V2_PATH), "-o", str(tmp_path), "--time-limit", "5",
         "--jobs", "1", "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    solution_path = tmp_path / "example-v2.solution.json"
    solution = load_solution(solution_path)
    assert solution.schema_ == "infraplan-solution/v2"
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(40056.0)
    assert_valid_plan(load_instance(EXAMPLE_V2_PATH), solution)
    summary = orjson.loads((tmp_path / "summary.json").read_bytes())
    assert [row["status"] for row in summary["instances"]] == ["optimal"]
    evaluated = runner.invoke(app, ["evaluate", str(EXAMPLE_V2_PATH), str(solution_path)])
    assert evaluated.exit_code == 0
    lines = [line.split() for line in evaluated.stdout.splitlines()]
    assert ["replica_starts", "200.00"] in lines
    assert ["no", "violations"] in lines


def test_bad_v2_file_in_a_batch_is_one_line(tmp_path: Path) -> None:
    """A timeline entry naming an unknown period: the batch names the file and the JSON
    path in its table and exits 1."""
    document = orjson.loads(EXAMPLE_V2_PATH.read_bytes())
    document["sites"][0]["timeline"][0]["period"] = "q9"
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(document))
    validated = runner.invoke(app, ["validate", str(bad)])
    assert validated.exit_code == 1
    assert len(validated.stdout.strip().splitlines()) == 1
    assert "sites[0].timeline[0].period" in validated.stdout
    result = runner.invoke(app, ["solve", str(bad), "-o", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 1
    assert "Traceback" not in result.stdout + result.stderr
