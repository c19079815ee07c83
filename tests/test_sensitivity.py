"""Sensitivity tests: LP-dual estimates and exact re-solves against hand computations on
tiny instances where one cheap site is limited and a dear one takes the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
from typer.testing import CliRunner

from models import load_instance, save_solution
from solver import solve
from solver.cli import app
from solver.diagnosis.limits import Limit
from solver.sensitivity import Steps, lp_estimates, sensitivity
from solver.whatif import SetValue, apply_edits
from tests import builders as b
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance, Solution
    from solver.sensitivity import LimitValue, Sensitivity

TIME_LIMIT_S = 10.0
runner = CliRunner()
#: Hours of every tiny instance.
HOURS = 10.0


def solved(instance: Instance) -> Solution:
    """The proved optimal plan of a tiny instance."""
    solution = solve(instance, time_limit_s=TIME_LIMIT_S, workers=1)
    assert solution.status == "optimal"
    assert_valid_plan(instance, solution)
    return solution


def value_of(result: Sensitivity, limit: Limit) -> LimitValue:
    """The row of one limit."""
    (value,) = [v for v in result.limits if v.limit == limit]
    return value


def cheap_and_dear(**site_a: object) -> Instance:
    """Service s (10 rps, one gpu of 1 kW per 1-rps replica) near A (1/h, limited by
    `site_a`) and B (3/h, unlimited): every replica A cannot take costs 2/h more."""
    return b.instance(
        sites=[
            b.site("A", {"gpu": (site_a.pop("count", 100), 1.0)}, **site_a),  # type: ignore[arg-type]
            b.site("B", {"gpu": (100, 3.0)}),
        ],
        regions=["u"],
        links=[b.link("u", "A"), b.link("u", "B")],
        inference=[b.service("s", {"gpu": (1, 1.0)}, {"u": 10})],
        horizon_hours=HOURS,
    )


def test_grid_power_value_matches_hand_computation() -> None:
    """A: 5 kW grid at PUE 1.25 (4 replicas), energy 0.08/kWh, so a replica costs 1.1/h at A
    and 3/h at B. One kW more moves 1/1.25 replica: (3 - 1.1) x 10 h / 1.25 = 15.2 per kW,
    both as the LP estimate and as the exact change of a 1.25 kW step (one replica, -19)."""
    instance = cheap_and_dear(grid_kw=5.0, pue=1.25, energy_price=0.08)
    plan = solved(instance)
    assert plan.objective == pytest.approx(4 * 1.1 * HOURS + 6 * 3.0 * HOURS)
    result = sensitivity(instance, plan, steps=Steps(kw=1.25), time_limit_s=TIME_LIMIT_S, workers=1)
    grid = value_of(result, Limit("grid_power", ("A",)))
    assert grid.binding
    assert grid.used == pytest.approx(5.0)
    assert grid.estimate == pytest.approx(15.2)
    assert grid.exact is not None and grid.exact.proved
    assert grid.exact.change == pytest.approx(-19.0)
    assert grid.exact.per_unit == pytest.approx(15.2)
    # The re-solve's optimum is the hand optimum of the raised instance: 5 at A, 5 at B.
    assert grid.exact.objective == pytest.approx(5 * 1.1 * HOURS + 5 * 3.0 * HOURS)
    raised = apply_edits(instance, [grid.exact.edit])
    assert raised.site_by_id["A"].grid_kw == pytest.approx(6.25)
    assert solved(raised).objective == pytest.approx(grid.exact.objective)


def test_inventory_value_is_per_accelerator() -> None:
    """A holds 4 gpu: one more saves (3 - 1) x 10 h = 20, estimated and exact."""
    instance = cheap_and_dear(count=4)
    result = sensitivity(
        instance, solved(instance), steps=Steps(accelerators=1), time_limit_s=TIME_LIMIT_S,
        workers=1,
    )  # fmt: skip
    stock = value_of(result, Limit("inventory", ("A", "gpu")))
    assert stock.binding and stock.unit == "accelerators"
    assert stock.estimate == pytest.approx(20.0)
    assert stock.exact is not None
    assert stock.exact.change == pytest.approx(-20.0)
    assert str(stock.exact.edit) == "--set sites[A].inventory[gpu].count=5"


def test_cooling_value_is_per_kw_of_heat() -> None:
    """3 kW of air cooling at A (3 replicas): one kW more saves 20."""
    instance = cheap_and_dear(cooling_kw={"air": 3.0})
    result = sensitivity(
        instance, solved(instance), steps=Steps(kw=2.0), time_limit_s=TIME_LIMIT_S, workers=1
    )
    cooling = value_of(result, Limit("cooling", ("A", "air")))
    assert cooling.estimate == pytest.approx(20.0)
    assert cooling.exact is not None and cooling.exact.change == pytest.approx(-40.0)


def test_bandwidth_value_is_per_gbps() -> None:
    """Requests of 125 KB (0.001 Gbps per rps) over a 0.004 Gbps link to A: 4 rps go to A.
    One Gbps more carries 1,000 rps, each saving 2 x 10 h: 20,000 per Gbps in the LP; a
    0.002 Gbps step moves 2 rps (-40)."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}), b.site("B", {"gpu": (100, 3.0)})],
        regions=["u"],
        links=[b.link("u", "A", bandwidth_gbps=0.004), b.link("u", "B")],
        inference=[b.service("s", {"gpu": (1, 1.0)}, {"u": 10}, request_kb=25, response_kb=100)],
        horizon_hours=HOURS,
    )
    plan = solved(instance)
    result = sensitivity(
        instance, plan, steps=Steps(gbps=0.002), time_limit_s=TIME_LIMIT_S, workers=1
    )
    link = value_of(result, Limit("bandwidth", ("u", "A")))
    assert link.binding and link.used == pytest.approx(0.004)
    assert link.estimate == pytest.approx(20_000.0)
    assert link.exact is not None
    assert link.exact.change == pytest.approx(-40.0)
    assert link.exact.per_unit == pytest.approx(20_000.0)


