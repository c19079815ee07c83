"""Diagnosis tests: one hand-built infeasible instance per kind of limit, each named with a
relaxation that a real solve confirms; conflicts are minimal; cheap checks speak first.

Minimality is checked independently of the diagnosis model: with every other limit lifted
by instance edits, the conflict's limits leave no plan, and dropping any one leaves one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
from typer.testing import CliRunner

from solver import explain, solve
from solver.cli import app
from solver.diagnosis.limits import Limit
from solver.diagnosis.relax import relaxing_edit
from solver.whatif import apply_edits
from tests import builders as b
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance
    from solver.diagnosis.relax import Relaxation
    from solver.explain import Conflict, Diagnosis

TIME_LIMIT_S = 10.0
runner = CliRunner()


def diagnosed(instance: Instance) -> Diagnosis:
    """Explain a tiny instance with short limits."""
    return explain(instance, time_limit_s=60.0, check_time_s=10.0, verify_time_s=TIME_LIMIT_S)


def only_conflict(diagnosis: Diagnosis) -> Conflict:
    """The single conflict of a diagnosis that found exactly one."""
    assert diagnosis.status == "infeasible", diagnosis.summary()
    assert diagnosis.complete
    assert len(diagnosis.conflicts) == 1, diagnosis.summary()
    return diagnosis.conflicts[0]


def relaxation_of(conflict: Conflict, limit: Limit, text: str = "") -> Relaxation:
    """The conflict's relaxation of `limit` (whose text contains `text`)."""
    found = [r for r in conflict.relaxations if r.limit == limit and text in r.text]
    assert found, f"no relaxation of {limit} in:\n" + "\n".join(conflict.lines(1))
    return found[0]


def assert_restores_plan(instance: Instance, relaxation: Relaxation) -> None:
    """Applying the relaxation's edit gives an instance with a plan the evaluator accepts."""
    assert relaxation.verified is True, str(relaxation)
    edited = apply_edits(instance, [relaxation.edit])
    solution = solve(edited, time_limit_s=TIME_LIMIT_S, workers=1)
    assert solution.has_plan, solution.summary()
    assert_valid_plan(edited, solution)


def all_limits(instance: Instance) -> set[Limit]:
    """Every limit the diagnosis guards, read off its model."""
    from solver.diagnosis.guarded import build_guarded

    return set(build_guarded(instance).literals)


def has_plan_with_only(instance: Instance, kept: set[Limit]) -> bool:
    """Whether a real solve finds a plan once every limit outside `kept` is lifted."""
    lifted = [relaxing_edit(limit) for limit in sorted(all_limits(instance) - kept)]
    solution = solve(apply_edits(instance, lifted), time_limit_s=TIME_LIMIT_S, workers=1)
    assert solution.status in ("optimal", "feasible", "infeasible"), solution.summary()
    return solution.has_plan


def assert_minimal(instance: Instance, conflict: Conflict) -> None:
    """The conflict's limits alone leave no plan; without any one of them there is one."""
    members = set(conflict.limits)
    assert conflict.minimal
    assert not has_plan_with_only(instance, members)
    for member in members:
        assert has_plan_with_only(instance, members - {member}), f"{member} is not needed"


def three_jobs(**site_extra: object) -> Instance:
    """Three 4-accelerator jobs (12 kW) and one site A with `site_extra` limits."""
    extra = {"grid_kw": 1e6, **site_extra}
    return b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)}, **extra)],
        training=[b.job("j1", {"gpu": 4}), b.job("j2", {"gpu": 4}), b.job("j3", {"gpu": 4})],
    )


def test_grid_power_named_and_raised() -> None:
    """10 kW of grid for 12 kW of jobs: A's grid power is named; +2 kW restores a plan."""
    instance = three_jobs(grid_kw=10.0)
    conflict = only_conflict(diagnosed(instance))
    limit = Limit("grid_power", ("A",))
    assert limit in conflict.limits
    relaxation = relaxation_of(conflict, limit)
    assert relaxation.amount == pytest.approx(2.0)
    assert relaxation.smallest
    assert "raise A grid_kw by 2 kW (to 12 kW)" in relaxation.text
    assert_restores_plan(instance, relaxation)
    assert_minimal(instance, conflict)


