"""Tests of models/eligibility.py: SPEC section 4 eligibility and the module's pruning rules."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from models import Instance, ReplicaOption, RoutePair, TrainingPlacement, parse_instance
from tests.conftest import rich_instance_dict, tiny_instance_dict

Document = dict[str, Any]


def eligible(document: Document) -> Instance:
    """Validate a document; its eligibility is then `instance.eligibility`."""
    return parse_instance(document)


def placements(document: Document, job: str = "train") -> list[tuple[str, str]]:
    """(site, accelerator) of every eligible placement of a training job."""
    return [(p.site, p.accelerator) for p in eligible(document).eligibility.training[job]]


def replica_sites(document: Document, service: str = "chat") -> list[tuple[str, str]]:
    """(site, accelerator) of every replica option of a service."""
    return [(o.site, o.accelerator) for o in eligible(document).eligibility.replicas[service]]


def route_pairs(document: Document, service: str = "chat") -> list[tuple[str, str]]:
    """(region, site) of every route of a service."""
    return [(r.region, r.site) for r in eligible(document).eligibility.routes[service]]


def three_sites() -> Document:
    """tiny_instance_dict plus a third site 'far', 30 ms from nyc, with h100 and a100."""
    document = tiny_instance_dict()
    document["sites"].append(
        {
            "id": "far",
            "grid_kw": 1000,
            "pue": 1.0,
            "energy_price_per_kwh": 0.1,
            "tags": ["us", "green"],
            "inventory": [
                {"accelerator": "h100", "count": 64},
                {"accelerator": "a100", "count": 64},
            ],
        }
    )
    document["links"].append({"a": "hub", "b": "far", "latency_ms": 27})
    return document


def test_tiny_instance_eligibility() -> None:
    """The tiny fixture: one placement per site; the service only at east, within 10 ms."""
    eligibility = eligible(tiny_instance_dict()).eligibility
    assert eligibility.training == {
        "train": [
            TrainingPlacement("train", "east", "h100", 4),
            TrainingPlacement("train", "west", "a100", 8),
        ]
    }
    assert eligibility.replicas == {"chat": [ReplicaOption("chat", "east", "h100", 1, 10.0)]}
    assert eligibility.routes == {"chat": [RoutePair("chat", "nyc", "east")]}


# -- training -------------------------------------------------------------------------------


def test_training_needs_the_accelerator_in_inventory() -> None:
    """An option is eligible only where the site stocks that accelerator."""
    document = tiny_instance_dict()
    document["training"][0]["options"] = [{"accelerator": "a100", "count": 8}]
    assert placements(document) == [("west", "a100")]


def test_training_requires_every_tag() -> None:
    """requires_tags keeps only sites carrying all of them."""
    document = three_sites()
    document["training"][0]["requires_tags"] = ["us"]
    assert placements(document) == [("east", "h100"), ("far", "h100"), ("far", "a100")]
    document["training"][0]["requires_tags"] = ["us", "green"]
    assert placements(document) == [("far", "h100"), ("far", "a100")]
    document["training"][0]["requires_tags"] = ["eu"]
    assert placements(document) == []


def test_training_allowed_sites() -> None:
    """allowed_sites limits placements; null means any site."""
    document = three_sites()
    document["training"][0]["allowed_sites"] = ["far", "west"]
    assert placements(document) == [("west", "a100"), ("far", "h100"), ("far", "a100")]
    document["training"][0]["allowed_sites"] = []
    assert placements(document) == []


def test_training_dataset_must_reach_the_site() -> None:
    """With a dataset, only sites reachable from its node are eligible."""
    document = three_sites()
    document["regions"].append({"id": "island"})
    document["sites"].append(
        {
            "id": "lonely",
            "grid_kw": 100,
            "pue": 1,
            "energy_price_per_kwh": 0,
            "inventory": [{"accelerator": "h100", "count": 8}],
        }
    )
    document["training"][0]["dataset"] = {"at": "hub", "size_gb": 1}
    assert ("lonely", "h100") not in placements(document)
    assert ("east", "h100") in placements(document)
    document["training"][0]["dataset"] = {"at": "lonely", "size_gb": 1}
    assert placements(document) == [("lonely", "h100")]
    document["training"][0]["dataset"] = {"at": "island", "size_gb": 1}
    assert placements(document) == []


def test_training_without_dataset_ignores_the_network() -> None:
    """A job without a dataset may run at a site with no links at all."""
    document = tiny_instance_dict()
    document["links"] = []
    assert placements(document) == [("east", "h100"), ("west", "a100")]


def test_option_larger_than_inventory_is_pruned() -> None:
    """Does not fit alone: more accelerators than the site has."""
    document = tiny_instance_dict()
    document["training"][0]["options"][0]["count"] = 9
    assert placements(document) == [("west", "a100")]
    document["training"][0]["options"][0]["count"] = 8
    assert placements(document) == [("east", "h100"), ("west", "a100")]


def test_option_over_grid_power_is_pruned() -> None:
    """Does not fit alone: pue x IT power above grid_kw (exactly equal still fits)."""
    document = tiny_instance_dict()
    document["sites"][0]["grid_kw"] = 4.8  # 4 h100 x 1 kW x pue 1.2
    assert ("east", "h100") in placements(document)
    document["sites"][0]["grid_kw"] = 4.79
    assert ("east", "h100") not in placements(document)


def test_option_over_cooling_is_pruned() -> None:
    """Does not fit alone: IT heat above the cooling limit of the accelerator's kind."""
    document = tiny_instance_dict()
    document["sites"][1]["cooling_kw"] = {"liquid": 4.0, "air": 0}  # 8 a100 x 0.5 kW
    assert ("west", "a100") in placements(document)
    document["sites"][1]["cooling_kw"] = {"liquid": 3.9}
    assert ("west", "a100") not in placements(document)
    document["sites"][1]["cooling_kw"] = {"air": 0}
    assert ("west", "a100") in placements(document)


