"""`infraplan replan` and `solver.replan` end to end (SPEC §10), figures by hand.

The instance: two sites with the same 100 GPUs at 1 kW and free power, `a` at 3.0 and
`b` at 2.0 per GPU-hour, horizon 100 h; jobs j1, j2, j3 of 10, 20 and 30 GPUs for
100 h. The current plan runs all three at `a`: 60 x 100 x 3 = 18,000. Moving a job to
`b` saves count x 100 x (3 - 2): 1,000, 2,000 and 3,000.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from typer.testing import CliRunner

from models import load_instance, load_solution, parse_instance, parse_solution
from solver import evaluate, replan
from solver import solve as solver_solve
from solver.cli import app
from solver.replan import current_from_solution, with_current
from tests.builders import job, site
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
#: Seconds per solve: every instance here is proved optimal in a fraction of that.
LIMIT = "5"


def document(move_cost: float = 0.0, grid_a: float = 1000.0) -> dict[str, Any]:
    """The instance of the module docstring (v1), each job with `move_cost`."""
    return {
        "schema": "infraplan/v1" if move_cost == 0 else "infraplan/v2",
        "name": "ab",
        "horizon_hours": 100,
        "accelerators": [{"id": "gpu", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"}],
        "sites": [
            site("a", {"gpu": (100, 3.0)}, grid_kw=grid_a),
            site("b", {"gpu": (100, 2.0)}, grid_kw=1000.0),
        ],
        "training": [
            job(name, {"gpu": count}, 100, **({"move_cost": move_cost} if move_cost else {}))
            for name, count in (("j1", 10), ("j2", 20), ("j3", 30))
        ],
    }


def current_plan(*extra: dict[str, Any]) -> dict[str, Any]:
    """The plan that runs now: every job at `a` (a v1 solution of an earlier version)."""
    return {
        "schema": "infraplan-solution/v1",
        "instance": "ab",
        "instance_sha256": "0" * 64,
        "status": "feasible",
        "objective": 18000.0,
        "training": [
            {"job": name, "site": "a", "accelerator": "gpu", "count": count}
            for name, count in (("j1", 10), ("j2", 20), ("j3", 30))
        ]
        + list(extra),
        "solver": {"name": "hand", "version": "0"},
    }


def write(path: Path, data: Any) -> Path:
    path.write_bytes(orjson.dumps(data))
    return path


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def files(tmp_path: Path, move_cost: float = 0.0, grid_a: float = 1000.0) -> tuple[Path, Path]:
    return (
        write(tmp_path / "ab.json", document(move_cost, grid_a)),
        write(tmp_path / "current.json", current_plan()),
    )


def written(out: Path) -> tuple[Any, Any]:
    """The re-plan instance and solution written, checked by the evaluator."""
    instance = load_instance(out / "ab.replan.instance.json")
    solution = load_solution(out / "ab.replan.solution.json")
    assert_valid_plan(instance, solution)
    return instance, solution


def sites_of(solution: Any) -> dict[str, str]:
    return {entry.job: entry.site for entry in solution.training}


def test_replan_moves_every_job_to_the_cheaper_site(tmp_path: Path) -> None:
    """No move cost, no budget: all three move to b, 60 x 100 x 2 = 12,000; the files
    hold the instance with `current`, the plan, the report and the moves."""
    instance, current = files(tmp_path)
    code, stdout, stderr = run(
        "replan", instance, "--current", current, "-o", tmp_path / "out", "--time-limit", LIMIT
    )
    assert code == 0, stderr
    assert "keeping the current plan: 18,000.00 (meets every limit)" in stdout
    assert "re-plan: optimal 12,000.00, bound 12,000.00" in stdout
    assert "training moves: 3, continuing: 0" in stdout
    edited, solution = written(tmp_path / "out")
    assert edited.current is not None
    assert [(c.job, c.site) for c in edited.current.training] == [
        ("j1", "a"),
        ("j2", "a"),
        ("j3", "a"),
    ]
    assert solution.objective == pytest.approx(12000.0)
    assert sites_of(solution) == {"j1": "b", "j2": "b", "j3": "b"}
    moves = (tmp_path / "out" / "ab.moves.md").read_text()
    assert "| j3 | a / gpu | b / gpu | 0.00 | 0.00 |" in moves
    report = (tmp_path / "out" / "ab.replan.md").read_text()
    assert "current" in report and "re-plan" in report
    assert (tmp_path / "out" / "ab.replan.html").read_text().startswith("<!DOCTYPE html>")


def test_a_budget_of_zero_moves_keeps_every_job_in_place(tmp_path: Path) -> None:
    """--max-training-moves 0: every job continues at a (18,000), none moves."""
    instance, current = files(tmp_path)
    code, stdout, stderr = run(
        "replan", instance, "--current", current, "-o", tmp_path / "out",
        "--max-training-moves", "0", "--time-limit", LIMIT,
    )  # fmt: skip
    assert code == 0, stderr
    edited, solution = written(tmp_path / "out")
    assert edited.moves is not None and edited.moves.max_training_moves == 0
    assert solution.objective == pytest.approx(18000.0)
    assert solution.status == "optimal"
    assert sites_of(solution) == {"j1": "a", "j2": "a", "j3": "a"}
    assert "training moves: 0, continuing: 3" in stdout


def test_a_budget_of_one_moves_the_job_that_saves_most(tmp_path: Path) -> None:
    """One move: j3 (30 GPUs) saves 3,000: 15,000."""
    instance, current = files(tmp_path)
    code, _, stderr = run(
        "replan", instance, "--current", current, "-o", tmp_path / "out",
        "--max-training-moves", "1", "--time-limit", LIMIT,
    )  # fmt: skip
    assert code == 0, stderr
    _, solution = written(tmp_path / "out")
    assert solution.objective == pytest.approx(15000.0)
    assert sites_of(solution) == {"j1": "a", "j2": "a", "j3": "b"}


def test_move_costs_keep_the_jobs_that_save_less(tmp_path: Path) -> None:
    """move_cost 1,500 a job: j3 nets 1,500, j2 500, j1 -500: move j2 and j3 only,
    18,000 - 1,500 - 500 = 16,000 (moves part 3,000)."""
    instance, current = files(tmp_path, move_cost=1500.0)
    code, _, stderr = run(
        "replan", instance, "--current", current, "-o", tmp_path / "out", "--time-limit", LIMIT
    )
    assert code == 0, stderr
    _, solution = written(tmp_path / "out")
    assert solution.objective == pytest.approx(16000.0)
    assert solution.costs.moves == pytest.approx(3000.0)
    assert sites_of(solution) == {"j1": "a", "j2": "b", "j3": "b"}


def test_never_worse_than_keeping_the_current_plan(tmp_path: Path) -> None:
    """move_cost 5,000: every move costs more than it saves; the re-plan is the current
    plan, 18,000, no moves."""
    instance, current = files(tmp_path, move_cost=5000.0)
    code, _, stderr = run(
        "replan", instance, "--current", current, "-o", tmp_path / "out", "--time-limit", LIMIT
    )
    assert code == 0, stderr
    _, solution = written(tmp_path / "out")
    assert solution.objective == pytest.approx(18000.0)
    assert sites_of(solution) == {"j1": "a", "j2": "a", "j3": "a"}


def test_the_current_plan_is_kept_when_the_search_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search that ends without a plan: the current plan, still feasible, is returned
    (status feasible, its cost 18,000 by the evaluator, kept_current set)."""

    def no_plan(instance: Any, **_: Any) -> Any:
        return parse_solution(
            {
                "schema": "infraplan-solution/v2",
                "instance": instance.name,
                "instance_sha256": instance.sha256,
                "status": "unknown",
                "expansions": [],
                "solver": {"name": "stub", "version": "0"},
            }
        )

    monkeypatch.setattr(importlib.import_module("solver.solve"), "solve", no_plan)
    result = replan(parse_instance(document()), parse_solution(current_plan()))
    assert result.kept_current
    assert result.solution.status == "feasible"
    assert result.solution.objective == pytest.approx(18000.0)
    assert_valid_plan(result.instance, result.solution)


