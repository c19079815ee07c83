"""Large-neighbourhood search over workloads, for instances too large to model whole.

Each step frees a *neighbourhood*: the work the plan leaves out (`left_out_neighbourhood`),
or the workloads (inference services and training jobs) the plan puts at the sites
nearest a region, in turn the one whose unserved demand costs most (`short_region`) and
one picked at random (`region_neighbourhood`). They are planned
again on a *residual instance*: the same sites and network, those workloads only, and
only the capacity the rest of the plan leaves (inventory, grid power, cooling, link
bandwidth); a site the rest keeps active has no fixed cost there. A residual instance
is small enough for the LP relaxation, so `solve` brings its LP-guided greedy start and
rounding search to it. The neighbourhood's new plan replaces its old one only when the
whole plan then costs less, so the plan's cost never rises. No bound is proved.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models import COOLING_KINDS
from models.network import GBPS_PER_RPS_KB
from solver.costs import plan_costs, replica_size, unserved_cost
from solver.heuristics.subinstance import sub_instance
from solver.plan import Plan

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from models import Instance, Solution

#: Most eligible decisions (placements, replica options, routes) the workloads of one
#: neighbourhood may have in the whole instance. With STEP_S, measured on generated XL-0
#: (six to fourteen steps from the greedy plan): 15,000 and 10 s gained 0.43M per second,
#: 40,000 and 30 s 0.26M, 6,000 and 5 s 0.33M.
NEIGHBOURHOOD_DECISIONS = 15_000
#: Time limit of one neighbourhood's re-plan (large instances; see MID_STEP_S in
#: solver.solve for mid-sized ones). Generated XL-0 at 240 s, the same steps in the same
#: order (the search's seed): with 5 s each the plan reached 5,418.8M at 122 s, with
#: 10 s 5,417.9M at 174 s (the re-plans of 15,000 decisions reach their plan within 5 s
#: since the greedy planner's `d317b6f`; 10 s was tuned before it). At 300 s: 5 s
#: 5,336.9M (43 steps by 265 s), 2.5 s 5,403.5M (88 steps; later steps need the time).
STEP_S = 5.0
#: Least time left for one more step to be worth starting.
MIN_STEP_S = 5.0
#: Share of its bandwidth a residual link keeps when the rest uses it all (the SPEC
#: gives a link a positive bandwidth or none).
MIN_LINK_SHARE = 1e-9
#: A left-out step follows a left-out step only when that one saved at least this share
#: of the plan (each left-out step changes the left-out set a little, so without it they
#: ran back to back for little: generated XL-0, five in a row saving 14.9, 4.0, 0.8, 0.1
#: and 0.8M of 5,551M).
LEFT_OUT_AGAIN_GAIN = 1e-3
#: A new plan must be cheaper by this share of the old one to be kept (float noise).
MIN_GAIN = 1e-9


@dataclass(frozen=True)
class Neighbourhood:
    """The workloads one step plans again."""

    services: frozenset[str]
    jobs: frozenset[str]


@dataclass
class _Used:
    """Capacity a part of a plan uses."""

    inventory: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    it_kw: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cooling_kw: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    link_gbps: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    active: set[str] = field(default_factory=set)

    def take(self, instance: Instance, site: str, accelerator: str, count: int) -> None:
        acc = instance.accelerator_by_id[accelerator]
        self.inventory[site, accelerator] += count
        self.it_kw[site] += acc.power_kw * count
        self.cooling_kw[site, acc.cooling] += acc.power_kw * count
        self.active.add(site)

    def carry(self, links: tuple[int, ...], gbps: float) -> None:
        for index in links:
            self.link_gbps[index] += gbps


def _used_outside(instance: Instance, plan: Plan, free: Neighbourhood) -> _Used:
    """What the plan's decisions for the workloads outside `free` use."""
    used = _Used()
    for placement in plan.training:
        if placement.job in free.jobs:
            continue
        used.take(instance, placement.site, placement.accelerator, placement.count)
        dataset = instance.training_by_id[placement.job].dataset
        if dataset is not None and dataset.read_gbps > 0 and dataset.at != placement.site:
            route = instance.paths.route(dataset.at, placement.site)
            assert route is not None
            used.carry(route.links, dataset.read_gbps)
    for replicas in plan.inference:
        if replicas.service in free.services or replicas.replicas <= 0:
            continue
        size = replica_size(instance, replicas.service, replicas.accelerator)
        used.take(instance, replicas.site, replicas.accelerator, size * replicas.replicas)
    for flow in plan.routes:
        if flow.service in free.services:
            continue
        service = instance.inference_by_id[flow.service]
        if service.kb_per_request > 0:
            route = instance.paths.route(flow.region, flow.site)
            assert route is not None
            used.carry(route.links, flow.rps * service.kb_per_request * GBPS_PER_RPS_KB)
    return used


