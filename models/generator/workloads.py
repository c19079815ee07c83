"""Training jobs and inference services, each drawn together with its witness placement.

Every workload is generated around a plan that already works: a training job's options are
built from the accelerator stocked at the site it is placed on; a service's profiles include
the accelerator of a nearby site that serves it, and its latency SLO is set from the latency of
the routes the witness uses. Sizing (`sizing.py`) then gives inventory, power, cooling and link
bandwidth room for exactly this plan.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.catalog import ACCELERATORS, CatalogAccelerator, accelerator
from models.generator.network import chance, pick, uniform

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from models.generator.network import NetworkDraft, RegionDraft, SiteDraft

#: Training job sizes are given in H100-equivalents (bf16 dense TFLOPS); other accelerators
#: need proportionally more or fewer, in whole 8-GPU servers.
H100_TFLOPS = accelerator("h100").bf16_tflops
SERVER_GPUS = 8
#: A100 options only for jobs up to this many H100-equivalents (3x the GPUs otherwise).
A100_MAX_H100_EQUIVALENT = 1024


@dataclass(frozen=True, slots=True)
class TrainingClass:
    """A kind of training job: sizes (H100-equivalents), run hours, dataset size (GB) and
    streaming rate (Gbps) ranges, how common it is."""

    name: str
    sizes: tuple[int, ...]
    run_hours: tuple[int, int]
    dataset_gb: tuple[int, int]
    read_gbps: tuple[float, float]
    weight: float


TRAINING_CLASSES = (
    TrainingClass("finetune", (8, 16, 32, 64), (24, 200), (100, 5_000), (1, 10), 0.55),
    TrainingClass("train", (128, 256, 512, 1024), (100, 500), (1_000, 50_000), (5, 40), 0.35),
    TrainingClass("pretrain", (2048, 4096, 8192), (300, 730), (20_000, 500_000), (20, 100), 0.10),
)


@dataclass(frozen=True, slots=True)
class ModelClass:
    """A served model: the memory one replica needs and its throughput per GB/s.

    Stylised (not measured): LLM decoding is memory-bandwidth bound, so a replica's rps is
    its accelerators' total memory bandwidth (accelerators.csv) times `rps_per_gbs`, and a
    replica holds enough accelerators (a power of two) to fit `memory_gb`.
    """

    name: str
    memory_gb: float
    rps_per_gbs: float
    accelerators: tuple[str, ...]
    demand_rps: tuple[int, int]
    weight: float

    def profile(self, entry: CatalogAccelerator) -> tuple[int, int]:
        """(accelerators per replica, whole rps per replica) on one accelerator type."""
        per_replica = 1 << max(0, math.ceil(math.log2(self.memory_gb / entry.memory_gb)))
        rps = max(1, round(per_replica * entry.memory_bw_gbs * self.rps_per_gbs))
        return per_replica, rps


MODEL_CLASSES = (
    ModelClass("llm-8b", 20, 0.01, ("l4", "l40s", "a100-80gb", "h100", "h200"), (20, 2000), 0.5),
    ModelClass(
        "llm-70b",
        150,
        0.0018,
        ("l40s", "a100-80gb", "h100", "h200", "b200", "gb200"),
        (5, 500),
        0.35,
    ),
    ModelClass(
        "llm-405b", 600, 0.0003, ("a100-80gb", "h100", "h200", "b200", "gb200"), (2, 100), 0.15
    ),
)

#: Request and response sizes (KB) per kind of service: (request range, response range).
SERVICE_KINDS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "chat": ((2, 16), (4, 32)),
    "code": ((8, 64), (2, 16)),
    "search": ((1, 4), (8, 40)),
    "vision": ((100, 600), (2, 8)),
}
#: How many regions a service's demand comes from, and how likely each count is.
DEMAND_REGION_COUNTS = (1, 2, 3, 4, 5, 6)
DEMAND_REGION_P = (0.4, 0.3, 0.15, 0.08, 0.04, 0.03)
#: Demand regions of one service cluster: weight falls by e per this many km.
DEMAND_CLUSTER_KM = 3000.0
#: A region's witness site is one of its nearest few candidates, nearer more likely.
NEAREST_CANDIDATES_P = (0.6, 0.25, 0.15)


@dataclass
class Witness:
    """The plan the instance is built around (SPEC §4 decisions)."""

    #: (job, site, accelerator, count)
    training: list[tuple[str, str, str, int]] = field(default_factory=list)
    #: (service, site) -> (accelerator, replicas, accelerators per replica)
    replicas: dict[tuple[str, str], tuple[str, int, int]] = field(default_factory=dict)
    #: (service, region, site, rps)
    routes: list[tuple[str, str, str, float]] = field(default_factory=list)
    #: (source node, site, Gbps) carried over the SPEC §3 path between them.
    flows: list[tuple[str, str, float]] = field(default_factory=list)
    #: (service, region, rps) the witness leaves unserved (families with `served_share`).
    unserved: list[tuple[str, str, float]] = field(default_factory=list)

    def used(self) -> dict[tuple[str, str], int]:
        """Accelerators used per (site, accelerator)."""
        used: dict[tuple[str, str], int] = defaultdict(int)
        for _, site, acc, count in self.training:
            used[site, acc] += count
        for (_, site), (acc, replicas, per_replica) in self.replicas.items():
            used[site, acc] += replicas * per_replica
        return dict(used)


def _log_uniform_int(rng: np.random.Generator, low: int, high: int) -> int:
    return max(1, round(math.exp(uniform(rng, math.log(low), math.log(high)))))


def _weighted_index(rng: np.random.Generator, weights: list[float]) -> int:
    total = sum(weights)
    return int(rng.choice(len(weights), p=[w / total for w in weights]))


def option_count(h100_equivalent: int, entry: CatalogAccelerator) -> int:
    """Accelerators of one type matching a job of `h100_equivalent` H100s, in whole servers."""
    ratio = round(H100_TFLOPS / entry.bf16_tflops, 2)
    return SERVER_GPUS * math.ceil(h100_equivalent * ratio / SERVER_GPUS)


def _usable(acc: str, h100_equivalent: int) -> bool:
    return acc != "a100-80gb" or h100_equivalent <= A100_MAX_H100_EQUIVALENT


def data_lakes(rng: np.random.Generator, network: NetworkDraft) -> list[str]:
    """Nodes that hold training datasets: a few sites and a few user regions."""
    site_ids = [s.id for s in network.sites]
    region_ids = [r.id for r in network.regions]
    lake_sites = rng.choice(len(site_ids), size=max(1, len(site_ids) // 8), replace=False)
    lake_regions = rng.choice(len(region_ids), size=max(1, len(region_ids) // 10), replace=False)
    return [site_ids[int(i)] for i in sorted(lake_sites)] + [
        region_ids[int(i)] for i in sorted(lake_regions)
    ]


def draw_training(
    rng: np.random.Generator,
    network: NetworkDraft,
    number: int,
    lakes: list[str],
    witness: Witness,
) -> dict[str, Any]:
    """One training job (as instance JSON) and its witness placement."""
    knobs = network.knobs
    weights = knobs.training_weights or [c.weight for c in TRAINING_CLASSES]
    job_class = TRAINING_CLASSES[_weighted_index(rng, list(weights))]
    size = job_class.sizes[int(rng.integers(len(job_class.sizes)))]
    candidates = [
        s for s in network.sites if any(_usable(a, size) for a in s.training_accelerators)
    ]
    candidates = [s for s in candidates if network.is_open(s.id)] or candidates
    site = candidates[_weighted_index(rng, [s.weight for s in candidates])]
    _open(network, site.id)
    placed_on = pick(rng, [a for a in site.training_accelerators if _usable(a, size)])
    option_accs = [
        entry.id
        for entry in ACCELERATORS
        if entry.trains and _usable(entry.id, size) and (entry.id == placed_on or chance(rng, 0.35))
    ]
    job_id = f"{job_class.name}-{number:05d}"
    count = option_count(size, accelerator(placed_on))
    witness.training.append((job_id, site.id, placed_on, count))
    low, high = job_class.run_hours
    run_hours = float(rng.integers(low, high + 1))
    job: dict[str, Any] = {
        "id": job_id,
        "options": [
            {"accelerator": a, "count": option_count(size, accelerator(a))} for a in option_accs
        ],
        "run_hours": run_hours,
        "required": True,
    }
    if chance(rng, knobs.optional_p):
        # Optional work: worth about what it would cost to run, give or take.
        list_cost = count * run_hours * accelerator(placed_on).list_price_per_hour
        job["required"] = False
        job["unplaced_cost"] = round(list_cost * uniform(rng, 0.3, 1.5), -2) or 100.0
    _restrict_training(rng, network, site, job)
    if chance(rng, knobs.dataset_p):
        job["dataset"] = _dataset(rng, network, job_class, site, lakes, witness)
    return job


def _open(network: NetworkDraft, site_id: str) -> None:
    """The witness uses the site: it is open from now on (families with `open_share`)."""
    if network.open_sites is not None:
        network.open_sites.add(site_id)


def _restrict_training(
    rng: np.random.Generator, network: NetworkDraft, site: SiteDraft, job: dict[str, Any]
) -> None:
    """Tags, allowed sites and surcharges that the witness site satisfies."""
    if chance(rng, 0.25):
        job["requires_tags"] = [pick(rng, site.tags)]
    if chance(rng, 0.15):
        job["allowed_sites"] = _allowed_with(rng, network, [site.id])
    if chance(rng, 0.2):
        costly = rng.choice(len(network.sites), size=min(3, len(network.sites)), replace=False)
        job["site_costs"] = {
            network.sites[int(i)].id: round(uniform(rng, 1_000, 200_000), -2)
            for i in sorted(costly)
        }


def _allowed_with(
    rng: np.random.Generator, network: NetworkDraft, required: list[str]
) -> list[str]:
    """`required` sites plus up to three others, in site order."""
    drawn = rng.choice(len(network.sites), size=min(3, len(network.sites)), replace=False)
    keep = set(required)
    keep.update(network.sites[int(i)].id for i in sorted(drawn) if chance(rng, 0.5))
    return [s.id for s in network.sites if s.id in keep]


def _dataset(
    rng: np.random.Generator,
    network: NetworkDraft,
    job_class: TrainingClass,
    site: SiteDraft,
    lakes: list[str],
    witness: Witness,
) -> dict[str, Any]:
    """A dataset held at the job's site or at a data lake; remote ones may be streamed."""
    knobs = network.knobs
    at = site.id if chance(rng, knobs.dataset_local_p) else pick(rng, lakes)
    dataset: dict[str, Any] = {
        "at": at,
        "size_gb": float(_log_uniform_int(rng, *job_class.dataset_gb)),
    }
    if at != site.id and chance(rng, knobs.stream_p):
        read_gbps = round(uniform(rng, *job_class.read_gbps), 1)
        dataset["read_gbps"] = read_gbps
        witness.flows.append((at, site.id, read_gbps))
    return dataset


