"""Run one method on one instance in a fresh process and measure it.

Each run gets its own spawned process, so peak memory and crashes belong to that
run alone, and a hard timeout can end it. The process writes its stdout and
stderr (solver banners and logs) to a log file, reads the instance from disk,
runs the method, reports every improving plan as it is found, then checks the
plan with the evaluator and saves it.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.harness.methods import MethodSettings, run_method
from benchmarks.harness.records import RunRecord
from models import load_instance
from models.io import save_solution
from solver.evaluate import evaluate

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from benchmarks.harness.methods import MethodName
    from benchmarks.harness.records import Outcome, ProgressPoint

#: Violations kept in a record.
KEPT_VIOLATIONS = 5
#: How often the parent looks at the process while it waits (seconds).
POLL_S = 0.25
#: Hard timeout beyond a method's time limit: this share of the limit plus GRACE_S.
OVERRUN_SHARE = 0.25
GRACE_S = 30.0


@dataclass(frozen=True)
class RunTask:
    """One method on one instance file, with where its outputs go."""

    instance_path: Path
    instance: str
    family: str
    seed: int
    method: MethodName
    settings: MethodSettings
    log_path: Path
    solution_path: Path
    #: Seconds the process may take to start and read the instance.
    load_timeout_s: float = 600.0
    #: Seconds after the instance is read at which the process is killed (None: the
    #: method's time limit plus OVERRUN_SHARE of it plus GRACE_S).
    timeout_s: float | None = None

    @property
    def hard_timeout_s(self) -> float:
        """Seconds after the instance is read at which the process is killed."""
        if self.timeout_s is not None:
            return self.timeout_s
        limit = (
            self.settings.lp_time_limit_s
            if self.method == "lp-bound"
            else self.settings.time_limit_s
        )
        return limit * (1 + OVERRUN_SHARE) + GRACE_S


def peak_rss_mb_of(pid: int) -> float | None:
    """A live process's peak resident memory (Linux VmHWM), None where unreadable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def own_peak_rss_mb() -> float:
    """This process's peak resident memory (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(task: RunTask) -> RunRecord:
    """Run `task` in a fresh spawned process and return what it measured.

    A process that overruns its hard timeout is killed (outcome `timeout`); one
    that dies without answering is `crashed`; one whose method raised is `error`.
    Progress seen before a kill or crash is kept."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(task, sender), daemon=True)
    process.start()
    sender.close()
    watch = _Watch(task, process.pid)
    deadline = time.perf_counter() + task.load_timeout_s
    try:
        while watch.result is None:
            if receiver.poll(POLL_S):
                try:
                    message = receiver.recv()
                except EOFError:
                    break
                if watch.take(message):
                    deadline = time.perf_counter() + task.hard_timeout_s
                continue
            watch.sample_memory()
            if not process.is_alive() and not receiver.poll():
                break
            if time.perf_counter() > deadline:
                watch.sample_memory()
                process.kill()
                watch.outcome = "timeout"
                break
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            process.join()
        receiver.close()
    return watch.record(process.exitcode)


class _Watch:
    """What the parent has heard from the child so far."""

    def __init__(self, task: RunTask, pid: int | None) -> None:
        self.task = task
        self.pid = pid
        self.started: float | None = None
        self.load_s: float | None = None
        self.progress: list[ProgressPoint] = []
        self.peak_rss_mb: float | None = None
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        self.outcome: Outcome | None = None

    def take(self, message: tuple[Any, ...]) -> bool:
        """Record one message; True when it says the method has started."""
        kind = message[0]
        if kind == "ready":
            self.started = time.perf_counter()
            self.load_s = float(message[1])
            return True
        if kind == "progress":
            _, wall_s, objective, bound = message
            self.progress.append((float(wall_s), float(objective), bound))
        elif kind == "done":
            self.result = message[1]
        elif kind == "error":
            self.error = str(message[1])
            self.outcome = "error"
        return False

    def sample_memory(self) -> None:
        """Keep the process's peak memory as last seen (for runs that never answer)."""
        if self.pid is None:
            return
        peak = peak_rss_mb_of(self.pid)
        if peak is not None:
            self.peak_rss_mb = max(peak, self.peak_rss_mb or 0.0)

    def record(self, exitcode: int | None) -> RunRecord:
        """The run's record from everything heard."""
        task = self.task
        base: dict[str, Any] = {
            "instance": task.instance,
            "family": task.family,
            "seed": task.seed,
            "method": task.method,
            "time_limit_s": task.settings.time_limit_s,
            "workers": task.settings.workers,
            "load_s": self.load_s,
            "progress": self.progress,
        }
        if self.result is not None:
            return RunRecord(**base, outcome="finished", **self.result)
        elapsed = None if self.started is None else time.perf_counter() - self.started
        outcome: Outcome = self.outcome or "crashed"
        error = self.error
        if outcome == "timeout":
            error = f"killed after {task.hard_timeout_s:.0f} s (hard timeout)"
        elif outcome == "crashed":
            error = f"process ended without an answer (exit code {exitcode})"
        return RunRecord(
            **base,
            outcome=outcome,
            status="unknown",
            wall_s=None if elapsed is None else round(elapsed, 3),
            peak_rss_mb=self.peak_rss_mb,
            error=error,
        )


def _child(task: RunTask, sender: Connection) -> None:
    """The spawned process: read the instance, run the method, check and save the plan."""
    _redirect_output(task.log_path)
    try:
        loading = time.perf_counter()
        instance = load_instance(task.instance_path)
        sender.send(("ready", time.perf_counter() - loading))

        def on_progress(wall_s: float, objective: float, bound: float | None) -> None:
            sender.send(("progress", wall_s, objective, bound))

        started = time.perf_counter()
        outcome = run_method(task.method, instance, task.settings, on_progress)
        wall_s = time.perf_counter() - started
        peak_rss_mb = own_peak_rss_mb()
        result: dict[str, Any] = {
            "status": outcome.status,
            "bound": outcome.bound,
            "solver_bound": outcome.solver_bound,
            "wall_s": round(wall_s, 3),
            "build_s": None if outcome.build_s is None else round(outcome.build_s, 3),
            "peak_rss_mb": round(peak_rss_mb, 1),
        }
        solution = outcome.solution
        if solution is not None and solution.has_plan:
            evaluation = evaluate(instance, solution)
            save_solution(solution, task.solution_path)
            result.update(
                objective=solution.objective,
                evaluator_accepts=evaluation.feasible,
                evaluator_objective=evaluation.objective,
                violations=[str(v) for v in evaluation.violations[:KEPT_VIOLATIONS]],
                solution_path=str(task.solution_path),
            )
        sender.send(("done", result))
    except BaseException:
        sender.send(("error", traceback.format_exc()))
        raise SystemExit(1) from None
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sender.close()


def _redirect_output(log_path: Path) -> None:
    """Send this process's stdout and stderr, C libraries' included, to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    os.close(handle)
