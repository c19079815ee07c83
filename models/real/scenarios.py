"""The real instances: which regions, which year's fleet and workloads, which assumptions.

Each scenario turns the reference figures into one instance document (plain JSON
data, validated by `models.parse_instance` before it is written).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.real import assumptions as A
from models.real.fleet import RegionFacts, region_facts
from models.real.geography import REGION_PLACES
from models.real.topology import Topology, build_topology, relayed_pairs, site_id
from models.real.workload_mix import (
    DEMAND_GROWTH_2027,
    EU_TAG,
    FINE_TUNE_COUNT_2025,
    FINE_TUNE_COUNT_2027,
    PRETRAIN_2025,
    PRETRAIN_2027,
    SERVICES_2025,
    fine_tuning_jobs,
    inference_services,
    pretraining_jobs,
)

if TYPE_CHECKING:
    from models.real.hardware import AcceleratorKind
    from models.real.sources import ReferenceData
    from models.real.topology import AccessModel

LIQUID_READY_TAG = "liquid-ready"

#: Assumptions every instance uses.
COMMON_ASSUMPTIONS = (
    "pcie_host_share_kw",
    "sxm_host_share_applies_to_hgx",
    "tdp_variant",
    "served_bytes_per_param",
    "kv_headroom",
    "replica_sizes",
    "serving_peak_share",
    "tokens_per_request",
    "training_equivalence",
    "inter_region_egress",
    "internet_egress",
    "bandwidth",
    "metro_coordinates",
    "metro_weights",
    "access_latency",
    "region_tiers",
    "inventory_counts",
    "energy_price_fallback",
    "bahrain_proxy",
    "horizon",
    "workload_mix",
    "unserved_cost",
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One real instance to build."""

    name: str
    summary: str
    clouds: tuple[str, ...]
    year: int
    carbon_price: float
    extra_assumptions: tuple[str, ...]

    @property
    def regions(self) -> list[tuple[str, str]]:
        """(cloud, region) of every site, in sorted order."""
        return sorted(key for key in REGION_PLACES if key[0] in self.clouds)

    @property
    def assumption_keys(self) -> tuple[str, ...]:
        """Keys of every assumption the instance rests on."""
        return COMMON_ASSUMPTIONS + self.extra_assumptions


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "real-aws-2025",
        "Single cloud: the 21 AWS regions of the CloudPing matrix with their 2025 on-demand "
        "GPU offer, a month of pre-training, fine-tuning and LLM serving for metros worldwide.",
        ("aws",),
        2025,
        0.0,
        ("pue_cloud_2025", "grid_2025"),
    ),
    Scenario(
        "real-multicloud-2025",
        "Multi-cloud: the 21 AWS regions plus 16 Azure regions on four continents, linked by "
        "each cloud's measured backbone and by peering where two clouds share a metro; the "
        "same month of work as real-aws-2025.",
        ("aws", "azure"),
        2025,
        0.0,
        ("pue_cloud_2025", "grid_2025", "azure_offering", "cloud_peering", "carbon_fallback"),
    ),
    Scenario(
        "real-buildout-2027",
        "2027 build-out under power limits with a carbon price: AWS and Azure regions with "
        "grid budgets that bind, liquid-cooled B200/GB200 campuses only where power is cheap, "
        "committed prices, doubled serving demand and bigger training jobs.",
        ("aws", "azure"),
        2027,
        A.CARBON_PRICE_2027,
        (
            "azure_offering",
            "cloud_peering",
            "carbon_fallback",
            "b200_liquid_2027",
            "liquid_ready_2027",
            "pue_2027",
            "grid_2027",
            "liquid_campus_2027",
            "committed_price_2027",
            "blackwell_price_2027",
            "carbon_price_2027",
        ),
    ),
    Scenario(
        "real-buildout-2027-no-carbon",
        "The 2027 build-out without a carbon price: identical to real-buildout-2027 except "
        "carbon_price_per_tonne = 0, for comparing where the carbon price moves work.",
        ("aws", "azure"),
        2027,
        0.0,
        (
            "azure_offering",
            "cloud_peering",
            "carbon_fallback",
            "b200_liquid_2027",
            "liquid_ready_2027",
            "pue_2027",
            "grid_2027",
            "liquid_campus_2027",
            "committed_price_2027",
            "blackwell_price_2027",
        ),
    ),
)
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}


def is_liquid_ready(facts: RegionFacts) -> bool:
    """A 2027 liquid campus goes where the region's own sourced price is low enough."""
    sourced = facts.energy.price_basis == "sourced"
    return sourced and facts.energy.price_per_kwh <= A.LIQUID_READY_MAX_PRICE