@dataclass
class ServicePlacement:
    """Where one service's witness serves its demand."""

    profiles: list[str]
    #: (region, site, rps)
    routes: list[tuple[str, str, int]]
    #: site -> (accelerator, replicas), in site order
    replicas: dict[str, tuple[str, int]]
    resilient: bool


def draw_service(
    rng: np.random.Generator, network: NetworkDraft, number: int, witness: Witness
) -> dict[str, Any]:
    """One inference service (as instance JSON) with its witness replicas and routes."""
    knobs = network.knobs
    model_weights = knobs.model_weights or [m.weight for m in MODEL_CLASSES]
    model = MODEL_CLASSES[_weighted_index(rng, list(model_weights))]
    if knobs.kind_weights is None:
        kind = pick(rng, tuple(SERVICE_KINDS))
    else:
        kind = tuple(SERVICE_KINDS)[_weighted_index(rng, list(knobs.kind_weights))]
    service_id = f"{kind}-{model.name}-{number:05d}"
    regions = _demand_regions(rng, network)
    demand = {r.id: _log_uniform_int(rng, *(knobs.demand_rps or model.demand_rps)) for r in regions}
    priced: bool | None = None
    served = demand
    if knobs.served_share is not None:
        # Decided before placement: only priced demand may be left unserved by the witness.
        priced = chance(rng, knobs.unserved_cost_p)
        if priced:
            share = uniform(rng, *knobs.served_share)
            served = {r: max(1, min(rps, round(rps * share))) for r, rps in demand.items()}
    placement = _place_service(rng, network, model, regions, served)
    for region, rps in demand.items():
        if served[region] < rps:
            witness.unserved.append((service_id, region, float(rps - served[region])))
    kind_request, kind_response = SERVICE_KINDS[kind]
    request_kb = round(uniform(rng, *kind_request) * knobs.kb_scale, 1)
    response_kb = round(uniform(rng, *kind_response) * knobs.kb_scale, 1)
    for site_id, (acc, replicas) in placement.replicas.items():
        per_replica = model.profile(accelerator(acc))[0]
        witness.replicas[service_id, site_id] = (acc, replicas, per_replica)
    for region_id, site_id, rps in placement.routes:
        witness.routes.append((service_id, region_id, site_id, float(rps)))
        witness.flows.append((region_id, site_id, rps * (request_kb + response_kb) * 8e-6))

    service: dict[str, Any] = {"id": service_id, "profiles": []}
    for acc in placement.profiles:
        count, rps = model.profile(accelerator(acc))
        service["profiles"].append({"accelerator": acc, "per_replica": count, "rps": float(rps)})
    service["demand_rps"] = {region: float(rps) for region, rps in demand.items()}
    worst_ns = max(network.paths_from(r)[s].latency_ns for r, s, _ in placement.routes)
    worst_ms = worst_ns / 1e6
    # The SLO covers the witness routes' worst latency with headroom, in whole 5 ms steps.
    slo_ms = 5 * math.ceil(max(worst_ms * uniform(rng, 1.1, 1.5), worst_ms + 2) / 5)
    service["latency_slo_ms"] = float(slo_ms)
    service["request_kb"] = request_kb
    service["response_kb"] = response_kb
    if placement.resilient:
        service["resilience"] = "n+1"
    if priced is None:
        priced = chance(rng, knobs.unserved_cost_p)
    if priced:
        # Priced around what serving costs at list price: usually worth serving, not always.
        entry = accelerator(placement.profiles[0])
        count, rps = model.profile(entry)
        cost_per_rps_hour = count * entry.list_price_per_hour / rps
        factor = uniform(rng, *knobs.unserved_factor)
        service["unserved_cost_per_rps_hour"] = round(cost_per_rps_hour * factor, 2)
    else:
        service["unserved_cost_per_rps_hour"] = None
    hosting = [network.site(s) for s in placement.replicas]
    shared_tags = [t for t in hosting[0].tags if all(t in s.tags for s in hosting[1:])]
    if shared_tags and placement.resilient and chance(rng, 0.7):
        # Resilient deployments are mostly regional: the continent every hosting site is on.
        service["requires_tags"] = [shared_tags[0]]
    elif shared_tags and chance(rng, 0.2):
        service["requires_tags"] = [pick(rng, shared_tags)]
    if chance(rng, 0.1):
        service["allowed_sites"] = _allowed_with(rng, network, list(placement.replicas))
    return service


