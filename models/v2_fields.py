"""Entities and field types of schema `infraplan/v2` (SPEC sections 8-11).

Every v2 field of a v1 entity defaults to None, meaning "not given", so that a v1
file that names one can be told apart from one that does not (an input error, SPEC
§8), and so that a v1 instance dumps exactly as before: `OmitUnsetV2` drops v2
fields that are None from every dump.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from models.accelerators import CoolingKind
from models.base import Count, Id, NonNegFloat, PosCount, StrictModel

#: Integer hours (release, deadline, due) accepted in an instance: far beyond any plan.
MAX_HOUR = 10**9
Hour = Annotated[int, Field(ge=0, le=MAX_HOUR)]


class OmitUnsetV2(StrictModel):
    """Base of entities with v2 fields: fields named in `V2_FIELDS` are left out of a dump
    while they are None, so v1 entities serialise byte for byte as in v1."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_unset_v2(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.V2_FIELDS:
                if data.get(name, 0) is None:
                    del data[name]
        return data


class Period(StrictModel):
    """One planning period: its id and its length in whole hours (SPEC §9)."""

    id: Id
    hours: PosCount


class AcceleratorCount(StrictModel):
    """A count of one accelerator type (timeline and expansion inventory entries)."""

    accelerator: Id
    count: Count


class TimelineEntry(StrictModel):
    """Site values that change from `period` on, until a later entry changes them (SPEC §9).

    `cooling_kw` replaces the kinds it names; a kind set to null becomes unlimited."""

    period: Id
    grid_kw: NonNegFloat | None = None
    cooling_kw: dict[CoolingKind, NonNegFloat | None] | None = None
    inventory: list[AcceleratorCount] | None = None


class Expansion(StrictModel):
    """An optional capacity step of a site, with a one-time cost (SPEC §11)."""

    id: Id
    period: Id | None = None
    cost: NonNegFloat
    grid_kw: NonNegFloat | None = None
    cooling_kw: dict[CoolingKind, NonNegFloat] | None = None
    inventory: list[AcceleratorCount] | None = None


class SupplyLimit(StrictModel):
    """At most `max_count` accelerators of a type added by all chosen expansions (SPEC §11)."""

    accelerator: Id
    max_count: Count


class CurrentTraining(StrictModel):
    """A training job running at hour 0, before this plan (SPEC §10)."""

    job: Id
    site: Id
    accelerator: Id


class CurrentReplicas(StrictModel):
    """Replicas of a service running at hour 0, before this plan (SPEC §10)."""

    service: Id
    site: Id
    accelerator: Id
    replicas: Count


class CurrentPlan(StrictModel):
    """What runs at hour 0, before this plan (SPEC §10)."""

    training: list[CurrentTraining] = Field(default_factory=list)
    inference: list[CurrentReplicas] = Field(default_factory=list)


class MoveBudgets(StrictModel):
    """Limits on the changes from `current` (SPEC §10); null means unlimited."""

    max_training_moves: Count | None = None
    max_replica_changes: Count | None = None
