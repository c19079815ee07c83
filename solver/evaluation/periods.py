"""The plan's periods, resolved by the evaluator itself from the instance (SPEC §8-§9).

A v1 or static instance has one period, the horizon, with id "all" (SPEC §8); a
scheduled one has its `periods` laid end to end from hour 0. Demand per period is
resolved here too (a period listed in `demand_by_period` replaces `demand_rps`), so the
evaluator never reads the solver's `Instance.schedule`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import InferenceService, Instance

#: The id of the one period of a v1 or static instance (SPEC §8).
WHOLE_HORIZON = "all"


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    """One period: its id, position, first hour and length (it covers [start, end))."""

    id: str
    position: int
    start: float
    hours: float

    @property
    def end(self) -> float:
        """The first hour after the period."""
        return self.start + self.hours


@dataclass(frozen=True, slots=True)
class Horizon:
    """The periods of an instance, in time order, and whether it is scheduled."""

    periods: tuple[PeriodWindow, ...]
    #: True when the instance has `periods` (SPEC §8: jobs get start hours)
    scheduled: bool
    by_id: dict[str, PeriodWindow] = field(init=False, repr=False, compare=False)
    starts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {period.id: period for period in self.periods})
        object.__setattr__(self, "starts", tuple(period.start for period in self.periods))

    @property
    def hours(self) -> float:
        """H: the hours the plan covers."""
        return self.periods[-1].end

    @property
    def first(self) -> PeriodWindow:
        """The first period (the one `current` is compared with, SPEC §10)."""
        return self.periods[0]

    def get(self, period_id: str) -> PeriodWindow | None:
        """The period with this id, or None."""
        return self.by_id.get(period_id)

    def at(self, hour: float) -> PeriodWindow:
        """The period that holds `hour` (hours before 0 or from H on go to the nearest)."""
        return self.periods[max(0, bisect.bisect_right(self.starts, hour) - 1)]


def resolve_horizon(instance: Instance) -> Horizon:
    """The instance's periods: its `periods` end to end, or the horizon as period "all"."""
    if instance.periods is None:
        return Horizon(
            (PeriodWindow(WHOLE_HORIZON, 0, 0.0, float(instance.horizon_hours)),),
            scheduled=False,
        )
    windows: list[PeriodWindow] = []
    start = 0
    for position, period in enumerate(instance.periods):
        windows.append(PeriodWindow(period.id, position, float(start), float(period.hours)))
        start += period.hours
    return Horizon(tuple(windows), scheduled=True)


def demand_in(service: InferenceService, period_id: str) -> dict[str, float]:
    """demand[i,u,p] by region: the period's `demand_by_period` map when listed, else
    `demand_rps` (SPEC §9)."""
    by_period = service.demand_by_period
    if by_period is not None and period_id in by_period:
        return by_period[period_id]
    return service.demand_rps
