"""The constraint families of SPEC section 5, one function each.

`add_constraints` adds them in SPEC order and reads like a table of contents.
Every function skips rows that no plan of the model can violate (their largest
possible left-hand side fits the limit), which keeps big models small.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from models.network import GBPS_PER_RPS_KB
from models.tolerance import widened
from solver.cpsat.scaling import integer_row, relaxed_row

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import CpModel, IntVar

    from models import Instance
    from solver.cpsat.variables import PlanVariables

#: Up to this many failure domains, n+1 rows list the capacity outside each domain
#: directly; beyond it they go through one total-capacity variable per service.
SMALL_DOMAIN_COUNT = 3
#: State `site_flow_cover` (measured in docs/tuning.md#site_flow_cover).
SITE_FLOW_COVER = True
#: Serving rows with each replica's rate capped at the demand the site may serve
#: (docs/tuning.md#serving_tightened).
SERVING_TIGHTENED = True
#: n+1 rows of services with an unserved price: each replica's rate capped at the whole demand
#: (docs/tuning.md#resilience_tightened).
RESILIENCE_TIGHTENED = True


@dataclass
class ModelNotes:
    """What the model had to approximate.

    `inexact` lists restrictions of the SPEC (then CP-SAT's bound is not a proved SPEC
    bound); `relaxed` holds rows stated looser than the SPEC's, by constraint index,
    with their exact float form (then a plan's flows must be re-optimised against
    the exact rows before it is a SPEC plan).
    """

    #: Whether the model is the widened one (every row a relaxation of the SPEC's to its
    #: tolerance) rather than the restricted one (every row a restriction).
    widened: bool = False
    inexact: list[str] = field(default_factory=list)
    relaxed: dict[int, ExactRow] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: Family and entity of every row, by constraint index (for diagnosis and duals).
    labels: dict[int, RowLabel] = field(default_factory=dict)

    def note_row(self, model: CpModel, family: str, *key: str) -> None:
        """Label the row just added: its family and the entity it limits (ids)."""
        self.rows[family] += 1
        self.labels[len(model.proto.constraints) - 1] = RowLabel(family, key)


@dataclass(frozen=True)
class RowLabel:
    """Which SPEC constraint family a row belongs to, and the ids of what it limits:
    assignment (job), inventory (site, accelerator), grid_power (site), cooling (site,
    kind), demand (service, region), serving_capacity (service, site), demand_cover
    (service), resilience (service, domain), bandwidth (link a, link b), site_use (site)."""

    family: str
    key: tuple[str, ...]


@dataclass(frozen=True)
class ExactRow:
    """`sum(coefficients[var index] * var) <= limit` in floats, as the SPEC states it."""

    coefficients: dict[int, float]
    limit: float
    what: str


@dataclass(frozen=True)
class Term:
    """One `coefficient * var` term with the var's upper bound."""

    var: IntVar
    coefficient: float
    upper: int


def _add_row(
    model: CpModel,
    terms: list[Term],
    limit: float,
    family: str,
    key: tuple[str, ...],
    notes: ModelNotes,
    *,
    allowance: float = 0.0,
) -> bool:
    """Add `sum(terms) <= limit` in integers, unless no plan can exceed the limit.

    With an `allowance` the row is stated as `<= limit + allowance` and recorded as
    relaxed, with its exact form. Returns whether a row was added."""
    if sum(t.coefficient * t.upper for t in terms) <= limit:
        return False
    if notes.widened:
        # Every row of the widened model is a relaxation. A row with a grid allowance keeps
        # its float form (limit widened to the tolerance, so still a relaxation) for the
        # LP readings, where flows are continuous and need no allowance.
        row = relaxed_row([t.coefficient for t in terms], limit + allowance)
        if allowance > 0:
            exact_form: dict[int, float] = defaultdict(float)
            for term in terms:
                exact_form[term.var.index] += term.coefficient
            notes.relaxed[len(model.proto.constraints)] = ExactRow(
                dict(exact_form), widened(limit), " ".join(key)
            )
        model.add(
            cp_model.LinearExpr.weighted_sum([t.var for t in terms], row.coefficients) <= row.limit
        )
        notes.note_row(model, family, *key)
        return True
    relaxed = allowance > 0
    what = " ".join(key)
    row = integer_row([t.coefficient for t in terms], limit + allowance, loosen=relaxed)
    if not row.exact and not relaxed:
        notes.inexact.append(f"{family} row of {what} rounded to integers (conservatively)")
    if relaxed:
        exact: dict[int, float] = defaultdict(float)
        for term in terms:
            exact[term.var.index] += term.coefficient
        notes.relaxed[len(model.proto.constraints)] = ExactRow(dict(exact), limit, what)
    model.add(
        cp_model.LinearExpr.weighted_sum([t.var for t in terms], row.coefficients) <= row.limit
    )
    notes.note_row(model, family, *key)
    return True


