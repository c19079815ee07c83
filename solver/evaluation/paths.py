"""SPEC section 3 paths, computed by the evaluator itself (it shares no code with the
solver's `models.paths`, so a path bug cannot hide in both).

`path(p, q)` is the minimum-latency path between nodes p and q; ties go to fewer links,
then to the lexicographically smallest sequence of node ids read from the source (the
demand region or the dataset's node) to the site. Latencies are compared as
docs/spec-readings.md reads the SPEC ("Latency is compared at 1 ns"): each link's
`latency_ms` as whole nanoseconds, path latencies as integer sums of those, so float sums
that differ only by rounding (0.1 + 0.2 vs 0.3) tie.

The search runs in three steps with networkx: integer Dijkstra distances from the
source; a breadth-first search over the links that lie on some minimum-latency path
(which gives the fewest links); and, layer by layer, the smallest node sequence. A
source's table is built the first time the evaluator asks about it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from models import Instance

#: Nanoseconds per millisecond: the resolution latencies are compared at.
NS_PER_MS = 1_000_000


def whole_ns(latency_ms: float) -> int:
    """A latency in ms as the nearest whole number of nanoseconds."""
    return round(latency_ms * NS_PER_MS)


@dataclass(frozen=True, slots=True)
class Route:
    """The SPEC path from a source node to a site: its nodes, links, latency and egress."""

    #: node ids from the source to the site (just the source when they are one node)
    nodes: tuple[str, ...]
    #: indices into `instance.links`, in path order
    links: tuple[int, ...]
    #: latency in whole nanoseconds (the sum of each link's rounded latency)
    latency_ns: int
    #: the float sum of the links' `latency_ms` (0 for a one-node path)
    latency_ms: float
    #: the sum of the links' `egress_cost_per_gb`
    egress_per_gb: float

    def within(self, slo_ms: float) -> bool:
        """Whether the latency meets an SLO, compared in whole nanoseconds (equal is within)."""
        return self.latency_ns <= whole_ns(slo_ms)


class RouteTable:
    """SPEC paths of one instance's link graph, from any source node to any site."""

    def __init__(self, instance: Instance) -> None:
        graph = nx.Graph()
        graph.add_nodes_from(site.id for site in instance.sites)
        graph.add_nodes_from(region.id for region in instance.regions)
        graph.add_nodes_from(node.id for node in instance.transit)
        for index, link in enumerate(instance.links):
            graph.add_edge(link.a, link.b, index=index, ns=whole_ns(link.latency_ms))
        self._graph = graph
        self._latency_ms = [link.latency_ms for link in instance.links]
        self._egress_per_gb = [link.egress_cost_per_gb for link in instance.links]
        self._sites = frozenset(site.id for site in instance.sites)
        self._node_paths: dict[str, dict[str, tuple[str, ...]]] = {}
        self._routes: dict[tuple[str, str], Route | None] = {}

    def route(self, source: str, site: str) -> Route | None:
        """The path from a node to a site; None when the site cannot be reached (or either
        id is not a node of the graph)."""
        key = (source, site)
        if key not in self._routes:
            self._routes[key] = self._build_route(source, site)
        return self._routes[key]

    def _build_route(self, source: str, site: str) -> Route | None:
        if site not in self._sites:
            return None
        nodes = self.node_paths(source).get(site)
        if nodes is None:
            return None
        links = tuple(self._graph.edges[a, b]["index"] for a, b in pairwise(nodes))
        return Route(
            nodes=nodes,
            links=links,
            latency_ns=sum(self._graph.edges[a, b]["ns"] for a, b in pairwise(nodes)),
            latency_ms=math.fsum(self._latency_ms[i] for i in links),
            egress_per_gb=math.fsum(self._egress_per_gb[i] for i in links),
        )

    def node_paths(self, source: str) -> dict[str, tuple[str, ...]]:
        """The SPEC path from `source` to every node it reaches, as node sequences."""
        paths = self._node_paths.get(source)
        if paths is None:
            paths = _spec_paths(self._graph, source) if source in self._graph else {}
            self._node_paths[source] = paths
        return paths


def _spec_paths(graph: nx.Graph, source: str) -> dict[str, tuple[str, ...]]:
    """Minimum latency, then fewest links, then the smallest node sequence from `source`."""
    distance: dict[str, int] = nx.single_source_dijkstra_path_length(graph, source, weight="ns")
    # A link lies on a minimum-latency path exactly when it is tight in this direction;
    # every minimum-latency path uses tight links only, and every tight walk is one.
    tight = nx.DiGraph()
    tight.add_node(source)
    for a, b, ns in graph.edges(data="ns"):
        if a not in distance:
            continue
        if distance[a] + ns == distance[b]:
            tight.add_edge(a, b)
        if distance[b] + ns == distance[a]:
            tight.add_edge(b, a)
    hops: dict[str, int] = nx.single_source_shortest_path_length(tight, source)
    # All candidates to a node have the same length, so the smallest sequence ends with
    # the smallest sequence to one of its predecessors one layer up.
    best: dict[str, tuple[str, ...]] = {source: (source,)}
    for node in sorted(hops, key=hops.__getitem__):
        if node == source:
            continue
        before = min(
            best[previous]
            for previous in tight.predecessors(node)
            if hops.get(previous) == hops[node] - 1
        )
        best[node] = (*before, node)
    return best
