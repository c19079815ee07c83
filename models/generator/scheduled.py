"""Scheduled instances (schema `infraplan/v2`, SPEC §9) and the witness plan they are built
around, from the v1 generator's network, workload and sizing steps.

Construction, in order (all draws from one `numpy.random.Generator(PCG64([seed, crc32(name)]))`):

1. Periods, network (`build_network`) and data lakes as in v1. A share of sites are new
   campuses: services are drawn (v1's `draw_service`) keeping off them, so only training can
   use them, once their power arrives.
2. At liquid sites, B200/GB200 that no service uses may be delivered in a later period.
3. Training jobs are drawn as in v1 (`draw_training`), with run hours of the family; they are
   grouped into pipelines linked by `after` and laid out in time (`timing.py`): a job at a new
   campus or on a late type starts once it is there, when its pipeline still fits.
4. Windows, due dates and late costs are cut around the witness run (`timing.py`); demand
   grows every period and the witness replicas with it (`demand_growth.py`).
5. Arrivals are settled (never after the witness first uses a site or type) and capacities are
   sized around the witness's busiest hour of every period (`scheduled_sizing.py`).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from models.catalog import ACCELERATORS
from models.generator.build import CARBON_PRICES, GENERATOR_VERSION
from models.generator.demand_growth import ServicePlan, grow_service
from models.generator.network import NetworkDraft, build_network, chance
from models.generator.scheduled_families import ScheduledFamily, scheduled_family
from models.generator.scheduled_sizing import (
    Arrivals,
    Horizon,
    scheduled_link_loads,
    settle_arrivals,
    site_peaks,
    size_scheduled_sites,
)
from models.generator.sizing import links_with_room
from models.generator.timing import TimedJob, cut_windows, draw_pipelines, lay_out, link_pipeline
from models.generator.workloads import Witness, data_lakes, draw_service, draw_training
from models.instance import Instance
from models.solution import Solution

#: Accelerator types that may be delivered after the first period.
NEW_GENERATION = ("b200", "gb200")


def generate_scheduled(family_name: str, seed: int) -> Instance:
    """A feasible scheduled instance of a family of SCHEDULED_FAMILIES (sched-S, sched-M,
    sched-L); the same (family, seed) always gives the same instance."""
    return generate_scheduled_with_witness(family_name, seed)[0]


def generate_scheduled_with_witness(family_name: str, seed: int) -> tuple[Instance, Solution]:
    """A scheduled instance and the feasible plan it was built around (status "feasible", no
    objective: the witness is a certificate, not an answer)."""
    family = scheduled_family(family_name)
    if seed < 0:
        raise ValueError(f"seed must be >= 0 (got {seed})")
    rng = np.random.Generator(np.random.PCG64([seed, zlib.crc32(family.name.encode())]))
    hours = tuple(int(rng.choice(family.period_hours)) for _ in family.period_ids)
    horizon = Horizon(tuple(int(s) for s in np.cumsum((0, *hours[:-1]))), hours)
    network = _network(rng, family)
    wanted = Arrivals()
    lakes = data_lakes(rng, network)
    drawn = Witness()
    inference = [draw_service(rng, network, n + 1, drawn) for n in range(family.base.inference)]
    campuses = sorted(set(network.site_index) - (network.open_sites or set()))
    wanted.powered = {s: int(rng.integers(1, family.latest_arrival + 1)) for s in campuses}
    network.open_sites = None
    wanted.delivered = _late_deliveries(rng, network, family, drawn)
    training = [
        draw_training(rng, network, n + 1, lakes, drawn) for n in range(family.base.training)
    ]
    jobs = _timed_jobs(rng, family, horizon, training, drawn, wanted)
    _schedule(rng, family, horizon, jobs, training)
    services = [
        grow_service(rng, service, drawn, family.period_ids, family.growth) for service in inference
    ]
    peaks = {
        site.id: site_peaks(site, horizon, [j for j in jobs if j.site == site.id], services)
        for site in network.sites
    }
    arrivals = settle_arrivals(wanted, peaks)
    carbon_price = CARBON_PRICES[int(rng.integers(len(CARBON_PRICES)))]
    sites = size_scheduled_sites(rng, network, family, family.period_ids, peaks, arrivals)
    reads = {
        job["id"]: (job["dataset"]["at"], job["dataset"]["read_gbps"])
        for job, timed in zip(training, jobs, strict=True)
        if "dataset" in job
        and job["dataset"].get("read_gbps")
        and job["dataset"]["at"] != timed.site
    }
    loads = scheduled_link_loads(network, horizon, jobs, reads, services)
    document = _document(family, seed, network, horizon, carbon_price, sites, training, inference)
    document["links"] = links_with_room(rng, network, loads)
    instance = Instance.model_validate(document)
    return instance, scheduled_witness(instance, family.period_ids, jobs, services, seed)


def _network(rng: np.random.Generator, family: ScheduledFamily) -> NetworkDraft:
    """v1's network; the new-campus share of sites is closed to services (open_sites)."""
    network = build_network(rng, family.base)
    count = min(len(network.sites) - 1, round(family.new_campus_share * len(network.sites)))
    drawn = rng.choice(len(network.sites), size=count, replace=False)
    campuses = {network.sites[int(i)].id for i in drawn}
    network.open_sites = {s.id for s in network.sites if s.id not in campuses}
    return network


