#!/usr/bin/env bash
# The main job on the shipped instances: validate them, batch-solve them, and write a
# comparison report of two real-world scenarios.
set -euo pipefail
BIN=.venv/bin
OUT=demo-out
$BIN/infraplan validate instances/*.json instances/generated/*.json instances/real/*.json
# Batch-solve every shipped instance (2 at a time, 1 CP-SAT worker each); prints the table
# and writes $OUT/summary.json and $OUT/summary.csv. Exit status 1 only says some instance
# has no plan (the table shows which); anything else (2 = usage error) stops the demo.
batch_status=0
$BIN/infraplan solve instances/*.json instances/generated/*.json instances/real/*.json \
    -o "$OUT" --time-limit 20 --jobs 2 --workers 1 || batch_status=$?
[ "$batch_status" -le 1 ] || exit "$batch_status"
# Compare two scenarios of one family, each plan read against its own instance: the 2027
# build-out with and without a carbon price. Writes $OUT/compare.html (one self-contained
# page with charts) and $OUT/compare.md.
$BIN/infraplan compare instances/real/real-buildout-2027.json \
    "$OUT/real-buildout-2027.solution.json" "$OUT/real-buildout-2027-no-carbon.solution.json" \
    --label "carbon price 100/t" --label "no carbon price" \
    -o "$OUT/compare.html" -o "$OUT/compare.md"
echo "demo: solutions and summary in $OUT/, comparison report in $OUT/compare.html"
