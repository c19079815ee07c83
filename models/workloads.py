"""Training jobs and inference services (SPEC section 2)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from models.base import Annotatable, Id, NonNegFloat, PosCount, PosFloat, StrictModel
from models.v2_fields import Hour, OmitUnsetV2


class TrainingOption(StrictModel):
    """One way to run a training job: this many accelerators of this type."""

    accelerator: Id
    count: PosCount


class Dataset(StrictModel):
    """Where a training job's data lives, how big it is and how fast it is read remotely."""

    at: Id
    size_gb: NonNegFloat = 0.0
    read_gbps: NonNegFloat = 0.0


class TrainingJob(Annotatable, OmitUnsetV2):
    """A training job placed whole at one site on one of its options; in v2 also its time
    window, lateness and predecessors (SPEC §9) and its move cost (SPEC §10)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "release_hour",
            "deadline_hour",
            "due_hour",
            "late_cost_per_hour",
            "after",
            "move_cost",
            "checkpoint_gb",
        }
    )

    id: Id
    options: list[TrainingOption] = Field(min_length=1)
    run_hours: PosFloat
    required: bool = True
    unplaced_cost: NonNegFloat = 0.0
    requires_tags: list[Id] = Field(default_factory=list)
    allowed_sites: list[Id] | None = None
    site_costs: dict[Id, NonNegFloat] = Field(default_factory=dict)
    dataset: Dataset | None = None
    release_hour: Hour | None = None
    deadline_hour: Hour | None = None
    due_hour: Hour | None = None
    late_cost_per_hour: NonNegFloat | None = None
    after: list[Id] | None = None
    move_cost: NonNegFloat | None = None
    checkpoint_gb: NonNegFloat | None = None

    @property
    def release(self) -> int:
        """The earliest start hour (SPEC §9; 0 when not given)."""
        return self.release_hour or 0

    def deadline(self, horizon_hours: float) -> float:
        """The hour by which the job must have ended (SPEC §9; the horizon when not given)."""
        return horizon_hours if self.deadline_hour is None else self.deadline_hour

    @property
    def late_cost(self) -> float:
        """Cost per hour late (0 when not given)."""
        return self.late_cost_per_hour or 0.0

    @property
    def predecessors(self) -> list[str]:
        """Jobs that must run, and end, before this one starts (SPEC §9 `after`)."""
        return self.after or []

    @property
    def moving_cost(self) -> float:
        """Charged when a job of `current` is moved (SPEC §10; 0 when not given)."""
        return self.move_cost or 0.0

    @property
    def checkpoint_size_gb(self) -> float:
        """Checkpoint carried when a job of `current` moves site (0 when not given)."""
        return self.checkpoint_gb or 0.0


class InferenceProfile(StrictModel):
    """A replica shape of a service: accelerators per replica and sustained rps per replica."""

    accelerator: Id
    per_replica: PosCount
    rps: PosFloat


Resilience = Literal["none", "n+1"]


class InferenceService(Annotatable, OmitUnsetV2):
    """An inference service: demand per region, latency SLO, replica profiles; in v2 also
    demand per period (SPEC §9) and a cost per replica started (SPEC §10)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset({"demand_by_period", "replica_start_cost"})

    id: Id
    profiles: list[InferenceProfile] = Field(min_length=1)
    demand_rps: dict[Id, NonNegFloat] = Field(min_length=1)
    latency_slo_ms: PosFloat
    request_kb: NonNegFloat = 0.0
    response_kb: NonNegFloat = 0.0
    resilience: Resilience = "none"
    unserved_cost_per_rps_hour: NonNegFloat | None = None
    requires_tags: list[Id] = Field(default_factory=list)
    allowed_sites: list[Id] | None = None
    demand_by_period: dict[Id, dict[Id, NonNegFloat]] | None = None
    replica_start_cost: NonNegFloat | None = None

    def demand_in(self, period_id: str) -> dict[str, float]:
        """Demand by region in one period (SPEC §9: a listed period's map replaces
        `demand_rps`)."""
        if self.demand_by_period is not None and period_id in self.demand_by_period:
            return self.demand_by_period[period_id]
        return self.demand_rps

    @property
    def start_cost(self) -> float:
        """Cost per replica started (SPEC §10; 0 when not given)."""
        return self.replica_start_cost or 0.0

    @property
    def kb_per_request(self) -> float:
        """Request plus response size in KB."""
        return self.request_kb + self.response_kb