def _late_deliveries(
    rng: np.random.Generator, network: NetworkDraft, family: ScheduledFamily, drawn: Witness
) -> dict[tuple[str, str], int]:
    """(site, type) of newest accelerators, unused by services, that arrive later."""
    serving = {(site, acc) for (_, site), (acc, _, _) in drawn.replicas.items()}
    late: dict[tuple[str, str], int] = {}
    for site in network.sites:
        for acc in site.accelerators:
            new = acc in NEW_GENERATION and (site.id, acc) not in serving
            if new and chance(rng, family.late_delivery_p):
                late[site.id, acc] = int(rng.integers(1, family.latest_arrival + 1))
    return late


def _timed_jobs(
    rng: np.random.Generator,
    family: ScheduledFamily,
    horizon: Horizon,
    training: list[dict[str, Any]],
    drawn: Witness,
    wanted: Arrivals,
) -> list[TimedJob]:
    """The drawn jobs with the family's run hours and the earliest start they aim for."""
    longest = horizon.end // max(family.pipeline_lengths)
    jobs: list[TimedJob] = []
    for job, (job_id, site, acc, count) in zip(training, drawn.training, strict=True):
        if family.run_hours is not None:
            run = int(rng.integers(family.run_hours[0], family.run_hours[1] + 1))
        else:
            run = round(job["run_hours"] * float(rng.uniform(*family.run_scale)))
        run = max(1, min(run, longest))
        if "unplaced_cost" in job:
            # v1 prices an optional job by what it would cost to run: keep that, at the new hours.
            scaled = job["unplaced_cost"] * run / job["run_hours"]
            job["unplaced_cost"] = max(100.0, round(scaled, -2))
        job["run_hours"] = float(run)
        earliest = horizon.starts[wanted.first_stock(site, acc)]
        jobs.append(TimedJob(job_id, site, acc, count, run, earliest))
    return jobs


def _schedule(
    rng: np.random.Generator,
    family: ScheduledFamily,
    horizon: Horizon,
    jobs: list[TimedJob],
    training: list[dict[str, Any]],
) -> None:
    """Pipelines, witness start hours, windows and due dates."""
    documents = {job["id"]: job for job in training}
    for group in draw_pipelines(rng, jobs, family):
        pipeline = [jobs[i] for i in group]
        lay_out(rng, pipeline, horizon.end)
        link_pipeline(pipeline, documents)
    for job in jobs:
        cut_windows(rng, family, job, documents[job.id], horizon.end)


def _document(
    family: ScheduledFamily,
    seed: int,
    network: NetworkDraft,
    horizon: Horizon,
    carbon_price: float,
    sites: list[dict[str, Any]],
    training: list[dict[str, Any]],
    inference: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "schema": "infraplan/v2",
        "name": f"gen-{family.name}-{seed}",
        "description": (
            f"Generated by models.generator v{GENERATOR_VERSION}: scheduled family "
            f"{family.name}, seed {seed}, {len(network.metros)} metros, "
            f"{len(horizon.hours)} periods."
        ),
        "meta": {"generator": {"family": family.name, "seed": seed, "version": GENERATOR_VERSION}},
        "horizon_hours": float(horizon.end),
        "periods": [
            {"id": period_id, "hours": hours}
            for period_id, hours in zip(family.period_ids, horizon.hours, strict=True)
        ],
        "carbon_price_per_tonne": carbon_price,
        "accelerators": [
            {
                "id": entry.id,
                "description": entry.name,
                "memory_gb": float(entry.memory_gb),
                "power_kw": entry.power_kw,
                "cooling": entry.cooling,
            }
            for entry in ACCELERATORS
        ],
        "sites": sites,
        "regions": [{"id": r.id, "meta": {"metro": r.metro.id}} for r in network.regions],
        "transit": [
            {"id": ix, "meta": {"metro": metro.id}}
            for ix, metro in zip(network.exchanges, network.metros, strict=True)
        ],
        "training": training,
        "inference": inference,
    }


def scheduled_witness(
    instance: Instance,
    period_ids: tuple[str, ...],
    jobs: list[TimedJob],
    services: list[ServicePlan],
    seed: int,
) -> Solution:
    """The witness as a SPEC §12 solution: lists sorted by id fields, then period order."""
    replicas = sorted(
        (plan.id, site, plan.shape[site][0], period, count)
        for plan in services
        for period in range(len(period_ids))
        for site, count in plan.replicas[period].items()
        if count > 0
    )
    routes = sorted(
        (plan.id, region, site, period, rps)
        for plan in services
        for period in range(len(period_ids))
        for region, site, rps in plan.routes[period]
        if rps > 0
    )
    return Solution.model_validate(
        {
            "schema": "infraplan-solution/v2",
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "status": "feasible",
            "training": [
                {
                    "job": job.id,
                    "site": job.site,
                    "accelerator": job.accelerator,
                    "count": job.count,
                    "start_hour": job.start,
                }
                for job in sorted(jobs, key=lambda j: j.id)
            ],
            "inference": [
                {
                    "service": service,
                    "site": site,
                    "accelerator": acc,
                    "replicas": count,
                    "period": period_ids[period],
                }
                for service, site, acc, period, count in replicas
            ],
            "routes": [
                {
                    "service": service,
                    "region": region,
                    "site": site,
                    "rps": float(rps),
                    "period": period_ids[period],
                }
                for service, region, site, period, rps in routes
            ],
            "expansions": [],
            "costs": {"lateness": 0.0, "moves": 0.0, "replica_starts": 0.0, "expansions": 0.0},
            "solver": {"name": "generator-witness", "version": GENERATOR_VERSION, "seed": seed},
        }
    )
