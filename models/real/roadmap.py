"""`roadmap-2026-2027`: the 2027 build-out planned quarter by quarter (schema `infraplan/v2`).

The sites, prices, power figures, links and workload mix are those of `real-buildout-2027`
(AWS and Azure regions, public figures from `models/data/reference/`); what this module adds
is time, and every timing figure is a named assumption (`ROADMAP_ASSUMPTIONS`):

- 8 periods, 2026-q1 to 2027-q4, of 2,190 h (a quarter of 8,760 h);
- each region's 2027 grid arrives in steps (`roadmap_grid_ramp`); liquid-cooled campuses power
  their liquid loop and receive B200 at a stated quarter, GB200 two quarters later
  (`roadmap_liquid_arrival`); base inventories list the Blackwell parts with count 0;
- serving demand grows 2^(1/8) a quarter from the 2025 mix, doubling by 2027-q4
  (`roadmap_demand_growth`);
- each pre-training job starts a pipeline pre-train -> fine-tune -> eval linked by `after`,
  planned in a stated quarter (`roadmap_pipeline_quarters`); the eval is due when the witness
  ends it, at a late cost per hour (`roadmap_late_cost`); fine-tunes run in windows of two
  quarters (`roadmap_fine_tune_windows`).

Feasibility is proved by a witness built quarter by quarter: each quarter is a static v1
instance (that quarter's capacities and demand, every job running in it at once) solved by
the real builder's greedy plan, so the witness is valid at every hour of the quarter.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.io import dump_model, parse_instance, write_atomic
from models.real import assumptions as A
from models.real.feasibility import GreedyPlan, InfeasibleInstance, greedy_plan
from models.real.scenarios import SCENARIO_BY_NAME, build_document
from models.real.workload_mix import (
    EU_TAG,
    PRETRAIN_2027,
    SERVICES_2025,
    market_metros,
    split_by_weight,
    training_options,
)
from models.solution import Solution

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance
    from models.real.hardware import AcceleratorKind
    from models.real.sources import ReferenceData
    from models.real.topology import AccessModel

ROADMAP_NAME = "roadmap-2026-2027"
#: The scenario whose sites, network and workload mix the roadmap plans in time.
BASE_SCENARIO = "real-buildout-2027"
QUARTER_HOURS = 2_190
QUARTERS: tuple[str, ...] = tuple(f"{y}-q{q}" for y in (2026, 2027) for q in (1, 2, 3, 4))
#: Share of the 2027 grid figure available in each quarter.
GRID_RAMP = (0.6, 0.6, 0.8, 0.8, 1.0, 1.0, 1.0, 1.0)
#: Per tier of region: (quarter the liquid campus powers on and B200 arrive, quarter GB200 arrive).
LIQUID_ARRIVAL = {"major": (2, 4), "standard": (4, 6), "small": (4, 6)}
DEMAND_GROWTH_PER_QUARTER = 2 ** (1 / 8)
#: Quarter (index into QUARTERS) in which each pre-training pipeline is planned.
PIPELINE_QUARTER = {
    "pretrain-code": 0,
    "pretrain-vision": 1,
    "pretrain-large": 2,
    "pretrain-frontier": 4,
    "pretrain-frontier-2": 5,
    "pretrain-eu-multilingual": 6,
    "pretrain-stretch": 7,
}
#: Fine-tune stage of a pipeline: this share of the pre-training size (at least 64), hours.
PIPELINE_FINE_TUNE_SHARE = 8
PIPELINE_FINE_TUNE_HOURS = 168
#: Eval stage: H100-equivalents and hours.
PIPELINE_EVAL_SIZE = 64
PIPELINE_EVAL_HOURS = 48
#: USD per hour late of a pipeline's eval, per H100-equivalent of its pre-training.
LATE_COST_PER_H100_EQUIVALENT = 1.0

ROADMAP_ASSUMPTIONS: tuple[A.Assumption, ...] = (
    A.Assumption(
        "roadmap_quarters",
        f"8 periods of {QUARTER_HOURS} h",
        "the plan covers 2026-q1 to 2027-q4; a quarter is a fourth of 8,760 h",
    ),
    A.Assumption(
        "roadmap_grid_ramp",
        "60 % / 80 % / 100 % of the 2027 grid from 2026-q1 / 2026-q3 / 2027-q1",
        "each region's 2027 facility power (grid_2027) is energised in steps",
    ),
    A.Assumption(
        "roadmap_liquid_arrival",
        "major regions: liquid loop and B200 2026-q3, GB200 2027-q1; others: 2027-q1 and 2027-q3",
        "liquid-cooled campuses (liquid_campus_2027) have no liquid cooling and no Blackwell "
        "parts before they power on; HGX B200 ship before GB200 NVL72 racks",
    ),
    A.Assumption(
        "roadmap_demand_growth",
        "x 2^(1/8) per quarter (9.05 %)",
        "serving demand of the 2025 mix grows every quarter from 2026-q1 and doubles by "
        "2027-q4, as real-buildout-2027 doubles it",
    ),
    A.Assumption(
        "roadmap_pipeline_quarters",
        ", ".join(f"{job} {QUARTERS[q]}" for job, q in PIPELINE_QUARTER.items()),
        "quarter each pre-training job is planned in (released at its start, deadline two "
        "quarters later); each required one starts a pipeline pre-train -> fine-tune "
        f"(1/{PIPELINE_FINE_TUNE_SHARE} of its size, at least {PIPELINE_EVAL_SIZE}, "
        f"{PIPELINE_FINE_TUNE_HOURS} h) -> eval ({PIPELINE_EVAL_SIZE} H100-equivalents, "
        f"{PIPELINE_EVAL_HOURS} h) linked by 'after'",
    ),
    A.Assumption(
        "roadmap_late_cost",
        f"{LATE_COST_PER_H100_EQUIVALENT:g} USD per hour per H100-equivalent of the pre-train",
        "a pipeline's eval is due when the witness ends it; each hour later costs this",
    ),
    A.Assumption(
        "roadmap_fine_tune_windows",
        "fine-tune i in quarter i mod 8, window of two quarters",
        "the 40 fine-tunes of the 2027 mix are spread evenly over the quarters, each released "
        "at its quarter's start with a deadline two quarters later (or the horizon's end)",
    ),
)
ROADMAP_ASSUMPTION_KEYS = tuple(a.key for a in ROADMAP_ASSUMPTIONS)


@dataclass
class Capacities:
    """Each site's grid, liquid cooling and stock per quarter (to build the witness from)."""

    grid: dict[str, list[float]] = field(default_factory=dict)
    liquid: dict[str, list[float]] = field(default_factory=dict)
    count: dict[tuple[str, str], list[int]] = field(default_factory=dict)


