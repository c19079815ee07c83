"""The comparison as Markdown (GitHub flavour): readable in a terminal, pasteable in a review.

Every piece of text that can come from an instance, a solution or a file name is
escaped, so an id such as `<script>` or `a|b` stays literal text and cannot open
markup, a link or a new table column.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from solver.report.tables import DEFAULT_MAX_ROWS, headline, lead, sections

if TYPE_CHECKING:
    from solver.report.data import Comparison
    from solver.report.tables import Table

#: Punctuation that Markdown (CommonMark, GFM tables and strikethrough, math) acts on
#: inside a line; no cell or id is ever printed at the start of a line.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")
#: Line breaks and other control characters would end a table row.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape(text: str) -> str:
    """Text as literal Markdown: punctuation backslash-escaped, control characters as spaces."""
    return _SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", text))


def render_markdown(comparison: Comparison, *, max_rows: int = DEFAULT_MAX_ROWS) -> str:
    """The whole report as one Markdown document (ends with a newline)."""
    lines = [f"# {escape(headline(comparison))}", "", escape(lead(comparison)), ""]
    if comparison.warnings:
        lines.extend(f"> **Warning:** {escape(warning)}  " for warning in comparison.warnings)
        lines.append("")
    for section in sections(comparison, max_rows):
        lines += [f"## {escape(section.title)}", "", escape(section.intro), ""]
        for table in section.tables:
            lines += _table(table)
    return "\n".join(lines).rstrip("\n") + "\n"


def _table(table: Table) -> list[str]:
    lines = [f"### {escape(table.title)}", ""]
    if table.rows:
        align = [
            "---:" if column in table.numeric else "---" for column in range(len(table.headers))
        ]
        lines.append(_row(table.headers))
        lines.append("| " + " | ".join(align) + " |")
        lines.extend(_row(row) for row in table.rows)
        lines.append("")
    if table.note:
        lines += [f"_{escape(table.note)}_", ""]
    return lines


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(escape(cell) or " " for cell in cells) + " |"
