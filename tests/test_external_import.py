"""Tests of the GAP and SSCFLP importers (models.importers) and `infraplan import`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from models import InputError, Instance, load_instance
from models.importers import OptionNeeded, read_benchmark
from models.importers.gap import import_gap
from models.importers.sscflp import import_sscflp
from solver import solve
from solver.cli import app

#: A few files of the benchmark sets, copied with their provenance (PROVENANCE.md there).
SETS_DIR = Path(__file__).resolve().parent / "data" / "benchmarks"


@pytest.fixture(scope="module")
def sets() -> Path:
    """The benchmark files the tests read, in tests/data/benchmarks."""
    return SETS_DIR


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A small benchmark file in the test's temporary folder."""
    path = tmp_path / name
    path.write_text(text)
    return path


def numbers(path: Path) -> list[float]:
    """Every number of a file, read independently of the importers."""
    return [float(word) for word in path.read_text().split()]


def site_costs(instance: Instance) -> list[list[float]]:
    """costs[i][j] of an imported instance: site i's surcharge for job j."""
    return [[job.site_costs[site.id] for job in instance.training] for site in instance.sites]


def option_counts(instance: Instance) -> list[list[int]]:
    """counts[i][j] of an imported instance: job j's option count on site i's accelerator."""
    counts: list[list[int]] = []
    for site in instance.sites:
        accelerator = site.inventory[0].accelerator
        counts.append(
            [
                next(o.count for o in job.options if o.accelerator == accelerator)
                for job in instance.training
            ]
        )
    return counts


def capacities(instance: Instance) -> list[int]:
    """The inventory count of every site, in order."""
    return [site.inventory[0].count for site in instance.sites]


def plan_cost(instance: Instance, agent_of_job: list[int]) -> float:
    """Cost of assigning job j to the 0-based site agent_of_job[j], from the instance's fields,
    after checking that no site's inventory is exceeded."""
    used = [0] * len(instance.sites)
    cost = 0.0
    for job, agent in zip(instance.training, agent_of_job, strict=True):
        site = instance.sites[agent]
        used[agent] += next(o.count for o in job.options if o.accelerator == site.id)
        cost += job.site_costs[site.id]
    assert all(u <= c for u, c in zip(used, capacities(instance), strict=True))
    return cost


# -- GAP ------------------------------------------------------------------------------------


def test_orlib_gap_file_gives_one_named_instance_per_entry(sets: Path) -> None:
    """gap1.txt holds five instances, named gap1-1..gap1-5 and marked with their origin."""
    instances = import_gap(sets / "gap_orlib" / "gap1.txt")
    assert [i.name for i in instances] == [f"gap1-{k}" for k in range(1, 6)]
    origin = instances[2].meta["source"] if instances[2].meta else {}
    assert origin["format"] == "orlib"
    assert origin["file"] == "gap1.txt"
    assert origin["index"] == 3


def test_orlib_gap_import_keeps_every_number(sets: Path) -> None:
    """Costs, resource use and capacities of each instance in gap1.txt arrive unchanged."""
    path = sets / "gap_orlib" / "gap1.txt"
    stream = numbers(path)
    position = 1
    for instance in import_gap(path):
        agents, jobs = int(stream[position]), int(stream[position + 1])
        position += 2
        costs = [stream[position + i * jobs : position + (i + 1) * jobs] for i in range(agents)]
        position += agents * jobs
        use = [stream[position + i * jobs : position + (i + 1) * jobs] for i in range(agents)]
        position += agents * jobs
        assert site_costs(instance) == costs
        assert option_counts(instance) == use
        assert capacities(instance) == stream[position : position + agents]
        position += agents
    assert position == len(stream)


def test_yagiura_file_is_recognised_as_single_layout(sets: Path) -> None:
    """e05100 has no instance count, is read as one instance and keeps every number."""
    path = sets / "gap_yagiura" / "e05100"
    (instance,) = import_gap(path)
    stream = numbers(path)
    agents, jobs = 5, 100
    assert instance.name == "e05100"
    assert instance.meta is not None and instance.meta["source"]["format"] == "single"
    assert site_costs(instance) == [stream[2 + i * jobs : 2 + (i + 1) * jobs] for i in range(5)]
    assert capacities(instance) == stream[2 + 2 * agents * jobs :]


@pytest.mark.parametrize(
    ("file", "index", "certificate", "published"),
    [
        ("gap_orlib/gapa.txt", 1, "gap_orlib/solutions_chu1997/a05100_solution.txt", 1698),
        ("gap_yagiura/e05100", 1, "gap_yagiura/solutions/e05100_solution.txt", 12681),
    ],
)
def test_published_certificate_costs_the_published_optimum(
    sets: Path, file: str, index: int, certificate: str, published: int
) -> None:
    """A published optimal assignment fits the imported capacities and costs the optimum."""
    instance = import_gap(sets / file)[index - 1]
    agent_of_job = [int(word) for word in (sets / certificate).read_text().split()]
    assert plan_cost(instance, agent_of_job) == published


