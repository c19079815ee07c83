"""Instance families of the generator: how many sites, regions and workloads each holds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Family:
    """Sizes of one instance family; `metros` is how many metros the sites spread over."""

    name: str
    sites: int
    regions: int
    training: int
    inference: int
    metros: int


FAMILIES: dict[str, Family] = {
    "S": Family("S", sites=8, regions=4, training=10, inference=20, metros=3),
    "M": Family("M", sites=40, regions=12, training=100, inference=300, metros=10),
    "L": Family("L", sites=100, regions=40, training=400, inference=1_500, metros=25),
    "XL": Family("XL", sites=300, regions=100, training=2_000, inference=10_000, metros=36),
}


def family(name: str) -> Family:
    """The family called `name` (S, M, L or XL); ValueError for any other name."""
    try:
        return FAMILIES[name]
    except KeyError:
        known = ", ".join(FAMILIES)
        raise ValueError(f"unknown instance family {name!r} (expected one of {known})") from None
