"""The diagnosis model: the strict SPEC model with one assumption literal per limit.

Built on the public model objects, without changing the solver's code:

1. The instance is *lifted*: grid power, cooling and inventory become unlimited. The model
   of the lifted instance then has every placement and replica option that only those
   limits rule out, and replica bounds that do not already encode them (in the real
   instance's model a limit can hide in a variable bound or a pruned option, where no
   literal could guard it).
2. `build_model(lifted, elastic=True)`: required jobs get an "unplaced" variable and
   must-serve demand an "unserved" one. Guarding `unplaced = 0` (a job) and `unserved = 0`
   (a demand) with literals then states the strict model when the literals hold and drops
   exactly that promise when one does not: rows that count served demand (n+1, the demand
   cover) count the flows, so relaxed demand asks for no capacity.
3. The real instance's inventory, grid power and cooling rows are added with the solver's
   own row functions (`solver.cpsat.constraints`), labelled as usual.
4. Every labelled limit row (inventory, grid_power, cooling, bandwidth) gets the literal of
   its (family, key) as enforcement literal; n+1 rows get one literal per service.

The objective is cleared: diagnosis asks only whether a plan exists. The model is the
solver's widened one (every row a relaxation of the SPEC's to its tolerance, link rows
with the grid allowance), so an infeasible answer is proved for the SPEC. Relaxation
amounts use a second, restricted model with link rows exact on the rps grid (see
`build_guarded`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models import CostBreakdown, Solution, SolverInfo
from models.base import MAX_COUNT, MAX_QUANTITY
from solver.cpsat import constraints
from solver.cpsat.model import build_model, extract_plan
from solver.diagnosis.limits import Limit
from solver.evaluate import evaluate

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from models import Instance
    from solver.cpsat.model import BuiltModel
    from solver.evaluation import Evaluation
    from solver.plan import Plan

#: Row families guarded by a literal per (family, key).
GUARDED_ROWS = ("inventory", "grid_power", "cooling", "bandwidth")
#: Time limit of the quick first pass of a feasibility check (no presolve, no LP).
QUICK_CHECK_S = 2.0
#: Smallest INT64 (the lower end of a `<=` row's domain in the proto).
INT64_MIN = -(2**63)


def lifted_instance(instance: Instance) -> Instance:
    """The instance with grid power, cooling and inventory unlimited (in effect)."""
    sites = [
        site.model_copy(
            update={
                "grid_kw": MAX_QUANTITY,
                "cooling_kw": None,
                "inventory": [
                    item.model_copy(update={"count": MAX_COUNT}) for item in site.inventory
                ],
            }
        )
        for site in instance.sites
    ]
    return instance.model_copy(update={"sites": sites})


@dataclass
class Answer:
    """What one diagnosis solve found: status, the core of an infeasible one, values."""

    status: str
    #: Limits CP-SAT found sufficient for infeasibility (when status is "infeasible").
    core: list[Limit] = field(default_factory=list)
    values: list[int] = field(default_factory=list)
    objective: float | None = None
    proved: bool = False
    wall_s: float = 0.0


@dataclass
class GuardedModel:
    """The diagnosis model of an instance and where each limit sits in it."""

    instance: Instance
    built: BuiltModel
    #: The assumption literal (a variable index) of every limit.
    literals: dict[Limit, int]
    #: Constraint indices of the rows each row-guarded limit enforces.
    rows: dict[Limit, list[int]]
    #: The slack variable (index) a job or demand literal pins to zero.
    slack: dict[Limit, int]
    build_s: float = 0.0
    solves: int = 0

    @property
    def limits(self) -> list[Limit]:
        """Every guarded limit, sorted."""
        return sorted(self.literals)

    def check(
        self,
        enforced: Collection[Limit],
        *,
        time_limit_s: float,
        seed: int = 0,
        quick_only: bool = False,
    ) -> Answer:
        """Is there a plan when the `enforced` limits hold and the others are relaxed?

        Uses CP-SAT assumptions with one worker, so an infeasible answer carries the
        sufficient assumptions (a core of enforced limits, not necessarily minimal). A
        quick pass without presolve and LP comes first; `quick_only` stops after it."""
        model = self.built.model
        model.clear_assumptions()
        on = set(enforced)
        # Limits not enforced are assumed relaxed (literal false): that only removes rows,
        # so it changes no answer, and it spares the search from choosing them.
        model.proto.assumptions.extend(
            index if limit in on else -index - 1
            for limit, index in sorted(self.literals.items(), key=_blame_order)
        )
        started = time.perf_counter()
        # First a quick pass without presolve and LP (most checks are settled by
        # propagation in a fraction of the presolve's time), then the full solver.
        quick = min(QUICK_CHECK_S, time_limit_s / 4)
        solver = _solver(quick, 1, seed, quick=True)
        status = solver.solve(model)
        if status == cp_model.UNKNOWN and not quick_only:
            solver = _solver(time_limit_s - (time.perf_counter() - started), 1, seed)
            status = solver.solve(model)
        self.solves += 1
        wall = time.perf_counter() - started
        model.clear_assumptions()
        by_literal = {index: limit for limit, index in self.literals.items()}
        if status == cp_model.INFEASIBLE:
            core = sorted(
                by_literal[index]
                for index in solver.sufficient_assumptions_for_infeasibility()
                if index in by_literal
            )
            return Answer("infeasible", core=core, proved=True, wall_s=wall)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Answer("feasible", values=list(solver.response_proto.solution), wall_s=wall)
        return Answer("unknown", wall_s=wall)

    def minimise(
        self,
        enforced: Iterable[Limit],
        relaxed: Limit | None,
        objective: list[tuple[int, int]],
        *,
        time_limit_s: float,
        workers: int = 1,
        seed: int = 0,
        slack_rows: bool = False,
    ) -> Answer:
        """Minimise a weighted sum of variables (index, weight) with the `enforced` limits
        holding and every other limit relaxed.

        With `slack_rows`, the rows of `relaxed` are stated again with one slack variable
        added, and the objective is that slack (in the rows' integer units)."""
        clone = self.built.model.clone()
        clone.clear_assumptions()
        proto = clone.proto
        on = set(enforced)
        for limit, index in self.literals.items():
            value = 1 if limit in on else 0
            proto.variables[index].domain.clear()
            proto.variables[index].domain.extend([value, value])
        if slack_rows and relaxed is not None:
            objective = [(self._add_slack(clone, self.rows.get(relaxed, [])), 1)]
        proto.clear_objective()
        for index, weight in objective:
            proto.objective.vars.append(index)
            proto.objective.coeffs.append(weight)
        solver = _solver(time_limit_s, workers, seed)
        started = time.perf_counter()
        status = solver.solve(clone)
        self.solves += 1
        wall = time.perf_counter() - started
        if status == cp_model.INFEASIBLE:
            return Answer("infeasible", proved=True, wall_s=wall)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Answer(
                "feasible",
                values=list(solver.response_proto.solution),
                objective=solver.objective_value,
                proved=status == cp_model.OPTIMAL,
                wall_s=wall,
            )
        return Answer("unknown", wall_s=wall)

    @staticmethod
    def _add_slack(clone: cp_model.CpModel, rows: list[int]) -> int:
        """Add `row - slack <= limit` for each `<=` row; return the slack's index."""
        proto = clone.proto
        upper = 0
        for row_index in rows:
            row = proto.constraints[row_index].linear
            largest = 0
            for var, coeff in zip(row.vars, row.coeffs, strict=True):
                # list() first: the proto's repeated fields do not support negative indices.
                domain = list(proto.variables[var].domain)
                largest += coeff * (domain[-1] if coeff > 0 else domain[0])
            upper = max(upper, largest - list(row.domain)[-1])
        slack = clone.new_int_var(0, max(0, upper), "diagnosis_slack")
        # Read every row before adding any: adding may move the rows in memory.
        copies = [
            (list(row.vars), list(row.coeffs), list(row.domain)[-1])
            for row in (proto.constraints[i].linear for i in rows)
        ]
        for row_vars, row_coeffs, limit in copies:
            copy = proto.constraints.add().linear
            copy.vars.extend([*row_vars, slack.index])
            copy.coeffs.extend([*row_coeffs, -1])
            copy.domain.extend([INT64_MIN, limit])
        return slack.index

    def plan(self, values: list[int]) -> Plan:
        """The plan held by a solution of this model."""
        return extract_plan(self.built, [float(v) for v in values])

    def usage(self, values: list[int]) -> Evaluation:
        """The SPEC usage figures of a solution's plan, measured on the real instance."""
        return evaluate(self.instance, self.solution(values))

    def solution(self, values: list[int]) -> Solution:
        """A solution's plan as a Solution of the real instance (a hint for `solve`; it
        may break the limits that were relaxed)."""
        plan = self.plan(values)
        return Solution(
            instance=self.instance.name,
            instance_sha256=self.instance.sha256,
            status="feasible",
            objective=plan.objective,
            training=plan.training,
            unplaced_training=plan.unplaced_training,
            inference=plan.inference,
            routes=plan.routes,
            unserved=plan.unserved,
            costs=CostBreakdown(),
            solver=SolverInfo(name="infraplan-diagnosis", version=""),
        )


#: Families in the order their assumptions are stated: CP-SAT tends to blame the first
#: assumption that explains a propagation, and a planner reads "fra-1 has 512 h100"
#: sooner than the power or cooling that would also rule the same placement out.
BLAME_ORDER = ("inventory", "grid_power", "cooling", "bandwidth", "resilience", "demand", "job")


def _blame_order(item: tuple[Limit, int]) -> tuple[int, Limit]:
    return BLAME_ORDER.index(item[0].family), item[0]


def _solver(
    time_limit_s: float, workers: int, seed: int, *, quick: bool = False
) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.05, time_limit_s)
    params.num_workers = workers
    params.random_seed = seed
    if quick:
        params.cp_model_presolve = False
        params.linearization_level = 0
        params.symmetry_level = 0
    return solver


