"""The proof that move budgets admit no plan (solver.budget_proof), priced by hand.

Sites A (grid 6 kW) and C (grid 3 kW) carry what `current` runs there: at A a job of 4
GPUs and 8 replicas of one GPU (12 kW, 6 over), at C a job of 2 GPUs and 4 replicas
(6 kW, 3 over); one GPU draws 1 kW at PUE 1. B has room for everything. So A needs 6
replica changes with no training move and 2 with its job moved; C needs 3, or 1. The
soundness on random tiny cases is checked against tests/test_replan_oracle.py's
exhaustive oracle.
"""

from __future__ import annotations

from typing import Any

import pytest

from solver import solve
from solver.budget_proof import budget_shortfall
from solver.evaluate import evaluate
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2
from tests.test_replan_oracle import build, draw, oracle


def incident(
    moves: int | None,
    changes: int | None,
    *,
    grid_a: float = 6.0,
    with_c: bool = False,
    stranded: int = 0,
    periods: list[tuple[str, int]] | None = None,
) -> Any:
    """A over its grid (C too with `with_c`); `stranded` replicas of the service at D,
    which has no GPU (a group that must stop)."""
    sites = [
        b.site("A", {"gpu": (20, 1.0)}, grid_kw=grid_a),
        b.site("B", {"gpu": (40, 1.0)}, grid_kw=100.0),
        b.site("D", {"tpu": (4, 1.0)}),
    ]
    training = [b.job("ja", {"gpu": 4}, 5, required=False, unplaced_cost=1000.0)]
    current_training = [{"job": "ja", "site": "A", "accelerator": "gpu"}]
    current_inference = [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 8}]
    if with_c:
        sites.append(b.site("C", {"gpu": (20, 1.0)}, grid_kw=3.0))
        training.append(b.job("jc", {"gpu": 2}, 5, required=False, unplaced_cost=1000.0))
        current_training.append({"job": "jc", "site": "C", "accelerator": "gpu"})
        current_inference.append({"service": "s", "site": "C", "accelerator": "gpu", "replicas": 4})
    if stranded:
        current_inference.append(
            {"service": "s", "site": "D", "accelerator": "gpu", "replicas": stranded}
        )
    parts: dict[str, Any] = {} if periods is not None else {"horizon_hours": 5}
    return v2(
        periods,
        accelerators=[b.accelerator("gpu"), b.accelerator("tpu")],
        sites=sites,
        regions=["r"],
        links=[b.link("r", s["id"]) for s in sites],
        training=training,
        inference=[
            b.service(
                "s",
                {"gpu": (1, 10.0)},
                {"r": 80.0 + 40.0 * with_c},
                unserved_cost_per_rps_hour=100.0,
            )
        ],
        current={"training": current_training, "inference": current_inference},
        moves={"max_training_moves": moves, "max_replica_changes": changes},
        **parts,
    )


@pytest.mark.parametrize(
    ("moves", "changes", "proved"),
    [(0, 5, True), (0, 6, False), (1, 1, True), (1, 2, False), (None, 1, True), (0, None, False)],
)
def test_one_site_needs_what_its_heaviest_moves_and_stops_shed(
    moves: int | None, changes: int | None, proved: bool
) -> None:
    shortfall = budget_shortfall(incident(moves, changes))
    assert (shortfall is not None) is proved
    if shortfall is not None:
        (need,) = shortfall.needs
        assert need.site == "A"
        assert need.changes == ((6, 2) if moves is None or moves >= 1 else (6,))
        assert need.over == pytest.approx(6.0)
        assert "A: grid power (6.00 kW) over by 6.00" in shortfall.message()


