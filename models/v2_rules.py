"""The rules of schema `infraplan/v2` (SPEC sections 8-11), each issue with its JSON path.

Run after the v1 cross-reference checks have passed, so every v1 id here is known.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Protocol

from models.issues import InputIssue, json_path

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models.instance import Instance
    from models.v2_fields import AcceleratorCount, OmitUnsetV2

#: The period id of a static instance's one period (SPEC §8).
STATIC_PERIOD = "all"

#: Fields that need `periods` (SPEC §9, last rule of "Fields").
_SCHEDULED_SITE_FIELDS = ("timeline",)
_SCHEDULED_JOB_FIELDS = (
    "release_hour",
    "deadline_hour",
    "due_hour",
    "late_cost_per_hour",
    "after",
)
_SCHEDULED_SERVICE_FIELDS = ("demand_by_period",)


def v2_issues(inst: Instance) -> list[InputIssue]:
    """Every v2 rule an instance breaks, in file order."""
    issues: list[InputIssue] = []

    def bad(message: str, *parts: str | int) -> None:
        issues.append(InputIssue(json_path(*parts), message))

    if not inst.is_v2:
        _v1_names_no_v2_field(inst, bad)
        return issues
    if inst.periods is not None:
        _periods(inst, bad)
    else:
        _static_has_no_schedule(inst, bad)
    if issues:
        return issues
    _timelines(inst, bad)
    _training_times(inst, bad)
    _demand_by_period(inst, bad)
    _expansions(inst, bad)
    _supply_limits(inst, bad)
    _current(inst, bad)
    return issues


class _Bad(Protocol):
    """Signature of the issue recorder passed to each rule."""

    def __call__(self, message: str, *parts: str | int) -> None: ...


def _v1_names_no_v2_field(inst: Instance, bad: _Bad) -> None:
    need = "needs schema 'infraplan/v2'"
    for name in sorted(inst.V2_FIELDS):
        if getattr(inst, name) is not None:
            bad(f"{name!r} {need}", name)
    entities_by_list: tuple[tuple[str, Sequence[OmitUnsetV2]], ...] = (
        ("sites", inst.sites),
        ("training", inst.training),
        ("inference", inst.inference),
    )
    for list_name, entities in entities_by_list:
        for index, entity in enumerate(entities):
            for name in sorted(entity.V2_FIELDS):
                if getattr(entity, name) is not None:
                    bad(f"{name!r} {need}", list_name, index, name)


def _periods(inst: Instance, bad: _Bad) -> None:
    periods = inst.periods or []
    if not periods:
        bad("at least one period is needed", "periods")
        return
    seen: set[str] = set()
    for index, period in enumerate(periods):
        if period.id in seen:
            bad(f"duplicate period id {period.id!r}", "periods", index, "id")
        seen.add(period.id)
    total = sum(period.hours for period in periods)
    if inst.horizon_hours != total:
        bad(
            f"horizon_hours {inst.horizon_hours:g} differs from the periods' total {total}",
            "horizon_hours",
        )


def _static_has_no_schedule(inst: Instance, bad: _Bad) -> None:
    need = "needs 'periods' (a static instance has no schedule)"
    for index, site in enumerate(inst.sites):
        for name in _SCHEDULED_SITE_FIELDS:
            if getattr(site, name) is not None:
                bad(f"{name!r} {need}", "sites", index, name)
    for index, job in enumerate(inst.training):
        for name in _SCHEDULED_JOB_FIELDS:
            if getattr(job, name) is not None:
                bad(f"{name!r} {need}", "training", index, name)
    for index, service in enumerate(inst.inference):
        for name in _SCHEDULED_SERVICE_FIELDS:
            if getattr(service, name) is not None:
                bad(f"{name!r} {need}", "inference", index, name)


def _period_index(inst: Instance) -> dict[str, int]:
    if inst.periods is None:
        return {STATIC_PERIOD: 0}
    return {period.id: index for index, period in enumerate(inst.periods)}


def _counts(
    entries: list[AcceleratorCount], stocked: set[str], bad: _Bad, *parts: str | int
) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = (*parts, "inventory", index, "accelerator")
        if entry.accelerator not in stocked:
            bad(f"accelerator {entry.accelerator!r} is not in the site's base inventory", *where)
        if entry.accelerator in seen:
            bad(f"accelerator {entry.accelerator!r} named twice in one entry", *where)
        seen.add(entry.accelerator)


def _timelines(inst: Instance, bad: _Bad) -> None:
    order = _period_index(inst)
    for s_index, site in enumerate(inst.sites):
        stocked = {item.accelerator for item in site.inventory}
        last = -1
        for e_index, entry in enumerate(site.timeline or []):
            base = ("sites", s_index, "timeline", e_index)
            position = order.get(entry.period)
            if position is None:
                bad(f"unknown period {entry.period!r}", *base, "period")
            elif position == last:
                bad(f"a second entry for period {entry.period!r}", *base, "period")
            elif position < last:
                bad(f"period {entry.period!r} is out of period order", *base, "period")
            else:
                last = position
            _counts(entry.inventory or [], stocked, bad, *base)


def _training_times(inst: Instance, bad: _Bad) -> None:
    horizon = inst.horizon_hours
    by_id = inst.training_by_id
    scheduled = inst.periods is not None
    for index, job in enumerate(inst.training):
        base = ("training", index)
        if scheduled and not float(job.run_hours).is_integer():
            bad(
                f"run_hours must be a whole number of hours, not {job.run_hours:g}",
                *base,
                "run_hours",
            )
        if job.deadline_hour is not None and job.deadline_hour > horizon:
            bad(
                f"deadline_hour {job.deadline_hour} is after the horizon's end {horizon:g}",
                *base,
                "deadline_hour",
            )
        for a_index, other in enumerate(job.after or []):
            if other not in by_id:
                bad(f"unknown training job {other!r}", *base, "after", a_index)
            elif other == job.id:
                bad("a job cannot run after itself", *base, "after", a_index)
    cycle = _after_cycle(inst)
    if cycle:
        position = {job.id: index for index, job in enumerate(inst.training)}
        bad(
            "'after' has a cycle: " + " -> ".join([*cycle, cycle[0]]),
            "training",
            position[cycle[0]],
            "after",
        )


def _after_cycle(inst: Instance) -> list[str]:
    """One cycle of the `after` graph (jobs in order), or [] when it is acyclic."""
    known = inst.training_by_id
    edges = {
        job.id: [k for k in (job.after or []) if k in known and k != job.id]
        for job in inst.training
    }
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for root in edges:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        state[root] = 1
        while stack:
            node, next_edge = stack[-1]
            successors = edges[node]
            if next_edge < len(successors):
                stack[-1] = (node, next_edge + 1)
                child = successors[next_edge]
                if state.get(child) == 1:
                    return path[path.index(child) :]
                if child not in state:
                    state[child] = 1
                    stack.append((child, 0))
                    path.append(child)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return []


def _demand_by_period(inst: Instance, bad: _Bad) -> None:
    order = _period_index(inst)
    regions = {region.id for region in inst.regions}
    for index, service in enumerate(inst.inference):
        for period_id, demand in (service.demand_by_period or {}).items():
            base = ("inference", index, "demand_by_period", period_id)
            if period_id not in order:
                bad(f"unknown period {period_id!r}", *base)
            for region_id in demand:
                if region_id not in regions:
                    bad(f"unknown region {region_id!r}", *base, region_id)


def _expansions(inst: Instance, bad: _Bad) -> None:
    order = _period_index(inst)
    scheduled = inst.periods is not None
    for s_index, site in enumerate(inst.sites):
        stocked = {item.accelerator for item in site.inventory}
        seen: set[str] = set()
        for x_index, expansion in enumerate(site.expansions or []):
            base = ("sites", s_index, "expansions", x_index)
            if expansion.id in seen:
                bad(f"duplicate expansion id {expansion.id!r}", *base, "id")
            seen.add(expansion.id)
            if expansion.period is None:
                if scheduled:
                    bad("an expansion of a scheduled instance needs its 'period'", *base)
            elif expansion.period not in order:
                bad(f"unknown period {expansion.period!r}", *base, "period")
            _counts(expansion.inventory or [], stocked, bad, *base)


def _supply_limits(inst: Instance, bad: _Bad) -> None:
    seen: set[str] = set()
    for index, limit in enumerate(inst.supply_limits or []):
        where = ("supply_limits", index, "accelerator")
        if limit.accelerator not in inst.accelerator_by_id:
            bad(f"unknown accelerator {limit.accelerator!r}", *where)
        if limit.accelerator in seen:
            bad(f"a second supply limit for {limit.accelerator!r}", *where)
        seen.add(limit.accelerator)


def _current(inst: Instance, bad: _Bad) -> None:
    current = inst.current
    if current is None:
        return
    sites = inst.site_by_id
    jobs = inst.training_by_id
    services = inst.inference_by_id
    accelerators = inst.accelerator_by_id
    for index, entry in enumerate(current.training):
        base = ("current", "training", index)
        job = jobs.get(entry.job)
        if job is None:
            bad(f"unknown training job {entry.job!r}", *base, "job")
            continue
        site = sites.get(entry.site)
        if site is None:
            bad(f"unknown site {entry.site!r}", *base, "site")
            continue
        if entry.accelerator not in accelerators:
            bad(f"unknown accelerator {entry.accelerator!r}", *base, "accelerator")
            continue
        reason = _ineligible(inst, job.id, site.id, entry.accelerator)
        if reason:
            bad(
                f"{entry.job!r} cannot run at {entry.site!r} on {entry.accelerator!r}: {reason}",
                *base,
            )
        if job.release > 0:
            bad(f"a job of 'current' cannot have release_hour {job.release}", *base, "job")
        if job.predecessors:
            bad("a job of 'current' cannot have an 'after' list", *base, "job")
    for job_id, n in Counter(entry.job for entry in current.training).items():
        if n > 1 and job_id in jobs:
            bad(f"training job {job_id!r} listed {n} times", "current", "training")
    groups: Counter[tuple[str, str, str]] = Counter()
    for index, group in enumerate(current.inference):
        base = ("current", "inference", index)
        if group.service not in services:
            bad(f"unknown inference service {group.service!r}", *base, "service")
        if group.site not in sites:
            bad(f"unknown site {group.site!r}", *base, "site")
        if group.accelerator not in accelerators:
            bad(f"unknown accelerator {group.accelerator!r}", *base, "accelerator")
        groups[(group.service, group.site, group.accelerator)] += 1
    for (service, site_id, accelerator), n in groups.items():
        if n > 1:
            bad(
                f"({service!r}, {site_id!r}, {accelerator!r}) listed {n} times",
                "current",
                "inference",
            )


def _ineligible(inst: Instance, job_id: str, site_id: str, accelerator: str) -> str:
    """Why a placement is not one of SPEC §4's (capacity aside), or '' when it is."""
    job = inst.training_by_id[job_id]
    site = inst.site_by_id[site_id]
    if accelerator not in {option.accelerator for option in job.options}:
        return "the job has no option for that accelerator"
    if (site_id, accelerator) not in inst.inventory_by_pair:
        return "the site has no such accelerator in its inventory"
    if job.allowed_sites is not None and site_id not in job.allowed_sites:
        return "the site is not in allowed_sites"
    if not set(job.requires_tags).issubset(site.tags):
        return "the site lacks a required tag"
    if job.dataset is not None and inst.paths.route(job.dataset.at, site_id) is None:
        return "the dataset cannot reach the site"
    return ""


def current_training_issue(inst: Instance, job_id: str, site_id: str, accelerator: str) -> str:
    """Why a placement cannot be a `current` training entry of `inst` (SPEC §10), or ''."""
    job = inst.training_by_id.get(job_id)
    if job is None:
        return f"no training job {job_id!r} any more"
    if site_id not in inst.site_by_id:
        return f"no site {site_id!r} any more"
    if accelerator not in inst.accelerator_by_id:
        return f"no accelerator {accelerator!r} any more"
    reason = _ineligible(inst, job_id, site_id, accelerator)
    if reason:
        return f"no longer eligible there: {reason}"
    if job.release > 0:
        return f"the job now has release_hour {job.release}"
    if job.predecessors:
        return "the job now has an 'after' list"
    return ""