def residual_instance(instance: Instance, plan: Plan, free: Neighbourhood) -> Instance:
    """The instance of the workloads in `free`, with the capacity the rest of `plan`
    leaves them and no fixed cost at sites the rest keeps active."""
    used = _used_outside(instance, plan, free)
    sites = []
    for site in instance.sites:
        inventory = [
            item.model_copy(
                update={"count": max(0, item.count - used.inventory[site.id, item.accelerator])}
            )
            for item in site.inventory
        ]
        cooling = None
        if site.cooling_kw is not None:
            cooling = {
                kind: max(0.0, limit - used.cooling_kw[site.id, kind])
                for kind, limit in site.cooling_kw.items()
                if kind in COOLING_KINDS
            }
        sites.append(
            site.model_copy(
                update={
                    "inventory": inventory,
                    "grid_kw": max(0.0, site.grid_kw - used.it_kw[site.id] * site.pue),
                    "cooling_kw": cooling,
                    "fixed_cost": 0.0 if site.id in used.active else site.fixed_cost,
                }
            )
        )
    links = [
        link
        if link.bandwidth_gbps is None
        else link.model_copy(
            update={
                "bandwidth_gbps": max(
                    link.bandwidth_gbps * MIN_LINK_SHARE,
                    link.bandwidth_gbps - used.link_gbps[index],
                )
            }
        )
        for index, link in enumerate(instance.links)
    ]
    return sub_instance(
        instance, f"{instance.name}/neighbourhood", sites, links, free.services, free.jobs
    )


def merged(instance: Instance, plan: Plan, free: Neighbourhood, part: Solution) -> Plan:
    """`plan` with the decisions for the workloads in `free` replaced by `part`'s."""
    training = [t for t in plan.training if t.job not in free.jobs] + list(part.training)
    unplaced = [j for j in plan.unplaced_training if j not in free.jobs]
    unplaced += part.unplaced_training
    inference = [r for r in plan.inference if r.service not in free.services]
    inference += part.inference
    routes = [f for f in plan.routes if f.service not in free.services] + list(part.routes)
    unserved = [w for w in plan.unserved if w.service not in free.services]
    unserved += part.unserved
    training.sort(key=lambda t: (t.job, t.site, t.accelerator))
    inference.sort(key=lambda r: (r.service, r.site, r.accelerator))
    routes.sort(key=lambda f: (f.service, f.region, f.site))
    unserved.sort(key=lambda w: (w.service, w.region))
    unplaced.sort()
    costs = plan_costs(instance, training, unplaced, inference, routes, unserved)
    return Plan(training, unplaced, inference, routes, unserved, costs)


def choose_neighbourhood(
    instance: Instance, plan: Plan, rng: random.Random, decisions: int
) -> Neighbourhood:
    """The workloads the plan puts at the sites nearest a random region (see
    `region_neighbourhood`)."""
    regions = sorted(r.id for r in instance.regions)
    region = rng.choice(regions) if regions else None
    return region_neighbourhood(instance, plan, region, rng, decisions)


def region_neighbourhood(
    instance: Instance, plan: Plan, region: str | None, rng: random.Random, decisions: int
) -> Neighbourhood:
    """The services whose demand from `region` the plan leaves unserved, then the
    workloads the plan puts at the sites nearest `region` (work it leaves out counts as
    at every site that could take it), nearest site first, until their eligible decisions
    would exceed `decisions` (at least one workload); sites the region does not reach
    come after, in an order drawn from `rng`.

    The region's short services come first: at a full site the jobs (sorted first) would
    otherwise take all of the room (generated XL-0: 71 jobs and none of the services
    short in the region)."""
    eligibility = instance.eligibility
    at_site: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for placement in plan.training:
        at_site[placement.site].append(("job", placement.job))
    for replicas in plan.inference:
        at_site[replicas.site].append(("service", replicas.service))
    # Work left out counts as at every site that could take it.
    for job_id in plan.unplaced_training:
        for site in {p.site for p in eligibility.training[job_id]}:
            at_site[site].append(("job", job_id))
    short = {(w.service, w.region) for w in plan.unserved}
    for service_id in sorted({service for service, _ in short}):
        pairs = eligibility.routes[service_id]
        for site in {p.site for p in pairs if (service_id, p.region) in short}:
            at_site[site].append(("service", service_id))
    routes = instance.paths.from_source(region) if region is not None else {}
    # Nearest first; sites the region does not reach after them, in random order.
    far = sorted(s for s in at_site if s not in routes)
    rng.shuffle(far)
    order = sorted((s for s in at_site if s in routes), key=lambda s: (routes[s].latency_ns, s))
    order += far
    first = [("service", service) for service, at in sorted(short) if at == region]
    workloads = first + [w for site in order for w in sorted(at_site[site])]
    return _gathered(instance, workloads, decisions)


