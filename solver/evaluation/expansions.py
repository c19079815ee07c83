"""The plan's chosen expansions (SPEC §11-§12): which entries name real ones, when each
comes online, what it adds, and the supply limits on the accelerators they add."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.evaluation.tolerance import excess
from solver.evaluation.violations import Violation

if TYPE_CHECKING:
    from models import Instance, Site, Solution
    from models.v2_fields import Expansion
    from solver.evaluation.periods import Horizon, PeriodWindow


@dataclass(frozen=True, slots=True)
class BuiltExpansion:
    """A chosen expansion of a site, online from `online` (its period) to the horizon's end."""

    site: Site
    expansion: Expansion
    online: PeriodWindow

    @property
    def added_accelerators(self) -> dict[str, int]:
        """Accelerators it adds, by type."""
        return {item.accelerator: item.count for item in self.expansion.inventory or []}


def index_expansions(
    instance: Instance, horizon: Horizon, solution: Solution
) -> tuple[list[BuiltExpansion], list[Violation]]:
    """The solution's `expansions` resolved against the sites' candidates; unknown and
    repeated entries are eligibility violations (and repeats are built once)."""
    violations: list[Violation] = []
    if solution.expansions is None:
        return [], violations
    if not instance.is_v2:
        violations.append(
            Violation(
                "eligibility",
                "expansions",
                len(solution.expansions) or 1,
                "a plan of a v1 instance cannot list expansions (SPEC §12)",
            )
        )
        return [], violations
    built: list[BuiltExpansion] = []
    seen: set[tuple[str, str]] = set()
    for entry in solution.expansions:
        entity = f"expansion {entry.expansion} of site {entry.site}"
        site = instance.site_by_id.get(entry.site)
        if site is None:
            violations.append(Violation("eligibility", entity, 1, f"unknown site '{entry.site}'"))
            continue
        candidates = {expansion.id: expansion for expansion in site.expansions or []}
        expansion = candidates.get(entry.expansion)
        if expansion is None:
            violations.append(
                Violation(
                    "eligibility",
                    entity,
                    1,
                    f"site {site.id} has no expansion '{entry.expansion}'",
                )
            )
            continue
        key = (site.id, expansion.id)
        if key in seen:
            violations.append(Violation("eligibility", entity, 1, "listed twice in expansions"))
            continue
        seen.add(key)
        online = horizon.first if expansion.period is None else horizon.get(expansion.period)
        built.append(BuiltExpansion(site, expansion, online or horizon.first))
    return built, violations


def supply_violations(instance: Instance, built: list[BuiltExpansion]) -> list[Violation]:
    """SPEC §11 supply limits: accelerators added by all chosen expansions, per type."""
    added: dict[str, int] = defaultdict(int)
    for expansion in built:
        for accelerator, count in expansion.added_accelerators.items():
            added[accelerator] += count
    violations: list[Violation] = []
    for limit in instance.supply_limits or []:
        total = added.get(limit.accelerator, 0)
        over = excess(total, limit.max_count)
        if over > 0:
            violations.append(
                Violation(
                    "supply",
                    f"accelerator {limit.accelerator}",
                    over,
                    f"chosen expansions add {total} accelerators, the supply limit is "
                    f"{limit.max_count}",
                )
            )
    return violations
