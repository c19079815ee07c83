"""A v2 file that uses no v2 field means what v1 says (SPEC §8): same plan, v2 solution."""

from __future__ import annotations

import orjson
import pytest

from models import parse_instance
from solver import solve
from solver.v1_equivalent import means_v1
from tests.checks import assert_valid_plan
from tests.conftest import EXAMPLE_PATH, tiny_instance_dict


def example_as_v2() -> dict[str, object]:
    document: dict[str, object] = orjson.loads(EXAMPLE_PATH.read_bytes())
    document["schema"] = "infraplan/v2"
    return document


def test_the_v1_example_declared_v2_solves_to_the_same_plan() -> None:
    """SPEC §2's worked example under schema v2: optimum 2,778,598.80, a v2 solution with
    the v2 cost parts at 0 and no expansions, the same decisions as under v1."""
    v2 = parse_instance(example_as_v2())
    v1 = parse_instance(orjson.loads(EXAMPLE_PATH.read_bytes()))
    solution = solve(v2, time_limit_s=10, workers=1)
    assert solution.schema_ == "infraplan-solution/v2"
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(2_778_598.80, rel=1e-9)
    assert solution.expansions == []
    costs = solution.costs
    assert (costs.lateness, costs.moves, costs.replica_starts, costs.expansions) == (0, 0, 0, 0)
    assert solution.instance_sha256 == v2.sha256
    assert_valid_plan(v2, solution)
    reference = solve(v1, time_limit_s=10, workers=1)
    assert solution.training == reference.training
    assert solution.inference == reference.inference
    assert solution.routes == reference.routes


def test_v2_fields_in_use_are_not_v1() -> None:
    """Replica start costs, a current plan or expansions need the v2 model."""
    document = tiny_instance_dict()
    document["schema"] = "infraplan/v2"
    assert means_v1(parse_instance(document))
    document["inference"][0]["replica_start_cost"] = 0
    assert means_v1(parse_instance(document))
    document["inference"][0]["replica_start_cost"] = 5
    assert not means_v1(parse_instance(document))
    del document["inference"][0]["replica_start_cost"]
    document["sites"][0]["expansions"] = [{"id": "x", "cost": 1, "grid_kw": 5}]
    assert not means_v1(parse_instance(document))
    del document["sites"][0]["expansions"]
    document["current"] = {"training": []}
    assert not means_v1(parse_instance(document))