def test_grid_power_counts_pue() -> None:
    """With PUE 1.5, 12 kW of IT needs 18 kW of grid: the raise is 18 - 15 = 3 kW."""
    instance = three_jobs(grid_kw=15.0, pue=1.5)
    conflict = only_conflict(diagnosed(instance))
    relaxation = relaxation_of(conflict, Limit("grid_power", ("A",)))
    assert relaxation.amount == pytest.approx(3.0)
    assert_restores_plan(instance, relaxation)


def test_cooling_named_and_raised() -> None:
    """7 kW of air cooling for 12 kW of heat: cooling is named; +5 kW restores a plan."""
    instance = three_jobs(cooling_kw={"air": 7.0})
    conflict = only_conflict(diagnosed(instance))
    limit = Limit("cooling", ("A", "air"))
    assert limit in conflict.limits
    relaxation = relaxation_of(conflict, limit)
    assert relaxation.amount == pytest.approx(5.0)
    assert_restores_plan(instance, relaxation)
    assert_minimal(instance, conflict)


def test_inventory_named_and_raised() -> None:
    """10 accelerators for three 4-accelerator jobs: 2 more restore a plan."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (10, 1.0)})],
        training=[b.job("j1", {"gpu": 4}), b.job("j2", {"gpu": 4}), b.job("j3", {"gpu": 4})],
    )
    conflict = only_conflict(diagnosed(instance))
    limit = Limit("inventory", ("A", "gpu"))
    relaxation = relaxation_of(conflict, limit)
    assert relaxation.amount == 2
    assert "add 2 gpu at A (to 12)" in relaxation.text
    assert_restores_plan(instance, relaxation)
    # Dropping any one job also works, and each is named as a member.
    for job_id in ("j1", "j2", "j3"):
        assert_restores_plan(instance, relaxation_of(conflict, Limit("job", (job_id,))))
    assert_minimal(instance, conflict)


def test_bandwidth_named_and_raised() -> None:
    """2,000 rps of 125 KB each need 2 Gbps on a 1.5 Gbps access link: +0.5 Gbps."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (1000, 1.0)})],
        regions=["u"],
        links=[b.link("u", "A", 5.0, bandwidth_gbps=1.5)],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 2000}, request_kb=25, response_kb=100)],
    )
    conflict = only_conflict(diagnosed(instance))
    limit = Limit("bandwidth", ("u", "A"))
    assert set(conflict.limits) == {limit, Limit("demand", ("s", "u"))}
    relaxation = relaxation_of(conflict, limit)
    assert relaxation.amount == pytest.approx(0.5)
    assert_restores_plan(instance, relaxation)
    cut = relaxation_of(conflict, Limit("demand", ("s", "u")), "cut")
    assert cut.amount == pytest.approx(500.0)  # 1.5 Gbps carry 1,500 rps
    assert_restores_plan(instance, cut)
    assert_minimal(instance, conflict)


def demand_within_slo() -> Instance:
    """Region u reaches A (10 gpu, 100 rps) at 10 ms and B (plenty) at 60 ms; SLO 20 ms."""
    return b.instance(
        sites=[b.site("A", {"gpu": (10, 1.0)}), b.site("B", {"gpu": (100, 1.0)})],
        regions=["u"],
        links=[b.link("u", "A", 10.0), b.link("u", "B", 60.0)],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 150}, slo_ms=20.0)],
    )


def test_demand_named_with_cut_stock_and_slo() -> None:
    """150 rps within 20 ms where only A (100 rps) is: the demand and A's stock conflict;
    cutting 50 rps, adding 5 gpu at A, or serving at 60 ms each restore a plan."""
    instance = demand_within_slo()
    conflict = only_conflict(diagnosed(instance))
    demand = Limit("demand", ("s", "u"))
    stock = Limit("inventory", ("A", "gpu"))
    assert set(conflict.limits) == {demand, stock}
    assert any("sites within 20 ms: A (10 ms)" in text for text in conflict.descriptions)
    served = "under these limits at most 100 of the 150 rps of s in u can be served"
    assert conflict.notes == (served,)
    cut = relaxation_of(conflict, demand, "cut")
    assert cut.amount == pytest.approx(50.0)
    slo = relaxation_of(conflict, demand, "serve s at")
    assert slo.amount == pytest.approx(40.0)
    assert "serve s at 60 ms" in slo.text
    more = relaxation_of(conflict, stock)
    assert more.amount == 5
    for relaxation in (cut, slo, more):
        assert_restores_plan(instance, relaxation)
    assert_minimal(instance, conflict)


