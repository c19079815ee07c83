"""The comparison data model: what every report format shows, as typed, frozen records.

`solver.report.compare` builds a `Comparison` from (Instance, Solution, Evaluation)
triples; the Markdown, JSON and HTML renderers only read it. Figures come from the
evaluator (recomputed from the plan), never from what a solution claims, except where
a field says `reported`. Differences are always "this plan minus the first plan".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.solution import Status
    from solver.report.data_v2 import DeltaV2, PlanV2

#: Schema tag of the JSON report.
REPORT_SCHEMA = "infraplan-report/v1"
#: Schema tag of a JSON report with v2 plans (each such plan and delta has a `v2` object).
REPORT_SCHEMA_V2 = "infraplan-report/v2"

#: Latency quantiles every distribution reports, as (name, fraction of served rps).
QUANTILES: tuple[tuple[str, float], ...] = (
    ("p50", 0.50),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("max", 1.00),
)


@dataclass(frozen=True, slots=True)
class SolverSettings:
    """How a plan was made, from the solution's `solver` record."""

    name: str
    version: str
    seed: int
    time_limit_s: float | None
    workers: int | None
    wall_s: float


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """Status, evaluator verdict and objective figures of one plan."""

    label: str
    #: name of the instance the plan was read against
    instance: str
    instance_sha256: str
    status: Status
    has_plan: bool
    #: the evaluator's verdict (False for a solution without a plan)
    feasible: bool
    #: violations per constraint family, and the first few as lines
    violation_counts: dict[str, int]
    violations: list[str]
    #: observations of the evaluator that do not make the plan infeasible
    notes: list[str]
    #: recomputed from the plan by the evaluator; None without a plan
    objective: float | None
    reported_objective: float | None
    bound: float | None
    gap: float | None
    solver: SolverSettings
    #: the SPEC §7 parts (and §12's for a v2 plan), recomputed, in SPEC order
    costs: dict[str, float]

    @property
    def violation_count(self) -> int:
        """Violations of all families."""
        return sum(self.violation_counts.values())


@dataclass(frozen=True, slots=True)
class AcceleratorRow:
    """Accelerators of one type used at a site against the inventory count."""

    accelerator: str
    used: int
    count: int


@dataclass(frozen=True, slots=True)
class CoolingRow:
    """IT heat of one cooling kind at a site against its limit (None = unlimited)."""

    cooling: str
    it_kw: float
    limit_kw: float | None


@dataclass(frozen=True, slots=True)
class SiteRow:
    """Power, cooling and accelerators of one site in one plan."""

    site: str
    active: bool
    it_kw: float
    facility_kw: float
    grid_kw: float
    #: facility power over grid budget (None when the grid budget is 0)
    power_utilization: float | None
    cooling: list[CoolingRow]
    accelerators: list[AcceleratorRow]
    accelerators_used: int
    accelerators_installed: int
    #: accelerators used over installed, all types (None when nothing is installed)
    utilization: float | None


@dataclass(frozen=True, slots=True)
class LatencyDistribution:
    """Network latency of served traffic, weighted by the rps each route carries.

    For a v2 plan, demand, served and unserved rps are each service's in its period of
    highest demand (the evaluator's peak snapshot), and quantiles and histogram weigh each
    period's routes by its share of the horizon (rps averaged over time)."""

    demand_rps: float
    served_rps: float
    unserved_rps: float
    #: rps-weighted mean latency; None without served traffic
    mean_ms: float | None
    #: name (p50 ... max) -> latency below which that share of served rps lies
    quantiles: dict[str, float | None]
    #: served rps per bin of `Comparison.latency_bins_ms`
    histogram_rps: list[float]


@dataclass(frozen=True, slots=True)
class ReplicaRow:
    """Replicas of a service at one site on one accelerator type."""

    site: str
    accelerator: str
    replicas: int


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """Latency, demand and capacity of one inference service in one plan."""

    service: str
    resilience: str
    latency_slo_ms: float
    #: highest latency of a route carrying traffic; None without such a route
    worst_latency_ms: float | None
    demand_rps: float
    served_rps: float
    unserved_rps: float
    capacity_rps: float
    replicas: list[ReplicaRow]

    @property
    def total_replicas(self) -> int:
        """Replicas over all sites and types."""
        return sum(row.replicas for row in self.replicas)


