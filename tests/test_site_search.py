"""solver.scheduled.site_search: site neighbourhoods around a re-plan's current plan, and
their use by a budgeted static re-plan (solver.static_replan).

The incident, priced by hand (10 hours, 1 kW per GPU, PUE 1): job j (2 GPUs, move cost 3)
and two replicas of s (1 GPU, 10 rps each; 20 rps from region r, must be served) run at
A (1.0 per GPU-hour), whose grid is cut to 2 kW. B (1.2) serves r as A does; C (1.5) is
too far from r for s's 50 ms SLO. Within 1 training move and 2 replica changes:

- j to B, s stays at A: 2 x 1.2 x 10 + 3 + 2 x 1.0 x 10 = 47 (the optimum);
- j to C, s stays: 30 + 3 + 20 = 53;
- j and one replica to B: 24 + 3 + 10 + 12 = 49;
- j stays, s to B (44, the cheapest plan without budgets) changes 4 replicas.
"""

from __future__ import annotations

import time

import pytest

from models import Instance, parse_instance
from solver import solve
from solver.replan import current_from_solution, replan, restated, with_current
from solver.scheduled import solve as scheduled_solve
from solver.scheduled.model import build_model, plan_values
from solver.scheduled.plan import ScheduledPlan
from solver.scheduled.site_search import (
    anchor_sites,
    fixed_outside,
    nearest_sites,
    site_search,
)
from solver.search.options import SolveOptions
from tests import builders as b
from tests.scheduled_cases import assert_checked, v2

BUDGETS = {"max_training_moves": 1, "max_replica_changes": 2}


def before_the_cut() -> Instance:
    """The instance before A's grid is cut: its optimum runs everything at A (40)."""
    return v2(
        None,
        sites=[
            b.site("A", {"gpu": (4, 1.0)}),
            b.site("B", {"gpu": (4, 1.2)}),
            b.site("C", {"gpu": (4, 1.5)}),
        ],
        regions=["r"],
        links=[b.link("r", "A", 5.0), b.link("r", "B", 5.0), b.link("r", "C", 100.0)],
        training=[b.job("j", {"gpu": 2}, move_cost=3.0)],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"r": 20.0}, slo_ms=50.0)],
    )


def cut(instance: Instance) -> Instance:
    document = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
    document["sites"][0]["grid_kw"] = 2.0
    return parse_instance(document)


def incident() -> tuple[Instance, ScheduledPlan, set[str]]:
    """The cut instance with `current` (everything at A) and the budgets; the current plan
    as a (broken) plan of it; the sites it breaks a limit at."""
    base = before_the_cut()
    current = solve(base, time_limit_s=10, workers=1)
    assert current.objective == pytest.approx(40.0)
    instance = with_current(cut(base), current_from_solution(cut(base), current).current, **BUDGETS)
    stated, checked = restated(instance, current)
    return instance, ScheduledPlan.projected(instance, stated), anchor_sites(instance, checked)


def test_the_anchor_is_the_cut_site_and_the_nearest_site_serves_the_same_users() -> None:
    instance, _, anchor = incident()
    assert anchor == {"A"}
    assert nearest_sites(instance, anchor) == ["B", "C"]


def test_the_site_search_sheds_the_cut_sites_load_within_the_budgets() -> None:
    instance, start, anchor = incident()
    found = site_search(
        instance,
        start,
        anchor,
        nearest_sites(instance, anchor),
        time.perf_counter() + 20.0,
        1,
        0,
        SolveOptions(),
        start_is_plan=False,
    )
    assert found is not None
    solution = found.solution(instance, "feasible", None, _info())
    assert_checked(instance, solution)
    assert solution.objective == pytest.approx(47.0)
    assert [(t.job, t.site) for t in solution.training] == [("j", "B")]
    assert [(g.site, g.replicas) for g in solution.inference if g.replicas] == [("A", 2)]


def test_a_neighbourhood_fixes_replicas_and_jobs_outside_its_sites() -> None:
    """Freeing C alone: the replicas at A and B, and j (at A), keep the current plan's
    values; freeing A: j and A's replicas are free, B's stay fixed."""
    instance, start, _ = incident()
    built = build_model(instance, widened=False)
    values = plan_values(built, start)

    def domain(model: object, index: int) -> list[int]:
        return list(model.proto.variables[index].domain)  # type: ignore[attr-defined]

    only_c = fixed_outside(built, values, {"C"})
    assert only_c is not None
    for option, var in built.variables.periods[0].replicas.items():
        if option.site != "C":
            value = values.get(var.index, 0)
            assert domain(only_c.model, var.index) == [value, value]
    for placement, var in built.variables.placement.items():
        value = values[var.index]
        assert domain(only_c.model, var.index) == [value, value], placement
    with_a = fixed_outside(built, values, {"A"})
    assert with_a is not None
    for placement, var in built.variables.placement.items():
        assert domain(with_a.model, var.index) == [0, 1], placement
    for option, var in built.variables.periods[0].replicas.items():
        fixed = domain(with_a.model, var.index)
        assert (len(fixed) == 2 and fixed[0] == fixed[1]) == (option.site != "A"), option


def test_a_budgeted_re_plan_after_the_cut_finds_the_optimum_within_the_budgets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through `replan`, down the static re-plan path (as instances over
    MAX_WHOLE_MODEL_DECISIONS go): 47, a bound at most 47, the budgets kept."""
    monkeypatch.setattr(scheduled_solve, "MAX_WHOLE_MODEL_DECISIONS", 0)
    base = before_the_cut()
    current = solve(base, time_limit_s=10, workers=1)
    result = replan(cut(base), current, **BUDGETS, time_limit_s=20.0, workers=1)
    solution = result.solution
    assert_checked(result.instance, solution)
    assert solution.objective == pytest.approx(47.0)
    assert solution.bound is not None and solution.bound <= 47.0 + 1e-9
    figures = result.evaluation().replan
    assert figures is not None
    assert len(figures.moves) <= 1
    assert figures.replica_changes <= 2


def _info():  # type: ignore[no-untyped-def]
    from models.solution import SolverInfo

    return SolverInfo(name="infraplan-cpsat", version="", seed=0, time_limit_s=0, wall_s=0)


def test_the_moves_neighbourhood_chooses_again_where_a_moved_job_goes() -> None:
    """From a plan with j moved to C (30 + 3 + 20 = 53), with only A free in the site
    neighbourhoods (no ranked sites) j stays at C; the moves neighbourhood frees j
    (moved from A) and takes it to B: 47, the budgets' optimum."""
    from models import ReplicaAssignment, RouteFlow, TrainingAssignment
    from solver.scheduled.check import accepted

    instance, _, anchor = incident()
    start = accepted(
        instance,
        ScheduledPlan.build(
            instance,
            [TrainingAssignment(job="j", site="C", accelerator="gpu", count=2)],
            [],
            [ReplicaAssignment(service="s", site="A", accelerator="gpu", replicas=2)],
            [RouteFlow(service="s", region="r", site="A", rps=20.0)],
            [],
            [],
        ),
    )
    assert start is not None
    assert start.objective == pytest.approx(53.0)
    found = site_search(
        instance,
        start,
        anchor,
        [],
        time.perf_counter() + 20.0,
        1,
        0,
        SolveOptions(),
        start_is_plan=True,
    )
    assert found is not None
    assert_checked(instance, found.solution(instance, "feasible", None, _info()))
    assert found.objective == pytest.approx(47.0)
    assert [(t.job, t.site) for t in found.training] == [("j", "B")]