def test_imported_gap_optimum_equals_published(sets: Path) -> None:
    """Solving gap1-1 (c515-1) gives its published min-sense optimum, 261, proved."""
    instance = import_gap(sets / "gap_orlib" / "gap1.txt")[0]
    solution = solve(instance, time_limit_s=20, workers=1, seed=0)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(261, abs=1e-6)


def test_gap_negative_cost_is_refused_where_it_is(tmp_path: Path) -> None:
    """A negative cost is an error naming its line and column (site_costs must be ≥ 0)."""
    path = write(tmp_path, "neg", "2 2\n1 2\n3 -4\n1 1\n1 1\n5 5\n")
    with pytest.raises(InputError, match=r"line 3 column 3: cost c\[2\]\[2\].*negative"):
        import_gap(path)


def test_gap_zero_resource_use_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A zero resource use cannot be a SPEC option count; the error says so."""
    path = write(tmp_path, "zero", "2 2\n1 2\n3 4\n1 0\n1 1\n5 5\n")
    expected = r"a\[1\]\[2\] of the instance must be at least 1.*model change"
    with pytest.raises(InputError, match=expected):
        import_gap(path)


def test_gap_short_file_fits_no_layout(tmp_path: Path) -> None:
    """A file missing numbers is refused, saying what each layout expected."""
    path = write(tmp_path, "short", "2 2\n1 2\n3 4\n1 1\n1 1\n5\n")
    expected = r"not a GAP file.*as single: .*needs 10 more numbers, but only 9 remain"
    with pytest.raises(InputError, match=expected):
        import_gap(path)


def test_gap_format_option_overrides_recognition(sets: Path) -> None:
    """--format single on an OR-Library file reads it as one instance and fails on the rest."""
    with pytest.raises(InputError, match="unexpected token"):
        import_gap(sets / "gap_orlib" / "gap1.txt", "single")


# -- SSCFLP ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "published"),
    [("sscflp_holmberg/p1", 8848.0), ("sscflp_orlib/cap61", 932615.75)],
)
def test_imported_sscflp_optimum_equals_published(sets: Path, file: str, published: float) -> None:
    """Solving Holmberg p1 and Brescia cap61 gives their published optima, proved."""
    (instance,) = import_sscflp(sets / file)
    solution = solve(instance, time_limit_s=20, workers=1, seed=0)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(published, abs=0.005)


def test_single_source_infeasible_instance_is_infeasible(sets: Path) -> None:
    """cap41 has no single-source plan, and solving its import proves that."""
    (instance,) = import_sscflp(sets / "cflp_orlib" / "cap41.txt")
    assert solve(instance, time_limit_s=20, workers=1, seed=0).status == "infeasible"


def test_orlib_and_brescia_copies_of_cap61_import_alike(sets: Path) -> None:
    """cap61 customer-major (OR-Library) and facility-major (Brescia) give the same instance."""
    (orlib,) = import_sscflp(sets / "cflp_orlib" / "cap61.txt")
    (brescia,) = import_sscflp(sets / "sscflp_orlib" / "cap61")
    assert orlib.sites == brescia.sites
    assert orlib.training == brescia.training
    assert orlib.meta is not None and orlib.meta["source"]["format"] == "orlib"
    assert brescia.meta is not None and brescia.meta["source"]["published_optimum"] == 932615.8


def test_holmberg_import_keeps_every_number(sets: Path) -> None:
    """p1's capacities, fixed costs, demands and facility-major costs arrive unchanged."""
    path = sets / "sscflp_holmberg" / "p1"
    stream = numbers(path)
    facilities, customers = 10, 50
    (instance,) = import_sscflp(path)
    head = 2 + 2 * facilities
    assert capacities(instance) == stream[2:head:2]
    assert [site.fixed_cost for site in instance.sites] == stream[3:head:2]
    demands = stream[head : head + customers]
    assert option_counts(instance) == [demands] * facilities
    costs = stream[head + customers :]
    assert site_costs(instance) == [
        costs[i * customers : (i + 1) * customers] for i in range(facilities)
    ]


PLACEHOLDER_FILE = "2 3\ncapacity 10.5\ncapacity 0\n4 1 2\n5 3 4\n6 5.25 6\n"


def test_capacity_placeholder_needs_the_capacity_option(tmp_path: Path) -> None:
    """capa-style files without --capacity are a usage problem, not a bad file."""
    path = write(tmp_path, "capx.txt", PLACEHOLDER_FILE)
    with pytest.raises(OptionNeeded, match="give --capacity"):
        import_sscflp(path)


