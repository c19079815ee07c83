"""Benchmark results as files: one CSV and one JSON row per (instance, method), and a
Markdown page with the medians, the targets and every run."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import orjson

from benchmarks.harness.report import TARGET_GAP

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from benchmarks.harness.report import Row, Summary
    from benchmarks.harness.targets import TargetCheck

CSV_COLUMNS = (
    "instance",
    "family",
    "seed",
    "method",
    "time_limit_s",
    "workers",
    "outcome",
    "status",
    "objective",
    "bound",
    "solver_bound",
    "best_bound",
    "gap",
    "time_to_first_plan_s",
    "time_to_1pct_gap_s",
    "wall_s",
    "build_s",
    "load_s",
    "peak_rss_mb",
    "evaluator_accepts",
    "evaluator_objective",
    "violations",
    "error",
)

NOTES = (
    "Gap: (objective - best bound) / objective, where the best bound of an instance is the "
    "largest proved lower bound of any run on it (the LP relaxation's or a method's own).",
    "Solver bound: the bound a method's solver reports to its own tolerances (mip-highs: "
    "HiGHS's dual bound on the compact SPEC MIP; feasibility 1e-7, integrality 1e-6); shown "
    "beside the proved bounds, never counted in the best bound.",
    "Time to first plan and to 1% gap: from each improving plan the search reports for "
    "infraplan and CP-SAT monolithic; HiGHS through MathOpt reports none, so its figures "
    "are its final wall time; greedy: its wall time.",
    "When infraplan searches its elastic model (SolveOptions.elastic; off by default since "
    "355b0d5), its reported plans may still leave work out at a penalty: its first reported "
    "plan may then not be a complete plan.",
    "Peak memory: the run's own process (Python, OR-Tools and the loaded instance included).",
    "Times count model building but not reading the instance file (load s).",
)


@dataclass(frozen=True)
class RunInfo:
    """Where and how the results were measured."""

    #: Commits measured, with how many runs each ("+uncommitted": models/ or solver/
    #: differed from the commit).
    commits: dict[str, int]
    #: When the results files were written.
    written: str
    cpus: int
    ortools: str
    command: str


def row_fields(row: Row) -> dict[str, Any]:
    """One row's CSV fields."""
    record = row.record
    return {
        "instance": record.instance,
        "family": record.family,
        "seed": record.seed,
        "method": record.method,
        "time_limit_s": record.time_limit_s,
        "workers": record.workers,
        "outcome": record.outcome,
        "status": record.status,
        "objective": record.objective,
        "bound": record.bound,
        "solver_bound": record.solver_bound,
        "best_bound": row.best_bound,
        "gap": None if row.gap is None or math.isinf(row.gap) else row.gap,
        "time_to_first_plan_s": row.time_to_first_plan_s,
        "time_to_1pct_gap_s": row.time_to_target_gap_s,
        "wall_s": record.wall_s,
        "build_s": record.build_s,
        "load_s": record.load_s,
        "peak_rss_mb": record.peak_rss_mb,
        "evaluator_accepts": record.evaluator_accepts,
        "evaluator_objective": record.evaluator_objective,
        "violations": " | ".join(record.violations),
        "error": last_line(record.error),
    }


def last_line(text: str | None) -> str | None:
    """The last non-empty line of a message (a traceback's exception line)."""
    if not text or not text.strip():
        return None
    return text.strip().splitlines()[-1]


