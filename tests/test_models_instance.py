"""Tests of models/instance.py and the entity models: every validation rule, with its path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from models import InputError, Instance, parse_instance
from models.base import MAX_COUNT, MAX_QUANTITY
from tests.conftest import rich_instance_dict, tiny_instance_dict

if TYPE_CHECKING:
    from collections.abc import Callable

Document = dict[str, Any]


def issues_of(document: Any) -> list[str]:
    """Every issue of an invalid document as 'path: message'."""
    with pytest.raises(InputError) as caught:
        parse_instance(document, "case.json")
    return [str(issue) for issue in caught.value.issues]


def broken(change: Callable[[Document], object]) -> list[str]:
    """The issues of the tiny instance after `change` is applied to it."""
    document = tiny_instance_dict()
    change(document)
    return issues_of(document)


def test_tiny_and_rich_instances_are_valid() -> None:
    """The shared fixtures validate, so every broken variant below fails for one reason."""
    assert parse_instance(tiny_instance_dict()).name == "tiny"
    assert parse_instance(rich_instance_dict()).name == "rich"


def test_defaults_are_the_spec_defaults() -> None:
    """Optional fields take SPEC section 2's defaults."""
    instance = parse_instance(tiny_instance_dict())
    site, job, service = instance.sites[0], instance.training[0], instance.inference[0]
    link = instance.links[0]
    assert instance.carbon_price_per_tonne == 0
    assert (site.carbon_g_per_kwh, site.cooling_kw, site.failure_domain, site.fixed_cost) == (
        0,
        None,
        None,
        0,
    )
    assert site.domain == "east"
    assert site.cooling_limit_kw("air") is None
    assert instance.sites[1].tags == []
    assert (link.bandwidth_gbps, link.egress_cost_per_gb) == (None, 0)
    assert (job.required, job.unplaced_cost, job.requires_tags, job.allowed_sites) == (
        True,
        0,
        [],
        None,
    )
    assert (job.site_costs, job.dataset) == ({}, None)
    assert (service.request_kb, service.response_kb, service.resilience) == (0, 0, "none")
    assert (service.unserved_cost_per_rps_hour, service.allowed_sites) == (None, None)


def test_cooling_map_missing_kind_means_unlimited() -> None:
    """A cooling kind absent from cooling_kw has no limit; a listed one has its figure."""
    site = parse_instance(rich_instance_dict()).site_by_id["dc-b"]
    assert site.cooling_limit_kw("air") == 1000
    assert site.cooling_limit_kw("liquid") is None
    assert site.domain == "zone-1"


def test_error_names_file_path_and_message_on_one_line() -> None:
    """str(InputError) is one line: file, JSON path, first message, count of the rest."""
    document = tiny_instance_dict()
    document["sites"][0]["inventory"][0]["accelerator"] = "h1OO"
    document["links"][0]["b"] = "nowhere"
    with pytest.raises(InputError) as caught:
        parse_instance(document, "case.json")
    assert str(caught.value) == (
        "case.json: sites[0].inventory[0].accelerator: unknown accelerator 'h1OO' (and 1 more)"
    )
    assert caught.value.lines() == [
        "case.json: sites[0].inventory[0].accelerator: unknown accelerator 'h1OO'",
        "case.json: links[0].b: unknown node 'nowhere'",
    ]


# -- cross references ----------------------------------------------------------------------


def test_unknown_accelerator_in_inventory() -> None:
    """An inventory entry must name a known accelerator."""
    assert broken(lambda d: d["sites"][0]["inventory"][0].update(accelerator="h1OO")) == [
        "sites[0].inventory[0].accelerator: unknown accelerator 'h1OO'"
    ]


def test_unknown_accelerator_in_option_and_profile() -> None:
    """Training options and inference profiles must name known accelerators."""

    def change(d: Document) -> None:
        d["training"][0]["options"][1]["accelerator"] = "tpu"
        d["inference"][0]["profiles"][0]["accelerator"] = "tpu"

    assert broken(change) == [
        "training[0].options[1].accelerator: unknown accelerator 'tpu'",
        "inference[0].profiles[0].accelerator: unknown accelerator 'tpu'",
    ]


