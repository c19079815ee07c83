"""Local executor: a pool of worker processes on this machine, one task at a time each.

Workers are started with the "spawn" method (CP-SAT's threads do not survive a fork) and
kept for the next task. Each talks to the driver over its own pipe. The pool is built on
`multiprocessing` directly rather than `concurrent.futures`, because a worker that crashes
or hangs must be killed and replaced alone: in a `ProcessPoolExecutor` one dead worker
breaks the whole pool.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import time
import warnings
from collections import deque
from multiprocessing.connection import wait
from typing import TYPE_CHECKING

from solver.executors.base import Executor, Finished, Outcome, Started
from solver.executors.task import run_task
from solver.warning_line import one_line_warning

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnProcess

    from solver.executors.base import Event, OutcomeStatus, Task

#: How often the driver wakes up to check for a stop request or an overdue task.
POLL_S = 0.2
#: Time a worker gets to exit after being asked to, or after SIGTERM, before SIGKILL.
EXIT_GRACE_S = 2.0
#: Time a new worker gets to start up (spawn, imports) before its task's clock runs anyway.
STARTUP_ALLOWANCE_S = 60.0


def _serve(connection: Connection) -> None:
    """Worker main loop: solve each task received until told to stop (None) or orphaned."""
    # Ctrl-C reaches the whole process group; the driver decides what to cancel.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Warnings as the command line shows them: one line, no Python source line.
    warnings.showwarning = one_line_warning
    while True:
        try:
            task: Task | None = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        # The task's clock starts here, not when the driver sent it: spawning a worker and
        # importing OR-Tools takes seconds on a loaded machine.
        connection.send(Started(task.key, task.name))
        outcome = run_task(task, connection.send)
        connection.send(Finished(task.key, outcome))


class _Worker:
    """One worker process, the driver's end of its pipe, and the task it runs."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe(duplex=True)
        self.process: SpawnProcess = context.Process(
            target=_serve, args=(child,), name="infraplan-solve", daemon=True
        )
        self.process.start()
        child.close()
        self.task: Task | None = None
        self.started = 0.0
        #: Whether the worker has picked up its task (sent `Started`).
        self.acknowledged = False
        #: False once the process died or was killed: never given another task.
        self.usable = True

    def assign(self, task: Task) -> None:
        self.task = task
        self.started = time.perf_counter()
        self.acknowledged = False
        self.connection.send(task)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def overdue(self, kill_after_s: float) -> bool:
        """Whether the task has run past `kill_after_s` (or the worker never picked it up)."""
        allowance = 0.0 if self.acknowledged else STARTUP_ALLOWANCE_S
        return self.elapsed() > kill_after_s + allowance

    def receive(self) -> tuple[list[Event], bool]:
        """Events waiting on the pipe, and whether the pipe is closed (the worker is gone)."""
        events: list[Event] = []
        try:
            while self.connection.poll():
                events.append(self.connection.recv())
        except (EOFError, OSError):
            return events, True
        return events, False

    def death(self) -> str:
        """Why the process ended, for the record."""
        self.process.join(EXIT_GRACE_S)
        code = self.process.exitcode
        if code is None:
            return "worker stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"worker died from {name}"
        return f"worker exited with code {code}"

    def kill(self) -> None:
        """End the process now, whatever it is doing."""
        self.usable = False
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(EXIT_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(EXIT_GRACE_S)
        self.connection.close()

    def close(self) -> None:
        """Ask an idle worker to exit; kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            self.connection.send(None)
        self.process.join(EXIT_GRACE_S)
        self.kill()


class LocalExecutor(Executor):
    """Up to `jobs` instances at once, each in its own worker process."""

    name = "local"

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs

    def slots(self) -> int:
        return self.jobs

    def run(self, tasks: Iterable[Task], stop: Callable[[], bool]) -> Iterator[Event]:
        pending = iter(tasks)
        idle: deque[_Worker] = deque()
        busy: list[_Worker] = []
        exhausted = False
        try:
            while True:
                if stop():
                    yield from self._cancel(busy, pending)
                    return
                while not exhausted and len(busy) < self.jobs:
                    task = next(pending, None)
                    if task is None:
                        exhausted = True
                        break
                    worker = idle.popleft() if idle else _Worker()
                    worker.assign(task)
                    busy.append(worker)
                if not busy:
                    return
                wait([w.connection for w in busy] + [w.process.sentinel for w in busy], POLL_S)
                if stop():
                    continue
                for worker in list(busy):
                    for event in self._check(worker):
                        yield event
                        if isinstance(event, Finished):
                            busy.remove(worker)
                            if worker.usable:
                                idle.append(worker)
        finally:
            for worker in busy:
                worker.kill()
            for worker in idle:
                worker.close()

    def _check(self, worker: _Worker) -> Iterator[Event]:
        """Events of one busy worker; a `Finished` for its task if it died or is overdue."""
        task = worker.task
        assert task is not None
        events, closed = worker.receive()
        for event in events:
            if isinstance(event, Started):
                worker.started = time.perf_counter()
                worker.acknowledged = True
            elif isinstance(event, Finished):
                worker.task = None
            yield event
            if worker.task is None:
                return
        if closed or not worker.process.is_alive():
            reason = worker.death()
            worker.kill()
            yield self._failed(worker, task, "crashed", reason)
        elif worker.overdue(task.kill_after_s):
            message = (
                f"still running {worker.elapsed():.0f} s after its start "
                f"(time limit {task.settings.time_limit_s:g} s): worker killed"
            )
            worker.kill()
            yield self._failed(worker, task, "timeout", message)

    @staticmethod
    def _failed(worker: _Worker, task: Task, status: OutcomeStatus, message: str) -> Finished:
        worker.task = None
        return Finished(task.key, Outcome(status, error=message, wall_s=worker.elapsed()))

    @staticmethod
    def _cancel(busy: list[_Worker], pending: Iterator[Task]) -> Iterator[Event]:
        for worker in busy:
            worker.kill()
        for worker in busy:
            assert worker.task is not None
            outcome = Outcome("cancelled", error="batch stopped", wall_s=worker.elapsed())
            yield Finished(worker.task.key, outcome)
        busy.clear()
        for task in pending:
            yield Finished(task.key, Outcome("cancelled", error="batch stopped before it began"))
