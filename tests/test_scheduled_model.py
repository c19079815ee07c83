"""solver.scheduled.model: a plan as a hint of the restricted model (`add_hint`).

A hint counts as a plan only when it meets every row; CP-SAT otherwise drops it
(`solver.scheduled.solve.checked_hint`) and a neighbourhood searched from it starts
from nothing (on generated M's grid incident: no plan in 3 s from the greedy's). Two
plans the evaluator accepts but whose plain reading breaks a row of the model: a group
with more replicas than the whole demand needs, and flows at a full link that are not
whole rps units.
"""

from __future__ import annotations

import time

import pytest

from models import Instance, ReplicaAssignment, SolverInfo
from solver.flows import cheapest_flows
from solver.scheduled import solve as scheduled_solve
from solver.scheduled.check import accepted
from solver.scheduled.model import add_hint, build_model, plan_values
from solver.scheduled.plan import ScheduledPlan
from tests import builders as b
from tests.scheduled_cases import v2

#: 1,000 kB per request: 0.008 Gbps per rps (models.network.GBPS_PER_RPS_KB).
KB = 1000.0


def hinted_plan_is_kept(instance: Instance, plan: ScheduledPlan) -> bool:
    """Whether CP-SAT keeps `plan`, hinted into the restricted model, as a plan."""
    built = build_model(instance, widened=False)
    add_hint(built, plan)
    checked = scheduled_solve.checked_hint(built, time.perf_counter() + 20)
    return bool(checked.proto.has_solution_hint())


def planned(instance: Instance, replicas: dict[str, int]) -> ScheduledPlan:
    """The plan with s's `replicas` per site and the cheapest routes, evaluator-checked."""
    inference = [
        ReplicaAssignment(service="s", site=site, accelerator="gpu", replicas=n)
        for site, n in replicas.items()
    ]
    flows = cheapest_flows(instance, [], inference)
    assert flows is not None
    plan = ScheduledPlan.build(instance, [], [], inference, *flows, [])
    checked = accepted(instance, plan)
    assert checked is not None
    return checked


def test_flows_at_a_full_link_are_hinted_on_whole_units_within_it() -> None:
    """Link r-A carries 7.5 rps of s (0.06 Gbps); s has one replica at A (1.0 per
    GPU-hour) and two at B (1.2, egress paid on r-B): the cheapest routes send 7.5 rps
    to A and 12.5 to B,
    hinted as 7 and 13 whole rps (8 at A would break the link's row)."""
    instance = v2(
        None,
        sites=[b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (4, 1.2)})],
        regions=["r"],
        links=[
            b.link("r", "A", 5.0, bandwidth_gbps=7.5 * KB * 8e-6),
            b.link("r", "B", 5.0, egress_cost_per_gb=0.01),
        ],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 20.0}, request_kb=KB)],
    )
    plan = planned(instance, {"A": 1, "B": 2})
    assert sorted((f.site, f.rps) for f in plan.routes) == [
        ("A", pytest.approx(7.5)),
        ("B", pytest.approx(12.5)),
    ]
    assert hinted_plan_is_kept(instance, plan)


def test_replicas_beyond_what_the_demand_needs_are_hinted_at_the_bound() -> None:
    """20 rps need two replicas of 10 rps, the model's bound at B (`current` runs two at
    A, none at B). A plan with three at B (one idle; 5 changes, within a budget of 5) is
    hinted with two there, and so is B's replica change: 2, not the plan's 3, which lies
    outside the change variable's domain (and would count a change the hinted replica
    counts do not make)."""
    from solver.replan import current_from_solution, with_current

    parts = {
        "sites": [b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (4, 1.2)})],
        "regions": ["r"],
        "links": [b.link("r", "A", 5.0), b.link("r", "B", 5.0)],
        "inference": [b.service("s", {"gpu": (1, 10.0)}, {"r": 20.0})],
    }
    base = v2(None, **parts)
    info = SolverInfo(name="infraplan-cpsat", version="", seed=0, time_limit_s=0, wall_s=0)
    before = planned(base, {"A": 2}).solution(base, "feasible", None, info)
    instance = with_current(
        base, current_from_solution(base, before).current, max_replica_changes=5
    )
    plan = planned(instance, {"B": 3})
    built = build_model(instance, widened=False)
    values = plan_values(built, plan)
    at = {
        option.site: (var.index, built.variables.changes[option].index)
        for option, var in built.variables.periods[0].replicas.items()
    }
    assert [(values[r], values[c]) for r, c in (at["A"], at["B"])] == [(0, 2), (2, 2)]
    assert hinted_plan_is_kept(instance, plan)
