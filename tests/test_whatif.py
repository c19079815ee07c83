"""What-if tests: edit paths by id, drops that keep the network, validation errors with
JSON paths, and the re-solve compared with the base plan (library and CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
from typer.testing import CliRunner

from models import InputError, load_instance, load_solution, parse_instance, save_solution
from solver import solve
from solver.cli import app
from solver.whatif import (
    DropJob,
    DropService,
    DropSite,
    EditError,
    ScaleDemand,
    SetValue,
    apply_edits,
    field_path,
    parse_path,
    whatif,
)
from tests import builders as b
from tests.checks import assert_valid_plan

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance

runner = CliRunner()
TIME_LIMIT_S = 10.0


def network() -> Instance:
    """u reaches B only through A (u -5- A -5- B); A is cheap with a 4 kW grid, B dear."""
    return b.instance(
        sites=[
            b.site("A", {"gpu": (100, 1.0)}, grid_kw=4.0),
            b.site("B", {"gpu": (100, 3.0), "tpu": (8, 2.0)}),
        ],
        accelerators=[b.accelerator("gpu"), b.accelerator("tpu")],
        regions=["u"],
        links=[b.link("u", "A", bandwidth_gbps=10.0), b.link("A", "B")],
        training=[b.job("j1", {"gpu": 4}, allowed_sites=["A", "B"], site_costs={"A": 5.0})],
        inference=[b.service("s", {"gpu": (1, 1.0)}, {"u": 10}, slo_ms=20.0)],
    )


def test_paths_name_entries_by_id_accelerator_and_link_ends() -> None:
    """Sites by id, inventory by accelerator, links by their ends in either order, and
    object keys by name; quoted names may hold any character."""
    instance = apply_edits(
        network(),
        [
            SetValue.parse("sites[A].grid_kw=30"),
            SetValue.parse("sites[B].inventory[tpu].count=16"),
            SetValue.parse("links[A,u].bandwidth_gbps=null"),
            SetValue.parse("inference[s].demand_rps.u=12.5"),
            SetValue.parse('sites["A"].cooling_kw.air=7'),
        ],
    )
    assert instance.site_by_id["A"].grid_kw == 30.0
    assert instance.inventory_by_pair["B", "tpu"].count == 16
    assert instance.links[0].bandwidth_gbps is None
    assert instance.inference[0].demand_rps == {"u": 12.5}
    assert instance.site_by_id["A"].cooling_kw == {"air": 7.0}
    assert [str(s) for s in parse_path('sites["fra.1"].grid_kw')] == [
        ".sites",
        '["fra.1"]',
        ".grid_kw",
    ]
    assert field_path("sites", ("fra.1",), "grid_kw") == 'sites["fra.1"].grid_kw'
    assert str(SetValue.parse("sites[A].grid_kw=30000")) == "--set sites[A].grid_kw=30000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sites[Z].grid_kw=1", "no entry [Z] in sites"),
        ("sites.grid_kw=1", "sites is a list; name an entry as [id]"),
        ("sites[A]grid_kw=1", "unexpected 'g'"),
        ("sites[A].grid_kw", "expected PATH=VALUE"),
        ("sites[A.grid_kw=1", "missing ]"),
    ],
)
def test_bad_edits_say_what_is_wrong(text: str, message: str) -> None:
    """An edit that names nothing, or is not PATH=VALUE, fails with its own text."""
    with pytest.raises(EditError, match=message.replace("[", r"\[").replace("]", r"\]")):
        apply_edits(network(), [SetValue.parse(text)])


def test_invalid_edited_instance_names_json_path() -> None:
    """A negative grid or an unknown field fails validation with the JSON path."""
    with pytest.raises(InputError) as caught:
        apply_edits(network(), [SetValue("sites[A].grid_kw", -5)], "net.json")
    assert str(caught.value).startswith("net.json (after edits): sites[0].grid_kw: ")
    with pytest.raises(InputError, match=r"sites\[1\].grid: unknown field"):
        apply_edits(network(), [SetValue("sites[B].grid", 5)])


def test_drop_site_keeps_the_network_and_forgets_the_site() -> None:
    """Dropping A leaves it a transit node: u still reaches B through it; A leaves the
    job's allowed sites and site costs."""
    edited = apply_edits(network(), [DropSite("A")])
    assert [s.id for s in edited.sites] == ["B"]
    assert [t.id for t in edited.transit] == ["A"]
    route = edited.paths.route("u", "B")
    assert route is not None and route.nodes == ("u", "A", "B")
    job = edited.training_by_id["j1"]
    assert job.allowed_sites == ["B"] and job.site_costs == {}
    with pytest.raises(EditError, match="no site 'Z'"):
        apply_edits(network(), [DropSite("Z")])


def test_drop_job_service_and_scale_demand() -> None:
    """Jobs and services are removed by id; demand scales for all services or one."""
    edited = apply_edits(
        network(), [DropJob("j1"), ScaleDemand.parse("s=1.5"), ScaleDemand.parse("2")]
    )
    assert edited.training == []
    assert edited.inference[0].demand_rps == {"u": 30.0}
    assert apply_edits(network(), [DropService("s")]).inference == []
    with pytest.raises(EditError, match="no entry 'x' in training"):
        apply_edits(network(), [DropJob("x")])
    with pytest.raises(EditError, match="is not a number"):
        ScaleDemand.parse("s=fast")


