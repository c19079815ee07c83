"""Evaluator tests: hand-computed costs, one injected violation per constraint family,
the SPEC §7 tolerance, multi-hop egress, the CLI, and speed on a large plan.

`tests/data/eval_small.json` is a three-site instance with a transit exchange,
limited links, an n+1 service and a remote dataset; `eval_small_plan.json` is a
feasible plan for it whose costs are worked out by hand in `test_small_plan_costs`.
Each injection test breaks that plan in one place, restates the reported costs to
the recomputed ones (so only the injected constraint can fail), and checks that
exactly that constraint is reported with the right entity and amount.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from models import Instance, Solution, load_instance, parse_instance, parse_solution
from solver import Evaluation, Violation, evaluate
from solver.cli import app
from solver.evaluation.violations import CONSTRAINTS

DATA = Path(__file__).parent / "data"
REPO_ROOT = Path(__file__).parent.parent
EXAMPLE = REPO_ROOT / "instances" / "example.json"
SMALL = DATA / "eval_small.json"
SMALL_PLAN = DATA / "eval_small_plan.json"

Doc = dict[str, Any]


@pytest.fixture(scope="session")
def small() -> Instance:
    """The hand-made instance of the injection tests."""
    return load_instance(SMALL)


@pytest.fixture
def plan_doc() -> Doc:
    """A fresh copy of the good plan as a JSON document, ready to break."""
    document: Doc = orjson.loads(SMALL_PLAN.read_bytes())
    return document


def restated(instance: Instance, document: Doc) -> Solution:
    """The plan with its objective and costs replaced by the recomputed ones."""
    evaluation = evaluate(instance, parse_solution(document))
    document = copy.deepcopy(document)
    document["objective"] = evaluation.objective
    document["costs"] = evaluation.costs.model_dump()
    return parse_solution(document)


def only_violation(evaluation: Evaluation) -> Violation:
    """The single violation of an evaluation (fails listing them all otherwise)."""
    assert len(evaluation.violations) == 1, "\n".join(map(str, evaluation.violations))
    assert not evaluation.feasible
    return evaluation.violations[0]


def replicas(document: Doc, service: str, site: str, accelerator: str, count: int) -> None:
    """Set (or add) the replicas of a service at a site."""
    for entry in document["inference"]:
        if (entry["service"], entry["site"], entry["accelerator"]) == (service, site, accelerator):
            entry["replicas"] = count
            return
    document["inference"].append(
        {"service": service, "site": site, "accelerator": accelerator, "replicas": count}
    )


def route(document: Doc, service: str, region: str, site: str, rps: float) -> None:
    """Set (or add, or with rps 0 remove) the rps of a route."""
    routes = [
        entry
        for entry in document["routes"]
        if (entry["service"], entry["region"], entry["site"]) != (service, region, site)
    ]
    if rps:
        routes.append({"service": service, "region": region, "site": site, "rps": rps})
    document["routes"] = routes


def place(
    document: Doc, job: str, site: str | None, accelerator: str = "h100", count: int = 8
) -> None:
    """Move a training job (site None: take it out of the plan)."""
    document["training"] = [entry for entry in document["training"] if entry["job"] != job]
    if site is not None:
        document["training"].append(
            {"job": job, "site": site, "accelerator": accelerator, "count": count}
        )


# -- the SPEC worked example ---------------------------------------------------


def test_spec_worked_example_optimum() -> None:
    """The SPEC §2 optimal plan (2,048 H100 training, 25 replicas = 50 H100) costs 2,778,598.80."""
    instance = load_instance(EXAMPLE)
    solution = Solution.model_validate(
        {
            "instance": "example",
            "instance_sha256": instance.sha256,
            "status": "optimal",
            "objective": 2_778_598.80,
            "bound": 2_778_598.80,
            "training": [
                {"job": "pretrain-a", "site": "us-east", "accelerator": "h100", "count": 2048}
            ],
            "inference": [
                {"service": "chat-70b", "site": "us-east", "accelerator": "h100", "replicas": 25}
            ],
            "routes": [{"service": "chat-70b", "region": "nyc", "site": "us-east", "rps": 300.0}],
            # (2,048 x 600 + 50 x 730) accelerator-hours at 2.1 and at 1.0 kW x 1.2 x 0.08
            "costs": {"compute": 1_265_300 * 2.1, "energy": 1_265_300 * 0.096},
            "solver": {"name": "hand", "version": "0"},
        },
        strict=False,
    )
    evaluation = evaluate(instance, solution)
    assert evaluation.feasible, evaluation.summary()
    assert evaluation.objective == pytest.approx(2_778_598.80, rel=1e-12)
    assert evaluation.costs.compute == pytest.approx(2_657_130.00, rel=1e-12)
    assert evaluation.costs.energy == pytest.approx(121_468.80, rel=1e-12)
    assert evaluation.costs.carbon == evaluation.costs.egress == evaluation.costs.fixed == 0
    site = evaluation.sites["us-east"]
    assert site.accelerators["h100"].used == 2048 + 50
    assert site.facility_kw == pytest.approx(2_517.6)
    assert evaluation.services["chat-70b"].capacity_rps == pytest.approx(300.0)


def test_spec_worked_example_one_replica_short() -> None:
    """24 replicas cannot carry 300 rps: a serving-capacity violation of 12 rps."""
    instance = load_instance(EXAMPLE)
    document = example_plan(instance)
    document["inference"][0]["replicas"] = 24
    violation = only_violation(evaluate(instance, restated(instance, document)))
    assert violation.constraint == "serving_capacity"
    assert violation.entity == "service chat-70b / site us-east"
    assert violation.amount == pytest.approx(12.0)


# -- the good small plan ---------------------------------------------------------


def test_small_plan_costs(small: Instance, plan_doc: Doc) -> None:
    """The good plan is feasible and every cost part matches the hand computation."""
    evaluation = evaluate(small, parse_solution(plan_doc))
    assert evaluation.feasible, evaluation.summary()
    # accelerator-hours: fra h100 800 (chat), fra b200 200 (search),
    # ams h100 400 (pretrain) + 400 (chat) + 400 (search), iad h100 160 (finetune) + 100 (batch)
    fra_h100, fra_b200, ams_h100, iad_h100 = 800, 200, 1200, 260
    costs = evaluation.costs
    assert costs.compute == pytest.approx(
        fra_h100 * 2.0 + fra_b200 * 4.0 + ams_h100 * 2.5 + iad_h100 * 1.8
    )
    # energy per accelerator-hour = power_kw x pue x price
    assert costs.energy == pytest.approx(
        fra_h100 * 1.0 * 1.5 * 0.10
        + fra_b200 * 2.0 * 1.5 * 0.10
        + ams_h100 * 1.0 * 1.25 * 0.08
        + iad_h100 * 1.0 * 1.2 * 0.06
    )
    # carbon per accelerator-hour = power_kw x pue x g/kWh x 50 per tonne / 1e6
    assert costs.carbon == pytest.approx(
        (
            fra_h100 * 1.5 * 400
            + fra_b200 * 2.0 * 1.5 * 400
            + ams_h100 * 1.25 * 200
            + iad_h100 * 1.2 * 300
        )
        * 50
        / 1e6
    )
    # GB per rps over the horizon = KB x 3600 x 100 h / 1e6 = KB x 0.36
    assert costs.egress == pytest.approx(
        1000 * (0.02 + 0.01)  # dataset paris -> ix -> ams
        + 35 * 25 * 0.36 * 0.01  # chat berlin -> fra
        + 20 * 25 * 0.36 * (0.02 + 0.01)  # chat paris -> ix -> ams
        + 100 * 10 * 0.36 * 0.01  # search berlin -> fra
        + 60 * 10 * 0.36 * (0.02 + 0.01)  # search paris -> ix -> ams
    )
    assert costs.site_costs == pytest.approx(300.0)  # pretrain at ams
    assert costs.fixed == pytest.approx(1000 + 500)  # fra and ams host work, iad is free
    assert costs.unserved == pytest.approx(50 * 100 * 0.02)
    assert costs.unplaced == pytest.approx(50.0)  # sweep
    assert evaluation.objective == pytest.approx(8241.03, rel=1e-12)
    assert evaluation.objective == pytest.approx(costs.total, rel=1e-12)


def test_fixed_cost_follows_site_use(small: Instance, plan_doc: Doc) -> None:
    """A site pays fixed_cost only when it hosts a job or a replica (SPEC §5.8); a zero entry
    hosts nothing."""
    spare = {
        "id": "spare",
        "grid_kw": 100,
        "pue": 1.0,
        "energy_price_per_kwh": 0.0,
        "fixed_cost": 700,
        "inventory": [{"accelerator": "h100", "count": 8}],
    }
    instance = small.model_copy(
        update={"sites": [*small.model_dump(by_alias=True)["sites"], spare]}
    )
    link = {"a": "spare", "b": "ix", "latency_ms": 1}
    instance = instance.model_copy(
        update={"links": [*instance.model_dump(by_alias=True)["links"], link]}
    )
    replicas(plan_doc, "search", "spare", "h100", 0)
    idle = evaluate(instance, restated(instance, plan_doc))
    assert idle.feasible, idle.summary()
    assert not idle.sites["spare"].active and idle.costs.fixed == pytest.approx(1500.0)
    place(plan_doc, "sweep", "spare", count=4)
    plan_doc["unplaced_training"] = []
    busy = evaluate(instance, restated(instance, plan_doc))
    assert busy.feasible, busy.summary()
    assert busy.sites["spare"].active and busy.costs.fixed == pytest.approx(1500.0 + 700.0)
    assert busy.costs.unplaced == 0


def test_small_plan_figures(small: Instance, plan_doc: Doc) -> None:
    """Per-site, per-link, per-route and per-service figures of the good plan."""
    evaluation = evaluate(small, parse_solution(plan_doc))
    fra, ams, iad = (evaluation.sites[s] for s in ("fra", "ams", "iad"))
    assert fra.it_kw == pytest.approx(12.0) and fra.facility_kw == pytest.approx(18.0)
    assert fra.heat["air"].it_kw == pytest.approx(8.0)
    assert fra.heat["liquid"].it_kw == pytest.approx(4.0)
    assert fra.heat["liquid"].limit_kw == 10
    assert ams.heat["air"].limit_kw == 18 and "liquid" not in ams.heat  # no liquid, no limit
    assert ams.accelerators["h100"].used == 16 and ams.accelerators["h100"].count == 24
    assert ams.utilization == pytest.approx(16 / 24)
    assert iad.heat["air"].limit_kw is None and iad.active
    links = {link.name: link for link in evaluation.links}
    assert links["ix-ams"].dataset_gbps == pytest.approx(0.8)
    assert links["ix-ams"].traffic_gbps == pytest.approx(20 * 25 * 8e-6 + 60 * 10 * 8e-6)
    assert links["paris-ix"].capacity_gbps is None and links["paris-ix"].used_gbps > 0.8
    assert links["berlin-ams"].used_gbps == 0 and links["berlin-ams"].capacity_gbps == 0.005
    latency = {(r.service, r.region, r.site): r.latency_ms for r in evaluation.routes}
    assert latency[("search", "paris", "ams")] == pytest.approx(3 + 3)
    search = evaluation.services["search"]
    assert search.capacity_by_site == {"fra": pytest.approx(240.0), "ams": pytest.approx(200.0)}
    assert search.capacity_left_by_domain == {
        "eu-central": pytest.approx(200.0),
        "eu-west": pytest.approx(240.0),
    }
    assert search.served_rps == pytest.approx(160.0)
    assert search.worst_latency_ms == pytest.approx(6.0)
    embed = evaluation.services["batch-embed"]
    assert embed.served_rps == pytest.approx(100.0) and embed.unserved_rps == pytest.approx(50.0)
    assert embed.capacity_left_by_domain == {}


# -- one injected violation per constraint family ---------------------------------

Injection = Callable[[Doc], object]


def leave_chat_paris_unserved(document: Doc) -> None:
    """Leave 5 rps of chat in paris unserved, though chat has no unserved price."""
    route(document, "chat", "paris", "ams", 15.0)
    document["unserved"].append({"service": "chat", "region": "paris", "rps": 5.0})


def serve_search_berlin_at_ams(document: Doc) -> None:
    """Send berlin's 100 rps of search over berlin-ams: 100 x 10 KB x 8e-6 on 0.005 Gbps."""
    route(document, "search", "berlin", "fra", 0)
    route(document, "search", "berlin", "ams", 100.0)


