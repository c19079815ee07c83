"""Evaluator tests for v2 plans (SPEC §8-§9, §12): the SPEC §9 worked example, each §9
rule broken at a moment a plan reaches (and the plan that just fits), the tolerance
edge, timing, and the v2 solution shape. Every expected figure is worked out by hand in
the test's docstring or comments."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from models import Instance, parse_instance, parse_solution
from models.solution import V1_COST_PARTS, V2_COST_PARTS
from solver import evaluate
from solver.evaluation.costs import ALL_COST_PARTS, COST_PARTS
from tests.builders import instance, job, link, service, site
from tests.v2_builders import (
    Doc,
    claimed,
    feasible,
    judge,
    only,
    plan_doc,
    replicas,
    route,
    train,
    v2_instance,
)

EXAMPLE_V2 = Path(__file__).parent.parent / "instances" / "v2" / "example-v2.json"


def example_doc() -> dict[str, Any]:
    """The SPEC §9 worked example as a JSON document."""
    document: dict[str, Any] = orjson.loads(EXAMPLE_V2.read_bytes())
    return document


def example_plan(inst: Instance, pretrain: int = 0, finetune: int = 100) -> Doc:
    """The worked example's optimal plan, with the two jobs' start hours as given."""
    return plan_doc(
        inst,
        training=[
            train("finetune", "dc", 160, finetune, "h100"),
            train("pretrain", "dc", 96, pretrain, "h100"),
        ],
        inference=[
            replicas("chat", "dc", 2, "q1", "h100"),
            replicas("chat", "dc", 4, "q2", "h100"),
        ],
        routes=[route("chat", "city", "dc", 20.0, "q1"), route("chat", "city", "dc", 40.0, "q2")],
    )


# The worked example's costs at 2.0 + 1.0 x 1.2 x 0.1 = 2.12 per H100-hour:
# training 96 x 100 + 160 x 50 = 17,600 H100-hours; chat 4 x 100 (q1) + 8 x 100 (q2) = 1,200;
# compute 18,800 x 2.0 = 37,600, energy 18,800 x 0.12 = 2,256; 4 replicas started x 50 = 200.
EXAMPLE_COSTS = {"compute": 37_600.0, "energy": 2_256.0, "replica_starts": 200.0}


@pytest.fixture(scope="module")
def example() -> Instance:
    """The SPEC §9 worked example."""
    return parse_instance(example_doc())


# -- the SPEC §9 worked example ----------------------------------------------------------


def test_worked_example_optimum(example: Instance) -> None:
    """pretrain [0, 100), finetune [100, 150), chat 2 then 4 replicas: 40,056.00, with
    lateness 0 and 200 for the 4 replicas started."""
    solution = claimed(example, example_plan(example), EXAMPLE_COSTS)
    evaluation = feasible(evaluate(example, solution))
    assert evaluation.objective == pytest.approx(40_056.00, rel=1e-12)
    costs = evaluation.costs
    assert costs.compute == pytest.approx(37_600.0, rel=1e-12)
    assert costs.energy == pytest.approx(2_256.0, rel=1e-12)
    assert costs.replica_starts == pytest.approx(200.0, rel=1e-12)
    assert (costs.lateness, costs.moves, costs.expansions) == (0.0, 0.0, 0.0)
    assert costs.egress == costs.fixed == costs.unserved == costs.unplaced == 0.0
    assert evaluation.cost_parts == V1_COST_PARTS + V2_COST_PARTS


def test_worked_example_figures_over_time(example: Instance) -> None:
    """q1: 96 + 4 H100 = 120 kW of 120; q2 from hour 100: (160 + 8) x 1.2 = 201.6 kW of
    240; from hour 150 only chat's 8 H100: 9.6 kW."""
    evaluation = evaluate(example, claimed(example, example_plan(example), EXAMPLE_COSTS))
    steps = evaluation.site_steps["dc"]
    assert [(s.period, s.start, s.end, s.usage.grid_kw) for s in steps] == [
        ("q1", 0, 100, 120.0),
        ("q2", 100, 150, 240.0),
        ("q2", 150, 200, 240.0),
    ]
    assert [s.usage.facility_kw for s in steps] == pytest.approx([120.0, 201.6, 9.6])
    q1, q2 = evaluation.periods
    assert (q1.period, q2.period) == ("q1", "q2")
    assert q1.sites["dc"].facility_kw == pytest.approx(120.0)
    assert q2.sites["dc"].facility_kw == pytest.approx(201.6)
    assert q2.sites["dc"].accelerators["h100"].used == 168
    assert (q1.services["chat"].served_rps, q2.services["chat"].served_rps) == (20.0, 40.0)
    assert (q1.services["chat"].capacity_rps, q2.services["chat"].capacity_rps) == (20.0, 40.0)
    assert evaluation.sites["dc"].facility_kw == pytest.approx(201.6)  # the peak
    assert evaluation.services["chat"].demand_rps == 40.0  # q2, the busier period
    assert [(j.job, j.start, j.end, j.late_hours) for j in evaluation.jobs] == [
        ("finetune", 100, 150, 0.0),
        ("pretrain", 0, 100, 0.0),
    ]
    assert evaluation.replan is not None
    assert evaluation.replan.replicas_started == 4
    assert {r.period for r in evaluation.routes} == {"q1", "q2"}


