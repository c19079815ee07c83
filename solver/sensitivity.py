"""What one more unit of a limit is worth: LP-dual estimates and exact re-solves.

`sensitivity(instance, solution)` looks at every site's grid power, each limited cooling
kind, the stock of each accelerator type at each site, and every limited link that carries
load in the plan. For each it reports what the plan uses, whether the limit binds, and:

* an **estimate** of the saving per extra unit (currency per kW, per accelerator, per
  Gbps): the row dual of the LP relaxation of the strict model (placements and replicas
  continuous), with the rows of power, cooling and links restated in SPEC units (the
  CP-SAT rows are integer-scaled). It is the marginal value in the relaxation, where a job
  can move a fraction at a time; integer decisions can make the real value smaller (a job
  needs its whole power before it moves) or larger (a step frees a whole job);
* for the limits with the largest estimates (and the binding ones), the **exact change**:
  the instance is re-solved with the limit raised by a planner-chosen step, warm-started
  from the plan, and the change in the optimum is reported with the proof status of both
  solves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ortools.linear_solver import pywraplp

from models import COOLING_KINDS
from models.network import GBPS_PER_RPS_KB
from solver.diagnosis.guarded import build_with_limit_rows
from solver.diagnosis.limits import Limit, link_between, number, short
from solver.evaluate import evaluate
from solver.linear import to_linear
from solver.solve import solve
from solver.whatif import SetValue, apply_edits, field_path

if TYPE_CHECKING:
    from models import Instance, Solution
    from solver.cpsat.model import BuiltModel
    from solver.evaluation import Evaluation

#: Violation names that concern a solution's claims rather than its plan.
CLAIMS = ("status", "bound", "objective", "cost_breakdown")

#: Where the estimates come from, as printed with them.
ESTIMATE_SOURCE = (
    "LP relaxation of the strict model (placements and replicas continuous): "
    "an estimate, not the value of a whole step"
)
#: Relative headroom below which a limit in use counts as binding.
BINDING_TOLERANCE = 1e-6
#: Estimates below this (currency per unit) count as zero.
ZERO_VALUE = 1e-9

_UNITS = {"grid_power": "kW", "cooling": "kW", "inventory": "accelerators", "bandwidth": "Gbps"}


@dataclass(frozen=True)
class Steps:
    """How far each kind of limit is raised for the exact re-solves."""

    kw: float = 1000.0
    accelerators: int = 100
    gbps: float = 100.0

    def of(self, limit: Limit) -> float:
        """The step of one limit in its unit."""
        if limit.family == "inventory":
            return float(self.accelerators)
        return self.gbps if limit.family == "bandwidth" else self.kw


@dataclass(frozen=True)
class ExactChange:
    """The optimum after raising one limit by `step`, against the base plan."""

    step: float
    edit: SetValue
    status: str
    objective: float | None
    #: New objective minus base objective (negative: the step saves money).
    change: float | None
    #: Saving per unit of the step: -change / step.
    per_unit: float | None
    #: Both the base and the re-solve are proved optimal.
    proved: bool


@dataclass(frozen=True)
class LimitValue:
    """One limit: its use in the plan, whether it binds, and what one more unit is worth."""

    limit: Limit
    unit: str
    capacity: float
    used: float
    binding: bool
    #: Saving per extra unit in the LP relaxation (currency per unit, >= 0).
    estimate: float
    exact: ExactChange | None = None

    @property
    def name(self) -> str:
        """The limit in a few words."""
        return short(self.limit)


@dataclass(frozen=True)
class Sensitivity:
    """Marginal values of a plan's limits."""

    instance: str
    objective: float
    status: str
    #: Optimum of the LP relaxation the estimates come from (None if it was not solved).
    lp_objective: float | None
    limits: tuple[LimitValue, ...]
    estimate_source: str = ESTIMATE_SOURCE
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self, *, all_rows: bool = False) -> str:
        """A table of the limits (binding, valued or re-solved ones unless `all_rows`)."""
        rows = [
            value
            for value in self.limits
            if all_rows or value.binding or value.estimate > ZERO_VALUE or value.exact
        ]
        lp = "-" if self.lp_objective is None else f"{self.lp_objective:,.2f}"
        lines = [
            f"{self.instance}: plan {self.status}, objective {self.objective:,.2f} "
            f"(LP relaxation {lp})",
            f"estimate: {self.estimate_source}",
            "exact: re-solved with the limit raised by the step, warm-started from the plan",
        ]
        headers = ["limit", "used / capacity", "binds", "estimate/unit", "step", "exact change",
                   "exact/unit"]  # fmt: skip
        table = [headers]
        for value in rows:
            exact = value.exact
            table.append(
                [
                    f"{value.name} ({value.unit})",
                    f"{number(round(value.used, 3))} / {number(value.capacity)}",
                    "yes" if value.binding else "no",
                    f"{value.estimate:,.4g}",
                    "-" if exact is None else number(exact.step),
                    "-" if exact is None or exact.change is None else _change(exact),
                    "-" if exact is None or exact.per_unit is None else f"{exact.per_unit:,.4g}",
                ]
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
        lines.extend(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in table
        )
        if len(rows) < len(self.limits):
            lines.append(f"({len(self.limits) - len(rows)} limits with no value and slack left)")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "instance": self.instance,
            "objective": self.objective,
            "status": self.status,
            "lp_objective": self.lp_objective,
            "estimate_source": self.estimate_source,
            "notes": list(self.notes),
            "limits": [
                {
                    "family": value.limit.family,
                    "key": list(value.limit.key),
                    "unit": value.unit,
                    "capacity": value.capacity,
                    "used": value.used,
                    "binding": value.binding,
                    "estimate_per_unit": value.estimate,
                    "exact": None
                    if value.exact is None
                    else {
                        "step": value.exact.step,
                        "edit": str(value.exact.edit),
                        "status": value.exact.status,
                        "objective": value.exact.objective,
                        "change": value.exact.change,
                        "per_unit": value.exact.per_unit,
                        "proved": value.exact.proved,
                    },
                }
                for value in self.limits
            ],
        }


