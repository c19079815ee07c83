"""A compact MIP written straight from the SPEC (§4-§6), solved by HiGHS: the harness's MIP peer.

Nothing here comes from infraplan's CP-SAT model: the columns are SPEC §4's decisions over the
instance's own eligible options (`Instance.eligibility`), the rows SPEC §5's in float64, the
objective SPEC §6's with the coefficients of `solver.costs`.

Columns:

* `y[j,s,a]` binary, one per eligible training placement; `u[j]` in [0, 1] for an optional job
  left unplaced (Σ y + u = 1; Σ y = 1 for a required job);
* `r[i,s,a]` integer, one per eligible replica option, at most the stock allows;
* `x[i,u,s]` continuous rps, one per route pair within the SLO; `w[i,u]` continuous unserved
  rps where the service prices it (none where it does not: that demand must be served);
* `z[s]` binary for each site with a fixed cost.

Rows: inventory per (site, accelerator) and grid power and cooling per site, each in the strong
form `... <= limit * z[s]` at sites with a fixed cost, plus `y <= z[s]` for every placement
there; demand per (service, region); serving capacity per (service, site); n+1 per (service,
failure domain where it has options); bandwidth per limited link over the SPEC §3 paths.

HiGHS (through OR-Tools MathOpt, as `solver/linear.py` uses it for LPs; highspy is not
installed) runs with its own presolve, cuts and heuristics, one thread and a time limit. Its
incumbent's integers are rounded, the flows and unserved demand re-solved as an LP with those
integers fixed, and the plan costed by `solver.costs.plan_costs`. HiGHS's dual bound is
returned beside the plan, as HiGHS's (to its tolerances: primal feasibility 1e-7, integrality
1e-6, relative gap 1e-6), never as a proved bound of the SPEC optimum; the plan's status is
`feasible`.
"""

from __future__ import annotations

import datetime
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ortools.math_opt import (
    model_pb2,
    parameters_pb2,
    result_pb2,
    solution_pb2,
)

from models import Solution, SolverInfo
from models.network import GBPS_PER_RPS_KB
from solver.costs import plan_costs, replica_costs, traffic_egress_per_rps, training_costs
from solver.linear import run_highs

if TYPE_CHECKING:
    from models import Instance
    from models.accelerators import CoolingKind
    from models.eligibility import ReplicaOption, RoutePair, TrainingPlacement

#: HiGHS stops when its gap falls below this (its default, 1e-4, would stop 0.01 % short).
RELATIVE_GAP = 1e-6
#: Flows below this many rps (relative to the demand) are read as zero.
FLOW_EPSILON = 1e-9
#: Seconds kept from the MIP for the flow LP after it: this share of the limit, at most
#: POLISH_MAX_S (the LP may take up to POLISH_LIMIT_S; it takes well under a second on M).
POLISH_SHARE = 0.05
POLISH_MAX_S = 2.0
POLISH_LIMIT_S = 5.0
#: How HiGHS's bound is labelled wherever it is shown.
BOUND_LABEL = "HiGHS dual bound (its tolerances: feasibility 1e-7, integrality 1e-6)"

Status = Literal["optimal", "feasible", "infeasible", "unknown"]

_INFINITY = math.inf


