"""Why a scheduled (v2) instance has no plan: checks that name the period, the hour or
the job (SPEC §9-§11).

Every finding here is a proof that no plan exists, made from figures the SPEC fixes:

* **Window**: a job that must run (required, or listed in the `after` of one that must)
  whose [release_hour, deadline_hour) holds fewer hours than it runs.
* **After chain**: a job that must run whose earliest end, S_j >= release_j and after
  each listed job's earliest end, is past its deadline.
* **Site in a period**: at a site, what must run there at some hour of a period (the
  compulsory part [latest start, earliest end) of each job that must run and may run
  nowhere else, plus the fewest replicas of each must-serve service whose demand may be
  served nowhere else) needs more grid power or more accelerators than the period
  offers, every expansion of the site counted as built.
* **Demand in a period**: a must-serve demand of one region in one period larger than
  what the sites within its SLO could serve if each gave that service all it has in the
  period (every expansion built).

Each finding comes with the edit that lifts it (a what-if edit), re-checked by a real
solve when it is the only finding. When no check fires, `solve` decides: its
`infeasible` is proved by the relaxation, its plan checked by the evaluator.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.diagnosis.limits import Limit, number

if TYPE_CHECKING:
    from models import Instance
    from solver.whatif import Edit


@dataclass(frozen=True)
class TimedFinding:
    """A proof that no plan exists, in a planner's words, and the edit that lifts it."""

    limit: Limit
    message: str
    #: The edit that lifts this finding (None when none is simple), its words and amount.
    edit: Edit | None = None
    edit_text: str = ""
    amount: float | None = None


def must_run(instance: Instance) -> set[str]:
    """Jobs every plan places: the required ones and all they wait for (`after`)."""
    forced: set[str] = set()
    stack = [job.id for job in instance.training if job.required]
    while stack:
        job_id = stack.pop()
        if job_id in forced:
            continue
        forced.add(job_id)
        stack.extend(instance.training_by_id[job_id].predecessors)
    return forced


def _order(instance: Instance) -> list[str]:
    """Job ids with every job after those it lists (the graph is acyclic, SPEC §9)."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(job_id: str) -> None:
        if job_id in seen:
            return
        seen.add(job_id)
        for other in instance.training_by_id[job_id].predecessors:
            visit(other)
        done.append(job_id)

    for job in instance.training:
        visit(job.id)
    return done


def earliest_starts(instance: Instance) -> dict[str, float]:
    """ES_j = max(release_j, max over listed k of ES_k + run_k)."""
    earliest: dict[str, float] = {}
    for job_id in _order(instance):
        job = instance.training_by_id[job_id]
        earliest[job_id] = max(
            [float(job.release)]
            + [earliest[k] + instance.training_by_id[k].run_hours for k in job.predecessors]
        )
    return earliest


def latest_starts(instance: Instance, forced: set[str]) -> dict[str, float]:
    """LS_j = min(deadline_j - run_j, min over forced jobs k that list j of LS_k - run_j)."""
    horizon = instance.schedule.horizon_hours
    latest: dict[str, float] = {}
    for job_id in reversed(_order(instance)):
        job = instance.training_by_id[job_id]
        latest[job_id] = job.deadline(horizon) - job.run_hours
    for job_id in reversed(_order(instance)):
        job = instance.training_by_id[job_id]
        if job_id not in forced:
            continue
        for other in job.predecessors:
            run = instance.training_by_id[other].run_hours
            latest[other] = min(latest[other], latest[job_id] - run)
    return latest


def timing_findings(instance: Instance) -> list[TimedFinding]:
    """Windows too short and `after` chains that cannot end by a deadline."""
    from solver.whatif import SetValue, field_path

    forced = must_run(instance)
    horizon = instance.schedule.horizon_hours
    earliest = earliest_starts(instance)
    findings: list[TimedFinding] = []
    for job in instance.training:
        if job.id not in forced:
            continue
        why = "is required" if job.required else "must run (a required job runs after it)"
        deadline = job.deadline(horizon)
        window = deadline - job.release
        if window < job.run_hours:
            release = deadline - job.run_hours
            findings.append(
                TimedFinding(
                    Limit("window", (job.id,)),
                    f"{job.id} {why} but its window [{number(job.release)}, "
                    f"{number(deadline)}) holds {number(window)} h; it runs "
                    f"{number(job.run_hours)} h",
                    SetValue(field_path("training", (job.id,), "release_hour"), int(release))
                    if release >= 0
                    else None,
                    f"release {job.id} at hour {number(release)} (now {number(job.release)})",
                    job.release - release,
                )
            )
            continue
        end = earliest[job.id] + job.run_hours
        if end > deadline:
            chain = _chain(instance, job.id, earliest)
            edit = (
                SetValue(field_path("training", (job.id,), "deadline_hour"), math.ceil(end))
                if end <= horizon
                else None
            )
            findings.append(
                TimedFinding(
                    Limit("after", (job.id,)),
                    f"{job.id} {why} but cannot end by its deadline hour {number(deadline)}: "
                    f"after {chain} it ends at hour {number(end)} at the earliest",
                    edit,
                    f"move {job.id}'s deadline to hour {number(math.ceil(end))}"
                    if edit is not None
                    else "",
                    end - deadline,
                )
            )
    return findings


def _chain(instance: Instance, job_id: str, earliest: dict[str, float]) -> str:
    """The `after` chain that sets a job's earliest start, first job first, in words."""
    steps: list[str] = []
    current = job_id
    while True:
        job = instance.training_by_id[current]
        binding = [
            k
            for k in job.predecessors
            if earliest[k] + instance.training_by_id[k].run_hours >= earliest[current] - 1e-9
        ]
        if not binding or earliest[current] <= job.release:
            break
        current = binding[0]
        other = instance.training_by_id[current]
        steps.append(
            f"{current} (from hour {number(earliest[current])}, {number(other.run_hours)} h)"
        )
    return " after ".join(steps) if steps else "its listed jobs"


