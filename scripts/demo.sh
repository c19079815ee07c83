#!/usr/bin/env bash
# The main job on the shipped instances: validate them, then solve them.
set -euo pipefail
BIN=.venv/bin
OUT=demo-out
$BIN/infraplan validate instances/*.json
$BIN/infraplan solve instances/*.json -o "$OUT" --time-limit 20
