"""Proofs on awkward figures: `python -m benchmarks.awkward --help`.

Generates family instances, makes copies whose rates (profile rps and demand alike, so
that every plan keeps its meaning), prices (hourly, energy, egress, fixed, site, unplaced
and unserved costs) and run hours are divided by 3, 7 and 9 (figures that are short
decimals become ones that are not), solves every
instance one after another, and counts how many are proved optimal. Each plan goes
through the evaluator. Writes OUT/awkward.md (the table) and OUT/awkward.json (the runs).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from models import Instance
from models.generator import generate
from solver import evaluate, solve

DIVISORS = (3, 7, 9)


def divided(instance: Instance, divisor: int) -> Instance:
    """`instance` with its rates, demand, prices and run hours divided by `divisor`."""
    data: dict[str, Any] = instance.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["name"] = f"{instance.name}-div{divisor}"
    for site in data["sites"]:
        site["energy_price_per_kwh"] = site["energy_price_per_kwh"] / divisor
        site["fixed_cost"] = site.get("fixed_cost", 0.0) / divisor
        for entry in site.get("inventory", []):
            entry["hourly_cost"] = entry.get("hourly_cost", 0.0) / divisor
    for link in data.get("links", []):
        link["egress_cost_per_gb"] = link.get("egress_cost_per_gb", 0.0) / divisor
    for job in data.get("training", []):
        job["run_hours"] = job["run_hours"] / divisor
        job["unplaced_cost"] = job.get("unplaced_cost", 0.0) / divisor
        job["site_costs"] = {k: v / divisor for k, v in job.get("site_costs", {}).items()}
    for service in data.get("inference", []):
        for profile in service["profiles"]:
            profile["rps"] = profile["rps"] / divisor
        service["demand_rps"] = {k: v / divisor for k, v in service["demand_rps"].items()}
        if service.get("unserved_cost_per_rps_hour") is not None:
            service["unserved_cost_per_rps_hour"] /= divisor
    return Instance.model_validate(data)


def main() -> None:
    """Run the comparison and write its table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--family", default="S")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("-o", "--out", type=Path, default=Path("bench-out/awkward"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for seed in args.seeds:
        original = generate(args.family, seed)
        for divisor, instance in [(1, original), *((d, divided(original, d)) for d in DIVISORS)]:
            started = time.perf_counter()
            solution = solve(instance, time_limit_s=args.time_limit, workers=args.workers)
            wall = time.perf_counter() - started
            feasible = evaluate(instance, solution).feasible if solution.has_plan else None
            runs.append(
                {
                    "seed": seed,
                    "divisor": divisor,
                    "status": solution.status,
                    "gap": solution.gap,
                    "wall_s": round(wall, 2),
                    "evaluator_accepts": feasible,
                }
            )
            print(f"seed {seed} /{divisor}: {solution.summary()}", flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    (args.out / "awkward.json").write_text(json.dumps(runs, indent=1))
    lines = [
        f"Family {args.family}, seeds {args.seeds}, {args.time_limit:g} s, "
        f"{args.workers} workers; commit {commit}, {platform.node()} ({platform.machine()}).",
        "",
        "| figures | instances | proved optimal | feasible | other | plans the evaluator refuses |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for divisor in (1, *DIVISORS):
        mine = [r for r in runs if r["divisor"] == divisor]
        label = "as generated" if divisor == 1 else f"divided by {divisor}"
        optimal = sum(r["status"] == "optimal" for r in mine)
        feasible = sum(r["status"] == "feasible" for r in mine)
        refused = sum(r["evaluator_accepts"] is False for r in mine)
        lines.append(
            f"| {label} | {len(mine)} | {optimal} | {feasible} | "
            f"{len(mine) - optimal - feasible} | {refused} |"
        )
    (args.out / "awkward.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
