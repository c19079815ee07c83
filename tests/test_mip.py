"""The compact MIP as a member of `solve()`'s portfolio (solver.mip): its optimum on tiny
instances whose optimum is known by hand, its MIP start, the claims path a HiGHS plan goes
through before it counts, and the solve path with HiGHS beside CP-SAT. No wall-clock
asserts: every limit below is far above what its case needs."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest

import tests.builders as b
from models import Solution, SolverInfo, load_instance
from models.generator import generate
from models.importers.gap import import_gap
from solver.heuristics.greedy import greedy
from solver.mip.compact import build_compact
from solver.mip.highs import solve_compact
from solver.mip.plan import plan_solution, start_values
from solver.mip.portfolio import HighsRun, Support, restricted_columns
from solver.plan import Plan
from solver.search import runner
from solver.solve import SolveOptions, solve
from tests.checks import assert_valid_plan
from tests.test_cpsat_model import small_demands, small_resilient_demand

if TYPE_CHECKING:
    from models import Instance

#: The module, not the function `solver.solve` re-exports under the same name.
solve_module = importlib.import_module("solver.solve")

EXAMPLE = "instances/example.json"
#: The SPEC worked example's optimum (docs/spec.md §2).
EXAMPLE_OPTIMUM = 2_778_598.80
#: OR-Library's GAP files as copied with their provenance (tests/data/benchmarks).
GAP_ORLIB = Path(__file__).resolve().parent / "data" / "benchmarks" / "gap_orlib"
INFO = SolverInfo(name="test", version="0", seed=0, time_limit_s=0, wall_s=0)


def two_sites(grid_kw: float) -> Instance:
    """One region 1 ms from two sites: `cheap` (1 per accelerator-hour, `grid_kw` of grid)
    and `dear` (3 per hour, grid to spare); a service of 1-accelerator replicas at 1 rps
    each with 3 rps of demand that must be served; 10 hours, energy free. With 2 kW at
    `cheap`: 2 replicas there and 1 at `dear`, (2 x 1 + 1 x 3) x 10 = 50 by hand."""
    return b.instance(
        sites=[
            b.site("cheap", {"gpu": (10, 1.0)}, grid_kw=grid_kw),
            b.site("dear", {"gpu": (10, 3.0)}),
        ],
        regions=["r"],
        links=[b.link("r", "cheap", 1.0), b.link("r", "dear", 1.0)],
        inference=[b.service("svc", {"gpu": (1, 1.0)}, {"r": 3.0}, slo_ms=10.0)],
        horizon_hours=10.0,
    )


def by_hand(instance: Instance, cheap: int, dear: int) -> Solution:
    """A plan of `two_sites` with these replica counts, routed by hand, as HiGHS's plans
    come to `solve` (status `feasible`, unchecked)."""
    replicas = [("cheap", cheap), ("dear", dear)]
    document = {
        "instance": instance.name,
        "instance_sha256": instance.sha256,
        "status": "feasible",
        "solver": INFO,
        "training": [],
        "unplaced_training": [],
        "inference": [
            {"service": "svc", "site": s, "accelerator": "gpu", "replicas": n}
            for s, n in replicas
            if n
        ],
        "routes": [
            {"service": "svc", "region": "r", "site": s, "rps": float(n)} for s, n in replicas if n
        ],
        "unserved": [],
    }
    return Solution.model_validate(document)


def highs_plan(instance: Instance) -> Solution:
    """HiGHS's plan of the compact MIP of `instance`, as `solve` receives it."""
    model = build_compact(instance)
    result = solve_compact(model, time_limit_s=30.0)
    assert result.values is not None
    return plan_solution(model, result.values, INFO)


def test_the_compact_mip_finds_the_optimum_known_by_hand() -> None:
    """Two sites, the cheap one's grid binding: 2 replicas there, 1 at the dear one, 50."""
    instance = two_sites(grid_kw=2.0)
    solution = highs_plan(instance)
    assert solution.objective == pytest.approx(50.0, rel=1e-9)
    assert {(r.site, r.replicas) for r in solution.inference} == {("cheap", 2), ("dear", 1)}
    assert_valid_plan(instance, solution)


