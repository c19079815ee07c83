"""The `infraplan` command line: parses arguments and calls the library, nothing else.

Exit codes: 0 success, 1 a failed input or plan, 2 a usage error.
"""

from __future__ import annotations

import contextlib
import warnings
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console

from models import InputError, load_instance
from models.generator.expansion_families import EXPANSION_FAMILIES
from models.generator.families import FAMILIES, ZOO
from models.generator.scheduled_families import SCHEDULED_FAMILIES
from models.io import instance_json_schema, write_atomic
from solver.warning_line import one_line_warning

if TYPE_CHECKING:
    from collections.abc import Iterator

app = typer.Typer(
    name="infraplan",
    help="Plan where AI workloads run: sites, power, cooling, latency and cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise."""
    err.print(f"error: {message}", markup=False)
    return typer.Exit(code)


#: The warning hook every command installs (solver.warning_line).
show_warning = one_line_warning


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Show warnings with `show_warning` while the block runs, then restore the hook."""
    previous = warnings.showwarning
    warnings.showwarning = show_warning
    try:
        yield
    finally:
        warnings.showwarning = previous


@app.callback()
def start(ctx: typer.Context) -> None:
    """Run every command with one-line warnings (e.g. ScalingWarning), restored at its end."""
    ctx.with_resource(one_line_warnings())


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Instance files to check.")],
) -> None:
    """Check instance files: one line per file (ok, or each error with its JSON path)."""
    failed = 0
    for path in files:
        try:
            instance = load_instance(path)
        except InputError as error:
            failed += 1
            for line in error.lines():
                out.print(line, markup=False)
            continue
        periods = "" if instance.periods is None else f", {len(instance.periods)} periods"
        out.print(
            f"{path}: ok ({len(instance.sites)} sites, {len(instance.regions)} regions, "
            f"{len(instance.training)} training, {len(instance.inference)} inference"
            f"{periods})",
            markup=False,
        )
    if failed:
        raise typer.Exit(1)


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the JSON Schema of instance files."""
    data = orjson.dumps(
        instance_json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    )
    if output is None:
        typer.echo(data.decode(), nl=False)
        return
    try:
        write_atomic(output, data)
    except OSError as error:
        raise fail(f"{output}: cannot write: {error.strerror}") from None


@app.command("evaluate")
def evaluate_command(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file.")],
    solution: Annotated[Path, typer.Argument(metavar="SOLUTION", help="Solution file (the plan).")],
) -> None:
    """Check a plan independently of the solver: objective, cost breakdown, each violation.

    Exits 0 for a feasible plan and 1 for an infeasible one (or a bad file).
    """
    from models import load_solution
    from solver.evaluate import evaluate

    try:
        problem = load_instance(instance)
        plan = load_solution(solution)
    except InputError as error:
        raise fail(str(error)) from None
    evaluation = evaluate(problem, plan)
    out.print(evaluation.summary(), markup=False)
    if not evaluation.feasible:
        raise typer.Exit(1)


class ExecutorName(StrEnum):
    """Where `infraplan solve` runs its instances."""

    local = "local"
    ray = "ray"


@app.command()
def solve(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...", help="Instance files, directories (their *.json) or glob patterns."
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory for solutions and the summary.")
    ],
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Seconds per instance, build included.")
    ] = 60.0,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="CP-SAT workers per instance [default: cores, max 8]."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Instances solved at once [default: local: cores / workers; ray: as the "
            "cluster's CPUs allow].",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Skip instances whose solution file matches instance and settings."
        ),
    ] = False,
    executor: Annotated[
        ExecutorName,
        typer.Option(
            "--executor",
            help="local: worker processes on this machine; ray: a Ray cluster "
            "(pip install 'infraplan[ray]').",
        ),
    ] = ExecutorName.local,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Ray cluster to join (auto, HOST:6379, ray://HOST:10001) [default: start a "
            "local Ray].",
        ),
    ] = None,
) -> None:
    """Solve instances in parallel: OUTPUT/<name>.solution.json each, OUTPUT/summary.json
    and summary.csv, and a table at the end.

    SIGINT or SIGTERM stops the batch cleanly. Exits 0 when every instance has a plan, 1
    when any is invalid, infeasible, unsolved, failed or did not finish, 2 for a usage
    error.
    """
    import threading
    import time

    from solver import batch
    from solver.executors import ExecutorError, LocalExecutor, make_executor
    from solver.progress import BatchDisplay, print_results
    from solver.solve import default_workers

    try:
        paths = batch.expand_inputs(inputs)
        default_jobs = batch.default_jobs(workers) if executor == ExecutorName.local else None
        runner = make_executor(executor.value, jobs=jobs or default_jobs, address=address)
        stop = threading.Event()
        display = BatchDisplay(out, len(paths), time_limit_s=time_limit, slots=runner.slots())
        running = batch.solve_many(
            paths,
            time_limit_s=time_limit,
            workers=workers,
            seed=seed,
            executor=runner,
            output_dir=output,
            resume=resume,
            on_event=display.event,
            stop=stop,
        )
    except (batch.BatchUsageError, ValueError, ExecutorError) as error:
        raise fail(str(error), 2) from None
    threads = workers or default_workers()
    if isinstance(runner, LocalExecutor) and (
        warning := batch.oversubscription(runner.jobs, threads)
    ):
        err.print(f"warning: {warning}", markup=False)

    started = time.perf_counter()
    results: list[batch.BatchResult] = []
    try:
        with batch.stop_on_signals(stop), display:
            for result in running:
                results.append(result)
                display.finished(result)
        summary = batch.write_summary(
            results,
            output,
            settings={
                "executor": runner.name,
                "address": address,
                "jobs": jobs or default_jobs,
                "time_limit_s": time_limit,
                "workers": threads,
                "seed": seed,
                "resume": resume,
            },
            wall_s=time.perf_counter() - started,
            interrupted=stop.is_set(),
        )
    except ExecutorError as error:
        raise fail(str(error), 2) from None
    except KeyboardInterrupt:
        running.close()  # kills the running solves; files written so far are complete
        raise fail("stopped at once by a second signal: no summary written") from None
    except OSError as error:
        raise fail(f"{error.filename or output}: cannot write: {error.strerror}") from None
    print_results(out, results)
    unfinished = [result.name for result in results if result.status == "cancelled"]
    if unfinished:
        err.print(
            f"interrupted: {len(unfinished)} instances did not finish: {', '.join(unfinished)}",
            markup=False,
        )
    out.print(f"summary: {summary[0]} {summary[1]}", markup=False)
    raise typer.Exit(batch.exit_code(results))