def results_csv(rows: Sequence[Row]) -> str:
    """The rows as CSV (empty cells where a figure does not exist)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        fields = row_fields(row)
        writer.writerow({k: "" if v is None else v for k, v in fields.items()})
    return buffer.getvalue()


def results_json(
    rows: Sequence[Row], summaries: Sequence[Summary], checks: Sequence[TargetCheck], info: RunInfo
) -> bytes:
    """Rows (with progress traces), medians, targets and run information as JSON."""
    document = {
        "run": asdict(info),
        "rows": [{**row_fields(row), "progress": row.record.progress} for row in rows],
        "summary": [_finite(asdict(summary)) for summary in summaries],
        "targets": [asdict(check) for check in checks],
        "notes": list(NOTES),
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """inf (never reached, no plan) as null: JSON has no infinity."""
    return {k: None if isinstance(v, float) and math.isinf(v) else v for k, v in values.items()}


def _number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "never"
    return f"{value:,.{digits}f}"


def _gap(value: float | None) -> str:
    if value is None:
        return "-"
    return "no plan" if math.isinf(value) else f"{value:.2%}"


def _table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    aligned = ["---" if i < 3 else "---:" for i in range(len(header))]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(aligned) + "|"]
    out.extend("| " + " | ".join(cells) + " |" for cells in lines)
    return out


def _accepted(row: Row) -> str:
    accepts = row.record.evaluator_accepts
    if accepts is None:
        return "-"
    return "yes" if accepts else "NO"


def results_markdown(
    rows: Sequence[Row],
    summaries: Sequence[Summary],
    checks: Sequence[TargetCheck],
    info: RunInfo,
    conflicts: Sequence[str],
    plot_name: str | None,
) -> str:
    """The Markdown page: run information, medians, targets, every run, notes."""
    lines = ["# infraplan benchmark results", ""]
    measured = ", ".join(f"`{commit}` ({runs} runs)" for commit, runs in info.commits.items())
    lines += [
        f"- measured at: {measured}",
        f"- written: {info.written}; {info.cpus} CPUs; OR-Tools {info.ortools}",
        f"- command: `{info.command}`",
        "",
        "## Medians per family, time limit and method",
        "",
    ]
    lines += _table(
        (
            "family",
            "limit s",
            "method",
            "runs",
            "accepted",
            "median gap",
            "first plan s",
            f"to {TARGET_GAP:.0%} s",
            "wall s",
            "max build s",
            "max peak MB",
        ),
        [
            (
                s.family,
                f"{s.time_limit_s:g}",
                s.method,
                str(s.runs),
                str(s.accepted),
                _gap(s.median_gap),
                _number(s.median_first_plan_s, 1),
                _number(s.median_target_gap_s, 1),
                _number(s.median_wall_s, 1),
                _number(s.max_build_s, 1),
                _number(s.max_peak_rss_mb, 0),
            )
            for s in summaries
        ],
    )
    lines += ["", "## Targets", ""]
    lines += _table(
        ("target", "measured", "met", "margin"),
        [
            (
                c.target,
                c.measured,
                "not run" if c.met is None else ("yes" if c.met else "no"),
                c.margin,
            )
            for c in checks
        ],
    )
    lines += ["", "## Every run", ""]
    lines += _table(
        (
            "instance",
            "limit s",
            "method",
            "status",
            "objective",
            "bound",
            "solver bound",
            "gap",
            "first plan s",
            f"to {TARGET_GAP:.0%} s",
            "wall s",
            "build s",
            "peak MB",
            "evaluator",
        ),
        [
            (
                r.record.instance,
                f"{r.record.time_limit_s:g}",
                r.record.method,
                r.record.status if r.record.outcome == "finished" else r.record.outcome,
                _number(r.record.objective),
                _number(r.record.bound),
                _number(r.record.solver_bound),
                _gap(r.gap),
                _number(r.time_to_first_plan_s, 1),
                _number(r.time_to_target_gap_s, 1),
                _number(r.record.wall_s, 1),
                _number(r.record.build_s, 1),
                _number(r.record.peak_rss_mb, 0),
                _accepted(r),
            )
            for r in rows
        ],
    )
    if plot_name:
        lines += ["", f"![gap versus time]({plot_name})"]
    if conflicts:
        lines += ["", "## Bound conflicts (a bug somewhere)", ""]
        lines += [f"- {conflict}" for conflict in conflicts]
    failures = [r for r in rows if r.record.outcome != "finished" or r.record.violations]
    if failures:
        lines += ["", "## Runs that failed or were rejected", ""]
        for r in failures:
            detail = r.record.violations[0] if r.record.violations else r.record.error
            reason = last_line(detail) or r.record.status
            lines.append(f"- {r.record.instance} {r.record.method}: {r.record.outcome}: {reason}")
    lines += ["", "## Notes", ""]
    lines += [f"- {note}" for note in NOTES]
    return "\n".join(lines) + "\n"


def write_results(
    directory: Path,
    rows: Sequence[Row],
    summaries: Sequence[Summary],
    checks: Sequence[TargetCheck],
    info: RunInfo,
    conflicts: Sequence[str],
    plot_name: str | None,
) -> list[Path]:
    """Write results.csv, results.json and results.md into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "results.csv": results_csv(rows).encode(),
        "results.json": results_json(rows, summaries, checks, info),
        "results.md": results_markdown(
            rows, summaries, checks, info, conflicts, plot_name
        ).encode(),
    }
    written = []
    for name, data in files.items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written
