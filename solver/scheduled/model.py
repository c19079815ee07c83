"""Build the CP-SAT model of a v2 instance, hint it from a plan, and read plans back."""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import (
    ChosenExpansion,
    ReplicaAssignment,
    RouteFlow,
    TrainingAssignment,
    UnservedDemand,
)
from solver.cpsat.scaling import ScalingWarning
from solver.scheduled.constraints import add_constraints
from solver.scheduled.costs import late_hours
from solver.scheduled.objective import cost_scale, objective_terms
from solver.scheduled.plan import ScheduledPlan
from solver.scheduled.units import period_units
from solver.scheduled.variables import create_variables, current_replicas

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance
    from solver.cpsat.constraints import ModelNotes
    from solver.cpsat.objective import ObjectiveTerms
    from solver.cpsat.scaling import CostScale
    from solver.cpsat.variables import PlanVariables
    from solver.scheduled.variables import ScheduledVariables

#: Intervals per job (True) or per placement (False): see docs/formulation.md,
#: "Scheduled instances", for the measurement that chose it.
JOB_INTERVALS = False


@dataclass
class ScheduledModel:
    """A CP-SAT model of a v2 instance with its variables, float objective and scale."""

    instance: Instance
    model: cp_model.CpModel
    variables: ScheduledVariables
    objective: ObjectiveTerms
    scale: CostScale
    notes: ModelNotes
    build_s: float

    @property
    def proves(self) -> bool:
        """Whether this is the relaxation (its bound and infeasibility are proofs)."""
        return self.notes.widened

    def continuous(self) -> set[int]:
        """Indices of every period's flow and unserved-demand variables (continuous in an
        LP/MIP, as v1's)."""
        return {
            var.index
            for period in self.variables.periods
            for var in (*period.flow.values(), *period.unserved.values())
        }


def build_model(
    instance: Instance,
    *,
    widened: bool,
    job_intervals: bool | None = None,
    energetic: bool = True,
    fine_units: bool = False,
) -> ScheduledModel:
    """The relaxation (`widened`: every SPEC plan, to its tolerance, is a plan of it) or
    the restriction (every plan of it is a SPEC plan) of a v2 instance; with
    `fine_units`, the relaxation counts every service's rps on a unit finer than its
    tolerance (v1's fine units), which makes the link rows' grid allowance negligible."""
    started = time.perf_counter()
    model = cp_model.CpModel()
    model.name = instance.name
    if job_intervals is None:
        job_intervals = JOB_INTERVALS
    units = period_units(instance, widened=widened, fine=widened and fine_units)
    variables = create_variables(
        model, instance, units, widened=widened, job_intervals=job_intervals
    )
    notes = add_constraints(model, instance, variables, widened=widened, energetic=energetic)
    objective = objective_terms(instance, variables)
    with warnings.catch_warnings():
        if widened:
            # As v1: the restricted model says it; a coarser scale here only weakens the
            # bound (coefficients round down either way).
            warnings.simplefilter("ignore", ScalingWarning)
        scale = cost_scale(instance, variables, objective)
    totals = objective.per_variable()
    ordered = [totals[index] for index in sorted(totals)]
    model.minimize(
        cp_model.LinearExpr.weighted_sum(
            [var for var, _ in ordered], [scale.down(cost) for _, cost in ordered]
        )
    )
    return ScheduledModel(
        instance, model, variables, objective, scale, notes, time.perf_counter() - started
    )


def extract_plan(built: ScheduledModel, values: Sequence[float]) -> ScheduledPlan:
    """The plan held by a CP-SAT solution's values (indexed by variable index)."""
    instance, variables = built.instance, built.variables
    spans = instance.schedule.periods
    scheduled = variables.scheduled

    def value(var: cp_model.IntVar) -> int:
        return round(values[var.index])

    training = [
        TrainingAssignment(
            job=p.job,
            site=p.site,
            accelerator=p.accelerator,
            count=p.count,
            start_hour=value(variables.start[p.job]) if scheduled else None,
        )
        for p, var in variables.placement.items()
        if value(var)
    ]
    unplaced = [job_id for job_id, var in variables.unplaced.items() if value(var)]
    inference: list[ReplicaAssignment] = []
    routes: list[RouteFlow] = []
    unserved: list[UnservedDemand] = []
    for position, view in enumerate(variables.periods):
        period = spans[position].id if scheduled else None
        inference.extend(
            ReplicaAssignment(
                service=o.service,
                site=o.site,
                accelerator=o.accelerator,
                replicas=value(var),
                period=period,
            )
            for o, var in view.replicas.items()
            if value(var)
        )
        routes.extend(
            RouteFlow(
                service=p.service,
                region=p.region,
                site=p.site,
                rps=view.units[p.service].rps(value(var)),
                period=period,
            )
            for p, var in view.flow.items()
            if value(var)
        )
        unserved.extend(
            UnservedDemand(service=s, region=u, rps=view.units[s].rps(value(var)), period=period)
            for (s, u), var in view.unserved.items()
            if value(var)
        )
    expansions = [
        ChosenExpansion(site=site, expansion=x)
        for (site, x), var in variables.expansion.items()
        if value(var)
    ]
    return ScheduledPlan.build(
        instance, training, unplaced, inference, routes, unserved, expansions
    )