@dataclass
class CompactModel:
    """The columns and rows of the compact SPEC MIP of one instance."""

    instance: Instance
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    #: (column indices, coefficients, low, high) per row.
    rows: list[tuple[list[int], list[float], float, float]] = field(default_factory=list)
    placements: dict[int, TrainingPlacement] = field(default_factory=dict)
    unplaced: dict[int, str] = field(default_factory=dict)
    options: dict[int, ReplicaOption] = field(default_factory=dict)
    pairs: dict[int, RoutePair] = field(default_factory=dict)
    unserved: dict[int, tuple[str, str]] = field(default_factory=dict)
    opened: dict[int, str] = field(default_factory=dict)
    build_s: float = 0.0

    def column(self, cost: float, upper: float, *, integer: bool) -> int:
        """A new column in [0, upper] with this cost; its index."""
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(integer)
        self.cost.append(cost)
        return len(self.cost) - 1

    def row(self, terms: dict[int, float], low: float, high: float) -> None:
        """A row low <= Σ coef * column <= high (terms with a zero coefficient dropped)."""
        kept = sorted((i, c) for i, c in terms.items() if c != 0.0)
        self.rows.append(([i for i, _ in kept], [c for _, c in kept], low, high))

    @property
    def integer_columns(self) -> list[int]:
        """Indices of the binary and integer columns."""
        return [i for i, flag in enumerate(self.integer) if flag]


def build_compact(instance: Instance, *, serve_all: bool = False) -> CompactModel:
    """The compact SPEC MIP of `instance` (`serve_all`: no unserved-demand columns, so all
    demand must be served, whatever the SPEC allows)."""
    started = time.perf_counter()
    model = CompactModel(instance)
    eligibility = instance.eligibility
    paths = instance.paths
    horizon = instance.horizon_hours
    z_of: dict[str, int] = {}
    for site in instance.sites:
        if site.fixed_cost > 0:
            z_of[site.id] = model.column(site.fixed_cost, 1.0, integer=True)
            model.opened[z_of[site.id]] = site.id
    # used[s,a] terms, dataset reads per link, placements per site (for y <= z).
    used: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    link_terms: dict[int, dict[int, float]] = defaultdict(dict)

    for job in instance.training:
        choice: dict[int, float] = {}
        for placement in eligibility.training[job.id]:
            cost = training_costs(instance, placement).total
            y = model.column(cost, 1.0, integer=True)
            model.placements[y] = placement
            choice[y] = 1.0
            used[placement.site, placement.accelerator][y] = float(placement.count)
            dataset = job.dataset
            if dataset is not None and dataset.read_gbps > 0 and dataset.at != placement.site:
                route = paths.route(dataset.at, placement.site)
                assert route is not None, "eligible placements are reachable from their dataset"
                for link_index in route.links:
                    link_terms[link_index][y] = dataset.read_gbps
            if placement.site in z_of:
                model.row({y: 1.0, z_of[placement.site]: -1.0}, -_INFINITY, 0.0)
        if not job.required:
            u = model.column(job.unplaced_cost, 1.0, integer=False)
            model.unplaced[u] = job.id
            choice[u] = 1.0
        model.row(choice, 1.0, 1.0)

    stock = {(s.id, item.accelerator): item.count for s in instance.sites for item in s.inventory}
    for service in instance.inference:
        capacity: dict[str, dict[int, float]] = defaultdict(dict)
        for option in eligibility.replicas[service.id]:
            most = stock.get((option.site, option.accelerator), 0) // option.per_replica
            r = model.column(replica_costs(instance, option).total, float(most), integer=True)
            model.options[r] = option
            used[option.site, option.accelerator][r] = float(option.per_replica)
            capacity[option.site][r] = option.rps
        served_at: dict[str, dict[int, float]] = defaultdict(dict)
        demand_terms: dict[str, dict[int, float]] = defaultdict(dict)
        kb = service.kb_per_request
        for pair in eligibility.routes[service.id]:
            egress = traffic_egress_per_rps(instance, kb, pair.region, pair.site) if kb else 0.0
            x = model.column(egress, service.demand_rps[pair.region], integer=False)
            model.pairs[x] = pair
            served_at[pair.site][x] = 1.0
            demand_terms[pair.region][x] = 1.0
            if kb > 0:
                route = paths.route(pair.region, pair.site)
                assert route is not None, "route pairs are reachable"
                for link_index in route.links:
                    link_terms[link_index][x] = kb * GBPS_PER_RPS_KB
        price = service.unserved_cost_per_rps_hour
        for region, rps in service.demand_rps.items():
            if rps <= 0:
                continue
            terms = demand_terms[region]
            if price is not None and not serve_all:
                w = model.column(price * horizon, rps, integer=False)
                model.unserved[w] = (service.id, region)
                terms[w] = 1.0
            model.row(terms, rps, rps)
        for site_id, flows in served_at.items():
            row = dict(flows)
            for r, rps in capacity[site_id].items():
                row[r] = -rps
            model.row(row, -_INFINITY, 0.0)
        if service.resilience == "n+1":
            _n_plus_one(model, instance, capacity, served_at)

    for site in instance.sites:
        z = z_of.get(site.id)
        heat: dict[CoolingKind, dict[int, float]] = defaultdict(dict)
        power: dict[int, float] = {}
        for item in site.inventory:
            in_use = used.get((site.id, item.accelerator))
            if not in_use:
                continue
            accelerator = instance.accelerator_by_id[item.accelerator]
            _limit_row(model, in_use, float(item.count), z)
            for column, count in in_use.items():
                kw = accelerator.power_kw * count
                heat[accelerator.cooling][column] = heat[accelerator.cooling].get(column, 0.0) + kw
                power[column] = power.get(column, 0.0) + site.pue * kw
        if power:
            _limit_row(model, power, site.grid_kw, z)
        for kind, terms in heat.items():
            limit = site.cooling_limit_kw(kind)
            if limit is not None:
                _limit_row(model, terms, limit, z)

    for index, link in enumerate(instance.links):
        if link.bandwidth_gbps is not None and link_terms.get(index):
            model.row(link_terms[index], -_INFINITY, link.bandwidth_gbps)
    model.build_s = time.perf_counter() - started
    return model


