"""Places: approximate coordinates of cloud regions and of the metros that send demand.

Coordinates are approximate (see the `metro_coordinates` assumption): they only
decide which region a metro attaches to and how long its access link is. Metro
weights are approximate urban-agglomeration populations in millions (the
`metro_weights` assumption).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0

#: Markets a service can sell into; a metro belongs to one or more.
NORTH_AMERICA = "north-america"
LATIN_AMERICA = "latin-america"
EUROPE = "europe"
EU = "eu"
ASIA_PACIFIC = "asia-pacific"
MIDDLE_EAST_AFRICA = "middle-east-africa"

#: EU member states among the countries here (data-residency tag "eu").
EU_COUNTRIES = frozenset(
    {"Ireland", "France", "Germany", "Sweden", "Italy", "Netherlands", "Spain", "Poland",
     "Finland", "Belgium", "Denmark", "Austria"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Place:
    """A point on the map."""

    lat: float
    lon: float


def great_circle_km(a: Place, b: Place) -> float:
    """Haversine distance between two places in km."""
    phi_a, phi_b = math.radians(a.lat), math.radians(b.lat)
    d_phi = phi_b - phi_a
    d_lambda = math.radians(b.lon - a.lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


#: Approximate location of each cloud region used as a site, keyed (cloud, region).
REGION_PLACES: dict[tuple[str, str], Place] = {
    ("aws", "us-east-1"): Place(39.04, -77.49),
    ("aws", "us-east-2"): Place(39.96, -83.00),
    ("aws", "us-west-1"): Place(37.35, -121.96),
    ("aws", "us-west-2"): Place(45.84, -119.70),
    ("aws", "ca-central-1"): Place(45.50, -73.57),
    ("aws", "sa-east-1"): Place(-23.55, -46.63),
    ("aws", "eu-west-1"): Place(53.35, -6.26),
    ("aws", "eu-west-2"): Place(51.51, -0.13),
    ("aws", "eu-west-3"): Place(48.86, 2.35),
    ("aws", "eu-central-1"): Place(50.11, 8.68),
    ("aws", "eu-north-1"): Place(59.33, 18.07),
    ("aws", "eu-south-1"): Place(45.46, 9.19),
    ("aws", "ap-northeast-1"): Place(35.68, 139.69),
    ("aws", "ap-northeast-2"): Place(37.57, 126.98),
    ("aws", "ap-northeast-3"): Place(34.69, 135.50),
    ("aws", "ap-southeast-1"): Place(1.35, 103.82),
    ("aws", "ap-southeast-2"): Place(-33.87, 151.21),
    ("aws", "ap-south-1"): Place(19.08, 72.88),
    ("aws", "ap-east-1"): Place(22.32, 114.17),
    ("aws", "me-south-1"): Place(26.07, 50.56),
    ("aws", "af-south-1"): Place(-33.92, 18.42),
    ("azure", "eastus"): Place(37.37, -79.82),
    ("azure", "eastus2"): Place(36.67, -78.39),
    ("azure", "centralus"): Place(41.59, -93.62),
    ("azure", "southcentralus"): Place(29.42, -98.50),
    ("azure", "westus2"): Place(47.23, -119.85),
    ("azure", "westus3"): Place(33.45, -112.07),
    ("azure", "northeurope"): Place(53.35, -6.26),
    ("azure", "westeurope"): Place(52.37, 4.90),
    ("azure", "swedencentral"): Place(60.67, 17.14),
    ("azure", "germanywestcentral"): Place(50.11, 8.68),
    ("azure", "uksouth"): Place(50.94, -0.80),
    ("azure", "japaneast"): Place(35.68, 139.77),
    ("azure", "southeastasia"): Place(1.28, 103.83),
    ("azure", "australiaeast"): Place(-33.86, 151.21),
    ("azure", "centralindia"): Place(18.58, 73.92),
    ("azure", "brazilsouth"): Place(-23.55, -46.63),
}


@dataclass(frozen=True, slots=True)
class Metro:
    """A metro that sends inference demand: where it is, its weight and its markets."""

    id: str
    name: str
    country: str
    place: Place
    weight: float
    markets: frozenset[str]


def _metro(
    metro_id: str, name: str, country: str, lat: float, lon: float, weight: float, *markets: str
) -> Metro:
    tagged = set(markets)
    if country in EU_COUNTRIES:
        tagged |= {EU, EUROPE}
    return Metro(metro_id, name, country, Place(lat, lon), weight, frozenset(tagged))


_NA, _LA, _EUR, _APAC, _MEA = NORTH_AMERICA, LATIN_AMERICA, EUROPE, ASIA_PACIFIC, MIDDLE_EAST_AFRICA

#: Demand metros (ids prefixed "metro-" so they never clash with region ids).
METROS: tuple[Metro, ...] = (
    _metro("metro-new-york", "New York", "United States", 40.71, -74.01, 19, _NA),
    _metro("metro-los-angeles", "Los Angeles", "United States", 34.05, -118.24, 12, _NA),
    _metro("metro-chicago", "Chicago", "United States", 41.88, -87.63, 9, _NA),
    _metro("metro-dallas", "Dallas", "United States", 32.78, -96.80, 7, _NA),
    _metro("metro-houston", "Houston", "United States", 29.76, -95.37, 6, _NA),
    _metro("metro-washington", "Washington DC", "United States", 38.91, -77.04, 5, _NA),
    _metro("metro-atlanta", "Atlanta", "United States", 33.75, -84.39, 5, _NA),
    _metro("metro-miami", "Miami", "United States", 25.76, -80.19, 6, _NA),
    _metro("metro-san-francisco", "San Francisco Bay", "United States", 37.77, -122.42, 6, _NA),
    _metro("metro-seattle", "Seattle", "United States", 47.61, -122.33, 4, _NA),
    _metro("metro-denver", "Denver", "United States", 39.74, -104.99, 3, _NA),
    _metro("metro-toronto", "Toronto", "Canada", 43.65, -79.38, 6, _NA),
    _metro("metro-mexico-city", "Mexico City", "Mexico", 19.43, -99.13, 22, _NA, _LA),
    _metro("metro-sao-paulo", "Sao Paulo", "Brazil", -23.55, -46.63, 22, _LA),
    _metro("metro-rio", "Rio de Janeiro", "Brazil", -22.91, -43.17, 13, _LA),
    _metro("metro-buenos-aires", "Buenos Aires", "Argentina", -34.60, -58.38, 15, _LA),
    _metro("metro-bogota", "Bogota", "Colombia", 4.71, -74.07, 11, _LA),
    _metro("metro-london", "London", "United Kingdom", 51.51, -0.13, 9, _EUR),
    _metro("metro-paris", "Paris", "France", 48.86, 2.35, 11),
    _metro("metro-madrid", "Madrid", "Spain", 40.42, -3.70, 7),
    _metro("metro-berlin", "Berlin", "Germany", 52.52, 13.40, 4),
    _metro("metro-rhine-ruhr", "Rhine-Ruhr", "Germany", 51.23, 6.78, 10),
    _metro("metro-milan", "Milan", "Italy", 45.46, 9.19, 3),
    _metro("metro-rome", "Rome", "Italy", 41.90, 12.50, 4),
    _metro("metro-amsterdam", "Amsterdam", "Netherlands", 52.37, 4.90, 3),
    _metro("metro-stockholm", "Stockholm", "Sweden", 59.33, 18.07, 2),
    _metro("metro-warsaw", "Warsaw", "Poland", 52.23, 21.01, 2),
    _metro("metro-dublin", "Dublin", "Ireland", 53.35, -6.26, 1),
    _metro("metro-istanbul", "Istanbul", "Turkey", 41.01, 28.98, 15, _EUR, _MEA),
    _metro("metro-tokyo", "Tokyo", "Japan", 35.68, 139.69, 37, _APAC),
    _metro("metro-osaka", "Osaka", "Japan", 34.69, 135.50, 19, _APAC),
    _metro("metro-seoul", "Seoul", "South Korea", 37.57, 126.98, 10, _APAC),
    _metro("metro-hong-kong", "Hong Kong", "Hong Kong", 22.32, 114.17, 7, _APAC),
    _metro("metro-singapore", "Singapore", "Singapore", 1.35, 103.82, 6, _APAC),
    _metro("metro-jakarta", "Jakarta", "Indonesia", -6.21, 106.85, 11, _APAC),
    _metro("metro-manila", "Manila", "Philippines", 14.60, 120.98, 14, _APAC),
    _metro("metro-bangkok", "Bangkok", "Thailand", 13.76, 100.50, 10, _APAC),
    _metro("metro-mumbai", "Mumbai", "India", 19.08, 72.88, 20, _APAC),
    _metro("metro-delhi", "Delhi", "India", 28.61, 77.21, 30, _APAC),
    _metro("metro-bangalore", "Bangalore", "India", 12.97, 77.59, 12, _APAC),
    _metro("metro-sydney", "Sydney", "Australia", -33.87, 151.21, 5, _APAC),
    _metro("metro-melbourne", "Melbourne", "Australia", -37.81, 144.96, 5, _APAC),
    _metro("metro-dubai", "Dubai", "United Arab Emirates", 25.20, 55.27, 3, _MEA),
    _metro("metro-johannesburg", "Johannesburg", "South Africa", -26.20, 28.05, 6, _MEA),
    _metro("metro-lagos", "Lagos", "Nigeria", 6.52, 3.38, 14, _MEA),
    _metro("metro-cairo", "Cairo", "Egypt", 30.04, 31.24, 21, _MEA),
)