def short_region(
    instance: Instance, plan: Plan, tried: set[tuple[str, float]]
) -> tuple[str, float] | None:
    """(region, penalty): the region whose demand the plan leaves unserved at the
    dearest penalty, among those not in `tried` at that same penalty; None when there is
    none.

    Demand goes unserved where the sites within its SLO are full (grid power, stock,
    a link's bandwidth), mostly with work that could go elsewhere: the work at the
    sites nearest the region (`region_neighbourhood`) holds both, which neither the
    left-out work alone nor a random region's neighbourhood does. Generated XL-0, 150 s
    of steps from the priced greedy plan: 5,590.4M with random regions only, 5,457.2M
    with every other step at the short region; one such step (45 services, 40 jobs)
    saved 49.4M, and the left-out work's re-plan after it 14.9M more."""
    penalty: dict[str, float] = defaultdict(float)
    for short in plan.unserved:
        penalty[short.region] += unserved_cost(instance, short)
    dearest = sorted(penalty, key=lambda region: (-penalty[region], region))
    return next(((r, penalty[r]) for r in dearest if (r, penalty[r]) not in tried), None)


def _gathered(
    instance: Instance, workloads: Iterable[tuple[str, str]], decisions: int
) -> Neighbourhood:
    """The ("job" or "service", id) `workloads` in order, each once, until their eligible
    decisions would exceed `decisions` (at least one workload, if any)."""
    eligibility = instance.eligibility
    services: set[str] = set()
    jobs: set[str] = set()
    total = 0
    for kind, workload in workloads:
        if workload in (services if kind == "service" else jobs):
            continue
        size = (
            len(eligibility.replicas[workload]) + len(eligibility.routes[workload])
            if kind == "service"
            else len(eligibility.training[workload])
        )
        if total + size > decisions and (services or jobs):
            break
        (services if kind == "service" else jobs).add(workload)
        total += size
    return Neighbourhood(frozenset(services), frozenset(jobs))


def left_out_neighbourhood(instance: Instance, plan: Plan, decisions: int) -> Neighbourhood | None:
    """The services whose demand the plan leaves unserved and the optional jobs it leaves
    unplaced, dearest penalty first, until their eligible decisions would exceed
    `decisions` (at least one workload); None when the plan leaves nothing out.

    Left-out work is scattered over the network, so neighbourhoods around one region
    rarely hold much of it, while re-planning it alone on what the rest of the plan
    leaves is a small problem: on generated L-0's 120 s plan, 54 services (1,059
    decisions) re-planned in 20 s saved 18.3M of 1,036.5M."""
    penalty: dict[tuple[str, str], float] = defaultdict(float)
    for short in plan.unserved:
        penalty["service", short.service] += unserved_cost(instance, short)
    for job_id in plan.unplaced_training:
        if instance.eligibility.training[job_id]:
            penalty["job", job_id] += instance.training_by_id[job_id].unplaced_cost
    dearest = sorted(penalty, key=lambda workload: (-penalty[workload], workload))
    free = _gathered(instance, dearest, decisions)
    return free if free.services or free.jobs else None


def improve(
    instance: Instance,
    plan: Plan,
    deadline: float,
    replan: Callable[[Instance, float], Solution],
    *,
    seed: int = 0,
    on_plan: Callable[[Plan], None] | None = None,
    step_s: float = STEP_S,
) -> Plan:
    """Re-plan neighbourhoods of `plan` with `replan` (at most `step_s` each) until
    `deadline` (a perf_counter time); the cheapest plan found, never costlier than
    `plan`."""
    rng = random.Random(seed)
    tried: Neighbourhood | None = None
    tried_regions: set[tuple[str, float]] = set()
    targeted = False
    again = True
    while deadline - time.perf_counter() >= MIN_STEP_S:
        # The work the plan leaves out first, each time it is not what was tried last
        # (but not after a left-out step that gained little); else, in turn, the work
        # around the region with the dearest unserved demand (not tried yet at that
        # penalty) and around a random region.
        left_out = left_out_neighbourhood(instance, plan, NEIGHBOURHOOD_DECISIONS)
        before = plan.objective
        if left_out is not None and left_out != tried and again:
            free = tried = left_out
        else:
            targeted = not targeted
            short = short_region(instance, plan, tried_regions) if targeted else None
            if short is not None:
                tried_regions.add(short)
                free = region_neighbourhood(instance, plan, short[0], rng, NEIGHBOURHOOD_DECISIONS)
            else:
                free = choose_neighbourhood(instance, plan, rng, NEIGHBOURHOOD_DECISIONS)
        residual = residual_instance(instance, plan, free)
        part = replan(residual, min(step_s, deadline - time.perf_counter()))
        if part.status in ("feasible", "optimal"):
            candidate = merged(instance, plan, free, part)
            if candidate.objective < plan.objective * (1 - MIN_GAIN):
                plan = candidate
                if on_plan is not None:
                    on_plan(plan)
        again = free is not tried or plan.objective <= before * (1 - LEFT_OUT_AGAIN_GAIN)
    return plan
