#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, starts what the tests need, runs
# `swift test`, stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -x scripts/with-s3.sh ]; then
    exec scripts/with-s3.sh swift test "$@"
fi
exec swift test "$@"
