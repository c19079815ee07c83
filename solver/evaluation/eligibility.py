"""Index a plan once and check each entry against the SPEC section 4 rules.

The rules are read from the instance directly, not from `Instance.eligibility`
(which prunes options that can never fit) nor `Instance.paths` (routes come from the
evaluator's own `solver.evaluation.paths`): the evaluator must judge every plan by
the SPEC alone. Structural rules (known ids, no duplicates, the accelerator is
an option or profile of the workload, no negative amounts) apply to every entry;
site rules (inventory, allowed sites, tags, dataset reachable, region has demand,
route within the SLO) apply to entries with a positive amount, since a zero entry
places nothing.

Entries whose size is known (known site, accelerator and workload; for replicas
also a known profile) still count towards usage and cost even when they break a
rule: the evaluation reports what the plan, as written, would consume.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from solver.evaluation.periods import WHOLE_HORIZON, demand_in
from solver.evaluation.violations import Violation, fmt

if TYPE_CHECKING:
    from models import (
        Accelerator,
        InferenceService,
        Instance,
        Site,
        Solution,
        TrainingJob,
    )
    from solver.evaluation.lookup import InstanceLookup
    from solver.evaluation.paths import Route


@dataclass(frozen=True, slots=True)
class JobPlacement:
    """A training entry with known job, site and accelerator (y[j,s,a] = 1)."""

    job: TrainingJob
    site: Site
    accelerator: Accelerator
    count: int
    #: Path from the dataset's node to the site; None without a dataset or when unreachable.
    dataset_route: Route | None
    #: S_j in a scheduled instance (None elsewhere, or when the plan leaves it out)
    start_hour: int | None = None


@dataclass(frozen=True, slots=True)
class ReplicaGroup:
    """A replica entry with known service, site and profile (r[i,s,a])."""

    service: InferenceService
    site: Site
    accelerator: Accelerator
    replicas: int
    per_replica: int
    rps_per_replica: float
    #: the period the replicas run in ("all" unless the instance is scheduled)
    period: str = WHOLE_HORIZON

    @property
    def accelerators(self) -> int:
        """Accelerators the group occupies."""
        return self.replicas * self.per_replica

    @property
    def capacity_rps(self) -> float:
        """Requests per second the group sustains."""
        return self.replicas * self.rps_per_replica


@dataclass(frozen=True, slots=True)
class Flow:
    """A route entry with known service and region (x[i,u,s]); `route` is None when the
    site is unknown or unreachable from the region."""

    service: InferenceService
    region: str
    site: str
    rps: float
    route: Route | None
    site_known: bool
    #: the period of the flow ("all" unless the instance is scheduled)
    period: str = WHOLE_HORIZON


@dataclass
class IndexedPlan:
    """The plan's entries resolved against the instance, plus what broke SPEC section 4."""

    placements: list[JobPlacement] = field(default_factory=list)
    replica_groups: list[ReplicaGroup] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    #: (service, region, period) -> unserved rps, for known services
    unserved: dict[tuple[str, str, str], float] = field(default_factory=dict)
    #: non-required jobs that are not placed (they pay unplaced_cost)
    unplaced_jobs: list[TrainingJob] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def flag(self, entity: str, amount: float, message: str) -> None:
        """Record an eligibility violation."""
        self.violations.append(Violation("eligibility", entity, amount, message))


def index_plan(instance: Instance, lookup: InstanceLookup, solution: Solution) -> IndexedPlan:
    """Resolve every plan entry, checking the SPEC section 4 rules as it goes."""
    plan = IndexedPlan()
    _index_training(lookup, solution, plan)
    _check_job_coverage(instance, solution, plan)
    _index_replicas(lookup, solution, plan)
    _index_routes(lookup, solution, plan)
    _index_unserved(lookup, solution, plan)
    return plan


def _site_rules(
    plan: IndexedPlan,
    lookup: InstanceLookup,
    entity: str,
    site: Site,
    accelerator: str,
    allowed_sites: list[str] | None,
    requires_tags: list[str],
) -> None:
    """Inventory, allowed sites and tags: the site rules shared by jobs and services."""
    if (site.id, accelerator) not in lookup.inventory:
        plan.flag(entity, 1, f"site {site.id} has no {accelerator} in its inventory")
    if allowed_sites is not None and site.id not in allowed_sites:
        plan.flag(entity, 1, f"site {site.id} is not among the allowed sites")
    missing = lookup.missing_tags(site.id, requires_tags)
    if missing:
        plan.flag(entity, len(missing), f"site {site.id} lacks required tags {', '.join(missing)}")


