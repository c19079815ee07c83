"""Distribution of served traffic over network latency, weighted by rps.

Quantiles are exact (no binning): the q-quantile is the smallest route latency at which
the routes up to and including it carry at least q of the served rps. Histograms use bin
edges shared by every plan of a comparison, so the bars line up.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from solver.report.data import QUANTILES

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: Bin widths a histogram may use, in ms (and these times powers of ten).
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0)
#: Most bins a histogram gets; keeps charts and JSON readable.
MAX_BINS = 30


def weighted_quantiles(points: Sequence[tuple[float, float]]) -> dict[str, float | None]:
    """Quantiles of latency over (latency_ms, rps) points; None each without traffic."""
    carrying = sorted((latency, rps) for latency, rps in points if rps > 0)
    total = math.fsum(rps for _, rps in carrying)
    if total <= 0:
        return {name: None for name, _ in QUANTILES}
    cumulative: list[float] = []
    running = 0.0
    for _, rps in carrying:
        running += rps
        cumulative.append(running)
    quantiles: dict[str, float | None] = {}
    for name, share in QUANTILES:
        # A relative slack keeps float rounding of the running sum from skipping a route.
        wanted = share * total * (1 - 1e-12)
        index = min(bisect.bisect_left(cumulative, wanted), len(carrying) - 1)
        quantiles[name] = carrying[index][0]
    return quantiles


def weighted_mean(points: Iterable[tuple[float, float]]) -> float | None:
    """rps-weighted mean latency; None without traffic."""
    carrying = [(latency, rps) for latency, rps in points if rps > 0]
    total = math.fsum(rps for _, rps in carrying)
    if total <= 0:
        return None
    return math.fsum(latency * rps for latency, rps in carrying) / total


def bin_edges(max_latency_ms: float) -> list[float]:
    """Edges from 0 with a round width, at most MAX_BINS bins, covering `max_latency_ms`."""
    if max_latency_ms <= 0:
        return [0.0, 1.0]
    # One bin is kept for the top edge lying strictly above the maximum.
    raw_width = max_latency_ms / (MAX_BINS - 1)
    scale = 10.0 ** math.floor(math.log10(raw_width))
    width = next(
        (step * scale for step in (*_NICE_STEPS, 10.0) if step * scale >= raw_width),
        10.0 * scale,
    )
    bins = math.floor(max_latency_ms / width) + 1
    return [round(index * width, 9) for index in range(bins + 1)]


def histogram(points: Iterable[tuple[float, float]], edges: Sequence[float]) -> list[float]:
    """Served rps per bin [edge_k, edge_k+1); latencies past the last edge count in the last bin."""
    rps_per_bin = [0.0] * (len(edges) - 1)
    for latency, rps in points:
        if rps <= 0:
            continue
        index = min(max(bisect.bisect_right(edges, latency) - 1, 0), len(rps_per_bin) - 1)
        rps_per_bin[index] += rps
    return rps_per_bin
