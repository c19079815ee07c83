"""Scheduled instances (SPEC §9) against the HiGHS peer: `python -m benchmarks.scheduled`.

The scheduled families are not in `benchmarks.run`'s FAMILIES (the v1 zoo); this script
runs infraplan and the peers on instance files (the committed `instances/scheduled`, or
`sched-L-0` written by `infraplan generate --family sched-L --seed 0 -o ...`), each in its
own process (`benchmarks.harness.measure.run_isolated`: peak memory, evaluator check), and
prints one markdown table: plan, proved bound, gap to its own bound and to the best bound
known in the table, the time of the first plan, wall time and peak memory.

    python -m benchmarks.scheduled instances/scheduled/M-0.json --time-limit 60
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.harness.measure import RunTask, run_isolated
from benchmarks.harness.methods import METHODS, MethodSettings
from benchmarks.harness.records import append_record
from benchmarks.run import measured_commit

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.harness.methods import MethodName
    from benchmarks.harness.records import RunRecord


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scheduled", description=__doc__)
    parser.add_argument("instances", nargs="+", type=Path)
    parser.add_argument("--methods", nargs="+", default=["infraplan", "mip-highs"])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out-scheduled"))
    return parser.parse_args(argv)


def run(arguments: argparse.Namespace) -> list[RunRecord]:
    """Run every (instance, method) one after another; return their records."""
    out: Path = arguments.out
    commit, uncommitted = measured_commit()
    stamp = commit + ("+uncommitted" if uncommitted else "")
    settings = MethodSettings(
        time_limit_s=arguments.time_limit, seed=arguments.seed, workers=arguments.workers
    )
    records: list[RunRecord] = []
    methods: list[MethodName] = [m for m in METHODS if m in arguments.methods]
    for path in arguments.instances:
        name = path.stem if path.parent.name != "scheduled" else f"sched-{path.stem}"
        for method in methods:
            label = f"{name}.{method}.{settings.time_limit_s:g}s"
            task = RunTask(
                instance_path=path,
                instance=name,
                family=name.rsplit("-", 1)[0],
                seed=arguments.seed,
                method=method,
                settings=settings,
                log_path=out / "logs" / f"{label}.log",
                solution_path=out / "solutions" / f"{label}.solution.json",
            )
            record = dataclasses.replace(run_isolated(task), commit=stamp)
            append_record(out / "records.jsonl", record)
            records.append(record)
            print(row(record, records), flush=True)
    return records


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e6:,.2f}M"


def _gap(objective: float | None, bound: float | None) -> str:
    if objective is None or bound is None or not math.isfinite(bound):
        return "-"
    return f"{(objective - bound) / max(1.0, abs(objective)):.2%}"


def row(record: RunRecord, every: Sequence[RunRecord]) -> str:
    """One markdown row: the plan, its gap to its own bound and to the best bound of the
    instance among `every` (proved bounds only), first plan, wall and memory."""
    bounds = [r.bound for r in every if r.instance == record.instance and r.bound is not None]
    best = max(bounds, default=None)
    objective = record.objective if record.evaluator_accepts else None
    first = f"{record.progress[0][0]:.1f}" if record.progress else "-"
    memory = "-" if record.peak_rss_mb is None else f"{record.peak_rss_mb:,.0f}"
    wall = "-" if record.wall_s is None else f"{record.wall_s:.1f}"
    solver_bound = "" if record.solver_bound is None else f" (HiGHS {_money(record.solver_bound)})"
    return (
        f"| {record.instance} | {record.time_limit_s:g} | {record.method} | {record.status} | "
        f"{_money(objective)} | {_money(record.bound)}{solver_bound} | "
        f"{_gap(objective, record.bound)} | {_gap(objective, best)} | {first} | {wall} | "
        f"{memory} | {record.evaluator_accepts} |"
    )


HEADER = (
    "| instance | limit s | method | status | plan | bound | gap (own) | gap (best) | "
    "first plan s | wall s | peak MB | evaluator |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    print(HEADER, flush=True)
    records = run(arguments)
    print("\n" + HEADER)
    for record in records:
        print(row(record, records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
