"""A plan and its status, bound and costs (SPEC section 7)."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from models.base import Count, Id, NonNegFloat, StrictModel
from models.v2_fields import OmitUnsetV2

SOLUTION_SCHEMA = "infraplan-solution/v1"
SOLUTION_SCHEMA_V2 = "infraplan-solution/v2"

#: The cost parts of SPEC §7, in every solution.
V1_COST_PARTS: tuple[str, ...] = (
    "compute",
    "energy",
    "carbon",
    "egress",
    "site_costs",
    "fixed",
    "unserved",
    "unplaced",
)
#: The cost parts SPEC §12 adds in a v2 solution.
V2_COST_PARTS: tuple[str, ...] = ("lateness", "moves", "replica_starts", "expansions")

Status = Literal["optimal", "feasible", "infeasible", "unknown"]


class TrainingAssignment(OmitUnsetV2):
    """Training job `job` runs at `site` on `count` accelerators of type `accelerator`,
    from `start_hour` in a scheduled instance (SPEC §12)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset({"start_hour"})

    job: Id
    site: Id
    accelerator: Id
    count: Count
    start_hour: Count | None = None


class ReplicaAssignment(OmitUnsetV2):
    """Service `service` runs `replicas` replicas at `site` on `accelerator` (in `period`,
    in a scheduled instance: SPEC §12)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset({"period"})

    service: Id
    site: Id
    accelerator: Id
    replicas: Count
    period: Id | None = None


class RouteFlow(OmitUnsetV2):
    """`rps` of `service`'s demand from `region` is served at `site` (in `period`, in a
    scheduled instance)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset({"period"})

    service: Id
    region: Id
    site: Id
    rps: NonNegFloat
    period: Id | None = None


class UnservedDemand(OmitUnsetV2):
    """`rps` of `service`'s demand from `region` is not served (in `period`, in a
    scheduled instance)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset({"period"})

    service: Id
    region: Id
    rps: NonNegFloat
    period: Id | None = None


class ChosenExpansion(StrictModel):
    """Expansion `expansion` of `site` is built (SPEC §12)."""

    site: Id
    expansion: Id


class CostBreakdown(OmitUnsetV2):
    """The objective split into its parts (SPEC §7 and §12); the parts sum to the objective.

    The v2 parts are None (left out) in a v1 solution and numbers, 0 when unused, in a
    v2 one."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"lateness", "moves", "replica_starts", "expansions"}
    )

    compute: float = 0.0
    energy: float = 0.0
    carbon: float = 0.0
    egress: float = 0.0
    site_costs: float = 0.0
    fixed: float = 0.0
    unserved: float = 0.0
    unplaced: float = 0.0
    lateness: float | None = None
    moves: float | None = None
    replica_starts: float | None = None
    expansions: float | None = None

    def parts(self) -> dict[str, float]:
        """The parts this breakdown holds (a v1 one has no v2 parts), in field order."""
        return {
            name: value
            for name in type(self).model_fields
            if (value := getattr(self, name)) is not None
        }

    @property
    def total(self) -> float:
        """Sum of all parts."""
        return (
            self.compute
            + self.energy
            + self.carbon
            + self.egress
            + self.site_costs
            + self.fixed
            + self.unserved
            + self.unplaced
            + (self.lateness or 0.0)
            + (self.moves or 0.0)
            + (self.replica_starts or 0.0)
            + (self.expansions or 0.0)
        )


class SolverInfo(StrictModel):
    """How the plan was made. Timing fields vary between runs; everything else does not."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    name: str
    version: str
    seed: int = 0
    time_limit_s: float | None = None
    wall_s: float = 0.0
    workers: int | None = None
    build_s: float | None = None


class Solution(OmitUnsetV2):
    """A plan for one instance, with its status, objective, proved bound and cost breakdown
    (schema v2 for a v2 instance: SPEC §12)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset({"expansions"})

    schema_: Literal["infraplan-solution/v1", "infraplan-solution/v2"] = Field(
        default="infraplan-solution/v1", alias="schema"
    )
    instance: str
    instance_sha256: str
    status: Status
    objective: float | None = None
    bound: float | None = None
    training: list[TrainingAssignment] = Field(default_factory=list)
    unplaced_training: list[Id] = Field(default_factory=list)
    inference: list[ReplicaAssignment] = Field(default_factory=list)
    routes: list[RouteFlow] = Field(default_factory=list)
    unserved: list[UnservedDemand] = Field(default_factory=list)
    expansions: list[ChosenExpansion] | None = None
    costs: CostBreakdown = Field(default_factory=CostBreakdown)
    solver: SolverInfo

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    @property
    def has_plan(self) -> bool:
        """Whether the solution holds a plan (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    @property
    def gap(self) -> float | None:
        """Relative gap (objective - bound) / |objective|; None without both figures.

        Negative when the bound is above the objective: a contradiction, shown as it is
        (never clipped to 0%) so that it cannot pass for a proof."""
        if self.objective is None or self.bound is None:
            return None
        if self.objective == 0:
            if self.bound == 0:
                return 0.0
            return -math.inf if self.bound > 0 else None
        return (self.objective - self.bound) / abs(self.objective)

    def summary(self) -> str:
        """One line: status, objective, bound, gap and wall time (and the reason, when the
        solver recorded why there is no plan)."""
        objective = "-" if self.objective is None else f"{self.objective:,.2f}"
        bound = "-" if self.bound is None else f"{self.bound:,.2f}"
        gap = "-" if self.gap is None else f"{self.gap:.4%}"
        proof = (self.solver.model_extra or {}).get("proof")
        why = f" ({proof})" if proof else ""
        return (
            f"{self.instance}: {self.status} objective={objective} bound={bound} "
            f"gap={gap} wall={self.solver.wall_s:.2f}s{why}"
        )

    def __str__(self) -> str:
        return self.summary()


NonNeg = NonNegFloat  # re-exported for callers that build solutions by hand
