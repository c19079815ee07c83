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

    @classmethod
    def projected(cls, instance: Instance, solution: Solution) -> ScheduledPlan:
        """The plan a solution holds, costed afresh, keeping only the decisions `instance`
        still has (a hint may come from an earlier version of the instance: jobs, services,
        sites, periods or options that are gone are left out, as v1's hints skip them)."""
        eligible = instance.eligibility
        periods = {span.id for span in instance.schedule.periods} if instance.is_scheduled else None

        def period_known(period: str | None) -> bool:
            return period is None if periods is None else period in periods

        placements = {
            (p.job, p.site, p.accelerator): p.count
            for options in eligible.training.values()
            for p in options
        }
        training = [
            t.model_copy(update={"count": placements[(t.job, t.site, t.accelerator)]})
            for t in solution.training
            if (t.job, t.site, t.accelerator) in placements
            and (periods is None or t.start_hour is not None)
        ]
        placed = {t.job for t in training}
        options = {
            (o.service, o.site, o.accelerator)
            for group in eligible.replicas.values()
            for o in group
        }
        pairs = {(r.service, r.region, r.site) for group in eligible.routes.values() for r in group}
        sites = instance.site_by_id
        regions = {region.id for region in instance.regions}
        return cls.build(
            instance,
            training,
            [
                j
                for j in solution.unplaced_training
                if j in instance.training_by_id and j not in placed
            ],
            [
                r
                for r in solution.inference
                if (r.service, r.site, r.accelerator) in options and period_known(r.period)
            ],
            [
                f
                for f in solution.routes
                if (f.service, f.region, f.site) in pairs and period_known(f.period)
            ],
            [
                w
                for w in solution.unserved
                if w.service in instance.inference_by_id
                and w.region in regions
                and period_known(w.period)
            ],
            [
                x
                for x in solution.expansions or []
                if x.site in sites
                and any(e.id == x.expansion for e in sites[x.site].expansions or [])
            ],
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
