"""Sites of a real instance: a cloud region's inventory, prices, energy and carbon.

Inventory types and hourly costs come from cloud_gpu_prices.csv (on-demand price
per accelerator-hour, rounded to 4 decimals); energy price and carbon from
region_energy.csv through region_locations.csv. Counts, PUE and grid budgets are
planning assumptions (see `assumptions.py`); gaps in the energy table are filled
by the fallbacks named there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from models.real import assumptions as A
from models.real.geography import EU_COUNTRIES, REGION_PLACES, great_circle_km
from models.real.hardware import KIND_BY_PRICE_NAME, AcceleratorKind
from models.real.topology import site_id

if TYPE_CHECKING:
    from models.real.sources import PriceRow, ReferenceData

#: GlobalPetrolPrices March 2024 average business price by continent (USD/kWh), as quoted
#: in the reference data's README.md; used only where region_energy.csv has no industrial price.
CONTINENT_BUSINESS_PRICE = {
    "Europe": 0.195,
    "Australia": 0.205,
    "South America": 0.189,
    "North America": 0.161,
    "Africa": 0.108,
    "Asia": 0.082,
}
CONTINENT_PRICE_SOURCE = (
    "GlobalPetrolPrices March 2024 continent-average business price "
    "(globalpetrolprices.com/electricity_prices/), quoted in shared/data/README.md"
)
#: Continent of each country that may need the price fallback.
COUNTRY_CONTINENT = {
    "Japan": "Asia",
    "Singapore": "Asia",
    "South Korea": "Asia",
    "India": "Asia",
    "Hong Kong": "Asia",
    "United Arab Emirates": "Asia",
    "Australia": "Australia",
    "Brazil": "South America",
    "United Kingdom": "Europe",
    "Poland": "Europe",
    "Switzerland": "Europe",
    "Norway": "Europe",
    "Canada": "North America",
}
#: me-south-1 has no energy row: Qatar stands in (assumption bahrain_proxy).
BAHRAIN_PROXY = "Qatar"
#: Places with no carbon value in region_energy.csv and where their figure comes from.
CARBON_FALLBACK_IMPACT = {"Washington": ("azure", "westus2")}
CARBON_FALLBACK_LOCATION = {"Arizona": "United States"}

InventoryClass = Literal["flagship", "older", "inference"]
CLASS_OF: dict[str, InventoryClass] = {
    "h100": "flagship",
    "h200": "flagship",
    "a100-40gb": "older",
    "a100-80gb": "older",
    "v100-16gb": "older",
    "v100-32gb": "older",
    "l40s": "inference",
    "l4": "inference",
    "a10g": "inference",
    "t4": "inference",
}
Tier = Literal["major", "standard", "small"]
#: Accelerators a planner can obtain per region (assumption inventory_counts).
COUNTS_2025: dict[InventoryClass, dict[Tier, int]] = {
    "flagship": {"major": 16384, "standard": 4096, "small": 1024},
    "older": {"major": 4096, "standard": 1024, "small": 512},
    "inference": {"major": 8192, "standard": 2048, "small": 512},
}


#: How a figure was obtained: the region's own row, a stated fallback, or a proxy location.
Basis = Literal["sourced", "fallback", "proxy"]


@dataclass(frozen=True, slots=True)
class EnergyFigures:
    """Energy price and carbon of a site, with where each came from."""

    location: str
    price_per_kwh: float
    price_source: str
    price_basis: Basis
    carbon_g_per_kwh: float
    carbon_source: str
    carbon_basis: Basis


@dataclass(slots=True)
class RegionOffer:
    """A type a region offers: the price row it came from and the count assumed."""

    kind: AcceleratorKind
    row: PriceRow
    count: int

    @property
    def hourly_cost_raw(self) -> float:
        """On-demand price per accelerator-hour as in the source row."""
        assert self.row.price_per_accelerator_hour is not None
        return self.row.price_per_accelerator_hour

    @property
    def hourly_cost(self) -> float:
        """On-demand price per accelerator-hour, rounded to 4 decimals."""
        return round(self.hourly_cost_raw, 4)


@dataclass(slots=True)
class RegionFacts:
    """What the builder knows of one cloud region before a scenario shapes it."""

    cloud: str
    region: str
    city: str
    country: str
    energy: EnergyFigures
    offers: dict[str, RegionOffer]
    tier: Tier
    price_region: str
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The site id."""
        return site_id(self.cloud, self.region)

    @property
    def is_eu(self) -> bool:
        """Whether the region is in an EU member state (data-residency tag)."""
        return self.country in EU_COUNTRIES


