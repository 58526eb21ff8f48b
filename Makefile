.PHONY: setup build release demo test bench compare clean

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
