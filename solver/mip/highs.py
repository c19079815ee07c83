"""HiGHS on the compact MIP (`solver.mip.compact`) through OR-Tools MathOpt (highspy is not
installed): `solve_compact`.

HiGHS runs with its own presolve, cuts and heuristics on one thread within a time limit, from
a MIP start when one is given (MathOpt passes a solution hint to HiGHS's `setSolution`: a
complete, feasible start is HiGHS's first incumbent). Its dual bound is returned as HiGHS's
(to its tolerances: primal feasibility 1e-7, integrality 1e-6, relative gap 1e-6), never as a
proved bound of the SPEC optimum.
"""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ortools.math_opt import (
    callback_pb2,
    model_parameters_pb2,
    model_pb2,
    parameters_pb2,
    result_pb2,
    solution_pb2,
)
from ortools.math_opt.core.python import solver as mathopt_solver

from solver.linear import run_highs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ortools.util.python.solve_interrupter import SolveInterrupter

    from solver.mip.compact import CompactModel

#: HiGHS stops when its gap falls below this (its default, 1e-4, would stop 0.01 % short).
RELATIVE_GAP = 1e-6

Status = Literal["optimal", "feasible", "infeasible", "unknown"]


@dataclass
class CompactResult:
    """What HiGHS returned: status, column values (None without a solution), objective and
    its own dual bound."""

    status: Status
    values: list[float] | None
    objective: float | None
    bound: float | None
    wall_s: float


def solve_compact(
    model: CompactModel,
    *,
    time_limit_s: float | None,
    integer: bool = True,
    fixed: dict[int, float] | None = None,
    seed: int = 0,
    start: Sequence[float] | None = None,
    interrupter: SolveInterrupter | None = None,
) -> CompactResult:
    """Solve the model (or its LP relaxation) with HiGHS on one thread; `fixed` pins columns,
    `start` (one value per column) is the MIP start, `interrupter` may stop the solve early
    from another thread (it then returns its incumbent, if any).

    Without a start or an interrupter the call is the benchmark peer's (HiGHS's C++ output
    kept off stdout by `solver.linear.run_highs`); with either, it is the portfolio's, run
    in a thread: HiGHS's own output and log flags are off instead (redirecting the process's
    stdout from a thread would race the main thread's redirections)."""
    started = time.perf_counter()
    proto = compact_proto(model, integer=integer, fixed=fixed or {})
    parameters = parameters_pb2.SolveParametersProto(
        enable_output=False, random_seed=seed, relative_gap_tolerance=RELATIVE_GAP
    )
    # MathOpt refuses its own `threads` for HiGHS; HiGHS's option says one thread.
    parameters.highs.int_options["threads"] = 1
    if time_limit_s is not None:
        limit = datetime.timedelta(seconds=max(time_limit_s, 1e-3))
        parameters.time_limit.FromTimedelta(limit)
    if start is None and interrupter is None:
        result = run_highs(proto, parameters)
    else:
        parameters.highs.bool_options["output_flag"] = False
        parameters.highs.bool_options["log_to_console"] = False
        model_parameters = model_parameters_pb2.ModelSolveParametersProto()
        if start is not None:
            hint = model_parameters.solution_hints.add()
            hint.variable_values.ids.extend(range(len(model.cost)))
            hint.variable_values.values.extend(float(v) for v in start)
        result = mathopt_solver.solve(
            proto,
            parameters_pb2.SOLVER_TYPE_HIGHS,
            parameters_pb2.SolverInitializerProto(),
            parameters,
            model_parameters,
            None,
            callback_pb2.CallbackRegistrationProto(),
            None,
            None if interrupter is None else interrupter.pybind_interrupter,
        )
    return _result(model, result, time.perf_counter() - started)


def _result(
    model: CompactModel, result: result_pb2.SolveResultProto, wall_s: float
) -> CompactResult:
    reason = result.termination.reason
    bound = result.termination.objective_bounds.dual_bound
    bound_or_none = bound if math.isfinite(bound) else None
    if reason in (
        result_pb2.TERMINATION_REASON_INFEASIBLE,
        result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED,
    ):
        return CompactResult("infeasible", None, None, None, wall_s)
    primal = next(
        (
            s.primal_solution
            for s in result.solutions
            if s.HasField("primal_solution")
            and s.primal_solution.feasibility_status == solution_pb2.SOLUTION_STATUS_FEASIBLE
        ),
        None,
    )
    if primal is None:
        return CompactResult("unknown", None, None, bound_or_none, wall_s)
    values = [0.0] * len(model.cost)
    for index, value in zip(primal.variable_values.ids, primal.variable_values.values, strict=True):
        values[index] = value
    status: Status = "optimal" if reason == result_pb2.TERMINATION_REASON_OPTIMAL else "feasible"
    return CompactResult(status, values, primal.objective_value, bound_or_none, wall_s)


def compact_proto(
    model: CompactModel, *, integer: bool, fixed: dict[int, float]
) -> model_pb2.ModelProto:
    """The model as a MathOpt proto (columns and rows keep their indices)."""
    proto = model_pb2.ModelProto()
    count = len(model.cost)
    proto.variables.ids.extend(range(count))
    lower = list(model.lower)
    upper = list(model.upper)
    for index, value in fixed.items():
        lower[index] = upper[index] = value
    proto.variables.lower_bounds.extend(lower)
    proto.variables.upper_bounds.extend(upper)
    proto.variables.integers.extend(model.integer if integer else [False] * count)
    proto.linear_constraints.ids.extend(range(len(model.rows)))
    proto.linear_constraints.lower_bounds.extend(low for _, _, low, _ in model.rows)
    proto.linear_constraints.upper_bounds.extend(high for _, _, _, high in model.rows)
    matrix = proto.linear_constraint_matrix
    for row, (columns, coefficients, _, _) in enumerate(model.rows):
        matrix.row_ids.extend([row] * len(columns))
        matrix.column_ids.extend(columns)
        matrix.coefficients.extend(coefficients)
    objective = [(i, c) for i, c in enumerate(model.cost) if c != 0.0]
    proto.objective.linear_coefficients.ids.extend(i for i, _ in objective)
    proto.objective.linear_coefficients.values.extend(c for _, c in objective)
    return proto
