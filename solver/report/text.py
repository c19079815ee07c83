"""How figures read in every report format: thousands separators, signs, units, dashes."""

from __future__ import annotations

#: What a missing figure reads as.
MISSING = "–"


def number(value: float | None, digits: int = 2) -> str:
    """`1,234.56`; a dash for None."""
    if value is None:
        return MISSING
    return f"{value:,.{digits}f}"


def signed(value: float | None, digits: int = 2) -> str:
    """`+1,234.56` / `-1,234.56` / `0` (no sign on a zero difference); a dash for None."""
    if value is None:
        return MISSING
    text = f"{value:+,.{digits}f}"
    return "0" if float(text.replace(",", "")) == 0 else text


def percent(value: float | None, digits: int = 1) -> str:
    """A share as `64.1%`; a dash for None."""
    if value is None:
        return MISSING
    return f"{value * 100:,.{digits}f}%"


def signed_points(value: float | None, digits: int = 1) -> str:
    """A change of a share in percentage points, `+3.2 pp`; `0` when it rounds to nothing."""
    if value is None:
        return MISSING
    text = f"{value * 100:+,.{digits}f}"
    return "0" if float(text.replace(",", "")) == 0 else f"{text} pp"


def signed_relative(value: float | None, digits: int = 2) -> str:
    """A relative change as `+3.25%`; `0` when it rounds to nothing."""
    if value is None:
        return MISSING
    text = f"{value * 100:+,.{digits}f}"
    return "0" if float(text.replace(",", "")) == 0 else f"{text}%"


def used_of(used: float, limit: float | None, digits: int = 1) -> str:
    """`used / limit`, or `used / unlimited`."""
    cap = "unlimited" if limit is None else number(limit, digits)
    return f"{number(used, digits)} / {cap}"


def flag(over: bool) -> str:
    """A marker for a figure past its limit."""
    return " ⚠" if over else ""


def over_limit(used: float, limit: float | None) -> bool:
    """Used past a limit beyond the SPEC §7 tolerance (never for an unlimited one)."""
    return limit is not None and used > limit + 1e-6 * max(1.0, abs(limit))
