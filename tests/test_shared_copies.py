"""The repository's copies of the project's shared files stay equal to the originals.

docs/spec.md is the specification (../shared/SPEC.md) and models/data/reference/ the
reference data (../shared/data/). A clone has no ../shared beside it, so these tests run
only where it exists (the development workspace, CI) and skip elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models.real.sources import BUNDLED_DATA

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
#: The files of models/data/reference/ that are copies (SOURCES.md is the repository's own).
REFERENCE_COPIES = sorted(
    path.relative_to(BUNDLED_DATA).as_posix()
    for path in BUNDLED_DATA.rglob("*")
    if path.is_file() and path.name != "SOURCES.md"
)


@pytest.mark.skipif(
    not (SHARED / "SPEC.md").is_file(), reason="no ../shared/SPEC.md beside the repository"
)
def test_spec_is_the_shared_spec() -> None:
    """docs/spec.md is byte for byte ../shared/SPEC.md."""
    copy = (REPO_ROOT / "docs" / "spec.md").read_bytes()
    assert copy == (SHARED / "SPEC.md").read_bytes(), "copy ../shared/SPEC.md to docs/spec.md"


@pytest.mark.skipif(
    not (SHARED / "data").is_dir(), reason="no ../shared/data beside the repository"
)
@pytest.mark.parametrize("name", REFERENCE_COPIES)
def test_reference_data_is_the_shared_data(name: str) -> None:
    """Each file of models/data/reference/ is byte for byte its ../shared/data/ original."""
    copy = (BUNDLED_DATA / name).read_bytes()
    assert copy == (SHARED / "data" / name).read_bytes(), f"copy ../shared/data/{name} again"


def test_reference_data_holds_what_the_builder_reads() -> None:
    """The copied files are the eight SOURCES.md lists (the builder reads all of them)."""
    listed = (BUNDLED_DATA / "SOURCES.md").read_text(encoding="utf-8")
    assert len(REFERENCE_COPIES) == 8
    assert all(f"`{name}`" in listed for name in REFERENCE_COPIES)