def test_whatif_resolves_from_the_base_and_compares() -> None:
    """More grid at the cheap site moves replicas there: the edited plan is valid, cheaper
    by the hand-computed amount (4 more replicas at 1/h instead of 3/h over 10 h), and the
    comparison holds both plans."""
    instance = network()
    base = solve(instance, time_limit_s=TIME_LIMIT_S, workers=1)
    result = whatif(
        instance, [SetValue("sites[A].grid_kw", 8.0)], base=base, time_limit_s=TIME_LIMIT_S,
        workers=1,
    )  # fmt: skip
    assert result.base is base
    assert result.edited.status == "optimal"
    assert_valid_plan(result.edited_instance, result.edited)
    assert result.change == pytest.approx(-4 * 2.0 * 10.0)
    assert [plan.summary.label for plan in result.comparison.plans] == ["base", "what-if"]
    assert "edits: --set sites[A].grid_kw=8.0" in result.summary()


def write(tmp_path: Path, instance: Instance) -> Path:
    """The instance as a file."""
    path = tmp_path / "net.json"
    path.write_bytes(instance.canonical_json())
    return path


def test_cli_whatif_writes_report_instance_and_plan(tmp_path: Path) -> None:
    """`infraplan whatif` applies the edits, writes the report and the edited files."""
    path = write(tmp_path, network())
    base = tmp_path / "base.solution.json"
    save_solution(solve(load_instance(path), time_limit_s=TIME_LIMIT_S, workers=1), base)
    report = tmp_path / "whatif.json"
    result = runner.invoke(
        app,
        [
            "whatif", str(path), "--set", "sites[A].grid_kw=8", "--drop-job", "j1",
            "--base", str(base), "-o", str(report), "--save-instance", str(tmp_path / "e.json"),
            "--save-solution", str(tmp_path / "e.solution.json"), "--time-limit", "10",
            "--workers", "1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "edits: --drop-job j1 --set sites[A].grid_kw=8" in result.stdout
    document = orjson.loads(report.read_bytes())
    assert len(document["plans"]) == 2
    edited = load_instance(tmp_path / "e.json")
    assert edited.training == [] and edited.site_by_id["A"].grid_kw == 8.0
    assert_valid_plan(edited, load_solution(tmp_path / "e.solution.json"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "sites[Z].grid_kw=1"], "net.json: --set sites[Z].grid_kw=1: no entry [Z]"),
        (["--set", "sites[A].grid_kw=-1"], "net.json (after edits): sites[0].grid_kw: "),
        (["--drop-site", "Z"], "net.json: --drop-site Z: no site 'Z'"),
        (["--scale-demand", "x"], "net.json: --scale-demand x: 'x' is not a number"),
    ],
)
def test_cli_whatif_bad_edit_is_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    """A bad edit fails before any solve with one line naming the file, no traceback."""
    path = write(tmp_path, network())
    result = runner.invoke(app, ["whatif", str(path), *args])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0].replace(str(tmp_path) + "/", "")
    assert "Traceback" not in result.output


def scheduled_network() -> Instance:
    """network() as a scheduled v2 instance: periods p1, p2 of 50 h; j2 runs after j1; s has
    10 rps in p1 and 20 in p2; A's grid grows to 8 kW in p2; j1 runs at A now."""
    document = network().model_dump(mode="json", by_alias=True, exclude_unset=True)
    document["schema"] = "infraplan/v2"
    document["periods"] = [{"id": "p1", "hours": 50}, {"id": "p2", "hours": 50}]
    document["horizon_hours"] = 100
    document["sites"][0]["timeline"] = [{"period": "p2", "grid_kw": 8.0}]
    j1 = document["training"][0]
    document["training"].append({**j1, "id": "j2", "after": ["j1"]})
    document["inference"][0]["demand_by_period"] = {"p2": {"u": 20}}
    document["current"] = {"training": [{"job": "j1", "site": "A", "accelerator": "gpu"}]}
    return parse_instance(document)


def test_v2_fields_can_be_edited_and_dropped() -> None:
    """Timeline entries are named by period; demand scales in every period; a dropped job
    leaves `after` lists and `current`."""
    edited = apply_edits(
        scheduled_network(),
        [
            SetValue.parse("sites[A].timeline[p2].grid_kw=12"),
            ScaleDemand.parse("s=1.5"),
            DropJob("j1"),
        ],
    )
    timeline = edited.sites[0].timeline
    assert timeline is not None
    assert timeline[0].grid_kw == 12.0
    service = edited.inference[0]
    assert service.demand_rps == {"u": 15.0}
    assert service.demand_by_period == {"p2": {"u": 30.0}}
    assert [(j.id, j.after) for j in edited.training] == [("j2", [])]
    assert edited.current is not None
    assert edited.current.training == []
    dropped_site = apply_edits(scheduled_network(), [DropSite("A")])
    assert dropped_site.current is not None
    assert dropped_site.current.training == []
