"""The external benchmark sets: where their files are and what is known about each instance.

The data is not in the repository: `benchmarks.external.fetch_data` finds it (the
project's shared folder or a cache), checks it against MANIFEST.sha256 and caches it.
Every loader also takes another folder holding the sets (`root`), such as the small
copies the tests use.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchmarks.external.fetch_data import locate, missing_message

KnownStatus = Literal["optimal", "open", "infeasible"]

#: Every set the runner knows, with the folder and layout of its files.
SETS: dict[str, tuple[str, str, str]] = {
    # set name: (problem, folder under benchmarks/, layout)
    "gap-orlib": ("gap", "gap_orlib", "orlib"),
    "gap-yagiura": ("gap", "gap_yagiura", "single"),
    "sscflp-orlib": ("sscflp", "cflp_orlib", "orlib"),
    "sscflp-brescia": ("sscflp", "sscflp_orlib", "brescia"),
    "sscflp-holmberg": ("sscflp", "sscflp_holmberg", "holmberg"),
}

REPO_ROOT = Path(__file__).resolve().parents[2]


def benchmarks_dir() -> Path:
    """The checked folder of the sets (`fetch_data.locate`); FileNotFoundError, in one line
    saying where it looked and how to fetch them, when there is none."""
    folder = locate()
    if folder is None:
        raise FileNotFoundError(missing_message())
    return folder


@dataclass(frozen=True, slots=True)
class KnownValue:
    """What the literature knows about an instance's optimum (min sense)."""

    status: KnownStatus
    lower: float | None = None
    upper: float | None = None
    #: Decimals the values are published with; they are rounded to these.
    decimals: int = 0
    #: Where the figure comes from, or how it was turned into min sense.
    note: str = ""

    @property
    def tolerance(self) -> float:
        """How far an exact objective may be from the published figure: half its last digit."""
        return 0.5 * 10.0**-self.decimals + 1e-9 * abs(self.upper or 0.0)

    def __str__(self) -> str:
        if self.status == "infeasible":
            return "infeasible"
        if self.lower == self.upper:
            return f"{self.upper:,.{self.decimals}f}"
        return f"[{self.lower:,.{self.decimals}f}, {self.upper:,.{self.decimals}f}]"


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark instance: its name, file, how to import it and its known value."""

    set_name: str
    name: str
    problem: str
    path: Path
    layout: str
    known: KnownValue
    #: Position of the instance in a multi-instance file (1-based), else None.
    index: int | None = None
    #: Capacity substituted into an OR-Library capa/capb/capc file, else None.
    capacity: int | None = None
    #: The instance's name in the literature, where it differs from `name`.
    published_as: str = ""


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _value(text: str, note: str = "") -> KnownValue:
    if text.strip().lower() == "infeasible":
        return KnownValue("infeasible", note=note)
    value = float(text)
    return KnownValue("optimal", value, value, _decimals(text), note)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _gap_orlib(folder: Path) -> list[Case]:
    cases: list[Case] = []
    for row in _rows(folder / "optimal_values.csv"):
        stem = Path(row["file"]).stem
        if row["sense"] == "max":
            known = _value(row["min_sense_optimum"], "min-sense optimum (published as max)")
        else:
            lower, upper = row["lower_bound"], row["upper_bound"]
            status: KnownStatus = "optimal" if row["status"] == "optimal" else "open"
            known = KnownValue(status, float(lower), float(upper), _decimals(upper))
        cases.append(
            Case(
                "gap-orlib",
                f"{stem}-{row['index']}",
                "gap",
                folder / row["file"],
                "orlib",
                known,
                index=int(row["index"]),
                published_as=row["instance"],
            )
        )
    return cases


def _gap_yagiura(folder: Path) -> list[Case]:
    cases: list[Case] = []
    for row in _rows(folder / "best_known.csv"):
        status: KnownStatus = "optimal" if row["status"] == "optimal" else "open"
        known = KnownValue(
            status,
            float(row["lower_bound"]),
            float(row["upper_bound"]),
            _decimals(row["upper_bound"]),
        )
        name = row["instance"]
        cases.append(Case("gap-yagiura", name, "gap", folder / name, "single", known))
    return cases


def _cflp_single_source(folder: Path) -> dict[str, dict[str, str]]:
    return {row["instance"]: row for row in _rows(folder / "optimal_values.csv")}


def _sscflp_orlib(folder: Path) -> list[Case]:
    cases: list[Case] = []
    for name, row in _cflp_single_source(folder).items():
        capacity = int(row["capacity_param"]) if row["capacity_param"] else None
        known = _value(row["ss_optimum"], row["ss_source"])
        cases.append(
            Case(
                "sscflp-orlib",
                name,
                "sscflp",
                folder / row["file"],
                "orlib",
                known,
                capacity=capacity,
            )
        )
    return cases


def _sscflp_brescia(folder: Path) -> list[Case]:
    # The files carry their optimum rounded to 1 decimal; the same instances' 2-decimal
    # optima are in the OR-Library table beside them, so those are the reference.
    table = _cflp_single_source(folder.parent / SETS["sscflp-orlib"][1])
    cases: list[Case] = []
    for path in sorted(folder.glob("cap*"), key=lambda p: int(p.name.removeprefix("cap"))):
        known = _value(table[path.name]["ss_optimum"], "cflp_orlib/optimal_values.csv")
        cases.append(Case("sscflp-brescia", path.name, "sscflp", path, "brescia", known))
    return cases


def _sscflp_holmberg(folder: Path) -> list[Case]:
    return [
        Case(
            "sscflp-holmberg",
            row["instance"],
            "sscflp",
            folder / row["instance"],
            "holmberg",
            _value(row["optimum"], row["source"]),
        )
        for row in _rows(folder / "optimal_values.csv")
    ]


_LOADERS = {
    "gap-orlib": _gap_orlib,
    "gap-yagiura": _gap_yagiura,
    "sscflp-orlib": _sscflp_orlib,
    "sscflp-brescia": _sscflp_brescia,
    "sscflp-holmberg": _sscflp_holmberg,
}


def load_set(set_name: str, root: Path | None = None) -> list[Case]:
    """Every case of a benchmark set, in the order of its value table."""
    if set_name not in SETS:
        raise KeyError(f"unknown benchmark set {set_name!r}; known: {', '.join(SETS)}")
    folder = (root or benchmarks_dir()) / SETS[set_name][1]
    if not folder.is_dir():
        raise FileNotFoundError(f"benchmark folder {folder} not found")
    return _LOADERS[set_name](folder)
