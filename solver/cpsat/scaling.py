"""The one place where floats become integers for CP-SAT.

Every model is built in one of two roles (docs/formulation.md, "Two models"): the
*restricted* model, every plan of which is a SPEC plan, rounds each row towards
the tighter side; the *widened* model, of which every SPEC plan (to the SPEC's
tolerance) is a plan, rounds each row towards the looser side and widens its limit
by the tolerance (`relaxed_row`). Its bound and its infeasibility are proofs.

Three kinds of scaling, each chosen per instance and documented in
docs/formulation.md:

* **rps units**: a service's flows and unserved demand are integers in units of
  `rps_unit` rps, the coarsest power of ten (1 down to 1e-6), or 1 / (q 10^p) for
  rates like 7/3, that every demand and every profile rate of the service is a
  whole multiple of. Then, for fixed
  replicas, the routing problem is a network flow with integral data, whose
  optimum is integral: the grid loses nothing (see docs/formulation.md).
* **constraint rows** (power, cooling, bandwidth): each row is multiplied by the
  smallest power of ten that makes its coefficients whole numbers. When no power
  up to 10^9 does, coefficients are rounded up and the limit down, so every plan
  of the model still satisfies the SPEC row (the model is then a slight
  restriction, and is marked inexact).
* **costs**: every objective coefficient is multiplied by `cost_scale` (a power
  of ten) and rounded *down*, so the integer objective never exceeds
  `cost_scale` times the true cost of any plan, and CP-SAT's bound divided by
  `cost_scale` is a proved lower bound on the true optimum.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from models.tolerance import widened

#: Integer magnitudes past this may slow CP-SAT's LP or overflow its sums.
SAFE_INTEGER = 2**53
#: Finest rps unit tried.
FINEST_EXPONENT = 6
#: Largest denominator of a non-decimal rps unit (thirds, sevenths, ...).
MAX_DENOMINATOR = 1000
#: Relative tolerance when deciding whether a scaled float is a whole number.
SNAP = 1e-9
#: Target precision of the scaled objective relative to the objective's size.
COST_PRECISION = 1e-8


class ScalingWarning(UserWarning):
    """Numbers of the instance grew past what the integer model represents safely."""


def decimal_exponent(values: list[float], max_exponent: int = 9) -> int | None:
    """Smallest p in [0, max_exponent] with every value * 10^p whole; None if none."""
    array = np.asarray(values, dtype=np.float64)
    for exponent in range(max_exponent + 1):
        scaled = array * 10.0**exponent
        if np.all(np.abs(scaled - np.round(scaled)) <= SNAP * np.maximum(1.0, np.abs(scaled))):
            return exponent
    return None


def snap_ceil(value: float) -> int:
    """Round up, treating values within SNAP of a whole number as that number."""
    nearest = round(value)
    if abs(value - nearest) <= SNAP * max(1.0, abs(value)):
        return int(nearest)
    return math.ceil(value)


def snap_floor(value: float) -> int:
    """Round down, treating values within SNAP of a whole number as that number."""
    nearest = round(value)
    if abs(value - nearest) <= SNAP * max(1.0, abs(value)):
        return int(nearest)
    return math.floor(value)


@dataclass(frozen=True)
class IntegerRow:
    """A `sum(coefficients[k] * var_k) <= limit` row in integers, and whether it is exact."""

    coefficients: list[int]
    limit: int
    exact: bool


def integer_row(coefficients: list[float], limit: float, *, loosen: bool = False) -> IntegerRow:
    """Scale a `<=` row with non-negative coefficients to integers.

    When no power of ten makes it whole, coefficients round up and the limit down
    (never loosening the row), or the other way round with `loosen` (never
    tightening it, for rows that are relaxations anyway)."""
    exponent = decimal_exponent([*coefficients, limit])
    exact = exponent is not None
    factor = 10.0 ** (exponent if exponent is not None else 9)
    up, down = (snap_floor, snap_ceil) if loosen else (snap_ceil, snap_floor)
    row = IntegerRow(
        coefficients=[up(c * factor) for c in coefficients],
        limit=down(limit * factor),
        exact=exact,
    )
    magnitude = max([abs(row.limit), *(abs(c) for c in row.coefficients)], default=0)
    if magnitude > SAFE_INTEGER:
        warnings.warn(
            f"a constraint row needs integers up to {magnitude:.3g}; CP-SAT may be slow or "
            "imprecise (figures span too many orders of magnitude)",
            ScalingWarning,
            stacklevel=3,
        )
    return row


def relaxed_row(coefficients: list[float], limit: float) -> IntegerRow:
    """Scale a `<=` row with non-negative coefficients to integers as a relaxation of the
    SPEC row to its tolerance: every point whose float row holds to the SPEC tolerance
    satisfies the integer row.

    The factor is the power of ten that makes the row whole (1e9 when none does);
    coefficients round down (those within SNAP of a whole number to it, at most SNAP of
    their size up, which `widened`'s float room covers). The variables are integers, so
    the scaled left-hand side is a whole number, and the widened limit rounds down: a
    tolerance of 1e-6 does not make 7 kW of cooling hold 8 accelerators of 1 kW."""
    exponent = decimal_exponent([*coefficients, limit])
    factor = 10.0 ** (exponent if exponent is not None else 9)
    return IntegerRow(
        coefficients=[snap_floor(c * factor) for c in coefficients],
        limit=math.floor(widened(limit) * factor),
        exact=True,
    )


def rps_unit(values: list[float]) -> tuple[float, bool]:
    """The coarsest unit 1 / (q 10^p) (p <= 6, q <= MAX_DENOMINATOR, q = 1 first) of which
    all values are whole multiples (to SNAP): a decimal unit, else one for rates such as
    7/3 or 1/7 that no decimal unit holds.

    Returns (unit, exact); when no unit fits, (1e-6, False) and values are rounded.
    """
    exponent = decimal_exponent(values, FINEST_EXPONENT)
    if exponent is not None:
        return 10.0**-exponent, True
    for exponent in range(FINEST_EXPONENT + 1):
        denominator = _common_denominator([v * 10.0**exponent for v in values])
        if denominator is not None and denominator * 10**exponent <= 10**FINEST_EXPONENT:
            return 1.0 / (denominator * 10.0**exponent), True
    return 10.0**-FINEST_EXPONENT, False


def _common_denominator(values: list[float]) -> int | None:
    """The least q <= MAX_DENOMINATOR with every value * q whole (to SNAP); None if none."""
    common = 1
    for value in values:
        fraction = Fraction(value).limit_denominator(MAX_DENOMINATOR)
        if abs(fraction - Fraction(value)) > SNAP * max(1.0, abs(value)):
            return None
        common = math.lcm(common, fraction.denominator)
        if common > MAX_DENOMINATOR:
            return None
    return common


@dataclass
class CostScale:
    """The factor turning currency into integer objective units (always rounding down)."""

    factor: float
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def choose(
        cls, low: float, high: float, total_units: float, costs: list[float] | None = None
    ) -> CostScale:
        """Pick 10^k so that rounding every coefficient down by < 1 unit, summed over at most
        `total_units` variable units, stays below COST_PRECISION of the cost estimate `low`,
        while the scaled `high` estimate stays a safe integer. When a smaller power of ten
        already makes every cost coefficient whole, that one is used: the objective is
        then exact and its numbers as small as they can be."""
        low = max(low, 1e-3)
        high = max(high, low)
        total_units = max(total_units, 1.0)
        exponent = math.ceil(math.log10(total_units / (COST_PRECISION * low)))
        if costs:
            whole = decimal_exponent(costs, max(0, exponent))
            if whole is not None:
                exponent = min(exponent, whole)
        # The largest integer objective must stay a safe integer.
        ceiling = math.floor(math.log10(SAFE_INTEGER / (10 * high)))
        notes: list[str] = []
        if exponent > ceiling:
            notes.append(
                f"cost scale capped at 1e{ceiling} (wanted 1e{exponent}); the objective "
                "precision is coarser than 1e-8 relative"
            )
            warnings.warn(notes[-1], ScalingWarning, stacklevel=3)
            exponent = ceiling
        return cls(factor=10.0**exponent, warnings=notes)

    def down(self, cost: float) -> int:
        """A cost coefficient in objective units, rounded down (keeps bounds valid)."""
        return snap_floor(cost * self.factor)

    def to_currency(self, units: float) -> float:
        """Objective units back to currency."""
        return units / self.factor