@dataclass(frozen=True, slots=True)
class ResilienceRow:
    """An n+1 service: capacity left after losing each failure domain that hosts capacity."""

    service: str
    served_rps: float
    capacity_rps: float
    capacity_left_by_domain: dict[str, float]
    #: the domain whose loss leaves least capacity (None when no domain hosts capacity)
    worst_domain: str | None
    worst_left_rps: float
    #: capacity left after the worst loss still covers the served rps (SPEC §5.6)
    covered: bool


@dataclass(frozen=True, slots=True)
class LinkRow:
    """Bandwidth a link carries against its capacity (None = unlimited)."""

    link: str
    a: str
    b: str
    traffic_gbps: float
    dataset_gbps: float
    used_gbps: float
    capacity_gbps: float | None
    #: used over capacity; None for an unlimited link
    utilization: float | None


@dataclass(frozen=True, slots=True)
class TrainingRow:
    """Where a training job runs in one plan (site None: not placed)."""

    job: str
    site: str | None
    accelerator: str | None
    count: int


@dataclass(frozen=True, slots=True)
class PlanReport:
    """Everything the reports show about one plan."""

    summary: PlanSummary
    #: by site id, in instance order
    sites: dict[str, SiteRow]
    latency: LatencyDistribution
    #: by service id, in instance order
    services: dict[str, ServiceRow]
    #: n+1 services only
    resilience: dict[str, ResilienceRow]
    #: links with a capacity or carrying traffic, in instance order
    links: list[LinkRow]
    #: by job id, in instance order
    training: dict[str, TrainingRow]
    #: SPEC §8-§12 figures of a plan of a v2 instance (None for v1: left out of the JSON)
    v2: PlanV2 | None = None


@dataclass(frozen=True, slots=True)
class SiteDelta:
    """How a site changed against the first plan (None where a plan lacks the site)."""

    site: str
    facility_kw: float | None
    utilization: float | None
    active_before: bool | None
    active_after: bool | None


@dataclass(frozen=True, slots=True)
class TrainingMove:
    """A training job whose site, accelerator or count differs from the first plan."""

    job: str
    #: None where the job is not in that plan's instance
    before: TrainingRow | None
    after: TrainingRow | None


@dataclass(frozen=True, slots=True)
class ReplicaChange:
    """A service whose replicas differ from the first plan."""

    service: str
    #: None where the service is not in that plan's instance
    before: list[ReplicaRow] | None
    after: list[ReplicaRow] | None

    @property
    def replicas_before(self) -> int:
        """Replicas in the first plan."""
        return sum(row.replicas for row in self.before or [])

    @property
    def replicas_after(self) -> int:
        """Replicas in this plan."""
        return sum(row.replicas for row in self.after or [])


@dataclass(frozen=True, slots=True)
class PlanDelta:
    """One plan against the first: each figure is this plan minus the first."""

    label: str
    baseline: str
    #: None when either plan has no objective
    objective: float | None
    #: objective difference over the first plan's objective (None when that is 0 or missing)
    objective_relative: float | None
    costs: dict[str, float]
    #: sites of either plan, in the order of `Comparison.site_ids`
    sites: list[SiteDelta]
    latency_quantiles: dict[str, float | None]
    unserved_rps: float
    training_moves: list[TrainingMove]
    replica_changes: list[ReplicaChange]
    #: what changed in time when both plans are v2 (None otherwise: left out of the JSON)
    v2: DeltaV2 | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """Plans side by side: per-plan reports, differences against the first, and warnings."""

    plans: list[PlanReport]
    #: one per plan after the first
    deltas: list[PlanDelta]
    #: union of the plans' site ids, first plan's order first
    site_ids: list[str]
    #: shared bin edges of the latency histograms (one more edge than bins)
    latency_bins_ms: list[float]
    #: plans that are not feasible per the evaluator, and evaluator notes, one line each
    warnings: list[str]

    @property
    def labels(self) -> list[str]:
        """The plans' labels, first plan first."""
        return [plan.summary.label for plan in self.plans]

    @property
    def has_v2(self) -> bool:
        """Some plan is a plan of a v2 instance."""
        return any(plan.v2 is not None for plan in self.plans)

    @property
    def baseline(self) -> PlanReport:
        """The first plan, which every difference is taken against."""
        return self.plans[0]
