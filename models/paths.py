"""Minimum-latency paths of the link graph (SPEC section 3).

Ties: among paths of equal latency the one with fewer links wins, then the
lexicographically smallest sequence of node ids. Latencies are compared in whole
nanoseconds (each link's `latency_ms` rounded to 1e-6 ms), so that paths whose
float sums differ only by rounding (0.1 + 0.2 vs 0.3) count as ties, as a planner
expects. One Dijkstra search per source node serves every site.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from models.instance import Instance

NS_PER_MS = 1_000_000


def to_ns(latency_ms: float) -> int:
    """A latency in ms as whole nanoseconds, the resolution paths are compared at."""
    return round(latency_ms * NS_PER_MS)


@dataclass(frozen=True, slots=True)
class Route:
    """The chosen path from a source node to a site, with its latency and egress price."""

    nodes: tuple[str, ...]
    links: tuple[int, ...]
    latency_ms: float
    latency_ns: int
    egress_per_gb: float

    def within(self, slo_ms: float) -> bool:
        """Whether the path's latency meets an SLO (compared in whole nanoseconds)."""
        return self.latency_ns <= to_ns(slo_ms)


def link_graph(instance: Instance) -> nx.Graph:
    """The undirected link graph: one node per site/region/transit, link index on each edge."""
    graph = nx.Graph()
    graph.add_nodes_from(s.id for s in instance.sites)
    graph.add_nodes_from(r.id for r in instance.regions)
    graph.add_nodes_from(t.id for t in instance.transit)
    for index, link in enumerate(instance.links):
        graph.add_edge(link.a, link.b, index=index, latency_ns=to_ns(link.latency_ms))
    return graph


def shortest_paths_from(graph: nx.Graph, source: str) -> dict[str, tuple[str, ...]]:
    """The SPEC path from `source` to every reachable node (Dijkstra on the label
    (latency_ns, links, node sequence), which extends monotonically along a path)."""
    best: dict[str, tuple[int, int, tuple[str, ...]]] = {source: (0, 0, (source,))}
    heap: list[tuple[int, int, tuple[str, ...]]] = [(0, 0, (source,))]
    done: set[str] = set()
    adjacency = graph.adj
    while heap:
        label = heapq.heappop(heap)
        latency, hops, nodes = label
        node = nodes[-1]
        if node in done:
            continue
        done.add(node)
        for neighbour, edge in adjacency[node].items():
            if neighbour in done:
                continue
            candidate = (latency + edge["latency_ns"], hops + 1, (*nodes, neighbour))
            current = best.get(neighbour)
            if current is None or candidate < current:
                best[neighbour] = candidate
                heapq.heappush(heap, candidate)
    return {node: label[2] for node, label in best.items()}


class NetworkPaths:
    """Routes from every demand region and dataset node to every reachable site."""

    def __init__(self, routes: dict[str, dict[str, Route]]) -> None:
        self._routes = routes

    @classmethod
    def build(cls, instance: Instance) -> NetworkPaths:
        """Compute routes from all regions and dataset nodes to all sites."""
        graph = link_graph(instance)
        links = instance.links
        site_ids = [s.id for s in instance.sites]
        sources = {r.id for r in instance.regions}
        sources |= {j.dataset.at for j in instance.training if j.dataset is not None}
        # Checkpoints of running jobs move from their current site (SPEC §10).
        if instance.current is not None:
            sources |= {entry.site for entry in instance.current.training}
        routes: dict[str, dict[str, Route]] = {}
        for source in sorted(sources):
            node_paths = shortest_paths_from(graph, source)
            by_site: dict[str, Route] = {}
            for site_id in site_ids:
                nodes = node_paths.get(site_id)
                if nodes is None:
                    continue
                link_ids = tuple(graph.edges[a, b]["index"] for a, b in itertools.pairwise(nodes))
                by_site[site_id] = Route(
                    nodes=nodes,
                    links=link_ids,
                    latency_ms=math.fsum(links[i].latency_ms for i in link_ids),
                    latency_ns=sum(to_ns(links[i].latency_ms) for i in link_ids),
                    egress_per_gb=math.fsum(links[i].egress_cost_per_gb for i in link_ids),
                )
            routes[source] = by_site
        return cls(routes)

    def route(self, source: str, site: str) -> Route | None:
        """The route from a region or dataset node to a site; None when unreachable."""
        return self._routes.get(source, {}).get(site)

    def from_source(self, source: str) -> dict[str, Route]:
        """Routes from one source to every reachable site."""
        return self._routes.get(source, {})
