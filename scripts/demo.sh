#!/usr/bin/env bash
# The main job on the shipped instances: validate them, batch-solve them, compare two
# real-world scenarios, plan the 2026-2027 roadmap by quarter with its report, and re-plan
# one incident (a site losing 40 % of its grid) from the plan that runs now.
# About 3-4 minutes on 2 cores (measured figures in README, "Demo").
set -euo pipefail
BIN=.venv/bin
OUT=demo-out
started=$SECONDS
ROADMAP=instances/real/roadmap-2026-2027.json
STATIC_REAL=(instances/real/real-*.json)

$BIN/infraplan validate instances/*.json instances/v2/*.json instances/generated/*.json \
    instances/scheduled/S-*.json instances/real/*.json

# Batch-solve the shipped instances (2 at a time, 1 CP-SAT worker each); prints the table
# and writes $OUT/summary.json and $OUT/summary.csv. Exit status 1 only says some instance
# has no plan (the table shows which); anything else (2 = usage error) stops the demo.
# The roadmap gets its own, longer solve below.
batch_status=0
$BIN/infraplan solve instances/*.json instances/v2/*.json instances/generated/*.json \
    "${STATIC_REAL[@]}" -o "$OUT" --time-limit 20 --jobs 2 --workers 1 || batch_status=$?
[ "$batch_status" -le 1 ] || exit "$batch_status"

# Compare two scenarios of one family, each plan read against its own instance: the 2027
# build-out with and without a carbon price. Writes $OUT/compare.html (one self-contained
# page with charts) and $OUT/compare.md.
$BIN/infraplan compare instances/real/real-buildout-2027.json \
    "$OUT/real-buildout-2027.solution.json" "$OUT/real-buildout-2027-no-carbon.solution.json" \
    --label "carbon price 100/t" --label "no carbon price" \
    -o "$OUT/compare.html" -o "$OUT/compare.md"

# The 2026-2027 roadmap, planned by quarter (SPEC §9): start hours, per-quarter grids and
# deliveries; its report shows the training timeline and power per site per quarter.
roadmap_status=0
$BIN/infraplan solve "$ROADMAP" -o "$OUT/roadmap" --time-limit 60 --jobs 1 --workers 2 \
    || roadmap_status=$?
[ "$roadmap_status" -le 1 ] || exit "$roadmap_status"
if [ "$roadmap_status" -eq 0 ]; then
    $BIN/infraplan report "$ROADMAP" "$OUT/roadmap/roadmap-2026-2027.solution.json" \
        -o "$OUT/roadmap/report.html" -o "$OUT/roadmap/report.md"
fi

# Incident: AWS Ohio (aws-us-east-2) loses 40 % of its grid. Re-plan from the plan that
# runs now (the batch's plan of real-aws-2025) instead of from scratch: what no longer
# fits moves, the rest stays. Writes the report of base plan vs re-plan, and the edited
# instance (with `current`) and its plan.
$BIN/infraplan whatif instances/real/real-aws-2025.json \
    --current "$OUT/real-aws-2025.solution.json" --scale-grid aws-us-east-2=0.6 \
    --time-limit 20 --workers 2 \
    -o "$OUT/incident/whatif.html" -o "$OUT/incident/whatif.md" \
    --save-instance "$OUT/incident/aws-lost-40.json" \
    --save-solution "$OUT/incident/aws-lost-40.solution.json"
# What each extra moved job buys, at budgets 0, 1, 2, 4, ... (short solves: each point's
# claim, optimal or feasible with its bound, is in the table).
$BIN/infraplan replan "$OUT/incident/aws-lost-40.json" \
    --current "$OUT/real-aws-2025.solution.json" --frontier \
    --time-limit 6 --workers 2 -o "$OUT/incident"

echo "demo: solutions and summary in $OUT/, comparison report in $OUT/compare.html,"
echo "      roadmap report in $OUT/roadmap/report.html, incident in $OUT/incident/"
echo "demo: $((SECONDS - started)) s"