def site_period_findings(instance: Instance) -> list[TimedFinding]:
    """Sites whose compulsory load in some hour of a period exceeds the period's grid
    (every expansion counted as built)."""
    schedule = instance.schedule
    forced = must_run(instance)
    earliest = earliest_starts(instance)
    latest = latest_starts(instance, forced)
    eligible = instance.eligibility
    # site -> [(from hour, to hour, facility kW, job)]
    parts: dict[str, list[tuple[float, float, float, str]]] = defaultdict(list)
    for job_id in sorted(forced):
        options = eligible.training.get(job_id, [])
        sites = {p.site for p in options}
        if len(sites) != 1:
            continue
        site_id = next(iter(sites))
        site = instance.site_by_id[site_id]
        job = instance.training_by_id[job_id]
        if latest[job_id] < earliest[job_id]:
            continue  # cannot start in time at all: a timing finding says so
        start, end = latest[job_id], earliest[job_id] + job.run_hours
        if not instance.is_scheduled:
            # A static instance counts every placed job for the whole horizon (SPEC §8).
            start, end = 0.0, schedule.horizon_hours
        if start >= end:
            continue
        kw = min(
            site.pue * instance.accelerator_by_id[p.accelerator].power_kw * p.count for p in options
        )
        parts[site_id].append((start, end, kw, job_id))
    serving = _must_serve_replicas(instance)
    findings: list[TimedFinding] = []
    for site in instance.sites:
        for position, span in enumerate(schedule.periods):
            grid = schedule.grid_kw[site.id][position] + sum(
                x.grid_kw or 0.0
                for x in site.expansions or []
                if schedule.expansion_period[site.id, x.id] <= position
            )
            served = serving.get((site.id, position), [])
            serve_kw = sum(kw for kw, _, _ in served)
            events = sorted(
                {span.start} | {s for s, _, _, _ in parts[site.id] if span.start < s < span.end}
            )
            worst: tuple[float, float, list[str]] | None = None
            for hour in events:
                running = [p for p in parts[site.id] if p[0] <= hour < p[1]]
                load = serve_kw + sum(p[2] for p in running)
                if worst is None or load > worst[0]:
                    names = [p[3] for p in running] + [service for _, service, _ in served]
                    worst = (load, hour, names)
            if worst is None or worst[0] <= grid * (1 + 1e-6) + 1e-6:
                continue
            load, hour, names = worst
            findings.append(_grid_finding(instance, site.id, position, hour, load, grid, names))
    return findings


def _grid_finding(
    instance: Instance,
    site_id: str,
    position: int,
    hour: float,
    load: float,
    grid: float,
    names: list[str],
) -> TimedFinding:
    from solver.whatif import SetValue, field_path

    period = instance.schedule.periods[position].id
    site = instance.site_by_id[site_id]
    needed = math.ceil(round(load * 1000, 6)) / 1000
    extra = needed - grid
    # The figure in force in this period comes from the last timeline entry at or before
    # it that sets grid_kw, else from the base value: raising it raises the grid from
    # there until the next entry that sets it.
    order = {p.id: i for i, p in enumerate(instance.schedule.periods)}
    entries = [
        e for e in site.timeline or [] if e.grid_kw is not None and order[e.period] <= position
    ]
    if entries:
        source = entries[-1]
        assert source.grid_kw is not None
        path = field_path("sites", (site_id,), "timeline", (source.period,), "grid_kw")
        value = source.grid_kw + extra
        where = f"the {source.period} timeline entry"
    else:
        path = field_path("sites", (site_id,), "grid_kw")
        value = site.grid_kw + extra
        where = "the base grid"
    return TimedFinding(
        Limit("grid_power", (site_id, period)),
        f"in {period}, site {site_id} needs {number(needed)} kW against {number(grid)} kW "
        f"(from hour {number(hour)}: {', '.join(names)} must run there then)",
        SetValue(path, round(value, 3)),
        f"raise {site_id} grid by {number(extra)} kW in {period} ({where}, to {number(value)} kW)",
        extra,
    )


