"""Tests of the scheduled-instance generator (models.generator.scheduled, SPEC §9)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models import Instance, Solution, load_instance, load_solution, save_instance
from models.generator import SCHEDULED_FAMILIES, generate_scheduled, generate_scheduled_with_witness
from models.generator.committed import (
    SCHEDULED_COMMITTED,
    family_of_scheduled_file,
    scheduled_path,
)
from models.io import dump_model
from solver.cli import app
from solver.evaluate import evaluate
from tests.scheduled_plan_check import per_period_capacity, scheduled_violations

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = sorted((ROOT / "instances" / "scheduled").glob("*.json"))
#: The witness carries no objective, so these two claim checks are the only ones it fails.
CLAIMS = ("objective", "cost_breakdown")
WITNESSED = [("sched-S", seed) for seed in range(5)] + [("sched-M", 0), ("sched-M", 100)]


@pytest.fixture(scope="module")
def medium() -> tuple[Instance, Solution]:
    """sched-M seed 0 and its witness."""
    return generate_scheduled_with_witness("sched-M", 0)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_file_is_what_the_generator_makes(path: Path) -> None:
    """Each file of instances/scheduled validates and equals a fresh generation byte for byte."""
    family, seed = family_of_scheduled_file(path)
    loaded = load_instance(path)
    assert loaded.is_scheduled and loaded.schema_ == "infraplan/v2"
    assert path.read_bytes() == dump_model(generate_scheduled(family, seed), exclude_unset=True)


def test_committed_files_are_the_listed_seeds() -> None:
    """sched-S seeds 0-4 and sched-M seeds 0 (tuning) and 100 (held out) are committed."""
    assert [p.relative_to(ROOT) for p in COMMITTED] == sorted(
        scheduled_path(family, seed) for family, seed in SCHEDULED_COMMITTED
    )
    assert [p.name for p in COMMITTED] == ["M-0.json", "M-100.json"] + [
        f"S-{i}.json" for i in range(5)
    ]


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    """Two runs with one family and seed write byte-identical files; another seed differs."""
    save_instance(generate_scheduled("sched-S", 3), tmp_path / "a.json")
    save_instance(generate_scheduled("sched-S", 3), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert generate_scheduled("sched-S", 1).canonical_json() != (
        generate_scheduled("sched-S", 2).canonical_json()
    )


def test_unknown_family_and_negative_seed_are_rejected() -> None:
    """Only the scheduled families exist here (the static M is not one), seeds are >= 0."""
    with pytest.raises(ValueError, match="unknown scheduled family"):
        generate_scheduled("M", 0)
    with pytest.raises(ValueError, match="seed"):
        generate_scheduled("sched-S", -1)


@pytest.mark.parametrize("seed", range(5))
def test_small_family_is_hand_sized(seed: int) -> None:
    """sched-S: 3 sites, 2 regions, 3 periods of 24-48 h, 3 jobs, 2 services."""
    instance = generate_scheduled("sched-S", seed)
    assert instance.periods is not None
    assert [p.id for p in instance.periods] == ["day-1", "day-2", "day-3"]
    assert all(p.hours in (24, 36, 48) for p in instance.periods)
    assert (len(instance.sites), len(instance.regions)) == (3, 2)
    assert (len(instance.training), len(instance.inference)) == (3, 2)
    assert instance.horizon_hours == sum(p.hours for p in instance.periods)


def test_medium_family_sizes(medium: tuple[Instance, Solution]) -> None:
    """sched-M: 40 sites, the 8 quarters of 2026-2027 (2,190 h each), 100 jobs, 300 services."""
    instance, _ = medium
    assert instance.periods is not None
    assert [(p.id, p.hours) for p in instance.periods] == [
        (f"{y}-q{q}", 2190) for y in (2026, 2027) for q in (1, 2, 3, 4)
    ]
    assert (len(instance.sites), len(instance.training), len(instance.inference)) == (40, 100, 300)
    assert instance.horizon_hours == 17_520


@pytest.mark.slow
def test_large_family_sizes_and_witness() -> None:
    """sched-L: 100 sites, 8 periods, 400 jobs, 1,500 services, and its witness is feasible."""
    instance, witness = generate_scheduled_with_witness("sched-L", 0)
    assert instance.periods is not None and len(instance.periods) == 8
    assert (len(instance.sites), len(instance.training), len(instance.inference)) == (
        100,
        400,
        1_500,
    )
    assert scheduled_violations(instance, witness) == []


def test_family_table_names_the_three_sizes() -> None:
    """The scheduled families are sched-S, sched-M and sched-L on the static families' sizes."""
    assert list(SCHEDULED_FAMILIES) == ["sched-S", "sched-M", "sched-L"]
    assert SCHEDULED_FAMILIES["sched-L"].base.sites == 100
    assert SCHEDULED_FAMILIES["sched-L"].base.inference == 1_500


