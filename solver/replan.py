"""Re-planning from a plan that runs now (SPEC §10).

`current_from_solution` turns a plan (of this instance, or of an earlier version of it)
into the instance's `current`: what runs at hour 0. Entries that no longer fit the
instance (ids that are gone, placements that are no longer eligible, jobs that now have
a release hour or predecessors) are dropped, each with a one-line reason, so the caller
can report them. `replan` solves the instance from that current plan, with move budgets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models import CurrentPlan, CurrentReplicas, CurrentTraining, MoveBudgets, parse_instance
from models.v2_rules import current_training_issue

if TYPE_CHECKING:
    from pathlib import Path

    from models import Instance, Solution
    from solver.evaluation import Evaluation

#: The least time the search of a re-plan gets, however long the steps around it take.
MIN_SEARCH_S = 1.0


@dataclass(frozen=True)
class CurrentProjection:
    """A plan read as `current`, and what of it was dropped (one line each)."""

    current: CurrentPlan
    dropped: list[str]


def current_from_solution(instance: Instance, solution: Solution) -> CurrentProjection:
    """What of `solution` runs at hour 0, as a `current` valid for `instance`.

    Training: placed jobs that start at hour 0 (every placed job of a static plan).
    Inference: the replicas of the plan's first period (the first of the instance's
    periods the plan names; a static plan's only one). Groups of existing services,
    sites and accelerators are kept even when no longer eligible (SPEC §10: they must
    then go to 0)."""
    dropped: list[str] = []
    training: list[CurrentTraining] = []
    seen_jobs: set[str] = set()
    for entry in solution.training:
        if entry.start_hour not in (None, 0):
            continue
        where = f"training job {entry.job!r} at {entry.site!r} on {entry.accelerator!r}"
        if entry.job in seen_jobs:
            dropped.append(f"{where}: the plan places the job more than once")
            continue
        seen_jobs.add(entry.job)
        reason = current_training_issue(instance, entry.job, entry.site, entry.accelerator)
        if reason:
            dropped.append(f"{where}: {reason}")
            continue
        training.append(
            CurrentTraining(job=entry.job, site=entry.site, accelerator=entry.accelerator)
        )
    first = _first_period(instance, solution)
    inference: list[CurrentReplicas] = []
    seen_groups: set[tuple[str, str, str]] = set()
    for group in solution.inference:
        if group.period != first or group.replicas == 0:
            continue
        where = f"replicas of {group.service!r} at {group.site!r} on {group.accelerator!r}"
        missing = _missing_ids(instance, group.service, group.site, group.accelerator)
        if missing:
            dropped.append(f"{where}: {missing}")
            continue
        key = (group.service, group.site, group.accelerator)
        if key in seen_groups:
            dropped.append(f"{where}: the plan lists the group more than once")
            continue
        seen_groups.add(key)
        inference.append(
            CurrentReplicas(
                service=group.service,
                site=group.site,
                accelerator=group.accelerator,
                replicas=group.replicas,
            )
        )
    return CurrentProjection(CurrentPlan(training=training, inference=inference), dropped)


def _first_period(instance: Instance, solution: Solution) -> str | None:
    named = [group.period for group in solution.inference if group.period is not None]
    if not named:
        return None
    order = {period.id: index for index, period in enumerate(instance.periods or [])}
    known = [period for period in named if period in order]
    if known:
        return min(known, key=order.__getitem__)
    return named[0]


def _missing_ids(instance: Instance, service: str, site: str, accelerator: str) -> str:
    if service not in instance.inference_by_id:
        return f"no service {service!r} any more"
    if site not in instance.site_by_id:
        return f"no site {site!r} any more"
    if accelerator not in instance.accelerator_by_id:
        return f"no accelerator {accelerator!r} any more"
    return ""


def with_current(
    instance: Instance,
    current: CurrentPlan,
    *,
    max_training_moves: int | None = None,
    max_replica_changes: int | None = None,
    source: str = "<instance>",
) -> Instance:
    """`instance` as schema v2 with `current` and move budgets set, validated again like a
    file (an InputError names `source` and the JSON path)."""
    budgets = instance.moves or MoveBudgets()
    if max_training_moves is not None:
        budgets = budgets.model_copy(update={"max_training_moves": max_training_moves})
    if max_replica_changes is not None:
        budgets = budgets.model_copy(update={"max_replica_changes": max_replica_changes})
    document = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
    document["schema"] = "infraplan/v2"
    document["current"] = current.model_dump(mode="json")
    if budgets == MoveBudgets():
        document.pop("moves", None)
    else:
        document["moves"] = budgets.model_dump(mode="json")
    return parse_instance(document, f"{source} (with current)")


#: Evaluator families about a solution's claims rather than its plan.
_CLAIM_FAMILIES = frozenset({"objective", "cost_breakdown", "bound", "status"})


def restated(instance: Instance, plan: Solution) -> tuple[Solution, Evaluation]:
    """`plan`'s decisions as a plan of `instance` (its schema, name and sha256), priced by
    the evaluator (status feasible, no bound), and the evaluation of that plan; the plan
    may break the instance's limits (`Evaluation.violations` says which), but never its
    claims."""
    from models.solution import SOLUTION_SCHEMA, SOLUTION_SCHEMA_V2
    from solver.evaluate import evaluate

    candidate = plan.model_copy(
        update={
            "schema_": SOLUTION_SCHEMA_V2 if instance.is_v2 else SOLUTION_SCHEMA,
            "instance": instance.name,
            "instance_sha256": instance.sha256,
            "status": "feasible",
            "bound": None,
            "expansions": [] if plan.expansions is None and instance.is_v2 else plan.expansions,
        }
    )
    checked = evaluate(instance, candidate)
    priced = candidate.model_copy(update={"objective": checked.objective, "costs": checked.costs})
    return priced, evaluate(instance, priced)


def plan_violations(evaluation: Evaluation) -> list[str]:
    """The evaluator's violations of a plan's decisions (claims aside), one line each."""
    return [str(v) for v in evaluation.violations if v.constraint not in _CLAIM_FAMILIES]


@dataclass(frozen=True)
class Replan:
    """A re-plan: the instance with `current` set, the plan read as current (and what of
    it was dropped), and the new plan."""

    instance: Instance
    current: Solution
    dropped: list[str]
    solution: Solution
    #: Whether the new plan is the current plan kept as it is (it was no worse than what
    #: the search found in its time).
    kept_current: bool
    #: The current plan as a plan of `instance`, priced by the evaluator (it may break
    #: the instance's limits: `baseline_violations` lists them); None when `current`
    #: holds no plan.
    baseline: Solution | None = None
    baseline_violations: list[str] = field(default_factory=list)

    @property
    def has_plan(self) -> bool:
        """Whether the re-plan found a plan."""
        return self.solution.has_plan

    def evaluation(self) -> Evaluation:
        """The evaluator's reading of the new plan (moves, starts and costs included)."""
        from solver.evaluate import evaluate

        return evaluate(self.instance, self.solution)

    def summary(self) -> str:
        """A few lines: what was dropped, the baseline, the new plan and its moves."""
        lines = [f"dropped from the current plan: {line}" for line in self.dropped]
        if self.baseline is not None and self.baseline.objective is not None:
            state = (
                "meets every limit"
                if not self.baseline_violations
                else f"breaks {len(self.baseline_violations)} limits, first: "
                f"{self.baseline_violations[0]}"
            )
            lines.append(f"keeping the current plan: {self.baseline.objective:,.2f} ({state})")
        solution = self.solution
        if solution.has_plan and solution.objective is not None:
            bound = "-" if solution.bound is None else f"{solution.bound:,.2f}"
            kept = " (the current plan, kept: the search found nothing cheaper)" * self.kept_current
            lines.append(
                f"re-plan: {solution.status} {solution.objective:,.2f}, bound {bound}{kept}"
            )
            lines.extend(moves_lines(self.evaluation()))
        else:
            lines.append(f"re-plan: {solution.status}, no plan")
            proof = (solution.solver.model_extra or {}).get("proof")
            if proof:
                lines.append(f"why: {proof}")
        return "\n".join(lines)


