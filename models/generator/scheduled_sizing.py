"""Site timelines and link bandwidth sized around a scheduled witness (SPEC §9).

Peaks are taken hour by hour within each period (a job uses its accelerators only while it
runs), at the period's first hour and at every witness start inside it, which is where the
use can rise. Then, per site:

- stock steps up (whole servers, 15-80 % spare) in the period the witness first needs more;
  an accelerator type delivered late is 0 before its delivery, at most the period of its first
  witness use; types the witness never uses get idle stock;
- grid power is 0 at a new campus until it is powered (at most the period of its first witness
  use), then steps up with room when the witness needs more; at power-bound sites it is 1 %
  above the witness's draw whenever that grows;
- cooling is one limit per kind over all periods, at least the witness's peak heat.

Links get room for the busiest hour of the witness's routes and streamed dataset reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.catalog import accelerator
from models.generator.network import chance, uniform
from models.generator.sizing import (
    POWER_BOUND_HEADROOM,
    ceil_whole,
    cooling_limits,
    whole_servers,
)

if TYPE_CHECKING:
    import numpy as np

    from models.generator.demand_growth import ServicePlan
    from models.generator.network import NetworkDraft, SiteDraft
    from models.generator.scheduled_families import ScheduledFamily
    from models.generator.timing import TimedJob


@dataclass
class Arrivals:
    """Periods from which capacity exists: a new campus's power, late accelerator types."""

    #: site -> first period with power (new campuses only)
    powered: dict[str, int] = field(default_factory=dict)
    #: (site, accelerator) -> first period with stock (late deliveries only)
    delivered: dict[tuple[str, str], int] = field(default_factory=dict)

    def first_stock(self, site_id: str, acc: str) -> int:
        """The first period in which the type is stocked at the site."""
        return max(self.powered.get(site_id, 0), self.delivered.get((site_id, acc), 0))


@dataclass
class SitePeaks:
    """A site's busiest hour in each period: accelerators per type, IT kW, heat per kind."""

    count: list[dict[str, int]]
    it_kw: list[float]
    heat_kw: dict[str, float]


@dataclass(frozen=True, slots=True)
class Horizon:
    """Period starts and lengths in whole hours."""

    starts: tuple[int, ...]
    hours: tuple[int, ...]

    @property
    def end(self) -> int:
        """The plan's last hour (exclusive)."""
        return self.starts[-1] + self.hours[-1]

    def event_hours(self, period: int, jobs: list[TimedJob]) -> list[int]:
        """The period's first hour and every start of `jobs` inside it."""
        start, end = self.starts[period], self.starts[period] + self.hours[period]
        return sorted({start, *(j.start for j in jobs if start <= j.start < end)})


def site_peaks(
    site: SiteDraft, horizon: Horizon, jobs: list[TimedJob], services: list[ServicePlan]
) -> SitePeaks:
    """The witness's peak use of one site in each period (jobs: those placed at the site)."""
    counts: list[dict[str, int]] = []
    it_kw: list[float] = []
    heat: dict[str, float] = defaultdict(float)
    for period in range(len(horizon.starts)):
        serving: dict[str, int] = defaultdict(int)
        for plan in services:
            for (site_id, acc), count in plan.used(period).items():
                if site_id == site.id:
                    serving[acc] += count
        peak: dict[str, int] = defaultdict(int)
        peak_kw = 0.0
        for hour in horizon.event_hours(period, jobs):
            use = defaultdict(int, serving)
            for job in jobs:
                if job.runs_at(hour):
                    use[job.accelerator] += job.count
            kw_by_kind: dict[str, float] = defaultdict(float)
            for acc, count in use.items():
                peak[acc] = max(peak[acc], count)
                entry = accelerator(acc)
                kw_by_kind[entry.cooling] += entry.power_kw * count
            peak_kw = max(peak_kw, sum(kw_by_kind.values()))
            for kind, kw in kw_by_kind.items():
                heat[kind] = max(heat[kind], kw)
        counts.append(dict(peak))
        it_kw.append(peak_kw)
    return SitePeaks(counts, it_kw, heat)


def first_use(peaks: SitePeaks, acc: str | None = None) -> int | None:
    """The first period in which the witness uses the site (or one type there)."""
    for period, counts in enumerate(peaks.count):
        if any(n > 0 for a, n in counts.items() if acc is None or a == acc):
            return period
    return None


def settle_arrivals(wanted: Arrivals, peaks: dict[str, SitePeaks]) -> Arrivals:
    """The arrivals the witness allows: each at most the period of the first witness use."""
    settled = Arrivals()
    for site_id, period in wanted.powered.items():
        used = first_use(peaks[site_id])
        settled.powered[site_id] = period if used is None else min(period, used)
    for (site_id, acc), period in wanted.delivered.items():
        used = first_use(peaks[site_id], acc)
        settled.delivered[site_id, acc] = period if used is None else min(period, used)
    for site_id, period in list(settled.powered.items()):
        if period == 0:
            del settled.powered[site_id]
    for key, period in list(settled.delivered.items()):
        if period == 0:
            del settled.delivered[key]
    return settled


def size_scheduled_sites(
    rng: np.random.Generator,
    network: NetworkDraft,
    family: ScheduledFamily,
    period_ids: tuple[str, ...],
    peaks: dict[str, SitePeaks],
    arrivals: Arrivals,
) -> list[dict[str, Any]]:
    """Site entries (instance JSON, with timelines) whose every period fits the witness."""
    loaded = [s.id for s in network.sites if first_use(peaks[s.id]) is not None]
    power_bound = {s for s in loaded if chance(rng, family.power_bound_share)}
    return [
        _size_site(rng, network, site, period_ids, peaks[site.id], arrivals, site.id in power_bound)
        for site in network.sites
    ]


