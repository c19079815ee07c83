"""solver.static_replan: a static re-plan through v1's search on the v1 instance that
relaxes it (SPEC §10 move costs folded into `site_costs` and `unplaced_cost`).

The tiny cases are priced by hand; the oracle cases are in tests/test_replan_oracle.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from models import parse_instance
from solver import solve
from solver.scheduled import solve as scheduled_solve
from solver.static_replan import RELAXATION_MARGIN, applies, relaxed_v1
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2

if TYPE_CHECKING:
    from models import Instance


def moving_job(*, stay_rate: float, moves: dict[str, int] | None = None) -> Instance:
    """Job j (1 gpu, 10 h) runs at A (rate `stay_rate`); B costs 1.0 an hour and is
    reached from A through region r (egress 0.2 + 0.3 per GB); C is reached by nothing.
    Moving pays move_cost 7 plus 10 GB of checkpoint: 7 + 10 x 0.5 = 12."""
    return v2(
        None,
        horizon_hours=10,
        sites=[
            b.site("A", {"gpu": (2, stay_rate)}),
            b.site("B", {"gpu": (2, 1.0)}),
            b.site("C", {"gpu": (2, 0.1)}),
        ],
        regions=["r"],
        links=[
            b.link("r", "A", egress_cost_per_gb=0.2),
            b.link("r", "B", egress_cost_per_gb=0.3),
        ],
        training=[b.job("j", {"gpu": 1}, move_cost=7.0, checkpoint_gb=10.0)],
        current={
            "training": [{"job": "j", "site": "A", "accelerator": "gpu"}],
            "inference": [],
        },
        moves=moves,
    )


def test_the_relaxation_charges_moves_as_site_costs_and_keeps_checkpoints_reachable() -> None:
    relaxed = relaxed_v1(moving_job(stay_rate=3.0))
    assert relaxed.schema_ == "infraplan/v1"
    job = relaxed.training[0]
    assert job.site_costs == {"B": pytest.approx(12.0 * (1 - RELAXATION_MARGIN), rel=1e-15)}
    assert job.site_costs["B"] < 12.0
    # C cannot be reached from A, so the checkpoint cannot follow the job there.
    assert job.allowed_sites == ["A", "B"]


def test_an_optional_job_pays_its_move_cost_when_left_out() -> None:
    document = moving_job(stay_rate=3.0).model_dump(by_alias=True, exclude_unset=True)
    document["training"][0].update(required=False, unplaced_cost=4.0)
    relaxed = relaxed_v1(parse_instance(document))
    assert relaxed.training[0].unplaced_cost == pytest.approx(11.0)
    assert relaxed.training[0].unplaced_cost < 11.0


def test_a_job_moves_when_the_saving_pays_for_the_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staying costs 10 h x 3.0 = 30; B costs 10 + 12 (move and checkpoint) = 22; C is
    cheaper still but unreachable for the checkpoint. The relaxation is exact here."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance = moving_job(stay_rate=3.0)
    assert applies(instance)
    solution = solve(instance, time_limit_s=10, workers=1)
    assert_checked(instance, solution)
    assert [(t.site, t.accelerator) for t in solution.training] == [("B", "gpu")]
    assert solution.objective == pytest.approx(22.0)
    assert solution.costs.moves == pytest.approx(12.0)
    assert solution.status == "optimal"


def test_progress_reports_the_re_plans_own_costs(monkeypatch: pytest.MonkeyPatch) -> None:
    """v1 prices the move at B 22 x (1 - RELAXATION_MARGIN) on the relaxation; only the
    re-plan's own price of its plans, 22, is reported (never below the optimum)."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    reports: list[tuple[float, float, float | None]] = []
    instance = moving_job(stay_rate=3.0)
    solution = solve(instance, time_limit_s=10, workers=1, on_progress=lambda *r: reports.append(r))
    assert solution.objective == pytest.approx(22.0)
    assert reports
    assert all(objective >= 22.0 - 1e-12 for _, objective, _ in reports)
    assert all(bound is None or bound <= 22.0 + 1e-12 for _, _, bound in reports)


def test_a_job_stays_when_the_move_costs_more_than_it_saves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Staying costs 10 h x 2.0 = 20 < 22 at B."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance = moving_job(stay_rate=2.0)
    solution = solve(instance, time_limit_s=10, workers=1)
    assert_checked(instance, solution)
    assert [(t.site, t.accelerator) for t in solution.training] == [("A", "gpu")]
    assert solution.objective == pytest.approx(20.0)
    assert solution.status == "optimal"


