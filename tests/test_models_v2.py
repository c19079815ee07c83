"""Schema infraplan/v2 (SPEC §8-§11): every input rule, located by its JSON path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import pytest

from models import InputError, load_instance, parse_instance
from models.io import dump_model
from models.schedule import largest_capacity
from tests.conftest import EXAMPLE_PATH, EXAMPLE_V2_PATH, tiny_instance_dict

if TYPE_CHECKING:
    from collections.abc import Callable

Document = dict[str, Any]


def scheduled_dict() -> Document:
    """The tiny instance as a scheduled v2 instance: periods p1 (60 h) and p2 (40 h)."""
    document = tiny_instance_dict()
    document["schema"] = "infraplan/v2"
    document["periods"] = [{"id": "p1", "hours": 60}, {"id": "p2", "hours": 40}]
    return document


def static_v2_dict() -> Document:
    """The tiny instance declared as v2, without periods (a static v2 instance)."""
    document = tiny_instance_dict()
    document["schema"] = "infraplan/v2"
    return document


def issues_of(document: Document) -> list[str]:
    """Every issue of an invalid document as 'path: message'."""
    with pytest.raises(InputError) as caught:
        parse_instance(document, "case.json")
    return [str(issue) for issue in caught.value.issues]


def broken(make: Callable[[], Document], change: Callable[[Document], object]) -> list[str]:
    """The issues of a fresh document from `make` after `change`."""
    document = make()
    change(document)
    return issues_of(document)


def test_the_worked_example_resolves_per_period() -> None:
    """SPEC §9's example: H from the periods, grid 120 then 240 kW, chat's demand 20 then 40."""
    instance = load_instance(EXAMPLE_V2_PATH)
    assert instance.is_v2
    assert instance.is_scheduled
    assert instance.horizon_hours == 200
    schedule = instance.schedule
    assert [(p.id, p.start, p.hours) for p in schedule.periods] == [
        ("q1", 0, 100),
        ("q2", 100, 100),
    ]
    assert schedule.grid_kw["dc"] == [120, 240]
    assert schedule.count[("dc", "h100")] == [200, 200]
    assert schedule.demand["chat"] == [{"city": 20}, {"city": 40}]
    finetune = instance.training_by_id["finetune"]
    assert finetune.predecessors == ["pretrain"]
    assert (finetune.release, finetune.deadline(200), finetune.late_cost) == (0, 200, 1000)


def test_a_v1_instance_dumps_as_before() -> None:
    """No v2 key appears in a v1 instance's canonical JSON or saved file."""
    instance = load_instance(EXAMPLE_PATH)
    canonical = orjson.loads(instance.canonical_json())
    v2_keys = {"periods", "current", "moves", "supply_limits", "timeline", "expansions"}
    v2_keys |= {"release_hour", "deadline_hour", "due_hour", "late_cost_per_hour", "after"}
    v2_keys |= {"move_cost", "checkpoint_gb", "demand_by_period", "replica_start_cost"}

    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for value in node.values() for k in keys(value)}
        if isinstance(node, list):
            return {k for value in node for k in keys(value)}
        return set()

    assert keys(canonical) & v2_keys == set()
    assert keys(orjson.loads(dump_model(instance, exclude_unset=True))) & v2_keys == set()


def test_a_v2_instance_round_trips() -> None:
    """Saved and read again, the worked example is the same instance."""
    instance = load_instance(EXAMPLE_V2_PATH)
    again = parse_instance(orjson.loads(dump_model(instance, exclude_unset=True)))
    assert again == instance


