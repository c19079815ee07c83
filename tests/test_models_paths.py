"""Tests of models/paths.py: SPEC section 3 routes, tie-breaks and a brute-force cross-check."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Instance, NetworkPaths, parse_instance
from models.paths import link_graph, shortest_paths_from, to_ns

if TYPE_CHECKING:
    from collections.abc import Sequence


def network(
    sites: list[str],
    regions: list[str],
    links: Sequence[tuple[str, str, float] | tuple[str, str, float, float]],
    transit: list[str] | None = None,
    datasets: list[str] | None = None,
) -> Instance:
    """An instance holding only a network: links as (a, b, latency_ms[, egress_per_gb])."""
    document: dict[str, Any] = {
        "schema": "infraplan/v1",
        "name": "net",
        "horizon_hours": 10,
        "accelerators": [{"id": "gpu", "memory_gb": 1, "power_kw": 1, "cooling": "air"}],
        "sites": [{"id": s, "grid_kw": 10, "pue": 1, "energy_price_per_kwh": 0} for s in sites],
        "regions": [{"id": r} for r in regions],
        "transit": [{"id": t} for t in transit or []],
        "links": [
            {
                "a": link[0],
                "b": link[1],
                "latency_ms": link[2],
                "egress_cost_per_gb": link[3] if len(link) == 4 else 0.0,
            }
            for link in links
        ],
        "training": [
            {
                "id": f"job-{k}",
                "options": [{"accelerator": "gpu", "count": 1}],
                "run_hours": 1,
                "dataset": {"at": at},
            }
            for k, at in enumerate(datasets or [])
        ],
    }
    return parse_instance(document)


def test_latencies_of_a_hand_built_graph() -> None:
    """Routes through transit nodes take the minimum-latency path, summing link latencies."""
    #  r1 -2- t1 -3- s1      r1 -10- s1 (slower direct link)
    #          \-1- t2 -1- s2 -4- s1
    instance = network(
        sites=["s1", "s2"],
        regions=["r1"],
        transit=["t1", "t2"],
        links=[
            ("r1", "t1", 2),
            ("t1", "s1", 3),
            ("r1", "s1", 10),
            ("t1", "t2", 1),
            ("t2", "s2", 1),
            ("s2", "s1", 4),
        ],
    )
    to_s1 = instance.paths.route("r1", "s1")
    to_s2 = instance.paths.route("r1", "s2")
    assert to_s1 is not None
    assert to_s2 is not None
    assert (to_s1.nodes, to_s1.latency_ms, to_s1.links) == (("r1", "t1", "s1"), 5.0, (0, 1))
    assert (to_s2.nodes, to_s2.latency_ms, to_s2.links) == (
        ("r1", "t1", "t2", "s2"),
        4.0,
        (0, 3, 4),
    )
    assert to_s1.latency_ns == 5_000_000
    assert set(instance.paths.from_source("r1")) == {"s1", "s2"}


def test_fewer_links_win_a_latency_tie() -> None:
    """Equal latency: the path with fewer links is chosen, whatever the ids."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a", "b", "z"],
        links=[("r", "a", 1), ("a", "b", 1), ("b", "s", 1), ("r", "z", 1.5), ("z", "s", 1.5)],
    )
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.nodes == ("r", "z", "s")


def test_lexicographic_sequence_wins_a_full_tie() -> None:
    """Equal latency and links: the lexicographically smallest node sequence is chosen."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["m", "c", "x"],
        links=[
            ("r", "m", 2),
            ("m", "s", 2),
            ("r", "x", 1),
            ("x", "s", 3),
            ("r", "c", 3),
            ("c", "s", 1),
        ],
    )
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.nodes == ("r", "c", "s")


def test_lexicographic_tie_compares_from_the_source() -> None:
    """The sequence is read from the source: an early small id beats a late one."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a", "b", "y", "z"],
        links=[
            ("r", "b", 1),
            ("b", "y", 1),
            ("y", "s", 1),
            ("r", "z", 1),
            ("z", "a", 1),
            ("a", "s", 1),
        ],
    )
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.nodes == ("r", "b", "y", "s")


def test_float_rounding_counts_as_a_tie() -> None:
    """0.1 + 0.2 and 0.15 + 0.15 are the same latency, so ids decide (not float noise)."""
    assert 0.1 + 0.2 > 0.15 + 0.15
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a", "b"],
        links=[("r", "a", 0.1), ("a", "s", 0.2), ("r", "b", 0.15), ("b", "s", 0.15)],
    )
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.nodes == ("r", "a", "s")
    assert route.latency_ns == 300_000
    assert route.within(0.3)


def test_float_tie_with_a_direct_link_prefers_fewer_links() -> None:
    """A direct 0.3 ms link ties with 0.1 + 0.2 and wins on links."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a"],
        links=[("r", "a", 0.1), ("a", "s", 0.2), ("r", "s", 0.3)],
    )
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.nodes == ("r", "s")


def test_unreachable_site_has_no_route() -> None:
    """A site in another component has no route and is absent from from_source."""
    instance = network(sites=["near", "far"], regions=["r", "island"], links=[("r", "near", 1)])
    assert instance.paths.route("r", "far") is None
    assert set(instance.paths.from_source("r")) == {"near"}
    assert instance.paths.from_source("island") == {}
    assert instance.paths.route("nowhere", "near") is None


def test_egress_sums_along_the_chosen_path() -> None:
    """egress_per_gb is the sum over the minimum-latency path, even when another is cheaper."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["t", "u"],
        links=[("r", "t", 1, 0.01), ("t", "s", 1, 0.02), ("r", "u", 5, 0.0), ("u", "s", 5, 0.0)],
    )
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.nodes == ("r", "t", "s")
    assert route.egress_per_gb == pytest.approx(0.03)


