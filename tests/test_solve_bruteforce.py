"""The solver's proved optimum equals an exhaustive search over all plans of tiny instances.

The oracle here shares no code with the solver: it enumerates every training
choice and replica count, checks the SPEC limits itself, and routes the one
service's demand optimally by filling the cheapest sites first (for one region
that is the exact continuous optimum).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from solver import solve
from tests import builders as b
from tests.checks import assert_valid_plan

HOURS = 10.0


@st.composite
def tiny_cases(draw: st.DrawFn) -> dict[str, Any]:
    """Random parameters of a two-site, one-region instance."""
    sites = []
    for name in ("A", "B"):
        sites.append(
            {
                "id": name,
                "count": draw(st.integers(0, 8)),
                "price": draw(st.sampled_from([1.0, 1.5, 2.0, 3.0])),
                "grid_kw": draw(st.sampled_from([3.0, 6.0, 9.0, 100.0])),
                "pue": draw(st.sampled_from([1.0, 1.5])),
                "fixed": draw(st.sampled_from([0.0, 0.0, 15.0, 60.0])),
                "domain": draw(st.sampled_from(["d1", "d2"])),
                "latency": draw(st.sampled_from([5.0, 5.0, 80.0])),
                "egress": draw(st.sampled_from([0.0, 0.0, 0.05])),
                "bandwidth": draw(st.sampled_from([None, None, 0.01])),
            }
        )
    jobs = [
        {
            "count": draw(st.integers(1, 4)),
            "required": draw(st.booleans()),
            "unplaced_cost": draw(st.sampled_from([10.0, 50.0, 200.0])),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    service = None
    if draw(st.booleans()):
        service = {
            "rps": draw(st.sampled_from([5.0, 10.0])),
            "per_replica": draw(st.integers(1, 2)),
            "demand": draw(st.integers(0, 25)),
            "resilience": draw(st.sampled_from(["none", "n+1"])),
            "unserved": draw(st.sampled_from([None, 0.05, 0.5])),
            "kb": draw(st.sampled_from([0.0, 125.0])),
        }
    return {"sites": sites, "jobs": jobs, "service": service}


def build(case: dict[str, Any]) -> Any:
    """The instance of a case."""
    sites = [
        b.site(
            s["id"],
            {"gpu": (s["count"], s["price"])},
            grid_kw=s["grid_kw"],
            pue=s["pue"],
            energy_price=0.1,
            fixed_cost=s["fixed"],
            failure_domain=s["domain"],
        )
        for s in case["sites"]
    ]
    links = []
    for s in case["sites"]:
        extra: dict[str, Any] = {"egress_cost_per_gb": s["egress"]}
        if s["bandwidth"] is not None:
            extra["bandwidth_gbps"] = s["bandwidth"]
        links.append(b.link("u", s["id"], s["latency"], **extra))
    training = [
        b.job(
            f"j{n}",
            {"gpu": j["count"]},
            HOURS,
            required=j["required"],
            unplaced_cost=j["unplaced_cost"],
        )
        for n, j in enumerate(case["jobs"])
    ]
    inference = []
    service = case["service"]
    if service is not None:
        inference.append(
            b.service(
                "s",
                {"gpu": (service["per_replica"], service["rps"])},
                {"u": float(service["demand"])},
                slo_ms=50.0,
                resilience=service["resilience"],
                unserved_cost_per_rps_hour=service["unserved"],
                request_kb=service["kb"],
            )
        )
    return b.instance(
        sites=sites,
        regions=["u"],
        links=links,
        training=training,
        inference=inference,
        horizon_hours=HOURS,
    )


def _route_cost(case: dict[str, Any], replicas: dict[str, int]) -> float | None:
    """Cheapest routing of the service's demand for given replicas; None if impossible."""
    service = case["service"]
    if service is None or service["demand"] == 0:
        return 0.0
    gbps_per_rps = service["kb"] * 8e-6
    gb_per_rps = service["kb"] * 3600 * HOURS / 1e6
    usable = []
    for s in case["sites"]:
        if s["latency"] > 50.0:
            continue
        capacity = service["rps"] * replicas[s["id"]]
        if s["bandwidth"] is not None and gbps_per_rps > 0:
            capacity = min(capacity, s["bandwidth"] / gbps_per_rps)
        usable.append((s["egress"] * gb_per_rps, capacity))
    total_cap = math.inf
    if service["resilience"] == "n+1":
        by_domain: dict[str, float] = {}
        for s in case["sites"]:
            by_domain[s["domain"]] = (
                by_domain.get(s["domain"], 0.0) + service["rps"] * replicas[s["id"]]
            )
        everything = sum(by_domain.values())
        total_cap = min(everything - held for held in by_domain.values())
    unserved_price = math.inf if service["unserved"] is None else service["unserved"] * HOURS
    remaining = float(service["demand"])
    room = total_cap
    cost = 0.0
    for price, capacity in sorted(usable):
        if price >= unserved_price:
            break
        amount = min(capacity, remaining, room)
        cost += amount * price
        remaining -= amount
        room -= amount
    if remaining > 1e-9:
        if unserved_price == math.inf:
            return None
        cost += remaining * unserved_price
    return cost


