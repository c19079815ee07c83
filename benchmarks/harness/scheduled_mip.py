"""The harness's HiGHS peer on scheduled instances (SPEC §9): a start-indexed MIP written from
the SPEC, not from any CP-SAT model.

Columns (over the instance's own eligible options, `Instance.eligibility`, and the candidate
start hours of `benchmarks.harness.scheduled_starts`):

* `X[j,s,a,k]` binary, the step ("started by") form of a time-indexed start: X[j,s,a,k] = 1
  when job j has started at site s on accelerator a by its k-th candidate start t_k, for every
  eligible placement and every candidate start of j (its window cut by release, deadline and
  `after` chains); X[·,k−1] ≤ X[·,k], so j starts at t_k exactly when X[k] − X[k−1] = 1 and is
  placed there when X[last] = 1. Starting at t_k costs SPEC §6's training cost plus lateness
  late_cost · max(0, t_k + run − due); X[k] carries cost_k − cost_{k+1}. `u[j]` in [0, 1] for
  an optional job left unplaced (Σ_{s,a} X[last] + u = 1; Σ X[last] = 1 when required).
* `r[i,s,a,p]` integer replicas, `x[i,u,s,p]` rps routed, `w[i,u,p]` rps unserved where
  priced: SPEC §4's per period, costed with hours_p.
* `v[i,s,a,p]` ≥ r[i,s,a,p] − r[i,s,a,p−1] (r before the first period = 0): replicas started,
  at §10's `replica_start_cost`.
* `e[s,x]` binary for each site expansion (SPEC §11), at its cost; from the period it comes
  online in, each limit row of its site is raised by what it adds (`+ added · e`), and each
  replica column's upper bound by the accelerators it may add; `e ≤ z[s]` at a site with a
  fixed cost (an expansion serves an open site only); per supply limit, Σ count · e ≤
  max_count.
* `z[s]` binary for each site with a fixed cost; continuous helpers: `c[j,k]` = Σ_{s,a}
  X[j,s,a,k] for the jobs in `after` relations, and, in a period with several checkpoints, the
  accelerators its replicas take per (site, type), Σ k·r.

Rows. Usage is piecewise constant in time and rises only at a period start (replicas and limits
change there) or at a job's start, so every limit is checked at those *checkpoints*: for each
site, each period p and each checkpoint τ in p (p's first hour and every candidate start in p of
a job placeable at the site), with j running at τ = X[last t_k ≤ τ] − X[last t_k ≤ τ − run_j]
(two terms per placement): inventory Σ n·running + Σ k·r[·,p] ≤ count[s,a,p], grid
pue·Σ kW ≤ grid_kw[s,p], and cooling per limited kind (each `≤ limit · z[s]` at a site with a
fixed cost); identical rows are kept once. Each link with a limit gets, per period and
checkpoint, p's traffic plus the read_gbps of the remote-dataset placements running then.
Demand, serving capacity and n+1 per (service, period); Σ_a X[j,s,a,last] ≤ z[s] at sites with
a fixed cost; `after` in the strong time-indexed form: for each candidate t of j and each k it
lists, c[j, t] ≤ c[k, last t' ≤ t − run_k] ("j started by t" only if "k ended by t"), which at
j's last candidate also makes j placed only if k is.

Exact or restriction. If the candidate starts are the full closure of {0, period starts,
releases} under job ends (`StartGrid.exact`), a left-shift argument (see `scheduled_starts`)
shows an optimal SPEC plan uses only them, and the checkpoints make the limit rows exact, so
this MIP has the SPEC optimum: HiGHS's dual bound is then reported beside the plan as
`solver_bound` (to HiGHS's tolerances, never as a proof). Otherwise the starts are a restricted
grid: every plan is still a SPEC plan, but HiGHS's bound bounds only the restriction, so no
`solver_bound` is reported (it is kept in the solver info as `restricted_model_bound`).

Not supported (refused with `NotSupportedError`): `current` and `moves` (SPEC §10 beyond
`replica_start_cost`).

Like the compact peer: HiGHS with its own presolve, cuts and heuristics, one thread, the time
limit (build included); the incumbent's integers rounded, the continuous columns re-solved as an
LP with them fixed, and the plan costed from the plan itself (`scheduled_plan`).
"""

