"""Batch solving (solver.batch, solver.executors): inputs, isolation, resume, summary, Ray."""

from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from models import load_instance, load_solution, save_instance
from solver import solve_many
from solver.batch import (
    BatchUsageError,
    exit_code,
    expand_inputs,
    settings_match,
    write_summary,
)
from solver.executors import ExecutorError, SolveSettings
from solver.executors.ray_executor import GCS_ATTEMPTS, host_port
from solver.executors.task import CRASH_EXIT_CODE, FAULT_ENV, fault_for
from tests import builders as b
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from collections.abc import Iterator

    from solver.batch import BatchResult

TIME_LIMIT_S = 5.0


def write_batch(directory: Path) -> dict[str, Path]:
    """Four instance files: the SPEC example, a tiny feasible one, an infeasible one
    (two 4-accelerator jobs, 6 accelerators) and an invalid one (unknown accelerator)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}.json" for name in ("example", "tiny", "infeasible", "bad")}
    shutil.copy("instances/example.json", paths["example"])
    save_instance(
        b.instance(
            name="tiny",
            sites=[b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (8, 2.0)})],
            training=[b.job("j1", {"gpu": 4}), b.job("j2", {"gpu": 4})],
        ),
        paths["tiny"],
    )
    save_instance(
        b.instance(
            name="infeasible",
            sites=[b.site("A", {"gpu": (6, 1.0)})],
            training=[b.job("j1", {"gpu": 4}), b.job("j2", {"gpu": 4})],
        ),
        paths["infeasible"],
    )
    bad = orjson.loads(paths["tiny"].read_bytes())
    bad["training"][0]["options"][0]["accelerator"] = "tpu"
    paths["bad"].write_bytes(orjson.dumps(bad))
    return paths


def by_name(results: list[BatchResult]) -> dict[str, BatchResult]:
    """Results keyed by instance name."""
    return {result.name: result for result in results}


def plan_without_timing(path: Path) -> dict[str, Any]:
    """A solution file's content without the fields that vary between runs."""
    data = orjson.loads(path.read_bytes())
    for timing in ("wall_s", "build_s"):
        data["solver"].pop(timing, None)
    return dict(data)


def run(paths: list[Path], out: Path | None, **kwargs: Any) -> list[BatchResult]:
    """A small batch: 2 jobs, 1 CP-SAT worker each, short time limit."""
    options: dict[str, Any] = {"time_limit_s": TIME_LIMIT_S, "workers": 1, "jobs": 2}
    options.update(kwargs)
    return list(solve_many(paths, output_dir=out, **options))


def test_expand_inputs_takes_files_directories_and_globs(tmp_path: Path) -> None:
    """Files, a directory's *.json and glob matches, in order, each once."""
    paths = write_batch(tmp_path / "in")
    (tmp_path / "in" / "notes.txt").write_text("not an instance")
    found = expand_inputs(
        [paths["tiny"], tmp_path / "in", str(tmp_path / "in" / "ex*.json"), paths["tiny"]]
    )
    assert found == [paths["tiny"], paths["bad"], paths["example"], paths["infeasible"]]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("missing.json", "no such file or directory"), ("nothing-*.json", "no file matches")],
)
def test_expand_inputs_rejects_what_matches_nothing(
    tmp_path: Path, pattern: str, message: str
) -> None:
    """A missing file or a pattern matching nothing is a usage error naming it."""
    with pytest.raises(BatchUsageError, match=message) as error:
        expand_inputs([str(tmp_path / pattern)])
    assert pattern in str(error.value)


def test_clashing_output_names_fail_before_any_work(tmp_path: Path) -> None:
    """Two inputs that would write one solution file are refused at the call."""
    first = write_batch(tmp_path / "a")["tiny"]
    second = write_batch(tmp_path / "b")["tiny"]
    with pytest.raises(BatchUsageError, match=r"tiny\.solution\.json"):
        solve_many([first, second], output_dir=tmp_path / "out")


