"""The limits a diagnosis can name, described in a planner's words.

A limit is one thing an instance promises or restricts: a site's grid power, one cooling
kind at a site, the stock of one accelerator type at a site, a link's bandwidth, the demand
of a service in one region (within its SLO), a required training job, or a service's n+1
rule. Each is guarded by one assumption literal in the diagnosis model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from models import Instance, Link

Family = Literal[
    "grid_power",
    "cooling",
    "inventory",
    "bandwidth",
    "demand",
    "job",
    "resilience",
    "window",
    "after",
]

#: Families whose limit is a number that can be raised (the others are promises to drop).
NUMERIC: tuple[Family, ...] = ("grid_power", "cooling", "inventory", "bandwidth")
#: Sites listed in a description before "and N more".
MAX_LISTED = 6


@dataclass(frozen=True, order=True)
class Limit:
    """One guarded limit: its family and the ids it concerns.

    Keys: grid_power (site,), cooling (site, kind), inventory (site, accelerator),
    bandwidth (link a, link b), demand (service, region), job (job,), resilience (service,).
    Scheduled instances (solver.diagnosis.timed): grid_power (site, period), demand
    (service, region, period), window (job,), after (job,).
    """

    family: Family
    key: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.family}({', '.join(self.key)})"


def number(value: float) -> str:
    """A figure for people: thousands separated, at most three decimals, no trailing zeros."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def limit_value(instance: Instance, limit: Limit) -> float | None:
    """The limit's figure in SPEC units (kW, accelerators, Gbps, rps); None for promises
    without a figure (jobs, n+1) and for limits the instance leaves unlimited."""
    family, key = limit.family, limit.key
    if family == "grid_power":
        return instance.site_by_id[key[0]].grid_kw
    if family == "cooling":
        return instance.site_by_id[key[0]].cooling_limit_kw(key[1])  # type: ignore[arg-type]
    if family == "inventory":
        return float(instance.inventory_by_pair[key[0], key[1]].count)
    if family == "bandwidth":
        link = link_between(instance, key[0], key[1])
        return None if link is None else link.bandwidth_gbps
    if family == "demand":
        return instance.inference_by_id[key[0]].demand_rps.get(key[1])
    return None


def link_between(instance: Instance, a: str, b: str) -> Link | None:
    """The link joining two nodes, either way round."""
    for link in instance.links:
        if {link.a, link.b} == {a, b}:
            return link
    return None


def sites_within_slo(instance: Instance, service_id: str, region: str) -> list[tuple[str, float]]:
    """Sites that may host the service (allowed, tagged, stocking one of its accelerators)
    and that the region reaches within its SLO, nearest first, with their latency."""
    service = instance.inference_by_id[service_id]
    accelerators = {p.accelerator for p in service.profiles}
    found: list[tuple[str, float]] = []
    for site_id, route in instance.paths.from_source(region).items():
        site = instance.site_by_id[site_id]
        if service.allowed_sites is not None and site_id not in service.allowed_sites:
            continue
        if not set(service.requires_tags).issubset(site.tags):
            continue
        if not any((site_id, a) in instance.inventory_by_pair for a in accelerators):
            continue
        if route.within(service.latency_slo_ms):
            found.append((site_id, route.latency_ms))
    return sorted(found, key=lambda item: (item[1], item[0]))


def listing(items: list[str]) -> str:
    """`a, b, c` with at most MAX_LISTED items, then `and N more`."""
    shown = ", ".join(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        shown += f" and {len(items) - MAX_LISTED} more"
    return shown


def short(limit: Limit) -> str:
    """A few words naming the limit, without its figure."""
    key = limit.key
    names = {
        "grid_power": lambda: f"{key[0]} grid power",
        "cooling": lambda: f"{key[0]} {key[1]} cooling",
        "inventory": lambda: f"{key[0]} {key[1]} stock",
        "bandwidth": lambda: f"link {key[0]}–{key[1]}",
        "demand": lambda: f"{key[0]} demand in {key[1]}",
        "job": lambda: f"job {key[0]}",
        "resilience": lambda: f"{key[0]} n+1",
        "window": lambda: f"job {key[0]} window",
        "after": lambda: f"job {key[0]} after chain",
    }
    return names[limit.family]()


def describe(instance: Instance, limit: Limit) -> str:
    """The limit in a planner's words, with its figure."""
    family, key = limit.family, limit.key
    if family == "grid_power":
        site = instance.site_by_id[key[0]]
        return f"{site.id} grid power {number(site.grid_kw)} kW (PUE {site.pue:g})"
    if family == "cooling":
        value = limit_value(instance, limit) or 0.0
        return f"{key[0]} {key[1]} cooling {number(value)} kW of IT heat"
    if family == "inventory":
        count = instance.inventory_by_pair[key[0], key[1]].count
        return f"{key[0]} has {number(count)} {key[1]}"
    if family == "bandwidth":
        value = limit_value(instance, limit) or 0.0
        return f"link {key[0]}–{key[1]} carries {number(value)} Gbps"
    if family == "demand":
        service = instance.inference_by_id[key[0]]
        rps = service.demand_rps.get(key[1], 0.0)
        slo = number(service.latency_slo_ms)
        sites = sites_within_slo(instance, key[0], key[1])
        near = (
            f"sites within {slo} ms: "
            + listing([f"{site} ({number(latency)} ms)" for site, latency in sites])
            if sites
            else f"no site that may host it is within {slo} ms"
        )
        return f"{service.id} in {key[1]} needs {number(rps)} rps within {slo} ms ({near})"
    if family == "job":
        job = instance.training_by_id[key[0]]
        options = " or ".join(f"{number(o.count)} {o.accelerator}" for o in job.options)
        return f"{job.id} must run ({options} for {number(job.run_hours)} h)"
    service = instance.inference_by_id[key[0]]
    return f"{service.id} must keep serving its demand after losing any one failure domain (n+1)"
