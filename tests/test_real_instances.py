"""Tests of the real-world instances: the committed files against the source rows.

The source rows (models/data/reference/, or where $INFRAPLAN_SHARED points) are read
here with the csv module, independently of the builder's own parser. Rounding
conventions checked: prices to 4 decimals, latencies to 0.1 ms (mean of both measured
directions), power to 0.1 W, carbon as in the source row.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from models import Instance, load_instance, parse_instance
from models.paths import link_graph, shortest_paths_from
from models.real import SCENARIOS, build_real_instances, greedy_plan, plan_solution
from models.real.assumptions import ASSUMPTION_BY_KEY
from models.real.hardware import KIND_BY_ID, KINDS, accelerator_kinds, serving_profile
from models.real.hardware import training_count as equivalent_count
from models.real.sources import BUNDLED_DATA, SHARED_ENV, data_dir, load_reference_data
from models.real.workload_mix import split_by_weight
from solver.evaluate import evaluate
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from models.real import BuiltInstance

REAL_DIR = Path(__file__).resolve().parent.parent / "instances" / "real"
NAMES = [s.name for s in SCENARIOS]
YEAR = {s.name: s.year for s in SCENARIOS}
COMMITTED_SHARE_2027 = 0.5
ASSUMPTION_MENTION = re.compile(r"assumption ([a-z0-9_]+)")


def _rows(name: str) -> list[dict[str, str]]:
    with (data_dir() / name).open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def instances() -> dict[str, Instance]:
    """The committed real instances, validated."""
    return {name: load_instance(REAL_DIR / f"{name}.json") for name in NAMES}


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[BuiltInstance]]:
    """A fresh build from the reference data into a temporary folder."""
    out = tmp_path_factory.mktemp("real")
    return out, build_real_instances(out)


def _link_latency(instance: Instance) -> dict[frozenset[str], float]:
    return {frozenset((link.a, link.b)): link.latency_ms for link in instance.links}


# -- the committed files ---------------------------------------------------------------


def test_committed_instances_validate_and_stay_small(instances: dict[str, Instance]) -> None:
    """Every real instance loads, validates, and is well under 2 MB."""
    assert sorted(instances) == sorted(NAMES)
    for name in NAMES:
        assert (REAL_DIR / f"{name}.json").stat().st_size < 2_000_000


def test_sizes_are_what_the_issue_asks(instances: dict[str, Instance]) -> None:
    """20-60 sites, a few large pre-training jobs, tens of fine-tunes and of services."""
    for instance in instances.values():
        assert 20 <= len(instance.sites) <= 60
        kinds = [(job.meta or {})["kind"] for job in instance.training]
        assert 3 <= kinds.count("pre-training") <= 8
        assert kinds.count("fine-tuning") >= 20
        assert len(instance.inference) >= 15
        sizes = [(job.meta or {})["h100_equivalent"] for job in instance.training]
        assert max(sizes) == 16384


def test_aws_instance_holds_the_21_measured_regions(instances: dict[str, Instance]) -> None:
    """The single-cloud instance has exactly the 21 regions of the AWS latency matrix."""
    regions = {
        row["from_region"]
        for row in _rows("region_latency_ms.csv")
        if row["source_id"] == "AWS_CLOUDPING_LIBP2P"
    }
    assert len(regions) == 21
    assert {s.id for s in instances["real-aws-2025"].sites} == {f"aws-{r}" for r in regions}


def test_multicloud_spans_four_continents(instances: dict[str, Instance]) -> None:
    """The multi-cloud instance adds Azure regions in America, Europe, Asia and Australia."""
    azure = [s for s in instances["real-multicloud-2025"].sites if s.id.startswith("azure-")]
    countries = {(s.meta or {})["country"] for s in azure}
    assert len(azure) >= 12
    assert {"United States", "Ireland", "Japan", "Australia", "Brazil"} <= countries


def test_every_assumption_is_named_in_description_and_readme(
    instances: dict[str, Instance],
) -> None:
    """Assumptions an instance rests on, or its entities mention, are listed by name."""
    readme = (REAL_DIR / "README.md").read_text(encoding="utf-8")
    for instance in instances.values():
        listed = set((instance.meta or {})["assumptions"])
        assert instance.description is not None
        for key in listed:
            assert f"- {key} = {ASSUMPTION_BY_KEY[key].value}" in instance.description
            assert f"**{key}**" in readme
        mentioned = set(ASSUMPTION_MENTION.findall(instance.model_dump_json()))
        assert mentioned <= listed, mentioned - listed


def test_demand_and_rps_are_whole_numbers(instances: dict[str, Instance]) -> None:
    """Every demand_rps and profile rps is a whole number, as the solver wants."""
    for instance in instances.values():
        for service in instance.inference:
            assert all(float(v).is_integer() for v in service.demand_rps.values())
            assert all(float(p.rps).is_integer() for p in service.profiles)


def test_demand_follows_metro_weights(instances: dict[str, Instance]) -> None:
    """A service's demand is split over its metros by their weights, within one rps."""
    instance = instances["real-aws-2025"]
    weight = {r.id: (r.meta or {})["weight"] for r in instance.regions}
    for service in instance.inference:
        total = sum(service.demand_rps.values())
        market = [r.id for r in instance.regions if _in_market(r.meta or {}, service)]
        market_weight = sum(weight[m] for m in market)
        for metro in market:
            exact = total * weight[metro] / market_weight
            assert abs(service.demand_rps.get(metro, 0.0) - exact) < 1.0


