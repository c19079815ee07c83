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
import datetime
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ortools.linear_solver import pywraplp
from ortools.math_opt import (
    callback_pb2,
    model_parameters_pb2,
    model_pb2,
    parameters_pb2,
    result_pb2,
    sparse_containers_pb2,
)
from ortools.math_opt.core.python import solver as mathopt_solver
from ortools.sat import cp_model_pb2

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from ortools.sat.python import cp_model

    from solver.cpsat.constraints import ModelNotes
    from solver.cpsat.objective import ObjectiveTerms

_STATUS = {
    pywraplp.Solver.OPTIMAL: "optimal",
    pywraplp.Solver.FEASIBLE: "feasible",
    pywraplp.Solver.INFEASIBLE: "infeasible",
    pywraplp.Solver.UNBOUNDED: "unbounded",
    pywraplp.Solver.ABNORMAL: "unknown",
    pywraplp.Solver.NOT_SOLVED: "unknown",
}

_MATHOPT_STATUS = {
    result_pb2.TERMINATION_REASON_OPTIMAL: "optimal",
    result_pb2.TERMINATION_REASON_INFEASIBLE: "infeasible",
    result_pb2.TERMINATION_REASON_UNBOUNDED: "unbounded",
    result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED: "infeasible",
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
    #: For each CP-SAT constraint, the indices of the rows (and duals) stating it.
    rows_of_constraint: list[list[int]] = field(default_factory=list)


@dataclass
class LinearModel:
    """A pywraplp model of the SPEC with its variables and rows (rows in proto order)."""

    solver: pywraplp.Solver
    variables: list[pywraplp.Variable]
    rows: list[pywraplp.Constraint]
    #: For each proto constraint, the indices of the rows stating it.
    rows_of_constraint: list[list[int]]
    #: The rows as plain data (for the safe bound of the LP's duals).
    data: LinearRows


class LinearSource(Protocol):
    """A CP-SAT model this module can read linearly: v1's `BuiltModel` or the v2
    `ScheduledModel` (static or scheduled)."""

    @property
    def model(self) -> cp_model.CpModel: ...

    @property
    def notes(self) -> ModelNotes: ...

    @property
    def objective(self) -> ObjectiveTerms: ...

    def continuous(self) -> set[int]:
        """Indices of the variables that are continuous in the linear reading (flows and
        unserved demand)."""
        ...


def _literal(ref: int) -> tuple[int, float, float]:
    """A CP-SAT literal as (variable index, coefficient, constant): constant + coef * var."""
    return (ref, 1.0, 0.0) if ref >= 0 else (-ref - 1, -1.0, 1.0)


@dataclass
class LinearRows:
    """The linear reading of a CP-SAT model as plain data, for any LP/MIP interface."""

    lower: list[float]
    upper: list[float]
    integer: list[bool]
    #: (coefficient by variable index, low, high) per row.
    rows: list[tuple[dict[int, float], float, float]]
    #: For each proto constraint, the indices of the rows stating it.
    rows_of_constraint: list[list[int]]
    #: Float cost per unit of each variable (by index) that has one.
    costs: dict[int, float]


def parsed_proto(model: cp_model.CpModel) -> cp_model_pb2.CpModelProto:
    """A Python protobuf copy of `model`'s proto. OR-Tools 9.15 keeps the proto in C++ and
    offers no bytes of it but a file; the copy reads its fields five times faster than the
    C++ object does (0.5 s against 2.7 s for the rows of a generated L instance)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pb"
        if not model.export_to_file(str(path)):
            raise RuntimeError("OR-Tools could not write the CP-SAT model to a file")
        parsed = cp_model_pb2.CpModelProto()
        parsed.ParseFromString(path.read_bytes())
        return parsed


def linear_rows(
    built: LinearSource, *, integer: bool, fixed: dict[int, float] | None = None
) -> LinearRows:
    """Walk the CP-SAT model proto and state each row linearly (`fixed` pins variables
    by index)."""
    proto = parsed_proto(built.model)
    continuous = built.continuous()
    fixed = fixed or {}
    lower: list[float] = []
    upper: list[float] = []
    for index, var in enumerate(proto.variables):
        domain = var.domain
        low, high = float(domain[0]), float(domain[-1])
        if index in fixed:
            low = high = float(fixed[index])
        lower.append(low)
        upper.append(high)
    kinds = [integer and index not in continuous for index in range(len(lower))]
    rows: list[tuple[dict[int, float], float, float]] = []
    rows_of_constraint: list[list[int]] = []
    relaxed = built.notes.relaxed

    def add_row(terms: dict[int, float], low: float, high: float) -> int:
        rows.append((terms, low, high))
        return len(rows) - 1

    for constraint_index, constraint in enumerate(proto.constraints):
        stated: list[int] = []
        exact = relaxed.get(constraint_index)
        kind = constraint.WhichOneof("constraint")
        enforcement = constraint.enforcement_literal
        if exact is not None:
            # A row CP-SAT states with an allowance: here it is the SPEC's own row.
            stated = [add_row(dict(exact.coefficients), -math.inf, exact.limit)]
        elif kind == "linear":
            linear = constraint.linear
            terms: dict[int, float] = {}
            for ref, coeff in zip(linear.vars, linear.coeffs, strict=True):
                terms[ref] = terms.get(ref, 0.0) + coeff
            domain = linear.domain
            if len(domain) != 2:
                raise ValueError("only single-interval linear rows have a linear reading")
            stated = _enforced_rows(
                add_row, lower, upper, terms, _bound(domain[0]), _bound(domain[1]), enforcement
            )
        elif kind == "exactly_one" and not enforcement:
            terms, constant = {}, 0.0
            for ref in constraint.exactly_one.literals:
                index, coefficient, shift = _literal(ref)
                terms[index] = terms.get(index, 0.0) + coefficient
                constant += shift
            stated = [add_row(terms, 1.0 - constant, 1.0 - constant)]
        elif kind == "bool_and" and len(enforcement) == 1:
            # guard => literal, i.e. literal - guard >= 0 in 0/1 values.
            guard_index, guard_coef, guard_shift = _literal(enforcement[0])
            for ref in constraint.bool_and.literals:
                index, coefficient, shift = _literal(ref)
                terms = {index: coefficient}
                terms[guard_index] = terms.get(guard_index, 0.0) - guard_coef
                stated.append(add_row(terms, guard_shift - shift, math.inf))
        else:
            raise ValueError(f"constraint {constraint} has no linear reading here")
        rows_of_constraint.append(stated)
    costs = {index: cost for index, (_, cost) in built.objective.per_variable().items()}
    return LinearRows(lower, upper, kinds, rows, rows_of_constraint, costs)


#: Relative room the safe bound leaves for float rounding in its own sums.
BOUND_FLOAT_ROOM = 1e-9


def safe_bound(data: LinearRows, duals: Sequence[float]) -> float | None:
    """A proved lower bound on the LP's optimum from any row multipliers `duals`.

    Weak duality: for every x within its bounds and every row `low <= a.x <= high`,
    c.x = (c - A'y).x + y.(A x) >= sum_j min over [l_j, u_j] of d_j x_j + sum_r min over
    [low_r, high_r] of y_r s. A multiplier that would pair with an infinite side is
    dropped to zero first, so the bound holds whatever the LP solver's tolerances (it
    only gets weaker where its duals are off), and its float sums are lowered by
    BOUND_FLOAT_ROOM of their size. None when a variable with a reduced cost has an
    infinite bound on the side that cost would use."""
    multipliers = list(duals)
    reduced = dict(data.costs)
    terms: list[float] = []
    for index, (row, low, high) in enumerate(data.rows):
        y = multipliers[index] if index < len(multipliers) else 0.0
        if y > 0 and math.isinf(low):
            y = 0.0
        if y < 0 and math.isinf(high):
            y = 0.0
        if y == 0.0 or not math.isfinite(y):
            continue
        terms.append(y * (low if y > 0 else high))
        for var, coefficient in row.items():
            reduced[var] = reduced.get(var, 0.0) - y * coefficient
    for var, cost in reduced.items():
        if cost == 0.0:
            continue
        end = data.lower[var] if cost > 0 else data.upper[var]
        if math.isinf(end):
            return None
        terms.append(cost * end)
    total = math.fsum(terms)
    return total - BOUND_FLOAT_ROOM * math.fsum(abs(t) for t in terms)


def to_linear(
    built: LinearSource,
    solver_id: str,
    *,
    integer: bool,
    fixed: dict[int, float] | None = None,
) -> LinearModel:
    """State the CP-SAT model with pywraplp (`fixed` pins variables by index)."""
    solver = pywraplp.Solver.CreateSolver(solver_id)
    if solver is None:
        raise RuntimeError(f"OR-Tools has no {solver_id} solver in this build")
    data = linear_rows(built, integer=integer, fixed=fixed)
    names = [var.name for var in built.model.proto.variables]
    variables = [
        solver.IntVar(low, high, name) if kind else solver.NumVar(low, high, name)
        for low, high, kind, name in zip(data.lower, data.upper, data.integer, names, strict=True)
    ]
    rows: list[pywraplp.Constraint] = []
    for terms, low, high in data.rows:
        row = solver.Constraint(low, high)
        for index, coefficient in terms.items():
            row.SetCoefficient(variables[index], coefficient)
        rows.append(row)
    objective = solver.Objective()
    for index, cost in data.costs.items():
        objective.SetCoefficient(variables[index], cost)
    objective.SetMinimization()
    return LinearModel(solver, variables, rows, data.rows_of_constraint, data)


def _bound(value: int) -> float:
    """A CP-SAT domain end as a float, int64 extremes as infinities."""
    if value <= -(2**62):
        return -math.inf
    if value >= 2**62:
        return math.inf
    return float(value)


def _enforced_rows(
    add_row: object,
    lower: Sequence[float],
    upper: Sequence[float],
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
    smallest = sum(c * (lower[i] if c > 0 else upper[i]) for i, c in terms.items())
    largest = sum(c * (upper[i] if c > 0 else lower[i]) for i, c in terms.items())
    infinity = math.inf
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
    built: LinearSource,
    *,
    solver_id: str = "GLOP",
    integer: bool = False,
    fixed: dict[int, float] | None = None,
    time_limit_s: float | None = None,
    threads: int = 1,
) -> LinearResult:
    """Solve the linear reading of `built` and return values indexed like the CP-SAT vars.

    An LP with HiGHS goes through MathOpt, whose HiGHS interface reports row duals
    (pywraplp's reports row activities in their place, OR-Tools 9.15)."""
    if solver_id == "HIGHS" and not integer:
        return _solve_lp_mathopt(built, fixed, time_limit_s, threads)
    started = time.perf_counter()
    linear = to_linear(built, solver_id, integer=integer, fixed=fixed)
    solver = linear.solver
    solver.SuppressOutput()
    if time_limit_s is not None:
        left = time_limit_s - (time.perf_counter() - started)
        solver.SetTimeLimit(max(1, int(left * 1000)))
    if threads > 1:
        solver.SetNumThreads(threads)
    with _quiet_stdout() if solver_id == "HIGHS" else contextlib.nullcontext():
        status = _STATUS.get(solver.Solve(), "unknown")
    has_values = status in ("optimal", "feasible")
    objective = solver.Objective()
    duals = [row.dual_value() for row in linear.rows] if has_values and not integer else []
    bound: float | None = None
    if status == "optimal" and not integer:
        bound = safe_bound(linear.data, duals)
    elif has_values and integer:
        # The MIP solver's own bound, to its tolerances: for the benchmark peers, never a
        # claim of infraplan's (solver.solve takes its bounds from safe sources only).
        bound = objective.BestBound()
    return LinearResult(
        status=status,
        objective=objective.Value() if has_values else None,
        bound=bound,
        values=[v.solution_value() for v in linear.variables] if has_values else [],
        duals=duals,
        wall_s=time.perf_counter() - started,
        rows_of_constraint=linear.rows_of_constraint,
    )


def _mathopt_model(data: LinearRows) -> model_pb2.ModelProto:
    """The LP of `data` as a MathOpt model (variables and rows keep their indices)."""
    model = model_pb2.ModelProto()
    count = len(data.lower)
    model.variables.ids.extend(range(count))
    model.variables.lower_bounds.extend(data.lower)
    model.variables.upper_bounds.extend(data.upper)
    model.variables.integers.extend([False] * count)
    model.linear_constraints.ids.extend(range(len(data.rows)))
    model.linear_constraints.lower_bounds.extend(low for _, low, _ in data.rows)
    model.linear_constraints.upper_bounds.extend(high for _, _, high in data.rows)
    row_ids: list[int] = []
    column_ids: list[int] = []
    coefficients: list[float] = []
    for row, (terms, _, _) in enumerate(data.rows):
        for index in sorted(terms):
            if terms[index] != 0.0:
                row_ids.append(row)
                column_ids.append(index)
                coefficients.append(terms[index])
    matrix = model.linear_constraint_matrix
    matrix.row_ids.extend(row_ids)
    matrix.column_ids.extend(column_ids)
    matrix.coefficients.extend(coefficients)
    objective = sorted((index, cost) for index, cost in data.costs.items() if cost != 0.0)
    model.objective.linear_coefficients.ids.extend(index for index, _ in objective)
    model.objective.linear_coefficients.values.extend(cost for _, cost in objective)
    return model


def _dense(vector: sparse_containers_pb2.SparseDoubleVectorProto, size: int) -> list[float]:
    values = [0.0] * size
    for index, value in zip(vector.ids, vector.values, strict=True):
        values[index] = value
    return values


def _solve_lp_mathopt(
    built: LinearSource,
    fixed: dict[int, float] | None,
    time_limit_s: float | None,
    threads: int,
) -> LinearResult:
    """The LP relaxation solved by HiGHS through MathOpt, with values and row duals; the
    time its rows take to read (seconds on a large model) comes off `time_limit_s`."""
    started = time.perf_counter()
    data = linear_rows(built, integer=False, fixed=fixed)
    if time_limit_s is not None:
        time_limit_s -= time.perf_counter() - started
    return solve_rows(data, time_limit_s, threads)


def run_highs(
    model: model_pb2.ModelProto, parameters: parameters_pb2.SolveParametersProto
) -> result_pb2.SolveResultProto:
    """Solve a MathOpt model with HiGHS, its C++ banner kept off stdout."""
    with _quiet_stdout():
        return mathopt_solver.solve(
            model,
            parameters_pb2.SOLVER_TYPE_HIGHS,
            parameters_pb2.SolverInitializerProto(),
            parameters,
            model_parameters_pb2.ModelSolveParametersProto(),
            None,
            callback_pb2.CallbackRegistrationProto(),
            None,
            None,
        )


def solve_rows(data: LinearRows, time_limit_s: float | None, threads: int = 1) -> LinearResult:
    """The LP of `data` solved by HiGHS through MathOpt, with values, row duals and the
    safe bound of those duals (`safe_bound`). The model's conversion comes off
    `time_limit_s`; with no time left, HiGHS is not started (status "unknown")."""
    started = time.perf_counter()
    model = _mathopt_model(data)
    parameters = parameters_pb2.SolveParametersProto(enable_output=False)
    if time_limit_s is not None:
        left = time_limit_s - (time.perf_counter() - started)
        parameters.time_limit.FromTimedelta(datetime.timedelta(seconds=max(left, 1e-3)))
    if threads > 1:
        parameters.threads = threads
    if time_limit_s is None or left > 0:
        result = run_highs(model, parameters)
        reason = result.termination.reason
        status = _MATHOPT_STATUS.get(reason, "unknown")
        solution = result.solutions[0] if result.solutions else None
    else:
        status, solution = "unknown", None
    has_values = status == "optimal" and solution is not None
    if not has_values or solution is None:
        return LinearResult(
            status=status if status != "optimal" else "unknown",
            objective=None,
            bound=None,
            values=[],
            duals=[],
            wall_s=time.perf_counter() - started,
            rows_of_constraint=data.rows_of_constraint,
        )
    objective = solution.primal_solution.objective_value
    duals = _dense(solution.dual_solution.dual_values, len(data.rows))
    return LinearResult(
        status=status,
        objective=objective,
        bound=safe_bound(data, duals),
        values=_dense(solution.primal_solution.variable_values, len(data.lower)),
        duals=duals,
        wall_s=time.perf_counter() - started,
        rows_of_constraint=data.rows_of_constraint,
    )
