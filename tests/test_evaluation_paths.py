"""Tests of solver/evaluation/paths.py: the evaluator's own SPEC section 3 paths, their
tie-breaks, and a cross-check against the solver's `models.paths`."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Instance, load_instance, load_solution
from solver.evaluate import evaluate
from solver.evaluation.paths import RouteTable, whole_ns
from tests.test_models_paths import network

if TYPE_CHECKING:
    from models import Route as SolverRoute
    from solver.evaluation.paths import Route

REPO_ROOT = Path(__file__).resolve().parent.parent
EVALUATOR_FILES = sorted(
    [REPO_ROOT / "solver" / "evaluate.py", *REPO_ROOT.glob("solver/evaluation/*.py")]
)
#: The solver's path and eligibility code, which the evaluator must not use.
SOLVER_PATH_MODULES = {"models.paths", "models.eligibility", "models.network"}


def route(instance: Instance, source: str, site: str) -> Route:
    """The evaluator's route, which must exist."""
    found = RouteTable(instance).route(source, site)
    assert found is not None, f"no route {source} -> {site}"
    return found


# -- tie-breaks ---------------------------------------------------------------------


def test_minimum_latency_wins_over_fewer_links() -> None:
    """A three-link path of 3 ms beats a direct link of 3.5 ms."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a", "b"],
        links=[("r", "a", 1), ("a", "b", 1), ("b", "s", 1), ("r", "s", 3.5)],
    )
    found = route(instance, "r", "s")
    assert found.nodes == ("r", "a", "b", "s")
    assert (found.latency_ms, found.latency_ns, found.links) == (3.0, 3_000_000, (0, 1, 2))


def test_equal_latency_fewer_links_win() -> None:
    """Equal latency: two links beat three, although the three-link path has smaller ids."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a", "b", "z"],
        links=[("r", "a", 1), ("a", "b", 1), ("b", "s", 1), ("r", "z", 1.5), ("z", "s", 1.5)],
    )
    assert route(instance, "r", "s").nodes == ("r", "z", "s")


def test_equal_links_lexicographic_order_wins() -> None:
    """Equal latency and links: the smallest node sequence wins, whatever the link order."""
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
    assert route(instance, "r", "s").nodes == ("r", "c", "s")


def test_lexicographic_order_is_read_from_the_source() -> None:
    """r-b-y-s beats r-z-a-s: the second node decides, not the smallest id anywhere."""
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
    assert route(instance, "r", "s").nodes == ("r", "b", "y", "s")


def test_dataset_paths_read_from_the_dataset_node() -> None:
    """A dataset at a site reads its sequence from that site: s1-a-t-s2 beats s1-b-t-s2
    although the reverse sequences would rank the other way."""
    instance = network(
        sites=["s1", "s2"],
        regions=[],
        transit=["a", "b", "t"],
        links=[("s1", "a", 1), ("a", "t", 1), ("s1", "b", 1), ("b", "t", 1), ("t", "s2", 1)],
        datasets=["s1"],
    )
    assert route(instance, "s1", "s2").nodes == ("s1", "a", "t", "s2")


# -- float sums ----------------------------------------------------------------------


def test_point_one_plus_point_two_ties_with_point_three() -> None:
    """0.1 + 0.2 is over 0.3 in floats, yet the two paths tie and the direct link wins on
    fewer links."""
    assert 0.1 + 0.2 > 0.3
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a"],
        links=[("r", "a", 0.1), ("a", "s", 0.2), ("r", "s", 0.3)],
    )
    found = route(instance, "r", "s")
    assert found.nodes == ("r", "s")
    assert found.latency_ns == whole_ns(0.1) + whole_ns(0.2) == 300_000


