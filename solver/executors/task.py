"""The work of one task inside a worker: load the instance, solve it, report progress.

Test-only fault injection: when the driver's environment sets
`INFRAPLAN_TEST_FAULT=crash:NAME,hang:NAME2`, the tasks of instances NAME and NAME2 make
their worker die at once (`os._exit`) or sleep far past any time limit. The tests use it
to check that one dead or hung worker costs one record, never the batch. The driver reads
the variable (so it also reaches Ray workers, whose environment is not the driver's).
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import TYPE_CHECKING

from models import InputError, load_instance, parse_instance
from models.io import dump_model, parse_json_bytes
from solver.executors.base import Outcome, Progress, one_line
from solver.solve import solve

if TYPE_CHECKING:
    from collections.abc import Callable

    from models import Instance
    from solver.executors.base import Event, Task

FAULT_ENV = "INFRAPLAN_TEST_FAULT"
FAULTS = ("crash", "hang")
#: Exit code of a worker that crashes on purpose (test-only fault).
CRASH_EXIT_CODE = 86
#: Least time between two progress reports of one task: the driver needs a live view,
#: not every one of CP-SAT's improving plans.
PROGRESS_INTERVAL_S = 0.25


def fault_for(name: str, environ: dict[str, str] | None = None) -> str | None:
    """The test-only fault `INFRAPLAN_TEST_FAULT` asks for on instance `name`, if any."""
    spec = (environ if environ is not None else os.environ).get(FAULT_ENV, "")
    for item in spec.split(","):
        kind, _, target = item.strip().partition(":")
        if kind in FAULTS and target == name:
            return kind
    return None


def run_task(task: Task, report: Callable[[Event], None]) -> Outcome:
    """Load and solve the task's instance; report progress; never raise for a bad instance."""
    started = time.perf_counter()
    _inject(task.fault)
    try:
        instance = _load(task)
    except InputError as error:
        return Outcome("invalid", error=str(error), wall_s=time.perf_counter() - started)
    last_report = -PROGRESS_INTERVAL_S

    def relay(wall_s: float, objective: float, bound: float | None) -> None:
        nonlocal last_report
        if wall_s - last_report >= PROGRESS_INTERVAL_S:
            last_report = wall_s
            report(Progress(task.key, wall_s, objective, bound))

    settings = task.settings
    try:
        solution = solve(
            instance,
            time_limit_s=settings.time_limit_s,
            workers=settings.workers,
            seed=settings.seed,
            on_progress=relay,
        )
    except Exception as error:  # one bad solve must not end the batch: record it
        message = one_line(f"{type(error).__name__}: {error}")
        return Outcome("error", error=message, wall_s=time.perf_counter() - started)
    return Outcome(
        solution.status, solution_json=dump_model(solution), wall_s=solution.solver.wall_s
    )


def _load(task: Task) -> Instance:
    if task.instance is not None:
        return task.instance
    if task.payload is not None:
        document = parse_json_bytes(task.payload, task.source)
        instance = parse_instance(document, task.source)
        return instance.with_source_sha256(hashlib.sha256(task.payload).hexdigest())
    if task.path is None:
        raise ValueError(f"task {task.name!r} has no instance, payload or path")
    return load_instance(task.path)


def _inject(fault: str | None) -> None:
    if fault == "crash":
        os._exit(CRASH_EXIT_CODE)
    if fault == "hang":
        time.sleep(24 * 3600)
