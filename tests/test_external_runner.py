"""Tests of the external benchmark catalog and runner (benchmarks.external.catalog, .runner).

They read the few files in tests/data/benchmarks; the one test that needs every set
skips when `benchmarks.external.fetch_data` finds none.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks.external.catalog import SETS, Case, KnownValue, load_set
from benchmarks.external.fetch_data import locate, missing_message
from benchmarks.external.runner import KnownValueClock, Outcome, main, update_results


def case_with(known: KnownValue) -> Case:
    """A case of no particular file, carrying a known value."""
    return Case("test", "x", "gap", Path("x"), "orlib", known)


#: A few files of the sets, with their value tables (tests/data/benchmarks/PROVENANCE.md).
SETS_DIR = Path(__file__).resolve().parent / "data" / "benchmarks"

OPTIMUM = KnownValue("optimal", 100.0, 100.0, 0)
OPEN = KnownValue("open", 90.0, 100.0, 0)
INFEASIBLE = KnownValue("infeasible")


@pytest.fixture(scope="module")
def full_sets() -> Path:
    """The whole sets, checked against the manifest (skips when there are none)."""
    folder = locate()
    if folder is None:
        pytest.skip("no external benchmark data (python -m benchmarks.external.fetch_data)")
    return folder


@pytest.mark.parametrize("set_name", sorted(SETS))
def test_every_case_of_every_set_has_its_file(set_name: str, full_sets: Path) -> None:
    """Each set lists its instances from its value table, and every file is there."""
    cases = load_set(set_name, full_sets)
    assert cases
    assert len({case.name for case in cases}) == len(cases)
    assert all(case.path.is_file() for case in cases)


def test_max_sense_gap_cases_carry_the_min_sense_optimum() -> None:
    """gap1-1 is published as c515-1 with max 336; the runner compares with min 261."""
    first = load_set("gap-orlib", SETS_DIR)[0]
    assert (first.name, first.published_as, first.index) == ("gap1-1", "c515-1", 1)
    assert (first.known.lower, first.known.upper) == (261.0, 261.0)


def test_known_values_of_the_other_sets() -> None:
    """Open GAP bounds, single-source infeasibility, capacities and 2-decimal optima are read."""
    d20200 = next(c for c in load_set("gap-orlib", SETS_DIR) if c.name == "gapd-6")
    assert (d20200.known.status, d20200.known.lower, d20200.known.upper) == (
        "open",
        12235.0,
        12238.0,
    )
    orlib = {c.name: c for c in load_set("sscflp-orlib", SETS_DIR)}
    assert orlib["cap41"].known.status == "infeasible"
    assert orlib["capb_6000"].capacity == 6000
    assert orlib["capb_6000"].known.upper == 13362529.34
    brescia = {c.name: c for c in load_set("sscflp-brescia", SETS_DIR)}
    assert brescia["cap61"].known.upper == 932615.75
    assert brescia["cap61"].known.decimals == 2


@pytest.mark.parametrize(
    ("known", "status", "objective", "bound", "verdict"),
    [
        (OPTIMUM, "optimal", 100.0, 100.0, "match"),
        (OPTIMUM, "feasible", 100.4, 95.0, "match"),
        (OPTIMUM, "feasible", 101.0, 95.0, "worse"),
        (OPTIMUM, "optimal", 101.0, 101.0, "contradiction"),
        (OPTIMUM, "feasible", 99.0, 95.0, "contradiction"),
        (OPTIMUM, "infeasible", None, None, "contradiction"),
        (OPTIMUM, "unknown", None, None, "no plan"),
        (OPEN, "feasible", 95.0, 92.0, "better"),
        (OPEN, "feasible", 100.0, 101.0, "contradiction"),
        (INFEASIBLE, "infeasible", None, None, "match"),
        (INFEASIBLE, "feasible", 5.0, None, "contradiction"),
        (INFEASIBLE, "unknown", None, None, "no plan"),
    ],
)
def test_verdict_compares_with_the_known_value(
    known: KnownValue, status: str, objective: float | None, bound: float | None, verdict: str
) -> None:
    """Each outcome is judged against the published value, within its rounding."""
    outcome = Outcome(case_with(known), status, objective, bound, wall_s=1.0)
    assert outcome.verdict == verdict


def test_gap_to_known_is_relative_to_the_best_known_value() -> None:
    """110 against a best known 100 is a 10% gap; no objective, no gap."""
    assert Outcome(case_with(OPEN), "feasible", 110.0).gap_to_known == pytest.approx(0.1)
    assert Outcome(case_with(OPEN), "unknown").gap_to_known is None


def test_clock_notes_the_first_plan_at_the_best_known_value() -> None:
    """Only the first report reaching the target (within tolerance) sets the time."""
    clock = KnownValueClock(100.0, 0.5)
    clock(0.1, 120.0, 90.0)
    clock(0.2, 100.4, 95.0)
    clock(0.3, 100.0, 100.0)
    assert clock.reached_at == 0.2


def test_update_results_replaces_only_its_own_section(tmp_path: Path) -> None:
    """Re-running a set replaces its section and leaves the other sets' sections alone."""
    path = tmp_path / "RESULTS.md"
    update_results(path, "gap-orlib", "## gap-orlib\nold\n")
    update_results(path, "sscflp-holmberg", "## sscflp-holmberg\nkept\n")
    update_results(path, "gap-orlib", "## gap-orlib\nnew\n")
    text = path.read_text()
    assert "new" in text and "old" not in text and "kept" in text
    assert text.index("gap-orlib") < text.index("sscflp-holmberg")


