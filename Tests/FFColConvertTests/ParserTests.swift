import XCTest
import FFCol
@testable import FFColConvert

/// The parser on its own: numbers, line endings, splits, errors.
final class ParserTests: XCTestCase {
    final class Collect {
        var rows: [RefRow] = []
    }

    /// Parses one price text through the converter and returns the stored Double.
    func parsePrice(_ text: String) throws -> Double {
        let dir = tempDir(self)
        let csv = Array("ticker,volume,open,close,high,low,window_start,transactions\nA,1,\(text),1,1,1,1759152600000000000,1\n".utf8)
        let r = try convertBytes(csv, root: dir)
        let f = try FFCFile(path: r.output)
        return try XCTUnwrap(f.bars(ticker: "A")).open.first!
    }

    func testDoublesAreBitIdenticalToSwiftParsing() throws {
        let texts = ["147.3", "0.0125", "12", "17.740000", "69.86160000000000", "1e-05", "1.5E+01", "2.5e+1", "-3.25",
                     "0", "0.0", "-0", "+7.5", "123456789012345678901234", "0.1000000000000000055511151231257827",
                     "9007199254740993", "9007199254740992.5", "1.7976931348623157e308", "4.9e-324",
                     "2.2250738585072014e-308", "0.30000000000000004", "1234567.890123456789", "00012.500",
                     "1.", ".5", "1e22", "1e23", "123456789e-30", "3.0e-3", "99999999999999999999e-20"]
        // One file with every text, checked value by value.
        let dir = tempDir(self)
        var csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
        for (i, t) in texts.enumerated() {
            let ticker = "T" + String(1000 + i)
            csv += "\(ticker),1,\(t),\(t),\(t),\(t),1759152600000000000,1\n"
        }
        let r = try convertBytes(Array(csv.utf8), root: dir)
        let f = try FFCFile(path: r.output)
        for (i, t) in texts.enumerated() {
            let b = try XCTUnwrap(f.bars(ticker: "T" + String(1000 + i)))
            let want = try XCTUnwrap(Double(t), "Swift cannot parse \(t)")
            XCTAssertEqual(b.open.first!.bitPattern, want.bitPattern, "text \(t): got \(b.open.first!), want \(want)")
            XCTAssertEqual(b.low.first!.bitPattern, want.bitPattern, "text \(t)")
        }
    }

    func testRandomDoublesInManyFormsRoundTrip() throws {
        var g = MiniCSV(seed: 7)
        var texts: [String] = []
        for _ in 0..<3000 {
            let bits = g.next()
            var v = Double(bitPattern: bits & 0x7FFF_FFFF_FFFF_FFFF)
            if !v.isFinite { continue }
            switch g.below(4) {
            case 0: texts.append(v.description)                       // shortest, maybe with exponent
            case 1: v = Double(g.below(10_000_000)) / 10_000; texts.append(g.fixed(v, g.below(16)))
            case 2: v = Double(g.below(100_000)) / 100; texts.append(g.exponent(v))
            default: texts.append(g.fixed(Double(g.below(1_000_000)) / 100, 2))
            }
        }
        let dir = tempDir(self)
        var csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
        for (i, t) in texts.enumerated() { csv += "T\(100_000 + i),\(t),\(t),1,1,1,1759152600000000000,1\n" }
        let r = try convertBytes(Array(csv.utf8), root: dir, chunkRows: 500)
        assertSameRows(try readAll(try FFCFile(path: r.output)), sortedRef(referenceRows(Array(csv.utf8))), "mismatch")
    }

