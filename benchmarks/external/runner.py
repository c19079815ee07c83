"""Solve an external benchmark set through the public `solve()` and tabulate the results.

    python -m benchmarks.external.runner --set gap-orlib --time-limit 10 --seed 0 \\
        [--instances gap1-1,gap1-2] [--workers N] [--out DIR] [--results RESULTS.md] \\
        [--data SETS]

The sets are read from the folder SETS, else from where `benchmarks.external.fetch_data` finds
them (checked against MANIFEST.sha256).

Writes DIR/<set>.csv and DIR/<set>.md: per instance the known optimum or
bounds, our objective and bound, the gap to the best known value, whether the
solver proved its answer (optimal or infeasible), the time until it first
reached the best known value and the wall time. With --results the set's
section of that Markdown file is replaced (or added). Exit 0 when every instance
ran and nothing contradicts the known values, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from benchmarks.external.catalog import REPO_ROOT, SETS, Case, load_set
from benchmarks.external.fetch_data import DataError
from models.importers import read_benchmark
from models.io import write_atomic
from models.issues import InputError, InputIssue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from models import Instance

Verdict = Literal["match", "better", "worse", "no plan", "contradiction", "error"]

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "external" / "results"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one solve of one case gave, next to what is known."""

    case: Case
    #: A SPEC status word, or "error" when the case could not be imported or solved.
    status: str
    objective: float | None = None
    bound: float | None = None
    wall_s: float | None = None
    #: Solver wall time when a plan first reached the best known value.
    time_to_known_s: float | None = None
    error: str = ""

    @property
    def proved_optimal(self) -> bool:
        """Whether the solver proved its plan optimal."""
        return self.status == "optimal"

    @property
    def proved(self) -> bool:
        """Whether the solver proved its answer: an optimal plan, or that no plan exists."""
        return self.status in ("optimal", "infeasible")

    @property
    def gap_to_known(self) -> float | None:
        """(objective - best known) / best known; negative means better than best known."""
        upper = self.case.known.upper
        if self.objective is None or upper is None or upper == 0:
            return None
        return (self.objective - upper) / abs(upper)

    @property
    def verdict(self) -> Verdict:
        """How the result compares with the known values (contradiction = a bug somewhere)."""
        known = self.case.known
        if self.status == "error":
            return "error"
        if known.status == "infeasible":
            if self.status == "infeasible":
                return "match"
            return "no plan" if self.status == "unknown" else "contradiction"
        if self.status == "infeasible":
            return "contradiction"
        if self.objective is None:
            return "no plan"
        assert known.lower is not None and known.upper is not None
        tolerance = known.tolerance
        if self.objective < known.lower - tolerance:
            return "contradiction"
        if self.bound is not None and self.bound > known.upper + tolerance:
            return "contradiction"
        if abs(self.objective - known.upper) <= tolerance:
            return "match"
        if self.proved_optimal and known.status == "optimal":
            return "contradiction"
        return "better" if self.objective < known.upper else "worse"


class KnownValueClock:
    """A progress callback that notes when a plan first reaches the best known value."""

    def __init__(self, target: float | None, tolerance: float) -> None:
        self.target = target
        self.tolerance = tolerance
        self.reached_at: float | None = None

    def __call__(self, wall_s: float, objective: float, bound: float | None) -> None:
        """Called by solve() on every improving plan."""
        if self.reached_at is not None or self.target is None:
            return
        if objective <= self.target + self.tolerance:
            self.reached_at = wall_s


def instances_of(cases: Sequence[Case]) -> Iterator[tuple[Case, Instance | InputError]]:
    """Each case with its imported instance (or the import error); files read once each."""
    by_file: dict[tuple[Path, int | None], list[Instance]] = {}
    for case in cases:
        key = (case.path, case.capacity)
        try:
            if key not in by_file:
                capacities = () if case.capacity is None else (case.capacity,)
                by_file[key] = read_benchmark(case.problem, case.path, case.layout, capacities)
            found = by_file[key]
            position = (case.index or 1) - 1
            if position >= len(found):
                issue = InputIssue("$", f"holds {len(found)} instance(s), not {case.index}")
                raise InputError(str(case.path), [issue])
        except InputError as error:
            yield case, error
            continue
        yield case, found[position]


