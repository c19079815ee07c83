"""The CP-SAT model read as a linear program for LP/MIP solvers (GLOP, HiGHS).

One model of the SPEC, two readings: `to_linear` walks the CP-SAT model proto
(linear rows, exactly-one rows, implications, enforced rows) and states each row
with `pywraplp`, with the float cost coefficients of `ObjectiveTerms` (not the
scaled integers) and the SPEC's exact form of rows CP-SAT states with a grid
allowance. Flow and unserved-demand variables are always continuous.
Uses:

* `solve_linear(..., integer=False)`: the LP relaxation, a proved lower bound on
  the SPEC optimum (flows are continuous there, so it holds even where CP-SAT's
  rps grid is a restriction), with row duals;
* `solve_linear(..., integer=True)`: integer placements and replicas with
  continuous flows, for a MIP solver such as HiGHS;
* `solve_linear(..., fixed=...)`: with placements and replicas pinned, the exact
  continuous optimum of the flows and unserved demand.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ortools.linear_solver import pywraplp

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from solver.cpsat.model import BuiltModel

_STATUS = {
    pywraplp.Solver.OPTIMAL: "optimal",
    pywraplp.Solver.FEASIBLE: "feasible",
    pywraplp.Solver.INFEASIBLE: "infeasible",
    pywraplp.Solver.UNBOUNDED: "unbounded",
    pywraplp.Solver.ABNORMAL: "unknown",
    pywraplp.Solver.NOT_SOLVED: "unknown",
}


@dataclass
class LinearResult:
    """Status, objective (currency), best bound, values and row duals of an LP/MIP solve."""

    status: str
    objective: float | None
    bound: float | None
    values: list[float]
    duals: list[float]
    wall_s: float


@dataclass
class LinearModel:
    """A pywraplp model of the SPEC with its variables and rows (rows in proto order)."""

    solver: pywraplp.Solver
    variables: list[pywraplp.Variable]
    rows: list[pywraplp.Constraint]
    #: For each proto constraint, the indices of the rows stating it.
    rows_of_constraint: list[list[int]]


def _literal(ref: int) -> tuple[int, float, float]:
    """A CP-SAT literal as (variable index, coefficient, constant): constant + coef * var."""
    return (ref, 1.0, 0.0) if ref >= 0 else (-ref - 1, -1.0, 1.0)


def to_linear(
    built: BuiltModel,
    solver_id: str,
    *,
    integer: bool,
    fixed: dict[int, float] | None = None,
) -> LinearModel:
    """State the CP-SAT model with pywraplp (`fixed` pins variables by index)."""
    solver = pywraplp.Solver.CreateSolver(solver_id)
    if solver is None:
        raise RuntimeError(f"OR-Tools has no {solver_id} solver in this build")
    proto = built.model.proto
    continuous = {v.index for v in built.variables.flow.values()}
    continuous |= {v.index for v in built.variables.unserved.values()}
    fixed = fixed or {}
    variables: list[pywraplp.Variable] = []
    for index, var in enumerate(proto.variables):
        domain = list(var.domain)
        low, high = float(domain[0]), float(domain[-1])
        if index in fixed:
            low = high = float(fixed[index])
        if integer and index not in continuous:
            variables.append(solver.IntVar(low, high, var.name))
        else:
            variables.append(solver.NumVar(low, high, var.name))

    rows: list[pywraplp.Constraint] = []
    rows_of_constraint: list[list[int]] = []

    def add_row(terms: dict[int, float], low: float, high: float) -> int:
        row = solver.Constraint(low, high)
        for index, coefficient in terms.items():
            row.SetCoefficient(variables[index], coefficient)
        rows.append(row)
        return len(rows) - 1

    for constraint_index, constraint in enumerate(proto.constraints):
        stated: list[int] = []
        exact = built.notes.relaxed.get(constraint_index)
        if exact is not None:
            # A row CP-SAT states with an allowance: here it is the SPEC's own row.
            stated = [add_row(exact.coefficients, -math.inf, exact.limit)]
        elif constraint.has_linear():
            terms: dict[int, float] = {}
            for ref, coeff in zip(constraint.linear.vars, constraint.linear.coeffs, strict=True):
                terms[ref] = terms.get(ref, 0.0) + float(coeff)
            domain = list(constraint.linear.domain)
            if len(domain) != 2:
                raise ValueError("only single-interval linear rows have a linear reading")
            stated = _enforced_rows(
                add_row,
                variables,
                terms,
                _bound(domain[0]),
                _bound(domain[1]),
                constraint.enforcement_literal,
            )
        elif constraint.has_exactly_one() and not constraint.enforcement_literal:
            terms, constant = {}, 0.0
            for ref in constraint.exactly_one.literals:
                index, coefficient, shift = _literal(ref)
                terms[index] = terms.get(index, 0.0) + coefficient
                constant += shift
            stated = [add_row(terms, 1.0 - constant, 1.0 - constant)]
        elif constraint.has_bool_and() and len(constraint.enforcement_literal) == 1:
            # guard => literal, i.e. literal - guard >= 0 in 0/1 values.
            guard_index, guard_coef, guard_shift = _literal(constraint.enforcement_literal[0])
            for ref in constraint.bool_and.literals:
                index, coefficient, shift = _literal(ref)
                terms = {index: coefficient}
                terms[guard_index] = terms.get(guard_index, 0.0) - guard_coef
                stated.append(add_row(terms, guard_shift - shift, pywraplp.Solver.infinity()))
        else:
            raise ValueError(f"constraint {constraint} has no linear reading here")
        rows_of_constraint.append(stated)

    objective = solver.Objective()
    for index, (_, cost) in built.objective.per_variable().items():
        objective.SetCoefficient(variables[index], cost)
    objective.SetMinimization()
    return LinearModel(solver, variables, rows, rows_of_constraint)


def _bound(value: int) -> float:
    """A CP-SAT domain end as a float, int64 extremes as infinities."""
    if value <= -(2**62):
        return -math.inf
    if value >= 2**62:
        return math.inf
    return float(value)


def _enforced_rows(
    add_row: object,
    variables: Sequence[pywraplp.Variable],
    terms: dict[int, float],
    low: float,
    high: float,
    enforcement: Sequence[int],
) -> list[int]:
    """`low <= terms <= high`, relaxed by big-M (from variable bounds) when not enforced."""
    assert callable(add_row)
    if not enforcement:
        return [add_row(terms, low, high)]
    if len(enforcement) != 1:
        raise ValueError("rows with several enforcement literals have no linear reading here")
    guard_index, guard_coef, guard_shift = _literal(enforcement[0])
    smallest = sum(
        c * (variables[i].lb() if c > 0 else variables[i].ub()) for i, c in terms.items()
    )
    largest = sum(c * (variables[i].ub() if c > 0 else variables[i].lb()) for i, c in terms.items())
    infinity = pywraplp.Solver.infinity()
    stated = []
    # active = guard_shift + guard_coef * guard; terms <= high + (largest - high) * (1 - active)
    if high < largest:
        slack = largest - high
        row = dict(terms)
        row[guard_index] = row.get(guard_index, 0.0) + slack * guard_coef
        stated.append(add_row(row, -infinity, high + slack * (1 - guard_shift)))
    if low > smallest:
        slack = low - smallest
        row = dict(terms)
        row[guard_index] = row.get(guard_index, 0.0) - slack * guard_coef
        stated.append(add_row(row, low - slack * (1 - guard_shift), infinity))
    return stated


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: HiGHS prints its banner from C++ once a time
    limit is set, whatever SuppressOutput says, and a library must not write to the
    caller's stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve_linear(
    built: BuiltModel,
    *,
    solver_id: str = "GLOP",
    integer: bool = False,
    fixed: dict[int, float] | None = None,
    time_limit_s: float | None = None,
    threads: int = 1,
) -> LinearResult:
    """Solve the linear reading of `built` and return values indexed like the CP-SAT vars."""
    started = time.perf_counter()
    linear = to_linear(built, solver_id, integer=integer, fixed=fixed)
    solver = linear.solver
    solver.SuppressOutput()
    if time_limit_s is not None:
        solver.SetTimeLimit(max(1, int(time_limit_s * 1000)))
    if threads > 1:
        solver.SetNumThreads(threads)
    with _quiet_stdout() if solver_id == "HIGHS" else contextlib.nullcontext():
        status = _STATUS.get(solver.Solve(), "unknown")
    has_values = status in ("optimal", "feasible")
    objective = solver.Objective()
    bound: float | None = None
    if status == "optimal" and not integer:
        bound = objective.Value()
    elif has_values and integer:
        bound = objective.BestBound()
    return LinearResult(
        status=status,
        objective=objective.Value() if has_values else None,
        bound=bound,
        values=[v.solution_value() for v in linear.variables] if has_values else [],
        duals=[row.dual_value() for row in linear.rows] if has_values and not integer else [],
        wall_s=time.perf_counter() - started,
    )
