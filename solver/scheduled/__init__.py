"""The CP-SAT model and solve path of a v2 instance (SPEC §8-§12): scheduled instances
(periods, start hours, per-period inference) and static v2 ones (one period "all").

One module per job: `units` (each service's rps unit per period), `rows` (the
per-period limits scaled to integers for the relaxation or the restriction),
`variables`, `constraints` (one function per constraint family), `objective`, `model`
(build, hint, read back), `plan` (a v2 plan, its float costs and its Solution),
`flows` (the exact per-period flow LP), `greedy` (the list-scheduling first plan),
`check` (the SPEC check a plan passes before it is returned) and `solve` (the claims).
"""

from __future__ import annotations

__all__ = ["solve_v2"]


def __getattr__(name: str) -> object:
    if name == "solve_v2":
        from solver.scheduled.solve import solve_v2

        return solve_v2
    raise AttributeError(name)
