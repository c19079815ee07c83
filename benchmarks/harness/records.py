"""What one run of one method on one instance left behind, as stored between runs.

Records are raw measurements; gaps need the best bound known for the instance,
which exists only after every method ran, so they are derived at report time
(`benchmarks.harness.report`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson

if TYPE_CHECKING:
    from pathlib import Path

#: finished: the method returned; timeout: killed at the hard timeout; crashed: the
#: process died without an answer (e.g. out of memory); error: the method raised.
Outcome = Literal["finished", "timeout", "crashed", "error"]
#: (seconds since the method started, objective, proved bound) of one improving plan.
ProgressPoint = tuple[float, float, float | None]


@dataclass
class RunRecord:
    """One method run on one instance at one time limit."""

    instance: str
    family: str
    seed: int
    method: str
    time_limit_s: float
    workers: int
    outcome: Outcome
    #: A SPEC status word (for the LP bound: `optimal` when it was solved).
    status: str
    objective: float | None = None
    #: The method's own proved lower bound.
    bound: float | None = None
    #: A bound the method's solver reports to its own tolerances (HiGHS's dual bound for
    #: mip-highs): shown, never counted as a proved bound.
    solver_bound: float | None = None
    #: Whether `solver.evaluate` accepts the plan (None when there is no plan).
    evaluator_accepts: bool | None = None
    evaluator_objective: float | None = None
    #: The first few violations the evaluator found.
    violations: list[str] = field(default_factory=list)
    #: Seconds from the method's start to its answer (or to the kill).
    wall_s: float | None = None
    build_s: float | None = None
    #: Seconds the process took to read the instance (not part of `wall_s`).
    load_s: float | None = None
    #: The process's peak resident memory (instance and imports included).
    peak_rss_mb: float | None = None
    progress: list[ProgressPoint] = field(default_factory=list)
    error: str | None = None
    solution_path: str | None = None
    #: The commit measured, with "+uncommitted" when models/ or solver/ differed from it.
    commit: str | None = None

    @property
    def key(self) -> tuple[str, str, float]:
        """What identifies a run: instance, method and time limit."""
        return (self.instance, self.method, self.time_limit_s)

    @property
    def has_plan(self) -> bool:
        """Whether the run produced a plan with an objective."""
        return self.status in ("optimal", "feasible") and self.objective is not None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (progress points as lists)."""
        data = asdict(self)
        data["progress"] = [list(point) for point in self.progress]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """The record a `to_json` dict describes."""
        values = dict(data)
        values["progress"] = [
            (float(t), float(objective), None if bound is None else float(bound))
            for t, objective, bound in values.get("progress", [])
        ]
        return cls(**values)


def append_record(path: Path, record: RunRecord) -> None:
    """Append one record as a JSON line (so an interrupted benchmark keeps what finished)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(orjson.dumps(record.to_json()) + b"\n")


def read_records(path: Path) -> list[RunRecord]:
    """Every record of a JSON-lines file, in order (none if the file does not exist)."""
    if not path.exists():
        return []
    lines = path.read_bytes().splitlines()
    return [RunRecord.from_json(orjson.loads(line)) for line in lines if line.strip()]
