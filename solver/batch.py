"""Batch solving: many instances, in parallel, resumable, crash-safe, with one summary.

`solve_many(items, ...)` takes instance files (or `Instance` objects), hands them to an
executor (local worker processes by default, or Ray), and yields one `BatchResult` per
instance as it finishes. With an output directory every solution is written there as
`<name>.solution.json` by this driver, through a temporary file renamed into place, so a
file that exists is complete. `--resume` semantics: an instance whose solution file holds
the same instance sha256 and solver settings is not solved again.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import os
import re
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from models import InputError, Instance, load_solution, parse_solution
from models.io import write_atomic
from models.issues import InputIssue
from solver.executors import Executor, Finished, SolveSettings, Task, make_executor
from solver.executors.base import NO_PLAN_STATUSES
from solver.executors.task import fault_for
from solver.solve import SOLVER_NAME, default_workers, solver_version

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
    from types import FrameType

    from models import Solution
    from solver.executors import Event

SUMMARY_SCHEMA = "infraplan-batch-summary/v1"
SUMMARY_FIELDS = (
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
)
SOLUTION_SUFFIX = ".solution.json"
#: A task still running this long past its time limit is killed: the limit covers the
#: model build and CP-SAT, this margin covers loading the file and the final LP steps.
KILL_AFTER_FACTOR = 1.5
KILL_AFTER_MARGIN_S = 30.0

_GLOB_CHARS = re.compile(r"[*?\[]")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


class BatchUsageError(ValueError):
    """The batch cannot start: no inputs, a pattern matching nothing, clashing names."""


@dataclass(frozen=True)
class BatchResult:
    """What became of one instance of a batch (one row of the summary)."""

    index: int
    name: str
    source: str
    sha256: str | None
    status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    wall_s: float = 0.0
    error: str | None = None
    solution: Solution | None = field(default=None, repr=False)
    solution_path: Path | None = None
    #: True when the result was read back from an earlier run's solution file.
    resumed: bool = False

    @property
    def has_plan(self) -> bool:
        """Whether the instance got a plan (optimal or feasible)."""
        return self.status not in NO_PLAN_STATUSES

    def row(self) -> dict[str, Any]:
        """The summary row: name, source, sha256, status, figures, wall time, error."""
        return {
            "name": self.name,
            "source": self.source,
            "sha256": self.sha256,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "wall_s": round(self.wall_s, 3),
            "resumed": self.resumed,
            "error": self.error,
        }

    def line(self) -> str:
        """One line: name, status, objective, gap, wall time, and the error if any."""
        objective = "-" if self.objective is None else f"{self.objective:,.2f}"
        gap = "-" if self.gap is None else f"{self.gap:.4%}"
        text = f"{self.name}: {self.status} objective={objective} gap={gap} wall={self.wall_s:.2f}s"
        if self.resumed:
            text += " (resumed)"
        if self.error:
            text += f" error: {self.error}"
        return text


@dataclass(frozen=True)
class _Entry:
    """One input of the batch before it runs."""

    index: int
    name: str
    source: str
    path: Path | None
    instance: Instance | None


def expand_inputs(patterns: Sequence[str | Path]) -> list[Path]:
    """Files named, `*.json` files of directories named, and files matching glob patterns.

    Order is kept (directory and glob matches sorted), repeats are dropped. Raises
    BatchUsageError for a missing path or a pattern matching no file.
    """
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            matches = sorted(p for p in path.glob("*.json") if p.is_file())
            if not matches:
                raise BatchUsageError(f"{path}: directory holds no .json file")
            found.extend(matches)
        elif path.is_file():
            found.append(path)
        elif _GLOB_CHARS.search(str(pattern)):
            matches = sorted(Path(p) for p in glob.glob(str(pattern), recursive=True))
            matches = [p for p in matches if p.is_file()]
            if not matches:
                raise BatchUsageError(f"{pattern}: no file matches")
            found.extend(matches)
        else:
            raise BatchUsageError(f"{pattern}: no such file or directory")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def default_jobs(workers: int | None) -> int:
    """Instances at once when not given: as many as the cores hold at `workers` each
    (one when CP-SAT takes its default, all cores, per instance)."""
    if workers is None:
        return 1
    return max(1, (os.cpu_count() or 1) // workers)


def oversubscription(jobs: int, workers: int) -> str | None:
    """A warning when jobs x workers exceeds this machine's cores, else None."""
    cores = os.cpu_count() or 1
    if jobs * workers <= cores:
        return None
    return (
        f"{jobs} jobs x {workers} CP-SAT workers = {jobs * workers} threads on {cores} cores: "
        "solves will compete for CPU and reach worse plans in their time limits"
    )


