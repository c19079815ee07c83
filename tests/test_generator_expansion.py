"""Expansion families (SPEC §11): expand-M, expand-L and sched-expand-M, and a tiny instance whose
optimal choice of expansions is known by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from models import Instance, load_instance, load_solution
from models.generator.committed import EXPANSION_COMMITTED, EXPANSION_DIR
from models.generator.expansion import generate_expansion, generate_expansion_with_witness
from models.generator.expansion_families import EXPANSION_FAMILIES, expansion_family
from models.io import dump_model
from solver import solve
from solver.cli import app
from solver.evaluate import evaluate
from tests.builders import job, site
from tests.v2_builders import v2_instance

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ("objective", "cost_breakdown")


@pytest.fixture(scope="module", params=sorted(EXPANSION_FAMILIES))
def drawn(request: pytest.FixtureRequest) -> tuple[str, Instance, object]:
    instance, witness = generate_expansion_with_witness(request.param, 0)
    return request.param, instance, witness


def test_three_candidates_per_site_and_a_supply_limit(
    drawn: tuple[str, Instance, object],
) -> None:
    """Every site offers grid, liquid and GB200 steps; scheduled ones come online later;
    the GB200 supply limit is below what is offered."""
    name, instance, _ = drawn
    family = expansion_family(name)
    assert instance.schema_ == "infraplan/v2"
    assert len(instance.sites) == {"M": 40, "sched-M": 40, "L": 100}[family.base]
    offered = 0
    for s in instance.sites:
        steps = s.expansions or []
        assert [x.id for x in steps] == [f"{s.id}-grid", f"{s.id}-liquid", f"{s.id}-gb200"]
        assert all(x.cost > 0 for x in steps)
        offered += sum(i.count for x in steps for i in x.inventory or [])
        if family.scheduled:
            assert instance.periods is not None
            ids = [p.id for p in instance.periods]
            assert all(family.online[0] <= ids.index(str(x.period)) for x in steps)
        else:
            assert instance.periods is None and all(x.period is None for x in steps)
    (limit,) = instance.supply_limits or []
    assert limit.accelerator == "gb200" and 0 < limit.max_count < offered


def test_witness_without_expansions_passes_the_evaluator(
    drawn: tuple[str, Instance, object],
) -> None:
    """The base witness, no expansion chosen, breaks no rule (its costs are not claimed)."""
    _, instance, witness = drawn
    evaluation = evaluate(instance, witness)  # type: ignore[arg-type]
    assert [str(v) for v in evaluation.violations if v.constraint not in CLAIMS] == []
    assert evaluation.costs.expansions == 0.0


@pytest.mark.parametrize("name", sorted(EXPANSION_FAMILIES))
def test_same_seed_same_bytes(name: str) -> None:
    assert dump_model(generate_expansion(name, 1)) == dump_model(generate_expansion(name, 1))
    assert dump_model(generate_expansion(name, 1)) != dump_model(generate_expansion(name, 2))


@pytest.mark.parametrize(("name", "seed"), EXPANSION_COMMITTED)
def test_committed_files_equal_regeneration(name: str, seed: int) -> None:
    path = ROOT / EXPANSION_DIR / f"{name}-{seed}.json"
    assert path.read_bytes() == dump_model(generate_expansion(name, seed), exclude_unset=True)
    assert load_instance(path).name == f"gen-{name}-{seed}"


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown expansion family"):
        generate_expansion("expand-Q", 0)


def tiny_expansion_instance() -> Instance:
    """Job j needs 8 GPUs for 10 h at one site. A has 4 at 1 per GPU-hour, B 8 at 3.
    Without expansions j runs at B: 240. At A: A-big adds 8 for 40 (80 + 40 = 120) but the
    supply limit allows 4 added GPUs; A-mid adds 4 for 50 (80 + 50 = 130); A-dear adds 4
    for 200 (280); B-grid adds grid B does not need, for 10. Optimum: A-mid alone, 130."""

    def add(step: str, cost: float, count: int) -> dict[str, object]:
        return {"id": step, "cost": cost, "inventory": [{"accelerator": "gpu", "count": count}]}

    grid_only = {"id": "B-grid", "cost": 10.0, "grid_kw": 5.0}
    return v2_instance(
        sites=[
            site("A", {"gpu": (4, 1.0)}, expansions=[add("A-big", 40, 8), add("A-mid", 50, 4),
                                                     add("A-dear", 200, 4)]),
            site("B", {"gpu": (8, 3.0)}, expansions=[grid_only]),
        ],
        training=[job("j", {"gpu": 8})],
        supply_limits=[{"accelerator": "gpu", "max_count": 4}],
    )  # fmt: skip


def test_tiny_instance_solves_to_the_choice_known_by_hand() -> None:
    instance = tiny_expansion_instance()
    plan = solve(instance, time_limit_s=5, workers=1)
    assert plan.status == "optimal"
    assert [(x.site, x.expansion) for x in plan.expansions or []] == [("A", "A-mid")]
    assert [(t.site, t.count) for t in plan.training] == [("A", 8)]
    assert plan.objective == pytest.approx(130.0)
    assert evaluate(instance, plan).feasible


def test_committed_files_are_the_listed_seeds() -> None:
    """expand-M and sched-expand-M seeds 0 (tuning) and 100 (held out), nothing else."""
    listed = {f"{name}-{seed}.json" for name, seed in EXPANSION_COMMITTED}
    assert {p.name for p in (ROOT / EXPANSION_DIR).glob("*.json")} == listed


def test_cli_generates_an_expansion_family(tmp_path: Path) -> None:
    """`infraplan generate --family expand-M` writes the generator's instance and a witness
    the evaluator accepts."""
    target, plan = tmp_path / "expand-M-1.json", tmp_path / "expand-M-1.witness.json"
    args = ["generate", "--family", "expand-M", "--seed", "1", "-o", str(target)]
    result = CliRunner().invoke(app, [*args, "--witness", str(plan)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == dump_model(generate_expansion("expand-M", 1), exclude_unset=True)
    instance = load_instance(target)
    assert evaluate(instance, load_solution(plan)).feasible
