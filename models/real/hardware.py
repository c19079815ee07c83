"""Accelerator types from accelerators.csv: memory, power with host share, throughput.

Power per accelerator is board power plus a host share. The host shares of the
8-GPU servers are derived from public system figures in datacenter_facts.md
(DGX H100 10.2 kW, DGX B200 14.3 kW, GB200 NVL72 rack 120 kW); PCIe cards get the
`pcie_host_share_kw` assumption.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from models.real import assumptions as A

if TYPE_CHECKING:
    from models.real.sources import AcceleratorSpec, ReferenceData

#: Public system figures (datacenter_facts.md, "Rack power density").
DGX_H100_KW = 10.2
DGX_H100_GPUS = 8
#: H100 SXM board power (accelerators.csv), the GPUs inside a DGX H100.
H100_SXM_TDP_W = 700.0
DGX_B200_KW = 14.3
DGX_B200_GPUS = 8
NVL72_RACK_KW = 120.0
NVL72_GPUS = 72
FACTS_SOURCE = "shared/data/datacenter_facts.md (Rack power density)"

ServerClass = Literal["hgx", "pcie", "dgx-b200", "nvl72"]


@dataclass(frozen=True, slots=True)
class KindRow:
    """How one catalog accelerator maps to an accelerators.csv row."""

    id: str
    price_name: str
    spec_name: str
    server: ServerClass
    memory_variant_gb: float | None = None
    training: bool = False
    #: PCIe cards without NVLink are offered to fine-tuning jobs only.
    fine_tune_only: bool = False


#: Catalog names (cloud_gpu_prices.csv) to accelerators.csv rows and server classes.
KINDS: tuple[KindRow, ...] = (
    KindRow("h100", "H100", "H100 SXM", "hgx", training=True),
    KindRow("h200", "H200", "H200 SXM", "hgx", training=True),
    KindRow("a100-40gb", "A100", "A100 40GB", "hgx", training=True),
    KindRow("a100-80gb", "A100-80GB", "A100 80GB SXM", "hgx", training=True),
    KindRow("v100-16gb", "V100", "V100 SXM2", "hgx", memory_variant_gb=16),
    KindRow("v100-32gb", "V100-32GB", "V100 SXM2", "hgx", memory_variant_gb=32),
    KindRow("l40s", "L40S", "L40S", "pcie", training=True, fine_tune_only=True),
    KindRow("l4", "L4", "L4", "pcie"),
    KindRow("a10g", "A10G", "A10G", "pcie"),
    KindRow("t4", "T4", "T4", "pcie"),
    KindRow("b200", "B200", "B200 (HGX)", "dgx-b200", training=True),
    KindRow("gb200", "GB200", "GB200 (per Blackwell GPU in NVL72)", "nvl72", training=True),
)
KIND_BY_PRICE_NAME = {k.price_name: k for k in KINDS}
KIND_BY_ID = {k.id: k for k in KINDS}
#: Reference type training jobs are sized in.
REFERENCE_TRAINING_TYPE = "h100"


@dataclass(frozen=True, slots=True)
class AcceleratorKind:
    """An accelerator type as the instances use it, with where each figure came from."""

    id: str
    price_name: str
    spec_name: str
    memory_gb: float
    tdp_w: float
    host_share_kw: float
    host_share_basis: str
    tflops: float
    tflops_basis: Literal["bf16", "fp16"]
    cooling: Literal["air", "liquid"]
    training: bool
    fine_tune_only: bool
    source: str

    @property
    def power_kw(self) -> float:
        """IT power per accelerator, host share included, rounded to 0.1 W."""
        return round(self.tdp_w / 1000 + self.host_share_kw, 4)


def _first_number(text: str) -> float:
    match = re.search(r"\d+(?:\.\d+)?", text)
    if match is None:
        raise ValueError(f"no number in {text!r}")
    return float(match.group())


def host_share_kw(row: KindRow, tdp_w: float) -> tuple[float, str]:
    """Host power per accelerator and how it was obtained."""
    server = row.server
    if server == "hgx":
        share = (DGX_H100_KW - DGX_H100_GPUS * H100_SXM_TDP_W / 1000) / DGX_H100_GPUS
        basis = f"(DGX H100 {DGX_H100_KW} kW - 8 x {H100_SXM_TDP_W:g} W) / 8, {FACTS_SOURCE}"
        if row.id != REFERENCE_TRAINING_TYPE:
            basis += "; assumption sxm_host_share_applies_to_hgx"
        return share, basis
    if server == "dgx-b200":
        share = (DGX_B200_KW - DGX_B200_GPUS * tdp_w / 1000) / DGX_B200_GPUS
        return share, f"(DGX B200 {DGX_B200_KW} kW - 8 x {tdp_w:g} W) / 8, {FACTS_SOURCE}"
    if server == "nvl72":
        share = (NVL72_RACK_KW - NVL72_GPUS * tdp_w / 1000) / NVL72_GPUS
        return share, f"(NVL72 rack {NVL72_RACK_KW:g} kW - 72 x {tdp_w:g} W) / 72, {FACTS_SOURCE}"
    return A.PCIE_HOST_SHARE_KW, "assumption pcie_host_share_kw"


def accelerator_kind(row: KindRow, spec: AcceleratorSpec) -> AcceleratorKind:
    """Combine a catalog type with its accelerators.csv row."""
    memory = row.memory_variant_gb if row.memory_variant_gb is not None else float(spec.memory_gb)
    # Two board powers ("400 (SXM4) / 250 (PCIe)"): the first is the SXM part clouds use.
    tdp_w = _first_number(spec.tdp_w)
    share, basis = host_share_kw(row, tdp_w)
    tflops_basis: Literal["bf16", "fp16"]
    if spec.bf16_dense_tflops is not None:
        tflops, tflops_basis = spec.bf16_dense_tflops, "bf16"
    elif spec.fp16_dense_tflops is not None:
        tflops, tflops_basis = spec.fp16_dense_tflops, "fp16"
    else:
        raise ValueError(f"{spec.name}: no dense TFLOPS figure")
    cooling: Literal["air", "liquid"] = "liquid" if row.server in ("nvl72", "dgx-b200") else "air"
    return AcceleratorKind(
        id=row.id,
        price_name=row.price_name,
        spec_name=spec.name,
        memory_gb=memory,
        tdp_w=tdp_w,
        host_share_kw=share,
        host_share_basis=basis,
        tflops=tflops,
        tflops_basis=tflops_basis,
        cooling=cooling,
        training=row.training,
        fine_tune_only=row.fine_tune_only,
        source=spec.source,
    )


def accelerator_kinds(data: ReferenceData) -> dict[str, AcceleratorKind]:
    """Every catalog type with its figures, by instance id."""
    return {row.id: accelerator_kind(row, data.accelerators[row.spec_name]) for row in KINDS}


@dataclass(frozen=True, slots=True)
class ServingProfile:
    """A replica shape for one model on one type."""

    accelerator: str
    per_replica: int
    rps: int


def serving_profile(kind: AcceleratorKind, params_b: float) -> ServingProfile | None:
    """Smallest replica of `kind` that holds the model, and its whole rps; None if none fits."""
    needed_gb = params_b * A.BYTES_PER_PARAM * (1 + A.KV_HEADROOM)
    for size in A.REPLICA_SIZES:
        if size * kind.memory_gb >= needed_gb:
            # FLOPs per request = 2 x params x tokens; TFLOPS x 1e12 / (params_b x 1e9 ...).
            flops_per_request = 2 * params_b * 1e9 * A.TOKENS_PER_REQUEST
            rps = math.floor(size * kind.tflops * 1e12 * A.SERVING_PEAK_SHARE / flops_per_request)
            if rps < 1:
                return None
            return ServingProfile(kind.id, size, rps)
    return None


def training_count(kind: AcceleratorKind, reference: AcceleratorKind, reference_count: int) -> int:
    """Accelerators of `kind` with the TFLOPS of `reference_count` reference accelerators,
    rounded up to whole servers (racks for GB200)."""
    unit = A.GB200_RACK if kind.id == "gb200" else A.SERVER_SIZE
    raw = reference_count * reference.tflops / kind.tflops
    return math.ceil(raw / unit - 1e-9) * unit
