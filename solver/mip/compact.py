"""A compact MIP written straight from the SPEC (§4-§6): `build_compact`.

Nothing here comes from infraplan's CP-SAT model: the columns are SPEC §4's decisions over the
instance's own eligible options (`Instance.eligibility`), the rows SPEC §5's in float64, the
objective SPEC §6's with the coefficients of `solver.costs`.

Columns:

* `y[j,s,a]` binary, one per eligible training placement; `u[j]` in [0, 1] for an optional job
  left unplaced (Σ y + u = 1; Σ y = 1 for a required job);
* `r[i,s,a]` integer, one per eligible replica option, at most the stock allows;
* `x[i,u,s]` continuous rps, one per route pair within the SLO; `w[i,u]` continuous unserved
  rps where the service prices it (none where it does not: that demand must be served);
* `z[s]` binary for each site with a fixed cost;
* `e[s,x]` binary for each expansion of a static v2 instance (SPEC §11), at its cost.

Rows: inventory per (site, accelerator) and grid power and cooling per site, each in the strong
form `... <= limit * z[s]` at sites with a fixed cost, plus `y <= z[s]` for every placement
there; each limit raised by what the site's expansions add (`+ added * e[s,x]`, with
`e[s,x] <= z[s]` at a site with a fixed cost); accelerators added by expansions per supply
limit; demand per (service, region); serving capacity per (service, site), each replica's
rate capped at the demand of the regions the site may serve (the same integer plans, a
tighter LP); n+1 per (service, failure domain where it has options); bandwidth per limited
link over the SPEC §3 paths.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.network import GBPS_PER_RPS_KB
from models.schedule import expansion_adds
from solver.costs import replica_costs, traffic_egress_per_rps, training_costs

if TYPE_CHECKING:
    from models import Instance
    from models.accelerators import CoolingKind
    from models.eligibility import ReplicaOption, RoutePair, TrainingPlacement
    from models.v2_fields import Expansion

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
    #: e[s,x] columns: (site id, expansion id).
    expansions: dict[int, tuple[str, str]] = field(default_factory=dict)
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


def unsupported_fields(instance: Instance) -> list[str]:
    """What of `instance` the compact MIP does not state: periods (SPEC §9) and re-planning
    (SPEC §10: `current`, budgets, move and replica start costs)."""
    found: list[str] = []
    if instance.is_scheduled:
        found.append("periods (SPEC §9)")
    if instance.current is not None or instance.moves is not None:
        found.append("current and moves (SPEC §10)")
    if any(service.start_cost > 0 for service in instance.inference):
        found.append("replica start costs (SPEC §10)")
    if any(job.move_cost is not None or job.checkpoint_gb is not None for job in instance.training):
        found.append("training move costs (SPEC §10)")
    return found


def build_compact(instance: Instance, *, serve_all: bool = False) -> CompactModel:
    """The compact SPEC MIP of `instance`, static v1 or v2 with expansions and supply limits
    (`serve_all`: no unserved-demand columns, so all demand must be served, whatever the
    SPEC allows)."""
    refused = unsupported_fields(instance)
    if refused:
        raise ValueError(f"the compact MIP does not state {', '.join(refused)}")
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
    added = _expansion_columns(model, instance, z_of)
    for (site_id, accelerator_id), terms in added.stock.items():
        stock[site_id, accelerator_id] += int(sum(terms.values()))
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
            # A replica carries at most the demand the site may serve (coefficient
            # tightening: the same integer plans, a tighter LP).
            reach = math.fsum(model.upper[x] for x in flows)
            row = dict(flows)
            for r, rps in capacity[site_id].items():
                row[r] = -min(rps, reach)
            model.row(row, -_INFINITY, 0.0)
        if service.resilience == "n+1":
            # Capped where demand may go unserved, as the CP-SAT model's n+1 rows are.
            cap = math.inf if price is None else math.fsum(service.demand_rps.values())
            n_plus_one(model, instance, capacity, served_at, cap)

    for site in instance.sites:
        z = z_of.get(site.id)
        heat: dict[CoolingKind, dict[int, float]] = defaultdict(dict)
        power: dict[int, float] = {}
        for item in site.inventory:
            in_use = used.get((site.id, item.accelerator))
            if not in_use:
                continue
            accelerator = instance.accelerator_by_id[item.accelerator]
            limit_row(
                model, in_use, float(item.count), z, added.stock.get((site.id, item.accelerator))
            )
            for column, count in in_use.items():
                kw = accelerator.power_kw * count
                heat[accelerator.cooling][column] = heat[accelerator.cooling].get(column, 0.0) + kw
                power[column] = power.get(column, 0.0) + site.pue * kw
        if power:
            limit_row(model, power, site.grid_kw, z, added.grid.get(site.id))
        for kind, terms in heat.items():
            limit = site.cooling_limit_kw(kind)
            if limit is not None:
                limit_row(model, terms, limit, z, added.cooling.get((site.id, kind)))
    supply_limits = instance.supply_limits or []
    for limit_index, supply in added.supply.items():
        model.row(supply, -_INFINITY, float(supply_limits[limit_index].max_count))

    for index, link in enumerate(instance.links):
        if link.bandwidth_gbps is not None and link_terms.get(index):
            model.row(link_terms[index], -_INFINITY, link.bandwidth_gbps)
    model.build_s = time.perf_counter() - started
    return model


@dataclass
class _Added:
    """What the expansion columns add, as terms {e column: amount}: accelerators per (site,
    accelerator), grid kW per site, cooling kW per (site, kind); and per supply limit (its
    index) the accelerators of its type all expansions add."""

    stock: dict[tuple[str, str], dict[int, float]] = field(default_factory=dict)
    grid: dict[str, dict[int, float]] = field(default_factory=dict)
    cooling: dict[tuple[str, CoolingKind], dict[int, float]] = field(default_factory=dict)
    supply: dict[int, dict[int, float]] = field(default_factory=dict)


def expansion_column(
    model: CompactModel, site_id: str, expansion: Expansion, z_of: dict[str, int]
) -> int:
    """The binary column of one expansion at its cost, with `e <= z[s]` at a site with a
    fixed cost (an expansion serves an open site only)."""
    e = model.column(expansion.cost, 1.0, integer=True)
    model.expansions[e] = (site_id, expansion.id)
    if site_id in z_of:
        model.row({e: 1.0, z_of[site_id]: -1.0}, -_INFINITY, 0.0)
    return e


def _expansion_columns(model: CompactModel, instance: Instance, z_of: dict[str, int]) -> _Added:
    """One binary column per expansion at its cost (`e <= z[s]` at a site with a fixed cost:
    an expansion serves only an open site) and the capacity each adds."""
    added = _Added()
    limit_of = {limit.accelerator: i for i, limit in enumerate(instance.supply_limits or [])}
    for site in instance.sites:
        for expansion in site.expansions or []:
            e = expansion_column(model, site.id, expansion, z_of)
            grid_kw, cooling_kw, inventory = expansion_adds(expansion)
            if grid_kw:
                added.grid.setdefault(site.id, {})[e] = grid_kw
            for kind, kw in cooling_kw.items():
                if kw:
                    added.cooling.setdefault((site.id, kind), {})[e] = kw
            for accelerator_id, count in inventory.items():
                if count:
                    added.stock.setdefault((site.id, accelerator_id), {})[e] = float(count)
                    if accelerator_id in limit_of:
                        supply = added.supply.setdefault(limit_of[accelerator_id], {})
                        supply[e] = float(count)
    return added


def limit_row(
    model: CompactModel,
    terms: dict[int, float],
    limit: float,
    z: int | None,
    added: dict[int, float] | None = None,
) -> None:
    """Σ terms <= limit + Σ added, or <= limit * z[s] + Σ added at a site with a fixed cost
    (`added`: what expansion columns add to the limit)."""
    row = {**terms, **{e: -amount for e, amount in (added or {}).items()}}
    if z is None:
        model.row(row, -_INFINITY, limit)
    else:
        model.row({**row, z: -limit}, -_INFINITY, 0.0)


def n_plus_one(
    model: CompactModel,
    instance: Instance,
    capacity: dict[str, dict[int, float]],
    served_at: dict[str, dict[int, float]],
    most_served: float = math.inf,
) -> None:
    """SPEC §5.6 for one service: capacity outside each failure domain it has options in
    covers all the demand it serves (other domains' rows are implied by serving capacity).
    A replica counts for at most `most_served` (the service's whole demand, which it never
    exceeds, or infinity: no cap), the same integer plans with a tighter LP."""
    served = {x: 1.0 for flows in served_at.values() for x in flows}
    domains = {instance.site_by_id[site_id].domain for site_id in capacity}
    for domain in sorted(domains):
        row = dict(served)
        for site_id, columns in capacity.items():
            if instance.site_by_id[site_id].domain != domain:
                for r, rps in columns.items():
                    row[r] = row.get(r, 0.0) - min(rps, most_served)
        model.row(row, -_INFINITY, 0.0)
