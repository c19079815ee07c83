#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages (none yet; the
# report tests add headless Chromium here).
set -euo pipefail
