"""The searches behind `solver.solve.solve`, one job per module.

- `options`: what a caller may ask (`SolveOptions`) and the default worker count.
- `progress`: improving plans passed on to the caller's `on_progress`.
- `runner`: one CP-SAT run on a built model, and the parameters each step runs with.
- `strategies`: the searches `solve` chooses between by instance size (the whole
  model's search, the rounding search, the neighbourhood search and the large
  instances' greedy start) and the extra searches of the repair and the fine proof.

`solver/solve.py` keeps the entry point and every claim: plans checked by the
evaluator, bounds proved, statuses given. Names here without a leading underscore
are used across modules or by tests: they are the package's documented internals,
not a public API (that is `solver.solve`). The measurements behind the constants are
in docs/tuning.md.
"""
