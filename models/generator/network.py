"""The generated network: metros, sites, user regions, exchanges, links and SPEC §3 routes."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from models.catalog import (
    ACCELERATORS,
    Metro,
    great_circle_km,
    metro_rtt_ms,
    metros,
)
from models.generator.knobs import Knobs
from models.instance import Instance
from models.paths import link_graph, shortest_paths_from, to_ns

if TYPE_CHECKING:
    from models.generator.families import Family

LinkKind = Literal["uplink", "campus", "access", "backbone", "relay"]
SiteKind = Literal["hyperscale", "colo", "enterprise"]

#: PUE ranges per site kind (datacenter_facts.md: hyperscale 1.08-1.15, modern colocation
#: ~1.3-1.4, industry average ~1.55-1.6) and the relative size of each kind.
PUE_RANGE: dict[SiteKind, tuple[float, float]] = {
    "hyperscale": (1.08, 1.15),
    "colo": (1.3, 1.4),
    "enterprise": (1.5, 1.6),
}
SIZE_WEIGHT: dict[SiteKind, float] = {"hyperscale": 4.0, "colo": 2.0, "enterprise": 1.0}
SITE_KINDS: tuple[SiteKind, ...] = ("hyperscale", "colo", "enterprise")
SITE_KIND_P = (0.35, 0.45, 0.2)
#: Metros of a small family cluster: a candidate's weight falls by e per this many km
#: from the nearest metro already chosen.
METRO_CLUSTER_KM = 1500.0
TRAINING_ACCELERATORS = frozenset(a.id for a in ACCELERATORS if a.trains)
#: Relay transit nodes (the `sparse` family's backbone) are named with this prefix.
RELAY_PREFIX = "relay-"


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A float drawn uniformly from [low, high)."""
    return float(rng.uniform(low, high))


def chance(rng: np.random.Generator, probability: float) -> bool:
    """True with the given probability."""
    return bool(rng.random() < probability)


def pick(rng: np.random.Generator, items: list[str] | tuple[str, ...]) -> str:
    """One item drawn uniformly."""
    return items[int(rng.integers(len(items)))]


@dataclass
class SiteDraft:
    """A site before sizing: where it is, what it stocks, its cost figures and tags."""

    id: str
    metro: Metro
    campus: str | None
    kind: SiteKind
    liquid: bool
    accelerators: tuple[str, ...]
    pue: float
    energy_price_per_kwh: float
    carbon_g_per_kwh: float
    price_factor: float
    fixed_cost: float
    tags: tuple[str, ...]
    #: A failure-domain zone of whole metros (families with `Knobs.zones`), else None.
    zone: str | None = None

    @property
    def weight(self) -> float:
        """Relative size, used to spread training jobs."""
        return SIZE_WEIGHT[self.kind]

    @property
    def domain(self) -> str:
        """Failure domain: the zone if any, else the campus when shared, else the site."""
        if self.zone is not None:
            return self.zone
        return self.campus if self.campus is not None else self.id

    @property
    def training_accelerators(self) -> tuple[str, ...]:
        """Stocked accelerators that training jobs use."""
        return tuple(a for a in self.accelerators if a in TRAINING_ACCELERATORS)


@dataclass(frozen=True, slots=True)
class RegionDraft:
    """A user region attached to a metro's exchange."""

    id: str
    metro: Metro


@dataclass
class LinkDraft:
    """A link before bandwidth sizing."""

    a: str
    b: str
    latency_ms: float
    kind: LinkKind
    egress_cost_per_gb: float = 0.0


@dataclass(frozen=True, slots=True)
class Path:
    """A SPEC §3 route from a source node to a site."""

    links: tuple[int, ...]
    latency_ns: int

    @property
    def latency_ms(self) -> float:
        """Latency in ms."""
        return self.latency_ns / 1e6


