"""Public benchmark files (GAP, SSCFLP) read as planning instances: `infraplan import`.

`read_benchmark` turns a benchmark file into instances and `import_to_dir` writes them,
one file each. The encoding and the formats are described in
`benchmarks/external/README.md` of the repository, which also holds the runner that
solves whole benchmark sets against their published optima.
"""

from models.importers.importing import import_to_dir as import_to_dir
from models.importers.importing import read_benchmark as read_benchmark
from models.importers.tokens import OptionNeeded as OptionNeeded
