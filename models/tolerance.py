"""SPEC section 7's feasibility tolerance, for the models' own pruning rules.

A limit `lhs <= limit` holds when `lhs - limit <= max(ABS_TOL, REL_TOL * max(lhs, limit))`.
The solver's widened model (solver.cpsat) and the eligibility pruning use `widened` so
that no plan the SPEC calls feasible is cut off; the evaluator keeps its own copy of
these two numbers (it shares no code with the solver).
"""

from __future__ import annotations

#: Relative tolerance of every SPEC constraint (section 7).
REL_TOL = 1e-6
#: Absolute tolerance near zero (section 7).
ABS_TOL = 1e-6
#: Extra relative room against float rounding in the sums that compare against `widened`.
FLOAT_ROOM = 4e-9


def widened(limit: float) -> float:
    """The most a non-negative left-hand side may reach while `lhs <= limit` still holds
    to the SPEC's tolerance (for a non-negative `limit`), with FLOAT_ROOM to spare."""
    most = max(limit + ABS_TOL, limit / (1.0 - REL_TOL))
    return most * (1.0 + FLOAT_ROOM)


def narrowed(value: float) -> float:
    """The least a non-negative left-hand side may reach while `lhs == value` still holds
    to the SPEC's tolerance (never below 0), with FLOAT_ROOM to spare."""
    least = value - max(ABS_TOL, REL_TOL * value)
    return max(0.0, least * (1.0 - FLOAT_ROOM) if least > 0 else least)