def kill_after_s(time_limit_s: float) -> float:
    """Seconds after which a task still running is killed and recorded as timed out."""
    return KILL_AFTER_FACTOR * time_limit_s + KILL_AFTER_MARGIN_S


def settings_match(solution: Solution, settings: SolveSettings) -> bool:
    """Whether `solution` was made with these solver settings by this solver version."""
    info = solution.solver
    return (
        info.name == SOLVER_NAME
        and info.version == solver_version()
        and info.seed == settings.seed
        and info.time_limit_s == settings.time_limit_s
        and info.workers == settings.workers
    )


def solve_many(
    items: Iterable[str | Path | Instance],
    *,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    jobs: int | None = None,
    executor: str | Executor = "local",
    address: str | None = None,
    output_dir: str | Path | None = None,
    resume: bool = False,
    kill_after: float | None = None,
    on_event: Callable[[Event], None] | None = None,
    stop: threading.Event | None = None,
) -> Generator[BatchResult, None, None]:
    """Solve many instances; yield one BatchResult per instance as each finishes.

    `items` are instance file paths or `Instance` objects. Each instance is solved with
    `time_limit_s`, `workers` CP-SAT workers (default: `default_workers()`) and `seed`, by
    `executor` ("local": `jobs` worker processes, default `default_jobs(workers)`; "ray":
    Ray tasks, on the cluster at `address` or a local Ray). With `output_dir`, solutions
    are written there atomically; with `resume` too, an instance whose solution file
    matches its sha256 and the settings is yielded from that file, not solved. A task
    still running `kill_after` seconds after its start (default `kill_after_s`) is killed.
    `on_event` sees `Started` and `Progress` events; setting `stop` cancels what runs and
    yields the rest as `cancelled`. Raises, at the call and before any work,
    BatchUsageError for no items or clashing output names, and ValueError or
    RayUnavailableError for a bad executor choice.
    """
    settings = SolveSettings(
        time_limit_s=time_limit_s, workers=workers or default_workers(), seed=seed
    )
    entries = _entries(items)
    if isinstance(executor, str):
        default = default_jobs(workers) if executor == "local" else None
        executor = make_executor(executor, jobs=jobs or default, address=address)
    return _run(
        entries,
        settings,
        executor,
        out_dir=Path(output_dir) if output_dir is not None else None,
        resume=resume,
        kill_after=kill_after if kill_after is not None else kill_after_s(time_limit_s),
        on_event=on_event,
        stop=stop or threading.Event(),
    )


def _run(
    entries: list[_Entry],
    settings: SolveSettings,
    executor: Executor,
    *,
    out_dir: Path | None,
    resume: bool,
    kill_after: float,
    on_event: Callable[[Event], None] | None,
    stop: threading.Event,
) -> Generator[BatchResult, None, None]:
    """The batch itself: resumed and unreadable entries first, then results as they come."""
    to_solve: list[_Entry] = []
    hashes: dict[int, str | None] = {}
    for entry in entries:
        digest, read_error = _sha256(entry)
        hashes[entry.index] = digest
        if read_error is not None:
            yield BatchResult(
                entry.index, entry.name, entry.source, None, "invalid", error=read_error
            )
            continue
        previous = _resumable(entry, digest, out_dir, settings) if resume else None
        if previous is not None:
            yield previous
        else:
            to_solve.append(entry)
    if not to_solve:
        return

    by_key = {entry.index: entry for entry in to_solve}
    tasks = (
        Task(
            key=entry.index,
            name=entry.name,
            source=entry.source,
            settings=settings,
            kill_after_s=kill_after,
            path=entry.path,
            instance=entry.instance,
            fault=fault_for(entry.name),
        )
        for entry in to_solve
    )
    events = executor.run(tasks, stop.is_set)
    try:
        for event in events:
            if isinstance(event, Finished):
                entry = by_key[event.key]
                yield _result(entry, hashes[entry.index], event, out_dir)
            elif on_event is not None:
                on_event(event)
    finally:
        # Closing the event stream kills running solves when the caller stops early.
        close = getattr(events, "close", None)
        if close is not None:
            close()