def _change(exact: ExactChange) -> str:
    assert exact.change is not None
    proof = "" if exact.proved else " (not proved)"
    return f"{exact.change:+,.2f}{proof}"


def sensitivity(
    instance: Instance,
    solution: Solution,
    *,
    steps: Steps | None = None,
    top: int = 5,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
) -> Sensitivity:
    """Marginal values of the limits of `solution`'s plan (see the module docstring).

    `top` limits (largest estimate first, binding ones next) are re-solved with their
    limit raised by `steps`, each solve warm-started from the plan and limited to
    `time_limit_s`. A base plan not proved optimal is first re-solved from itself, so
    both sides of each change had the same search. Raises ValueError for a solution
    without a plan.
    """
    if not solution.has_plan or solution.objective is None:
        raise ValueError(f"the solution has no plan (status {solution.status})")
    if instance.is_v2:
        raise ValueError("a v2 instance: its questions are solver.sensitivity_v2.sensitivity_v2's")
    steps = steps or Steps()
    notes: list[str] = []
    base = solution
    if base.status != "optimal":
        again = solve(instance, time_limit_s=time_limit_s, workers=workers, seed=seed, hint=base)
        given = solution.objective
        if again.has_plan and again.objective is not None and again.objective < given:
            notes.append(
                f"the plan given ({given:,.2f}) was improved to {again.objective:,.2f} "
                "by re-solving it first; changes are measured from the improved plan"
            )
            base = again
        elif again.status == "optimal":
            base = again
    evaluation = evaluate(instance, base)
    # What the plan claims (status, bound, costs) is not the plan: only its decisions count.
    broken = [v for v in evaluation.violations if v.constraint not in CLAIMS]
    if broken:
        raise ValueError(f"the plan breaks the instance: {broken[0]}")
    estimates, lp_objective = lp_estimates(instance)
    if lp_objective is None:
        notes.append("the LP relaxation was not solved: estimates are 0")
    values = [
        LimitValue(
            limit,
            _UNITS[limit.family],
            capacity,
            used,
            used > 0 and used >= capacity - BINDING_TOLERANCE * max(1.0, capacity),
            max(0.0, estimates.get(limit, 0.0)),
        )
        for limit, capacity, used in _limits(instance, evaluation)
    ]
    values.sort(key=lambda v: (-v.estimate, not v.binding, v.limit))
    chosen = [v for v in values if v.estimate > ZERO_VALUE or v.binding][: max(0, top)]
    exact = {
        value.limit: _exact(
            instance, base, value, steps.of(value.limit), time_limit_s, workers, seed
        )
        for value in chosen
    }
    final = tuple(
        LimitValue(v.limit, v.unit, v.capacity, v.used, v.binding, v.estimate, exact.get(v.limit))
        for v in values
    )
    assert base.objective is not None
    return Sensitivity(
        instance.name, base.objective, base.status, lp_objective, final, notes=tuple(notes)
    )


def _limits(instance: Instance, evaluation: Evaluation) -> list[tuple[Limit, float, float]]:
    """(limit, capacity, used) for every site limit and every loaded limited link."""
    found: list[tuple[Limit, float, float]] = []
    for site in instance.sites:
        usage = evaluation.sites[site.id]
        found.append((Limit("grid_power", (site.id,)), site.grid_kw, usage.facility_kw))
        for kind in COOLING_KINDS:
            limit = site.cooling_limit_kw(kind)
            if limit is not None:
                heat = usage.heat.get(kind)
                used = 0.0 if heat is None else heat.it_kw
                found.append((Limit("cooling", (site.id, kind)), limit, used))
        for item in site.inventory:
            used_count = usage.accelerators[item.accelerator].used
            found.append(
                (Limit("inventory", (site.id, item.accelerator)), float(item.count), used_count)
            )
    for link in evaluation.links:
        if link.capacity_gbps is not None and link.used_gbps > 0:
            found.append((Limit("bandwidth", (link.a, link.b)), link.capacity_gbps, link.used_gbps))
    return found


