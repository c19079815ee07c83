"""The harness's MIP peer (`mip-highs`): HiGHS on the compact MIP written straight from the
SPEC (§4-§6), alone, for the time limit.

The model and the HiGHS call are the solver's own (`solver.mip.compact`, `solver.mip.highs`,
`solver.mip.plan`): the peer and the member of `solve()`'s portfolio that runs HiGHS beside
CP-SAT (`solver.mip.portfolio`) are the same model, so the peer measures what that member
would do on its own. Nothing in the model comes from infraplan's CP-SAT model (see
`solver.mip.compact` for its columns and rows).

HiGHS (through OR-Tools MathOpt; highspy is not installed) runs with its own presolve, cuts and
heuristics, one thread, no MIP start and a time limit. Its incumbent's integers are rounded,
the flows and unserved demand re-solved as an LP with those integers fixed, and the plan
costed by `solver.costs.plan_costs`. HiGHS's dual bound is returned beside the plan, as
HiGHS's (to its tolerances: primal feasibility 1e-7, integrality 1e-6, relative gap 1e-6),
never as a proved bound of the SPEC optimum; the plan's status is `feasible`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import Solution, SolverInfo
from solver.mip.compact import CompactModel, build_compact
from solver.mip.compact import limit_row as _limit_row
from solver.mip.compact import n_plus_one as _n_plus_one
from solver.mip.highs import RELATIVE_GAP, CompactResult, Status, compact_proto, solve_compact
from solver.mip.plan import FLOW_EPSILON, plan_solution

if TYPE_CHECKING:
    from models import Instance

__all__ = [
    "BOUND_LABEL",
    "FLOW_EPSILON",
    "POLISH_LIMIT_S",
    "POLISH_MAX_S",
    "POLISH_SHARE",
    "RELATIVE_GAP",
    "CompactModel",
    "CompactResult",
    "PeerAnswer",
    "Status",
    "_limit_row",
    "_n_plus_one",
    "build_compact",
    "compact_highs",
    "compact_proto",
    "plan_solution",
    "solve_compact",
]

#: Seconds kept from the MIP for the flow LP after it: this share of the limit, at most
#: POLISH_MAX_S (the LP may take up to POLISH_LIMIT_S; it takes well under a second on M).
POLISH_SHARE = 0.05
POLISH_MAX_S = 2.0
POLISH_LIMIT_S = 5.0
#: How HiGHS's bound is labelled wherever it is shown.
BOUND_LABEL = "HiGHS dual bound (its tolerances: feasibility 1e-7, integrality 1e-6)"


@dataclass
class PeerAnswer:
    """The peer's plan (a SPEC Solution, status `feasible` when it has one) and HiGHS's own
    dual bound (BOUND_LABEL), kept apart from the Solution's proved `bound` (None)."""

    solution: Solution
    highs_bound: float | None
    build_s: float


def compact_highs(instance: Instance, *, time_limit_s: float, seed: int = 0) -> PeerAnswer:
    """Build the compact MIP, solve it with HiGHS within `time_limit_s` (the build counts),
    and return its plan costed from the plan itself."""
    started = time.perf_counter()
    model = build_compact(instance)
    remaining = max(1.0, time_limit_s - (time.perf_counter() - started))
    reserve_s = min(POLISH_MAX_S, POLISH_SHARE * time_limit_s)
    result = solve_compact(model, time_limit_s=max(1.0, remaining - reserve_s), seed=seed)
    values = result.values
    if values is not None:
        # The incumbent's integers, rounded; the flows re-solved exactly for them.
        fixed = {i: float(round(values[i])) for i in model.integer_columns}
        polished = solve_compact(
            model, time_limit_s=POLISH_LIMIT_S, integer=False, fixed=fixed, seed=seed
        )
        if polished.status == "optimal" and polished.values is not None:
            values = polished.values
        values = [*values]
        for index, value in fixed.items():
            values[index] = value
    info = SolverInfo(
        name="highs-compact-mip",
        version="ortools-mathopt",
        seed=seed,
        time_limit_s=time_limit_s,
        wall_s=round(time.perf_counter() - started, 3),
        workers=1,
        build_s=round(model.build_s, 3),
    )
    common = {"instance": instance.name, "instance_sha256": instance.sha256, "solver": info}
    if values is None:
        status: Status = "infeasible" if result.status == "infeasible" else "unknown"
        solution = Solution(status=status, **common)  # type: ignore[arg-type]
        return PeerAnswer(solution, result.bound, model.build_s)
    solution = plan_solution(model, values, info)
    return PeerAnswer(solution, result.bound, model.build_s)