def _entries(items: Iterable[str | Path | Instance]) -> list[_Entry]:
    entries: list[_Entry] = []
    owners: dict[str, str] = {}
    for index, item in enumerate(items):
        if isinstance(item, Instance):
            name = _UNSAFE_NAME_CHARS.sub("_", item.name) or "instance"
            entry = _Entry(index, name, f"<instance {item.name}>", None, item)
        else:
            path = Path(item)
            entry = _Entry(index, path.name.removesuffix(".json"), str(path), path, None)
        if entry.name in owners:
            raise BatchUsageError(
                f"{owners[entry.name]} and {entry.source} would both write "
                f"{entry.name}{SOLUTION_SUFFIX}: rename one"
            )
        owners[entry.name] = entry.source
        entries.append(entry)
    if not entries:
        raise BatchUsageError("no instances to solve")
    return entries


def _sha256(entry: _Entry) -> tuple[str | None, str | None]:
    """The entry's sha256, or the one-line error of a file that cannot be read."""
    if entry.instance is not None:
        return entry.instance.sha256, None
    assert entry.path is not None
    try:
        with open(entry.path, "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest(), None
    except OSError as error:
        issue = InputIssue("$", f"cannot read file: {error.strerror}")
        return None, str(InputError(entry.source, [issue]))


def solution_path(out_dir: Path, name: str) -> Path:
    """Where the solution of instance `name` is written."""
    return out_dir / f"{name}{SOLUTION_SUFFIX}"


def _resumable(
    entry: _Entry, digest: str | None, out_dir: Path | None, settings: SolveSettings
) -> BatchResult | None:
    """The earlier result of `entry` if its solution file is for this instance and settings."""
    if out_dir is None or digest is None:
        return None
    path = solution_path(out_dir, entry.name)
    if not path.is_file():
        return None
    try:
        solution = load_solution(path)
    except InputError:
        return None
    if solution.instance_sha256 != digest or not settings_match(solution, settings):
        return None
    return _from_solution(entry, digest, solution, path, resumed=True)


def _from_solution(
    entry: _Entry, digest: str | None, solution: Solution, path: Path | None, *, resumed: bool
) -> BatchResult:
    return BatchResult(
        index=entry.index,
        name=entry.name,
        source=entry.source,
        sha256=solution.instance_sha256 or digest,
        status=solution.status,
        objective=solution.objective,
        bound=solution.bound,
        gap=solution.gap,
        wall_s=solution.solver.wall_s,
        solution=solution,
        solution_path=path,
        resumed=resumed,
    )


def _result(
    entry: _Entry, digest: str | None, event: Finished, out_dir: Path | None
) -> BatchResult:
    """The record of a finished task; its solution written atomically when there is one."""
    outcome = event.outcome
    if outcome.solution_json is None:
        return BatchResult(
            entry.index,
            entry.name,
            entry.source,
            digest,
            outcome.status,
            wall_s=outcome.wall_s,
            error=outcome.error,
        )
    solution = parse_solution(orjson.loads(outcome.solution_json), entry.source)
    path = None
    if out_dir is not None:
        path = solution_path(out_dir, entry.name)
        write_atomic(path, outcome.solution_json)
    return _from_solution(entry, digest, solution, path, resumed=False)


def exit_code(results: Iterable[BatchResult]) -> int:
    """0 when every instance has a plan, else 1."""
    return 0 if all(result.has_plan for result in results) else 1


def write_summary(
    results: Sequence[BatchResult],
    out_dir: str | Path,
    *,
    settings: dict[str, Any],
    wall_s: float,
    interrupted: bool,
) -> tuple[Path, Path]:
    """Write OUT/summary.json and OUT/summary.csv atomically (rows in input order)."""
    out = Path(out_dir)
    rows = [result.row() for result in sorted(results, key=lambda r: r.index)]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    document = {
        "schema": SUMMARY_SCHEMA,
        "settings": settings,
        "wall_s": round(wall_s, 3),
        "interrupted": interrupted,
        "unfinished": [row["name"] for row in rows if row["status"] == "cancelled"],
        "counts": dict(sorted(counts.items())),
        "instances": rows,
    }
    json_path = out / "summary.json"
    csv_path = out / "summary.csv"
    write_atomic(
        json_path, orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    write_atomic(csv_path, buffer.getvalue().encode())
    return json_path, csv_path


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[int]]:
    """While inside, SIGINT and SIGTERM set `stop` (the batch winds down cleanly) instead
    of killing the process; a second signal raises KeyboardInterrupt. Yields the list of
    signals received. Outside the main thread, signals are left alone."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
