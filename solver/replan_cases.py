"""A seeded current plan for any instance: re-planning cases with real choices (SPEC §10).

`seeded_current(instance, seed)` solves a perturbed copy of the instance
(`models.generator.current_plan.perturbed`: demand and grid scaled by seeded factors),
reads its plan as the `current` of the original instance (`solver.replan.current_from_
solution`) and draws the move costs, checkpoint sizes and replica start costs
(`models.generator.current_plan.with_move_prices`). It lives in `solver/`, not beside the
generators, because it calls the solver: `models` never imports `solver`.

The plan is the same for the same seed whenever the solve of the perturbed copy ends
before its time limit (proved optimal), as tiny and small instances do; a solve cut by the
limit (deterministic settings, but wall-clock bounded) may give another plan on a slower
machine, as every time-limited solve may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import parse_instance
from models.generator.current_plan import perturbed, with_move_prices
from solver.replan import current_from_solution, with_current

if TYPE_CHECKING:
    from models import Instance, Solution


@dataclass(frozen=True)
class SeededCurrent:
    """The instance with `current` and the §10 prices set, the plan of the perturbed copy
    it came from, and what of that plan did not fit the instance (one line each)."""

    instance: Instance
    plan: Solution
    dropped: list[str]


def seeded_current(
    instance: Instance,
    seed: int,
    *,
    time_limit_s: float = 10.0,
    workers: int = 1,
    demand_spread: float = 0.25,
    grid_spread: float = 0.15,
) -> SeededCurrent:
    """`instance` with `current` = the plan of a copy perturbed by `seed`, and move costs,
    checkpoint sizes and replica start costs drawn by `seed` (schema v2). Budgets are the
    instance's. When the perturbed copy has no plan in the time, `current` is empty."""
    from solver.solve import solve

    document = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
    document.pop("current", None)
    shaken = perturbed(document, seed, demand_spread=demand_spread, grid_spread=grid_spread)
    copy = parse_instance(shaken, f"{instance.name} (perturbed, seed {seed})")
    plan = solve(copy, time_limit_s=time_limit_s, workers=workers, seed=seed)
    priced = parse_instance(with_move_prices(document, seed), f"{instance.name} (priced)")
    projection = current_from_solution(priced, plan)
    result = with_current(priced, projection.current, source=f"{instance.name} (seed {seed})")
    return SeededCurrent(result, plan, projection.dropped)
