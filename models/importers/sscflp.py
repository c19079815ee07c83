"""Single-source capacitated facility location (SSCFLP) files as SPEC instances.

Three layouts, all starting `m n` (facilities, customers) and m lines
`capacity fixed_cost`; line breaks carry no meaning:

- `orlib` (OR-Library cap41-cap134, capa/capb/capc): then per customer its
  demand followed by the m costs of serving all of it at each facility
  (customer-major). In capa/capb/capc every capacity is the word `capacity`,
  to be replaced by a value given with --capacity.
- `holmberg` (Holmberg, Rönnqvist & Yuan p1-p71): then the n demands, then m
  rows of n costs (facility-major).
- `brescia` (Guastaroba & Speranza's copies of the OR-Library set): the
  holmberg layout followed by the published optimum, which is kept in `meta`.

Capacities and demands must be whole numbers (integral decimals like `146.0`
are fine): they become accelerator counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from models.importers.encoding import Assignee, Holder, assignment_instance, padded_ids
from models.importers.tokens import OptionNeeded, Token, TokenReader, read_text, tokenize
from models.issues import InputError, InputIssue

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from models import Instance

SscflpFormat = Literal["orlib", "holmberg", "brescia"]
SSCFLP_FORMATS: tuple[SscflpFormat, ...] = ("orlib", "holmberg", "brescia")

#: The word OR-Library's capa/capb/capc files hold in place of every capacity.
CAPACITY_PLACEHOLDER = "capacity"

ZERO_DEMAND = (
    "a zero demand cannot be imported: the SPEC's option count must be ≥ 1; "
    "such files need a model change, not a workaround"
)


@dataclass(frozen=True, slots=True)
class FacilityData:
    """One SSCFLP instance as read; costs[i][j] = cost of serving all of customer j at i.

    A capacity of None is OR-Library's placeholder word, to be substituted."""

    capacities: list[int | None]
    fixed_costs: list[float]
    demands: list[int]
    costs: list[list[float]]
    published_optimum: float | None = None

    @property
    def facilities(self) -> int:
        """Number of facilities (m)."""
        return len(self.capacities)

    @property
    def customers(self) -> int:
        """Number of customers (n)."""
        return len(self.demands)

    @property
    def has_placeholders(self) -> bool:
        """Whether the capacities are OR-Library's placeholder word."""
        return any(capacity is None for capacity in self.capacities)


def _read_sizes(reader: TokenReader) -> tuple[int, int]:
    facilities = reader.count("the number of facilities", minimum=1)
    customers = reader.count("the number of customers", minimum=1)
    return facilities, customers


def _read_facilities(
    reader: TokenReader, facilities: int, *, placeholders_ok: bool
) -> tuple[list[int | None], list[float]]:
    capacities: list[int | None] = []
    fixed_costs: list[float] = []
    for i in range(1, facilities + 1):
        token = reader.peek()
        if placeholders_ok and token is not None and token.text == CAPACITY_PLACEHOLDER:
            reader.index += 1
            capacities.append(None)
        else:
            capacities.append(reader.count(f"capacity of facility {i}", decimal_ok=True))
        fixed_costs.append(reader.number(f"fixed cost of facility {i}"))
    return capacities, fixed_costs


def _demand(reader: TokenReader, j: int) -> int:
    return reader.count(f"demand of customer {j}", minimum=1, decimal_ok=True, why=ZERO_DEMAND)


def parse_orlib(tokens: list[Token], source: str) -> FacilityData:
    """Read an OR-Library cap file (customer-major costs; capacities may be placeholders)."""
    reader = TokenReader(tokens, source)
    facilities, customers = _read_sizes(reader)
    capacities, fixed_costs = _read_facilities(reader, facilities, placeholders_ok=True)
    demands: list[int] = []
    by_customer: list[list[float]] = []
    for j in range(1, customers + 1):
        demands.append(_demand(reader, j))
        by_customer.append(
            [
                reader.number(f"cost of customer {j} at facility {i}")
                for i in range(1, facilities + 1)
            ]
        )
    reader.expect_end(f"the {customers} customers")
    costs = [[row[i] for row in by_customer] for i in range(facilities)]
    return FacilityData(capacities, fixed_costs, demands, costs)


