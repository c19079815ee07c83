"""The README section of `buildout-2026-2027.json` (instances/real/README.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.real.buildout import BUILDOUT_ASSUMPTIONS, BUILDOUT_NAME

if TYPE_CHECKING:
    from models import Instance
    from models.solution import Solution


def buildout_readme_section(instance: Instance, plan: Solution, size_bytes: int) -> list[str]:
    """What the instance holds, every expansion with its size, period and cost, assumptions."""
    rows = [
        f"| {site.id} | {(site.meta or {})['tier']} | {x.id} | {x.period} | "
        + ", ".join(
            [*([f"grid {x.grid_kw / 1000:g} MW"] if x.grid_kw else [])]
            + [f"{kind} {kw / 1000:g} MW" for kind, kw in (x.cooling_kw or {}).items()]
            + [f"{item.count} {item.accelerator}" for item in x.inventory or []]
        )
        + f" | {x.cost:,.0f} |"
        for site in instance.sites
        for x in site.expansions or []
    ]
    limits = ", ".join(f"{s.accelerator} {s.max_count}" for s in instance.supply_limits or [])
    return [
        f"## Capacity expansion instance `{BUILDOUT_NAME}.json` (schema infraplan/v2)",
        "",
        f"Built by `models/real/buildout.py` ({size_bytes / 1e6:.2f} MB): "
        "`roadmap-2026-2027` (same sites, quarters, workloads and public figures) with "
        f"{len(rows)} candidate expansions (SPEC §11) at the liquid-ready campuses and "
        f"supply limits on the parts they add ({limits}). Feasible by construction: the "
        f"roadmap's witness, with no expansion chosen, is a plan of it ({len(plan.training)} "
        "jobs placed); `tests/test_real_buildout.py` checks it with the evaluator.",
        "",
        "Costs are capex **amortised over the horizon's share of the asset's life**: an "
        "expansion online from a quarter is charged capex x (hours from that quarter to the "
        "end of 2027-q4) / (life in hours), not the whole price. The accelerators it adds "
        "run at the site's hourly cost of their type (`blackwell_price_2027`), as the base "
        "stock does; that price is a commitment price that already recovers part of the "
        "hardware, so charging capex on top overstates the cost of the accelerator steps "
        "(read their cost as the up-front commitment). No capital cost is in the reference "
        "data: every figure below is an assumption.",
        "",
        "| site | tier | expansion | online from | adds | cost (USD, amortised) |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Assumptions of the build-out (on top of the roadmap's):",
        "",
        *(f"- **{a.key}** = {a.value}: {a.text}." for a in BUILDOUT_ASSUMPTIONS),
        "",
    ]