def _must_serve_replicas(instance: Instance) -> dict[tuple[str, int], list[tuple[float, str, int]]]:
    """The least facility kW each must-serve service needs at a site in a period, when
    every region with demand then may be served only there: (kW, service, replicas)."""
    schedule = instance.schedule
    pairs: dict[str, set[str]] = defaultdict(set)
    for service_pairs in instance.eligibility.routes.values():
        for pair in service_pairs:
            pairs[pair.service].add(pair.site)
    found: dict[tuple[str, int], list[tuple[float, str, int]]] = defaultdict(list)
    for service in instance.inference:
        if service.unserved_cost_per_rps_hour is not None or len(pairs[service.id]) != 1:
            continue
        site_id = next(iter(pairs[service.id]))
        site = instance.site_by_id[site_id]
        profiles = [
            p for p in service.profiles if (site_id, p.accelerator) in instance.inventory_by_pair
        ]
        if not profiles:
            continue
        for position, demand in enumerate(schedule.demand[service.id]):
            total = sum(demand.values())
            if total <= 0:
                continue
            best = min(
                (
                    math.ceil(total / p.rps - 1e-9)
                    * p.per_replica
                    * instance.accelerator_by_id[p.accelerator].power_kw
                    * site.pue,
                    math.ceil(total / p.rps - 1e-9),
                )
                for p in profiles
            )
            found[site_id, position].append((best[0], service.id, best[1]))
    return found


def demand_findings(instance: Instance) -> list[TimedFinding]:
    """Must-serve demand of a region in a period beyond what its sites could serve."""
    from solver.whatif import SetValue, field_path

    schedule = instance.schedule
    sites_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for service_pairs in instance.eligibility.routes.values():
        for pair in service_pairs:
            sites_of[pair.service, pair.region].add(pair.site)
    findings: list[TimedFinding] = []
    for service in instance.inference:
        if service.unserved_cost_per_rps_hour is not None:
            continue
        for position, demand in enumerate(schedule.demand[service.id]):
            period = schedule.periods[position].id
            for region, rps in sorted(demand.items()):
                if rps <= 0:
                    continue
                most = sum(
                    _most_rps(instance, service.id, site_id, position)
                    for site_id in sites_of[service.id, region]
                )
                if rps <= most * (1 + 1e-6) + 1e-6:
                    continue
                listed = period in (service.demand_by_period or {})
                path = (
                    field_path("inference", (service.id,), "demand_by_period", period, region)
                    if listed
                    else field_path("inference", (service.id,), "demand_rps", region)
                )
                slo = number(service.latency_slo_ms)
                findings.append(
                    TimedFinding(
                        Limit("demand", (service.id, region, period)),
                        f"in {period}, {service.id} in {region} needs {number(rps)} rps; the "
                        f"sites within {slo} ms can serve at most {number(most)} rps, each "
                        f"giving it all it has",
                        SetValue(path, math.floor(most * 1000) / 1000),
                        f"cut {service.id} demand in {region} to {number(most)} rps"
                        + ("" if listed else " (in every period without its own figures)"),
                        rps - most,
                    )
                )
    return findings


def _most_rps(instance: Instance, service_id: str, site_id: str, position: int) -> float:
    """The most rps a site could serve for one service in a period: its whole stock, grid
    and cooling (every expansion built) on the best profile."""
    schedule = instance.schedule
    site = instance.site_by_id[site_id]
    service = instance.inference_by_id[service_id]
    built = [
        x for x in site.expansions or [] if schedule.expansion_period[site_id, x.id] <= position
    ]
    grid = schedule.grid_kw[site_id][position] + sum(x.grid_kw or 0.0 for x in built)
    best = 0.0
    for profile in service.profiles:
        pair = (site_id, profile.accelerator)
        if pair not in schedule.count:
            continue
        accelerator = instance.accelerator_by_id[profile.accelerator]
        count = schedule.count[pair][position] + sum(
            item.count
            for x in built
            for item in x.inventory or []
            if item.accelerator == profile.accelerator
        )
        by_grid = grid / (site.pue * accelerator.power_kw)
        cooling = schedule.cooling_kw[site_id, accelerator.cooling][position]
        if cooling is not None:
            cooling += sum((x.cooling_kw or {}).get(accelerator.cooling, 0.0) for x in built)
        by_cooling = math.inf if cooling is None else cooling / accelerator.power_kw
        accelerators = min(float(count), by_grid, by_cooling)
        replicas = math.floor(accelerators / profile.per_replica + 1e-9)
        best = max(best, replicas * profile.rps)
    return best


def timed_findings(instance: Instance) -> list[TimedFinding]:
    """Every check of this module, timing first."""
    return [*timing_findings(instance), *site_period_findings(instance), *demand_findings(instance)]
