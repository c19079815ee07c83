"""Reading a plan as the `current` of an instance (SPEC §10), with what no longer fits."""

from __future__ import annotations

from typing import Any

from models import (
    CurrentPlan,
    CurrentReplicas,
    CurrentTraining,
    ReplicaAssignment,
    Solution,
    SolverInfo,
    TrainingAssignment,
    parse_instance,
)
from solver.replan import current_from_solution, with_current
from tests.conftest import tiny_instance_dict


def plan(training: list[TrainingAssignment], inference: list[ReplicaAssignment]) -> Solution:
    """A hand-written plan of the tiny instance (status feasible, no figures)."""
    return Solution(
        instance="tiny",
        instance_sha256="0" * 64,
        status="feasible",
        training=training,
        inference=inference,
        solver=SolverInfo(name="hand", version="0"),
    )


def tiny_v2(**changes: Any) -> dict[str, Any]:
    document = tiny_instance_dict()
    document["schema"] = "infraplan/v2"
    document.update(changes)
    return document


def test_a_static_plan_is_read_whole() -> None:
    """Every placed job and every replica group of a static plan runs at hour 0."""
    instance = parse_instance(tiny_v2())
    projection = current_from_solution(
        instance,
        plan(
            [TrainingAssignment(job="train", site="west", accelerator="a100", count=8)],
            [ReplicaAssignment(service="chat", site="east", accelerator="h100", replicas=2)],
        ),
    )
    assert projection.dropped == []
    assert projection.current == CurrentPlan(
        training=[CurrentTraining(job="train", site="west", accelerator="a100")],
        inference=[CurrentReplicas(service="chat", site="east", accelerator="h100", replicas=2)],
    )


def test_what_no_longer_fits_is_dropped_with_its_reason() -> None:
    """A job now barred from its site and a service that is gone are dropped, one line each."""
    document = tiny_v2()
    document["training"][0]["allowed_sites"] = ["east"]
    document["inference"][0]["id"] = "chat-2"
    instance = parse_instance(document)
    projection = current_from_solution(
        instance,
        plan(
            [TrainingAssignment(job="train", site="west", accelerator="a100", count=8)],
            [ReplicaAssignment(service="chat", site="east", accelerator="h100", replicas=2)],
        ),
    )
    assert projection.current == CurrentPlan()
    assert projection.dropped == [
        "training job 'train' at 'west' on 'a100': no longer eligible there:"
        " the site is not in allowed_sites",
        "replicas of 'chat' at 'east' on 'h100': no service 'chat' any more",
    ]


def test_a_scheduled_plan_gives_hour_zero() -> None:
    """Of a scheduled plan: jobs that start at hour 0 and the first period's replicas."""
    document = tiny_v2(periods=[{"id": "p1", "hours": 60}, {"id": "p2", "hours": 40}])
    document["training"].append({**document["training"][0], "id": "later"})
    instance = parse_instance(document)
    projection = current_from_solution(
        instance,
        plan(
            [
                TrainingAssignment(
                    job="later", site="east", accelerator="h100", count=4, start_hour=50
                ),
                TrainingAssignment(
                    job="train", site="east", accelerator="h100", count=4, start_hour=0
                ),
            ],
            [
                ReplicaAssignment(
                    service="chat", site="east", accelerator="h100", replicas=3, period="p2"
                ),
                ReplicaAssignment(
                    service="chat", site="west", accelerator="h100", replicas=1, period="p1"
                ),
            ],
        ),
    )
    assert projection.current == CurrentPlan(
        training=[CurrentTraining(job="train", site="east", accelerator="h100")],
        inference=[CurrentReplicas(service="chat", site="west", accelerator="h100", replicas=1)],
    )


def test_with_current_makes_a_v2_instance_with_budgets() -> None:
    """A v1 instance becomes v2 with `current` and the budgets given; others stay unset."""
    instance = parse_instance(tiny_instance_dict())
    current = CurrentPlan(training=[CurrentTraining(job="train", site="east", accelerator="h100")])
    edited = with_current(instance, current, max_training_moves=0)
    assert edited.is_v2
    assert edited.current == current
    assert edited.moves is not None
    assert (edited.moves.max_training_moves, edited.moves.max_replica_changes) == (0, None)
    assert with_current(instance, current).moves is None
