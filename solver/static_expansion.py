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

The search: v1 on the relaxation (RELAXED_SHARE of the limit) gives the bound and a plan;
the expansions that plan needs are chosen, and v1 on the restriction with them, hinted
with that plan, improves it for the rest of the time (its plan may need fewer of them:
they are chosen again). Every candidate is restated with its expansions and priced by
the v2 evaluator, and counts only once it passes there (supply limits included).

Why: the v2 large path never chose an expansion and granted them all free in its bound
(expand-M-0: 11.94%, benchmarks/RESULTS.md "Capacity expansion"); v1's search is the
strong one on static instances.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from models.schedule import expansion_adds
from solver.scheduled.greedy import decisions

if TYPE_CHECKING:
    from models import Instance, Solution
    from models.accelerators import CoolingKind
    from models.sites import Site
    from models.solution import Status
    from models.v2_fields import Expansion
    from solver.search.options import SolveOptions
    from solver.search.progress import ProgressCallback

#: Share of the time limit for v1's search of the relaxation (every expansion free).
RELAXED_SHARE = 0.5
#: Most expansions of one site whose subsets `needed` tries (2^n subsets).
MAX_SUBSET_EXPANSIONS = 10
#: A plan's use over a limit by at most this share (float sums) counts as fitting when
#: expansions are chosen for it; the v2 evaluator checks the result with the SPEC's own.
COVER_ROOM = 1e-9


def applies(instance: Instance) -> bool:
    """Whether `instance` is static, has expansions, no `current`, no move fields, and
    is too large for the v2 whole model (over its MAX_WHOLE_MODEL_DECISIONS, whose exact
    search proves optimality below that size)."""
    from solver.scheduled import solve as scheduled

    if not instance.is_v2 or instance.is_scheduled or instance.current is not None:
        return False
    if instance.moves is not None or not any(site.expansions for site in instance.sites):
        return False
    if any(service.start_cost > 0 for service in instance.inference):
        return False
    if any(job.move_cost is not None or job.checkpoint_gb is not None for job in instance.training):
        return False
    return decisions(instance) > scheduled.MAX_WHOLE_MODEL_DECISIONS


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
    the module docstring explains. `on_progress` sees v1's searches, whose objectives
    leave out the expansion costs."""
    from solver.solve import check_bound, proved, solve
    from solver.v1_equivalent import v2_answer

    started = time.perf_counter()
    relaxed = solve(
        expanded_v1(instance, None),
        time_limit_s=RELAXED_SHARE * time_limit_s,
        workers=workers,
        seed=seed,
        on_progress=on_progress,
        options=options,
    )
    bound = relaxed.bound
    if relaxed.status == "infeasible":
        # Every expansion built at no cost relaxes the instance: no plan there, none here.
        return v2_answer(instance, None, None, "infeasible", relaxed.solver, started)
    best: tuple[Solution, float] | None = None
    hint_plan: Solution | None = relaxed if relaxed.has_plan else None
    chosen = needed(instance, relaxed) if relaxed.has_plan else None
    if chosen is not None and within_supply(instance, chosen):
        best = _priced(instance, relaxed, chosen, best)
    else:
        chosen = set()
    left = time_limit_s - (time.perf_counter() - started)
    if left > 0:
        restricted = solve(
            expanded_v1(instance, chosen),
            time_limit_s=left,
            workers=workers,
            seed=seed,
            hint=hint_plan,
            on_progress=on_progress,
            options=options,
        )
        if restricted.has_plan:
            # Its plan fits what `chosen` builds; it may need less of it.
            again = needed(instance, restricted)
            fewer = again if again is not None and within_supply(instance, again) else chosen
            best = _priced(instance, restricted, fewer, best)
    if best is None:
        return v2_answer(instance, None, bound, "unknown", relaxed.solver, started)
    plan, cost = best
    check_bound(bound, cost, "expansion relaxation")
    status: Status = "optimal" if proved(cost, bound) else "feasible"
    return v2_answer(instance, plan, bound, status, relaxed.solver, started)


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