def _site_meta(facts: RegionFacts) -> dict[str, Any]:
    return {
        "cloud": facts.cloud,
        "region": facts.region,
        "city": facts.city,
        "country": facts.country,
        "tier": facts.tier,
        "price_region": facts.price_region,
        "energy_location": facts.energy.location,
        "energy_price_source": facts.energy.price_source,
        "energy_price_basis": facts.energy.price_basis,
        "carbon_source": facts.energy.carbon_source,
        "carbon_basis": facts.energy.carbon_basis,
        "prices": {
            kind_id: {
                "instance_type": offer.row.instance_type,
                "price_per_accelerator_hour": offer.row.price_per_accelerator_hour,
                "source": offer.row.source,
            }
            for kind_id, offer in facts.offers.items()
        },
        "notes": facts.notes,
    }


def site_2025(facts: RegionFacts) -> dict[str, Any]:
    """A site of the 2025 instances: on-demand prices, grid = power of the inventory."""
    inventory = [
        {"accelerator": kind_id, "count": offer.count, "hourly_cost": offer.hourly_cost}
        for kind_id, offer in facts.offers.items()
    ]
    it_kw = sum(offer.kind.power_kw * offer.count for offer in facts.offers.values())
    return {
        "id": facts.id,
        "description": f"{facts.cloud} {facts.region} ({facts.city}, {facts.country})",
        "grid_kw": float(math.ceil(A.PUE_CLOUD_2025 * it_kw)),
        "pue": A.PUE_CLOUD_2025,
        "energy_price_per_kwh": facts.energy.price_per_kwh,
        "carbon_g_per_kwh": facts.energy.carbon_g_per_kwh,
        "tags": [facts.cloud, *([EU_TAG] if facts.is_eu else [])],
        "inventory": inventory,
        "meta": _site_meta(facts),
    }


def site_2027(facts: RegionFacts) -> dict[str, Any]:
    """A site of the 2027 build-out: committed prices, binding grid, liquid campus or none."""
    inventory = [
        {
            "accelerator": kind_id,
            "count": offer.count,
            "hourly_cost": round(A.COMMITTED_PRICE_SHARE * offer.hourly_cost_raw, 4),
        }
        for kind_id, offer in facts.offers.items()
    ]
    liquid = is_liquid_ready(facts)
    grid_kw = A.GRID_2027_AIR_KW[facts.tier]
    liquid_kw = 0.0
    pue = A.PUE_AIR_2027
    if liquid:
        b200, gb200, liquid_kw = A.LIQUID_CAMPUS_2027[facts.tier]
        pue = A.PUE_LIQUID_2027
        grid_kw = A.GRID_2027_LIQUID_READY_KW[facts.tier]
        inventory += [
            {"accelerator": "b200", "count": b200, "hourly_cost": A.B200_HOURLY},
            {"accelerator": "gb200", "count": gb200, "hourly_cost": A.GB200_HOURLY},
        ]
    tags = [
        facts.cloud,
        *([EU_TAG] if facts.is_eu else []),
        *([LIQUID_READY_TAG] if liquid else []),
    ]
    return {
        "id": facts.id,
        "description": f"{facts.cloud} {facts.region} ({facts.city}, {facts.country})"
        + (", liquid-cooled campus" if liquid else ""),
        "grid_kw": round(grid_kw, 1),
        "pue": pue,
        "energy_price_per_kwh": facts.energy.price_per_kwh,
        "carbon_g_per_kwh": facts.energy.carbon_g_per_kwh,
        "cooling_kw": {"liquid": liquid_kw},
        "tags": tags,
        "inventory": sorted(inventory, key=lambda item: str(item["accelerator"])),
        "meta": _site_meta(facts),
    }


def _link_json(topology: Topology) -> list[dict[str, Any]]:
    return [
        {
            "a": link.a,
            "b": link.b,
            "latency_ms": link.latency_ms,
            "egress_cost_per_gb": link.egress_cost_per_gb,
            "meta": {"kind": link.kind, **link.meta},
        }
        for link in topology.links
    ]


def _max_counts(sites: list[dict[str, Any]], eu_only: bool) -> dict[str, int]:
    best: dict[str, int] = {}
    for site in sites:
        if eu_only and EU_TAG not in site["tags"]:
            continue
        for item in site["inventory"]:
            best[item["accelerator"]] = max(best.get(item["accelerator"], 0), item["count"])
    return best


def _cheapest_hourly(sites: list[dict[str, Any]]) -> dict[str, float]:
    """The lowest price per accelerator-hour of each type over all sites."""
    cheapest: dict[str, float] = {}
    for site in sites:
        for item in site["inventory"]:
            kind, price = item["accelerator"], item["hourly_cost"]
            cheapest[kind] = min(cheapest.get(kind, price), price)
    return cheapest


def _training_homes(sites: list[dict[str, Any]], eu_only: bool) -> list[str]:
    """Sites that hold flagship training parts: where fine-tuning data lives."""
    return [
        site["id"]
        for site in sites
        if (not eu_only or EU_TAG in site["tags"])
        and any(item["accelerator"] in ("h100", "h200") for item in site["inventory"])
    ]


