"""Public benchmark instances with known optima (GAP, SSCFLP): importers and the runner.

`read_benchmark` turns a benchmark file into SPEC instances; the runner lives in
`benchmarks.external.runner` (run it with `python -m`).
"""

from benchmarks.external.importing import import_to_dir as import_to_dir
from benchmarks.external.importing import read_benchmark as read_benchmark
