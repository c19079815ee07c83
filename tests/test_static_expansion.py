"""solver.static_expansion: static instances with site expansions (SPEC §11) through v1's
search, on tiny cases priced by hand (the path is forced by lowering the whole-model size
it takes over from)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from models import Solution, SolverInfo, parse_instance
from solver import solve
from solver.mip.compact import build_compact
from solver.mip.highs import solve_compact
from solver.mip.plan import plan_solution
from solver.scheduled import solve as scheduled_solve
from solver.static_expansion import (
    ROUND_AT,
    applies,
    expanded_v1,
    expansion_lp,
    needed,
    rounded,
)
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2


def expansions_case(**extra: Any) -> dict[str, Any]:
    """Job j needs 4 gpus for 10 h. A has 1 gpu at 1.0 an hour and three expansions
    (+2 gpus for 5, +2 for 3, +4 for 7); B has 4 gpus at 10.0. Cheapest: j at A with the
    +4 step (7; the two +2 steps cost 8, one +2 step is too few): 40 + 7 = 47. At B:
    400."""
    return v2(
        None,
        horizon_hours=10,
        sites=[
            b.site(
                "A",
                {"gpu": (1, 1.0)},
                expansions=[
                    {"id": "two", "cost": 5.0, "inventory": [{"accelerator": "gpu", "count": 2}]},
                    {"id": "two-b", "cost": 3.0, "inventory": [{"accelerator": "gpu", "count": 2}]},
                    {"id": "four", "cost": 7.0, "inventory": [{"accelerator": "gpu", "count": 4}]},
                ],
            ),
            b.site("B", {"gpu": (4, 10.0)}),
        ],
        training=[b.job("j", {"gpu": 4})],
        **extra,
    ).model_dump(by_alias=True, exclude_unset=True)


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)


def test_every_expansion_built_free_is_the_relaxation() -> None:
    instance = parse_instance(expansions_case())
    relaxed = expanded_v1(instance, None)
    assert relaxed.schema_ == "infraplan/v1"
    assert relaxed.site_by_id["A"].inventory[0].count == 1 + 2 + 2 + 4
    only = expanded_v1(instance, {("A", "four")})
    assert only.site_by_id["A"].inventory[0].count == 5


@pytest.mark.parametrize("workers", [1, 2], ids=["cp-sat only", "highs beside"])
def test_the_cheapest_cover_of_a_plans_use_is_chosen(forced: None, workers: int) -> None:
    instance = parse_instance(expansions_case())
    assert applies(instance)
    solution = solve(instance, time_limit_s=10, workers=workers)
    assert_checked(instance, solution)
    assert needed(instance, solution) == {("A", "four")}
    assert [(e.site, e.expansion) for e in solution.expansions or []] == [("A", "four")]
    assert solution.objective == pytest.approx(47.0)
    assert solution.costs.expansions == pytest.approx(7.0)
    # At least the LP's 44.75 (test_the_lp_charges_each_expansion_its_share), at most 47.
    assert solution.bound is not None and 44.75 - 1e-6 <= solution.bound <= 47.0 + 1e-9


def test_progress_reports_plans_of_this_instance_at_their_cost(forced: None) -> None:
    """v1's plans are reported with the expansions' cost: never below the optimum 47
    (v1 alone prices j at A at 40, the expansion left out), and with proved bounds."""
    reports: list[tuple[float, float, float | None]] = []
    instance = parse_instance(expansions_case())
    solution = solve(instance, time_limit_s=10, workers=1, on_progress=lambda *r: reports.append(r))
    assert solution.objective == pytest.approx(47.0)
    assert reports
    assert all(objective >= 47.0 - 1e-9 for _, objective, _ in reports)
    assert all(bound is None or bound <= 47.0 + 1e-9 for _, _, bound in reports)
    assert [objective for _, objective, _ in reports] == sorted(
        (objective for _, objective, _ in reports), reverse=True
    )


def test_the_lp_charges_each_expansion_its_share() -> None:
    """The LP places j at A (40) and buys the 3 gpus it lacks at the least cost per gpu:
    all of two-b (1.5 a gpu: 3) and a quarter of four (1.75 a gpu: 1.75), so 44.75,
    where the free relaxation's bound is 40."""
    lp = expansion_lp(parse_instance(expansions_case()), time.perf_counter() + 30)
    assert lp is not None
    assert 44.75 - 1e-6 <= lp.bound <= 44.75 + 1e-9
    assert lp.built == pytest.approx(
        {("A", "two"): 0.0, ("A", "two-b"): 1.0, ("A", "four"): 0.25}, abs=1e-7
    )


