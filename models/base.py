"""Shared building blocks of the data models: strict base class and numeric/id types."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: Ids are non-empty strings of at most 128 characters (SPEC section 1).
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]

#: Largest count accepted in an instance; bigger numbers cannot be planned for and
#: would only overflow the integer model.
MAX_COUNT = 1_000_000_000

#: Largest magnitude accepted for any quantity; keeps every product of two figures
#: far inside float64 and the solver's integer scaling.
MAX_QUANTITY = 1e15

NonNegFloat = Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PosCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]


class StrictModel(BaseModel):
    """Base of every instance entity: unknown fields are errors, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Annotatable(StrictModel):
    """An entity that may carry free `description` text and a `meta` object."""

    description: str | None = None
    meta: dict[str, Any] | None = None
