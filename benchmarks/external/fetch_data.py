"""Find the external benchmark sets, check them against MANIFEST.sha256, and cache them.

The sets (OR-Library GAP and CFLP, Yagiura GAP, Holmberg and Brescia SSCFLP; about
10 MB) are not in the repository. `MANIFEST.sha256` beside this file lists every file
with its sha256 (the `sha256sum` format, paths relative to the sets' folder). The files
are taken from a source folder and copied, each checked, into a cache:

- source: `--source DIR`, else `$INFRAPLAN_SHARED/benchmarks`, else `../shared/benchmarks`
  beside the checkout (the project's shared folder; there is no download URL: the sets
  came from several repositories, named in each set's README);
- cache: `--cache DIR`, else `$INFRAPLAN_BENCHMARK_CACHE`, else
  `$XDG_CACHE_HOME/infraplan/benchmarks` (`~/.cache/infraplan/benchmarks`).

    python -m benchmarks.external.fetch_data [--source DIR] [--cache DIR] [--check]

`locate()` is what the catalog, the runner and the tests call: the cache when it holds
every listed file, else the cache filled from a source folder that does, else None.
A file whose sha256 differs from the manifest is an error, never skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from models.io import write_atomic

if TYPE_CHECKING:
    from collections.abc import Sequence

MANIFEST = Path(__file__).with_name("MANIFEST.sha256")
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ENV = "INFRAPLAN_BENCHMARK_CACHE"
SHARED_ENV = "INFRAPLAN_SHARED"

#: Folders already checked in this process, so a test session hashes the sets once.
_verified: set[tuple[Path, Path]] = set()


class DataError(ValueError):
    """A benchmark file is missing from a folder that should hold it, or has changed."""


def read_manifest(path: Path = MANIFEST) -> dict[str, str]:
    """Relative path -> sha256 of every listed file."""
    entries: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or Path(name).is_absolute() or ".." in Path(name).parts:
            raise DataError(f"{path}: line {number}: not '<sha256>  <relative path>'")
        entries[name] = digest
    return entries


def sha256(path: Path) -> str:
    """The sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_dir() -> Path:
    """$INFRAPLAN_BENCHMARK_CACHE, else $XDG_CACHE_HOME/infraplan/benchmarks."""
    override = os.environ.get(CACHE_ENV, "")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME", "") or str(Path.home() / ".cache")
    return Path(base) / "infraplan" / "benchmarks"


def source_dirs() -> list[Path]:
    """Where the sets may be found: $INFRAPLAN_SHARED/benchmarks, ../shared/benchmarks."""
    folders: list[Path] = []
    override = os.environ.get(SHARED_ENV, "")
    if override:
        folders.append(Path(override) / "benchmarks")
    folders.append(REPO_ROOT.parent / "shared" / "benchmarks")
    return folders


def holds_all(folder: Path, manifest: dict[str, str]) -> bool:
    """Whether every listed file exists in the folder (contents not checked)."""
    return all((folder / name).is_file() for name in manifest)


def verify(folder: Path, manifest_path: Path = MANIFEST) -> None:
    """Check every listed file of the folder against its sha256 (DataError if not)."""
    key = (folder.resolve(), manifest_path.resolve())
    if key in _verified:
        return
    for name, digest in read_manifest(manifest_path).items():
        path = folder / name
        if not path.is_file():
            raise DataError(f"{path}: missing (listed in {manifest_path.name})")
        if sha256(path) != digest:
            raise DataError(f"{path}: sha256 differs from {manifest_path.name}")
    _verified.add(key)


def fetch(source: Path, cache: Path, manifest_path: Path = MANIFEST) -> int:
    """Copy the listed files from `source` into `cache`, each checked; return how many
    were copied (files already in the cache with the right sha256 are kept)."""
    copied = 0
    for name, digest in read_manifest(manifest_path).items():
        target = cache / name
        if target.is_file() and sha256(target) == digest:
            continue
        origin = source / name
        if not origin.is_file():
            raise DataError(f"{origin}: missing (listed in {manifest_path.name})")
        data = origin.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise DataError(f"{origin}: sha256 differs from {manifest_path.name}")
        write_atomic(target, data)
        copied += 1
    return copied


def locate(manifest_path: Path = MANIFEST) -> Path | None:
    """The checked cache of the sets, filled from a source folder when needed; the source
    folder itself when the cache cannot be written; None when no folder holds them."""
    manifest = read_manifest(manifest_path)
    cache = cache_dir()
    if holds_all(cache, manifest):
        verify(cache, manifest_path)
        return cache
    for source in source_dirs():
        if not holds_all(source, manifest):
            continue
        try:
            fetch(source, cache, manifest_path)
        except OSError:
            verify(source, manifest_path)
            return source
        verify(cache, manifest_path)
        return cache
    return None


def missing_message() -> str:
    """One line saying where the sets were looked for and how to get them."""
    places = ", ".join(str(p) for p in [cache_dir(), *source_dirs()])
    return (
        f"external benchmark data not found (looked in {places}); "
        "run python -m benchmarks.external.fetch_data --source DIR"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (1 when a file is missing or changed)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.external.fetch_data",
        description="Copy the external benchmark sets into the cache, checking each sha256.",
    )
    parser.add_argument("--source", type=Path, help="folder holding the sets")
    parser.add_argument("--cache", type=Path, help="where to keep them")
    parser.add_argument("--check", action="store_true", help="only check the cache")
    args = parser.parse_args(argv)
    cache: Path = args.cache or cache_dir()
    manifest = read_manifest()
    try:
        if args.check or (args.source is None and holds_all(cache, manifest)):
            verify(cache)
            print(f"{len(manifest)} files checked in {cache}")
            return 0
        source: Path | None = args.source
        if source is None:
            source = next((s for s in source_dirs() if holds_all(s, manifest)), None)
        if source is None:
            print(f"error: {missing_message()}", file=sys.stderr)
            return 1
        copied = fetch(source, cache)
    except (DataError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{len(manifest)} files checked in {cache} ({copied} copied from {source})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