def _in_market(region_meta: dict[str, Any], service: Any) -> bool:
    market = (service.meta or {})["market"]
    return bool(market == "global" or market in region_meta["markets"])


def test_dropped_demand_costs_five_times_the_cheapest_serving(
    instances: dict[str, Instance],
) -> None:
    """A droppable service's unserved cost is 5x its cheapest hourly cost per rps."""
    for instance in instances.values():
        cheapest: dict[str, float] = {}
        for site in instance.sites:
            for item in site.inventory:
                cheapest[item.accelerator] = min(
                    cheapest.get(item.accelerator, item.hourly_cost), item.hourly_cost
                )
        droppable = [s for s in instance.inference if s.unserved_cost_per_rps_hour is not None]
        assert droppable
        for service in droppable:
            serving = min(cheapest[p.accelerator] * p.per_replica / p.rps for p in service.profiles)
            assert service.unserved_cost_per_rps_hour == round(5 * serving, 4)


def test_eu_workloads_need_eu_sites_and_only_eu_sites_are_tagged(
    instances: dict[str, Instance],
) -> None:
    """Data-residency: EU services require the eu tag, carried only by EU-country sites."""
    eu_countries = {"Ireland", "France", "Germany", "Sweden", "Italy", "Netherlands"}
    for instance in instances.values():
        for site in instance.sites:
            assert ("eu" in site.tags) == ((site.meta or {})["country"] in eu_countries)
        for service in instance.inference:
            assert ("eu" in service.requires_tags) == ((service.meta or {})["market"] == "eu")


def test_slos_span_30_to_200_ms(instances: dict[str, Instance]) -> None:
    """Service SLOs run from 30 to 200 ms and model sizes from 8B to 405B."""
    for instance in instances.values():
        slos = {s.latency_slo_ms for s in instance.inference}
        assert min(slos) == 30
        assert max(slos) == 200
        sizes = {(s.meta or {})["model_params_b"] for s in instance.inference}
        assert {8, 70, 405} <= sizes


def test_liquid_parts_only_where_liquid_cooling_exists(instances: dict[str, Instance]) -> None:
    """2027: B200/GB200 sit only at liquid-ready sites; other sites remove no liquid heat."""
    for name in ("real-buildout-2027", "real-buildout-2027-no-carbon"):
        instance = instances[name]
        liquid_types = {a.id for a in instance.accelerators if a.cooling == "liquid"}
        assert liquid_types == {"b200", "gb200"}
        for site in instance.sites:
            limit = site.cooling_limit_kw("liquid")
            has_liquid_parts = any(i.accelerator in liquid_types for i in site.inventory)
            assert limit is not None
            assert has_liquid_parts == (limit > 0) == ("liquid-ready" in site.tags)


def test_2027_power_budgets_are_below_the_inventory_draw(instances: dict[str, Instance]) -> None:
    """2027: a site with training parts cannot run its whole inventory at once, and a liquid
    campus cannot cool all its liquid parts."""
    instance = instances["real-buildout-2027"]
    power = {a.id: a.power_kw for a in instance.accelerators}
    training_parts = {"h100", "h200", "b200", "gb200"}
    for site in instance.sites:
        draw = sum(power[i.accelerator] * i.count for i in site.inventory)
        if training_parts & {i.accelerator for i in site.inventory}:
            assert site.grid_kw < site.pue * draw
        liquid_draw = sum(
            power[i.accelerator] * i.count
            for i in site.inventory
            if i.accelerator in ("b200", "gb200")
        )
        limit = site.cooling_limit_kw("liquid")
        assert limit is not None
        assert limit <= liquid_draw