@pytest.mark.parametrize(
    ("change", "issue"),
    [
        (
            lambda d: d.update(periods=[{"id": "p", "hours": 1}]),
            "periods: 'periods' needs schema 'infraplan/v2'",
        ),
        (
            lambda d: d["sites"][0].update(timeline=[]),
            "sites[0].timeline: 'timeline' needs schema 'infraplan/v2'",
        ),
        (
            lambda d: d["training"][0].update(after=[]),
            "training[0].after: 'after' needs schema 'infraplan/v2'",
        ),
        (
            lambda d: d["inference"][0].update(replica_start_cost=1),
            "inference[0].replica_start_cost: 'replica_start_cost' needs schema 'infraplan/v2'",
        ),
        (
            lambda d: d.update(moves={}),
            "moves: 'moves' needs schema 'infraplan/v2'",
        ),
    ],
)
def test_a_v1_file_that_names_a_v2_field_says_so(
    change: Callable[[Document], object], issue: str
) -> None:
    """SPEC §8: a v1 file that names a v2 field is an input error that says so."""
    assert broken(tiny_instance_dict, change) == [issue]


@pytest.mark.parametrize(
    ("change", "issue"),
    [
        (
            lambda d: d["sites"][0].update(timeline=[{"period": "all", "grid_kw": 5}]),
            "sites[0].timeline: 'timeline' needs 'periods' (a static instance has no schedule)",
        ),
        (
            lambda d: d["training"][0].update(release_hour=3),
            "training[0].release_hour: 'release_hour' needs 'periods'"
            " (a static instance has no schedule)",
        ),
        (
            lambda d: d["training"][0].update(due_hour=3, late_cost_per_hour=2),
            "training[0].due_hour: 'due_hour' needs 'periods' (a static instance has no schedule)",
        ),
        (
            lambda d: d["inference"][0].update(demand_by_period={}),
            "inference[0].demand_by_period: 'demand_by_period' needs 'periods'"
            " (a static instance has no schedule)",
        ),
    ],
)
def test_a_static_instance_has_no_schedule_fields(
    change: Callable[[Document], object], issue: str
) -> None:
    """SPEC §9: timeline, windows, lateness, after and demand_by_period need periods."""
    assert broken(static_v2_dict, change)[0] == issue


def test_static_v2_fields_that_need_no_periods_are_valid() -> None:
    """§10 and §11 fields work in a static instance (one period, 'all')."""
    document = static_v2_dict()
    document["training"][0].update(move_cost=5, checkpoint_gb=10)
    document["inference"][0]["replica_start_cost"] = 3
    document["sites"][0]["expansions"] = [
        {
            "id": "x1",
            "cost": 100,
            "grid_kw": 50,
            "inventory": [{"accelerator": "h100", "count": 4}],
        },
        {"id": "x2", "period": "all", "cost": 10, "cooling_kw": {"air": 20}},
    ]
    document["supply_limits"] = [{"accelerator": "h100", "max_count": 4}]
    document["current"] = {
        "training": [{"job": "train", "site": "east", "accelerator": "h100"}],
        "inference": [{"service": "chat", "site": "west", "accelerator": "h100", "replicas": 2}],
    }
    document["moves"] = {"max_training_moves": 0, "max_replica_changes": None}
    instance = parse_instance(document)
    assert not instance.is_scheduled
    assert [p.id for p in instance.schedule.periods] == ["all"]
    assert instance.schedule.expansion_period == {("east", "x1"): 0, ("east", "x2"): 0}
    # east has no cooling limit: x2's 20 kW of air cooling leaves it unlimited (SPEC §11).
    assert largest_capacity(instance, "east") == (150, {"air": None, "liquid": None}, {"h100": 12})