def serve_chat_berlin_at_ams(document: Doc) -> None:
    """Serve 20 rps of chat from berlin at ams: 9 ms against an SLO of 8 ms."""
    route(document, "chat", "berlin", "fra", 15.0)
    route(document, "chat", "paris", "ams", 0)
    route(document, "chat", "paris", "fra", 20.0)
    route(document, "chat", "berlin", "ams", 20.0)


def serve_search_in_nyc(document: Doc) -> None:
    """Serve search in nyc, a region without search demand, from a replica at iad."""
    replicas(document, "search", "iad", "h100", 1)
    route(document, "search", "nyc", "iad", 10.0)


INJECTIONS: dict[str, tuple[Injection, str, str, float]] = {
    # name: (break the plan, constraint, entity, amount)
    "inventory": (
        lambda d: replicas(d, "batch-embed", "iad", "h100", 60),  # 8 + 60 of 64
        "inventory",
        "site iad / h100",
        4,
    ),
    "grid_power": (
        lambda d: replicas(d, "chat", "fra", "h100", 11),  # (22 + 2 x 2) kW x 1.5 vs 36
        "grid_power",
        "site fra",
        3.0,
    ),
    "cooling": (
        lambda d: replicas(d, "search", "ams", "h100", 7),  # 8 + 4 + 7 kW of air vs 18
        "cooling",
        "site ams / air",
        1.0,
    ),
    "demand_short": (
        lambda d: route(d, "chat", "berlin", "fra", 30.0),
        "demand",
        "service chat / region berlin",
        5.0,
    ),
    "demand_over": (
        lambda d: route(d, "chat", "berlin", "fra", 38.0),
        "demand",
        "service chat / region berlin",
        3.0,
    ),
    "unserved_without_price": (
        leave_chat_paris_unserved,
        "demand",
        "service chat / region paris",
        5.0,
    ),
    "serving_capacity": (
        lambda d: replicas(d, "chat", "fra", "h100", 3),  # 35 rps on 30
        "serving_capacity",
        "service chat / site fra",
        5.0,
    ),
    "resilience": (
        lambda d: replicas(d, "search", "fra", "b200", 1),  # losing ams leaves 120 for 160
        "resilience",
        "service search / domain eu-west",
        40.0,
    ),
    "bandwidth_traffic": (
        serve_search_berlin_at_ams,
        "bandwidth",
        "link berlin-ams",
        0.003,
    ),
    "bandwidth_dataset": (
        lambda d: place(d, "pretrain", "fra"),  # 0.8 Gbps read over ix-fra of 0.5
        "bandwidth",
        "link ix-fra",
        0.3,
    ),
    "eligibility_allowed_site": (
        lambda d: place(d, "finetune", "fra"),
        "eligibility",
        "job finetune / site fra / h100",
        1,
    ),
    "eligibility_tag": (
        lambda d: place(d, "pretrain", "iad"),  # iad lacks the eu tag
        "eligibility",
        "job pretrain / site iad / h100",
        1,
    ),
    "eligibility_slo": (
        serve_chat_berlin_at_ams,
        "eligibility",
        "service chat / region berlin / site ams",
        1.0,
    ),
    "required_job_unplaced": (
        lambda d: place(d, "pretrain", None),
        "eligibility",
        "job pretrain",
        1,
    ),
    "option_count": (
        lambda d: place(d, "pretrain", "ams", count=9),
        "eligibility",
        "job pretrain / site ams / h100",
        1,
    ),
    "job_placed_twice": (
        lambda d: d["training"].append(
            {"job": "finetune", "site": "iad", "accelerator": "h100", "count": 8}
        ),
        "eligibility",
        "job finetune",
        1,
    ),
    "unplaced_list_missing_job": (
        lambda d: d.update(unplaced_training=[]),
        "eligibility",
        "job sweep",
        1,
    ),
    "unplaced_list_names_placed_job": (
        lambda d: d.update(unplaced_training=["finetune", "sweep"]),
        "eligibility",
        "job finetune",
        1,
    ),
    "route_region_without_demand": (
        serve_search_in_nyc,
        "eligibility",
        "service search / region nyc / site iad",
        10.0,
    ),
    "profile_missing": (
        lambda d: replicas(d, "chat", "fra", "b200", 1),
        "eligibility",
        "service chat / site fra / b200",
        1,
    ),
    "unknown_site": (
        lambda d: d["routes"].append(
            {"service": "chat", "region": "berlin", "site": "mars", "rps": 0.0}
        ),
        "eligibility",
        "service chat / region berlin / site mars",
        1,
    ),
    "duplicate_replicas": (
        lambda d: d["inference"].append(
            {"service": "chat", "site": "fra", "accelerator": "h100", "replicas": 0}
        ),
        "eligibility",
        "service chat / site fra / h100",
        1,
    ),
}


