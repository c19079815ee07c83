"""Tests of the harness's scheduled MIP peer (`benchmarks.harness.scheduled_mip`, SPEC §9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.harness.compact_mip import solve_compact
from benchmarks.harness.methods import MethodSettings, run_method
from benchmarks.harness.scheduled_mip import NotSupportedError, build_scheduled, scheduled_highs
from benchmarks.harness.scheduled_starts import StartGrid, job_windows, start_grid
from models import Instance, Solution, load_instance
from tests.builders import instance, job, link, service, site
from tests.checks import assert_valid_plan
from tests.test_scheduled_expansion import one_gpu_step

EXAMPLE_V2 = Path(__file__).resolve().parent.parent / "instances" / "v2" / "example-v2.json"


def scheduled(periods: dict[str, int], training: list[dict[str, Any]], **parts: Any) -> Instance:
    """A v2 instance with these periods (id: hours) and training jobs."""
    return instance(
        schema="infraplan/v2",
        periods=[{"id": p, "hours": h} for p, h in periods.items()],
        horizon_hours=float(sum(periods.values())),
        training=training,
        **parts,
    )


def grid_grows() -> Instance:
    """A job needing 100 kW at a site whose grid is 50 kW in q1 and 200 kW in q2: it starts
    when q2 does (hour 10), ends at 15, 3 h after its due hour (3 x 10): 500 + 30."""
    return scheduled(
        {"q1": 10, "q2": 10},
        [job("big", {"gpu": 100}, 5, due_hour=12, late_cost_per_hour=10)],
        sites=[
            site("dc", {"gpu": (100, 1.0)}, grid_kw=50, timeline=[{"period": "q2", "grid_kw": 200}])
        ],
    )


def chain(*, last_required: bool = True) -> Instance:
    """a -> b -> c, 4 h each on 2 of 10 gpus at 1.0, a due at 4 and b at 8: c runs [8, 12),
    2 h past its due hour 10 (2 x 100). Optional and unplaced at 150, c is left out
    (8 + 200 > 150)."""
    last: dict[str, Any] = {"after": ["b"], "due_hour": 10, "late_cost_per_hour": 100}
    if not last_required:
        last |= {"required": False, "unplaced_cost": 150}
    return scheduled(
        {"all-day": 20},
        [
            job("a", {"gpu": 2}, 4, due_hour=4, late_cost_per_hour=1),
            job("b", {"gpu": 2}, 4, after=["a"], due_hour=8, late_cost_per_hour=1),
            job("c", {"gpu": 2}, 4, **last),
        ],
        sites=[site("dc", {"gpu": (10, 1.0)})],
    )


def deadline(long_deadline: int = 20) -> Instance:
    """Two jobs that each take all 10 gpus: `short` (5 h) must run inside [2, 8), so `long`
    (6 h, due at 13) runs after it, from 7 when `short` starts at 2: 60 + 50. With
    `long_deadline` 12 there is no plan."""
    return scheduled(
        {"p": 20},
        [
            job(
                "long",
                {"gpu": 10},
                6,
                deadline_hour=long_deadline,
                due_hour=13,
                late_cost_per_hour=50,
            ),
            job("short", {"gpu": 10}, 5, release_hour=2, deadline_hour=8),
        ],
        sites=[site("dc", {"gpu": (10, 1.0)})],
    )


def remote_reads() -> Instance:
    """Two 5 h jobs stream 8 Gbps each from `store` over a 10 Gbps link: they cannot overlap,
    so `waits` waits until `urgent` ends at 5 (`urgent` pays 100 per hour past its due hour 5 if
    it waits; `waits` pays 1 per hour past 10)."""
    dataset = {"at": "store", "size_gb": 0, "read_gbps": 8}
    return scheduled(
        {"p": 20},
        [
            job("waits", {"gpu": 1}, 5, dataset=dataset, due_hour=10, late_cost_per_hour=1),
            job("urgent", {"gpu": 1}, 5, dataset=dataset, due_hour=5, late_cost_per_hour=100),
        ],
        sites=[site("dc", {"gpu": (10, 1.0)})],
        transit=["store"],
        links=[link("store", "dc", bandwidth_gbps=10)],
    )


def starts(solution: Solution) -> dict[str, int | None]:
    """Each placed job's start hour."""
    return {t.job: t.start_hour for t in solution.training}


