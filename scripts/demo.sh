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
