"""Shared building blocks of the data models: strict base class and numeric/id types."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

#: Ids are non-empty strings of at most 128 characters (SPEC section 1).
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]

#: Largest count accepted in an instance; bigger numbers cannot be planned for and
#: would only overflow the integer model.
MAX_COUNT = 1_000_000_000

#: Largest magnitude accepted for any quantity; keeps every product of two figures
#: far inside float64 and the solver's integer scaling.
MAX_QUANTITY = 1e15

#: Deepest nesting inside a `meta` object. Entities sit at most three levels into an
#: instance file, so every valid instance stays well inside the file depth limit of
#: models/io.py and whatever validates also saves and loads again.
MAX_META_DEPTH = 32

NonNegFloat = Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PosCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]


def check_json_object(value: dict[str, Any]) -> dict[str, Any]:
    """Accept only what a JSON file can hold: string keys, finite numbers, 64-bit integers,
    strings, booleans, null, lists and objects, nested at most MAX_META_DEPTH levels.

    Errors carry the offending place inside the object as `json_path` in their context.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]

    def fail(kind: str, message: str, at: tuple[str | int, ...]) -> PydanticCustomError:
        return PydanticCustomError(kind, message, {"json_path": at})

    while stack:
        node, at = stack.pop()
        if len(at) >= MAX_META_DEPTH:
            raise fail("json_depth", f"nested deeper than {MAX_META_DEPTH} levels", at)
        children: list[tuple[str | int, Any]]
        if isinstance(node, dict):
            for key in node:
                if not isinstance(key, str):
                    raise fail("json_key", f"object keys must be strings, not {key!r}", at)
            children = list(node.items())
        else:
            children = list(enumerate(node))
        for key, child in children:
            if isinstance(child, dict | list):
                stack.append((child, (*at, key)))
            elif isinstance(child, float):
                if not math.isfinite(child):
                    raise fail("json_number", f"numbers must be finite, not {child}", (*at, key))
            elif isinstance(child, int) and not isinstance(child, bool):
                if not -(2**63) <= child < 2**64:
                    raise fail("json_number", "integers must fit in 64 bits", (*at, key))
            elif child is not None and not isinstance(child, str | bool):
                kind = type(child).__name__
                raise fail("json_value", f"only JSON values are allowed, not a {kind}", (*at, key))
    return value


#: A JSON object given by the user (`meta`): passed through untouched, never interpreted.
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json_object)]


class StrictModel(BaseModel):
    """Base of every instance entity: unknown fields are errors, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Annotatable(StrictModel):
    """An entity that may carry free `description` text and a `meta` object."""

    description: str | None = None
    meta: JsonObject | None = None
