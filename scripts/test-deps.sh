#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages: headless Chromium, which the
# HTML report tests open their page in (tests/test_report_html.py). Idempotent and quiet:
# does nothing when /usr/bin/chromium exists; CI runs as root, so apt-get works there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: /usr/bin/chromium is missing; as root run: apt-get install -y chromium" >&2
    exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "test-deps: installing chromium (headless browser for the HTML report tests)"
if ! {
    apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
} >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "test-deps: installing chromium failed" >&2
    exit 1
fi
