#!/usr/bin/env bash
# The main job on the shipped instances: validate them, then solve them.
set -euo pipefail
BIN=.venv/bin
OUT=demo-out
$BIN/infraplan validate instances/*.json
# Batch-solve every shipped instance (2 at a time, 1 CP-SAT worker each); prints the table
# and writes $OUT/summary.json and $OUT/summary.csv. Exit status 1 only says some instance
# has no plan (the table shows which); anything else (2 = usage error) stops the demo.
batch_status=0
$BIN/infraplan solve instances/*.json instances/generated/*.json -o "$OUT" \
    --time-limit 10 --jobs 2 --workers 1 || batch_status=$?
[ "$batch_status" -le 1 ] || exit "$batch_status"
# Compare two scenarios of one family, each plan read against its own instance: the 2027
# build-out with and without a carbon price. Writes $OUT/compare.html (one self-contained
# page with charts) and $OUT/compare.md; the solve's exit 1 (no plan) shows in the report.
scenarios=(instances/real/real-buildout-2027.json instances/real/real-buildout-2027-no-carbon.json)
scenario_status=0
$BIN/infraplan solve "${scenarios[@]}" -o "$OUT/scenarios" \
    --time-limit 20 --jobs 2 --workers 1 || scenario_status=$?
[ "$scenario_status" -le 1 ] || exit "$scenario_status"
$BIN/infraplan compare "${scenarios[0]}" "$OUT/scenarios/real-buildout-2027.solution.json" \
    "$OUT/scenarios/real-buildout-2027-no-carbon.solution.json" \
    --label "carbon price 100/t" --label "no carbon price" \
    -o "$OUT/compare.html" -o "$OUT/compare.md"
