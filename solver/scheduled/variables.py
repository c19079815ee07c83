"""Decision variables of SPEC §9-§11, for eligible decisions only.

Training: y[j,s,a] (bool), one start S_j per job in [release, deadline - run] (scheduled
instances), its lateness L_j, and the intervals the cumulative rows use: one optional
interval per placement sharing S_j (presence y[j,s,a]), or with `job_intervals` one
interval per job (presence: placed) whose demand at each site is an affine expression
of y (docs/formulation.md, "Scheduled instances", says which is kept and why).
Inference: r[i,s,a,p], x[i,u,s,p], w[i,u,p] per period, held as one v1 `PlanVariables`
per period, so v1's row builders state §5's rows per period. Also z[s], replica starts
(§10), replica changes from `current` (§10) and expansions e[s,x] (§11).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.schedule import largest_capacity
from models.tolerance import widened as tol_widened
from solver.cpsat.variables import PlanVariables

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import CpModel, IntervalVar, IntVar

    from models import Instance, ReplicaOption, TrainingPlacement
    from solver.cpsat.variables import ServiceUnits


#: A site's placements, and its replica variables as (period position, option, var, bound).
SiteVariables = tuple[list["TrainingPlacement"], list[tuple[int, "ReplicaOption", "IntVar", int]]]


@dataclass
class ScheduledVariables:
    """Every variable of one scheduled (or static v2) model."""

    scheduled: bool
    placement: dict[TrainingPlacement, IntVar] = field(default_factory=dict)
    unplaced: dict[str, IntVar] = field(default_factory=dict)
    #: Per job with a placement: a literal that is 1 when it is placed (y itself when it
    #: has one placement, a new bool equal to their sum otherwise).
    placed: dict[str, IntVar] = field(default_factory=dict)
    start: dict[str, IntVar] = field(default_factory=dict)
    late: dict[str, IntVar] = field(default_factory=dict)
    #: Per placement: its interval (presence y) in the per-placement form.
    interval: dict[TrainingPlacement, IntervalVar] = field(default_factory=dict)
    #: Per job: its interval (presence placed) in the per-job form.
    job_interval: dict[str, IntervalVar] = field(default_factory=dict)
    periods: list[PlanVariables] = field(default_factory=list)
    #: Replicas started at (option, period position) (§10; only where they cost).
    starts: dict[tuple[ReplicaOption, int], IntVar] = field(default_factory=dict)
    #: |r[i,s,a,first] - current| per option, where `max_replica_changes` is set.
    changes: dict[ReplicaOption, IntVar] = field(default_factory=dict)
    site_active: dict[str, IntVar] = field(default_factory=dict)
    expansion: dict[tuple[str, str], IntVar] = field(default_factory=dict)
    #: Auxiliary variables with the linear form that defines them (for hints).
    totals: list[tuple[IntVar, list[tuple[IntVar, int]], int]] = field(default_factory=list)
    #: The static restricted model's link rows as added (terms by variable index, limit),
    #: so that a hint's flows can be made to meet them (`model._consistent_flows`).
    link_rows: list[tuple[list[tuple[int, int]], int]] = field(default_factory=list)
    _sites: dict[str, SiteVariables] | None = field(default=None, repr=False)

    def site_index(self) -> dict[str, SiteVariables]:
        """Per site: its placements, and its replica variables as (period position, option,
        var, upper bound); computed once."""
        if self._sites is None:
            sites: dict[str, SiteVariables] = defaultdict(lambda: ([], []))
            for placement in self.placement:
                sites[placement.site][0].append(placement)
            for position, view in enumerate(self.periods):
                for option, var in view.replicas.items():
                    sites[option.site][1].append(
                        (position, option, var, view.replica_bound[option])
                    )
            self._sites = dict(sites)
        return self._sites

    def placements_by_job(self) -> dict[str, list[tuple[TrainingPlacement, IntVar]]]:
        """Placement variables grouped by job, in input order."""
        grouped: dict[str, list[tuple[TrainingPlacement, IntVar]]] = defaultdict(list)
        for placement, var in self.placement.items():
            grouped[placement.job].append((placement, var))
        return grouped


def job_window(instance: Instance, job_id: str) -> tuple[int, int] | None:
    """The earliest and latest start hour of a job (SPEC §9), or None when its window is
    too short for it (it cannot be placed)."""
    job = instance.training_by_id[job_id]
    run = math.ceil(job.run_hours - 1e-9)
    latest = math.floor(job.deadline(instance.schedule.horizon_hours) + 1e-9) - run
    if latest < job.release:
        return None
    return job.release, latest


def current_training(instance: Instance) -> dict[str, tuple[str, str]]:
    """Where each job of `current` runs at hour 0 (SPEC §10): job -> (site, accelerator)."""
    return instance.current_training_at


def current_replicas(instance: Instance) -> dict[tuple[str, str, str], int]:
    """Replicas of `current` by (service, site, accelerator) (SPEC §10)."""
    if instance.current is None:
        return {}
    return {(g.service, g.site, g.accelerator): g.replicas for g in instance.current.inference}


def kept_replicas(instance: Instance) -> dict[tuple[str, str, str], int]:
    """Replicas of `current` the first period may have to keep: all of them when
    `max_replica_changes` is set (stopping one uses the budget), else none."""
    if instance.moves is None or instance.moves.max_replica_changes is None:
        return {}
    return current_replicas(instance)


def replica_bound(
    instance: Instance,
    option: ReplicaOption,
    demand_rps: float,
    *,
    widened: bool,
    at_least: int = 0,
) -> int:
    """The most replicas of `option` a period can run: what the site's largest stock, grid
    and cooling (timeline and every expansion) allow, to the SPEC's tolerance in the
    relaxation, and no more than the period's whole demand needs (as v1's bound) or
    `at_least`, whichever is more (replicas kept idle under a change budget or to save
    a later start, SPEC §10)."""
    site = instance.site_by_id[option.site]
    accelerator = instance.accelerator_by_id[option.accelerator]
    grid_kw, cooling_kw, stock = largest_capacity(instance, option.site)
    replica_kw = accelerator.power_kw * option.per_replica

    def most(limit: float, per: float) -> int:
        if widened:
            return math.floor(tol_widened(limit) / per)
        return math.floor(limit / per + 1e-9)

    bounds = [
        most(stock.get(option.accelerator, 0), option.per_replica),
        most(grid_kw, site.pue * replica_kw),
        max(at_least, math.ceil(demand_rps / option.rps - 1e-9)),
    ]
    cooling = cooling_kw[accelerator.cooling]
    if cooling is not None:
        bounds.append(most(cooling, replica_kw))
    return max(0, min(bounds))


def create_variables(
    model: CpModel,
    instance: Instance,
    units: list[dict[str, ServiceUnits]],
    *,
    widened: bool,
    job_intervals: bool,
) -> ScheduledVariables:
    """Every variable of the model, in input order (jobs, then services by period)."""
    eligibility = instance.eligibility
    schedule = instance.schedule
    scheduled = instance.is_scheduled
    variables = ScheduledVariables(scheduled=scheduled)
    jobs = instance.training_by_id
    for job in instance.training:
        window = job_window(instance, job.id) if scheduled else (0, 0)
        placements = eligibility.training[job.id] if window is not None else []
        choices = []
        for placement in placements:
            name = f"y[{job.id},{placement.site},{placement.accelerator}]"
            var = model.new_bool_var(name)
            variables.placement[placement] = var
            choices.append(var)
        if not job.required:
            variables.unplaced[job.id] = model.new_bool_var(f"unplaced[{job.id}]")
        if not choices:
            continue
        if len(choices) == 1:
            placed = choices[0]
        else:
            placed = model.new_bool_var(f"placed[{job.id}]")
            model.add(sum(choices) == placed)
            variables.totals.append((placed, [(v, 1) for v in choices], 0))
        variables.placed[job.id] = placed
        if not scheduled or window is None:
            continue
        run = math.ceil(jobs[job.id].run_hours - 1e-9)
        start = model.new_int_var(window[0], window[1], f"S[{job.id}]")
        variables.start[job.id] = start
        if job_intervals:
            variables.job_interval[job.id] = model.new_optional_fixed_size_interval_var(
                start, run, placed, f"I[{job.id}]"
            )
        else:
            for placement, var in zip(placements, choices, strict=True):
                variables.interval[placement] = model.new_optional_fixed_size_interval_var(
                    start, run, var, f"I[{job.id},{placement.site},{placement.accelerator}]"
                )
        if job.due_hour is not None and job.late_cost > 0:
            most_late = max(0, window[1] + run - job.due_hour)
            if most_late > 0:
                variables.late[job.id] = model.new_int_var(0, most_late, f"L[{job.id}]")

    kept = kept_replicas(instance)
    for position, span in enumerate(schedule.periods):
        view = PlanVariables(units=units[position])
        variables.periods.append(view)
        for service in instance.inference:
            service_units = units[position][service.id]
            demand = schedule.demand[service.id][position]
            total = sum(rps for rps in demand.values() if rps > 0)
            if service.start_cost > 0:
                # A replica idle now may save its start in a later period: no more than
                # the most any later period's demand needs.
                total = max(
                    total,
                    *(
                        sum(rps for rps in later.values() if rps > 0)
                        for later in schedule.demand[service.id][position:]
                    ),
                )
            hosting: set[str] = set()
            for option in eligibility.replicas[service.id]:
                group = (option.service, option.site, option.accelerator)
                bound = replica_bound(
                    instance,
                    option,
                    total,
                    widened=widened,
                    at_least=kept.get(group, 0) if position == 0 else 0,
                )
                if bound <= 0:
                    continue
                name = f"r[{service.id},{option.site},{option.accelerator},{span.id}]"
                view.replicas[option] = model.new_int_var(0, bound, name)
                view.replica_bound[option] = bound
                hosting.add(option.site)
            for pair in eligibility.routes[service.id]:
                if pair.site not in hosting or pair.region not in service_units.demand_units:
                    continue
                name = f"x[{service.id},{pair.region},{pair.site},{span.id}]"
                view.flow[pair] = model.new_int_var(
                    0, service_units.demand_units[pair.region], name
                )
            if service.unserved_cost_per_rps_hour is not None:
                for region, units_needed in service_units.demand_units.items():
                    name = f"w[{service.id},{region},{span.id}]"
                    view.unserved[service.id, region] = model.new_int_var(0, units_needed, name)

    used_sites = {p.site for p in variables.placement}
    used_sites |= {o.site for view in variables.periods for o in view.replicas}
    for site in instance.sites:
        if site.fixed_cost > 0 and site.id in used_sites:
            variables.site_active[site.id] = model.new_bool_var(f"z[{site.id}]")
        for expansion in site.expansions or []:
            key = (site.id, expansion.id)
            variables.expansion[key] = model.new_bool_var(f"e[{site.id},{expansion.id}]")
    return variables
