"""Inventory, power, cooling and link bandwidth sized around the witness plan.

Every limit is at least what the witness uses, so the witness stays feasible; most limits
leave generous room, a few sites get a grid budget only 1 % above the witness's draw (so power
binds there once the solver moves work around) and a few links are sized within 5 % of the
witness's traffic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from models.catalog import accelerator
from models.generator.network import chance, uniform

if TYPE_CHECKING:
    import numpy as np

    from models.generator.knobs import Knobs
    from models.generator.network import NetworkDraft, SiteDraft
    from models.generator.workloads import Witness

#: One month, the planning period of every generated instance.
HORIZON_HOURS = 730.0
#: Grid budget of a power-bound site: 1 % above the witness draw (the share of such sites is
#: `Knobs.power_bound_share`, 0.12 for the base families).
POWER_BOUND_HEADROOM = 1.01
#: Limited, loaded links sized tightly are within 5 % of the witness traffic (the share of
#: them is `Knobs.tight_link_share`, 0.2 for the base families).
TIGHT_LINK_HEADROOM = 1.05
#: Standard circuit sizes (Gbps) for links sized with room to spare.
CIRCUIT_GBPS = (1, 10, 40, 100, 400, 800, 1600, 3200, 6400)


def ceil_whole(value: float) -> float:
    """`value` rounded up to a whole number, as a float."""
    return float(math.ceil(value))


def whole_servers(count: float) -> int:
    """`count` rounded up to whole 8-GPU servers."""
    return 8 * math.ceil(count / 8)


def size_sites(
    rng: np.random.Generator, network: NetworkDraft, witness: Witness
) -> list[dict[str, Any]]:
    """Site entries (instance JSON) whose inventory, grid and cooling fit the witness."""
    used = witness.used()
    it_kw = {
        site.id: sum(accelerator(a).power_kw * used.get((site.id, a), 0) for a in site.accelerators)
        for site in network.sites
    }
    loaded = [site.id for site in network.sites if it_kw[site.id] > 0]
    share = network.knobs.power_bound_share
    bound_count = min(len(loaded), max(1, round(share * len(network.sites))))
    power_bound = {loaded[int(i)] for i in rng.choice(len(loaded), size=bound_count, replace=False)}
    return [
        _size_site(rng, network.knobs, site, used, site.id in power_bound) for site in network.sites
    ]


def _size_site(
    rng: np.random.Generator,
    knobs: Knobs,
    site: SiteDraft,
    used: dict[tuple[str, str], int],
    power_bound: bool,
) -> dict[str, Any]:
    inventory: list[dict[str, Any]] = []
    used_kw: dict[str, float] = defaultdict(float)
    stocked_kw: dict[str, float] = defaultdict(float)
    for acc in site.accelerators:
        entry = accelerator(acc)
        in_use = used.get((site.id, acc), 0)
        spare = (
            whole_servers(in_use * uniform(rng, *knobs.spare_share))
            if in_use
            else 8 * int(rng.integers(*knobs.idle_servers))
        )
        count = in_use + spare
        inventory.append(
            {
                "accelerator": acc,
                "count": count,
                "hourly_cost": round(
                    entry.list_price_per_hour * site.price_factor * uniform(rng, 0.95, 1.05), 4
                ),
            }
        )
        used_kw[entry.cooling] += entry.power_kw * in_use
        stocked_kw[entry.cooling] += entry.power_kw * count
    witness_kw = sum(used_kw.values())
    stock_value = sum(item["count"] * item["hourly_cost"] for item in inventory) * HORIZON_HOURS
    if power_bound:
        headroom = (
            POWER_BOUND_HEADROOM
            if knobs.power_headroom is None
            else uniform(rng, *knobs.power_headroom)
        )
        grid_kw = ceil_whole(site.pue * witness_kw * headroom)
    elif witness_kw == 0 and knobs.idle_grid_share is not None:
        stocked = sum(stocked_kw.values()) * uniform(rng, *knobs.idle_grid_share)
        grid_kw = 10 * ceil_whole(site.pue * stocked / 10)
    else:
        facility_kw = max(
            witness_kw * uniform(rng, 1.15, 1.6), sum(stocked_kw.values()) * uniform(rng, 0.6, 1.05)
        )
        grid_kw = 10 * ceil_whole(site.pue * facility_kw / 10)
    fields: dict[str, Any] = {
        "id": site.id,
        "grid_kw": grid_kw,
        "pue": site.pue,
        "energy_price_per_kwh": site.energy_price_per_kwh,
        "carbon_g_per_kwh": site.carbon_g_per_kwh,
    }
    cooling = cooling_limits(rng, site, used_kw, stocked_kw) if knobs.cooling_limits else None
    if cooling is not None:
        fields["cooling_kw"] = cooling
    if site.domain != site.id:
        fields["failure_domain"] = site.domain
    fixed_cost = site.fixed_cost
    if knobs.fixed_cost_share is not None:
        fixed_cost = max(1_000.0, round(stock_value * uniform(rng, *knobs.fixed_cost_share), -3))
    if fixed_cost:
        fields["fixed_cost"] = fixed_cost
    fields["tags"] = list(site.tags)
    fields["inventory"] = inventory
    fields["meta"] = {
        "metro": site.metro.id,
        "city": site.metro.city,
        "country": site.metro.country,
        "lat": site.metro.lat,
        "lon": site.metro.lon,
        "kind": site.kind,
    }
    return fields


def cooling_limits(
    rng: np.random.Generator,
    site: SiteDraft,
    used_kw: dict[str, float],
    stocked_kw: dict[str, float],
) -> dict[str, float] | None:
    """Heat each cooling kind removes: at least the witness's, often less than the full stock;
    air-only sites have no liquid loop. None (unlimited) at some liquid-cooled sites."""
    if site.liquid and chance(rng, 0.25):
        return None

    def limit(kind: str) -> float:
        return ceil_whole(
            max(used_kw[kind] * uniform(rng, 1.1, 1.5), stocked_kw[kind] * uniform(rng, 0.5, 1.0))
        )

    cooling: dict[str, float] = {}
    if chance(rng, 0.7):
        cooling["air"] = limit("air")
    cooling["liquid"] = limit("liquid") if site.liquid else 0.0
    return cooling


def link_loads(network: NetworkDraft, witness: Witness) -> list[float]:
    """Gbps the witness sends over each link (SPEC §5.7)."""
    loads = [0.0] * len(network.links)
    for source, site_id, gbps in witness.flows:
        if source == site_id:
            continue
        for index in network.paths_from(source)[site_id].links:
            loads[index] += gbps
    return loads


def size_links(
    rng: np.random.Generator, network: NetworkDraft, witness: Witness
) -> list[dict[str, Any]]:
    """Link entries (instance JSON): some unlimited, the rest with room for the witness."""
    return links_with_room(rng, network, link_loads(network, witness))


def links_with_room(
    rng: np.random.Generator, network: NetworkDraft, loads: list[float]
) -> list[dict[str, Any]]:
    """Link entries (instance JSON) for the network's links, each limited one with room for
    `loads` (the Gbps a witness sends over each link at its busiest)."""
    knobs = network.knobs
    entries: list[dict[str, Any]] = []
    for link, load in zip(network.links, loads, strict=True):
        entry: dict[str, Any] = {"a": link.a, "b": link.b, "latency_ms": link.latency_ms}
        if chance(rng, knobs.limited_p[link.kind]):
            entry["bandwidth_gbps"] = link_bandwidth(rng, knobs, load)
        if link.egress_cost_per_gb:
            entry["egress_cost_per_gb"] = link.egress_cost_per_gb
        entries.append(entry)
    return entries


def link_bandwidth(rng: np.random.Generator, knobs: Knobs, load_gbps: float) -> float:
    """A tight limit (0.1 Gbps steps, 5 % headroom unless the knobs say otherwise) or the next
    standard circuit with room."""
    if load_gbps > 0 and chance(rng, knobs.tight_link_share):
        headroom = (
            TIGHT_LINK_HEADROOM
            if knobs.tight_link_headroom is None
            else uniform(rng, *knobs.tight_link_headroom)
        )
        return math.ceil(load_gbps * headroom * 10) / 10
    wanted = load_gbps * uniform(rng, 1.5, 4.0)
    if wanted == 0:
        return float(CIRCUIT_GBPS[int(rng.integers(1, 5))])
    for circuit in CIRCUIT_GBPS:
        if circuit >= wanted:
            return float(circuit)
    return 100 * ceil_whole(wanted / 100)