@pytest.mark.parametrize(
    ("list_name", "extra"),
    [
        ("accelerators", {"id": "h100", "memory_gb": 1, "power_kw": 1, "cooling": "air"}),
        (
            "training",
            {"id": "train", "options": [{"accelerator": "h100", "count": 1}], "run_hours": 1},
        ),
        (
            "inference",
            {
                "id": "chat",
                "profiles": [{"accelerator": "h100", "per_replica": 1, "rps": 1}],
                "demand_rps": {"nyc": 1},
                "latency_slo_ms": 5,
            },
        ),
    ],
)
def test_duplicate_ids(list_name: str, extra: Document) -> None:
    """Ids are unique within accelerators, training and inference."""
    document = tiny_instance_dict()
    document[list_name].append(extra)
    index = len(document[list_name]) - 1
    assert issues_of(document) == [f"{list_name}[{index}].id: duplicate id '{extra['id']}'"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["regions"].append({"id": "east"}),
            "regions[1].id: duplicate node id 'east' (already a site)",
        ),
        (
            lambda d: d["sites"][1].update(id="nyc"),
            "regions[0].id: duplicate node id 'nyc' (already a site)",
        ),
        (
            lambda d: d["transit"].append({"id": "nyc"}),
            "transit[1].id: duplicate node id 'nyc' (already a region)",
        ),
        (
            lambda d: d["regions"].append({"id": "hub"}),
            "transit[0].id: duplicate node id 'hub' (already a region)",
        ),
    ],
)
def test_node_ids_share_one_space(change: Callable[[Document], object], expected: str) -> None:
    """Sites, regions and transit nodes may not share an id (reported in the later list)."""
    assert broken(change)[0] == expected


def test_duplicate_site_id() -> None:
    """Two sites with one id are reported at the second (and the first keeps the id)."""
    assert broken(lambda d: d["sites"][1].update(id="east")) == [
        "sites[1].id: duplicate node id 'east' (already a site)",
        "links[2].b: unknown node 'west'",
    ]


def test_region_in_allowed_sites() -> None:
    """allowed_sites must name sites, not regions or transit nodes."""

    def change(d: Document) -> None:
        d["training"][0]["allowed_sites"] = ["east", "nyc"]
        d["inference"][0]["allowed_sites"] = ["hub"]

    assert broken(change) == [
        "training[0].allowed_sites[1]: 'nyc' is a region, not a site",
        "inference[0].allowed_sites[0]: 'hub' is a transit node, not a site",
    ]


def test_unknown_allowed_site() -> None:
    """allowed_sites must name existing nodes."""
    assert broken(lambda d: d["training"][0].update(allowed_sites=["mars"])) == [
        "training[0].allowed_sites[0]: unknown site 'mars'"
    ]


@pytest.mark.parametrize(("region", "kind"), [("east", "site"), ("hub", "transit node")])
def test_demand_from_a_non_region(region: str, kind: str) -> None:
    """demand_rps keys must be regions."""
    assert broken(lambda d: d["inference"][0].update(demand_rps={region: 5})) == [
        f"inference[0].demand_rps.{region}: '{region}' is a {kind}, not a region"
    ]


def test_demand_from_unknown_region_with_odd_key() -> None:
    """An unknown region key that is not a plain identifier is JSON-quoted in the path."""
    assert broken(lambda d: d["inference"][0].update(demand_rps={"new york": 5})) == [
        "inference[0].demand_rps[\"new york\"]: unknown region 'new york'"
    ]


def test_accelerator_twice_in_inventory() -> None:
    """A site lists each accelerator at most once."""
    assert broken(
        lambda d: d["sites"][0]["inventory"].append({"accelerator": "h100", "count": 1})
    ) == ["sites[0].inventory[1].accelerator: accelerator 'h100' listed twice in the inventory"]


def test_accelerator_twice_in_options_and_profiles() -> None:
    """Options and profiles name each accelerator at most once."""

    def change(d: Document) -> None:
        d["training"][0]["options"].append({"accelerator": "h100", "count": 2})
        d["inference"][0]["profiles"].append({"accelerator": "h100", "per_replica": 2, "rps": 1})

    assert broken(change) == [
        "training[0].options[2].accelerator: accelerator 'h100' in two options",
        "inference[0].profiles[1].accelerator: accelerator 'h100' in two profiles",
    ]


def test_link_to_itself() -> None:
    """A link joins two distinct nodes."""
    assert broken(lambda d: d["links"].append({"a": "hub", "b": "hub", "latency_ms": 1})) == [
        "links[3].b: link from 'hub' to itself"
    ]


@pytest.mark.parametrize(("a", "b"), [("nyc", "east"), ("east", "nyc")])
def test_second_link_between_a_pair(a: str, b: str) -> None:
    """At most one link per node pair, in either direction."""
    assert broken(lambda d: d["links"].append({"a": a, "b": b, "latency_ms": 1})) == [
        f"links[3]: second link between '{a}' and '{b}'"
    ]


