"""The first plan of scheduled instances (solver/scheduled/greedy.py, jobs.py): complete
where a plan exists, and every plan it gives passes the evaluator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from models.generator.scheduled import generate_scheduled_with_witness
from solver.scheduled import jobs
from solver.scheduled.check import accepted
from solver.scheduled.greedy import first_plan, one_plan, shortfall
from solver.scheduled.jobs import latest_ends, list_schedule
from solver.scheduled.ledger import Ledger
from tests import builders as b
from tests.scheduled_cases import v2

if TYPE_CHECKING:
    from models import Instance

FOUR = [("p1", 10), ("p2", 10), ("p3", 10), ("p4", 10)]


def tight_after_chain() -> Instance:
    """One site of 100 GPUs. `a` (required, 10 h, window [0, 40)) is first in the file; `p`
    (optional, unplaced cost 0) must run before `f` (required, due to end by 20). Earliest
    fit by deadline alone puts a at 0 and p at 10, and f cannot end by 20; p's latest end
    (10, from f's) puts p, then f, first."""
    return v2(
        FOUR,
        sites=[b.site("A", {"gpu": (100, 1.0)})],
        training=[
            b.job("a", {"gpu": 100}, 10),
            b.job("p", {"gpu": 100}, 10, required=False, unplaced_cost=0),
            b.job("f", {"gpu": 100}, 10, after=["p"], deadline_hour=20),
        ],
    )


def test_a_naive_pass_leaves_the_required_job_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without latest ends propagated along `after` (deadlines only), the pass puts a at 0
    and p at 10, and f cannot end by 20: the case the propagation is for."""
    instance = tight_after_chain()
    assert latest_ends(instance)["p"] == 10
    monkeypatch.setattr(
        jobs, "latest_ends", lambda inst: {j.id: round(j.deadline(40)) for j in inst.training}
    )
    training, _ = list_schedule(instance, Ledger(instance))
    assert {t.job: t.start_hour for t in training} == {"a": 0, "p": 10}


def test_first_plan_places_the_required_job_of_a_tight_chain() -> None:
    instance = tight_after_chain()
    plan = first_plan(instance)
    assert shortfall(instance, plan) == 0
    assert {t.job: t.start_hour for t in plan.training} == {"p": 0, "f": 10, "a": 20}
    assert accepted(instance, plan) is not None


def test_a_forced_optional_job_is_placed_though_leaving_it_out_is_cheaper() -> None:
    """`p` has unplaced cost 0, so alone it would stay out; `f`, required, lists it."""
    instance = v2(
        FOUR,
        sites=[b.site("A", {"gpu": (8, 1.0)})],
        training=[
            b.job("p", {"gpu": 8}, 5, required=False, unplaced_cost=0),
            b.job("f", {"gpu": 8}, 5, after=["p"]),
        ],
    )
    plan = first_plan(instance)
    assert {t.job for t in plan.training} == {"p", "f"}
    assert accepted(instance, plan) is not None


def test_must_serve_demand_is_served_next_to_training() -> None:
    """A latency-bound must-serve service and a job that could run anywhere: the plan
    serves the demand every period and places the job."""
    instance = v2(
        FOUR,
        sites=[b.site("near", {"gpu": (10, 1.0)}), b.site("far", {"gpu": (10, 1.0)})],
        regions=["city"],
        links=[b.link("city", "near", 2.0), b.link("near", "far", 40.0)],
        training=[b.job("j", {"gpu": 10}, 20)],
        inference=[
            b.service(
                "chat",
                {"gpu": (2, 10.0)},
                {"city": 30.0},
                slo_ms=10.0,
                demand_by_period={"p3": {"city": 50.0}},
            )
        ],
    )
    plan = first_plan(instance)
    assert shortfall(instance, plan) == 0
    assert {t.site for t in plan.training} == {"far"}
    assert accepted(instance, plan) is not None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_first_plan_is_complete_on_generated_sched_s(seed: int) -> None:
    instance, _ = generate_scheduled_with_witness("sched-S", seed)
    plan = first_plan(instance)
    assert shortfall(instance, plan) == 0
    checked = accepted(instance, plan)
    assert checked is not None
    assert checked.objective == pytest.approx(plan.objective, rel=1e-9)


@pytest.mark.parametrize("reserve", [False, True])
def test_both_passes_give_checked_plans(reserve: bool) -> None:
    instance, _ = generate_scheduled_with_witness("sched-S", 3)
    plan = one_plan(instance, reserve=reserve)
    if shortfall(instance, plan) == 0:
        assert accepted(instance, plan) is not None


def test_first_plan_is_deterministic() -> None:
    instance, _ = generate_scheduled_with_witness("sched-S", 4)
    one, two = first_plan(instance), first_plan(instance)
    assert one.training == two.training
    assert one.inference == two.inference
    assert one.routes == two.routes