def describe(scenario: Scenario, access: AccessModel, topology: Topology, relayed: int) -> str:
    """The instance description: what it is, its public sources and every assumption."""
    lines = [
        scenario.summary,
        "Public figures (each entity's meta names its source row): accelerator specs "
        "(shared/data/accelerators.csv), on-demand prices per accelerator-hour "
        "(cloud_gpu_prices.csv, SkyPilot catalog v6 AWS), measured inter-region RTTs "
        "(region_latency_ms.csv: AWS CloudPing sample, Azure P50), industrial electricity "
        "prices and grid carbon (region_energy.csv: EIA 2023, Eurostat, codecarbon, Google), "
        "DGX/NVL72 system power and PUE ranges (datacenter_facts.md).",
        f"Network: measured links are the mean of both directions rounded to 0.1 ms; links "
        f"strictly slower than a relayed route of measured links are left out "
        f"({len(topology.dropped)} dropped; they lie on no minimum-latency path); "
        f"{relayed} same-cloud pairs are faster relayed than measured. Access latency = "
        f"{access.intra_ms} ms + {access.ms_per_km} ms/km (fitted on {access.pairs_used} AWS "
        f"pairs). Prices rounded to 4 decimals, latencies to 0.1 ms, demand and rps whole.",
        "Assumptions (not public figures):",
    ]
    lines += [f"- {A.ASSUMPTION_BY_KEY[key].line()}" for key in scenario.assumption_keys]
    return "\n".join(lines)


def build_document(
    scenario: Scenario, data: ReferenceData, kinds: dict[str, AcceleratorKind], access: AccessModel
) -> dict[str, Any]:
    """The instance document of one scenario (plain JSON data)."""
    facts = [region_facts(data, kinds, cloud, region) for cloud, region in scenario.regions]
    make_site = site_2025 if scenario.year == 2025 else site_2027
    sites = [make_site(f) for f in facts]
    topology = build_topology(data, scenario.regions, access)
    relayed = len(relayed_pairs(data, scenario.regions, topology.links))
    used_types = sorted({item["accelerator"] for s in sites for item in s["inventory"]})
    used_kinds = {kind_id: kinds[kind_id] for kind_id in used_types}
    max_count, max_count_eu = _max_counts(sites, False), _max_counts(sites, True)
    pretrain = PRETRAIN_2025 if scenario.year == 2025 else PRETRAIN_2027
    fine_tune_count = FINE_TUNE_COUNT_2025 if scenario.year == 2025 else FINE_TUNE_COUNT_2027
    growth = 1 if scenario.year == 2025 else DEMAND_GROWTH_2027
    training = pretraining_jobs(pretrain, used_kinds, max_count, max_count_eu)
    training += fine_tuning_jobs(
        fine_tune_count,
        used_kinds,
        max_count,
        max_count_eu,
        _training_homes(sites, False),
        _training_homes(sites, True),
    )
    accelerators = [
        {
            "id": kind.id,
            "memory_gb": kind.memory_gb,
            "power_kw": kind.power_kw,
            "cooling": kind.cooling,
            "description": f"{kind.spec_name}: {kind.tdp_w:g} W board + "
            f"{kind.host_share_kw:.4f} kW host share",
            "meta": {
                "spec_row": kind.spec_name,
                "catalog_name": kind.price_name,
                "tdp_w": kind.tdp_w,
                "host_share_kw": round(kind.host_share_kw, 4),
                "host_share_basis": kind.host_share_basis,
                "dense_tflops": kind.tflops,
                "tflops_basis": kind.tflops_basis,
                "source": kind.source,
            },
        }
        for kind in used_kinds.values()
    ]
    return {
        "schema": "infraplan/v1",
        "name": scenario.name,
        "description": describe(scenario, access, topology, relayed),
        "horizon_hours": A.HORIZON_HOURS,
        "carbon_price_per_tonne": scenario.carbon_price,
        "accelerators": accelerators,
        "sites": sites,
        "regions": [
            {
                "id": metro.id,
                "description": f"{metro.name} ({metro.country}), attached to "
                f"{topology.attachment[metro.id]}",
                "meta": {
                    "weight": metro.weight,
                    "markets": sorted(metro.markets),
                    "lat": metro.place.lat,
                    "lon": metro.place.lon,
                },
            }
            for metro in topology.metros
        ],
        "links": _link_json(topology),
        "training": training,
        "inference": inference_services(SERVICES_2025, used_kinds, _cheapest_hourly(sites), growth),
        "meta": {
            "builder": "infraplan build-real",
            "year": scenario.year,
            "access_intra_ms": access.intra_ms,
            "access_ms_per_km": access.ms_per_km,
            "dropped_measured_links": len(topology.dropped),
            "dropped_pairs": [
                [site_id(p.cloud, p.a), site_id(p.cloud, p.b), p.latency_ms]
                for p in topology.dropped
            ],
            "relayed_same_cloud_pairs": relayed,
            "assumptions": list(scenario.assumption_keys),
        },
    }