@pytest.mark.parametrize("name", list(INJECTIONS))
def test_injected_violation_is_reported_alone(small: Instance, plan_doc: Doc, name: str) -> None:
    """Breaking the good plan in one place reports exactly that constraint, entity and amount."""
    inject, constraint, entity, amount = INJECTIONS[name]
    inject(plan_doc)
    violation = only_violation(evaluate(small, restated(small, plan_doc)))
    assert (violation.constraint, violation.entity) == (constraint, entity)
    assert violation.amount == pytest.approx(amount, rel=1e-9)
    assert "\n" not in violation.message and violation.message


def test_wrong_objective_is_reported(small: Instance, plan_doc: Doc) -> None:
    """A reported objective 1.0 too high is an objective violation of 1.0."""
    plan_doc["objective"] += 1.0
    violation = only_violation(evaluate(small, parse_solution(plan_doc)))
    assert (violation.constraint, violation.entity) == ("objective", "objective")
    assert violation.amount == pytest.approx(1.0)


def test_wrong_cost_part_is_reported(small: Instance, plan_doc: Doc) -> None:
    """A reported energy cost 10 too high is a cost_breakdown violation on energy."""
    plan_doc["costs"]["energy"] += 10.0
    violation = only_violation(evaluate(small, parse_solution(plan_doc)))
    assert (violation.constraint, violation.entity) == ("cost_breakdown", "cost energy")
    assert violation.amount == pytest.approx(10.0)