def _known_ids(
    plan: IndexedPlan, lookup: InstanceLookup, entity: str, site_id: str, accelerator_id: str
) -> tuple[Site, Accelerator] | None:
    """The entry's site and accelerator, flagging whichever id is unknown."""
    site = lookup.sites.get(site_id)
    accelerator = lookup.accelerators.get(accelerator_id)
    if site is None:
        plan.flag(entity, 1, f"unknown site '{site_id}'")
    if accelerator is None:
        plan.flag(entity, 1, f"unknown accelerator '{accelerator_id}'")
    if site is None or accelerator is None:
        return None
    return site, accelerator


def _entry_period(
    plan: IndexedPlan, lookup: InstanceLookup, entity: str, period: str | None
) -> str | None:
    """The period an inference, route or unserved entry is for, flagging a period that is
    missing or unknown in a scheduled instance (None: the entry cannot be placed in time)
    and a period given where the instance has none (the entry then counts for "all")."""
    if not lookup.horizon.scheduled:
        if period is not None:
            plan.flag(entity, 1, f"names period '{period}', but the instance is not scheduled")
        return WHOLE_HORIZON
    if period is None:
        plan.flag(entity, 1, "names no period (the instance is scheduled)")
        return None
    if lookup.horizon.get(period) is None:
        plan.flag(entity, 1, f"unknown period '{period}'")
        return None
    return period


def _in_period(entity: str, period: str | None) -> str:
    """An entity named with its period, when it has one."""
    return entity if period is None else f"{entity} in period {period}"


def _start_hour(
    plan: IndexedPlan, lookup: InstanceLookup, entity: str, start_hour: int | None
) -> int | None:
    """A training entry's start: required in a scheduled instance, absent elsewhere."""
    if not lookup.horizon.scheduled:
        if start_hour is not None:
            plan.flag(
                entity, 1, f"start_hour {start_hour} given, but the instance is not scheduled"
            )
        return None
    if start_hour is None:
        plan.flag(entity, 1, "no start_hour (the instance is scheduled)")
    elif not float(start_hour).is_integer():
        plan.flag(entity, 1, f"start_hour {start_hour} is not a whole hour")
    return start_hour


def _index_training(lookup: InstanceLookup, solution: Solution, plan: IndexedPlan) -> None:
    for entry in solution.training:
        entity = f"job {entry.job} / site {entry.site} / {entry.accelerator}"
        job = lookup.jobs.get(entry.job)
        if job is None:
            plan.flag(entity, 1, f"unknown training job '{entry.job}'")
            continue
        known = _known_ids(plan, lookup, entity, entry.site, entry.accelerator)
        if known is None:
            continue
        site, accelerator = known
        if entry.count < 0:
            plan.flag(entity, -entry.count, f"negative count {entry.count}")
        option = lookup.options.get((job.id, accelerator.id))
        if option is None:
            plan.flag(entity, 1, f"{accelerator.id} is not an option of job {job.id}")
        elif entry.count != option.count:
            plan.flag(
                entity,
                abs(entry.count - option.count),
                f"uses {entry.count} accelerators, the option needs {option.count}",
            )
        _site_rules(
            plan, lookup, entity, site, accelerator.id, job.allowed_sites, job.requires_tags
        )
        dataset_route = None
        if job.dataset is not None:
            dataset_route = lookup.routes.route(job.dataset.at, site.id)
            if dataset_route is None:
                plan.flag(entity, 1, f"site {site.id} cannot reach the dataset at {job.dataset.at}")
        start_hour = _start_hour(plan, lookup, entity, entry.start_hour)
        plan.placements.append(
            JobPlacement(job, site, accelerator, entry.count, dataset_route, start_hour)
        )


def _check_job_coverage(instance: Instance, solution: Solution, plan: IndexedPlan) -> None:
    """Required jobs placed exactly once, every job at most once, and `unplaced_training`
    naming exactly the non-required jobs left out."""
    placed = Counter(placement.job.id for placement in plan.placements)
    listed = Counter(solution.unplaced_training)
    known = {job.id for job in instance.training}
    for job_id, times in listed.items():
        entity = f"job {job_id}"
        if job_id not in known:
            plan.flag(entity, 1, f"unplaced_training names unknown job '{job_id}'")
        elif times > 1:
            plan.flag(entity, times - 1, f"listed {times} times in unplaced_training")
    for job in instance.training:
        entity = f"job {job.id}"
        times = placed[job.id]
        if times > 1:
            plan.flag(entity, times - 1, f"placed {times} times, at most once allowed")
        if times == 0 and job.required:
            where = " (listed in unplaced_training)" if job.id in listed else ""
            plan.flag(entity, 1, f"required job is not placed{where}")
        elif times > 0 and job.id in listed:
            plan.flag(entity, 1, "placed and also listed in unplaced_training")
        elif times == 0 and job.id not in listed:
            plan.flag(entity, 1, "not placed and not listed in unplaced_training")
        if times == 0 and not job.required:
            plan.unplaced_jobs.append(job)