def _parse_facility_major(tokens: list[Token], source: str, *, with_optimum: bool) -> FacilityData:
    reader = TokenReader(tokens, source)
    facilities, customers = _read_sizes(reader)
    capacities, fixed_costs = _read_facilities(reader, facilities, placeholders_ok=False)
    demands = [_demand(reader, j) for j in range(1, customers + 1)]
    costs = [
        [reader.number(f"cost of customer {j} at facility {i}") for j in range(1, customers + 1)]
        for i in range(1, facilities + 1)
    ]
    optimum = reader.number("the published optimum") if with_optimum else None
    reader.expect_end("the published optimum" if with_optimum else f"the {facilities} cost rows")
    return FacilityData(capacities, fixed_costs, demands, costs, optimum)


def parse_holmberg(tokens: list[Token], source: str) -> FacilityData:
    """Read a Holmberg file (demands, then facility-major costs)."""
    return _parse_facility_major(tokens, source, with_optimum=False)


def parse_brescia(tokens: list[Token], source: str) -> FacilityData:
    """Read a Brescia (Guastaroba & Speranza) file: the Holmberg layout plus the optimum."""
    return _parse_facility_major(tokens, source, with_optimum=True)


_PARSERS = {"orlib": parse_orlib, "holmberg": parse_holmberg, "brescia": parse_brescia}


def _starts_lines(tokens: list[Token], indices: range) -> bool:
    return all(tokens[index].starts_line for index in indices)


def recognise(tokens: list[Token], source: str) -> SscflpFormat:
    """The layout of an SSCFLP file, where its content settles it.

    The number of values separates brescia (one extra: the optimum) from the
    other two. orlib and holmberg hold equally many values; a file is the one of
    them it reads as without error (orlib decimals are not whole demands), and
    if it reads as both, the one whose records start lines as that layout lays
    them out (orlib: each customer; holmberg: the demands and each cost row)."""
    reader = TokenReader(tokens, source)
    facilities, customers = _read_sizes(reader)
    plain = 2 + 2 * facilities + customers + facilities * customers
    if len(tokens) == plain + 1:
        return "brescia"
    if len(tokens) != plain:
        raise InputError(
            source,
            [
                InputIssue(
                    "$",
                    f"{facilities} facilities and {customers} customers need {plain} numbers "
                    f"(orlib, holmberg) or {plain + 1} (brescia), but the file has {len(tokens)}",
                )
            ],
        )
    readable: list[SscflpFormat] = []
    reasons: list[str] = []
    for layout in ("orlib", "holmberg"):
        try:
            _PARSERS[layout](tokens, source)
        except InputError as error:
            reasons.append(f"as {layout}: {error.issues[0]}")
        else:
            readable.append(layout)
    if len(readable) == 1:
        return readable[0]
    if not readable:
        raise InputError(
            source, [InputIssue("$", "not an SSCFLP file (" + "; ".join(reasons) + ")")]
        )
    head = 2 + 2 * facilities
    laid_out: list[SscflpFormat] = []
    if _starts_lines(tokens, range(head, len(tokens), facilities + 1)):
        laid_out.append("orlib")
    if _starts_lines(tokens, range(head, len(tokens), customers)):
        laid_out.append("holmberg")
    if len(laid_out) == 1:
        return laid_out[0]
    raise OptionNeeded(
        source,
        [InputIssue("$", "the file reads as both orlib and holmberg: give --format")],
    )