def test_batch_records_invalid_and_infeasible_and_goes_on(tmp_path: Path) -> None:
    """An invalid and an infeasible instance get their records; the others are solved."""
    paths = write_batch(tmp_path / "in")
    out = tmp_path / "out"
    results = by_name(run(list(paths.values()), out))

    assert results["example"].status == "optimal"
    assert results["example"].objective == pytest.approx(2_778_598.80)
    assert results["tiny"].status == "optimal"
    assert results["infeasible"].status == "infeasible"
    assert results["infeasible"].objective is None
    assert results["bad"].status == "invalid"
    error = results["bad"].error or ""
    assert error.startswith(f"{paths['bad']}: training[0].options[0].accelerator:")
    assert "\n" not in error
    for name in ("example", "tiny"):
        instance = load_instance(paths[name])
        solution = load_solution(out / f"{name}.solution.json")
        assert solution.instance_sha256 == results[name].sha256 == instance.sha256
        assert_valid_plan(instance, solution)
    assert load_solution(out / "infeasible.solution.json").status == "infeasible"
    assert not (out / "bad.solution.json").exists()
    assert exit_code(results.values()) == 1
    assert exit_code([results["example"], results["tiny"]]) == 0


def test_crashed_and_hung_workers_cost_one_record_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies and one that hangs past its deadline are recorded; the rest run."""
    paths = write_batch(tmp_path / "in")
    monkeypatch.setenv(FAULT_ENV, "crash:tiny,hang:infeasible")
    chosen = [paths["tiny"], paths["infeasible"], paths["example"]]
    results = by_name(run(chosen, tmp_path / "out", kill_after=3.0))

    assert results["tiny"].status == "crashed"
    assert results["tiny"].error == f"worker exited with code {CRASH_EXIT_CODE}"
    assert results["infeasible"].status == "timeout"
    assert "worker killed" in (results["infeasible"].error or "")
    assert results["example"].status == "optimal"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["example.solution.json"]


def test_fault_hook_reads_only_its_own_variable() -> None:
    """The test-only fault hook names instances exactly and ignores unknown kinds."""
    environ = {FAULT_ENV: "crash:a, hang:b,explode:c"}
    assert fault_for("a", environ) == "crash"
    assert fault_for("b", environ) == "hang"
    assert fault_for("c", environ) is None
    assert fault_for("ab", environ) is None
    assert fault_for("a", {}) is None


def test_stop_cancels_running_and_pending_instances(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setting the stop event ends the batch: unfinished instances are `cancelled`, no
    partial file is left."""
    paths = write_batch(tmp_path / "in")
    monkeypatch.setenv(FAULT_ENV, "hang:tiny")
    stop = threading.Event()
    out = tmp_path / "out"
    results: list[BatchResult] = []
    chosen = [paths["example"], paths["tiny"], paths["infeasible"]]
    for result in solve_many(
        chosen, time_limit_s=TIME_LIMIT_S, workers=1, jobs=1, output_dir=out, stop=stop
    ):
        results.append(result)
        stop.set()
    statuses = {result.name: result.status for result in results}
    assert statuses == {"example": "optimal", "tiny": "cancelled", "infeasible": "cancelled"}
    assert sorted(p.name for p in out.iterdir()) == ["example.solution.json"]


def test_resume_skips_matching_solutions_and_resolves_changed_ones(tmp_path: Path) -> None:
    """--resume keeps a solution of the same instance and settings, re-solves a changed
    instance, and re-solves everything under other settings."""
    paths = write_batch(tmp_path / "in")
    chosen = [paths["example"], paths["tiny"]]
    out = tmp_path / "out"
    run(chosen, out)
    kept = out / "example.solution.json"
    kept_stat = kept.stat().st_mtime_ns, kept.read_bytes()

    changed = orjson.loads(paths["tiny"].read_bytes())
    changed["horizon_hours"] = 20.0
    paths["tiny"].write_bytes(orjson.dumps(changed))
    again = by_name(run(chosen, out, resume=True))
    assert again["example"].resumed
    assert again["example"].status == "optimal"
    assert (kept.stat().st_mtime_ns, kept.read_bytes()) == kept_stat
    assert not again["tiny"].resumed
    tiny_solution = load_solution(out / "tiny.solution.json")
    assert tiny_solution.instance_sha256 == load_instance(paths["tiny"]).sha256

    reseeded = run(chosen, out, resume=True, seed=1)
    assert not any(result.resumed for result in reseeded)


