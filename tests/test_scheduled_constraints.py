"""One tiny scheduled instance per constraint family of solver/scheduled/constraints.py,
where the family binds and the optimum is known by hand."""

from __future__ import annotations

import pytest

from solver import solve
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2

TWO = [("p1", 5), ("p2", 5)]


def starts(solution: object) -> dict[str, int | None]:
    return {t.job: t.start_hour for t in solution.training}  # type: ignore[attr-defined]


def test_grid_power_that_grows_pushes_a_job_later() -> None:
    """15 kW job for 3 h; the grid gives 10 kW in p1 and 20 kW from p2 (hour 5): it starts
    at 5 and ends 2 h after its due hour 6 at 10 per hour: 45 + 20 = 65."""
    inst = v2(
        TWO,
        sites=[
            b.site("A", {"gpu": (20, 1.0)}, grid_kw=10, timeline=[{"period": "p2", "grid_kw": 20}])
        ],
        training=[b.job("j", {"gpu": 15}, 3, due_hour=6, late_cost_per_hour=10)],
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(65.0)
    assert starts(solution) == {"j": 5}
    assert solution.costs.lateness == pytest.approx(20.0)
    assert_checked(inst, solution)


def test_delivery_of_accelerators_in_period_two() -> None:
    """No GPU until p2 delivers 8: the 8-GPU job (4 h) starts at 5 or 6; 32."""
    inst = v2(
        TWO,
        sites=[
            b.site(
                "A",
                {"gpu": (0, 1.0)},
                timeline=[{"period": "p2", "inventory": [{"accelerator": "gpu", "count": 8}]}],
            )
        ],
        training=[b.job("j", {"gpu": 8}, 4)],
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(32.0)
    assert starts(solution)["j"] in (5, 6)
    assert_checked(inst, solution)


def test_after_chain_and_a_forced_optional_job() -> None:
    """c after b after a, run 3 + 2 + 2 on 4 GPUs each (stock 4), c due 7 at 100 per hour:
    a at 0, b at 3, c at 5. a is optional (unplaced cost 0) but c, required, needs it."""
    inst = v2(
        TWO,
        sites=[b.site("A", {"gpu": (4, 1.0)})],
        training=[
            b.job("a", {"gpu": 4}, 3, required=False),
            b.job("b", {"gpu": 4}, 2, after=["a"]),
            b.job("c", {"gpu": 4}, 2, after=["b"], due_hour=7, late_cost_per_hour=100),
        ],
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert starts(solution) == {"a": 0, "b": 3, "c": 5}
    assert solution.objective == pytest.approx(4 * 7.0)
    assert_checked(inst, solution)


@pytest.mark.parametrize(
    "window",
    [{"deadline_hour": 4}, {"release_hour": 6, "deadline_hour": 10}],
)
def test_a_window_too_short_proves_a_required_job_infeasible(window: dict[str, int]) -> None:
    inst = v2(
        TWO,
        sites=[b.site("A", {"gpu": (4, 1.0)})],
        training=[b.job("j", {"gpu": 4}, 5, **window)],
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "infeasible"
    assert solution.objective is None


@pytest.mark.parametrize(("late_cost", "objective", "sites"), [(3, 55.0, "AA"), (5, 60.0, "AB")])
def test_lateness_traded_against_a_pricier_site(
    late_cost: float, objective: float, sites: str
) -> None:
    """Two 4-GPU jobs of 5 h due at 5; A (1 per GPU-hour) holds one at a time, B costs 2:
    both at A makes one 5 h late (20 + 20 + 5 x late_cost), one at B costs 20 + 40 = 60."""
    inst = v2(
        TWO,
        sites=[b.site("A", {"gpu": (4, 1.0)}), b.site("B", {"gpu": (4, 2.0)})],
        training=[
            b.job(j, {"gpu": 4}, 5, due_hour=5, late_cost_per_hour=late_cost) for j in ("j1", "j2")
        ],
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(objective)
    assert "".join(sorted(t.site for t in solution.training)) == sites
    assert_checked(inst, solution)


def test_link_bandwidth_shared_by_a_dataset_read_and_traffic() -> None:
    """R - D - A, link D-A 10 Gbps. The job reads 6 Gbps from D for 3 h; chat sends 1 Gbps
    per rps, 5 rps in p1 and 2 in p2: the job fits only in p2 (5 + 6 > 10), so it starts
    at 5, 5 h after its due hour 3 (1 per hour). 3 + 5 + 10 (a replica each period) = 18;
    leaving 1 rps unserved in p1 would cost 500."""
    inst = v2(
        TWO,
        sites=[b.site("A", {"gpu": (2, 1.0)})],
        regions=["R"],
        transit=["D"],
        links=[b.link("R", "D", 1.0), b.link("D", "A", 1.0, bandwidth_gbps=10)],
        training=[
            b.job(
                "j",
                {"gpu": 1},
                3,
                due_hour=3,
                late_cost_per_hour=1,
                dataset={"at": "D", "read_gbps": 6},
            )
        ],
        inference=[
            b.service(
                "chat",
                {"gpu": (1, 10.0)},
                {"R": 5.0},
                request_kb=125_000,
                demand_by_period={"p2": {"R": 2.0}},
                unserved_cost_per_rps_hour=100,
            )
        ],
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(18.0)
    assert starts(solution) == {"j": 5}
    assert_checked(inst, solution)


def test_expansion_from_period_two_and_its_supply_limit() -> None:
    """Stock 4; an expansion adds 4 GPUs from p2 for 10: the 8-GPU job (3 h) needs it and
    starts at 5 or later: 24 + 10 = 34. A supply limit of 3 GPUs makes it infeasible."""
    parts = {
        "sites": [
            b.site(
                "A",
                {"gpu": (4, 1.0)},
                expansions=[
                    {
                        "id": "x",
                        "period": "p2",
                        "cost": 10,
                        "inventory": [{"accelerator": "gpu", "count": 4}],
                    }
                ],
            )
        ],
        "training": [b.job("j", {"gpu": 8}, 3)],
    }
    inst = v2(TWO, **parts)
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(34.0)
    assert [(x.site, x.expansion) for x in solution.expansions or []] == [("A", "x")]
    assert starts(solution)["j"] >= 5
    assert_checked(inst, solution)
    limited = v2(TWO, supply_limits=[{"accelerator": "gpu", "max_count": 3}], **parts)
    assert solve(limited, time_limit_s=20, workers=1).status == "infeasible"


@pytest.mark.parametrize(
    ("move_cost", "budget", "site", "objective"),
    [(100.0, None, "A", 40.0), (1.0, None, "B", 21.0), (0.0, 0, "A", 40.0)],
)
def test_a_running_job_moves_when_it_pays(
    move_cost: float, budget: int | None, site: str, objective: float
) -> None:
    """The job runs at A (2 per GPU-hour) in `current`; B costs 1. 2 GPUs for 10 h: 40 at
    A (from hour 0), 20 + move_cost at B; a budget of 0 moves keeps it at A."""
    inst = v2(
        TWO,
        sites=[b.site("A", {"gpu": (2, 2.0)}), b.site("B", {"gpu": (2, 1.0)})],
        training=[b.job("j", {"gpu": 2}, 10, move_cost=move_cost)],
        current={"training": [{"job": "j", "site": "A", "accelerator": "gpu"}]},
        moves={"max_training_moves": budget},
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(objective)
    assert [(t.site, t.start_hour) for t in solution.training] == [(site, 0)]
    assert_checked(inst, solution)


def test_static_v2_instance_with_replica_starts_and_a_change_budget() -> None:
    """Static v2 (one period "all" of 10 h): 30 rps at 10 per replica; `current` runs 1
    replica, each start costs 5, and at most 1 change is allowed: 30 rps need 3 replicas,
    2 changes, so 1 rps... unserved at 1 per rps-hour is 10 per rps: 2 replicas (20 + 5)
    and 10 rps unserved (100) = 125, against 3 replicas with 2 changes (not allowed)."""
    inst = v2(
        None,
        sites=[b.site("A", {"gpu": (8, 1.0)})],
        regions=["r"],
        links=[b.link("r", "A")],
        inference=[
            b.service(
                "s",
                {"gpu": (1, 10.0)},
                {"r": 30.0},
                replica_start_cost=5,
                unserved_cost_per_rps_hour=1,
            )
        ],
        current={"inference": [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 1}]},
        moves={"max_replica_changes": 1},
    )
    solution = solve(inst, time_limit_s=20, workers=1)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(125.0)
    assert [(r.replicas, r.period) for r in solution.inference] == [(2, None)]
    dumped = solution.model_dump(mode="json", by_alias=True)
    assert "period" not in dumped["inference"][0]
    assert dumped["costs"]["replica_starts"] == 5.0
    assert_checked(inst, solution)