def parse(
    tokens: list[Token], source: str, layout: SscflpFormat | None
) -> tuple[SscflpFormat, FacilityData]:
    """Read an SSCFLP file in the given layout, or in the one its content settles."""
    chosen = recognise(tokens, source) if layout is None else layout
    return chosen, _PARSERS[chosen](tokens, source)


def with_capacities(
    data: FacilityData, capacities: Sequence[int], source: str
) -> list[tuple[int | None, FacilityData]]:
    """The instances a file stands for: itself, or one per substituted capacity."""
    if not data.has_placeholders:
        if capacities:
            raise OptionNeeded(
                source,
                [
                    InputIssue(
                        "$",
                        "--capacity is only for files whose capacities are the word "
                        f"{CAPACITY_PLACEHOLDER!r} (capa, capb, capc); this file has numbers",
                    )
                ],
            )
        return [(None, data)]
    if not capacities:
        raise OptionNeeded(
            source,
            [
                InputIssue(
                    "$",
                    f"the capacities are the word {CAPACITY_PLACEHOLDER!r}: give "
                    "--capacity N (for example capa: 8000, 10000, 12000, 14000)",
                )
            ],
        )
    return [
        (
            capacity,
            replace(
                data,
                capacities=[capacity if c is None else c for c in data.capacities],
            ),
        )
        for capacity in dict.fromkeys(capacities)
    ]


def to_instance(
    data: FacilityData, *, name: str, description: str, meta: dict[str, object], source: str
) -> Instance:
    """The SPEC instance of one SSCFLP instance (facilities = sites, customers = training)."""
    facility_ids = padded_ids("facility", data.facilities)
    customer_ids = padded_ids("customer", data.customers)
    holders: list[Holder] = []
    for facility_id, capacity, fixed_cost in zip(
        facility_ids, data.capacities, data.fixed_costs, strict=True
    ):
        if capacity is None:
            raise InputError(source, [InputIssue("$", "capacity placeholder not substituted")])
        holders.append(Holder(facility_id, capacity, fixed_cost))
    assignees = [
        Assignee(
            customer_id,
            counts=[demand] * data.facilities,
            costs=[row[j] for row in data.costs],
        )
        for j, (customer_id, demand) in enumerate(zip(customer_ids, data.demands, strict=True))
    ]
    return assignment_instance(
        name=name,
        description=description,
        meta=dict(meta),
        holders=holders,
        assignees=assignees,
        source=source,
    )


def import_sscflp(
    path: Path, layout: SscflpFormat | None = None, capacities: Sequence[int] = ()
) -> list[Instance]:
    """The SPEC instance(s) of an SSCFLP file: one, or one per --capacity for capa/b/c."""
    source = str(path)
    text, raw = read_text(path)
    tokens = tokenize(text)
    if not tokens:
        raise InputError(source, [InputIssue("$", "the file is empty")])
    chosen, data = parse(tokens, source, layout)
    digest = hashlib.sha256(raw).hexdigest()
    instances: list[Instance] = []
    for capacity, filled in with_capacities(data, capacities, source):
        name = path.stem if capacity is None else f"{path.stem}_{capacity}"
        origin: dict[str, object] = {
            "problem": "sscflp",
            "format": chosen,
            "file": path.name,
            "sha256": digest,
            "facilities": filled.facilities,
            "customers": filled.customers,
            "sense": "min",
        }
        if capacity is not None:
            origin["capacity"] = capacity
        if filled.published_optimum is not None:
            origin["published_optimum"] = filled.published_optimum
        with_capacity = "" if capacity is None else f" with every capacity {capacity}"
        description = (
            f"SSCFLP {path.name}{with_capacity} ({chosen} layout), {filled.facilities} "
            f"facilities x {filled.customers} customers (facilities = sites with fixed_cost, "
            "customers = training jobs, demand = count at every facility)"
        )
        instances.append(
            to_instance(
                filled, name=name, description=description, meta={"source": origin}, source=source
            )
        )
    return instances
