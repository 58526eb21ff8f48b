// swift-tools-version:6.0
// libFuzzer targets for ffcol (see `make fuzz`). Kept out of the main package because they
// link only with `-sanitize=fuzzer` (they call libFuzzer's driver).
import PackageDescription

let package = Package(
    name: "ffcol-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "ffcol", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        // The work directory and file reading the targets share.
        .target(name: "FuzzSupport"),
        // The CSV parser, line assembler and inflate stream: arbitrary bytes in arbitrary
        // block splits, as plain input and wrapped in gzip.
        .executableTarget(
            name: "FuzzCSV",
            dependencies: [.product(name: "FFCol", package: "ffcol"), .product(name: "FFColConvert", package: "ffcol"), "CFuzzDriver", "FuzzSupport"]),
        // The gzip input path alone: arbitrary input files through both decoders (zlib and
        // ISA-L) in arbitrary read splits; they must agree.
        .executableTarget(
            name: "FuzzGzip",
            dependencies: [.product(name: "FFCol", package: "ffcol"), .product(name: "FFColConvert", package: "ffcol"), "CFuzzDriver", "FuzzSupport"]),
        // The .ffc header, footer and chunk decoders: arbitrary files and mutations of a valid one.
        .executableTarget(
            name: "FuzzFFC",
            dependencies: [.product(name: "FFCol", package: "ffcol"), .product(name: "FFColConvert", package: "ffcol"), "CFuzzDriver", "FuzzSupport"]),
        // The block decoders behind the checksums: mutated decompressed blocks and chunk
        // metadata straight into ChunkDecoder.
        .executableTarget(
            name: "FuzzBlocks",
            dependencies: [.product(name: "FFCol", package: "ffcol"), .product(name: "FFColConvert", package: "ffcol"), "CFuzzDriver", "FuzzSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