def test_worked_example_started_late(example: Instance) -> None:
    """pretrain at 1 ends at 101, so finetune runs [101, 151): 1 hour late at 1,000 per
    hour; everything else costs as before (a job's cost does not depend on when it runs):
    41,056.00."""
    document = example_plan(example, pretrain=1, finetune=101)
    solution = claimed(example, document, {**EXAMPLE_COSTS, "lateness": 1_000.0})
    evaluation = feasible(evaluate(example, solution))
    assert evaluation.costs.lateness == pytest.approx(1_000.0, rel=1e-12)
    assert evaluation.objective == pytest.approx(41_056.00, rel=1e-12)
    finetune = next(j for j in evaluation.jobs if j.job == "finetune")
    assert (finetune.end, finetune.late_hours, finetune.lateness_cost) == (151, 1.0, 1_000.0)


def test_worked_example_after_broken(example: Instance) -> None:
    """finetune at 100 while pretrain (from 1) ends at 101 breaks `after` by 1 hour, and in
    [100, 101) both jobs and chat's 8 H100 hold 96 + 160 + 8 = 264 of 200 H100, drawing
    264 x 1.2 = 316.8 kW of q2's 240."""
    evaluation = judge(example, example_plan(example, pretrain=1, finetune=100))
    assert evaluation.violation_counts() == {"inventory": 1, "grid_power": 1, "timing": 1}
    (timing,) = evaluation.violations_of("timing")
    assert (timing.entity, timing.amount) == ("job finetune", 1)
    assert timing.message == "starts at hour 100, before job pretrain ends at hour 101"
    (inventory,) = evaluation.violations_of("inventory")
    assert (inventory.entity, inventory.amount) == ("site dc / h100 in period q2 at hour 100", 64)
    (grid,) = evaluation.violations_of("grid_power")
    assert grid.amount == pytest.approx(316.8 - 240.0)


def test_worked_example_one_replica_more_breaks_q1_grid(example: Instance) -> None:
    """A third chat replica in q1: (96 + 6) x 1.2 = 122.4 kW > 120 from hour 0."""
    document = example_plan(example)
    document["inference"][0]["replicas"] = 3
    violation = only(judge(example, document))
    assert (violation.constraint, violation.entity) == (
        "grid_power",
        "site dc in period q1 at hour 0",
    )
    assert violation.amount == pytest.approx(2.4)
    assert str(violation).startswith("grid_power: site dc in period q1 at hour 0: facility power")


@pytest.mark.parametrize(("shortfall", "fits"), [(5e-7, True), (2e-6, False)])
def test_worked_example_grid_tolerance(shortfall: float, fits: bool) -> None:
    """q1's grid 1 - 5e-7 of the 120 kW drawn is within the 1e-6 relative tolerance;
    1 - 2e-6 is not (over by 2.4e-4 kW)."""
    document = example_doc()
    document["sites"][0]["grid_kw"] = 120.0 * (1 - shortfall)
    inst = parse_instance(document)
    evaluation = evaluate(inst, claimed(inst, example_plan(inst), EXAMPLE_COSTS))
    assert evaluation.feasible is fits, evaluation.summary()
    if not fits:
        assert only(evaluation).amount == pytest.approx(120.0 * 2e-6)


