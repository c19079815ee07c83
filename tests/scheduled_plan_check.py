"""An independent reading of SPEC §9: every constraint a scheduled plan breaks, as text.

Written from the spec alone (it uses neither models.schedule nor solver.evaluation), so that
the generator's witnesses are checked by code that shares nothing with how they were built.
Capacity and bandwidth are checked at every hour where use can rise: each period's first hour
and every start hour inside it (use is constant between those).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import Instance, Solution
    from models.solution import TrainingAssignment

TOLERANCE = 1e-6
#: A cooling limit per period (None: unlimited).
Limits = list[float | None]


def _over(used: float, limit: float) -> bool:
    return used > limit + TOLERANCE * max(1.0, abs(limit))


def per_period_capacity(
    instance: Instance,
) -> tuple[dict[str, list[float]], dict[tuple[str, str], list[int]], dict[tuple[str, str], Limits]]:
    """grid[s][p], count[(s, a)][p] and cooling[(s, kind)][p] (None = unlimited), from the
    base values and each timeline entry onwards (SPEC §9 `timeline`)."""
    assert instance.periods is not None
    position = {p.id: i for i, p in enumerate(instance.periods)}
    n = len(instance.periods)
    grid: dict[str, list[float]] = {}
    count: dict[tuple[str, str], list[int]] = {}
    cooling: dict[tuple[str, str], Limits] = {}
    for site in instance.sites:
        grid[site.id] = [site.grid_kw] * n
        for item in site.inventory:
            count[site.id, item.accelerator] = [item.count] * n
        for kind in ("air", "liquid"):
            limit = None if site.cooling_kw is None else site.cooling_kw.get(kind)
            cooling[site.id, kind] = [limit] * n
        for entry in site.timeline or []:
            first = position[entry.period]
            for p in range(first, n):
                if entry.grid_kw is not None:
                    grid[site.id][p] = entry.grid_kw
                for change in entry.inventory or []:
                    count[site.id, change.accelerator][p] = change.count
                for kind, limit in (entry.cooling_kw or {}).items():
                    cooling[site.id, kind][p] = limit
    return grid, count, cooling


def demand_in(instance: Instance, service_id: str, period_id: str) -> dict[str, float]:
    """SPEC §9 `demand_by_period`: a listed period replaces `demand_rps`."""
    service = instance.inference_by_id[service_id]
    return (service.demand_by_period or {}).get(period_id, service.demand_rps)


def scheduled_violations(instance: Instance, plan: Solution) -> list[str]:
    """Every SPEC §9 rule the plan breaks (empty when feasible)."""
    assert instance.periods is not None
    bad: list[str] = []
    horizon = sum(p.hours for p in instance.periods)
    starts = [sum(p.hours for p in instance.periods[:i]) for i in range(len(instance.periods))]
    placed = {t.job: t for t in plan.training}
    bad += _timing(instance, plan, horizon)
    for job in instance.training:
        if job.required and job.id not in placed:
            bad.append(f"required job {job.id} not placed")
    bad += _placements(instance, plan)
    bad += _capacity(instance, plan, starts)
    bad += _serving(instance, plan)
    bad += _bandwidth(instance, plan, starts)
    return bad


def _timing(instance: Instance, plan: Solution, horizon: int) -> list[str]:
    bad: list[str] = []
    placed = {t.job: t for t in plan.training}
    for entry in plan.training:
        job = instance.training_by_id[entry.job]
        start = entry.start_hour
        if start is None:
            bad.append(f"{job.id}: no start hour")
            continue
        deadline = horizon if job.deadline_hour is None else job.deadline_hour
        if start < (job.release_hour or 0) or start + job.run_hours > deadline:
            bad.append(f"{job.id}: runs [{start}, {start + job.run_hours}) outside its window")
        for before in job.after or []:
            other = placed.get(before)
            if other is None or other.start_hour is None:
                bad.append(f"{job.id}: runs but {before} does not")
            elif start < other.start_hour + instance.training_by_id[before].run_hours:
                bad.append(f"{job.id}: starts before {before} ends")
    return bad


def _placements(instance: Instance, plan: Solution) -> list[str]:
    bad: list[str] = []
    stocked = {(s.id, i.accelerator) for s in instance.sites for i in s.inventory}
    for entry in plan.training:
        job = instance.training_by_id[entry.job]
        site = instance.site_by_id[entry.site]
        options = {o.accelerator: o.count for o in job.options}
        if options.get(entry.accelerator) != entry.count:
            bad.append(f"{job.id}: no option of {entry.count} {entry.accelerator}")
        if (site.id, entry.accelerator) not in stocked:
            bad.append(f"{job.id}: {site.id} does not stock {entry.accelerator}")
        if job.allowed_sites is not None and site.id not in job.allowed_sites:
            bad.append(f"{job.id}: {site.id} not allowed")
        if not set(job.requires_tags) <= set(site.tags):
            bad.append(f"{job.id}: {site.id} lacks a tag")
        if job.dataset is not None and instance.paths.route(job.dataset.at, site.id) is None:
            bad.append(f"{job.id}: dataset cannot reach {site.id}")
    for group in plan.inference:
        service = instance.inference_by_id[group.service]
        site = instance.site_by_id[group.site]
        if group.accelerator not in {p.accelerator for p in service.profiles}:
            bad.append(f"{service.id}: no profile on {group.accelerator}")
        if (site.id, group.accelerator) not in stocked:
            bad.append(f"{service.id}: {site.id} does not stock {group.accelerator}")
        if service.allowed_sites is not None and site.id not in service.allowed_sites:
            bad.append(f"{service.id}: {site.id} not allowed")
        if not set(service.requires_tags) <= set(site.tags):
            bad.append(f"{service.id}: {site.id} lacks a tag")
    return bad


def _event_hours(period: int, starts: list[int], horizon: int, job_starts: list[int]) -> set[int]:
    end = starts[period + 1] if period + 1 < len(starts) else horizon
    return {starts[period], *(h for h in job_starts if starts[period] <= h < end)}


def _capacity(instance: Instance, plan: Solution, starts: list[int]) -> list[str]:
    assert instance.periods is not None
    bad: list[str] = []
    grid, count, cooling = per_period_capacity(instance)
    horizon = starts[-1] + instance.periods[-1].hours
    accelerators = instance.accelerator_by_id
    jobs_at: dict[str, list[TrainingAssignment]] = defaultdict(list)
    for entry in plan.training:
        jobs_at[entry.site].append(entry)
    for p, period in enumerate(instance.periods):
        serving: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for group in plan.inference:
            if group.period == period.id:
                service = instance.inference_by_id[group.service]
                per = {x.accelerator: x.per_replica for x in service.profiles}
                serving[group.site][group.accelerator] += group.replicas * per[group.accelerator]
        for site in instance.sites:
            jobs = jobs_at[site.id]
            hours = _event_hours(p, starts, horizon, [t.start_hour or 0 for t in jobs])
            for hour in sorted(hours):
                used = defaultdict(int, serving[site.id])
                for entry in jobs:
                    start = entry.start_hour or 0
                    if start <= hour < start + instance.training_by_id[entry.job].run_hours:
                        used[entry.accelerator] += entry.count
                it_kw = {"air": 0.0, "liquid": 0.0}
                for acc, n in used.items():
                    if n > count.get((site.id, acc), [0] * len(starts))[p]:
                        bad.append(f"{site.id} {acc} at hour {hour}: {n} > stock")
                    it_kw[accelerators[acc].cooling] += accelerators[acc].power_kw * n
                if _over(site.pue * sum(it_kw.values()), grid[site.id][p]):
                    bad.append(f"{site.id} at hour {hour}: power over grid")
                for kind, kw in it_kw.items():
                    limit = cooling[site.id, kind][p]
                    if limit is not None and _over(kw, limit):
                        bad.append(f"{site.id} at hour {hour}: {kind} cooling over limit")
    return bad


def _serving(instance: Instance, plan: Solution) -> list[str]:
    assert instance.periods is not None
    bad: list[str] = []
    routes = defaultdict(list)
    for route in plan.routes:
        routes[route.service, route.period].append(route)
    groups = defaultdict(list)
    for group in plan.inference:
        groups[group.service, group.period].append(group)
    unserved: dict[tuple[str, str | None, str], float] = defaultdict(float)
    for gap in plan.unserved:
        unserved[gap.service, gap.period, gap.region] += gap.rps
    domains = {s.domain for s in instance.sites}
    for period in instance.periods:
        for service in instance.inference:
            served: dict[str, float] = defaultdict(float)
            at_site: dict[str, float] = defaultdict(float)
            for route in routes[service.id, period.id]:
                served[route.region] += route.rps
                at_site[route.site] += route.rps
                path = instance.paths.route(route.region, route.site)
                if path is None or path.latency_ms > service.latency_slo_ms + TOLERANCE:
                    bad.append(f"{service.id} {route.region}->{route.site}: over the SLO")
            for region, rps in demand_in(instance, service.id, period.id).items():
                total = served[region] + unserved[service.id, period.id, region]
                if not math.isclose(total, rps, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
                    bad.append(f"{service.id} {region} {period.id}: {total} of {rps} rps")
            rps_of = {p.accelerator: p.rps for p in service.profiles}
            capacity: dict[str, float] = defaultdict(float)
            for group in groups[service.id, period.id]:
                capacity[group.site] += group.replicas * rps_of[group.accelerator]
            for site_id, rps in at_site.items():
                if _over(rps, capacity[site_id]):
                    bad.append(f"{service.id} {site_id} {period.id}: {rps} rps over capacity")
            if service.resilience == "n+1":
                total = sum(at_site.values())
                for domain in domains:
                    outside = sum(
                        c for s, c in capacity.items() if instance.site_by_id[s].domain != domain
                    )
                    if _over(total, outside):
                        bad.append(f"{service.id} {period.id}: n+1 fails without {domain}")
    return bad


def _bandwidth(instance: Instance, plan: Solution, starts: list[int]) -> list[str]:
    assert instance.periods is not None
    bad: list[str] = []
    horizon = starts[-1] + instance.periods[-1].hours
    limits = {
        frozenset((link.a, link.b)): link.bandwidth_gbps
        for link in instance.links
        if link.bandwidth_gbps is not None
    }

    def pairs(source: str, site: str) -> list[frozenset[str]]:
        path = instance.paths.route(source, site)
        assert path is not None
        nodes = path.nodes
        return [frozenset(pair) for pair in itertools.pairwise(nodes)]

    streams = [
        (t, instance.training_by_id[t.job])
        for t in plan.training
        if (ds := instance.training_by_id[t.job].dataset) is not None
        and ds.read_gbps > 0
        and ds.at != t.site
    ]
    for p, period in enumerate(instance.periods):
        traffic: dict[frozenset[str], float] = defaultdict(float)
        for route in plan.routes:
            if route.period == period.id:
                kb = instance.inference_by_id[route.service].kb_per_request
                for pair in pairs(route.region, route.site):
                    traffic[pair] += route.rps * kb * 8e-6
        for hour in _event_hours(p, starts, horizon, [t.start_hour or 0 for t, _ in streams]):
            load = defaultdict(float, traffic)
            for entry, job in streams:
                start = entry.start_hour or 0
                if start <= hour < start + job.run_hours:
                    assert job.dataset is not None
                    for pair in pairs(job.dataset.at, entry.site):
                        load[pair] += job.dataset.read_gbps
            for pair, gbps in load.items():
                limit = limits.get(pair)
                if limit is not None and _over(gbps, limit):
                    bad.append(f"link {sorted(pair)} at hour {hour}: {gbps:.3f} Gbps over {limit}")
    return bad
