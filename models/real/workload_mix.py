"""The workload mix of the real instances: pre-training, fine-tuning and LLM services.

Sizes, hours, demand totals and SLOs are a planner's illustrative mix (assumption
`workload_mix`); what is derived from public figures is how each job maps onto
each accelerator type (BF16 TFLOPS parity) and each service's replica shapes
(memory and TFLOPS, see `hardware.serving_profile`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.real import assumptions as A
from models.real.geography import (
    ASIA_PACIFIC,
    EU,
    EUROPE,
    LATIN_AMERICA,
    METROS,
    MIDDLE_EAST_AFRICA,
    NORTH_AMERICA,
)
from models.real.hardware import REFERENCE_TRAINING_TYPE, serving_profile, training_count

if TYPE_CHECKING:
    from models.real.hardware import AcceleratorKind

EU_TAG = "eu"
#: Market of services offered everywhere.
GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class PretrainTemplate:
    """A large training job sized in H100 SXM, with its dataset's home."""

    id: str
    h100_equivalent: int
    run_hours: float
    dataset_at: str
    dataset_gb: float
    eu_only: bool = False
    required: bool = True
    unplaced_cost: float = 0.0


@dataclass(frozen=True, slots=True)
class ServiceTemplate:
    """An LLM service: model size, market, demand, SLO and request sizes."""

    id: str
    params_b: float
    market: str
    total_rps: int
    slo_ms: float
    request_kb: float
    response_kb: float
    resilience: str = "none"
    may_drop: bool = False

    @property
    def eu_only(self) -> bool:
        """EU services keep data in the EU (data-residency tag)."""
        return self.market == EU


PRETRAIN_2025: tuple[PretrainTemplate, ...] = (
    PretrainTemplate("pretrain-frontier", 16384, 720, "aws-us-east-1", 2_000_000),
    PretrainTemplate("pretrain-large", 8192, 600, "aws-us-west-2", 1_000_000),
    PretrainTemplate("pretrain-code", 2048, 400, "aws-us-east-2", 300_000),
    PretrainTemplate("pretrain-eu-multilingual", 2048, 500, "aws-eu-central-1", 400_000, True),
    PretrainTemplate("pretrain-vision", 1024, 336, "aws-ap-northeast-1", 500_000),
)

PRETRAIN_2027: tuple[PretrainTemplate, ...] = (
    PretrainTemplate("pretrain-frontier", 16384, 720, "aws-us-east-1", 4_000_000),
    PretrainTemplate("pretrain-frontier-2", 16384, 720, "azure-westus2", 4_000_000),
    PretrainTemplate("pretrain-large", 8192, 600, "aws-us-west-2", 2_000_000),
    PretrainTemplate("pretrain-code", 4096, 500, "aws-us-east-2", 600_000),
    PretrainTemplate("pretrain-eu-multilingual", 4096, 500, "aws-eu-central-1", 800_000, True),
    PretrainTemplate("pretrain-vision", 2048, 400, "aws-ap-northeast-1", 1_000_000),
    PretrainTemplate(
        "pretrain-stretch", 8192, 600, "aws-us-east-1", 1_000_000, required=False,
        unplaced_cost=60_000_000,
    ),
)  # fmt: skip

