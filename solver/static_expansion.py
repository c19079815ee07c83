"""Static instances with site expansions (SPEC §11 without periods) through v1's search.

A static v2 instance whose only v2 fields are `expansions` and `supply_limits` is v1 once
the set of chosen expansions is fixed: their capacity is added to the sites and their
costs are a constant. Two v1 instances come from it (`expanded_v1`):

- **every expansion built, at no cost**: a relaxation. Every plan of the v2 instance (with
  whatever expansions it chooses) is a plan of it, at its v2 cost less the expansion
  costs (>= 0), and supply limits only restrict; so v1's proved bound and `infeasible`
  there are proofs for the v2 instance.
- **the expansions a plan needs, built**: a restriction. `needed` picks, per site, the
  cheapest subset of the site's expansions whose capacity covers what the plan uses
  beyond the site's own (exhaustively over the site's expansions, up to
  MAX_SUBSET_EXPANSIONS of them); v1's plan there plus those costs is a v2 plan.

A third relaxation charges expansions: the LP of the widened v2 model (`expansion_lp`),
where each expansion is a fraction e in [0, 1] of its capacity at e times its cost.

The search:

1. The LP gives the first bound and says which expansions are worth building: those it
   builds at least ROUND_AT of, kept while within the supply limits (`rounded`).
2. v1 on the restriction with those built (V1_SHARE of the time left) gives the plan;
   `needed` then drops the expansions it does not use.
3. The whole v2 model, hinted with that plan, for the rest of the time: its CP-SAT bound
   charges each expansion whole, and its plan may choose them better than v1, which
   does not see their costs. The answer's bound is the higher of the two proved bounds.

With two workers or more, HiGHS runs beside these steps on one core
(`solver.mip.portfolio.HighsRun`, the compact MIP of `solver.mip.compact` with a binary
column per expansion and a row per supply limit) until HIGHS_RESERVE_S before the
deadline; the CP-SAT steps get the other workers. Its plan is one more candidate (its
dual bound is never a claim).

When the LP is not solved (a row with no linear reading, or no time), v1 on the
free-expansion relaxation (RELAXED_SHARE of the limit) gives the bound, `infeasible`
and a plan whose needed expansions v1 on the restriction then uses. Every candidate is
restated with its expansions and priced by the v2 evaluator, and counts only once it
passes there (supply limits included).

Why: the v2 large path never chose an expansion and granted them all free in its bound
(expand-M-0: 11.94%, benchmarks/RESULTS.md "Capacity expansion"); v1's search is the
strong one on static instances, but its free-expansion relaxation is weak (expand-M-0:
its bound is the LP's, 129.30M; the charged LP's is 131.24M and the whole model's, in
15 s, 132.87M).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.schedule import expansion_adds
from solver.scheduled.greedy import decisions
from solver.search.options import default_workers
from solver.search.progress import Reporter, shifted

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import IntVar

    from models import Instance, Solution
    from models.accelerators import CoolingKind
    from models.sites import Site
    from models.solution import SolverInfo, Status
    from models.v2_fields import Expansion
    from solver.mip.portfolio import HighsRun
    from solver.scheduled.model import ScheduledModel
    from solver.search.options import SolveOptions
    from solver.search.progress import ProgressCallback

#: Static instances with expansions and more eligible decisions than this take this path;
#: the whole v2 model alone the smaller ones, where it proves optimality in seconds. Not the
#: whole model's own MAX_WHOLE_MODEL_DECISIONS (10,000): at 9,986 decisions (expand-M-102,
#: 30 s) the whole model alone ended 15.07% from its bound, this path 0.91%. 1,000 is v1's
#: least size for HiGHS beside CP-SAT (solver.solve.MIP_MIN_DECISIONS); sizes between it
#: and 9,986 are not measured here (the generated expansion families are M and L).
MIN_DECISIONS = 1_000
#: Share of the time limit for v1's search of the relaxation (every expansion free), when
#: the LP is not solved.
RELAXED_SHARE = 0.5
#: An expansion the LP builds at least this much of is built for v1's search (tuning
#: instance expand-M-0, 13 s of v1: 0.5 -> 137.21M, 0.4 -> 136.55M, 0.25 -> 136.10M,
#: 0.1 -> 141.72M; the more are built, the more v1 uses without seeing their costs).
ROUND_AT = 0.25
#: Share of the time left after the LP for v1's search with the rounded expansions; the
#: rest goes to the whole v2 model.
V1_SHARE = 0.5
#: Least time left for the whole v2 model to be worth starting (its build and first LP;
#: and at least `solver.solve.whole_model_s` of the instance's size).
MIN_WHOLE_S = 2.0
#: Run HiGHS on the compact MIP with the expansions beside the CP-SAT steps, on one of two
#: or more workers' cores (tuning seeds expand-M 0-3, 25 s alone: 137.26M, 120.40M,
#: 209.82M, 197.58M against v1's path's 136.10M, 129.75M, 210.03M, 223.61M at 30 s).
HIGHS_BESIDE = True
#: Seconds HiGHS stops before the deadline, for pricing its plan.
HIGHS_RESERVE_S = 1.0
#: Least time for HiGHS to be worth starting.
MIN_HIGHS_S = 5.0
#: Least time left for the LP to be worth starting.
MIN_LP_S = 0.2
#: LP solver of `expansion_lp` (row duals through MathOpt, as v1's).
LP_SOLVER = "HIGHS"
#: Most expansions of one site whose subsets `needed` tries (2^n subsets).
MAX_SUBSET_EXPANSIONS = 10
#: A plan's use over a limit by at most this share (float sums) counts as fitting when
#: expansions are chosen for it; the v2 evaluator checks the result with the SPEC's own.
COVER_ROOM = 1e-9


def applies(instance: Instance) -> bool:
    """Whether `instance` is static, has expansions, no `current`, no move fields, and
    more than MIN_DECISIONS eligible decisions (or than the whole model's
    MAX_WHOLE_MODEL_DECISIONS, when that is lower: tests force the path by lowering it)."""
    from solver.scheduled import solve as scheduled

    if not instance.is_v2 or instance.is_scheduled or instance.current is not None:
        return False
    if instance.moves is not None or not any(site.expansions for site in instance.sites):
        return False
    if any(service.start_cost > 0 for service in instance.inference):
        return False
    if any(job.move_cost is not None or job.checkpoint_gb is not None for job in instance.training):
        return False
    return decisions(instance) > min(MIN_DECISIONS, scheduled.MAX_WHOLE_MODEL_DECISIONS)


def expanded_v1(instance: Instance, chosen: set[tuple[str, str]] | None) -> Instance:
    """The v1 instance with the expansions in `chosen` (None: all) built into the sites'
    capacity (their costs left out), no expansions and no supply limits."""
    from solver.v1_equivalent import as_v1

    sites = []
    for site in instance.sites:
        grid = site.grid_kw
        cooling = dict(site.cooling_kw) if site.cooling_kw is not None else None
        stock = {item.accelerator: item.count for item in site.inventory}
        for expansion in site.expansions or []:
            if chosen is not None and (site.id, expansion.id) not in chosen:
                continue
            grid_kw, cooling_kw, inventory = expansion_adds(expansion)
            grid += grid_kw
            if cooling is not None:
                for kind, kw in cooling_kw.items():
                    if kind in cooling:  # an unlimited kind stays unlimited
                        cooling[kind] += kw
            for accelerator, count in inventory.items():
                stock[accelerator] += count
        sites.append(
            site.model_copy(
                update={
                    "grid_kw": grid,
                    "cooling_kw": cooling,
                    "inventory": [
                        item.model_copy(update={"count": stock[item.accelerator]})
                        for item in site.inventory
                    ],
                    "expansions": None,
                }
            )
        )
    return as_v1(instance.model_copy(update={"sites": sites, "supply_limits": None}))


def site_use(
    instance: Instance, plan: Solution
) -> dict[str, tuple[float, dict[CoolingKind, float], dict[str, int]]]:
    """What `plan` uses per site: grid kW (PUE included), IT kW per cooling kind, and
    accelerators per type (SPEC §5 rows 1-3)."""
    grid: dict[str, float] = defaultdict(float)
    cooling: dict[str, dict[CoolingKind, float]] = defaultdict(lambda: defaultdict(float))
    stock: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def take(site_id: str, accelerator_id: str, count: int) -> None:
        accelerator = instance.accelerator_by_id[accelerator_id]
        kw = accelerator.power_kw * count
        grid[site_id] += instance.site_by_id[site_id].pue * kw
        cooling[site_id][accelerator.cooling] += kw
        stock[site_id][accelerator_id] += count

    for placement in plan.training:
        job = instance.training_by_id[placement.job]
        count = next(o.count for o in job.options if o.accelerator == placement.accelerator)
        take(placement.site, placement.accelerator, count)
    for group in plan.inference:
        service = instance.inference_by_id[group.service]
        size = next(p.per_replica for p in service.profiles if p.accelerator == group.accelerator)
        take(group.site, group.accelerator, size * group.replicas)
    return {site: (grid[site], dict(cooling[site]), dict(stock[site])) for site in stock}


def needed(instance: Instance, plan: Solution) -> set[tuple[str, str]] | None:
    """The cheapest set of expansions, site by site, under which `plan`'s use fits every
    site's limits; None when some site's use fits under none (or a site has more than
    MAX_SUBSET_EXPANSIONS expansions and its use exceeds its own capacity)."""
    chosen: set[tuple[str, str]] = set()
    for site_id, (grid, cooling, stock) in sorted(site_use(instance, plan).items()):
        site = instance.site_by_id[site_id]
        expansions = site.expansions or []
        subsets: list[tuple[int, ...]] = [()]
        if len(expansions) <= MAX_SUBSET_EXPANSIONS:
            subsets = [
                combo
                for size in range(len(expansions) + 1)
                for combo in itertools.combinations(range(len(expansions)), size)
            ]
        best: tuple[float, tuple[int, ...]] | None = None
        for combo in subsets:
            cost = math.fsum(expansions[i].cost for i in combo)
            if best is not None and cost >= best[0]:
                continue
            if _fits(site, [expansions[i] for i in combo], grid, cooling, stock):
                best = (cost, combo)
        if best is None:
            return None
        chosen.update((site_id, expansions[i].id) for i in best[1])
    return chosen


def _fits(
    site: Site,
    expansions: list[Expansion],
    grid: float,
    cooling: dict[CoolingKind, float],
    stock: dict[str, int],
) -> bool:
    """Whether a site's use (grid kW, IT kW per cooling kind, accelerators) fits its own
    limits plus what `expansions` add."""
    limit_grid = site.grid_kw
    limit_cooling = dict(site.cooling_kw) if site.cooling_kw is not None else {}
    limit_stock = {item.accelerator: item.count for item in site.inventory}
    for expansion in expansions:
        grid_kw, cooling_kw, inventory = expansion_adds(expansion)
        limit_grid += grid_kw
        for kind, kw in cooling_kw.items():
            if kind in limit_cooling:
                limit_cooling[kind] += kw
        for accelerator, count in inventory.items():
            limit_stock[accelerator] = limit_stock.get(accelerator, 0) + count
    if grid > limit_grid * (1 + COVER_ROOM):
        return False
    if any(
        kw > limit_cooling[kind] * (1 + COVER_ROOM)
        for kind, kw in cooling.items()
        if kind in limit_cooling
    ):
        return False
    return all(count <= limit_stock.get(accelerator, 0) for accelerator, count in stock.items())


def within_supply(instance: Instance, chosen: set[tuple[str, str]]) -> bool:
    """Whether the accelerators `chosen` adds keep to every supply limit (SPEC §11)."""
    added: dict[str, int] = defaultdict(int)
    for site in instance.sites:
        for expansion in site.expansions or []:
            if (site.id, expansion.id) in chosen:
                for accelerator, count in expansion_adds(expansion)[2].items():
                    added[accelerator] += count
    return all(
        added[limit.accelerator] <= limit.max_count for limit in instance.supply_limits or []
    )


@dataclass(frozen=True)
class ExpansionLP:
    """The LP of the widened v2 model: its proved bound, and how much of each expansion
    (site id, expansion id) it builds, in [0, 1]."""

    bound: float
    built: dict[tuple[str, str], float]


def expansion_lp(instance: Instance, deadline: float) -> ExpansionLP | None:
    """The LP relaxation of the widened v2 model of `instance` (whose plans include every
    SPEC plan, to the SPEC's tolerance): each expansion a fraction e in [0, 1] of its
    capacity at e times its cost, so unlike the free relaxation it charges expansions.
    Its bound is `solver.linear.safe_bound` on HiGHS's duals (weak duality), with the
    rows of `prerequisite_rows` added. None when the LP is not solved to optimality before
    `deadline` or a row has no linear reading."""
    from solver.linear import solve_linear
    from solver.scheduled.model import build_model

    built = build_model(instance, widened=True)
    prerequisite_rows(instance, built)
    left = deadline - time.perf_counter()
    if left <= MIN_LP_S:
        return None
    try:
        limit = left if math.isfinite(left) else None
        result = solve_linear(built, solver_id=LP_SOLVER, time_limit_s=limit)
    except ValueError:
        return None
    if result.status != "optimal" or result.bound is None:
        return None
    values = {key: result.values[var.index] for key, var in built.variables.expansion.items()}
    return ExpansionLP(result.bound, values)


#: A cooling prerequisite row is stated only where one accelerator's IT kW exceeds this
#: (far above the SPEC's absolute tolerance, 1e-6, on a limit of 0).
PREREQUISITE_MIN_KW = 1e-3


def prerequisite_rows(instance: Instance, built: ScheduledModel) -> int:
    """Add `use <= bound * (sum of e over the expansions that supply it)` to `built` (a
    static v2 model) for every placement and replica option at a site that has none of
    its accelerator, or a cooling limit of 0 for the accelerator's cooling kind, without
    an expansion: any unit of it there needs one of them (the SPEC's tolerance, 1e-6 on
    a limit of 0, is below one accelerator and PREREQUISITE_MIN_KW). Every plan of the
    model with integer values meets them, so they cut only fractional expansions from
    its LP (expand-M-2: 194.81M -> 196.02M). The number of rows added."""
    #: (site, "stock" or "cooling", accelerator id or cooling kind): the e that supply it.
    supplies: dict[tuple[str, str, str], list[IntVar]] = defaultdict(list)
    for site in instance.sites:
        stock = {item.accelerator: item.count for item in site.inventory}
        cooling = site.cooling_kw or {}
        for expansion in site.expansions or []:
            _, cooling_kw, inventory = expansion_adds(expansion)
            e = built.variables.expansion[site.id, expansion.id]
            for accelerator_id, count in inventory.items():
                if count > 0 and stock.get(accelerator_id, 0) == 0:
                    supplies[site.id, "stock", accelerator_id].append(e)
            for kind, kw in cooling_kw.items():
                if kw > 0 and cooling.get(kind) == 0:
                    supplies[site.id, "cooling", kind].append(e)
    rows = 0

    def needs(var: IntVar, upper: int, site_id: str, accelerator_id: str) -> None:
        nonlocal rows
        accelerator = instance.accelerator_by_id[accelerator_id]
        keys = [(site_id, "stock", accelerator_id)]
        if accelerator.power_kw > PREREQUISITE_MIN_KW:
            keys.append((site_id, "cooling", accelerator.cooling))
        for key in keys:
            if key in supplies:
                built.model.add(var <= upper * sum(supplies[key]))
                rows += 1

    for placement, y in built.variables.placement.items():
        needs(y, 1, placement.site, placement.accelerator)
    for period in built.variables.periods:
        for option, r in period.replicas.items():
            needs(r, period.replica_bound[option], option.site, option.accelerator)
    return rows


def rounded(
    instance: Instance, built: dict[tuple[str, str], float], *, at: float = ROUND_AT
) -> set[tuple[str, str]]:
    """The expansions the LP builds at least `at` of, most built first, each kept only
    while the set stays within the supply limits."""
    chosen: set[tuple[str, str]] = set()
    for key in sorted(built, key=lambda k: (-built[k], k)):
        if built[key] >= at and within_supply(instance, chosen | {key}):
            chosen.add(key)
    return chosen


def solve_static_expansion(
    instance: Instance,
    *,
    time_limit_s: float,
    workers: int | None,
    seed: int,
    hint: Solution | None,
    on_progress: ProgressCallback | None,
    options: SolveOptions | None,
) -> Solution:
    """The cheapest plan of a static instance with expansions (`applies`), with the claims
    the module docstring explains. `on_progress` sees each improving plan as a plan of this
    instance (v1's with the cost of the expansions it was found with, at most what it
    costs once `needed` trims them) with the best proved bound known then; the free
    relaxation's plans, which are not plans of it, are not reported."""
    from solver.solve import BUILD_S_PER_DECISION, check_bound, proved, solve, whole_model_s

    started = time.perf_counter()
    reporter = Reporter(on_progress, started) if on_progress is not None else None
    deadline = started + time_limit_s
    size = decisions(instance)
    workers = workers or default_workers()
    highs = _highs_beside(instance, workers, seed, deadline)
    cp_workers = workers - 1 if highs is not None else workers
    phase_end = deadline if highs is None else highs.deadline
    lp = expansion_lp(instance, phase_end)
    best: tuple[Solution, float] | None = None
    hint_plan: Solution | None = None
    info: SolverInfo | None = None
    if lp is not None:
        bound: float | None = lp.bound
        chosen = rounded(instance, lp.built)
        v1_limit = V1_SHARE * (phase_end - time.perf_counter())
    else:
        relaxed = solve(
            expanded_v1(instance, None),
            time_limit_s=RELAXED_SHARE * (phase_end - started),
            workers=cp_workers,
            seed=seed,
            options=options,
        )
        bound, info = relaxed.bound, relaxed.solver
        if relaxed.status == "infeasible":
            # Every expansion built at no cost relaxes the instance: no plan there, none here.
            if highs is not None:
                highs.stop()
                highs.plan()
            return _answer(instance, None, None, "infeasible", info, started, time_limit_s)
        hint_plan = relaxed if relaxed.has_plan else None
        chosen_or_none = needed(instance, relaxed) if relaxed.has_plan else None
        if chosen_or_none is not None and within_supply(instance, chosen_or_none):
            chosen = chosen_or_none
            best = _priced(instance, relaxed, chosen, best)
        else:
            chosen = set()
        v1_limit = phase_end - time.perf_counter()
    if v1_limit > 0:
        restricted = solve(
            expanded_v1(instance, chosen),
            time_limit_s=v1_limit,
            workers=cp_workers,
            seed=seed,
            hint=hint_plan,
            on_progress=shifted(reporter, _cost(instance, chosen), bound),
            options=options,
        )
        info = info or restricted.solver
        if restricted.has_plan:
            best = _priced(instance, restricted, _fewest(instance, restricted, chosen), best)
    left = phase_end - time.perf_counter()
    if lp is not None and best is not None and left > max(MIN_WHOLE_S, whole_model_s(size)):
        # Its last steps (the plan's check, repair and pricing) run past its limit by
        # about as long as its build: expand-L-0 ended 4.0 s after a 120 s limit without
        # this room.
        end = phase_end - BUILD_S_PER_DECISION * size
        progress = shifted(reporter, 0.0, bound)
        whole = _whole_model(instance, best[0], end, cp_workers, seed, progress, options)
        bound = max(bound, whole.bound) if bound is not None and whole.bound is not None else bound
        if whole.has_plan and whole.objective is not None and whole.objective < best[1]:
            best = (whole, whole.objective)
    if highs is not None:
        found = highs.plan()
        if found is not None:
            built = {(e.site, e.expansion) for e in found.expansions or []}
            best = _priced(instance, found, _fewest(instance, found, built), best)
            if reporter is not None and best is not None:
                reporter.plan(best[1], bound)
    if best is None:
        return _answer(instance, None, bound, "unknown", info, started, time_limit_s)
    plan, cost = best
    check_bound(bound, cost, "expansion relaxation")
    status: Status = "optimal" if proved(cost, bound) else "feasible"
    return _answer(instance, plan, bound, status, info, started, time_limit_s)


def _highs_beside(instance: Instance, workers: int, seed: int, deadline: float) -> HighsRun | None:
    """HiGHS on the compact MIP with the expansions (`solver.mip`), started now in a thread
    on one of the workers' cores until HIGHS_RESERVE_S before `deadline`; None with one
    worker, when HIGHS_BESIDE is off, when less than MIN_HIGHS_S would be left, or from
    v1's MIP_MAX_DECISIONS eligible decisions."""
    from solver.mip.portfolio import HighsRun
    from solver.solve import MIP_MAX_DECISIONS

    end = deadline - HIGHS_RESERVE_S
    if not HIGHS_BESIDE or workers < 2 or end - time.perf_counter() < MIN_HIGHS_S:
        return None
    if decisions(instance) >= MIP_MAX_DECISIONS:
        # As v1's gate: from this size HiGHS is far behind (expand-L-0, 88,061 decisions,
        # 120 s: the peer alone 2,902.76M against infraplan's 962.88M).
        return None
    return HighsRun(instance, None, end, seed)


def _cost(instance: Instance, chosen: set[tuple[str, str]]) -> float:
    """What building `chosen` costs."""
    return math.fsum(
        x.cost
        for site in instance.sites
        for x in site.expansions or []
        if (site.id, x.id) in chosen
    )


def _fewest(
    instance: Instance, plan: Solution, built: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The expansions `plan` needs (`needed`), when they keep to the supply limits; else
    `built`, the set it was found with."""
    again = needed(instance, plan)
    return again if again is not None and within_supply(instance, again) else built


def _whole_model(
    instance: Instance,
    plan: Solution,
    deadline: float,
    workers: int | None,
    seed: int,
    on_progress: ProgressCallback | None,
    options: SolveOptions | None,
) -> Solution:
    """The whole v2 model searched until `deadline`, hinted with `plan`: its proved bound
    charges every expansion whole (solver.scheduled.solve_v2's claims), and its plan may
    choose expansions better than v1's, which does not see their costs."""
    from solver.scheduled.solve import solve_v2

    return solve_v2(
        instance,
        time_limit_s=deadline - time.perf_counter(),
        workers=workers,
        seed=seed,
        hint=plan,
        on_progress=on_progress,
        options=options,
        whole_model=True,
    )


def _answer(
    instance: Instance,
    plan: Solution | None,
    bound: float | None,
    status: Status,
    info: SolverInfo | None,
    started: float,
    time_limit_s: float,
) -> Solution:
    """`solver.v1_equivalent.v2_answer` with the record of the first v1 search that ran
    (the whole search's time limit), or a bare record when none did."""
    from models.solution import SolverInfo
    from solver.solve import SOLVER_NAME, solver_version
    from solver.v1_equivalent import v2_answer

    record = info or SolverInfo(name=SOLVER_NAME, version=solver_version())
    record = record.model_copy(update={"time_limit_s": time_limit_s})
    return v2_answer(instance, plan, bound, status, record, started)


def _priced(
    instance: Instance,
    plan: Solution,
    chosen: set[tuple[str, str]],
    best: tuple[Solution, float] | None,
) -> tuple[Solution, float] | None:
    """`plan` with the expansions `chosen`, restated and priced by the v2 evaluator, when
    it passes there and is cheaper than `best`; else `best`."""
    from models.solution import ChosenExpansion
    from solver.replan import plan_violations, restated

    listed = [ChosenExpansion(site=s, expansion=x) for s, x in sorted(chosen)]
    candidate, checked = restated(instance, plan.model_copy(update={"expansions": listed}))
    if plan_violations(checked):
        return best
    if best is None or checked.objective < best[1]:
        return candidate, checked.objective
    return best
