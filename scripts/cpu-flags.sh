#!/usr/bin/env bash
# Prints the swift build flags that compile ffcol for this machine's CPU, or nothing.
#
# On x86-64 with everything Haswell has (AVX2, BMI1/2, FMA, F16C, LZCNT, MOVBE, ...):
# "-Xswiftc -target-cpu -Xswiftc haswell". The compiler then vectorises the encoders' 64-bit
# loops with AVX2 instead of x86-64's baseline SSE2: converting takes ~7% less CPU
# (docs/PERFORMANCE.md). With AVX-512 as well (F, CD, BW, DQ, VL: Intel Xeon since Skylake,
# AMD Zen 4): "skylake-avx512", whose 64-bit minimum, maximum and multiply are single
# instructions: ~2% less CPU again. Such a binary stops with SIGILL on an older processor, and
# valgrind (callgrind) does not run AVX-512 code: set FFCOL_TARGET_CPU=baseline for one that
# runs on any x86-64, or FFCOL_TARGET_CPU=<cpu> (an LLVM processor name: haswell, znver3,
# ...) to choose. Used by scripts/demo.sh, scripts/compare.sh and `make release`; tests,
# sanitizers, fuzzers and `make bench` build without it.
set -euo pipefail
cpu=${FFCOL_TARGET_CPU:-auto}
case "$cpu" in
    baseline) exit 0 ;;
    auto)
        [ "$(uname -m)" = x86_64 ] || exit 0
        flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2 || true) "
        for f in avx avx2 bmi1 bmi2 fma f16c abm movbe popcnt sse4_2 pclmulqdq aes xsave fsgsbase rdrand; do
            case "$flags" in *" $f "*) ;; *) exit 0 ;; esac
        done
        cpu=haswell
        for f in avx512f avx512cd avx512bw avx512dq avx512vl; do
            case "$flags" in *" $f "*) ;; *) echo "-Xswiftc -target-cpu -Xswiftc $cpu"; exit 0 ;; esac
        done
        cpu=skylake-avx512 ;;
esac
echo "-Xswiftc -target-cpu -Xswiftc $cpu"
