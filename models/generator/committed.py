"""The generated instances kept in the repository, and the command that rewrites them.

    python -m models.generator.committed [ROOT]     # or: make instances

writes instances/generated (static S seeds 0-4, M seed 0) and instances/scheduled
(sched-S seeds 0-4, sched-M seeds 0 and 100) and instances/expansion (expand-M and
sched-expand-M, seeds 0 and 100) under ROOT (default: this checkout). The large
families (L, XL, sched-L) are generated on demand (`infraplan generate`, benchmarks), not
committed: sched-L seed 0 is about 2.4 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

from models.generator.scheduled_families import SCHEDULED_FAMILIES

#: Static families: folder instances/generated, files <family>-<seed>.json.
STATIC_COMMITTED: tuple[tuple[str, int], ...] = (*(("S", seed) for seed in range(5)), ("M", 0))
#: Scheduled families: folder instances/scheduled, files <size>-<seed>.json (sched-S -> S).
SCHEDULED_COMMITTED: tuple[tuple[str, int], ...] = (
    *(("sched-S", seed) for seed in range(5)),
    ("sched-M", 0),
    ("sched-M", 100),
)
#: Expansion families: folder instances/expansion, files <family>-<seed>.json.
EXPANSION_COMMITTED: tuple[tuple[str, int], ...] = tuple(
    (family, seed) for family in ("expand-M", "sched-expand-M") for seed in (0, 100)
)
STATIC_DIR = Path("instances") / "generated"
EXPANSION_DIR = Path("instances") / "expansion"
SCHEDULED_DIR = Path("instances") / "scheduled"
SCHEDULED_PREFIX = "sched-"


def scheduled_path(family_name: str, seed: int) -> Path:
    """Where a committed scheduled instance lives, relative to the repository root."""
    return SCHEDULED_DIR / f"{family_name.removeprefix(SCHEDULED_PREFIX)}-{seed}.json"


def family_of_scheduled_file(path: Path) -> tuple[str, int]:
    """(family, seed) of a file of instances/scheduled, e.g. M-100.json -> (sched-M, 100)."""
    size, seed = path.stem.split("-")
    family = f"{SCHEDULED_PREFIX}{size}"
    if family not in SCHEDULED_FAMILIES:
        raise ValueError(f"{path.name}: no scheduled family {family!r}")
    return family, int(seed)


def write_committed(root: Path) -> list[Path]:
    """Regenerate every committed generated instance under `root`; the paths written."""
    from models.generator.build import generate
    from models.generator.expansion import generate_expansion
    from models.generator.scheduled import generate_scheduled
    from models.io import save_instance

    written: list[Path] = []
    for family_name, seed in STATIC_COMMITTED:
        path = root / STATIC_DIR / f"{family_name}-{seed}.json"
        save_instance(generate(family_name, seed), path)
        written.append(path)
    for family_name, seed in SCHEDULED_COMMITTED:
        path = root / scheduled_path(family_name, seed)
        save_instance(generate_scheduled(family_name, seed), path)
        written.append(path)
    for family_name, seed in EXPANSION_COMMITTED:
        path = root / EXPANSION_DIR / f"{family_name}-{seed}.json"
        save_instance(generate_expansion(family_name, seed), path)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    """Write the committed instances under argv[0] (default: the checkout this file is in)."""
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2]
    for path in write_committed(root):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