def test_a_current_plan_that_breaks_a_limit_is_not_kept(tmp_path: Path) -> None:
    """Site a now has 40 kW: the current plan (60 kW there) breaks its grid; the re-plan
    keeps what fits at a at most and must move the rest: moving j3 alone (30 kW left at
    a) is the cheapest way, 15,000; and never the current plan."""
    instance, current = files(tmp_path, grid_a=40.0)
    code, stdout, stderr = run(
        "replan", instance, "--current", current, "-o", tmp_path / "out", "--time-limit", LIMIT,
        "--max-training-moves", "1",
    )  # fmt: skip
    assert code == 0, stderr
    assert "keeping the current plan: 18,000.00 (breaks 1 limits, first: grid_power" in stdout
    _, solution = written(tmp_path / "out")
    assert solution.objective == pytest.approx(15000.0)
    assert sites_of(solution) == {"j1": "a", "j2": "a", "j3": "b"}


def test_entries_that_no_longer_exist_are_dropped_one_line_each(tmp_path: Path) -> None:
    """The current plan names a job that is gone: one line says so; the rest re-plans."""
    instance = write(tmp_path / "ab.json", document())
    current = write(
        tmp_path / "current.json",
        current_plan({"job": "old", "site": "a", "accelerator": "gpu", "count": 5}),
    )
    code, stdout, stderr = run(
        "replan", instance, "--current", current, "-o", tmp_path / "out",
        "--max-training-moves", "0", "--time-limit", LIMIT,
    )  # fmt: skip
    assert code == 0, stderr
    assert (
        "dropped from the current plan: training job 'old' at 'a' on 'gpu': "
        "no training job 'old' any more"
    ) in stdout
    _, solution = written(tmp_path / "out")
    assert solution.objective == pytest.approx(18000.0)


