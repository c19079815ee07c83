"""What a generator family stresses: the knobs the network, workload and sizing steps read.

The defaults are the base families' (S, M, L, XL) figures, and with them the generator draws
exactly what it drew before the knobs existed (same draws, same order), so those instances are
unchanged byte for byte. A zoo family (`models.generator.families.ZOO`) changes a few knobs so
that one part of SPEC §5 binds; every knob keeps the instance feasible by construction, because
each limit is still sized around the witness plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Probability that a link of each kind has a bandwidth limit at all.
DEFAULT_LIMITED_P: dict[str, float] = {
    "uplink": 0.6,
    "campus": 0.2,
    "access": 0.3,
    "backbone": 0.5,
    "relay": 0.5,
}


@dataclass(frozen=True, slots=True)
class Knobs:
    """Figures a family may change; `None` means the base families' behaviour."""

    # --- network (network.py) ---
    #: Each exchange also links to this many nearest exchanges (besides the spanning tree).
    backbone_nearest: int = 2
    #: Each backbone link of the spanning tree goes through its own relay transit node.
    relay_backbone: bool = False
    #: Probability that a user region is dual-homed to the nearest other metro.
    dual_home_p: float = 0.3
    #: Probability that a campus's sites are linked to each other directly.
    campus_link_p: float = 0.5
    #: Sites fall into this many failure domains (zones of whole metros) instead of campuses.
    zones: int | None = None
    #: Share of the sites the witness may use (the others stay closed in the witness).
    open_share: float | None = None

    # --- training (workloads.py) ---
    #: Weights of the finetune / train / pretrain classes (None: the classes' own).
    training_weights: tuple[float, float, float] | None = None
    #: Probability that a job is optional (with an unplaced cost).
    optional_p: float = 0.2
    #: Probability that a job has a dataset, that it is held at the job's own site, and that
    #: a remote one is streamed (read_gbps).
    dataset_p: float = 0.65
    dataset_local_p: float = 0.4
    stream_p: float = 0.6

    # --- inference (workloads.py) ---
    #: Weights of the llm-8b / llm-70b / llm-405b models (None: the models' own).
    model_weights: tuple[float, float, float] | None = None
    #: Demand rps range of a (service, region) (None: the model's own).
    demand_rps: tuple[int, int] | None = None
    #: Weights of the chat / code / search / vision kinds (None: uniform, as drawn by `pick`).
    kind_weights: tuple[float, float, float, float] | None = None
    #: Request and response KB are multiplied by this.
    kb_scale: float = 1.0
    #: Probability that a service asks for n+1 resilience.
    resilient_p: float = 0.3
    #: Probability that a service prices unserved demand, and the price range as a multiple of
    #: serving one rps-hour at list price.
    unserved_cost_p: float = 0.55
    unserved_factor: tuple[float, float] = (0.8, 12.0)
    #: Share of each region's demand the witness serves, for services that price unserved
    #: demand (None: all of it). The rest is unserved in the witness.
    served_share: tuple[float, float] | None = None

    # --- sizing (sizing.py) ---
    #: Share of loaded sites whose grid is tight around the witness draw, and how tight
    #: (None: 1 % above it).
    power_bound_share: float = 0.12
    power_headroom: tuple[float, float] | None = None
    #: Grid of a site the witness leaves empty, as a share of its stock's facility power
    #: (None: the base rule, 60-105 % of it).
    idle_grid_share: tuple[float, float] | None = None
    #: Spare stock above the witness's use, as a share of it (rounded up to whole servers).
    spare_share: tuple[float, float] = (0.15, 0.8)
    #: Servers (of 8) of a type the witness does not use at a site: drawn in [low, high).
    idle_servers: tuple[int, int] = (8, 257)
    #: Whether sites get cooling limits at all.
    cooling_limits: bool = True
    #: Probability that a link of each kind has a bandwidth limit.
    limited_p: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LIMITED_P))
    #: Share of limited, loaded links sized tightly around the witness traffic, and how
    #: tightly (None: 5 % above it).
    tight_link_share: float = 0.2
    tight_link_headroom: tuple[float, float] | None = None
    #: A site's fixed cost as a share of what its whole stock costs over the horizon
    #: (None: the base rule, 20-400 thousand at 30 % of sites).
    fixed_cost_share: tuple[float, float] | None = None