def _limit_row(model: CompactModel, terms: dict[int, float], limit: float, z: int | None) -> None:
    """Σ terms <= limit, or <= limit * z[s] at a site with a fixed cost."""
    if z is None:
        model.row(terms, -_INFINITY, limit)
    else:
        model.row({**terms, z: -limit}, -_INFINITY, 0.0)


def _n_plus_one(
    model: CompactModel,
    instance: Instance,
    capacity: dict[str, dict[int, float]],
    served_at: dict[str, dict[int, float]],
) -> None:
    """SPEC §5.6 for one service: capacity outside each failure domain it has options in
    covers all the demand it serves (other domains' rows are implied by serving capacity)."""
    served = {x: 1.0 for flows in served_at.values() for x in flows}
    domains = {instance.site_by_id[site_id].domain for site_id in capacity}
    for domain in sorted(domains):
        row = dict(served)
        for site_id, columns in capacity.items():
            if instance.site_by_id[site_id].domain != domain:
                for r, rps in columns.items():
                    row[r] = row.get(r, 0.0) - rps
        model.row(row, -_INFINITY, 0.0)


@dataclass
class CompactResult:
    """What HiGHS returned: status, column values (None without a solution), objective and
    its own dual bound."""

    status: Status
    values: list[float] | None
    objective: float | None
    bound: float | None
    wall_s: float


