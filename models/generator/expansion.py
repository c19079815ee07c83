"""Instances with capacity expansions (SPEC §11) and the witness they are built around.

`generate_expansion_with_witness(family, seed)` draws the base instance of the family
(`generate_with_witness` or `generate_scheduled_with_witness`, same seed, unchanged) and then,
from its own stream (PCG64([seed, crc32(family name)])), three candidates per site:

- `<site>-grid`: the grid grows by a share of the site's largest grid (base or timeline);
- `<site>-liquid`: a liquid-cooling retrofit, with as much grid to feed it;
- `<site>-<newest>`: stock of the newest accelerator (GB200), sized to a share of what the
  retrofit could cool, so at an air-only site it is only usable with the retrofit. Sites that
  do not stock it list it with count 0 and a price from the site's own price level.

Costs are a value proxy (what the step's energy or stock costs over the horizon from its
period, times `saving_share`) times a factor drawn in `cost_factor`, so some steps pay and
some do not. A supply limit caps the newest accelerator added over all sites at
`supply_share` of what is offered. In scheduled families each step comes online from a
quarter drawn in `online`. The base witness, with no expansion chosen, stays feasible: the
base capacities are unchanged and every expansion is optional.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from models.catalog import accelerator
from models.generator.expansion_families import ExpansionFamily, expansion_family
from models.generator.network import uniform
from models.instance import Instance
from models.solution import Solution


def generate_expansion(family_name: str, seed: int) -> Instance:
    """A feasible instance of an expansion family; same (family, seed), same instance."""
    return generate_expansion_with_witness(family_name, seed)[0]


def generate_expansion_with_witness(family_name: str, seed: int) -> tuple[Instance, Solution]:
    """An expansion instance and its witness (the base witness, no expansion chosen)."""
    family = expansion_family(family_name)
    base, witness = _base(family, seed)
    rng = np.random.Generator(np.random.PCG64([seed, zlib.crc32(family.name.encode())]))
    document = base.model_dump(mode="json", by_alias=True, exclude_unset=True)
    periods = [p["id"] for p in document.get("periods") or []]
    hours = [float(p["hours"]) for p in document.get("periods") or []]
    offered = 0
    for site in document["sites"]:
        expansions, added = _site_expansions(rng, family, site, periods, hours, document)
        site["expansions"] = expansions
        offered += added
    limit = 8 * int(offered * family.supply_share // 8)
    document["supply_limits"] = [{"accelerator": family.newest, "max_count": limit}]
    document["schema"] = "infraplan/v2"
    document["name"] = f"gen-{family.name}-{seed}"
    document["description"] = (
        f"{document['description']} Expansion family {family.name}: 3 candidate expansions "
        f"per site (grid, liquid retrofit, {family.newest}), {family.newest} supply limit "
        f"{limit}."
    )
    document["meta"]["generator"] = {**document["meta"]["generator"], "family": family.name}
    instance = Instance.model_validate(document)
    return instance, _rewitness(instance, witness)


def _base(family: ExpansionFamily, seed: int) -> tuple[Instance, Solution]:
    if family.scheduled:
        from models.generator.scheduled import generate_scheduled_with_witness

        return generate_scheduled_with_witness(family.base, seed)
    from models.generator.build import generate_with_witness

    return generate_with_witness(family.base, seed)


def _site_expansions(
    rng: np.random.Generator,
    family: ExpansionFamily,
    site: dict[str, Any],
    periods: list[str],
    hours: list[float],
    document: dict[str, Any],
) -> tuple[list[dict[str, Any]], int]:
    """The site's three candidates and how many newest accelerators they offer."""
    grid = max(
        [float(site.get("grid_kw") or 0.0)]
        + [float(entry.get("grid_kw") or 0.0) for entry in site.get("timeline", [])]
    )
    energy = float(site["energy_price_per_kwh"]) * float(site.get("pue") or 1.0)
    newest = accelerator(family.newest)
    price = _newest_price(site, family.newest)
    grid_kw = round(grid * uniform(rng, *family.grid_share), -1)
    liquid_kw = round(grid * uniform(rng, *family.liquid_share), -1)
    count = 8 * max(1, int(liquid_kw * uniform(rng, *family.newest_fill) / newest.power_kw // 8))
    online = int(rng.integers(family.online[0], family.online[1] + 1)) if periods else 0
    life = sum(hours[online:]) if periods else float(document["horizon_hours"])
    steps: list[tuple[str, dict[str, Any], float]] = [
        ("grid", {"grid_kw": grid_kw}, grid_kw * energy * life),
        (
            "liquid",
            {"grid_kw": liquid_kw, "cooling_kw": {"liquid": liquid_kw}},
            liquid_kw * energy * life,
        ),
        (
            family.newest,
            {"inventory": [{"accelerator": family.newest, "count": count}]},
            count * price * life,
        ),
    ]
    expansions = []
    for name, adds, value in steps:
        cost = value * family.saving_share * uniform(rng, *family.cost_factor)
        entry: dict[str, Any] = {"id": f"{site['id']}-{name}"}
        if periods:
            entry["period"] = periods[online]
        expansions.append({**entry, "cost": float(round(cost, -2)), **adds})
    return expansions, count


def _newest_price(site: dict[str, Any], acc: str) -> float:
    """Hourly cost of `acc` at the site; listed with count 0 (at the site's price level) when
    the site does not stock it, since an expansion may only add a type of its inventory."""
    for item in site["inventory"]:
        if item["accelerator"] == acc:
            return float(item["hourly_cost"])
    ratios = [
        item["hourly_cost"] / accelerator(item["accelerator"]).list_price_per_hour
        for item in site["inventory"]
    ]
    price = round(accelerator(acc).list_price_per_hour * float(sum(ratios)) / len(ratios), 4)
    site["inventory"].append({"accelerator": acc, "count": 0, "hourly_cost": price})
    return price


def _rewitness(instance: Instance, witness: Solution) -> Solution:
    """The base witness as a v2 plan of the expansion instance, with no expansion chosen."""
    document = witness.model_dump(mode="json", by_alias=True, exclude_unset=True)
    document.update(
        {
            "schema": "infraplan-solution/v2",
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "expansions": [],
        }
    )
    document.setdefault(
        "costs", {"lateness": 0.0, "moves": 0.0, "replica_starts": 0.0, "expansions": 0.0}
    )
    return Solution.model_validate(document)