def test_slo_search_finds_the_smallest_latency() -> None:
    """With sites at 10, 30, 45 and 60 ms and capacity only at 45 ms and beyond, the SLO
    relaxation is 45 ms, not the farthest site."""
    instance = b.instance(
        sites=[
            b.site("A", {"gpu": (5, 1.0)}),
            b.site("B", {"gpu": (5, 1.0)}),
            b.site("C", {"gpu": (100, 1.0)}),
            b.site("D", {"gpu": (100, 1.0)}),
        ],
        regions=["u"],
        links=[
            b.link("u", "A", 10.0),
            b.link("u", "B", 30.0),
            b.link("u", "C", 45.0),
            b.link("u", "D", 60.0),
        ],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 150}, slo_ms=20.0)],
    )
    conflict = only_conflict(diagnosed(instance))
    slo = relaxation_of(conflict, Limit("demand", ("s", "u")), "serve s at")
    assert slo.amount == pytest.approx(25.0)
    assert slo.smallest
    assert_restores_plan(instance, slo)


def test_resilience_named_and_dropped() -> None:
    """n+1 with the only other failure domain holding 2 replicas (20 rps) of 50 rps:
    the n+1 rule is named; dropping it, or 3 more gpu in domain d2, restores a plan."""
    instance = b.instance(
        sites=[
            b.site("A", {"gpu": (100, 1.0)}, failure_domain="d1"),
            b.site("B", {"gpu": (2, 1.0)}, failure_domain="d2"),
        ],
        regions=["u"],
        links=[b.link("u", "A"), b.link("u", "B")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 50}, resilience="n+1")],
    )
    conflict = only_conflict(diagnosed(instance))
    rule = Limit("resilience", ("s",))
    assert rule in conflict.limits
    dropped = relaxation_of(conflict, rule)
    assert "drop the n+1 rule of s" in dropped.text
    assert_restores_plan(instance, dropped)
    more = relaxation_of(conflict, Limit("inventory", ("B", "gpu")))
    assert more.amount == 3
    assert_restores_plan(instance, more)
    assert_minimal(instance, conflict)


def test_required_job_with_no_eligible_site_is_a_check() -> None:
    """A job needing tag "eu" that no site has: a check names it before any search, and
    dropping it restores a plan."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)})],
        training=[b.job("j1", {"gpu": 4}), b.job("euro", {"gpu": 4}, requires_tags=["eu"])],
    )
    diagnosis = diagnosed(instance)
    conflict = only_conflict(diagnosis)
    assert conflict.found_by == "check"
    assert conflict.limits == (Limit("job", ("euro",)),)
    assert "euro is required but may run nowhere (A: lacks tag eu)" in conflict.message
    assert_restores_plan(instance, relaxation_of(conflict, Limit("job", ("euro",))))


def test_job_too_big_for_every_site_names_each_stock() -> None:
    """An 8-gpu job where A has 6 and B has 5: the check says so with figures, and the
    search names the job and both stocks (a minimal conflict); adding 2 at A restores a
    plan, adding 3 at B too."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (6, 1.0)}), b.site("B", {"gpu": (5, 1.0)})],
        training=[b.job("big", {"gpu": 8})],
    )
    diagnosis = diagnosed(instance)
    assert [f.message for f in diagnosis.findings] == [
        "big is required but fits no site on its own (A: 6 of 8 gpu, B: 5 of 8 gpu)"
    ]
    conflict = only_conflict(diagnosis)
    assert set(conflict.limits) == {
        Limit("job", ("big",)),
        Limit("inventory", ("A", "gpu")),
        Limit("inventory", ("B", "gpu")),
    }
    assert relaxation_of(conflict, Limit("inventory", ("A", "gpu"))).amount == 2
    assert relaxation_of(conflict, Limit("inventory", ("B", "gpu"))).amount == 3
    for relaxation in conflict.relaxations:
        assert_restores_plan(instance, relaxation)
    assert_minimal(instance, conflict)


