"""Accelerator types (SPEC section 2)."""

from __future__ import annotations

from typing import Literal

from models.base import Annotatable, Id, PosFloat

CoolingKind = Literal["air", "liquid"]
COOLING_KINDS: tuple[CoolingKind, ...] = ("air", "liquid")


class Accelerator(Annotatable):
    """One accelerator type: memory, IT power per unit (host share included), cooling kind."""

    id: Id
    memory_gb: PosFloat
    power_kw: PosFloat
    cooling: CoolingKind