def test_unknown_link_end() -> None:
    """Both ends of a link must be nodes."""
    assert broken(lambda d: d["links"].append({"a": "pole", "b": "moon", "latency_ms": 1})) == [
        "links[3].a: unknown node 'pole'",
        "links[3].b: unknown node 'moon'",
    ]


def test_link_may_join_any_node_kinds() -> None:
    """Links between two sites, two regions or transit and anything are fine."""
    document = tiny_instance_dict()
    document["regions"].append({"id": "sfo"})
    document["links"] += [
        {"a": "east", "b": "west", "latency_ms": 60},
        {"a": "sfo", "b": "nyc", "latency_ms": 70},
        {"a": "sfo", "b": "hub", "latency_ms": 50},
    ]
    assert len(parse_instance(document).links) == 6


def test_unknown_dataset_node() -> None:
    """A dataset must live at an existing node."""
    assert broken(lambda d: d["training"][0].update(dataset={"at": "s3"})) == [
        "training[0].dataset.at: unknown node 's3'"
    ]


@pytest.mark.parametrize("node", ["east", "nyc", "hub"])
def test_dataset_at_any_node_kind(node: str) -> None:
    """A dataset may sit at a site, a region or a transit node."""
    document = tiny_instance_dict()
    document["training"][0]["dataset"] = {"at": node, "size_gb": 10}
    dataset = parse_instance(document).training[0].dataset
    assert dataset is not None
    assert dataset.at == node


def test_site_costs_naming_unknown_or_non_site() -> None:
    """site_costs keys must be sites."""
    assert broken(lambda d: d["training"][0].update(site_costs={"mars": 1, "nyc": 2})) == [
        "training[0].site_costs.mars: unknown site 'mars'",
        "training[0].site_costs.nyc: 'nyc' is a region, not a site",
    ]


def test_run_hours_beyond_horizon() -> None:
    """run_hours lies in (0, horizon_hours]; the horizon itself is allowed."""
    assert broken(lambda d: d["training"][0].update(run_hours=100.5)) == [
        "training[0].run_hours: run_hours 100.5 exceeds horizon_hours 100"
    ]
    document = tiny_instance_dict()
    document["training"][0]["run_hours"] = 100
    assert parse_instance(document).training[0].run_hours == 100


def test_all_reference_issues_are_reported_at_once() -> None:
    """Every cross-reference problem is listed, not just the first."""

    def change(d: Document) -> None:
        d["accelerators"].append(dict(d["accelerators"][0]))
        d["links"][0]["a"] = "x"
        d["training"][0]["dataset"] = {"at": "y"}

    assert len(broken(change)) == 3


def test_control_characters_in_ids_are_escaped() -> None:
    """regression (ids were printed raw): an id cannot smuggle terminal escapes into messages."""
    evil = "h\x1b[31m"
    found = broken(lambda d: d["sites"][0]["inventory"][0].update(accelerator=evil))
    assert found == ["sites[0].inventory[0].accelerator: unknown accelerator 'h\\x1b[31m'"]
    found = broken(lambda d: d["inference"][0].update(demand_rps={"a\nb": 1}))
    assert found == ["inference[0].demand_rps[\"a\\nb\"]: unknown region 'a\\nb'"]
    found = broken(lambda d: d["inference"][0].update(demand_rps={"\u202eab": 1}))
    assert found == ["inference[0].demand_rps[\"\\u202eab\"]: unknown region '\\u202eab'"]


