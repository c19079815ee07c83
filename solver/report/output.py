"""Pick a renderer by format name or file suffix, and write a report file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from models.io import write_atomic
from solver.report.json_report import render_json
from solver.report.markdown import render_markdown
from solver.report.tables import DEFAULT_MAX_ROWS

if TYPE_CHECKING:
    from solver.report.data import Comparison

ReportFormat = Literal["md", "json", "html"]

#: File suffixes each format is written for.
SUFFIXES: dict[str, ReportFormat] = {
    ".md": "md",
    ".markdown": "md",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}


def format_for(path: str | Path) -> ReportFormat:
    """The format a file name asks for; ValueError for a suffix no renderer writes."""
    suffix = Path(path).suffix.lower()
    try:
        return SUFFIXES[suffix]
    except KeyError:
        known = ", ".join(SUFFIXES)
        raise ValueError(
            f"{path}: cannot tell the report format from suffix {suffix!r} (use one of {known})"
        ) from None


def render(
    comparison: Comparison, report_format: ReportFormat, *, max_rows: int = DEFAULT_MAX_ROWS
) -> str:
    """The report in one format, as text."""
    if report_format == "json":
        return render_json(comparison)
    if report_format == "html":
        # matplotlib is imported only when a page with charts is wanted.
        from solver.report.html import render_html

        return render_html(comparison, max_rows=max_rows)
    return render_markdown(comparison, max_rows=max_rows)


def write_report(
    comparison: Comparison, path: str | Path, *, max_rows: int = DEFAULT_MAX_ROWS
) -> ReportFormat:
    """Write the report in the format the file's suffix names; return that format."""
    report_format = format_for(path)
    write_atomic(path, render(comparison, report_format, max_rows=max_rows).encode())
    return report_format