def test_worked_example_serving_short_in_q2(example: Instance) -> None:
    """3 replicas in q2 serve 30 of the 40 rps routed there."""
    document = example_plan(example)
    document["inference"][1]["replicas"] = 3
    violation = only(judge(example, document))
    assert (violation.constraint, violation.entity) == (
        "serving_capacity",
        "service chat / site dc in period q2",
    )
    assert violation.amount == pytest.approx(10.0)


def test_worked_example_demand_is_per_period(example: Instance) -> None:
    """Routing q1's 20 rps in q2 leaves q2's demand of 40 short by 20."""
    document = example_plan(example)
    document["routes"][1]["rps"] = 20.0
    violation = only(judge(example, document))
    assert (violation.constraint, violation.entity) == (
        "demand",
        "service chat / region city in period q2",
    )
    assert violation.amount == pytest.approx(20.0)


# -- capacity at events, not only at period starts -----------------------------------------


def two_jobs(grid_kw: float = 10.0, **site_extra: Any) -> Instance:
    """Periods p1, p2 of 10 h; site A with 20 GPUs (1 kW, PUE 1); jobs j1, j2 of 6 GPUs
    for 5 h."""
    return v2_instance(
        {"p1": 10, "p2": 10},
        sites=[site("A", {"gpu": (20, 0.0)}, grid_kw=grid_kw, **site_extra)],
        training=[job("j1", {"gpu": 6}, 5), job("j2", {"gpu": 6}, 5)],
    )


def test_grid_checked_where_jobs_overlap_inside_a_period() -> None:
    """j1 [0, 5) and j2 [4, 9) overlap in [4, 5): 12 kW > 10 at hour 4 (no period starts
    there); back to back, [0, 5) and [5, 10), they fit."""
    inst = two_jobs()
    overlapping = plan_doc(inst, training=[train("j1", "A", 6, 0), train("j2", "A", 6, 4)])
    violation = only(judge(inst, overlapping))
    assert (violation.constraint, violation.entity) == (
        "grid_power",
        "site A in period p1 at hour 4",
    )
    assert violation.amount == pytest.approx(2.0)
    feasible(judge(inst, plan_doc(inst, training=[train("j1", "A", 6, 0), train("j2", "A", 6, 5)])))


@pytest.mark.parametrize(("shortfall", "fits"), [(5e-7, True), (2e-6, False)])
def test_grid_tolerance_at_an_event(shortfall: float, fits: bool) -> None:
    """The overlap draws 12 kW: a grid of 12 x (1 - 5e-7) passes, 12 x (1 - 2e-6) fails."""
    inst = two_jobs(grid_kw=12.0 * (1 - shortfall))
    document = plan_doc(inst, training=[train("j1", "A", 6, 0), train("j2", "A", 6, 4)])
    assert judge(inst, document).feasible is fits


def test_inventory_follows_the_timeline() -> None:
    """8 GPUs, 4 from p2 on: a job of 8 fits in [0, 10); from hour 5 it still holds 8 at
    hour 10, 4 over."""
    inst = v2_instance(
        {"p1": 10, "p2": 10},
        sites=[
            site(
                "A",
                {"gpu": (8, 0.0)},
                timeline=[{"period": "p2", "inventory": [{"accelerator": "gpu", "count": 4}]}],
            )
        ],
        training=[job("j", {"gpu": 8}, 10)],
    )
    feasible(judge(inst, plan_doc(inst, training=[train("j", "A", 8, 0)])))
    violation = only(judge(inst, plan_doc(inst, training=[train("j", "A", 8, 5)])))
    assert (violation.constraint, violation.entity, violation.amount) == (
        "inventory",
        "site A / gpu in period p2 at hour 10",
        4,
    )