@pytest.mark.parametrize(("family", "seed"), WITNESSED)
def test_witness_meets_every_rule_of_section_9(family: str, seed: int) -> None:
    """The witness (start hours, replicas and routes per period) breaks no SPEC §9 rule."""
    instance, witness = generate_scheduled_with_witness(family, seed)
    assert witness.schema_ == "infraplan-solution/v2"
    assert witness.status == "feasible" and witness.solver.name == "generator-witness"
    assert {t.job for t in witness.training} == {j.id for j in instance.training}
    assert scheduled_violations(instance, witness) == []


@pytest.mark.parametrize(("family", "seed"), WITNESSED)
def test_witness_passes_the_evaluator(family: str, seed: int) -> None:
    """The independent evaluator (solver.evaluate, SPEC §7 and §9-§12) finds no broken
    constraint in the witness, and accepts it once its objective and costs are filled in."""
    instance, witness = generate_scheduled_with_witness(family, seed)
    evaluation = evaluate(instance, witness)
    assert [str(v) for v in evaluation.violations if v.constraint not in CLAIMS] == []
    priced = witness.model_copy(
        update={"objective": evaluation.objective, "costs": evaluation.costs}
    )
    assert evaluate(instance, priced).feasible


def test_the_check_catches_broken_witnesses(medium: tuple[Instance, Solution]) -> None:
    """The §9 check used above can fail: it flags a job started before its predecessor ends,
    a service short of replicas, and work at a new campus before its power arrives."""
    instance, witness = medium
    starts = {t.job: t for t in witness.training}
    follower = next(j for j in instance.training if j.after and j.release_hour is None)
    early = starts[follower.predecessors[0]].start_hour
    broken = [
        t.model_copy(update={"start_hour": early}) if t.job == follower.id else t
        for t in witness.training
    ]
    problems = scheduled_violations(instance, witness.model_copy(update={"training": broken}))
    assert any(f"{follower.id}: starts before" in p for p in problems)

    short = [g.model_copy(update={"replicas": 0}) for g in witness.inference]
    problems = scheduled_violations(instance, witness.model_copy(update={"inference": short}))
    assert any("over capacity" in p for p in problems)

    grid, _, _ = per_period_capacity(instance)
    campus = next(s for s, kw in grid.items() if kw[0] == 0 and any(t.site == s for t in broken))
    moved = [
        t.model_copy(update={"start_hour": 0}) if t.site == campus else t for t in witness.training
    ]
    problems = scheduled_violations(instance, witness.model_copy(update={"training": moved}))
    assert any(p.startswith(f"{campus} ") for p in problems)


def test_pipelines_are_acyclic_chains_of_two_to_four(medium: tuple[Instance, Solution]) -> None:
    """`after` links jobs into chains of 2-4 (one predecessor, one successor each), pre-train
    before train before fine-tune, with no cycle; most jobs are in one."""
    instance, _ = medium
    before = {j.id: list(j.after or []) for j in instance.training}
    assert all(len(b) <= 1 for b in before.values())
    successors: dict[str, list[str]] = defaultdict(list)
    for job, preds in before.items():
        for pred in preds:
            successors[pred].append(job)
    assert all(len(s) <= 1 for s in successors.values())
    heads = [j for j, preds in before.items() if not preds]
    lengths: list[int] = []
    seen: set[str] = set()
    rank = {"pretrain": 0, "train": 1, "finetune": 2}
    for head in heads:
        chain = [head]
        while successors[chain[-1]]:
            chain.append(successors[chain[-1]][0])
            assert len(chain) <= len(before), "a cycle"
        seen.update(chain)
        ranks = [rank[j.rsplit("-", 1)[0]] for j in chain]
        assert ranks == sorted(ranks)
        lengths.append(len(chain))
    assert seen == set(before)  # every job is reached from a head: no cycle
    linked = [n for n in lengths if n > 1]
    assert set(linked) <= {2, 3, 4} and {2, 3, 4} <= set(linked)
    assert sum(linked) >= len(before) // 2


