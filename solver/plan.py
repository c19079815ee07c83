"""A plan as lists of decisions with its costs: what every planner (CP-SAT, the heuristics,
the search) hands on, and how it becomes a Solution."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import (
    CostBreakdown,
    ReplicaAssignment,
    RouteFlow,
    Solution,
    TrainingAssignment,
    UnservedDemand,
)

if TYPE_CHECKING:
    from models import Instance, SolverInfo
    from models.solution import Status


@dataclass
class Plan:
    """A plan's decisions, lists sorted by their ids (SPEC section 7), with its costs."""

    training: list[TrainingAssignment]
    unplaced_training: list[str]
    inference: list[ReplicaAssignment]
    routes: list[RouteFlow]
    unserved: list[UnservedDemand]
    costs: CostBreakdown
    #: The plan leaves a required job unplaced or must-serve demand unserved (elastic
    #: slack): it is not a SPEC plan.
    uses_slack: bool = False

    @property
    def objective(self) -> float:
        """The plan's cost, summed in float64."""
        return math.fsum(self.costs.parts().values())

    @classmethod
    def of(cls, solution: Solution, costs: CostBreakdown | None = None) -> Plan:
        """The plan a solution holds, with its costs (or `costs` in their place)."""
        return cls(
            training=list(solution.training),
            unplaced_training=list(solution.unplaced_training),
            inference=list(solution.inference),
            routes=list(solution.routes),
            unserved=list(solution.unserved),
            costs=solution.costs if costs is None else costs,
        )

    def solution(
        self, instance: Instance, status: Status, bound: float | None, solver: SolverInfo
    ) -> Solution:
        """A Solution of `instance` holding this plan."""
        return Solution(
            instance=instance.name,
            instance_sha256=instance.sha256,
            status=status,
            bound=bound,
            objective=self.objective,
            training=self.training,
            unplaced_training=self.unplaced_training,
            inference=self.inference,
            routes=self.routes,
            unserved=self.unserved,
            costs=self.costs,
            solver=solver,
        )