def test_cooling_per_kind_and_a_kind_set_unlimited() -> None:
    """Air cooling 10 kW in p1, unlimited (null) from p2: 12 air GPUs break it in p1 by
    2 kW, and fit in p2."""
    inst = v2_instance(
        {"p1": 10, "p2": 10},
        sites=[
            site(
                "A",
                {"gpu": (20, 0.0)},
                cooling_kw={"air": 10.0},
                timeline=[{"period": "p2", "cooling_kw": {"air": None}}],
            )
        ],
        training=[job("j", {"gpu": 12}, 5)],
    )
    violation = only(judge(inst, plan_doc(inst, training=[train("j", "A", 12, 2)])))
    assert (violation.constraint, violation.entity) == (
        "cooling",
        "site A / air in period p1 at hour 2",
    )
    assert violation.amount == pytest.approx(2.0)
    feasible(judge(inst, plan_doc(inst, training=[train("j", "A", 12, 12)])))


def bandwidth_instance() -> Instance:
    """Region r -- A at 15 Gbps. Service s has no demand in p1 and 1,000 rps of 1,250 KB in
    p2: 1,000 x 1,250 x 8e-6 = 10 Gbps. Jobs j1, j2 (2 GPUs, 5 h) read their dataset at r
    at 10 Gbps each."""
    dataset = {"at": "r", "size_gb": 0, "read_gbps": 10.0}
    return v2_instance(
        {"p1": 10, "p2": 10},
        sites=[site("A", {"gpu": (20, 0.0)})],
        regions=["r"],
        links=[link("r", "A", 5.0, bandwidth_gbps=15.0)],
        training=[
            job("j1", {"gpu": 2}, 5, dataset=dataset),
            job("j2", {"gpu": 2}, 5, dataset=dataset),
        ],
        inference=[
            service(
                "s",
                {"gpu": (1, 1_000.0)},
                {"r": 1_000.0},
                request_kb=250.0,
                response_kb=1_000.0,
                demand_by_period={"p1": {}},
            )
        ],
    )


def bandwidth_plan(inst: Instance, j1: int, j2: int) -> Doc:
    return plan_doc(
        inst,
        training=[train("j1", "A", 2, j1), train("j2", "A", 2, j2)],
        inference=[replicas("s", "A", 1, "p2")],
        routes=[route("s", "r", "A", 1_000.0, "p2")],
    )


def test_bandwidth_dataset_reads_overlap() -> None:
    """j1 [0, 5) and j2 [3, 8) read 20 Gbps over the 15 Gbps link from hour 3."""
    inst = bandwidth_instance()
    violation = only(judge(inst, bandwidth_plan(inst, 0, 3)))
    assert (violation.constraint, violation.entity) == (
        "bandwidth",
        "link r-A in period p1 at hour 3",
    )
    assert violation.amount == pytest.approx(5.0)
    feasible(judge(inst, bandwidth_plan(inst, 0, 5)))


def test_bandwidth_period_traffic_plus_reads() -> None:
    """In p2 the routes carry 10 Gbps: j2 reading 10 more from hour 12 is 5 Gbps over;
    j2 in p1 (alone) fits."""
    inst = bandwidth_instance()
    violation = only(judge(inst, bandwidth_plan(inst, 0, 12)))
    assert (violation.constraint, violation.entity) == (
        "bandwidth",
        "link r-A in period p2 at hour 12",
    )
    assert violation.amount == pytest.approx(5.0)
    evaluation = feasible(judge(inst, bandwidth_plan(inst, 0, 5)))
    loads = [
        (s.start, s.usage.traffic_gbps, s.usage.dataset_gbps) for s in evaluation.link_steps["r-A"]
    ]
    assert loads == [
        (0, 0.0, 10.0),
        (5, 0.0, 10.0),
        (10, pytest.approx(10.0), 0.0),
    ]


def test_route_to_a_region_without_demand_in_the_period() -> None:
    """s has no demand in p1 (an empty map), so routing r in p1 is ineligible (only that:
    the region has no demand row in p1 to be over, as in v1)."""
    inst = bandwidth_instance()
    document = bandwidth_plan(inst, 0, 5)
    document["inference"].append(replicas("s", "A", 1, "p1"))
    document["routes"].append(route("s", "r", "A", 10.0, "p1"))
    evaluation = judge(inst, document)
    assert evaluation.violation_counts() == {"eligibility": 1}
    assert (
        evaluation.violations_of("eligibility")[0].entity
        == "service s / region r / site A in period p1"
    )


