#!/usr/bin/env bash
# One command from a fresh clone: install what is missing, build in release mode, then generate
# a realistic options minute day, convert it and scan a ticker from it.
# Usage: scripts/demo.sh [ROWS]   (default 5,500,000 rows, a full options minute day)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "demo: building (release)" >&2
# For this machine's CPU (scripts/cpu-flags.sh; FFCOL_TARGET_CPU=baseline: any x86-64).
# shellcheck disable=SC2046
swift build -c release --product ffcol --static-swift-stdlib $(scripts/cpu-flags.sh) 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' >&2 || true
exec .build/release/ffcol demo --rows "${1:-5500000}" --dir demo-data
