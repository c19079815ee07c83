"""What a caller may ask of the search: `SolveOptions`, and the default worker count."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def default_workers() -> int:
    """CP-SAT workers when not given: the machine's cores, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings beyond the common keyword arguments of `solve`."""

    #: Search in a reproducible order (CP-SAT `interleave_search` with several workers; one
    #: worker's single-thread search is reproducible as it is): same instance, seed and
    #: settings give the same plan whenever the search ends before the wall-time limit.
    #: With HiGHS beside CP-SAT (`highs`) the two never race: HiGHS (one thread, seeded)
    #: starts from the greedy plan and hands its plan over at one point, its own deadline,
    #: where the main thread waits for it; nothing is polled or interrupted by the clock.
    #: So its plan depends on the clock only through that deadline, as CP-SAT's steps do
    #: through theirs: the same plan whenever HiGHS and each CP-SAT step end on their own
    #: (proof or gap) before their limits; a limit that cuts one short (HiGHS on M at 30 s)
    #: makes the plan depend on the machine's speed, as it did before HiGHS joined.
    deterministic: bool = True
    #: Stop once the proved relative gap is at most this.
    relative_gap: float = 0.0
    #: Print CP-SAT's search log to stdout.
    log_search: bool = False
    #: Extra CP-SAT parameters by name (for experiments; recorded in the solution).
    parameters: dict[str, float | int | bool | str | list[str]] = field(default_factory=dict)
    #: Search the elastic model first (required work may be left out at a penalty), which
    #: always has a plan to improve on, then the strict one if work is still left out. Off
    #: by default: on the generated M family the strict model started from the greedy plan
    #: found better plans in the same time (docs/formulation.md).
    elastic: bool = False
    #: Without a `hint`, start from the greedy planner's plan (possibly incomplete).
    greedy_start: bool = True
    #: Solve the LP relaxation: to guide the greedy start and as a bound when the search
    #: proves less. Off is faster when only a first plan matters (diagnosis checks).
    lp: bool = True
    #: Before the full search, search the model with every replica count limited to the
    #: integers around its LP value (solver.heuristics.rounding); its best plan, when
    #: better than the greedy one, is the full search's hint. Needs `lp`.
    lp_rounding: bool = True
    #: After the rounding search, when the best complete plan so far leaves out an
    #: optional job the LP places at least half of, re-place every training job at once
    #: with that plan's replica counts fixed (solver.heuristics.training_block); its plan,
    #: once checked, replaces that one when cheaper.
    training_block: bool = True
    #: On an instance too large for the LP, improve a complete greedy plan by re-planning
    #: neighbourhoods of it (solver.heuristics.neighbourhood) instead of building the
    #: whole model; no bound is proved then.
    neighbourhood_search: bool = True
    #: With several workers searching reproducibly, the whole model's search on a model
    #: of FULL_SUBSOLVERS_MIN_VARIABLES or more runs CP-SAT's full-problem subsolvers
    #: FULL_SUBSOLVERS only (solver.search.runner), and from a complete plan (without
    #: neighbourhood search) after an LNS step (LNS_SHARE, solver.search.strategies);
    #: off: one search with CP-SAT's default portfolio (as the monolithic peer of the
    #: benchmarks runs).
    tuned_subsolvers: bool = True
    #: Run HiGHS on the compact MIP (solver.mip) beside CP-SAT on mid-sized instances with
    #: two workers or more (solver.solve._highs_run): it takes one worker's core for
    #: MIP_SHARE of the search time, starting from the greedy plan when that is complete;
    #: its plan, once the exact flow LP and the evaluator accept it, hints the rest of the
    #: search when it is the better one. Its dual bound is never a claim. Off by default:
    #: on the zoo's held-out seeds (benchmarks/RESULTS.md, "Zoo at M") it made five of
    #: eight family medians worse at 30 s; the default runs HiGHS on the LP's support
    #: instead (`rens`).
    highs: bool = False
    #: Without `highs`, run HiGHS beside CP-SAT on the compact MIP restricted to the
    #: decisions the LP relaxation uses and those of the start plan (RENS: every other
    #: placement and replica count fixed at 0; solver.mip.portfolio.restricted_columns),
    #: on instances of MIP_MIN_DECISIONS to MIP_MAX_DECISIONS (solver.solve), with the
    #: same hand-over. The restriction is a small MIP that HiGHS solves well in seconds,
    #: where the whole one needs its time for cuts (docs/tuning.md#rens).
    rens: bool = True
    #: With `rens`, the restriction also keeps the decisions of the greedy plan made
    #: without the LP's guide (when it is complete), computed in HiGHS's thread: the LP
    #: spreads a service over sites that whole replicas would rather share, and the
    #: unguided plan holds such sites (docs/tuning.md#rens).
    rens_unguided: bool = True
    #: With `rens`, when HiGHS settles its restriction (proves its optimum, or that it
    #: has no plan) early, it goes on with the whole MIP from the restriction's plan until
    #: its hand-over: on GAP the LP's support is nearly a plan and the restriction is
    #: proved at once, where the whole MIP is HiGHS's strength (docs/tuning.md#rens).
    rens_whole: bool = True
    #: Spend search time on the bound: the tuned whole-model search's bound step after
    #: its LNS step. Off for the neighbourhood search's re-plans, whose bound proves
    #: nothing about the whole instance: their LNS step keeps the time (the answer's
    #: bound is then what the LP relaxation and the searches proved on the way).
    prove: bool = True