def _index_replicas(lookup: InstanceLookup, solution: Solution, plan: IndexedPlan) -> None:
    seen: set[tuple[str, str, str, str | None]] = set()
    for entry in solution.inference:
        entity = _in_period(
            f"service {entry.service} / site {entry.site} / {entry.accelerator}", entry.period
        )
        key = (entry.service, entry.site, entry.accelerator, entry.period)
        if key in seen:
            plan.flag(entity, 1, "listed twice in inference")
        seen.add(key)
        period = _entry_period(plan, lookup, entity, entry.period)
        if period is None:
            continue
        service = lookup.services.get(entry.service)
        if service is None:
            plan.flag(entity, 1, f"unknown inference service '{entry.service}'")
            continue
        known = _known_ids(plan, lookup, entity, entry.site, entry.accelerator)
        if known is None:
            continue
        site, accelerator = known
        if entry.replicas < 0:
            plan.flag(entity, -entry.replicas, f"negative replicas {entry.replicas}")
        profile = lookup.profiles.get((service.id, accelerator.id))
        if profile is None:
            plan.flag(entity, 1, f"{accelerator.id} is not a profile of service {service.id}")
            continue
        if entry.replicas > 0:
            _site_rules(
                plan,
                lookup,
                entity,
                site,
                accelerator.id,
                service.allowed_sites,
                service.requires_tags,
            )
        plan.replica_groups.append(
            ReplicaGroup(
                service,
                site,
                accelerator,
                entry.replicas,
                profile.per_replica,
                profile.rps,
                period,
            )
        )


def _index_routes(lookup: InstanceLookup, solution: Solution, plan: IndexedPlan) -> None:
    seen: set[tuple[str, str, str, str | None]] = set()
    for entry in solution.routes:
        entity = _in_period(
            f"service {entry.service} / region {entry.region} / site {entry.site}", entry.period
        )
        key = (entry.service, entry.region, entry.site, entry.period)
        if key in seen:
            plan.flag(entity, 1, "listed twice in routes")
        seen.add(key)
        period = _entry_period(plan, lookup, entity, entry.period)
        if period is None:
            continue
        service = lookup.services.get(entry.service)
        if service is None:
            plan.flag(entity, 1, f"unknown inference service '{entry.service}'")
        if entry.region not in lookup.regions:
            plan.flag(entity, 1, f"unknown region '{entry.region}'")
        site_known = entry.site in lookup.sites
        if not site_known:
            plan.flag(entity, 1, f"unknown site '{entry.site}'")
        if service is None or entry.region not in lookup.regions:
            continue
        if entry.rps < 0:
            plan.flag(entity, -entry.rps, f"negative rps {fmt(entry.rps)}")
        route = lookup.routes.route(entry.region, entry.site) if site_known else None
        if entry.rps > 0:
            if entry.region not in demand_in(service, period):
                plan.flag(entity, entry.rps, f"region {entry.region} has no demand for the service")
            if site_known and route is None:
                plan.flag(entity, entry.rps, f"site {entry.site} is unreachable from the region")
            elif route is not None and not route.within(service.latency_slo_ms):
                # The SLO is an eligibility rule (SPEC §4), compared in whole ns as the
                # models compare it, with no further tolerance (docs/spec-readings.md).
                plan.flag(
                    entity,
                    abs(route.latency_ms - service.latency_slo_ms),
                    f"latency {fmt(route.latency_ms)} ms exceeds the SLO of "
                    f"{fmt(service.latency_slo_ms)} ms",
                )
        plan.flows.append(
            Flow(service, entry.region, entry.site, entry.rps, route, site_known, period)
        )


def _index_unserved(lookup: InstanceLookup, solution: Solution, plan: IndexedPlan) -> None:
    for entry in solution.unserved:
        entity = _in_period(f"service {entry.service} / region {entry.region}", entry.period)
        period = _entry_period(plan, lookup, entity, entry.period)
        if period is None:
            continue
        key = (entry.service, entry.region, period)
        service = lookup.services.get(entry.service)
        if service is None:
            plan.flag(entity, 1, f"unknown inference service '{entry.service}'")
        if entry.region not in lookup.regions:
            plan.flag(entity, 1, f"unknown region '{entry.region}'")
        if service is None or entry.region not in lookup.regions:
            continue
        if key in plan.unserved:
            plan.flag(entity, 1, "listed twice in unserved")
        if entry.rps < 0:
            plan.flag(entity, -entry.rps, f"negative rps {fmt(entry.rps)}")
        if entry.rps > 0 and entry.region not in demand_in(service, period):
            plan.flag(entity, entry.rps, f"region {entry.region} has no demand for the service")
        plan.unserved[key] = plan.unserved.get(key, 0.0) + entry.rps