def test_capacity_option_gives_one_instance_per_value(tmp_path: Path) -> None:
    """Each --capacity substitutes every placeholder and names the instance after it."""
    path = write(tmp_path, "capx.txt", PLACEHOLDER_FILE)
    instances = import_sscflp(path, capacities=[7, 9, 7])
    assert [i.name for i in instances] == ["capx_7", "capx_9"]
    assert capacities(instances[1]) == [9, 9]
    assert [s.fixed_cost for s in instances[0].sites] == [10.5, 0.0]
    assert site_costs(instances[0]) == [[1, 3, 5.25], [2, 4, 6]]
    assert option_counts(instances[0]) == [[4, 5, 6], [4, 5, 6]]


def test_capacity_option_is_refused_for_numeric_capacities(sets: Path) -> None:
    """--capacity on a file with its own capacities is a usage problem."""
    with pytest.raises(OptionNeeded, match="only for files"):
        import_sscflp(sets / "sscflp_holmberg" / "p1", capacities=[5])


def test_zero_demand_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A zero demand cannot be a SPEC option count; the error names the customer."""
    path = write(tmp_path, "zero", "1 2\n5 1\n0 3\n1 1\n")
    with pytest.raises(InputError, match=r"demand of customer 1 must be at least 1"):
        import_sscflp(path, "holmberg")


# Two facilities, two customers, all integers: as many numbers in both layouts.
ORLIB_LAYOUT = "2 2\n9 1\n9 2\n3 10 20\n4 30 40\n"
HOLMBERG_LAYOUT = "2 2\n9 1\n9 2\n3 4\n10 20\n30 40\n"


def test_line_layout_settles_orlib_against_holmberg(tmp_path: Path) -> None:
    """When both readings are valid, the records starting lines decide the layout."""
    (orlib,) = import_sscflp(write(tmp_path, "a", ORLIB_LAYOUT))
    (holmberg,) = import_sscflp(write(tmp_path, "b", HOLMBERG_LAYOUT))
    assert orlib.meta is not None and orlib.meta["source"]["format"] == "orlib"
    assert holmberg.meta is not None and holmberg.meta["source"]["format"] == "holmberg"
    assert site_costs(orlib) == [[10, 30], [20, 40]]
    assert site_costs(holmberg) == [[10, 20], [30, 40]]


def test_unsettled_layout_needs_the_format_option(tmp_path: Path) -> None:
    """All numbers on one line: orlib and holmberg both fit, so --format is required."""
    path = write(tmp_path, "flat", ORLIB_LAYOUT.replace("\n", " "))
    with pytest.raises(OptionNeeded, match="give --format"):
        import_sscflp(path)
    (instance,) = import_sscflp(path, "orlib")
    assert option_counts(instance) == [[3, 4], [3, 4]]


def test_wrong_number_count_names_both_expectations(tmp_path: Path) -> None:
    """A file with the wrong amount of numbers says how many each layout needs."""
    path = write(tmp_path, "bad", HOLMBERG_LAYOUT + "1 2\n")
    with pytest.raises(InputError, match=r"need 12 numbers .* or 13 .* file has 14"):
        import_sscflp(path)


# -- the command line ----------------------------------------------------------------------


def test_cli_import_writes_one_valid_file_per_instance(sets: Path, tmp_path: Path) -> None:
    """`infraplan import gap gap1.txt -o DIR` writes five instance files that load back."""
    source = sets / "gap_orlib" / "gap1.txt"
    result = CliRunner().invoke(app, ["import", "gap", str(source), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(tmp_path.glob("*.json"))
    assert [p.stem for p in written] == [f"gap1-{k}" for k in range(1, 6)]
    assert load_instance(written[0]) == read_benchmark("gap", source)[0]


def test_cli_import_bad_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """A bad file gives exit 1 and one error line naming it, no traceback."""
    path = write(tmp_path, "neg", "2 2\n1 2\n3 -4\n1 1\n1 1\n5 5\n")
    result = CliRunner().invoke(app, ["import", "gap", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert "line 3 column 3" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "arguments",
    [["gap", "--format", "holmberg"], ["gap", "--capacity", "5"], ["sscflp"]],
)
def test_cli_import_usage_problems_exit_2(sets: Path, tmp_path: Path, arguments: list[str]) -> None:
    """A format of the other problem, --capacity for GAP or a missing --capacity exit 2."""
    problem, *options = arguments
    if problem == "sscflp":
        source = write(tmp_path, "capx.txt", PLACEHOLDER_FILE)  # capa-like: needs --capacity
    else:
        source = sets / "gap_orlib" / "gap1.txt"
    result = CliRunner().invoke(
        app, ["import", problem, str(source), "-o", str(tmp_path), *options]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