def test_missing_objective_is_reported(small: Instance, plan_doc: Doc) -> None:
    """A plan that reports no objective cannot be checked, so it is not feasible."""
    plan_doc["objective"] = None
    violation = only_violation(evaluate(small, parse_solution(plan_doc)))
    assert violation.constraint == "objective"


@pytest.mark.parametrize("status", ["infeasible", "unknown"])
def test_solution_without_plan(small: Instance, plan_doc: Doc, status: str) -> None:
    """Status infeasible or unknown holds no plan: one status violation, objective inf."""
    plan_doc["status"] = status
    evaluation = evaluate(small, parse_solution(plan_doc))
    violation = only_violation(evaluation)
    assert (violation.constraint, violation.entity) == ("status", "solution")
    assert math.isinf(evaluation.objective) and evaluation.sites == {}


def test_unreachable_dataset_and_route(small: Instance, plan_doc: Doc) -> None:
    """A site with no links cannot read a dataset or serve a region."""
    island = {
        "id": "island",
        "grid_kw": 1000,
        "pue": 1.0,
        "energy_price_per_kwh": 0.0,
        "tags": ["eu"],
        "inventory": [{"accelerator": "h100", "count": 64}],
    }
    instance = small.model_copy(
        update={"sites": [*small.model_dump(by_alias=True)["sites"], island]}
    )
    place(plan_doc, "pretrain", "island")
    replicas(plan_doc, "chat", "island", "h100", 1)
    route(plan_doc, "chat", "paris", "ams", 10.0)
    route(plan_doc, "chat", "paris", "island", 10.0)
    messages = [str(v) for v in evaluate(instance, restated(instance, plan_doc)).violations]
    assert any("cannot reach the dataset at paris" in m for m in messages), messages
    assert any("site island is unreachable from the region" in m for m in messages), messages