def test_the_worked_example_comes_out_at_the_spec_optimum() -> None:
    example = load_instance(EXAMPLE_V2)
    answer = scheduled_highs(example, time_limit_s=10)
    solution = answer.solution
    assert solution.schema_ == "infraplan-solution/v2"
    assert solution.status == "feasible" and solution.bound is None
    assert solution.objective == pytest.approx(40_056.00, abs=1e-6)
    assert starts(solution) == {"finetune": 100, "pretrain": 0}
    replicas = [(r.period, r.replicas) for r in solution.inference]
    assert replicas == [("q1", 2), ("q2", 4)]
    assert solution.costs.replica_starts == pytest.approx(200.0)
    assert solution.costs.total == pytest.approx(solution.objective)
    # The grid is the exact closure, so HiGHS's bound is shown (as HiGHS's).
    assert answer.highs_bound == pytest.approx(40_056.00, rel=1e-6)


@pytest.mark.parametrize(
    ("make", "objective", "expected_starts"),
    [
        (grid_grows, 530.0, {"big": 10}),
        (chain, 224.0, {"a": 0, "b": 4, "c": 8}),
        (lambda: chain(last_required=False), 166.0, {"a": 0, "b": 4}),
        (deadline, 110.0, {"long": 7, "short": 2}),
        (remote_reads, 10.0, {"urgent": 0, "waits": 5}),
    ],
    ids=["grid-grows", "after-chain", "after-optional", "deadline", "remote-reads"],
)
def test_hand_checked_instances(
    make: Any, objective: float, expected_starts: dict[str, int]
) -> None:
    problem = make()
    solution = scheduled_highs(problem, time_limit_s=10).solution
    assert solution.objective == pytest.approx(objective, abs=1e-6)
    assert starts(solution) == expected_starts
    assert solution.costs.total == pytest.approx(objective, abs=1e-6)


@pytest.mark.parametrize("make", [grid_grows, chain, deadline, remote_reads])
def test_the_closure_grid_loses_nothing_against_every_hour(make: Any) -> None:
    """The left-shift closure (exact by its argument) finds the optimum of a grid holding
    every integer hour of each job's window."""
    problem = make()
    earliest, latest = job_windows(problem)
    every_hour = StartGrid(
        {j: list(range(earliest[j], latest[j] + 1)) for j in earliest}, True, earliest, latest
    )
    closure = start_grid(problem)
    assert closure.exact
    assert all(set(closure.starts[j]) <= set(every_hour.starts[j]) for j in earliest)
    by_closure = scheduled_highs(problem, time_limit_s=10).solution
    model = build_scheduled(problem, grid=every_hour)
    assert len(model.steps[0]) >= len(build_scheduled(problem).steps[0])
    result = solve_compact(model, time_limit_s=10)
    assert result.status == "optimal" and result.objective is not None
    assert by_closure.objective == pytest.approx(result.objective, abs=1e-6)


def test_a_window_too_short_for_both_jobs_is_infeasible() -> None:
    answer = scheduled_highs(deadline(long_deadline=12), time_limit_s=10)
    assert answer.solution.status == "infeasible"
    assert not answer.solution.has_plan


def test_a_restricted_grid_keeps_spec_plans_and_drops_highs_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.harness import scheduled_mip

    problem = load_instance(EXAMPLE_V2)
    restricted = start_grid(problem, max_points=1)
    assert not restricted.exact
    monkeypatch.setattr(scheduled_mip, "start_grid", lambda _: restricted)
    answer = scheduled_highs(problem, time_limit_s=10)
    assert answer.solution.has_plan
    assert answer.highs_bound is None
    info = answer.solution.solver.model_dump()
    assert info["start_grid"] == "restricted"
    assert info["restricted_model_bound"] is not None
    assert_valid_plan(problem, answer.solution)


def test_unsupported_fields_are_refused_by_name() -> None:
    problem = scheduled(
        {"p": 10},
        [job("a", {"gpu": 1}, 2)],
        sites=[site("dc", {"gpu": (2, 1.0)})],
        moves={"max_training_moves": 1},
    )
    with pytest.raises(NotSupportedError, match="moves"):
        build_scheduled(problem)


