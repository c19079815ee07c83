"""The smallest change of one limit that restores a plan on its own.

Numeric limits (grid power, cooling, inventory, links): a CP-SAT model that keeps every
other limit and states this limit's rows with one slack variable, minimising the slack.
The best plan's use of the limit, measured in SPEC units by the evaluator, is the value
the limit must be raised to (rounded up to 0.001 kW or Gbps, or a whole accelerator).

Demand of a service in a region: the same model minimising that demand's unserved rps
gives the largest demand that can be met (the cut); and, separately, the smallest SLO at
which the service has a plan: a bisection over the sorted distinct latencies from its
demand regions to the sites that may host it (a looser SLO only adds routes, so having a
plan is monotone in the SLO), each step a feasibility check of the diagnosis model of the
instance with that SLO.

Promises (a required job, an n+1 rule): dropping them restores a plan or not; one check.

Every relaxation is re-checked with a real `solve` of the instance with the edit applied
when it is meant to restore a plan on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from models.base import MAX_COUNT, MAX_QUANTITY
from solver.diagnosis.guarded import build_guarded
from solver.diagnosis.limits import NUMERIC, Limit, limit_value, number
from solver.solve import SolveOptions, solve
from solver.whatif import DropJob, SetValue, apply_edits, field_path

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from models import Instance, Solution
    from solver.diagnosis.conflicts import Budget, PlanCheck
    from solver.diagnosis.guarded import GuardedModel
    from solver.evaluation import Evaluation
    from solver.whatif import Edit

#: Resolution of raised kW and Gbps figures.
RESOLUTION = 1000
#: Solver settings of checks that only ask whether a plan exists: stop at the first plan
#: (no training block: it could only improve a plan already found).
FIRST_PLAN = SolveOptions(
    parameters={"stop_after_first_solution": True}, lp=False, training_block=False
)


@dataclass(frozen=True)
class Relaxation:
    """A change of one limit, as a what-if edit, that restores a plan."""

    limit: Limit
    text: str
    edit: Edit
    #: The change in the limit's unit (kW, accelerators, Gbps, rps, ms); None to drop.
    amount: float | None = None
    #: Shown to be the smallest such change (False: the search ran out of time).
    smallest: bool = True
    #: A real solve of the edited instance found a plan (None: not checked, or no answer
    #: in time).
    verified: bool | None = None
    #: A plan of the edited instance found on the way (the hint of the check).
    witness: Solution | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        check = {True: "verified", False: "NOT confirmed", None: "not checked"}[self.verified]
        least = "" if self.smallest else ", may not be the smallest"
        return f"{self.text} [{self.edit}] ({check}{least})"


def relax(
    guarded: GuardedModel,
    limit: Limit,
    budget: Budget,
    *,
    set_aside: Collection[Limit] = (),
    plan_check: PlanCheck | None = None,
    workers: int = 1,
    seed: int = 0,
) -> list[Relaxation]:
    """The smallest relaxations of `limit` that restore a plan with every other limit
    kept (except those `set_aside`); empty when none does.

    Dropping a promise (a job, an n+1 rule) is decided by a quick check of the diagnosis
    model and, when that does not settle it, by `plan_check` (a real solve)."""
    enforced = [x for x in guarded.limits if x != limit and x not in set_aside]
    if limit.family in NUMERIC:
        answer = guarded.minimise(
            enforced,
            limit,
            [],
            time_limit_s=budget.check_s(),
            workers=workers,
            seed=seed,
            slack_rows=True,
        )
        if answer.status != "feasible":
            return []
        found = _raised(guarded.instance, limit, guarded.usage(answer.values), answer.proved)
        if found is None:
            return []
        return [replace(found, witness=guarded.solution(answer.values))]
    if limit.family == "demand":
        answer = guarded.minimise(
            enforced,
            limit,
            [(guarded.slack[limit], 1)],
            time_limit_s=budget.check_s(),
            workers=workers,
            seed=seed,
        )
        found_list: list[Relaxation] = []
        if answer.status == "feasible":
            unserved = guarded.usage(answer.values).services[limit.key[0]]
            cut = _demand_cut(guarded.instance, limit, unserved.unserved_by_region)
            witness = guarded.solution(answer.values)
            found_list.append(replace(cut, smallest=answer.proved, witness=witness))
        slo = slo_relaxation(
            guarded, limit, budget, set_aside=set_aside, plan_check=plan_check, seed=seed
        )
        if slo is not None:
            found_list.append(slo)
        return found_list
    text = (
        f"drop {limit.key[0]}" if limit.family == "job" else f"drop the n+1 rule of {limit.key[0]}"
    )
    answer = guarded.check(
        enforced, time_limit_s=budget.check_s(), seed=seed, quick_only=plan_check is not None
    )
    if answer.status == "feasible":
        witness = guarded.solution(answer.values)
        return [Relaxation(limit, text, relaxing_edit(limit), witness=witness)]
    if answer.status == "unknown" and plan_check is not None and not budget.spent:
        # Dropping a promise is exactly the edit a real solve checks: its plan verifies it.
        status, _ = plan_check({limit, *set_aside}, ())
        if status == "feasible":
            verified = True if not set_aside else None
            return [Relaxation(limit, text, relaxing_edit(limit), verified=verified)]
    return []


def relaxing_edit(limit: Limit) -> Edit:
    """The edit that lifts a limit altogether: unlimited power, cooling, stock or
    bandwidth; the job dropped; no demand in the region; no n+1 rule."""
    key = limit.key
    if limit.family == "grid_power":
        return SetValue(field_path("sites", (key[0],), "grid_kw"), MAX_QUANTITY)
    if limit.family == "cooling":
        return SetValue(field_path("sites", (key[0],), "cooling_kw", key[1]), MAX_QUANTITY)
    if limit.family == "inventory":
        return SetValue(field_path("sites", (key[0],), "inventory", (key[1],), "count"), MAX_COUNT)
    if limit.family == "bandwidth":
        return SetValue(field_path("links", (key[0], key[1]), "bandwidth_gbps"), None)
    if limit.family == "job":
        return DropJob(key[0])
    if limit.family == "demand":
        return SetValue(field_path("inference", (key[0],), "demand_rps", key[1]), 0)
    return SetValue(field_path("inference", (key[0],), "resilience"), "none")


def plan_exists(
    instance: Instance,
    relaxed: Collection[Limit],
    edits: Sequence[Edit] = (),
    *,
    time_limit_s: float,
    workers: int = 1,
    seed: int = 0,
) -> tuple[str, Solution]:
    """Whether a real `solve` finds a plan once `edits` are applied and the `relaxed`
    limits lifted: "feasible", "infeasible" (proved) or "unknown"; with the solution."""
    lifts = [relaxing_edit(limit) for limit in sorted(relaxed)]
    edited = apply_edits(instance, [*edits, *lifts])
    solution = solve(
        edited, time_limit_s=time_limit_s, workers=workers, seed=seed, options=FIRST_PLAN
    )
    if solution.has_plan:
        return "feasible", solution
    return ("infeasible" if solution.status == "infeasible" else "unknown"), solution


def _raised(instance: Instance, limit: Limit, usage: Evaluation, proved: bool) -> Relaxation | None:
    """The edit raising a numeric limit to what the plan in `usage` uses of it."""
    current = limit_value(instance, limit) or 0.0
    key = limit.key
    if limit.family == "inventory":
        used = float(usage.sites[key[0]].accelerators[key[1]].used)
        path = field_path("sites", (key[0],), "inventory", (key[1],), "count")
        new_value: float = int(used)
    else:
        if limit.family == "grid_power":
            used = usage.sites[key[0]].facility_kw
            path = field_path("sites", (key[0],), "grid_kw")
        elif limit.family == "cooling":
            used = usage.sites[key[0]].heat[key[1]].it_kw  # type: ignore[index]
            path = field_path("sites", (key[0],), "cooling_kw", key[1])
        else:
            link = next(x for x in usage.links if {x.a, x.b} == set(key))
            used = link.used_gbps
            path = field_path("links", (link.a, link.b), "bandwidth_gbps")
        new_value = math.ceil(round(used * RESOLUTION, 6)) / RESOLUTION
    if new_value <= current:
        return None
    increase = new_value - current
    unit = {"grid_power": "kW", "cooling": "kW", "bandwidth": "Gbps"}.get(limit.family, "")
    raised = f"{number(increase)} {unit}".rstrip()
    to = f"{number(new_value)} {unit}".rstrip()
    if limit.family == "grid_power":
        text = f"raise {key[0]} grid_kw by {raised} (to {to})"
    elif limit.family == "cooling":
        text = f"raise {key[0]} {key[1]} cooling by {raised} (to {to})"
    elif limit.family == "inventory":
        text = f"add {number(increase)} {key[1]} at {key[0]} (to {to})"
    else:
        text = f"raise link {key[0]}–{key[1]} bandwidth by {raised} (to {to})"
    return Relaxation(limit, text, SetValue(path, new_value), increase, proved)


def _demand_cut(instance: Instance, limit: Limit, unserved: dict[str, float]) -> Relaxation:
    """The edit lowering a region's demand to what can be served."""
    service_id, region = limit.key
    demand = instance.inference_by_id[service_id].demand_rps[region]
    cut = unserved.get(region, 0.0)
    new_value = round(demand - cut, 6)
    path = field_path("inference", (service_id,), "demand_rps", region)
    if new_value <= 0:
        text = f"drop {service_id} demand in {region} ({number(demand)} rps)"
        return Relaxation(limit, text, SetValue(path, 0), demand)
    text = f"cut {service_id} demand in {region} by {number(cut)} rps (to {number(new_value)})"
    return Relaxation(limit, text, SetValue(path, new_value), cut)