# -- field values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("horizon_hours",), float("nan")),
        (("carbon_price_per_tonne",), float("inf")),
        (("sites", 0, "grid_kw"), float("-inf")),
        (("sites", 0, "pue"), float("nan")),
        (("links", 0, "latency_ms"), float("inf")),
        (("inference", 0, "demand_rps", "nyc"), float("nan")),
        (("inference", 0, "profiles", 0, "rps"), float("inf")),
    ],
)
def test_non_finite_numbers_from_python(where: tuple[str | int, ...], value: float) -> None:
    """NaN and infinities built in Python are rejected like any other bad number."""
    document = tiny_instance_dict()
    target: Any = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    (found,) = issues_of(document)
    assert found.endswith(f"Input should be a finite number (got {value})")


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("horizon_hours",), 0, "Input should be greater than 0 (got 0)"),
        (("accelerators", 0, "memory_gb"), 0, "Input should be greater than 0 (got 0)"),
        (("accelerators", 0, "power_kw"), -1, "Input should be greater than 0 (got -1)"),
        (("sites", 0, "pue"), 0.99, "Input should be greater than or equal to 1 (got 0.99)"),
        (("sites", 0, "grid_kw"), -5, "Input should be greater than or equal to 0 (got -5)"),
        (
            ("sites", 0, "energy_price_per_kwh"),
            -0.1,
            "Input should be greater than or equal to 0 (got -0.1)",
        ),
        (
            ("sites", 0, "inventory", 0, "count"),
            -1,
            "Input should be greater than or equal to 0 (got -1)",
        ),
        (("links", 0, "latency_ms"), 0, "Input should be greater than 0 (got 0)"),
        (("links", 0, "bandwidth_gbps"), 0, "Input should be greater than 0 (got 0)"),
        (
            ("links", 0, "egress_cost_per_gb"),
            -1,
            "Input should be greater than or equal to 0 (got -1)",
        ),
        (("training", 0, "run_hours"), 0, "Input should be greater than 0 (got 0)"),
        (
            ("training", 0, "options", 0, "count"),
            0,
            "Input should be greater than or equal to 1 (got 0)",
        ),
        (
            ("inference", 0, "profiles", 0, "per_replica"),
            0,
            "Input should be greater than or equal to 1 (got 0)",
        ),
        (("inference", 0, "profiles", 0, "rps"), 0, "Input should be greater than 0 (got 0)"),
        (("inference", 0, "latency_slo_ms"), 0, "Input should be greater than 0 (got 0)"),
        (
            ("inference", 0, "demand_rps", "nyc"),
            -3,
            "Input should be greater than or equal to 0 (got -3)",
        ),
        (
            ("sites", 0, "inventory", 0, "count"),
            MAX_COUNT + 1,
            f"Input should be less than or equal to {MAX_COUNT} (got {MAX_COUNT + 1})",
        ),
        (
            ("sites", 0, "grid_kw"),
            MAX_QUANTITY * 10,
            "Input should be less than or equal to 1000000000000000 (got 1e+16)",
        ),
    ],
)
def test_number_ranges(where: tuple[str | int, ...], value: float, message: str) -> None:
    """Negative values, zeros where > 0 is required, and out-of-range figures are rejected."""
    document = tiny_instance_dict()
    target: Any = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")
    assert issues_of(document) == [f"{path}: {message}"]


def test_limits_themselves_are_accepted() -> None:
    """A count of exactly 1e9 and a quantity of exactly 1e15 are valid."""
    document = tiny_instance_dict()
    document["sites"][0]["inventory"][0]["count"] = MAX_COUNT
    document["sites"][0]["grid_kw"] = MAX_QUANTITY
    document["sites"][0]["pue"] = 1.0
    instance = parse_instance(document)
    assert instance.sites[0].inventory[0].count == MAX_COUNT


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("horizon_hours",), "3", "Input should be a valid number (got '3')"),
        (("sites", 0, "grid_kw"), True, "Input should be a valid number (got True)"),
        (
            ("sites", 0, "inventory", 0, "count"),
            "8",
            "Input should be a valid integer (got '8')",
        ),
        (
            ("sites", 0, "inventory", 0, "count"),
            8.0,
            "Input should be a valid integer (got 8.0)",
        ),
        (("training", 0, "required"), 1, "Input should be a valid boolean (got 1)"),
        (("training", 0, "required"), "true", "Input should be a valid boolean (got 'true')"),
        (("name",), 5, "Input should be a valid string (got 5)"),
        (("sites", 0, "tags"), "us", "Input should be a valid list (got 'us')"),
    ],
)
def test_types_are_strict(where: tuple[str | int, ...], value: Any, message: str) -> None:
    """No coercion: "3" is not a number, 8.0 not a count, 1 not a boolean."""
    document = tiny_instance_dict()
    target: Any = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")
    assert issues_of(document) == [f"{path}: {message}"]


def test_unknown_field_at_top_level_and_nested() -> None:
    """Typos are caught at every level."""

    def change(d: Document) -> None:
        d["horizon_hour"] = 5
        d["sites"][0]["grdi_kw"] = 5
        d["inference"][0]["profiles"][0]["rsp"] = 5
        d["training"][0]["dataset"] = {"at": "east", "size": 5}

    assert sorted(broken(change)) == sorted(
        [
            "horizon_hour: unknown field",
            "sites[0].grdi_kw: unknown field",
            "inference[0].profiles[0].rsp: unknown field",
            "training[0].dataset.size: unknown field",
        ]
    )


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (("schema",), "schema"),
        (("horizon_hours",), "horizon_hours"),
        (("sites", 0, "grid_kw"), "sites[0].grid_kw"),
        (("accelerators", 1, "cooling"), "accelerators[1].cooling"),
        (("links", 2, "latency_ms"), "links[2].latency_ms"),
        (("training", 0, "options"), "training[0].options"),
        (("inference", 0, "latency_slo_ms"), "inference[0].latency_slo_ms"),
        (("regions", 0, "id"), "regions[0].id"),
    ],
)
def test_missing_required_field(where: tuple[str | int, ...], path: str) -> None:
    """Each required field that is missing is named."""
    document = tiny_instance_dict()
    target: Any = document
    for key in where[:-1]:
        target = target[key]
    del target[where[-1]]
    assert issues_of(document) == [f"{path}: required field missing"]