def test_2027_twins_differ_only_in_carbon_price(instances: dict[str, Instance]) -> None:
    """The two 2027 instances are the same apart from name, description and carbon price."""
    with_price = instances["real-buildout-2027"]
    without = instances["real-buildout-2027-no-carbon"]
    assert with_price.carbon_price_per_tonne > 0
    assert without.carbon_price_per_tonne == 0
    skip = {"name", "description", "carbon_price_per_tonne", "meta"}
    for field in type(with_price).model_fields:
        if field not in skip:
            assert getattr(with_price, field) == getattr(without, field), field


def test_greedy_plans_pass_the_evaluator(instances: dict[str, Instance]) -> None:
    """The builder's feasibility proof is a plan the independent evaluator accepts."""
    for instance in instances.values():
        plan = plan_solution(instance, greedy_plan(instance))
        priced = evaluate(instance, plan)
        plan = plan.model_copy(update={"objective": priced.objective, "costs": priced.costs})
        assert_valid_plan(instance, plan)
        assert not [j for j in instance.training if j.required and j.id in plan.unplaced_training]


# -- against the source rows ---------------------------------------------------------


def test_hourly_costs_equal_the_price_rows(instances: dict[str, Instance]) -> None:
    """Each hourly_cost is its named price row's on-demand price per accelerator-hour."""
    rows = {(r["cloud"], r["region"], r["instance_type"]): r for r in _rows("cloud_gpu_prices.csv")}
    checked = 0
    for name, instance in instances.items():
        share = 1.0 if YEAR[name] == 2025 else COMMITTED_SHARE_2027
        for site in instance.sites:
            meta = site.meta or {}
            cloud, _, region = str(meta["price_region"]).partition(":")
            for item in site.inventory:
                if item.accelerator in ("b200", "gb200"):
                    continue
                price = meta["prices"][item.accelerator]
                row = rows[cloud, region, price["instance_type"]]
                assert row["accelerator"] == KIND_BY_ID[item.accelerator].price_name
                assert item.hourly_cost == round(
                    share * float(row["price_per_accelerator_hour"]), 4
                )
                assert price["source"] == row["source"]
                checked += 1
    assert checked > 300


def test_a_known_price_row_by_hand(instances: dict[str, Instance]) -> None:
    """aws us-east-1 H100 is p5.48xlarge at 98.32 USD for 8 GPUs: 12.29 per GPU-hour."""
    site = next(s for s in instances["real-aws-2025"].sites if s.id == "aws-us-east-1")
    h100 = next(i for i in site.inventory if i.accelerator == "h100")
    assert h100.hourly_cost == 12.29
    row = next(
        r
        for r in _rows("cloud_gpu_prices.csv")
        if (r["region"], r["instance_type"]) == ("us-east-1", "p5.48xlarge")
    )
    assert float(row["price_per_hour"]) / int(row["accelerator_count"]) == pytest.approx(12.29)


def test_only_types_the_region_offers_are_in_inventory(instances: dict[str, Instance]) -> None:
    """An AWS site's types are exactly those with an on-demand price row in its region."""
    offered: dict[str, set[str]] = {}
    for row in _rows("cloud_gpu_prices.csv"):
        if row["cloud"] == "aws" and row["price_per_accelerator_hour"].strip():
            offered.setdefault(row["region"], set()).add(row["accelerator"])
    for site in instances["real-aws-2025"].sites:
        region = site.id.removeprefix("aws-")
        names = {KIND_BY_ID[i.accelerator].price_name for i in site.inventory}
        assert names == offered.get(region, set()) & {k.price_name for k in KINDS}


def test_power_figures_equal_the_spec_rows(instances: dict[str, Instance]) -> None:
    """power_kw = board power from accelerators.csv + the stated host share; memory as listed."""
    specs = {r["accelerator"]: r for r in _rows("accelerators.csv")}
    facts = (data_dir() / "datacenter_facts.md").read_text(encoding="utf-8")
    for fact in ("10.2 kW", "14.3 kW", "120 kW"):
        assert fact in facts
    host_share = {"hgx": (10.2 - 8 * 0.7) / 8, "dgx-b200": (14.3 - 8 * 1.0) / 8}
    host_share |= {"nvl72": (120 - 72 * 1.2) / 72, "pcie": 0.1}
    assert specs["H100 SXM"]["tdp_w"] == "700"
    for instance in instances.values():
        for accelerator in instance.accelerators:
            kind = KIND_BY_ID[accelerator.id]
            spec = specs[kind.spec_name]
            tdp_w = float(re.findall(r"\d+", spec["tdp_w"])[0])
            expected = round(tdp_w / 1000 + host_share[kind.server], 4)
            assert accelerator.power_kw == expected
            memory = kind.memory_variant_gb or float(spec["memory_gb"])
            assert accelerator.memory_gb == memory
    h100 = next(a for a in instances["real-aws-2025"].accelerators if a.id == "h100")
    assert h100.power_kw * 8 == pytest.approx(10.2)


