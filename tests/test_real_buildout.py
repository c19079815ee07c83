"""buildout-2026-2027 (SPEC §11 on the real roadmap): rebuilt equal to the committed file,
its expansions and supply limits as stated, costs amortised, and the witness feasible."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from models import Instance, load_instance
from models.io import dump_model
from models.real.buildout import (
    BUILDOUT_NAME,
    CAPEX_GB200,
    LIFE_ACCELERATOR_YEARS,
    STEP_GB200,
    buildout_with_witness,
)
from models.real.hardware import accelerator_kinds
from models.real.sources import load_reference_data
from models.real.topology import fit_access_model
from solver.evaluate import evaluate

if TYPE_CHECKING:
    from models.solution import Solution

COMMITTED = Path(__file__).resolve().parents[1] / "instances" / "real" / f"{BUILDOUT_NAME}.json"
CLAIMS = ("objective", "cost_breakdown")


@pytest.fixture(scope="module")
def built() -> tuple[Instance, Solution]:
    data = load_reference_data(None)
    return buildout_with_witness(data, accelerator_kinds(data), fit_access_model(data))


def test_rebuild_equals_the_committed_file(built: tuple[Instance, Solution]) -> None:
    instance, _ = built
    assert COMMITTED.read_bytes() == dump_model(instance, exclude_unset=True)
    assert load_instance(COMMITTED).name == BUILDOUT_NAME


def test_eight_quarters_expansions_and_supply_limits(built: tuple[Instance, Solution]) -> None:
    instance, _ = built
    assert instance.periods is not None and len(instance.periods) == 8
    with_steps = [s for s in instance.sites if s.expansions]
    assert with_steps and all(len(s.expansions or []) == 3 for s in with_steps)
    limits = {s.accelerator: s.max_count for s in instance.supply_limits or []}
    offered = {
        acc: sum(
            i.count
            for s in with_steps
            for x in s.expansions or []
            for i in x.inventory or []
            if i.accelerator == acc
        )
        for acc in ("b200", "gb200")
    }
    assert set(limits) == {"b200", "gb200"}
    assert all(0 < limits[acc] < offered[acc] for acc in limits)


def test_costs_are_the_horizons_share_of_the_asset_life(
    built: tuple[Instance, Solution],
) -> None:
    """A major campus's GB200 racks online from 2027-q1 (4 quarters of 2,190 h) are charged
    4 x 2,190 / (5 x 8,760) = 20 % of their capex, not all of it."""
    instance, _ = built
    racks = instance.site_by_id["aws-us-east-1"].expansions or []
    (step,) = [x for x in racks if x.id.endswith("gb200-racks")]
    assert step.period == "2027-q1"
    capex = CAPEX_GB200 * STEP_GB200["major"]
    assert step.cost == pytest.approx(capex * 4 * 2_190 / (LIFE_ACCELERATOR_YEARS * 8_760))
    assert step.cost < capex


def test_witness_passes_the_evaluator(built: tuple[Instance, Solution]) -> None:
    instance, witness = built
    evaluation = evaluate(instance, witness)
    assert [str(v) for v in evaluation.violations if v.constraint not in CLAIMS] == []
    assert witness.expansions == []
