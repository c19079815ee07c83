"""Training jobs and inference services (SPEC section 2)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from models.base import Annotatable, Id, NonNegFloat, PosCount, PosFloat, StrictModel


class TrainingOption(StrictModel):
    """One way to run a training job: this many accelerators of this type."""

    accelerator: Id
    count: PosCount


class Dataset(StrictModel):
    """Where a training job's data lives, how big it is and how fast it is read remotely."""

    at: Id
    size_gb: NonNegFloat = 0.0
    read_gbps: NonNegFloat = 0.0


class TrainingJob(Annotatable):
    """A training job placed whole at one site on one of its options."""

    id: Id
    options: list[TrainingOption] = Field(min_length=1)
    run_hours: PosFloat
    required: bool = True
    unplaced_cost: NonNegFloat = 0.0
    requires_tags: list[Id] = Field(default_factory=list)
    allowed_sites: list[Id] | None = None
    site_costs: dict[Id, NonNegFloat] = Field(default_factory=dict)
    dataset: Dataset | None = None


class InferenceProfile(StrictModel):
    """A replica shape of a service: accelerators per replica and sustained rps per replica."""

    accelerator: Id
    per_replica: PosCount
    rps: PosFloat


Resilience = Literal["none", "n+1"]


class InferenceService(Annotatable):
    """An inference service: demand per region, latency SLO, replica profiles."""

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

    @property
    def kb_per_request(self) -> float:
        """Request plus response size in KB."""
        return self.request_kb + self.response_kb