def _place_service(
    rng: np.random.Generator,
    network: NetworkDraft,
    model: ModelClass,
    regions: list[RegionDraft],
    demand: dict[str, int],
) -> ServicePlacement:
    """Profiles, routes and replicas of a service's witness (n+1 for some services)."""
    home = regions[0]
    first_site, first_acc = _first_site(rng, network, model, home)
    profiles = [
        a.id
        for a in ACCELERATORS
        if a.id in model.accelerators and (a.id == first_acc or chance(rng, 0.3))
    ]
    chosen_acc: dict[str, str] = {first_site.id: first_acc}
    served: dict[str, int] = defaultdict(int)
    routes: list[tuple[str, str, int]] = []
    for region in regions:
        for site_id, rps in _serve(rng, network, region, demand[region.id], profiles, chosen_acc):
            served[site_id] += rps
            routes.append((region.id, site_id, rps))
    rps_of = {a: model.profile(accelerator(a))[1] for a in model.accelerators}
    replicas = {s: math.ceil(rps / rps_of[chosen_acc[s]]) for s, rps in served.items()}
    resilient = chance(rng, network.knobs.resilient_p) and _add_spare(
        rng, network, model, home, sum(demand.values()), profiles, chosen_acc, replicas, rps_of
    )
    in_site_order = sorted(replicas, key=network.site_index.__getitem__)
    return ServicePlacement(
        profiles=profiles,
        routes=routes,
        replicas={s: (chosen_acc[s], replicas[s]) for s in in_site_order},
        resilient=resilient,
    )


