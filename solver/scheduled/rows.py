"""Per-period limits (inventory, grid power, cooling, link bandwidth) as integers.

A limit row of SPEC §9 holds at every hour: `sum of c_k * (user k running then) <=
limit_p (+ chosen expansions)`. This module scales one such family of rows (one site
resource or one link, over all periods) to integers with one factor, in one of the two
roles of docs/formulation.md ("Two models"):

* **relaxation** (`widened=True`; its bound and infeasibility are proofs): the factor
  is the power of ten that makes every figure whole (1e9 when none does), coefficients
  round down (`snap_floor`), each period's limit is `floor(widened(limit) * factor)` and
  each expansion adds `ceil(amount * factor / (1 - 1e-6) * (1 + 4e-9))`, since
  `widened(L + A) <= widened(L) + A / (1 - 1e-6) * (1 + 4e-9)`. Where every figure is
  whole at the factor and the tolerance of the largest possible limit is under one scaled
  unit (a stock under a million accelerators, a grid of 20 MW stated in 0.1 kW), the
  integers are the figures themselves: the left side is a whole number, so the tolerance
  admits nothing more;
* **restriction** (`widened=False`; its plans are SPEC plans): coefficients round up,
  limits and additions down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.tolerance import FLOAT_ROOM, REL_TOL, widened
from solver.cpsat.scaling import decimal_exponent, snap_ceil, snap_floor

#: Factor used when no power of ten makes a row's figures whole (as v1's rows).
INEXACT_EXPONENT = 9


@dataclass(frozen=True)
class Addition:
    """A chosen expansion adds `amount` (scaled) from period position `first` on."""

    key: tuple[str, str]
    first: int
    amount: int


@dataclass(frozen=True)
class ScaledLimits:
    """One family of limit rows in integers: the coefficient of each user, each period's
    limit (None: unlimited then), what each expansion adds, and the factor."""

    factor: float
    coefficients: list[int]
    limits: list[int | None]
    additions: list[Addition]
    #: Whether the figures were whole at the factor (else rounded, as documented above).
    exact: bool

    def limit_at(self, position: int) -> int | None:
        """The period's limit with every expansion that applies then (None: unlimited)."""
        base = self.limits[position]
        if base is None:
            return None
        return base + sum(a.amount for a in self.additions if a.first <= position)


def scale_limits(
    coefficients: list[float],
    limits: list[float | None],
    additions: list[tuple[tuple[str, str], int, float]],
    *,
    relaxation: bool,
) -> ScaledLimits:
    """Scale one family of rows: `coefficients` per user, `limits` per period (None:
    unlimited), `additions` as (expansion key, first period position, amount)."""
    figures = [*coefficients, *(v for v in limits if v is not None), *(a for _, _, a in additions)]
    exponent = decimal_exponent(figures) if figures else 0
    exact = exponent is not None
    factor = 10.0 ** (exponent if exponent is not None else INEXACT_EXPONENT)
    if relaxation and exact:
        largest = max((v for v in limits if v is not None), default=0.0)
        largest += sum(a for _, _, a in additions)
        if math.floor(widened(largest) * factor) == round(largest * factor):
            return ScaledLimits(
                factor,
                [round(c * factor) for c in coefficients],
                [None if v is None else round(v * factor) for v in limits],
                [Addition(k, first, round(a * factor)) for k, first, a in additions],
                exact,
            )
    if relaxation:
        room = (1.0 + FLOAT_ROOM) / (1.0 - REL_TOL)
        return ScaledLimits(
            factor,
            [snap_floor(c * factor) for c in coefficients],
            [None if v is None else math.floor(widened(v) * factor) for v in limits],
            [Addition(k, first, math.ceil(a * factor * room)) for k, first, a in additions],
            exact,
        )
    return ScaledLimits(
        factor,
        [snap_ceil(c * factor) for c in coefficients],
        [None if v is None else snap_floor(v * factor) for v in limits],
        [Addition(k, first, snap_floor(a * factor)) for k, first, a in additions],
        exact,
    )
