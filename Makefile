.PHONY: setup build release demo test bench compare clean fuzz check-asan check-tsan check-sanitizers ci

setup:
	scripts/setup.sh

build:
	swift build

# For this machine's CPU (scripts/cpu-flags.sh); FFCOL_TARGET_CPU=baseline: runs on any x86-64.
release:
	swift build -c release --product ffcol --static-swift-stdlib $$(scripts/cpu-flags.sh)

demo:
	scripts/demo.sh

test:
	scripts/test.sh

# package-benchmark suite (Benchmarks/); sizes via FFCOL_BENCH_* (docs/PERFORMANCE.md),
# extra arguments via BENCH_ARGS, e.g. BENCH_ARGS="--filter Convert.*"
bench:
	scripts/setup.sh
	swift package --package-path Benchmarks --scratch-path Benchmarks/.build-bench benchmark $(BENCH_ARGS)

# ffcol next to polars, DuckDB and pyarrow (scripts/compare.sh --help)
compare:
	scripts/compare.sh $(COMPARE_ARGS)

clean:
	rm -rf .build demo-data

# libFuzzer targets (Fuzz/, built with AddressSanitizer): FuzzCSV (parser, line assembler,
# gzip-wrapped input), FuzzGzip (the gzip input path alone, zlib and ISA-L must agree) and
# FuzzFFC (header, footer and chunk decoders), FuzzBlocks (the block decoders behind the checksums). Seeds come from `ffcol synth` and broken files
# (scripts/fuzz-seeds.sh); corpora grow in fuzz-corpus/, findings land in fuzz-artifacts/.
# One target: make fuzz FUZZ_TARGETS=FuzzGzip FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The whole suite under AddressSanitizer (with LeakSanitizer), then ThreadSanitizer, each in its
# own build folder (.build-san-asan, .build-san-tsan), with the S3 test server up.
# Suppressions (narrow, each with its reason) are in scripts/sanitizers/.
check-asan:
	scripts/test-sanitizers.sh address

check-tsan:
	scripts/test-sanitizers.sh thread

check-sanitizers: check-asan check-tsan

# What CI runs on a clean clone: the suite, the suite under ASan, each fuzz target for a minute
# (and the suite under TSan with FFCOL_CI_TSAN=1).
ci:
	.ci/run