def test_float_noise_does_not_break_a_lexicographic_tie() -> None:
    """0.1 + 0.2 and 0.15 + 0.15 differ in floats; the tie goes to the smaller ids."""
    assert 0.1 + 0.2 > 0.15 + 0.15
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a", "b"],
        links=[("r", "b", 0.15), ("b", "s", 0.15), ("r", "a", 0.1), ("a", "s", 0.2)],
    )
    found = route(instance, "r", "s")
    assert found.nodes == ("r", "a", "s")
    assert found.latency_ms == math.fsum([0.1, 0.2])
    assert found.within(0.3)
    assert not found.within(0.299999)


def test_sub_nanosecond_links_are_free_for_the_comparison() -> None:
    """A 1e-7 ms link rounds to 0 ns: r-a-s (1 ms + 1e-7 ms) ties with r-b-s (1 ms)."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["a", "b"],
        links=[("r", "a", 1), ("a", "s", 1e-7), ("r", "b", 0.5), ("b", "s", 0.5)],
    )
    found = route(instance, "r", "s")
    assert found.nodes == ("r", "a", "s")
    assert found.latency_ns == 1_000_000
    assert found.latency_ms == 1 + 1e-7


# -- reachability and sums -----------------------------------------------------------


def test_unreachable_and_unknown_nodes_have_no_route() -> None:
    """Another component, an unknown source and a non-site target give None."""
    instance = network(
        sites=["near", "far"],
        regions=["r", "island"],
        transit=["t"],
        links=[("r", "near", 1), ("near", "t", 1)],
    )
    table = RouteTable(instance)
    assert table.route("r", "far") is None
    assert table.route("island", "near") is None
    assert table.route("nowhere", "near") is None
    assert table.route("r", "t") is None
    assert set(table.node_paths("r")) == {"r", "near", "t"}
    assert table.node_paths("nowhere") == {}


def test_source_at_the_site_is_a_free_one_node_path() -> None:
    """path(p, p) has no links, latency 0 and egress 0."""
    instance = network(sites=["s"], regions=[], links=[("s", "t", 1, 0.5)], transit=["t"])
    found = route(instance, "s", "s")
    assert (found.nodes, found.links, found.latency_ms, found.latency_ns, found.egress_per_gb) == (
        ("s",),
        (),
        0,
        0,
        0,
    )
    assert found.within(1e-9)


def test_egress_sums_along_the_minimum_latency_path() -> None:
    """Egress per GB follows the chosen path, even when a slower path is cheaper."""
    instance = network(
        sites=["s"],
        regions=["r"],
        transit=["t", "u"],
        links=[("r", "t", 1, 0.01), ("t", "s", 1, 0.02), ("r", "u", 5, 0.0), ("u", "s", 5, 0.0)],
    )
    found = route(instance, "r", "s")
    assert found.links == (0, 1)
    assert found.egress_per_gb == math.fsum([0.01, 0.02])


# -- independence from the solver's path code ------------------------------------------


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports, at any level (TYPE_CHECKING blocks included)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


@pytest.mark.parametrize("path", EVALUATOR_FILES, ids=lambda path: path.name)
def test_evaluator_imports_no_solver_path_code(path: Path) -> None:
    """No evaluator module imports models.paths, models.eligibility or models.network, nor
    their names through the models package."""
    modules = imported_modules(path)
    assert not modules & SOLVER_PATH_MODULES
    assert not modules & {"models.Route", "models.NetworkPaths", "models.Eligibility"}


def test_evaluate_never_reads_instance_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """evaluate() judges a plan with routes and a remote dataset without `Instance.paths`."""
    instance = load_instance(REPO_ROOT / "tests" / "data" / "eval_small.json")
    solution = load_solution(REPO_ROOT / "tests" / "data" / "eval_small_plan.json")
    assert solution.routes
    expected = evaluate(instance, solution)

    def refuse(_: Instance) -> None:
        raise AssertionError("evaluate used Instance.paths")

    monkeypatch.setattr(Instance, "paths", property(refuse))
    fresh = load_instance(REPO_ROOT / "tests" / "data" / "eval_small.json")
    evaluation = evaluate(fresh, solution)
    assert evaluation.violations == expected.violations
    assert evaluation.objective == expected.objective
    assert evaluation.routes == expected.routes


# -- cross-check against models.paths ------------------------------------------------

NODE_NAMES = ["q", "b", "k", "a", "x", "m", "c", "b2"]
#: Latencies that tie in whole nanoseconds but not in floats, thirds, a sub-nanosecond link.
TIE_PRONE_MS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.1 + 0.2, 1 / 3, 2 / 3, 1.0, 1e-7]
#: Few distinct figures (0.1 + 0.2 ties with 0.3): equal-latency paths are common.
FEW_LATENCIES_MS = [0.1, 0.2, 0.3, 0.1 + 0.2]
EGRESS_PER_GB = [0.0, 0.01, 0.05, 1 / 3, 0.1]

Case = tuple[list[str], list[str], list[str], list[tuple[str, str, float, float]]]


@st.composite
def random_networks(draw: st.DrawFn) -> Case:
    """Up to 8 nodes, each a site, a region or a transit node, and random links whose
    latencies are mostly tie-prone."""
    count = draw(st.integers(min_value=2, max_value=len(NODE_NAMES)))
    nodes = NODE_NAMES[:count]
    roles = draw(st.lists(st.sampled_from("srt"), min_size=count, max_size=count))
    sites = [n for n, role in zip(nodes, roles, strict=True) if role == "s"]
    regions = [n for n, role in zip(nodes, roles, strict=True) if role == "r"]
    transit = [n for n, role in zip(nodes, roles, strict=True) if role == "t"]
    pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    # Mostly tie-prone figures, so that the tie-breaks decide often; some arbitrary floats.
    latency = st.one_of(
        st.sampled_from(TIE_PRONE_MS),
        st.sampled_from(FEW_LATENCIES_MS),
        st.floats(min_value=1e-9, max_value=100, allow_nan=False, allow_infinity=False),
    )
    links = [
        (a, b, draw(latency), draw(st.sampled_from(EGRESS_PER_GB)))
        for a, b in (pair if draw(st.booleans()) else pair[::-1] for pair in chosen)
    ]
    return sites, regions, transit, links


def same_route(ours: Route | None, theirs: SolverRoute | None) -> bool:
    """Both absent, or equal in nodes, links, latency (ns and ms) and egress per GB."""
    if ours is None or theirs is None:
        return ours is None and theirs is None
    return (ours.nodes, ours.links, ours.latency_ns, ours.latency_ms, ours.egress_per_gb) == (
        theirs.nodes,
        theirs.links,
        theirs.latency_ns,
        theirs.latency_ms,
        theirs.egress_per_gb,
    )


@settings(max_examples=300, deadline=None)
@given(random_networks(), st.data())
def test_paths_agree_with_the_solver_paths(case: Case, data: st.DataObject) -> None:
    """From every region and dataset node to every site, the evaluator's path equals
    models.paths' in nodes, links, latency and egress (or both are absent)."""
    sites, regions, transit, links = case
    nodes = sites + regions + transit
    datasets = data.draw(st.lists(st.sampled_from(nodes), max_size=2)) if sites else []
    instance = network(
        sites=sites, regions=regions, transit=transit, links=links, datasets=datasets
    )
    table = RouteTable(instance)
    for source in sorted({*regions, *datasets}):
        for site in sites:
            ours, theirs = table.route(source, site), instance.paths.route(source, site)
            assert same_route(ours, theirs), (source, site, ours, theirs)


@pytest.mark.parametrize(
    "path",
    sorted(REPO_ROOT.glob("instances/**/*.json")),
    ids=lambda path: path.stem,
)
def test_paths_agree_on_the_committed_instances(path: Path) -> None:
    """Every region-to-site and dataset-to-site path of the committed instances agrees."""
    instance = load_instance(path)
    table = RouteTable(instance)
    sources = {r.id for r in instance.regions}
    sources |= {j.dataset.at for j in instance.training if j.dataset is not None}
    for source in sorted(sources):
        for site in instance.sites:
            assert same_route(table.route(source, site.id), instance.paths.route(source, site.id))
