"""Integer scaling: exact where the data allows, never loosening a row, bounds kept valid."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solver.cpsat.scaling import CostScale, ScalingWarning, integer_row, rps_unit


def test_rps_unit_is_coarsest_fitting_power_of_ten() -> None:
    """Whole numbers get unit 1, one decimal 0.1, and odd figures fall back to 1e-6 inexactly."""
    assert rps_unit([300.0, 12.0]) == (1.0, True)
    assert rps_unit([12.5, 3.0]) == (0.1, True)
    assert rps_unit([0.25]) == (0.01, True)
    assert rps_unit([0.123456789]) == (1e-6, False)


def test_rps_unit_holds_thirds_and_sevenths() -> None:
    """Rates like 7/3 and 1/7, which no decimal unit holds, get a unit of 1/3 or 1/7."""
    assert rps_unit([1 / 3, 1.0]) == (1 / 3, True)
    assert rps_unit([7 / 3, 7.0]) == (1 / 3, True)
    assert rps_unit([1 / 7, 3.0]) == (1 / 7, True)
    assert rps_unit([0.7 / 3, 0.5]) == (1 / 30, True)


def test_integer_row_is_exact_for_decimal_data() -> None:
    """A power row with PUE 1.2 and 1.275 kW scales exactly."""
    row = integer_row([1.2 * 1.275, 1.2 * 0.7], 20000.0)
    assert row.exact
    assert row.coefficients == [153, 84]
    assert row.limit == 2_000_000


@given(
    st.lists(st.floats(0.001, 1000.0, allow_nan=False), min_size=1, max_size=5),
    st.floats(0.0, 1e6, allow_nan=False),
)
def test_integer_row_never_loosens(coefficients: list[float], limit: float) -> None:
    """Any integer point within the scaled row also satisfies the float row."""
    row = integer_row(coefficients, limit)
    if not row.exact:
        factor = 1e9
        for c, scaled in zip(coefficients, row.coefficients, strict=True):
            assert scaled >= c * factor * (1 - 1e-9)
        assert row.limit <= limit * factor * (1 + 1e-9)


def test_cost_scale_exact_for_whole_costs() -> None:
    """Whole-number costs are not scaled at all."""
    scale = CostScale.choose(1000.0, 5000.0, 100.0, [3.0, 7.0, 120.0])
    assert scale.factor == 1.0


def test_cost_scale_rounds_down() -> None:
    """Scaled coefficients never exceed the true cost times the factor."""
    scale = CostScale.choose(1000.0, 5000.0, 1e4, [0.123456789])
    assert scale.down(0.123456789) <= 0.123456789 * scale.factor
    assert scale.to_currency(scale.down(2.5)) == pytest.approx(2.5)


def test_cost_scale_warns_past_safe_integers() -> None:
    """Huge cost spans trigger a ScalingWarning rather than silent overflow."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scale = CostScale.choose(1e-3, 1e14, 1e9, [1 / 3])
    assert any(issubclass(w.category, ScalingWarning) for w in caught)
    assert scale.factor * 1e14 <= 2**53
    assert math.log10(scale.factor) == int(math.log10(scale.factor))
