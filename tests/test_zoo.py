"""Tests of the generator's instance zoo (models.generator.families.ZOO): every family is
feasible by construction, and the part of SPEC §5 it is meant to stress binds."""

from __future__ import annotations

import statistics
from collections import defaultdict
from functools import cache
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from benchmarks.harness.compact_mip import build_compact, solve_compact
from models import load_instance, load_solution
from models.catalog import ACCELERATORS
from models.generator import (
    FAMILIES,
    HELD_OUT_SEEDS,
    TUNING_SEEDS,
    ZOO,
    generate,
    generate_with_witness,
)
from models.generator.families import BASE_FAMILIES
from solver.cli import app
from solver.evaluate import evaluate

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance, Solution
    from solver.evaluation import Evaluation

STRESSES = ("penalty", "grid", "bandwidth", "resilient", "small", "training", "sparse", "facility")
M_FAMILIES = [f"{name}-M" for name in STRESSES]
L_FAMILIES = [f"{name}-L" for name in STRESSES]
#: The witness carries no objective, so these two claim checks are the only ones it fails.
CLAIMS = ("objective", "cost_breakdown")
SEED = TUNING_SEEDS[0]


@cache
def witnessed(name: str) -> tuple[Instance, Solution, Evaluation]:
    """A zoo instance at the first tuning seed, its witness priced by the evaluator, and the
    evaluation of the priced witness (each built once per test session)."""
    instance, witness = generate_with_witness(name, SEED)
    draft = evaluate(instance, witness)
    priced = witness.model_copy(update={"objective": draft.objective, "costs": draft.costs})
    return instance, priced, evaluate(instance, priced)


def test_the_zoo_has_every_family_at_m_and_l_size() -> None:
    """Eight stress families, each at M size and L size, in the family table next to S-XL;
    each keeps its size's sites, regions and metros."""
    assert sorted(ZOO) == sorted(M_FAMILIES + L_FAMILIES)
    assert set(FAMILIES) == set(BASE_FAMILIES) | set(ZOO)
    for name, family in ZOO.items():
        base = BASE_FAMILIES[name.rsplit("-", 1)[1]]
        assert (family.sites, family.regions, family.metros) == (
            base.sites,
            base.regions,
            base.metros,
        )
        assert family.stresses


def test_tuning_and_held_out_seeds_do_not_overlap() -> None:
    """The held-out seeds are not tuning seeds."""
    assert TUNING_SEEDS and HELD_OUT_SEEDS
    assert not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)


def test_a_zoo_family_is_deterministic_and_draws_its_own_stream() -> None:
    """One (family, seed) gives one instance; penalty-M seed 0 shares no network with M seed 0
    or grid-M seed 0 (each zoo family mixes its name into the seed)."""
    instance = generate("penalty-M", SEED)
    assert instance.canonical_json() == generate("penalty-M", SEED).canonical_json()
    assert instance.name == f"gen-penalty-M-{SEED}"
    others = (generate("M", SEED), generate("grid-M", SEED))
    for other in others:
        assert [s.grid_kw for s in other.sites] != [s.grid_kw for s in instance.sites]
        assert [s.id for s in other.sites] != [s.id for s in instance.sites]


@pytest.mark.parametrize("name", M_FAMILIES)
def test_m_witness_is_a_feasible_plan_of_eligible_decisions(name: str) -> None:
    """The witness, priced, passes the evaluator, and uses only SPEC §4 decisions the
    instance makes eligible."""
    instance, witness, evaluation = witnessed(name)
    assert evaluation.feasible, evaluation.summary()
    eligibility = instance.eligibility
    placements = {
        (p.job, p.site, p.accelerator) for ps in eligibility.training.values() for p in ps
    }
    options = {
        (o.service, o.site, o.accelerator) for os in eligibility.replicas.values() for o in os
    }
    pairs = {(p.service, p.region, p.site) for ps in eligibility.routes.values() for p in ps}
    assert {(t.job, t.site, t.accelerator) for t in witness.training} <= placements
    assert {(r.service, r.site, r.accelerator) for r in witness.inference} <= options
    assert {(r.service, r.region, r.site) for r in witness.routes} <= pairs