def test_measured_links_equal_the_latency_rows(instances: dict[str, Instance]) -> None:
    """A measured link's latency is the mean of both directed rows, rounded to 0.1 ms."""
    # region_locations.csv names each region's node in the matrix ("azure:East US").
    node_of = {
        f"{r['cloud']}-{r['region']}": r["latency_dataset_node"].partition(":")[2]
        for r in _rows("region_locations.csv")
    }
    rtt: dict[tuple[str, str, str], float] = {}
    for row in _rows("region_latency_ms.csv"):
        rtt[row["cloud"], row["from_region"], row["to_region"]] = float(row["rtt_ms"])

    def node(site_id: str) -> tuple[str, str]:
        return site_id.partition("-")[0], node_of[site_id]

    checked = 0
    for instance in instances.values():
        for link in instance.links:
            if (link.meta or {})["kind"] != "measured":
                continue
            (cloud, a), (_, b) = node(link.a), node(link.b)
            expected = round((rtt[cloud, a, b] + rtt[cloud, b, a]) / 2 * 10) / 10
            assert link.latency_ms == expected
            checked += 1
    assert checked > 400


def test_a_known_latency_by_hand(instances: dict[str, Instance]) -> None:
    """us-east-1 to us-east-2 is 13 ms one way and 12 ms back in the sample: 12.5 ms."""
    latency = _link_latency(instances["real-aws-2025"])
    assert latency[frozenset(("aws-us-east-1", "aws-us-east-2"))] == 12.5


def test_dropped_links_are_on_no_shortest_path(instances: dict[str, Instance]) -> None:
    """A missing measured pair has a strictly faster route; a kept link is a shortest path."""
    aws_rows = [r for r in _rows("region_latency_ms.csv") if r["cloud"] == "aws"]
    rtt = {(r["from_region"], r["to_region"]): float(r["rtt_ms"]) for r in aws_rows}
    instance = instances["real-aws-2025"]
    graph = link_graph(instance)
    latency = _link_latency(instance)
    regions = sorted({a for a, _ in rtt})
    for a in regions:
        paths = shortest_paths_from(graph, f"aws-{a}")
        for b in regions:
            if a >= b:
                continue
            nodes = paths[f"aws-{b}"]
            shortest = sum(latency[frozenset(p)] for p in itertools.pairwise(nodes))
            measured = round((rtt[a, b] + rtt[b, a]) / 2 * 10) / 10
            direct = latency.get(frozenset((f"aws-{a}", f"aws-{b}")))
            if direct is None:
                assert shortest < measured - 1e-9
            else:
                assert direct == measured
                assert math.isclose(shortest, measured)


def test_energy_and_carbon_equal_the_energy_rows(instances: dict[str, Instance]) -> None:
    """Sourced (and proxy) energy prices and carbon equal their region_energy.csv row;
    fallbacks name their assumption and fill only blanks of the table."""
    energy = {r["location"]: r for r in _rows("region_energy.csv")}
    readme = (data_dir() / "README.md").read_text(encoding="utf-8")
    locations = {f"{r['cloud']}-{r['region']}": r for r in _rows("region_locations.csv")}
    for instance in instances.values():
        for site in instance.sites:
            meta = site.meta or {}
            row = energy[meta["energy_location"]]
            own_key = locations[site.id]["energy_location_key"]
            assert (meta["energy_location"] == own_key) == (meta["energy_price_basis"] != "proxy")
            if meta["energy_price_basis"] == "fallback":
                assert "energy_price_fallback" in meta["energy_price_source"]
                assert not row["industrial_price_usd_kwh"].strip()
                assert f"{site.energy_price_per_kwh:g}" in readme
            else:
                assert site.energy_price_per_kwh == round(float(row["industrial_price_usd_kwh"]), 4)
            if meta["carbon_basis"] == "fallback":
                assert "carbon_fallback" in meta["carbon_source"]
                assert not row["carbon_gco2_kwh"].strip()
            else:
                assert site.carbon_g_per_kwh == float(row["carbon_gco2_kwh"])