def _stock(
    rng: np.random.Generator,
    network: NetworkDraft,
    site: SiteDraft,
    peaks: SitePeaks,
    arrivals: Arrivals,
) -> dict[str, list[int]]:
    """Accelerators of each type stocked in each period."""
    knobs = network.knobs
    periods = len(peaks.count)
    stock: dict[str, list[int]] = {}
    for acc in site.accelerators:
        first = arrivals.first_stock(site.id, acc)
        current = 0
        counts: list[int] = []
        for period in range(periods):
            need = peaks.count[period].get(acc, 0)
            if period < first:
                counts.append(0)
                continue
            if need > current:
                current = need + whole_servers(need * uniform(rng, *knobs.spare_share))
            elif current == 0:
                current = 8 * int(rng.integers(*knobs.idle_servers))
            counts.append(current)
        stock[acc] = counts
    return stock


def _grid(
    rng: np.random.Generator,
    site: SiteDraft,
    peaks: SitePeaks,
    stock: dict[str, list[int]],
    powered: int,
    power_bound: bool,
) -> list[float]:
    """Grid kW in each period: 0 until the site is powered, then at least the witness draw."""
    grid: list[float] = []
    current = 0.0
    for period, it_kw in enumerate(peaks.it_kw):
        if period < powered:
            grid.append(0.0)
            continue
        need = site.pue * it_kw
        if power_bound and need > 0:
            current = max(current, ceil_whole(need * POWER_BOUND_HEADROOM))
        elif need > current or current == 0:
            stocked_kw = sum(accelerator(a).power_kw * n[period] for a, n in stock.items())
            facility_kw = max(it_kw * uniform(rng, 1.15, 1.6), stocked_kw * uniform(rng, 0.6, 1.05))
            current = max(current, 10 * ceil_whole(site.pue * facility_kw / 10))
        grid.append(current)
    return grid


def _timeline(
    period_ids: tuple[str, ...], grid: list[float], stock: dict[str, list[int]]
) -> list[dict[str, Any]]:
    """Timeline entries for the periods where grid or stock change."""
    entries: list[dict[str, Any]] = []
    for period in range(1, len(period_ids)):
        entry: dict[str, Any] = {"period": period_ids[period]}
        if grid[period] != grid[period - 1]:
            entry["grid_kw"] = grid[period]
        changed = [
            {"accelerator": acc, "count": counts[period]}
            for acc, counts in stock.items()
            if counts[period] != counts[period - 1]
        ]
        if changed:
            entry["inventory"] = changed
        if len(entry) > 1:
            entries.append(entry)
    return entries


def _size_site(
    rng: np.random.Generator,
    network: NetworkDraft,
    site: SiteDraft,
    period_ids: tuple[str, ...],
    peaks: SitePeaks,
    arrivals: Arrivals,
    power_bound: bool,
) -> dict[str, Any]:
    stock = _stock(rng, network, site, peaks, arrivals)
    grid = _grid(rng, site, peaks, stock, arrivals.powered.get(site.id, 0), power_bound)
    fields: dict[str, Any] = {
        "id": site.id,
        "grid_kw": grid[0],
        "pue": site.pue,
        "energy_price_per_kwh": site.energy_price_per_kwh,
        "carbon_g_per_kwh": site.carbon_g_per_kwh,
    }
    stocked_heat: dict[str, float] = defaultdict(float)
    for acc, counts in stock.items():
        entry = accelerator(acc)
        stocked_heat[entry.cooling] += entry.power_kw * max(counts)
    cooling = cooling_limits(rng, site, defaultdict(float, peaks.heat_kw), stocked_heat)
    if cooling is not None:
        fields["cooling_kw"] = cooling
    if site.domain != site.id:
        fields["failure_domain"] = site.domain
    if site.fixed_cost:
        fields["fixed_cost"] = site.fixed_cost
    fields["tags"] = list(site.tags)
    fields["inventory"] = [
        {
            "accelerator": acc,
            "count": counts[0],
            "hourly_cost": round(
                accelerator(acc).list_price_per_hour * site.price_factor * uniform(rng, 0.95, 1.05),
                4,
            ),
        }
        for acc, counts in stock.items()
    ]
    timeline = _timeline(period_ids, grid, stock)
    if timeline:
        fields["timeline"] = timeline
    meta: dict[str, Any] = {
        "metro": site.metro.id,
        "city": site.metro.city,
        "country": site.metro.country,
        "kind": site.kind,
    }
    powered = arrivals.powered.get(site.id)
    if powered is not None:
        meta["new_campus_powered_in"] = period_ids[powered]
    fields["meta"] = meta
    return fields


def scheduled_link_loads(
    network: NetworkDraft,
    horizon: Horizon,
    jobs: list[TimedJob],
    reads: dict[str, tuple[str, float]],
    services: list[ServicePlan],
) -> list[float]:
    """Gbps over each link in the witness's busiest hour: the period's routes plus the reads
    of the jobs streaming a remote dataset at that hour (`reads`: job -> (source, Gbps))."""
    peak = [0.0] * len(network.links)
    streaming = [job for job in jobs if job.id in reads]
    for period in range(len(horizon.starts)):
        traffic = [0.0] * len(network.links)
        for plan in services:
            for region, site, rps in plan.routes[period]:
                for index in network.paths_from(region)[site].links:
                    traffic[index] += rps * plan.kb_per_request * 8e-6
        for hour in horizon.event_hours(period, streaming):
            load = list(traffic)
            for job in streaming:
                if job.runs_at(hour):
                    source, gbps = reads[job.id]
                    for index in network.paths_from(source)[job.site].links:
                        load[index] += gbps
            peak = [max(a, b) for a, b in zip(peak, load, strict=True)]
    return peak