@pytest.mark.parametrize(("family", "seed"), WITNESSED)
def test_windows_hold_their_jobs_and_pipelines(family: str, seed: int) -> None:
    """Every window is at least the job's run; along each pipeline, starting every job as early
    as its release and predecessor allow still ends it by its deadline."""
    instance = generate_scheduled(family, seed)
    horizon = int(instance.horizon_hours)
    jobs = instance.training_by_id
    earliest_end: dict[str, int] = {}

    def end(job_id: str) -> int:
        if job_id not in earliest_end:
            job = jobs[job_id]
            start = max([job.release_hour or 0, *(end(k) for k in job.after or [])])
            earliest_end[job_id] = start + int(job.run_hours)
        return earliest_end[job_id]

    for job in instance.training:
        deadline = horizon if job.deadline_hour is None else job.deadline_hour
        assert deadline - (job.release_hour or 0) >= job.run_hours
        assert end(job.id) <= deadline


def test_time_matters(medium: tuple[Instance, Solution]) -> None:
    """Power arrives later at new campuses (grid 0 first), accelerators are delivered later
    (base count 0), demand grows 5-30 % a quarter, and due dates bind: each is at or before the
    witness's end, some before it (the witness pays lateness)."""
    instance, witness = medium
    grid, count, _ = per_period_capacity(instance)
    assert any(kw[0] == 0 and kw[-1] > 0 for kw in grid.values())
    assert any(n[0] == 0 and n[-1] > 0 for n in count.values())
    for service in instance.inference:
        totals = [sum(service.demand_rps.values())] + [
            sum(d.values()) for d in (service.demand_by_period or {}).values()
        ]
        assert len(totals) == 8
        for before, after in itertools.pairwise(totals):
            assert before <= after <= 1.3 * before + len(service.demand_rps)
    ends = {
        t.job: (t.start_hour or 0) + int(instance.training_by_id[t.job].run_hours)
        for t in witness.training
    }
    due = [j for j in instance.training if j.due_hour is not None]
    assert len(due) >= 30
    assert all(j.due_hour <= ends[j.id] and j.late_cost > 0 for j in due if j.due_hour is not None)
    assert any(j.due_hour is not None and j.due_hour < ends[j.id] for j in due)


def test_power_binds_at_some_sites(medium: tuple[Instance, Solution]) -> None:
    """At some sites the witness draws within 2 % of the grid in its busiest hour of a period."""
    instance, witness = medium
    grid, _, _ = per_period_capacity(instance)
    assert instance.periods is not None
    power = {a.id: a.power_kw for a in instance.accelerators}
    tight: set[str] = set()
    for p, period in enumerate(instance.periods):
        serving: dict[str, float] = defaultdict(float)
        for group in witness.inference:
            if group.period == period.id:
                service = instance.inference_by_id[group.service]
                per = {x.accelerator: x.per_replica for x in service.profiles}
                serving[group.site] += (
                    group.replicas * per[group.accelerator] * power[group.accelerator]
                )
        for site in instance.sites:
            if grid[site.id][p] > 0 and site.pue * serving[site.id] > 0.98 * grid[site.id][p]:
                tight.add(site.id)
    assert 1 <= len(tight) < len(instance.sites) // 2


def test_cli_generates_a_scheduled_family(tmp_path: Path) -> None:
    """`infraplan generate --family sched-S` writes the generator's instance and a witness
    the evaluator accepts."""
    target, plan = tmp_path / "S-1.json", tmp_path / "S-1.witness.json"
    args = ["generate", "--family", "sched-S", "--seed", "1", "-o", str(target)]
    result = CliRunner().invoke(app, [*args, "--witness", str(plan)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == dump_model(generate_scheduled("sched-S", 1), exclude_unset=True)
    instance = load_instance(target)
    assert evaluate(instance, load_solution(plan)).feasible