def slo_candidates(instance: Instance, service_id: str) -> list[float]:
    """Distinct latencies (ms, on the ns grid paths are compared on) above the service's
    SLO from its demand regions to every site that may host it, ascending."""
    service = instance.inference_by_id[service_id]
    accelerators = {p.accelerator for p in service.profiles}
    latencies: set[int] = set()
    for region, rps in service.demand_rps.items():
        if rps <= 0:
            continue
        for site_id, route in instance.paths.from_source(region).items():
            site = instance.site_by_id[site_id]
            if service.allowed_sites is not None and site_id not in service.allowed_sites:
                continue
            if not set(service.requires_tags).issubset(site.tags):
                continue
            if any((site_id, a) in instance.inventory_by_pair for a in accelerators):
                latencies.add(route.latency_ns)
    slo_ns = round(service.latency_slo_ms * 1_000_000)
    return [ns / 1_000_000 for ns in sorted(latencies) if ns > slo_ns]


def slo_relaxation(
    guarded: GuardedModel,
    limit: Limit,
    budget: Budget,
    *,
    set_aside: Collection[Limit] = (),
    plan_check: PlanCheck | None = None,
    seed: int = 0,
) -> Relaxation | None:
    """The smallest SLO of the demand's service at which a plan exists (every limit kept
    except those `set_aside`), by bisection over `slo_candidates`. Each step is a quick
    check of the diagnosis model with that SLO, then `plan_check` when that is unsure."""
    instance = guarded.instance
    service_id = limit.key[0]
    candidates = slo_candidates(instance, service_id)
    path = field_path("inference", (service_id,), "latency_slo_ms")
    proved = True

    witnesses: dict[float, Solution] = {}

    def has_plan(slo_ms: float) -> bool:
        nonlocal proved
        edit = SetValue(path, slo_ms)
        model = build_guarded(apply_edits(instance, [edit]))
        kept = [x for x in model.limits if x not in set_aside]
        quick = plan_check is not None
        answer = model.check(kept, time_limit_s=budget.check_s(), seed=seed, quick_only=quick)
        guarded.solves += model.solves
        status = answer.status
        if status == "feasible":
            witnesses[slo_ms] = model.solution(answer.values)
        elif status == "unknown" and plan_check is not None and not budget.spent:
            status, solution = plan_check(set(set_aside), (edit,))
            if status == "feasible":
                witnesses[slo_ms] = solution
        if status == "unknown":
            proved = False
        return status == "feasible"

    if not candidates or budget.spent or not has_plan(candidates[-1]):
        return None
    low, high = 0, len(candidates) - 1  # candidates[high] has a plan
    while low < high and not budget.spent:
        middle = (low + high) // 2
        if has_plan(candidates[middle]):
            high = middle
        else:
            low = middle + 1
    slo = candidates[high]
    current = instance.inference_by_id[service_id].latency_slo_ms
    text = f"serve {service_id} at {number(slo)} ms (SLO now {number(current)} ms)"
    return Relaxation(
        limit,
        text,
        SetValue(path, slo),
        slo - current,
        smallest=proved and low == high,
        witness=witnesses.get(slo),
    )


def verify(
    instance: Instance,
    relaxation: Relaxation,
    *,
    time_limit_s: float,
    workers: int = 1,
    seed: int = 0,
) -> Relaxation:
    """The relaxation, re-checked with a real solve of the edited instance (warm-started
    from the plan the relaxation was found with, stopping at the first plan)."""
    edited = apply_edits(instance, [relaxation.edit])
    solution = solve(
        edited,
        time_limit_s=time_limit_s,
        workers=workers,
        seed=seed,
        hint=relaxation.witness,
        options=FIRST_PLAN,
    )
    verified = True if solution.has_plan else (False if solution.status == "infeasible" else None)
    return replace(relaxation, verified=verified)
