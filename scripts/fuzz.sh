#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (with AddressSanitizer), seeds their corpora from
# `ffcol synth` and broken files (scripts/fuzz-seeds.sh) and runs each target for SECONDS.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     # default 60 s, every target
#
# FUZZ_SEED=N fixes libFuzzer's random seed (default: a new one each run). With a fixed seed and a
# fresh corpus the mutations are the same on every machine, so CI replays what ran here; leave it
# unset to explore. Corpora grow in fuzz-corpus/<target>/ (kept between runs). A crash, a leak or a timeout stops
# the run with a non-zero status and leaves the reproducer in fuzz-artifacts/ (also printed as
# hex); replay it with .build-fuzz/debug/<Target> fuzz-artifacts/<file>, then pin it down in a
# regression test named after what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(FuzzCSV FuzzGzip FuzzFFC FuzzBlocks)
scratch=${FUZZ_SCRATCH:-.build-fuzz}
corpus=${FUZZ_CORPUS:-fuzz-corpus}
artifacts=${FUZZ_ARTIFACTS:-fuzz-artifacts}
seed_args=()
[ -n "${FUZZ_SEED:-}" ] && seed_args=(-seed="$FUZZ_SEED")

for t in "${targets[@]}"; do
    swift build --package-path Fuzz --scratch-path "$scratch" -c debug -Xswiftc -sanitize=fuzzer,address --product "$t"
done
swift build --scratch-path "$scratch-tool" --product ffcol
scripts/fuzz-seeds.sh "$scratch-tool/debug/ffcol" "$corpus/seeds"
mkdir -p "$artifacts"

for t in "${targets[@]}"; do
    case "$t" in
        FuzzCSV) seeds=csv ;;
        FuzzGzip) seeds=gzip ;;
        FuzzFFC) seeds=ffc ;;
        FuzzBlocks) seeds=blocks ;;
        *) echo "fuzz: unknown target $t" >&2; exit 2 ;;
    esac
    mkdir -p "$corpus/$t"
    echo "fuzz: $t for ${seconds}s (corpus $corpus/$t, seeds $corpus/seeds/$seeds, seed ${FUZZ_SEED:-random})" >&2
    status=0
    "$scratch/debug/$t" ${seed_args[@]+"${seed_args[@]}"} -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" "$corpus/$t" "$corpus/seeds/$seeds" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $status); reproducer(s):" >&2
        for f in "$artifacts/$t-"*; do
            [ -f "$f" ] || continue
            echo "  $f ($(stat -c %s "$f") bytes), replay: $scratch/debug/$t $f" >&2
            od -A x -t x1z "$f" | head -40 >&2
        done
        exit "$status"
    fi
done
echo "fuzz: ${targets[*]}: no findings in ${seconds}s each" >&2
