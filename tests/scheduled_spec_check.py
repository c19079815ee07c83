"""An independent reading of SPEC §4 and §9-§11 for tests: every rule a scheduled plan
breaks, as text (moved from solver/scheduled/check.py, which now relies on the
evaluator alone). Recomputed from the instance and the plan at every hour where usage
can change, to SPEC §7's tolerance.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from models.network import GBPS_PER_RPS_KB
from models.schedule import expansion_adds
from solver.scheduled.costs import period_position
from solver.scheduled.variables import current_replicas, current_training

if TYPE_CHECKING:
    from models import Instance
    from solver.scheduled.plan import ScheduledPlan

#: SPEC §7's tolerance (relative, and absolute near zero).
TOLERANCE = 1e-6


def _over(lhs: float, limit: float) -> bool:
    """Whether `lhs <= limit` fails beyond the SPEC's tolerance."""
    return lhs - limit > max(TOLERANCE, TOLERANCE * max(abs(lhs), abs(limit)))


def _differ(a: float, b: float) -> bool:
    return abs(a - b) > max(TOLERANCE, TOLERANCE * max(abs(a), abs(b)))


def spec_problems(instance: Instance, plan: ScheduledPlan) -> list[str]:
    """Every SPEC §4, §9-§11 rule the plan breaks (empty for a SPEC plan)."""
    problems: list[str] = []
    schedule = instance.schedule
    spans = schedule.periods
    horizon = schedule.horizon_hours
    scheduled = instance.is_scheduled
    jobs = instance.training_by_id
    accelerators = instance.accelerator_by_id
    paths = instance.paths
    placed: dict[str, tuple[str, str, int, int]] = {}
    for t in plan.training:
        job = jobs.get(t.job)
        if job is None or t.job in placed:
            problems.append(f"training entry {t.job}: unknown or repeated")
            continue
        site = instance.site_by_id.get(t.site)
        counts = {o.accelerator: o.count for o in job.options}
        if site is None or counts.get(t.accelerator) != t.count:
            problems.append(f"{t.job}: not an option at {t.site}")
            continue
        if (t.site, t.accelerator) not in instance.inventory_by_pair:
            problems.append(f"{t.job}: {t.site} has no {t.accelerator}")
        if job.allowed_sites is not None and t.site not in job.allowed_sites:
            problems.append(f"{t.job}: {t.site} not allowed")
        if not set(job.requires_tags).issubset(site.tags):
            problems.append(f"{t.job}: {t.site} lacks a tag")
        if job.dataset is not None and paths.route(job.dataset.at, t.site) is None:
            problems.append(f"{t.job}: dataset cannot reach {t.site}")
        start = 0
        if scheduled:
            if t.start_hour is None:
                problems.append(f"{t.job}: no start hour")
            else:
                start = t.start_hour
                if start < job.release or start + job.run_hours > job.deadline(horizon) + 1e-9:
                    problems.append(f"{t.job}: starts at {start}, outside its window")
        elif t.start_hour is not None:
            problems.append(f"{t.job}: a start hour in a static instance")
        placed[t.job] = (t.site, t.accelerator, t.count, start)
    for job in instance.training:
        if job.required and job.id not in placed:
            problems.append(f"{job.id}: required and not placed")
        if job.id in placed:
            for other in job.predecessors:
                if other not in placed:
                    problems.append(f"{job.id}: runs without {other}")
                elif placed[job.id][3] < placed[other][3] + jobs[other].run_hours - 1e-9:
                    problems.append(f"{job.id}: starts before {other} ends")
    unplaced = {j.id for j in instance.training if not j.required and j.id not in placed}
    if set(plan.unplaced_training) != unplaced:
        problems.append("unplaced_training does not list the unplaced optional jobs")
    running = current_training(instance)
    for job_id, where in running.items():
        entry = placed.get(job_id)
        if scheduled and entry is not None and entry[:2] == where and entry[3] != 0:
            problems.append(f"{job_id}: continues where it runs but does not start at 0")
    moves = instance.moves
    if moves is not None and moves.max_training_moves is not None:
        moved = sum(1 for j, w in running.items() if placed.get(j, (None, None))[:2] != w)
        if moved > moves.max_training_moves:
            problems.append(f"{moved} training moves > {moves.max_training_moves}")

    replicas: dict[tuple[str, str, str, int], int] = {}
    capacity: dict[tuple[str, str, int], float] = defaultdict(float)
    for r in plan.inference:
        service = instance.inference_by_id.get(r.service)
        profile = None if service is None else {p.accelerator: p for p in service.profiles}
        if service is None or profile is None or r.accelerator not in profile:
            problems.append(f"replicas of {r.service} on {r.accelerator}: no such profile")
            continue
        if (scheduled and r.period is None) or (not scheduled and r.period is not None):
            problems.append(f"replicas of {r.service}: period {r.period!r}")
            continue
        position = period_position(instance, r.period)
        key = (r.service, r.site, r.accelerator, position)
        if key in replicas:
            problems.append(f"replicas of {key}: repeated")
        replicas[key] = r.replicas
        if r.replicas > 0:
            site = instance.site_by_id[r.site]
            if (r.site, r.accelerator) not in instance.inventory_by_pair:
                problems.append(f"{r.service}: {r.site} has no {r.accelerator}")
            if service.allowed_sites is not None and r.site not in service.allowed_sites:
                problems.append(f"{r.service}: {r.site} not allowed")
            if not set(service.requires_tags).issubset(site.tags):
                problems.append(f"{r.service}: {r.site} lacks a tag")
        capacity[r.service, r.site, position] += profile[r.accelerator].rps * r.replicas
    served: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    at_site: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    traffic: dict[tuple[int, int], list[float]] = defaultdict(list)
    for f in plan.routes:
        service = instance.inference_by_id[f.service]
        position = period_position(instance, f.period)
        route = paths.route(f.region, f.site)
        if route is None or not route.within(service.latency_slo_ms):
            problems.append(f"route {f.service} {f.region}->{f.site}: beyond the SLO")
            continue
        served[f.service, f.region, position].append(f.rps)
        at_site[f.service, f.site, position].append(f.rps)
        for link in route.links:
            traffic[link, position].append(f.rps * service.kb_per_request * GBPS_PER_RPS_KB)
    for w in plan.unserved:
        service = instance.inference_by_id[w.service]
        if service.unserved_cost_per_rps_hour is None and w.rps > 0:
            problems.append(f"{w.service} {w.region}: unserved without a price")
        served[w.service, w.region, period_position(instance, w.period)].append(w.rps)
    for service in instance.inference:
        for position in range(len(spans)):
            demand = schedule.demand[service.id][position]
            regions = set(demand) | {u for (s, u, p) in served if s == service.id and p == position}
            for region in sorted(regions):
                got = math.fsum(served.get((service.id, region, position), []))
                if _differ(got, demand.get(region, 0.0)):
                    problems.append(f"{service.id} {region} period {position}: demand not met")
            total = 0.0
            by_domain: dict[str, float] = defaultdict(float)
            for site in instance.sites:
                load = math.fsum(at_site.get((service.id, site.id, position), []))
                total += load
                held = capacity.get((service.id, site.id, position), 0.0)
                by_domain[site.domain] += held
                if _over(load, held):
                    problems.append(f"{service.id} at {site.id} period {position}: over capacity")
            if service.resilience == "n+1" and total > 0:
                every = math.fsum(by_domain.values())
                for domain, held in by_domain.items():
                    if held > 0 and _over(total, every - held):
                        problems.append(f"{service.id} period {position}: n+1 fails for {domain}")
    current = current_replicas(instance)
    if moves is not None and moves.max_replica_changes is not None:
        groups = {(k[0], k[1], k[2]) for k in replicas if k[3] == 0} | set(current)
        changes = sum(abs(replicas.get((*g, 0), 0) - current.get(g, 0)) for g in groups)
        if changes > moves.max_replica_changes:
            problems.append(f"{changes} replica changes > {moves.max_replica_changes}")

    chosen = {(x.site, x.expansion) for x in plan.expansions}
    known = {(s.id, x.id): x for s in instance.sites for x in s.expansions or []}
    if len(chosen) != len(plan.expansions) or not chosen <= set(known):
        problems.append("expansions: unknown or repeated")
    added: dict[str, int] = defaultdict(int)
    for chosen_key in chosen & set(known):
        for type_id, extra in expansion_adds(known[chosen_key])[2].items():
            added[type_id] += extra
    for supply in instance.supply_limits or []:
        if added[supply.accelerator] > supply.max_count:
            problems.append(f"supply of {supply.accelerator} exceeded")

    # Usage at every hour where it can change: period starts, job starts and ends.
    points = {round(span.start) for span in spans}
    for _, _, _, start in placed.values():
        points.add(start)
    for job_id, (_, _, _, start) in placed.items():
        end = start + math.ceil(jobs[job_id].run_hours - 1e-9) if scheduled else horizon
        if end < horizon:
            points.add(round(end))
    for hour in sorted(points):
        position = schedule.period_at(hour)
        used: dict[tuple[str, str], float] = defaultdict(float)
        reads: dict[int, float] = defaultdict(float)
        for job_id, (site_id, accelerator, count, start) in placed.items():
            if scheduled and not start <= hour < start + jobs[job_id].run_hours:
                continue
            used[site_id, accelerator] += count
            dataset = jobs[job_id].dataset
            if dataset is not None and dataset.read_gbps > 0 and dataset.at != site_id:
                route = paths.route(dataset.at, site_id)
                for link in route.links if route is not None else []:
                    reads[link] += dataset.read_gbps
        for (service_id, site_id, accelerator, p), count in replicas.items():
            if p == position:
                service = instance.inference_by_id[service_id]
                per = {q.accelerator: q.per_replica for q in service.profiles}[accelerator]
                used[site_id, accelerator] += per * count
        for site in instance.sites:
            grid = schedule.grid_kw[site.id][position]
            cooling = {
                kind: schedule.cooling_kw[site.id, kind][position] for kind in ("air", "liquid")
            }
            stock = {
                item.accelerator: float(schedule.count[site.id, item.accelerator][position])
                for item in site.inventory
            }
            for expansion in site.expansions or []:
                built = (site.id, expansion.id)
                if built in chosen and schedule.expansion_period[built] <= position:
                    add_grid, add_cooling, add_stock = expansion_adds(expansion)
                    grid += add_grid
                    for cooled, more_kw in add_cooling.items():
                        before = cooling[cooled]
                        cooling[cooled] = None if before is None else before + more_kw
                    for type_id, extra in add_stock.items():
                        stock[type_id] = stock.get(type_id, 0.0) + extra
            power = 0.0
            heat: dict[str, float] = defaultdict(float)
            for (site_id, type_id), amount in used.items():
                if site_id != site.id:
                    continue
                if _over(amount, stock.get(type_id, 0.0)):
                    problems.append(f"hour {hour}: {site.id} {type_id} over stock")
                kw = accelerators[type_id].power_kw * amount
                power += site.pue * kw
                heat[accelerators[type_id].cooling] += kw
            if _over(power, grid):
                problems.append(f"hour {hour}: {site.id} over grid power")
            for cooled_kind, kw in heat.items():
                most = cooling.get(cooled_kind)
                if most is not None and _over(kw, most):
                    problems.append(f"hour {hour}: {site.id} over {cooled_kind} cooling")
        for link_index, edge in enumerate(instance.links):
            if edge.bandwidth_gbps is None:
                continue
            load = math.fsum([*traffic.get((link_index, position), []), reads.get(link_index, 0.0)])
            if _over(load, edge.bandwidth_gbps):
                problems.append(f"hour {hour}: link {edge.a}-{edge.b} over bandwidth")
    return problems
