"""The greedy planner's entry, `greedy`: it runs passes for each share of the capacity
prices and each job order, each pass placing first the work earlier passes left out,
and keeps the plan that leaves least required work out, then the cheapest."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from models import (
    ReplicaAssignment,
    RouteFlow,
    Solution,
    SolverInfo,
    TrainingAssignment,
    UnservedDemand,
)
from solver.costs import plan_costs
from solver.heuristics.greedy.ledger import Capacity
from solver.heuristics.greedy.placement import place_training, plan_service
from solver.heuristics.greedy.pricing import Guide, Prices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import InferenceService, Instance, TrainingPlacement
    from solver.heuristics.greedy.placement import ServicePlan

#: Shares of the LP's capacity prices the guided passes add to option costs, in the order
#: tried (the cheapest plan is kept). Measured on generated M-0..2 and L-0..2 (guided
#: greedy, best of both job orders): weight 1 gave 143.1 / 138.1 / 246.3M and
#: 1,087.8 / 1,146.7 / 973.3M, weight 0.5 143.8 / 138.7 / 245.9M and 1,047.6 / 1,131.6 /
#: 967.4M, weight 0.25 144.6 / 139.0 / 245.7M and 1,075.0 / 1,113.4 / 966.5M, no prices
#: 149.0 / 137.1 / 245.9M and 1,122.1 / 1,163.1 / 974.7M.
PRICE_WEIGHTS = (0.5, 0.25, 0.0)
#: From this pass on (counted from 0), the services earlier passes left short are planned
#: before the training jobs.
SHORT_BEFORE_TRAINING = 2
#: Most greedy passes of a partial plan (generated L-0 needs five to be complete).
GREEDY_ATTEMPTS = 8


def greedy(
    instance: Instance,
    *,
    partial: bool = False,
    time_limit_s: float | None = None,
    guide: Guide | None = None,
    price_weights: Sequence[float] = PRICE_WEIGHTS,
    job_orders: Sequence[bool] | None = None,
) -> Solution:
    """The greedy plan of `instance` (status `feasible`), or status `unknown` if it fails.

    With `partial`, a failure does not stop it: what could not be placed or served
    is left out, and the incomplete plan (status `unknown`) still serves as a hint;
    it then tries again (up to GREEDY_ATTEMPTS passes) with every service that has
    come up short so far planned first, from the third pass also before the
    training jobs, and every required job left out so far placed before all else,
    and returns the first complete plan (or the one leaving least
    must-serve demand out). Past `time_limit_s` no further
    service is planned. A `guide` (LP relaxation values) makes it prefer what the
    LP uses; with a guide the passes run twice, the second time with the optional jobs
    the LP places planned with the required ones, and the cheaper complete plan is kept
    (the first helps on generated L-1, the second on M-1 and M-2). A guide with capacity
    prices runs both once for each of `price_weights`, each option costed with that share
    of the prices of the capacity it takes, so that work with many places to go leaves
    the capacity that latency-bound work needs. `job_orders` chooses which of the two
    runs happen (False: the optional jobs after the required ones; True: with them);
    None: both when the guide places jobs, else the first."""
    started = time.perf_counter()
    deadline = math.inf if time_limit_s is None else started + time_limit_s
    guide = guide or Guide()
    best: Solution | None = None
    weights = price_weights if guide.capacity_prices else (0.0,)
    if job_orders is None:
        job_orders = (False, True) if guide.placements else (False,)
    for weight in weights:
        capacity = {pair: weight * price for pair, price in guide.capacity_prices.items()}
        prices = Prices(instance, capacity if weight > 0 else {})
        for lp_first in job_orders:
            if best is not None and time.perf_counter() > deadline:
                break
            solution = _greedy_passes(instance, partial, deadline, guide, lp_first, prices)
            if best is None or _rank(instance, solution) < _rank(instance, best):
                best = solution
    assert best is not None
    wall_s = round(time.perf_counter() - started, 3)
    return best.model_copy(update={"solver": best.solver.model_copy(update={"wall_s": wall_s})})


def _rank(instance: Instance, solution: Solution) -> tuple[float, float]:
    """Plans that leave less required work out first, then cheaper ones."""
    return _shortfall(instance, solution), solution.objective or math.inf


@dataclass(frozen=True)
class _PassOrder:
    """What one greedy pass plans ahead of the usual order: the work earlier passes left
    out."""

    #: Services planned before the other services.
    services: frozenset[str] = frozenset()
    #: Whether those services also go before the training jobs.
    services_before_training: bool = False
    #: Required jobs placed before everything else.
    jobs: frozenset[str] = frozenset()


def _greedy_passes(
    instance: Instance,
    partial: bool,
    deadline: float,
    guide: Guide,
    lp_first: bool,
    prices: Prices,
) -> Solution:
    """The passes of `greedy` in one job order; the first complete plan, or the one that
    leaves least required work out."""
    best: Solution | None = None
    order = _PassOrder()
    must_serve = {s.id for s in instance.inference if s.unserved_cost_per_rps_hour is None}
    required = {j.id for j in instance.training if j.required}
    for attempt in range(GREEDY_ATTEMPTS if partial else 0):
        order = replace(order, services_before_training=attempt >= SHORT_BEFORE_TRAINING)
        solution = _greedy_once(instance, partial, deadline, guide, order, lp_first, prices)
        if best is None or _shortfall(instance, solution) < _shortfall(instance, best):
            best = solution
        if _shortfall(instance, solution) == 0 or time.perf_counter() > deadline:
            break
        order = replace(
            order,
            services=order.services
            | {w.service for w in solution.unserved if w.service in must_serve},
            jobs=order.jobs | (required & set(solution.unplaced_training)),
        )
    if best is None:
        best = _greedy_once(instance, partial, deadline, guide, _PassOrder(), lp_first, prices)
    return best


def _shortfall(instance: Instance, solution: Solution) -> float:
    """Must-serve rps and required jobs a (partial) plan leaves out; inf without a plan."""
    if solution.objective is None:
        return math.inf
    required = {j.id for j in instance.training if j.required}
    must_serve = {s.id for s in instance.inference if s.unserved_cost_per_rps_hour is None}
    planned = {r.service for r in solution.inference} | {w.service for w in solution.unserved}
    missing_services = sum(
        sum(s.demand_rps.values()) for s in instance.inference if s.id not in planned
    )
    return (
        sum(w.rps for w in solution.unserved if w.service in must_serve)
        + missing_services
        + 1e6 * len(required & set(solution.unplaced_training))
    )


def _greedy_once(
    instance: Instance,
    partial: bool,
    deadline: float,
    guide: Guide,
    first: _PassOrder,
    lp_first: bool,
    prices: Prices,
) -> Solution:
    """One greedy pass: the jobs of `first` are placed first, then its services planned
    (before or after the other training jobs), then the rest (`lp_first`: see
    place_training)."""
    capacity = Capacity.of(instance)
    info = SolverInfo(name="greedy", version="1", seed=0, time_limit_s=None, wall_s=0.0)

    tightness = _tightness(instance)

    # Services with a region that few sites can serve first (others would take those
    # sites' capacity), then those that must be served, the fewest sites, the largest.
    def order(service: InferenceService) -> tuple[bool, int, bool, int, float, str]:
        sites = {o.site for o in instance.eligibility.replicas[service.id]}
        return (
            service.id not in first.services,
            tightness[service.id],
            service.unserved_cost_per_rps_hour is not None,
            len(sites),
            -sum(service.demand_rps.values()),
            service.id,
        )

    ordered = [s.id for s in sorted(instance.inference, key=order)]
    early = [s for s in ordered if s in first.services] if first.services_before_training else []
    early_jobs = [j for j in instance.training_by_id if j in first.jobs]
    other_jobs = [j for j in instance.training_by_id if j not in first.jobs]
    services: dict[str, ServicePlan] = {}
    complete_services = True
    training: tuple[list[TrainingPlacement], list[str]] | None = ([], [])
    batches: list[tuple[str, list[str]]] = [
        ("jobs", early_jobs),
        ("services", early),
        ("jobs", other_jobs),
        ("services", [s for s in ordered if s not in early]),
    ]
    for kind, batch in batches:
        if kind == "jobs":
            jobs = place_training(instance, capacity, partial, guide, lp_first, prices, batch)
            if jobs is None or training is None:
                training = None
                break
            training = (training[0] + jobs[0], training[1] + jobs[1])
            continue
        for service_id in batch:
            if time.perf_counter() > deadline:
                complete_services = False
                break
            plan = plan_service(instance, capacity, service_id, partial, guide, prices)
            if plan is None:
                complete_services = False
                break
            services[service_id] = plan
        if not complete_services and not partial:
            break
    if training is None or (not complete_services and not partial):
        return Solution(
            instance=instance.name, instance_sha256=instance.sha256, status="unknown", solver=info
        )
    placed, unplaced = training
    solution = _solution(instance, placed, unplaced, services, info)
    if partial and (len(services) < len(instance.inference) or not _complete(instance, solution)):
        return solution.model_copy(update={"status": "unknown"})
    return solution


def _tightness(instance: Instance) -> dict[str, int]:
    """For each service, how many sites can serve its hardest-to-serve region (with
    demand) within the SLO; 0 if such a region has none."""
    sites: dict[tuple[str, str], int] = defaultdict(int)
    for service_id, pairs in instance.eligibility.routes.items():
        for pair in pairs:
            sites[service_id, pair.region] += 1
    return {
        service.id: min(
            (sites[service.id, region] for region, rps in service.demand_rps.items() if rps > 0),
            default=0,
        )
        for service in instance.inference
    }


def _complete(instance: Instance, solution: Solution) -> bool:
    """Whether a partial greedy plan nonetheless placed every required job and served
    every demand that must be served."""
    required = {j.id for j in instance.training if j.required}
    if required & set(solution.unplaced_training):
        return False
    must_serve = {s.id for s in instance.inference if s.unserved_cost_per_rps_hour is None}
    return not any(w.service in must_serve for w in solution.unserved)


def _solution(
    instance: Instance,
    placed: list[TrainingPlacement],
    unplaced: list[str],
    services: dict[str, ServicePlan],
    info: SolverInfo,
) -> Solution:
    """The Solution holding one pass's placements and service plans, its costs recomputed."""
    training = sorted(
        (
            TrainingAssignment(job=p.job, site=p.site, accelerator=p.accelerator, count=p.count)
            for p in placed
        ),
        key=lambda t: t.job,
    )
    replicas, routes, unserved = [], [], []
    for service_id, plan in services.items():
        for option, count in plan.replicas.items():
            if count > 0:
                replicas.append(
                    ReplicaAssignment(
                        service=service_id,
                        site=option.site,
                        accelerator=option.accelerator,
                        replicas=count,
                    )
                )
        for (region, site), rps in plan.routes.items():
            if rps > 0:
                routes.append(RouteFlow(service=service_id, region=region, site=site, rps=rps))
        # A partial plan may leave must-serve demand out; it has no price then.
        for region, rps in plan.unserved.items():
            if rps > 0:
                unserved.append(UnservedDemand(service=service_id, region=region, rps=rps))
    replicas.sort(key=lambda r: (r.service, r.site, r.accelerator))
    routes.sort(key=lambda f: (f.service, f.region, f.site))
    unserved.sort(key=lambda w: (w.service, w.region))
    breakdown = plan_costs(instance, training, sorted(unplaced), replicas, routes, unserved)
    objective = math.fsum(breakdown.parts().values())
    return Solution(
        instance=instance.name,
        instance_sha256=instance.sha256,
        status="feasible",
        objective=objective,
        training=training,
        unplaced_training=sorted(unplaced),
        inference=replicas,
        routes=routes,
        unserved=unserved,
        costs=breakdown,
        solver=info,
    )
