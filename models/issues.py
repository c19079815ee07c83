"""Input issues: one problem in an input file, located by its JSON path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def json_path(*parts: str | int) -> str:
    """Render path parts as `sites[3].inventory[0].accelerator` (odd keys JSON-quoted)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            # Untrusted keys: JSON string syntax escapes quotes and control characters, and
            # other unprintable characters (bidi overrides) are escaped too.
            quoted = json.dumps(part, ensure_ascii=False)
            out += "[" + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in quoted) + "]"
    return out or "$"


@dataclass(frozen=True)
class InputIssue:
    """One problem with an input: where (JSON path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InputError(ValueError):
    """An input (file or object) that is not a valid instance or solution.

    `str(error)` is one line naming the file, the JSON path and the first problem;
    `issues` holds every problem found.
    """

    def __init__(self, source: str, issues: list[InputIssue]) -> None:
        self.source = source
        self.issues = issues
        first = str(issues[0]) if issues else "invalid input"
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{source}: {first}{more}")

    def lines(self) -> list[str]:
        """One line per issue, each naming the source."""
        return [f"{self.source}: {issue}" for issue in self.issues]


class ReferenceIssues(ValueError):
    """Raised inside model validation to carry located cross-reference issues."""

    def __init__(self, issues: list[InputIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))
