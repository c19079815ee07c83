"""Cheap checks before any search: required jobs and must-serve demand with nowhere to go.

A finding is *structural* when no change to power, cooling or inventory can help (the job
is not allowed anywhere it could run, lacks tags, its dataset is unreachable, no site
stocks its accelerators; no site that may host the service is within the SLO). Those are
conflicts of one limit on their own. A job or demand that only numeric limits keep from
every site is reported too, and the search then names those limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.diagnosis.limits import Limit, listing, number

if TYPE_CHECKING:
    from models import Instance, Site, TrainingJob
    from solver.diagnosis.guarded import GuardedModel


@dataclass(frozen=True)
class Finding:
    """A required job or a demand that no site can take, and why, in one message."""

    limit: Limit
    message: str
    #: No power, cooling or inventory change helps: the limit conflicts on its own.
    structural: bool


def prechecks(guarded: GuardedModel) -> list[Finding]:
    """Every required job and must-serve demand with no eligible site, with reasons."""
    instance = guarded.instance
    variables = guarded.built.variables
    findings: list[Finding] = []
    lifted_jobs = {placement.job for placement in variables.placement}
    for job in instance.training:
        limit = Limit("job", (job.id,))
        if limit not in guarded.literals or instance.eligibility.training[job.id]:
            continue
        structural = job.id not in lifted_jobs
        reasons = [
            f"{site.id}: {reason}"
            for site in instance.sites
            if (reason := _job_reason(instance, job, site, numeric=not structural))
        ]
        what = "may run nowhere" if structural else "fits no site on its own"
        findings.append(
            Finding(limit, f"{job.id} is required but {what} ({listing(reasons)})", structural)
        )
    lifted_routes = {(pair.service, pair.region) for pair in variables.flow}
    real_routes = {
        (pair.service, pair.region)
        for pairs in instance.eligibility.routes.values()
        for pair in pairs
    }
    for limit in guarded.limits:
        if limit.family != "demand" or tuple(limit.key) in real_routes:
            continue
        service_id, region = limit.key
        structural = (service_id, region) not in lifted_routes
        findings.append(
            Finding(limit, _demand_message(instance, service_id, region, structural), structural)
        )
    return findings


def _job_reason(instance: Instance, job: TrainingJob, site: Site, *, numeric: bool) -> str:
    """Why the job cannot run at the site: a structural reason, or with `numeric` the
    figures that rule out each option stocked there ("" when it can run there)."""
    if job.allowed_sites is not None and site.id not in job.allowed_sites:
        return "" if numeric else "not in allowed_sites"
    missing = sorted(set(job.requires_tags) - set(site.tags))
    if missing:
        return "" if numeric else f"lacks tag {', '.join(missing)}"
    if job.dataset is not None and instance.paths.route(job.dataset.at, site.id) is None:
        return "" if numeric else f"dataset at {job.dataset.at} unreachable"
    stocked = [o for o in job.options if (site.id, o.accelerator) in instance.inventory_by_pair]
    if not stocked:
        return "" if numeric else "stocks none of its accelerators"
    if not numeric:
        return ""
    parts = []
    for option in stocked:
        accelerator = instance.accelerator_by_id[option.accelerator]
        count = instance.inventory_by_pair[site.id, option.accelerator].count
        it_kw = accelerator.power_kw * option.count
        cooling = site.cooling_limit_kw(accelerator.cooling)
        if option.count > count:
            parts.append(f"{number(count)} of {number(option.count)} {option.accelerator}")
        elif site.pue * it_kw > site.grid_kw:
            parts.append(
                f"grid {number(site.grid_kw)} kW < {number(site.pue * it_kw)} kW "
                f"for {number(option.count)} {option.accelerator}"
            )
        elif cooling is not None and it_kw > cooling:
            parts.append(
                f"{accelerator.cooling} cooling {number(cooling)} kW < {number(it_kw)} kW "
                f"for {number(option.count)} {option.accelerator}"
            )
    return "; ".join(parts)


def _demand_message(instance: Instance, service_id: str, region: str, structural: bool) -> str:
    """Why a region's demand has no site to go to."""
    service = instance.inference_by_id[service_id]
    rps = number(service.demand_rps.get(region, 0.0))
    slo = number(service.latency_slo_ms)
    head = f"{service_id} demand in {region} ({rps} rps) has no site within {slo} ms"
    if not structural:
        return f"{head} where one replica fits on its own (power, cooling or inventory)"
    accelerators = {p.accelerator for p in service.profiles}
    hosts = [
        (route.latency_ns, site_id, route.latency_ms)
        for site_id, route in instance.paths.from_source(region).items()
        if (service.allowed_sites is None or site_id in service.allowed_sites)
        and set(service.requires_tags).issubset(instance.site_by_id[site_id].tags)
        and any((site_id, a) in instance.inventory_by_pair for a in accelerators)
    ]
    if not hosts:
        return f"{head}: no site that may host it is reachable from {region}"
    _, nearest, latency = min(hosts)
    return f"{head}: the nearest site that may host it is {nearest} at {number(latency)} ms"