SERVICES_2025: tuple[ServiceTemplate, ...] = (
    ServiceTemplate("chat-8b-na", 8, NORTH_AMERICA, 16000, 50, 4, 8),
    ServiceTemplate("chat-8b-eu", 8, EU, 10000, 50, 4, 8),
    ServiceTemplate("chat-8b-europe-other", 8, EUROPE, 3200, 80, 4, 8),
    ServiceTemplate("chat-8b-apac", 8, ASIA_PACIFIC, 12000, 60, 4, 8, may_drop=True),
    ServiceTemplate("chat-8b-latam", 8, LATIN_AMERICA, 4800, 150, 4, 8, may_drop=True),
    ServiceTemplate("chat-8b-mea", 8, MIDDLE_EAST_AFRICA, 2400, 150, 4, 8, may_drop=True),
    ServiceTemplate("voice-8b-na", 8, NORTH_AMERICA, 3200, 30, 2, 2, may_drop=True),
    ServiceTemplate("voice-8b-eu", 8, EU, 2000, 30, 2, 2, may_drop=True),
    ServiceTemplate("voice-8b-apac", 8, ASIA_PACIFIC, 2400, 30, 2, 2, may_drop=True),
    ServiceTemplate("moderation-8b-global", 8, GLOBAL, 8000, 150, 4, 1, "n+1"),
    ServiceTemplate("code-34b-na", 34, NORTH_AMERICA, 3200, 80, 8, 4),
    ServiceTemplate("code-34b-eu", 34, EU, 2000, 80, 8, 4),
    ServiceTemplate("code-34b-apac", 34, ASIA_PACIFIC, 2000, 80, 8, 4, may_drop=True),
    ServiceTemplate("chat-70b-na", 70, NORTH_AMERICA, 6000, 100, 4, 16, "n+1"),
    ServiceTemplate("chat-70b-eu", 70, EU, 3000, 100, 4, 16, "n+1"),
    ServiceTemplate("chat-70b-apac", 70, ASIA_PACIFIC, 4800, 120, 4, 16, may_drop=True),
    ServiceTemplate("rag-70b-na", 70, NORTH_AMERICA, 2400, 150, 32, 8),
    ServiceTemplate("rag-70b-eu", 70, EU, 1200, 150, 32, 8),
    ServiceTemplate("summarize-70b-global", 70, GLOBAL, 2000, 200, 64, 4),
    ServiceTemplate("assistant-405b-global", 405, GLOBAL, 1200, 200, 8, 16, "n+1"),
)

#: Services of 2027: the 2025 mix with demand doubled.
DEMAND_GROWTH_2027 = 2

FINE_TUNE_SEED = 20250
FINE_TUNE_COUNT_2025 = 30
FINE_TUNE_COUNT_2027 = 40
FINE_TUNE_SIZES = (8, 16, 32, 64, 128, 256, 512)
#: EU-resident fine-tunes are smaller: the EU regions hold few flagship parts.
FINE_TUNE_SIZES_EU = (8, 16, 32, 64, 128)
FINE_TUNE_HOURS = (12, 24, 48, 72, 120, 168)
FINE_TUNE_EU_SHARE = 0.25


