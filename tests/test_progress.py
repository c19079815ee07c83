"""The batch progress display (solver.progress): live panel, finished lines, end table."""

from __future__ import annotations

import io

from rich.console import Console

from solver.batch import BatchResult
from solver.executors import Progress, Started
from solver.progress import BatchDisplay, clock, print_results


def console(*, terminal: bool, width: int = 120) -> tuple[Console, io.StringIO]:
    """A console writing to a buffer, as a terminal or as a pipe."""
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=width, color_system=None), buffer


def result(index: int, name: str, status: str, **figures: float) -> BatchResult:
    """A finished instance's record."""
    return BatchResult(index, name, f"{name}.json", "0" * 64, status, **figures)


def test_panel_shows_counts_and_each_running_instance_best_objective_and_gap() -> None:
    """Done / running / failed counts, and a running instance's objective and gap."""
    screen, buffer = console(terminal=True)
    display = BatchDisplay(screen, 3, time_limit_s=10.0, slots=2)
    display.event(Started(0, "S-0"))
    display.event(Started(1, "S-1"))
    display.event(Progress(0, 1.0, 200.0, 150.0))
    display.finished(result(1, "S-1", "infeasible"))
    screen.print(display.render())
    text = buffer.getvalue()
    assert "done 1/3  running 1  failed 1" in text
    assert "S-0" in text and "200.00" in text and "25.00%" in text


def test_estimate_uses_time_limits_until_an_instance_finishes() -> None:
    """Before any finish: remaining instances x time limit / slots."""
    screen, _ = console(terminal=False)
    display = BatchDisplay(screen, 5, time_limit_s=10.0, slots=2)
    assert display.estimate_left_s() == 25.0
    display.finished(result(0, "a", "optimal", objective=1.0))
    estimate = display.estimate_left_s()
    assert estimate is not None and estimate < 25.0


def test_off_a_terminal_only_finished_lines_are_printed() -> None:
    """Piped output: one line per finished instance, no live panel."""
    screen, buffer = console(terminal=False)
    with BatchDisplay(screen, 2, time_limit_s=10.0, slots=1) as display:
        display.event(Started(0, "a"))
        display.finished(result(0, "a", "optimal", objective=5.0, bound=5.0, gap=0.0, wall_s=1.0))
    assert buffer.getvalue() == ("[1/2] a: optimal objective=5.00 gap=0.0000% wall=1.00s\n")


def test_end_table_is_not_cut_off_a_terminal() -> None:
    """Off a terminal the end table is as wide as its figures, whatever the console width."""
    screen, buffer = console(terminal=False, width=40)
    print_results(screen, [result(0, "big", "feasible", objective=123_456_789.5, bound=1.0)])
    assert "123,456,789.50" in buffer.getvalue()


def test_clock_formats_minutes_and_hours() -> None:
    """Seconds read as M:SS, or H:MM:SS from an hour on."""
    assert clock(75) == "1:15"
    assert clock(3725) == "1:02:05"
