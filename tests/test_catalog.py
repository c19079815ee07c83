"""Tests of the generator's reference figures (models.catalog)."""

from __future__ import annotations

import pytest

from models.catalog import (
    ACCELERATORS,
    Metro,
    accelerator,
    estimated_rtt_ms,
    great_circle_km,
    measured_rtt_ms,
    metro_rtt_ms,
    metros,
)


def metro(metro_id: str) -> Metro:
    """The catalog metro with this id."""
    return next(m for m in metros() if m.id == metro_id)


def test_metros_are_unique_with_prices_and_carbon() -> None:
    """36 metros, unique ids, every one with a positive energy price and carbon figure."""
    table = metros()
    assert len(table) == 36
    assert len({m.id for m in table}) == len(table)
    assert all(m.energy_price_per_kwh > 0 and m.carbon_g_per_kwh > 0 for m in table)
    assert all(-90 <= m.lat <= 90 and -180 <= m.lon <= 180 for m in table)


def test_measured_round_trip_is_used_where_the_data_has_it() -> None:
    """Frankfurt-Amsterdam is the Azure P50 (mean of both directions); order does not matter."""
    frankfurt, amsterdam = metro("frankfurt"), metro("amsterdam")
    assert frozenset(("frankfurt", "amsterdam")) in measured_rtt_ms()
    assert metro_rtt_ms(frankfurt, amsterdam) == metro_rtt_ms(amsterdam, frankfurt) == 11.0


def test_unmeasured_pair_gets_the_distance_estimate() -> None:
    """Las Vegas-Salt Lake City has no measurement: 7.5 ms + 0.015 ms per km."""
    las_vegas, salt_lake = metro("las-vegas"), metro("salt-lake-city")
    assert frozenset(("las-vegas", "salt-lake-city")) not in measured_rtt_ms()
    distance = great_circle_km(las_vegas, salt_lake)
    assert 550 < distance < 650
    assert metro_rtt_ms(las_vegas, salt_lake) == pytest.approx(estimated_rtt_ms(distance))
    assert estimated_rtt_ms(0) == 7.5


def test_great_circle_distance_matches_a_known_route() -> None:
    """London-Frankfurt is about 640 km."""
    assert great_circle_km(metro("london"), metro("frankfurt")) == pytest.approx(640, abs=15)


def test_accelerator_figures_follow_the_sources() -> None:
    """H100 draws DGX H100 10.2 kW / 8; B200 and GB200 are liquid-cooled; the rest air."""
    assert accelerator("h100").power_kw == pytest.approx(10.2 / 8)
    assert accelerator("b200").power_kw == pytest.approx(14.3 / 8)
    assert accelerator("gb200").power_kw == pytest.approx(120 / 72, abs=1e-4)
    assert {a.id for a in ACCELERATORS if a.cooling == "liquid"} == {"b200", "gb200"}
    assert all(a.memory_gb > 0 and a.list_price_per_hour > 0 for a in ACCELERATORS)
    with pytest.raises(KeyError):
        accelerator("tpu-v9")