def build_with_limit_rows(
    instance: Instance, *, elastic: bool = False, relax_bandwidth: bool = True
) -> BuiltModel:
    """The model of `instance` with every grid power, cooling and inventory limit stated as
    a labelled row, never hidden in a variable bound or a pruned option: the model of the
    lifted instance, plus the real instance's rows added by the solver's row functions."""
    # The proving role (link rows with the grid allowance) is the widened model, whose
    # infeasibility is a proof; with exact links, the restricted one, whose plans are
    # SPEC plans.
    built = build_model(
        lifted_instance(instance),
        elastic=elastic,
        relax_bandwidth=relax_bandwidth,
        widened=relax_bandwidth,
    )
    model, variables, notes = built.model, built.variables, built.notes
    lifted_rows = [i for i, label in notes.labels.items() if label.family in GUARDED_ROWS[:3]]
    if lifted_rows:
        raise RuntimeError(f"lifted limits still produced rows {lifted_rows[:3]}")
    constraints.inventory(model, instance, variables, notes)
    constraints.grid_power(model, instance, variables, notes)
    constraints.cooling(model, instance, variables, notes)
    return built


def build_guarded(instance: Instance, *, exact_links: bool = False) -> GuardedModel:
    """The diagnosis model of `instance` (see the module docstring).

    Link rows carry the solver's grid allowance (so infeasibility is proved for the SPEC)
    unless `exact_links`: then they are stated exactly on the rps grid, so that every plan
    of the model is a SPEC plan (relaxation amounts are then sufficient, never short)."""
    started = time.perf_counter()
    built = build_with_limit_rows(instance, elastic=True, relax_bandwidth=not exact_links)
    model, variables, notes = built.model, built.variables, built.notes
    model.proto.clear_objective()
    model.proto.clear_solution_hint()

    literals: dict[Limit, int] = {}
    rows: dict[Limit, list[int]] = {}
    slack: dict[Limit, int] = {}

    def literal(limit: Limit) -> int:
        if limit not in literals:
            literals[limit] = model.new_bool_var(f"assume[{limit}]").index
        return literals[limit]

    for constraint_index, label in sorted(notes.labels.items()):
        if label.family in GUARDED_ROWS:
            limit = Limit(label.family, label.key)  # type: ignore[arg-type]
        elif label.family == "resilience":
            limit = Limit("resilience", label.key[:1])
        else:
            continue
        model.proto.constraints[constraint_index].enforcement_literal.append(literal(limit))
        rows.setdefault(limit, []).append(constraint_index)
    for job_id in sorted(variables.elastic_unplaced):
        limit = Limit("job", (job_id,))
        unplaced = variables.unplaced[job_id]
        guard = model.new_bool_var(f"assume[{limit}]")
        model.add(unplaced == 0).only_enforce_if(guard)
        literals[limit], slack[limit] = guard.index, unplaced.index
    for service_id, region in sorted(variables.elastic_unserved):
        limit = Limit("demand", (service_id, region))
        unserved = variables.unserved[service_id, region]
        guard = model.new_bool_var(f"assume[{limit}]")
        model.add(unserved == 0).only_enforce_if(guard)
        literals[limit], slack[limit] = guard.index, unserved.index
    return GuardedModel(
        instance, built, literals, rows, slack, build_s=time.perf_counter() - started
    )
