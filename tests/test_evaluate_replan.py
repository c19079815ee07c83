"""Evaluator tests for SPEC §10 (re-planning from `current`) and §11 (expansions, supply
limits): move costs with checkpoint egress, continuing jobs, budgets, replica changes and
starts, expansions that make a plan fit, supply limits, unlimited cooling and site use.
Every expected figure is worked out by hand in the test's docstring or comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from solver import evaluate
from tests.builders import job, link, service, site
from tests.v2_builders import (
    claimed,
    feasible,
    judge,
    only,
    plan_doc,
    replicas,
    route,
    train,
    v2_instance,
)

if TYPE_CHECKING:
    from models import Instance

PERIODS = {"p1": 10, "p2": 10}


# -- SPEC §10: training moves ----------------------------------------------------------------


def moving_instance(**moves: Any) -> Instance:
    """Sites A, B (link A-B at 0.02 per GB) and C (no links). Job j (4 GPUs, 5 h,
    move_cost 100, checkpoint 500 GB) runs at A; optional job k (2 GPUs, move_cost 30,
    checkpoint 1,000 GB, unplaced_cost 7) runs at A too."""
    return v2_instance(
        PERIODS,
        sites=[site(s, {"gpu": (8, 0.0)}) for s in ("A", "B", "C")],
        links=[link("A", "B", 5.0, egress_cost_per_gb=0.02)],
        training=[
            job("j", {"gpu": 4}, 5, move_cost=100.0, checkpoint_gb=500.0),
            job(
                "k",
                {"gpu": 2},
                5,
                required=False,
                unplaced_cost=7.0,
                move_cost=30.0,
                checkpoint_gb=1_000.0,
            ),
        ],
        current={
            "training": [
                {"job": "j", "site": "A", "accelerator": "gpu"},
                {"job": "k", "site": "A", "accelerator": "gpu"},
            ]
        },
        **moves,
    )


def test_move_cost_with_checkpoint_egress() -> None:
    """j moves to B: 100 + 500 GB x 0.02 = 110; k is dropped: its move cost 30 (no
    checkpoint travels) and its unplaced cost 7."""
    inst = moving_instance()
    document = plan_doc(inst, training=[train("j", "B", 4, 0)], unplaced_training=["k"])
    evaluation = feasible(
        evaluate(inst, claimed(inst, document, {"moves": 140.0, "unplaced": 7.0}))
    )
    assert evaluation.costs.moves == pytest.approx(140.0, rel=1e-12)
    assert evaluation.replan is not None
    moves = [(m.job, m.to_site, m.move_cost, m.checkpoint_cost) for m in evaluation.replan.moves]
    assert moves == [("j", "B", 100.0, pytest.approx(10.0)), ("k", None, 30.0, 0.0)]


def test_continuing_jobs_cost_nothing_and_start_at_zero() -> None:
    """Both jobs stay at A on their GPUs from hour 0: no moves; j starting at 2 instead
    does not continue as SPEC §10 says."""
    inst = moving_instance()
    document = plan_doc(inst, training=[train("j", "A", 4, 0), train("k", "A", 2, 0)])
    evaluation = feasible(evaluate(inst, claimed(inst, document, {})))
    assert evaluation.replan is not None
    assert evaluation.replan.continuing == ["j", "k"] and evaluation.replan.moves == []
    late = plan_doc(inst, training=[train("j", "A", 4, 2), train("k", "A", 2, 0)])
    violation = only(judge(inst, late))
    assert (violation.constraint, violation.entity, violation.amount) == ("timing", "job j", 2)
    assert "starts at hour 0, not at hour 2" in violation.message


def test_checkpoint_cannot_reach_the_new_site() -> None:
    """C cannot be reached from A, so j (checkpoint 500 GB) may not move there."""
    inst = moving_instance()
    document = plan_doc(inst, training=[train("j", "C", 4, 0), train("k", "A", 2, 0)])
    violation = only(judge(inst, document))
    assert (violation.constraint, violation.entity) == ("eligibility", "job j / site C / gpu")
    assert violation.message == "moves its 500 GB checkpoint from site A, which cannot reach site C"


@pytest.mark.parametrize(("budget", "over"), [(2, None), (1, 1), (0, 2)])
def test_training_move_budget(budget: int, over: int | None) -> None:
    """j moved and k dropped are 2 training moves."""
    inst = moving_instance(moves={"max_training_moves": budget})
    document = plan_doc(inst, training=[train("j", "B", 4, 0)], unplaced_training=["k"])
    evaluation = judge(inst, document)
    if over is None:
        feasible(evaluation)
    else:
        violation = only(evaluation)
        assert (violation.constraint, violation.entity, violation.amount) == (
            "move_budget",
            "moves.max_training_moves",
            over,
        )


# -- SPEC §10: replicas --------------------------------------------------------------------


def replica_instance(**moves: Any) -> Instance:
    """Service s (1-GPU replicas of 10 rps, 10 rps from r, 5 per replica started) runs 3
    replicas at A now; B is also in reach."""
    return v2_instance(
        PERIODS,
        sites=[site("A", {"gpu": (8, 0.0)}), site("B", {"gpu": (8, 0.0)})],
        regions=["r"],
        links=[link("r", "A"), link("r", "B")],
        inference=[service("s", {"gpu": (1, 10.0)}, {"r": 10.0}, replica_start_cost=5.0)],
        current={"inference": [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 3}]},
        **moves,
    )


def replica_plan(inst: Instance) -> dict[str, Any]:
    """p1: 1 at A, 2 at B; p2: 4 at A, none at B (all traffic to A)."""
    return plan_doc(
        inst,
        inference=[
            replicas("s", "A", 1, "p1"),
            replicas("s", "A", 4, "p2"),
            replicas("s", "B", 2, "p1"),
            replicas("s", "B", 0, "p2"),
        ],
        routes=[route("s", "r", "A", 10.0, "p1"), route("s", "r", "A", 10.0, "p2")],
    )


def test_replica_changes_and_starts() -> None:
    """Changes in p1: |1 - 3| at A + |2 - 0| at B = 4. Starts: p1 A 0 (3 -> 1), B 2;
    p2 A 3 (1 -> 4), B 0 (stopping is free): 5 replicas x 5 = 25."""
    inst = replica_instance()
    evaluation = feasible(
        evaluate(inst, claimed(inst, replica_plan(inst), {"replica_starts": 25.0}))
    )
    assert evaluation.replan is not None
    assert evaluation.replan.replica_changes == 4
    starts = {(r.site, r.period, r.started) for r in evaluation.replan.replica_starts}
    assert starts == {("B", "p1", 2), ("A", "p2", 3)}
    assert evaluation.costs.replica_starts == pytest.approx(25.0, rel=1e-12)


@pytest.mark.parametrize(("budget", "over"), [(4, None), (3, 1)])
def test_replica_change_budget(budget: int, over: int | None) -> None:
    """4 replica changes in the first period against the budget."""
    inst = replica_instance(moves={"max_replica_changes": budget})
    evaluation = judge(inst, replica_plan(inst))
    if over is None:
        feasible(evaluation)
    else:
        violation = only(evaluation)
        assert (violation.constraint, violation.entity, violation.amount) == (
            "move_budget",
            "moves.max_replica_changes",
            over,
        )


def test_static_replica_starts_count_from_current() -> None:
    """Static (one period "all"): 5 replicas at A where 3 run now start 2 (10); changes 2."""
    inst = v2_instance(
        sites=[site("A", {"gpu": (8, 0.0)})],
        regions=["r"],
        links=[link("r", "A")],
        inference=[service("s", {"gpu": (1, 10.0)}, {"r": 10.0}, replica_start_cost=5.0)],
        current={"inference": [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 3}]},
    )
    document = plan_doc(
        inst, inference=[replicas("s", "A", 5)], routes=[route("s", "r", "A", 10.0)]
    )
    evaluation = feasible(evaluate(inst, claimed(inst, document, {"replica_starts": 10.0})))
    assert evaluation.replan is not None and evaluation.replan.replica_changes == 2


# -- SPEC §11: expansions ------------------------------------------------------------------


def expansion_instance(**extra: Any) -> Instance:
    """Site A: 10 GPUs, 10 kW (PUE 1), fixed cost 500; expansion x from p2 (cost 1,000)
    adds 5 kW and 4 GPUs. Site B (fixed cost 300) has expansion y (cost 50, 4 GPUs in p1).
    Job j needs 12 GPUs for 5 h."""
    return v2_instance(
        PERIODS,
        sites=[
            site(
                "A",
                {"gpu": (10, 0.0)},
                grid_kw=10.0,
                fixed_cost=500.0,
                expansions=[
                    {
                        "id": "x",
                        "period": "p2",
                        "cost": 1_000.0,
                        "grid_kw": 5.0,
                        "inventory": [{"accelerator": "gpu", "count": 4}],
                    }
                ],
            ),
            site(
                "B",
                {"gpu": (0, 0.0)},
                fixed_cost=300.0,
                expansions=[
                    {
                        "id": "y",
                        "period": "p1",
                        "cost": 50.0,
                        "inventory": [{"accelerator": "gpu", "count": 4}],
                    }
                ],
            ),
        ],
        training=[job("j", {"gpu": 12}, 5)],
        **extra,
    )


def test_expansion_makes_the_plan_fit() -> None:
    """j from hour 12 fits only with x: 14 GPUs and 15 kW in p2. Fixed 500 (A hosts j)
    plus 1,000 for x."""
    inst = expansion_instance()
    document = plan_doc(inst, training=[train("j", "A", 12, 12)])
    without = judge(inst, document)
    assert [(v.constraint, v.entity, v.amount) for v in without.violations] == [
        ("inventory", "site A / gpu in period p2 at hour 12", 2),
        ("grid_power", "site A in period p2 at hour 12", 2.0),
    ]
    document["expansions"] = [{"site": "A", "expansion": "x"}]
    evaluation = feasible(
        evaluate(inst, claimed(inst, document, {"fixed": 500.0, "expansions": 1_000.0}))
    )
    assert evaluation.periods[1].sites["A"].grid_kw == 15.0
    assert evaluation.periods[0].sites["A"].grid_kw == 10.0


def test_expansion_is_not_online_before_its_period() -> None:
    """j from hour 2 runs in p1, before x comes online."""
    inst = expansion_instance()
    document = plan_doc(
        inst, training=[train("j", "A", 12, 2)], expansions=[{"site": "A", "expansion": "x"}]
    )
    evaluation = judge(inst, document)
    assert [v.entity for v in evaluation.violations] == [
        "site A / gpu in period p1 at hour 2",
        "site A in period p1 at hour 2",
    ]


def test_a_chosen_expansion_alone_does_not_use_a_site() -> None:
    """Choosing y at B (nothing placed there) costs 50 and no fixed cost for B."""
    inst = expansion_instance()
    document = plan_doc(
        inst,
        training=[train("j", "A", 12, 12)],
        expansions=[{"site": "A", "expansion": "x"}, {"site": "B", "expansion": "y"}],
    )
    evaluation = feasible(
        evaluate(inst, claimed(inst, document, {"fixed": 500.0, "expansions": 1_050.0}))
    )
    assert evaluation.sites["B"].active is False


@pytest.mark.parametrize(("limit", "over"), [(8, None), (7, 1), (4, 4)])
def test_supply_limits(limit: int, over: int | None) -> None:
    """x and y add 4 + 4 = 8 GPUs against the supply limit."""
    inst = expansion_instance(supply_limits=[{"accelerator": "gpu", "max_count": limit}])
    document = plan_doc(
        inst,
        training=[train("j", "A", 12, 12)],
        expansions=[{"site": "A", "expansion": "x"}, {"site": "B", "expansion": "y"}],
    )
    evaluation = judge(inst, document)
    if over is None:
        feasible(evaluation)
    else:
        violation = only(evaluation)
        assert (violation.constraint, violation.entity, violation.amount) == (
            "supply",
            "accelerator gpu",
            over,
        )


def test_expansion_cooling_adds_to_limits_and_unlimited_stays_unlimited() -> None:
    """A: air 10 kW, liquid unlimited; expansion z adds 5 kW of each. 12 air GPUs fit
    only with z (15 kW); 100 liquid GPUs (100 kW) fit either way: unlimited + 5 stays
    unlimited."""
    inst = v2_instance(
        PERIODS,
        accelerators=[
            {"id": "gpu", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"},
            {"id": "wet", "memory_gb": 80, "power_kw": 1.0, "cooling": "liquid"},
        ],
        sites=[
            site(
                "A",
                {"gpu": (20, 0.0), "wet": (100, 0.0)},
                cooling_kw={"air": 10.0},
                expansions=[
                    {
                        "id": "z",
                        "period": "p1",
                        "cost": 0.0,
                        "cooling_kw": {"air": 5.0, "liquid": 5.0},
                    }
                ],
            )
        ],
        training=[job("j", {"gpu": 12}, 5), job("w", {"wet": 100}, 5)],
    )
    document = plan_doc(
        inst, training=[train("j", "A", 12, 0, "gpu"), train("w", "A", 100, 0, "wet")]
    )
    violation = only(judge(inst, document))
    assert (violation.constraint, violation.entity) == (
        "cooling",
        "site A / air in period p1 at hour 0",
    )
    document["expansions"] = [{"site": "A", "expansion": "z"}]
    evaluation = feasible(judge(inst, document))
    heat = evaluation.periods[0].sites["A"].heat
    assert (heat["air"].limit_kw, heat["liquid"].limit_kw) == (15.0, None)
