"""SPEC §10: a plan against `current`: which jobs move or continue, what moving costs,
how many replicas change in the first period and how many start in each period, and the
move budgets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.evaluation.tolerance import excess
from solver.evaluation.violations import Violation, fmt

if TYPE_CHECKING:
    from models import Instance
    from solver.evaluation.eligibility import IndexedPlan, JobPlacement
    from solver.evaluation.lookup import InstanceLookup


@dataclass(frozen=True, slots=True)
class TrainingMove:
    """A job of `current` not placed at its current (site, accelerator)."""

    job: str
    from_site: str
    from_accelerator: str
    #: None when the job is not placed at all
    to_site: str | None
    to_accelerator: str | None
    move_cost: float
    #: checkpoint_gb x egress(current site, new site) when the site changes (0 otherwise,
    #: and when the new site cannot be reached)
    checkpoint_cost: float


@dataclass(frozen=True, slots=True)
class ReplicaStart:
    """Replicas of one group started in one period: max(0, r[p] - r[p-1])."""

    service: str
    site: str
    accelerator: str
    period: str
    started: int
    cost: float


@dataclass(frozen=True, slots=True)
class ReplanFigures:
    """What the plan changes from `current`."""

    moves: list[TrainingMove]
    #: jobs of `current` placed at their current (site, accelerator)
    continuing: list[str]
    #: sum over groups of |r[first period] - current replicas|
    replica_changes: int
    #: groups and periods where replicas start (started > 0), in period order per group
    replica_starts: list[ReplicaStart]

    @property
    def replicas_started(self) -> int:
        """Replicas started over all groups and periods."""
        return sum(start.started for start in self.replica_starts)


def replan_figures(
    instance: Instance, lookup: InstanceLookup, plan: IndexedPlan
) -> tuple[ReplanFigures, list[Violation]]:
    """Moves, continuing jobs, replica changes and starts; checkpoint reachability is an
    eligibility violation (SPEC §10: such a site is not eligible for the job)."""
    violations: list[Violation] = []
    first: dict[str, JobPlacement] = {}
    for placement in plan.placements:
        first.setdefault(placement.job.id, placement)
    current = instance.current
    moves: list[TrainingMove] = []
    continuing: list[str] = []
    for entry in current.training if current is not None else []:
        job = lookup.jobs[entry.job]
        placed = first.get(job.id)
        if placed is None:
            moves.append(
                TrainingMove(
                    job.id, entry.site, entry.accelerator, None, None, job.moving_cost, 0.0
                )
            )
            continue
        if (placed.site.id, placed.accelerator.id) == (entry.site, entry.accelerator):
            continuing.append(job.id)
            continue
        checkpoint = 0.0
        if placed.site.id != entry.site:
            route = lookup.routes.route(entry.site, placed.site.id)
            if route is None:
                if job.checkpoint_size_gb > 0:
                    violations.append(
                        Violation(
                            "eligibility",
                            f"job {job.id} / site {placed.site.id} / {placed.accelerator.id}",
                            1,
                            f"moves its {fmt(job.checkpoint_size_gb)} GB checkpoint from site "
                            f"{entry.site}, which cannot reach site {placed.site.id}",
                        )
                    )
            else:
                checkpoint = job.checkpoint_size_gb * route.egress_per_gb
        moves.append(
            TrainingMove(
                job.id,
                entry.site,
                entry.accelerator,
                placed.site.id,
                placed.accelerator.id,
                job.moving_cost,
                checkpoint,
            )
        )
    changes, starts = _replica_figures(instance, lookup, plan)
    figures = ReplanFigures(moves, continuing, changes, starts)
    violations.extend(_budgets(instance, figures))
    return figures, violations


def _replica_figures(
    instance: Instance, lookup: InstanceLookup, plan: IndexedPlan
) -> tuple[int, list[ReplicaStart]]:
    horizon = lookup.horizon
    replicas: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for group in plan.replica_groups:
        replicas[(group.service.id, group.site.id, group.accelerator.id)][group.period] += (
            group.replicas
        )
    before: dict[tuple[str, str, str], int] = defaultdict(int)
    for entry in instance.current.inference if instance.current is not None else []:
        before[(entry.service, entry.site, entry.accelerator)] += entry.replicas
    groups = list(replicas) + [key for key in before if key not in replicas]
    first = horizon.first.id
    changes = sum(abs(replicas[key][first] - before[key]) for key in groups)
    starts: list[ReplicaStart] = []
    for key in groups:
        service, site, accelerator = key
        price = lookup.services[service].start_cost
        previous = before[key]
        for period in horizon.periods:
            now = replicas[key][period.id]
            started = max(0, now - previous)
            if started > 0:
                starts.append(
                    ReplicaStart(service, site, accelerator, period.id, started, started * price)
                )
            previous = now
    return changes, starts


def _budgets(instance: Instance, figures: ReplanFigures) -> list[Violation]:
    """SPEC §10 `moves`: training moves and first-period replica changes within budget."""
    budgets = instance.moves
    if budgets is None:
        return []
    violations: list[Violation] = []
    limits = (
        ("max_training_moves", len(figures.moves), budgets.max_training_moves, "training moves"),
        (
            "max_replica_changes",
            figures.replica_changes,
            budgets.max_replica_changes,
            "replica changes in the first period",
        ),
    )
    for name, used, limit, what in limits:
        if limit is None:
            continue
        over = excess(used, limit)
        if over > 0:
            violations.append(
                Violation("move_budget", f"moves.{name}", over, f"{used} {what}, budget {limit}")
            )
    return violations