def _consistent_flows(
    view: PlanVariables, values: dict[int, int], link_rows: list[tuple[list[tuple[int, int]], int]]
) -> None:
    """Make the flow and unserved units of one period in `values` (each plan rps rounded
    to its unit) meet the restricted model's demand and serving-capacity rows where the
    replica counts in `values` allow: rounding can leave a region a unit short or over,
    or a site a unit over its capacity (whole replicas of rps that are not multiples of
    the unit), and a hint that breaks a row is no plan to CP-SAT (a neighbourhood from
    the greedy's plan on generated M found none in 3 s). Units come off sites over
    capacity (and regions over demand), the largest flow first; a region short gets them
    at sites with room (its flows first), else as unserved demand where the service may
    leave it. Then, on each of `link_rows` (the static model's link rows) still over its
    limit, units of the flows with the largest coefficient go to unserved demand or to
    another site of their region with room there and on its links."""
    capacity: dict[tuple[str, str], int] = defaultdict(int)
    reach: dict[tuple[str, str], int] = defaultdict(int)
    by_region: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for pair, var in view.flow.items():
        reach[pair.service, pair.site] += view.units[pair.service].demand_units[pair.region]
        by_region[pair.service, pair.region].append((pair.site, var.index))
    for key, terms in view.capacity_terms().items():
        most = reach.get(key, 0)
        capacity[key] = sum(values.get(v.index, 0) * min(c, most) for v, c in terms)
        capacity[key] += view.units[key[0]].slack
    load: dict[tuple[str, str], int] = defaultdict(int)
    for pair, var in view.flow.items():
        load[pair.service, pair.site] += values[var.index]

    def take(index: int, key: tuple[str, str], units: int) -> int:
        taken = min(units, values[index])
        values[index] -= taken
        load[key] -= taken
        return taken

    for key, pairs in sorted(by_region.items()):
        service, region = key
        for site, index in sorted(pairs, key=lambda p: -values[p[1]]):
            over = load[service, site] - capacity[service, site]
            if over > 0:
                take(index, (service, site), over)
    for key, pairs in sorted(by_region.items()):
        service, region = key
        unserved = view.unserved.get(key)
        routed = sum(values[index] for _, index in pairs)
        short = view.units[service].demand_units[region] - routed
        if unserved is not None:
            held = min(max(short, 0), values[unserved.index])
            short -= held
            values[unserved.index] = held
        for site, index in sorted(pairs, key=lambda p: -values[p[1]]):
            if short >= 0:
                break
            short += take(index, (service, site), -short)
        for site, index in sorted(pairs, key=lambda p: (values[p[1]] == 0, p[0])):
            if short <= 0:
                break
            room = capacity[service, site] - load[service, site]
            given = min(short, max(room, 0))
            values[index] += given
            load[service, site] += given
            short -= given
        if short > 0 and unserved is not None:
            values[unserved.index] += short
    if link_rows:
        _links_within(view, values, link_rows, by_region, capacity, load)