from __future__ import annotations

import bisect
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchmarks.harness.compact_mip import (
    POLISH_LIMIT_S,
    POLISH_MAX_S,
    POLISH_SHARE,
    CompactModel,
    PeerAnswer,
    Status,
    _limit_row,
    _n_plus_one,
    solve_compact,
)
from benchmarks.harness.scheduled_plan import StartColumn, scheduled_solution
from benchmarks.harness.scheduled_starts import StartGrid, start_grid
from models import Solution, SolverInfo
from models.network import GBPS_PER_RPS_KB
from models.schedule import expansion_adds
from models.solution import SOLUTION_SCHEMA_V2
from solver.costs import KB_PER_GB, SECONDS_PER_HOUR, accelerator_hour_costs, training_costs
from solver.mip.compact import expansion_column

if TYPE_CHECKING:
    from models import Instance
    from models.accelerators import CoolingKind
    from models.eligibility import ReplicaOption, RoutePair

_INFINITY = math.inf


class NotSupportedError(ValueError):
    """The instance uses a SPEC field the scheduled peer does not model."""


@dataclass
class _Steps:
    """One placement's step columns: X[k] = 1 when the job has started there by its k-th
    candidate start; it uses `amount` of a resource (accelerators, Gbps) while it runs."""

    columns: list[int]
    starts: list[int]
    run: int
    amount: float
    accelerator: str = ""

    def running_at(self, hour: int) -> dict[int, float]:
        """Terms of `amount` x (running at `hour`): started by `hour` minus ended by it."""
        started = bisect.bisect_right(self.starts, hour) - 1
        if started < 0:
            return {}
        ended = bisect.bisect_right(self.starts, hour - self.run) - 1
        if ended == started:
            return {}
        terms = {self.columns[started]: self.amount}
        if ended >= 0:
            terms[self.columns[ended]] = -self.amount
        return terms


@dataclass
class ScheduledModel(CompactModel):
    """The columns and rows of the scheduled MIP of one instance (the inherited v1 maps of
    `CompactModel` stay empty)."""

    grid: StartGrid | None = None
    #: Each placement's step columns with the start each stands for (started by then).
    steps: list[list[tuple[int, StartColumn]]] = field(default_factory=list)
    #: Replica columns: (option, period position).
    period_replicas: dict[int, tuple[ReplicaOption, int]] = field(default_factory=dict)
    #: Route columns: (pair, period position).
    period_routes: dict[int, tuple[RoutePair, int]] = field(default_factory=dict)
    #: Unserved columns: (service, region, period position).
    period_unserved: dict[int, tuple[str, str, int]] = field(default_factory=dict)


def unsupported_fields(instance: Instance) -> list[str]:
    """The SPEC fields of `instance` the scheduled peer does not model."""
    found: list[str] = []
    if instance.current is not None:
        found.append("current (SPEC §10)")
    if instance.moves is not None:
        found.append("moves (SPEC §10)")
    return found


