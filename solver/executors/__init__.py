"""Where a batch runs: worker processes on this machine, or tasks on a Ray cluster.

Both executors offer one interface (`Executor.run`: tasks in, events out); the batch
driver (`solver.batch`) neither knows nor cares which one it talks to.
"""

from solver.executors.base import Event as Event
from solver.executors.base import Executor as Executor
from solver.executors.base import ExecutorError as ExecutorError
from solver.executors.base import Finished as Finished
from solver.executors.base import Outcome as Outcome
from solver.executors.base import Progress as Progress
from solver.executors.base import SolveSettings as SolveSettings
from solver.executors.base import Started as Started
from solver.executors.base import Task as Task
from solver.executors.local import LocalExecutor as LocalExecutor

EXECUTORS = ("local", "ray")


def make_executor(name: str, *, jobs: int | None, address: str | None = None) -> Executor:
    """The executor called `name` ("local" or "ray"); Ray is imported only when asked for.

    Raises ValueError for an unknown name or an address given to the local executor, and
    `RayUnavailableError` when Ray is asked for but not installed.
    """
    if name == "local":
        if address is not None:
            raise ValueError("--address needs the ray executor")
        return LocalExecutor(jobs or 1)
    if name == "ray":
        from solver.executors.ray_executor import RayExecutor

        return RayExecutor(address=address, jobs=jobs)
    raise ValueError(f"unknown executor {name!r} (choose from {', '.join(EXECUTORS)})")
