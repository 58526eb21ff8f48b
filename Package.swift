// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ffcol",
    platforms: [.macOS(.v13)],
    products: [
        // The reader library a backtest imports: depends on libzstd only.
        .library(name: "FFCol", targets: ["FFCol"]),
        // The streaming converter (gzip CSV -> .ffc).
        .library(name: "FFColConvert", targets: ["FFColConvert"]),
        .executable(name: "ffcol", targets: ["ffcol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: System libraries (one per C library; shims only where Swift cannot call C directly)
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CIsal", path: "Sources/CIsal", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]),
        // libcurl's headers (libcurl4-openssl-dev) with the library loaded by dlopen on first
        // use, so that commands which never talk to S3 do not load it (Sources/CCurl).
        // DWARF 4 like the Swift objects: valgrind 3.19 (Debian 12) cannot read clang's DWARF 5
        // and refuses to run the binary, which the profiling notes in docs/PERFORMANCE.md use.
        .target(name: "CCurl", path: "Sources/CCurl", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        // Data-parallel loops of the reader as static inline C (SSE2 on x86-64, portable C
        // elsewhere): a header only, nothing to build or link.
        .systemLibrary(name: "CFFColKernels", path: "Sources/CFFColKernels"),
        // System calls the Glibc module does not declare (sync_file_range), as static inline C.
        .systemLibrary(name: "CFFColSys", path: "Sources/CFFColSys"),

        // MARK: Libraries
        .target(name: "FFCol", dependencies: ["CZstd", "CFFColKernels"]),
        .target(name: "FFColConvert", dependencies: ["FFCol", "CZlib", "CZstd", "CIsal", "CFFColSys", "CFFColKernels"]),
        // S3 access (libcurl + SigV4), catalog and trading calendar.
        .target(name: "FFColS3", dependencies: ["FFCol", "FFColConvert", "CCurl"]),

        // MARK: The command-line tool
        .executableTarget(
            name: "ffcol",
            dependencies: [
                "FFCol", "FFColConvert", "FFColS3",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Examples
        // A moving-average crossover over generated minute bars and an options chain read.
        .executableTarget(
            name: "ffcol-example-backtest", dependencies: ["FFCol", "FFColConvert"], path: "Examples/Backtest"),

        // MARK: Tests
        .testTarget(name: "FFColTests", dependencies: ["FFCol", "FFColConvert", "CFFColKernels"]),
        .testTarget(name: "FFColConvertTests", dependencies: ["FFCol", "FFColConvert"]),
        .testTarget(name: "FFColS3Tests", dependencies: ["FFCol", "FFColConvert", "FFColS3"]),
    ],
    swiftLanguageModes: [.v5]
)
