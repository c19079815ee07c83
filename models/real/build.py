"""Build the real instances from the reference data and write them with their README.

`build_real_instances()` is what `infraplan build-real` runs: it reads the reference
data folder (`models/data/reference/`, see `sources.data_dir`), builds every
scenario, validates it, proves it feasible with a greedy plan, writes the JSON files
and regenerates instances/real/README.md. It also writes the scheduled instance
roadmap-2026-2027 (`roadmap.py`, proved feasible by a witness built quarter by
quarter) and the capacity-expansion instance buildout-2026-2027 (`buildout.py`, the
roadmap with optional expansions; the roadmap's witness proves it feasible), which it
does not return. Building twice from the same data gives
byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.io import dump_model, write_atomic
from models.io import parse_instance as validate_instance
from models.real.buildout import BUILDOUT_NAME, build_buildout
from models.real.feasibility import greedy_plan
from models.real.hardware import accelerator_kinds
from models.real.readme import render_readme
from models.real.roadmap import ROADMAP_NAME, build_roadmap
from models.real.scenarios import SCENARIO_BY_NAME, SCENARIOS, build_document
from models.real.sources import load_reference_data, repo_root
from models.real.topology import fit_access_model

if TYPE_CHECKING:
    from models import Instance
    from models.real.feasibility import GreedyPlan

#: Built files must stay small enough to commit.
MAX_FILE_BYTES = 2_000_000


def default_out_dir() -> Path:
    """instances/real of this checkout; of the working directory when installed."""
    root = repo_root()
    checkout = (root / "pyproject.toml").is_file() and (root / "instances").is_dir()
    return (root if checkout else Path()) / "instances" / "real"


@dataclass(frozen=True, slots=True)
class BuiltInstance:
    """One written instance and the greedy plan that proved it feasible."""

    instance: Instance
    path: Path
    size_bytes: int
    greedy: GreedyPlan

    def summary(self) -> str:
        """One line for the command line."""
        inst = self.instance
        unserved = sum(self.greedy.unserved.values())
        return (
            f"{self.path}: {len(inst.sites)} sites, {len(inst.regions)} metros, "
            f"{len(inst.links)} links, {len(inst.training)} training, "
            f"{len(inst.inference)} inference, {self.size_bytes / 1e6:.2f} MB; feasible "
            f"(greedy plan: {len(self.greedy.training)} jobs placed, {unserved:g} rps dropped)"
        )


def build_real_instances(
    out_dir: Path | None = None,
    shared: Path | None = None,
    names: list[str] | None = None,
    *,
    write_readme: bool = True,
) -> list[BuiltInstance]:
    """Build, validate, prove feasible and write the named scenarios (all by default)."""
    target = out_dir if out_dir is not None else default_out_dir()
    unknown = sorted(set(names or []) - set(SCENARIO_BY_NAME) - {ROADMAP_NAME, BUILDOUT_NAME})
    if unknown:
        raise ValueError(f"unknown real instance(s): {', '.join(unknown)}")
    data = load_reference_data(shared)
    kinds = accelerator_kinds(data)
    access = fit_access_model(data)
    built: list[BuiltInstance] = []
    for scenario in SCENARIOS:
        if names and scenario.name not in names:
            continue
        document = build_document(scenario, data, kinds, access)
        instance = validate_instance(document, scenario.name)
        plan = greedy_plan(instance)
        payload = dump_model(instance, exclude_unset=True)
        if len(payload) > MAX_FILE_BYTES:
            raise ValueError(f"{scenario.name} is {len(payload)} bytes, over {MAX_FILE_BYTES}")
        path = target / f"{scenario.name}.json"
        write_atomic(path, payload)
        built.append(BuiltInstance(instance, path, len(payload), plan))
    roadmap = None
    if not names or ROADMAP_NAME in names:
        roadmap = build_roadmap(target, data, kinds, access, MAX_FILE_BYTES)
    buildout = None
    if not names or BUILDOUT_NAME in names:
        buildout = build_buildout(target, data, kinds, access, MAX_FILE_BYTES)
    if write_readme and not names:
        extra = roadmap.readme_lines() if roadmap is not None else []
        extra += buildout.readme_lines() if buildout is not None else []
        write_atomic(target / "README.md", render_readme(data, access, built, extra).encode())
    return built
