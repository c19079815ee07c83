"""The tolerance every check uses (SPEC section 7): 1e-6 relative, 1e-6 absolute near zero."""

from __future__ import annotations

import math

#: Relative tolerance of every constraint and cost claim.
REL_TOL = 1e-6
#: Absolute tolerance that takes over when both figures are near zero.
ABS_TOL = 1e-6


def allowance(first: float, second: float) -> float:
    """How far two figures may differ: 1e-6 of the larger magnitude, at least 1e-6."""
    return max(ABS_TOL, REL_TOL * max(abs(first), abs(second)))


def excess(value: float, limit: float) -> float:
    """How far `value` is over `limit`; 0.0 when it is within the limit or the tolerance."""
    over = value - limit
    if not math.isfinite(over):
        return over if over > 0 else 0.0
    return over if over > allowance(value, limit) else 0.0


def mismatch(value: float, expected: float) -> float:
    """How far `value` is from `expected`; 0.0 when they agree within the tolerance."""
    difference = abs(value - expected)
    if not math.isfinite(difference):
        return math.inf
    return difference if difference > allowance(value, expected) else 0.0
