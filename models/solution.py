"""A plan and its status, bound and costs (SPEC section 7)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import ConfigDict, Field

from models.base import Count, Id, NonNegFloat, StrictModel

SOLUTION_SCHEMA = "infraplan-solution/v1"

Status = Literal["optimal", "feasible", "infeasible", "unknown"]


class TrainingAssignment(StrictModel):
    """Training job `job` runs at `site` on `count` accelerators of type `accelerator`."""

    job: Id
    site: Id
    accelerator: Id
    count: Count


class ReplicaAssignment(StrictModel):
    """Service `service` runs `replicas` replicas at `site` on `accelerator`."""

    service: Id
    site: Id
    accelerator: Id
    replicas: Count


class RouteFlow(StrictModel):
    """`rps` of `service`'s demand from `region` is served at `site`."""

    service: Id
    region: Id
    site: Id
    rps: NonNegFloat


class UnservedDemand(StrictModel):
    """`rps` of `service`'s demand from `region` is not served."""

    service: Id
    region: Id
    rps: NonNegFloat


class CostBreakdown(StrictModel):
    """The objective split into its parts (SPEC section 7); the parts sum to the objective."""

    compute: float = 0.0
    energy: float = 0.0
    carbon: float = 0.0
    egress: float = 0.0
    site_costs: float = 0.0
    fixed: float = 0.0
    unserved: float = 0.0
    unplaced: float = 0.0

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


class Solution(StrictModel):
    """A plan for one instance, with its status, objective, proved bound and cost breakdown."""

    schema_: Literal["infraplan-solution/v1"] = Field(
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
        """One line: status, objective, bound, gap and wall time."""
        objective = "-" if self.objective is None else f"{self.objective:,.2f}"
        bound = "-" if self.bound is None else f"{self.bound:,.2f}"
        gap = "-" if self.gap is None else f"{self.gap:.4%}"
        return (
            f"{self.instance}: {self.status} objective={objective} bound={bound} "
            f"gap={gap} wall={self.solver.wall_s:.2f}s"
        )

    def __str__(self) -> str:
        return self.summary()


NonNeg = NonNegFloat  # re-exported for callers that build solutions by hand
