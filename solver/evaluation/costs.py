"""The SPEC section 6 objective and its section 7 breakdown, recomputed from the plan.

Every term is kept and summed with `math.fsum`, so the result does not depend on
the order of the plan's entries. The claims check compares what a solution
reports with the recomputation: its objective and cost parts, and whether its bound
and status say no more than the plan proves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models import CostBreakdown
from models.solution import V1_COST_PARTS, V2_COST_PARTS
from solver.evaluation.tolerance import excess, mismatch
from solver.evaluation.violations import Violation, fmt

if TYPE_CHECKING:
    from models import Accelerator, Instance, Site, Solution
    from solver.evaluation.eligibility import IndexedPlan
    from solver.evaluation.lookup import InstanceLookup

#: Grams per tonne: carbon intensity is in g/kWh, its price per tonne.
GRAMS_PER_TONNE = 1e6
#: Seconds per hour times GB per KB: turns rps x KB x hours into GB.
GB_PER_RPS_KB_HOUR = 3600 / 1e6

#: The cost parts of a v1 solution (SPEC §7), in order: what reports of v1 plans list.
COST_PARTS: tuple[str, ...] = V1_COST_PARTS
#: The cost parts of a v2 solution (SPEC §7 and §12), in order.
ALL_COST_PARTS: tuple[str, ...] = V1_COST_PARTS + V2_COST_PARTS


def cost_parts(costs: CostBreakdown) -> tuple[str, ...]:
    """The parts a breakdown holds: v1's, or v1's and v2's when it has v2 parts."""
    return COST_PARTS if costs.lateness is None else ALL_COST_PARTS


def instance_cost_parts(instance: Instance) -> tuple[str, ...]:
    """The parts a solution of this instance reports (SPEC §12: v2 for a v2 instance)."""
    return ALL_COST_PARTS if instance.is_v2 else COST_PARTS


@dataclass(frozen=True, slots=True)
class ReplanTerms:
    """The terms of SPEC §9-§11's cost parts (lateness, moves, replica starts and
    expansions), each computed by its own module."""

    lateness: list[float]
    moves: list[float]
    replica_starts: list[float]
    expansions: list[float]


@dataclass
class _Terms:
    """Every term of each cost part, summed at the end."""

    compute: list[float] = field(default_factory=list)
    energy: list[float] = field(default_factory=list)
    carbon: list[float] = field(default_factory=list)
    egress: list[float] = field(default_factory=list)
    site_costs: list[float] = field(default_factory=list)
    fixed: list[float] = field(default_factory=list)
    unserved: list[float] = field(default_factory=list)
    unplaced: list[float] = field(default_factory=list)
    lateness: list[float] = field(default_factory=list)
    moves: list[float] = field(default_factory=list)
    replica_starts: list[float] = field(default_factory=list)
    expansions: list[float] = field(default_factory=list)

    def accelerator_hours(
        self,
        instance: Instance,
        lookup: InstanceLookup,
        site: Site,
        accelerator: Accelerator,
        hours: float,
    ) -> None:
        """Charge accelerator-hours at rate(s, a), split into compute, energy and carbon."""
        item = lookup.inventory.get((site.id, accelerator.id))
        hourly_cost = 0.0 if item is None else item.hourly_cost
        facility_kwh = hours * accelerator.power_kw * site.pue
        self.compute.append(hours * hourly_cost)
        self.energy.append(facility_kwh * site.energy_price_per_kwh)
        self.carbon.append(
            facility_kwh * site.carbon_g_per_kwh * instance.carbon_price_per_tonne / GRAMS_PER_TONNE
        )

    def breakdown(self, parts: tuple[str, ...]) -> CostBreakdown:
        """Each of the parts as the exact-rounded sum of its terms."""
        return CostBreakdown(**{part: math.fsum(getattr(self, part)) for part in parts})

    def objective(self, parts: tuple[str, ...]) -> float:
        """All terms of the parts, summed once."""
        return math.fsum(term for part in parts for term in getattr(self, part))


@dataclass(frozen=True, slots=True)
class RecomputedCosts:
    """The plan's objective and its breakdown."""

    objective: float
    costs: CostBreakdown