def _usage_terms(
    instance: Instance, variables: PlanVariables
) -> dict[tuple[str, str], list[tuple[IntVar, int, int]]]:
    """used[s, a] as (var, accelerators per var unit, var upper bound) per (site, accelerator)."""
    return variables.usage_terms()


def assign_training(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """Each required job is placed exactly once; each optional job at most once (SPEC §4)."""
    by_job = variables.placements_by_job()
    for job in instance.training:
        choices = [var for _, var in by_job.get(job.id, [])]
        if job.id in variables.unplaced:
            choices.append(variables.unplaced[job.id])
        # A linear row rather than add_exactly_one: diagnosis may guard it with a literal.
        model.add(cp_model.LinearExpr.sum(choices) == 1)
        notes.note_row(model, "assignment", job.id)


def inventory(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """used[s, a] <= count[s, a] (SPEC §5.1)."""
    for (site_id, accelerator_id), terms in sorted(_usage_terms(instance, variables).items()):
        count = _stock(instance, site_id, accelerator_id, notes)
        if sum(per * upper for _, per, upper in terms) <= count:
            continue
        model.add(
            cp_model.LinearExpr.weighted_sum([v for v, _, _ in terms], [per for _, per, _ in terms])
            <= count
        )
        notes.note_row(model, "inventory", site_id, accelerator_id)


def _stock(instance: Instance, site_id: str, accelerator_id: str, notes: ModelNotes) -> int:
    """count[s, a], or in the widened model the most used[s, a] may reach to the SPEC's
    tolerance (more than the count only from a million accelerators on)."""
    count = instance.inventory_by_pair[site_id, accelerator_id].count
    return math.floor(widened(count)) if notes.widened else count


def grid_power(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """pue_s * sum_a power_kw_a * used[s, a] <= grid_kw_s (SPEC §5.2)."""
    by_site: dict[str, list[Term]] = defaultdict(list)
    for (site_id, accelerator_id), terms in _usage_terms(instance, variables).items():
        site = instance.site_by_id[site_id]
        kw = instance.accelerator_by_id[accelerator_id].power_kw * site.pue
        by_site[site_id].extend(Term(var, kw * per, upper) for var, per, upper in terms)
    for site in instance.sites:
        if site.id in by_site:
            _add_row(model, by_site[site.id], site.grid_kw, "grid_power", (site.id,), notes)


def cooling(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """sum over accelerators of one cooling kind of power_kw * used <= cooling_kw (SPEC §5.3)."""
    by_site_kind: dict[tuple[str, str], list[Term]] = defaultdict(list)
    for (site_id, accelerator_id), terms in _usage_terms(instance, variables).items():
        accelerator = instance.accelerator_by_id[accelerator_id]
        by_site_kind[site_id, accelerator.cooling].extend(
            Term(var, accelerator.power_kw * per, upper) for var, per, upper in terms
        )
    for (site_id, kind), kind_terms in sorted(by_site_kind.items()):
        limit = instance.site_by_id[site_id].cooling_limit_kw(kind)  # type: ignore[arg-type]
        if limit is not None:
            _add_row(model, kind_terms, limit, "cooling", (site_id, kind), notes)


def demand(model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes) -> None:
    """sum_s x[i, u, s] + w[i, u] = demand[i, u] (SPEC §5.4)."""
    flows: dict[tuple[str, str], list[IntVar]] = defaultdict(list)
    for pair, var in variables.flow.items():
        flows[pair.service, pair.region].append(var)
    for service in instance.inference:
        units = variables.units[service.id]
        for region, demand_units in units.demand_units.items():
            served = list(flows.get((service.id, region), []))
            if (service.id, region) in variables.unserved:
                served.append(variables.unserved[service.id, region])
            least = units.least(region)
            if least == demand_units:
                model.add(cp_model.LinearExpr.sum(served) == demand_units)
            else:
                # Widened: anything the SPEC's tolerance accepts (rounded outward).
                model.add_linear_constraint(cp_model.LinearExpr.sum(served), least, demand_units)
            notes.note_row(model, "demand", service.id, region)


def _capacity_terms(variables: PlanVariables) -> dict[tuple[str, str], list[tuple[IntVar, int]]]:
    """Replica capacity in rps units per (service, site)."""
    return variables.capacity_terms()


def serving_capacity(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """sum_u x[i, u, s] <= sum_a min(rps_ia, D) * r[i, s, a] (SPEC §5.5), where D is the
    demand of the regions the site may serve (with SERVING_TIGHTENED; else rps_ia): the
    flows never exceed D, so a replica that carries D carries all a plan can send
    (CP-SAT's presolve finds the same; the LP relaxation needs it stated)."""
    flows: dict[tuple[str, str], list[IntVar]] = defaultdict(list)
    reach: dict[tuple[str, str], int] = defaultdict(int)
    for pair, var in variables.flow.items():
        flows[pair.service, pair.site].append(var)
        reach[pair.service, pair.site] += variables.units[pair.service].demand_units[pair.region]
    capacity = _capacity_terms(variables)
    for key, served in flows.items():
        terms = capacity[key]
        slack = variables.units[key[0]].slack
        most = reach[key] if SERVING_TIGHTENED else None
        model.add(
            cp_model.LinearExpr.sum(served)
            <= cp_model.LinearExpr.weighted_sum(
                [v for v, _ in terms], [c if most is None else min(c, most) for _, c in terms]
            )
            + slack
        )
        notes.note_row(model, "serving_capacity", *key)


def resilience(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """n+1: capacity outside any one failure domain covers all served demand (SPEC §5.6)."""
    flows = variables.flows_by_service()
    replicas = variables.replicas_by_service()
    capacity = _capacity_terms(variables)
    for service in instance.inference:
        if service.resilience != "n+1":
            continue
        served_vars = [var for _, var in flows.get(service.id, [])]
        if not served_vars:
            continue
        served = _served_expression(service.id, served_vars, variables)
        slack = variables.units[service.id].slack
        # Served demand never exceeds the whole demand, so a replica counts for at most
        # that much (RESILIENCE_TIGHTENED; the same integer plans, a tighter LP). Only
        # where demand may go unserved: must-serve services have `replica_count`'s rows.
        capped = RESILIENCE_TIGHTENED and service.unserved_cost_per_rps_hour is not None
        most_served = sum(variables.units[service.id].demand_units.values())
        by_domain: dict[str, list[tuple[IntVar, int]]] = defaultdict(list)
        for site_id in sorted({option.site for option, _ in replicas.get(service.id, [])}):
            by_domain[instance.site_by_id[site_id].domain].extend(
                (var, min(c, most_served) if capped else c)
                for var, c in capacity[service.id, site_id]
            )
        if len(by_domain) <= SMALL_DOMAIN_COUNT:
            for domain in sorted(by_domain):
                outside = [
                    t for other, terms in by_domain.items() if other != domain for t in terms
                ]
                model.add(_weighted(outside) + slack >= served)
                notes.note_row(model, "resilience", service.id, domain)
            continue
        # Many domains: name the total capacity once, so each row holds one domain's terms.
        every = [t for terms in by_domain.values() for t in terms]
        most = sum(
            variables.units[service.id].capacity_units[option.accelerator]
            * variables.replica_bound[option]
            for option, _ in replicas.get(service.id, [])
        )
        total = model.new_int_var(0, most, f"cap[{service.id}]")
        model.add(total == _weighted(every))
        variables.totals.append((total, every))
        notes.note_row(model, "resilience", service.id, "*")
        for domain in sorted(by_domain):
            model.add(total - _weighted(by_domain[domain]) + slack >= served)
            notes.note_row(model, "resilience", service.id, domain)


def _weighted(terms: list[tuple[IntVar, int]]) -> cp_model.LinearExpr:
    """sum of coefficient * var."""
    return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])


def _served_expression(
    service_id: str, flows: list[IntVar], variables: PlanVariables
) -> cp_model.LinearExprT:
    """Served rps units of a service: the whole demand when none may go unserved (a constant
    lets CP-SAT round capacity rows by their GCD; in the widened model the least the
    tolerance allows, which keeps the rows relaxations), else the sum of its flows."""
    units = variables.units[service_id]
    regions = units.demand_units
    if any((service_id, region) in variables.unserved for region in regions):
        return cp_model.LinearExpr.sum(flows)
    return units.least_total()


def demand_cover(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """Redundant: a service's replica capacity over all sites covers its served demand.

    Implied by demand and serving capacity; stated so that CP-SAT can round it
    (for one profile it reads `replicas >= ceil(demand / rps)`), which tightens
    its LP bound."""
    flows = variables.flows_by_service()
    capacity = _capacity_terms(variables)
    by_service: dict[str, list[tuple[IntVar, int]]] = defaultdict(list)
    hosting: dict[str, set[str]] = defaultdict(set)
    for (service_id, site), terms in capacity.items():
        by_service[service_id].extend(terms)
        hosting[service_id].add(site)
    for service in instance.inference:
        served_vars = [var for _, var in flows.get(service.id, [])]
        terms = by_service.get(service.id, [])
        if not served_vars or not terms:
            continue
        served = _served_expression(service.id, served_vars, variables)
        # Each hosting site's capacity row has the widened model's slack.
        slack = variables.units[service.id].slack * len(hosting[service.id])
        model.add(
            cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms]) + slack
            >= served
        )
        notes.note_row(model, "demand_cover", service.id)


def replica_count_cover(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """Redundant: enough replicas for demand that must be served, counted in replicas.

    A replica serves at most the service's fastest profile rate, so at least
    ceil(demand / fastest) replicas run, and for n+1 as many outside every failure
    domain. The LP relaxation lacks this rounding; where one replica carries more
    than a region's demand it is most of the gap."""
    replicas = variables.replicas_by_service()
    for service in instance.inference:
        options = replicas.get(service.id, [])
        units = variables.units[service.id]
        if not options or any((service.id, r) in variables.unserved for r in units.demand_units):
            continue
        fastest = max(units.capacity_units[o.accelerator] for o, _ in options)
        # Each hosting site's capacity row has the widened model's slack.
        sites = len({option.site for option, _ in options})
        demand = units.least_total() - units.slack * sites
        if demand <= 0 or fastest <= 0:
            continue
        need = -(-demand // fastest)
        every = [var for _, var in options]
        model.add(cp_model.LinearExpr.sum(every) >= need)
        notes.note_row(model, "replica_count", service.id)
        if service.resilience != "n+1":
            continue
        by_domain: dict[str, list[IntVar]] = defaultdict(list)
        for option, var in options:
            by_domain[instance.site_by_id[option.site].domain].append(var)
        # An n+1 row has one slack, whatever the sites outside the domain.
        need = -(-(units.least_total() - units.slack) // fastest)
        if len(by_domain) <= SMALL_DOMAIN_COUNT:
            for domain in sorted(by_domain):
                outside = [v for d, held in by_domain.items() if d != domain for v in held]
                model.add(cp_model.LinearExpr.sum(outside) >= need)
                notes.note_row(model, "replica_count", service.id, domain)
            continue
        most = sum(variables.replica_bound[option] for option, _ in options)
        total = model.new_int_var(0, most, f"count[{service.id}]")
        model.add(total == cp_model.LinearExpr.sum(every))
        variables.totals.append((total, [(var, 1) for var in every]))
        notes.note_row(model, "replica_count", service.id, "*")
        for domain in sorted(by_domain):
            model.add(total - cp_model.LinearExpr.sum(by_domain[domain]) >= need)
            notes.note_row(model, "replica_count", service.id, domain)


def bandwidth(
    model: CpModel,
    instance: Instance,
    variables: PlanVariables,
    notes: ModelNotes,
    *,
    relax: bool = True,
) -> None:
    """Traffic and remote dataset reads over a limited link fit its bandwidth (SPEC §5.7).

    With `relax`, rows that carry routed traffic get the grid-rounding allowance;
    without, they are stated exactly on the grid (a restriction of the SPEC)."""
    terms: dict[int, list[Term]] = defaultdict(list)
    traffic: dict[int, list[Term]] = defaultdict(list)
    limited = {i for i, link in enumerate(instance.links) if link.bandwidth_gbps is not None}
    if not limited:
        return
    paths = instance.paths
    for pair, var in variables.flow.items():
        service = instance.inference_by_id[pair.service]
        if service.kb_per_request <= 0:
            continue
        route = paths.route(pair.region, pair.site)
        assert route is not None
        gbps_per_unit = (
            variables.units[pair.service].unit * service.kb_per_request * GBPS_PER_RPS_KB
        )
        upper = variables.units[pair.service].demand_units[pair.region]
        for link_index in route.links:
            if link_index in limited:
                term = Term(var, gbps_per_unit, upper)
                terms[link_index].append(term)
                traffic[link_index].append(term)
    for placement, var in variables.placement.items():
        dataset = instance.training_by_id[placement.job].dataset
        if dataset is None or dataset.read_gbps <= 0 or dataset.at == placement.site:
            continue
        route = paths.route(dataset.at, placement.site)
        assert route is not None
        for link_index in route.links:
            if link_index in limited:
                terms[link_index].append(Term(var, dataset.read_gbps, 1))
    for index in sorted(terms):
        link = instance.links[index]
        assert link.bandwidth_gbps is not None
        # Flows live on an rps grid. Rounding a continuous plan's flows to the grid moves
        # each flow by less than one unit, so allowing one unit per flow on the link keeps
        # every SPEC plan's rounding feasible: CP-SAT's bound stays a proved SPEC bound,
        # and plans are re-optimised against the exact row afterwards (solver.solve).
        allowance = sum(t.coefficient for t in traffic[index]) if relax else 0.0
        if notes.widened:
            # Widened: a routing that meets the rows only to the SPEC's tolerance is within
            # half a unit per flow of one that meets them on the grid (docs/formulation.md),
            # so each flow may move by up to two units on its way to the grid.
            allowance = 2.0 * sum(t.coefficient for t in traffic[index])
        _add_row(
            model,
            terms[index],
            link.bandwidth_gbps,
            "bandwidth",
            (link.a, link.b),
            notes,
            allowance=allowance,
        )


def site_use(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """z[s] = 1 when anything is placed at s (only for sites with a fixed cost; SPEC §5.8)."""
    for placement, var in variables.placement.items():
        active = variables.site_active.get(placement.site)
        if active is not None:
            model.add_implication(var, active)
            notes.note_row(model, "site_use", placement.site)
    for option, var in variables.replicas.items():
        active = variables.site_active.get(option.site)
        if active is not None:
            model.add(var == 0).only_enforce_if(active.Not())
            notes.note_row(model, "site_use", option.site)


def site_capacity(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """Redundant: at a site with a fixed cost, used[s, a] <= count[s, a] * z[s].

    Implied by inventory and site use; stated because the LP relaxation of the two
    lets a site be a sliver open and still hold its whole stock, while this row makes
    the fixed cost grow with the share of the stock in use (the classic strong
    capacity cut of facility location)."""
    for (site_id, accelerator_id), terms in sorted(_usage_terms(instance, variables).items()):
        active = variables.site_active.get(site_id)
        if active is None:
            continue
        count = _stock(instance, site_id, accelerator_id, notes)
        most = min(count, sum(per * upper for _, per, upper in terms))
        model.add(
            cp_model.LinearExpr.weighted_sum(
                [*(v for v, _, _ in terms), active], [*(per for _, per, _ in terms), -most]
            )
            <= 0
        )
        notes.note_row(model, "site_capacity", site_id, accelerator_id)


def site_flow_cover(
    model: CpModel, instance: Instance, variables: PlanVariables, notes: ModelNotes
) -> None:
    """Redundant: at a site with a fixed cost, x[i, u, s] <= demand[i, u] * z[s] (+ the
    serving rows' slack in the widened model).

    Implied by the demand, serving capacity and site use rows (rps reach s only where
    replicas run, and replicas run only at an open site); stated because their LP
    relaxation lets a site be opened by the share of its stock the flows use, while this
    row makes it open by the largest share of a region's demand it takes (the strong,
    disaggregated form of facility location's assignment rows)."""
    for pair, var in variables.flow.items():
        active = variables.site_active.get(pair.site)
        if active is None:
            continue
        units = variables.units[pair.service]
        most = units.demand_units[pair.region]
        model.add(var <= most * active + units.slack)
        notes.note_row(model, "site_flow_cover", pair.site)


def add_constraints(
    model: CpModel,
    instance: Instance,
    variables: PlanVariables,
    *,
    relax_bandwidth: bool = True,
    widened: bool = False,
) -> ModelNotes:
    """Add every constraint family, in SPEC order: as restrictions of the SPEC's rows, or
    with `widened` as relaxations of them to the SPEC's tolerance."""
    notes = ModelNotes(widened=widened)
    assign_training(model, instance, variables, notes)
    inventory(model, instance, variables, notes)
    grid_power(model, instance, variables, notes)
    cooling(model, instance, variables, notes)
    demand(model, instance, variables, notes)
    serving_capacity(model, instance, variables, notes)
    demand_cover(model, instance, variables, notes)
    replica_count_cover(model, instance, variables, notes)
    resilience(model, instance, variables, notes)
    bandwidth(model, instance, variables, notes, relax=relax_bandwidth)
    if not relax_bandwidth and any(link.bandwidth_gbps for link in instance.links):
        assert not widened, "the widened model's link rows carry the grid allowance"
        notes.inexact.append("bandwidth rows stated on the rps grid (a restriction)")
    site_use(model, instance, variables, notes)
    site_capacity(model, instance, variables, notes)
    if SITE_FLOW_COVER:
        site_flow_cover(model, instance, variables, notes)
    for service_id, units in variables.units.items():
        if not units.exact:
            notes.inexact.append(f"rps of service {service_id} rounded to a 1e-6 grid")
    return notes
