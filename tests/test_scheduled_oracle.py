"""The scheduled solver's claims against an exhaustive oracle on tiny seeded instances.

The oracle shares no code with the solver: it enumerates every job's placement and start
hour (or leaving it out) and every replica count per site and period, checks SPEC §9's
limits at every hour to the SPEC's tolerance, serves the one region's demand from the
replicas (no egress, no limited link: served = min(demand, capacity)) and costs the plan
by SPEC §9-§10 itself. Figures include thirds and sevenths.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from solver import solve
from tests import builders as b
from tests.scheduled_cases import assert_claims_agree, v2

TOL = 1e-6
SITES = ("A", "B")


def over(lhs: float, limit: float) -> bool:
    return lhs - limit > max(TOL, TOL * max(abs(lhs), abs(limit)))


def draw(seed: int) -> dict[str, Any]:
    """A random tiny case: two sites, two periods, up to two jobs, one service."""
    rng = random.Random(seed)
    hours = [rng.choice([2, 3]), rng.choice([2, 3])]
    sites = []
    for name in SITES:
        sites.append(
            {
                "id": name,
                "count": [rng.randint(0, 4), rng.randint(0, 4)],
                "grid": [rng.choice([2.0, 3.0, 10 / 3, 100.0]), rng.choice([3.0, 20 / 7, 100.0])],
                "price": rng.choice([1.0, 1.5, 7 / 3]),
                "pue": rng.choice([1.0, 1.5]),
                "fixed": rng.choice([0.0, 0.0, 5.0]),
            }
        )
    power = rng.choice([1.0, 1 / 3, 0.7])
    jobs = []
    for index in range(rng.randint(0, 2)):
        run = rng.randint(1, 3)
        release = rng.choice([0, 0, 1])
        deadline = rng.choice([sum(hours), sum(hours), release + run + rng.randint(-1, 1)])
        deadline = max(0, min(deadline, sum(hours)))
        jobs.append(
            {
                "id": f"j{index}",
                "count": rng.randint(1, 3),
                "run": run,
                "release": release,
                "deadline": deadline,
                "due": rng.choice([None, run, run + 1]),
                "late": rng.choice([1.0, 10 / 3]),
                "required": rng.random() < 0.5,
                "unplaced": rng.choice([5.0, 50.0]),
                "after": index == 1 and rng.random() < 0.4,
            }
        )
    service = None
    if rng.random() < 0.8:
        rate = rng.choice([10.0, 10 / 3, 20 / 7])
        service = {
            "rps": rate,
            "demand": [rng.choice([0.0, rate, 2 * rate, 5.0, 20 / 3]) for _ in hours],
            "unserved": rng.choice([None, 0.5, 3.0]),
            "start": rng.choice([0.0, 2.0]),
        }
    return {"hours": hours, "sites": sites, "power": power, "jobs": jobs, "service": service}


def build(case: dict[str, Any]) -> Any:
    periods = [("p1", case["hours"][0]), ("p2", case["hours"][1])]
    sites = [
        b.site(
            s["id"],
            {"gpu": (s["count"][0], s["price"])},
            grid_kw=s["grid"][0],
            pue=s["pue"],
            energy_price=0.1,
            fixed_cost=s["fixed"],
            timeline=[
                {
                    "period": "p2",
                    "grid_kw": s["grid"][1],
                    "inventory": [{"accelerator": "gpu", "count": s["count"][1]}],
                }
            ],
        )
        for s in case["sites"]
    ]
    training = []
    for job in case["jobs"]:
        extra: dict[str, Any] = {
            "required": job["required"],
            "unplaced_cost": job["unplaced"],
            "release_hour": job["release"],
            "deadline_hour": job["deadline"],
        }
        if job["due"] is not None:
            extra |= {"due_hour": job["due"], "late_cost_per_hour": job["late"]}
        if job["after"]:
            extra["after"] = ["j0"]
        training.append(b.job(job["id"], {"gpu": job["count"]}, job["run"], **extra))
    inference = []
    service = case["service"]
    if service is not None:
        inference.append(
            b.service(
                "s",
                {"gpu": (1, service["rps"])},
                {"r": service["demand"][0]},
                demand_by_period={"p2": {"r": service["demand"][1]}},
                unserved_cost_per_rps_hour=service["unserved"],
                replica_start_cost=service["start"],
            )
        )
    return v2(
        periods,
        accelerators=[b.accelerator("gpu", power_kw=case["power"])],
        sites=sites,
        regions=["r"],
        links=[b.link("r", "A"), b.link("r", "B")],
        training=training,
        inference=inference,
    )


def oracle(case: dict[str, Any]) -> float | None:
    """The cheapest plan's cost by enumeration, or None when there is none."""
    hours = case["hours"]
    sites = {s["id"]: s for s in case["sites"]}
    rate = {n: s["price"] + case["power"] * s["pue"] * 0.1 for n, s in sites.items()}
    job_choices = []
    for job in case["jobs"]:
        options: list[tuple[str, int] | None] = [] if job["required"] else [None]
        for site in SITES:
            for start in range(job["release"], job["deadline"] - job["run"] + 1):
                options.append((site, start))
        job_choices.append(options)
    service = case["service"]
    most = 3
    replica_choices = list(itertools.product(range(most + 1), repeat=4)) if service else [(0,) * 4]
    best: float | None = None
    for placements in itertools.product(*job_choices):
        cost = 0.0
        by_id = {
            job["id"]: (job, where) for job, where in zip(case["jobs"], placements, strict=True)
        }
        if any(
            job["after"]
            and where is not None
            and (by_id["j0"][1] is None or where[1] < by_id["j0"][1][1] + by_id["j0"][0]["run"])
            for job, where in by_id.values()
        ):
            continue
        active: set[str] = set()
        for job, where in by_id.values():
            if where is None:
                cost += job["unplaced"]
                continue
            site, start = where
            active.add(site)
            cost += job["count"] * job["run"] * rate[site]
            if job["due"] is not None:
                cost += job["late"] * max(0, start + job["run"] - job["due"])
        for replicas in replica_choices:
            # replicas = (A p1, B p1, A p2, B p2)
            total = cost
            used_sites = set(active)
            ok = True
            for position in range(2):
                counts = {"A": replicas[position * 2], "B": replicas[position * 2 + 1]}
                for site, n in counts.items():
                    total += n * hours[position] * rate[site]
                    if n:
                        used_sites.add(site)
                if service is not None:
                    capacity = service["rps"] * sum(counts.values())
                    demand = service["demand"][position]
                    short = max(0.0, demand - capacity)
                    if short > max(TOL, TOL * demand):
                        if service["unserved"] is None:
                            ok = False
                            break
                        total += short * service["unserved"] * hours[position]
                    for site in SITES:
                        before = 0 if position == 0 else replicas[site == "B"]
                        total += service["start"] * max(0, counts[site] - before)
                start_hour = sum(hours[:position])
                for hour in range(start_hour, start_hour + hours[position]):
                    for site in SITES:
                        used = counts[site]
                        for job, where in by_id.values():
                            if (
                                where
                                and where[0] == site
                                and where[1] <= hour < where[1] + job["run"]
                            ):
                                used += job["count"]
                        limits = sites[site]
                        if over(used, limits["count"][position]) or over(
                            used * case["power"] * limits["pue"], limits["grid"][position]
                        ):
                            ok = False
                if not ok:
                    break
            if not ok:
                continue
            total += sum(sites[s]["fixed"] for s in used_sites)
            if best is None or total < best:
                best = total
    return best


@pytest.mark.parametrize("seed", range(40))
def test_no_claim_contradicts_the_oracle(seed: int) -> None:
    case = draw(seed)
    instance = build(case)
    expected = oracle(case)
    solution = solve(instance, time_limit_s=20, workers=1, seed=seed)
    assert_claims_agree(instance, solution, expected)