def test_a_move_budget_the_v1_plan_breaks_is_kept_by_the_v2_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """v1's plan moves j to B (22); with no move allowed it must stay (30): v1's plan
    fails the v2 evaluator's budget check and the v2 model finds the plan that keeps it."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance = moving_job(stay_rate=3.0, moves={"max_training_moves": 0})
    solution = solve(instance, time_limit_s=10, workers=1)
    assert_checked(instance, solution)
    assert [(t.site, t.accelerator) for t in solution.training] == [("A", "gpu")]
    assert solution.objective == pytest.approx(30.0)
    assert solution.bound is not None and solution.bound <= 30.0 + 1e-9


def test_infeasible_is_claimed_only_when_the_relaxation_has_no_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """j needs 3 gpus and no site has 3: v1 proves the relaxation infeasible."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    document = moving_job(stay_rate=3.0).model_dump(by_alias=True, exclude_unset=True)
    document["training"].append(b.job("big", {"gpu": 3}))
    instance = parse_instance(document)
    solution = solve(instance, time_limit_s=10, workers=1)
    assert solution.status == "infeasible"
    assert not solution.has_plan


def test_small_instances_keep_the_exact_v2_model() -> None:
    """Below MAX_WHOLE_MODEL_DECISIONS the whole v2 model (exact, proving) is used."""
    assert not applies(moving_job(stay_rate=3.0))


def test_a_replica_change_budget_is_met_between_current_and_the_v1_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4 replicas run at A (2.0 an hour); demand needs 2; B costs 1.0. v1's plan (2 at B,
    20) changes 6 replicas; with at most 2 changes the cheapest plan keeps 2 at A (40)
    (1 at A and 1 at B would change 4)."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    instance = v2(
        None,
        horizon_hours=10,
        sites=[b.site("A", {"gpu": (8, 2.0)}), b.site("B", {"gpu": (8, 1.0)})],
        regions=["r"],
        links=[b.link("r", "A"), b.link("r", "B")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 20.0})],
        current={
            "training": [],
            "inference": [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 4}],
        },
        moves={"max_replica_changes": 2},
    )
    solution = solve(instance, time_limit_s=10, workers=1)
    assert_checked(instance, solution)
    assert [(g.site, g.replicas) for g in solution.inference if g.replicas] == [("A", 2)]
    assert solution.objective == pytest.approx(40.0)


def test_budgets_that_admit_no_plan_are_proved_by_presolve_before_v1s_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tests/test_site_search.py's incident (A's grid cut to 2 kW under j's 2 GPUs and
    s's 2 replicas) with 0 training moves and 2 replica changes: j stays at A, so both
    replicas stop there and must start at B (20 rps must be served), 4 changes. The load
    check alone (solver.budget_proof) sees only the 2 stops and proves nothing; the whole
    model's presolve proves it before v1's search runs. With 4 changes there is a plan:
    j stays, s at B, 20 + 24 = 44."""
    from solver import static_replan
    from solver.budget_proof import budget_shortfall
    from solver.replan import current_from_solution, replan, with_current
    from tests.test_site_search import before_the_cut, cut

    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    base = before_the_cut()
    current = solve(base, time_limit_s=10, workers=1)
    projected = current_from_solution(cut(base), current).current
    tight = with_current(cut(base), projected, max_training_moves=0, max_replica_changes=2)
    assert budget_shortfall(tight) is None

    def no_v1(instance: Instance) -> Instance:
        raise AssertionError("v1's search ran")

    with monkeypatch.context() as patched:
        patched.setattr(static_replan, "relaxed_v1", no_v1)
        result = replan(
            cut(base), current, max_training_moves=0, max_replica_changes=2, time_limit_s=20
        )
    assert result.solution.status == "infeasible"
    assert not result.solution.has_plan
    enough = replan(
        cut(base), current, max_training_moves=0, max_replica_changes=4, time_limit_s=20
    )
    assert_checked(enough.instance, enough.solution)
    assert enough.solution.objective == pytest.approx(44.0)


def test_the_budgets_lp_bounds_above_the_relaxation_and_at_most_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tests/test_site_search.py's incident: within 1 training move and 2 replica changes
    the optimum is 47, without budgets 44 (v1's relaxation proves no more). The widened
    whole model's LP has the budgets' rows: its bound lies above 44 and at most 47, and
    the static re-plan path returns it as the answer's bound."""
    import math

    from solver.replan import current_from_solution, replan, with_current
    from solver.scheduled.model import build_model
    from solver.static_replan import budgeted_lp_bound
    from tests.test_site_search import BUDGETS, before_the_cut, cut

    base = before_the_cut()
    current = solve(base, time_limit_s=10, workers=1)
    projected = current_from_solution(cut(base), current).current
    budgeted = with_current(cut(base), projected, **BUDGETS)
    bound = budgeted_lp_bound(build_model(budgeted, widened=True), math.inf)
    assert bound is not None
    assert 44.0 + 1e-3 < bound <= 47.0
    free = with_current(cut(base), projected)
    unbudgeted = budgeted_lp_bound(build_model(free, widened=True), math.inf)
    assert unbudgeted is not None and unbudgeted <= 44.0
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    result = replan(cut(base), current, **BUDGETS, time_limit_s=20.0, workers=1)
    assert_checked(result.instance, result.solution)
    assert result.solution.objective == pytest.approx(47.0)
    assert result.solution.bound is not None
    assert 44.0 + 1e-3 < result.solution.bound <= 47.0