def recompute_costs(
    instance: Instance,
    lookup: InstanceLookup,
    plan: IndexedPlan,
    active: set[str],
    replan: ReplanTerms | None = None,
) -> RecomputedCosts:
    """SPEC section 6 over the plan's entries (for a v2 plan §9's per-period hours, plus
    the `replan` terms); entries of unknown size cost nothing; `active` sites pay their
    fixed cost."""
    terms = _Terms()
    for placement in plan.placements:
        job = placement.job
        terms.accelerator_hours(
            instance,
            lookup,
            placement.site,
            placement.accelerator,
            placement.count * job.run_hours,
        )
        terms.site_costs.append(job.site_costs.get(placement.site.id, 0.0))
        if job.dataset is not None and placement.dataset_route is not None:
            terms.egress.append(job.dataset.size_gb * placement.dataset_route.egress_per_gb)
    period_hours = {period.id: period.hours for period in lookup.horizon.periods}
    for group in plan.replica_groups:
        terms.accelerator_hours(
            instance,
            lookup,
            group.site,
            group.accelerator,
            group.accelerators * period_hours[group.period],
        )
    for flow in plan.flows:
        if flow.route is None:
            continue
        gigabytes = (
            flow.rps * flow.service.kb_per_request * GB_PER_RPS_KB_HOUR * period_hours[flow.period]
        )
        terms.egress.append(gigabytes * flow.route.egress_per_gb)
    for (service_id, _region, period), rps in plan.unserved.items():
        price = lookup.services[service_id].unserved_cost_per_rps_hour
        if price is not None:
            terms.unserved.append(rps * period_hours[period] * price)
    terms.unplaced.extend(job.unplaced_cost for job in plan.unplaced_jobs)
    terms.fixed.extend(site.fixed_cost for site in instance.sites if site.id in active)
    if replan is not None:
        terms.lateness.extend(replan.lateness)
        terms.moves.extend(replan.moves)
        terms.replica_starts.extend(replan.replica_starts)
        terms.expansions.extend(replan.expansions)
    parts = instance_cost_parts(instance)
    return RecomputedCosts(objective=terms.objective(parts), costs=terms.breakdown(parts))


def check_claims(
    solution: Solution, recomputed: RecomputedCosts, *, plan_feasible: bool
) -> list[Violation]:
    """The reported objective and each reported cost part against the recomputation, then
    the bound and the status (`plan_feasible`: the plan breaks no SPEC section 4-5 rule)."""
    violations: list[Violation] = []
    reported = solution.objective
    if reported is None:
        violations.append(
            Violation(
                "objective",
                "objective",
                abs(recomputed.objective),
                f"no objective reported; the plan costs {recomputed.objective:,.6f}",
            )
        )
    else:
        off = mismatch(reported, recomputed.objective)
        if off > 0:
            violations.append(
                Violation(
                    "objective",
                    "objective",
                    off,
                    f"reported {reported:,.6f}, recomputed {recomputed.objective:,.6f} "
                    f"(off by {fmt(off)})",
                )
            )
    for part in cost_parts(recomputed.costs):
        claimed: float | None = getattr(solution.costs, part)
        actual: float = getattr(recomputed.costs, part)
        if claimed is None:
            violations.append(
                Violation(
                    "cost_breakdown",
                    f"cost {part}",
                    abs(actual),
                    f"not reported (a v2 solution reports it, 0 when unused); recomputed "
                    f"{actual:,.6f}",
                )
            )
            continue
        off = mismatch(claimed, actual)
        if off > 0:
            violations.append(
                Violation(
                    "cost_breakdown",
                    f"cost {part}",
                    off,
                    f"reported {claimed:,.6f}, recomputed {actual:,.6f} (off by {fmt(off)})",
                )
            )
    violations.extend(_bound_claims(solution, recomputed.objective, plan_feasible=plan_feasible))
    return violations


def _bound_claims(solution: Solution, objective: float, *, plan_feasible: bool) -> list[Violation]:
    """A bound is finite and no higher than the cost of a feasible plan (no optimum is
    below its bound); "optimal" needs a bound within the tolerance of the plan's cost."""
    violations: list[Violation] = []
    bound = solution.bound
    if bound is not None and not math.isfinite(bound):
        violations.append(Violation("bound", "bound", 1, f"bound {bound} is not finite"))
    elif bound is not None and plan_feasible:
        over = excess(bound, objective)
        if over > 0:
            violations.append(
                Violation(
                    "bound",
                    "bound",
                    over,
                    f"bound {bound:,.6f} is above {objective:,.6f}, the cost of this feasible "
                    f"plan (by {fmt(over)}): a lower bound cannot exceed a plan's cost",
                )
            )
    if solution.status == "optimal":
        if bound is None or not math.isfinite(bound):
            violations.append(
                Violation(
                    "status", "status", 1, "status optimal without a finite bound: not proved"
                )
            )
        else:
            gap = excess(objective, bound)
            if gap > 0:
                relative = gap / max(abs(objective), abs(bound))
                violations.append(
                    Violation(
                        "status",
                        "status",
                        gap,
                        f"status optimal, but the plan costs {objective:,.6f} and the bound "
                        f"is {bound:,.6f} (gap {fmt(gap)}, {fmt(relative)} relative): "
                        "optimality is not proved",
                    )
                )
    return violations
