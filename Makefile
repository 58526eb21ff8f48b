.PHONY: setup build release demo test bench compare clean fuzz fuzz-build check-sanitizers

setup:
	scripts/setup.sh

build:
	swift build

release:
	swift build -c release --product ffcol --static-swift-stdlib

demo:
	scripts/demo.sh

test:
	scripts/test.sh

# package-benchmark suite (Benchmarks/); sizes via FFCOL_BENCH_* (docs/PERFORMANCE.md),
# extra arguments via BENCH_ARGS, e.g. BENCH_ARGS="--filter Convert.*"
bench:
	swift package --package-path Benchmarks --scratch-path Benchmarks/.build-bench benchmark $(BENCH_ARGS)

# ffcol next to polars, DuckDB and pyarrow (scripts/compare.sh --help)
compare:
	scripts/compare.sh $(COMPARE_ARGS)

clean:
	rm -rf .build demo-data

# libFuzzer targets (Fuzz/): FuzzCSV (parser, line assembler, gzip input) and FuzzFFC (header,
# footer and chunk decoders). Seeds come from `ffcol synth`; findings land in fuzz-artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_CORPUS ?= fuzz-corpus
fuzz-build:
	swift build --package-path Fuzz --scratch-path $(FUZZ_SCRATCH) -c debug -Xswiftc -sanitize=fuzzer,address --product FuzzCSV
	swift build --package-path Fuzz --scratch-path $(FUZZ_SCRATCH) -c debug -Xswiftc -sanitize=fuzzer,address --product FuzzFFC

fuzz: fuzz-build
	swift build --scratch-path $(FUZZ_SCRATCH)-tool --product ffcol
	scripts/fuzz-seeds.sh $(FUZZ_SCRATCH)-tool/debug/ffcol $(FUZZ_CORPUS)/seeds
	mkdir -p $(FUZZ_CORPUS)/csv $(FUZZ_CORPUS)/ffc fuzz-artifacts
	$(FUZZ_SCRATCH)/debug/FuzzCSV -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -artifact_prefix=fuzz-artifacts/csv- $(FUZZ_CORPUS)/csv $(FUZZ_CORPUS)/seeds/csv
	$(FUZZ_SCRATCH)/debug/FuzzFFC -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -artifact_prefix=fuzz-artifacts/ffc- $(FUZZ_CORPUS)/ffc $(FUZZ_CORPUS)/seeds/ffc

# The test suite under AddressSanitizer, then ThreadSanitizer (separate build folders).
# Leak checking is off for now: LeakSanitizer reports leaks when `ffcol ingest` exits with an
# error, and its long report fills the stderr pipe of FFColS3Tests' CLI tests, which read it only
# after the process exits (a hang). Run with ASAN_OPTIONS= to see the leak report.
SAN_SCRATCH ?= .build-san
ASAN_OPTIONS ?= detect_leaks=0
export ASAN_OPTIONS
check-sanitizers:
	scripts/test-s3-env.sh swift test --sanitize=address --scratch-path $(SAN_SCRATCH)-asan
	scripts/test-s3-env.sh swift test --sanitize=thread --scratch-path $(SAN_SCRATCH)-tsan
