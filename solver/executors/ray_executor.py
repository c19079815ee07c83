"""Ray executor: one Ray task per instance, with its CP-SAT workers' CPUs reserved.

Needs the `ray` extra (`pip install infraplan[ray]`). With no address it starts a local
Ray instance for the batch and shuts it down afterwards; with one (`auto`, `HOST:6379`, or
`ray://HOST:10001` for Ray Client) it joins that cluster, whose nodes need infraplan and
its dependencies installed. If Ray is already initialised in this process it is used as
it is and left running. Instance files are read by the driver and sent as bytes, so the
cluster's nodes need no shared file system; results come back as JSON bytes and are
written by the driver. Progress and start notices travel through a `ray.util.queue.Queue`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from solver.executors.base import (
    Executor,
    ExecutorError,
    Finished,
    Outcome,
    Started,
    one_line,
)
from solver.executors.task import run_task

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from solver.executors.base import Event, Task

#: How long the driver waits for results before checking stop requests and deadlines.
POLL_S = 0.2
#: Tasks in flight per free slot when --jobs is not given: enough to keep the cluster busy,
#: few enough that a batch of thousands does not put every instance in the object store.
IN_FLIGHT_PER_SLOT = 2


class RayUnavailableError(ExecutorError):
    """The `ray` package is not installed."""


def import_ray() -> Any:
    """The `ray` module, or RayUnavailableError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            "the ray executor needs Ray: pip install 'infraplan[ray]'"
        ) from None
    return ray


def _solve_remote(task: Task, queue: Any) -> Outcome:
    """Ray task body: announce the start, solve, relay progress through the queue."""

    def report(event: Event) -> None:
        # Progress is a live view only: a full or gone queue must not fail the solve.
        try:
            queue.put_nowait(event)
        except Exception:
            return

    report(Started(task.key, task.name))
    return run_task(task, report)


class RayExecutor(Executor):
    """Runs each task as a Ray task reserving `settings.workers` CPUs."""

    name = "ray"

    def __init__(self, address: str | None = None, jobs: int | None = None) -> None:
        self.ray = import_ray()
        self.address = address
        #: Most tasks submitted at once; None leaves the scheduling to the cluster.
        self.jobs = jobs

    def slots(self) -> int | None:
        if self.jobs is not None:
            return self.jobs
        if self.ray.is_initialized():
            return max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        return None

    def run(self, tasks: Iterable[Task], stop: Callable[[], bool]) -> Iterator[Event]:
        ray = self.ray
        started_here = not ray.is_initialized()
        if started_here:
            self._connect()
        from ray.util.queue import Queue

        queue = Queue()
        remote = ray.remote(_solve_remote)
        in_flight: dict[Any, Task] = {}
        began: dict[int, float] = {}
        pending = iter(tasks)
        exhausted = False
        try:
            while True:
                if stop():
                    yield from self._cancel(in_flight, pending)
                    return
                while not exhausted and len(in_flight) < self._cap():
                    task = next(pending, None)
                    if task is None:
                        exhausted = True
                        break
                    submitted = self._submit(remote, queue, task)
                    if isinstance(submitted, Finished):
                        yield submitted
                    else:
                        in_flight[submitted] = task
                if not in_flight:
                    return
                ready, _ = ray.wait(
                    list(in_flight), num_returns=len(in_flight), timeout=POLL_S, fetch_local=True
                )
                for event in self._drain(queue):
                    if isinstance(event, Started):
                        began[event.key] = time.perf_counter()
                    yield event
                for ref in ready:
                    task = in_flight.pop(ref)
                    yield Finished(task.key, self._outcome(ref, task, began))
                yield from self._overdue(in_flight, began)
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            queue.shutdown()
            if started_here:
                ray.shutdown()

    def _connect(self) -> None:
        """Start a local Ray, or join the cluster at the address; one line if that fails."""
        try:
            if self.address is None:
                self.ray.init(include_dashboard=False, log_to_driver=False, logging_level="warning")
            else:
                self.ray.init(address=self.address, log_to_driver=False, logging_level="warning")
        except Exception as error:  # Ray raises many kinds here; all mean "no cluster"
            where = "a local Ray" if self.address is None else f"Ray at {self.address}"
            raise ExecutorError(f"cannot start {where}: {one_line(str(error))}") from None

    def _cap(self) -> int:
        """Most tasks in flight: --jobs, else a few per CPU the cluster has now."""
        if self.jobs is not None:
            return self.jobs
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        return IN_FLIGHT_PER_SLOT * max(1, cpus)

    def _submit(self, remote: Any, queue: Any, task: Task) -> Any:
        """Submit one task; a file that cannot be read is finished on the spot."""
        if task.path is not None and task.payload is None and task.instance is None:
            try:
                task = replace(task, payload=task.path.read_bytes(), path=None)
            except OSError as error:
                message = f"{task.source}: $: cannot read file: {error.strerror}"
                return Finished(task.key, Outcome("invalid", error=message))
        options = remote.options(num_cpus=task.settings.workers, max_retries=0)
        return options.remote(task, queue)

    def _outcome(self, ref: Any, task: Task, began: dict[int, float]) -> Outcome:
        wall_s = time.perf_counter() - began.get(task.key, time.perf_counter())
        try:
            outcome: Outcome = self.ray.get(ref)
        except self.ray.exceptions.TaskCancelledError:
            return Outcome("cancelled", error="task cancelled", wall_s=wall_s)
        except self.ray.exceptions.RayError as error:
            return Outcome("crashed", error=one_line(str(error)), wall_s=wall_s)
        return outcome

    def _overdue(self, in_flight: dict[Any, Task], began: dict[int, float]) -> Iterator[Event]:
        now = time.perf_counter()
        for ref, task in list(in_flight.items()):
            running_s = now - began.get(task.key, now)
            if running_s > task.kill_after_s:
                self.ray.cancel(ref, force=True)
                del in_flight[ref]
                message = (
                    f"still running {running_s:.0f} s after its start "
                    f"(time limit {task.settings.time_limit_s:g} s): task killed"
                )
                yield Finished(task.key, Outcome("timeout", error=message, wall_s=running_s))

    @staticmethod
    def _drain(queue: Any) -> list[Event]:
        size = queue.qsize()
        return list(queue.get_nowait_batch(size)) if size else []

    def _cancel(self, in_flight: dict[Any, Task], pending: Iterator[Task]) -> Iterator[Event]:
        for ref in in_flight:
            self.ray.cancel(ref, force=True)
        cancelled = deque(in_flight.values())
        in_flight.clear()
        for task in cancelled:
            yield Finished(task.key, Outcome("cancelled", error="batch stopped"))
        for task in pending:
            yield Finished(task.key, Outcome("cancelled", error="batch stopped before it began"))
