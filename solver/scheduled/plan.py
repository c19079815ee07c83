"""A v2 plan: v1's decisions with start hours and periods, and the chosen expansions."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models import (
    ChosenExpansion,
    CostBreakdown,
    ReplicaAssignment,
    RouteFlow,
    Solution,
    TrainingAssignment,
    UnservedDemand,
)
from solver.scheduled.costs import period_position, plan_costs

if TYPE_CHECKING:
    from models import Instance, SolverInfo
    from models.solution import Status


@dataclass
class ScheduledPlan:
    """A v2 plan's decisions, sorted as SPEC §12 lists them, with its float costs."""

    training: list[TrainingAssignment]
    unplaced_training: list[str]
    inference: list[ReplicaAssignment]
    routes: list[RouteFlow]
    unserved: list[UnservedDemand]
    expansions: list[ChosenExpansion] = field(default_factory=list)
    costs: CostBreakdown = field(default_factory=CostBreakdown)

    @property
    def objective(self) -> float:
        """The plan's cost, summed in float64."""
        return math.fsum(self.costs.parts().values())

    @classmethod
    def build(
        cls,
        instance: Instance,
        training: list[TrainingAssignment],
        unplaced_training: list[str],
        inference: list[ReplicaAssignment],
        routes: list[RouteFlow],
        unserved: list[UnservedDemand],
        expansions: list[ChosenExpansion],
    ) -> ScheduledPlan:
        """A plan from its decisions: lists sorted (SPEC §12), costs recomputed."""

        def at(period: str | None) -> int:
            return period_position(instance, period)

        training = sorted(training, key=lambda t: t.job)
        inference = sorted(
            (r for r in inference if r.replicas > 0),
            key=lambda r: (r.service, r.site, r.accelerator, at(r.period)),
        )
        routes = sorted(
            (f for f in routes if f.rps > 0),
            key=lambda f: (f.service, f.region, f.site, at(f.period)),
        )
        unserved = sorted(
            (w for w in unserved if w.rps > 0), key=lambda w: (w.service, w.region, at(w.period))
        )
        expansions = sorted(expansions, key=lambda x: (x.site, x.expansion))
        unplaced = sorted(unplaced_training)
        costs = plan_costs(instance, training, unplaced, inference, routes, unserved, expansions)
        return cls(training, unplaced, inference, routes, unserved, expansions, costs)

    @classmethod
    def of(cls, instance: Instance, solution: Solution) -> ScheduledPlan:
        """The plan a v2 solution holds, costed afresh."""
        return cls.build(
            instance,
            list(solution.training),
            list(solution.unplaced_training),
            list(solution.inference),
            list(solution.routes),
            list(solution.unserved),
            list(solution.expansions or []),
        )

    def solution(
        self, instance: Instance, status: Status, bound: float | None, solver: SolverInfo
    ) -> Solution:
        """A `infraplan-solution/v2` Solution of `instance` holding this plan (SPEC §12)."""
        return Solution(
            schema_="infraplan-solution/v2",
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
            expansions=self.expansions,
            costs=self.costs,
            solver=solver,
        )