def moves_lines(evaluation: Evaluation) -> list[str]:
    """The SPEC §10 figures of an evaluated plan in a planner's words: each training move
    with its cost, jobs that continue, replica changes and starts."""
    figures = evaluation.replan
    if figures is None:
        return []
    lines = [
        f"training moves: {len(figures.moves)}, continuing: {len(figures.continuing)}, "
        f"replica changes in the first period: {figures.replica_changes}, "
        f"replicas started: {figures.replicas_started}"
    ]
    for move in figures.moves:
        to = "unplaced" if move.to_site is None else f"{move.to_site} on {move.to_accelerator}"
        lines.append(
            f"  move {move.job}: {move.from_site} on {move.from_accelerator} -> {to} "
            f"(move cost {move.move_cost:,.2f}, checkpoint egress {move.checkpoint_cost:,.2f})"
        )
    return lines


def moves_table(evaluation: Evaluation) -> str:
    """A Markdown table of the training moves and replica changes of an evaluated plan."""
    figures = evaluation.replan
    lines = [
        "| job | from | to | move cost | checkpoint egress |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for move in figures.moves if figures is not None else []:
        to = "unplaced" if move.to_site is None else f"{move.to_site} / {move.to_accelerator}"
        lines.append(
            f"| {_cell(move.job)} | {_cell(move.from_site)} / {_cell(move.from_accelerator)} | "
            f"{_cell(to)} | {move.move_cost:,.2f} | {move.checkpoint_cost:,.2f} |"
        )
    if figures is None or not figures.moves:
        lines.append("| (none) | | | | |")
    lines.append("")
    lines.append("| service | site | accelerator | period | replicas started | start cost |")
    lines.append("| --- | --- | --- | --- | ---: | ---: |")
    for start in figures.replica_starts if figures is not None else []:
        lines.append(
            f"| {_cell(start.service)} | {_cell(start.site)} | {_cell(start.accelerator)} | "
            f"{_cell(start.period)} | {start.started:,} | {start.cost:,.2f} |"
        )
    if figures is None or not figures.replica_starts:
        lines.append("| (none) | | | | | |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def replan(
    instance: Instance,
    current: Solution,
    *,
    max_training_moves: int | None = None,
    max_replica_changes: int | None = None,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    hint: Solution | None = None,
    source: str = "<instance>",
) -> Replan:
    """Solve `instance` from the plan `current` runs now (SPEC §10), with move budgets.

    What of `current` runs at hour 0 becomes the instance's `current` (what no longer
    fits is dropped, one line each in `Replan.dropped`). The search is hinted with
    `hint` (default: the current plan). When the current plan is itself a feasible plan
    of the re-plan instance and the search found nothing cheaper, it is what is
    returned, so a re-plan is never worse than keeping the current plan."""
    from solver.solve import solve

    started = time.perf_counter()
    projection = current_from_solution(instance, current)
    edited = with_current(
        instance,
        projection.current,
        max_training_moves=max_training_moves,
        max_replica_changes=max_replica_changes,
        source=source,
    )
    baseline: Solution | None = None
    broken: list[str] = []
    pricing_s = 0.0
    if current.has_plan:
        priced = time.perf_counter()
        baseline, checked = restated(edited, current)
        broken = plan_violations(checked)
        pricing_s = time.perf_counter() - priced
    start = hint if hint is not None and hint.has_plan else current if current.has_plan else None
    # The limit covers the whole re-plan: what the steps before the search took, and the
    # pricing of the kept plan after it (as long as the current plan's pricing took),
    # come off the search's time (on generated L they took 4-5 s of a 10 s limit).
    spent = time.perf_counter() - started
    found = solve(
        edited,
        time_limit_s=max(MIN_SEARCH_S, time_limit_s - spent - pricing_s),
        workers=workers,
        seed=seed,
        # solve() keeps of a plan of an earlier version what the instance still has.
        hint=start,
    )
    kept = kept_plan(edited, current, found)
    solution = kept if kept is not None else found
    return Replan(edited, current, projection.dropped, solution, kept is not None, baseline, broken)


def kept_plan(instance: Instance, current: Solution, found: Solution) -> Solution | None:
    """The current plan as a plan of `instance`, when it is feasible there and cheaper than
    `found` (or `found` has no plan); else None. Its figures are the evaluator's; the
    bound `found` proved carries over (it bounds every plan of the instance)."""
    from solver.evaluate import evaluate
    from solver.solve import proved

    if not current.has_plan:
        return None
    candidate, checked = restated(instance, current)
    if plan_violations(checked):
        return None
    objective = checked.objective
    if found.has_plan and found.objective is not None and found.objective <= objective:
        return None
    bound = found.bound
    is_proved = proved(objective, bound)
    kept = candidate.model_copy(
        update={
            "bound": bound,
            "status": "optimal" if is_proved else "feasible",
            "solver": found.solver,
        }
    )
    if not evaluate(instance, kept).feasible:
        return None
    return kept


def replan_files(result: Replan, stem: str, *, max_rows: int = 40) -> dict[str, bytes]:
    """The files a re-plan writes, by name, rendered in memory (so that nothing is
    half-written when rendering fails): `<stem>.replan.instance.json` (the instance with
    `current` and the budgets: the new plan is a plan of it), `<stem>.replan.solution.json`,
    the report comparing the current plan with the new one (`<stem>.replan.md`,
    `<stem>.replan.html`) and `<stem>.moves.md` (what was dropped, the moves and the
    replica starts)."""
    from solver.report import compare, render

    instance_bytes, solution_bytes = instance_and_solution(result)
    files: dict[str, bytes] = {
        f"{stem}.replan.instance.json": instance_bytes,
        f"{stem}.replan.solution.json": solution_bytes,
    }
    plans = [(result.instance, result.solution)]
    labels = ["re-plan"]
    if result.baseline is not None:
        plans.insert(0, (result.instance, result.baseline))
        labels.insert(0, "current")
    comparison = compare(plans, labels=labels)
    files[f"{stem}.replan.md"] = render(comparison, "md", max_rows=max_rows).encode()
    files[f"{stem}.replan.html"] = render(comparison, "html", max_rows=max_rows).encode()
    files[f"{stem}.moves.md"] = moves_document(result).encode()
    return files


def instance_and_solution(result: Replan) -> tuple[bytes, bytes]:
    """The re-plan instance and its new plan as file bytes, the plan naming the sha256 of
    those instance bytes (as it would name the file it was solved from)."""
    import hashlib

    from models.io import dump_model

    instance_bytes = dump_model(result.instance, exclude_unset=True)
    digest = hashlib.sha256(instance_bytes).hexdigest()
    solution = result.solution.model_copy(update={"instance_sha256": digest})
    return instance_bytes, dump_model(solution)


def moves_document(result: Replan) -> str:
    """A short Markdown page: the re-plan's headline, what of the current plan was
    dropped, and the moves table."""
    lines = [f"# Re-plan of {result.instance.name}: moves", ""]
    lines.extend(f"- {line}" for line in result.summary().splitlines() if line[:1] != " ")
    lines.append("")
    if result.solution.has_plan:
        lines.append("## Training moves and replica starts")
        lines.append("")
        lines.append(moves_table(result.evaluation()))
    return "\n".join(lines)


def write_files(directory: Path, files: dict[str, bytes]) -> list[Path]:
    """Write each file atomically under `directory` (created if missing)."""
    from models.io import write_atomic

    written = []
    for name, data in files.items():
        path = directory / name
        write_atomic(path, data)
        written.append(path)
    return written
