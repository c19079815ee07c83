"""Generalised assignment problem (GAP) files as SPEC instances.

Two layouts, both streams of integers (line breaks carry no meaning):

- `orlib` (OR-Library gap1-12, gapa-d): the number of instances P, then P times
  `m n`, the m x n cost matrix c[i][j], the m x n resource matrix a[i][j] and
  the m capacities b[i] (agent-major: row i lists jobs 1..n).
- `single` (Yagiura's files): one instance in the same layout without P.

Costs are imported as given and minimised. The OR-Library states gap1-12 as
maximisation problems; their min-sense optima are published too, and those are
what an imported gap1-12 instance is compared with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from models.importers.encoding import Assignee, Holder, assignment_instance, padded_ids
from models.importers.tokens import OptionNeeded, Token, TokenReader, read_text, tokenize
from models.issues import InputError, InputIssue

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance

GapFormat = Literal["orlib", "single"]
GAP_FORMATS: tuple[GapFormat, ...] = ("orlib", "single")

ZERO_USE = (
    "a zero resource use cannot be imported: the SPEC's option count must be ≥ 1; "
    "such files need a model change, not a workaround"
)


@dataclass(frozen=True, slots=True)
class GapData:
    """One GAP instance as read: costs[i][j], resource use[i][j] and capacities[i]."""

    costs: list[list[float]]
    resource_use: list[list[int]]
    capacities: list[int]

    @property
    def agents(self) -> int:
        """Number of agents (m)."""
        return len(self.capacities)

    @property
    def jobs(self) -> int:
        """Number of jobs (n)."""
        return len(self.costs[0]) if self.costs else 0


def _read_instance(reader: TokenReader, label: str) -> GapData:
    agents = reader.count(f"the number of agents of {label}", minimum=1)
    jobs = reader.count(f"the number of jobs of {label}", minimum=1)
    # A file too short for the sizes it states is reported before reading on.
    needed = 2 * agents * jobs + agents
    if reader.remaining < needed:
        raise reader.fail(
            reader.peek(),
            f"{label} states {agents} agents and {jobs} jobs, which needs {needed} more "
            f"numbers, but only {reader.remaining} remain",
        )
    costs = [
        [reader.number(f"cost c[{i}][{j}] of {label}", whole=True) for j in range(1, jobs + 1)]
        for i in range(1, agents + 1)
    ]
    resource_use = [
        [
            reader.count(f"resource use a[{i}][{j}] of {label}", minimum=1, why=ZERO_USE)
            for j in range(1, jobs + 1)
        ]
        for i in range(1, agents + 1)
    ]
    capacities = [reader.count(f"capacity b[{i}] of {label}") for i in range(1, agents + 1)]
    return GapData(costs, resource_use, capacities)


def parse_orlib(tokens: list[Token], source: str) -> list[GapData]:
    """Read an OR-Library GAP file: a leading instance count, then the instances."""
    reader = TokenReader(tokens, source)
    how_many = reader.count("the number of instances (OR-Library layout)", minimum=1)
    found = [_read_instance(reader, f"instance {k}") for k in range(1, how_many + 1)]
    reader.expect_end(f"the {how_many} instance(s) the file announces")
    return found


def parse_single(tokens: list[Token], source: str) -> list[GapData]:
    """Read a single-instance GAP file (Yagiura's layout)."""
    reader = TokenReader(tokens, source)
    found = _read_instance(reader, "the instance")
    reader.expect_end("the instance")
    return [found]


def _fits(tokens: list[Token], layout: GapFormat) -> bool:
    """Whether the stated sizes account for exactly the file's numbers (values not read)."""
    try:
        index, blocks = 0, 1
        if layout == "orlib":
            index, blocks = 1, int(tokens[0].text)
            if blocks < 1:
                return False
        for _ in range(blocks):
            agents, jobs = int(tokens[index].text), int(tokens[index + 1].text)
            if agents < 1 or jobs < 1:
                return False
            index += 2 + 2 * agents * jobs + agents
            if index > len(tokens):
                return False
        return index == len(tokens)
    except (ValueError, IndexError):
        return False


_PARSERS = {"orlib": parse_orlib, "single": parse_single}


def recognise(tokens: list[Token], source: str) -> GapFormat:
    """The layout of a GAP file, when its numbers fit exactly one layout."""
    fitting = [layout for layout in GAP_FORMATS if _fits(tokens, layout)]
    if len(fitting) == 1:
        return fitting[0]
    if fitting:
        message = "the numbers fit both the orlib and the single layout: give --format"
        raise OptionNeeded(source, [InputIssue("$", message)])
    reasons: list[str] = []
    for layout in GAP_FORMATS:
        try:
            _PARSERS[layout](tokens, source)
        except InputError as error:
            reasons.append(f"as {layout}: {error.issues[0]}")
    message = "not a GAP file in a known layout (" + "; ".join(reasons) + ")"
    raise InputError(source, [InputIssue("$", message)])


def parse(
    tokens: list[Token], source: str, layout: GapFormat | None
) -> tuple[GapFormat, list[GapData]]:
    """Read a GAP file in the given layout, or in the one its numbers fit."""
    chosen = recognise(tokens, source) if layout is None else layout
    return chosen, _PARSERS[chosen](tokens, source)


def to_instance(
    data: GapData, *, name: str, description: str, meta: dict[str, object], source: str
) -> Instance:
    """The SPEC instance of one GAP instance (agents = sites, jobs = required training)."""
    agent_ids = padded_ids("agent", data.agents)
    job_ids = padded_ids("job", data.jobs)
    holders = [
        Holder(agent_id, capacity)
        for agent_id, capacity in zip(agent_ids, data.capacities, strict=True)
    ]
    assignees = [
        Assignee(
            job_id,
            counts=[row[j] for row in data.resource_use],
            costs=[row[j] for row in data.costs],
        )
        for j, job_id in enumerate(job_ids)
    ]
    return assignment_instance(
        name=name,
        description=description,
        meta=dict(meta),
        holders=holders,
        assignees=assignees,
        source=source,
    )


def import_gap(path: Path, layout: GapFormat | None = None) -> list[Instance]:
    """Every instance of a GAP file as a SPEC instance, named after the file (and index)."""
    source = str(path)
    text, raw = read_text(path)
    tokens = tokenize(text)
    if not tokens:
        raise InputError(source, [InputIssue("$", "the file is empty")])
    chosen, found = parse(tokens, source, layout)
    digest = hashlib.sha256(raw).hexdigest()
    stem = path.stem
    instances: list[Instance] = []
    for index, data in enumerate(found, start=1):
        numbered = chosen == "orlib"
        name = f"{stem}-{index}" if numbered else stem
        where = f"instance {index} of {len(found)} in {path.name}" if numbered else path.name
        meta: dict[str, object] = {
            "source": {
                "problem": "gap",
                "format": chosen,
                "file": path.name,
                "sha256": digest,
                "index": index,
                "instances_in_file": len(found),
                "agents": data.agents,
                "jobs": data.jobs,
                "sense": "min",
            }
        }
        description = (
            f"GAP {where} ({chosen} layout), {data.agents} agents x {data.jobs} jobs; "
            "costs imported as given and minimised (agents = sites, jobs = training)"
        )
        instances.append(
            to_instance(data, name=name, description=description, meta=meta, source=source)
        )
    return instances