def test_a_known_energy_row_by_hand(instances: dict[str, Instance]) -> None:
    """Ohio (aws us-east-2): EIA 2023 industrial 0.0703 USD/kWh, Google carbon 323.05 g/kWh."""
    site = next(s for s in instances["real-aws-2025"].sites if s.id == "aws-us-east-2")
    assert (site.energy_price_per_kwh, site.carbon_g_per_kwh) == (0.0703, 323.05)


def test_committed_files_are_what_the_builder_makes(
    rebuilt: tuple[Path, list[BuiltInstance]],
) -> None:
    """Rebuilding from the reference data gives the committed JSON and README byte for byte."""
    out, built = rebuilt
    assert [b.instance.name for b in built] == NAMES
    for name in [*[f"{n}.json" for n in NAMES], "README.md"]:
        assert (out / name).read_bytes() == (REAL_DIR / name).read_bytes(), name


def test_builder_rejects_unknown_names_and_missing_data(tmp_path: Path) -> None:
    """Unknown instance names and an absent data folder are errors, not tracebacks."""
    with pytest.raises(ValueError, match="unknown real instance"):
        build_real_instances(tmp_path, names=["nope"])
    with pytest.raises(FileNotFoundError, match=SHARED_ENV):
        build_real_instances(tmp_path, shared=tmp_path / "nowhere")


# -- the derivations -----------------------------------------------------------------


def test_data_dir_follows_the_argument_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--shared, else $INFRAPLAN_SHARED, else the copy that ships in models/data/reference."""
    monkeypatch.delenv(SHARED_ENV, raising=False)
    assert data_dir() == BUNDLED_DATA
    assert REAL_DIR.parent.parent / "models" / "data" / "reference" == BUNDLED_DATA
    monkeypatch.setenv(SHARED_ENV, str(tmp_path))
    assert data_dir() == tmp_path / "data"
    assert data_dir(tmp_path / "other") == tmp_path / "other" / "data"


def test_split_by_weight_is_whole_and_exact() -> None:
    """Largest-remainder shares sum to the total and stay within one of the exact share."""
    shares = split_by_weight(100, {"a": 1, "b": 1, "c": 1})
    assert shares == {"a": 34, "b": 33, "c": 33}
    assert sum(split_by_weight(997, {"x": 19, "y": 12, "z": 0.5}).values()) == 997


def test_serving_profiles_by_hand() -> None:
    """70B: 168 GB with headroom, so 4 x H100 at 4 x 989.4 x 0.35 / 140 = 9.9 -> 9 rps."""
    kinds = accelerator_kinds(load_reference_data())
    h100 = serving_profile(kinds["h100"], 70)
    assert h100 is not None
    assert (h100.per_replica, h100.rps) == (4, 9)
    h200 = serving_profile(kinds["h200"], 405)
    assert h200 is not None
    assert (h200.per_replica, h200.rps) == (8, 3)
    assert serving_profile(kinds["h100"], 405) is None


def test_training_equivalents_by_hand() -> None:
    """16,384 H100 = 16,384 x 989.4 / 2,500 = 6,484.2 GB200 -> 91 racks of 72 = 6,552."""
    kinds = accelerator_kinds(load_reference_data())
    assert equivalent_count(kinds["gb200"], kinds["h100"], 16384) == 6552
    assert equivalent_count(kinds["h200"], kinds["h100"], 16384) == 16392


def test_committed_json_round_trips(instances: dict[str, Instance]) -> None:
    """The committed JSON round-trips through parse_instance unchanged."""
    instance = instances["real-multicloud-2025"]
    document = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert parse_instance(document) == instance


@pytest.mark.slow
def test_solver_beats_the_greedy_plan_on_the_aws_instance(instances: dict[str, Instance]) -> None:
    """CP-SAT finds a plan the evaluator accepts, at most the greedy plan's cost."""
    from solver import solve

    instance = instances["real-aws-2025"]
    greedy = evaluate(instance, plan_solution(instance, greedy_plan(instance))).objective
    solution = solve(instance, time_limit_s=20, workers=2, seed=0)
    assert solution.status in ("optimal", "feasible")
    assert_valid_plan(instance, solution)
    assert solution.objective is not None
    assert solution.objective <= greedy
