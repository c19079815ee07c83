"""Site neighbourhoods around a re-plan's current plan (SPEC §10): fix-and-optimise on the
v2 restricted model, a few sites at a time.

Under a move budget the cheapest re-plan stays close to `current`: where an incident
broke it (a site's grid cut, say), it sheds load to the sites that serve the same users,
and elsewhere it changes little. The whole model of generated M with budgets (10,831
decisions) finds no plan in 30 s, and v1's plan of the relaxation moves 63 jobs and
changes 9,792 replicas, so the plan found between it and `current` is far from both
(benchmarks/RESULTS.md, "Re-planning"). Here every replica count is fixed at the
incumbent's except at a few sites: the ones the incumbent breaks a limit at (`anchor`)
and those nearest them by the latency their users see (`nearest_sites`). The jobs the
incumbent runs at those sites, or leaves out, are free to go anywhere (the budget bounds
the moves); every other job stays where it is. Flows and unserved demand stay free.
Each neighbourhood is a small model CP-SAT solves, or proves optimal, in seconds; the
next one frees a different set of sites around the anchor, as many as the last one's
outcome suggests (`SiteSearch.next_size`). Once there is a plan, every other
neighbourhood is the moves one instead (`moved_jobs`): the anchor's replica counts and
the placements of every job of `current` that the incumbent moved or that ran at the
anchor, so which jobs move, and where, is chosen again.

The sizes and times below were set by hand on one instance (generated M seed 0, the
busiest site's grid halved, budgets 10 / 1,000; benchmarks/replan.py), not tuned:
a first neighbourhood of 8 sites found no plan in 5 s there, one of 5 found one.

Nothing is relaxed: every plan of a neighbourhood is a plan of the restricted model,
counted only once the evaluator accepts it (`accepted`). No bound comes from here.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from solver.cpsat.domains import fix_at
from solver.scheduled.variables import current_training

if TYPE_CHECKING:
    from collections.abc import Iterable

    from models import Instance
    from solver.evaluation.result import Evaluation
    from solver.scheduled.model import ScheduledModel
    from solver.scheduled.plan import ScheduledPlan
    from solver.search.options import SolveOptions

log = logging.getLogger(__name__)

#: Sites freed around the anchor in the first neighbourhood.
FIRST_SIZE = 5
#: Fewest and most sites a neighbourhood frees besides the anchor.
MIN_SIZE, MAX_SIZE = 2, 40
#: Longest any one neighbourhood is searched (s): a neighbourhood that takes longer is
#: too large, and the next one is smaller.
NEIGHBOURHOOD_S = 4.0
#: Least time a neighbourhood is searched while there is no plan yet (s); more on a
#: long search (REPAIR_TIME_SHARE of its time).
REPAIR_S = 5.0
REPAIR_TIME_SHARE = 0.1
#: Share of its time after which the search gives up without a plan (the rest is the
#: whole model's, which may prove that there is none).
REPAIR_SHARE = 0.5
#: Sites a neighbourhood draws from, as a multiple of its size, nearest first.
DRAW_FACTOR = 2.5


def anchor_sites(instance: Instance, evaluation: Evaluation) -> set[str]:
    """The sites named by a violation of `evaluation` (a plan's check against `instance`):
    where the plan breaks a site's limit (grid, cooling, inventory)."""
    ids = {site.id for site in instance.sites}
    named: set[str] = set()
    for violation in evaluation.violations:
        named.update(token for token in re.split(r"[\s/:,]+", violation.entity) if token in ids)
    return named


def nearest_sites(instance: Instance, anchor: Iterable[str]) -> list[str]:
    """Every site not in `anchor`, nearest first: by the mean absolute difference of the
    latency each region sees to it and to the nearest anchor site (regions that reach
    only one of the two count as far); ties by id."""
    centre = sorted(set(anchor))
    names = [region.id for region in instance.regions]
    paths = instance.paths
    far = 1e6

    def latency(region: str, site: str) -> float | None:
        route = paths.route(region, site)
        return None if route is None else route.latency_ms

    profile = {site.id: [latency(region, site.id) for region in names] for site in instance.sites}

    def distance(a: str, b: str) -> float:
        total = 0.0
        for x, y in zip(profile[a], profile[b], strict=True):
            total += far if (x is None) != (y is None) else abs((x or 0.0) - (y or 0.0))
        return total / max(1, len(names))

    others = [site.id for site in instance.sites if site.id not in set(centre)]
    return sorted(others, key=lambda s: (min((distance(s, c) for c in centre), default=0.0), s))


@dataclass
class SiteSearch:
    """The neighbourhood size, adapted to how the last neighbourhood went: larger by half
    after one was solved (its optimum, or no plan, proved) without a better plan, smaller
    by a third after one ran out of time without one."""

    size: int = FIRST_SIZE
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def next_size(self, *, exhausted: bool, improved: bool) -> None:
        if exhausted and not improved:
            self.size = min(MAX_SIZE, math.ceil(self.size * 1.5))
        elif not exhausted and not improved:
            self.size = max(MIN_SIZE, self.size * 2 // 3)

    def pick(self, ranked: list[str], first: bool) -> set[str]:
        """The sites to free besides the anchor: the nearest `size` the first time, then
        `size` drawn from the nearest DRAW_FACTOR times as many."""
        if first:
            return set(ranked[: self.size])
        pool = ranked[: max(self.size, math.ceil(DRAW_FACTOR * self.size))]
        return set(self.rng.sample(pool, min(self.size, len(pool))))


def fixed_outside(
    built: ScheduledModel,
    values: dict[int, int],
    free: set[str],
    jobs: frozenset[str] = frozenset(),
) -> ScheduledModel | None:
    """A copy of `built` with every replica count at a site outside `free` fixed at its
    value in `values` (the incumbent's; missing ones are 0), and so is the placement of
    every job the incumbent runs at such a site; jobs at a site in `free`, those the
    incumbent leaves out and those in `jobs` stay free. Its hint is cleared. None when a
    value lies outside its variable's domain."""
    model = built.model.clone()
    model.clear_hints()  # type: ignore[no-untyped-call]

    def fix(index: int) -> bool:
        return fix_at(model.proto, index, values.get(index, 0))

    for view in built.variables.periods:
        for option, var in view.replicas.items():
            if option.site not in free and not fix(var.index):
                return None
    for job, options in built.variables.placements_by_job().items():
        if job in jobs:
            continue
        at = [placement.site for placement, var in options if values.get(var.index, 0)]
        if at and at[0] not in free and not all(fix(var.index) for _, var in options):
            return None
    return replace(built, model=model)


def site_search(
    instance: Instance,
    start: ScheduledPlan,
    anchor: set[str],
    ranked: list[str],
    deadline: float,
    workers: int,
    seed: int,
    options: SolveOptions,
    *,
    start_is_plan: bool,
    soft_deadline: float | None = None,
) -> ScheduledPlan | None:
    """The best plan the site neighbourhoods around `anchor` (with sites drawn from
    `ranked`, nearest first) find from `start` by `deadline` (perf_counter); None when
    they find none. `start` is a SPEC plan of `instance` when `start_is_plan`, else a plan
    that breaks limits (`current` after an incident), whose values only fix what lies
    outside the first neighbourhoods. Once there is a plan the search ends by
    `soft_deadline` when given. Each plan found is checked by the evaluator."""
    from ortools.sat.python import cp_model

    from solver.scheduled.check import accepted
    from solver.scheduled.model import add_hint, build_model, extract_plan, plan_values
    from solver.scheduled.solve import run

    built = build_model(instance, widened=False)
    search = SiteSearch(rng=random.Random(seed))
    incumbent = start
    best: ScheduledPlan | None = start if start_is_plan else None
    # A solution of the model (every variable), once a neighbourhood found one.
    solution: list[int] | None = None
    first = True
    # Whether the moves neighbourhood, and a site one with every ranked site free, were
    # solved from the incumbent; whether the last one was the moves one.
    moves_done = sites_done = last_moves = False
    began = time.perf_counter()
    repair_s = max(REPAIR_S, REPAIR_TIME_SHARE * (deadline - began))
    while True:
        end = deadline if best is None or soft_deadline is None else min(deadline, soft_deadline)
        left = end - time.perf_counter()
        if left <= 0.1:
            break
        values = (
            dict(enumerate(solution)) if solution is not None else plan_values(built, incumbent)
        )
        # Once there is a plan, every other neighbourhood is the moves one, while it or
        # the site ones are not solved from this incumbent.
        moves = best is not None and not moves_done and (sites_done or not last_moves)
        last_moves = moves
        if moves:
            jobs = moved_jobs(instance, incumbent, anchor)
            free = set(anchor)
        else:
            jobs = frozenset()
            free = anchor | search.pick(ranked, first)
        neighbourhood = fixed_outside(built, values, free, jobs)
        if neighbourhood is None:
            break
        if solution is not None:
            neighbourhood.model.proto.solution_hint.vars.extend(range(len(solution)))
            neighbourhood.model.proto.solution_hint.values.extend(solution)
        elif best is not None:
            add_hint(neighbourhood, incumbent)  # checked by `run` (it may be no plan here)
        # Without a plan, no hint: OR-Tools 9.15.6755 can abort on an interleaved search
        # of a model it finds infeasible whose hint is no plan (`checked_hint`).
        limit = min(left, NEIGHBOURHOOD_S if best is not None else repair_s)
        found = run(
            neighbourhood,
            time.perf_counter() + limit,
            workers,
            seed,
            options,
            hint_is_plan=solution is not None,
        )
        improved = False
        if found.has_plan:
            plan = accepted(instance, extract_plan(neighbourhood, found.values))
            if plan is None:
                from solver.solve import ClaimContradictionError

                raise ClaimContradictionError(
                    "internal error: a plan of the restricted model fails the check; "
                    "please report this instance"
                )
            if best is None or plan.objective < best.objective - 1e-9 * abs(best.objective):
                best = incumbent = plan
                solution = [round(v) for v in found.values]
                improved = True
        exhausted = found.status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
        log.debug(
            "%s neighbourhood of %d sites, %d jobs: status %d in %.1f s, best %s",
            "moves" if moves else "site",
            len(free),
            len(jobs),
            found.status,
            limit,
            None if best is None else f"{best.objective:,.0f}",
        )
        if improved:
            moves_done = sites_done = False
        if moves:
            moves_done = exhausted and not improved
        else:
            search.next_size(exhausted=exhausted, improved=improved)
            first = False
            sites_done = len(free) - len(anchor) >= len(ranked) and exhausted and not improved
        if best is None and time.perf_counter() - began >= REPAIR_SHARE * (deadline - began):
            break  # left to the whole model, which may prove there is no plan
        if sites_done and (moves_done or best is None):
            break  # every site was free and the neighbourhood was solved
    return best


def moved_jobs(instance: Instance, incumbent: ScheduledPlan, anchor: set[str]) -> frozenset[str]:
    """The jobs of `current` that `incumbent` runs elsewhere or leaves out, and those that
    run at the anchor in `current`: the moves neighbourhood frees their placements (the
    budget bounds how many move), with every replica count outside the anchor fixed. The
    site neighbourhoods fix a moved job at its new site unless that site is free, so they
    never revisit which jobs move and where: on generated M's grid incident (10 / 1,000,
    30 s) the moves neighbourhood, solved to its optimum in 4 s, took the plan from
    157.86M to 157.12M, and the site ones after it to 156.17-157.03M (156.5-157.1M
    without); with 16 moves at 20 s, 152.44-152.46M (153.75M without)."""
    now = {t.job: (t.site, t.accelerator) for t in incumbent.training}
    return frozenset(
        job
        for job, here in current_training(instance).items()
        if now.get(job) != here or here[0] in anchor
    )