def solve_compact(
    model: CompactModel,
    *,
    time_limit_s: float | None,
    integer: bool = True,
    fixed: dict[int, float] | None = None,
    seed: int = 0,
) -> CompactResult:
    """Solve the model (or its LP relaxation) with HiGHS on one thread; `fixed` pins columns."""
    started = time.perf_counter()
    proto = _proto(model, integer=integer, fixed=fixed or {})
    parameters = parameters_pb2.SolveParametersProto(
        enable_output=False, random_seed=seed, relative_gap_tolerance=RELATIVE_GAP
    )
    # MathOpt refuses its own `threads` for HiGHS; HiGHS's option says one thread.
    parameters.highs.int_options["threads"] = 1
    if time_limit_s is not None:
        limit = datetime.timedelta(seconds=max(time_limit_s, 1e-3))
        parameters.time_limit.FromTimedelta(limit)
    result = run_highs(proto, parameters)
    reason = result.termination.reason
    wall_s = time.perf_counter() - started
    bound = result.termination.objective_bounds.dual_bound
    bound_or_none = bound if math.isfinite(bound) else None
    if reason in (
        result_pb2.TERMINATION_REASON_INFEASIBLE,
        result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED,
    ):
        return CompactResult("infeasible", None, None, None, wall_s)
    primal = next(
        (
            s.primal_solution
            for s in result.solutions
            if s.HasField("primal_solution")
            and s.primal_solution.feasibility_status == solution_pb2.SOLUTION_STATUS_FEASIBLE
        ),
        None,
    )
    if primal is None:
        return CompactResult("unknown", None, None, bound_or_none, wall_s)
    values = [0.0] * len(model.cost)
    for index, value in zip(primal.variable_values.ids, primal.variable_values.values, strict=True):
        values[index] = value
    status: Status = "optimal" if reason == result_pb2.TERMINATION_REASON_OPTIMAL else "feasible"
    return CompactResult(status, values, primal.objective_value, bound_or_none, wall_s)


def _proto(model: CompactModel, *, integer: bool, fixed: dict[int, float]) -> model_pb2.ModelProto:
    proto = model_pb2.ModelProto()
    count = len(model.cost)
    proto.variables.ids.extend(range(count))
    lower = list(model.lower)
    upper = list(model.upper)
    for index, value in fixed.items():
        lower[index] = upper[index] = value
    proto.variables.lower_bounds.extend(lower)
    proto.variables.upper_bounds.extend(upper)
    proto.variables.integers.extend(model.integer if integer else [False] * count)
    proto.linear_constraints.ids.extend(range(len(model.rows)))
    proto.linear_constraints.lower_bounds.extend(low for _, _, low, _ in model.rows)
    proto.linear_constraints.upper_bounds.extend(high for _, _, _, high in model.rows)
    matrix = proto.linear_constraint_matrix
    for row, (columns, coefficients, _, _) in enumerate(model.rows):
        matrix.row_ids.extend([row] * len(columns))
        matrix.column_ids.extend(columns)
        matrix.coefficients.extend(coefficients)
    objective = [(i, c) for i, c in enumerate(model.cost) if c != 0.0]
    proto.objective.linear_coefficients.ids.extend(i for i, _ in objective)
    proto.objective.linear_coefficients.values.extend(c for _, c in objective)
    return proto


@dataclass
class PeerAnswer:
    """The peer's plan (a SPEC Solution, status `feasible` when it has one) and HiGHS's own
    dual bound (BOUND_LABEL), kept apart from the Solution's proved `bound` (None)."""

    solution: Solution
    highs_bound: float | None
    build_s: float


def compact_highs(instance: Instance, *, time_limit_s: float, seed: int = 0) -> PeerAnswer:
    """Build the compact MIP, solve it with HiGHS within `time_limit_s` (the build counts),
    and return its plan costed from the plan itself."""
    started = time.perf_counter()
    model = build_compact(instance)
    remaining = max(1.0, time_limit_s - (time.perf_counter() - started))
    reserve_s = min(POLISH_MAX_S, POLISH_SHARE * time_limit_s)
    result = solve_compact(model, time_limit_s=max(1.0, remaining - reserve_s), seed=seed)
    values = result.values
    if values is not None:
        # The incumbent's integers, rounded; the flows re-solved exactly for them.
        fixed = {i: float(round(values[i])) for i in model.integer_columns}
        polished = solve_compact(
            model, time_limit_s=POLISH_LIMIT_S, integer=False, fixed=fixed, seed=seed
        )
        if polished.status == "optimal" and polished.values is not None:
            values = polished.values
        values = [*values]
        for index, value in fixed.items():
            values[index] = value
    info = SolverInfo(
        name="highs-compact-mip",
        version="ortools-mathopt",
        seed=seed,
        time_limit_s=time_limit_s,
        wall_s=round(time.perf_counter() - started, 3),
        workers=1,
        build_s=round(model.build_s, 3),
    )
    common = {"instance": instance.name, "instance_sha256": instance.sha256, "solver": info}
    if values is None:
        status: Status = "infeasible" if result.status == "infeasible" else "unknown"
        solution = Solution(status=status, **common)  # type: ignore[arg-type]
        return PeerAnswer(solution, result.bound, model.build_s)
    solution = plan_solution(model, values, info)
    return PeerAnswer(solution, result.bound, model.build_s)


