"""The training block of a plan: a copy of the CP-SAT model with every replica count fixed
at the plan's (fix-and-optimise over the training placements).

The greedy planner places training jobs one at a time, largest first, each where it is
cheapest then; a job it leaves out because another took the only room it had stays out
however profitable it is (generated sparse-M-0, a tuning seed: an optional job the LP
places whole, worth 32.2M of penalty, left out because a required job took its site; the
required job fitted elsewhere). Moving both is a chain of moves that the full search's
neighbourhoods find by chance, if at all. With the replica counts fixed, the training
placements of every job are a small model (2,000-2,500 of M's 7,000-11,000 decisions)
that CP-SAT solves to optimality in seconds: its optimum is the best re-placement of all
the jobs at once around the plan's inference. Flows and unserved demand stay free, as do
sites' fixed costs. Nothing else is restricted, so its plans are plans of the full model.

`solve` runs it only when the plan leaves out an optional job that the LP relaxation
places at least LP_PLACED of (`lp_jobs_left_out`): run after every rounding search, its
time came off the full search's and made the zoo's held-out M plans dearer on 19 of 24
(docs/tuning.md#training_block_share).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from solver.cpsat.domains import fix_at
from solver.heuristics.greedy.placement import LP_PLACED

if TYPE_CHECKING:
    from collections.abc import Mapping

    from solver.cpsat.model import BuiltModel
    from solver.heuristics.greedy import Guide
    from solver.plan import Plan


def lp_jobs_left_out(plan: Plan, guide: Guide) -> bool:
    """Whether `plan` leaves out an optional job of which the LP (`guide`) places at least
    LP_PLACED."""
    placed = guide.placed_by_job()
    return any(placed.get(job, 0.0) >= LP_PLACED for job in plan.unplaced_training)


def training_block_model(built: BuiltModel, incumbent: Mapping[int, int]) -> BuiltModel | None:
    """A copy of `built` whose replica counts are fixed at `incumbent`'s values (variable
    values of a complete plan, by index; missing ones are 0), the model's hint cleared;
    None when the model places no training job, or a value lies outside its variable's
    domain (then `incumbent` is no plan of `built`)."""
    if not built.variables.placement:
        return None
    model = built.model.clone()
    model.clear_hints()
    for var in built.variables.replicas.values():
        if not fix_at(model.proto, var.index, incumbent.get(var.index, 0)):
            return None
    return replace(built, model=model)