def test_settings_match_compares_seed_limit_workers_and_version(tmp_path: Path) -> None:
    """A solution matches only the settings and solver version it was made with."""
    paths = write_batch(tmp_path / "in")
    (result,) = run([paths["tiny"]], None)
    solution = result.solution
    assert solution is not None
    settings = SolveSettings(time_limit_s=TIME_LIMIT_S, workers=1, seed=0)
    assert settings_match(solution, settings)
    assert not settings_match(solution, replace(settings, seed=1))
    assert not settings_match(solution, replace(settings, time_limit_s=TIME_LIMIT_S + 1))
    assert not settings_match(solution, replace(settings, workers=2))
    older = solution.model_copy(
        update={"solver": solution.solver.model_copy(update={"version": "0.0.1"})}
    )
    assert not settings_match(older, settings)


def test_in_memory_instances_need_no_files(tmp_path: Path) -> None:
    """solve_many takes Instance objects and yields their solutions without writing."""
    paths = write_batch(tmp_path / "in")
    instances = [load_instance(paths["example"]), load_instance(paths["tiny"])]
    results = by_name(list(solve_many(instances, time_limit_s=TIME_LIMIT_S, workers=1, jobs=1)))
    assert results["example"].solution is not None
    assert results["example"].solution.objective == pytest.approx(2_778_598.80)
    assert results["tiny"].solution_path is None
    assert results["tiny"].sha256 == instances[1].sha256
    assert list(tmp_path.iterdir()) == [tmp_path / "in"]


def test_summary_files_hold_one_row_per_instance(tmp_path: Path) -> None:
    """summary.json and summary.csv list every instance in input order with its record."""
    paths = write_batch(tmp_path / "in")
    results = run(list(paths.values()), tmp_path / "out")
    json_path, csv_path = write_summary(
        results, tmp_path / "out", settings={"jobs": 2}, wall_s=1.5, interrupted=False
    )
    document = orjson.loads(json_path.read_bytes())
    assert [row["name"] for row in document["instances"]] == list(paths)
    assert document["counts"] == {"infeasible": 1, "invalid": 1, "optimal": 2}
    assert document["unfinished"] == []
    with csv_path.open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["status"] for row in rows] == ["optimal", "optimal", "infeasible", "invalid"]
    assert list(rows[0]) == [
        "name",
        "source",
        "sha256",
        "status",
        "objective",
        "bound",
        "gap",
        "wall_s",
        "resumed",
        "error",
    ]
    assert float(rows[0]["objective"]) == pytest.approx(2_778_598.80)
    assert rows[3]["objective"] == ""
    assert rows[3]["error"].startswith(str(paths["bad"]))


