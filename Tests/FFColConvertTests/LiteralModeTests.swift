@testable import FFCol
@testable import FFColConvert
import XCTest

/// The writer's literal mode per block slot (ChunkEncoder): raw literals where Huffman coding
/// gains little, Huffman-coded literals elsewhere; both decode to the same values.
final class LiteralModeTests: XCTestCase {
    /// Literals_Block_Type of the first block of a zstd frame (RFC 8878, 3.1.1.3.1.1):
    /// 0 raw, 1 RLE, 2 compressed, 3 treeless; nil if that block is not a compressed block.
    private func firstLiteralsType(_ f: UnsafeRawBufferPointer) throws -> Int? {
        XCTAssertGreaterThan(f.count, 9)
        XCTAssertEqual(UInt32(littleEndian: f.loadUnaligned(as: UInt32.self)), 0xFD2F_B528, "zstd magic")
        let fhd = f[4]
        let single = (fhd >> 5) & 1
        var pos = 5 + (single == 0 ? 1 : 0) + [0, 1, 2, 4][Int(fhd & 3)]
        pos += [single == 1 ? 1 : 0, 2, 4, 8][Int(fhd >> 6)]
        XCTAssertLessThan(pos + 3, f.count)
        let header = UInt32(f[pos]) | UInt32(f[pos + 1]) << 8 | UInt32(f[pos + 2]) << 16
        guard (header >> 1) & 3 == 2 else { return nil }
        return Int(f[pos + 3] & 3)
    }

    func testVolumesGetRawLiteralsAndPricesHuffmanCodedOnes() throws {
        // Stocks minute bars: volumes spread over several orders of magnitude, so their low
        // bytes are close to random; prices cluster (few distinct digits per ticker).
        var csv: [UInt8] = []
        let o = SynthOptions(dataset: .stocksMinute, date: TradingDate("2025-09-29")!, rows: 120_000, seed: 7)
        _ = try Synth.generate(o) { csv.append(contentsOf: $0) }
        let root = tempDir(self)
        try convertBytes(csv, root: root)
        let f = try FFCFile(path: Store(root: root).path(dataset: .stocksMinute, date: TradingDate("2025-09-29")!))
        XCTAssertGreaterThan(f.chunkCount, 3)
        for i in 0..<f.chunkCount {
            let meta = f.chunkMeta(i)
            let volume = meta.columns[Column.volume.rawValue].block
            let open = meta.columns[Column.open.rawValue].block
            XCTAssertEqual(volume.compression, 1, "chunk \(i)")
            XCTAssertEqual(open.compression, 1, "chunk \(i)")
            XCTAssertEqual(try f.stored(volume).withUnsafeBytes { try firstLiteralsType($0) }, 0, "chunk \(i): volume literals stored raw")
            XCTAssertEqual(try f.stored(open).withUnsafeBytes { try firstLiteralsType($0) }, 2, "chunk \(i): open literals Huffman-coded")
        }
        // Whatever the mode, every value reads back as the CSV said.
        try f.verify()
        XCTAssertEqual(try readAll(f), sortedRef(referenceRows(csv)))
    }
}