@pytest.mark.parametrize(
    ("change", "issue"),
    [
        (lambda d: d.update(periods=[]), "periods: at least one period is needed"),
        (
            lambda d: d.update(periods=[{"id": "p", "hours": 5}, {"id": "p", "hours": 5}]),
            "periods[1].id: duplicate period id 'p'",
        ),
        (
            lambda d: d.update(periods=[{"id": "p", "hours": 2.5}]),
            "periods[0].hours: Input should be a valid integer (got 2.5)",
        ),
        (
            lambda d: d.update(horizon_hours=99),
            "horizon_hours: horizon_hours 99 differs from the periods' total 100",
        ),
        (
            lambda d: d["training"][0].update(run_hours=2.5),
            "training[0].run_hours: run_hours must be a whole number of hours, not 2.5",
        ),
        (
            lambda d: d["training"][0].update(deadline_hour=101),
            "training[0].deadline_hour: deadline_hour 101 is after the horizon's end 100",
        ),
        (
            lambda d: d["training"][0].update(after=["ghost"]),
            "training[0].after[0]: unknown training job 'ghost'",
        ),
        (
            lambda d: d["training"][0].update(after=["train"]),
            "training[0].after[0]: a job cannot run after itself",
        ),
        (
            lambda d: d["sites"][0].update(timeline=[{"period": "p9"}]),
            "sites[0].timeline[0].period: unknown period 'p9'",
        ),
        (
            lambda d: d["sites"][0].update(timeline=[{"period": "p2"}, {"period": "p1"}]),
            "sites[0].timeline[1].period: period 'p1' is out of period order",
        ),
        (
            lambda d: d["sites"][0].update(timeline=[{"period": "p2"}, {"period": "p2"}]),
            "sites[0].timeline[1].period: a second entry for period 'p2'",
        ),
        (
            lambda d: d["sites"][0].update(
                timeline=[{"period": "p2", "inventory": [{"accelerator": "a100", "count": 1}]}]
            ),
            "sites[0].timeline[0].inventory[0].accelerator:"
            " accelerator 'a100' is not in the site's base inventory",
        ),
        (
            lambda d: d["sites"][0].update(
                timeline=[
                    {
                        "period": "p2",
                        "inventory": [
                            {"accelerator": "h100", "count": 1},
                            {"accelerator": "h100", "count": 2},
                        ],
                    }
                ]
            ),
            "sites[0].timeline[0].inventory[1].accelerator:"
            " accelerator 'h100' named twice in one entry",
        ),
        (
            lambda d: d["inference"][0].update(demand_by_period={"p7": {}}),
            "inference[0].demand_by_period.p7: unknown period 'p7'",
        ),
        (
            lambda d: d["inference"][0].update(demand_by_period={"p1": {"mars": 3}}),
            "inference[0].demand_by_period.p1.mars: unknown region 'mars'",
        ),
        (
            lambda d: d["sites"][0].update(expansions=[{"id": "x", "cost": 1}]),
            "sites[0].expansions[0]: an expansion of a scheduled instance needs its 'period'",
        ),
        (
            lambda d: d["sites"][0].update(expansions=[{"id": "x", "period": "p1", "cost": 1}] * 2),
            "sites[0].expansions[1].id: duplicate expansion id 'x'",
        ),
        (
            lambda d: d.update(supply_limits=[{"accelerator": "tpu", "max_count": 1}]),
            "supply_limits[0].accelerator: unknown accelerator 'tpu'",
        ),
        (
            lambda d: d.update(supply_limits=[{"accelerator": "h100", "max_count": 1}] * 2),
            "supply_limits[1].accelerator: a second supply limit for 'h100'",
        ),
    ],
)
def test_scheduled_rules(change: Callable[[Document], object], issue: str) -> None:
    """Each §9 and §11 rule, broken once, is reported at its JSON path."""
    assert broken(scheduled_dict, change)[0] == issue


def test_a_cycle_of_after_is_named() -> None:
    """SPEC §9: the `after` graph must be acyclic; the error names the cycle."""
    document = scheduled_dict()
    first = document["training"][0]
    document["training"] += [
        {**first, "id": "b", "after": ["c"]},
        {**first, "id": "c", "after": ["d"]},
        {**first, "id": "d", "after": ["b"]},
    ]
    assert issues_of(document) == ["training[1].after: 'after' has a cycle: b -> c -> d -> b"]


