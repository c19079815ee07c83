"""Families of scheduled instances (schema `infraplan/v2`, SPEC §9): sizes, periods, timing.

`sched-S` is small enough to check by hand (3 sites, 3 periods of a day or two, 3 jobs in one
pipeline of 2-3, 2 services); `sched-M` and `sched-L` plan 2026-2027 by quarter (8 periods of
2,190 h) at the sizes of the static M and L families. Seeds split as for the static families
(`TUNING_SEEDS`, `HELD_OUT_SEEDS` in families.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.generator.families import Family
from models.generator.knobs import Knobs

#: Hours in a quarter of a 365-day year.
QUARTER_HOURS = 2_190
#: The quarters of 2026 and 2027, the periods of sched-M and sched-L.
QUARTERS: tuple[str, ...] = tuple(f"{year}-q{q}" for year in (2026, 2027) for q in (1, 2, 3, 4))


@dataclass(frozen=True, slots=True)
class ScheduledFamily:
    """A scheduled family: the static family (sizes and knobs) whose network and workload
    drawing it reuses, its periods, and how its jobs are timed and chained."""

    name: str
    base: Family
    period_ids: tuple[str, ...]
    #: Hours of each period are drawn from these (one draw per period).
    period_hours: tuple[int, ...]
    #: Run hours: (low, high) drawn anew, or None to keep the class's hours times `run_scale`.
    run_hours: tuple[int, int] | None
    run_scale: tuple[float, float] = (1.0, 1.0)
    #: Pipeline lengths (jobs linked by `after`) and their weights; share of jobs in one.
    pipeline_lengths: tuple[int, ...] = (2, 3, 4)
    pipeline_weights: tuple[float, ...] = (0.4, 0.35, 0.25)
    pipeline_share: float = 0.6
    #: Demand grows by a factor drawn from this range every period (per service).
    growth: tuple[float, float] = (1.05, 1.30)
    #: Share of sites that are new campuses, powered from a later period (at most
    #: `latest_arrival`), and probability that a liquid site's B200/GB200 arrive later.
    new_campus_share: float = 0.2
    late_delivery_p: float = 0.7
    latest_arrival: int = 4
    #: Share of sites whose grid is sized 1 % above the witness draw in every period.
    power_bound_share: float = 0.2
    #: Probability that a job has a release/deadline window, and that it has a due date.
    window_p: float = 0.7
    due_p: float = 0.6
    #: Of the jobs with a due date, the share whose witness is late (the rest end on time).
    late_share: float = 0.2

    @property
    def periods(self) -> int:
        """How many periods the instances have."""
        return len(self.period_ids)


SCHEDULED_FAMILIES: dict[str, ScheduledFamily] = {
    "sched-S": ScheduledFamily(
        "sched-S",
        Family(
            "sched-S",
            sites=3,
            regions=2,
            training=3,
            inference=2,
            metros=2,
            # Fine-tunes of 8-64 H100-equivalents, small models and 1-8 idle servers of a
            # type keep the counts readable.
            knobs=Knobs(
                training_weights=(1.0, 0.0, 0.0),
                model_weights=(0.7, 0.3, 0.0),
                idle_servers=(1, 9),
            ),
        ),
        period_ids=("day-1", "day-2", "day-3"),
        period_hours=(24, 36, 48),
        run_hours=(4, 16),
        pipeline_lengths=(2, 3),
        pipeline_weights=(0.5, 0.5),
        pipeline_share=1.0,
        new_campus_share=0.34,
        latest_arrival=1,
        power_bound_share=0.34,
    ),
    "sched-M": ScheduledFamily(
        "sched-M",
        Family("sched-M", sites=40, regions=12, training=100, inference=300, metros=10),
        period_ids=QUARTERS,
        period_hours=(QUARTER_HOURS,),
        run_hours=None,
        run_scale=(1.0, 3.0),
    ),
    "sched-L": ScheduledFamily(
        "sched-L",
        Family("sched-L", sites=100, regions=40, training=400, inference=1_500, metros=25),
        period_ids=QUARTERS,
        period_hours=(QUARTER_HOURS,),
        run_hours=None,
        run_scale=(1.0, 3.0),
    ),
}


def scheduled_family(name: str) -> ScheduledFamily:
    """The scheduled family called `name`; ValueError for any other name."""
    try:
        return SCHEDULED_FAMILIES[name]
    except KeyError:
        known = ", ".join(SCHEDULED_FAMILIES)
        raise ValueError(f"unknown scheduled family {name!r} (expected one of {known})") from None
