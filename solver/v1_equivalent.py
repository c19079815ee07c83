"""A v2 instance that names no v2 field means what v1 says (SPEC §8): solve it with the
v1 path and state the plan as a v2 solution.

The v1 path (greedy start, neighbourhood search, LP and Lagrangian bounds, exact flows)
is the stronger one on static instances; the v2 model is needed only once periods,
a current plan, replica start costs or expansions come in.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from models.solution import SOLUTION_SCHEMA, SOLUTION_SCHEMA_V2, V2_COST_PARTS

if TYPE_CHECKING:
    from models import Instance, Solution, SolverInfo
    from models.solution import Status


def means_v1(instance: Instance) -> bool:
    """Whether a v2 instance uses no v2 field (or only ones at their "unused" value)."""
    if instance.periods is not None or instance.current is not None:
        return False
    if instance.moves is not None or instance.supply_limits:
        return False
    if any(site.expansions or site.timeline is not None for site in instance.sites):
        return False
    if any(service.start_cost > 0 for service in instance.inference):
        return False
    return all(job.move_cost is None and job.checkpoint_gb is None for job in instance.training)


def as_v1(instance: Instance) -> Instance:
    """The same instance under schema infraplan/v1 (v2 fields at their unused values are
    dropped); raises if a v2 field is in use."""
    cleared = {
        "schema": "infraplan/v1",
        "supply_limits": None,
        "sites": [
            {**site.model_dump(by_alias=True, exclude_unset=True), "expansions": None}
            for site in instance.sites
        ],
        "inference": [
            {
                **service.model_dump(by_alias=True, exclude_unset=True),
                "replica_start_cost": None,
            }
            for service in instance.inference
        ],
    }
    return instance.model_copy(update=cleared)


def as_v2_solution(instance: Instance, solution: Solution) -> Solution:
    """A v1-path solution restated for the v2 instance it was made for: schema v2, the
    instance's identity, no expansions and the v2 cost parts at 0 (SPEC §12)."""
    costs = solution.costs.model_copy(update=dict.fromkeys(V2_COST_PARTS, 0.0))
    return solution.model_copy(
        update={
            "schema_": SOLUTION_SCHEMA_V2,
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "expansions": [],
            "costs": costs,
        }
    )


def as_v1_solution(solution: Solution) -> Solution:
    """A static v2 solution restated as v1 (to hint the v1 path): no v2 cost parts, no
    expansions list."""
    costs = solution.costs.model_copy(update=dict.fromkeys(V2_COST_PARTS, None))
    return solution.model_copy(
        update={"schema_": SOLUTION_SCHEMA, "expansions": None, "costs": costs}
    )


def v2_answer(
    instance: Instance,
    plan: Solution | None,
    bound: float | None,
    status: Status,
    info: SolverInfo,
    started: float,
) -> Solution:
    """The answer of a search through v1's path (solver.static_replan,
    solver.static_expansion): `plan`'s decisions and evaluator figures (or none), with the
    bound, status and solver record of the search (its wall time the whole search's)."""
    from solver.scheduled.plan import no_plan_solution

    solver = info.model_copy(update={"wall_s": round(time.perf_counter() - started, 3)})
    if plan is None:
        return no_plan_solution(instance, status, bound, solver)
    return plan.model_copy(update={"bound": bound, "status": status, "solver": solver})