def lp_estimates(instance: Instance) -> tuple[dict[Limit, float], float | None]:
    """Saving per extra unit of each limit (currency per SPEC unit) from the LP relaxation
    of the strict model, and the LP optimum; limits whose rows never bind are absent.

    The model states every power, cooling and inventory limit as a row (see
    `build_with_limit_rows`): a limit the solver's own model folds into variable bounds
    would otherwise carry its value in reduced costs, not in a row dual."""
    built = build_with_limit_rows(instance)
    linear = to_linear(built, "GLOP", integer=False)
    rows = _restate_rows(instance, built, linear.solver, linear.variables, linear.rows,
                         linear.rows_of_constraint)  # fmt: skip
    linear.solver.SuppressOutput()
    if linear.solver.Solve() != pywraplp.Solver.OPTIMAL:
        return {}, None
    estimates = {
        limit: -sum(linear.rows[index].dual_value() for index in indices)
        for limit, indices in rows.items()
    }
    return estimates, linear.solver.Objective().Value()


def _restate_rows(
    instance: Instance,
    built: BuiltModel,
    solver: pywraplp.Solver,
    variables: list[pywraplp.Variable],
    rows: list[pywraplp.Constraint],
    rows_of_constraint: list[list[int]],
) -> dict[Limit, list[int]]:
    """State the limit rows in SPEC units (kW, accelerators, Gbps) so their duals are
    currency per SPEC unit; return the LP rows of each limit."""
    it_kw: dict[int, float] = {}
    gbps: dict[int, float] = {}
    for placement, var in built.variables.placement.items():
        it_kw[var.index] = (
            instance.accelerator_by_id[placement.accelerator].power_kw * placement.count
        )
        dataset = instance.training_by_id[placement.job].dataset
        gbps[var.index] = 0.0 if dataset is None else dataset.read_gbps
    for option, var in built.variables.replicas.items():
        it_kw[var.index] = (
            instance.accelerator_by_id[option.accelerator].power_kw * option.per_replica
        )
    for pair, var in built.variables.flow.items():
        service = instance.inference_by_id[pair.service]
        unit = built.variables.units[pair.service].unit
        gbps[var.index] = unit * service.kb_per_request * GBPS_PER_RPS_KB
    proto = built.model.proto
    found: dict[Limit, list[int]] = {}
    for constraint_index, label in built.notes.labels.items():
        if label.family not in _UNITS:
            continue
        limit = Limit(label.family, label.key)  # type: ignore[arg-type]
        indices = rows_of_constraint[constraint_index]
        found.setdefault(limit, []).extend(indices)
        if label.family == "inventory" or constraint_index in built.notes.relaxed:
            continue  # already in SPEC units
        terms = list(proto.constraints[constraint_index].linear.vars)
        if label.family == "grid_power":
            site = instance.site_by_id[label.key[0]]
            coefficients = {v: site.pue * it_kw[v] for v in terms}
            bound = site.grid_kw
        elif label.family == "cooling":
            coefficients = {v: it_kw[v] for v in terms}
            bound = instance.site_by_id[label.key[0]].cooling_limit_kw(label.key[1]) or 0.0  # type: ignore[arg-type]
        else:
            coefficients = {v: gbps[v] for v in terms}
            link = link_between(instance, label.key[0], label.key[1])
            bound = math.inf if link is None or link.bandwidth_gbps is None else link.bandwidth_gbps
        for index in indices:
            for var, coefficient in coefficients.items():
                rows[index].SetCoefficient(variables[var], coefficient)
            rows[index].SetBounds(-solver.infinity(), bound)
    return found


def _exact(
    instance: Instance,
    base: Solution,
    value: LimitValue,
    step: float,
    time_limit_s: float,
    workers: int | None,
    seed: int,
) -> ExactChange:
    """Re-solve with the limit raised by `step`, warm-started from the base plan."""
    key = value.limit.key
    raised: float = value.capacity + step
    if value.limit.family == "grid_power":
        path = field_path("sites", (key[0],), "grid_kw")
    elif value.limit.family == "cooling":
        path = field_path("sites", (key[0],), "cooling_kw", key[1])
    elif value.limit.family == "inventory":
        path = field_path("sites", (key[0],), "inventory", (key[1],), "count")
        raised = round(raised)
    else:
        link = link_between(instance, key[0], key[1])
        assert link is not None
        path = field_path("links", (link.a, link.b), "bandwidth_gbps")
    edit = SetValue(path, raised)
    edited = apply_edits(instance, [edit])
    after = solve(edited, time_limit_s=time_limit_s, workers=workers, seed=seed, hint=base)
    assert base.objective is not None
    change = None if after.objective is None else after.objective - base.objective
    return ExactChange(
        step=step,
        edit=edit,
        status=after.status,
        objective=after.objective,
        change=change,
        per_unit=None if change is None or step == 0 else -change / step,
        proved=base.status == "optimal" and after.status == "optimal",
    )
