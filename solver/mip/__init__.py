"""The compact MIP of a static (v1) instance, written straight from SPEC §4-§6, and HiGHS on
it: the benchmark's `mip-highs` peer (`benchmarks.harness.compact_mip`) and a member of
`solve()`'s portfolio (`solver.mip.portfolio`) are the same model.

- `solver.mip.compact`: the columns and rows (`build_compact`);
- `solver.mip.highs`: HiGHS on it through MathOpt (`solve_compact`), with a MIP start;
- `solver.mip.plan`: a plan from the columns' values, and the values of a plan (the start);
- `solver.mip.portfolio`: HiGHS in a thread beside CP-SAT (`HighsRun`).

Nothing here is a claim: a plan HiGHS finds counts only once `solver.solve` has re-solved its
flows by the exact flow LP and the evaluator accepts it, and HiGHS's dual bound (to HiGHS's
float tolerances) is never a `bound`.
"""
