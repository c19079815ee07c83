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
        still has (`usable_hint`)."""
        return cls.of(instance, usable_hint(instance, solution))

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


def usable_hint(instance: Instance, plan: Solution) -> Solution:
    """The entries of `plan` that are eligible decisions of `instance` (a plan of an
    earlier version may name jobs, sites or periods that are gone): a hint the solver
    can read. Decisions left out are the search's to make."""
    eligible = instance.eligibility
    placements = {
        (p.job, p.site, p.accelerator): p.count
        for options in eligible.training.values()
        for p in options
    }
    groups = {
        (o.service, o.site, o.accelerator)
        for options in eligible.replicas.values()
        for o in options
    }
    pairs = {(r.service, r.region, r.site) for pairs in eligible.routes.values() for r in pairs}
    scheduled = instance.is_scheduled
    periods = {p.id for p in instance.periods or []}

    def in_time(period: str | None) -> bool:
        return period in periods if scheduled else period is None

    training = []
    for entry in plan.training:
        count = placements.get((entry.job, entry.site, entry.accelerator))
        if count is None:
            continue
        start = entry.start_hour
        if scheduled and start is None:
            start = instance.training_by_id[entry.job].release
        training.append(
            entry.model_copy(update={"count": count, "start_hour": start if scheduled else None})
        )
    placed = {t.job for t in training}
    return plan.model_copy(
        update={
            "training": training,
            "unplaced_training": [
                j
                for j in plan.unplaced_training
                if j in instance.training_by_id and j not in placed
            ],
            "inference": [
                r
                for r in plan.inference
                if (r.service, r.site, r.accelerator) in groups and in_time(r.period)
            ],
            "routes": [
                f
                for f in plan.routes
                if (f.service, f.region, f.site) in pairs and in_time(f.period)
            ],
            "unserved": [
                w
                for w in plan.unserved
                if w.service in instance.inference_by_id
                and any(w.region in d for d in instance.schedule.demand[w.service])
                and in_time(w.period)
            ],
            "expansions": [
                x
                for x in plan.expansions or []
                if (x.site, x.expansion) in instance.schedule.expansion_period
            ],
        }
    )


def no_plan_solution(
    instance: Instance, status: Status, bound: float | None, solver: SolverInfo
) -> Solution:
    """A `infraplan-solution/v2` Solution of `instance` that holds no plan (SPEC §12):
    v2 cost parts at 0, no bound when the status is `infeasible`."""
    return Solution(
        schema_="infraplan-solution/v2",
        instance=instance.name,
        instance_sha256=instance.sha256,
        status=status,
        bound=None if status == "infeasible" else bound,
        expansions=[],
        costs=CostBreakdown(lateness=0.0, moves=0.0, replica_starts=0.0, expansions=0.0),
        solver=solver,
    )
