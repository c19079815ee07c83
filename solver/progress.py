"""What a batch shows while it runs, and the table it prints at the end.

On a terminal: a live panel (instances done / running / failed, elapsed and estimated
time left, and each running instance's best objective and gap) under a growing log of
finished instances. Elsewhere (a pipe, a file, CI): only one line per finished instance.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from solver.executors import Progress, Started

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from rich.console import RenderableType

    from solver.batch import BatchResult
    from solver.executors import Event


@dataclass
class _Running:
    name: str
    started: float
    objective: float | None = None
    bound: float | None = None

    def gap(self) -> float | None:
        if self.objective is None or self.bound is None or self.objective == 0:
            return None
        return max(0.0, (self.objective - self.bound) / abs(self.objective))


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS or M:SS."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class BatchDisplay:
    """Progress of one batch on `console`; use as a context manager around the batch."""

    def __init__(
        self, console: Console, total: int, *, time_limit_s: float, slots: int | None
    ) -> None:
        self.console = console
        self.total = total
        self.time_limit_s = time_limit_s
        self.slots = slots or 1
        self.live_view = console.is_terminal
        self.started = time.perf_counter()
        self.done = 0
        self.failed = 0
        self.solved_here = 0
        self._running: dict[int, _Running] = {}
        self._lock = threading.Lock()
        self._live: Live | None = None

    def __enter__(self) -> BatchDisplay:
        if self.live_view:
            self._live = Live(
                console=self.console,
                get_renderable=self.render,
                refresh_per_second=4,
                transient=True,
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, error, trace)
            self._live = None

    def event(self, event: Event) -> None:
        """Record a start or an improving plan of a running instance."""
        with self._lock:
            if isinstance(event, Started):
                self._running[event.key] = _Running(event.name, time.perf_counter())
            elif isinstance(event, Progress) and event.key in self._running:
                running = self._running[event.key]
                running.objective = event.objective
                if event.bound is not None:  # a report without a bound keeps the last one
                    running.bound = event.bound

    def finished(self, result: BatchResult) -> None:
        """Record a finished instance and print its line."""
        with self._lock:
            self._running.pop(result.index, None)
            self.done += 1
            if not result.has_plan:
                self.failed += 1
            if not result.resumed:
                self.solved_here += 1
        self.console.print(f"[{self.done}/{self.total}] {result.line()}", markup=False)

    def estimate_left_s(self) -> float | None:
        """Seconds left: the pace so far, or time limits over slots before any finished."""
        left = self.total - self.done
        if left <= 0:
            return 0.0
        elapsed = time.perf_counter() - self.started
        if self.solved_here:
            return elapsed / self.solved_here * left
        return left / self.slots * self.time_limit_s

    def render(self) -> RenderableType:
        """The live panel as it is now: counts, times, and one row per running instance."""
        with self._lock:
            running = sorted(self._running.values(), key=lambda r: r.started)
            done, failed = self.done, self.failed
        now = time.perf_counter()
        estimate = self.estimate_left_s()
        header = Text(
            f"done {done}/{self.total}  running {len(running)}  failed {failed}  "
            f"elapsed {clock(now - self.started)}  "
            f"left ~{'?' if estimate is None else clock(estimate)}"
        )
        if not running:
            return header
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("instance")
        table.add_column("running", justify="right")
        table.add_column("objective", justify="right")
        table.add_column("gap", justify="right")
        for item in running:
            gap = item.gap()
            table.add_row(
                item.name,
                clock(now - item.started),
                "-" if item.objective is None else f"{item.objective:,.2f}",
                "-" if gap is None else f"{gap:.2%}",
            )
        return Group(header, table)


def results_table(results: Sequence[BatchResult]) -> Table:
    """The end-of-batch table: one row per instance, in input order."""
    table = Table(title="batch summary", show_lines=False)
    table.add_column("instance")
    table.add_column("status")
    table.add_column("objective", justify="right")
    table.add_column("bound", justify="right")
    table.add_column("gap", justify="right")
    table.add_column("wall s", justify="right")
    table.add_column("error", overflow="fold")
    for column in table.columns[:-1]:
        column.no_wrap = True
    for result in sorted(results, key=lambda r: r.index):
        table.add_row(
            result.name + (" (resumed)" if result.resumed else ""),
            result.status,
            "-" if result.objective is None else f"{result.objective:,.2f}",
            "-" if result.bound is None else f"{result.bound:,.2f}",
            "-" if result.gap is None else f"{result.gap:.4%}",
            f"{result.wall_s:.2f}",
            result.error or "",
        )
    return table


def print_results(console: Console, results: Sequence[BatchResult]) -> None:
    """Print the end-of-batch table; off a terminal, as wide as it needs (no cut figures)."""
    table = results_table(results)
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update(width=10_000), table)
    # Console.print never goes wider than its console: print through a wide twin.
    wide = Console(file=console.file, width=max(console.width, natural.maximum), highlight=False)
    wide.print(table)
