"""Warnings on the command line: one line `infraplan: warning: <message>` on stderr, never
Python's file name, line number and source line."""

from __future__ import annotations

import copy
import importlib
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from typer.testing import CliRunner

from solver.cli import app, show_warning
from solver.cpsat.scaling import ScalingWarning

if TYPE_CHECKING:
    import pytest

    from models import Instance, Solution
    from solver.evaluation import Evaluation

REPO_ROOT = Path(__file__).resolve().parent.parent
INFRAPLAN = Path(sys.executable).with_name("infraplan")
DATA = REPO_ROOT / "tests" / "data"
PREFIX = "infraplan: warning: "
#: The module (the package's `solver.evaluate` is the function it re-exports).
EVALUATE_MODULE = importlib.import_module("solver.evaluate")


def huge_span_instance(path: Path) -> Path:
    """The SPEC example with a second site, prices from 1e-7 to 1e9 and more demand than
    both sites can serve: the cost scale is capped (a ScalingWarning) and there is no plan."""
    document: dict[str, Any] = orjson.loads((REPO_ROOT / "instances" / "example.json").read_bytes())
    other = copy.deepcopy(document["sites"][0])
    other["id"] = "other"
    other["inventory"][0]["hourly_cost"] = 1e9
    other["energy_price_per_kwh"] = 1e-7
    document["sites"].append(other)
    document["links"].append({"a": "nyc", "b": "other", "latency_ms": 3})
    document["sites"][0]["inventory"][0]["hourly_cost"] = 1e-7
    document["sites"][0]["energy_price_per_kwh"] = 1e-7
    document["inference"][0]["profiles"][0]["rps"] = 1 / 3
    document["inference"][0]["demand_rps"] = {"nyc": 1e6}
    path.write_bytes(orjson.dumps(document))
    return path


def assert_one_line_warnings(stderr: str) -> list[str]:
    """Every stderr line is a one-line warning (no source line, file or class name); the
    warning lines are returned."""
    lines = stderr.splitlines()
    assert lines, "no warning was printed"
    for line in lines:
        assert line.startswith(PREFIX), f"not a one-line warning: {line!r}\n{stderr}"
        assert ".py:" not in line and "ScalingWarning" not in line and "warnings.warn" not in line
    return lines


def test_a_warning_from_a_command_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ScalingWarning raised inside `infraplan evaluate` (with a two-line message) prints
    exactly `infraplan: warning: <message>` on one line, and the command still succeeds."""
    evaluate = EVALUATE_MODULE.evaluate

    def warning_evaluate(instance: Instance, solution: Solution) -> Evaluation:
        warnings.warn("figures span\n  too many orders of magnitude", ScalingWarning, stacklevel=1)
        return evaluate(instance, solution)

    monkeypatch.setattr(EVALUATE_MODULE, "evaluate", warning_evaluate)
    result = CliRunner().invoke(
        app, ["evaluate", str(DATA / "eval_small.json"), str(DATA / "eval_small_plan.json")]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == f"{PREFIX}figures span too many orders of magnitude\n"
    assert "warning" not in result.stdout


def test_the_hook_is_removed_after_the_command() -> None:
    """The one-line hook is installed for a command only, not left behind in the process."""
    before = warnings.showwarning
    result = CliRunner().invoke(app, ["validate", str(DATA / "eval_small.json")])
    assert result.exit_code == 0, result.output
    assert warnings.showwarning is before
    assert warnings.showwarning is not show_warning


def test_real_scaling_warning_in_process(tmp_path: Path) -> None:
    """`infraplan explain` on an instance whose prices span 1e-7 to 1e9 warns about the cost
    scale in one-line warnings only."""
    instance = huge_span_instance(tmp_path / "huge.json")
    result = CliRunner().invoke(app, ["explain", str(instance), "--time-limit", "5"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = assert_one_line_warnings(result.stderr)
    assert any("cost scale capped" in line for line in lines), lines


def test_real_scaling_warning_from_the_installed_command(tmp_path: Path) -> None:
    """The console script prints the same one-line warnings on its real stderr."""
    instance = huge_span_instance(tmp_path / "huge.json")
    finished = subprocess.run(
        [str(INFRAPLAN), "explain", str(instance), "--time-limit", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in finished.stderr, finished.stderr
    lines = assert_one_line_warnings(finished.stderr)
    assert any("cost scale capped" in line for line in lines), lines
    assert finished.stdout.startswith("example: no plan"), finished.stdout
