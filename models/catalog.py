"""Real-world figures the instance generator draws from: metros, round-trip times, accelerators.

Metros and measured round-trip times are small CSV tables under `models/data/` (provenance in
`models/data/README.md`); accelerator figures are the table below, copied from
`models/data/reference/accelerators.csv` and `cloud_gpu_prices.csv` with the derivations named
per field.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

DATA_DIR = Path(__file__).with_name("data")

#: Unmeasured metro pairs: rtt_ms = RTT_FIXED_MS + RTT_MS_PER_KM * great-circle km, the
#: least-squares fit over measured pairs under 3,000 km (see models/data/README.md).
RTT_FIXED_MS = 7.5
RTT_MS_PER_KM = 0.015
EARTH_RADIUS_KM = 6371.0

Continent = Literal["na", "sa", "eu", "apac", "mea"]


@dataclass(frozen=True, slots=True)
class Metro:
    """A data-centre metro: location, grid electricity price and carbon intensity."""

    id: str
    city: str
    country: str
    iso: str
    continent: Continent
    lat: float
    lon: float
    energy_price_per_kwh: float
    carbon_g_per_kwh: float


@cache
def metros() -> tuple[Metro, ...]:
    """Every metro of `models/data/metros.csv`, in file order."""
    with (DATA_DIR / "metros.csv").open(newline="", encoding="utf-8") as stream:
        return tuple(
            Metro(
                id=row["metro"],
                city=row["city_or_area"],
                country=row["country"],
                iso=row["iso"],
                continent=_continent(row["continent"]),
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                energy_price_per_kwh=float(row["energy_price_per_kwh"]),
                carbon_g_per_kwh=float(row["carbon_g_per_kwh"]),
            )
            for row in csv.DictReader(stream)
        )


def _continent(code: str) -> Continent:
    if code == "na":
        return "na"
    if code == "sa":
        return "sa"
    if code == "eu":
        return "eu"
    if code == "apac":
        return "apac"
    if code == "mea":
        return "mea"
    raise ValueError(f"unknown continent code {code!r} in metros.csv")


@cache
def measured_rtt_ms() -> dict[frozenset[str], float]:
    """Measured round-trip times between metro pairs (`models/data/metro_rtt_ms.csv`)."""
    with (DATA_DIR / "metro_rtt_ms.csv").open(newline="", encoding="utf-8") as stream:
        return {
            frozenset((row["metro_a"], row["metro_b"])): float(row["rtt_ms"])
            for row in csv.DictReader(stream)
        }


def great_circle_km(a: Metro, b: Metro) -> float:
    """Great-circle distance between two metros (haversine, spherical Earth)."""
    lat_a, lon_a, lat_b, lon_b = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    haversine = (
        math.sin((lat_b - lat_a) / 2) ** 2
        + math.cos(lat_a) * math.cos(lat_b) * math.sin((lon_b - lon_a) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(haversine))


def estimated_rtt_ms(distance_km: float) -> float:
    """Round-trip time expected over `distance_km` of terrestrial/submarine fibre."""
    return RTT_FIXED_MS + RTT_MS_PER_KM * distance_km


def metro_rtt_ms(a: Metro, b: Metro) -> float:
    """Round-trip time between two metros: measured where the data has it, else estimated."""
    measured = measured_rtt_ms().get(frozenset((a.id, b.id)))
    if measured is not None:
        return measured
    return estimated_rtt_ms(great_circle_km(a, b))


# -- accelerators --------------------------------------------------------------------------

#: IT power per GPU of an 8-GPU HGX H100 server: DGX H100 10.2 kW / 8 (datacenter_facts.md).
#: Its ratio to the 700 W board power (1.82) is the host share applied to other SXM parts.
HGX_H100_KW_PER_GPU = 10.2 / 8
SXM_HOST_FACTOR = HGX_H100_KW_PER_GPU / 0.7
#: Assumed host share of PCIe inference servers (smaller CPUs per card than HGX systems).
PCIE_HOST_FACTOR = 1.5
#: B200 list price: GCP GPU-only median 8.055 scaled by the AWS/GCP H100 median ratio
#: (14.4407 / 10.787) to include the host, as AWS prices do.
B200_LIST_PRICE = round(8.055 * 14.4407 / 10.787, 4)
#: No GB200 price in the data: assumed 25 % above B200 (denser, liquid-cooled rack).
GB200_LIST_PRICE = round(B200_LIST_PRICE * 1.25, 4)


@dataclass(frozen=True, slots=True)
class CatalogAccelerator:
    """An accelerator with the figures the generator needs.

    `list_price_per_hour` is an on-demand price per accelerator-hour; sites charge a
    share of it (owned or reserved capacity).
    """

    id: str
    name: str
    memory_gb: float
    memory_bw_gbs: float
    bf16_tflops: float
    power_kw: float
    cooling: Literal["air", "liquid"]
    list_price_per_hour: float
    trains: bool


#: From accelerators.csv (memory_gb, memory_bw_gbps, bf16_dense_tflops, tdp_w, cooling) and
#: cloud_gpu_prices.csv (median price_per_accelerator_hour of AWS full_instance_on_demand rows).
#: power_kw = tdp_w x host factor, except the B200 (DGX B200 14.3 kW / 8) and the GB200
#: (NVL72 rack ~120 kW / 72 GPUs), both from datacenter_facts.md. B200 and GB200 are placed
#: only at liquid-cooled sites (GB200 NVL72 requires liquid; HGX B200 is taken as liquid here).
ACCELERATORS: tuple[CatalogAccelerator, ...] = (
    CatalogAccelerator(
        "h100", "H100 SXM", 80, 3350, 989.4, round(0.7 * SXM_HOST_FACTOR, 4), "air", 14.4407, True
    ),
    CatalogAccelerator(
        "h200", "H200 SXM", 141, 4800, 989, round(0.7 * SXM_HOST_FACTOR, 4), "air", 12.985, True
    ),
    CatalogAccelerator(
        "b200", "B200 (HGX)", 180, 8000, 2250, 1.7875, "liquid", B200_LIST_PRICE, True
    ),
    CatalogAccelerator(
        "gb200",
        "GB200 (per GPU in NVL72)",
        186,
        8000,
        2500,
        1.6667,
        "liquid",
        GB200_LIST_PRICE,
        True,
    ),
    CatalogAccelerator(
        "a100-80gb",
        "A100 80GB SXM",
        80,
        2039,
        312,
        round(0.4 * SXM_HOST_FACTOR, 4),
        "air",
        5.1207,
        True,
    ),
    CatalogAccelerator(
        "l40s", "L40S", 48, 864, 362, round(0.35 * PCIE_HOST_FACTOR, 4), "air", 3.7664, False
    ),
    CatalogAccelerator(
        "l4", "L4", 24, 300, 121, round(0.072 * PCIE_HOST_FACTOR, 4), "air", 1.0984, False
    ),
)


def accelerator(accelerator_id: str) -> CatalogAccelerator:
    """The catalog entry with this id."""
    for entry in ACCELERATORS:
        if entry.id == accelerator_id:
            return entry
    raise KeyError(accelerator_id)