def test_the_lp_charges_a_whole_expansion_for_any_use_of_what_only_it_supplies() -> None:
    """A has no gpu of its own; its one expansion adds 4 for 7. Job j (2 gpus, 10 h) at A
    costs 20 + 7 = 27, at B 200. Without the prerequisite row the LP builds half of the
    expansion (23.5); with it, any use at A needs all of it: 27, the optimum."""
    document = v2(
        None,
        horizon_hours=10,
        sites=[
            b.site(
                "A",
                {"gpu": (0, 1.0)},
                expansions=[
                    {"id": "four", "cost": 7.0, "inventory": [{"accelerator": "gpu", "count": 4}]}
                ],
            ),
            b.site("B", {"gpu": (2, 10.0)}),
        ],
        training=[b.job("j", {"gpu": 2})],
    ).model_dump(by_alias=True, exclude_unset=True)
    lp = expansion_lp(parse_instance(document), time.perf_counter() + 30)
    assert lp is not None
    assert 27.0 - 1e-6 <= lp.bound <= 27.0 + 1e-9
    assert lp.built == pytest.approx({("A", "four"): 1.0}, abs=1e-7)


def test_rounding_builds_what_the_lp_builds_enough_of_within_supply() -> None:
    built = {("A", "two"): 0.0, ("A", "two-b"): 1.0, ("A", "four"): ROUND_AT}
    instance = parse_instance(expansions_case())
    assert rounded(instance, built) == {("A", "two-b"), ("A", "four")}
    # Three gpus may be added: two-b (2) fits; four (2 + 4) does not.
    limited = parse_instance(
        expansions_case(supply_limits=[{"accelerator": "gpu", "max_count": 3}])
    )
    assert rounded(limited, built) == {("A", "two-b")}


def compact_plan(document: dict[str, Any]) -> Solution:
    """HiGHS's plan of the compact MIP (solver.mip) of an expansion case."""
    instance = parse_instance(document)
    model = build_compact(instance)
    result = solve_compact(model, time_limit_s=30.0)
    assert result.values is not None
    return plan_solution(model, result.values, SolverInfo(name="test", version="0"))


def test_the_compact_mip_chooses_the_cheapest_expansion() -> None:
    instance = parse_instance(expansions_case())
    solution = compact_plan(expansions_case())
    assert_checked(instance, solution)
    assert [(e.site, e.expansion) for e in solution.expansions or []] == [("A", "four")]
    assert solution.objective == pytest.approx(47.0)
    assert solution.costs.expansions == pytest.approx(7.0)


def test_the_compact_mip_keeps_to_the_supply_limit() -> None:
    """At most 1 gpu may be added: no step fits, j goes to B (400)."""
    document = expansions_case(supply_limits=[{"accelerator": "gpu", "max_count": 1}])
    solution = compact_plan(document)
    assert_checked(parse_instance(document), solution)
    assert solution.expansions == []
    assert solution.objective == pytest.approx(400.0)


def test_the_compact_mip_refuses_what_it_does_not_state() -> None:
    document = expansions_case()
    document["training"][0]["move_cost"] = 1.0
    with pytest.raises(ValueError, match="training move costs"):
        build_compact(parse_instance(document))


def test_a_supply_limit_that_forbids_the_step_leaves_the_base_capacity(forced: None) -> None:
    """At most 1 gpu may be added: no step fits, so j goes to B (400)."""
    instance = parse_instance(
        expansions_case(supply_limits=[{"accelerator": "gpu", "max_count": 1}])
    )
    solution = solve(instance, time_limit_s=10, workers=1)
    assert_checked(instance, solution)
    assert solution.expansions == []
    assert [t.site for t in solution.training] == ["B"]
    assert solution.objective == pytest.approx(400.0)


def test_infeasible_only_when_every_expansion_built_is_not_enough(forced: None) -> None:
    document = expansions_case()
    document["training"].append(b.job("huge", {"gpu": 20}))
    instance = parse_instance(document)
    solution = solve(instance, time_limit_s=10, workers=1)
    assert solution.status == "infeasible"
    assert not solution.has_plan


def test_small_instances_keep_the_exact_v2_model() -> None:
    assert not applies(parse_instance(expansions_case()))