# -- inference ------------------------------------------------------------------------------


def test_routes_respect_the_slo() -> None:
    """A region is routed only to sites within the latency SLO (equal is within)."""
    document = three_sites()
    document["inference"][0]["profiles"].append({"accelerator": "a100", "per_replica": 2, "rps": 8})
    document["inference"][0]["latency_slo_ms"] = 6
    assert route_pairs(document) == [("nyc", "east"), ("nyc", "west")]
    document["inference"][0]["latency_slo_ms"] = 5.999999
    assert route_pairs(document) == [("nyc", "east")]
    document["inference"][0]["latency_slo_ms"] = 30
    assert route_pairs(document) == [("nyc", "east"), ("nyc", "west"), ("nyc", "far")]


def test_slo_comparison_treats_float_noise_as_equal() -> None:
    """A route of 0.1 + 0.2 ms meets an SLO of 0.3 ms (whole-nanosecond comparison)."""
    document = tiny_instance_dict()
    document["links"] = [
        {"a": "nyc", "b": "hub", "latency_ms": 0.1},
        {"a": "hub", "b": "east", "latency_ms": 0.2},
    ]
    document["inference"][0]["latency_slo_ms"] = 0.3
    assert route_pairs(document) == [("nyc", "east")]


def test_service_tags_and_allowed_sites() -> None:
    """Services obey requires_tags and allowed_sites for replicas and routes."""
    document = three_sites()
    document["inference"][0]["latency_slo_ms"] = 50
    assert replica_sites(document) == [("east", "h100"), ("far", "h100")]
    document["inference"][0]["requires_tags"] = ["green"]
    assert replica_sites(document) == [("far", "h100")]
    assert route_pairs(document) == [("nyc", "far")]
    document["inference"][0]["requires_tags"] = []
    document["inference"][0]["allowed_sites"] = ["east"]
    assert replica_sites(document) == [("east", "h100")]
    assert route_pairs(document) == [("nyc", "east")]


def test_replica_too_big_for_any_site_is_pruned() -> None:
    """A profile whose one replica does not fit a site has no option there."""
    document = three_sites()
    document["inference"][0]["latency_slo_ms"] = 50
    document["inference"][0]["profiles"][0]["per_replica"] = 9
    assert replica_sites(document) == [("far", "h100")]


def test_non_resilient_replicas_only_where_some_region_is_within_slo() -> None:
    """Without n+1, sites that no demand region reaches within the SLO get no replicas."""
    document = three_sites()
    document["inference"][0]["latency_slo_ms"] = 10
    assert replica_sites(document) == [("east", "h100")]


def test_n_plus_one_keeps_replicas_outside_the_slo() -> None:
    """With n+1, every allowed site that fits keeps options; routes still obey the SLO."""
    document = three_sites()
    document["inference"][0]["latency_slo_ms"] = 10
    document["inference"][0]["resilience"] = "n+1"
    assert replica_sites(document) == [("east", "h100"), ("far", "h100")]
    assert route_pairs(document) == [("nyc", "east")]


