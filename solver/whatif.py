"""What-if edits of an instance, and the comparison of a base plan with the edited plan.

Edits work on the instance document (the dict a file holds) and the result is validated
again through `models.parse_instance`, so a bad edit gets the usual one-line error with
its JSON path. Edits:

* `SetValue("sites[fra-1].grid_kw", 30000)`: set a field. Paths name list entries by id
  (`sites[fra-1]`, `training[pretrain-a]`); entries without an id by their accelerator
  (`sites[fra-1].inventory[h100].count`, `inference[chat].profiles[h100].rps`), timeline
  entries by their period (`sites[fra-1].timeline[2027-q1].grid_kw`); links by
  their two ends in either order (`links[nyc,us-east].bandwidth_gbps`); object keys by
  `.key` or `[key]` (`inference[chat].demand_rps.eu-west`). A selector holding `.`, `[`,
  `]`, `,` or `=` is written as a JSON string: `sites["fra.1"]`.
* `DropSite("ams-2")`: the site hosts nothing any more; it stays in the network as a transit
  node (links through it and datasets stored there keep working), and it leaves every
  `allowed_sites` list and `site_costs` map.
* `DropJob`, `DropService`: remove a training job or an inference service.
* `ScaleDemand(1.2)` or `ScaleDemand(1.2, "chat")`: multiply demand of every service or one
  (in every period of a scheduled instance).
* `ScaleGrid("fra-1", 0.6)`: the site keeps 60 % of its grid power: its base `grid_kw` and
  every timeline entry's `grid_kw` are scaled (expansions, new build, are not).

Drops also forget what they remove in `current` (SPEC §10) and in other jobs' `after`
lists (the remaining jobs no longer wait for a dropped one).

`whatif(instance, edits)` applies the edits, solves the edited instance warm-started from
the base plan, and compares the two plans (`solver.report.compare`). With
`from_current=True` the base plan is what runs now: the edited instance is re-planned
from it (`solver.replan.replan`, SPEC §10), so the answer is the cheapest way to move
from the base plan, within the move budgets given, and never worse than keeping it when
it still fits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models import parse_instance
from solver.report import compare
from solver.solve import solve

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models import Instance, Solution
    from solver.replan import Replan
    from solver.report import Comparison

#: Characters that end a bare selector or key in a path.
_PATH_STOPS = ".[]=,"
#: Decimals kept when demand is scaled (drops float noise such as 1320.0000000000002).
DEMAND_DECIMALS = 6


class EditError(ValueError):
    """An edit that cannot be applied: its text and what is wrong, in one line."""


@dataclass(frozen=True)
class Selector:
    """One step of a path: an object key, or a list entry named by id (links: two ends)."""

    names: tuple[str, ...]
    bracketed: bool

    def __str__(self) -> str:
        text = ",".join(_quoted(name) for name in self.names)
        return f"[{text}]" if self.bracketed else f".{text}"


def _quoted(name: str) -> str:
    if name and not any(c in name for c in _PATH_STOPS + '"') and name.strip() == name:
        return name
    return json.dumps(name)


def field_path(*steps: str | tuple[str, ...]) -> str:
    """A path from object keys (str) and list entry names (tuple): `field_path("sites",
    ("fra-1",), "grid_kw")` is `sites[fra-1].grid_kw`; odd names are quoted."""
    selectors = [
        Selector(step, True) if isinstance(step, tuple) else Selector((step,), False)
        for step in steps
    ]
    return "".join(str(s) for s in selectors).lstrip(".")


def parse_path(text: str) -> list[Selector]:
    """Split `sites[fra-1].inventory[h100].count` into selectors. Raises EditError."""
    selectors: list[Selector] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "[":
            names, position = _bracket(text, position + 1)
            selectors.append(Selector(names, True))
        elif char == "." or position == 0:
            start = position + 1 if char == "." else position
            name, position = _bare(text, start)
            if not name:
                raise EditError(f"{text}: empty key at character {start + 1}")
            selectors.append(Selector((name,), False))
        else:
            raise EditError(f"{text}: unexpected {char!r} at character {position + 1}")
    if not selectors:
        raise EditError("empty path")
    return selectors


def _bare(text: str, position: int) -> tuple[str, int]:
    """A bare key or JSON string starting at `position`; returns it and the next position."""
    if position < len(text) and text[position] == '"':
        return _json_string(text, position)
    end = position
    while end < len(text) and text[end] not in _PATH_STOPS:
        end += 1
    return text[position:end], end


def _json_string(text: str, position: int) -> tuple[str, int]:
    decoder = json.JSONDecoder()
    try:
        value, end = decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise EditError(
            f"{text}: bad quoted name at character {position + 1}: {error.msg}"
        ) from None
    if not isinstance(value, str):
        raise EditError(f"{text}: expected a quoted name at character {position + 1}")
    return value, end


def _bracket(text: str, position: int) -> tuple[tuple[str, ...], int]:
    """Names inside `[...]` (comma separated), starting after `[`; returns them and the
    position after `]`."""
    names: list[str] = []
    while True:
        name, position = _bare(text, position)
        if not name:
            raise EditError(f"{text}: empty name in [...] at character {position + 1}")
        names.append(name)
        if position >= len(text):
            raise EditError(f"{text}: missing ]")
        if text[position] == "]":
            return tuple(names), position + 1
        if text[position] != ",":
            raise EditError(f"{text}: unexpected {text[position]!r} at character {position + 1}")
        position += 1


@dataclass(frozen=True)
class SetValue:
    """Set the field at `path` to `value` (any JSON value)."""

    path: str
    value: Any

    @classmethod
    def parse(cls, text: str) -> SetValue:
        """Read `PATH=VALUE`; VALUE is JSON (`30000`, `null`, `["eu"]`, `"x"`), else a string."""
        selectors, rest = _split_assignment(text)
        try:
            value = json.loads(rest)
        except json.JSONDecodeError:
            value = rest
        return cls("".join(str(s) for s in selectors).lstrip("."), value)

    def apply(self, document: dict[str, Any]) -> None:
        """Set the value in the instance document (in place). Raises EditError."""
        selectors = parse_path(self.path)
        parent: Any = document
        trail = ""
        for step, selector in enumerate(selectors):
            last = step == len(selectors) - 1
            if isinstance(parent, list):
                index = _entry_index(parent, selector, trail or "$", str(self))
                if last:
                    parent[index] = self.value
                    return
                parent, trail = parent[index], trail + str(selector)
                continue
            if not isinstance(parent, dict):
                raise EditError(f"{self}: {trail} is not an object or a list")
            if len(selector.names) != 1:
                raise EditError(f"{self}: {trail or '$'} is an object; name one key")
            key = selector.names[0]
            if last:
                parent[key] = self.value
                return
            if parent.get(key) is None:
                if selectors[step + 1].bracketed:
                    where = (trail + str(selector)).lstrip(".")
                    raise EditError(f"{self}: {where} is not set (add an object key with .key)")
                # A missing or null object (say `cooling_kw`) is created to hold the key.
                parent[key] = {}
            parent, trail = parent[key], trail + str(selector)

    def __str__(self) -> str:
        return f"--set {self.path}={json.dumps(self.value)}"


def _split_assignment(text: str) -> tuple[list[Selector], str]:
    """The path selectors and the raw value of `PATH=VALUE`."""
    # The path ends at the first `=` outside brackets and quotes.
    depth, quoted, escaped = 0, False, False
    for position, char in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "=" and depth == 0:
            return parse_path(text[:position]), text[position + 1 :]
    if depth > 0 or quoted:
        raise EditError(f"{text}: missing {'closing quote' if quoted else ']'}")
    raise EditError(f"{text}: expected PATH=VALUE")


def _entry_index(entries: list[Any], selector: Selector, where: str, edit: str) -> int:
    """The position of the list entry a selector names (by id, accelerator, or link ends)."""
    if not selector.bracketed:
        raise EditError(f"{edit}: {where.lstrip('.')} is a list; name an entry as [id]")
    wanted = set(selector.names)
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        if len(selector.names) == 2 and "a" in entry and "b" in entry:
            if {entry["a"], entry["b"]} == wanted and len(wanted) == 2:
                return index
        elif len(selector.names) == 1:
            name = selector.names[0]
            # Entries are named by id; inventory, options and profiles by accelerator;
            # timeline entries by period (SPEC §9).
            if entry.get("id", entry.get("accelerator", entry.get("period"))) == name:
                return index
    listed = where.lstrip(".")
    raise EditError(f"{edit}: no entry {selector} in {listed}")


@dataclass(frozen=True)
class DropSite:
    """The site hosts nothing; it stays a network node (a transit node)."""

    site: str

    def apply(self, document: dict[str, Any]) -> None:
        """Remove the site, keep its node, and forget it in allowed sites and site costs."""
        sites = document.get("sites", [])
        kept = [s for s in sites if s.get("id") != self.site]
        if len(kept) == len(sites):
            raise EditError(f"{self}: no site {self.site!r}")
        document["sites"] = kept
        document.setdefault("transit", []).append({"id": self.site})
        for workload in [*document.get("training", []), *document.get("inference", [])]:
            allowed = workload.get("allowed_sites")
            if allowed is not None:
                workload["allowed_sites"] = [s for s in allowed if s != self.site]
            costs = workload.get("site_costs")
            if costs:
                costs.pop(self.site, None)
        # What ran there is gone with it (SPEC §10: current entries name existing sites).
        _forget_current(document, "training", "site", self.site)
        _forget_current(document, "inference", "site", self.site)

    def __str__(self) -> str:
        return f"--drop-site {self.site}"


@dataclass(frozen=True)
class DropJob:
    """Remove a training job."""

    job: str

    def apply(self, document: dict[str, Any]) -> None:
        """Remove the job from the training list, from other jobs' `after` lists (they no
        longer wait for it) and from `current`."""
        _remove(document, "training", self.job, str(self))
        for job in document.get("training", []):
            after = job.get("after")
            if isinstance(after, list):
                job["after"] = [k for k in after if k != self.job]
        _forget_current(document, "training", "job", self.job)

    def __str__(self) -> str:
        return f"--drop-job {self.job}"


@dataclass(frozen=True)
class DropService:
    """Remove an inference service."""

    service: str

    def apply(self, document: dict[str, Any]) -> None:
        """Remove the service from the inference list and from `current`."""
        _remove(document, "inference", self.service, str(self))
        _forget_current(document, "inference", "service", self.service)

    def __str__(self) -> str:
        return f"--drop-service {self.service}"


def _forget_current(document: dict[str, Any], list_name: str, key: str, value: str) -> None:
    """Drop the entries of `current.<list_name>` whose `key` is `value`."""
    current = document.get("current")
    if isinstance(current, dict) and isinstance(current.get(list_name), list):
        current[list_name] = [e for e in current[list_name] if e.get(key) != value]


def _remove(document: dict[str, Any], list_name: str, entity_id: str, edit: str) -> None:
    entries = document.get(list_name, [])
    kept = [e for e in entries if e.get("id") != entity_id]
    if len(kept) == len(entries):
        raise EditError(f"{edit}: no entry {entity_id!r} in {list_name}")
    document[list_name] = kept


@dataclass(frozen=True)
class ScaleDemand:
    """Multiply the demand of every service (or of one) by `factor`."""

    factor: float
    service: str | None = None

    @classmethod
    def parse(cls, text: str) -> ScaleDemand:
        """Read `F` or `SERVICE=F`."""
        service, _, factor = text.rpartition("=")
        try:
            value = float(factor)
        except ValueError:
            raise EditError(f"--scale-demand {text}: {factor!r} is not a number") from None
        return cls(value, service or None)

    def apply(self, document: dict[str, Any]) -> None:
        """Scale the demand maps in place."""
        services = document.get("inference", [])
        if self.service is not None:
            services = [s for s in services if s.get("id") == self.service]
            if not services:
                raise EditError(f"{self}: no service {self.service!r}")
        for service in services:
            by_period = service.get("demand_by_period") or {}
            for demand in [service.get("demand_rps", {}), *by_period.values()]:
                for region, rps in demand.items():
                    if isinstance(rps, int | float) and not isinstance(rps, bool):
                        demand[region] = round(rps * self.factor, DEMAND_DECIMALS)

    def __str__(self) -> str:
        target = "" if self.service is None else f"{self.service}="
        return f"--scale-demand {target}{self.factor:g}"


@dataclass(frozen=True)
class ScaleGrid:
    """Multiply a site's grid power by `factor`: its base `grid_kw` and the `grid_kw` of
    every timeline entry (SPEC §9); expansions keep what they add."""

    site: str
    factor: float

    @classmethod
    def parse(cls, text: str) -> ScaleGrid:
        """Read `SITE=F`."""
        site, _, factor = text.rpartition("=")
        if not site:
            raise EditError(f"--scale-grid {text}: expected SITE=F")
        try:
            value = float(factor)
        except ValueError:
            raise EditError(f"--scale-grid {text}: {factor!r} is not a number") from None
        return cls(site, value)

    def apply(self, document: dict[str, Any]) -> None:
        """Scale the site's grid figures in place."""
        for site in document.get("sites", []):
            if site.get("id") != self.site:
                continue
            site["grid_kw"] = _scaled(site.get("grid_kw"), self.factor)
            for entry in site.get("timeline") or []:
                if isinstance(entry, dict) and entry.get("grid_kw") is not None:
                    entry["grid_kw"] = _scaled(entry["grid_kw"], self.factor)
            return
        raise EditError(f"{self}: no site {self.site!r}")

    def __str__(self) -> str:
        return f"--scale-grid {self.site}={self.factor:g}"


