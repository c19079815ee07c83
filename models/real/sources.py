"""Reading the public figures of the reference data folder into typed rows.

The figures ship with the package in `models/data/reference/`: copies of the
project's shared reference data, with where each file comes from in README.md and
SOURCES.md beside them. The builder reads them at build time only; built instances
are committed, so nothing else in the project reads these files.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

#: Environment variable naming another folder holding `data/` (such as the project's
#: shared folder) to build from instead of the copy in the package.
SHARED_ENV = "INFRAPLAN_SHARED"

#: The folder of figures inside such a folder.
DATA_DIR = "data"

#: The copy of the figures that ships with the package.
BUNDLED_DATA = Path(__file__).resolve().parents[1] / "data" / "reference"


def repo_root() -> Path:
    """The checkout this module lives in."""
    return Path(__file__).resolve().parents[2]


def data_dir(shared: Path | None = None) -> Path:
    """The folder of public figures: `data/` of the folder given (else of $INFRAPLAN_SHARED
    when set), else the copy in the package."""
    if shared is None:
        override = os.environ.get(SHARED_ENV, "")
        if not override:
            return BUNDLED_DATA
        shared = Path(override)
    return shared / DATA_DIR


def _float_or_none(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@dataclass(frozen=True, slots=True)
class AcceleratorSpec:
    """One row of accelerators.csv (text fields kept as written where they are ranges)."""

    name: str
    memory_gb: str
    bf16_dense_tflops: float | None
    fp16_dense_tflops: float | None
    tdp_w: str
    cooling: str
    source: str
    note: str


@dataclass(frozen=True, slots=True)
class PriceRow:
    """One row of cloud_gpu_prices.csv."""

    cloud: str
    region: str
    accelerator: str
    accelerator_count: int
    instance_type: str
    price_per_hour: float | None
    price_per_accelerator_hour: float | None
    price_basis: str
    source: str


@dataclass(frozen=True, slots=True)
class LatencyRow:
    """One row of region_latency_ms.csv: a directed round-trip time."""

    cloud: str
    from_region: str
    to_region: str
    rtt_ms: float
    source_id: str


@dataclass(frozen=True, slots=True)
class LocationRow:
    """One row of region_locations.csv: a cloud region, its place and join keys."""

    cloud: str
    region: str
    city_or_area: str
    country: str
    us_state: str
    energy_location_key: str
    latency_dataset_node: str


@dataclass(frozen=True, slots=True)
class EnergyRow:
    """One row of region_energy.csv: electricity price and grid carbon of a state or country."""

    location: str
    location_type: str
    country: str
    industrial_price_usd_kwh: float | None
    price_period: str
    price_source: str
    carbon_gco2_kwh: float | None
    carbon_year: str
    carbon_source: str


@dataclass(frozen=True, slots=True)
class CloudImpactRow:
    """One row of the older codecarbon per-region carbon table (kept for gaps only)."""

    provider: str
    region: str
    impact_gco2_kwh: float
    source: str


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Every table the builder reads, parsed once."""

    root: Path
    accelerators: dict[str, AcceleratorSpec]
    prices: list[PriceRow]
    latencies: list[LatencyRow]
    locations: dict[tuple[str, str], LocationRow]
    energy: dict[str, EnergyRow]
    cloud_impact: dict[tuple[str, str], CloudImpactRow]
    readme: str
    datacenter_facts: str

    def path(self, name: str) -> Path:
        """A data file's path."""
        return self.root / name


def load_reference_data(shared: Path | None = None) -> ReferenceData:
    """Parse every table of the reference data folder (see `data_dir`). Raises
    FileNotFoundError if it is absent."""
    root = data_dir(shared)
    if not root.is_dir():
        raise FileNotFoundError(
            f"reference data folder not found at {root} "
            f"(--shared or {SHARED_ENV} must name a folder holding {DATA_DIR}/)"
        )
    accelerators = {
        row["accelerator"]: AcceleratorSpec(
            name=row["accelerator"],
            memory_gb=row["memory_gb"],
            bf16_dense_tflops=_float_or_none(row["bf16_dense_tflops"]),
            fp16_dense_tflops=_float_or_none(row["fp16_dense_tflops"]),
            tdp_w=row["tdp_w"],
            cooling=row["cooling"],
            source=row["source_primary"],
            note=row["verification_note"],
        )
        for row in _rows(root / "accelerators.csv")
    }
    prices = [
        PriceRow(
            cloud=row["cloud"],
            region=row["region"],
            accelerator=row["accelerator"],
            accelerator_count=int(row["accelerator_count"]),
            instance_type=row["instance_type"],
            price_per_hour=_float_or_none(row["price_per_hour"]),
            price_per_accelerator_hour=_float_or_none(row["price_per_accelerator_hour"]),
            price_basis=row["price_basis"],
            source=row["source"],
        )
        for row in _rows(root / "cloud_gpu_prices.csv")
    ]
    latencies = [
        LatencyRow(
            cloud=row["cloud"],
            from_region=row["from_region"],
            to_region=row["to_region"],
            rtt_ms=float(row["rtt_ms"]),
            source_id=row["source_id"],
        )
        for row in _rows(root / "region_latency_ms.csv")
        if row["rtt_ms"].strip()
    ]
    locations = {
        (row["cloud"], row["region"]): LocationRow(
            cloud=row["cloud"],
            region=row["region"],
            city_or_area=row["city_or_area"],
            country=row["country"],
            us_state=row["us_state"],
            energy_location_key=row["energy_location_key"],
            latency_dataset_node=row["latency_dataset_node"],
        )
        for row in _rows(root / "region_locations.csv")
    }
    energy = {
        row["location"]: EnergyRow(
            location=row["location"],
            location_type=row["location_type"],
            country=row["country"],
            industrial_price_usd_kwh=_float_or_none(row["industrial_price_usd_kwh"]),
            price_period=row["price_period"],
            price_source=row["price_source"],
            carbon_gco2_kwh=_float_or_none(row["carbon_gco2_kwh"]),
            carbon_year=row["carbon_year"],
            carbon_source=row["carbon_source"],
        )
        for row in _rows(root / "region_energy.csv")
    }
    cloud_impact = {
        (row["provider"], row["region"]): CloudImpactRow(
            provider=row["provider"],
            region=row["region"],
            impact_gco2_kwh=float(row["impact"]),
            source=row["source"],
        )
        for row in _rows(root / "raw" / "codecarbon_cloud_impact_2023-05_8277eb67.csv")
        if row["impact"].strip()
    }
    return ReferenceData(
        root=root,
        accelerators=accelerators,
        prices=prices,
        latencies=latencies,
        locations=locations,
        energy=energy,
        cloud_impact=cloud_impact,
        readme=(root / "README.md").read_text(encoding="utf-8"),
        datacenter_facts=(root / "datacenter_facts.md").read_text(encoding="utf-8"),
    )
