"""Benchmark infraplan against its peers: `python -m benchmarks.run --help`.

Every chosen method runs on every chosen generated instance at one time limit,
one run after another, each in a fresh process. Raw records accumulate in
OUT/records.jsonl (runs already recorded there are skipped unless --rerun);
after the runs, OUT gets results.csv, results.json, results.md and
gap_vs_time.png/.svg computed from every record in the directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, cast

from benchmarks.harness.measure import RunTask, run_isolated
from benchmarks.harness.methods import METHODS, MethodSettings
from benchmarks.harness.output import RunInfo, write_results
from benchmarks.harness.plot import plot_gap_vs_time
from benchmarks.harness.records import append_record, read_records
from benchmarks.harness.report import bound_conflicts, derive_rows, summarize
from benchmarks.harness.targets import check_targets
from models.generator import generate
from models.generator.families import FAMILIES
from models.io import save_instance

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.harness.methods import LpSolver
    from benchmarks.harness.records import RunRecord

#: --quick: two S instances and one M instance at a short limit, every method.
QUICK_INSTANCES = ("S-0", "S-1", "M-0")
QUICK_TIME_LIMIT_S = 5.0
REPOSITORY = Path(__file__).resolve().parents[1]
#: Code whose uncommitted changes make a measurement differ from its commit.
MEASURED_PATHS = ("models", "solver")


@dataclasses.dataclass(frozen=True)
class InstanceSpec:
    """A generated instance: family and seed."""

    family: str
    seed: int

    @property
    def name(self) -> str:
        """The generated instance's name."""
        return f"gen-{self.family}-{self.seed}"

    @classmethod
    def parse(cls, text: str) -> InstanceSpec:
        """`FAMILY-SEED`, e.g. `M-0`."""
        family, _, seed = text.rpartition("-")
        if family not in FAMILIES or not seed.isdigit():
            raise argparse.ArgumentTypeError(
                f"{text!r} is not FAMILY-SEED with FAMILY in {', '.join(FAMILIES)}"
            )
        return cls(family, int(seed))


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, checked."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Run infraplan and its peers on generated instances; write CSV, JSON, "
        "Markdown and a gap-versus-time plot.",
    )
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), default=[])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--instances",
        nargs="+",
        type=InstanceSpec.parse,
        default=[],
        metavar="FAMILY-SEED",
        help="instances to run besides --families x --seeds, e.g. S-0 M-1",
    )
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per method")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--workers", type=int, default=2, help="solver threads per method")
    parser.add_argument("--seed", type=int, default=0, help="solver seed")
    parser.add_argument("--lp-solver", choices=("HIGHS", "GLOP"), default="HIGHS")
    parser.add_argument(
        "--lp-time-limit", type=float, default=900.0, help="seconds for the LP bound"
    )
    parser.add_argument("-o", "--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--rerun", action="store_true", help="run again what OUT already holds")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{' '.join(QUICK_INSTANCES)} at {QUICK_TIME_LIMIT_S:g} s (when no instances given)",
    )
    arguments = parser.parse_args(argv)
    specs = [InstanceSpec(f, s) for f in arguments.families for s in arguments.seeds]
    specs += arguments.instances
    if arguments.quick and not specs:
        specs = [InstanceSpec.parse(text) for text in QUICK_INSTANCES]
    if arguments.time_limit is None:
        arguments.time_limit = QUICK_TIME_LIMIT_S if arguments.quick else 60.0
    if not specs:
        parser.error("choose instances: --families, --instances or --quick")
    if arguments.time_limit <= 0 or arguments.lp_time_limit <= 0 or arguments.workers < 1:
        parser.error("time limits must be positive and --workers at least 1")
    arguments.specs = list(dict.fromkeys(specs))
    return arguments


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout


def measured_commit() -> tuple[str, list[str]]:
    """The checked-out commit and the measured files that differ from it."""
    commit = (_git("rev-parse", "HEAD") or "unknown").strip()
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", *MEASURED_PATHS) or ""
    return commit, sorted(line[3:] for line in changed.splitlines() if line.strip())


