"""`solve`'s answers on shipped instances, byte for byte against recorded ones.

The files in tests/data/same_plans/ were recorded before solver/solve.py was split into
modules; a refactoring must leave them unchanged (plans, statuses, bounds, model notes;
the timing fields `wall_s` and `build_s` left out). Every case ends by proof, well
inside its time limit, so the answer does not depend on the machine's speed: the SPEC
example, the issue's five rates (tests/test_claims.py's `one_service`), and generated
S-0 (workers 1 and 2) and S-2 (workers 2; with one worker it takes 19 s) are proved
optimal (S-0 in 3 to 6 s, S-2 in 5 to 7 s on two cores; the same bytes three times
slower under load). After an intended change of the solver's behaviour, record them
again with `python -m tests.test_same_plans` (and say why in the commit).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest

from models import load_instance
from solver.solve import SolveOptions, solve
from tests.test_claims import one_service

if TYPE_CHECKING:
    from models import Instance

RECORDED = Path(__file__).parent / "data" / "same_plans"
#: Far above what any case needs: each ends by proof, not by the wall clock.
TIME_LIMIT_S = 60.0
SEED = 0
#: The issue's five rates (profile rps, demand rps), as in tests/test_claims.py.
RATES = {
    "third": (0.3333333333333333, 1.0),
    "seven-thirds": (2.3333333333333335, 7.0),
    "ten-thirds": (3.3333333333333335, 10.0),
    "seventh": (0.14285714285714285, 3.0),
    "tenth": (0.1, 0.3),
}
#: (case, workers) pairs.
CASES = [
    *[("example", workers) for workers in (1, 2)],
    *[(f"rate-{name}", workers) for name in RATES for workers in (1, 2)],
    ("S-0", 1),
    ("S-0", 2),
    ("S-2", 2),
]


def instance_of(case: str) -> Instance:
    """The instance a case solves."""
    if case == "example":
        return load_instance("instances/example.json")
    if case.startswith("rate-"):
        return one_service(*RATES[case.removeprefix("rate-")])
    return load_instance(f"instances/generated/{case}.json")


def recorded_path(case: str, workers: int) -> Path:
    """Where the answer of one case is recorded."""
    return RECORDED / f"{case}-w{workers}.json"


def answer_bytes(case: str, workers: int) -> bytes:
    """`solve`'s answer for one case as JSON, without the timing fields."""
    solution = solve(
        instance_of(case),
        time_limit_s=TIME_LIMIT_S,
        workers=workers,
        seed=SEED,
        options=SolveOptions(),
    )
    data = solution.model_dump(mode="json", by_alias=True)
    for timing in ("wall_s", "build_s"):
        data["solver"].pop(timing)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


@pytest.mark.parametrize(("case", "workers"), CASES)
def test_answer_is_the_recorded_one(case: str, workers: int) -> None:
    """The answer is byte for byte the recorded one."""
    assert answer_bytes(case, workers).decode() == recorded_path(case, workers).read_text()


def test_recorded_answers_are_proofs() -> None:
    """Every recorded answer is proved optimal: none was cut by the wall clock, so the
    comparison does not depend on the machine's speed."""
    for case, workers in CASES:
        recorded = orjson.loads(recorded_path(case, workers).read_bytes())
        assert recorded["status"] == "optimal", (case, workers)
        assert recorded["solver"]["time_limit_s"] == TIME_LIMIT_S


if __name__ == "__main__":
    RECORDED.mkdir(parents=True, exist_ok=True)
    for case, workers in CASES:
        recorded_path(case, workers).write_bytes(answer_bytes(case, workers))