def price_rows(data: ReferenceData, cloud: str, region: str) -> dict[str, PriceRow]:
    """The price row used per catalog type in a region: the largest instance with an
    on-demand price (a whole server), cheapest per accelerator among equal sizes."""
    chosen: dict[str, PriceRow] = {}
    for row in data.prices:
        if row.cloud != cloud or row.region != region or row.price_per_accelerator_hour is None:
            continue
        if row.accelerator not in KIND_BY_PRICE_NAME:
            continue
        current = chosen.get(row.accelerator)
        key = (-row.accelerator_count, row.price_per_accelerator_hour, row.instance_type)
        if current is None or key < (
            -current.accelerator_count,
            current.price_per_accelerator_hour or 0.0,
            current.instance_type,
        ):
            chosen[row.accelerator] = row
    return chosen


def tier_of(type_count: int) -> Tier:
    """A region's tier from how many types it offers (assumption region_tiers)."""
    if type_count >= A.MAJOR_TIER_MIN_TYPES:
        return "major"
    if type_count >= A.STANDARD_TIER_MIN_TYPES:
        return "standard"
    return "small"


def energy_figures(data: ReferenceData, cloud: str, region: str) -> EnergyFigures:
    """Industrial price and grid carbon of the region's state or country, with fallbacks."""
    location_row = data.locations.get((cloud, region))
    if location_row is None:
        raise ValueError(f"{cloud}:{region} is not in region_locations.csv")
    key = location_row.energy_location_key or BAHRAIN_PROXY
    own: Basis = "sourced" if location_row.energy_location_key else "proxy"
    proxy = "" if own == "sourced" else " (assumption bahrain_proxy)"
    row = data.energy[key]
    price_basis: Basis
    carbon_basis: Basis
    if row.industrial_price_usd_kwh is not None:
        price, price_basis = row.industrial_price_usd_kwh, own
        price_source = f"region_energy.csv {key}{proxy}: {row.price_source} ({row.price_period})"
    else:
        price_basis = "fallback"
        continent = COUNTRY_CONTINENT[row.country]
        price = CONTINENT_BUSINESS_PRICE[continent]
        price_source = (
            f"assumption energy_price_fallback ({key} has no industrial price): "
            f"{continent} {price}, {CONTINENT_PRICE_SOURCE}"
        )
    if row.carbon_gco2_kwh is not None:
        carbon, carbon_basis = row.carbon_gco2_kwh, own
        carbon_source = f"region_energy.csv {key}{proxy}: {row.carbon_source} ({row.carbon_year})"
    elif key in CARBON_FALLBACK_IMPACT:
        carbon_basis = "fallback"
        impact = data.cloud_impact[CARBON_FALLBACK_IMPACT[key]]
        carbon = impact.impact_gco2_kwh
        carbon_source = (
            f"assumption carbon_fallback: codecarbon cloud impact {impact.provider} "
            f"{impact.region} ({impact.source}), raw/codecarbon_cloud_impact_2023-05_8277eb67.csv"
        )
    else:
        carbon_basis = "fallback"
        national = data.energy[CARBON_FALLBACK_LOCATION[key]]
        assert national.carbon_gco2_kwh is not None
        carbon = national.carbon_gco2_kwh
        carbon_source = (
            f"assumption carbon_fallback: region_energy.csv {national.location}: "
            f"{national.carbon_source} ({national.carbon_year})"
        )
    return EnergyFigures(
        key, round(price, 4), price_source, price_basis, carbon, carbon_source, carbon_basis
    )


def nearest_region(cloud: str, region: str, other_cloud: str) -> str:
    """The region of `other_cloud` nearest to a region (great-circle distance)."""
    place = REGION_PLACES[cloud, region]
    return min(
        (great_circle_km(place, REGION_PLACES[c, r]), r)
        for c, r in REGION_PLACES
        if c == other_cloud
    )[1]


def region_facts(
    data: ReferenceData, kinds: dict[str, AcceleratorKind], cloud: str, region: str
) -> RegionFacts:
    """Offers, tier and energy of one region. Azure regions take their offer from the
    nearest AWS region (assumption azure_offering)."""
    notes: list[str] = []
    price_cloud, price_region = cloud, region
    if cloud == "azure":
        price_cloud, price_region = "aws", nearest_region(cloud, region, "aws")
        notes.append(f"assumption azure_offering: types and prices of aws {price_region}")
    rows = price_rows(data, price_cloud, price_region)
    offered = {KIND_BY_PRICE_NAME[name].id: row for name, row in rows.items()}
    tier = tier_of(len(offered))
    offers = {
        kind_id: RegionOffer(kinds[kind_id], row, COUNTS_2025[CLASS_OF[kind_id]][tier])
        for kind_id, row in sorted(offered.items())
    }
    location = data.locations[cloud, region]
    return RegionFacts(
        cloud=cloud,
        region=region,
        city=location.city_or_area,
        country=location.country,
        energy=energy_figures(data, cloud, region),
        offers=offers,
        tier=tier,
        price_region=f"{price_cloud}:{price_region}",
        notes=notes,
    )