class BenchmarkProblem(StrEnum):
    """Problems `infraplan import` reads."""

    gap = "gap"
    sscflp = "sscflp"


@app.command("import")
def import_command(
    problem: Annotated[BenchmarkProblem, typer.Argument(help="gap or sscflp.")],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Benchmark file to import.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory for the instance files.")
    ],
    layout: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="gap: orlib or single; sscflp: orlib, holmberg or brescia "
            "(default: recognised from the content).",
        ),
    ] = None,
    capacity: Annotated[
        list[int] | None,
        typer.Option(
            "--capacity", min=0, help="Capacity for OR-Library capa/capb/capc (repeatable)."
        ),
    ] = None,
) -> None:
    """Turn a public benchmark file (GAP, SSCFLP) into SPEC instance files, one per instance."""
    from models.importers import OptionNeeded, import_to_dir

    try:
        written = import_to_dir(problem.value, file, output, layout, capacity or ())
    except OptionNeeded as error:
        raise fail(str(error), 2) from None
    except InputError as error:
        raise fail(str(error)) from None
    except OSError as error:
        raise fail(f"{error.filename}: cannot write: {error.strerror}") from None
    for path, instance in written:
        out.print(
            f"{path}: {instance.name} ({len(instance.sites)} sites, "
            f"{len(instance.training)} training)",
            markup=False,
        )


