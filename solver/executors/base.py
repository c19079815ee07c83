"""The one interface every batch executor offers: tasks in, events out.

An executor runs `Task`s (one instance each) somewhere: worker processes on this machine
(`LocalExecutor`) or tasks on a Ray cluster (`RayExecutor`). It reports `Started`,
`Progress` and exactly one `Finished` per task, whose `Outcome` carries the solution as
JSON bytes; writing files is the driver's job (`solver.batch`), never the executor's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from models import Instance

#: Outcomes of one task: the SPEC's solution statuses, then the ways a task can fail to
#: produce a solution.
OutcomeStatus = Literal[
    "optimal",
    "feasible",
    "infeasible",
    "unknown",
    "invalid",  # the instance did not load (bad JSON, schema, references, unreadable)
    "error",  # solve() raised: a bug in infraplan, never a property of the instance
    "crashed",  # the worker process died (segfault, out of memory, os._exit)
    "timeout",  # still running long after its time limit: the worker was killed
    "cancelled",  # the batch was stopped before the task finished
]
NO_PLAN_STATUSES: frozenset[str] = frozenset(
    {"infeasible", "unknown", "invalid", "error", "crashed", "timeout", "cancelled"}
)


@dataclass(frozen=True)
class SolveSettings:
    """The solver settings every instance of a batch is solved with (and resume compares)."""

    time_limit_s: float
    workers: int
    seed: int


@dataclass(frozen=True)
class Task:
    """One instance to solve: from a file (`path`, or its bytes in `payload`) or in memory."""

    key: int
    name: str
    source: str
    settings: SolveSettings
    #: Seconds after its start at which a task that has not finished is killed.
    kill_after_s: float
    path: Path | None = None
    payload: bytes | None = None
    instance: Instance | None = None
    #: Test-only fault to inject in the worker ("crash" or "hang"); see `solver.executors.task`.
    fault: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a task: its status, the solution as JSON bytes, or an error line."""

    status: OutcomeStatus
    solution_json: bytes | None = None
    error: str | None = None
    wall_s: float = 0.0


@dataclass(frozen=True)
class Started:
    """Task `key` (instance `name`) began running."""

    key: int
    name: str


@dataclass(frozen=True)
class Progress:
    """Task `key` found an improving plan."""

    key: int
    wall_s: float
    objective: float
    bound: float | None


@dataclass(frozen=True)
class Finished:
    """Task `key` is over, one way or another."""

    key: int
    outcome: Outcome


Event = Started | Progress | Finished


class ExecutorError(RuntimeError):
    """The executor cannot run at all (a missing package, an unreachable cluster)."""


class Executor(ABC):
    """Runs tasks and streams their events back as they happen."""

    #: Short name recorded in the batch summary.
    name: str = "executor"

    @abstractmethod
    def run(self, tasks: Iterable[Task], stop: Callable[[], bool]) -> Iterator[Event]:
        """Run every task, yielding events as they happen and exactly one `Finished` per task.

        Tasks are taken from `tasks` only when a slot is free, so it may be a lazy iterator.
        Once `stop()` is true, running tasks are killed and every unfinished task is
        reported `cancelled`. Closing the iterator early also kills what runs.
        """

    def slots(self) -> int | None:
        """How many tasks run at once, if the executor knows (for time estimates)."""
        return None


def one_line(text: str) -> str:
    """The first non-empty line of `text`, for error records."""
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return text.strip()