def _links_within(
    view: PlanVariables,
    values: dict[int, int],
    link_rows: list[tuple[list[tuple[int, int]], int]],
    by_region: dict[tuple[str, str], list[tuple[str, int]]],
    capacity: dict[tuple[str, str], int],
    load: dict[tuple[str, str], int],
) -> None:
    """The link part of `_consistent_flows` (its docstring), with its flows by (service,
    region), capacity and load."""
    pair_of = {var.index: pair for pair, var in view.flow.items()}
    coefficients: list[dict[int, int]] = [dict(terms) for terms, _ in link_rows]
    rows_of: dict[int, list[int]] = defaultdict(list)
    for row, row_terms in enumerate(coefficients):
        for index in row_terms:
            rows_of[index].append(row)

    def used(row: int) -> int:
        return sum(values.get(i, 0) * c for i, c in coefficients[row].items())

    def room(index: int) -> int:
        """The most units the flow `index` can gain within its site and links."""
        pair = pair_of[index]
        most = capacity[pair.service, pair.site] - load[pair.service, pair.site]
        for row in rows_of[index]:
            c = coefficients[row][index]
            if c > 0:
                most = min(most, (link_rows[row][1] - used(row)) // c)
        return max(most, 0)

    for row, (terms, limit) in enumerate(link_rows):
        for index, c in sorted(terms, key=lambda term: (-term[1], term[0])):
            over = used(row) - limit
            if over <= 0:
                break
            if index not in pair_of or c <= 0 or values[index] <= 0:
                continue
            pair = pair_of[index]
            wanted = min(values[index], -(-over // c))
            unserved = view.unserved.get((pair.service, pair.region))
            if unserved is not None:
                values[index] -= wanted
                load[pair.service, pair.site] -= wanted
                values[unserved.index] += wanted
                continue
            for site, other in by_region[pair.service, pair.region]:
                if wanted <= 0:
                    break
                if other == index or row in rows_of[other]:
                    continue
                moved = min(wanted, room(other))
                values[other] += moved
                load[pair.service, site] += moved
                values[index] -= moved
                load[pair.service, pair.site] -= moved
                wanted -= moved


def plan_values(built: ScheduledModel, plan: ScheduledPlan) -> dict[int, int]:
    """Every variable's value that states `plan` (by variable index; decisions the model
    has no variable for are skipped, auxiliary variables follow from the rest)."""
    instance, variables = built.instance, built.variables
    spans = instance.schedule.periods
    position_of = {span.id: i for i, span in enumerate(spans)}
    values: dict[int, int] = {}
    placed = {t.job: t for t in plan.training}
    for placement, var in variables.placement.items():
        entry = placed.get(placement.job)
        on = entry is not None and (entry.site, entry.accelerator) == (
            placement.site,
            placement.accelerator,
        )
        values[var.index] = int(on)
    for job_id, var in variables.unplaced.items():
        values[var.index] = int(job_id not in placed)
    for job_id, start in variables.start.items():
        entry = placed.get(job_id)
        low, high = start.proto.domain[0], start.proto.domain[-1]
        hour = entry.start_hour if entry is not None and entry.start_hour is not None else low
        values[start.index] = min(max(hour, low), high)
        late = variables.late.get(job_id)
        if late is not None:
            hours = late_hours(instance, job_id, hour) if entry is not None else 0.0
            values[late.index] = min(round(hours), late.proto.domain[-1])

    def position(period: str | None) -> int:
        return 0 if period is None else position_of[period]

    # A count above the model's bound (more than the whole demand needs, and than
    # `current` runs) is hinted at the bound, and so are the starts and changes that
    # follow from it: a plan with fewer such idle replicas costs less, so the bound
    # keeps every optimum (`replica_bound`).
    bounds = {
        (o.service, o.site, o.accelerator, p): bound
        for p, view in enumerate(variables.periods)
        for o, bound in view.replica_bound.items()
    }
    replicas = {
        (r.service, r.site, r.accelerator, position(r.period)): r.replicas for r in plan.inference
    }
    replicas = {key: min(count, bounds.get(key, count)) for key, count in replicas.items()}
    flows = {(f.service, f.region, f.site, position(f.period)): f.rps for f in plan.routes}
    short = {(w.service, w.region, position(w.period)): w.rps for w in plan.unserved}
    for p, view in enumerate(variables.periods):
        for option, var in view.replicas.items():
            count = replicas.get((option.service, option.site, option.accelerator, p), 0)
            values[var.index] = count
        for pair, var in view.flow.items():
            rps = flows.get((pair.service, pair.region, pair.site, p), 0.0)
            values[var.index] = round(rps / view.units[pair.service].unit)
        for (service_id, region), var in view.unserved.items():
            rps = short.get((service_id, region, p), 0.0)
            values[var.index] = round(rps / view.units[service_id].unit)
        _consistent_flows(view, values, variables.link_rows if p == 0 else [])
    current = current_replicas(instance)
    for (option, p), var in variables.starts.items():
        group = (option.service, option.site, option.accelerator)
        now = replicas.get((*group, p), 0)
        before = current.get(group, 0) if p == 0 else replicas.get((*group, p - 1), 0)
        values[var.index] = max(0, now - before)
    for option, var in variables.changes.items():
        group = (option.service, option.site, option.accelerator)
        values[var.index] = abs(replicas.get((*group, 0), 0) - current.get(group, 0))
    active = {t.site for t in plan.training} | {r.site for r in plan.inference if r.replicas}
    for site_id, var in variables.site_active.items():
        values[var.index] = int(site_id in active)
    chosen = {(x.site, x.expansion) for x in plan.expansions}
    for key, var in variables.expansion.items():
        values[var.index] = int(key in chosen)
    for total, terms, constant in variables.totals:
        values[total.index] = constant + sum(c * values.get(v.index, 0) for v, c in terms)
    return values


def add_hint(built: ScheduledModel, plan: ScheduledPlan) -> None:
    """Hint every decision of `plan` (and the auxiliary variables that follow)."""
    built.model.clear_hints()  # type: ignore[no-untyped-call]
    for index, value in sorted(plan_values(built, plan).items()):
        built.model.proto.solution_hint.vars.append(index)
        built.model.proto.solution_hint.values.append(value)