def _scaled(value: Any, factor: float) -> Any:
    """A number times `factor` (rounded as demand is); anything else left for validation."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * factor, DEMAND_DECIMALS)
    return value


@dataclass(frozen=True)
class AddGrid:
    """`kw` more grid power at a site in one period only (SPEC §9): the timeline gets an
    entry for the period with the raised figure and one for the next period restoring the
    figure in force then (entries that exist are updated)."""

    site: str
    period: str
    kw: float

    def apply(self, document: dict[str, Any]) -> None:
        """Edit the site's timeline in place. Raises EditError."""
        periods = [p.get("id") for p in document.get("periods") or [] if isinstance(p, dict)]
        if self.period not in periods:
            raise EditError(f"{self}: no period {self.period!r}")
        site = next((s for s in document.get("sites", []) if s.get("id") == self.site), None)
        if site is None:
            raise EditError(f"{self}: no site {self.site!r}")
        timeline = [e for e in site.get("timeline") or [] if isinstance(e, dict)]
        position = periods.index(self.period)

        def grid_in(index: int) -> Any:
            value = site.get("grid_kw")
            for entry in timeline:
                if entry.get("period") in periods[: index + 1] and entry.get("grid_kw") is not None:
                    value = entry["grid_kw"]
            return value

        def entry_for(index: int) -> dict[str, Any]:
            for entry in timeline:
                if entry.get("period") == periods[index]:
                    return entry
            entry = {"period": periods[index]}
            timeline.append(entry)
            return entry

        raised = _scaled(grid_in(position), 1.0)
        following = grid_in(position + 1) if position + 1 < len(periods) else None
        if isinstance(raised, int | float):
            entry_for(position)["grid_kw"] = round(raised + self.kw, DEMAND_DECIMALS)
        if following is not None:
            entry_for(position + 1)["grid_kw"] = following
        order = {period: index for index, period in enumerate(periods)}
        site["timeline"] = sorted(timeline, key=lambda e: order.get(e.get("period"), -1))

    def __str__(self) -> str:
        return f"add {self.kw:g} kW of grid at {self.site} in {self.period}"