def test_the_compact_mip_finds_the_worked_example_optimum() -> None:
    instance = load_instance(EXAMPLE)
    solution = highs_plan(instance)
    assert solution.objective == pytest.approx(EXAMPLE_OPTIMUM, rel=1e-9)
    assert_valid_plan(instance, solution)


def test_a_grid_short_by_more_than_the_tolerance_moves_a_replica() -> None:
    """The cheap site's grid 1e-5 (relative) short of two replicas, ten times the SPEC's
    tolerance: one replica there, two at the dear site, (1 + 2 x 3) x 10 = 70."""
    instance = two_sites(grid_kw=2.0 / (1 + 1e-5))
    solution = highs_plan(instance)
    assert solution.objective == pytest.approx(70.0, rel=1e-9)
    assert_valid_plan(instance, solution)


def test_a_plan_as_mip_start_comes_back_as_the_same_plan() -> None:
    """`start_values` states a plan in the model's columns: read back, it is the same plan
    at the same cost; HiGHS started from the optimum returns it (or one as cheap)."""
    instance = two_sites(grid_kw=2.0)
    plan = Plan.of(by_hand(instance, 2, 1))
    model = build_compact(instance)
    values = start_values(model, plan)
    again = plan_solution(model, values, INFO)
    assert {(r.site, r.replicas) for r in again.inference} == {("cheap", 2), ("dear", 1)}
    assert again.objective == pytest.approx(50.0, rel=1e-12)
    run = HighsRun(instance, plan, time.perf_counter() + 30.0)
    found = run.plan()
    assert found is not None and found.objective == pytest.approx(50.0, rel=1e-9)


def test_a_highs_plan_over_a_limit_by_more_than_the_tolerance_is_refused() -> None:
    """A plan such as HiGHS might return within its float tolerances, but 1e-5 over the
    cheap site's grid (ten times the SPEC's 1e-6): the claims path (`_spec_plan`: flows by
    the exact flow LP, then the evaluator) refuses it; the honest plan passes at its cost."""
    instance = two_sites(grid_kw=2.0 / (1 + 1e-5))
    deadline = time.perf_counter() + 30.0
    over = by_hand(instance, 2, 1)
    assert solve_module._spec_plan(instance, Plan.of(over), deadline) is None
    honest = solve_module._spec_plan(instance, Plan.of(by_hand(instance, 1, 2)), deadline)
    assert honest is not None and honest.objective == pytest.approx(70.0, rel=1e-12)


class _OverTheLimit(HighsRun):
    """A HiGHS run whose plan breaks the grid by 1e-5 (cheaper than any SPEC plan)."""

    handed: ClassVar[int] = 0

    def plan(self) -> Solution | None:
        super().plan()
        _OverTheLimit.handed += 1
        return by_hand(self.instance, 2, 1)


def test_solve_never_returns_a_highs_plan_the_evaluator_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With HiGHS beside CP-SAT on the tiny instance (its size gate lowered), CP-SAT
    stopping at its first plan (so that the hand-over happens: a proof would skip it), and
    a run that hands over a plan 1e-5 over the grid, cheaper than any SPEC plan: the
    answer is a plan the evaluator accepts, at least the SPEC optimum 70."""
    monkeypatch.setattr(solve_module, "MIP_MIN_DECISIONS", 0)
    monkeypatch.setattr(solve_module, "MIP_MIN_S", 0.0)
    monkeypatch.setattr(solve_module, "HighsRun", _OverTheLimit)
    _OverTheLimit.handed = 0
    instance = two_sites(grid_kw=2.0 / (1 + 1e-5))
    first_plans = SolveOptions(
        parameters={"stop_after_first_solution": True}, prove=False, highs=True
    )
    solution = solve(instance, time_limit_s=20.0, workers=2, options=first_plans)
    assert _OverTheLimit.handed == 1
    assert_valid_plan(instance, solution)
    assert solution.objective is not None and solution.objective >= 70.0 * (1 - 1e-9)
    optimum = solve(instance, time_limit_s=20.0, workers=2)
    assert optimum.status == "optimal"
    assert optimum.objective == pytest.approx(70.0, rel=1e-9)


class _Spy(HighsRun):
    """A HiGHS run that records that it ran and what it found."""

    runs: ClassVar[list[_Spy]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _Spy.runs.append(self)


def test_the_solve_path_with_highs_beside_cpsat_returns_checked_plans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A generated instance inside the size gate: HiGHS runs beside CP-SAT, and the answer
    passes the evaluator with a proved bound at most its cost (HiGHS's bound never counts)."""
    _Spy.runs = []
    monkeypatch.setattr(solve_module, "HighsRun", _Spy)
    instance = generate("training-M", 0)
    assert solve_module._decisions(instance) >= solve_module.MIP_MIN_DECISIONS
    solution = solve(instance, time_limit_s=15.0, workers=2, options=SolveOptions(highs=True))
    assert len(_Spy.runs) == 1
    assert_valid_plan(instance, solution)
    assert solution.bound is not None and solution.objective is not None
    assert solution.bound <= solution.objective


