"""Planning assumptions: every figure the builder uses that is not a public number.

Each assumption has a stable key, its value and a sentence saying what it stands
for. Instances name the ones they use in their description; the README lists them
all. Public figures are not here: they are read from the reference data folder
(`models/data/reference/`) and carry their source in the entity's `meta`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Assumption:
    """A named planning assumption: key, value with unit, and what it stands for."""

    key: str
    value: str
    text: str

    def line(self) -> str:
        """One line for a description or README: key = value: text."""
        return f"{self.key} = {self.value}: {self.text}"


# -- hardware -----------------------------------------------------------------------

PCIE_HOST_SHARE_KW = 0.1
#: Tensor-parallel replica sizes an inference profile may use.
REPLICA_SIZES = (1, 2, 4, 8)
#: Bytes per parameter of served weights (BF16/FP16).
BYTES_PER_PARAM = 2.0
#: Memory a replica needs beyond its weights (KV cache, activations), as a share of the weights.
KV_HEADROOM = 0.2
#: Share of dense BF16/FP16 peak sustained while serving.
SERVING_PEAK_SHARE = 0.35
#: Prompt plus generated tokens per request.
TOKENS_PER_REQUEST = 1000
#: Accelerators per server: training options are whole servers.
SERVER_SIZE = 8
#: GB200 is rented in NVL72 racks.
GB200_RACK = 72

# -- network ------------------------------------------------------------------------

INTER_REGION_EGRESS_PER_GB = 0.02
INTERNET_EGRESS_PER_GB = 0.09
#: Two regions of different clouds are interconnected when at most this far apart.
PEERING_MAX_KM = 300.0

# -- sites --------------------------------------------------------------------------

PUE_CLOUD_2025 = 1.15
PUE_LIQUID_2027 = 1.10
PUE_AIR_2027 = 1.20
#: Region tiers by how many accelerator types the region offers in the price data.
MAJOR_TIER_MIN_TYPES = 8
STANDARD_TIER_MIN_TYPES = 5
#: 2027: liquid-cooled campuses where the sourced industrial price is at most this.
LIQUID_READY_MAX_PRICE = 0.11
#: 2027 prices as a share of the 2025 on-demand price (multi-year commitment).
COMMITTED_PRICE_SHARE = 0.5
#: 2027 fleet price per accelerator-hour of the new Blackwell parts, the same at every site.
B200_HOURLY = 9.0
GB200_HOURLY = 11.0
CARBON_PRICE_2027 = 100.0
#: 2027 facility power (kW) of a region, per tier: air-only regions, liquid-ready regions.
GRID_2027_AIR_KW = {"major": 12000.0, "standard": 6000.0, "small": 2000.0}
GRID_2027_LIQUID_READY_KW = {"major": 16000.0, "standard": 5000.0, "small": 5000.0}
#: 2027 liquid-cooled campus at a liquid-ready region, per tier of the region:
#: (B200 count, GB200 count, liquid cooling kW of IT heat).
LIQUID_CAMPUS_2027 = {
    "major": (8192, 9216, 16000.0),
    "standard": (2048, 2304, 5000.0),
    "small": (2048, 2304, 5000.0),
}

# -- workloads ----------------------------------------------------------------------

HORIZON_HOURS = 730.0
#: Unserved demand costs this many times the cheapest way to serve it in the instance.
UNSERVED_COST_MULTIPLE = 5.0


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "pcie_host_share_kw",
        f"{PCIE_HOST_SHARE_KW} kW",
        "host power (CPU, memory, fans, NIC) added per PCIe card (L4, L40S, A10G, T4); "
        "no public per-card figure was found",
    ),
    Assumption(
        "sxm_host_share_applies_to_hgx",
        "0.575 kW",
        "the DGX H100 host share per GPU (derived from public figures) is also used for the "
        "other 8-GPU SXM servers (H200, A100, V100); their own system power is not in the data",
    ),
    Assumption(
        "tdp_variant",
        "SXM value",
        "where accelerators.csv gives two board powers or memories, the variant in the "
        "cloud instance is used (A100 40GB: 400 W SXM4 in p4d; V100: 16 GB in p3, 32 GB in p3dn)",
    ),
    Assumption(
        "b200_liquid_2027",
        "liquid",
        "B200 is deployed liquid-cooled in the 2027 build-out: a rack of four 14.3 kW DGX B200 "
        "(57 kW) exceeds the 20-45 kW air-cooled GPU racks of datacenter_facts.md",
    ),
    Assumption(
        "served_bytes_per_param",
        f"{BYTES_PER_PARAM:g}",
        "served weights are BF16/FP16 (2 bytes per parameter)",
    ),
    Assumption(
        "kv_headroom",
        f"{KV_HEADROOM:.0%}",
        "a replica needs memory for its weights plus this share for KV cache and activations",
    ),
    Assumption(
        "replica_sizes",
        "1, 2, 4, 8",
        "tensor-parallel replica sizes; a model that needs more than 8 accelerators of a type "
        "is not served on that type",
    ),
    Assumption(
        "serving_peak_share",
        f"{SERVING_PEAK_SHARE:g}",
        "share of dense BF16 (FP16 where no BF16) peak TFLOPS sustained while serving",
    ),
    Assumption(
        "tokens_per_request",
        f"{TOKENS_PER_REQUEST}",
        "prompt plus generated tokens per request; a token costs 2 x parameters FLOPs; "
        "rps per replica = replica TFLOPS x share / (2 x params x tokens), rounded down",
    ),
    Assumption(
        "training_equivalence",
        "BF16 TFLOPS parity",
        "a training job sized in H100 SXM is offered on other types at the count with equal "
        "dense BF16 TFLOPS, rounded up to whole 8-GPU servers (72-GPU racks for GB200); "
        "run hours are the same for every option",
    ),
    Assumption(
        "inter_region_egress",
        f"{INTER_REGION_EGRESS_PER_GB} USD/GB",
        "egress price per GB on a link between two regions of one cloud "
        "(the usual hyperscaler inter-region list price; not in the shared data)",
    ),
    Assumption(
        "internet_egress",
        f"{INTERNET_EGRESS_PER_GB} USD/GB",
        "egress price per GB on a metro access link and on a link between two clouds "
        "(the usual first-tier internet egress list price; not in the shared data)",
    ),
    Assumption(
        "bandwidth",
        "unlimited",
        "no inter-region bandwidth figures exist in the shared data, so links carry no limit",
    ),
    Assumption(
        "metro_coordinates",
        "approximate",
        "city and region coordinates (to 0.01 degree) used only to attach metros to their "
        "nearest region and to size access latency",
    ),
    Assumption(
        "metro_weights",
        "millions, rounded",
        "metro demand weights are approximate urban-agglomeration populations in millions "
        "(orders of magnitude of UN World Urbanization Prospects; not in the shared data)",
    ),
    Assumption(
        "access_latency",
        "intra + slope x km",
        "a metro's access round trip to its nearest region = the median measured intra-region "
        "RTT plus the median measured RTT per great-circle km over all AWS region pairs; "
        "both constants are fitted from the AWS matrix at build time",
    ),
    Assumption(
        "cloud_peering",
        f"<= {PEERING_MAX_KM:g} km",
        "regions of two clouds in the same metro area are linked directly, with the access "
        "latency formula; other cross-cloud traffic goes over measured backbones",
    ),
    Assumption(
        "pue_cloud_2025",
        f"{PUE_CLOUD_2025}",
        "PUE of every cloud region in the 2025 instances (upper end of the hyperscale "
        "1.08-1.15 planning range in datacenter_facts.md)",
    ),
    Assumption(
        "region_tiers",
        f">= {MAJOR_TIER_MIN_TYPES} types major, >= {STANDARD_TIER_MIN_TYPES} standard",
        "a region's size is judged by how many accelerator types it offers in the price data",
    ),
    Assumption(
        "inventory_counts",
        "per tier and class",
        "accelerators a planner can obtain per region: flagship training parts (H100, H200) "
        "16384/4096/1024, older training parts (A100, V100) 4096/1024/512, inference cards "
        "(L40S, L4, A10G, T4) 8192/2048/512 for major/standard/small regions",
    ),
    Assumption(
        "grid_2025",
        "inventory power",
        "2025 grid budget of a region = PUE x IT power of its whole inventory (not binding: "
        "a cloud customer is limited by the capacity it can obtain)",
    ),
    Assumption(
        "azure_offering",
        "twin AWS region",
        "no Azure prices are in the shared data: an Azure region offers the types of the "
        "nearest AWS region, at that region's on-demand price (price parity between clouds)",
    ),
    Assumption(
        "energy_price_fallback",
        "continent average",
        "where region_energy.csv has no industrial price, the GlobalPetrolPrices March 2024 "
        "continent-average business price quoted in the data README is used",
    ),
    Assumption(
        "bahrain_proxy",
        "Qatar",
        "me-south-1 (Bahrain) has no energy row; Qatar's price and carbon (gas-fired Gulf grid) "
        "stand in",
    ),
    Assumption(
        "carbon_fallback",
        "older or national figure",
        "where region_energy.csv has no carbon value: Washington uses the codecarbon eGRID "
        "figure of azure westus2, Arizona the United States national figure",
    ),
    Assumption(
        "horizon",
        f"{HORIZON_HOURS:g} h",
        "the planning period is one month",
    ),
    Assumption(
        "workload_mix",
        "synthetic",
        "job sizes, run hours, datasets, service demand totals, SLOs and request sizes are "
        "a planner's illustrative mix, drawn from fixed tables and a fixed-seed generator",
    ),
    Assumption(
        "unserved_cost",
        f"{UNSERVED_COST_MULTIPLE:g} x cheapest serving cost",
        "value of demand left unserved, for services that may drop demand: this multiple of "
        "the cheapest hourly cost per rps of the service in the instance (cheapest site price "
        "of a type x accelerators per replica / rps per replica), rounded to 4 decimals",
    ),
    Assumption(
        "liquid_ready_2027",
        f"industrial price <= {LIQUID_READY_MAX_PRICE} USD/kWh",
        "2027 liquid-cooled campuses (B200, GB200) are assumed where the region's sourced "
        "industrial electricity price is at most this",
    ),
    Assumption(
        "pue_2027",
        f"{PUE_LIQUID_2027} liquid campus, {PUE_AIR_2027} air-only",
        "2027 PUE: new liquid-cooled campuses at Google's fleet figure, air-only halls at a "
        "modern colocation level",
    ),
    Assumption(
        "grid_2027",
        "per tier",
        "2027 facility power per region: 12/6/2 MW for air-only major/standard/small regions, "
        "16/5/5 MW for liquid-ready ones (campus and halls together); below the power the "
        "inventory draws, so power, not hardware, limits the plan",
    ),
    Assumption(
        "liquid_campus_2027",
        "8192 B200 + 9216 GB200, 16 MW (major); 2048 + 2304, 5 MW (others)",
        "Blackwell parts delivered to each liquid-ready campus and the IT heat its liquid "
        "loop removes (less than the parts draw, more than the grid can feed: the grid budget "
        "binds first); other sites have no liquid cooling",
    ),
    Assumption(
        "committed_price_2027",
        f"{COMMITTED_PRICE_SHARE:.0%} of 2025 on-demand",
        "2027 hourly cost of the existing types under a multi-year commitment",
    ),
    Assumption(
        "blackwell_price_2027",
        f"B200 {B200_HOURLY} / GB200 {GB200_HOURLY} USD per accelerator-hour",
        "fleet price of the new parts, the same at every site (no public per-region figure; "
        "the GCP B200 rows are GPU-only and inconsistent across regions)",
    ),
    Assumption(
        "carbon_price_2027",
        f"{CARBON_PRICE_2027:g} USD/t",
        "carbon price of the 2027 scenario (the twin instance has none)",
    ),
)

ASSUMPTION_BY_KEY: dict[str, Assumption] = {a.key: a for a in ASSUMPTIONS}