def test_unreachable_demand_is_a_check_with_slo_relaxation() -> None:
    """Region v reaches the only site at 30 ms with a 20 ms SLO: a check says so and names
    the nearest site; serving at 30 ms restores a plan."""
    instance = b.instance(
        sites=[b.site("A", {"gpu": (100, 1.0)})],
        regions=["v"],
        links=[b.link("v", "A", 30.0)],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"v": 20}, slo_ms=20.0)],
    )
    conflict = only_conflict(diagnosed(instance))
    assert conflict.found_by == "check"
    assert "the nearest site that may host it is A at 30 ms" in conflict.message
    slo = relaxation_of(conflict, Limit("demand", ("s", "v")), "serve s at 30 ms")
    assert_restores_plan(instance, slo)


def test_independent_conflicts_are_each_named() -> None:
    """A grid shortfall at A and a capacity shortfall for s at B are two conflicts;
    single changes then restore a plan only once the other conflict is resolved."""
    instance = b.instance(
        sites=[
            b.site("A", {"gpu": (100, 1.0)}, grid_kw=6.0),
            b.site("B", {"gpu": (3, 1.0)}),
        ],
        regions=["u"],
        links=[b.link("u", "B")],
        training=[
            b.job("j1", {"gpu": 4}, allowed_sites=["A"]),
            b.job("j2", {"gpu": 4}, allowed_sites=["A"]),
        ],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 40})],
    )
    diagnosis = diagnosed(instance)
    assert diagnosis.status == "infeasible" and diagnosis.complete
    found = sorted(set(conflict.limits) for conflict in diagnosis.conflicts)
    assert {Limit("grid_power", ("A",)), Limit("job", ("j1",)), Limit("job", ("j2",))} in found
    assert {Limit("demand", ("s", "u")), Limit("inventory", ("B", "gpu"))} in found
    assert all(not conflict.alone for conflict in diagnosis.conflicts)
    assert "2 conflicts" in diagnosis.summary()


def test_feasible_instance_says_so() -> None:
    """An instance with a plan gets status feasible and no conflicts."""
    instance = three_jobs()
    diagnosis = diagnosed(instance)
    assert diagnosis.status == "feasible"
    assert diagnosis.conflicts == ()
    assert "has a plan" in diagnosis.summary()


def test_diagnosis_as_json_lists_edits() -> None:
    """The JSON form carries each limit and each relaxation with its what-if edit."""
    document = diagnosed(three_jobs(grid_kw=10.0)).to_dict()
    assert document["status"] == "infeasible"
    (conflict,) = document["conflicts"]
    assert {"family": "grid_power", "key": ["A"], "description": "A grid power 10 kW (PUE 1)"} in (
        conflict["limits"]
    )
    edits = [r["edit"] for r in conflict["relaxations"]]
    assert "--set sites[A].grid_kw=12.0" in edits
    assert "--drop-job j1" in edits


def test_cli_explain_prints_conflict_and_json(tmp_path: Path) -> None:
    """`infraplan explain` prints the conflict with its edits (exit 0), or JSON with --json."""
    path = tmp_path / "short.json"
    path.write_bytes(three_jobs(grid_kw=10.0).canonical_json())
    result = runner.invoke(app, ["explain", str(path), "--verify-time", "5"])
    assert result.exit_code == 0, result.output
    assert "no plan: 1 conflict" in result.stdout
    assert "raise A grid_kw by 2 kW (to 12 kW) [--set sites[A].grid_kw=12.0] (verified)" in (
        result.stdout
    )
    result = runner.invoke(app, ["explain", str(path), "--json", "--no-relaxations"])
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.stdout)
    assert document["status"] == "infeasible"
    assert document["conflicts"][0]["relaxations"] == []


def test_cli_explain_bad_file_is_one_line(tmp_path: Path) -> None:
    """A bad instance file gives one line naming the file and JSON path, exit 1."""
    path = tmp_path / "bad.json"
    document = orjson.loads(three_jobs().canonical_json())
    document["sites"][0]["grid_kw"] = "lots"
    path.write_bytes(orjson.dumps(document))
    result = runner.invoke(app, ["explain", str(path)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}: sites[0].grid_kw: ")
