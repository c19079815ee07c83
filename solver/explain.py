"""`explain(instance)`: why an instance has no plan, in a planner's words.

1. Cheap checks (`solver.diagnosis.prechecks`): required jobs and must-serve demand with no
   site to go to, each with a direct message.
2. The diagnosis model (`solver.diagnosis.guarded`) guards every limit with an assumption
   literal: site grid power, each cooling kind, inventory per (site, accelerator), link
   bandwidth, each service's demand per region (within its SLO), each required job, each
   n+1 rule. CP-SAT's sufficient assumptions name a conflict, which deletion shrinks to a
   minimal one (`solver.diagnosis.conflicts`); its limits are then set aside and the search
   repeats, so independent conflicts are each named.
3. For each limit of a conflict, the smallest change of that limit alone that restores a
   plan (`solver.diagnosis.relax`), as a what-if edit, re-checked with a real `solve`.

A v2 instance (SPEC §8-§12) is diagnosed by `explain_v2`: the checks of
`solver.diagnosis.timed` (windows, `after` chains, a site's compulsory load in a period,
must-serve demand in a period), each a proof naming the period, hour or job, with the
edit that lifts it; when none fires, `solve` decides (its `infeasible` is proved by the
relaxation). The assumption search of step 2 reads v1 instances only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from solver.diagnosis.conflicts import Budget, find_conflicts
from solver.diagnosis.guarded import build_guarded
from solver.diagnosis.limits import Limit, describe, listing, number, short
from solver.diagnosis.prechecks import Finding, prechecks
from solver.diagnosis.relax import Relaxation, plan_exists, relax, verify

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from models import Instance, Solution
    from solver.diagnosis.conflicts import PlanCheck
    from solver.diagnosis.guarded import GuardedModel
    from solver.whatif import Edit

DiagnosisStatus = Literal["feasible", "infeasible", "unknown"]


@dataclass(frozen=True)
class Conflict:
    """Limits that cannot all hold, and the single changes that would resolve them."""

    limits: tuple[Limit, ...]
    #: Each limit in a planner's words, in the order of `limits`.
    descriptions: tuple[str, ...]
    #: "check" (a cheap check before solving) or "search" (CP-SAT assumptions).
    found_by: Literal["check", "search"]
    message: str
    #: Every member was shown to be needed.
    minimal: bool
    relaxations: tuple[Relaxation, ...] = ()
    #: What the limits of the conflict allow, for demand members (e.g. servable rps).
    notes: tuple[str, ...] = ()
    #: The relaxations restore a plan on their own (False: other conflicts remain).
    alone: bool = True

    def lines(self, number_: int) -> list[str]:
        """The conflict as indented text lines."""
        how = "a check before solving" if self.found_by == "check" else "the search"
        minimal = "minimal" if self.minimal else "not shown minimal (time ran out)"
        count = f"{len(self.limits)} limit{'s' * (len(self.limits) != 1)}"
        lines = [f"Conflict {number_} (found by {how}; {count}, {minimal}):"]
        lines.append(f"  {self.message}")
        lines.extend(f"  - {text}" for text in self.descriptions)
        lines.extend(f"  Note: {note}" for note in self.notes)
        if self.relaxations:
            lines.append(
                "  Smallest single changes that restore a plan"
                + ("" if self.alone else " (once the other conflicts are resolved)")
                + ":"
            )
            lines.extend(f"  - {relaxation}" for relaxation in self.relaxations)
        relaxed = {r.limit for r in self.relaxations}
        stuck = [short(limit) for limit in self.limits if limit not in relaxed]
        if stuck and self.relaxations:
            lines.append(f"  No change of one of these alone restores a plan: {listing(stuck)}")
        elif not self.relaxations:
            lines.append("  No change of any one of these limits alone restores a plan.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "found_by": self.found_by,
            "message": self.message,
            "minimal": self.minimal,
            "alone": self.alone,
            "limits": [
                {"family": limit.family, "key": list(limit.key), "description": text}
                for limit, text in zip(self.limits, self.descriptions, strict=True)
            ],
            "notes": list(self.notes),
            "relaxations": [
                {
                    "family": r.limit.family,
                    "key": list(r.limit.key),
                    "text": r.text,
                    "edit": str(r.edit),
                    "amount": r.amount,
                    "smallest": r.smallest,
                    "verified": r.verified,
                }
                for r in self.relaxations
            ],
        }


@dataclass(frozen=True)
class Diagnosis:
    """Whether an instance has a plan and, if not, the conflicts that prevent one."""

    instance: str
    status: DiagnosisStatus
    findings: tuple[Finding, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    #: Every conflict was found (the limits left after setting them aside admit a plan).
    complete: bool = True
    limits: int = 0
    solves: int = 0
    wall_s: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """The diagnosis as text: headline, checks, then each conflict."""
        timing = f"{self.limits} limits, {self.solves} solves, {self.wall_s:.1f} s"
        if self.status == "feasible":
            head = f"{self.instance}: has a plan (every limit can hold at once; {timing})"
        elif self.status == "unknown":
            head = f"{self.instance}: undecided in the time given ({timing})"
        else:
            count = len(self.conflicts)
            more = "" if self.complete else ", maybe more"
            head = (
                f"{self.instance}: no plan: {count} conflict{'s' * (count != 1)}{more} ({timing})"
            )
        lines = [head]
        if self.findings:
            lines.append("Checks before solving:")
            lines.extend(f"  - {finding.message}" for finding in self.findings)
        for index, conflict in enumerate(self.conflicts, start=1):
            lines.extend(conflict.lines(index))
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "instance": self.instance,
            "status": self.status,
            "complete": self.complete,
            "findings": [
                {
                    "family": f.limit.family,
                    "key": list(f.limit.key),
                    "message": f.message,
                    "structural": f.structural,
                }
                for f in self.findings
            ],
            "conflicts": [conflict.to_dict() for conflict in self.conflicts],
            "limits": self.limits,
            "solves": self.solves,
            "wall_s": round(self.wall_s, 3),
            "notes": list(self.notes),
        }


def explain(
    instance: Instance,
    *,
    time_limit_s: float = 300.0,
    check_time_s: float = 30.0,
    max_conflicts: int = 3,
    relaxations: bool = True,
    verify_time_s: float = 30.0,
    workers: int = 1,
    seed: int = 0,
) -> Diagnosis:
    """Diagnose `instance`: feasible, or the minimal conflicts that leave it without a plan.

    `time_limit_s` caps the whole diagnosis and `check_time_s` each CP-SAT call;
    `max_conflicts` bounds how many independent conflicts are searched for. With
    `relaxations`, each limit of a conflict gets its smallest single relaxation, checked
    with a real solve of up to `verify_time_s` when it should restore a plan on its own
    (0 skips the check). Searches for conflicts use one worker (CP-SAT's sufficient
    assumptions need it); relaxation searches and checks use `workers`.
    """
    started = time.perf_counter()
    if instance.is_v2:
        return explain_v2(
            instance,
            time_limit_s=time_limit_s,
            relaxations=relaxations,
            verify_time_s=verify_time_s,
            workers=workers,
            seed=seed,
        )
    budget = Budget(time_limit_s, check_time_s)
    guarded = build_guarded(instance)
    # Amounts come from the restricted model, link rows exact on the rps grid, so that each
    # relaxation is enough (the proving model is widened: its tolerance and grid allowance
    # could make an amount short).
    exact = build_guarded(instance, exact_links=True) if guarded.built.proves else guarded
    findings = prechecks(guarded)
    structural = [finding for finding in findings if finding.structural]

    def plan_check(relaxed: set[Limit], edits: Sequence[Edit]) -> tuple[str, Solution]:
        guarded.solves += 1
        return plan_exists(
            instance, relaxed, edits, time_limit_s=budget.check_s(), workers=workers, seed=seed
        )

    search = find_conflicts(
        guarded,
        budget,
        set_aside={f.limit for f in structural},
        max_conflicts=max_conflicts,
        plan_check=plan_check,
        seed=seed,
    )
    found: list[tuple[tuple[Limit, ...], Literal["check", "search"], str, bool]] = [
        ((f.limit,), "check", f.message, True) for f in structural
    ]
    found += [
        (c.limits, "search", "No plan meets all of these limits:", c.minimal)
        for c in search.conflicts
    ]
    complete = search.rest == "feasible"
    if not found:
        status: DiagnosisStatus = "feasible" if complete else "unknown"
        return Diagnosis(
            instance.name,
            status,
            tuple(findings),
            complete=complete,
            limits=len(guarded.literals),
            solves=guarded.solves + (exact.solves if exact is not guarded else 0),
            wall_s=time.perf_counter() - started,
        )
    alone = complete and len(found) == 1
    conflicts: list[Conflict] = []
    notes: list[str] = []
    for limits, found_by, message, minimal in found:
        others = {x for other, *_ in found if other != limits for x in other}
        conflict = Conflict(
            limits,
            tuple(describe(instance, limit) for limit in limits),
            found_by,
            message,
            minimal,
            notes=tuple(_servable(exact, limits, budget, seed)) if found_by == "search" else (),
            alone=alone,
        )
        if relaxations:
            conflict = _with_relaxations(
                exact, conflict, others, budget, plan_check, alone, verify_time_s, workers, seed
            )
        conflicts.append(conflict)
    if budget.spent:
        notes.append("the time limit ran out: some figures may be missing or unproved")
    return Diagnosis(
        instance.name,
        "infeasible",
        tuple(findings),
        tuple(conflicts),
        complete=complete,
        limits=len(guarded.literals),
        solves=guarded.solves + (exact.solves if exact is not guarded else 0),
        wall_s=time.perf_counter() - started,
        notes=tuple(notes),
    )


def _with_relaxations(
    guarded: GuardedModel,
    conflict: Conflict,
    others: Collection[Limit],
    budget: Budget,
    plan_check: PlanCheck,
    alone: bool,
    verify_time_s: float,
    workers: int,
    seed: int,
) -> Conflict:
    """The conflict with each member's smallest relaxation, re-checked by a real solve
    when it restores a plan on its own."""
    found: list[Relaxation] = []
    for limit in conflict.limits:
        if budget.spent:
            break
        for relaxation in relax(
            guarded,
            limit,
            budget,
            set_aside=others,
            plan_check=plan_check,
            workers=workers,
            seed=seed,
        ):
            if relaxation.verified is None and alone and verify_time_s > 0 and not budget.spent:
                relaxation = verify(
                    guarded.instance,
                    relaxation,
                    time_limit_s=min(verify_time_s, budget.left()),
                    workers=workers,
                    seed=seed,
                )
            found.append(relaxation)
    return replace(conflict, relaxations=tuple(found))


def _servable(
    guarded: GuardedModel, limits: tuple[Limit, ...], budget: Budget, seed: int
) -> list[str]:
    """For each demand in the conflict: how much of it the conflict's other limits let
    be served."""
    notes: list[str] = []
    for limit in limits:
        if limit.family != "demand" or budget.spent:
            continue
        service_id, region = limit.key
        answer = guarded.minimise(
            [x for x in limits if x != limit],
            limit,
            [(guarded.slack[limit], 1)],
            time_limit_s=budget.check_s(),
            seed=seed,
        )
        if answer.status != "feasible":
            continue
        usage = guarded.usage(answer.values).services[service_id]
        demand = guarded.instance.inference_by_id[service_id].demand_rps[region]
        servable = demand - usage.unserved_by_region.get(region, 0.0)
        most = "at most " if answer.proved else ""
        unproved = "" if answer.proved else " (maybe more: the most was not proved in time)"
        notes.append(
            f"under these limits {most}{number(servable)} of the {number(demand)} rps of "
            f"{service_id} in {region} can be served{unproved}"
        )
    return notes


def explain_v2(
    instance: Instance,
    *,
    time_limit_s: float = 300.0,
    relaxations: bool = True,
    verify_time_s: float = 30.0,
    workers: int = 1,
    seed: int = 0,
) -> Diagnosis:
    """Diagnose a v2 instance (module docstring): the timed checks, each a proof with the
    edit that lifts it (re-checked by a real solve when it is the only finding), else
    `solve`'s own answer within `time_limit_s`."""
    from solver.diagnosis.relax import FIRST_PLAN
    from solver.diagnosis.timed import timed_findings
    from solver.solve import solve
    from solver.whatif import apply_edits

    started = time.perf_counter()
    findings = timed_findings(instance)
    solves = 0
    if not findings:
        solution = solve(
            instance, time_limit_s=time_limit_s, workers=workers, seed=seed, options=FIRST_PLAN
        )
        solves = 1
        wall = time.perf_counter() - started
        if solution.has_plan:
            return Diagnosis(instance.name, "feasible", solves=solves, wall_s=wall)
        if solution.status != "infeasible":
            return Diagnosis(instance.name, "unknown", solves=solves, wall_s=wall)
        conflict = Conflict(
            (),
            (),
            "search",
            "The solver's relaxation proves that no plan exists; no single period, hour or "
            "job is to blame by the checks (conflicts among several limits of a scheduled "
            "instance are not named yet).",
            False,
        )
        return Diagnosis(
            instance.name, "infeasible", conflicts=(conflict,), complete=False, solves=solves,
            wall_s=wall,
        )  # fmt: skip
    alone = len(findings) == 1
    conflicts: list[Conflict] = []
    for finding in findings:
        found: tuple[Relaxation, ...] = ()
        if relaxations and finding.edit is not None:
            relaxation = Relaxation(
                finding.limit, finding.edit_text, finding.edit, finding.amount, smallest=False
            )
            left = time_limit_s - (time.perf_counter() - started)
            if alone and verify_time_s > 0 and left > 0.1:
                solution = solve(
                    apply_edits(instance, [finding.edit]),
                    time_limit_s=min(verify_time_s, left),
                    workers=workers,
                    seed=seed,
                    options=FIRST_PLAN,
                )
                solves += 1
                verified = (
                    True
                    if solution.has_plan
                    else False
                    if solution.status == "infeasible"
                    else None
                )
                relaxation = replace(relaxation, verified=verified)
            found = (relaxation,)
        conflicts.append(
            Conflict(
                (finding.limit,),
                (finding.message,),
                "check",
                "No plan can meet this (a proof from the instance's figures):",
                True,
                relaxations=found,
                alone=alone,
            )
        )
    return Diagnosis(
        instance.name,
        "infeasible",
        conflicts=tuple(conflicts),
        complete=False,
        limits=len(findings),
        solves=solves,
        wall_s=time.perf_counter() - started,
    )