# -- status and bound claims (SPEC §7) ------------------------------------------------


def claiming(document: Doc, status: str, bound: float | None) -> Solution:
    """The plan with another status and bound (its objective and costs stay as reported)."""
    return parse_solution({**document, "status": status, "bound": bound})


def test_bound_above_the_plan_is_reported(small: Instance, plan_doc: Doc) -> None:
    """A bound 10 above the cost of a feasible plan is a bound violation of 10."""
    violation = only_violation(
        evaluate(small, claiming(plan_doc, "feasible", plan_doc["objective"] + 10))
    )
    assert (violation.constraint, violation.entity) == ("bound", "bound")
    assert violation.amount == pytest.approx(10.0)
    assert "above" in violation.message


def test_optimal_with_a_gap_is_reported(small: Instance, plan_doc: Doc) -> None:
    """Status optimal with a bound 1% below the plan's cost is a status violation of the gap."""
    objective = plan_doc["objective"]
    solution = claiming(plan_doc, "optimal", 0.99 * objective)
    violation = only_violation(evaluate(small, solution))
    assert (violation.constraint, violation.entity) == ("status", "status")
    assert violation.amount == pytest.approx(0.01 * objective)
    assert "not proved" in violation.message
    assert evaluate(small, claiming(plan_doc, "feasible", 0.99 * objective)).feasible


def test_optimal_without_a_bound_is_reported(small: Instance, plan_doc: Doc) -> None:
    """Status optimal with a null bound proves nothing: a status violation."""
    violation = only_violation(evaluate(small, claiming(plan_doc, "optimal", None)))
    assert (violation.constraint, violation.entity) == ("status", "status")