def test_n_plus_one_per_period() -> None:
    """n+1 service of 10 rps (10 per replica) at A and B, in two failure domains: one
    replica at each covers the loss of either in p1; with B's gone in p2, losing A leaves
    nothing for the 10 rps served."""
    inst = v2_instance(
        {"p1": 10, "p2": 10},
        sites=[site("A", {"gpu": (4, 0.0)}), site("B", {"gpu": (4, 0.0)})],
        regions=["r"],
        links=[link("r", "A"), link("r", "B")],
        inference=[service("s", {"gpu": (1, 10.0)}, {"r": 10.0}, resilience="n+1")],
    )
    document = plan_doc(
        inst,
        inference=[
            replicas("s", "A", 1, "p1"),
            replicas("s", "B", 1, "p1"),
            replicas("s", "A", 1, "p2"),
        ],
        routes=[route("s", "r", "A", 10.0, "p1"), route("s", "r", "A", 10.0, "p2")],
    )
    violation = only(judge(inst, document))
    assert (violation.constraint, violation.entity) == (
        "resilience",
        "service s / domain A in period p2",
    )
    assert violation.amount == pytest.approx(10.0)


# -- timing ----------------------------------------------------------------------------


def window_instance() -> Instance:
    """Job j (2 GPUs, 5 h) with release 3 and deadline 12; optional job k before job m."""
    return v2_instance(
        {"p1": 10, "p2": 10},
        sites=[site("A", {"gpu": (20, 0.0)})],
        training=[
            job("j", {"gpu": 2}, 5, release_hour=3, deadline_hour=12),
            job("k", {"gpu": 2}, 5, required=False),
            job("m", {"gpu": 2}, 5, after=["k"]),
        ],
    )


@pytest.mark.parametrize(
    ("start", "amount", "message"),
    [
        (2, 1, "starts at hour 2, before its release hour 3"),
        (8, 1, "ends at hour 13, after its deadline hour 12"),
        (3, None, None),
        (7, None, None),
    ],
)
def test_release_and_deadline(start: int, amount: int | None, message: str | None) -> None:
    """j may run in [3, 12): from 3 to 7; 2 is an hour early, 8 ends an hour late."""
    inst = window_instance()
    document = plan_doc(
        inst, training=[train("j", "A", 2, start), train("k", "A", 2, 0), train("m", "A", 2, 5)]
    )
    evaluation = judge(inst, document)
    if amount is None:
        feasible(evaluation)
    else:
        violation = only(evaluation)
        assert (violation.constraint, violation.entity, violation.amount) == (
            "timing",
            "job j",
            amount,
        )
        assert violation.message == message


def test_after_an_unplaced_job() -> None:
    """m runs after k, so it may run only if k does."""
    inst = window_instance()
    document = plan_doc(
        inst, training=[train("j", "A", 2, 3), train("m", "A", 2, 5)], unplaced_training=["k"]
    )
    violation = only(judge(inst, document))
    assert (violation.constraint, violation.entity) == ("timing", "job m")
    assert violation.message == "runs after job k, which is not placed"


def test_running_past_the_horizon_breaks_the_default_deadline() -> None:
    """Without a deadline_hour the deadline is H = 20: j2 from 17 ends 2 hours late."""
    inst = two_jobs()
    violation = only(
        judge(inst, plan_doc(inst, training=[train("j1", "A", 6, 0), train("j2", "A", 6, 17)]))
    )
    assert (violation.constraint, violation.entity, violation.amount) == ("timing", "job j2", 2)


# -- static v2 instances -------------------------------------------------------------------


def static_instance() -> Instance:
    """Static v2 (no periods, horizon 10): 6 GPUs at 1 per hour, two jobs of 4 for 5 h."""
    return v2_instance(
        sites=[site("A", {"gpu": (6, 1.0)})],
        training=[job("j1", {"gpu": 4}, 5), job("j2", {"gpu": 4}, 5)],
    )


