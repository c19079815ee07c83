"""The wheel, installed alone into a fresh virtual environment, runs the documented CLI.

Offline and quick: the wheel is built from a copy of the sources without build isolation
(this environment's setuptools), installed with `--no-deps` into a new venv, and that venv
sees only the distributions the wheel's base requirements need (no extras), linked from
this environment. So a base requirement missing from pyproject.toml, a data file left out
of the wheel or a module outside `models`/`solver` that the CLI imports fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import orjson
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parent.parent
#: What the wheel is built from: the files pyproject.toml packages.
SOURCES = ("pyproject.toml", "README.md", "models", "solver")
EXAMPLE_OBJECTIVE = 2_778_598.80


def build_wheel(tmp: Path) -> Path:
    """The wheel of a copy of the sources (so the build leaves nothing in the checkout)."""
    source = tmp / "src"
    source.mkdir()
    for name in SOURCES:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(origin, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    command = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    subprocess.run([*command, "-w", str(tmp / "dist"), str(source)], check=True)
    (wheel,) = (tmp / "dist").glob("infraplan-*.whl")
    return wheel


def base_requirements(wheel: Path) -> list[Requirement]:
    """The wheel's Requires-Dist lines that hold without any extra."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(name).decode().splitlines()
    wanted = [
        Requirement(line.split(":", 1)[1]) for line in lines if line.startswith("Requires-Dist:")
    ]
    return [r for r in wanted if r.marker is None or r.marker.evaluate({"extra": ""})]


def closure(requirements: list[Requirement]) -> list[metadata.Distribution]:
    """The installed distributions these requirements pull in, transitively."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        key = canonicalize_name(requirement.name)
        if key in found:
            continue
        found[key] = dist = metadata.distribution(requirement.name)
        extras = ("", *requirement.extras)
        for line in dist.requires or []:
            child = Requirement(line)
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                todo.append(child)
    return list(found.values())


def link_dependencies(distributions: list[metadata.Distribution], target: Path) -> None:
    """Symlink each distribution's top-level files and folders (dist-info included)."""
    target.mkdir()
    for dist in distributions:
        assert dist.files is not None, f"{dist.metadata['Name']} has no RECORD"
        tops = {f.parts[0] for f in dist.files if f.parts[0] not in ("..", "__pycache__")}
        for top in sorted(tops):
            link = target / top
            if not link.exists():
                link.symlink_to(Path(str(dist.locate_file(top))))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding the installed wheel; its base dependencies come linked."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp)
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    assert tops == {"models", "solver", wheel.name.split("-py3")[0] + ".dist-info"}
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    link_dependencies(closure(base_requirements(wheel)), tmp / "deps")
    (Path(purelib) / "infraplan-test-deps.pth").write_text(f"{tmp / 'deps'}\n")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python)]
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True)
    return venv


def run(venv: Path, cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """A program of the fresh venv, run in `cwd` with no inherited Python path."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    program, *rest = arguments
    return subprocess.run(
        [str(venv / "bin" / program), *rest],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_installed_cli_validates_solves_evaluates_and_reports(fresh: Path, tmp_path: Path) -> None:
    """validate, solve, evaluate, report -o x.md and compare -o x.html exit 0 with their output."""
    shutil.copy(REPO_ROOT / "instances" / "example.json", tmp_path / "example.json")
    done = run(fresh, tmp_path, "infraplan", "validate", "example.json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("example.json: ok")

    done = run(fresh, tmp_path, "infraplan", "solve", "example.json", "-o", "out", "--workers", "1")
    assert done.returncode == 0, done.stderr
    solution = orjson.loads((tmp_path / "out" / "example.solution.json").read_bytes())
    assert solution["status"] == "optimal"
    assert solution["objective"] == pytest.approx(EXAMPLE_OBJECTIVE)

    plan = "out/example.solution.json"
    done = run(fresh, tmp_path, "infraplan", "evaluate", "example.json", plan)
    assert done.returncode == 0, done.stderr
    assert "no violations" in done.stdout

    done = run(fresh, tmp_path, "infraplan", "report", "example.json", plan, "-o", "x.md")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "x.md").read_text().startswith("# Plan report: example")

    done = run(fresh, tmp_path, "infraplan", "compare", "example.json", plan, plan, "-o", "x.html")
    assert done.returncode == 0, done.stderr
    assert "<svg" in (tmp_path / "x.html").read_text()


def test_installed_packages_are_models_and_solver_only(fresh: Path, tmp_path: Path) -> None:
    """models and solver load from the venv, not the checkout; `import benchmarks` fails."""
    shown = run(fresh, tmp_path, "python", "-c", "import models, solver; print(models.__file__)")
    assert shown.returncode == 0, shown.stderr
    assert Path(shown.stdout.strip()).is_relative_to(fresh)
    done = run(fresh, tmp_path, "python", "-c", "import benchmarks")
    assert done.returncode == 1
    assert "No module named 'benchmarks'" in done.stderr


def test_installed_cli_names_a_missing_extra_in_one_line(fresh: Path, tmp_path: Path) -> None:
    """--executor ray without the ray extra: exit 2 and one line saying what to install."""
    shutil.copy(REPO_ROOT / "instances" / "example.json", tmp_path / "example.json")
    done = run(
        fresh, tmp_path, "infraplan", "solve", "example.json", "-o", "o", "--executor", "ray"
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "pip install 'infraplan[ray]'" in done.stderr


def test_installed_cli_builds_the_real_instances_and_imports(fresh: Path, tmp_path: Path) -> None:
    """build-real from the packaged data gives the committed instances; import reads GAP."""
    done = run(fresh, tmp_path, "infraplan", "build-real", "-o", "real")
    assert done.returncode == 0, done.stderr
    committed = sorted((REPO_ROOT / "instances" / "real").glob("*.json"))
    assert committed
    for path in committed:
        assert (tmp_path / "real" / path.name).read_bytes() == path.read_bytes(), path.name

    gap = REPO_ROOT / "tests" / "data" / "benchmarks" / "gap_orlib" / "gap1.txt"
    done = run(fresh, tmp_path, "infraplan", "import", "gap", str(gap), "-o", "gap")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "gap").glob("*.json")) == [
        f"gap1-{k}.json" for k in range(1, 6)
    ]
