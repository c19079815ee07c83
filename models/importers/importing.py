"""`infraplan import`: benchmark files in, one SPEC instance file per instance out."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from models import save_instance
from models.importers.gap import GAP_FORMATS, GapFormat, import_gap
from models.importers.sscflp import SSCFLP_FORMATS, SscflpFormat, import_sscflp
from models.importers.tokens import OptionNeeded
from models.issues import InputIssue

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from models import Instance

#: The layouts each problem's importer reads.
FORMATS: dict[str, tuple[str, ...]] = {"gap": GAP_FORMATS, "sscflp": SSCFLP_FORMATS}


def read_benchmark(
    problem: str, path: Path, layout: str | None = None, capacities: Sequence[int] = ()
) -> list[Instance]:
    """The SPEC instances of one benchmark file.

    Raises OptionNeeded when the options do not suit the file or problem, and
    InputError when the file is not a valid file of that problem."""
    source = str(path)
    if problem not in FORMATS:
        raise OptionNeeded(source, [InputIssue("$", f"unknown problem {problem!r}")])
    if layout is not None and layout not in FORMATS[problem]:
        choices = ", ".join(FORMATS[problem])
        raise OptionNeeded(
            source, [InputIssue("$", f"unknown --format {layout!r} for {problem}: use {choices}")]
        )
    if problem == "gap":
        if capacities:
            raise OptionNeeded(source, [InputIssue("$", "--capacity is for sscflp files only")])
        return import_gap(path, cast("GapFormat | None", layout))
    return import_sscflp(path, cast("SscflpFormat | None", layout), capacities)


def import_to_dir(
    problem: str,
    path: Path,
    out_dir: Path,
    layout: str | None = None,
    capacities: Sequence[int] = (),
) -> list[tuple[Path, Instance]]:
    """Import a benchmark file and write each instance to `out_dir/<name>.json`.

    Every instance is read and validated before any file is written."""
    instances = read_benchmark(problem, path, layout, capacities)
    written: list[tuple[Path, Instance]] = []
    for instance in instances:
        target = out_dir / f"{instance.name}.json"
        save_instance(instance, target)
        written.append((target, instance))
    return written