def _ramp_site(site: dict[str, Any], tier: str, capacities: Capacities) -> None:
    """Set base values and timeline of one 2027 build-out site; record its capacities."""
    grid = [round(site["grid_kw"] * share, 1) for share in GRID_RAMP]
    liquid_kw = site["cooling_kw"]["liquid"]
    blackwell = {item["accelerator"]: item["count"] for item in site["inventory"]}
    powered, gb200_at = LIQUID_ARRIVAL[tier]
    arrival = {"b200": powered, "gb200": gb200_at}
    liquid = [liquid_kw if liquid_kw == 0 or q >= powered else 0.0 for q in range(8)]
    for item in site["inventory"]:
        acc = item["accelerator"]
        first = arrival.get(acc, 0)
        capacities.count[site["id"], acc] = [blackwell[acc] if q >= first else 0 for q in range(8)]
        if first:
            item["count"] = 0
    capacities.grid[site["id"]] = grid
    capacities.liquid[site["id"]] = liquid
    site["grid_kw"] = grid[0]
    site["cooling_kw"] = {"liquid": liquid[0]}
    timeline = []
    for q in range(1, 8):
        entry: dict[str, Any] = {"period": QUARTERS[q]}
        if grid[q] != grid[q - 1]:
            entry["grid_kw"] = grid[q]
        if liquid[q] != liquid[q - 1]:
            entry["cooling_kw"] = {"liquid": liquid[q]}
        changed = [
            {"accelerator": acc, "count": counts[q]}
            for (site_id, acc), counts in capacities.count.items()
            if site_id == site["id"] and counts[q] != counts[q - 1]
        ]
        if changed:
            entry["inventory"] = changed
        if len(entry) > 1:
            timeline.append(entry)
    if timeline:
        site["timeline"] = timeline


