"""A restricted copy of the CP-SAT model around the LP relaxation's replica counts (RENS).

The LP relaxation says roughly how many replicas each service wants where; what it
cannot say is how to round them together under inventory, power, cooling, links and
the n+1 rule. `rounding_model` keeps every constraint and every placement decision of
the model and only narrows each replica count to the integers next to its LP value,
`floor(lp) <= r <= ceil(lp)`. CP-SAT searches that much smaller space quickly; its
plans are plans of the full model (nothing is relaxed), so the best one is a complete
hint for the search on the full model. The restriction may have no plan, or a poor
one: then the full search simply starts from the greedy plan (solver.solve).

This is the RENS idea of MIP solvers (Berthold, "RENS: the optimal rounding", 2014),
applied to the integer replica counts only: fixing placements too leaves no plan on
the generated M family, since the rounded-up replicas then have nowhere to go.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from solver.cpsat.model import BuiltModel

#: LP values this close to an integer count as that integer.
INTEGRAL_TOLERANCE = 1e-6


def rounding_model(built: BuiltModel, lp_values: Sequence[float]) -> BuiltModel | None:
    """A copy of `built` whose replica counts are limited to the integers around their
    LP values (integral LP values fix the count); None when the model has no replica
    counts to round."""
    if not built.variables.replicas:
        return None
    model = built.model.clone()
    # A hint from elsewhere (the greedy plan) mostly breaks the narrowed domains, and
    # measured on M-0 it steers the search away from the LP's neighbourhood.
    model.clear_hints()
    proto = model.proto
    for var in built.variables.replicas.values():
        value = lp_values[var.index]
        domain = proto.variables[var.index].domain
        low, high = int(domain[0]), int(list(domain)[-1])
        floor = max(low, math.floor(value + INTEGRAL_TOLERANCE))
        ceil = min(high, math.ceil(value - INTEGRAL_TOLERANCE))
        if floor > ceil:  # an LP value outside the domain: keep the variable free
            continue
        domain.clear()
        domain.extend([floor, ceil])
    return replace(built, model=model)
