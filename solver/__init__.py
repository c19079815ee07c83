"""infraplan solver: CP-SAT placement, plan evaluation, batch solving and reports.

The public names are imported on first use (PEP 562), so that `from solver import
solve` loads the solver, not the batch runner, its executors or the reports.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from solver.batch import BatchResult as BatchResult
    from solver.batch import solve_many as solve_many
    from solver.cpsat.scaling import ScalingWarning as ScalingWarning
    from solver.evaluate import evaluate as evaluate
    from solver.evaluation import Evaluation as Evaluation
    from solver.evaluation import Violation as Violation
    from solver.explain import Diagnosis as Diagnosis
    from solver.explain import explain as explain
    from solver.frontier import Frontier as Frontier
    from solver.frontier import frontier as frontier
    from solver.replan import Replan as Replan
    from solver.replan import replan as replan
    from solver.report import Comparison as Comparison
    from solver.report import compare as compare
    from solver.report import report as report
    from solver.sensitivity import Sensitivity as Sensitivity
    from solver.sensitivity import sensitivity as sensitivity
    from solver.solve import ModelInvalidError as ModelInvalidError
    from solver.solve import SolveOptions as SolveOptions
    from solver.solve import solve as solve
    from solver.whatif import WhatIf as WhatIf
    from solver.whatif import whatif as whatif

#: Each public name and the module it is imported from (the same as above).
_EXPORTS = {
    "BatchResult": "solver.batch",
    "solve_many": "solver.batch",
    "ScalingWarning": "solver.cpsat.scaling",
    "evaluate": "solver.evaluate",
    "Evaluation": "solver.evaluation",
    "Violation": "solver.evaluation",
    "Diagnosis": "solver.explain",
    "explain": "solver.explain",
    "Frontier": "solver.frontier",
    "frontier": "solver.frontier",
    "Replan": "solver.replan",
    "replan": "solver.replan",
    "Comparison": "solver.report",
    "compare": "solver.report",
    "report": "solver.report",
    "Sensitivity": "solver.sensitivity",
    "sensitivity": "solver.sensitivity",
    "ModelInvalidError": "solver.solve",
    "SolveOptions": "solver.solve",
    "solve": "solver.solve",
    "WhatIf": "solver.whatif",
    "whatif": "solver.whatif",
}

__all__ = [
    "BatchResult",
    "Comparison",
    "Diagnosis",
    "Evaluation",
    "Frontier",
    "ModelInvalidError",
    "Replan",
    "ScalingWarning",
    "Sensitivity",
    "SolveOptions",
    "Violation",
    "WhatIf",
    "compare",
    "evaluate",
    "explain",
    "frontier",
    "replan",
    "report",
    "sensitivity",
    "solve",
    "solve_many",
    "whatif",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the public ones not yet imported included."""
    return sorted({*globals(), *__all__})


class _Package(ModuleType):
    """The `solver` package. Importing a submodule binds it on its package, so that
    importing `solver.solve` would hide the function `solver.solve` (likewise evaluate,
    explain, frontier, replan, report, sensitivity, whatif); the public name is bound instead."""

    def __setattr__(self, name: str, value: Any) -> None:
        """Bind `name`; a submodule named like the public name it defines binds that."""
        if isinstance(value, ModuleType) and _EXPORTS.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