def _pipelines(kinds: dict[str, AcceleratorKind], document: dict[str, Any]) -> list[Any]:
    """Pre-training jobs with windows, and the fine-tune and eval stages that follow them."""
    max_count, max_count_eu = _max_counts(document["sites"])
    by_id = {job["id"]: job for job in document["training"]}
    horizon = QUARTER_HOURS * len(QUARTERS)
    jobs: list[dict[str, Any]] = []
    for template in PRETRAIN_2027:
        quarter = PIPELINE_QUARTER[template.id]
        start = quarter * QUARTER_HOURS
        pretrain = copy.deepcopy(by_id[template.id])
        pretrain["release_hour"] = start
        pretrain["deadline_hour"] = min(horizon, start + 2 * QUARTER_HOURS)
        pretrain["meta"]["planned_quarter"] = QUARTERS[quarter]
        jobs.append(pretrain)
        if not template.required:
            continue
        name = template.id.removeprefix("pretrain-")
        limits = max_count_eu if template.eu_only else max_count
        fine_size = max(PIPELINE_EVAL_SIZE, template.h100_equivalent // PIPELINE_FINE_TUNE_SHARE)
        ends = start + int(template.run_hours) + PIPELINE_FINE_TUNE_HOURS + PIPELINE_EVAL_HOURS
        stages = (
            (f"finetune-{name}", fine_size, PIPELINE_FINE_TUNE_HOURS, template.id, "fine-tuning"),
            (f"eval-{name}", PIPELINE_EVAL_SIZE, PIPELINE_EVAL_HOURS, f"finetune-{name}", "eval"),
        )
        for job_id, size, hours, after, kind in stages:
            job: dict[str, Any] = {
                "id": job_id,
                "options": training_options(size, kinds, limits, fine_tuning=True),
                "run_hours": float(hours),
                "meta": {"kind": kind, "h100_equivalent": size, "pipeline": template.id},
                "deadline_hour": min(horizon, start + 2 * QUARTER_HOURS),
                "after": [after],
            }
            if template.eu_only:
                job["requires_tags"] = [EU_TAG]
            if kind == "eval":
                job["due_hour"] = ends
                job["late_cost_per_hour"] = LATE_COST_PER_H100_EQUIVALENT * template.h100_equivalent
            jobs.append(job)
    fine_tunes = [j for j in document["training"] if j["meta"]["kind"] == "fine-tuning"]
    for index, job in enumerate(fine_tunes):
        quarter = index % len(QUARTERS)
        timed = copy.deepcopy(job)
        timed["release_hour"] = quarter * QUARTER_HOURS
        timed["deadline_hour"] = min(horizon, (quarter + 2) * QUARTER_HOURS)
        timed["meta"]["planned_quarter"] = QUARTERS[quarter]
        jobs.append(timed)
    return jobs


def _max_counts(sites: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """The most of each type one site holds in 2027 (all sites, EU sites)."""
    best: dict[str, int] = {}
    best_eu: dict[str, int] = {}
    for site in sites:
        for item in site["inventory"]:
            acc = item["accelerator"]
            best[acc] = max(best.get(acc, 0), item["count"])
            if EU_TAG in site["tags"]:
                best_eu[acc] = max(best_eu.get(acc, 0), item["count"])
    return best, best_eu


def _grow_demand(services: list[dict[str, Any]]) -> None:
    """Demand per quarter: the 2025 totals x growth^(q+1), split over metros by weight."""
    templates = {t.id: t for t in SERVICES_2025}
    for service in services:
        template = templates[service["id"]]
        weights = market_metros(template.market)
        per_quarter = []
        for q in range(len(QUARTERS)):
            total = round(template.total_rps * DEMAND_GROWTH_PER_QUARTER ** (q + 1))
            split = split_by_weight(total, weights)
            per_quarter.append({metro: float(rps) for metro, rps in sorted(split.items())})
        service["demand_rps"] = per_quarter[0]
        service["demand_by_period"] = {QUARTERS[q]: per_quarter[q] for q in range(1, 8)}


def build_roadmap_document(
    data: ReferenceData, kinds: dict[str, AcceleratorKind], access: AccessModel
) -> tuple[dict[str, Any], Capacities]:
    """The roadmap instance document and each site's capacity per quarter."""
    scenario = SCENARIO_BY_NAME[BASE_SCENARIO]
    document = build_document(scenario, data, kinds, access)
    capacities = Capacities()
    for site in document["sites"]:
        _ramp_site(site, site["meta"]["tier"], capacities)
    document["training"] = _pipelines(kinds, document)
    _grow_demand(document["inference"])
    keys = (*scenario.assumption_keys, *ROADMAP_ASSUMPTION_KEYS)
    lines = document["description"].split("\n")
    summary = (
        "Roadmap 2026-2027 by quarter: the real-buildout-2027 regions, prices and workload mix "
        "with grids energised in steps, liquid campuses and Blackwell parts arriving at stated "
        "quarters, serving demand doubling over the two years, and pre-train -> fine-tune -> "
        "eval pipelines with windows and due dates."
    )
    document["description"] = "\n".join(
        [summary, *lines[1:], *(f"- {a.line()}" for a in ROADMAP_ASSUMPTIONS)]
    )
    document["schema"] = "infraplan/v2"
    document["name"] = ROADMAP_NAME
    document["horizon_hours"] = float(QUARTER_HOURS * len(QUARTERS))
    document["periods"] = [{"id": q, "hours": QUARTER_HOURS} for q in QUARTERS]
    document["meta"]["assumptions"] = list(keys)
    document["meta"]["builder"] = "infraplan build-real (models/real/roadmap.py)"
    return document, capacities


def witness_starts(instance: Instance) -> dict[str, int]:
    """Start hour of every job in the witness: a pipeline's stages back to back from its
    quarter's start; a fine-tune at its release."""
    starts: dict[str, int] = {}
    for job in instance.training:
        before = job.predecessors
        if before:
            previous = instance.training_by_id[before[0]]
            starts[job.id] = starts[previous.id] + int(previous.run_hours)
        else:
            starts[job.id] = job.release
    return starts


def _quarter_snapshot(
    document: dict[str, Any], capacities: Capacities, quarter: int, running: set[str]
) -> Instance:
    """A static v1 instance of one quarter: its capacities and demand, and every job that runs
    in it at once (without their timing fields)."""
    snapshot = copy.deepcopy(document)
    snapshot["schema"] = "infraplan/v1"
    snapshot["horizon_hours"] = float(QUARTER_HOURS)
    for key in ("periods",):
        snapshot.pop(key, None)
    for site in snapshot["sites"]:
        site.pop("timeline", None)
        site["grid_kw"] = capacities.grid[site["id"]][quarter]
        site["cooling_kw"] = {"liquid": capacities.liquid[site["id"]][quarter]}
        for item in site["inventory"]:
            item["count"] = capacities.count[site["id"], item["accelerator"]][quarter]
    timing = ("release_hour", "deadline_hour", "due_hour", "late_cost_per_hour", "after")
    snapshot["training"] = [
        {k: v for k, v in job.items() if k not in timing}
        for job in snapshot["training"]
        if job["id"] in running
    ]
    for service in snapshot["inference"]:
        by_period = service.pop("demand_by_period")
        service["demand_rps"] = by_period.get(QUARTERS[quarter], service["demand_rps"])
    return parse_instance(snapshot, f"{ROADMAP_NAME}@{QUARTERS[quarter]}")


def roadmap_witness(
    instance: Instance, document: dict[str, Any], capacities: Capacities
) -> tuple[Solution, list[GreedyPlan]]:
    """A feasible plan of the roadmap (unpriced), from one greedy plan per quarter.
    InfeasibleInstance if a quarter's greedy plan leaves a required job or demand out."""
    starts = witness_starts(instance)
    training: list[dict[str, Any]] = []
    inference: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    unserved: list[dict[str, Any]] = []
    plans: list[GreedyPlan] = []
    placed: set[str] = set()
    for quarter, period in enumerate(QUARTERS):
        begin, end = quarter * QUARTER_HOURS, (quarter + 1) * QUARTER_HOURS
        running = {
            job.id
            for job in instance.training
            if starts[job.id] < end and starts[job.id] + job.run_hours > begin
        }
        if any(starts[j] < begin for j in running):
            raise InfeasibleInstance(f"{ROADMAP_NAME}: a witness job spans two quarters")
        plan = greedy_plan(_quarter_snapshot(document, capacities, quarter, running))
        plans.append(plan)
        for job_id, (site, acc, count) in plan.training.items():
            placed.add(job_id)
            training.append(
                {"job": job_id, "site": site, "accelerator": acc, "count": count,
                 "start_hour": starts[job_id]}
            )  # fmt: skip
        inference += [
            {"service": s, "site": site, "accelerator": a, "replicas": n, "period": period}
            for (s, site, a), n in plan.replicas.items()
            if n > 0
        ]
        routes += [
            {"service": s, "region": r, "site": site, "rps": rps, "period": period}
            for (s, r, site), rps in plan.routes.items()
            if rps > 0
        ]
        unserved += [
            {"service": s, "region": r, "rps": rps, "period": period}
            for (s, r), rps in plan.unserved.items()
            if rps > 0
        ]
    missing = [j.id for j in instance.training if j.required and j.id not in placed]
    if missing:
        raise InfeasibleInstance(f"{ROADMAP_NAME}: the witness leaves out {', '.join(missing)}")
    order = {period: q for q, period in enumerate(QUARTERS)}

    def ordered(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda row: (*(row[k] for k in keys), order[row["period"]]))

    solution = Solution.model_validate(
        {
            "schema": "infraplan-solution/v2",
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "status": "feasible",
            "training": sorted(training, key=lambda row: row["job"]),
            "unplaced_training": sorted(j.id for j in instance.training if j.id not in placed),
            "inference": ordered(inference, "service", "site", "accelerator"),
            "routes": ordered(routes, "service", "region", "site"),
            "unserved": ordered(unserved, "service", "region"),
            "expansions": [],
            "costs": {"lateness": 0.0, "moves": 0.0, "replica_starts": 0.0, "expansions": 0.0},
            "solver": {"name": "infraplan-real-greedy", "version": "1"},
        }
    )
    return solution, plans


def roadmap_readme_section(instance: Instance, plan: Solution, size_bytes: int) -> list[str]:
    """The README section on the roadmap instance: what it holds, its assumptions, sources."""
    assert instance.periods is not None
    pipelines = {str((j.meta or {})["pipeline"]) for j in instance.training if j.after}
    arrivals = [
        f"| {site.id} | {(site.meta or {})['tier']} | "
        + "; ".join(
            f"{entry.period}: "
            + ", ".join(
                [*([f"grid {entry.grid_kw:g} kW"] if entry.grid_kw is not None else [])]
                + [f"liquid {kw:g} kW" for kw in (entry.cooling_kw or {}).values() if kw]
                + [f"{item.count} {item.accelerator}" for item in entry.inventory or []]
            )
            for entry in site.timeline or []
        )
        + " |"
        for site in instance.sites
        if any(entry.cooling_kw or entry.inventory for entry in site.timeline or [])
    ]
    first, last = instance.inference[0], instance.inference[-1]
    return [
        f"## Scheduled instance `{ROADMAP_NAME}.json` (schema infraplan/v2)",
        "",
        f"Built by `models/real/roadmap.py` with the others ({size_bytes / 1e6:.2f} MB): the "
        f"{len(instance.sites)} sites, links, prices and workload mix of `{BASE_SCENARIO}` "
        f"planned over {len(instance.periods)} quarters ({QUARTERS[0]} to {QUARTERS[-1]}, "
        f"{QUARTER_HOURS} h each): {len(instance.training)} training jobs "
        f"({len(pipelines)} pre-train -> fine-tune -> eval pipelines linked by `after`), "
        f"{len(instance.inference)} services whose demand grows every quarter "
        f"(e.g. {first.id}: {sum(first.demand_rps.values()):g} rps in {QUARTERS[0]}, "
        f"{sum(instance.schedule.demand[first.id][-1].values()):g} in {QUARTERS[-1]}; "
        f"{last.id}: {sum(last.demand_rps.values()):g} -> "
        f"{sum(instance.schedule.demand[last.id][-1].values()):g}). Public figures and "
        "their sources are those of the tables above; the timing is assumed (below).",
        "",
        "Feasible by construction: the builder's witness runs each pipeline's stages back to "
        "back from its planned quarter's start and each fine-tune at its release, and places "
        "each quarter's jobs, replicas and routes with the greedy plan of a static instance of "
        "that quarter (its capacities and demand, all its jobs at once), so the witness holds "
        f"at every hour; it places {len(plan.training)} jobs and leaves "
        f"{sum(u.rps for u in plan.unserved):g} rps-periods of droppable demand unserved. "
        "`tests/test_real_roadmap.py` checks it with the evaluator.",
        "",
        "Liquid campuses (grid steps at every region follow `roadmap_grid_ramp`):",
        "",
        "| site | tier | timeline |",
        "| --- | --- | --- |",
        *arrivals,
        "",
        "Assumptions of the roadmap (on top of those of real-buildout-2027 listed above):",
        "",
        *(f"- **{a.key}** = {a.value}: {a.text}." for a in ROADMAP_ASSUMPTIONS),
        "",
    ]


@dataclass(frozen=True, slots=True)
class BuiltRoadmap:
    """The written roadmap instance, its size and its witness."""

    instance: Instance
    path: Path
    size_bytes: int
    witness: Solution

    def readme_lines(self) -> list[str]:
        """Its README section."""
        return roadmap_readme_section(self.instance, self.witness, self.size_bytes)


def build_roadmap(
    out_dir: Path,
    data: ReferenceData,
    kinds: dict[str, AcceleratorKind],
    access: AccessModel,
    max_bytes: int,
) -> BuiltRoadmap:
    """Build, validate, prove feasible (witness) and write roadmap-2026-2027.json."""
    document, capacities = build_roadmap_document(data, kinds, access)
    instance = parse_instance(document, ROADMAP_NAME)
    witness, _ = roadmap_witness(instance, document, capacities)
    payload = dump_model(instance, exclude_unset=True)
    if len(payload) > max_bytes:
        raise ValueError(f"{ROADMAP_NAME} is {len(payload)} bytes, over {max_bytes}")
    path = out_dir / f"{ROADMAP_NAME}.json"
    write_atomic(path, payload)
    return BuiltRoadmap(instance, path, len(payload), witness)
