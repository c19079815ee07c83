"""Every training job re-placed at once around a plan's inference
(solver.heuristics.training_block, solver.search.strategies.training_block_search)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import Instance, SolverInfo
from solver import SolveOptions
from solver.cpsat.model import build_model, extract_plan, plan_values
from solver.heuristics.greedy import Guide, greedy
from solver.heuristics.training_block import lp_jobs_left_out, training_block_model
from solver.search import strategies
from tests import builders as b
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from solver.plan import Plan


def required_job_in_the_optional_ones_place() -> Instance:
    """A required job R (8 gpus for 10 h) may run at A (1 per gpu-hour) or B (2); an
    optional job O (8 gpus for 10 h, 1,000 if left out) only at A (tagged eu); a service
    (1 replica of 1 gpu) only at B, which has 9 gpus.

    The greedy planner places R first, at A (80 against 160), and leaves O out: 80 + 1,000
    + 20 = 1,100. The optimum moves R to B and places O at A: 160 + 80 + 20 = 260."""
    return b.instance(
        sites=[
            b.site("A", {"gpu": (8, 1.0)}, tags=["eu"]),
            b.site("B", {"gpu": (9, 2.0)}),
        ],
        regions=["u"],
        links=[b.link("u", "B")],
        training=[
            b.job("R", {"gpu": 8}),
            b.job("O", {"gpu": 8}, required=False, unplaced_cost=1000.0, requires_tags=["eu"]),
        ],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 5})],
    )


def greedy_plan(instance: Instance) -> Plan:
    start = greedy(instance)
    assert start.status == "feasible"
    plan = strategies.greedy_plan(start)
    assert plan is not None
    return plan


def test_the_greedy_plan_leaves_the_optional_job_out() -> None:
    """The case the block is for (the greedy planner's order; worked by hand)."""
    instance = required_job_in_the_optional_ones_place()
    plan = greedy_plan(instance)
    assert plan.unplaced_training == ["O"]
    assert abs(plan.objective - 1100.0) < 1e-6


def test_the_block_fixes_replica_counts_and_frees_placements() -> None:
    """In the copy every replica count is fixed at the plan's value; placements keep their
    domains; the original model is untouched."""
    instance = required_job_in_the_optional_ones_place()
    built = build_model(instance)
    held = plan_values(built, greedy_plan(instance))
    block = training_block_model(built, held)
    assert block is not None
    for var in built.variables.replicas.values():
        value = held.get(var.index, 0)
        assert list(block.model.proto.variables[var.index].domain) == [value, value]
        assert list(built.model.proto.variables[var.index].domain) != [value, value]
    for var in built.variables.placement.values():
        before = list(built.model.proto.variables[var.index].domain)
        assert list(block.model.proto.variables[var.index].domain) == before


def test_the_blocks_optimum_moves_both_jobs() -> None:
    """CP-SAT proves the copy's optimum: R at B, O at A, 260 (by hand); the evaluator
    accepts it."""
    instance = required_job_in_the_optional_ones_place()
    built = build_model(instance)
    start = greedy_plan(instance)
    block = training_block_model(built, plan_values(built, start))
    assert block is not None
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(block.model) == cp_model.OPTIMAL
    plan = extract_plan(built, [float(v) for v in solver.response_proto.solution])
    assert {(p.job, p.site) for p in plan.training} == {("R", "B"), ("O", "A")}
    assert abs(plan.objective - 260.0) < 1e-6
    info = SolverInfo(name="test", version="0", seed=0, time_limit_s=0, wall_s=0)
    assert_valid_plan(instance, plan.solution(instance, "feasible", None, info))


def test_the_block_search_returns_the_better_plan() -> None:
    """`training_block_search` from the greedy plan returns the 260 plan."""
    instance = required_job_in_the_optional_ones_place()
    built = build_model(instance)
    start = greedy_plan(instance)
    found = strategies.training_block_search(
        built, start, float("inf"), 1, 0, SolveOptions(), None, share=1.0
    )
    assert found is not None
    assert abs(found.objective - 260.0) < 1e-6
    assert found.unplaced_training == []


def test_no_block_without_training_jobs() -> None:
    """A model without training jobs has no block."""
    instance = b.instance(
        sites=[b.site("B", {"gpu": (9, 2.0)})],
        regions=["u"],
        links=[b.link("u", "B")],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 5})],
    )
    built = build_model(instance)
    assert training_block_model(built, plan_values(built, greedy_plan(instance))) is None


def test_the_block_runs_only_where_the_plan_leaves_out_a_job_the_lp_places() -> None:
    """`lp_jobs_left_out`: the greedy plan leaves O out; an LP that places half of O or
    more calls for the block, one that places less does not, nor does any LP for a plan
    that leaves nothing out."""
    instance = required_job_in_the_optional_ones_place()
    plan = greedy_plan(instance)
    (at_a,) = instance.eligibility.training["O"]
    assert lp_jobs_left_out(plan, Guide(placements={at_a: 1.0}))
    assert lp_jobs_left_out(plan, Guide(placements={at_a: 0.5}))
    assert not lp_jobs_left_out(plan, Guide(placements={at_a: 0.3}))
    assert not lp_jobs_left_out(plan, Guide())
    placed_everything = replace(plan, unplaced_training=[])
    assert not lp_jobs_left_out(placed_everything, Guide(placements={at_a: 1.0}))
