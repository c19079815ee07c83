"""SPEC §9 constraints 1-7 of a v2 plan, checked at every step of its step series and in
every period, with the period and hour named in each violation.

A limit broken over several steps of one period is reported once, at its worst step
("site dc in period q1 at hour 120"); a static plan's violations name no period.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from solver.evaluation import constraints
from solver.evaluation.periods import demand_in
from solver.evaluation.violations import Violation, fmt

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from models import Instance
    from solver.evaluation.periods import Horizon
    from solver.evaluation.timed_usage import PeriodUsage, TimedUsage


class _Step(Protocol):
    """A step of a series: its period and first hour."""

    @property
    def period(self) -> str: ...

    @property
    def start(self) -> float: ...


Step = TypeVar("Step", bound=_Step)


def check_over_time(instance: Instance, horizon: Horizon, usage: TimedUsage) -> list[Violation]:
    """Every violation of SPEC §9 constraints 1-7, in SPEC order, then by site, service or
    link, then by time."""
    sites = [step for steps in usage.site_steps.values() for step in steps]
    links = [step for steps in usage.link_steps.values() for step in steps]
    scheduled = horizon.scheduled

    def where(period: PeriodUsage) -> str:
        return f" in period {period.period}" if scheduled else ""

    return [
        *_worst(sites, lambda s, at: constraints.inventory(s.usage, at), scheduled),
        *_worst(sites, lambda s, at: constraints.grid_power(s.usage, at), scheduled),
        *_worst(sites, lambda s, at: constraints.cooling(s.usage, at), scheduled),
        *(
            violation
            for period in usage.periods
            for service in instance.inference
            for violation in constraints.demand(
                service,
                period.services[service.id],
                demand_in(service, period.period),
                where(period),
            )
        ),
        *(
            violation
            for period in usage.periods
            for figures in period.services.values()
            for violation in constraints.serving_capacity(figures, where(period))
        ),
        *(
            violation
            for period in usage.periods
            for figures in period.services.values()
            for violation in constraints.resilience(figures, where(period))
        ),
        *_worst(links, lambda s, at: constraints.bandwidth(s.usage, at), scheduled),
    ]


def _worst(
    steps: Iterable[Step], check: Callable[[Step, str], list[Violation]], scheduled: bool
) -> list[Violation]:
    """`check` on every step; per entity and period the largest violation, named with the
    hour of its step (the earliest on ties)."""
    worst: dict[str, tuple[Violation, float]] = {}
    for step in steps:
        where = f" in period {step.period}" if scheduled else ""
        for violation in check(step, where):
            kept = worst.get(violation.entity)
            if kept is None or violation.amount > kept[0].amount:
                worst[violation.entity] = (violation, step.start)
    if not scheduled:
        return [violation for violation, _ in worst.values()]
    return [
        replace(violation, entity=f"{violation.entity} at hour {fmt(start)}")
        for violation, start in worst.values()
    ]