def test_sites_share_the_training_moves_at_best() -> None:
    # One move: at A (2 + 3 changes) beats at C (6 + 1); two moves: 2 + 1.
    shortfall = budget_shortfall(incident(1, 4, with_c=True))
    assert shortfall is not None
    assert shortfall.fewest_changes == 5
    assert budget_shortfall(incident(1, 5, with_c=True)) is None
    two = budget_shortfall(incident(2, 2, with_c=True))
    assert two is not None
    assert two.fewest_changes == 3
    assert budget_shortfall(incident(2, 3, with_c=True)) is None


def test_replicas_of_a_group_no_longer_eligible_must_all_stop() -> None:
    # A within its grid (12 kW of 20): only D's 3 stranded replicas need changes.
    shortfall = budget_shortfall(incident(0, 2, grid_a=20.0, stranded=3))
    assert shortfall is not None
    assert shortfall.fewest_changes == 3
    assert budget_shortfall(incident(0, 3, grid_a=20.0, stranded=3)) is None


def test_a_load_within_the_specs_tolerance_needs_no_change() -> None:
    # 12 kW against 12 - 1e-5 is within 1e-6 relative (1.2e-5); against 12 - 2e-5 not.
    assert budget_shortfall(incident(0, 0, grid_a=12.0 - 1e-5)) is None
    over = budget_shortfall(incident(0, 0, grid_a=12.0 - 2e-5))
    assert over is not None
    assert over.needs[0].changes == (1,)


def test_a_scheduled_instance_is_held_to_its_first_periods_limits() -> None:
    scheduled = incident(0, 5, periods=[("p1", 3), ("p2", 2)])
    assert budget_shortfall(scheduled) is not None
    assert budget_shortfall(incident(0, 6, periods=[("p1", 3), ("p2", 2)])) is None


@pytest.mark.parametrize(("moves", "changes"), [(0, 5), (1, 1)])
def test_solve_claims_infeasible_with_the_reason(moves: int, changes: int) -> None:
    solution = solve(incident(moves, changes), time_limit_s=10, workers=1)
    assert solution.status == "infeasible"
    assert not solution.has_plan
    assert "no plan keeps the move budgets" in (solution.solver.model_extra or {})["proof"]
    assert "(no plan keeps the move budgets: at hour 0 A: grid power" in solution.summary()


@pytest.mark.parametrize(("moves", "changes"), [(0, 6), (1, 2)])
def test_at_the_budgets_the_proof_allows_there_is_a_plan(moves: int, changes: int) -> None:
    """The proof is tight here: one change less is proved infeasible (above), and with
    these budgets the solver finds a plan the evaluator accepts within them."""
    instance = incident(moves, changes)
    solution = solve(instance, time_limit_s=10, workers=1)
    assert solution.has_plan
    assert_checked(instance, solution)
    figures = evaluate(instance, solution).replan
    assert figures is not None
    assert figures.replica_changes <= changes
    assert len(figures.moves) <= moves


def test_every_proof_on_the_oracles_cases_is_right() -> None:
    """On 300 random tiny cases (static and scheduled, both budgets), every case the
    check proves infeasible has no plan by exhaustive enumeration; it proves some."""
    proved = 0
    for seed in range(300):
        case: dict[str, Any] = draw(seed)
        if budget_shortfall(build(case)) is not None:
            proved += 1
            assert oracle(case) is None, seed
    assert proved >= 20


def test_the_re_plans_summary_says_why() -> None:
    """tests/test_site_search.py's incident: A (grid 2 kW) runs 4 GPUs; with no training
    move 2 replicas must stop, one change is too few."""
    from solver.replan import replan
    from tests.test_site_search import before_the_cut, cut

    base = before_the_cut()
    current = solve(base, time_limit_s=10, workers=1)
    result = replan(cut(base), current, max_training_moves=0, max_replica_changes=1)
    assert result.solution.status == "infeasible"
    assert (
        "why: no plan keeps the move budgets: at hour 0 A: grid power (2.00 kW) over by "
        "2.00; with 0 training moves they need at least 2 replica changes (budget 1)"
    ) in result.summary()
