"""Plan reports: a typed comparison of plans, rendered as Markdown, JSON or one HTML page.

`compare([(instance, solution), ...])` evaluates each plan against its own instance and
lines them up against the first; `report(instance, solution)` does it for one plan.
`render(comparison, "md" | "json" | "html")` gives the text, `write_report(comparison,
path)` writes the format the suffix names.

`solver` re-exports `compare` and `report`, so there `solver.report` is the function; import
this package's modules with `from solver.report.<module> import ...`.
"""

from solver.report.compare import compare as compare
from solver.report.compare import compare_evaluated as compare_evaluated
from solver.report.compare import report as report
from solver.report.data import Comparison as Comparison
from solver.report.output import ReportFormat as ReportFormat
from solver.report.output import format_for as format_for
from solver.report.output import render as render
from solver.report.output import write_report as write_report