def test_wrong_schema_string() -> None:
    """Only infraplan/v1 and infraplan/v2 are understood."""
    assert broken(lambda d: d.update(schema="infraplan/v3")) == [
        "schema: Input should be 'infraplan/v1' or 'infraplan/v2' (got 'infraplan/v3')"
    ]


def test_empty_demand_and_empty_lists() -> None:
    """demand_rps needs an entry; options and profiles need one each."""

    def change(d: Document) -> None:
        d["inference"][0]["demand_rps"] = {}
        d["training"][0]["options"] = []

    assert sorted(broken(change)) == [
        "inference[0].demand_rps: Dictionary should have at least 1 item after validation, "
        "not 0 (got {})",
        "training[0].options: List should have at least 1 item after validation, not 0 (got [])",
    ]


@pytest.mark.parametrize("bad_id", ["", "x" * 129])
def test_id_length(bad_id: str) -> None:
    """Ids have 1 to 128 characters."""
    found = broken(lambda d: d["regions"][0].update(id=bad_id))
    bound = "at least 1 character" if not bad_id else "at most 128 characters"
    assert found[0].startswith(f"regions[0].id: String should have {bound}")


def test_id_of_128_characters_is_fine() -> None:
    """The longest id allowed is accepted (and usable as a reference)."""
    long_id = "r" * 128
    document = tiny_instance_dict()
    document["regions"][0]["id"] = long_id
    document["links"][0]["a"] = long_id
    document["links"][1]["a"] = long_id
    document["inference"][0]["demand_rps"] = {long_id: 20}
    assert parse_instance(document).regions[0].id == long_id


def test_empty_id_as_key_is_located_at_the_key() -> None:
    """regression (paths ended in ["[key]"]): a bad object key is located at the key itself."""
    assert broken(lambda d: d["inference"][0].update(demand_rps={"": 1})) == [
        'inference[0].demand_rps[""]: invalid key: String should have at least 1 character '
        "(got '')"
    ]
    assert broken(lambda d: d["sites"][0].update(cooling_kw={"water": 1})) == [
        "sites[0].cooling_kw.water: invalid key: Input should be 'air' or 'liquid' (got 'water')"
    ]


def test_bad_literal_values() -> None:
    """cooling and resilience take only their named values."""

    def change(d: Document) -> None:
        d["accelerators"][0]["cooling"] = "water"
        d["inference"][0]["resilience"] = "n+2"

    assert broken(change) == [
        "accelerators[0].cooling: Input should be 'air' or 'liquid' (got 'water')",
        "inference[0].resilience: Input should be 'none' or 'n+1' (got 'n+2')",
    ]


def test_entity_that_is_not_an_object() -> None:
    """A list entry that is not an object says so in plain words."""
    assert broken(lambda d: d["sites"].append(3)) == ["sites[2]: expected a JSON object (got 3)"]


# -- copies and identity -------------------------------------------------------------------


def test_model_copy_revalidates() -> None:
    """model_copy applies the update and checks it like any other input."""
    instance = parse_instance(tiny_instance_dict())
    longer = instance.model_copy(update={"horizon_hours": 200.0})
    assert longer.horizon_hours == 200
    assert longer.sites == instance.sites
    with pytest.raises(ValueError, match="exceeds horizon_hours"):
        instance.model_copy(update={"horizon_hours": 10.0})


def test_instances_are_not_hashable_but_comparable() -> None:
    """Instances compare by value and refuse to be dict keys (they hold lists)."""
    first, second = parse_instance(tiny_instance_dict()), parse_instance(tiny_instance_dict())
    assert first == second
    assert first != "tiny"
    with pytest.raises(TypeError):
        hash(first)


def test_instance_constructed_by_field_name() -> None:
    """Python callers may pass schema_ by its field name."""
    document = tiny_instance_dict()
    document["schema_"] = document.pop("schema")
    assert Instance.model_validate(document).schema_ == "infraplan/v1"
