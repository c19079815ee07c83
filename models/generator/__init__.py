"""Seeded generator of realistic planning instances that are feasible by construction.

`generate(family, seed)` returns an `Instance`; `generate_with_witness(family, seed)` also
returns the plan the instance was built around. Families (sites / regions / training /
inference): S 8/4/10/20, M 40/12/100/300, L 100/40/400/1,500, XL 300/100/2,000/10,000, and the
zoo (`ZOO`, `families.py`): families at M and L size that each make one part of SPEC §5 bind
(`penalty-M`, `grid-L`, ...). Seeds `TUNING_SEEDS` (0-4) may be used for tuning the solver;
`HELD_OUT_SEEDS` (100-104) are for measurements only. All randomness comes from one
`numpy.random.Generator(PCG64(seed))` (for a zoo family, the seed with the family's name mixed
in), consumed in a fixed order, so the same family and seed give a byte-identical file.

Construction, in order:

1. Network (`network.py`). Metros are real data-centre cities (`models/data/metros.csv`, from
   `models/data/reference/region_locations.csv`); small families pick a geographic cluster.
   Each metro has an exchange (transit node) and several sites in campuses of 1-3 that share
   a failure domain. Sites link to their exchange (0.5-3 ms), some campus neighbours to each other;
   user regions attach to a metro exchange with 2-15 ms access latency, some dual-homed to
   the nearest other metro. Exchanges form a backbone (spanning tree plus two nearest
   neighbours) whose latency is the measured round trip of `region_latency_ms.csv` where it
   exists, else a great-circle estimate (`models.catalog`). Sites get PUE by kind, energy
   price and carbon from the metro (`region_energy.csv`), tags (continent, country,
   liquid-cooled, renewable, sovereign) and accelerator types: B200/GB200 only where liquid
   cooling exists, a training-capable type everywhere.
2. Workloads with their witness (`workloads.py`). A training job is placed first (a site drawn
   by size, an accelerator it stocks), then given options that include that accelerator,
   tags/allowed sites the site satisfies, and a dataset local, at a data lake, or streamed
   from one (read_gbps). A service gets demand regions clustered around a home region, each
   served by one of its nearest compatible sites (sometimes split over two); replicas are
   ceil(served rps / replica rps); n+1 services get spare replicas outside the failure
   domain that would hurt most until SPEC §5.6 holds; the SLO is the worst witness route
   latency plus headroom, rounded up to 5 ms.
3. Sizing (`sizing.py`). Inventory is the witness's use plus 15-80 % (whole servers) and
   unused types get their own stock; grid power is at least the witness's facility draw
   (1 % above it at ~12 % of loaded sites, so power binds there); cooling limits cover the
   witness's heat per kind (liquid 0 at air-only sites, no limits at some liquid sites);
   limited links carry at least the witness's traffic and dataset reads over their SPEC §3
   paths (within 5 % at some).

Every constraint of SPEC §5 therefore holds for the witness; `tests/test_generator.py`
checks it independently. Demand and replica rps are whole numbers, prices and latencies are
rounded to a few decimals, counts are integers.

Scheduled instances (schema `infraplan/v2`, SPEC §9): `generate_scheduled(family, seed)` and
`generate_scheduled_with_witness(family, seed)` for the families of `SCHEDULED_FAMILIES`
(`scheduled_families.py`): `sched-S` (3 sites, 3 periods of 24-48 h, 3 jobs, 2 services),
`sched-M` and `sched-L` (the M and L sizes over the 8 quarters of 2026-2027). They reuse the
steps above and add pipelines, windows, due dates, growing demand, new campuses powered later
and late accelerator deliveries, all sized around a witness with start hours and replicas per
period (`scheduled.py`). Capacity-expansion families (SPEC §11, `expansion_families.py`,
`expansion.py`): `expand-M`, `expand-L` (static v2) and `sched-expand-M` add three optional
steps per site (grid, liquid retrofit, GB200 stock) and a GB200 supply limit to the M, L and
sched-M instances of the same seed, whose witness (no expansion) stays feasible.
`python -m models.generator.committed` rewrites every committed generated file
(instances/generated, instances/scheduled, instances/expansion).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from models.generator.families import FAMILIES as FAMILIES
from models.generator.families import HELD_OUT_SEEDS as HELD_OUT_SEEDS
from models.generator.families import TUNING_SEEDS as TUNING_SEEDS
from models.generator.families import ZOO as ZOO
from models.generator.families import Family as Family
from models.generator.scheduled_families import SCHEDULED_FAMILIES as SCHEDULED_FAMILIES

if TYPE_CHECKING:
    from models.generator.build import GENERATOR_VERSION as GENERATOR_VERSION
    from models.generator.build import generate as generate
    from models.generator.build import generate_with_witness as generate_with_witness
    from models.generator.build import save_generated as save_generated
    from models.generator.scheduled import generate_scheduled as generate_scheduled
    from models.generator.scheduled import (
        generate_scheduled_with_witness as generate_scheduled_with_witness,
    )

#: Loaded on first use, so that reading the family table (the CLI's --family) does not
#: import numpy and the generator.
_FROM_BUILD = frozenset(
    {"GENERATOR_VERSION", "generate", "generate_with_witness", "save_generated"}
)
_FROM_SCHEDULED = frozenset({"generate_scheduled", "generate_scheduled_with_witness"})


def __getattr__(name: str) -> Any:
    if name in _FROM_BUILD:
        return getattr(importlib.import_module("models.generator.build"), name)
    if name in _FROM_SCHEDULED:
        return getattr(importlib.import_module("models.generator.scheduled"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
