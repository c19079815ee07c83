"""Public benchmark instances with known optima (GAP, SSCFLP): where they are and the runner.

The importers are part of the installed package (`models.importers`, behind
`infraplan import`); this folder holds what only the repository needs: the catalog of
sets and known values, the data fetcher (`fetch_data`) and the runner
(`python -m benchmarks.external.runner`).
"""

from models.importers import import_to_dir as import_to_dir
from models.importers import read_benchmark as read_benchmark
