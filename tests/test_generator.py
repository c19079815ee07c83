"""Tests of the seeded instance generator (models.generator)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from models import Instance, Solution, load_instance, load_solution, save_instance
from models.generator import FAMILIES, generate, generate_with_witness
from models.io import dump_model
from solver.cli import app
from solver.evaluate import evaluate

if TYPE_CHECKING:
    from solver.evaluation import Evaluation

GENERATED_DIR = Path(__file__).resolve().parent.parent / "instances" / "generated"
COMMITTED = sorted(GENERATED_DIR.glob("*.json"))
#: The witness carries no objective, so these two claim checks are the only ones it fails.
CLAIMS = ("objective", "cost_breakdown")


def constraint_violations(evaluation: Evaluation) -> list[str]:
    """Every violation except the objective/cost claims a priced plan would make."""
    return [str(v) for v in evaluation.violations if v.constraint not in CLAIMS]


def priced(instance: Instance, witness: Solution) -> Solution:
    """The witness with the objective and costs the evaluator recomputes."""
    evaluation = evaluate(instance, witness)
    return witness.model_copy(update={"objective": evaluation.objective, "costs": evaluation.costs})


@pytest.fixture(scope="module")
def medium() -> tuple[Instance, Solution]:
    """The M family instance of seed 0 and its witness."""
    return generate_with_witness("M", 0)


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    """Two runs with one family and seed write byte-identical files."""
    save_instance(generate("S", 3), tmp_path / "a.json")
    save_instance(generate("S", 3), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert generate("S", 3).canonical_json() == generate("S", 3).canonical_json()


def test_different_seeds_give_different_instances() -> None:
    """Another seed gives another instance."""
    assert generate("S", 0).canonical_json() != generate("S", 1).canonical_json()


@pytest.mark.parametrize("name", ["S", "M"])
def test_family_sizes(name: str) -> None:
    """Sites, regions, training jobs and services match the family's sizes."""
    sizes = FAMILIES[name]
    instance = generate(name, 7)
    assert len(instance.sites) == sizes.sites
    assert len(instance.regions) == sizes.regions
    assert len(instance.training) == sizes.training
    assert len(instance.inference) == sizes.inference
    assert len(instance.transit) == sizes.metros


@pytest.mark.slow
def test_large_family_sizes() -> None:
    """The L family has its 100 sites, 40 regions, 400 jobs and 1,500 services."""
    instance = generate("L", 0)
    assert (len(instance.sites), len(instance.regions)) == (100, 40)
    assert (len(instance.training), len(instance.inference)) == (400, 1_500)


def test_unknown_family_and_negative_seed_are_rejected() -> None:
    """Only S, M, L and XL exist, and seeds are non-negative."""
    with pytest.raises(ValueError, match="unknown instance family"):
        generate("XXL", 0)
    with pytest.raises(ValueError, match="seed"):
        generate("S", -1)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_small_instance_round_trips_and_its_witness_is_feasible(
    seed: int, tmp_path: Path
) -> None:
    """For any seed, the S instance survives save/load unchanged and its witness breaks nothing."""
    instance, witness = generate_with_witness("S", seed)
    path = tmp_path / f"S-{seed}.json"
    save_instance(instance, path)
    assert load_instance(path) == instance
    assert constraint_violations(evaluate(instance, witness)) == []


@pytest.mark.parametrize(("name", "seed"), [("S", 0), ("S", 1), ("S", 2), ("M", 0)])
def test_priced_witness_is_a_feasible_plan(name: str, seed: int) -> None:
    """With its objective filled in, the witness passes the independent evaluator (SPEC §5, §7)."""
    instance, witness = generate_with_witness(name, seed)
    assert witness.status == "feasible"
    assert witness.solver.name == "generator-witness"
    assert constraint_violations(evaluate(instance, witness)) == []
    evaluation = evaluate(instance, priced(instance, witness))
    assert evaluation.feasible, evaluation.summary()


def test_witness_uses_only_eligible_decisions(medium: tuple[Instance, Solution]) -> None:
    """Every witness placement, replica and route is a variable the solver creates (SPEC §4)."""
    instance, witness = medium
    eligibility = instance.eligibility
    placements = {
        (p.job, p.site, p.accelerator, p.count) for ps in eligibility.training.values() for p in ps
    }
    options = {
        (o.service, o.site, o.accelerator) for os in eligibility.replicas.values() for o in os
    }
    pairs = {(p.service, p.region, p.site) for ps in eligibility.routes.values() for p in ps}
    assert {(t.job, t.site, t.accelerator, t.count) for t in witness.training} <= placements
    assert {(r.service, r.site, r.accelerator) for r in witness.inference} <= options
    assert {(r.service, r.region, r.site) for r in witness.routes} <= pairs
    assert eligibility.unreachable_demand(instance) == []


