"""Tests of the scheduled real instance roadmap-2026-2027 (models/real/roadmap.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from models import Instance, Solution, load_instance
from models.real import build_real_instances, load_reference_data
from models.real.hardware import accelerator_kinds
from models.real.roadmap import (
    QUARTERS,
    ROADMAP_ASSUMPTIONS,
    ROADMAP_NAME,
    build_roadmap_document,
    roadmap_witness,
)
from models.real.topology import fit_access_model
from solver.evaluate import evaluate
from tests.scheduled_plan_check import per_period_capacity, scheduled_violations

REAL_DIR = Path(__file__).resolve().parent.parent / "instances" / "real"
PATH = REAL_DIR / f"{ROADMAP_NAME}.json"
CLAIMS = ("objective", "cost_breakdown")


@pytest.fixture(scope="module")
def built() -> tuple[Instance, Solution]:
    """The roadmap built afresh from the reference data, and its witness."""
    data = load_reference_data()
    document, capacities = build_roadmap_document(
        data, accelerator_kinds(data), fit_access_model(data)
    )
    instance = load_instance(PATH)
    return instance, roadmap_witness(instance, document, capacities)[0]


def test_committed_file_is_what_the_builder_makes(tmp_path: Path) -> None:
    """`build-real --only roadmap-2026-2027` writes the committed file byte for byte."""
    build_real_instances(tmp_path, names=[ROADMAP_NAME])
    assert (tmp_path / PATH.name).read_bytes() == PATH.read_bytes()
    assert PATH.stat().st_size < 2_000_000


def test_quarters_sites_and_prices_are_the_buildout(built: tuple[Instance, Solution]) -> None:
    """8 quarters of 2,190 h; the sites, energy, carbon and prices of real-buildout-2027."""
    instance, _ = built
    assert instance.periods is not None and instance.is_v2
    assert [(p.id, p.hours) for p in instance.periods] == [(q, 2190) for q in QUARTERS]
    buildout = load_instance(REAL_DIR / "real-buildout-2027.json")
    assert [s.id for s in instance.sites] == [s.id for s in buildout.sites]
    for ours, theirs in zip(instance.sites, buildout.sites, strict=True):
        assert (ours.energy_price_per_kwh, ours.carbon_g_per_kwh, ours.pue) == (
            theirs.energy_price_per_kwh,
            theirs.carbon_g_per_kwh,
            theirs.pue,
        )
        assert {i.accelerator: i.hourly_cost for i in ours.inventory} == {
            i.accelerator: i.hourly_cost for i in theirs.inventory
        }
        grid, count, _ = per_period_capacity(instance)
        assert grid[ours.id][-1] == theirs.grid_kw
        assert grid[ours.id][0] == round(0.6 * theirs.grid_kw, 1)
        for item in theirs.inventory:
            assert count[ours.id, item.accelerator][-1] == item.count


def test_power_and_blackwell_arrive_later(built: tuple[Instance, Solution]) -> None:
    """Liquid campuses have no liquid cooling and no B200/GB200 in 2026-q1 and have both by
    2027-q4; GB200 never arrive before B200."""
    instance, _ = built
    _, count, cooling = per_period_capacity(instance)
    campuses = [s for s in instance.sites if "liquid-ready" in s.tags]
    assert len(campuses) >= 5
    for site in campuses:
        assert cooling[site.id, "liquid"][0] == 0 and (cooling[site.id, "liquid"][-1] or 0) > 0
        b200, gb200 = count[site.id, "b200"], count[site.id, "gb200"]
        assert b200[0] == gb200[0] == 0 and b200[-1] > 0 and gb200[-1] > 0
        assert b200.index(b200[-1]) < gb200.index(gb200[-1])


def test_demand_grows_every_quarter(built: tuple[Instance, Solution]) -> None:
    """Every service's total demand grows 5-30 % a quarter and doubles the 2025 mix by the end."""
    instance, _ = built
    for service in instance.inference:
        totals = [sum(d.values()) for d in instance.schedule.demand[service.id]]
        for before, after in itertools.pairwise(totals):
            assert 1.05 * before - 1 <= after <= 1.30 * before + 1
        assert totals[-1] == pytest.approx(2 * totals[0] / 2 ** (1 / 8), rel=0.01)


def test_pipelines_are_pretrain_finetune_eval(built: tuple[Instance, Solution]) -> None:
    """Each required pre-training job heads a chain pre-train -> fine-tune -> eval; the eval is
    due with a late cost; every window holds its job."""
    instance, _ = built
    jobs = instance.training_by_id
    evals = [j for j in instance.training if j.id.startswith("eval-")]
    assert len(evals) == 6
    for job in evals:
        fine_tune = jobs[job.predecessors[0]]
        pretrain = jobs[fine_tune.predecessors[0]]
        assert fine_tune.id.startswith("finetune-") and pretrain.id.startswith("pretrain-")
        assert not pretrain.predecessors and pretrain.required
        assert job.due_hour is not None and job.late_cost > 0
    for job in instance.training:
        assert job.deadline(instance.horizon_hours) - job.release >= job.run_hours


def test_witness_is_feasible(built: tuple[Instance, Solution]) -> None:
    """The builder's witness breaks no rule: for the evaluator and for the independent §9
    reading of the generator tests; every job is placed."""
    instance, witness = built
    assert witness.unplaced_training == []
    assert scheduled_violations(instance, witness) == []
    evaluation = evaluate(instance, witness)
    assert [str(v) for v in evaluation.violations if v.constraint not in CLAIMS] == []


def test_assumptions_are_named_in_description_meta_and_readme(
    built: tuple[Instance, Solution],
) -> None:
    """Every roadmap assumption is in the description, in meta.assumptions and in the README."""
    instance, _ = built
    readme = (REAL_DIR / "README.md").read_text(encoding="utf-8")
    assert instance.description is not None and instance.meta is not None
    for assumption in ROADMAP_ASSUMPTIONS:
        assert f"- {assumption.line()}" in instance.description
        assert assumption.key in instance.meta["assumptions"]
        assert f"**{assumption.key}**" in readme
    assert f"`{ROADMAP_NAME}.json`" in readme
