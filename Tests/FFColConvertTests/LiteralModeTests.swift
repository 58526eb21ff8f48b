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

    func testVolumesGetRawLiteralsAndHighsHuffmanCodedOnes() throws {
        // Stocks minute bars: volumes spread over several orders of magnitude, so their low
        // bytes are close to random; highs above the bar's body are mostly 0.
        var csv: [UInt8] = []
        let o = SynthOptions(dataset: .stocksMinute, date: TradingDate("2025-09-29")!, rows: 120_000, seed: 7)
        _ = try Synth.generate(o) { csv.append(contentsOf: $0) }
        let root = tempDir(self)
        try convertBytes(csv, root: root)
        let f = try FFCFile(path: Store(root: root).path(dataset: .stocksMinute, date: TradingDate("2025-09-29")!))
        XCTAssertGreaterThan(f.chunkCount, 3)
        // Each column of each page is a frame of its own (format versions 2 and 3).
        var volumeHuffman = 0, highHuffman = 0, pageCount = 0
        for i in 0..<f.chunkCount {
            let pages = try XCTUnwrap(try f.pageTable(i), "version 2 chunks have pages")
            for j in 0..<pages.count {
                pageCount += 1
                func literals(_ c: Column) throws -> Int? {
                    let b = pages.block(c, j)
                    return b.compression == 1 ? try f.stored(b).withUnsafeBytes { try firstLiteralsType($0) } : nil
                }
                if try literals(.volume) == 2 { volumeHuffman += 1 }
                if try literals(.high) == 2 { highHuffman += 1 }
            }
        }
        XCTAssertGreaterThan(pageCount, f.chunkCount)
        XCTAssertEqual(volumeHuffman, 0, "volume literals stored raw")
        XCTAssertGreaterThan(highHuffman, pageCount * 9 / 10, "high literals Huffman-coded (mostly zeros)")
        // Whatever the mode, every value reads back as the CSV said.
        try f.verify()
        XCTAssertEqual(try readAll(f), sortedRef(referenceRows(csv)))
    }
}