def free_port() -> int:
    """A TCP port nothing listens on (the system's pick, closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RayHead:
    """A Ray head node started for the tests, as a user starts one."""

    address: str
    #: The environment of a driver that has the cluster's token.
    environment: dict[str, str]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayHead]:
    """`ray start --head --block` with a token (own ports and temp dir), stopped by SIGTERM."""
    pytest.importorskip("ray", reason="ray is not installed (pip install 'infraplan[ray]')")
    port, client, agent, agent_grpc, runtime_env = (free_port() for _ in range(5))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    environment |= {
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_USAGE_STATS_ENABLED": "0",
        # On a loaded 2-core machine the raylet registers late (the default wait ended a
        # test run with "GCS cannot find the node"): give it the fixture's own deadline.
        "RAY_raylet_start_wait_time_s": "120",
    }
    log = tmp_path_factory.mktemp("ray-head") / "head.log"
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths
    command = [
        str(Path(sys.executable).with_name("ray")),
        "start",
        "--head",
        "--block",
        f"--port={port}",
        f"--ray-client-server-port={client}",
        f"--dashboard-agent-listen-port={agent}",
        f"--dashboard-agent-grpc-port={agent_grpc}",
        f"--runtime-env-agent-port={runtime_env}",
        "--num-cpus=2",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
    ]
    with log.open("w") as stream:
        head = subprocess.Popen(
            command,
            env=environment,
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text(errors="replace"):
            assert head.poll() is None, f"ray start exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"ray start hung: {log.read_text()[-2000:]}"
            time.sleep(0.5)
        yield RayHead(f"127.0.0.1:{port}", environment)
    finally:
        head.terminate()  # ray start --block drains and stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(temp_dir, ignore_errors=True)


def infraplan_solve(
    paths: list[Path], out: Path, address: str, environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`infraplan solve PATHS -o OUT --executor ray --address ADDRESS`, as a user types it."""
    command = [str(Path(sys.executable).with_name("infraplan")), "solve", *map(str, paths)]
    options = ["-o", str(out), "--executor", "ray", "--address", address]
    limits = ["--time-limit", f"{TIME_LIMIT_S:g}", "--workers", "1"]
    return subprocess.run(
        [*command, *options, *limits],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ray_executor_joins_a_cluster_with_token_authentication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ray_head: RayHead
) -> None:
    """With the token, `solve --address HOST:PORT` gives the local pool's statuses and plans."""
    paths = write_batch(tmp_path / "in")
    crashing = tmp_path / "in" / "crashing.json"
    shutil.copy(paths["tiny"], crashing)
    monkeypatch.setenv(FAULT_ENV, "crash:crashing")
    chosen = [*paths.values(), crashing]
    local = by_name(run(chosen, tmp_path / "local"))
    environment = ray_head.environment | {FAULT_ENV: "crash:crashing"}
    done = infraplan_solve(chosen, tmp_path / "ray", ray_head.address, environment)

    assert done.returncode == 1, done.stderr  # invalid, infeasible and crashed instances
    summary = orjson.loads((tmp_path / "ray" / "summary.json").read_bytes())
    remote = {row["name"]: row for row in summary["instances"]}
    assert {n: r["status"] for n, r in remote.items()} == {n: r.status for n, r in local.items()}
    assert remote["crashing"]["status"] == "crashed"
    assert remote["bad"]["error"] == local["bad"].error
    for name in ("example", "tiny", "infeasible"):
        assert plan_without_timing(tmp_path / "ray" / f"{name}.solution.json") == (
            plan_without_timing(tmp_path / "local" / f"{name}.solution.json")
        )


def test_ray_executor_without_the_token_says_so_after_few_attempts(
    tmp_path: Path, ray_head: RayHead
) -> None:
    """No token: exit 2, one line saying what to set, after at most GCS_ATTEMPTS tries."""
    unset = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")
    environment = {k: v for k, v in ray_head.environment.items() if k not in unset}
    done = infraplan_solve(
        [Path("instances/example.json").resolve()], tmp_path, ray_head.address, environment
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"error: cannot join Ray at {ray_head.address}: ")
    assert "RAY_AUTH_MODE=token" in lines[-1]
    attempts = [line for line in lines if "Failed to get cluster ID" in line]  # Ray's log
    assert len(attempts) <= GCS_ATTEMPTS


def test_ray_executor_names_a_refused_address_without_calling_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens at the address: one line naming it, before ray.init is tried."""
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'infraplan[ray]')")
    monkeypatch.setattr(ray, "init", lambda **_: pytest.fail("ray.init was called"))
    address = f"127.0.0.1:{free_port()}"
    paths = write_batch(tmp_path / "in")
    expected = rf"^cannot reach Ray at {re.escape(address)}: connection refused"
    with pytest.raises(ExecutorError, match=expected):
        run([paths["tiny"]], None, executor="ray", address=address)


def test_ray_addresses_are_split_for_the_reachability_check() -> None:
    """HOST:PORT and ray://HOST:PORT give (host, port); auto and port-less ones are Ray's."""
    assert host_port("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert host_port("ray://head.example:10001") == ("head.example", 10001)
    assert host_port("[::1]:6379") == ("::1", 6379)
    assert host_port("auto") is None
    assert host_port("head.example") is None
    assert host_port("head:port") is None