def test_dataset_sources_include_sites_and_transit() -> None:
    """Dataset nodes are sources too; a dataset at a site reaches that site at zero cost."""
    instance = network(
        sites=["s1", "s2"],
        regions=[],
        transit=["t"],
        links=[("s1", "t", 2, 0.5), ("t", "s2", 3, 0.5)],
        datasets=["s1", "t"],
    )
    local = instance.paths.route("s1", "s1")
    assert local is not None
    assert (local.nodes, local.links, local.latency_ms, local.egress_per_gb) == (("s1",), (), 0, 0)
    remote = instance.paths.route("t", "s2")
    assert remote is not None
    assert (remote.latency_ms, remote.egress_per_gb) == (3.0, 0.5)
    from_site = instance.paths.route("s1", "s2")
    assert from_site is not None
    assert from_site.egress_per_gb == 1.0


def test_route_latency_uses_exact_sum() -> None:
    """latency_ms is the float sum of the links (fsum), latency_ns the sum in whole ns."""
    instance = network(
        sites=["s"], regions=["r"], transit=["a"], links=[("r", "a", 0.1), ("a", "s", 0.2)]
    )
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.latency_ms == math.fsum([0.1, 0.2])
    assert route.latency_ns == to_ns(0.1) + to_ns(0.2) == 300_000
    assert not route.within(0.299999)


def test_to_ns_rounds_to_whole_nanoseconds() -> None:
    """Latencies are compared at 1 ns = 1e-6 ms."""
    assert to_ns(4) == 4_000_000
    assert to_ns(0.1 + 0.2) == to_ns(0.3)
    assert to_ns(1e-7) == 0
    assert to_ns(2.5e-6) == 2


# -- property: Dijkstra with the SPEC key equals brute force over simple paths --------------

NODE_NAMES = ["q", "b", "k", "a", "x", "m", "c"]
LATENCIES = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5]


@st.composite
def random_networks(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str, float, float]]]:
    """Up to 7 named nodes and a random set of links with tie-prone latencies."""
    count = draw(st.integers(min_value=2, max_value=len(NODE_NAMES)))
    nodes = NODE_NAMES[:count]
    pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    links = [
        (a, b, draw(st.sampled_from(LATENCIES)), draw(st.sampled_from([0.0, 0.01, 0.05])))
        for a, b in chosen
    ]
    return nodes, links


def brute_force(graph: nx.Graph, source: str) -> dict[str, tuple[str, ...]]:
    """The SPEC path to every reachable node by enumerating all simple paths."""
    best: dict[str, tuple[str, ...]] = {source: (source,)}
    for target in graph.nodes:
        if target == source:
            continue
        keyed = [
            (
                sum(graph.edges[a, b]["latency_ns"] for a, b in pairwise(path)),
                len(path),
                tuple(path),
            )
            for path in nx.all_simple_paths(graph, source, target)
        ]
        if keyed:
            best[target] = min(keyed)[2]
    return best


@settings(max_examples=150, deadline=None)
@given(random_networks())
def test_shortest_paths_match_brute_force(
    case: tuple[list[str], list[tuple[str, str, float, float]]],
) -> None:
    """shortest_paths_from and NetworkPaths agree with brute force on (latency_ns, hops, ids)."""
    nodes, links = case
    half = len(nodes) // 2
    regions, sites = nodes[:half], nodes[half:]
    instance = network(sites=sites, regions=regions, links=links)
    graph = link_graph(instance)
    for source in regions:
        expected = brute_force(graph, source)
        assert shortest_paths_from(graph, source) == expected
        routes = instance.paths.from_source(source)
        assert set(routes) == {s for s in sites if s in expected}
        for site, route in routes.items():
            assert route.nodes == expected[site]
            used = [instance.links[i] for i in route.links]
            assert [frozenset((link.a, link.b)) for link in used] == [
                frozenset(pair) for pair in pairwise(route.nodes)
            ]
            assert route.latency_ns == sum(to_ns(link.latency_ms) for link in used)
            assert route.egress_per_gb == pytest.approx(
                sum(link.egress_cost_per_gb for link in used)
            )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NODE_NAMES[1:]),
            st.sampled_from(LATENCIES),
            st.sampled_from(LATENCIES),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda via: via[0],
    )
)
def test_parallel_routes_tie_as_the_spec_says(vias: list[tuple[str, float, float]]) -> None:
    """Bundles of two-link routes whose float sums differ only by rounding pick the SPEC path."""
    links = [
        link for via, first, second in vias for link in (("r", via, first), (via, "s", second))
    ]
    instance = network(sites=["s"], regions=["r"], transit=[v[0] for v in vias], links=links)
    graph = link_graph(instance)
    route = instance.paths.route("r", "s")
    assert route is not None
    assert route.nodes == brute_force(graph, "r")["s"]


def test_network_paths_can_be_built_directly() -> None:
    """NetworkPaths.build gives the same routes as the cached instance.paths."""
    instance = network(sites=["s"], regions=["r"], links=[("r", "s", 1)])
    built = NetworkPaths.build(instance)
    assert built.route("r", "s") == instance.paths.route("r", "s")
    assert instance.paths is instance.paths
