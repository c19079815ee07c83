"""Read the files of a comparison: one instance, solutions, and the instances they name.

A solution is read against the instance it names (its `instance` field): the instance
given first when the names agree, else one given with `extra_instances`, else a file
`<name>.json` beside the first instance or beside the solution. That lets plans of
different scenarios of one family be compared, each against its own instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import InputError, InputIssue, load_instance, load_solution

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from models import Instance, Solution

#: Instance names that may be turned into a file name (no path separators, no leading dot).
_FILE_STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")


@dataclass(frozen=True, slots=True)
class PlanFiles:
    """One plan ready to compare: its label, the instance it is read against, the solution."""

    label: str
    instance: Instance
    instance_path: Path
    solution: Solution
    solution_path: Path


def load_plans(
    instance_path: Path,
    solution_paths: Sequence[Path],
    extra_instances: Sequence[Path] = (),
    labels: Sequence[str] | None = None,
) -> list[PlanFiles]:
    """Load every file and pair each solution with its instance.

    Raises InputError for a bad or unmatched file, ValueError when the labels do not
    match the solutions one to one.
    """
    if labels is not None and len(labels) != len(solution_paths):
        raise ValueError(f"{len(labels)} labels given for {len(solution_paths)} solutions")
    known: list[tuple[Path, Instance]] = [(instance_path, load_instance(instance_path))]
    known += [(path, load_instance(path)) for path in extra_instances]
    plans: list[PlanFiles] = []
    for index, solution_path in enumerate(solution_paths):
        solution = load_solution(solution_path)
        path, instance = _instance_for(solution, solution_path, known)
        label = labels[index] if labels is not None else default_label(solution_path)
        plans.append(PlanFiles(label, instance, path, solution, solution_path))
    return plans


def default_label(solution_path: Path) -> str:
    """The solution file's name without `.json` and a `.solution` before it."""
    name = solution_path.name
    for suffix in (".json", ".solution"):
        name = name.removesuffix(suffix)
    return name or solution_path.name


def _instance_for(
    solution: Solution, solution_path: Path, known: list[tuple[Path, Instance]]
) -> tuple[Path, Instance]:
    """The known instance the solution names (same content preferred), else a file beside."""
    named = [(path, instance) for path, instance in known if instance.name == solution.instance]
    for path, instance in named:
        if instance.sha256 == solution.instance_sha256:
            return path, instance
    if named:
        return named[0]
    if _FILE_STEM.fullmatch(solution.instance):
        for folder in dict.fromkeys([known[0][0].parent, solution_path.parent]):
            candidate = folder / f"{solution.instance}.json"
            if candidate.is_file():
                instance = load_instance(candidate)
                if instance.name == solution.instance:
                    known.append((candidate, instance))
                    return candidate, instance
    raise InputError(
        str(solution_path),
        [
            InputIssue(
                "instance",
                f"names instance {solution.instance!r}, which is not {known[0][1].name!r} "
                "and has no <name>.json beside the instance or the solution; "
                "pass its file with --instance",
            )
        ],
    )