def _demand_regions(rng: np.random.Generator, network: NetworkDraft) -> list[RegionDraft]:
    """A home region and a few others, mostly near it."""
    regions = network.regions
    home = regions[int(rng.integers(len(regions)))]
    wanted = DEMAND_REGION_COUNTS[_weighted_index(rng, list(DEMAND_REGION_P))]
    others = [r for r in regions if r.id != home.id]
    chosen = [home]
    while others and len(chosen) < wanted:
        weights = [network.closeness(home.metro, r.metro, DEMAND_CLUSTER_KM) for r in others]
        chosen.append(others.pop(_weighted_index(rng, weights)))
    return chosen


def _compatible(site: SiteDraft, accelerators: list[str] | tuple[str, ...]) -> list[str]:
    return [a for a in site.accelerators if a in accelerators]


def _nearest_pick(rng: np.random.Generator, candidates: list[str]) -> str:
    """One of the (at most three) candidates, nearer more likely."""
    return candidates[_weighted_index(rng, list(NEAREST_CANDIDATES_P[: len(candidates)]))]


def _first_site(
    rng: np.random.Generator, network: NetworkDraft, model: ModelClass, home: RegionDraft
) -> tuple[SiteDraft, str]:
    """A site near the home region that stocks an accelerator able to serve the model."""

    def compatible(site: SiteDraft) -> bool:
        return bool(_compatible(site, model.accelerators))

    candidates = _nearest_sites(
        network, home.id, lambda site: compatible(site) and network.is_open(site.id)
    ) or _nearest_sites(network, home.id, compatible)
    site = network.site(_nearest_pick(rng, candidates))
    _open(network, site.id)
    return site, pick(rng, _compatible(site, model.accelerators))