@pytest.mark.parametrize(
    ("period", "cost", "limit", "optimum", "built"),
    [
        ("p1", 30.0, None, 50.0, True),
        ("p2", 30.0, None, 90.0, True),
        ("p1", 200.0, None, 100.0, False),
        ("p1", 30.0, 0, 100.0, False),
    ],
)
def test_the_peer_builds_an_expansion_when_it_pays(
    period: str, cost: float, limit: int | None, optimum: float, built: bool
) -> None:
    """`one_gpu_step` (tests/test_scheduled_expansion.py): from p1 at 30 the step serves
    both periods (30 + 2 x 10 = 50 against 2 x 50 at B); from p2 only the second (50 + 30 +
    10 = 90); at 200 it does not pay (100); a supply limit of 0 GPUs forbids it (100)."""
    problem = one_gpu_step(period, cost)
    if limit is not None:
        data = problem.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["supply_limits"] = [{"accelerator": "gpu", "max_count": limit}]
        problem = Instance.model_validate(data)
    answer = scheduled_highs(problem, time_limit_s=30.0)
    solution = answer.solution
    assert solution.objective == pytest.approx(optimum, rel=1e-9)
    chosen = [(x.site, x.expansion) for x in solution.expansions or []]
    assert chosen == ([("A", "A-gpu")] if built else [])
    assert answer.highs_bound == pytest.approx(optimum, rel=1e-6)
    assert_valid_plan(problem, solution)


def test_mip_highs_runs_the_scheduled_peer_on_scheduled_instances() -> None:
    outcome = run_method("mip-highs", chain(), MethodSettings(time_limit_s=10, workers=1))
    assert outcome.solution is not None
    assert outcome.solution.solver.name == "highs-scheduled-mip"
    assert outcome.bound is None
    assert outcome.solver_bound == pytest.approx(224.0, rel=1e-6)


def test_plans_are_sorted_by_id_then_period() -> None:
    problem = load_instance(EXAMPLE_V2)
    solution = scheduled_highs(problem, time_limit_s=10).solution
    order = [p.id for p in problem.periods or []]
    keys = [
        (r.service, r.site, r.accelerator, order.index(r.period or "")) for r in solution.inference
    ]
    assert keys == sorted(keys)
    routes = [(r.service, r.region, r.site, order.index(r.period or "")) for r in solution.routes]
    assert routes == sorted(routes)


@pytest.mark.parametrize(
    "make", [grid_grows, chain, deadline, remote_reads, lambda: load_instance(EXAMPLE_V2)]
)
def test_the_peer_plans_pass_the_evaluator(make: Any) -> None:
    problem = make()
    assert_valid_plan(problem, scheduled_highs(problem, time_limit_s=10).solution)


def test_a_service_gets_replicas_per_period() -> None:
    problem = scheduled(
        {"q1": 10, "q2": 10},
        [],
        sites=[site("dc", {"gpu": (10, 1.0)})],
        regions=["city"],
        links=[link("city", "dc")],
        inference=[service("chat", {"gpu": (1, 10.0)}, {"city": 25}, demand_by_period={"q2": {}})],
    )
    solution = scheduled_highs(problem, time_limit_s=10).solution
    assert [(r.period, r.replicas) for r in solution.inference] == [("q1", 3)]
    assert solution.objective == pytest.approx(30.0)


@pytest.mark.parametrize("seed", range(40))
def test_the_peer_matches_the_exhaustive_oracle(seed: int) -> None:
    """On the scheduled solver's 40 seeded tiny cases (tests/test_scheduled_oracle.py: every
    placement, start hour and replica count enumerated), the peer's grid is the exact closure
    and its plan costs the oracle's optimum, or it finds the case infeasible."""
    from tests.test_scheduled_oracle import build as build_case
    from tests.test_scheduled_oracle import draw, oracle

    case = draw(seed)
    problem = build_case(case)
    expected = oracle(case)
    answer = scheduled_highs(problem, time_limit_s=10)
    assert start_grid(problem).exact
    if expected is None:
        assert answer.solution.status == "infeasible"
        return
    assert answer.solution.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert_valid_plan(problem, answer.solution)