def plan_solution(model: CompactModel, values: list[float], info: SolverInfo) -> Solution:
    """The plan of rounded integer columns and cleaned flows as a SPEC Solution (status
    `feasible`, no bound), costed by `solver.costs.plan_costs`."""
    instance = model.instance
    training = [
        {"job": p.job, "site": p.site, "accelerator": p.accelerator, "count": p.count}
        for y, p in model.placements.items()
        if round(values[y]) == 1
    ]
    placed = {t["job"] for t in training}
    unplaced = sorted(j.id for j in instance.training if not j.required and j.id not in placed)
    replicas: dict[tuple[str, str, str], int] = {}
    for r, option in model.options.items():
        count = round(values[r])
        if count > 0:
            replicas[option.service, option.site, option.accelerator] = count
    routes, unserved = _clean_flows(model, values)
    inference = [
        {"service": s, "site": site, "accelerator": a, "replicas": n}
        for (s, site, a), n in sorted(replicas.items())
    ]
    plan = {
        "training": sorted(training, key=lambda t: (t["job"], t["site"], t["accelerator"])),
        "unplaced_training": unplaced,
        "inference": inference,
        "routes": routes,
        "unserved": unserved,
    }
    draft = Solution.model_validate(
        {
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "status": "feasible",
            "solver": info,
            **plan,
        }
    )
    costs = plan_costs(
        instance,
        draft.training,
        draft.unplaced_training,
        draft.inference,
        draft.routes,
        draft.unserved,
    )
    return draft.model_copy(update={"objective": costs.total, "costs": costs})


def _clean_flows(
    model: CompactModel, values: list[float]
) -> tuple[list[dict[str, str | float]], list[dict[str, str | float]]]:
    """Routes and unserved demand with every (service, region) summing to its demand exactly:
    flows below FLOW_EPSILON dropped, the rest scaled down if they pass the demand, the
    remainder unserved where priced (else the flows scaled up to the demand)."""
    instance = model.instance
    flows: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for x, pair in model.pairs.items():
        flows[pair.service, pair.region].append((pair.site, values[x]))
    routes: list[tuple[str, str, str, float]] = []
    unserved: list[tuple[str, str, float]] = []
    for service in instance.inference:
        priced = service.unserved_cost_per_rps_hour is not None
        for region, demand in service.demand_rps.items():
            if demand <= 0:
                continue
            kept = [
                (site, rps)
                for site, rps in flows.get((service.id, region), [])
                if rps > FLOW_EPSILON * max(1.0, demand)
            ]
            served = math.fsum(rps for _, rps in kept)
            if served > demand or (not priced and served > 0):
                kept = [(site, rps * demand / served) for site, rps in kept]
                served = math.fsum(rps for _, rps in kept)
            routes.extend((service.id, region, site, rps) for site, rps in kept)
            short = demand - served
            if priced and short > FLOW_EPSILON * max(1.0, demand):
                unserved.append((service.id, region, short))
    return (
        [
            {"service": s, "region": u, "site": site, "rps": rps}
            for s, u, site, rps in sorted(routes)
        ],
        [{"service": s, "region": u, "rps": rps} for s, u, rps in sorted(unserved)],
    )
