"""`explain` on scheduled (v2) instances: findings that name the period, the hour or the
job, each a proof (the solver agrees there is no plan), with the edit that lifts it.

All cases are the SPEC §9 example (rate 2.12, dc 120 kW in q1 and 240 kW in q2, pretrain
96 H100 for 100 h, finetune 160 H100 for 50 h after it, chat 2 replicas of 2 H100 in q1
and 4 in q2, PUE 1.2) with one figure changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from typer.testing import CliRunner

from models import Instance, parse_instance
from solver import explain, solve
from solver.cli import app
from solver.diagnosis.relax import FIRST_PLAN
from solver.whatif import apply_edits
from tests.checks import assert_valid_plan
from tests.conftest import EXAMPLE_V2_PATH

if TYPE_CHECKING:
    from pathlib import Path

LIMIT = 5.0


def example(change: Any = None) -> Instance:
    document = orjson.loads(EXAMPLE_V2_PATH.read_bytes())
    if change is not None:
        change(document)
    return parse_instance(document)


def has_no_plan(instance: Instance) -> bool:
    """The solver's own (proved) answer, independent of the diagnosis."""
    return solve(instance, time_limit_s=LIMIT, workers=1).status == "infeasible"


def lifts(instance: Instance, diagnosis: Any) -> None:
    """The conflict's one relaxation restores a plan, which the evaluator accepts."""
    (conflict,) = diagnosis.conflicts
    (relaxation,) = conflict.relaxations
    assert relaxation.verified is True
    edited = apply_edits(instance, [relaxation.edit])
    solution = solve(edited, time_limit_s=LIMIT, workers=1, options=FIRST_PLAN)
    assert_valid_plan(edited, solution)


def test_a_site_short_of_power_in_a_period_is_named_with_the_hour() -> None:
    """Base grid 100 kW: finetune must end by 200, so pretrain starts by hour 50 and runs
    through [50, 100) in q1 with chat's 2 replicas: (96 + 4) x 1.2 = 120 kW against 100."""

    def cut(document: dict[str, Any]) -> None:
        document["sites"][0]["grid_kw"] = 100

    instance = example(cut)
    diagnosis = explain(instance, time_limit_s=30, verify_time_s=LIMIT)
    assert diagnosis.status == "infeasible"
    (conflict,) = diagnosis.conflicts
    assert conflict.descriptions == (
        "in q1, site dc needs 120 kW against 100 kW (from hour 50: pretrain, chat must run "
        "there then)",
    )
    assert conflict.limits[0].key == ("dc", "q1")
    assert str(conflict.relaxations[0].edit) == "--set sites[dc].grid_kw=120.0"
    assert has_no_plan(instance)
    lifts(instance, diagnosis)


def test_a_window_too_short_names_the_job() -> None:
    """finetune released at 180 with 20 h to the horizon: it runs 50 h."""

    def late(document: dict[str, Any]) -> None:
        document["training"][1]["release_hour"] = 180

    instance = example(late)
    diagnosis = explain(instance, time_limit_s=30, verify_time_s=LIMIT)
    (conflict,) = diagnosis.conflicts
    assert conflict.descriptions == (
        "finetune is required but its window [180, 200) holds 20 h; it runs 50 h",
    )
    assert str(conflict.relaxations[0].edit) == "--set training[finetune].release_hour=150"
    assert has_no_plan(instance)
    lifts(instance, diagnosis)


def test_an_after_chain_past_a_deadline_names_the_chain() -> None:
    """pretrain released at 20 ends at 120 at the earliest; finetune then ends at 170,
    past its deadline 160."""

    def tight(document: dict[str, Any]) -> None:
        document["training"][0]["release_hour"] = 20
        document["training"][1]["deadline_hour"] = 160

    instance = example(tight)
    diagnosis = explain(instance, time_limit_s=30, verify_time_s=LIMIT)
    (conflict,) = diagnosis.conflicts
    assert conflict.descriptions == (
        "finetune is required but cannot end by its deadline hour 160: after pretrain (from "
        "hour 20, 100 h) it ends at hour 170 at the earliest",
    )
    assert has_no_plan(instance)
    lifts(instance, diagnosis)