def build_scheduled(instance: Instance, *, grid: StartGrid | None = None) -> ScheduledModel:
    """The start-indexed MIP of a scheduled instance (module docstring)."""
    started = time.perf_counter()
    if not instance.is_scheduled:
        raise ValueError("the scheduled peer needs an instance with periods (SPEC §9)")
    refused = unsupported_fields(instance)
    if refused:
        raise NotSupportedError(f"the scheduled MIP peer does not support {', '.join(refused)}")
    model = ScheduledModel(instance, grid=grid or start_grid(instance))
    z_of: dict[str, int] = {}
    for site in instance.sites:
        if site.fixed_cost > 0:
            z_of[site.id] = model.column(site.fixed_cost, 1.0, integer=True)
            model.opened[z_of[site.id]] = site.id
    added = _expansions(model, z_of)
    running, reads = _training(model, z_of)
    # used[s,a,p]: replica columns and accelerators per replica; traffic[link][p].
    replicas: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
    traffic: dict[int, dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for service in instance.inference:
        _service(model, service.id, replicas, traffic, added)
    _site_limits(model, running, replicas, z_of, added)
    _bandwidth(model, reads, traffic)
    model.build_s = time.perf_counter() - started
    return model


@dataclass
class _Added:
    """What the expansion columns add from the period each comes online in, as terms
    {e column: amount}: accelerators per (site, accelerator, period), grid kW per (site,
    period) and cooling kW per (site, kind, period)."""

    stock: dict[tuple[str, str, int], dict[int, float]] = field(default_factory=dict)
    grid: dict[tuple[str, int], dict[int, float]] = field(default_factory=dict)
    cooling: dict[tuple[str, CoolingKind, int], dict[int, float]] = field(default_factory=dict)

    def most_stock(self, site_id: str, accelerator_id: str, period: int) -> int:
        """The most accelerators the site's expansions may add by `period`."""
        return round(sum(self.stock.get((site_id, accelerator_id, period), {}).values()))


def _expansions(model: ScheduledModel, z_of: dict[str, int]) -> _Added:
    """One binary column per expansion at its cost, `e <= z[s]` at a site with a fixed cost,
    the supply-limit rows, and what each expansion adds from its period on (SPEC §11; an
    unlimited cooling kind stays unlimited)."""
    instance = model.instance
    schedule = instance.schedule
    count = len(schedule.periods)
    added = _Added()
    supply: dict[str, dict[int, float]] = defaultdict(dict)
    for site in instance.sites:
        for expansion in site.expansions or []:
            e = expansion_column(model, site.id, expansion, z_of)
            grid_kw, cooling_kw, inventory = expansion_adds(expansion)
            for p in range(schedule.expansion_period[site.id, expansion.id], count):
                if grid_kw:
                    added.grid.setdefault((site.id, p), {})[e] = grid_kw
                for kind, kw in cooling_kw.items():
                    if kw and schedule.cooling_kw[site.id, kind][p] is not None:
                        added.cooling.setdefault((site.id, kind, p), {})[e] = kw
                for accelerator_id, amount in inventory.items():
                    if amount:
                        added.stock.setdefault((site.id, accelerator_id, p), {})[e] = amount
            for accelerator_id, amount in inventory.items():
                if amount:
                    supply[accelerator_id][e] = float(amount)
    for limit in instance.supply_limits or []:
        if supply.get(limit.accelerator):
            model.row(supply[limit.accelerator], -_INFINITY, float(limit.max_count))
    return added


def _training(
    model: ScheduledModel, z_of: dict[str, int]
) -> tuple[dict[str, list[_Steps]], dict[int, list[_Steps]]]:
    """Step columns, the one-placement rows and the `after` rows; each placement's steps by
    site (accelerators) and by link (dataset reads)."""
    instance = model.instance
    assert model.grid is not None
    candidates = model.grid.starts
    running: dict[str, list[_Steps]] = defaultdict(list)
    reads: dict[int, list[_Steps]] = defaultdict(list)
    # Per job, each placement's step columns (aligned with the job's candidates), for `after`.
    steps_of: dict[str, list[list[int]]] = {}
    for job in instance.training:
        run = round(job.run_hours)
        starts = candidates[job.id]
        choice: dict[int, float] = {}
        at_site: dict[str, dict[int, float]] = defaultdict(dict)
        steps_of[job.id] = []
        lateness = [
            0.0 if job.due_hour is None else job.late_cost * max(0, t + run - job.due_hour)
            for t in starts
        ]
        for placement in instance.eligibility.training[job.id] if starts else []:
            base = training_costs(instance, placement).total
            # Starting at t_k costs cost_k = base + lateness_k; with X[k] = started by t_k,
            # the start indicator is X[k] - X[k-1], so X[k] carries cost_k - cost_{k+1}.
            columns: list[int] = []
            for k in range(len(starts)):
                following = base + lateness[k + 1] if k + 1 < len(starts) else 0.0
                x = model.column(base + lateness[k] - following, 1.0, integer=True)
                if columns:
                    model.row({columns[-1]: 1.0, x: -1.0}, -_INFINITY, 0.0)
                columns.append(x)
            model.steps.append(
                [
                    (x, StartColumn(placement, t, late))
                    for x, t, late in zip(columns, starts, lateness, strict=True)
                ]
            )
            steps_of[job.id].append(columns)
            choice[columns[-1]] = 1.0
            at_site[placement.site][columns[-1]] = 1.0
            running[placement.site].append(
                _Steps(columns, starts, run, float(placement.count), placement.accelerator)
            )
            dataset = job.dataset
            if dataset is not None and dataset.read_gbps > 0 and dataset.at != placement.site:
                route = instance.paths.route(dataset.at, placement.site)
                assert route is not None, "eligible placements are reachable from their dataset"
                for link_index in route.links:
                    reads[link_index].append(_Steps(columns, starts, run, dataset.read_gbps))
        for site_id, columns_at in at_site.items():
            if site_id in z_of:
                model.row({**columns_at, z_of[site_id]: -1.0}, -_INFINITY, 0.0)
        if not job.required:
            u = model.column(job.unplaced_cost, 1.0, integer=False)
            model.unplaced[u] = job.id
            choice[u] = 1.0
        model.row(choice, 1.0, 1.0)
    _after(model, steps_of)
    return running, reads


def _after(model: ScheduledModel, steps_of: dict[str, list[list[int]]]) -> None:
    """SPEC §9 `after`, time-indexed: j started by t only if each listed k started by
    t − run_k (at t = j's last candidate: j placed only if k is)."""
    instance = model.instance
    assert model.grid is not None
    candidates = model.grid.starts
    linked = {job.id for job in instance.training if job.predecessors}
    linked |= {k for job in instance.training for k in job.predecessors}
    # started[j][i] = Σ over j's placements of X[i]: j started by its i-th candidate.
    started: dict[str, list[int]] = {}
    for job_id in sorted(linked):
        started[job_id] = []
        for i in range(len(candidates[job_id])):
            c = model.column(0.0, 1.0, integer=False)
            terms = {columns[i]: -1.0 for columns in steps_of[job_id]}
            terms[c] = 1.0
            model.row(terms, 0.0, 0.0)
            started[job_id].append(c)
    for job in instance.training:
        for k in job.predecessors:
            run_k = round(instance.training_by_id[k].run_hours)
            for t, c in zip(candidates[job.id], started[job.id], strict=True):
                done = bisect.bisect_right(candidates[k], t - run_k) - 1
                terms = {c: 1.0}
                if done >= 0:
                    terms[started[k][done]] = -1.0
                model.row(terms, -_INFINITY, 0.0)


def _service(
    model: ScheduledModel,
    service_id: str,
    replicas: dict[tuple[str, str, int], dict[int, float]],
    traffic: dict[int, dict[int, dict[int, float]]],
    added: _Added,
) -> None:
    """Replicas, routes, unserved demand and replica starts of one service, per period."""
    instance = model.instance
    schedule = instance.schedule
    service = instance.inference_by_id[service_id]
    options = instance.eligibility.replicas[service_id]
    pairs = instance.eligibility.routes[service_id]
    price = service.unserved_cost_per_rps_hour
    kb = service.kb_per_request
    previous: dict[ReplicaOption, int] = {}
    for p, span in enumerate(schedule.periods):
        hours = span.hours
        capacity: dict[str, dict[int, float]] = defaultdict(dict)
        for option in options:
            stock = schedule.count[option.site, option.accelerator][p]
            stock += added.most_stock(option.site, option.accelerator, p)
            rate = accelerator_hour_costs(instance, option.site, option.accelerator).total
            r = model.column(
                option.per_replica * hours * rate, float(stock // option.per_replica), integer=True
            )
            model.period_replicas[r] = (option, p)
            replicas[option.site, option.accelerator, p][r] = float(option.per_replica)
            capacity[option.site][r] = option.rps
            if service.start_cost > 0:
                v = model.column(service.start_cost, _INFINITY, integer=False)
                terms = {v: 1.0, r: -1.0}
                if option in previous:
                    terms[previous[option]] = 1.0
                model.row(terms, 0.0, _INFINITY)
            previous[option] = r
        demand = schedule.demand[service_id][p]
        served_at: dict[str, dict[int, float]] = defaultdict(dict)
        demand_terms: dict[str, dict[int, float]] = defaultdict(dict)
        for pair in pairs:
            rps = demand.get(pair.region, 0.0)
            if rps <= 0:
                continue
            route = instance.paths.route(pair.region, pair.site)
            assert route is not None, "route pairs are reachable"
            egress = kb * SECONDS_PER_HOUR * hours / KB_PER_GB * route.egress_per_gb
            x = model.column(egress, rps, integer=False)
            model.period_routes[x] = (pair, p)
            served_at[pair.site][x] = 1.0
            demand_terms[pair.region][x] = 1.0
            if kb > 0:
                for link_index in route.links:
                    traffic[link_index][p][x] = kb * GBPS_PER_RPS_KB
        for region, rps in demand.items():
            if rps <= 0:
                continue
            terms = demand_terms[region]
            if price is not None:
                w = model.column(price * hours, rps, integer=False)
                model.period_unserved[w] = (service_id, region, p)
                terms[w] = 1.0
            model.row(terms, rps, rps)
        for site_id, flows in served_at.items():
            row = dict(flows)
            for r, rps in capacity[site_id].items():
                row[r] = -rps
            model.row(row, -_INFINITY, 0.0)
        if service.resilience == "n+1":
            _n_plus_one(model, instance, capacity, served_at)


def _checkpoints(period_start: int, period_end: int, placements: list[_Steps]) -> list[int]:
    """The hours in [period_start, period_end) where usage may rise: the period's first hour
    and the candidate starts of `placements` within it."""
    hours = {period_start}
    for steps in placements:
        hours.update(t for t in steps.starts if period_start <= t < period_end)
    return sorted(hours)


def _running_terms(
    model: ScheduledModel, placements: list[_Steps]
) -> list[tuple[int, list[tuple[_Steps, dict[int, float]]]]]:
    """Per period and checkpoint, each placement's running terms then; identical term sets
    in one period kept once (period position, [(placement, terms)])."""
    found: list[tuple[int, list[tuple[_Steps, dict[int, float]]]]] = []
    for p, span in enumerate(model.instance.schedule.periods):
        start, end = round(span.start), round(span.end)
        inside = [s for s in placements if s.starts[0] < end and s.starts[-1] + s.run > start]
        seen: set[frozenset[tuple[int, float]]] = set()
        for tau in _checkpoints(start, end, inside):
            active = [(s, terms) for s in inside if (terms := s.running_at(tau))]
            key = frozenset(item for _, terms in active for item in terms.items())
            if key in seen:
                continue
            seen.add(key)
            found.append((p, active))
    return found


def _site_limits(
    model: ScheduledModel,
    running: dict[str, list[_Steps]],
    replicas: dict[tuple[str, str, int], dict[int, float]],
    z_of: dict[str, int],
    added: _Added,
) -> None:
    """Inventory, grid power and cooling per site, period and checkpoint (SPEC §9.1-3),
    each limit raised by what the site's chosen expansions add by then (§11).

    Where a period has several checkpoints, its replicas' accelerators per (site, type) are
    one continuous column (= Σ k·r) in those rows, instead of every replica column in each."""
    instance = model.instance
    schedule = instance.schedule
    for site in instance.sites:
        z = z_of.get(site.id)
        checkpoints = _running_terms(model, running.get(site.id, []))
        per_period: dict[int, int] = defaultdict(int)
        for p, _ in checkpoints:
            per_period[p] += 1
        serving: dict[tuple[str, int], dict[int, float]] = {}
        for item in site.inventory:
            for p in per_period:
                terms = replicas.get((site.id, item.accelerator, p), {})
                if per_period[p] > 1 and len(terms) > 1:
                    total = model.column(0.0, _INFINITY, integer=False)
                    model.row({total: 1.0, **{r: -k for r, k in terms.items()}}, 0.0, 0.0)
                    terms = {total: 1.0}
                serving[item.accelerator, p] = terms
        for p, active in checkpoints:
            used: dict[str, dict[int, float]] = defaultdict(dict)
            for steps, terms in active:
                used[steps.accelerator].update(terms)
            for item in site.inventory:
                used[item.accelerator].update(serving[item.accelerator, p])
            heat: dict[CoolingKind, dict[int, float]] = defaultdict(dict)
            power: dict[int, float] = {}
            for accelerator_id, terms in used.items():
                if not terms:
                    continue
                accelerator = instance.accelerator_by_id[accelerator_id]
                stock = schedule.count[site.id, accelerator_id][p]
                _limit_row(
                    model, terms, float(stock), z, added.stock.get((site.id, accelerator_id, p))
                )
                for column, count in terms.items():
                    kw = accelerator.power_kw * count
                    heat[accelerator.cooling][column] = kw
                    power[column] = site.pue * kw
            if power:
                _limit_row(
                    model, power, schedule.grid_kw[site.id][p], z, added.grid.get((site.id, p))
                )
            for kind, terms in heat.items():
                limit = schedule.cooling_kw[site.id, kind][p]
                if limit is not None:
                    _limit_row(model, terms, limit, z, added.cooling.get((site.id, kind, p)))


def _bandwidth(
    model: ScheduledModel,
    reads: dict[int, list[_Steps]],
    traffic: dict[int, dict[int, dict[int, float]]],
) -> None:
    """Per limited link, period and checkpoint: traffic plus running dataset reads (§9.7)."""
    for index, link in enumerate(model.instance.links):
        if link.bandwidth_gbps is None:
            continue
        for p, active in _running_terms(model, reads.get(index, [])):
            terms = dict(traffic.get(index, {}).get(p, {}))
            for _, running in active:
                for column, amount in running.items():
                    terms[column] = terms.get(column, 0.0) + amount
            if terms:
                model.row(terms, -_INFINITY, link.bandwidth_gbps)


def scheduled_highs(instance: Instance, *, time_limit_s: float, seed: int = 0) -> PeerAnswer:
    """Build the scheduled MIP, solve it with HiGHS within `time_limit_s` (the build counts)
    and return its plan costed from the plan itself, with HiGHS's bound only when the start
    grid is exact (module docstring)."""
    started = time.perf_counter()
    model = build_scheduled(instance)
    assert model.grid is not None
    remaining = max(1.0, time_limit_s - (time.perf_counter() - started))
    reserve_s = min(POLISH_MAX_S, POLISH_SHARE * time_limit_s)
    result = solve_compact(model, time_limit_s=max(1.0, remaining - reserve_s), seed=seed)
    values = result.values
    if values is not None:
        fixed = {i: float(round(values[i])) for i in model.integer_columns}
        polished = solve_compact(
            model, time_limit_s=POLISH_LIMIT_S, integer=False, fixed=fixed, seed=seed
        )
        if polished.status == "optimal" and polished.values is not None:
            values = polished.values
        values = [*values]
        for index, value in fixed.items():
            values[index] = value
    exact = model.grid.exact
    info = SolverInfo(
        name="highs-scheduled-mip",
        version="ortools-mathopt",
        seed=seed,
        time_limit_s=time_limit_s,
        wall_s=round(time.perf_counter() - started, 3),
        workers=1,
        build_s=round(model.build_s, 3),
        start_grid="exact" if exact else "restricted",
        columns=len(model.cost),
        integer_columns=len(model.integer_columns),
        rows=len(model.rows),
        nonzeros=sum(len(columns) for columns, _, _, _ in model.rows),
        restricted_model_bound=None if exact else result.bound,
    )
    highs_bound = result.bound if exact else None
    if values is None:
        status: Status = "infeasible" if result.status == "infeasible" and exact else "unknown"
        solution = Solution.model_validate(
            {
                "schema": SOLUTION_SCHEMA_V2,
                "instance": instance.name,
                "instance_sha256": instance.sha256,
                "status": status,
                "solver": info,
                "expansions": [],
            }
        )
        return PeerAnswer(solution, highs_bound, model.build_s)
    return PeerAnswer(scheduled_solution(model, values, info), highs_bound, model.build_s)
