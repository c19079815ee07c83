"""The list-scheduling first plan of a v2 instance: the hint of the first search and a
fallback plan once checked (docs/formulation.md, "Scheduled instances").

Services whose demand must be served first, then training, then the others. Inference
period by period: each region's demand goes to the cheapest option
(accelerator-hours and egress per rps) with room for the whole period, replicas added
as needed; n+1 services then get spare replicas outside each domain that lacks them;
demand whose serving costs more than its unserved price, or that fits nowhere, is left
unserved. Training: `after` order first, then by deadline: each job takes the placement
and earliest start that fit every hour it runs (stock, grid, cooling, link reads) at
the least cost with lateness; none fits: left out. No expansion is chosen. Usage is
kept per hour against the limits as written, so a complete plan is a SPEC plan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from models import ReplicaAssignment, RouteFlow, TrainingAssignment, UnservedDemand
from models.network import GBPS_PER_RPS_KB
from solver.costs import accelerator_hour_costs, training_costs
from solver.scheduled.costs import move_cost, traffic_egress_per_rps_hour
from solver.scheduled.plan import ScheduledPlan
from solver.scheduled.variables import current_training, job_window

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from models import Instance, ReplicaOption, TrainingPlacement
    from models.workloads import InferenceService

#: Relative room against float rounding when comparing usage with a limit.
ROOM = 1e-9


class Ledger:
    """What is left of every limit at every hour."""

    def __init__(self, instance: Instance) -> None:
        schedule = instance.schedule
        self.instance = instance
        hours = [round(span.hours) for span in schedule.periods]
        self.horizon = sum(hours)

        def per_hour(values: list[float | None]) -> NDArray[np.float64]:
            return np.repeat(
                np.array([math.inf if v is None else v for v in values], dtype=np.float64), hours
            )

        self.stock = {key: per_hour([float(c) for c in v]) for key, v in schedule.count.items()}
        self.grid = {key: per_hour(list(v)) for key, v in schedule.grid_kw.items()}
        self.cooling = {key: per_hour(list(v)) for key, v in schedule.cooling_kw.items()}
        self.links = {
            index: np.full(self.horizon, link.bandwidth_gbps, dtype=np.float64)
            for index, link in enumerate(instance.links)
            if link.bandwidth_gbps is not None
        }

    def _uses(
        self, site_id: str, accelerator_id: str, count: int
    ) -> list[tuple[NDArray[np.float64], float]]:
        site = self.instance.site_by_id[site_id]
        accelerator = self.instance.accelerator_by_id[accelerator_id]
        kw = accelerator.power_kw * count
        return [
            (self.stock[site_id, accelerator_id], float(count)),
            (self.grid[site_id], site.pue * kw),
            (self.cooling[site_id, accelerator.cooling], kw),
        ]

    def fits(
        self, site_id: str, accelerator_id: str, count: int, links: dict[int, float]
    ) -> NDArray[np.bool_]:
        """Hours at which `count` more accelerators (and `links` more Gbps) fit."""
        ok = np.ones(self.horizon, dtype=bool)
        uses = [*self._uses(site_id, accelerator_id, count)]
        uses += [(self.links[i], gbps) for i, gbps in links.items() if i in self.links]
        for left, amount in uses:
            ok &= left - amount >= -ROOM * np.maximum(1.0, np.abs(left))
        return ok

    def take(
        self,
        site_id: str,
        accelerator_id: str,
        count: int,
        links: dict[int, float],
        hours: slice,
    ) -> None:
        """Use `count` accelerators (and `links` Gbps) during `hours`."""
        uses = [*self._uses(site_id, accelerator_id, count)]
        uses += [(self.links[i], gbps) for i, gbps in links.items() if i in self.links]
        for left, amount in uses:
            left[hours] -= amount


def first_plan(instance: Instance) -> ScheduledPlan:
    """The list-scheduling plan (possibly incomplete: required work it could not fit is
    left out, and the check refuses it)."""
    ledger = Ledger(instance)
    # Demand that must be served first, then the jobs, then demand with a price.
    inference, routes, unserved = _plan_services(instance, ledger, must_serve=True)
    training, unplaced = _schedule_jobs(instance, ledger)
    priced = _plan_services(instance, ledger, must_serve=False)
    return ScheduledPlan.build(
        instance,
        training,
        unplaced,
        inference + priced[0],
        routes + priced[1],
        unserved + priced[2],
        [],
    )


def _period_hours(instance: Instance, position: int) -> slice:
    span = instance.schedule.periods[position]
    return slice(round(span.start), round(span.end))


def _plan_services(
    instance: Instance, ledger: Ledger, *, must_serve: bool
) -> tuple[list[ReplicaAssignment], list[RouteFlow], list[UnservedDemand]]:
    schedule = instance.schedule
    scheduled = instance.is_scheduled
    paths = instance.paths
    inference: list[ReplicaAssignment] = []
    routes: list[RouteFlow] = []
    unserved: list[UnservedDemand] = []
    for position, span in enumerate(schedule.periods):
        hours = _period_hours(instance, position)
        period = span.id if scheduled else None
        for service in instance.inference:
            if (service.unserved_cost_per_rps_hour is None) != must_serve:
                continue
            options = instance.eligibility.replicas[service.id]
            pairs = instance.eligibility.routes[service.id]
            count: dict[ReplicaOption, int] = defaultdict(int)
            spare: dict[str, float] = defaultdict(float)

            def per_rps(
                option: ReplicaOption, region: str, service: InferenceService = service
            ) -> float:
                rate = accelerator_hour_costs(instance, option.site, option.accelerator).total
                egress = 0.0
                if service.kb_per_request > 0:
                    egress = traffic_egress_per_rps_hour(
                        instance, service.kb_per_request, region, option.site
                    )
                return rate * option.per_replica / option.rps + egress

            def add(
                option: ReplicaOption,
                wanted: int,
                links: dict[int, float],
                hours: slice = hours,
                count: dict[ReplicaOption, int] = count,
                spare: dict[str, float] = spare,
            ) -> int:
                per_hour = ledger.fits(option.site, option.accelerator, option.per_replica, {})
                added = 0
                while added < wanted and per_hour[hours].all():
                    ledger.take(option.site, option.accelerator, option.per_replica, {}, hours)
                    added += 1
                    per_hour = ledger.fits(option.site, option.accelerator, option.per_replica, {})
                count[option] += added
                spare[option.site] += added * option.rps
                return added

            price = service.unserved_cost_per_rps_hour
            for region, demand in sorted(schedule.demand[service.id][position].items()):
                if demand <= 0:
                    continue
                left = demand
                reachable = {p.site for p in pairs if p.region == region}
                ranked = sorted(
                    (o for o in options if o.site in reachable),
                    key=lambda o: per_rps(o, region),
                )
                for option in ranked:
                    if left <= 0:
                        break
                    if price is not None and per_rps(option, region) > price:
                        break
                    route = paths.route(region, option.site)
                    assert route is not None
                    gbps = service.kb_per_request * GBPS_PER_RPS_KB
                    room = left
                    if gbps > 0:
                        for link in route.links:
                            if link in ledger.links:
                                room = min(room, max(0.0, ledger.links[link][hours].min()) / gbps)
                    if spare[option.site] < room:
                        add(option, math.ceil((room - spare[option.site]) / option.rps - 1e-9), {})
                    served = min(room, spare[option.site])
                    if served <= 0:
                        continue
                    spare[option.site] -= served
                    left -= served
                    if gbps > 0:
                        for link in route.links:
                            if link in ledger.links:
                                ledger.links[link][hours] -= served * gbps
                    routes.append(
                        RouteFlow(
                            service=service.id,
                            region=region,
                            site=option.site,
                            rps=round(served, 9),
                            period=period,
                        )
                    )
                if left > 1e-9 and price is not None:
                    unserved.append(
                        UnservedDemand(
                            service=service.id, region=region, rps=round(left, 9), period=period
                        )
                    )
            if service.resilience == "n+1":
                _spare_outside_domains(instance, options, count, add, per_rps)
            inference.extend(
                ReplicaAssignment(
                    service=o.service,
                    site=o.site,
                    accelerator=o.accelerator,
                    replicas=n,
                    period=period,
                )
                for o, n in count.items()
                if n > 0
            )
    return inference, routes, unserved


def _spare_outside_domains(
    instance: Instance,
    options: list[ReplicaOption],
    count: dict[ReplicaOption, int],
    add: object,
    per_rps: object,
) -> None:
    """n+1: while some domain holds capacity that the others cannot replace, add the
    cheapest replica outside it."""
    assert callable(add) and callable(per_rps)
    served = sum(o.rps * n for o, n in count.items())
    for _ in range(1000):
        held: dict[str, float] = defaultdict(float)
        for option, n in count.items():
            held[instance.site_by_id[option.site].domain] += option.rps * n
        total = sum(held.values())
        short = [d for d, amount in sorted(held.items()) if amount > 0 and total - amount < served]
        if not short:
            return
        domain = short[0]
        outside = sorted(
            (o for o in options if instance.site_by_id[o.site].domain != domain),
            key=lambda o: o.per_replica / o.rps,
        )
        if not any(add(o, 1, {}) for o in outside[:1]) and not any(
            add(o, 1, {}) for o in outside[1:]
        ):
            return


def _schedule_jobs(
    instance: Instance, ledger: Ledger
) -> tuple[list[TrainingAssignment], list[str]]:
    scheduled = instance.is_scheduled
    jobs = instance.training_by_id
    running = current_training(instance)
    order = _after_order(instance)
    ends: dict[str, int] = {}
    training: list[TrainingAssignment] = []
    unplaced: list[str] = []
    paths = instance.paths
    for job_id in order:
        job = jobs[job_id]
        window = job_window(instance, job_id) if scheduled else (0, 0)
        if window is None or any(k not in ends for k in job.predecessors):
            if not job.required:
                unplaced.append(job_id)
            continue
        run = math.ceil(job.run_hours - 1e-9) if scheduled else ledger.horizon
        earliest = max([window[0], *(ends[k] for k in job.predecessors)])
        best: tuple[float, int, TrainingPlacement, dict[int, float]] | None = None
        for placement in instance.eligibility.training[job_id]:
            reads: dict[int, float] = {}
            dataset = job.dataset
            if dataset is not None and dataset.read_gbps > 0 and dataset.at != placement.site:
                route = paths.route(dataset.at, placement.site)
                assert route is not None
                reads = dict.fromkeys(route.links, dataset.read_gbps)
            ok = ledger.fits(placement.site, placement.accelerator, placement.count, reads)
            stays = running.get(job_id) == (placement.site, placement.accelerator)
            latest = 0 if stays else window[1]
            low = 0 if stays else earliest
            if not scheduled:
                low, latest = 0, 0
            start = _first_run(ok, low, latest, run)
            if start is None:
                continue
            cost = training_costs(instance, placement).total
            cost += move_cost(instance, job_id, placement.site, placement.accelerator)
            if job.due_hour is not None:
                cost += job.late_cost * max(0, start + run - job.due_hour)
            if best is None or cost < best[0]:
                best = (cost, start, placement, reads)
        if best is None or (
            not job.required
            and best[0] > job.unplaced_cost + move_cost(instance, job_id, None, None)
        ):
            if not job.required:
                unplaced.append(job_id)
            continue
        _, start, placement, reads = best
        hours = slice(start, start + run)
        ledger.take(placement.site, placement.accelerator, placement.count, reads, hours)
        ends[job_id] = start + run
        training.append(
            TrainingAssignment(
                job=job_id,
                site=placement.site,
                accelerator=placement.accelerator,
                count=placement.count,
                start_hour=start if scheduled else None,
            )
        )
    return training, unplaced


def _first_run(ok: NDArray[np.bool_], low: int, high: int, run: int) -> int | None:
    """The first start in [low, high] with `ok` at every hour of [start, start + run)."""
    if high < low:
        return None
    bad = np.concatenate(([0], np.cumsum(~ok)))
    starts = np.arange(low, high + 1)
    clear = bad[starts + run] - bad[starts] == 0
    found = np.flatnonzero(clear)
    return int(starts[found[0]]) if found.size else None


def _after_order(instance: Instance) -> list[str]:
    """Jobs with every `after` job before them, otherwise by deadline, then input order."""
    horizon = instance.schedule.horizon_hours
    position = {job.id: i for i, job in enumerate(instance.training)}
    ranked = sorted(instance.training, key=lambda j: (j.deadline(horizon), position[j.id]))
    done: set[str] = set()
    order: list[str] = []
    pending = [j.id for j in ranked]
    while pending:
        for job_id in pending:
            if all(k in done for k in instance.training_by_id[job_id].predecessors):
                order.append(job_id)
                done.add(job_id)
                pending.remove(job_id)
                break
        else:  # a cycle cannot pass validation
            order.extend(pending)
            break
    return order
