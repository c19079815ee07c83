"""The moves frontier of a re-plan: the best cost at move budgets 0, 1, 2, 4, ...

A planner re-planning from the current plan asks what each extra move buys. `frontier`
re-plans (`solver.replan.replan`) with the budget of training moves (or of first-period
replica changes, `of="replicas"`) at 0, 1, 2, 4, 8, ... and reports the curve.

The end of the curve is found first: the re-plan with no budget on that count (the
other budget as given) is the floor, and the moves its plan uses, M, is the most any
point needs: a budget of M or more admits the floor's plan. The budgets are then swept
in order until one reaches M or a point's cost reaches the floor's. Each point is hinted
with the previous point's plan (a plan of every larger budget), and with the floor's
plan once the budget admits it, so the costs never rise along the curve. Each point
keeps its own claim: its status and the bound its search proved (docs/spec-readings.md,
"The moves frontier"). A budgeted point cheaper than the floor's search (possible when
searches stop at their time limit) becomes the floor's plan, under the floor's bound.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from solver.replan import replan

if TYPE_CHECKING:
    from collections.abc import Iterator

    from models import Instance, Solution
    from solver.replan import Replan

FrontierOf = Literal["training", "replicas"]
#: Relative difference under which two costs count as equal (the evaluator's tolerance).
SAME_COST = 1e-6


@dataclass(frozen=True)
class FrontierPoint:
    """One budget of the curve and the re-plan found with it."""

    #: The budget; None for the floor (no budget on the count swept).
    budget: int | None
    result: Replan
    #: Moves (or replica changes) the plan uses.
    used: int

    @property
    def solution(self) -> Solution:
        """The point's plan."""
        return self.result.solution

    @property
    def objective(self) -> float | None:
        """The point's cost (None without a plan)."""
        return self.result.solution.objective if self.result.solution.has_plan else None