def test_zero_demand_regions_do_not_count() -> None:
    """A region with zero demand neither gets routes nor keeps a site's replicas alive."""
    document = three_sites()
    document["regions"].append({"id": "dal"})
    document["links"].append({"a": "dal", "b": "far", "latency_ms": 2})
    document["inference"][0]["demand_rps"] = {"nyc": 20, "dal": 0}
    assert replica_sites(document) == [("east", "h100")]
    assert route_pairs(document) == [("nyc", "east")]
    document["inference"][0]["demand_rps"] = {"nyc": 20, "dal": 5}
    assert replica_sites(document) == [("east", "h100"), ("far", "h100")]
    assert route_pairs(document) == [("nyc", "east"), ("dal", "far")]


def test_routes_only_to_sites_with_a_replica_option() -> None:
    """A site within the SLO where no profile fits gets no route."""
    document = tiny_instance_dict()
    document["inference"][0]["latency_slo_ms"] = 10
    # west (6 ms) is within the SLO but stocks no h100.
    assert route_pairs(document) == [("nyc", "east")]


def test_unreachable_demand() -> None:
    """(service, region) pairs with positive demand and no route are reported."""
    document = three_sites()
    document["regions"] += [{"id": "island"}, {"id": "quiet"}]
    document["inference"][0]["demand_rps"] = {"nyc": 20, "island": 5, "quiet": 0}
    instance = eligible(document)
    assert instance.eligibility.unreachable_demand(instance) == [("chat", "island")]
    document["inference"][0]["latency_slo_ms"] = 1
    instance = eligible(document)
    assert instance.eligibility.unreachable_demand(instance) == [
        ("chat", "nyc"),
        ("chat", "island"),
    ]


def test_rich_instance_eligibility() -> None:
    """The rich fixture: tags, allowed sites, dataset at transit, cooling and n+1 together."""
    instance = eligible(rich_instance_dict())
    eligibility = instance.eligibility
    assert [(p.site, p.accelerator) for p in eligibility.training["pretrain"]] == [
        ("dc-a", "h100"),
        ("dc-a", "gb200"),
        ("dc-b", "h100"),
    ]
    # n+1 keeps dc-b although berlin's demand is zero; dc-c lacks the "eu" tag.
    assert [(o.site, o.accelerator) for o in eligibility.replicas["chat"]] == [
        ("dc-a", "h100"),
        ("dc-a", "gb200"),
        ("dc-b", "h100"),
    ]
    assert [(r.region, r.site) for r in eligibility.routes["chat"]] == [
        ("paris", "dc-a"),
        ("paris", "dc-b"),
    ]
    assert eligibility.unreachable_demand(instance) == []


# -- property: the memoised build equals a literal reading of the rules -------------------


