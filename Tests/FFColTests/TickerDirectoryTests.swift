import XCTest
@testable import FFCol

/// The ticker directory decoder on valid and damaged blocks (after decompression, as if the
/// checksum had passed): every damaged block decodes or throws, never traps or reads outside.
/// (Run under AddressSanitizer by `make check-asan`.)
final class TickerDirectoryTests: XCTestCase {
    struct Bad: Error { let message: String }

    /// Option contracts that share long prefixes, stocks, and one-letter names.
    let tickers: [String] = ["A", "AA", "AAPL", "O:AAPL251017C00150000", "O:AAPL251017C00155000",
                             "O:AAPL251017P00150000", "O:SPY251001C00661000", "O:SPY251001C00662000",
                             "O:SPY260116C00700000", "SPY", "Z"]

    private func encoded() -> (block: [UInt8], rows: Int) {
        var names: [UInt8] = [], nameEnds: [UInt32] = [], rowEnds: [UInt32] = []
        var rows: UInt32 = 0
        for (i, t) in tickers.enumerated() {
            names += Array(t.utf8); nameEnds.append(UInt32(names.count))
            rows += UInt32(1 + i % 4); rowEnds.append(rows)
        }
        var w = ByteWriter(capacity: 256)
        names.withUnsafeBytes { n in
            nameEnds.withUnsafeBufferPointer { ne in
                rowEnds.withUnsafeBufferPointer { re in TickerDirectory.encode(names: n, nameEnds: ne, rowEnds: re, into: &w) }
            }
        }
        return (w.bytes, Int(rows))
    }

    private func decode(_ b: [UInt8], rows: Int, count: Int) throws -> TickerDirectory {
        try b.withUnsafeBytes { try TickerDirectory(decoding: $0, rowCount: rows, tickerCount: count, fail: { Bad(message: $0) }) }
    }

    func testRoundTripWithSharedPrefixes() throws {
        let (b, rows) = encoded()
        let d = try decode(b, rows: rows, count: tickers.count)
        XCTAssertEqual((0..<d.count).map { d.nameString($0) }, tickers)
        XCTAssertEqual(d.rows(0), 0..<1)
        XCTAssertEqual(d.rows(tickers.count - 1).upperBound, rows)
        XCTAssertEqual(d.names.count, tickers.reduce(0) { $0 + $1.utf8.count })
    }

    /// Each stored prefix length is exactly the bytes shared with the previous name (the
    /// encoder compares 8 bytes at a time): names of 1 to 40 bytes from a two-letter alphabet,
    /// so that shared prefixes of every length and alignment occur.
    func testPrefixLengthsAreExact() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        var set = Set<[UInt8]>()
        while set.count < 3000 {
            let n = 1 + Int(next() % 40)
            set.insert((0..<n).map { _ in next() % 7 == 0 ? UInt8(ascii: "B") : UInt8(ascii: "A") })
        }
        let sorted = set.sorted { $0.lexicographicallyPrecedes($1) }
        var names: [UInt8] = [], nameEnds: [UInt32] = [], rowEnds: [UInt32] = []
        for (i, t) in sorted.enumerated() { names += t; nameEnds.append(UInt32(names.count)); rowEnds.append(UInt32(i + 1)) }
        var w = ByteWriter(capacity: 1 << 16)
        names.withUnsafeBytes { nb in nameEnds.withUnsafeBufferPointer { ne in rowEnds.withUnsafeBufferPointer { re in
            TickerDirectory.encode(names: nb, nameEnds: ne, rowEnds: re, into: &w)
        } } }
        let k = sorted.count
        let width = Int(w.bytes[4 + 1])
        let prefixStart = 4 + IntCodec.headerSize + k * width
        for i in 0..<k {
            let prev: [UInt8] = i == 0 ? [] : sorted[i - 1]
            let want = zip(prev, sorted[i]).prefix { $0 == $1 }.count
            XCTAssertEqual(Int(w.bytes[prefixStart + i]), want, "name \(i): \(String(decoding: sorted[i], as: UTF8.self))")
            XCTAssertEqual(Int(w.bytes[prefixStart + k + i]), sorted[i].count - want)
        }
        let d = try decode(w.bytes, rows: k, count: k)
        XCTAssertEqual((0..<k).map { Array(d.nameString($0).utf8) }, sorted)
    }

    func testEveryTruncationAndByteFlipDecodesOrThrows() throws {
        let (b, rows) = encoded()
        var decoded = 0, thrown = 0
        for n in 0..<b.count {
            XCTAssertThrowsError(try decode(Array(b[0..<n]), rows: rows, count: tickers.count), "truncated to \(n)")
        }
        for i in 0..<b.count {
            for x: UInt8 in [0x01, 0x02, 0x10, 0x80, 0xFF] {
                var m = b
                m[i] ^= x
                do {
                    let d = try decode(m, rows: rows, count: tickers.count)
                    decoded += 1
                    // What decodes is self-consistent: names ascending, rows adding up.
                    XCTAssertEqual(d.rows(d.count - 1).upperBound, rows)
                    for k in 1..<d.count { XCTAssertLessThan(d.compare(k - 1, d.name(k)), 0) }
                } catch is Bad {
                    thrown += 1
                }
            }
        }
        XCTAssertGreaterThan(thrown, b.count, "most damage must be caught")
        XCTAssertEqual(decoded + thrown, b.count * 5)
        // A stray byte after the suffixes, and counts that disagree with the chunk table.
        XCTAssertThrowsError(try decode(b + [0x41], rows: rows, count: tickers.count))
        XCTAssertThrowsError(try decode(b, rows: rows + 1, count: tickers.count))
        XCTAssertThrowsError(try decode(b, rows: rows, count: tickers.count - 1))
    }
}