@dataclass(frozen=True)
class Frontier:
    """The curve: one point per budget, in budget order, and the floor."""

    of: FrontierOf
    points: list[FrontierPoint]
    floor: FrontierPoint
    #: Why the sweep stopped, in words.
    stopped: str

    @property
    def unit(self) -> str:
        """What the budget counts."""
        return "training moves" if self.of == "training" else "replica changes"

    def rows(self) -> list[list[str]]:
        """The table: header, then one row per point, then the floor."""
        header = [
            f"budget ({self.unit})",
            "used",
            "cost",
            "saving vs previous",
            "saving per extra one used",
            "status",
            "bound",
            "kept current",
        ]
        table = [header]
        previous: FrontierPoint | None = None
        for point in [*self.points, self.floor]:
            cost = point.objective
            saving = per_unit = "-"
            if previous is not None and point.budget is not None:
                before = previous.objective
                if cost is not None and before is not None:
                    saved = before - cost
                    saving = f"{saved:,.2f}"
                    extra = point.used - previous.used
                    per_unit = f"{saved / extra:,.2f}" if extra > 0 else "-"
            bound = point.solution.bound
            table.append(
                [
                    "none" if point.budget is None else str(point.budget),
                    str(point.used),
                    "-" if cost is None else f"{cost:,.2f}",
                    saving,
                    per_unit,
                    point.solution.status,
                    "-" if bound is None else f"{bound:,.2f}",
                    "yes" if point.result.kept_current else "no",
                ]
            )
            if point.budget is not None:
                previous = point
        return table

    def table(self) -> str:
        """The curve as a Markdown table."""
        rows = self.rows()
        lines = ["| " + " | ".join(rows[0]) + " |", "| --- " * len(rows[0]) + "|"]
        lines.extend("| " + " | ".join(row) + " |" for row in rows[1:])
        return "\n".join(lines)

    def summary(self) -> str:
        """The curve as aligned text, with how the sweep ended."""
        rows = self.rows()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [f"moves frontier over the budget of {self.unit} ({self.stopped})"]
        lines.extend(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
        return "\n".join(lines)

    def document(self, chart_file: str | None = None) -> str:
        """A Markdown page: the curve's table, the chart (a link), and the reading."""
        lines = [
            f"# Moves frontier: {self.floor.result.instance.name}",
            "",
            f"Best cost found at each budget of {self.unit}; 'none' is the re-plan with no "
            f"budget on them (the floor). Status and bound are each point's own claim: "
            f"'optimal' is proved (cost within the tolerance of the proved bound). "
            f"The sweep {self.stopped}.",
            "",
            self.table(),
            "",
        ]
        if chart_file is not None:
            lines += [f"![moves frontier]({chart_file})", ""]
        for line in self.floor.result.dropped:
            lines.append(f"- dropped from the current plan: {line}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""

        def point(p: FrontierPoint) -> dict[str, Any]:
            return {
                "budget": p.budget,
                "used": p.used,
                "objective": p.objective,
                "status": p.solution.status,
                "bound": p.solution.bound,
                "kept_current": p.result.kept_current,
            }

        return {
            "instance": self.floor.result.instance.name,
            "of": self.of,
            "stopped": self.stopped,
            "points": [point(p) for p in self.points],
            "floor": point(self.floor),
            "dropped": list(self.floor.result.dropped),
        }

    def chart_svg(self) -> str:
        """The curve as an SVG chart (matplotlib, as the reports' charts): cost found and
        bound proved against the budget."""
        import matplotlib as mpl
        from matplotlib.backends.backend_svg import FigureCanvasSVG
        from matplotlib.figure import Figure

        # (budget, cost, bound, status) of the points with a plan.
        points = [
            (float(p.budget or 0), p.objective, p.solution.bound, p.solution.status)
            for p in self.points
            if p.objective is not None
        ]
        rc: dict[Any, Any] = {
            "svg.hashsalt": "infraplan-frontier",
            "svg.fonttype": "none",
            "text.parse_math": False,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
        with mpl.rc_context(rc):
            figure = Figure(figsize=(7.0, 3.6), layout="constrained")
            FigureCanvasSVG(figure)
            axes = figure.add_subplot()
            axes.step(
                [x for x, _, _, _ in points],
                [cost for _, cost, _, _ in points],
                where="post",
                marker="o",
                color="#1f77b4",
                label="cost found",
            )
            bounded = [(x, bound) for x, _, bound, _ in points if bound is not None]
            if bounded:
                axes.plot(
                    [x for x, _ in bounded],
                    [bound for _, bound in bounded],
                    linestyle="none",
                    marker="_",
                    markersize=14,
                    color="#000000",
                    label="bound proved",
                )
            for x, cost, _, status in points:
                axes.annotate(
                    status,
                    (x, cost),
                    textcoords="offset points",
                    xytext=(4, 6),
                    fontsize=7,
                )
            floor = self.floor.objective
            if floor is not None:
                axes.axhline(floor, color="#2ca02c", linestyle="--", linewidth=1, label="no budget")
            axes.set_xlabel(f"budget of {self.unit}")
            axes.set_ylabel("cost")
            axes.set_title(f"What each extra move buys: {self.floor.result.instance.name}")
            axes.legend(loc="upper right", fontsize=8)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()


def budgets() -> Iterator[int]:
    """0, 1, 2, 4, 8, ..."""
    yield 0
    budget = 1
    while True:
        yield budget
        budget *= 2


def frontier(
    instance: Instance,
    current: Solution,
    *,
    of: FrontierOf = "training",
    max_training_moves: int | None = None,
    max_replica_changes: int | None = None,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    source: str = "<instance>",
) -> Frontier:
    """The moves frontier of re-planning `instance` from `current` (module docstring).

    The budget not swept stays as given (`max_replica_changes` when sweeping training
    moves, and the other way round). Every solve gets `time_limit_s`."""

    # The floor has no budget on the count swept, whatever the instance file says.
    if instance.moves is not None:
        swept = "max_training_moves" if of == "training" else "max_replica_changes"
        instance = instance.model_copy(
            update={"moves": {**instance.moves.model_dump(), swept: None}}
        )

    def solve_at(budget: int | None, hint: Solution | None) -> FrontierPoint:
        training = budget if of == "training" else max_training_moves
        replicas = budget if of == "replicas" else max_replica_changes
        result = replan(
            instance,
            current,
            max_training_moves=training,
            max_replica_changes=replicas,
            time_limit_s=time_limit_s,
            workers=workers,
            seed=seed,
            hint=hint,
            source=source,
        )
        return FrontierPoint(budget, result, used(result))

    def used(result: Replan) -> int:
        if not result.solution.has_plan:
            return 0
        figures = result.evaluation().replan
        if figures is None:
            return 0
        return len(figures.moves) if of == "training" else figures.replica_changes

    floor = solve_at(None, None)
    most = most_used(floor.result.instance, of)
    points: list[FrontierPoint] = []
    hint: Solution | None = None
    stopped = "ended"
    for budget in budgets():
        admits_floor = floor.solution.has_plan and budget >= floor.used
        point = solve_at(budget, floor.solution if admits_floor else hint)
        points.append(point)
        if point.solution.has_plan:
            hint = point.solution
        if admits_floor:
            stopped = f"stopped at {budget}: the plan with no budget uses {floor.used}"
            break
        if _same(point.objective, floor.objective):
            stopped = f"stopped at {budget}: the cost reached the no-budget cost"
            break
        if budget >= most:
            # Without a floor plan (its search found none) the sweep would never end.
            stopped = f"stopped at {budget}: no plan can use more than {most}"
            break
    return Frontier(of, points, _best_floor(floor, points), stopped)


def most_used(instance: Instance, of: FrontierOf) -> int:
    """The most training moves (jobs of `current`) or first-period replica changes (the
    replicas of `current` plus every accelerator any site can ever hold) a plan can use:
    a budget this large is no budget."""
    from models.schedule import largest_capacity

    current = instance.current
    if of == "training":
        return len(current.training) if current is not None else 0
    running = sum(group.replicas for group in current.inference) if current else 0
    stock = sum(sum(largest_capacity(instance, site.id)[2].values()) for site in instance.sites)
    return running + int(stock)


def _best_floor(floor: FrontierPoint, points: list[FrontierPoint]) -> FrontierPoint:
    """The floor, or the cheapest point's plan when a budgeted search found a cheaper one
    than the floor's search (every budgeted plan is a plan of the floor's instance): that
    plan restated for the floor's instance, with the bound the floor's search proved."""
    from dataclasses import replace

    from solver.replan import kept_plan

    best = min(
        (p for p in points if p.objective is not None),
        key=lambda p: p.objective or 0.0,
        default=None,
    )
    if best is None or (floor.objective is not None and floor.objective <= (best.objective or 0)):
        return floor
    better = kept_plan(floor.result.instance, best.solution, floor.solution)
    if better is None:
        return floor
    return replace(floor, result=replace(floor.result, solution=better), used=best.used)


def _same(cost: float | None, floor: float | None) -> bool:
    if cost is None or floor is None:
        return False
    return cost - floor <= SAME_COST * max(1.0, abs(floor))


def frontier_files(result: Frontier, stem: str) -> dict[str, bytes]:
    """The files of a frontier, by name, rendered in memory: `<stem>.frontier.md` (the
    table), `<stem>.frontier.svg` (the chart), `<stem>.frontier.json`, each point's plan
    as `<stem>.frontier-<budget>.solution.json`, and the floor's instance and plan as
    `<stem>.replan.instance.json` and `<stem>.replan.solution.json` (each point's plan is
    a plan of that instance with the point's budget added)."""
    import orjson

    from models.io import dump_model
    from solver.replan import instance_and_solution

    chart = f"{stem}.frontier.svg"
    instance_bytes, solution_bytes = instance_and_solution(result.floor.result)
    files = {
        f"{stem}.replan.instance.json": instance_bytes,
        f"{stem}.replan.solution.json": solution_bytes,
        f"{stem}.frontier.md": result.document(chart).encode(),
        chart: result.chart_svg().encode(),
        f"{stem}.frontier.json": orjson.dumps(
            result.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        ),
    }
    for point in result.points:
        files[f"{stem}.frontier-{point.budget}.solution.json"] = dump_model(point.solution)
    return files


__all__ = ["Frontier", "FrontierPoint", "frontier", "frontier_files"]