def test_static_counts_every_job_at_once() -> None:
    """In a static instance both jobs count at once (SPEC §8): 8 of 6 GPUs, with no period
    named; each pays 4 x 5 GPU-hours at 1 (compute 40) and the v2 parts are 0."""
    inst = static_instance()
    document = plan_doc(inst, training=[train("j1", "A", 4), train("j2", "A", 4)])
    evaluation = evaluate(inst, claimed(inst, document, {"compute": 40.0}))
    violation = only(evaluation)
    assert (violation.constraint, violation.entity, violation.amount) == (
        "inventory",
        "site A / gpu",
        2,
    )
    assert evaluation.costs.parts() == {
        **dict.fromkeys(V1_COST_PARTS, 0.0),
        "compute": 40.0,
        **dict.fromkeys(V2_COST_PARTS, 0.0),
    }
    assert [s.period for s in evaluation.site_steps["A"]] == ["all"]


# -- the shape of a v2 solution (SPEC §12) ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "entity", "message"),
    [
        (
            lambda d: d["training"][0].pop("start_hour"),
            "job j1 / site A / gpu",
            "no start_hour (the instance is scheduled)",
        ),
        (
            lambda d: d["inference"][0].pop("period"),
            "service s / site A / gpu",
            "names no period (the instance is scheduled)",
        ),
        (
            lambda d: d["routes"][0].update(period="q9"),
            "service s / region r / site A in period q9",
            "unknown period 'q9'",
        ),
        (
            lambda d: d["expansions"].append({"site": "A", "expansion": "nope"}),
            "expansion nope of site A",
            "site A has no expansion 'nope'",
        ),
        (
            lambda d: d["expansions"].append({"site": "Z", "expansion": "x"}),
            "expansion x of site Z",
            "unknown site 'Z'",
        ),
        (
            lambda d: d.update(schema="infraplan-solution/v1"),
            "schema",
            "solution schema infraplan-solution/v1, but the instance takes infraplan-solution/v2 "
            "(SPEC §12)",
        ),
    ],
)
def test_scheduled_shape(change: Any, entity: str, message: str) -> None:
    """Each malformed entry is one eligibility violation naming it."""
    inst = v2_instance(
        {"p1": 10, "p2": 10},
        sites=[
            site("A", {"gpu": (20, 0.0)}, expansions=[{"id": "x", "period": "p2", "cost": 1.0}])
        ],
        regions=["r"],
        links=[link("r", "A")],
        training=[job("j1", {"gpu": 2}, 5)],
        inference=[service("s", {"gpu": (1, 10.0)}, {"r": 5.0}, unserved_cost_per_rps_hour=1.0)],
    )
    document = plan_doc(
        inst,
        training=[train("j1", "A", 2, 0)],
        inference=[replicas("s", "A", 1, "p1"), replicas("s", "A", 1, "p2")],
        routes=[route("s", "r", "A", 5.0, "p1"), route("s", "r", "A", 5.0, "p2")],
    )
    feasible(judge(inst, document))
    broken = copy.deepcopy(document)
    change(broken)
    evaluation = judge(inst, broken)
    found = [(v.entity, v.message) for v in evaluation.violations_of("eligibility")]
    assert (entity, message) in found, evaluation.summary()


def test_duplicate_expansion_is_built_once() -> None:
    """Listing an expansion twice is a violation; its cost (7) is charged once."""
    inst = static_with_expansion()
    document = plan_doc(
        inst, expansions=[{"site": "A", "expansion": "x"}] * 2, unplaced_training=["j"]
    )
    evaluation = evaluate(inst, claimed(inst, document, {"expansions": 7.0}))
    violation = only(evaluation)
    assert (violation.entity, violation.message) == (
        "expansion x of site A",
        "listed twice in expansions",
    )
    assert evaluation.costs.expansions == 7.0


def static_with_expansion() -> Instance:
    """Static v2 with site A's expansion x (cost 7, no period)."""
    return v2_instance(
        sites=[site("A", {"gpu": (4, 0.0)}, expansions=[{"id": "x", "cost": 7.0}])],
        training=[job("j", {"gpu": 2}, 5, required=False)],
    )


