"""What a broken constraint looks like: which constraint, on what, by how much, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

#: Constraint families of SPEC sections 4-7 and 9-11, in the order the evaluator reports
#: them (timing: release, deadline, `after` and continuing jobs; move_budget: SPEC §10's
#: `moves`; supply: SPEC §11's `supply_limits`).
Constraint = Literal[
    "status",
    "eligibility",
    "inventory",
    "grid_power",
    "cooling",
    "demand",
    "serving_capacity",
    "resilience",
    "bandwidth",
    "timing",
    "move_budget",
    "supply",
    "site_use",
    "objective",
    "cost_breakdown",
    "bound",
]

CONSTRAINTS: tuple[Constraint, ...] = get_args(Constraint)


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint: its family, the entity it is about, how far over, and a line."""

    constraint: Constraint
    #: What the violation is about, e.g. "site fra-1 / h100" or "service chat / region nyc".
    entity: str
    #: How far the plan is over, in the constraint's unit (kW, rps, Gbps, accelerators...).
    amount: float
    message: str

    def __str__(self) -> str:
        return f"{self.constraint}: {self.entity}: {self.message}"


def fmt(value: float) -> str:
    """A figure for a message: up to 6 significant digits, no trailing zeros."""
    return f"{value:.6g}"