def _family_name(name: str) -> str:
    """`--family` checked against the family tables (models.generator.FAMILIES,
    SCHEDULED_FAMILIES and EXPANSION_FAMILIES)."""
    if name not in FAMILIES and name not in SCHEDULED_FAMILIES and name not in EXPANSION_FAMILIES:
        known = ", ".join([*FAMILIES, *SCHEDULED_FAMILIES, *EXPANSION_FAMILIES])
        raise typer.BadParameter(f"{name!r} is not one of {known}")
    return name


@app.command()
def generate(
    family: Annotated[
        str,
        typer.Option(
            "--family",
            callback=_family_name,
            help=f"Instance family: S, M, L, XL, a zoo family ({', '.join(ZOO)}), a "
            f"scheduled one ({', '.join(SCHEDULED_FAMILIES)}), or one with site expansions "
            f"({', '.join(EXPANSION_FAMILIES)}).",
        ),
    ],
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed; the same seed, the same file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Instance file to write.")],
    witness: Annotated[
        Path | None,
        typer.Option("--witness", help="Also write the plan the instance was built around."),
    ] = None,
) -> None:
    """Write a seeded, realistic instance that is feasible by construction."""
    from models.generator import (
        generate_scheduled_with_witness,
        generate_with_witness,
        save_generated,
    )
    from models.generator.expansion import generate_expansion_with_witness
    from solver.evaluate import evaluate

    if family in SCHEDULED_FAMILIES:
        instance, plan = generate_scheduled_with_witness(family, seed)
    elif family in EXPANSION_FAMILIES:
        instance, plan = generate_expansion_with_witness(family, seed)
    else:
        instance, plan = generate_with_witness(family, seed)
    if witness is not None:
        # The generator leaves pricing to the evaluator, so the written plan checks as feasible.
        priced = evaluate(instance, plan)
        plan = plan.model_copy(update={"objective": priced.objective, "costs": priced.costs})
    try:
        save_generated(instance, plan, output, witness)
    except OSError as error:
        raise fail(f"{error.filename}: cannot write: {error.strerror}") from None
    out.print(
        f"{output}: {instance.name} ({len(instance.sites)} sites, {len(instance.regions)} regions, "
        f"{len(instance.training)} training, {len(instance.inference)} inference)",
        markup=False,
    )


@app.command("build-real")
def build_real(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Directory to write (default: instances/real)."),
    ] = None,
    shared: Annotated[
        Path | None,
        typer.Option(
            "--shared",
            help="Folder holding data/ to build from (default: $INFRAPLAN_SHARED, else the "
            "copy in models/data/reference).",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Build only this instance (repeatable; README left as is)."),
    ] = None,
) -> None:
    """Build the real-world instances from the public reference figures, with their README."""
    from models.real import build_real_instances

    try:
        built = build_real_instances(output, shared, only)
    except InputError as error:
        for line in error.lines():
            err.print(line, markup=False)
        raise typer.Exit(1) from None
    except (OSError, ValueError) as error:
        raise fail(str(error)) from None
    for item in built:
        out.print(item.summary(), markup=False)


ReportOutput = Annotated[
    list[Path] | None,
    typer.Option(
        "-o",
        "--output",
        help="Report file: .md, .json or .html (repeatable; default: Markdown to stdout).",
    ),
]
ReportRows = Annotated[
    int, typer.Option("--max-rows", min=1, help="Rows per long table (the JSON has every row).")
]