    /// Fails on a different row count, and at the first row that differs.
    func assertSameRows(_ got: [RefRow], _ want: [RefRow], _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, context, file: file, line: line)
        if let (a, b) = zip(got, want).first(where: { $0 != $1 }) {
            XCTFail("\(context): \(String(decoding: a.ticker, as: UTF8.self)) got \(a) want \(b)", file: file, line: line)
        }
    }

    /// Prices whose text repeats the field before them are taken from it without parsing; every
    /// near miss must still be parsed: a text that differs only in its last byte, only past 8
    /// or 16 bytes, one that is a prefix of the other, the same value written differently,
    /// fields longer than the 16 bytes compared, and repeats near the end of a block.
    func testRepeatedPriceTextsAndNearMisses() throws {
        var g = MiniCSV(seed: 17)
        let bases = ["1", "12", "0.5", "68.52", "123.4567", "1234567.", "12345678.1234567", "0.000000012345678",
                     "123456789.0123456789", "1e-05", "-3.25", "9007199254740993", "1.5E+01", "99999999999999999999e-20"]
        func variant(_ t: String) -> String {
            switch g.below(9) {
            case 0, 1, 2, 3: return t                                   // the same text
            case 4: return t + "0"                                       // same value (mostly), longer text
            case 5: return String(t.dropLast()) + (t.last == "9" ? "8" : "9")  // last byte differs
            case 6: return t + "1"                                       // the previous text is a prefix
            case 7: return String(t.dropLast())                          // a prefix of the previous text
            default: return bases[g.below(bases.count)]
            }
        }
        var csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
        for i in 0..<4000 {
            var t = bases[g.below(bases.count)]
            if t.count > 1, g.below(3) == 0, Double(String(t.dropLast())) != nil { t = String(t.dropLast()) }
            var fields = [t]
            for _ in 0..<3 { let v = variant(fields.last!); fields.append(Double(v) == nil ? "7" : v) }
            csv += "T\(100_000 + i),1,\(fields.joined(separator: ",")),1759152600000000000,1\n"
        }
        let bytes = Array(csv.utf8)
        let want = sortedRef(referenceRows(bytes))
        let dir = tempDir(self)
        for block in [1 << 20, 4093, 97] {
            let r = try convertBytes(bytes, root: dir + "/\(block)", chunkRows: 700, blockSize: block, piece: block)
            assertSameRows(try readAll(try FFCFile(path: r.output)), want, "block \(block)")
        }
    }

    /// A row whose ticker repeats the previous row's is not searched or checked again; every
    /// near miss must still be: tickers of 1 to 40 bytes (the remembered copy holds 32), one
    /// byte longer or shorter than the previous (a prefix either way), differing only in the
    /// first or last byte of an 8-byte word or in the last byte, and rows near a block's end.
    func testRepeatedTickersAndNearMisses() throws {
        var g = MiniCSV(seed: 23)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:")
        // Each near miss right after its base ticker (the input need not be sorted).
        var tickers: [String] = []
        for n in 1...40 {
            let t = String((0..<n).map { _ in letters[g.below(letters.count)] })
            var misses = [t + "A"]                                // the base is a prefix
            if n > 1 { misses.append(String(t.dropLast())) }      // a prefix of the base
            // One byte differs: the first or last of an 8-byte word, or the ticker's last.
            for k in Set(Array(stride(from: 0, to: n, by: 8)) + Array(stride(from: 7, to: n, by: 8)) + [n - 1]).sorted() {
                var b = Array(t.utf8); b[k] = b[k] == UInt8(ascii: "Z") ? UInt8(ascii: "Y") : UInt8(ascii: "Z")
                misses.append(String(decoding: b, as: UTF8.self))
            }
            for m in misses { tickers += [t, m] }
        }
        var csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
        var ts: Int64 = 1_759_152_600_000_000_000
        for (i, t) in tickers.enumerated() {
            for _ in 0..<(1 + g.below(3)) {
                ts += 60_000_000_000
                csv += "\(t),\(1 + g.below(900)),\(i).5,1,1,1,\(ts),\(1 + g.below(9))\n"
            }
        }
        let bytes = Array(csv.utf8)
        let want = sortedRef(referenceRows(bytes))
        let dir = tempDir(self)
        for block in [1 << 20, 4093, 97, 33] {
            let r = try convertBytes(bytes, root: dir + "/\(block)", blockSize: block, piece: block)
            XCTAssertEqual(try readAll(try FFCFile(path: r.output)), want, "block \(block)")
        }
        // A control byte in a ticker that otherwise repeats the previous one is still rejected.
        let bad = Array("ticker,volume,open,close,high,low,window_start,transactions\nABCDEFGHIJ,1,1,1,1,1,\(ts),1\nABCDEFGHIJ\u{01},1,1,1,1,1,\(ts + 60_000_000_000),1\n".utf8)
        XCTAssertThrowsError(try convertBytes(bad, root: dir + "/bad")) { e in
            XCTAssertEqual((e as? ConvertError)?.line, 3, "\(e)")
        }
    }

    /// window_start values of a whole second take a shortcut (19 digits, the last nine zeros,
    /// then a comma); every near miss must still be parsed: a nonzero digit in any of the nine,
    /// 18 or 20 digits, a leading zero, a sign, small values, the largest whole second, and
    /// rows near a block's end. A non-digit among the first ten digits, or a second past
    /// Int64.max nanoseconds, is an error either way.
    func testTimestampsAndNearMisses() throws {
        var g = MiniCSV(seed: 29)
        let base: Int64 = 1_759_152_600_000_000_000
        var stamps: [String] = []
        for k in 0..<300 {
            let s = base + Int64(g.below(86_400)) * 1_000_000_000
            stamps.append(String(s))
            switch k % 8 {
            case 0: stamps.append(String(s + (0..<g.below(9)).reduce(1) { a, _ in a * 10 }))  // one of the nine is not 0
            case 1: stamps.append("0" + String(s))                                   // 20 digits
            case 2: stamps.append(String(s / 10))                                    // 18 digits
            case 3: stamps.append("+" + String(s))
            case 4: stamps.append(String(g.below(1000)))
            case 6: stamps.append(k % 16 == 6 ? "9223372036000000000" : "0000000000000000000")  // the largest second; zero
            case 5: stamps.append(String(s) + "0")                                   // too large
            default: break
            }
        }
        var csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
        var good = 0
        for (i, s) in stamps.enumerated() where Int64(s) != nil && !s.hasPrefix("+") {
            csv += "T\(100_000 + i),1,1.5,1.5,1.5,1.5,\(s),\(1 + g.below(9))\n"
            good += 1
        }
        let bytes = Array(csv.utf8)
        let want = sortedRef(referenceRows(bytes))
        XCTAssertEqual(want.count, good)
        let dir = tempDir(self)
        for block in [1 << 20, 4093, 97, 33] {
            let r = try convertBytes(bytes, root: dir + "/\(block)", blockSize: block, piece: block)
            assertSameRows(try readAll(try FFCFile(path: r.output)), want, "block \(block)")
        }
        // Not integers: rejected on their line, a non-digit among the first ten digits too.
        for bad in ["1759152:00000000000", "17591526/0000000000", "175915260a000000000", "+1759152600000000000",
                    "17591526000000000000", "9223372037000000000", "9999999999000000000"] {
            let text = Array("ticker,volume,open,close,high,low,window_start,transactions\nA,1,1,1,1,1,\(base),1\nB,1,1,1,1,1,\(bad),1\nC,1,1,1,1,1,\(base),1\n".utf8)
            XCTAssertThrowsError(try convertBytes(text, root: dir + "/bad"), bad) { e in
                XCTAssertEqual((e as? ConvertError)?.line, 3, "\(bad): \(e)")
            }
        }
    }

    func testIntegersAtTheEdges() throws {
        let dir = tempDir(self)
        let cases: [(String, Int64?)] = [
            ("1759152600000000000", 1_759_152_600_000_000_000), ("9223372036854775807", Int64.max),
            ("-9223372036854775808", Int64.min), ("0000000000000000000001", 1), ("7", 7), ("-1", -1),
            ("12345678901234567", 12_345_678_901_234_567), ("9223372036854775808", nil), ("99999999999999999999", nil),
            ("17591526000000x0000", nil), ("1759152600000000000.0", nil), ("+5", nil), ("", nil), ("1e9", nil),
        ]
        for (i, (text, want)) in cases.enumerated() {
            let csv = "ticker,volume,open,close,high,low,window_start,transactions\nA,1,1,1,1,1,1759152600000000000,\(text)\n"
            do {
                let r = try convertBytes(Array(csv.utf8), root: dir + "/\(i)")
                let got = try XCTUnwrap(FFCFile(path: r.output).bars(ticker: "A")).transactions.first
                XCTAssertEqual(got, want, text)
            } catch let e as ConvertError {
                XCTAssertNil(want, "\(text): \(e)")
                XCTAssertEqual(e.column, "transactions", "\(text): \(e)")
                XCTAssertEqual(e.line, 2)
            }
        }
    }

    func testCRLFBOMAndMissingFinalNewline() throws {
        var g = MiniCSV(seed: 3)
        for (crlf, bom, final) in [(true, false, true), (false, true, true), (false, false, false), (true, true, false)] {
            let csv = g.csv(tickers: ["AAPL", "MSFT", "BRK.A"], perTicker: 20, crlf: crlf, bom: bom, finalNewline: final)
            let dir = tempDir(self)
            let r = try convertBytes(csv, root: dir)
            XCTAssertEqual(try readAll(try FFCFile(path: r.output)), sortedRef(referenceRows(csv)), "crlf \(crlf) bom \(bom) final \(final)")
        }
    }

    /// Every split of a small file into blocks: 1 byte, 2 bytes, ... up to the whole file.
    func testRowSplitAtEveryBufferBoundary() throws {
        var g = MiniCSV(seed: 11)
        let csv = g.csv(tickers: ["A", "BRK.A", "ZVZZT"], perTicker: 4, crlf: true)
        let want = sortedRef(referenceRows(csv))
        let dir = tempDir(self)
        for size in 1...csv.count {
            let r = try convertBytes(csv, root: dir + "/\(size)", blockSize: size, piece: max(1, size / 2))
            XCTAssertEqual(try readAll(try FFCFile(path: r.output)), want, "block size \(size)")
        }
        // And through gzip with tiny input reads, with both decoders.
        let gz = gzipBytes(csv, dir: dir)
        for backend in InflateBackend.allCases {
            for piece in [1, 2, 3, 7, 64] {
                let r = try convertBytes(gz, root: dir + "/gz\(piece)\(backend)", blockSize: 5, piece: piece, inflate: backend)
                XCTAssertEqual(try readAll(try FFCFile(path: r.output)), want, "gzip piece \(piece) \(backend)")
            }
        }
    }

    func testMultiMemberGzip() throws {
        let dir = tempDir(self)
        var g = MiniCSV(seed: 5)
        let csv = g.csv(tickers: ["AAPL", "MSFT", "TSLA"], perTicker: 30)
        let half = csv.count / 2
        let gz = gzipBytes(Array(csv[0..<half]), dir: dir) + gzipBytes(Array(csv[half...]), dir: dir)
        for backend in InflateBackend.allCases {
            for piece in [1 << 20, 13] {
                let r = try convertBytes(gz, root: dir + "/\(backend)\(piece)", piece: piece, inflate: backend)
                XCTAssertEqual(try readAll(try FFCFile(path: r.output)), sortedRef(referenceRows(csv)), "\(backend)")
            }
        }
    }
}
