"""Latency distribution tests: weighted quantiles, mean, round histogram bins."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.report.latency import MAX_BINS, bin_edges, histogram, weighted_mean, weighted_quantiles

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The report's quantiles, each as an exact share of the served rps.
QUANTILE_SHARES: dict[str, Fraction] = {
    "p50": Fraction(1, 2),
    "p90": Fraction(9, 10),
    "p95": Fraction(19, 20),
    "p99": Fraction(99, 100),
    "max": Fraction(1),
}


def inverted_cdf_quantiles(points: Iterable[tuple[float, float]]) -> dict[str, float | None]:
    """Oracle written from the definition, independent of `weighted_quantiles`: for each
    share q, the smallest latency at which the (latency, rps) points at or below it carry
    at least q of the rps (numpy's weighted `inverted_cdf` quantile), in exact fractions of
    the floats given; None each without traffic."""
    rps_at: dict[float, Fraction] = {}
    for latency, rps in points:
        if rps > 0:
            rps_at[latency] = rps_at.get(latency, Fraction(0)) + Fraction(rps)
    total = sum(rps_at.values(), Fraction(0))
    quantiles: dict[str, float | None] = dict.fromkeys(QUANTILE_SHARES)
    if total == 0:
        return quantiles
    for name, share in QUANTILE_SHARES.items():
        at_or_below = Fraction(0)
        for latency in sorted(rps_at):
            at_or_below += rps_at[latency]
            if at_or_below >= share * total:
                quantiles[name] = latency
                break
    return quantiles


def test_the_quantile_oracle_by_hand() -> None:
    """The test's oracle: 50 rps at 10 ms, 30 at 20, 20 at 40 give p50 10 (50 of 100),
    p90 to max 40 (80 < 90); 1 rps at 5 ms twice and 2 at 7 give p50 5 (2 of 4, the two
    routes at 5 ms together); 99 rps at 1 ms and 1 at 2 give p99 1 (99 of 100) and max 2;
    no rps gives None."""
    assert inverted_cdf_quantiles([(40.0, 20.0), (10.0, 50.0), (20.0, 30.0)]) == {
        "p50": 10.0,
        "p90": 40.0,
        "p95": 40.0,
        "p99": 40.0,
        "max": 40.0,
    }
    assert inverted_cdf_quantiles([(7.0, 2.0), (5.0, 1.0), (5.0, 1.0)])["p50"] == 5.0
    tail = inverted_cdf_quantiles([(1.0, 99.0), (2.0, 1.0)])
    assert (tail["p99"], tail["max"]) == (1.0, 2.0)
    assert inverted_cdf_quantiles([(1.0, 0.0)]) == dict.fromkeys(QUANTILE_SHARES)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.5, 2.0, 7.25, 10.0, 40.0, 63.64]),
            st.integers(min_value=0, max_value=400).map(lambda quarters: quarters / 4),
        ),
        max_size=12,
    )
)
def test_weighted_quantiles_match_the_oracle(points: list[tuple[float, float]]) -> None:
    """On any routes (repeated latencies, idle routes, rps in quarters, so that the float
    sums are exact) the quantiles are the oracle's."""
    assert weighted_quantiles(points) == inverted_cdf_quantiles(points)


def test_weighted_quantiles_by_hand() -> None:
    """50 rps at 10 ms, 30 at 20, 20 at 40: p50 10, p90 40, max 40; order does not matter."""
    points = [(40.0, 20.0), (10.0, 50.0), (20.0, 30.0)]
    quantiles = weighted_quantiles(points)
    assert quantiles == {"p50": 10.0, "p90": 40.0, "p95": 40.0, "p99": 40.0, "max": 40.0}
    assert weighted_quantiles([(10.0, 49.0), (20.0, 51.0)])["p50"] == 20.0


def test_zero_rps_routes_do_not_count() -> None:
    """A route without traffic changes no quantile; no traffic at all gives None."""
    assert weighted_quantiles([(5.0, 1.0), (99.0, 0.0)])["max"] == 5.0
    assert weighted_quantiles([(5.0, 0.0)]) == {
        "p50": None,
        "p90": None,
        "p95": None,
        "p99": None,
        "max": None,
    }
    assert weighted_mean([]) is None


def test_weighted_mean() -> None:
    """(10x50 + 20x30 + 40x20) / 100 = 19."""
    assert weighted_mean([(10.0, 50.0), (20.0, 30.0), (40.0, 20.0)]) == pytest.approx(19.0)


def test_bin_edges_are_round_and_cover_the_maximum() -> None:
    """Widths are 1, 2, 2.5 or 5 times a power of ten, at most MAX_BINS bins, max inside."""
    assert bin_edges(40.0)[:3] == [0.0, 2.0, 4.0]
    for maximum in (0.3, 7.0, 40.0, 63.64, 199.9, 1234.5):
        edges = bin_edges(maximum)
        width = edges[1] - edges[0]
        mantissa = width / 10 ** math.floor(math.log10(width))
        assert min(abs(mantissa - step) for step in (1, 2, 2.5, 5, 10)) < 1e-9
        assert len(edges) - 1 <= MAX_BINS
        assert edges[-2] <= maximum < edges[-1]
    assert bin_edges(0.0) == [0.0, 1.0]


def test_histogram_sums_rps_per_bin() -> None:
    """Each rps lands in the bin [edge, next edge); the total is kept."""
    edges = [0.0, 10.0, 20.0, 30.0]
    rps = histogram([(0.0, 1.0), (9.99, 2.0), (10.0, 4.0), (29.0, 8.0), (35.0, 16.0)], edges)
    assert rps == [3.0, 4.0, 24.0]
