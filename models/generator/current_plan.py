"""Seeded parts of a current plan for any instance (SPEC §10), on instance documents.

A re-planning case needs a `current` plan that is good but not the optimum of the
instance it is re-planned in, so that re-planning has real choices: the optimum of a
perturbed copy. This module draws the perturbation (`perturbed`: each service's demand
per region and each site's grid power scaled by seeded factors) and the re-planning
prices (`with_move_prices`: per job a move cost and a checkpoint size, per service a
replica start cost). Solving the perturbed copy is the solver's: `solver.replan_cases`
(generators never import the solver). Everything is a pure function of the document and
the seed.
"""

from __future__ import annotations

import copy
import random
import statistics
from typing import Any

#: Decimals kept in drawn figures (rps, kW, currency, GB).
DECIMALS = 3


def perturbed(
    document: dict[str, Any],
    seed: int,
    *,
    demand_spread: float = 0.25,
    grid_spread: float = 0.15,
) -> dict[str, Any]:
    """A copy of `document` with each (service, region) demand scaled by a factor drawn in
    [1 - demand_spread, 1 + demand_spread] (the same factor in every period) and each
    site's grid power (base and timeline) by one in [1 - grid_spread, 1 + grid_spread]."""
    rng = random.Random(f"current-plan-perturbation:{seed}")
    data = copy.deepcopy(document)
    for service in data.get("inference", []):
        regions = sorted(
            {
                *service.get("demand_rps", {}),
                *(r for by in (service.get("demand_by_period") or {}).values() for r in by),
            }
        )
        factors = {r: rng.uniform(1 - demand_spread, 1 + demand_spread) for r in regions}
        maps = [service.get("demand_rps", {}), *(service.get("demand_by_period") or {}).values()]
        for demand in maps:
            for region, rps in demand.items():
                demand[region] = round(rps * factors[region], DECIMALS)
    for site in data.get("sites", []):
        factor = rng.uniform(1 - grid_spread, 1 + grid_spread)
        site["grid_kw"] = round(site["grid_kw"] * factor, DECIMALS)
        for entry in site.get("timeline") or []:
            if entry.get("grid_kw") is not None:
                entry["grid_kw"] = round(entry["grid_kw"] * factor, DECIMALS)
    return data


def with_move_prices(
    document: dict[str, Any],
    seed: int,
    *,
    move_fraction: tuple[float, float] = (0.01, 0.1),
    checkpoint_gb_per_accelerator: tuple[float, float] = (2.0, 20.0),
    start_hours: tuple[float, float] = (0.5, 4.0),
) -> dict[str, Any]:
    """A copy of `document` as schema v2 with SPEC §10's prices drawn per job and service:

    - `move_cost`: a fraction in `move_fraction` of the job's cheapest run (its smallest
      option's count · run_hours · the median hourly cost of that accelerator);
    - `checkpoint_gb`: that count times a size in `checkpoint_gb_per_accelerator`;
    - `replica_start_cost`: `start_hours` hours of a replica of the service's first
      profile at that median hourly cost.

    Figures already in the document are kept."""
    rng = random.Random(f"current-plan-prices:{seed}")
    data = copy.deepcopy(document)
    data["schema"] = "infraplan/v2"
    hourly = _median_hourly_costs(data)
    for job in data.get("training", []):
        option = min(job["options"], key=lambda o: (o["count"], o["accelerator"]))
        count = option["count"]
        run = count * float(job["run_hours"]) * hourly.get(option["accelerator"], 1.0)
        move = round(run * rng.uniform(*move_fraction), DECIMALS)
        checkpoint = round(count * rng.uniform(*checkpoint_gb_per_accelerator), DECIMALS)
        job.setdefault("move_cost", move)
        job.setdefault("checkpoint_gb", checkpoint)
    for service in data.get("inference", []):
        profile = service["profiles"][0]
        replica = profile["per_replica"] * hourly.get(profile["accelerator"], 1.0)
        service.setdefault("replica_start_cost", round(replica * rng.uniform(*start_hours), 2))
    return data


def _median_hourly_costs(document: dict[str, Any]) -> dict[str, float]:
    costs: dict[str, list[float]] = {}
    for site in document.get("sites", []):
        for entry in site.get("inventory", []):
            costs.setdefault(entry["accelerator"], []).append(float(entry["hourly_cost"]))
    return {accelerator: statistics.median(values) for accelerator, values in costs.items()}
