#!/usr/bin/env bash
# Installs what ffcol needs on Debian/Ubuntu (as root, or with sudo): the C libraries it links
# (zlib, ISA-L, zstd, libcurl), gzip/pigz for the tests, and the Python tools the S3 tests use.
# Installs only what is missing; safe to run again.
set -euo pipefail

need_apt=()
for pkg in zlib1g-dev libzstd-dev libcurl4-openssl-dev libisal-dev pkg-config gzip pigz python3 python3-venv; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${need_apt[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
    echo "setup: swift is not on PATH; install Swift 6 (https://swift.org/install) and run again" >&2
    exit 1
fi

# Python packages for the S3 tests (a local S3 server), if a requirements file lists any.
req="$(dirname "$0")/requirements-test.txt"
if [ -s "$req" ]; then
    if ! python3 -c 'import moto, boto3, flask, flask_cors' 2>/dev/null; then
        echo "setup: installing Python test tools from $req" >&2
        python3 -m pip install -q -r "$req" 2>/dev/null || python3 -m pip install -q --break-system-packages -r "$req"
    fi
fi