@pytest.mark.parametrize("name", L_FAMILIES)
def test_l_family_is_generated_quickly_and_its_witness_is_feasible(name: str) -> None:
    """Each family at L size: the sizes of its table entry, and a witness that breaks nothing."""
    instance, witness = generate_with_witness(name, SEED)
    family = ZOO[name]
    assert len(instance.sites) == family.sites
    assert (len(instance.training), len(instance.inference)) == (family.training, family.inference)
    violations = [v for v in evaluate(instance, witness).violations if v.constraint not in CLAIMS]
    assert violations == []


def test_penalty_capacity_is_short_of_demand() -> None:
    """penalty-M: the witness leaves at least a fifth of the demand unserved and pays for it,
    and serving all demand is impossible: the LP relaxation of the SPEC model without
    unserved demand is infeasible."""
    instance, witness, evaluation = witnessed("penalty-M")
    demand = sum(sum(s.demand_rps.values()) for s in instance.inference)
    assert sum(u.rps for u in witness.unserved) >= 0.2 * demand
    assert evaluation.costs.unserved >= 0.1 * evaluation.objective
    priced = [s for s in instance.inference if s.unserved_cost_per_rps_hour is not None]
    assert len(priced) >= 0.8 * len(instance.inference)
    serve_all = build_compact(instance, serve_all=True)
    assert solve_compact(serve_all, time_limit_s=60, integer=False).status == "infeasible"
    assert solve_compact(build_compact(instance), time_limit_s=60, integer=False).status == (
        "optimal"
    )


def test_grid_binds_at_every_site() -> None:
    """grid-M: every loaded site draws within 2 % (+1 kW of rounding) of its grid, and every
    site's grid covers at most 70 % of its stock's facility power (power binds before stock)."""
    instance, _, evaluation = witnessed("grid-M")
    loaded = [u for u in evaluation.sites.values() if u.facility_kw > 0]
    assert len(loaded) >= 0.9 * len(instance.sites)
    for usage in loaded:
        assert usage.grid_kw - usage.facility_kw <= 0.02 * usage.grid_kw + 1.0, usage.site
    power = {a.id: a.power_kw for a in instance.accelerators}
    for site in instance.sites:
        stock_kw = site.pue * sum(item.count * power[item.accelerator] for item in site.inventory)
        assert site.grid_kw <= 0.7 * stock_kw, site.id
        assert site.cooling_kw is None


def test_bandwidth_binds_on_most_loaded_links() -> None:
    """bandwidth-M: at least half of the limited links the witness loads are within 5 % of
    their capacity, dataset reads among them; most jobs stream a remote dataset."""
    instance, _, evaluation = witnessed("bandwidth-M")
    loaded = [
        link
        for link in evaluation.links
        if link.capacity_gbps is not None and link.traffic_gbps + link.dataset_gbps > 0
    ]
    tight = [
        link
        for link in loaded
        if link.capacity_gbps is not None
        and link.traffic_gbps + link.dataset_gbps >= 0.95 * link.capacity_gbps
    ]
    assert len(loaded) >= 20
    assert len(tight) >= 0.5 * len(loaded)
    assert sum(1 for link in tight if link.dataset_gbps > 0) >= 10
    streamed = [j for j in instance.training if j.dataset is not None and j.dataset.read_gbps > 0]
    assert len(streamed) >= 0.7 * len(instance.training)


def test_resilience_binds_with_few_failure_domains() -> None:
    """resilient-M: at least 80 % of services are n+1, over three failure domains; for at
    least 90 % of them the witness's capacity outside the worst domain exceeds the demand it
    serves by less than one replica (SPEC §5.6 binds up to a replica)."""
    instance, witness, _ = witnessed("resilient-M")
    resilient = [s for s in instance.inference if s.resilience == "n+1"]
    assert len(resilient) >= 0.8 * len(instance.inference)
    assert len({site.domain for site in instance.sites}) == 3
    domain = {site.id: site.domain for site in instance.sites}
    rps = {(s.id, p.accelerator): p.rps for s in instance.inference for p in s.profiles}
    served: dict[str, float] = defaultdict(float)
    for route in witness.routes:
        served[route.service] += route.rps
    capacity: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    largest: dict[str, float] = defaultdict(float)
    for group in witness.inference:
        per_replica = rps[group.service, group.accelerator]
        capacity[group.service][domain[group.site]] += group.replicas * per_replica
        largest[group.service] = max(largest[group.service], per_replica)
    binding = 0
    for service in resilient:
        by_domain = capacity[service.id]
        outside_worst = sum(by_domain.values()) - max(by_domain.values())
        assert outside_worst >= served[service.id]
        binding += outside_worst - served[service.id] < largest[service.id]
    assert binding >= 0.9 * len(resilient)


