"""The CP-SAT model: hints are complete and, from a valid plan, feasible in the model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import load_instance
from solver.cpsat.model import add_hint, build_model
from solver.heuristics.greedy import greedy
from tests import builders as b

if TYPE_CHECKING:
    from solver.cpsat.model import BuiltModel


def violated_rows(built: BuiltModel) -> list[str]:
    """Rows of the model the hinted values break (checked on the proto, by hand)."""
    proto = built.model.proto
    hint = dict(zip(proto.solution_hint.vars, proto.solution_hint.values, strict=True))
    assert len(hint) == len(proto.variables), "the hint must give every variable a value"

    def literal(ref: int) -> int:
        return hint[ref] if ref >= 0 else 1 - hint[-ref - 1]

    broken = []
    for index, row in enumerate(proto.constraints):
        if row.enforcement_literal and not all(literal(r) for r in row.enforcement_literal):
            continue
        if row.has_linear():
            total = sum(
                hint[v] * c for v, c in zip(row.linear.vars, row.linear.coeffs, strict=True)
            )
            low, high = list(row.linear.domain)[:2]
            if not low <= total <= high:
                broken.append(str(built.notes.labels.get(index, index)))
        elif row.has_bool_and() and not all(literal(r) for r in row.bool_and.literals):
            broken.append(str(built.notes.labels.get(index, index)))
    return broken


def test_greedy_hint_is_complete_and_feasible_on_generated_instance() -> None:
    """A complete greedy plan of S-0 hints every variable and breaks no row."""
    instance = load_instance("instances/generated/S-0.json")
    plan = greedy(instance)
    assert plan.status == "feasible"
    built = build_model(instance)
    add_hint(built, plan)
    assert violated_rows(built) == []


def test_hint_covers_total_capacity_variables() -> None:
    """With many failure domains the n+1 totals are hinted from the replicas too."""
    sites = [b.site(name, {"gpu": (100, 1.0 + n)}) for n, name in enumerate("ABCDE")]
    instance = b.instance(
        sites=sites,
        regions=["u"],
        links=[b.link("u", s["id"]) for s in sites],
        inference=[b.service("s", {"gpu": (1, 10.0)}, {"u": 10}, resilience="n+1")],
    )
    built = build_model(instance)
    assert built.variables.totals, "five domains use total-capacity variables"
    add_hint(built, greedy(instance))
    assert violated_rows(built) == []


def test_every_row_is_labelled() -> None:
    """Diagnosis and duals rely on a family and entity for every constraint row."""
    built = build_model(load_instance("instances/generated/S-1.json"))
    assert set(built.notes.labels) == set(range(len(built.model.proto.constraints)))