@pytest.mark.parametrize(
    ("current", "issue"),
    [
        (
            {"training": [{"job": "ghost", "site": "east", "accelerator": "h100"}]},
            "current.training[0].job: unknown training job 'ghost'",
        ),
        (
            {"training": [{"job": "train", "site": "east", "accelerator": "a100"}]},
            "current.training[0]: 'train' cannot run at 'east' on 'a100':"
            " the site has no such accelerator in its inventory",
        ),
        (
            {
                "training": [
                    {"job": "train", "site": "east", "accelerator": "h100"},
                    {"job": "train", "site": "west", "accelerator": "a100"},
                ]
            },
            "current.training: training job 'train' listed 2 times",
        ),
        (
            {
                "inference": [
                    {"service": "chat", "site": "mars", "accelerator": "h100", "replicas": 1}
                ]
            },
            "current.inference[0].site: unknown site 'mars'",
        ),
        (
            {
                "inference": [
                    {"service": "chat", "site": "east", "accelerator": "h100", "replicas": 1},
                    {"service": "chat", "site": "east", "accelerator": "h100", "replicas": 2},
                ]
            },
            "current.inference: ('chat', 'east', 'h100') listed 2 times",
        ),
    ],
)
def test_current_plan_rules(current: Document, issue: str) -> None:
    """SPEC §10: the current plan names existing, eligible decisions, once each."""
    document = static_v2_dict()
    document["current"] = current
    assert issues_of(document)[0] == issue


def test_a_running_job_cannot_have_a_release_or_predecessors() -> None:
    """SPEC §10: a job of `current` with release_hour > 0 or an `after` list is an error."""
    document = scheduled_dict()
    document["training"][0]["release_hour"] = 5
    document["current"] = {"training": [{"job": "train", "site": "east", "accelerator": "h100"}]}
    assert issues_of(document) == [
        "current.training[0].job: a job of 'current' cannot have release_hour 5"
    ]


def test_a_group_no_longer_eligible_may_stay_in_current() -> None:
    """SPEC §10: a current inference entry may name a group that is no longer eligible."""
    document = static_v2_dict()
    # west has no h100 at all: chat cannot run there any more.
    document["current"] = {
        "inference": [{"service": "chat", "site": "west", "accelerator": "h100", "replicas": 3}]
    }
    assert parse_instance(document).current is not None


def test_timeline_and_expansions_resolve_per_period() -> None:
    """Timeline values hold from their period on; a null cooling kind becomes unlimited;
    expansions come online at their period and count towards the largest capacity."""
    document = scheduled_dict()
    document["periods"].append({"id": "p3", "hours": 10})
    document["horizon_hours"] = 110
    east = document["sites"][0]
    east["cooling_kw"] = {"air": 30}
    east["timeline"] = [
        {"period": "p2", "grid_kw": 50, "inventory": [{"accelerator": "h100", "count": 2}]},
        {"period": "p3", "cooling_kw": {"air": None}},
    ]
    east["expansions"] = [
        {"id": "more", "period": "p3", "cost": 9, "grid_kw": 25, "cooling_kw": {"air": 5}},
    ]
    document["inference"][0]["demand_by_period"] = {"p2": {}}
    instance = parse_instance(document)
    schedule = instance.schedule
    assert schedule.grid_kw["east"] == [100, 50, 50]
    assert schedule.count[("east", "h100")] == [8, 2, 2]
    assert schedule.cooling_kw[("east", "air")] == [30, 30, None]
    assert schedule.demand["chat"] == [{"nyc": 20}, {}, {"nyc": 20}]
    assert schedule.expansion_period == {("east", "more"): 2}
    assert largest_capacity(instance, "east") == (125, {"air": None, "liquid": None}, {"h100": 8})


def test_scheduled_instance_may_omit_horizon_hours() -> None:
    """SPEC §9: horizon_hours may be omitted; it is the periods' total."""
    document = scheduled_dict()
    del document["horizon_hours"]
    assert parse_instance(document).horizon_hours == 100


def test_options_that_fit_only_after_a_delivery_are_eligible() -> None:
    """An option larger than the base stock but within a later delivery stays eligible."""
    document = scheduled_dict()
    document["training"][0]["options"] = [{"accelerator": "h100", "count": 12}]
    document["sites"][0]["timeline"] = [
        {"period": "p2", "inventory": [{"accelerator": "h100", "count": 12}]}
    ]
    instance = parse_instance(document)
    assert [(p.site, p.count) for p in instance.eligibility.training["train"]] == [("east", 12)]