def test_frontier_of_training_moves(tmp_path: Path) -> None:
    """Budgets 0, 1, 2, 4: 18,000, 15,000, 13,000, 12,000 (each extra move buys 3,000,
    2,000 and 1,000); the plan with no budget uses 3 moves, so the sweep stops at 4. Every
    point proved optimal, with its plan written and checked."""
    instance, current = files(tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = run(
        "replan", instance, "--current", current, "-o", out, "--frontier", "--time-limit", LIMIT
    )
    assert code == 0, stderr
    curve = orjson.loads((out / "ab.frontier.json").read_bytes())
    points = [(p["budget"], p["used"], p["objective"], p["status"]) for p in curve["points"]]
    assert points == [
        (0, 0, pytest.approx(18000.0), "optimal"),
        (1, 1, pytest.approx(15000.0), "optimal"),
        (2, 2, pytest.approx(13000.0), "optimal"),
        (4, 3, pytest.approx(12000.0), "optimal"),
    ]
    assert curve["floor"]["objective"] == pytest.approx(12000.0)
    assert all(p["bound"] == pytest.approx(p["objective"]) for p in curve["points"])
    assert "stopped at 4: the plan with no budget uses 3" in stdout
    table = (out / "ab.frontier.md").read_text()
    assert "| 1 | 1 | 15,000.00 | 3,000.00 | 3,000.00 | optimal | 15,000.00 | no |" in table
    assert "| 4 | 3 | 12,000.00 | 1,000.00 | 1,000.00 | optimal | 12,000.00 | no |" in table
    assert (out / "ab.frontier.svg").read_text().lstrip().startswith("<?xml")
    base = parse_instance(document())
    projection = current_from_solution(base, parse_solution(current_plan()))
    for budget in (0, 1, 2, 4):
        solution = load_solution(out / f"ab.frontier-{budget}.solution.json")
        edited = with_current(base, projection.current, max_training_moves=budget)
        assert_valid_plan(edited, solution)
    floor = load_solution(out / "ab.replan.solution.json")
    assert floor.objective == pytest.approx(12000.0)
    assert_valid_plan(load_instance(out / "ab.replan.instance.json"), floor)


def test_bad_current_file_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    """A current plan with a bad field: one line naming the file and the JSON path, exit
    1, no output directory."""
    instance = write(tmp_path / "ab.json", document())
    bad = current_plan()
    bad["training"][0]["count"] = -1
    current = write(tmp_path / "current.json", bad)
    code, stdout, stderr = run("replan", instance, "--current", current, "-o", tmp_path / "out")
    assert code == 1
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {current}: ")
    assert "training[0].count" in lines[0]
    assert not (tmp_path / "out").exists()


def test_evaluate_accepts_the_written_files(tmp_path: Path) -> None:
    """`infraplan evaluate` reads the re-plan instance and plan written (v2 files)."""
    instance, current = files(tmp_path, move_cost=1500.0)
    out = tmp_path / "out"
    assert run("replan", instance, "--current", current, "-o", out, "--time-limit", LIMIT)[0] == 0
    code, stdout, _ = run(
        "evaluate", out / "ab.replan.instance.json", out / "ab.replan.solution.json"
    )
    assert code == 0
    assert any(line.split() == ["moves", "3,000.00"] for line in stdout.splitlines())
    assert "note:" not in stdout
    evaluation = evaluate(
        load_instance(out / "ab.replan.instance.json"),
        load_solution(out / "ab.replan.solution.json"),
    )
    assert evaluation.replan is not None and len(evaluation.replan.moves) == 2


def test_replan_of_a_scheduled_plan_continues_its_hour_zero_jobs() -> None:
    """The SPEC §9 example (40,056.00) re-planned from its own optimal plan: pretrain
    started at hour 0, so it is current and continues at hour 0; chat's 2 q1 replicas
    are current, so q1 starts none and q2 starts 2 (100 instead of 200): 39,956.00."""
    from tests.conftest import EXAMPLE_V2_PATH

    instance = load_instance(EXAMPLE_V2_PATH)
    plan = solver_solve(instance, time_limit_s=5.0, workers=1)
    assert plan.objective == pytest.approx(40056.0)
    result = replan(instance, plan, time_limit_s=5.0, workers=1)
    assert result.dropped == []
    assert result.instance.current is not None
    assert [(c.job, c.site) for c in result.instance.current.training] == [("pretrain", "dc")]
    assert [(c.service, c.replicas) for c in result.instance.current.inference] == [("chat", 2)]
    assert result.solution.status == "optimal"
    assert result.solution.objective == pytest.approx(39956.0)
    assert result.solution.costs.replica_starts == pytest.approx(100.0)
    starts = {t.job: t.start_hour for t in result.solution.training}
    assert starts == {"pretrain": 0, "finetune": 100}
    assert_valid_plan(result.instance, result.solution)
