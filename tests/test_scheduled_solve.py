"""solve() on v2 instances (solver/scheduled/solve.py): the SPEC §9 worked example, and
the v2 solution's shape (SPEC §12)."""

from __future__ import annotations

from models import load_instance
from solver import solve
from solver.scheduled.plan import ScheduledPlan
from tests.conftest import EXAMPLE_V2_PATH
from tests.scheduled_spec_check import spec_problems


def test_worked_example_v2_is_optimal_at_40056() -> None:
    instance = load_instance(EXAMPLE_V2_PATH)
    solution = solve(instance, time_limit_s=30, workers=1)
    assert solution.status == "optimal"
    assert solution.schema_ == "infraplan-solution/v2"
    assert solution.objective is not None
    assert abs(solution.objective - 40_056.00) < 1e-6
    assert solution.bound is not None and solution.bound <= solution.objective
    starts = {t.job: t.start_hour for t in solution.training}
    assert starts == {"pretrain": 0, "finetune": 100}
    replicas = [(r.period, r.replicas) for r in solution.inference]
    assert replicas == [("q1", 2), ("q2", 4)]
    assert solution.costs.replica_starts == 200.0
    assert solution.costs.lateness == 0.0
    assert solution.expansions == []
    assert spec_problems(instance, ScheduledPlan.of(instance, solution)) == []


def test_same_plan_twice() -> None:
    instance = load_instance(EXAMPLE_V2_PATH)
    first = solve(instance, time_limit_s=30, workers=2, seed=3)
    second = solve(instance, time_limit_s=30, workers=2, seed=3)
    drop = {"solver"}
    assert first.model_dump(exclude=drop) == second.model_dump(exclude=drop)


def test_a_hint_from_an_earlier_version_is_projected() -> None:
    """regression (solve_v2 raised KeyError on a hint naming a job that is gone): a plan of
    the SPEC §9 example hints the instance without finetune and chat; only pretrain is
    left, at 96 H100 x 100 h x 2.12 = 20,352.00, proved optimal, evaluator-checked."""
    from solver.whatif import DropJob, DropService, apply_edits
    from tests.checks import assert_valid_plan

    instance = load_instance(EXAMPLE_V2_PATH)
    plan = solve(instance, time_limit_s=30, workers=1)
    edited = apply_edits(instance, [DropJob("finetune"), DropService("chat")])
    solution = solve(edited, time_limit_s=30, workers=1, hint=plan)
    assert solution.status == "optimal"
    assert solution.objective is not None
    assert abs(solution.objective - 20_352.00) < 1e-6
    assert_valid_plan(edited, solution)