def test_must_serve_demand_beyond_every_site_in_a_period() -> None:
    """chat needs 4,000 rps in q2; dc's 240 kW feed 200 H100 at 1.2 kW (100 replicas of 2,
    1,000 rps), its stock 200 H100 too: at most 1,000 rps."""

    def busy(document: dict[str, Any]) -> None:
        document["inference"][0]["demand_by_period"]["q2"]["city"] = 4000

    instance = example(busy)
    diagnosis = explain(instance, time_limit_s=30, verify_time_s=LIMIT)
    assert diagnosis.status == "infeasible"
    texts = [text for conflict in diagnosis.conflicts for text in conflict.descriptions]
    assert (
        "in q2, chat in city needs 4,000 rps; the sites within 20 ms can serve at most "
        "1,000 rps, each giving it all it has"
    ) in texts
    assert has_no_plan(instance)


def test_a_plan_exists() -> None:
    """The example itself: no check fires and the solver finds a plan."""
    diagnosis = explain(example(), time_limit_s=30)
    assert diagnosis.status == "feasible"
    assert diagnosis.conflicts == ()


def test_no_check_fires_but_the_relaxation_proves_no_plan() -> None:
    """Two jobs that must each run the whole horizon, 150 H100 each at one site of 200:
    no single job or period is to blame, and the solver proves there is no plan."""
    document = orjson.loads(EXAMPLE_V2_PATH.read_bytes())
    document["sites"][0]["grid_kw"] = 1000
    document["sites"][0]["timeline"] = []
    document["inference"] = []
    document["training"] = [
        {"id": name, "options": [{"accelerator": "h100", "count": 150}], "run_hours": 200}
        for name in ("x", "y")
    ]
    instance = parse_instance(document)
    diagnosis = explain(instance, time_limit_s=30)
    assert diagnosis.status == "infeasible"
    (conflict,) = diagnosis.conflicts
    assert conflict.limits == ()
    assert "relaxation proves that no plan exists" in conflict.message


def test_cli_explain_prints_the_period(tmp_path: Path) -> None:
    """The command line on a file: the finding and exit 0 (the question is answered)."""
    document = orjson.loads(EXAMPLE_V2_PATH.read_bytes())
    document["sites"][0]["grid_kw"] = 100
    path = tmp_path / "cut.json"
    path.write_bytes(orjson.dumps(document))
    result = CliRunner().invoke(app, ["explain", str(path), "--time-limit", "30"])
    assert result.exit_code == 0, result.stderr
    assert "in q1, site dc needs 120 kW against 100 kW" in result.stdout


def test_a_static_v2_instance_counts_every_job_at_once() -> None:
    """Static v2 (no periods, horizon 100): two required jobs of 60 GPUs that may run only
    at one 100 kW site need 120 kW there in period all."""
    instance = parse_instance(
        {
            "schema": "infraplan/v2",
            "name": "static",
            "horizon_hours": 100,
            "accelerators": [{"id": "gpu", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"}],
            "sites": [
                {
                    "id": "dc",
                    "grid_kw": 100,
                    "pue": 1.0,
                    "energy_price_per_kwh": 0.0,
                    "inventory": [{"accelerator": "gpu", "count": 500}],
                }
            ],
            "training": [
                {"id": name, "options": [{"accelerator": "gpu", "count": 60}], "run_hours": 10}
                for name in ("a", "b")
            ],
        }
    )
    diagnosis = explain(instance, time_limit_s=30, verify_time_s=LIMIT)
    (conflict,) = diagnosis.conflicts
    assert conflict.descriptions == (
        "in all, site dc needs 120 kW against 100 kW (from hour 0: a, b must run there then)",
    )
    assert has_no_plan(instance)
    lifts(instance, diagnosis)
