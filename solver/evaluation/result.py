"""The evaluation of one plan: verdict, recomputed cost, violations and usage figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from solver.evaluation.costs import cost_parts

if TYPE_CHECKING:
    from models import CostBreakdown
    from models.solution import Status
    from solver.evaluation.capacity import SiteCapacity
    from solver.evaluation.expansions import BuiltExpansion
    from solver.evaluation.replanning import ReplanFigures
    from solver.evaluation.reporting import CostsOverTime, GroupChange
    from solver.evaluation.steps import LinkStep, SiteStep
    from solver.evaluation.timed_usage import PeriodUsage
    from solver.evaluation.timing import JobTiming
    from solver.evaluation.usage import LinkUsage, RouteUsage, ServiceUsage, SiteUsage
    from solver.evaluation.violations import Constraint, Violation


@dataclass(frozen=True)
class Evaluation:
    """What an independent recomputation says about a plan (SPEC sections 5-7).

    `feasible` is True exactly when there are no violations. `objective` and
    `costs` are recomputed from the plan even when it breaks constraints (so a
    report can show what the plan would cost); a solution without a plan
    (status infeasible or unknown) has objective inf, zero costs and no figures.

    For a v2 plan (SPEC §8-§12), `costs` holds the v2 parts too (`cost_parts` lists them),
    `sites`, `links` and `services` are a peak snapshot (each site at its highest facility
    power, each link at its busiest moment, each service in its period of highest
    demand), `routes` carry their period, and the fields from `periods` on hold the
    figures over time; for a v1 plan those fields are empty.
    """

    instance: str
    status: Status
    feasible: bool
    objective: float
    costs: CostBreakdown
    violations: list[Violation]
    #: the objective the solution reports (None if it reports none)
    reported_objective: float | None = None
    sites: dict[str, SiteUsage] = field(default_factory=dict)
    links: list[LinkUsage] = field(default_factory=list)
    routes: list[RouteUsage] = field(default_factory=list)
    services: dict[str, ServiceUsage] = field(default_factory=dict)
    #: observations that do not make the plan infeasible (e.g. a different instance name)
    notes: list[str] = field(default_factory=list)
    #: v2: each period's site peaks, busiest links and serving, in period order
    periods: list[PeriodUsage] = field(default_factory=list)
    #: v2: each site's use over time, one step per stretch of constant use
    site_steps: dict[str, list[SiteStep]] = field(default_factory=dict)
    #: v2: each limited or used link's load over time, by link name (`a-b`)
    link_steps: dict[str, list[LinkStep]] = field(default_factory=dict)
    #: v2 scheduled: when each placed job runs and how late it ends
    jobs: list[JobTiming] = field(default_factory=list)
    #: v2: moves, continuing jobs, replica changes and starts against `current`
    replan: ReplanFigures | None = None
    #: v2: the chosen expansions that name real ones, with the period they come online
    expansions: list[BuiltExpansion] = field(default_factory=list)
    # Figures only reports read (no check uses them):
    #: v2: each site's limits per period (by period position), with chosen expansions
    capacities: dict[str, list[SiteCapacity]] = field(default_factory=dict)
    #: v2: each site's limits per period as the timeline sets them, before any expansion
    capacities_before_expansions: dict[str, list[SiteCapacity]] = field(default_factory=dict)
    #: v2: the cost of each period and the one-time costs (None for a v1 plan)
    costs_over_time: CostsOverTime | None = None
    #: v2 with `current`: each replica group's first period against `current`
    first_period_changes: list[GroupChange] = field(default_factory=list)

    @property
    def cost_parts(self) -> tuple[str, ...]:
        """The cost parts of this evaluation: SPEC §7's, and §12's for a v2 plan."""
        return cost_parts(self.costs)

    def violations_of(self, constraint: Constraint) -> list[Violation]:
        """The violations of one constraint family."""
        return [v for v in self.violations if v.constraint == constraint]

    def violation_counts(self) -> dict[Constraint, int]:
        """How many violations each broken constraint family has."""
        return dict(Counter(v.constraint for v in self.violations))

    def summary(self) -> str:
        """Verdict and objective, the cost breakdown, then one line per violation."""
        verdict = "feasible" if self.feasible else "INFEASIBLE"
        reported = (
            "" if self.reported_objective is None else f" (reported {self.reported_objective:,.2f})"
        )
        lines = [
            f"{self.instance}: {verdict} plan (status {self.status}), "
            f"objective {self.objective:,.2f}{reported}"
        ]
        parts = self.cost_parts
        width = max(len(part) for part in parts)
        lines.extend(f"  {part:<{width}}  {getattr(self.costs, part):>18,.2f}" for part in parts)
        lines.extend(f"note: {note}" for note in self.notes)
        if self.violations:
            lines.append(f"{len(self.violations)} violation(s):")
            lines.extend(f"  {violation}" for violation in self.violations)
        else:
            lines.append("no violations")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