Edit = SetValue | DropSite | DropJob | DropService | ScaleDemand | ScaleGrid | AddGrid


def apply_edits(instance: Instance, edits: Sequence[Edit], source: str = "<instance>") -> Instance:
    """A new instance with the edits applied in order, validated again.

    Raises EditError for an edit that names nothing, InputError (naming `source` after
    edits and the JSON path) when the edited document is not a valid instance."""
    document = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for edit in edits:
        edit.apply(document)
    return parse_instance(document, f"{source} (after edits)")


@dataclass(frozen=True)
class WhatIf:
    """A base plan, the plan of the edited instance, and their comparison."""

    edits: tuple[Edit, ...]
    base_instance: Instance
    base: Solution
    edited_instance: Instance
    edited: Solution
    comparison: Comparison
    #: The re-plan from the base plan (`from_current`), with its moves; else None.
    replanned: Replan | None = None

    @property
    def change(self) -> float | None:
        """Edited objective minus base objective (None unless both have a plan)."""
        if self.base.objective is None or self.edited.objective is None:
            return None
        return self.edited.objective - self.base.objective

    def summary(self) -> str:
        """Two lines: the edits and the two objectives."""
        base = "-" if self.base.objective is None else f"{self.base.objective:,.2f}"
        edited = "-" if self.edited.objective is None else f"{self.edited.objective:,.2f}"
        change = "" if self.change is None else f" ({self.change:+,.2f})"
        lines = [
            f"edits: {' '.join(str(e) for e in self.edits) or 'none'}",
            f"base {self.base.status} {base}; edited {self.edited.status} {edited}{change}",
        ]
        if self.replanned is not None:
            lines.append("re-planned from the base plan:")
            lines.extend(f"  {line}" for line in self.replanned.summary().splitlines())
        return "\n".join(lines)


