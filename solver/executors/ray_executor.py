"""Ray executor: one Ray task per instance, with its CP-SAT workers' CPUs reserved.

Needs the `ray` extra (`pip install infraplan[ray]`). With no address it starts a local
Ray instance for the batch and shuts it down afterwards; with one (`auto`, `HOST:6379`, or
`ray://HOST:10001` for Ray Client) it joins that cluster, whose nodes need infraplan and
its dependencies installed. Joining fails in one line within seconds, not after Ray's
minute of retries: the address must accept a TCP connection within `CONNECT_TIMEOUT_S`,
and Ray gets `GCS_ATTEMPTS` tries to be let in (a cluster with token authentication
refuses a driver without its token; docs/batch.md says how to give it). If Ray is
already initialised in this process it is used as it is and left running. Instance files
are read by the driver and sent as bytes, so the cluster's nodes need no shared file
system; results come back as JSON bytes and are written by the driver. Progress and start
notices travel through a `ray.util.queue.Queue`.
"""

from __future__ import annotations

import os
import socket
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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
#: Seconds the address has to accept a TCP connection before joining is given up.
CONNECT_TIMEOUT_S = 5.0
#: Times `ray.init` tries the cluster's GCS when joining, about a second apart (Ray's own
#: default is 20; a cluster that is up answers the first). Passed through Ray's
#: RAY_gcs_server_port_wait_time_s, unless that is set already.
GCS_ATTEMPTS = 3
GCS_WAIT_ENV = "RAY_gcs_server_port_wait_time_s"
#: What a driver refused by a cluster with token authentication needs.
TOKEN_HINT = (
    "the cluster uses token authentication: set RAY_AUTH_MODE=token and the cluster's "
    "token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token); see docs/batch.md"
)


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


def host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of `HOST:PORT` or `ray://HOST:PORT`; None for `auto` or no port."""
    if address == "auto":
        return None
    parts = urlsplit(address if "://" in address else f"//{address}")
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname, port


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ExecutorError (one line, within `timeout_s`) when nothing at the address accepts
    a TCP connection; `auto` and addresses without a port are left to Ray."""
    target = host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout_s):
            return
    except TimeoutError:
        reason = f"no answer within {timeout_s:g} s"
    except ConnectionRefusedError:
        reason = f"connection refused (nothing listens on port {target[1]} there)"
    except OSError as error:
        reason = error.strerror or str(error)
    raise ExecutorError(f"cannot reach Ray at {address}: {reason}")


def refused_for_token(error: BaseException) -> bool:
    """Whether joining failed because the cluster refused this driver's token (or its
    lack of one): Ray's AuthenticationError, or its message, anywhere in the chain."""
    seen: BaseException | None = error
    while seen is not None:
        text = f"{type(seen).__name__} {seen}"
        if any(mark in text for mark in ("AuthenticationError", "InvalidAuthToken")):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def _gcs_attempts(attempts: int) -> Iterator[None]:
    """Ray's GCS connection attempts capped at `attempts` while joining (unless set)."""
    if GCS_WAIT_ENV in os.environ:
        yield
        return
    os.environ[GCS_WAIT_ENV] = str(attempts)
    try:
        yield
    finally:
        os.environ.pop(GCS_WAIT_ENV, None)


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
        if self.address is None:
            try:
                self.ray.init(include_dashboard=False, log_to_driver=False, logging_level="warning")
            except Exception as error:  # Ray raises many kinds here; all mean "no cluster"
                raise ExecutorError(f"cannot start a local Ray: {one_line(str(error))}") from None
            return
        check_reachable(self.address)
        try:
            with _gcs_attempts(GCS_ATTEMPTS):
                self.ray.init(address=self.address, log_to_driver=False, logging_level="warning")
        except Exception as error:  # as above
            reason = TOKEN_HINT if refused_for_token(error) else one_line(str(error))
            raise ExecutorError(f"cannot join Ray at {self.address}: {reason}") from None

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