def oracle(case: dict[str, Any]) -> float | None:
    """The optimum by exhaustive search; None when no plan exists."""
    sites = {s["id"]: s for s in case["sites"]}
    job_choices = []
    for job in case["jobs"]:
        choices: list[str | None] = list(sites)
        if not job["required"]:
            choices.append(None)
        job_choices.append(choices)
    service = case["service"]
    most = 0 if service is None else math.ceil(service["demand"] / service["rps"]) + 1
    best: float | None = None
    for placement in itertools.product(*job_choices):
        for counts in itertools.product(range(most + 1), repeat=2):
            replicas = dict(zip(sites, counts, strict=True))
            used = dict.fromkeys(sites, 0)
            cost = 0.0
            for job, site in zip(case["jobs"], placement, strict=True):
                if site is None:
                    cost += job["unplaced_cost"]
                else:
                    used[site] += job["count"]
                    rate = sites[site]["price"] + sites[site]["pue"] * 0.1
                    cost += job["count"] * HOURS * rate
            for site, count in replicas.items():
                if count and service is not None:
                    used[site] += count * service["per_replica"]
                    rate = sites[site]["price"] + sites[site]["pue"] * 0.1
                    cost += count * service["per_replica"] * HOURS * rate
            if any(used[s] > sites[s]["count"] for s in sites):
                continue
            if any(used[s] * sites[s]["pue"] > sites[s]["grid_kw"] + 1e-9 for s in sites):
                continue
            routing = _route_cost(case, replicas)
            if routing is None:
                continue
            cost += routing + sum(sites[s]["fixed"] for s in sites if used[s] > 0)
            if best is None or cost < best:
                best = cost
    return best


#: Found by hypothesis: B's link carries 10 rps of the 11 that must be served, and the grid
#: allowance of the link row left CP-SAT's bound at 56 under the optimum 68 (the exact
#: MIP now completes the proof).
LINK_ALLOWANCE_CASE: dict[str, Any] = {
    "sites": [
        {
            "id": "A",
            "count": 1,
            "price": 1.0,
            "grid_kw": 3.0,
            "pue": 1.0,
            "fixed": 15.0,
            "domain": "d1",
            "latency": 5.0,
            "egress": 0.0,
            "bandwidth": None,
        },
        {
            "id": "B",
            "count": 3,
            "price": 1.0,
            "grid_kw": 3.0,
            "pue": 1.0,
            "fixed": 0.0,
            "domain": "d1",
            "latency": 5.0,
            "egress": 0.0,
            "bandwidth": 0.01,
        },
    ],
    "jobs": [
        {"count": 1, "required": False, "unplaced_cost": 10.0},
        {"count": 1, "required": False, "unplaced_cost": 10.0},
    ],
    "service": {
        "rps": 5.0,
        "per_replica": 1,
        "demand": 11,
        "resilience": "none",
        "unserved": None,
        "kb": 125.0,
    },
}


#: Found by hypothesis (2026-12-07): 11 rps must be served with n+1 across two domains; B's
#: 0.01 Gbps link is free of egress, A's costs 0.05. The SPEC's tolerance (1e-6 absolute
#: on a limit this small, i.e. 1e-4 of it) lets a plan route a little more through B than
#: the limit as written; the widened model's bound counts that (66.22477), the exhaustive
#: oracle and the solver's plans keep to the limit as written (66.225). So the plan is
#: the oracle's optimum, but "optimal" cannot be proved within 1e-6: "feasible" is the
#: true claim (a plan that leans on the tolerance would be needed to close the gap).
TOLERANCE_GAP_CASE: dict[str, Any] = {
    "sites": [
        {
            "id": "A",
            "count": 3,
            "price": 1.0,
            "grid_kw": 3.0,
            "pue": 1.0,
            "fixed": 0.0,
            "domain": "d1",
            "latency": 5.0,
            "egress": 0.05,
            "bandwidth": None,
        },
        {
            "id": "B",
            "count": 3,
            "price": 1.0,
            "grid_kw": 3.0,
            "pue": 1.0,
            "fixed": 0.0,
            "domain": "d2",
            "latency": 5.0,
            "egress": 0.0,
            "bandwidth": 0.01,
        },
    ],
    "jobs": [],
    "service": {
        "rps": 5.0,
        "per_replica": 1,
        "demand": 11,
        "resilience": "n+1",
        "unserved": None,
        "kb": 125.0,
    },
}


def test_a_gap_the_tolerance_explains_is_claimed_as_feasible() -> None:
    """TOLERANCE_GAP_CASE: the oracle's plan, a bound under it by less than the link's
    tolerance is worth at A's egress price, and no claim of optimality."""
    instance = build(TOLERANCE_GAP_CASE)
    expected = oracle(TOLERANCE_GAP_CASE)
    assert expected == pytest.approx(66.225)
    solution = solve(instance, time_limit_s=20.0, workers=2, seed=0)
    assert_valid_plan(instance, solution)
    assert solution.objective == pytest.approx(expected, rel=1e-9)
    assert solution.bound is not None
    assert expected - 1e-3 <= solution.bound <= expected
    assert solution.status == "feasible"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_cases())
@example(LINK_ALLOWANCE_CASE)
def test_proved_optimum_matches_exhaustive_search(case: dict[str, Any]) -> None:
    """On random tiny instances the proved optimum equals the exhaustive optimum."""
    instance = build(case)
    expected = oracle(case)
    solution = solve(instance, time_limit_s=20.0, workers=2, seed=0)
    if expected is None:
        assert solution.status == "infeasible"
        return
    assert solution.status == "optimal", solution.summary()
    assert_valid_plan(instance, solution)
    assert solution.objective is not None
    assert math.isclose(solution.objective, expected, rel_tol=1e-6, abs_tol=1e-6)