def run_case(
    case: Case,
    instance: Instance,
    *,
    time_limit_s: float,
    seed: int,
    workers: int | None,
) -> Outcome:
    """Solve one case through the public solve() and compare with its known value."""
    from solver import solve

    known = case.known
    clock = KnownValueClock(known.upper, known.tolerance)
    solution = solve(
        instance, time_limit_s=time_limit_s, workers=workers, seed=seed, on_progress=clock
    )
    reached = clock.reached_at
    wall_s = solution.solver.wall_s
    if known.status == "infeasible" and solution.status == "infeasible":
        reached = wall_s
    elif (
        reached is None
        and solution.objective is not None
        and known.upper is not None
        and solution.objective <= known.upper + known.tolerance
    ):
        # Found before the first progress report (presolve): reached by the end at the latest.
        reached = wall_s
    return Outcome(
        case,
        solution.status,
        solution.objective,
        solution.bound,
        wall_s,
        reached,
    )


def run_set(
    set_name: str,
    *,
    time_limit_s: float,
    seed: int = 0,
    workers: int | None = None,
    names: Sequence[str] | None = None,
    root: Path | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Solve the cases of a set (all, or those named), in table order."""
    cases = load_set(set_name, root)
    if names is not None:
        known_names = {case.name for case in cases}
        missing = [name for name in names if name not in known_names]
        if missing:
            raise KeyError(f"not in {set_name}: {', '.join(missing)}")
        wanted = set(names)
        cases = [case for case in cases if case.name in wanted]
    outcomes: list[Outcome] = []
    for case, imported in instances_of(cases):
        if isinstance(imported, InputError):
            outcome = Outcome(case, "error", error=f"import: {imported}")
        else:
            try:
                outcome = run_case(
                    case, imported, time_limit_s=time_limit_s, seed=seed, workers=workers
                )
            except Exception as error:  # one failing case must not lose the whole run
                outcome = Outcome(case, "error", error=f"{type(error).__name__}: {error}")
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


# -- tables ------------------------------------------------------------------------------

CSV_FIELDS = (
    "set",
    "instance",
    "published_as",
    "known_status",
    "known_lower",
    "known_upper",
    "status",
    "objective",
    "bound",
    "gap_to_known",
    "proved",
    "verdict",
    "time_to_known_s",
    "wall_s",
    "error",
)


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def to_csv(outcomes: Sequence[Outcome]) -> str:
    """The outcomes as CSV, one row per instance (full float precision)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for outcome in outcomes:
        case, known = outcome.case, outcome.case.known
        writer.writerow(
            [
                case.set_name,
                case.name,
                case.published_as,
                known.status,
                _cell(known.lower),
                _cell(known.upper),
                outcome.status,
                _cell(outcome.objective),
                _cell(outcome.bound),
                _cell(outcome.gap_to_known),
                "yes" if outcome.proved else "no",
                outcome.verdict,
                _cell(outcome.time_to_known_s),
                _cell(outcome.wall_s),
                outcome.error,
            ]
        )
    return buffer.getvalue()


def _number(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:,.{decimals}f}"


def _percent(value: float | None) -> str:
    # Adding 0.0 turns a rounded -0.0 (an objective a hair under a rounded table value) into 0.0.
    return "-" if value is None else f"{round(value, 6) + 0.0:.4%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def run_facts(set_name: str, time_limit_s: float, seed: int, workers: int | None) -> dict[str, str]:
    """How the run was made: commit, date, limits, machine."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    try:
        ortools_version = metadata.version("ortools")
    except metadata.PackageNotFoundError:
        ortools_version = "unknown"
    return {
        "set": set_name,
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "time limit": f"{time_limit_s:g} s per instance",
        "seed": str(seed),
        "workers": "solver default" if workers is None else str(workers),
        "machine": f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, OR-Tools {ortools_version}",
    }


def to_markdown(
    set_name: str,
    outcomes: Sequence[Outcome],
    facts: dict[str, str],
    root: Path | None = None,
) -> str:
    """A Markdown section for one set (read from `root`, else the located sets): run facts,
    a summary line and the table."""
    total = len(outcomes)
    counts = {
        verdict: sum(o.verdict == verdict for o in outcomes)
        for verdict in ("match", "better", "worse", "no plan", "contradiction", "error")
    }
    optimal = sum(o.proved_optimal for o in outcomes)
    infeasible = sum(o.proved and not o.proved_optimal for o in outcomes)
    all_cases = len(load_set(set_name, root)) if set_name in SETS else total
    lines = [f"## {set_name}", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items() if key != "set"]
    lines.append(f"- instances: {total} of {all_cases} in the set")
    lines.append(
        f"- result: {counts['match']} reach the best known value, {optimal} proved optimal, "
        f"{infeasible} proved infeasible, "
        f"{counts['better']} better than best known, {counts['worse']} worse, "
        f"{counts['no plan']} without a plan, {counts['contradiction']} contradictions, "
        f"{counts['error']} errors"
    )
    lines += [
        "",
        "| instance | known | objective | bound | gap to known | proved | verdict "
        "| time to known (s) | wall (s) |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for outcome in outcomes:
        case = outcome.case
        decimals = max(case.known.decimals, 0)
        name = f"{case.name} ({case.published_as})" if case.published_as else case.name
        verdict = outcome.verdict if not outcome.error else f"error: {outcome.error}"
        lines.append(
            f"| {name} | {case.known} | {_number(outcome.objective, decimals)} "
            f"| {_number(outcome.bound, decimals)} | {_percent(outcome.gap_to_known)} "
            f"| {'yes' if outcome.proved else 'no'} | {verdict} "
            f"| {_seconds(outcome.time_to_known_s)} | {_seconds(outcome.wall_s)} |"
        )
    return "\n".join(lines) + "\n"


RESULTS_HEADER = """# External benchmark results

Produced by `python -m benchmarks.external.runner --results benchmarks/external/RESULTS.md`;
see `benchmarks/external/README.md` for the sets, the encoding and the columns.
Each section says which commit, time limit, seed and machine it comes from.
"""


def update_results(path: Path, set_name: str, section: str) -> None:
    """Replace the set's section of a results file (or add it), keeping the others."""
    begin, end = f"<!-- set:{set_name} -->", f"<!-- /set:{set_name} -->"
    block = f"{begin}\n{section}{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    write_atomic(path, text.encode("utf-8"))


# -- command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.external.runner",
        description="Solve an external benchmark set and tabulate the results.",
    )
    parser.add_argument("--set", dest="set_name", required=True, choices=sorted(SETS))
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="CP-SAT workers")
    parser.add_argument("--instances", default=None, help="comma-separated names (default all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for csv and md")
    parser.add_argument("--results", type=Path, default=None, help="Markdown file to update")
    parser.add_argument(
        "--data", type=Path, default=None, help="folder holding the sets (default: located)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.time_limit <= 0:
        parser.error("--time-limit must be > 0")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be ≥ 1")
    names = None if args.instances is None else [n for n in args.instances.split(",") if n]

    def report(outcome: Outcome) -> None:
        print(
            f"{outcome.case.name}: {outcome.status} objective={_number(outcome.objective, 2)} "
            f"known={outcome.case.known} verdict={outcome.verdict} "
            f"wall={_seconds(outcome.wall_s)}s" + (f" ({outcome.error})" if outcome.error else ""),
            flush=True,
        )

    try:
        outcomes = run_set(
            args.set_name,
            time_limit_s=args.time_limit,
            seed=args.seed,
            workers=args.workers,
            names=names,
            root=args.data,
            on_outcome=report,
        )
    except (KeyError, FileNotFoundError) as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    facts = run_facts(args.set_name, args.time_limit, args.seed, args.workers)
    section = to_markdown(args.set_name, outcomes, facts, args.data)
    write_atomic(args.out / f"{args.set_name}.csv", to_csv(outcomes).encode("utf-8"))
    write_atomic(args.out / f"{args.set_name}.md", section.encode("utf-8"))
    if args.results is not None:
        update_results(args.results, args.set_name, section)
    bad = [o for o in outcomes if o.verdict in ("contradiction", "error")]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