def reference(instance: Instance) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Eligibility computed the slow, obvious way from SPEC section 4 and the docstring."""

    def fits(site: Any, accelerator_id: str, count: int) -> bool:
        stock = {item.accelerator: item.count for item in site.inventory}
        accelerator = instance.accelerator_by_id[accelerator_id]
        it_kw = accelerator.power_kw * count
        limit = (site.cooling_kw or {}).get(accelerator.cooling)
        return (
            count <= stock.get(accelerator_id, 0)
            and site.pue * it_kw <= site.grid_kw * (1 + 1e-9)
            and (limit is None or it_kw <= limit * (1 + 1e-9))
        )

    def allowed(site: Any, workload: Any) -> bool:
        return (workload.allowed_sites is None or site.id in workload.allowed_sites) and all(
            tag in site.tags for tag in workload.requires_tags
        )

    training = {
        job.id: [
            (site.id, option.accelerator, option.count)
            for site in instance.sites
            if allowed(site, job)
            and (job.dataset is None or instance.paths.route(job.dataset.at, site.id) is not None)
            for option in job.options
            if fits(site, option.accelerator, option.count)
        ]
        for job in instance.training
    }
    replicas: dict[str, Any] = {}
    routes: dict[str, Any] = {}
    for service in instance.inference:

        def within(region: str, site_id: str, slo: float = service.latency_slo_ms) -> bool:
            route = instance.paths.route(region, site_id)
            return route is not None and route.within(slo)

        demand = [region for region, rps in service.demand_rps.items() if rps > 0]
        options = [
            (site.id, profile.accelerator, profile.per_replica, profile.rps)
            for site in instance.sites
            if allowed(site, service)
            and (service.resilience == "n+1" or any(within(r, site.id) for r in demand))
            for profile in service.profiles
            if fits(site, profile.accelerator, profile.per_replica)
        ]
        hosting = {option[0] for option in options}
        replicas[service.id] = options
        routes[service.id] = [
            (region, site.id)
            for region in demand
            for site in instance.sites
            if site.id in hosting and within(region, site.id)
        ]
    return training, replicas, routes


@st.composite
def random_instances(draw: st.DrawFn) -> Document:
    """Small random instances: 2-5 sites, 1-3 regions, tags, cooling, several workloads."""
    accelerators = [
        {"id": "g1", "memory_gb": 1, "power_kw": 1.0, "cooling": "air"},
        {"id": "g2", "memory_gb": 1, "power_kw": 2.0, "cooling": "liquid"},
    ]
    site_count = draw(st.integers(2, 5))
    region_count = draw(st.integers(1, 3))
    sites = []
    for k in range(site_count):
        stocked = draw(st.lists(st.sampled_from(["g1", "g2"]), unique=True))
        site: Document = {
            "id": f"s{k}",
            "grid_kw": draw(st.sampled_from([4, 8, 20, 100])),
            "pue": draw(st.sampled_from([1.0, 1.25, 2.0])),
            "energy_price_per_kwh": 0,
            "tags": draw(st.lists(st.sampled_from(["x", "y"]), unique=True)),
            "inventory": [{"accelerator": a, "count": draw(st.integers(0, 12))} for a in stocked],
        }
        if draw(st.booleans()):
            site["cooling_kw"] = {"air": draw(st.sampled_from([0, 4, 10]))}
        sites.append(site)
    regions = [f"r{k}" for k in range(region_count)]
    nodes = [s["id"] for s in sites] + regions
    pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    links = [
        {"a": a, "b": b, "latency_ms": draw(st.sampled_from([1, 2.5, 4, 7]))}
        for a, b in draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8))
    ]
    site_ids = [s["id"] for s in sites]
    maybe_sites = st.none() | st.lists(st.sampled_from(site_ids), unique=True)
    tags = st.lists(st.sampled_from(["x", "y"]), unique=True, max_size=1)
    training = [
        {
            "id": f"j{k}",
            "options": [
                {"accelerator": a, "count": draw(st.integers(1, 10))}
                for a in draw(st.lists(st.sampled_from(["g1", "g2"]), unique=True, min_size=1))
            ],
            "run_hours": 1,
            "requires_tags": draw(tags),
            "allowed_sites": draw(maybe_sites),
            **({"dataset": {"at": draw(st.sampled_from(nodes))}} if draw(st.booleans()) else {}),
        }
        for k in range(draw(st.integers(0, 3)))
    ]
    inference = [
        {
            "id": f"i{k}",
            "profiles": [
                {"accelerator": a, "per_replica": draw(st.integers(1, 6)), "rps": 1.0}
                for a in draw(st.lists(st.sampled_from(["g1", "g2"]), unique=True, min_size=1))
            ],
            "demand_rps": {
                r: draw(st.sampled_from([0, 5]))
                for r in draw(st.lists(st.sampled_from(regions), unique=True, min_size=1))
            },
            "latency_slo_ms": draw(st.sampled_from([1, 3.5, 5, 8, 50])),
            "resilience": draw(st.sampled_from(["none", "n+1"])),
            "requires_tags": draw(tags),
            "allowed_sites": draw(maybe_sites),
        }
        for k in range(draw(st.integers(0, 4)))
    ]
    return {
        "schema": "infraplan/v1",
        "name": "random",
        "horizon_hours": 10,
        "accelerators": accelerators,
        "sites": sites,
        "regions": [{"id": r} for r in regions],
        "links": links,
        "training": training,
        "inference": inference,
    }


@settings(max_examples=150, deadline=None)
@given(random_instances())
def test_eligibility_matches_a_literal_reference(document: Document) -> None:
    """Eligibility.build equals the obvious per-pair computation, in the same order."""
    instance = parse_instance(document)
    eligibility = instance.eligibility
    training, replicas, routes = reference(instance)
    assert {
        job: [(p.site, p.accelerator, p.count) for p in found]
        for job, found in eligibility.training.items()
    } == training
    assert {
        service: [(o.site, o.accelerator, o.per_replica, o.rps) for o in found]
        for service, found in eligibility.replicas.items()
    } == replicas
    assert {
        service: [(r.region, r.site) for r in found]
        for service, found in eligibility.routes.items()
    } == routes
