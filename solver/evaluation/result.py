"""The evaluation of one plan: verdict, recomputed cost, violations and usage figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from solver.evaluation.costs import COST_PARTS

if TYPE_CHECKING:
    from models import CostBreakdown
    from models.solution import Status
    from solver.evaluation.usage import LinkUsage, RouteUsage, ServiceUsage, SiteUsage
    from solver.evaluation.violations import Constraint, Violation


@dataclass(frozen=True)
class Evaluation:
    """What an independent recomputation says about a plan (SPEC sections 5-7).

    `feasible` is True exactly when there are no violations. `objective` and
    `costs` are recomputed from the plan even when it breaks constraints (so a
    report can show what the plan would cost); a solution without a plan
    (status infeasible or unknown) has objective inf, zero costs and no figures.
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
        width = max(len(part) for part in COST_PARTS)
        lines.extend(
            f"  {part:<{width}}  {getattr(self.costs, part):>18,.2f}" for part in COST_PARTS
        )
        lines.extend(f"note: {note}" for note in self.notes)
        if self.violations:
            lines.append(f"{len(self.violations)} violation(s):")
            lines.extend(f"  {violation}" for violation in self.violations)
        else:
            lines.append("no violations")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
