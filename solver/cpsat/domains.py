"""Fixing a variable of a CP-SAT model's proto at one value (fix-and-optimise copies)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python.cp_model_helper import CpModelProto


def fix_at(proto: CpModelProto, index: int, value: int) -> bool:
    """Fix variable `index` of `proto` at `value` when its domain holds it; False (the
    domain left as it is) when it does not."""
    domain = proto.variables[index].domain
    bounds = list(domain)
    if not any(low <= value <= high for low, high in zip(bounds[::2], bounds[1::2], strict=True)):
        return False
    domain.clear()
    domain.extend([value, value])
    return True