def test_witness_serves_all_demand_with_whole_numbers(medium: tuple[Instance, Solution]) -> None:
    """Demand and replica rps are whole numbers and the witness routes all of it."""
    instance, witness = medium
    served: dict[tuple[str, str], float] = {}
    for route in witness.routes:
        key = (route.service, route.region)
        served[key] = served.get(key, 0.0) + route.rps
    for service in instance.inference:
        assert all(p.rps == int(p.rps) for p in service.profiles)
        for region, rps in service.demand_rps.items():
            assert rps == int(rps) and rps >= 1
            assert served[service.id, region] == rps
    assert witness.unserved == [] and witness.unplaced_training == []


def test_instance_has_the_promised_structure(medium: tuple[Instance, Solution]) -> None:
    """Mixed cooling, shared failure domains, n+1, remote datasets, optional jobs, tags,
    unserved costs set and null, limited and unlimited links and egress prices all occur."""
    instance, _ = medium
    sites = instance.sites
    assert any(s.cooling_kw is not None and s.cooling_kw.get("liquid") == 0 for s in sites)
    assert any(s.cooling_limit_kw("liquid") != 0 for s in sites)
    domains = [s.domain for s in sites]
    assert any(domains.count(d) > 1 for d in domains)
    services = instance.inference
    assert any(s.resilience == "n+1" for s in services)
    assert any(s.unserved_cost_per_rps_hour is None for s in services)
    assert any(s.unserved_cost_per_rps_hour is not None for s in services)
    jobs = instance.training
    site_ids = {s.id for s in sites}
    remote = [j for j in jobs if j.dataset is not None and j.dataset.read_gbps > 0]
    assert remote
    assert any(j.dataset is not None and j.dataset.at not in site_ids for j in jobs)
    assert any(not j.required and j.unplaced_cost > 0 for j in jobs)
    assert any(j.requires_tags for j in jobs) and any(j.allowed_sites for j in jobs)
    assert any(j.site_costs for j in jobs)
    assert any(link.bandwidth_gbps is None for link in instance.links)
    assert any(link.bandwidth_gbps is not None for link in instance.links)
    assert any(link.egress_cost_per_gb > 0 for link in instance.links)
    liquid = {a.id for a in instance.accelerators if a.cooling == "liquid"}
    assert liquid == {"b200", "gb200"}


def test_power_binds_at_a_few_sites_only(medium: tuple[Instance, Solution]) -> None:
    """The witness draws within 2 % of the grid budget at a few sites, with room at most."""
    instance, witness = medium
    evaluation = evaluate(instance, witness)
    shares = [u.facility_kw / u.grid_kw for u in evaluation.sites.values() if u.grid_kw > 0]
    tight = [share for share in shares if share > 0.98]
    assert 1 <= len(tight) <= len(shares) // 4
    assert all(share <= 1.0 for share in shares)


def test_objective_magnitude_is_sane(medium: tuple[Instance, Solution]) -> None:
    """The witness cost and the cost of serving nothing stay far below 1e12."""
    instance, witness = medium
    objective = evaluate(instance, witness).objective
    nothing_served = instance.horizon_hours * sum(
        (s.unserved_cost_per_rps_hour or 0.0) * sum(s.demand_rps.values())
        for s in instance.inference
    )
    assert 0 < objective < 1e12
    assert nothing_served < 1e12


def test_slo_covers_the_witness_routes(medium: tuple[Instance, Solution]) -> None:
    """Each service's SLO is at least the latency of every route its witness uses."""
    instance, witness = medium
    slo = {s.id: s.latency_slo_ms for s in instance.inference}
    for route in witness.routes:
        path = instance.paths.route(route.region, route.site)
        assert path is not None
        assert path.latency_ms <= slo[route.service]


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_instance_is_what_the_generator_makes(path: Path) -> None:
    """Each file under instances/generated validates and equals a fresh generation byte for
    byte, and its witness breaks nothing."""
    family, seed = path.stem.split("-")
    loaded = load_instance(path)
    instance, witness = generate_with_witness(family, int(seed))
    assert path.read_bytes() == dump_model(instance, exclude_unset=True)
    assert constraint_violations(evaluate(loaded, witness)) == []


def test_committed_instances_cover_the_small_seeds() -> None:
    """S seeds 0-4 and M seed 0 are committed."""
    assert [p.name for p in COMMITTED] == [
        f"{n}.json" for n in ("M-0", *(f"S-{i}" for i in range(5)))
    ]


def test_cli_writes_instance_and_feasible_witness(tmp_path: Path) -> None:
    """`infraplan generate` writes the instance and a witness the evaluator accepts."""
    target, plan = tmp_path / "S-2.json", tmp_path / "S-2.witness.json"
    args = ["generate", "--family", "S", "--seed", "2", "-o", str(target), "--witness", str(plan)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    instance = load_instance(target)
    assert instance == generate("S", 2)
    witness = load_solution(plan)
    assert witness.instance_sha256 == instance.sha256
    assert witness.objective is not None and math.isfinite(witness.objective)
    assert evaluate(instance, witness).feasible


def test_cli_rejects_an_unknown_family(tmp_path: Path) -> None:
    """A family that does not exist is a usage error (exit 2) and writes nothing."""
    target = tmp_path / "x.json"
    result = CliRunner().invoke(
        app, ["generate", "--family", "Q", "--seed", "0", "-o", str(target)]
    )
    assert result.exit_code == 2
    assert not target.exists()
