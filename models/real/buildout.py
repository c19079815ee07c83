"""`buildout-2026-2027`: the roadmap with optional capacity steps (SPEC §11, schema v2).

The roadmap (`roadmap.py`: the real-buildout-2027 regions, prices and workload mix planned
over the 8 quarters of 2026-2027) plus, at each liquid-ready campus (a site whose base
inventory lists GB200), three candidate expansions with stated sizes, online from stated
quarters, and supply limits on the Blackwell parts they add. Every figure here is a named
assumption (`BUILDOUT_ASSUMPTIONS`): the reference data holds no capital costs.

Costs are capital expenditure **amortised over the horizon's share of the asset's life**: an
expansion online from quarter q is charged capex x (hours from q's start to the end of
2027-q4) / (asset life in hours), not its whole price, since the plan covers only those
hours of an asset that lasts longer. The hourly cost of the accelerators an expansion adds is
the site's price of that type (the `blackwell_price_2027` assumption), charged when they run.

Feasible by construction: the roadmap's witness (no expansion chosen) is unchanged, since
every base capacity is the roadmap's and every expansion is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.io import dump_model, parse_instance, write_atomic
from models.real import assumptions as A
from models.real.roadmap import (
    LIQUID_ARRIVAL,
    QUARTER_HOURS,
    QUARTERS,
    build_roadmap_document,
    roadmap_witness,
)

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance
    from models.real.hardware import AcceleratorKind
    from models.real.sources import ReferenceData
    from models.real.topology import AccessModel
    from models.solution import Solution

BUILDOUT_NAME = "buildout-2026-2027"
HOURS_PER_YEAR = 8_760
#: Per tier: MW of grid of the `grid` step; MW of liquid cooling (and as much grid) and B200
#: of the `liquid` step; GB200 of the `racks` step (NVL72 racks of 72).
STEP_GRID_MW = {"major": 8.0, "standard": 3.0, "small": 2.0}
STEP_LIQUID_MW = {"major": 6.0, "standard": 2.0, "small": 2.0}
STEP_B200 = {"major": 2048, "standard": 512, "small": 512}
STEP_GB200 = {"major": 2304, "standard": 576, "small": 576}
#: Capex (USD) and life (years) of each asset.
CAPEX_PER_MW_GRID = 10_000_000.0
CAPEX_PER_MW_LIQUID = 2_500_000.0
CAPEX_B200 = 40_000.0
CAPEX_GB200 = 60_000.0
LIFE_FACILITY_YEARS = 15
LIFE_LIQUID_YEARS = 10
LIFE_ACCELERATOR_YEARS = 5
#: Supply of added Blackwell parts over all sites, as a share of what the steps offer.
SUPPLY_SHARE = 0.5
#: Quarters after the campus powers on (roadmap_liquid_arrival) that each step is online.
STEP_DELAY = {"grid": 2, "liquid": 1, "racks": 2}

BUILDOUT_ASSUMPTIONS: tuple[A.Assumption, ...] = (
    A.Assumption(
        "buildout_steps",
        "grid +8/3/2 MW; liquid hall +6/2/2 MW liquid and grid with 2048/512/512 B200; "
        "GB200 racks 2304/576/576 (major/standard/small)",
        "three candidate expansions at each liquid-ready campus (a site whose inventory lists "
        "GB200 in roadmap-2026-2027); sizes are planning assumptions, not announced projects",
    ),
    A.Assumption(
        "buildout_online",
        "liquid hall 1, grid and GB200 racks 2 quarters after the campus powers on",
        "a step comes online from the quarter its campus's liquid loop powers on "
        "(roadmap_liquid_arrival) plus this delay, at the latest 2027-q4",
    ),
    A.Assumption(
        "buildout_capex",
        f"grid {CAPEX_PER_MW_GRID / 1e6:g} M USD/MW over {LIFE_FACILITY_YEARS} y; liquid "
        f"cooling {CAPEX_PER_MW_LIQUID / 1e6:g} M USD/MW over {LIFE_LIQUID_YEARS} y; B200 "
        f"{CAPEX_B200:,.0f} and GB200 {CAPEX_GB200:,.0f} USD each over "
        f"{LIFE_ACCELERATOR_YEARS} y",
        "capital cost per MW of powered, built shell and per accelerator (with its share of "
        "server, rack and network); round planning figures, not from the reference data",
    ),
    A.Assumption(
        "buildout_amortised",
        "capex x hours online in the horizon / life hours",
        "an expansion is charged the horizon's share of its asset's life, not its whole "
        "price: the plan ends at 2027-q4 and the asset lasts longer",
    ),
    A.Assumption(
        "buildout_supply",
        f"{SUPPLY_SHARE:.0%} of the B200 and of the GB200 the steps offer",
        "supply limit on the Blackwell parts all chosen expansions add together",
    ),
)


def _online(tier: str, step: str) -> int:
    return min(len(QUARTERS) - 1, LIQUID_ARRIVAL[tier][0] + STEP_DELAY[step])


def _amortised(capex: float, online: int, life_years: int) -> float:
    hours = (len(QUARTERS) - online) * QUARTER_HOURS
    return round(capex * hours / (life_years * HOURS_PER_YEAR), -2)


def site_expansions(site: dict[str, Any]) -> list[dict[str, Any]]:
    """The three candidate expansions of a liquid-ready campus (none elsewhere)."""
    if not any(item["accelerator"] == "gb200" for item in site["inventory"]):
        return []
    tier = site["meta"]["tier"]
    grid_kw, liquid_kw = STEP_GRID_MW[tier] * 1000, STEP_LIQUID_MW[tier] * 1000
    b200, gb200 = STEP_B200[tier], STEP_GB200[tier]
    grid_at, liquid_at, racks_at = (_online(tier, s) for s in ("grid", "liquid", "racks"))
    return [
        {
            "id": f"{site['id']}-grid",
            "period": QUARTERS[grid_at],
            "cost": _amortised(CAPEX_PER_MW_GRID * grid_kw / 1000, grid_at, LIFE_FACILITY_YEARS),
            "grid_kw": grid_kw,
        },
        {
            "id": f"{site['id']}-liquid-hall",
            "period": QUARTERS[liquid_at],
            "cost": _amortised(CAPEX_PER_MW_GRID * liquid_kw / 1000, liquid_at, LIFE_FACILITY_YEARS)
            + _amortised(CAPEX_PER_MW_LIQUID * liquid_kw / 1000, liquid_at, LIFE_LIQUID_YEARS)
            + _amortised(CAPEX_B200 * b200, liquid_at, LIFE_ACCELERATOR_YEARS),
            "grid_kw": liquid_kw,
            "cooling_kw": {"liquid": liquid_kw},
            "inventory": [{"accelerator": "b200", "count": b200}],
        },
        {
            "id": f"{site['id']}-gb200-racks",
            "period": QUARTERS[racks_at],
            "cost": _amortised(CAPEX_GB200 * gb200, racks_at, LIFE_ACCELERATOR_YEARS),
            "inventory": [{"accelerator": "gb200", "count": gb200}],
        },
    ]


def add_expansions(document: dict[str, Any]) -> None:
    """Expansions at the liquid-ready campuses, supply limits, name and description."""
    offered = {"b200": 0, "gb200": 0}
    for site in document["sites"]:
        expansions = site_expansions(site)
        if expansions:
            site["expansions"] = expansions
        for expansion in expansions:
            for item in expansion.get("inventory", []):
                offered[item["accelerator"]] += item["count"]
    document["supply_limits"] = [
        {"accelerator": acc, "max_count": 8 * int(count * SUPPLY_SHARE // 8)}
        for acc, count in offered.items()
    ]
    document["name"] = BUILDOUT_NAME
    document["description"] = "\n".join(
        [
            "Build-out 2026-2027: roadmap-2026-2027 with optional grid, liquid-hall (B200) and "
            "GB200-rack expansions at the liquid-ready campuses, costs as amortised capex "
            "(the horizon's share of each asset's life), supply limits on B200 and GB200.",
            *document["description"].split("\n")[1:],
            *(f"- {a.line()}" for a in BUILDOUT_ASSUMPTIONS),
        ]
    )
    document["meta"]["assumptions"] = [
        *document["meta"]["assumptions"],
        *(a.key for a in BUILDOUT_ASSUMPTIONS),
    ]
    document["meta"]["builder"] = "infraplan build-real (models/real/buildout.py)"


@dataclass(frozen=True, slots=True)
class BuiltBuildout:
    """The written build-out instance, its size and its witness (no expansion chosen)."""

    instance: Instance
    path: Path
    size_bytes: int
    witness: Solution

    def readme_lines(self) -> list[str]:
        """Its README section."""
        from models.real.buildout_readme import buildout_readme_section

        return buildout_readme_section(self.instance, self.witness, self.size_bytes)


def buildout_with_witness(
    data: ReferenceData, kinds: dict[str, AcceleratorKind], access: AccessModel
) -> tuple[Instance, Solution]:
    """The build-out instance and the roadmap's witness restated as a plan of it."""
    document, capacities = build_roadmap_document(data, kinds, access)
    roadmap = parse_instance(document, "roadmap-2026-2027")
    witness, _ = roadmap_witness(roadmap, document, capacities)
    add_expansions(document)
    instance = parse_instance(document, BUILDOUT_NAME)
    plan = witness.model_copy(
        update={"instance": instance.name, "instance_sha256": instance.sha256}
    )
    return instance, plan


def build_buildout(
    out_dir: Path,
    data: ReferenceData,
    kinds: dict[str, AcceleratorKind],
    access: AccessModel,
    max_bytes: int,
) -> BuiltBuildout:
    """Build, validate, prove feasible (the roadmap's witness) and write the instance."""
    instance, witness = buildout_with_witness(data, kinds, access)
    payload = dump_model(instance, exclude_unset=True)
    if len(payload) > max_bytes:
        raise ValueError(f"{BUILDOUT_NAME} is {len(payload)} bytes, over {max_bytes}")
    path = out_dir / f"{BUILDOUT_NAME}.json"
    write_atomic(path, payload)
    return BuiltBuildout(instance, path, len(payload), witness)
