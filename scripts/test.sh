#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, starts what the tests need, runs
# `swift test`, stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The S3 tests need a local S3 server (moto, checking SigV4) on 127.0.0.1: test-s3-env.sh
# starts it with a fault-injecting proxy, exports FFCOL_TEST_S3_*, and stops both afterwards.
exec scripts/test-s3-env.sh swift test "$@"