def whatif(
    instance: Instance,
    edits: Sequence[Edit],
    *,
    base: Solution | None = None,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    source: str = "<instance>",
    labels: tuple[str, str] = ("base", "what-if"),
    from_current: bool = False,
    max_training_moves: int | None = None,
    max_replica_changes: int | None = None,
) -> WhatIf:
    """Apply `edits`, solve the edited instance warm-started from the base plan (solved here
    when `base` is None), and compare the two plans.

    With `from_current`, the base plan is what runs now: the edited instance gets it as
    `current` (with the move budgets given) and is re-planned from it
    (`solver.replan.replan`); the edited plan is then a plan of that instance."""
    from solver.replan import replan

    edited_instance = apply_edits(instance, edits, source)
    if base is None:
        base = solve(instance, time_limit_s=time_limit_s, workers=workers, seed=seed)
    hint = base if base.has_plan else None
    replanned: Replan | None = None
    if from_current:
        replanned = replan(
            edited_instance,
            base,
            max_training_moves=max_training_moves,
            max_replica_changes=max_replica_changes,
            time_limit_s=time_limit_s,
            workers=workers,
            seed=seed,
            source=f"{source} (after edits)",
        )
        edited_instance, edited = replanned.instance, replanned.solution
    else:
        edited = solve(
            edited_instance, time_limit_s=time_limit_s, workers=workers, seed=seed, hint=hint
        )
    comparison = compare([(instance, base), (edited_instance, edited)], labels=list(labels))
    return WhatIf(tuple(edits), instance, base, edited_instance, edited, comparison, replanned)