def test_estimate_and_exact_differ_for_whole_jobs() -> None:
    """Two 4 kW jobs, A (1/h) with 5 kW, B (2/h): the LP moves a quarter job per kW (10 per
    kW), but whole jobs move only with 3 kW more: the exact change of a 3 kW step is -40
    (120 -> 80), of a 1 kW step 0."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}, grid_kw=5.0), b.site("B", {"gpu": (100, 2.0)})],
        training=[b.job("j1", {"gpu": 4}), b.job("j2", {"gpu": 4})],
        horizon_hours=HOURS,
    )
    plan = solved(instance)
    assert plan.objective == pytest.approx(120.0)
    estimates, lp = lp_estimates(instance)
    assert lp == pytest.approx(110.0)
    assert estimates[Limit("grid_power", ("A",))] == pytest.approx(10.0)
    three = sensitivity(instance, plan, steps=Steps(kw=3.0), time_limit_s=TIME_LIMIT_S, workers=1)
    grid = value_of(three, Limit("grid_power", ("A",)))
    assert not grid.binding  # 4 of 5 kW: the slack is too small for a second job
    assert grid.exact is not None and grid.exact.objective == pytest.approx(80.0)
    one = sensitivity(instance, plan, steps=Steps(kw=1.0), time_limit_s=TIME_LIMIT_S, workers=1)
    assert value_of(one, Limit("grid_power", ("A",))).exact.change == pytest.approx(0.0)  # type: ignore[union-attr]


def test_slack_limits_are_worth_nothing_and_not_resolved() -> None:
    """Limits with room to spare have estimate 0, do not bind, and are not re-solved."""
    instance = cheap_and_dear(count=4)
    result = sensitivity(instance, solved(instance), top=5, time_limit_s=TIME_LIMIT_S, workers=1)
    for limit in (Limit("grid_power", ("B",)), Limit("inventory", ("B", "gpu"))):
        value = value_of(result, limit)
        assert value.estimate == 0.0 and not value.binding and value.exact is None
    assert "B gpu stock" not in result.summary()
    assert "B gpu stock" in result.summary(all_rows=True)


def test_solution_without_plan_is_refused() -> None:
    """A solution with no plan has nothing to value."""
    instance = cheap_and_dear(count=4)
    empty = solved(instance).model_copy(update={"status": "unknown", "objective": None})
    with pytest.raises(ValueError, match="no plan"):
        sensitivity(instance, empty)


def test_cli_sensitivity_table_and_json(tmp_path: Path) -> None:
    """`infraplan sensitivity` prints the valued limits with their exact change, or JSON."""
    instance = cheap_and_dear(count=4)
    instance_path = tmp_path / "tiny.json"
    instance_path.write_bytes(instance.canonical_json())
    solution_path = tmp_path / "tiny.solution.json"
    save_solution(solved(load_instance(instance_path)), solution_path)
    args = ["sensitivity", str(instance_path), str(solution_path), "--step-accelerators", "1"]
    result = runner.invoke(app, [*args, "--time-limit", "10", "--workers", "1"])
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("A gpu stock")]
    assert row.split()[-5:] == ["yes", "20", "1", "-20.00", "20"]
    result = runner.invoke(app, [*args, "--json", "--top", "0"])
    assert result.exit_code == 0, result.output
    limits = orjson.loads(result.stdout)["limits"]
    assert limits[0]["key"] == ["A", "gpu"] and limits[0]["exact"] is None


def test_cli_sensitivity_without_plan_is_one_line(tmp_path: Path) -> None:
    """A solution file without a plan gives one line naming it, exit 1."""
    instance = cheap_and_dear(count=4)
    instance_path = tmp_path / "tiny.json"
    instance_path.write_bytes(instance.canonical_json())
    solution_path = tmp_path / "none.solution.json"
    empty = solved(instance).model_copy(update={"status": "unknown", "objective": None})
    save_solution(empty, solution_path)
    result = runner.invoke(app, ["sensitivity", str(instance_path), str(solution_path)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line == f"error: {solution_path}: the solution has no plan (status unknown)"


def test_plan_not_proved_optimal_is_improved_first() -> None:
    """A feasible but dear plan (every replica at B) is re-solved from itself first; the
    changes are then measured from the optimum, and a note says so."""
    instance = cheap_and_dear(count=4)
    only_b = apply_edits(instance, [SetValue("sites[A].inventory[gpu].count", 0)])
    dear = solved(only_b).model_copy(update={"status": "feasible"})
    assert dear.objective == pytest.approx(10 * 3.0 * HOURS)
    result = sensitivity(
        instance, dear, steps=Steps(accelerators=1), time_limit_s=TIME_LIMIT_S, workers=1
    )
    assert result.status == "optimal"
    assert result.objective == pytest.approx(4 * 1.0 * HOURS + 6 * 3.0 * HOURS)
    assert result.notes and "was improved to 220.00" in result.notes[0]
    stock = value_of(result, Limit("inventory", ("A", "gpu")))
    assert stock.exact is not None and stock.exact.change == pytest.approx(-20.0)
