"""What a change is worth to a v2 plan (SPEC §9-§11), by re-solving with it.

`sensitivity_v2(instance, solution)` answers three questions, each by a solve of the
edited instance warm-started from the plan (the plan stays feasible under every edit
here, so no answer is worse than it), and each change measured against the plan:

* **One more kW at a site in a period**: for the (site, period) pairs where the plan's
  facility power comes closest to the grid (binding first), the grid raised by the step
  in that period only (`solver.whatif.AddGrid`).
* **A power date one period earlier**: each timeline entry that raises a site's grid,
  moved to the period before (when that period has no entry of its own).
* **An expansion not chosen**: re-solved with the expansion free; if the plan then
  costs C0 < C, the expansion is chosen at any cost below C - C0, so it must be cheaper
  by its cost - (C - C0); if not, it is not chosen even free.

A change is *proved* when the base plan and the re-solve are both proved optimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from solver.diagnosis.limits import number
from solver.solve import solve
from solver.whatif import AddGrid, SetValue, apply_edits, field_path

if TYPE_CHECKING:
    from models import Instance, Solution
    from solver.whatif import Edit

#: What the plan claims (status, bound, costs): not the plan itself.
CLAIMS = frozenset({"objective", "cost_breakdown", "bound", "status"})


@dataclass(frozen=True)
class Change:
    """One question, its edit, and the re-solve's answer."""

    kind: str
    subject: str
    edit: Edit
    status: str
    objective: float | None
    #: Re-solved objective minus the base objective (negative: the change saves money).
    change: float | None
    proved: bool
    #: Saving per unit (kW) for grid rows; the cost cut needed for expansions.
    per_unit: float | None = None
    note: str = ""


@dataclass(frozen=True)
class ScheduledSensitivity:
    """The answers for one v2 plan."""

    instance: str
    objective: float
    status: str
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self, *, all_rows: bool = True) -> str:
        """A table of every question asked."""
        lines = [
            f"{self.instance}: plan {self.status}, objective {self.objective:,.2f}",
            "each change re-solved from the plan; proved when both solves are optimal",
        ]
        table = [["question", "subject", "change", "per kW / cut needed", "status", "note"]]
        for c in self.changes:
            change = "-" if c.change is None else f"{c.change:+,.2f}"
            if c.change is not None and not c.proved:
                change += " (not proved)"
            table.append(
                [
                    c.kind,
                    c.subject,
                    change,
                    "-" if c.per_unit is None else f"{c.per_unit:,.4g}",
                    c.status,
                    c.note,
                ]
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines.extend(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in table
        )
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
            "notes": list(self.notes),
            "changes": [
                {
                    "kind": c.kind,
                    "subject": c.subject,
                    "edit": str(c.edit),
                    "status": c.status,
                    "objective": c.objective,
                    "change": c.change,
                    "proved": c.proved,
                    "per_unit": c.per_unit,
                    "note": c.note,
                }
                for c in self.changes
            ],
        }


def sensitivity_v2(
    instance: Instance,
    solution: Solution,
    *,
    step_kw: float = 1000.0,
    top: int = 5,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
) -> ScheduledSensitivity:
    """The three questions of the module docstring for `solution`'s plan: `top` (site,
    period) grid rows, `top` power dates and `top` expansions not chosen, each re-solved
    within `time_limit_s`. Raises ValueError for a solution without a plan or one that
    breaks the instance."""
    from solver.evaluate import evaluate

    if not solution.has_plan or solution.objective is None:
        raise ValueError(f"the solution has no plan (status {solution.status})")
    evaluation = evaluate(instance, solution)
    broken = [v for v in evaluation.violations if v.constraint not in CLAIMS]
    if broken:
        raise ValueError(f"the plan breaks the instance: {broken[0]}")
    base = solution
    notes: list[str] = []

    def resolve(kind: str, subject: str, edit: Edit) -> Change:
        edited = apply_edits(instance, [edit])
        after = solve(edited, time_limit_s=time_limit_s, workers=workers, seed=seed, hint=base)
        assert base.objective is not None
        change = None if after.objective is None else after.objective - base.objective
        return Change(
            kind,
            subject,
            edit,
            after.status,
            after.objective,
            change,
            base.status == "optimal" and after.status == "optimal",
        )

    changes: list[Change] = []
    schedule = instance.schedule
    # 1. One more step of grid in a period, where the plan comes closest to the grid.
    if instance.is_scheduled:
        rows: list[tuple[float, str, str]] = []
        for position, usage in enumerate(evaluation.periods):
            for site_id, site_usage in usage.sites.items():
                grid = evaluation.capacities[site_id][position].grid_kw
                if grid > 0:
                    rows.append((-site_usage.facility_kw / grid, site_id, usage.period))
        for _, site_id, period in sorted(rows)[: max(0, top)]:
            found = resolve(
                "grid +step in a period",
                f"{site_id} in {period} (+{number(step_kw)} kW)",
                AddGrid(site_id, period, step_kw),
            )
            per_kw = None if found.change is None or step_kw == 0 else -found.change / step_kw
            changes.append(_with(found, per_unit=per_kw))
    else:
        notes.append("a static instance has one period: `infraplan sensitivity` on v1 reads it")
    # 2. Power dates one period earlier.
    periods = [span.id for span in schedule.periods]
    dates = []
    for site in instance.sites:
        taken = {entry.period for entry in site.timeline or []}
        for entry in site.timeline or []:
            index = periods.index(entry.period)
            if entry.grid_kw is None or index == 0 or periods[index - 1] in taken:
                continue
            before = schedule.grid_kw[site.id][index - 1]
            if entry.grid_kw <= before:
                continue
            dates.append((-(entry.grid_kw - before), site.id, entry.period, periods[index - 1]))
    for _, site_id, period, earlier in sorted(dates)[: max(0, top)]:
        edit = SetValue(field_path("sites", (site_id,), "timeline", (period,), "period"), earlier)
        changes.append(
            resolve("power date one period earlier", f"{site_id} {period} -> {earlier}", edit)
        )
    # 3. Expansions not chosen: how much cheaper they would have to be.
    chosen = {(x.site, x.expansion) for x in solution.expansions or []}
    candidates = [
        (site.id, expansion.id, expansion.cost)
        for site in instance.sites
        for expansion in site.expansions or []
        if (site.id, expansion.id) not in chosen
    ]
    for site_id, expansion_id, cost in candidates[: max(0, top)]:
        edit = SetValue(field_path("sites", (site_id,), "expansions", (expansion_id,), "cost"), 0)
        found = resolve("expansion not chosen", f"{site_id} {expansion_id}", edit)
        if found.change is None:
            changes.append(found)
            continue
        gain = -found.change  # what the expansion saves when free
        if gain <= 1e-6 * max(1.0, abs(base.objective or 0.0)):
            changes.append(_with(found, note="not chosen even free"))
        else:
            cut = max(0.0, cost - gain)
            changes.append(
                _with(
                    found,
                    per_unit=cut,
                    note=f"chosen if it cost under {number(round(gain, 2))} "
                    f"(now {number(cost)}): {number(round(cut, 2))} cheaper",
                )
            )
    if len(candidates) > top:
        notes.append(f"{len(candidates) - top} more expansions not chosen were not re-solved")
    return ScheduledSensitivity(
        instance.name, base.objective or 0.0, base.status, tuple(changes), tuple(notes)
    )


def _with(change: Change, *, per_unit: float | None = None, note: str = "") -> Change:
    from dataclasses import replace

    return replace(change, per_unit=per_unit, note=note)