def test_by_default_highs_runs_on_the_lps_support_and_never_with_one_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """By default HiGHS searches the MIP restricted to the LP's support (RENS) beside
    CP-SAT, from the greedy plan or from a caller's plan, and the answers pass the
    evaluator (a caller's plan is never made worse); the whole MIP only with `highs`; with
    one worker, or with both options off, no run starts. On OR-Library's gapb-4 (b10200:
    2,000 decisions, inside the size gate) HiGHS proves its restriction (without the
    unguided plan's widening or the whole MIP after it) at once and hands over then, not
    at its deadline: CP-SAT searches with both workers long before it. From a caller's
    plan, with the default options, gapa-6 (a20200) is proved at its published optimum,
    2,339."""
    _Spy.runs = []
    monkeypatch.setattr(solve_module, "HighsRun", _Spy)
    searches: list[tuple[int, float]] = []
    search = runner.search

    def spied(built, deadline, workers, *args, **kwargs):  # type: ignore[no-untyped-def]
        searches.append((workers, time.perf_counter()))
        return search(built, deadline, workers, *args, **kwargs)

    monkeypatch.setattr(runner, "search", spied)
    # OR-Library's gapb-4 (b10200), which CP-SAT does not prove in 10 s: its one-worker
    # search beside HiGHS cannot end the race by a proof of its own.
    hard = import_gap(GAP_ORLIB / "gapb.txt")[3]
    # Without the unguided plan's widening (its greedy runs first in HiGHS's thread, and
    # CP-SAT may prove the optimum alone meanwhile) and without the whole MIP after the
    # restriction (HiGHS then runs on, and CP-SAT's one worker may prove the optimum
    # before it hands over): the restriction is proved at once, and HiGHS ends.
    solution = solve(
        hard,
        time_limit_s=10.0,
        workers=2,
        options=SolveOptions(rens_unguided=False, rens_whole=False),
    )
    assert [run._support is not None for run in _Spy.runs] == [True]
    assert_valid_plan(hard, solution)
    handed_over = _Spy.runs[0].deadline
    both_workers = [began < handed_over for workers, began in searches if workers == 2]
    assert both_workers and all(both_workers)
    _Spy.runs = []
    instance = import_gap(GAP_ORLIB / "gapa.txt")[5]
    worse = greedy(instance)
    assert_valid_plan(instance, worse)
    assert worse.objective is not None and worse.objective > 2339.0
    again = solve(instance, time_limit_s=30.0, workers=2, hint=worse)
    assert [run._support is not None for run in _Spy.runs] == [True]
    assert_valid_plan(instance, again)
    assert (again.status, again.objective) == ("optimal", pytest.approx(2339.0))
    _Spy.runs = []
    solve(instance, time_limit_s=6.0, workers=1)
    solve(instance, time_limit_s=6.0, workers=1, options=SolveOptions(highs=True))
    solve(instance, time_limit_s=6.0, workers=2, options=SolveOptions(rens=False))
    assert _Spy.runs == []