@pytest.mark.parametrize(
    ("status", "relative", "feasible"),
    [
        ("optimal", 0.0, True),
        ("optimal", -0.5e-6, True),  # bound within 1e-6 below: proved
        ("optimal", -2e-6, False),
        ("feasible", 0.5e-6, True),  # bound within 1e-6 above: tolerated
        ("feasible", 2e-6, False),
        ("optimal", 2e-6, False),
    ],
)
def test_bound_and_status_tolerance(
    small: Instance, plan_doc: Doc, status: str, relative: float, feasible: bool
) -> None:
    """Bound and gap are compared at SPEC §7's 1e-6 relative tolerance."""
    objective = plan_doc["objective"]
    evaluation = evaluate(small, claiming(plan_doc, status, objective * (1 + relative)))
    assert evaluation.feasible is feasible, evaluation.summary()


@pytest.mark.parametrize("bound", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("status", ["optimal", "feasible"])
def test_non_finite_bound_is_reported(
    small: Instance, plan_doc: Doc, bound: float, status: str
) -> None:
    """A bound that is not finite is a bound violation; with status optimal, a status one too."""
    evaluation = evaluate(small, claiming(plan_doc, status, bound))
    expected = {"bound": 1, "status": 1} if status == "optimal" else {"bound": 1}
    assert evaluation.violation_counts() == expected, evaluation.summary()


def test_bound_above_a_broken_plan_is_not_a_bound_violation(small: Instance, plan_doc: Doc) -> None:
    """A plan that breaks a constraint may cost less than the optimum, so a bound above its
    cost is not flagged (the broken constraint is)."""
    place(plan_doc, "pretrain", None)  # required: an eligibility violation, and cheaper
    cheaper = restated(small, plan_doc)
    solution = claiming(cheaper.model_dump(by_alias=True), "feasible", plan_doc["objective"])
    evaluation = evaluate(small, solution)
    assert evaluation.objective < plan_doc["objective"]
    assert evaluation.violation_counts() == {"eligibility": 1}


def test_docs_list_every_violation_name() -> None:
    """docs/spec-readings.md names exactly the evaluator's violation families, in order."""
    text = " ".join((REPO_ROOT / "docs" / "spec-readings.md").read_text().split())
    listed = text.split("The violation names are ", 1)[1].split(";", 1)[0]
    assert re.findall(r"`(\w+)`", listed) == list(CONSTRAINTS)


# -- tolerance (SPEC §7) -----------------------------------------------------------


@pytest.mark.parametrize(("relative", "feasible"), [(1e-8, True), (1e-4, False)])
def test_tolerance_on_constraints(
    small: Instance, plan_doc: Doc, relative: float, feasible: bool
) -> None:
    """Serving 1e-8 relative over demand and capacity passes; 1e-4 over fails."""
    # chat at ams serves exactly its capacity of 20 rps, the whole paris demand
    route(plan_doc, "chat", "paris", "ams", 20.0 * (1 + relative))
    evaluation = evaluate(small, restated(small, plan_doc))
    assert evaluation.feasible is feasible
    if not feasible:
        assert {v.constraint for v in evaluation.violations} == {"demand", "serving_capacity"}
        assert all(v.amount == pytest.approx(20.0 * relative) for v in evaluation.violations)


@pytest.mark.parametrize(("relative", "feasible"), [(1e-8, True), (1e-4, False)])
def test_tolerance_on_objective(
    small: Instance, plan_doc: Doc, relative: float, feasible: bool
) -> None:
    """A reported objective 1e-8 relative off passes; 1e-4 off fails."""
    plan_doc["objective"] *= 1 + relative
    evaluation = evaluate(small, parse_solution(plan_doc))
    assert evaluation.feasible is feasible
    assert [v.constraint for v in evaluation.violations] == ([] if feasible else ["objective"])


def example_plan(instance: Instance) -> Doc:
    """The SPEC §2 optimal plan as a document, without objective or costs."""
    return {
        "instance": "example",
        "instance_sha256": instance.sha256,
        "status": "feasible",
        "training": [
            {"job": "pretrain-a", "site": "us-east", "accelerator": "h100", "count": 2048}
        ],
        "inference": [
            {"service": "chat-70b", "site": "us-east", "accelerator": "h100", "replicas": 25}
        ],
        "routes": [{"service": "chat-70b", "region": "nyc", "site": "us-east", "rps": 300.0}],
        "solver": {"name": "hand", "version": "0"},
    }


@pytest.mark.parametrize(("claimed", "feasible"), [(5e-7, True), (5e-6, False)])
def test_tolerance_near_zero(claimed: float, feasible: bool) -> None:
    """Near zero the tolerance is absolute 1e-6: the example's zero carbon claimed as 5e-7
    passes, as 5e-6 fails."""
    instance = load_instance(EXAMPLE)
    document = restated(instance, example_plan(instance)).model_dump(by_alias=True)
    assert document["costs"]["carbon"] == 0
    document["costs"]["carbon"] = claimed
    evaluation = evaluate(instance, parse_solution(document))
    assert evaluation.feasible is feasible
    if not feasible:
        violation = only_violation(evaluation)
        assert (violation.constraint, violation.entity) == ("cost_breakdown", "cost carbon")
        assert violation.amount == pytest.approx(claimed)


# -- egress along multi-hop paths ----------------------------------------------------


def test_multi_hop_egress_and_bandwidth_by_hand(small: Instance, plan_doc: Doc) -> None:
    """Dataset and traffic egress follow the SPEC §3 paths through the ix exchange."""
    place(plan_doc, "pretrain", "fra")
    route(plan_doc, "search", "paris", "ams", 0)
    route(plan_doc, "search", "paris", "fra", 60.0)
    path = small.paths.route("paris", "fra")
    assert path is not None and path.nodes == ("paris", "ix", "fra")
    evaluation = evaluate(small, restated(small, plan_doc))
    assert evaluation.costs.egress == pytest.approx(
        1000 * (0.02 + 0.03)  # dataset paris -> ix -> fra
        + 35 * 25 * 0.36 * 0.01  # chat berlin -> fra
        + 20 * 25 * 0.36 * (0.02 + 0.01)  # chat paris -> ix -> ams
        + 100 * 10 * 0.36 * 0.01  # search berlin -> fra
        + 60 * 10 * 0.36 * (0.02 + 0.03)  # search paris -> ix -> fra
    )
    assert evaluation.costs.site_costs == pytest.approx(200.0)
    links = {link.name: link for link in evaluation.links}
    assert links["ix-fra"].dataset_gbps == pytest.approx(0.8)
    assert links["ix-fra"].traffic_gbps == pytest.approx(60 * 10 * 8e-6)
    assert links["paris-ix"].traffic_gbps == pytest.approx(20 * 25 * 8e-6 + 60 * 10 * 8e-6)
    assert links["ix-ams"].dataset_gbps == 0
    # the dataset read overloads ix-fra, and nothing else breaks
    violation = only_violation(evaluation)
    assert violation.entity == "link ix-fra"
    assert violation.amount == pytest.approx(0.8 + 60 * 10 * 8e-6 - 0.5)


def test_evaluate_ignores_pruned_eligibility(
    small: Instance, plan_doc: Doc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluator judges by the SPEC rules alone, never by `Instance.eligibility`."""
    instance = load_instance(SMALL)

    def refuse(_: Instance) -> None:
        raise AssertionError("evaluate used Instance.eligibility")

    monkeypatch.setattr(Instance, "eligibility", property(refuse))
    assert evaluate(instance, parse_solution(plan_doc)).feasible


def test_summary_lists_each_violation(small: Instance, plan_doc: Doc) -> None:
    """The summary gives the objective, eight cost lines and one line per violation."""
    replicas(plan_doc, "chat", "fra", "h100", 3)
    plan_doc["objective"] += 5.0
    text = evaluate(small, parse_solution(plan_doc)).summary()
    lines = text.splitlines()
    assert lines[0].startswith("eval-small: INFEASIBLE plan")
    assert sum(line.strip().split()[0] in ("compute", "energy", "unplaced") for line in lines) == 3
    assert any(
        line.strip().startswith("serving_capacity: service chat / site fra") for line in lines
    )
    assert any(line.strip().startswith("objective: objective") for line in lines)


# -- CLI ------------------------------------------------------------------------------


def write_json(path: Path, document: Doc) -> Path:
    """Write a JSON document and return its path."""
    path.write_bytes(orjson.dumps(document))
    return path


def test_cli_feasible_plan_exits_0() -> None:
    """`infraplan evaluate` on the good plan prints the objective and exits 0."""
    result = CliRunner().invoke(app, ["evaluate", str(SMALL), str(SMALL_PLAN)])
    assert result.exit_code == 0, result.output
    assert "feasible plan" in result.output and "8,241.03" in result.output
    assert "no violations" in result.output


def test_cli_infeasible_plan_exits_1(tmp_path: Path, plan_doc: Doc) -> None:
    """An infeasible plan prints its violation on its own line and exits 1."""
    replicas(plan_doc, "chat", "fra", "h100", 3)
    plan = write_json(tmp_path / "plan.json", plan_doc)
    result = CliRunner().invoke(app, ["evaluate", str(SMALL), str(plan)])
    assert result.exit_code == 1
    assert any(
        line.strip().startswith("serving_capacity: service chat / site fra")
        for line in result.output.splitlines()
    )


def test_cli_bad_solution_file_is_one_line(tmp_path: Path, plan_doc: Doc) -> None:
    """A malformed solution gives one error line with the file and JSON path, no traceback."""
    plan_doc["routes"][0]["rps"] = -1.0
    plan = write_json(tmp_path / "plan.json", plan_doc)
    result = CliRunner().invoke(app, ["evaluate", str(SMALL), str(plan)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and str(plan) in lines[0] and "routes[0].rps" in lines[0]


def test_cli_missing_argument_is_usage_error() -> None:
    """Leaving out the solution file is a usage error (exit 2)."""
    result = CliRunner().invoke(app, ["evaluate", str(SMALL)])
    assert result.exit_code == 2


# -- speed ----------------------------------------------------------------------------


def large_case(sites: int = 300, services: int = 10_000, regions: int = 30) -> tuple[Instance, Doc]:
    """A star network of sites and regions around one exchange, each service served by one
    or (n+1) two sites; a plan that is feasible by construction."""
    region_ids = [f"r{u}" for u in range(regions)]
    site_ids = [f"s{s}" for s in range(sites)]
    document: Doc = {
        "schema": "infraplan/v1",
        "name": "large",
        "horizon_hours": 730,
        "accelerators": [{"id": "h100", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"}],
        "sites": [
            {
                "id": site_id,
                "grid_kw": 1e6,
                "pue": 1.2,
                "energy_price_per_kwh": 0.1,
                "failure_domain": f"d{index % 50}",
                "fixed_cost": 10.0,
                "inventory": [{"accelerator": "h100", "count": 100_000, "hourly_cost": 2.0}],
            }
            for index, site_id in enumerate(site_ids)
        ],
        "regions": [{"id": region_id} for region_id in region_ids],
        "transit": [{"id": "core"}],
        "links": [
            {"a": node, "b": "core", "latency_ms": 1.0 + (index % 7), "bandwidth_gbps": 1e4}
            for index, node in enumerate(region_ids + site_ids)
        ],
        "inference": [
            {
                "id": f"svc{i}",
                "profiles": [{"accelerator": "h100", "per_replica": 1, "rps": 10.0}],
                "demand_rps": {region_ids[i % regions]: 30.0, region_ids[(i + 7) % regions]: 20.0},
                "latency_slo_ms": 100.0,
                "request_kb": 2,
                "response_kb": 8,
                "resilience": "n+1" if i % 2 else "none",
            }
            for i in range(services)
        ],
    }
    instance = parse_instance(document)
    inference: list[Doc] = []
    routes: list[Doc] = []
    for i in range(services):
        home, spare = site_ids[i % sites], site_ids[(i + 1) % sites]
        inference.append({"service": f"svc{i}", "site": home, "accelerator": "h100", "replicas": 5})
        if i % 2:  # n+1: the same capacity again in the next failure domain
            inference.append(
                {"service": f"svc{i}", "site": spare, "accelerator": "h100", "replicas": 5}
            )
        for region, rps in document["inference"][i]["demand_rps"].items():
            routes.append({"service": f"svc{i}", "region": region, "site": home, "rps": rps})
    plan = {
        "instance": "large",
        "instance_sha256": instance.sha256,
        "status": "feasible",
        "inference": inference,
        "routes": routes,
        "solver": {"name": "generated", "version": "0"},
    }
    return instance, plan


@pytest.mark.slow
def test_large_plan_evaluates() -> None:
    """300 sites and 10,000 services evaluate, paths included: the unclaimed costs are the
    only violations, and the plan restated with its costs is feasible (no time asserted:
    evaluation speed belongs in benchmarks)."""
    instance, plan = large_case()
    unclaimed = parse_solution(plan)  # reports no costs: those claims are the only violations
    evaluation = evaluate(instance, unclaimed)  # first use: computes the SPEC §3 paths too
    assert {v.constraint for v in evaluation.violations} == {"objective", "cost_breakdown"}
    assert len(evaluation.services) == 10_000 and len(evaluation.sites) == 300
    assert evaluate(instance, restated(instance, plan)).feasible
