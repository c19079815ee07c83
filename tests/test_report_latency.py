"""Latency distribution tests: weighted quantiles, mean, round histogram bins."""

from __future__ import annotations

import math

import pytest

from solver.report.latency import MAX_BINS, bin_edges, histogram, weighted_mean, weighted_quantiles


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
