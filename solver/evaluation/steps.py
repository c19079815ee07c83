"""What a v2 plan uses over time: each site and each link as a step series.

Use changes only at events: period starts (replicas, routes and limits change) and the
starts and ends of jobs (SPEC §9). Between two events everything is constant, so each
step [start, end) is measured once and checked against its period's limits, instead of
every hour. In a static instance there is one period and every placed job counts for
all of it (SPEC §8). Steps are in time order; a job's hours outside [0, H) are not
measured (running past H is a deadline violation of its own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.evaluation.usage import LinkUsage, remote_reads, site_usage, traffic_gbps_by_link

if TYPE_CHECKING:
    from models import Instance
    from solver.evaluation.capacity import SiteCapacity
    from solver.evaluation.eligibility import IndexedPlan, JobPlacement
    from solver.evaluation.lookup import InstanceLookup
    from solver.evaluation.periods import Horizon
    from solver.evaluation.usage import SiteUsage


@dataclass(frozen=True, slots=True)
class SiteStep:
    """A site over the hours [start, end) of one period: its use against its limits then."""

    period: str
    start: float
    end: float
    usage: SiteUsage


@dataclass(frozen=True, slots=True)
class LinkStep:
    """A link over the hours [start, end) of one period: traffic and dataset reads."""

    period: str
    start: float
    end: float
    usage: LinkUsage


def run_hours_of(placement: JobPlacement, horizon: Horizon) -> tuple[float, float]:
    """The hours [S, S + run) a placed job runs: [0, H) in a static instance; from its
    release hour when a scheduled plan gives no start (flagged as ineligible)."""
    if not horizon.scheduled:
        return 0.0, horizon.hours
    start = placement.start_hour if placement.start_hour is not None else placement.job.release
    return float(start), start + placement.job.run_hours


def _clipped(interval: tuple[float, float], horizon: Horizon) -> tuple[float, float] | None:
    start, end = max(interval[0], 0.0), min(interval[1], horizon.hours)
    return (start, end) if start < end else None


def _bounds(horizon: Horizon, events: set[float]) -> list[tuple[float, float]]:
    """The steps between period starts and the given event hours, in time order."""
    hours = sorted({*horizon.starts, *(h for h in events if 0 < h < horizon.hours)})
    return list(zip(hours, [*hours[1:], horizon.hours], strict=True))


def site_steps(
    instance: Instance,
    lookup: InstanceLookup,
    plan: IndexedPlan,
    capacities: dict[str, list[SiteCapacity]],
    active: set[str],
) -> dict[str, list[SiteStep]]:
    """Every site's step series: accelerators of the jobs running and of the period's
    replicas, against the period's limits (timeline and chosen expansions)."""
    horizon = lookup.horizon
    runs: dict[str, list[tuple[float, float, str, int]]] = defaultdict(list)
    for placement in plan.placements:
        hours = _clipped(run_hours_of(placement, horizon), horizon)
        if hours is not None:
            runs[placement.site.id].append((*hours, placement.accelerator.id, placement.count))
    replicas: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for group in plan.replica_groups:
        replicas[(group.site.id, group.period)][group.accelerator.id] += group.accelerators
    series: dict[str, list[SiteStep]] = {}
    for site in instance.sites:
        site_runs = runs.get(site.id, [])
        # Accelerators of jobs change only where a job starts or ends (counts are exact).
        changes: dict[float, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for run_start, run_end, accelerator, count in site_runs:
            changes[run_start][accelerator] += count
            changes[run_end][accelerator] -= count
        running: dict[str, int] = defaultdict(int)
        steps: list[SiteStep] = []
        for start, end in _bounds(horizon, set(changes)):
            for accelerator, change in changes.get(start, {}).items():
                running[accelerator] += change
            period = horizon.at(start)
            used = defaultdict(int, running)
            for accelerator, count in replicas.get((site.id, period.id), {}).items():
                used[accelerator] += count
            capacity = capacities[site.id][period.position]
            steps.append(
                SiteStep(
                    period.id,
                    start,
                    end,
                    site_usage(
                        lookup,
                        site.id,
                        active=site.id in active,
                        used_here={a: n for a, n in used.items() if n != 0},
                        grid_kw=capacity.grid_kw,
                        cooling_kw=capacity.cooling_kw,
                        counts=capacity.count,
                        pue=site.pue,
                    ),
                )
            )
        series[site.id] = steps
    return series


def link_steps(
    instance: Instance, lookup: InstanceLookup, plan: IndexedPlan
) -> dict[int, list[LinkStep]]:
    """The step series of every link that is limited or carries anything: the period's
    route traffic plus the reads of the jobs running with a remote dataset over it."""
    horizon = lookup.horizon
    link_count = len(instance.links)
    traffic = {
        period.id: traffic_gbps_by_link(
            link_count, (flow for flow in plan.flows if flow.period == period.id)
        )
        for period in horizon.periods
    }
    reads: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
    for placement in plan.placements:
        read_gbps, links = remote_reads(placement)
        hours = _clipped(run_hours_of(placement, horizon), horizon)
        if hours is None or not links:
            continue
        for link_index in links:
            reads[link_index].append((*hours, read_gbps))
    series: dict[int, list[LinkStep]] = {}
    for index, link in enumerate(instance.links):
        # Reads change only where a job starts or ends; with no job reading the sum is
        # set to an exact 0 (no rounding residue left over from the additions).
        changes: dict[float, list[tuple[int, float]]] = defaultdict(list)
        for read_start, read_end, gbps in reads.get(index, []):
            changes[read_start].append((1, gbps))
            changes[read_end].append((-1, -gbps))
        dataset = 0.0
        reading = 0
        steps: list[LinkStep] = []
        for start, end in _bounds(horizon, set(changes)):
            for jobs, gbps in changes.get(start, []):
                reading += jobs
                dataset += gbps
            if reading == 0:
                dataset = 0.0
            period = horizon.at(start)
            usage = LinkUsage(
                index, link.a, link.b, traffic[period.id][index], dataset, link.bandwidth_gbps
            )
            steps.append(LinkStep(period.id, start, end, usage))
        if link.bandwidth_gbps is not None or any(step.usage.used_gbps > 0 for step in steps):
            series[index] = steps
    return series
