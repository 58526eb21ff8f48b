// swift-tools-version:6.1
// Benchmarks of ffcol with package-benchmark: `make bench` at the top level, or
// `swift package --package-path Benchmarks benchmark` (see docs/PERFORMANCE.md).
import PackageDescription

let package = Package(
    name: "ffcol-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "ffcol", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Synthetic flat files and .ffc stores, generated once and cached (see Fixtures.swift).
        .target(
            name: "BenchFixtures",
            dependencies: [
                .product(name: "FFCol", package: "ffcol"),
                .product(name: "FFColConvert", package: "ffcol"),
            ],
            path: "Sources/BenchFixtures"),
        // csv.gz -> .ffc: inflate, parse, inflate + parse, whole conversions.
        .executableTarget(
            name: "ConvertBenchmarks",
            dependencies: [
                "BenchFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FFCol", package: "ffcol"),
                .product(name: "FFColConvert", package: "ffcol"),
            ],
            path: "ConvertBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // The reader: footer open and lookup, one-ticker scans, whole-column decodes.
        .executableTarget(
            name: "ReadBenchmarks",
            dependencies: [
                "BenchFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FFCol", package: "ffcol"),
            ],
            path: "ReadBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // Not a benchmark (its folder is not directly under Benchmarks/): the reader side of
        // scripts/compare.py, timed in-process.
        .executableTarget(
            name: "compare-reader",
            dependencies: [.product(name: "FFCol", package: "ffcol")],
            path: "Tools/CompareReader"),
    ],
    swiftLanguageModes: [.v5]
)
