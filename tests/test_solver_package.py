"""The `solver` package's public names: imported on first use, each the object its module
defines, and `from solver import solve` loads the solver only."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import solver

#: Modules that `from solver import solve` must not load.
NOT_LOADED = ("solver.batch", "solver.report", "solver.executors", "matplotlib")


def loaded_after(code: str) -> dict[str, bool]:
    """Which of NOT_LOADED (and solver.solve) a fresh interpreter has loaded after `code`."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps({{m: m in sys.modules for m in {[*NOT_LOADED, 'solver.solve']!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: dict[str, bool] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("code", ["import solver; solver.solve", "from solver import solve"])
def test_solve_loads_the_solver_only(code: str) -> None:
    """The solver is loaded; the batch runner, its executors, the reports and matplotlib
    are not."""
    loaded = loaded_after(code)
    assert loaded.pop("solver.solve")
    assert loaded == dict.fromkeys(NOT_LOADED, False)


def type_checking_exports() -> dict[str, str]:
    """The names solver/__init__.py re-exports for type checkers, with their modules."""
    tree = ast.parse(Path(solver.__file__).read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module is not None
        for alias in node.names
    }


def test_public_names_are_the_objects_their_modules_define() -> None:
    """`__all__` lists what the TYPE_CHECKING block re-exports, and each name resolves to
    the object of that module (not to a submodule of the same name)."""
    exports = type_checking_exports()
    assert sorted(solver.__all__) == sorted(exports)
    for name, module in exports.items():
        assert getattr(solver, name) is getattr(importlib.import_module(module), name), name
    assert set(solver.__all__) <= set(dir(solver))


def test_submodules_do_not_hide_the_functions_named_like_them() -> None:
    """Importing solver.solve, solver.report, ... before their functions are used leaves
    `solver.solve`, `solver.report`, ... the functions, as eager imports did."""
    names = ("solve", "report", "evaluate", "explain", "sensitivity", "whatif")
    imported = ", ".join(names)
    code = "\n".join(
        [
            *(f"import solver.{name}" for name in names),
            "import solver",
            f"from solver import {imported}",
            f"print(all(callable(getattr(solver, n)) for n in {names!r}))",
            f"print(all(callable(f) for f in ({imported},)))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["True", "True"]


def test_unknown_name_is_an_attribute_error() -> None:
    """A name the package does not export raises AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = solver.no_such_name
