"""The `infraplan` command line: parses arguments and calls the library, nothing else.

Exit codes: 0 success, 1 a failed input or plan, 2 a usage error.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from models import InputError, load_instance
from models.io import instance_json_schema, write_atomic

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
        out.print(
            f"{path}: ok ({len(instance.sites)} sites, {len(instance.regions)} regions, "
            f"{len(instance.training)} training, {len(instance.inference)} inference)",
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
    else:
        write_atomic(output, data)


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


@app.command()
def solve(
    instances: Annotated[list[Path], typer.Argument(help="Instance files to solve.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for solutions.")],
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Seconds per instance, build included.")
    ] = 60.0,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="CP-SAT workers per instance.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Solve instances; write OUTPUT/<stem>.solution.json for each and print the result."""
    from rich.live import Live

    from models import save_solution
    from solver.solve import solve as solve_instance

    failed = 0
    for path in instances:
        try:
            instance = load_instance(path)
        except InputError as error:
            err.print(f"error: {error}", markup=False)
            failed += 1
            continue
        with Live(console=err, transient=True, refresh_per_second=4) as live:

            def show(wall_s: float, objective: float, bound: float | None) -> None:
                gap = (
                    ""
                    if bound is None or objective == 0
                    else f" gap {(objective - bound) / abs(objective):.3%}"
                )
                live.update(f"{path.name}: {wall_s:6.1f}s objective {objective:,.2f}{gap}")

            solution = solve_instance(
                instance, time_limit_s=time_limit, workers=workers, seed=seed, on_progress=show
            )
        save_solution(solution, output / f"{path.stem}.solution.json")
        out.print(solution.summary(), markup=False)
        if not solution.has_plan:
            failed += 1
    if failed:
        raise typer.Exit(1)


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
    from benchmarks.external.importing import import_to_dir
    from benchmarks.external.tokens import OptionNeeded

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


class FamilyName(StrEnum):
    """Instance families `infraplan generate` makes (models.generator.FAMILIES)."""

    S = "S"
    M = "M"
    L = "L"
    XL = "XL"


@app.command()
def generate(
    family: Annotated[FamilyName, typer.Option("--family", help="Instance size: S, M, L or XL.")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed; the same seed, the same file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Instance file to write.")],
    witness: Annotated[
        Path | None,
        typer.Option("--witness", help="Also write the plan the instance was built around."),
    ] = None,
) -> None:
    """Write a seeded, realistic instance that is feasible by construction."""
    from models.generator import generate_with_witness, save_generated
    from solver.evaluate import evaluate

    instance, plan = generate_with_witness(family.value, seed)
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
            "--shared", help="Folder holding data/ (default: $INFRAPLAN_SHARED, else ../shared)."
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Build only this instance (repeatable; README left as is)."),
    ] = None,
) -> None:
    """Build the real-world instances from the shared public figures, with their README."""
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


def main() -> None:
    """Console-script entry point."""
    app()
