"""`infraplan solve`: batch records, exit status, usage errors, interruption and resume."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from solver.cli import app
from tests.test_batch import write_batch

INFRAPLAN = Path(sys.executable).with_name("infraplan")
#: Generated family-S instances: each uses its whole (short) time limit.
S_INSTANCES = [Path(f"instances/generated/S-{seed}.json") for seed in range(3)]
SPEC_STATUSES = ("optimal", "feasible", "infeasible", "unknown")


def invoke(*args: str | Path) -> tuple[int, str, str]:
    """Run the CLI in-process; exit code, stdout, stderr."""
    result = CliRunner().invoke(app, ["solve", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def summary_rows(out: Path) -> dict[str, dict[str, str]]:
    """summary.csv rows keyed by instance name."""
    with (out / "summary.csv").open() as stream:
        return {row["name"]: row for row in csv.DictReader(stream)}


def test_batch_with_invalid_and_infeasible_exits_1_with_records(tmp_path: Path) -> None:
    """A directory and a glob; the invalid and infeasible instances are recorded, the
    others solved, one line each, a table, and exit status 1."""
    paths = write_batch(tmp_path / "in")
    out = tmp_path / "out"
    code, stdout, stderr = invoke(
        tmp_path / "in",
        tmp_path / "in" / "t*.json",
        "-o",
        out,
        "--time-limit",
        "5",
        "--workers",
        "1",
        "--jobs",
        "2",
    )
    assert code == 1
    assert "Traceback" not in stdout + stderr
    finished = [line for line in stdout.splitlines() if line.startswith("[")]
    assert len(finished) == 4
    assert any("] example: optimal objective=2,778,598.80 gap=0.0000%" in line for line in finished)
    assert "batch summary" in stdout
    rows = summary_rows(out)
    assert {name: row["status"] for name, row in rows.items()} == {
        "bad": "invalid",
        "example": "optimal",
        "infeasible": "infeasible",
        "tiny": "optimal",
    }
    assert rows["bad"]["error"].startswith(f"{paths['bad']}: training[0].options[0].accelerator")
    assert sorted(p.name for p in out.iterdir()) == [
        "example.solution.json",
        "infeasible.solution.json",
        "summary.csv",
        "summary.json",
        "tiny.solution.json",
    ]


def test_batch_where_every_instance_has_a_plan_exits_0(tmp_path: Path) -> None:
    """All solved: exit status 0 and the summary says so."""
    paths = write_batch(tmp_path / "in")
    out = tmp_path / "out"
    code, _, _ = invoke(paths["example"], paths["tiny"], "-o", out, "--workers", "1")
    assert code == 0
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["counts"] == {"optimal": 2}
    assert summary["settings"]["workers"] == 1
    assert summary["interrupted"] is False


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["missing.json"], "missing.json: no such file or directory"),
        (["nothing-*.json"], "nothing-*.json: no file matches"),
        (["instances/example.json", "--address", "auto"], "--address needs the ray executor"),
        (["instances/example.json", "{clash}"], "would both write example.solution.json"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, extra: list[str], message: str) -> None:
    """Inputs that match nothing, clashing names and bad options: one line, exit 2."""
    clash = tmp_path / "other" / "example.json"
    clash.parent.mkdir()
    shutil.copy("instances/example.json", clash)
    args = [str(clash) if arg == "{clash}" else arg for arg in extra]
    code, _, stderr = invoke(*args, "-o", tmp_path / "out")
    assert code == 2
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert message in stderr
    assert not (tmp_path / "out").exists()


def test_more_threads_than_cores_warns(tmp_path: Path) -> None:
    """jobs x workers beyond the cores gives a warning on stderr, and the batch still runs."""
    jobs = (os.cpu_count() or 1) + 1
    code, _, stderr = invoke(
        "instances/example.json", "-o", tmp_path / "out", "--jobs", str(jobs), "--workers", "1"
    )
    assert code == 0
    assert stderr.startswith(f"warning: {jobs} jobs x 1 CP-SAT workers")


def interrupt_batch(inputs: list[Path], out: Path, sig: signal.Signals) -> tuple[int, str]:
    """Start `infraplan solve` on S instances one at a time; once the first solution file
    exists, send `sig`. Returns the exit status and stderr."""
    process = subprocess.Popen(
        [
            INFRAPLAN,
            "solve",
            *map(str, inputs),
            "-o",
            str(out),
            "--time-limit",
            "1.5",
            "--workers",
            "1",
            "--jobs",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = out / f"{inputs[0].stem}.solution.json"
    deadline = time.monotonic() + 120
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the batch ended before it could be interrupted"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def copy_s_instances(directory: Path) -> list[Path]:
    """S-0..S-2 copied into `directory`."""
    directory.mkdir()
    return [Path(shutil.copy(path, directory / path.name)) for path in S_INSTANCES]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_cleanly_and_resume_finishes_the_rest(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """A signal mid-batch: complete files only, the unfinished named, exit 1; --resume then
    solves only what was not done."""
    inputs = copy_s_instances(tmp_path / "in")
    out = tmp_path / "out"
    code, stderr = interrupt_batch(inputs, out, sig)

    assert code == 1
    assert "Traceback" not in stderr
    assert "interrupted: 2 instances did not finish: S-1, S-2" in stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "S-0.solution.json",
        "summary.csv",
        "summary.json",
    ]
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["interrupted"] is True
    assert summary["unfinished"] == ["S-1", "S-2"]
    done = out / "S-0.solution.json"
    assert orjson.loads(done.read_bytes())["status"] in SPEC_STATUSES
    before = done.stat().st_mtime_ns, done.read_bytes()

    code, stdout, _ = invoke(
        *inputs, "-o", out, "--time-limit", "1.5", "--workers", "1", "--jobs", "2", "--resume"
    )
    rows = summary_rows(out)
    assert {name: row["resumed"] for name, row in rows.items()} == {
        "S-0": "True",
        "S-1": "False",
        "S-2": "False",
    }
    # Under a heavy load an S instance may find no plan in its limit (`unknown`): finished
    # all the same, and the exit status says so.
    assert all(row["status"] in SPEC_STATUSES for row in rows.values())
    assert code == (
        0 if all(row["status"] in ("optimal", "feasible") for row in rows.values()) else 1
    )
    assert (done.stat().st_mtime_ns, done.read_bytes()) == before
    assert all((out / f"S-{seed}.solution.json").is_file() for seed in range(3))
    assert "(resumed)" in stdout
