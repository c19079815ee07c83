"""Tiny v2 instances and plans for the evaluator's v2 tests, built from `tests.builders`."""

from __future__ import annotations

import copy
from typing import Any

from models import Instance, Solution, parse_solution
from models.solution import SOLUTION_SCHEMA_V2
from solver import Evaluation, Violation, evaluate
from tests.builders import instance

Doc = dict[str, Any]


def v2_instance(periods: dict[str, int] | None = None, **parts: Any) -> Instance:
    """A v2 instance: scheduled with these periods (id -> hours), static without them
    (then `horizon_hours` from `parts`, default 10)."""
    if periods is None:
        return instance(schema="infraplan/v2", **parts)
    return instance(
        schema="infraplan/v2",
        horizon_hours=float(sum(periods.values())),
        periods=[{"id": period, "hours": hours} for period, hours in periods.items()],
        **parts,
    )


def train(
    job: str, site: str, count: int, start: int | None = None, accelerator: str = "gpu"
) -> Doc:
    """A training entry (with `start_hour` when given)."""
    entry: Doc = {"job": job, "site": site, "accelerator": accelerator, "count": count}
    if start is not None:
        entry["start_hour"] = start
    return entry


def replicas(
    service: str, site: str, count: int, period: str | None = None, accelerator: str = "gpu"
) -> Doc:
    """An inference entry (with `period` when given)."""
    entry: Doc = {"service": service, "site": site, "accelerator": accelerator, "replicas": count}
    if period is not None:
        entry["period"] = period
    return entry


def route(service: str, region: str, site: str, rps: float, period: str | None = None) -> Doc:
    """A route entry (with `period` when given)."""
    entry: Doc = {"service": service, "region": region, "site": site, "rps": rps}
    if period is not None:
        entry["period"] = period
    return entry


def plan_doc(inst: Instance, **lists: Any) -> Doc:
    """A v2 solution document with these lists and zero costs (objective 0)."""
    return {
        "schema": SOLUTION_SCHEMA_V2,
        "instance": inst.name,
        "instance_sha256": inst.sha256,
        "status": "feasible",
        "objective": 0.0,
        "training": [],
        "unplaced_training": [],
        "inference": [],
        "routes": [],
        "unserved": [],
        "expansions": [],
        "costs": {"lateness": 0.0, "moves": 0.0, "replica_starts": 0.0, "expansions": 0.0},
        "solver": {"name": "hand", "version": "0"},
        **lists,
    }


def claimed(inst: Instance, document: Doc, costs: dict[str, float]) -> Solution:
    """The plan reporting these hand-computed cost parts (others 0) and their sum."""
    document = copy.deepcopy(document)
    document["costs"] = {**document["costs"], **costs}
    document["objective"] = sum(costs.values())
    return parse_solution(document)


def restated(inst: Instance, document: Doc) -> Solution:
    """The plan with its objective and costs replaced by the recomputed ones, so that only
    the rule under test can fail."""
    evaluation = evaluate(inst, parse_solution(document))
    document = copy.deepcopy(document)
    document["objective"] = evaluation.objective
    document["costs"] = evaluation.costs.model_dump()
    return parse_solution(document)


def judge(inst: Instance, document: Doc) -> Evaluation:
    """The evaluation of the plan with its claims restated."""
    return evaluate(inst, restated(inst, document))


def only(evaluation: Evaluation) -> Violation:
    """The single violation of an evaluation (fails listing them all otherwise)."""
    assert len(evaluation.violations) == 1, evaluation.summary()
    assert not evaluation.feasible
    return evaluation.violations[0]


def feasible(evaluation: Evaluation) -> Evaluation:
    """The evaluation, asserted feasible (the summary names what broke)."""
    assert evaluation.feasible, evaluation.summary()
    return evaluation