def test_small_services_are_many_and_small() -> None:
    """small-M: 2,000 services, each region asking at most 60 rps, and the median service
    served by at most 8 accelerators in the witness."""
    instance, witness, _ = witnessed("small-M")
    assert len(instance.inference) == 2_000
    assert max(max(s.demand_rps.values()) for s in instance.inference) <= 60
    size = {(s.id, p.accelerator): p.per_replica for s in instance.inference for p in s.profiles}
    accelerators: dict[str, int] = defaultdict(int)
    for group in witness.inference:
        accelerators[group.service] += group.replicas * size[group.service, group.accelerator]
    assert statistics.median(accelerators.values()) <= 8


def test_training_jobs_are_huge_and_stock_is_scarce() -> None:
    """training-M: 16 jobs, each option at least 512 accelerators; all training-capable
    stock is at most 1.35 times what the witness uses, and most jobs fit at few places."""
    instance, _, evaluation = witnessed("training-M")
    assert len(instance.training) == 16
    assert min(o.count for job in instance.training for o in job.options) >= 512
    trains = {a.id for a in ACCELERATORS if a.trains}
    stock = sum(
        item.count
        for site in instance.sites
        for item in site.inventory
        if item.accelerator in trains
    )
    used = sum(
        usage.used
        for site in evaluation.sites.values()
        for acc, usage in site.accelerators.items()
        if acc in trains
    )
    assert stock <= 1.35 * used
    placements = [len(p) for p in instance.eligibility.training.values()]
    assert statistics.median(placements) <= 8


def test_sparse_network_is_a_tree_through_relays() -> None:
    """sparse-M: the link graph is a tree, relay transit nodes carry the backbone, and at
    least one relay link is within 5 % of its capacity in the witness."""
    instance, _, evaluation = witnessed("sparse-M")
    nodes = len(instance.sites) + len(instance.regions) + len(instance.transit)
    assert len(instance.links) == nodes - 1
    relays = {t.id for t in instance.transit if t.id.startswith("relay-")}
    assert len(relays) == ZOO["sparse-M"].metros - 1
    tight_relay_links = [
        link
        for link in evaluation.links
        if link.capacity_gbps is not None
        and relays & {link.a, link.b}
        and link.traffic_gbps + link.dataset_gbps >= 0.95 * link.capacity_gbps
    ]
    assert tight_relay_links


def test_fixed_site_costs_dominate() -> None:
    """facility-M: every site has a fixed cost, the witness opens at most 40 % of them, and
    fixed costs are at least 40 % of its cost."""
    instance, _, evaluation = witnessed("facility-M")
    assert all(site.fixed_cost > 0 for site in instance.sites)
    opened = [usage for usage in evaluation.sites.values() if usage.active]
    assert len(opened) <= 0.4 * len(instance.sites)
    assert evaluation.costs.fixed >= 0.4 * evaluation.objective


def test_cli_generates_a_held_out_zoo_instance(tmp_path: Path) -> None:
    """`infraplan generate --family penalty-M --seed 100` writes the instance and a witness
    the evaluator accepts."""
    target, plan = tmp_path / "f.json", tmp_path / "f.witness.json"
    args = ["generate", "--family", "penalty-M", "--seed", "100", "-o", str(target)]
    result = CliRunner().invoke(app, [*args, "--witness", str(plan)])
    assert result.exit_code == 0, result.output
    instance = load_instance(target)
    assert instance == generate("penalty-M", 100)
    assert evaluate(instance, load_solution(plan)).feasible
