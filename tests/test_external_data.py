"""Tests of benchmarks.external.fetch_data: the manifest, the checked copy and the cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from benchmarks.external.fetch_data import (
    MANIFEST,
    DataError,
    fetch,
    locate,
    main,
    read_manifest,
    verify,
)

SETS_DIR = Path(__file__).resolve().parent / "data" / "benchmarks"


def make_sets(root: Path, files: dict[str, bytes]) -> Path:
    """A folder of files and a manifest listing them; returns the manifest's path."""
    lines = []
    for name, data in sorted(files.items()):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    manifest = root.parent / f"{root.name}.sha256"
    manifest.write_text("".join(lines))
    return manifest


def test_test_copies_are_the_listed_files() -> None:
    """Every file in tests/data/benchmarks (but its PROVENANCE.md) has the manifest's sha256."""
    manifest = read_manifest()
    copies = [p for p in SETS_DIR.rglob("*") if p.is_file() and p.name != "PROVENANCE.md"]
    assert len(copies) == 17
    for path in copies:
        name = path.relative_to(SETS_DIR).as_posix()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest[name], name


def test_manifest_lists_every_set() -> None:
    """The committed manifest covers the five sets' folders, about 200 files."""
    folders = {name.split("/", 1)[0] for name in read_manifest(MANIFEST)}
    expected = {"cflp_orlib", "gap_orlib", "gap_yagiura", "sscflp_holmberg", "sscflp_orlib"}
    assert folders == {*expected, "README.md"}
    assert len(read_manifest(MANIFEST)) > 200


def test_fetch_copies_checked_files_once(tmp_path: Path) -> None:
    """A first fetch copies every file; a second finds them cached and copies none."""
    manifest = make_sets(tmp_path / "src", {"a/x.txt": b"1 2 3\n", "README.md": b"# sets\n"})
    cache = tmp_path / "cache"
    assert fetch(tmp_path / "src", cache, manifest) == 2
    assert (cache / "a" / "x.txt").read_bytes() == b"1 2 3\n"
    assert fetch(tmp_path / "src", cache, manifest) == 0
    verify(cache, manifest)


def test_fetch_refuses_a_changed_or_missing_file(tmp_path: Path) -> None:
    """A source file whose bytes differ from the manifest, or that is absent, is an error."""
    manifest = make_sets(tmp_path / "src", {"x.txt": b"1\n", "y.txt": b"2\n"})
    (tmp_path / "src" / "x.txt").write_bytes(b"7\n")
    with pytest.raises(DataError, match=r"x\.txt: sha256 differs"):
        fetch(tmp_path / "src", tmp_path / "cache", manifest)
    (tmp_path / "src" / "x.txt").unlink()
    with pytest.raises(DataError, match=r"x\.txt: missing"):
        fetch(tmp_path / "src", tmp_path / "cache", manifest)


def test_locate_fills_the_cache_from_the_shared_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the sets in $INFRAPLAN_SHARED/benchmarks, locate returns the filled cache."""
    manifest = make_sets(tmp_path / "shared" / "benchmarks", {"s/f": b"5\n"})
    monkeypatch.setenv("INFRAPLAN_SHARED", str(tmp_path / "shared"))
    monkeypatch.setenv("INFRAPLAN_BENCHMARK_CACHE", str(tmp_path / "cache"))
    assert locate(manifest) == tmp_path / "cache"
    assert (tmp_path / "cache" / "s" / "f").read_bytes() == b"5\n"
    monkeypatch.setenv("INFRAPLAN_SHARED", str(tmp_path / "gone"))
    monkeypatch.setattr("benchmarks.external.fetch_data.REPO_ROOT", tmp_path / "x" / "clone")
    assert locate(manifest) == tmp_path / "cache"
    monkeypatch.setenv("INFRAPLAN_BENCHMARK_CACHE", str(tmp_path / "empty"))
    assert locate(manifest) is None


def test_command_line_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A source missing listed files, or an unchecked cache, exits 1 with one line."""
    arguments = [f"--source={tmp_path / 'nothing'}", f"--cache={tmp_path / 'cache'}"]
    assert main(arguments) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: ") and "missing" in err
    assert main([f"--cache={tmp_path / 'cache'}", "--check"]) == 1
    assert "missing" in capsys.readouterr().err


def test_located_sets_match_the_manifest() -> None:
    """Where the whole sets are found, every listed file is there with its sha256."""
    folder = locate()
    if folder is None:
        pytest.skip("no external benchmark data (python -m benchmarks.external.fetch_data)")
    verify(folder)
    assert all((folder / name).is_file() for name in read_manifest())