def test_runner_solves_named_instances_and_writes_tables(tmp_path: Path) -> None:
    """Two small GAP instances: both reach their optimum, and csv, md and RESULTS.md say so."""
    results = tmp_path / "RESULTS.md"
    code = main(
        [
            "--set=gap-orlib",
            "--instances=gap1-1,gapa-1",
            "--time-limit=20",
            "--workers=1",
            f"--out={tmp_path}",
            f"--results={results}",
            f"--data={SETS_DIR}",
        ]
    )
    assert code == 0
    with (tmp_path / "gap-orlib.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["instance"] for row in rows] == ["gap1-1", "gapa-1"]
    assert [row["verdict"] for row in rows] == ["match", "match"]
    assert [float(row["objective"]) for row in rows] == [261.0, 1698.0]
    assert all(float(row["time_to_known_s"]) <= float(row["wall_s"]) for row in rows)
    markdown = (tmp_path / "gap-orlib.md").read_text()
    assert "| gap1-1 (c515-1) | 261 | 261 |" in markdown
    assert "instances: 2 of 84" in markdown
    assert markdown in results.read_text()


def test_runner_refuses_unknown_instance_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name not in the set is a usage error (exit 2) naming it."""
    arguments = ["--set=gap-orlib", "--instances=gap99-1", f"--out={tmp_path}"]
    assert main([*arguments, f"--data={SETS_DIR}"]) == 2
    assert "gap99-1" in capsys.readouterr().err


def test_runner_without_data_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No folder holds the sets: exit 2, one line saying where it looked and what to run."""
    monkeypatch.setenv("INFRAPLAN_BENCHMARK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INFRAPLAN_SHARED", str(tmp_path / "shared"))
    monkeypatch.setattr("benchmarks.external.fetch_data.REPO_ROOT", tmp_path / "x" / "clone")
    assert main(["--set=gap-orlib", f"--out={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [f"error: {missing_message()}"]
    assert "benchmarks.external.fetch_data" in err


def test_proved_covers_optimality_and_infeasibility() -> None:
    """An optimal plan and a proof of infeasibility are both proved; a feasible plan is not."""
    assert Outcome(case_with(OPTIMUM), "optimal", 100.0, 100.0).proved
    assert Outcome(case_with(INFEASIBLE), "infeasible").proved
    assert not Outcome(case_with(OPTIMUM), "feasible", 101.0, 95.0).proved
