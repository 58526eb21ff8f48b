#!/usr/bin/env bash
# Starts the loopback S3 test server (moto with SigV4 checking + a fault-injecting proxy, see
# scripts/s3testserver.py) on free 127.0.0.1 ports, exports FFCOL_TEST_S3_* for the tests,
# runs the given command (default: the S3 tests), and stops the server on exit.
#
#   scripts/test-s3-env.sh                       # swift test --filter FFColS3Tests
#   scripts/test-s3-env.sh swift test --scratch-path .build-s3 --filter FFColS3Tests
#
# Needs python3 with moto[server] (flask, flask-cors) and boto3: pip install 'moto[server]' boto3
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

python3 "$here/s3testserver.py" --env-file "$tmp/env" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    [ -f "$tmp/env" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "test-s3-env: the S3 test server did not start:" >&2
        cat "$tmp/server.log" >&2
        exit 1
    fi
    sleep 0.2
done
if [ ! -f "$tmp/env" ]; then
    echo "test-s3-env: timed out waiting for the S3 test server" >&2
    cat "$tmp/server.log" >&2
    exit 1
fi
# shellcheck disable=SC1091
. "$tmp/env"
echo "test-s3-env: S3 at $FFCOL_TEST_S3_ENDPOINT, fault proxy at $FFCOL_TEST_S3_PROXY" >&2
if [ "$#" -eq 0 ]; then
    set -- swift test --filter FFColS3Tests
fi
status=0
"$@" || status=$?
if [ "$status" -ne 0 ] && [ -n "${FFCOL_TEST_S3_SHOW_LOG:-}" ]; then
    tail -50 "$tmp/server.log" >&2
fi
exit "$status"
