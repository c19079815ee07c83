"""The list-scheduling first plan (placeholder until written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import Instance
    from solver.scheduled.plan import ScheduledPlan


def first_plan(instance: Instance) -> ScheduledPlan | None:
    """No first plan yet."""
    return None
