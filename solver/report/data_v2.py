"""The v2 part of the report data model (SPEC §8-§12): timeline, power over time, serving
per period, moves against `current`, expansions, and what changed between two v2 plans.

`PlanReport.v2` holds a `PlanV2` for a plan of a v2 instance (None for v1, so v1 reports
are unchanged); `PlanDelta.v2` a `DeltaV2` when both plans are v2. Figures come from the
evaluator (`Evaluation.jobs`, `site_steps`, `periods`, `replan`, `expansions`,
`capacities`, `costs_over_time`); the instance gives only what the plan is held to
(release, deadline and due hours, checkpoint sizes, expansion offers).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    """One period: it covers the hours [start, start + hours)."""

    period: str
    start: float
    hours: float


@dataclass(frozen=True, slots=True)
class JobTimelineRow:
    """When a placed job runs (scheduled plans), against its window and due hour."""

    job: str
    site: str
    accelerator: str
    count: int
    start: int
    end: float
    release: int
    deadline: float
    #: None: the job has no due hour
    due: int | None
    late_hours: float
    lateness_cost: float


@dataclass(frozen=True, slots=True)
class PowerStep:
    """A site's facility power over the hours [start, end) against that period's grid
    budget (with chosen expansions) and the budget before expansions."""

    period: str
    start: float
    end: float
    facility_kw: float
    grid_kw: float
    grid_before_expansions_kw: float


@dataclass(frozen=True, slots=True)
class PeriodPower:
    """A site's highest facility power in one period against the period's budget."""

    period: str
    peak_kw: float
    grid_kw: float
    grid_before_expansions_kw: float


@dataclass(frozen=True, slots=True)
class SitePower:
    """One site's power over the horizon: the step series and each period's peak."""

    site: str
    #: highest facility power over the horizon
    peak_kw: float
    #: a chosen expansion adds grid power here in some period
    expanded: bool
    steps: list[PowerStep]
    periods: list[PeriodPower]


@dataclass(frozen=True, slots=True)
class ServicePeriodRow:
    """One service in one period: replicas (from the plan) and rps (from the evaluator)."""

    service: str
    period: str
    replicas: int
    #: replicas by site, sites sorted
    replicas_by_site: dict[str, int]
    demand_rps: float
    served_rps: float
    unserved_rps: float
    capacity_rps: float


@dataclass(frozen=True, slots=True)
class PeriodServing:
    """Serving in one period: totals over services and one row per service."""

    period: str
    replicas: int
    demand_rps: float
    served_rps: float
    unserved_rps: float
    #: replicas by site, all services, sites sorted
    replicas_by_site: dict[str, int]
    #: in instance order
    services: list[ServicePeriodRow]


@dataclass(frozen=True, slots=True)
class MovedJob:
    """A job of `current` not placed at its current (site, accelerator) (SPEC §10)."""

    job: str
    from_site: str
    from_accelerator: str
    #: None: the job is not placed at all
    to_site: str | None
    to_accelerator: str | None
    move_cost: float
    checkpoint_cost: float
    #: checkpoint GB that travel (0 when the job stays at its site or is not placed)
    checkpoint_gb: float
    #: move cost plus checkpoint egress
    cost: float


@dataclass(frozen=True, slots=True)
class SiteReplicaChange:
    """Replicas at a site (all services and types) in `current` and in the first period."""

    site: str
    current: int
    first_period: int
    started: int
    stopped: int


@dataclass(frozen=True, slots=True)
class MovesReport:
    """What the plan changes from `current` (instances with `current` only)."""

    moved: list[MovedJob]
    continuing: list[str]
    #: sites with replicas in `current` or in the first period, sorted
    replica_changes_by_site: list[SiteReplicaChange]
    #: SPEC §10: sum over groups of |first period - current|
    replica_changes: int
    #: replicas started over all periods (SPEC §10 start costs apply to these)
    replicas_started: int
    checkpoint_gb: float
    #: the `moves` cost part: move costs plus checkpoint egress
    move_cost: float
    replica_start_cost: float
    max_training_moves: int | None
    max_replica_changes: int | None


@dataclass(frozen=True, slots=True)
class ChosenExpansion:
    """A chosen expansion (SPEC §11) with what it adds from its period on."""

    site: str
    expansion: str
    period: str
    cost: float
    grid_kw: float
    cooling_kw: dict[str, float]
    accelerators: dict[str, int]


@dataclass(frozen=True, slots=True)
class CapacityRow:
    """One resource of an expanded site in one period: the limit before and after chosen
    expansions against the highest use then (`resource`: "grid kW", "cooling <kind> kW" or
    an accelerator id)."""

    site: str
    resource: str
    period: str
    #: None: unlimited
    before: float | None
    after: float | None
    peak_use: float
    #: what chosen expansions add in this period (0 for an unlimited resource)
    bought: float
    #: peak use above the limit before expansions (never below 0)
    use_above_before: float
    #: use_above_before over bought (None when nothing is bought in the period)
    utilization: float | None


@dataclass(frozen=True, slots=True)
class ExpansionsReport:
    """Chosen expansions, their spend, and capacity over time at the sites they expand
    (instances with `expansions` only)."""

    #: every offer the instance has
    offered: int
    chosen: list[ChosenExpansion]
    spend: float
    #: expanded sites only, by site, resource, then period order
    capacity: list[CapacityRow]


@dataclass(frozen=True, slots=True)
class PeriodCostRow:
    """One period's costs (from `Evaluation.costs_over_time`)."""

    period: str
    training: float
    serving: float
    traffic_egress: float
    unserved: float
    replica_starts: float
    expansions: float
    total: float


@dataclass(frozen=True, slots=True)
class PlanV2:
    """The v2 figures of one plan."""

    scheduled: bool
    periods: list[PeriodSpan]
    #: scheduled plans: placed jobs by start hour, then job id
    timeline: list[JobTimelineRow]
    #: every site, in instance order
    power: list[SitePower]
    serving: list[PeriodServing]
    period_costs: list[PeriodCostRow]
    #: costs tied to no period: dataset egress, site costs, fixed, unplaced, lateness, moves
    one_time_costs: dict[str, float]
    moves: MovesReport | None
    expansions: ExpansionsReport | None


@dataclass(frozen=True, slots=True)
class RetimedJob:
    """A job placed in both plans whose start hour differs."""

    job: str
    start_before: int
    start_after: int
    #: later (+) or earlier (-) by this many hours
    shift_hours: int


@dataclass(frozen=True, slots=True)
class ResitedJob:
    """A job placed in both plans at another (site, accelerator)."""

    job: str
    site_before: str
    accelerator_before: str
    site_after: str
    accelerator_after: str


@dataclass(frozen=True, slots=True)
class PeriodCostDelta:
    """A period's cost in both plans (None where that plan's instance lacks the period)."""

    period: str
    before: float | None
    after: float | None
    change: float | None


@dataclass(frozen=True, slots=True)
class DeltaV2:
    """What changed in time between two v2 plans, and what moving cost against the change."""

    retimed: list[RetimedJob]
    resited: list[ResitedJob]
    period_costs: list[PeriodCostDelta]
    #: one-time costs of this plan minus the first's
    one_time_change: float
    #: this plan's objective minus the first's (None when either has none)
    objective_change: float | None
    #: the `moves` cost part of this plan minus the first's
    move_cost_change: float
    #: objective change leaving moving aside (None when either has no objective)
    change_before_moves: float | None
