"""Re-planning measurements of issue #28: `python -m benchmarks.replan [--size M] ...`.

Generated SIZE seed 0 (`models.generator.generate`); the current plan is its plan at
`--base-limit` s; move costs, checkpoint sizes and replica start costs are drawn by
`models.generator.current_plan.with_move_prices` (seed 0). Cases:

- demand: every service's demand +20% in 3 regions (the first three by id), no budget;
- demand-budget: the same with budgets (default max_training_moves 5 and
  max_replica_changes 50);
- grid: the busiest site of the current plan (most jobs and replicas) keeps half of
  its grid power, budgets as above, once at `--first-limit` s and once at `--limit` s;
- frontier: the frontier of training moves for the grid case (replica change budget kept),
  `--frontier-limit` s per point.

`--reference-limit S` also runs HiGHS for S s on the compact MIP of each case's v1
relaxation (`solver.static_replan.relaxed_v1`: move budgets and replica start costs left
out) and prints its dual bound, a bound known for the case beside ours, and the gap to the
larger of the two: HiGHS's bound is HiGHS's (to its tolerances), not a proof of ours.

`--whole-model` re-plans with the whole CP-SAT model whatever the instance's size (the
default sends instances over 10,000 eligible decisions down the large path,
`solver/scheduled/decomposed.py`). Each case prints one markdown row: status, objective,
bound, gap (objective - bound) / objective, moves used, wall time, evaluator verdict.
Workers 2, seed 0.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from benchmarks.harness.report import relative_gap
from models import parse_instance
from models.generator import generate
from models.generator.current_plan import with_move_prices
from solver.evaluate import evaluate
from solver.frontier import frontier
from solver.mip.compact import build_compact
from solver.mip.highs import solve_compact
from solver.replan import replan
from solver.solve import solve
from solver.static_replan import relaxed_v1

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance, Solution
    from solver.replan import Replan


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replan", description=__doc__)
    parser.add_argument("--size", default="M")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base-limit", type=float, default=30.0)
    parser.add_argument("--limit", type=float, default=30.0)
    parser.add_argument("--first-limit", type=float, default=10.0)
    parser.add_argument("--frontier-limit", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--max-training-moves", type=int, default=5, help="-1: no budget on training moves"
    )
    parser.add_argument(
        "--max-replica-changes", type=int, default=50, help="-1: no budget on replica changes"
    )
    parser.add_argument(
        "--reference-limit",
        type=float,
        default=0.0,
        help="seconds of HiGHS on each case's v1 relaxation for a reference bound (0: none)",
    )
    parser.add_argument(
        "--whole-model",
        action="store_true",
        help="re-plan with the whole CP-SAT model whatever the size (an experiment: "
        "raises solver.scheduled.solve.MAX_WHOLE_MODEL_DECISIONS)",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["demand", "demand-budget", "grid", "frontier"],
        choices=["demand", "demand-budget", "grid", "frontier"],
    )
    return parser.parse_args(argv)


def gap(solution: Solution) -> float | None:
    if solution.objective is None or solution.bound is None or solution.objective == 0:
        return None
    return (solution.objective - solution.bound) / abs(solution.objective)


def demand_up(document: dict[str, Any], factor: float = 1.2, count: int = 3) -> list[str]:
    regions = sorted(region["id"] for region in document["regions"])[:count]
    for service in document.get("inference", []):
        maps = [service.get("demand_rps", {}), *(service.get("demand_by_period") or {}).values()]
        for demand in maps:
            for region in regions:
                if region in demand:
                    demand[region] = round(demand[region] * factor, 3)
    return regions


def busiest_site(plan: Solution) -> str:
    load: Counter[str] = Counter()
    for entry in plan.training:
        load[entry.site] += 1
    for group in plan.inference:
        load[group.site] += group.replicas
    return min(load, key=lambda site: (-load[site], site))


def grid_cut(document: dict[str, Any], site_id: str, factor: float = 0.5) -> None:
    for site in document["sites"]:
        if site["id"] == site_id:
            site["grid_kw"] = round(site["grid_kw"] * factor, 3)
            for entry in site.get("timeline") or []:
                if entry.get("grid_kw") is not None:
                    entry["grid_kw"] = round(entry["grid_kw"] * factor, 3)


def row(case: str, limit: float, result: Replan, wall: float) -> str:
    solution = result.solution
    figures = result.evaluation().replan if solution.has_plan else None
    moves = "-" if figures is None else f"{len(figures.moves)} / {figures.replica_changes}"
    verdict = "-"
    if solution.has_plan:
        verdict = "ok" if evaluate(result.instance, solution).feasible else "FAILS"
    value = gap(solution)
    objective = "-" if solution.objective is None else f"{solution.objective:,.0f}"
    bound = "-" if solution.bound is None else f"{solution.bound:,.0f}"
    return (
        f"| {case} | {limit:g} | {solution.status} | {objective} | {bound} | "
        f"{'-' if value is None else f'{100 * value:.2f}%'} | {moves} | {wall:.1f} | {verdict} |"
    )


def reference(result: Replan, limit: float) -> str:
    """HiGHS for `limit` s on the compact MIP of the case's v1 relaxation: its plan and
    dual bound, and the re-plan's gap to the larger of that bound and its own."""
    relaxed = relaxed_v1(result.instance)
    found = solve_compact(build_compact(relaxed), time_limit_s=limit)
    objective = "-" if found.objective is None else f"{found.objective:,.0f}"
    bound = "-" if found.bound is None else f"{found.bound:,.0f}"
    solution = result.solution
    known = max((b for b in (found.bound, solution.bound) if b is not None), default=None)
    value = None
    if known is not None and solution.objective is not None and solution.objective != 0:
        value = relative_gap(solution.objective, known)
    return (
        f"reference: HiGHS on the v1 relaxation, {limit:g} s: {found.status}, plan {objective}, "
        f"dual bound {bound}; gap to the best bound known "
        f"{'-' if value is None else f'{100 * value:.2f}%'}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.whole_model:
        from solver.scheduled import solve as scheduled_solve

        scheduled_solve.MAX_WHOLE_MODEL_DECISIONS = 10**9
    base = generate(arguments.size, arguments.seed)
    started = time.perf_counter()
    plan = solve(base, time_limit_s=arguments.base_limit, workers=arguments.workers, seed=0)
    print(
        f"current: {arguments.size}-{arguments.seed} plan at {arguments.base_limit:g} s: "
        f"{plan.status} {plan.objective:,.0f} (bound {plan.bound}), "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    document = with_move_prices(
        base.model_dump(mode="json", by_alias=True, exclude_unset=True), arguments.seed
    )
    print(
        "| case | limit s | status | objective | bound | gap | moves (jobs / replica changes) "
        "| wall s | evaluator |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |", flush=True)

    moves = None if arguments.max_training_moves < 0 else arguments.max_training_moves
    changes = None if arguments.max_replica_changes < 0 else arguments.max_replica_changes
    label = f"budgets {'-' if moves is None else moves} / {'-' if changes is None else changes}"

    def run(case: str, instance: Instance, limit: float, budgets: bool) -> None:
        started = time.perf_counter()
        result = replan(
            instance,
            plan,
            max_training_moves=moves if budgets else None,
            max_replica_changes=changes if budgets else None,
            time_limit_s=limit,
            workers=arguments.workers,
            seed=0,
        )
        print(row(case, limit, result, time.perf_counter() - started), flush=True)
        if arguments.reference_limit > 0:
            print(reference(result, arguments.reference_limit), flush=True)

    demand_doc = _copy(document)
    regions = demand_up(demand_doc)
    demand = parse_instance(demand_doc, "demand +20%")
    if "demand" in arguments.cases:
        run(f"demand +20% in {', '.join(regions)}", demand, arguments.limit, False)
    if "demand-budget" in arguments.cases:
        run(f"same, {label}", demand, arguments.limit, True)
    site = busiest_site(plan)
    grid_doc = _copy(document)
    grid_cut(grid_doc, site)
    grid = parse_instance(grid_doc, "grid cut")
    if "grid" in arguments.cases:
        run(f"grid of {site} x0.5, {label}", grid, arguments.first_limit, True)
        run(f"grid of {site} x0.5, {label}", grid, arguments.limit, True)
    if "frontier" in arguments.cases:
        started = time.perf_counter()
        curve = frontier(
            grid,
            plan,
            of="training",
            max_replica_changes=changes,
            time_limit_s=arguments.frontier_limit,
            workers=arguments.workers,
            seed=0,
        )
        wall = time.perf_counter() - started
        print(
            f"\nfrontier of training moves (grid of {site} x0.5, replica changes <= {changes}), "
            f"{arguments.frontier_limit:g} s per point: {len(curve.points)} budgets + the "
            f"floor in {wall:.1f} s; {curve.stopped}"
        )
        print(row("floor (no training budget)", arguments.frontier_limit, curve.floor.result, 0.0))
        for point in curve.points:
            print(
                row(
                    f"budget {point.budget} (uses {point.used})",
                    arguments.frontier_limit,
                    point.result,
                    0.0,
                ),
                flush=True,
            )


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(document)


if __name__ == "__main__":
    main()