@app.command("compare")
def compare_command(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file.")],
    solutions: Annotated[
        list[Path], typer.Argument(metavar="SOLUTION...", help="Two or more solution files.")
    ],
    output: ReportOutput = None,
    extra_instances: Annotated[
        list[Path] | None,
        typer.Option(
            "--instance",
            help="Instance file of a scenario a solution names (repeatable; "
            "<name>.json beside INSTANCE or the solution is found without it).",
        ),
    ] = None,
    labels: Annotated[
        list[str] | None,
        typer.Option("--label", help="Name of each plan, in order (default: file names)."),
    ] = None,
    max_rows: ReportRows = 40,
) -> None:
    """Compare plans against the first: costs, sites, latency, links, placements, resilience.

    Each solution is read against the instance it names, so scenarios of one family compare.
    """
    if len(solutions) < 2:
        raise fail("compare needs two or more solutions (use `infraplan report` for one)", 2)
    _write_report(instance, solutions, extra_instances or [], labels, output, max_rows)


@app.command("report")
def report_command(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file.")],
    solution: Annotated[Path, typer.Argument(metavar="SOLUTION", help="Solution file.")],
    output: ReportOutput = None,
    label: Annotated[
        str | None, typer.Option("--label", help="Name of the plan (default: file name).")
    ] = None,
    max_rows: ReportRows = 40,
) -> None:
    """Report one plan: costs, sites, latency, links, placements and resilience."""
    _write_report(instance, [solution], [], None if label is None else [label], output, max_rows)


def _write_report(
    instance: Path,
    solutions: list[Path],
    extra_instances: list[Path],
    labels: list[str] | None,
    outputs: list[Path] | None,
    max_rows: int,
) -> None:
    """Load the files, compare the plans, and print the report or write each file."""
    from solver.report import compare, format_for, render, write_report
    from solver.report.inputs import load_plans

    try:
        formats = [(path, format_for(path)) for path in outputs or []]
    except ValueError as error:
        raise fail(str(error), 2) from None
    try:
        plans = load_plans(instance, solutions, extra_instances, labels)
    except InputError as error:
        raise fail(str(error)) from None
    except ValueError as error:
        raise fail(str(error), 2) from None
    comparison = compare(
        [(plan.instance, plan.solution) for plan in plans], labels=[plan.label for plan in plans]
    )
    if not formats:
        typer.echo(render(comparison, "md", max_rows=max_rows), nl=False)
        return
    for warning in comparison.warnings:
        err.print(f"warning: {warning}", markup=False)
    for path, report_format in formats:
        try:
            write_report(comparison, path, max_rows=max_rows)
        except OSError as error:
            raise fail(f"{error.filename or path}: cannot write: {error.strerror}") from None
        out.print(f"{path}: {report_format} report, {path.stat().st_size:,} bytes", markup=False)


