"""The constraint families of SPEC §9-§11, one function each, called in order by
`add_constraints`.

Limits that hold at every hour (inventory, grid power, cooling, link bandwidth) are one
`AddCumulative` per site resource or link: training jobs are intervals [S_j, S_j + run)
with their fixed demand, and each period is one fixed interval whose demand is (the
largest capacity - that period's capacity, expansions included) plus that period's
inference usage, against the largest capacity (`_hourly_limit`). In a static v2
instance every placed job counts at once: the same rows are linear. The per-period rows
of §5 (demand, serving capacity, n+1 and v1's redundant covers) are v1's row builders
run on each period's variables.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models.accelerators import COOLING_KINDS
from models.network import GBPS_PER_RPS_KB
from solver.cpsat import constraints as v1
from solver.cpsat.constraints import ModelNotes
from solver.scheduled.rows import scale_limits
from solver.scheduled.variables import current_replicas, current_training

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import CpModel, IntVar

    from models import Instance, TrainingPlacement
    from solver.scheduled.variables import ScheduledVariables

#: Largest integer an energetic row may hold (coefficients times hours), well inside int64.
ENERGY_SAFE = 2**53


@dataclass(frozen=True)
class PeriodUser:
    """A variable that uses a limit in one period: replicas, or flows on a link."""

    position: int
    var: IntVar
    coefficient: float
    upper: int


def add_constraints(
    model: CpModel,
    instance: Instance,
    variables: ScheduledVariables,
    *,
    widened: bool,
    energetic: bool = True,
) -> ModelNotes:
    """Every constraint family: as relaxations of the SPEC's rows to its tolerance
    (`widened`), or as restrictions of them."""
    notes = ModelNotes(widened=widened)
    assign_training(model, instance, variables, notes)
    time_windows(model, instance, variables, notes)
    after_order(model, instance, variables, notes)
    lateness(model, instance, variables, notes)
    continuing_jobs(model, instance, variables, notes)
    inventory(model, instance, variables, notes, energetic=energetic)
    grid_power(model, instance, variables, notes, energetic=energetic)
    cooling(model, instance, variables, notes, energetic=energetic)
    period_services(model, instance, variables, notes)
    bandwidth(model, instance, variables, notes, energetic=energetic)
    site_use(model, instance, variables, notes)
    replica_starts(model, instance, variables, notes)
    replica_changes(model, instance, variables, notes)
    training_moves(model, instance, variables, notes)
    supply_limits(model, instance, variables, notes)
    return notes


def assign_training(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """Each required job placed exactly once, each optional job at most once (SPEC §4);
    a job whose window is too short for it has no placement (SPEC §9)."""
    by_job = variables.placements_by_job()
    for job in instance.training:
        choices = [var for _, var in by_job.get(job.id, [])]
        if job.id in variables.unplaced:
            choices.append(variables.unplaced[job.id])
        model.add(cp_model.LinearExpr.sum(choices) == 1)
        notes.note_row(model, "assignment", job.id)


def time_windows(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """release <= S_j <= deadline - run is each start's domain (`create_variables`); an
    unplaced job's start is pinned to its release, so that plans differ only in what
    they place (SPEC §9)."""
    for job_id, start in variables.start.items():
        placed = variables.placed[job_id]
        model.add(start == start.proto.domain[0]).only_enforce_if(placed.Not())
        notes.note_row(model, "time_window", job_id)


def after_order(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """`after`: a job runs only if every listed job runs, and starts once they have ended
    (SPEC §9)."""
    for job in instance.training:
        placed = variables.placed.get(job.id)
        if placed is None:
            continue
        for other_id in job.predecessors:
            other = variables.placed.get(other_id)
            if other is None:
                model.add(placed == 0)
                notes.note_row(model, "after", job.id, other_id)
                continue
            model.add_implication(placed, other)
            notes.note_row(model, "after", job.id, other_id)
            start, before = variables.start.get(job.id), variables.start.get(other_id)
            if start is not None and before is not None:
                run = math.ceil(instance.training_by_id[other_id].run_hours - 1e-9)
                model.add(start >= before + run).only_enforce_if(placed)
                notes.note_row(model, "after", job.id, other_id)


def lateness(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """L_j >= S_j + run - due when j is placed, L_j >= 0 (its domain), and 0 when not
    (SPEC §9)."""
    for job_id, late in variables.late.items():
        job = instance.training_by_id[job_id]
        assert job.due_hour is not None
        placed = variables.placed[job_id]
        run = math.ceil(job.run_hours - 1e-9)
        model.add(late >= variables.start[job_id] + run - job.due_hour).only_enforce_if(placed)
        model.add(late == 0).only_enforce_if(placed.Not())
        notes.note_row(model, "lateness", job_id)


def continuing_jobs(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """A job of `current` placed at its current (site, accelerator) continues: it starts
    at hour 0 (SPEC §10)."""
    by_job = variables.placements_by_job()
    for job_id, (site, accelerator) in current_training(instance).items():
        start = variables.start.get(job_id)
        if start is None:
            continue
        for placement, var in by_job.get(job_id, []):
            if (placement.site, placement.accelerator) == (site, accelerator):
                model.add(start == 0).only_enforce_if(var)
                notes.note_row(model, "continuing", job_id)


def _site_users(
    variables: ScheduledVariables, site_id: str, weight: dict[str, float]
) -> tuple[list[tuple[TrainingPlacement, float]], list[PeriodUser]]:
    """The jobs and replicas at one site that use one of its resources, with their use:
    `weight` is the use per accelerator of each type counted (others do not use it)."""
    placements, replicas = variables.site_index().get(site_id, ([], []))
    jobs = [
        (placement, weight[placement.accelerator] * placement.count)
        for placement in placements
        if placement.accelerator in weight
    ]
    users = [
        PeriodUser(position, var, weight[option.accelerator] * option.per_replica, upper)
        for position, option, var, upper in replicas
        if option.accelerator in weight
    ]
    return jobs, users


def inventory(
    model: CpModel,
    instance: Instance,
    variables: ScheduledVariables,
    notes: ModelNotes,
    *,
    energetic: bool = True,
) -> None:
    """used[s,a,t] <= count[s,a,p] (+ §11 additions) at every hour (SPEC §9.1)."""
    schedule = instance.schedule
    for site in instance.sites:
        for item in site.inventory:
            pair = (site.id, item.accelerator)
            jobs, replicas = _site_users(variables, site.id, {item.accelerator: 1.0})
            if not jobs and not replicas:
                continue
            additions = [
                (
                    (site.id, expansion.id),
                    schedule.expansion_period[site.id, expansion.id],
                    float(added.count),
                )
                for expansion in site.expansions or []
                for added in expansion.inventory or []
                if added.accelerator == item.accelerator
            ]
            limits: list[float | None] = [float(c) for c in schedule.count[pair]]
            _hourly_limit(
                model,
                instance,
                variables,
                notes,
                ("inventory", site.id, item.accelerator),
                jobs,
                replicas,
                limits,
                additions,
                energetic=energetic,
            )


def grid_power(
    model: CpModel,
    instance: Instance,
    variables: ScheduledVariables,
    notes: ModelNotes,
    *,
    energetic: bool = True,
) -> None:
    """pue_s * sum_a power_kw_a * used[s,a,t] <= grid_kw[s,p] (+ §11) (SPEC §9.2)."""
    schedule = instance.schedule
    for site in instance.sites:
        weight = {
            item.accelerator: site.pue * instance.accelerator_by_id[item.accelerator].power_kw
            for item in site.inventory
        }
        jobs, replicas = _site_users(variables, site.id, weight)
        if not jobs and not replicas:
            continue
        additions = [
            (
                (site.id, expansion.id),
                schedule.expansion_period[site.id, expansion.id],
                expansion.grid_kw,
            )
            for expansion in site.expansions or []
            if expansion.grid_kw
        ]
        limits: list[float | None] = list(schedule.grid_kw[site.id])
        _hourly_limit(
            model,
            instance,
            variables,
            notes,
            ("grid_power", site.id),
            jobs,
            replicas,
            limits,
            additions,
            energetic=energetic,
        )


def cooling(
    model: CpModel,
    instance: Instance,
    variables: ScheduledVariables,
    notes: ModelNotes,
    *,
    energetic: bool = True,
) -> None:
    """Per cooling kind with a limit in some period: sum of power_kw * used of its
    accelerators <= cooling_kw[s,c,p] (+ §11) (SPEC §9.3; unlimited periods never bind)."""
    schedule = instance.schedule
    for site in instance.sites:
        for kind in COOLING_KINDS:
            limits = schedule.cooling_kw[site.id, kind]
            if all(limit is None for limit in limits):
                continue
            weight = {
                item.accelerator: instance.accelerator_by_id[item.accelerator].power_kw
                for item in site.inventory
                if instance.accelerator_by_id[item.accelerator].cooling == kind
            }
            jobs, replicas = _site_users(variables, site.id, weight)
            if not jobs and not replicas:
                continue
            additions = [
                (
                    (site.id, expansion.id),
                    schedule.expansion_period[site.id, expansion.id],
                    (expansion.cooling_kw or {})[kind],
                )
                for expansion in site.expansions or []
                if (expansion.cooling_kw or {}).get(kind)
            ]
            _hourly_limit(
                model,
                instance,
                variables,
                notes,
                ("cooling", site.id, kind),
                jobs,
                replicas,
                list(limits),
                additions,
                energetic=energetic,
            )


def _hourly_limit(
    model: CpModel,
    instance: Instance,
    variables: ScheduledVariables,
    notes: ModelNotes,
    key: tuple[str, ...],
    jobs: list[tuple[TrainingPlacement, float]],
    users: list[PeriodUser],
    limits: list[float | None],
    additions: list[tuple[tuple[str, str], int, float]],
    *,
    energetic: bool = True,
) -> None:
    """`sum of the running jobs' use + period p's users <= limit_p (+ chosen additions)` at
    every hour: a cumulative in a scheduled instance, one linear row in a static one.
    Rows no plan can break are left out."""
    scaled = scale_limits(
        [c for _, c in jobs] + [u.coefficient for u in users],
        limits,
        additions,
        relaxation=notes.widened,
    )
    if not scaled.exact and not notes.widened:
        notes.inexact.append(f"{key[0]} rows of {' '.join(key[1:])} rounded (conservatively)")
    job_coef = scaled.coefficients[: len(jobs)]
    user_coef = scaled.coefficients[len(jobs) :]
    periods = len(limits)
    by_period: list[list[tuple[IntVar, int, int]]] = [[] for _ in range(periods)]
    for user, coefficient in zip(users, user_coef, strict=True):
        by_period[user.position].append((user.var, coefficient, user.upper))
    most = sum(job_coef) + max(
        (sum(c * upper for _, c, upper in held) for held in by_period), default=0
    )
    binding = [limit is not None and most > limit for limit in scaled.limits]
    if not any(binding):
        return
    expansion_of = variables.expansion
    if not variables.scheduled:
        assert periods == 1
        limit = scaled.limits[0]
        assert limit is not None
        expr = cp_model.LinearExpr.weighted_sum(
            [variables.placement[p] for p, _ in jobs] + [v for v, _, _ in by_period[0]],
            job_coef + [c for _, c, _ in by_period[0]],
        )
        added = [(expansion_of[a.key], a.amount) for a in scaled.additions]
        model.add(expr <= limit + v1._weighted(added) if added else expr <= limit)
        if key[0] == "bandwidth" and not notes.widened:
            variables.link_rows.append(
                (
                    [
                        (variables.placement[p].index, c)
                        for (p, _), c in zip(jobs, job_coef, strict=True)
                    ]
                    + [(v.index, c) for v, c, _ in by_period[0]],
                    limit,
                )
            )
        notes.note_row(model, *key)
        return
    # Each period's capacity, unlimited periods at `most` (which never binds).
    capacity = [most if limit is None else min(limit, most) for limit in scaled.limits]
    top = max(
        capacity[p]
        + (
            0
            if scaled.limits[p] is None
            else sum(a.amount for a in scaled.additions if a.first <= p)
        )
        for p in range(periods)
    )
    intervals = []
    demands: list[cp_model.LinearExprT] = []
    for (placement, _), coefficient in zip(jobs, job_coef, strict=True):
        if coefficient <= 0:
            continue
        if variables.job_interval:
            intervals.append(variables.job_interval[placement.job])
            demands.append(coefficient * variables.placement[placement])
        else:
            intervals.append(variables.interval[placement])
            demands.append(coefficient)
    fill: list[cp_model.LinearExprT] = []
    for position, span in enumerate(instance.schedule.periods):
        terms = [(v, c) for v, c, _ in by_period[position] if c > 0]
        if scaled.limits[position] is not None:
            terms += [
                (expansion_of[a.key], -a.amount) for a in scaled.additions if a.first <= position
            ]
        constant = top - capacity[position]
        if terms:
            low = constant - sum(-c for _, c in terms if c < 0)
            high = constant + sum(c * upper for _, c, upper in by_period[position] if c > 0)
            fill_var = model.new_int_var(max(0, low), max(0, min(top, high)), "fill")
            model.add(fill_var == constant + v1._weighted(terms))
            variables.totals.append((fill_var, terms, constant))
            demand: cp_model.LinearExprT = fill_var
        else:
            demand = constant
        fill.append(demand)
        if isinstance(demand, int) and demand == 0:
            continue
        intervals.append(
            model.new_fixed_size_interval_var(round(span.start), round(span.hours), "period")
        )
        demands.append(demand)
    model.add_cumulative(intervals, demands, top)
    notes.note_row(model, *key)
    if energetic:
        energy_cover(model, instance, variables, notes, key, jobs, job_coef, fill, top)


def energy_cover(
    model: CpModel,
    instance: Instance,
    variables: ScheduledVariables,
    notes: ModelNotes,
    key: tuple[str, ...],
    jobs: list[tuple[TrainingPlacement, float]],
    job_coef: list[int],
    fill: list[cp_model.LinearExprT],
    top: int,
) -> None:
    """Redundant (energetic reasoning): over [0, d) for each distinct deadline d, the
    jobs that must end by d, times their run hours, fit in what the periods leave free:
    `sum c_j run_j y_j + sum_p overlap_p * fill_p <= top * d`. Implied by the cumulative
    (summed over its hours), stated so the LP relaxation sees it."""
    schedule = instance.schedule
    horizon = round(schedule.horizon_hours)
    if top * horizon * 4 > ENERGY_SAFE or not jobs:
        return
    runs = {p.job: math.ceil(instance.training_by_id[p.job].run_hours - 1e-9) for p, _ in jobs}
    ends = {
        p.job: math.floor(instance.training_by_id[p.job].deadline(horizon) + 1e-9) for p, _ in jobs
    }
    for end in sorted(set(ends.values()) | {horizon}):
        inside = [
            (variables.placement[p], c * runs[p.job])
            for (p, _), c in zip(jobs, job_coef, strict=True)
            if ends[p.job] <= end and c > 0
        ]
        if not inside:
            continue
        parts: list[cp_model.LinearExprT] = [v1._weighted(inside)]
        for position, span in enumerate(schedule.periods):
            overlap = max(0, min(end, round(span.end)) - round(span.start))
            if overlap:
                parts.append(overlap * fill[position])
        model.add(cp_model.LinearExpr.sum(parts) <= top * end)
        notes.note_row(model, "energy", *key)


def period_services(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """SPEC §9.4-9.6: §5's demand, serving capacity and n+1 rows per period, with v1's
    redundant covers, by v1's own row builders on each period's variables."""
    for view in variables.periods:
        v1.demand(model, instance, view, notes)
        v1.serving_capacity(model, instance, view, notes)
        v1.demand_cover(model, instance, view, notes)
        v1.replica_count_cover(model, instance, view, notes)
        v1.resilience(model, instance, view, notes)
        for service_id, units in view.units.items():
            if not units.exact:
                notes.inexact.append(f"rps of service {service_id} rounded to a 1e-6 grid")


def bandwidth(
    model: CpModel,
    instance: Instance,
    variables: ScheduledVariables,
    notes: ModelNotes,
    *,
    energetic: bool = True,
) -> None:
    """Per limited link, at every hour: the period's route traffic plus the dataset reads
    of the jobs running then through it <= bandwidth_gbps (SPEC §9.7). The relaxation
    allows two rps units per flow on the link (docs/formulation.md, as v1's); the
    restriction states the rows exactly on the rps grid."""
    limited = {i for i, link in enumerate(instance.links) if link.bandwidth_gbps is not None}
    if not limited:
        return
    paths = instance.paths
    reads: dict[int, list[tuple[TrainingPlacement, float]]] = defaultdict(list)
    for placement in variables.placement:
        dataset = instance.training_by_id[placement.job].dataset
        if dataset is None or dataset.read_gbps <= 0 or dataset.at == placement.site:
            continue
        route = paths.route(dataset.at, placement.site)
        assert route is not None
        for link_index in route.links:
            if link_index in limited:
                reads[link_index].append((placement, dataset.read_gbps))
    traffic: dict[int, list[PeriodUser]] = defaultdict(list)
    for position, view in enumerate(variables.periods):
        for pair, var in view.flow.items():
            service = instance.inference_by_id[pair.service]
            if service.kb_per_request <= 0:
                continue
            route = paths.route(pair.region, pair.site)
            assert route is not None
            units = view.units[pair.service]
            gbps = units.unit * service.kb_per_request * GBPS_PER_RPS_KB
            upper = units.demand_units[pair.region]
            for link_index in route.links:
                if link_index in limited:
                    traffic[link_index].append(PeriodUser(position, var, gbps, upper))
    periods = len(variables.periods)
    for index in sorted(set(reads) | set(traffic)):
        link = instance.links[index]
        assert link.bandwidth_gbps is not None
        allowance = [0.0] * periods
        if notes.widened:
            for user in traffic[index]:
                allowance[user.position] += 2.0 * user.coefficient
        limits: list[float | None] = [link.bandwidth_gbps + extra for extra in allowance]
        _hourly_limit(
            model,
            instance,
            variables,
            notes,
            ("bandwidth", link.a, link.b),
            reads[index],
            traffic[index],
            limits,
            [],
            energetic=energetic,
        )
    if traffic and not notes.widened:
        notes.inexact.append("bandwidth rows stated on the rps grid (a restriction)")


def site_use(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """z[s] = 1 when anything is placed at s in any period (SPEC §9; a chosen expansion
    alone does not count, §11)."""
    for placement, var in variables.placement.items():
        active = variables.site_active.get(placement.site)
        if active is not None:
            model.add_implication(var, active)
            notes.note_row(model, "site_use", placement.site)
    for view in variables.periods:
        for option, var in view.replicas.items():
            active = variables.site_active.get(option.site)
            if active is not None:
                model.add(var == 0).only_enforce_if(active.Not())
                notes.note_row(model, "site_use", option.site)


def replica_starts(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """Replicas started in period p at (s, a) >= r[p] - r[p-1], >= 0; before the first
    period, `current` (SPEC §10). Only for services with a start cost."""
    current = current_replicas(instance)
    for service in instance.inference:
        if service.start_cost <= 0:
            continue
        for option in instance.eligibility.replicas[service.id]:
            before: IntVar | int = current.get((option.service, option.site, option.accelerator), 0)
            for position, view in enumerate(variables.periods):
                var = view.replicas.get(option)
                if var is None:
                    before = 0
                    continue
                upper = view.replica_bound[option]
                started = model.new_int_var(
                    0,
                    upper,
                    f"start[{option.service},{option.site},{option.accelerator},{position}]",
                )
                model.add(started >= var - before)
                variables.starts[option, position] = started
                notes.note_row(model, "replica_starts", option.service, option.site)
                before = var


def replica_changes(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """sum over (i,s,a) of |r[i,s,a,first] - current| <= max_replica_changes (SPEC §10)."""
    budget = instance.moves.max_replica_changes if instance.moves else None
    if budget is None or not variables.periods:
        return
    current = current_replicas(instance)
    first = variables.periods[0]
    fixed = 0
    terms: list[IntVar] = []
    seen: set[tuple[str, str, str]] = set()
    for option, var in first.replicas.items():
        group = (option.service, option.site, option.accelerator)
        seen.add(group)
        count = current.get(group, 0)
        change = model.new_int_var(0, max(count, first.replica_bound[option]), "change")
        model.add(change >= var - count)
        model.add(change >= count - var)
        variables.changes[option] = change
        terms.append(change)
    fixed = sum(count for group, count in current.items() if group not in seen)
    model.add(cp_model.LinearExpr.sum(terms) + fixed <= budget)
    notes.note_row(model, "replica_changes")


def training_moves(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """Jobs of `current` not placed at their current (site, accelerator) (unplaced counts)
    <= max_training_moves (SPEC §10)."""
    budget = instance.moves.max_training_moves if instance.moves else None
    running = current_training(instance)
    if budget is None or not running:
        return
    stays: list[IntVar] = []
    by_job = variables.placements_by_job()
    for job_id, where in running.items():
        stays.extend(
            var
            for placement, var in by_job.get(job_id, [])
            if (placement.site, placement.accelerator) == where
        )
    model.add(len(running) - cp_model.LinearExpr.sum(stays) <= budget)
    notes.note_row(model, "training_moves")


def supply_limits(
    model: CpModel, instance: Instance, variables: ScheduledVariables, notes: ModelNotes
) -> None:
    """Accelerators added by all chosen expansions, per type, <= max_count (SPEC §11)."""
    for limit in instance.supply_limits or []:
        terms = [
            (variables.expansion[site.id, expansion.id], added.count)
            for site in instance.sites
            for expansion in site.expansions or []
            for added in expansion.inventory or []
            if added.accelerator == limit.accelerator and added.count > 0
        ]
        if sum(count for _, count in terms) > limit.max_count:
            model.add(v1._weighted(terms) <= limit.max_count)
            notes.note_row(model, "supply_limits", limit.accelerator)
