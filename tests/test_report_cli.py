"""CLI tests of `infraplan compare` and `infraplan report`: formats by suffix, scenarios read
against their own instances, one-line errors naming the file and JSON path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
from typer.testing import CliRunner

from models import save_solution
from solver.cli import app
from tests.test_report_compare import S0_PATH, ScenarioPlans, two_plans

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two scenarios and their plans as files: the cut instance named after itself."""
    plans: ScenarioPlans = two_plans()
    folder = tmp_path_factory.mktemp("report-cli")
    paths = {
        "base": S0_PATH,
        "cut": folder / f"{plans.cut.name}.json",
        "base_plan": folder / "base.solution.json",
        "cut_plan": folder / "cut.solution.json",
    }
    # Canonical bytes, so the file's sha256 is the one the plan was solved against.
    paths["cut"].write_bytes(plans.cut.canonical_json())
    save_solution(plans.base_plan, paths["base_plan"])
    save_solution(plans.cut_plan, paths["cut_plan"])
    return paths


def test_compare_writes_each_format(files: dict[str, Path], tmp_path: Path) -> None:
    """One run writes .md, .json and .html; the cut plan is read against its own instance."""
    outputs = [tmp_path / "c.md", tmp_path / "c.json", tmp_path / "c.html"]
    args = ["compare", str(files["base"]), str(files["base_plan"]), str(files["cut_plan"])]
    result = runner.invoke(app, [*args, *[f"-o{path}" for path in outputs]])
    assert result.exit_code == 0, result.output
    for path, kind in zip(outputs, ("md", "json", "html"), strict=True):
        assert f"{path}: {kind} report, {path.stat().st_size:,} bytes" in result.stdout
    document = orjson.loads(outputs[1].read_bytes())
    assert document["labels"] == ["base", "cut"]
    instances = [plan["summary"]["instance"] for plan in document["plans"]]
    assert instances == ["gen-S-0", "gen-S-0-cut"]
    assert document["warnings"] == []
    assert document["plans"][1]["summary"]["objective"] == two_plans().cut_eval.objective
    assert outputs[2].read_text().startswith("<!DOCTYPE html>")
    assert outputs[0].read_text().startswith("# Plan comparison: base vs cut")


def test_compare_prints_markdown_with_labels(files: dict[str, Path]) -> None:
    """Without -o the Markdown goes to stdout, with the labels given."""
    result = runner.invoke(
        app,
        [
            "compare",
            str(files["base"]),
            str(files["base_plan"]),
            str(files["cut_plan"]),
            "--label",
            "today",
            "--label",
            "growth",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Plan comparison: today vs growth\n")
    assert f"{two_plans().cut_eval.objective:,.2f}" in result.stdout


def test_report_one_plan(files: dict[str, Path]) -> None:
    """`report` prints one plan's Markdown."""
    result = runner.invoke(app, ["report", str(files["base"]), str(files["base_plan"])])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Plan report: base\n")
    assert f"{two_plans().base_eval.objective:,.2f}" in result.stdout


def test_unknown_scenario_instance_is_one_line(files: dict[str, Path], tmp_path: Path) -> None:
    """A solution naming an instance that cannot be found: one line, file and JSON path, exit 1."""
    lonely = tmp_path / "lonely.solution.json"
    lonely.write_bytes(files["cut_plan"].read_bytes())
    result = runner.invoke(
        app, ["compare", str(files["base"]), str(files["base_plan"]), str(lonely)]
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {lonely}: instance: names instance 'gen-S-0-cut'")
    assert "Traceback" not in result.output


def test_scenario_given_with_instance_option(files: dict[str, Path], tmp_path: Path) -> None:
    """--instance supplies the scenario's file when it is not beside the others."""
    lonely = tmp_path / "lonely.solution.json"
    lonely.write_bytes(files["cut_plan"].read_bytes())
    result = runner.invoke(
        app,
        [
            "compare",
            str(files["base"]),
            str(files["base_plan"]),
            str(lonely),
            "--instance",
            str(files["cut"]),
            "-o",
            str(tmp_path / "c.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    document = orjson.loads((tmp_path / "c.json").read_bytes())
    assert document["plans"][1]["summary"]["instance"] == "gen-S-0-cut"


def test_bad_solution_file_is_one_line(files: dict[str, Path], tmp_path: Path) -> None:
    """A malformed solution: one line naming the file and the JSON path, exit 1."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "infraplan-solution/v1", "instance": 3}')
    result = runner.invoke(app, ["compare", str(files["base"]), str(files["base_plan"]), str(bad)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: ")
    assert "instance" in lines[0]


def test_usage_errors_exit_2(files: dict[str, Path], tmp_path: Path) -> None:
    """One solution for compare, an unknown suffix, or a label count mismatch: exit 2."""
    base = [str(files["base"]), str(files["base_plan"])]
    one = runner.invoke(app, ["compare", *base])
    assert one.exit_code == 2 and "two or more solutions" in one.stderr
    suffix = runner.invoke(app, ["report", *base, "-o", str(tmp_path / "r.txt")])
    assert suffix.exit_code == 2 and "suffix '.txt'" in suffix.stderr
    labels = runner.invoke(app, ["compare", *base, str(files["cut_plan"]), "--label", "x"])
    assert labels.exit_code == 2 and "1 labels given for 2 solutions" in labels.stderr