def latest_records(records: Sequence[RunRecord]) -> list[RunRecord]:
    """The last record of each (instance, method, time limit)."""
    latest: dict[tuple[str, str, float], RunRecord] = {}
    for record in records:
        latest.pop(record.key, None)
        latest[record.key] = record
    return list(latest.values())


def run_benchmark(arguments: argparse.Namespace) -> list[RunRecord]:
    """Run every pending (instance, method) one after another; return every record."""
    out: Path = arguments.out
    records_path = out / "records.jsonl"
    done = set() if arguments.rerun else {r.key for r in read_records(records_path)}
    commit, uncommitted = measured_commit()
    stamp = commit + ("+uncommitted" if uncommitted else "")
    if uncommitted:
        print(f"measuring uncommitted changes: {', '.join(uncommitted)}", flush=True)
    settings = MethodSettings(
        time_limit_s=arguments.time_limit,
        seed=arguments.seed,
        workers=arguments.workers,
        lp_time_limit_s=arguments.lp_time_limit,
        lp_solver=cast("LpSolver", arguments.lp_solver),
    )
    methods = [m for m in METHODS if m in arguments.methods]
    total = len(arguments.specs) * len(methods)
    count = 0
    for spec in arguments.specs:
        pending = [m for m in methods if (spec.name, m, settings.time_limit_s) not in done]
        count += len(methods) - len(pending)
        if not pending:
            continue
        instance_path = out / "instances" / f"{spec.name}.json"
        save_instance(generate(spec.family, spec.seed), instance_path)
        for method in pending:
            count += 1
            label = f"{spec.name}.{method}.{settings.time_limit_s:g}s"
            task = RunTask(
                instance_path=instance_path,
                instance=spec.name,
                family=spec.family,
                seed=spec.seed,
                method=method,
                settings=settings,
                log_path=out / "logs" / f"{label}.log",
                solution_path=out / "solutions" / f"{label}.solution.json",
            )
            record = dataclasses.replace(run_isolated(task), commit=stamp)
            append_record(records_path, record)
            print(f"[{count}/{total}] {describe(record)}", flush=True)
    return latest_records(read_records(records_path))


def describe(record: RunRecord) -> str:
    """One line about a finished run."""
    parts = [f"{record.instance} {record.method} @{record.time_limit_s:g}s:"]
    parts.append(record.status if record.outcome == "finished" else record.outcome)
    if record.objective is not None:
        parts.append(f"objective={record.objective:,.2f}")
    if record.bound is not None:
        parts.append(f"bound={record.bound:,.2f}")
    if record.wall_s is not None:
        parts.append(f"wall={record.wall_s:.1f}s")
    if record.peak_rss_mb is not None:
        parts.append(f"peak={record.peak_rss_mb:,.0f}MB")
    if record.evaluator_accepts is not None:
        parts.append("evaluator=" + ("ok" if record.evaluator_accepts else "REJECTED"))
    return " ".join(parts)


def write_report(out: Path, records: Sequence[RunRecord], command: str) -> list[Path]:
    """Write the results files and the plot for every record; return the files written."""
    rows = derive_rows(records)
    summaries = summarize(rows)
    checks = check_targets(summaries)
    commits = sorted({r.commit or "unknown" for r in records})
    info = RunInfo(
        commits={c: sum(1 for r in records if (r.commit or "unknown") == c) for c in commits},
        written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpus=_cpus(),
        ortools=version("ortools"),
        command=command,
    )
    plots = plot_gap_vs_time(rows, out / "gap_vs_time")
    plot_name = plots[0].name if plots else None
    conflicts = bound_conflicts(records)
    return [*write_results(out, rows, summaries, checks, info, conflicts, plot_name), *plots]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every plan made passes the evaluator, else 1."""
    arguments = parse_arguments(argv)
    records = run_benchmark(arguments)
    command = "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv)
    for path in write_report(arguments.out, records, command):
        print(f"wrote {path}")
    rejected = [r for r in records if r.evaluator_accepts is False]
    return 1 if rejected else 0


if __name__ == "__main__":
    raise SystemExit(main())
