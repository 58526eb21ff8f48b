#!/usr/bin/env bash
# Runs the whole test suite under a sanitizer, with the local S3 test server up
# (scripts/test-s3-env.sh). Each sanitizer builds in its own folder (.build-san-asan,
# .build-san-tsan).
#
#   scripts/test-sanitizers.sh address     # AddressSanitizer + LeakSanitizer
#   scripts/test-sanitizers.sh thread      # ThreadSanitizer
#   scripts/test-sanitizers.sh address --filter FFColS3Tests   # extra arguments go to swift test
#
# The products the tests run (ffcol, the example) are built with the same sanitizer and inherit
# these options, so a report in one of them fails the test that ran it. Suppressions, each
# commented with its reason, are in scripts/sanitizers/.
set -euo pipefail
cd "$(dirname "$0")/.."
san=${1:?usage: scripts/test-sanitizers.sh address|thread [swift test arguments]}
shift
supp="$PWD/scripts/sanitizers"
case "$san" in
    address)
        short=asan
        # Leaks are checked in the products the tests run (the test helpers hand them
        # FFCOL_TEST_PRODUCT_ASAN_OPTIONS), not in the test process: see sanitizers/lsan.supp.
        export FFCOL_TEST_PRODUCT_ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
        export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"
        export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
        ;;
    thread)
        short=tsan
        export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=0:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
        ;;
    *) echo "test-sanitizers: unknown sanitizer '$san' (address or thread)" >&2; exit 2 ;;
esac
scratch="${SAN_SCRATCH:-.build-san}-$short"
exec scripts/test-s3-env.sh swift test --sanitize="$san" --scratch-path "$scratch" "$@"