def _nearest_sites(
    network: NetworkDraft, source: str, wanted: Callable[[SiteDraft], bool]
) -> list[str]:
    """The first few sites, nearest first, that are `wanted`."""
    found = (s for s in network.sites_by_latency(source) if wanted(network.site(s)))
    return list(itertools.islice(found, len(NEAREST_CANDIDATES_P)))


def _serve(
    rng: np.random.Generator,
    network: NetworkDraft,
    region: RegionDraft,
    rps: int,
    profiles: list[str],
    chosen_acc: dict[str, str],
) -> list[tuple[str, int]]:
    """Where a region's demand is served: one nearby site, sometimes split over two."""

    def usable(site: SiteDraft) -> bool:
        return site.id in chosen_acc or bool(_compatible(site, profiles))

    candidates = _nearest_sites(
        network, region.id, lambda site: usable(site) and network.is_open(site.id)
    ) or _nearest_sites(network, region.id, usable)
    first = _nearest_pick(rng, candidates)
    parts = [(first, rps)]
    rest = [s for s in candidates if s != first]
    if rps >= 2 and rest and chance(rng, 0.1):
        share = min(rps - 1, max(1, round(rps * uniform(rng, 0.3, 0.7))))
        parts = [(first, share), (rest[0], rps - share)]
    for site_id, _ in parts:
        _open(network, site_id)
        if site_id not in chosen_acc:
            chosen_acc[site_id] = pick(rng, _compatible(network.site(site_id), profiles))
    return parts


def _add_spare(
    rng: np.random.Generator,
    network: NetworkDraft,
    model: ModelClass,
    home: RegionDraft,
    served_rps: int,
    profiles: list[str],
    chosen_acc: dict[str, str],
    replicas: dict[str, int],
    rps_of: dict[str, int],
) -> bool:
    """Add replicas until losing any one failure domain leaves capacity for all served demand
    (SPEC §5.6). False, with nothing changed, if no site outside a domain can take them."""
    added: dict[str, int] = defaultdict(int)
    new_sites: list[str] = []
    while True:
        capacity: dict[str, float] = defaultdict(float)
        for site_id, count in replicas.items():
            capacity[network.site(site_id).domain] += count * rps_of[chosen_acc[site_id]]
        worst = max(sorted(capacity), key=capacity.__getitem__)
        deficit = served_rps - (sum(capacity.values()) - capacity[worst])
        if deficit <= 0:
            return True
        outside = [s for s in replicas if network.site(s).domain != worst]
        if outside:
            target = min(
                outside,
                key=lambda s: (capacity[network.site(s).domain], network.site_index[s]),
            )
        else:
            spare = _spare_site(rng, network, model, home, worst, profiles, chosen_acc)
            if spare is None:
                for site_id, count in added.items():
                    replicas[site_id] -= count
                for site_id in new_sites:
                    del replicas[site_id]
                return False
            target = spare
            new_sites.append(spare)
            replicas[spare] = 0
        extra = math.ceil(deficit / rps_of[chosen_acc[target]])
        replicas[target] += extra
        added[target] += extra


def _spare_site(
    rng: np.random.Generator,
    network: NetworkDraft,
    model: ModelClass,
    home: RegionDraft,
    avoid_domain: str,
    profiles: list[str],
    chosen_acc: dict[str, str],
) -> str | None:
    """The nearest site outside `avoid_domain` that can run the model; its accelerator joins
    the profiles if needed. Open sites first (families with `open_share`), then any."""
    ranked = network.sites_by_latency(home.id)
    if network.open_sites is not None:
        ranked = sorted(ranked, key=lambda s: not network.is_open(s))
    for site_id in ranked:
        site = network.site(site_id)
        if site.domain == avoid_domain:
            continue
        usable = _compatible(site, profiles) or _compatible(site, model.accelerators)
        if usable:
            acc = chosen_acc.get(site_id) or pick(rng, usable)
            chosen_acc[site_id] = acc
            _open(network, site_id)
            if acc not in profiles:
                profiles.append(acc)
                profiles.sort(key=[a.id for a in ACCELERATORS].index)
            return site_id
    return None
