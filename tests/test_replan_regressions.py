"""Re-planning bugs the oracle (tests/test_replan_oracle.py) and the #28 measurements found,
each on a hand-made case.

- The replica variables were capped at what the period's demand needs, but under a
  replica change budget the only plans may keep idle replicas of `current` (was:
  "infeasible").
- Replica options at sites no demand region reaches were left out even when `current`
  runs replicas there under a change budget (was: "infeasible").
- The large path given a hint that fails the check (the current plan after an incident)
  had no plan at all (was: "unknown", no plan, on generated M with demand +20%).
- OR-Tools 9.15.6755 aborted the whole process (`Check failed: heuristics.fixed_search
  != nullptr`) when the whole model of generated M, with a training-move budget its grid
  cut makes infeasible, was searched interleaved with the current plan as hint (was: the
  Python process killed by SIGABRT; the M-0 plan that triggers it is
  tests/data/replan/M-0-current-30s.json.gz, v1's 30 s plan of generated M seed 0).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from solver import solve
from solver.scheduled import solve as scheduled_solve
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2

if TYPE_CHECKING:
    from models import Instance


def test_a_change_budget_keeps_idle_replicas_of_current() -> None:
    """4 replicas run at A; demand needs 1; at most 1 change: 3 stay (2 idle)."""
    instance = v2(
        None,
        horizon_hours=2,
        sites=[b.site("A", {"gpu": (8, 1.0)})],
        regions=["r"],
        links=[b.link("r", "A")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 10.0})],
        current={
            "training": [],
            "inference": [{"service": "s", "site": "A", "accelerator": "gpu", "replicas": 4}],
        },
        moves={"max_replica_changes": 1},
    )
    solution = solve(instance, time_limit_s=10, workers=1)
    assert solution.status == "optimal"
    assert_checked(instance, solution)
    assert [group.replicas for group in solution.inference] == [3]
    assert solution.objective == pytest.approx(3 * 2 * 1.0)


def test_a_change_budget_keeps_replicas_where_no_demand_reaches() -> None:
    """Replicas of `current` at B, which no region reaches within the SLO, under a budget
    of 0 changes: they stay."""
    instance = v2(
        None,
        horizon_hours=2,
        sites=[b.site("A", {"gpu": (8, 1.0)}), b.site("B", {"gpu": (8, 1.0)})],
        regions=["r"],
        links=[b.link("r", "A"), b.link("r", "B", 500.0)],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 10.0})],
        current={
            "training": [],
            "inference": [
                {"service": "s", "site": "A", "accelerator": "gpu", "replicas": 1},
                {"service": "s", "site": "B", "accelerator": "gpu", "replicas": 2},
            ],
        },
        moves={"max_replica_changes": 0},
    )
    solution = solve(instance, time_limit_s=10, workers=1)
    assert solution.status == "optimal"
    assert_checked(instance, solution)
    assert {(g.site, g.replicas) for g in solution.inference} == {("A", 1), ("B", 2)}


def test_the_large_path_plans_when_the_hint_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plan for 10 rps hints the instance with 30 rps that must be served."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)

    def instance_with(rps: float) -> Instance:
        return v2(
            [("p1", 5), ("p2", 5)],
            sites=[b.site("A", {"gpu": (8, 1.0)})],
            regions=["r"],
            links=[b.link("r", "A")],
            inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": rps})],
        )

    low = instance_with(10.0)
    high = instance_with(30.0)
    hint = solve(low, time_limit_s=10, workers=1)
    assert hint.has_plan
    solution = solve(high, time_limit_s=10, workers=1, hint=hint)
    assert solution.has_plan, solution.summary()
    assert_checked(high, solution)


def test_the_frontier_ends_when_no_budget_has_a_plan() -> None:
    """Must-serve demand no site can serve: no point has a plan; the sweep used to double
    the budget until the instance refused it (over 10^9)."""
    from solver.frontier import frontier

    def instance_with(rps: float) -> Instance:
        return v2(
            None,
            horizon_hours=2,
            sites=[b.site("A", {"gpu": (4, 1.0)})],
            regions=["r"],
            links=[b.link("r", "A")],
            training=[b.job("j", {"gpu": 2}, 2, required=True, move_cost=1.0)],
            inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": rps})],
        )

    current = solve(instance_with(10.0), time_limit_s=10, workers=1)
    assert current.has_plan
    for of in ("training", "replicas"):
        curve = frontier(instance_with(1000.0), current, of=of, time_limit_s=5, workers=1)
        assert not curve.floor.solution.has_plan
        assert not any(point.solution.has_plan for point in curve.points)
        assert "no plan can use more than" in curve.stopped
        assert len(curve.points) <= 6


ABORTING_REPLAN = textwrap.dedent(
    """
    import copy, gzip, sys
    from models import parse_instance, parse_solution
    from models.generator import generate
    from models.generator.current_plan import with_move_prices
    from solver.evaluate import evaluate
    from solver.replan import replan
    from solver.scheduled import solve as scheduled_solve
    import orjson

    scheduled_solve.MAX_WHOLE_MODEL_DECISIONS = 10**9  # the whole model, as --whole-model
    base = generate("M", 0)
    current = parse_solution(orjson.loads(gzip.decompress(open(sys.argv[1], "rb").read())))
    document = with_move_prices(base.model_dump(mode="json", by_alias=True, exclude_unset=True), 0)
    site = next(s for s in document["sites"] if s["id"] == "las-vegas-34")
    site["grid_kw"] = site["grid_kw"] * 0.5
    result = replan(
        parse_instance(document, "grid cut"), current, max_training_moves=5,
        time_limit_s=5, workers=2, seed=0,
    )
    print(result.solution.status)
    """
)


def test_a_hinted_infeasible_whole_model_does_not_abort_the_process() -> None:
    """The #28 incident (busiest site's grid halved, at most 5 training moves) through the
    whole model ends with a status, in a child process so that an abort fails this test
    rather than the test run. The whole model proves it infeasible in about 4 s; any
    status is accepted here (the claim itself is covered by the oracle tests), only the
    process must survive."""
    data = Path(__file__).parent / "data" / "replan" / "M-0-current-30s.json.gz"
    completed = subprocess.run(
        [sys.executable, "-c", ABORTING_REPLAN, str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.split()[-1] in {"infeasible", "unknown", "feasible", "optimal"}


def test_a_hint_that_is_no_plan_is_dropped_and_a_plan_hint_completed() -> None:
    """`checked_hint`: the current plan after the grid cut of tests/test_site_search.py
    (A over its 2 kW) is no plan of the restricted model, so an interleaved run gets no
    hint (OR-Tools 9.15.6755 can abort on a hinted interleaved search of a model it finds
    infeasible, with or without `max_lp`); the budgeted optimum (47) as hint is kept,
    completed into a value for every variable; the run without the hint proves 47."""
    import time

    from ortools.sat.python import cp_model

    from solver.scheduled.model import add_hint, build_model
    from solver.scheduled.plan import ScheduledPlan
    from solver.search.options import SolveOptions
    from tests.test_site_search import incident

    instance, start, _ = incident()
    built = build_model(instance, widened=False)
    add_hint(built, start)
    assert not scheduled_solve.checked_hint(
        built, time.perf_counter() + 10
    ).proto.has_solution_hint()
    found = scheduled_solve.run(built, time.perf_counter() + 10, 2, 0, SolveOptions())
    assert found.status == cp_model.OPTIMAL
    assert found.bound == pytest.approx(47.0)
    best = ScheduledPlan.of(instance, solve(instance, time_limit_s=10, workers=1))
    assert best.objective == pytest.approx(47.0)
    add_hint(built, best)
    checked = scheduled_solve.checked_hint(built, time.perf_counter() + 10)
    hint = checked.proto.solution_hint
    assert list(hint.vars) == list(range(len(checked.proto.variables)))
