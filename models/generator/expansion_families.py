"""Families with capacity expansions (SPEC §11): a base family plus optional capacity steps.

`expand-M` and `expand-L` are the static M and L families (schema `infraplan/v2`, no periods)
and `sched-expand-M` the scheduled sched-M family, each with three candidate expansions per
site (more grid, a liquid retrofit with the grid to feed it, GB200 stock) and a supply limit
on the GB200 they add.
What each knob means is on `ExpansionFamily`; how they are drawn is in `expansion.py`.
Seeds split as for the other families (`TUNING_SEEDS`, `HELD_OUT_SEEDS` in families.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExpansionFamily:
    """An expansion family: the family it extends and how its expansions are drawn."""

    name: str
    #: A family of FAMILIES (static) or of SCHEDULED_FAMILIES (scheduled).
    base: str
    scheduled: bool
    #: Grid step as a share of the site's largest grid (base or timeline).
    grid_share: tuple[float, float] = (0.25, 0.6)
    #: Liquid retrofit (liquid kW, and as much grid) as a share of that grid.
    liquid_share: tuple[float, float] = (0.1, 0.3)
    #: Newest accelerator stock, as a share of what the retrofit's liquid kW could power.
    newest_fill: tuple[float, float] = (0.5, 1.0)
    #: The accelerator the third expansion adds, and the supply limit on it as a share of
    #: all that is offered (rounded down to whole servers of 8).
    newest: str = "gb200"
    supply_share: float = 0.4
    #: A cost is (what the step would save if it moved work off a dearer site) x this factor:
    #: factors below 1 tend to pay, above 1 not.
    cost_factor: tuple[float, float] = (0.2, 3.0)
    #: Share of the cost-free value proxy: energy or stock cost of the step over its life here.
    saving_share: float = 0.1
    #: Periods (0-based) an expansion may come online from, in scheduled families.
    online: tuple[int, int] = (2, 6)


EXPANSION_FAMILIES: dict[str, ExpansionFamily] = {
    "expand-M": ExpansionFamily("expand-M", base="M", scheduled=False),
    "expand-L": ExpansionFamily("expand-L", base="L", scheduled=False),
    "sched-expand-M": ExpansionFamily("sched-expand-M", base="sched-M", scheduled=True),
}


def expansion_family(name: str) -> ExpansionFamily:
    """The expansion family called `name`; ValueError for any other name."""
    try:
        return EXPANSION_FAMILIES[name]
    except KeyError:
        known = ", ".join(EXPANSION_FAMILIES)
        raise ValueError(f"unknown expansion family {name!r} (expected one of {known})") from None
