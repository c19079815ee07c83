"""The network of a real instance: measured inter-region links, metro access, peering.

Measured round trips are directed; a link is undirected, so its latency is the
mean of the two directions rounded to 0.1 ms. Every measured pair of a cloud's
chosen regions becomes a link unless another route of measured links is strictly
faster: such a link is never on a minimum-latency path (SPEC section 3), so
dropping it changes no latency, no path and no egress. Latency between two sites
is then min(measured RTT, best relayed route): it equals the measured RTT wherever
the matrix obeys the triangle inequality.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.real import assumptions as A
from models.real.geography import METROS, REGION_PLACES, Metro, great_circle_km

if TYPE_CHECKING:
    from models.real.sources import ReferenceData

#: Latencies are kept to 0.1 ms; integers of this unit keep comparisons exact.
TENTHS = 10


def site_id(cloud: str, region: str) -> str:
    """The node id of a cloud region: cloud and region joined ('aws-us-east-1')."""
    return f"{cloud}-{region}"


def round_ms(value: float) -> float:
    """A latency rounded to 0.1 ms."""
    return round(value * TENTHS) / TENTHS


def latency_node(data: ReferenceData, cloud: str, region: str) -> str:
    """The node name of a region in region_latency_ms.csv (its own cloud's matrix only)."""
    location = data.locations.get((cloud, region))
    if location is None or not location.latency_dataset_node:
        return region
    node = location.latency_dataset_node
    if "(proxy" in node:
        raise ValueError(f"{cloud}:{region} has only a proxy latency node ({node})")
    prefix, _, name = node.partition(":")
    if prefix != cloud:
        raise ValueError(f"{cloud}:{region} is measured as {node}")
    return name


@dataclass(frozen=True, slots=True)
class MeasuredPair:
    """A measured pair of regions of one cloud: both directions and the link latency."""

    cloud: str
    a: str
    b: str
    rtt_ab: float
    rtt_ba: float
    source_id: str

    @property
    def latency_ms(self) -> float:
        """Mean of both directions, rounded to 0.1 ms."""
        return round_ms((self.rtt_ab + self.rtt_ba) / 2)


def measured_pairs(data: ReferenceData, cloud: str, regions: list[str]) -> list[MeasuredPair]:
    """Every measured pair among `regions` (sorted region order). Raises if one is missing."""
    wanted = {latency_node(data, cloud, r): r for r in regions}
    directed: dict[tuple[str, str], tuple[float, str]] = {}
    for row in data.latencies:
        if row.cloud == cloud and row.from_region in wanted and row.to_region in wanted:
            directed[wanted[row.from_region], wanted[row.to_region]] = (row.rtt_ms, row.source_id)
    pairs = []
    for a, b in itertools.combinations(sorted(regions), 2):
        if (a, b) not in directed or (b, a) not in directed:
            raise ValueError(f"no measured round trip between {cloud}:{a} and {cloud}:{b}")
        pairs.append(
            MeasuredPair(cloud, a, b, directed[a, b][0], directed[b, a][0], directed[a, b][1])
        )
    return pairs


def all_pairs_tenths(
    nodes: list[str], weights: dict[tuple[str, str], int]
) -> dict[str, dict[str, int]]:
    """Floyd-Warshall shortest distances (in 0.1 ms) over undirected weights."""
    inf = 1 << 60
    dist = {a: dict.fromkeys(nodes, inf) for a in nodes}
    for a in nodes:
        dist[a][a] = 0
    for (a, b), w in weights.items():
        dist[a][b] = min(dist[a][b], w)
        dist[b][a] = min(dist[b][a], w)
    for k in nodes:
        dist_k = dist[k]
        for i in nodes:
            d_ik = dist[i][k]
            if d_ik >= inf:
                continue
            dist_i = dist[i]
            for j in nodes:
                through = d_ik + dist_k[j]
                if through < dist_i[j]:
                    dist_i[j] = through
    return dist


def needed_pairs(pairs: list[MeasuredPair]) -> tuple[list[MeasuredPair], list[MeasuredPair]]:
    """Split measured pairs into (kept, dropped): a pair is dropped when a relayed route
    of measured links is strictly faster than its own measurement."""
    nodes = sorted({p.a for p in pairs} | {p.b for p in pairs})
    weights = {(p.a, p.b): round(p.latency_ms * TENTHS) for p in pairs}
    dist = all_pairs_tenths(nodes, weights)
    kept = [p for p in pairs if dist[p.a][p.b] == weights[p.a, p.b]]
    dropped = [p for p in pairs if dist[p.a][p.b] < weights[p.a, p.b]]
    return kept, dropped


@dataclass(frozen=True, slots=True)
class AccessModel:
    """Round trip of an access or peering link: intra-region RTT plus a slope per km,
    both fitted from the AWS matrix (the `access_latency` assumption)."""

    intra_ms: float
    ms_per_km: float
    pairs_used: int

    def latency_ms(self, km: float) -> float:
        """Access round trip over `km` of great-circle distance, rounded to 0.1 ms."""
        return max(0.1, round_ms(self.intra_ms + self.ms_per_km * km))


def fit_access_model(data: ReferenceData) -> AccessModel:
    """Median intra-region RTT and median (RTT - intra) per km over the AWS pairs."""
    aws_rows = [r for r in data.latencies if r.cloud == "aws"]
    intra = statistics.median(r.rtt_ms for r in aws_rows if r.from_region == r.to_region)
    regions = sorted({r.from_region for r in aws_rows})
    slopes = []
    for pair in measured_pairs(data, "aws", regions):
        km = great_circle_km(REGION_PLACES["aws", pair.a], REGION_PLACES["aws", pair.b])
        slopes.append((pair.latency_ms - intra) / km)
    return AccessModel(round_ms(intra), round(statistics.median(slopes), 5), len(slopes))


@dataclass(slots=True)
class LinkSpec:
    """A link to write into the instance, with its provenance."""

    a: str
    b: str
    latency_ms: float
    egress_cost_per_gb: float
    kind: str
    meta: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Topology:
    """Links, attached metros and a record of what was measured, kept or dropped."""

    links: list[LinkSpec]
    metros: list[Metro]
    attachment: dict[str, str]
    dropped: list[MeasuredPair]
    access: AccessModel


def build_topology(
    data: ReferenceData, sites: list[tuple[str, str]], access: AccessModel
) -> Topology:
    """Links among `sites` ((cloud, region) pairs), peering between clouds, and metro access."""
    links: list[LinkSpec] = []
    dropped: list[MeasuredPair] = []
    clouds = sorted({cloud for cloud, _ in sites})
    for cloud in clouds:
        regions = sorted(region for c, region in sites if c == cloud)
        kept, gone = needed_pairs(measured_pairs(data, cloud, regions))
        dropped.extend(gone)
        links.extend(
            LinkSpec(
                site_id(cloud, p.a),
                site_id(cloud, p.b),
                p.latency_ms,
                A.INTER_REGION_EGRESS_PER_GB,
                "measured",
                {"source": p.source_id, "rtt_ms_ab": p.rtt_ab, "rtt_ms_ba": p.rtt_ba},
            )
            for p in kept
        )
    for (cloud_a, region_a), (cloud_b, region_b) in itertools.combinations(sorted(sites), 2):
        if cloud_a == cloud_b:
            continue
        km = great_circle_km(REGION_PLACES[cloud_a, region_a], REGION_PLACES[cloud_b, region_b])
        if km <= A.PEERING_MAX_KM:
            links.append(
                LinkSpec(
                    site_id(cloud_a, region_a),
                    site_id(cloud_b, region_b),
                    access.latency_ms(km),
                    A.INTERNET_EGRESS_PER_GB,
                    "peering",
                    {"assumption": "cloud_peering", "km": round(km, 1)},
                )
            )
    attachment: dict[str, str] = {}
    for metro in METROS:
        nearest_km, nearest = min(
            (great_circle_km(metro.place, REGION_PLACES[cloud, region]), site_id(cloud, region))
            for cloud, region in sites
        )
        attachment[metro.id] = nearest
        links.append(
            LinkSpec(
                metro.id,
                nearest,
                access.latency_ms(nearest_km),
                A.INTERNET_EGRESS_PER_GB,
                "access",
                {"assumption": "access_latency", "km": round(nearest_km, 1)},
            )
        )
    return Topology(links, list(METROS), attachment, dropped, access)


def relayed_pairs(
    data: ReferenceData, sites: list[tuple[str, str]], links: list[LinkSpec]
) -> list[tuple[str, str, float, float]]:
    """Same-cloud site pairs whose instance latency is below the measured mean RTT:
    (a, b, measured, instance latency). Empty where the matrix obeys the triangle
    inequality and no cross-cloud relay is faster."""
    nodes = sorted({link.a for link in links} | {link.b for link in links})
    weights: dict[tuple[str, str], int] = {}
    for link in links:
        weights[link.a, link.b] = round(link.latency_ms * TENTHS)
    dist = all_pairs_tenths(nodes, weights)
    result = []
    for cloud in sorted({c for c, _ in sites}):
        regions = sorted(r for c, r in sites if c == cloud)
        for pair in measured_pairs(data, cloud, regions):
            a, b = site_id(cloud, pair.a), site_id(cloud, pair.b)
            measured = round(pair.latency_ms * TENTHS)
            if dist[a][b] < measured:
                result.append((a, b, pair.latency_ms, dist[a][b] / TENTHS))
    return result