@dataclass
class NetworkDraft:
    """The whole generated network, with routes from chosen sources to every site."""

    metros: list[Metro]
    sites: list[SiteDraft]
    regions: list[RegionDraft]
    links: list[LinkDraft]
    knobs: Knobs = field(default_factory=Knobs)
    #: Sites the witness may use (None: all). A workload that finds no open site it can use
    #: opens the one it picks.
    open_sites: set[str] | None = None
    site_index: dict[str, int] = field(default_factory=dict)
    _paths: dict[str, dict[str, Path]] = field(default_factory=dict)
    _by_latency: dict[str, list[str]] = field(default_factory=dict)
    _closeness: dict[tuple[str, str, float], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.site_index = {site.id: index for index, site in enumerate(self.sites)}
        self._graph = link_graph(_network_instance(self))

    @property
    def exchanges(self) -> list[str]:
        """Exchange ids, one transit node per metro."""
        return [exchange_id(metro) for metro in self.metros]

    @property
    def relays(self) -> list[str]:
        """Relay transit nodes on backbone links (only with `Knobs.relay_backbone`)."""
        ends = (end for link in self.links if link.kind == "relay" for end in (link.a, link.b))
        return list(dict.fromkeys(e for e in ends if e.startswith(RELAY_PREFIX)))

    def is_open(self, site_id: str) -> bool:
        """Whether the witness may use the site (always, unless `Knobs.open_share`)."""
        return self.open_sites is None or site_id in self.open_sites

    def site(self, site_id: str) -> SiteDraft:
        """The site with this id."""
        return self.sites[self.site_index[site_id]]

    def paths_from(self, source: str) -> dict[str, Path]:
        """SPEC §3 routes from `source` to every site (computed once per source)."""
        cached = self._paths.get(source)
        if cached is not None:
            return cached
        node_paths = shortest_paths_from(self._graph, source)
        edges = self._graph.edges
        by_site: dict[str, Path] = {}
        for site in self.sites:
            nodes = node_paths[site.id]
            link_ids = tuple(edges[a, b]["index"] for a, b in itertools.pairwise(nodes))
            latency = sum(to_ns(self.links[i].latency_ms) for i in link_ids)
            by_site[site.id] = Path(link_ids, latency)
        self._paths[source] = by_site
        return by_site

    def closeness(self, a: Metro, b: Metro, scale_km: float) -> float:
        """exp(-distance / scale_km) between two metros (cached: the generator asks often)."""
        key = (a.id, b.id, scale_km)
        value = self._closeness.get(key)
        if value is None:
            value = math.exp(-great_circle_km(a, b) / scale_km)
            self._closeness[key] = value
        return value

    def sites_by_latency(self, source: str) -> list[str]:
        """Site ids from nearest to farthest from `source` (ties in site order)."""
        cached = self._by_latency.get(source)
        if cached is None:
            paths = self.paths_from(source)
            cached = sorted(paths, key=lambda s: (paths[s].latency_ns, self.site_index[s]))
            self._by_latency[source] = cached
        return cached


def exchange_id(metro: Metro) -> str:
    """The id of a metro's exchange (transit node)."""
    return f"ix-{metro.id}"


def _network_instance(network: NetworkDraft) -> Instance:
    """The network alone as an Instance, so routes come from the project's own path code."""
    return Instance.model_validate(
        {
            "schema": "infraplan/v1",
            "name": "network",
            "horizon_hours": 1.0,
            "accelerators": [],
            "sites": [
                {"id": s.id, "grid_kw": 0.0, "pue": 1.0, "energy_price_per_kwh": 0.0}
                for s in network.sites
            ],
            "regions": [{"id": r.id} for r in network.regions],
            "transit": [{"id": t} for t in (*network.exchanges, *network.relays)],
            "links": [{"a": k.a, "b": k.b, "latency_ms": k.latency_ms} for k in network.links],
        }
    )


def build_network(rng: np.random.Generator, sizes: Family) -> NetworkDraft:
    """Metros, sites, regions and links of one family, drawn from `rng`."""
    knobs = sizes.knobs
    chosen = select_metros(rng, sizes.metros)
    sites = draw_sites(rng, chosen, sizes.sites)
    if knobs.zones is not None:
        _assign_zones(chosen, sites, knobs.zones)
    regions = draw_regions(rng, chosen, sizes.regions)
    links = draw_links(rng, chosen, sites, regions, knobs)
    open_sites = None if knobs.open_share is None else _open_sites(rng, sites, knobs.open_share)
    return NetworkDraft(chosen, sites, regions, links, knobs, open_sites)


def _assign_zones(chosen: list[Metro], sites: list[SiteDraft], zones: int) -> None:
    """Split the metros (in catalog order) into `zones` consecutive groups; each group is one
    failure domain for all of its sites."""
    count = min(zones, len(chosen))
    zone_of = {
        metro.id: f"zone-{1 + index * count // len(chosen)}" for index, metro in enumerate(chosen)
    }
    for site in sites:
        site.zone = zone_of[site.metro.id]


def _open_sites(rng: np.random.Generator, sites: list[SiteDraft], share: float) -> set[str]:
    """`share` of the sites (at least one), bigger sites more likely."""
    count = max(1, round(share * len(sites)))
    weights = np.array([site.weight for site in sites])
    drawn = rng.choice(len(sites), size=count, replace=False, p=weights / weights.sum())
    return {sites[int(i)].id for i in drawn}


def select_metros(rng: np.random.Generator, count: int) -> list[Metro]:
    """`count` metros; small sets cluster geographically. Returned in catalog order."""
    pool = list(metros())
    if count >= len(pool):
        return pool
    chosen = [int(rng.integers(len(pool)))]
    while len(chosen) < count:
        remaining = [i for i in range(len(pool)) if i not in chosen]
        nearest_km = np.array(
            [min(great_circle_km(pool[i], pool[c]) for c in chosen) for i in remaining]
        )
        weights = np.exp(-nearest_km / METRO_CLUSTER_KM)
        chosen.append(remaining[int(rng.choice(len(remaining), p=weights / weights.sum()))])
    return [pool[i] for i in sorted(chosen)]


def _spread(rng: np.random.Generator, total: int, buckets: int) -> list[int]:
    """`total` items over `buckets`, at least one each, uneven sizes."""
    counts = [1] * buckets
    weights = rng.gamma(2.0, size=buckets)
    for bucket in rng.choice(buckets, size=total - buckets, p=weights / weights.sum()):
        counts[int(bucket)] += 1
    return counts


def draw_sites(rng: np.random.Generator, chosen: list[Metro], count: int) -> list[SiteDraft]:
    """Sites spread over the metros, grouped into campuses that share a failure domain."""
    sites: list[SiteDraft] = []
    for metro, in_metro in zip(chosen, _spread(rng, count, len(chosen)), strict=True):
        campus_number = 0
        left = in_metro
        while left > 0:
            campus_size = min(left, int(rng.choice((1, 2, 3), p=(0.4, 0.35, 0.25))))
            campus_number += 1
            campus = f"{metro.id}-campus-{campus_number}" if campus_size > 1 else None
            for _ in range(campus_size):
                sites.append(_draw_site(rng, metro, f"{metro.id}-{len(sites) + 1}", campus))
            left -= campus_size
    _ensure_mixed_cooling(rng, sites)
    return sites


def _draw_site(
    rng: np.random.Generator, metro: Metro, site_id: str, campus: str | None
) -> SiteDraft:
    kind = SITE_KINDS[int(rng.choice(len(SITE_KINDS), p=SITE_KIND_P))]
    liquid = chance(rng, 0.4)
    renewable = chance(rng, 0.15)
    # On-site renewables or a PPA cut the grid mix to a share of the metro figure.
    carbon = metro.carbon_g_per_kwh * (uniform(rng, 0.2, 0.5) if renewable else 1.0)
    tags = [metro.continent, f"country-{metro.iso}"]
    if liquid:
        tags.append("liquid-cooled")
    if renewable:
        tags.append("renewable")
    if chance(rng, 0.15):
        tags.append("sovereign")
    fixed_cost = round(uniform(rng, 20_000, 400_000), -3) if chance(rng, 0.3) else 0.0
    low, high = PUE_RANGE[kind]
    return SiteDraft(
        id=site_id,
        metro=metro,
        campus=campus,
        kind=kind,
        liquid=liquid,
        accelerators=_stock(rng, liquid),
        pue=round(uniform(rng, low, high), 2),
        energy_price_per_kwh=round(metro.energy_price_per_kwh * uniform(rng, 0.9, 1.1), 4),
        carbon_g_per_kwh=round(carbon, 1),
        # Owned or reserved capacity costs a share of the on-demand list price.
        price_factor=uniform(rng, 0.45, 0.8),
        fixed_cost=fixed_cost,
        tags=tuple(tags),
    )


def _stock(rng: np.random.Generator, liquid: bool) -> tuple[str, ...]:
    """Accelerator types a site stocks: liquid-cooled parts only where liquid cooling exists,
    and at least one training-capable type everywhere."""
    stocked: list[str] = []
    if liquid:
        stocked = [a for a in ("b200", "gb200") if chance(rng, 0.7)] or [
            pick(rng, ("b200", "gb200"))
        ]
        stocked += [
            a
            for a, p in (("h200", 0.5), ("h100", 0.4), ("l40s", 0.3), ("l4", 0.3))
            if chance(rng, p)
        ]
    else:
        stocked = [
            a for a, p in (("h100", 0.6), ("h200", 0.4), ("a100-80gb", 0.4)) if chance(rng, p)
        ]
        if not stocked:
            stocked = [pick(rng, ("h100", "h200", "a100-80gb"))]
        stocked += [a for a, p in (("l40s", 0.5), ("l4", 0.5)) if chance(rng, p)]
    order = [a.id for a in ACCELERATORS]
    return tuple(sorted(stocked, key=order.index))


def _ensure_mixed_cooling(rng: np.random.Generator, sites: list[SiteDraft]) -> None:
    """Every family has liquid-cooled sites and air-only sites."""
    for want_liquid in (True, False):
        if not any(site.liquid == want_liquid for site in sites):
            site = sites[int(rng.integers(len(sites)))]
            site.liquid = want_liquid
            site.accelerators = _stock(rng, want_liquid)
            tags = [t for t in site.tags if t != "liquid-cooled"]
            if want_liquid:
                tags.insert(2, "liquid-cooled")
            site.tags = tuple(tags)


def draw_regions(rng: np.random.Generator, chosen: list[Metro], count: int) -> list[RegionDraft]:
    """One region per metro first, the rest in metros drawn at random."""
    per_metro = [1] * len(chosen) if count >= len(chosen) else [0] * len(chosen)
    if count < len(chosen):
        for index in rng.choice(len(chosen), size=count, replace=False):
            per_metro[int(index)] = 1
    for index in rng.choice(len(chosen), size=count - sum(per_metro)):
        per_metro[int(index)] += 1
    regions: list[RegionDraft] = []
    for metro, n in zip(chosen, per_metro, strict=True):
        for k in range(n):
            suffix = "" if k == 0 else f"-{k + 1}"
            regions.append(RegionDraft(f"users-{metro.id}{suffix}", metro))
    return regions


def draw_links(
    rng: np.random.Generator,
    chosen: list[Metro],
    sites: list[SiteDraft],
    regions: list[RegionDraft],
    knobs: Knobs,
) -> list[LinkDraft]:
    """Uplinks, campus links, access links (some dual-homed) and the inter-metro backbone."""
    links: list[LinkDraft] = []
    for site in sites:
        # Internet egress from a site is priced like cloud egress at some sites.
        egress = round(uniform(rng, 0.01, 0.09), 3) if chance(rng, 0.5) else 0.0
        links.append(
            LinkDraft(
                site.id, exchange_id(site.metro), round(uniform(rng, 0.5, 3.0), 2), "uplink", egress
            )
        )
    campuses: dict[str, list[SiteDraft]] = {}
    for site in sites:
        if site.campus is not None:
            campuses.setdefault(site.campus, []).append(site)
    for members in campuses.values():
        if chance(rng, knobs.campus_link_p):
            for left, right in itertools.pairwise(members):
                links.append(
                    LinkDraft(left.id, right.id, round(uniform(rng, 0.2, 0.5), 2), "campus")
                )
    for number, region in enumerate(regions):
        first_in_metro = number == 0 or regions[number - 1].metro.id != region.metro.id
        access_ms = uniform(rng, 2.0, 6.0) if first_in_metro else uniform(rng, 4.0, 15.0)
        links.append(LinkDraft(region.id, exchange_id(region.metro), round(access_ms, 1), "access"))
        others = [m for m in chosen if m.id != region.metro.id]
        if others and chance(rng, knobs.dual_home_p):
            # Dual-homed: a direct circuit to the nearest other metro.
            nearest = min(others, key=lambda m: great_circle_km(region.metro, m))
            direct_ms = access_ms + metro_rtt_ms(region.metro, nearest)
            links.append(LinkDraft(region.id, exchange_id(nearest), round(direct_ms, 1), "access"))
    links.extend(_backbone(rng, chosen, knobs))
    return links


def _backbone(rng: np.random.Generator, chosen: list[Metro], knobs: Knobs) -> list[LinkDraft]:
    """Exchange-to-exchange links: a minimum spanning tree by distance plus each metro's
    nearest neighbours; latency is the measured round trip where the data has it. With
    `relay_backbone`, each link passes through a relay transit node (half the latency on
    each side)."""
    n = len(chosen)
    distance = [[great_circle_km(a, b) for b in chosen] for a in chosen]
    pairs: set[tuple[int, int]] = set()
    in_tree = [0]
    while len(in_tree) < n:
        best = min(
            ((distance[i][j], i, j) for i in in_tree for j in range(n) if j not in in_tree),
        )
        pairs.add((min(best[1], best[2]), max(best[1], best[2])))
        in_tree.append(best[2])
    for i in range(n):
        nearest = sorted((distance[i][j], j) for j in range(n) if j != i)[: knobs.backbone_nearest]
        pairs.update((min(i, j), max(i, j)) for _, j in nearest)
    links: list[LinkDraft] = []
    for i, j in sorted(pairs):
        a, b = chosen[i], chosen[j]
        same_continent = a.continent == b.continent
        egress = uniform(rng, 0.01, 0.02) if same_continent else uniform(rng, 0.02, 0.05)
        latency_ms = round(metro_rtt_ms(a, b), 1)
        if knobs.relay_backbone:
            relay = f"{RELAY_PREFIX}{a.id}-{b.id}"
            near_ms = max(0.1, round(latency_ms / 2, 1))
            far_ms = max(0.1, round(latency_ms - near_ms, 1))
            links.append(LinkDraft(exchange_id(a), relay, near_ms, "relay", round(egress, 3)))
            links.append(LinkDraft(relay, exchange_id(b), far_ms, "relay"))
            continue
        links.append(
            LinkDraft(exchange_id(a), exchange_id(b), latency_ms, "backbone", round(egress, 3))
        )
    return links