def test_static_shape() -> None:
    """A start hour or a period in a static plan is ineligible (the entry still counts)."""
    inst = v2_instance(
        sites=[site("A", {"gpu": (20, 0.0)})],
        regions=["r"],
        links=[link("r", "A")],
        training=[job("j1", {"gpu": 2}, 5)],
        inference=[service("s", {"gpu": (1, 10.0)}, {"r": 5.0})],
    )
    document = plan_doc(
        inst,
        training=[train("j1", "A", 2, 0)],
        inference=[replicas("s", "A", 1, "all")],
        routes=[route("s", "r", "A", 5.0)],
    )
    evaluation = judge(inst, document)
    assert [(v.entity, v.message) for v in evaluation.violations] == [
        ("job j1 / site A / gpu", "start_hour 0 given, but the instance is not scheduled"),
        (
            "service s / site A / gpu in period all",
            "names period 'all', but the instance is not scheduled",
        ),
    ]


def test_v2_costs_must_be_reported() -> None:
    """A v2 solution reports lateness, moves, replica_starts and expansions (0 when unused)."""
    inst = static_with_expansion()
    document = plan_doc(inst, unplaced_training=["j"])
    document["costs"] = {}
    evaluation = evaluate(inst, parse_solution(document))
    assert [v.entity for v in evaluation.violations] == [f"cost {part}" for part in V2_COST_PARTS]
    assert {v.constraint for v in evaluation.violations} == {"cost_breakdown"}


# -- v1 stays v1 ---------------------------------------------------------------------------


def test_v1_plan_keeps_v1_parts_and_refuses_v2_fields() -> None:
    """A v1 evaluation lists v1's eight parts; a start hour in a v1 plan is ineligible."""
    inst = instance(sites=[site("A", {"gpu": (4, 1.0)})], training=[job("j", {"gpu": 2}, 5)])
    document: Doc = {
        "instance": inst.name,
        "instance_sha256": inst.sha256,
        "status": "feasible",
        "objective": 10.0,
        "training": [train("j", "A", 2)],
        "costs": {"compute": 10.0},
        "solver": {"name": "hand", "version": "0"},
    }
    evaluation = feasible(evaluate(inst, parse_solution(document)))
    assert evaluation.cost_parts == COST_PARTS == V1_COST_PARTS
    assert evaluation.costs.lateness is None
    assert evaluation.periods == [] and evaluation.site_steps == {} and evaluation.replan is None
    document["training"][0]["start_hour"] = 0
    violation = only(evaluate(inst, parse_solution(document)))
    assert violation.message == "start_hour 0 given, but the instance is not scheduled"
    assert ALL_COST_PARTS == V1_COST_PARTS + V2_COST_PARTS


def test_traffic_egress_and_unserved_use_each_period_hours() -> None:
    """p1 10 h, p2 30 h; s needs 5 rps in p1 and 10 in p2 (1,000 KB a request, link r-A at
    0.01 per GB, unserved at 2 per rps-hour). Serving 5 rps in each period and leaving 5
    unserved in p2: egress 5 x 1,000 x 3,600 / 1e6 GB-per-hour x (10 + 30) h x 0.01 = 7.2;
    unserved 5 x 30 x 2 = 300."""
    inst = v2_instance(
        {"p1": 10, "p2": 30},
        sites=[site("A", {"gpu": (4, 0.0)})],
        regions=["r"],
        links=[link("r", "A", 5.0, egress_cost_per_gb=0.01)],
        inference=[
            service(
                "s",
                {"gpu": (1, 10.0)},
                {"r": 10.0},
                request_kb=1_000.0,
                demand_by_period={"p1": {"r": 5.0}},
                unserved_cost_per_rps_hour=2.0,
            )
        ],
    )
    document = plan_doc(
        inst,
        inference=[replicas("s", "A", 1, "p1"), replicas("s", "A", 1, "p2")],
        routes=[route("s", "r", "A", 5.0, "p1"), route("s", "r", "A", 5.0, "p2")],
        unserved=[{"service": "s", "region": "r", "rps": 5.0, "period": "p2"}],
    )
    evaluation = feasible(
        evaluate(inst, claimed(inst, document, {"egress": 7.2, "unserved": 300.0}))
    )
    assert evaluation.costs.egress == pytest.approx(7.2, rel=1e-12)
    assert evaluation.costs.unserved == pytest.approx(300.0, rel=1e-12)
    assert evaluation.periods[1].services["s"].unserved_rps == 5.0