@app.command("explain")
def explain_command(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file.")],
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, help="Seconds for the whole diagnosis.")
    ] = 300.0,
    check_time: Annotated[
        float, typer.Option("--check-time", min=0.1, help="Seconds per CP-SAT call.")
    ] = 30.0,
    max_conflicts: Annotated[
        int, typer.Option("--max-conflicts", min=1, help="Independent conflicts to look for.")
    ] = 3,
    verify_time: Annotated[
        float,
        typer.Option(
            "--verify-time", min=0.0, help="Seconds per solve re-checking a relaxation (0: skip)."
        ),
    ] = 30.0,
    relaxations: Annotated[
        bool,
        typer.Option(
            "--relaxations/--no-relaxations", help="Find each limit's smallest relaxation."
        ),
    ] = True,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="CP-SAT workers of relaxation searches.")
    ] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON.")] = False,
) -> None:
    """Explain why an instance has no plan: minimal sets of conflicting limits in a
    planner's words, and the smallest single change of each limit that restores a plan
    (as `infraplan whatif` edits).

    Exits 0 when the question is answered (a plan exists, or the conflicts are named), 1
    when it is undecided in the time given or the file is bad.
    """
    from solver.explain import explain

    try:
        problem = load_instance(instance)
    except InputError as error:
        raise fail(str(error)) from None
    diagnosis = explain(
        problem,
        time_limit_s=time_limit,
        check_time_s=check_time,
        max_conflicts=max_conflicts,
        relaxations=relaxations,
        verify_time_s=verify_time,
        workers=workers,
        seed=seed,
    )
    if as_json:
        typer.echo(orjson.dumps(diagnosis.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        out.print(diagnosis.summary(), markup=False)
    if diagnosis.status == "unknown":
        raise typer.Exit(1)


@app.command("sensitivity")
def sensitivity_command(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file.")],
    solution: Annotated[Path, typer.Argument(metavar="SOLUTION", help="Solution file (the plan).")],
    step_kw: Annotated[
        float, typer.Option("--step-kw", min=0.0, help="Step of grid power and cooling (kW).")
    ] = 1000.0,
    step_accelerators: Annotated[
        int, typer.Option("--step-accelerators", min=0, help="Step of inventory counts.")
    ] = 100,
    step_gbps: Annotated[
        float, typer.Option("--step-gbps", min=0.0, help="Step of link bandwidth (Gbps).")
    ] = 100.0,
    top: Annotated[
        int, typer.Option("--top", min=0, help="Limits re-solved with their step (0: none).")
    ] = 5,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Seconds per re-solve.")
    ] = 60.0,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="CP-SAT workers per re-solve.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    all_rows: Annotated[
        bool, typer.Option("--all", help="List limits with no value and room to spare too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """What one more kW, accelerator or Gbps at each limit is worth to a plan: the LP-dual
    estimate for every limit, and the exact change of the optimum for the top limits,
    re-solved with the limit raised by a step (warm-started from the plan).

    For a v2 instance: one more step of grid at a site in one period, a power date one
    period earlier, and how much cheaper each expansion not chosen would have to be, each
    re-solved from the plan (--top of each)."""
    from models import load_solution
    from solver.sensitivity import Steps, sensitivity

    try:
        problem = load_instance(instance)
        plan = load_solution(solution)
    except InputError as error:
        raise fail(str(error)) from None
    if problem.is_v2:
        from solver.sensitivity_v2 import sensitivity_v2

        try:
            timed = sensitivity_v2(
                problem,
                plan,
                step_kw=step_kw,
                top=top,
                time_limit_s=time_limit,
                workers=workers,
                seed=seed,
            )
        except ValueError as error:
            raise fail(f"{solution}: {error}") from None
        if as_json:
            typer.echo(orjson.dumps(timed.to_dict(), option=orjson.OPT_INDENT_2).decode())
        else:
            out.print(timed.summary(), markup=False)
        return
    try:
        result = sensitivity(
            problem,
            plan,
            steps=Steps(kw=step_kw, accelerators=step_accelerators, gbps=step_gbps),
            top=top,
            time_limit_s=time_limit,
            workers=workers,
            seed=seed,
        )
    except ValueError as error:
        raise fail(f"{solution}: {error}") from None
    if as_json:
        typer.echo(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        out.print(result.summary(all_rows=all_rows), markup=False)


@app.command("whatif")
def whatif_command(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file.")],
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="PATH=VALUE, e.g. sites[fra-1].grid_kw=30000, "
            "sites[fra-1].inventory[h100].count=2048, links[a,b].bandwidth_gbps=400 "
            "(repeatable; VALUE is JSON, else text).",
        ),
    ] = None,
    drop_sites: Annotated[
        list[str] | None,
        typer.Option("--drop-site", help="Site that hosts nothing (stays a network node)."),
    ] = None,
    drop_jobs: Annotated[
        list[str] | None, typer.Option("--drop-job", help="Training job to remove.")
    ] = None,
    drop_services: Annotated[
        list[str] | None, typer.Option("--drop-service", help="Inference service to remove.")
    ] = None,
    scale_demand: Annotated[
        list[str] | None,
        typer.Option("--scale-demand", help="F (every service) or SERVICE=F (repeatable)."),
    ] = None,
    scale_grid: Annotated[
        list[str] | None,
        typer.Option(
            "--scale-grid",
            help="SITE=F: the site's grid power (base and timeline entries) times F, e.g. "
            "fra-1=0.6 for a site that loses 40 percent of its grid (repeatable).",
        ),
    ] = None,
    base: Annotated[
        Path | None,
        typer.Option("--base", help="The base plan (default: solve the instance first)."),
    ] = None,
    current: Annotated[
        Path | None,
        typer.Option(
            "--current",
            help="The base plan as what runs now: re-plan the edited instance from it "
            "(SPEC §10) instead of from scratch.",
        ),
    ] = None,
    max_training_moves: Annotated[
        int | None,
        typer.Option("--max-training-moves", min=0, help="With --current: jobs that may move."),
    ] = None,
    max_replica_changes: Annotated[
        int | None,
        typer.Option(
            "--max-replica-changes", min=0, help="With --current: first-period replica changes."
        ),
    ] = None,
    output: ReportOutput = None,
    save_instance: Annotated[
        Path | None, typer.Option("--save-instance", help="Write the edited instance here.")
    ] = None,
    save_solution: Annotated[
        Path | None, typer.Option("--save-solution", help="Write the edited plan here.")
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Seconds per solve.")
    ] = 60.0,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="CP-SAT workers per solve.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    max_rows: ReportRows = 40,
) -> None:
    """Edit an instance, re-solve it warm-started from the base plan, and report the base
    and edited plans side by side.

    Edits apply in this order: --drop-site, --drop-job, --drop-service, --set,
    --scale-demand, --scale-grid. The edited instance is validated like a file: a bad edit
    gets one line naming the JSON path. With --current, the edited instance is re-planned
    from that plan (moves priced and budgeted by SPEC §10), never worse than keeping it
    when it still fits.
    """
    from models import load_solution
    from models import save_solution as write_solution
    from models.io import save_instance as write_instance
    from solver.report import format_for, render, write_report
    from solver.whatif import (
        DropJob,
        DropService,
        DropSite,
        Edit,
        EditError,
        ScaleDemand,
        ScaleGrid,
        SetValue,
        apply_edits,
        whatif,
    )

    if base is not None and current is not None:
        raise fail("give the base plan as --base or as --current, not both", 2)
    if current is None and (max_training_moves is not None or max_replica_changes is not None):
        raise fail("move budgets need --current (the plan to re-plan from)", 2)
    try:
        formats = [(path, format_for(path)) for path in output or []]
    except ValueError as error:
        raise fail(str(error), 2) from None
    base_path = current if current is not None else base
    try:
        problem = load_instance(instance)
        plan = None if base_path is None else load_solution(base_path)
        edits: list[Edit] = [
            *(DropSite(site) for site in drop_sites or []),
            *(DropJob(job) for job in drop_jobs or []),
            *(DropService(service) for service in drop_services or []),
            *(SetValue.parse(text) for text in set_values or []),
            *(ScaleDemand.parse(text) for text in scale_demand or []),
            *(ScaleGrid.parse(text) for text in scale_grid or []),
        ]
        # Edits are checked before any solving, so a typo costs no time.
        apply_edits(problem, edits, str(instance))
    except InputError as error:
        raise fail(str(error)) from None
    except EditError as error:
        raise fail(f"{instance}: {error}") from None
    try:
        result = whatif(
            problem,
            edits,
            base=plan,
            time_limit_s=time_limit,
            workers=workers,
            seed=seed,
            source=str(instance),
            from_current=current is not None,
            max_training_moves=max_training_moves,
            max_replica_changes=max_replica_changes,
        )
    except InputError as error:
        raise fail(str(error)) from None
    try:
        if save_instance is not None:
            write_instance(result.edited_instance, save_instance)
        if save_solution is not None:
            write_solution(result.edited, save_solution)
        for path, _ in formats:
            write_report(result.comparison, path, max_rows=max_rows)
    except OSError as error:
        raise fail(f"{error.filename}: cannot write: {error.strerror}") from None
    if not formats:
        typer.echo(render(result.comparison, "md", max_rows=max_rows), nl=False)
        return
    out.print(result.summary(), markup=False)
    for path, report_format in formats:
        out.print(f"{path}: {report_format} report, {path.stat().st_size:,} bytes", markup=False)


class FrontierCount(StrEnum):
    """What `infraplan replan --frontier` sweeps the budget of."""

    training = "training"
    replicas = "replicas"


@app.command("replan")
def replan_command(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file.")],
    current: Annotated[
        Path,
        typer.Option(
            "--current",
            help="Solution file of the plan that runs now (of this instance or an earlier "
            "version of it).",
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory to write.")],
    max_training_moves: Annotated[
        int | None,
        typer.Option("--max-training-moves", min=0, help="Jobs of the current plan that may move."),
    ] = None,
    max_replica_changes: Annotated[
        int | None,
        typer.Option(
            "--max-replica-changes",
            min=0,
            help="Replicas added or removed in the first period, summed over groups.",
        ),
    ] = None,
    frontier_sweep: Annotated[
        bool,
        typer.Option(
            "--frontier",
            help="Re-plan at budgets 0, 1, 2, 4, ... until the cost stops falling, and "
            "report what each extra move buys.",
        ),
    ] = False,
    frontier_of: Annotated[
        FrontierCount,
        typer.Option(
            "--frontier-of", help="The budget --frontier sweeps: training moves or replicas."
        ),
    ] = FrontierCount.training,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Seconds per solve.")
    ] = 60.0,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="CP-SAT workers per solve.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    max_rows: ReportRows = 40,
) -> None:
    """Re-plan from the plan that runs now (SPEC §10): entries of the current plan that no
    longer fit are dropped (one line each), the instance is solved from the rest within
    the move budgets, and OUTPUT gets the instance with `current`, the new plan, a report
    comparing the two and the moves.

    Never worse than keeping the current plan when that plan still meets every limit.
    With --frontier: the cost at each budget, as a table and a chart. Exits 1 when no
    plan is found.
    """
    from models import load_solution
    from solver.frontier import frontier, frontier_files
    from solver.replan import replan, replan_files, write_files

    try:
        problem = load_instance(instance)
        plan = load_solution(current)
    except InputError as error:
        raise fail(str(error)) from None
    stem = instance.stem
    try:
        if frontier_sweep:
            curve = frontier(
                problem,
                plan,
                of=frontier_of.value,
                max_training_moves=max_training_moves,
                max_replica_changes=max_replica_changes,
                time_limit_s=time_limit,
                workers=workers,
                seed=seed,
                source=str(instance),
            )
            for line in curve.floor.result.dropped:
                err.print(f"dropped from the current plan: {line}", markup=False)
            files = frontier_files(curve, stem)
            found = curve.floor.result.has_plan
            text = curve.summary()
        else:
            result = replan(
                problem,
                plan,
                max_training_moves=max_training_moves,
                max_replica_changes=max_replica_changes,
                time_limit_s=time_limit,
                workers=workers,
                seed=seed,
                source=str(instance),
            )
            files = replan_files(result, stem, max_rows=max_rows)
            found = result.has_plan
            text = result.summary()
    except InputError as error:
        raise fail(str(error)) from None
    try:
        written = write_files(output, files)
    except OSError as error:
        raise fail(f"{error.filename or output}: cannot write: {error.strerror}") from None
    out.print(text, markup=False)
    for path in written:
        out.print(f"wrote {path}", markup=False)
    if not found:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app()