def split_by_weight(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Whole shares of `total` in proportion to `weights` (largest remainder, ties by id)."""
    weight_sum = sum(weights.values())
    exact = {key: total * w / weight_sum for key, w in weights.items()}
    shares = {key: math.floor(value) for key, value in exact.items()}
    left = total - sum(shares.values())
    for key in sorted(exact, key=lambda k: (shares[k] - exact[k], k))[:left]:
        shares[key] += 1
    return {key: n for key, n in shares.items() if n > 0}


def market_metros(market: str) -> dict[str, float]:
    """Metro weights of a market (every metro for the global market)."""
    return {m.id: m.weight for m in METROS if market == GLOBAL or market in m.markets}


def training_options(
    h100_equivalent: int,
    kinds: dict[str, AcceleratorKind],
    max_count: dict[str, int],
    *,
    fine_tuning: bool,
) -> list[dict[str, Any]]:
    """TFLOPS-parity options on every training type some single site can hold."""
    reference = kinds[REFERENCE_TRAINING_TYPE]
    options = []
    for kind_id in sorted(max_count):
        kind = kinds[kind_id]
        if not kind.training or (kind.fine_tune_only and not fine_tuning):
            continue
        count = training_count(kind, reference, h100_equivalent)
        if count <= max_count[kind_id]:
            options.append({"accelerator": kind_id, "count": count})
    return options


def pretraining_jobs(
    templates: tuple[PretrainTemplate, ...],
    kinds: dict[str, AcceleratorKind],
    max_count: dict[str, int],
    max_count_eu: dict[str, int],
) -> list[dict[str, Any]]:
    """Pre-training jobs as instance JSON."""
    jobs = []
    for t in templates:
        options = training_options(
            t.h100_equivalent, kinds, max_count_eu if t.eu_only else max_count, fine_tuning=False
        )
        if not options:
            raise ValueError(f"{t.id}: no site can hold it on any type")
        job: dict[str, Any] = {
            "id": t.id,
            "options": options,
            "run_hours": t.run_hours,
            "dataset": {"at": t.dataset_at, "size_gb": t.dataset_gb},
            "meta": {"kind": "pre-training", "h100_equivalent": t.h100_equivalent},
        }
        if t.eu_only:
            job["requires_tags"] = [EU_TAG]
        if not t.required:
            job["required"] = False
            job["unplaced_cost"] = t.unplaced_cost
        jobs.append(job)
    return jobs


def fine_tuning_jobs(
    count: int,
    kinds: dict[str, AcceleratorKind],
    max_count: dict[str, int],
    max_count_eu: dict[str, int],
    dataset_sites: list[str],
    eu_dataset_sites: list[str],
) -> list[dict[str, Any]]:
    """`count` fine-tuning jobs from a fixed-seed generator, as instance JSON."""
    rng = random.Random(FINE_TUNE_SEED)
    jobs = []
    for index in range(count):
        eu_only = rng.random() < FINE_TUNE_EU_SHARE
        size = rng.choice(FINE_TUNE_SIZES_EU if eu_only else FINE_TUNE_SIZES)
        hours = rng.choice(FINE_TUNE_HOURS)
        home = rng.choice(eu_dataset_sites if eu_only else dataset_sites)
        dataset_gb = float(rng.choice((200, 500, 1000, 2000, 5000, 10000)))
        options = training_options(
            size, kinds, max_count_eu if eu_only else max_count, fine_tuning=True
        )
        if not options:
            raise ValueError(f"fine-tune {index}: no site can hold {size} H100-equivalents")
        job: dict[str, Any] = {
            "id": f"finetune-{index + 1:02d}",
            "options": options,
            "run_hours": float(hours),
            "dataset": {"at": home, "size_gb": dataset_gb},
            "meta": {"kind": "fine-tuning", "h100_equivalent": size},
        }
        if eu_only:
            job["requires_tags"] = [EU_TAG]
        jobs.append(job)
    return jobs


def inference_services(
    templates: tuple[ServiceTemplate, ...],
    kinds: dict[str, AcceleratorKind],
    cheapest_hourly: dict[str, float],
    growth: int = 1,
) -> list[dict[str, Any]]:
    """Services as instance JSON: profiles on every type that holds the model.
    `cheapest_hourly` is the lowest price per accelerator-hour of each type in the
    instance; it sets what dropped demand costs."""
    services = []
    for t in templates:
        shapes = [serving_profile(kinds[kind_id], t.params_b) for kind_id in sorted(kinds)]
        fitting = [shape for shape in shapes if shape is not None]
        profiles = [
            {"accelerator": p.accelerator, "per_replica": p.per_replica, "rps": float(p.rps)}
            for p in fitting
        ]
        demand = split_by_weight(t.total_rps * growth, market_metros(t.market))
        service: dict[str, Any] = {
            "id": t.id,
            "profiles": profiles,
            "demand_rps": {metro: float(rps) for metro, rps in sorted(demand.items())},
            "latency_slo_ms": t.slo_ms,
            "request_kb": t.request_kb,
            "response_kb": t.response_kb,
            "meta": {"model_params_b": t.params_b, "market": t.market},
        }
        if t.resilience != "none":
            service["resilience"] = t.resilience
        if t.may_drop:
            cheapest = min(cheapest_hourly[p.accelerator] * p.per_replica / p.rps for p in fitting)
            service["unserved_cost_per_rps_hour"] = round(A.UNSERVED_COST_MULTIPLE * cheapest, 4)
        if t.eu_only:
            service["requires_tags"] = [EU_TAG]
        services.append(service)
    return services
