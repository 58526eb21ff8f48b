#!/usr/bin/env bash
# ffcol next to polars, DuckDB and pyarrow on the same synthetic flat files, in one run.
#
#   scripts/compare.sh                 # small sizes (a few minutes): 1M options rows,
#                                      # 20 stocks days of 500k rows
#   scripts/compare.sh --full          # real sizes: 5.5M options rows, 20 days of 4M rows
#   scripts/compare.sh --help          # every option (scripts/compare.py)
#
# Installs what is missing (scripts/setup.sh, then isal for igzip and time), builds ffcol and
# compare-reader (release, for this machine's CPU: scripts/cpu-flags.sh; build
# folders .build-bench-release and Benchmarks/.build-compare, apart from `make bench`'s
# Benchmarks/.build-bench, which builds without the CPU flags), installs pyarrow, polars and
# duckdb into .venv-compare/, caches generated files under compare-data/ (or --dir), then
# prints the tables (Markdown).
set -euo pipefail
cd "$(dirname "$0")/.."

for a in "$@"; do
    if [[ "$a" == "-h" || "$a" == "--help" ]]; then
        exec python3 scripts/compare.py --help
    fi
done

# What building ffcol needs (C libraries, pigz, python3-venv), then what only this script uses.
scripts/setup.sh
need=()
command -v igzip >/dev/null || need+=(isal)  # igzip, ISA-L's gzip: the faster inflate floor
[[ -x /usr/bin/time ]] || need+=(time)
if ((${#need[@]})); then
    echo "[compare] installing ${need[*]}" >&2
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "[compare] building ffcol and compare-reader (release)" >&2
# Both for this machine's CPU (scripts/cpu-flags.sh; FFCOL_TARGET_CPU=baseline: any x86-64).
read -r -a CPU_FLAGS <<< "$(scripts/cpu-flags.sh)"
echo "[compare] build flags for this CPU: ${CPU_FLAGS[*]:-none}" >&2
swift build -c release --scratch-path .build-bench-release --product ffcol --static-swift-stdlib ${CPU_FLAGS[@]+"${CPU_FLAGS[@]}"} >&2
FFCOL="$(swift build -c release --scratch-path .build-bench-release --static-swift-stdlib --show-bin-path)/ffcol"
swift build -c release --package-path Benchmarks --scratch-path Benchmarks/.build-compare --product compare-reader ${CPU_FLAGS[@]+"${CPU_FLAGS[@]}"} >&2
READER="$(swift build -c release --package-path Benchmarks --scratch-path Benchmarks/.build-compare --show-bin-path)/compare-reader"

VENV=.venv-compare
if [[ ! -x $VENV/bin/python ]]; then
    echo "[compare] creating $VENV" >&2
    python3 -m venv "$VENV"
fi
if ! $VENV/bin/python -c "import polars, duckdb, pyarrow" 2>/dev/null; then
    echo "[compare] installing pyarrow, polars, duckdb into $VENV" >&2
    $VENV/bin/pip install -q --disable-pip-version-check pyarrow polars duckdb >&2
fi

exec $VENV/bin/python scripts/compare.py --ffcol "$FFCOL" --reader "$READER" "$@"