def test_the_restriction_fixes_what_neither_the_lp_nor_the_start_uses() -> None:
    """RENS's columns: with only `cheap` in the LP's support, the `dear` replica column is
    fixed at 0, unless the MIP start runs a replica there."""
    instance = two_sites(grid_kw=2.0)
    model = build_compact(instance)
    columns = {(o.site, o.accelerator): c for c, o in model.options.items()}
    cheap_only = Support(placements=frozenset(), replicas=frozenset({("svc", "cheap", "gpu")}))
    assert restricted_columns(model, cheap_only, None) == {columns["dear", "gpu"]: 0.0}
    start = start_values(model, Plan.of(by_hand(instance, 2, 1)))
    assert restricted_columns(model, cheap_only, start) == {}
    # ... or unless another plan given to widen it runs one there.
    assert restricted_columns(model, cheap_only, None, [start]) == {}
    cheap = start_values(model, Plan.of(by_hand(instance, 3, 0)))
    assert restricted_columns(model, cheap_only, cheap, [cheap]) == {columns["dear", "gpu"]: 0.0}


def test_highs_on_the_restriction_keeps_to_it_and_to_the_start() -> None:
    """`two_sites` with 2 kW at `cheap`: restricted to `cheap` alone the MIP has no plan (3
    rps need 3 replicas, 2 fit); restricted to `dear` alone, 90 = 3 x 3 x 10; with the MIP
    start 2 + 1 (50, the optimum by hand) the start's columns stay free and HiGHS returns
    50. Every plan passes the evaluator."""
    instance = two_sites(grid_kw=2.0)

    def support(*sites: str) -> Support:
        return Support(placements=frozenset(), replicas=frozenset(("svc", s, "gpu") for s in sites))

    assert (
        HighsRun(instance, None, time.perf_counter() + 30.0, support=support("cheap")).plan()
        is None
    )
    dear = HighsRun(instance, None, time.perf_counter() + 30.0, support=support("dear")).plan()
    assert dear is not None and dear.objective == pytest.approx(90.0, rel=1e-9)
    assert_valid_plan(instance, dear)
    plan = Plan.of(by_hand(instance, 2, 1))
    kept = HighsRun(instance, plan, time.perf_counter() + 30.0, support=support("dear")).plan()
    assert kept is not None and kept.objective == pytest.approx(50.0, rel=1e-9)
    assert_valid_plan(instance, kept)
    # Widened by the unguided greedy plan (2 replicas at `cheap`, the third at `dear`):
    # the restriction to `cheap` alone has the optimum again.
    widened = HighsRun(
        instance, None, time.perf_counter() + 30.0, support=support("cheap"), unguided=True
    ).plan()
    assert widened is not None and widened.objective == pytest.approx(50.0, rel=1e-9)
    assert_valid_plan(instance, widened)
    # With `widen`, a restriction HiGHS settles early is followed by the whole MIP: from
    # `dear` alone (90, proved at once) to the optimum 50; from `cheap` alone (no plan,
    # proved at once) to 50 as well.
    for site in ("dear", "cheap"):
        whole = HighsRun(
            instance, None, time.perf_counter() + 30.0, support=support(site), widen=True
        ).plan()
        assert whole is not None and whole.objective == pytest.approx(50.0, rel=1e-9)
        assert_valid_plan(instance, whole)


def test_the_compact_lp_runs_a_whole_replica_for_a_small_demand() -> None:
    """`small_demands`: one replica at each site, 200 by hand. Serving rows at the
    replicas' full rate let the LP run 1% of a replica at each (2); with the rate capped
    at the demand each site may serve (1 rps), the LP relaxation is already 200."""
    instance = small_demands()
    model = build_compact(instance)
    relaxation = solve_compact(model, time_limit_s=30.0, integer=False)
    assert relaxation.objective == pytest.approx(200.0, rel=1e-9)
    solution = highs_plan(instance)
    assert solution.objective == pytest.approx(200.0, rel=1e-9)
    assert_valid_plan(instance, solution)


def test_the_compact_lp_counts_a_replica_for_at_most_the_demand_in_n_plus_one_rows() -> None:
    """`small_resilient_demand`: a replica in each failure domain, 200 by hand. At the
    replicas' full rate the n+1 rows let the LP run one replica in all (100); with each
    replica counted for at most the service's 1 rps, the LP relaxation is already 200."""
    instance = small_resilient_demand()
    relaxation = solve_compact(build_compact(instance), time_limit_s=30.0, integer=False)
    assert relaxation.objective == pytest.approx(200.0, rel=1e-9)
    solution = highs_plan(instance)
    assert solution.objective == pytest.approx(200.0, rel=1e-9)
    assert_valid_plan(instance, solution)
