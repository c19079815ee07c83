"""Instance families of the generator: how many sites, regions and workloads each holds, and
what each stresses.

The base families S, M, L and XL differ in size only. The zoo (`ZOO`) adds families that each
make one part of SPEC §5 bind, at M size (`<name>-M`) and at L size (`<name>-L`):

- `penalty`: unserved-demand penalties. Every site's grid is tight around a witness that
  serves only 40-80 % of each priced demand, so not all demand fits and the penalties decide
  what is left out.
- `grid`: grid power (§5.2) at every site: tight around the witness where it is loaded, a small
  share of the stock where it is not; stock and cooling have room.
- `bandwidth`: link bandwidth (§5.7). Most jobs stream remote datasets, requests and
  responses are heavy (mostly vision), most links are limited and many are sized within 5 %
  of the witness's traffic.
- `resilient`: n+1 (§5.6) on most services, with only three (M) or four (L) failure domains,
  each a zone of whole metros.
- `small`: many small services (2,000 at M, 8,000 at L), mostly 8B models with 2-60 rps per
  region.
- `training`: few huge training jobs (all pretraining, 2,048-8,192 H100-equivalents: 16 at M,
  48 at L) on scarce stock: 0-30 % spare beyond the witness's use, little of other types.
- `sparse`: a sparse network. The backbone is a spanning tree whose links pass through relay
  transit nodes, with no dual homing and no campus links; backbone links are limited.
- `facility`: fixed site costs dominate (facility location). Every site has a fixed cost
  scaled to its stock, and the witness opens only 30 % of the sites.

Seeds are split: `TUNING_SEEDS` may be looked at when tuning the solver; `HELD_OUT_SEEDS` are
for measurements only, and no tuning ever looks at them (benchmarks/README.md says the same).
Nothing in `solver/` may key on a family: the solver sees only the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.generator.knobs import DEFAULT_LIMITED_P, Knobs

#: Seeds that tuning (thresholds, parameters, design choices of the solver) may look at.
TUNING_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
#: Seeds for reported measurements only: no tuning ever looks at them.
HELD_OUT_SEEDS: tuple[int, ...] = (100, 101, 102, 103, 104)


@dataclass(frozen=True, slots=True)
class Family:
    """Sizes of one instance family; `metros` is how many metros the sites spread over;
    `knobs` what it stresses (the defaults for the base families)."""

    name: str
    sites: int
    regions: int
    training: int
    inference: int
    metros: int
    knobs: Knobs = field(default_factory=Knobs)
    #: What the family stresses, in a few words (empty for the base families).
    stresses: str = ""


BASE_FAMILIES: dict[str, Family] = {
    "S": Family("S", sites=8, regions=4, training=10, inference=20, metros=3),
    "M": Family("M", sites=40, regions=12, training=100, inference=300, metros=10),
    "L": Family("L", sites=100, regions=40, training=400, inference=1_500, metros=25),
    "XL": Family("XL", sites=300, regions=100, training=2_000, inference=10_000, metros=36),
}


@dataclass(frozen=True, slots=True)
class _ZooShape:
    """A zoo family before it is sized: its knobs per size and workload counts per size."""

    name: str
    stresses: str
    #: (training, inference) at M and at L size; None keeps the base family's counts.
    workloads_m: tuple[int, int] | None = None
    workloads_l: tuple[int, int] | None = None
    knobs_m: Knobs = field(default_factory=Knobs)
    knobs_l: Knobs | None = None


def _limited(**overrides: float) -> dict[str, float]:
    return {**DEFAULT_LIMITED_P, **overrides}


_SHAPES = (
    _ZooShape(
        "penalty",
        "unserved-demand penalties (capacity short of demand everywhere)",
        workloads_m=(40, 300),
        workloads_l=(150, 1_500),
        knobs_m=Knobs(
            unserved_cost_p=0.9,
            unserved_factor=(0.4, 4.0),
            served_share=(0.4, 0.8),
            power_bound_share=1.0,
            power_headroom=(1.0, 1.02),
            idle_grid_share=(0.02, 0.08),
            spare_share=(0.0, 0.1),
        ),
    ),
    _ZooShape(
        "grid",
        "grid power binding at every site",
        knobs_m=Knobs(
            power_bound_share=1.0,
            power_headroom=(1.0, 1.02),
            idle_grid_share=(0.05, 0.2),
            spare_share=(0.6, 1.5),
            cooling_limits=False,
        ),
    ),
    _ZooShape(
        "bandwidth",
        "link bandwidth (remote datasets, heavy requests, limited links)",
        knobs_m=Knobs(
            dataset_p=0.95,
            dataset_local_p=0.05,
            stream_p=0.95,
            kind_weights=(0.15, 0.15, 0.1, 0.6),
            kb_scale=2.0,
            limited_p=_limited(uplink=0.9, campus=0.9, access=0.9, backbone=0.9, relay=0.9),
            tight_link_share=0.7,
            tight_link_headroom=(1.0, 1.05),
        ),
    ),
    _ZooShape(
        "resilient",
        "n+1 on most services with few failure domains",
        knobs_m=Knobs(resilient_p=0.9, zones=3),
        knobs_l=Knobs(resilient_p=0.9, zones=4),
    ),
    _ZooShape(
        "small",
        "many small services",
        workloads_m=(30, 2_000),
        workloads_l=(100, 8_000),
        knobs_m=Knobs(model_weights=(0.85, 0.15, 0.0), demand_rps=(2, 60)),
    ),
    _ZooShape(
        "training",
        "few huge training jobs on scarce stock",
        workloads_m=(16, 100),
        workloads_l=(48, 400),
        knobs_m=Knobs(
            training_weights=(0.0, 0.0, 1.0),
            optional_p=0.4,
            spare_share=(0.0, 0.3),
            idle_servers=(0, 32),
        ),
    ),
    _ZooShape(
        "sparse",
        "a sparse network with relay transit nodes",
        knobs_m=Knobs(
            backbone_nearest=0,
            relay_backbone=True,
            dual_home_p=0.0,
            campus_link_p=0.0,
            limited_p=_limited(backbone=1.0, relay=1.0),
            tight_link_share=0.5,
        ),
    ),
    _ZooShape(
        "facility",
        "fixed site costs dominating (facility location)",
        knobs_m=Knobs(open_share=0.3, spare_share=(0.5, 1.5), fixed_cost_share=(0.3, 0.8)),
    ),
)


def _zoo() -> dict[str, Family]:
    families: dict[str, Family] = {}
    for shape in _SHAPES:
        for size, workloads, knobs in (
            ("M", shape.workloads_m, shape.knobs_m),
            ("L", shape.workloads_l, shape.knobs_l or shape.knobs_m),
        ):
            base = BASE_FAMILIES[size]
            training, inference = workloads or (base.training, base.inference)
            name = f"{shape.name}-{size}"
            families[name] = Family(
                name,
                sites=base.sites,
                regions=base.regions,
                training=training,
                inference=inference,
                metros=base.metros,
                knobs=knobs,
                stresses=shape.stresses,
            )
    return families


#: The zoo: each family at M size and at L size, e.g. `penalty-M`, `penalty-L`.
ZOO: dict[str, Family] = _zoo()
#: Every family `generate` knows: the base families, then the zoo.
FAMILIES: dict[str, Family] = {**BASE_FAMILIES, **ZOO}


def family(name: str) -> Family:
    """The family called `name` (a key of FAMILIES); ValueError for any other name."""
    try:
        return FAMILIES[name]
    except KeyError:
        known = ", ".join(FAMILIES)
        raise ValueError(f"unknown instance family {name!r} (expected one of {known})") from None
