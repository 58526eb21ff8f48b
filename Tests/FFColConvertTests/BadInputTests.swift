import XCTest
import FFCol
@testable import FFColConvert

/// Bad input: a clear error (file, line, column, text) and no output left behind.
final class BadInputTests: XCTestCase {
    let header = "ticker,volume,open,close,high,low,window_start,transactions\n"
    let good = "AAPL,100,1.5,1.6,1.7,1.4,1759152600000000000,3\n"

    func expectFailure(_ text: String, gzip: Bool = false, kind: ConvertError.Kind, line: Int?, column: String? = nil,
                       textContains: String? = nil, file: StaticString = #filePath, lineNo: UInt = #line) throws {
        let dir = tempDir(self)
        var bytes = Array(text.utf8)
        if gzip { bytes = gzipBytes(bytes, dir: dir) }
        let root = dir + "/out"
        do {
            try convertBytes(bytes, root: root, name: "us_stocks_sip/minute_aggs_v1/2025/09/2025-09-29.csv.gz")
            XCTFail("expected \(kind)", file: file, line: lineNo)
        } catch let e as ConvertError {
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: lineNo)
            XCTAssertEqual(e.line, line, "\(e)", file: file, line: lineNo)
            XCTAssertEqual(e.column, column, "\(e)", file: file, line: lineNo)
            XCTAssertTrue(e.description.contains("2025-09-29.csv.gz"), "message names the file: \(e)", file: file, line: lineNo)
            if let t = textContains { XCTAssertTrue(e.description.contains(t), "\(e) should contain \(t)", file: file, line: lineNo) }
        }
        XCTAssertEqual(listFiles(root).filter { !$0.hasPrefix(".ffcol/") }, [], "no output or temp file left", file: file, line: lineNo)
    }

    func testWrongHeader() throws {
        try expectFailure("ticker,volume,open,close,high,low,timestamp,transactions\n" + good, kind: .badHeader, line: 1,
                          textContains: "timestamp")
    }
    func testSevenFields() throws {
        try expectFailure(header + good + "AAPL,100,1.5,1.6,1.7,1.4,1759152660000000000\n", kind: .fieldCount, line: 3,
                          textContains: "expected 8 fields, found 7")
    }
    func testNineFields() throws {
        try expectFailure(header + good + "AAPL,100,1.5,1.6,1.7,1.4,1759152660000000000,3,9\n", kind: .fieldCount, line: 3,
                          textContains: "found more")
    }
    func testNonNumericPrice() throws {
        try expectFailure(header + good + good.replacingOccurrences(of: "1.6", with: "1.6x"), kind: .badValue, line: 3,
                          column: "close", textContains: "1.6x")
        try expectFailure(header + "AAPL,100,abc,1.6,1.7,1.4,1759152600000000000,3\n", kind: .badValue, line: 2,
                          column: "open", textContains: "'abc'")
        try expectFailure(header + "AAPL,100,,1.6,1.7,1.4,1759152600000000000,3\n", kind: .badValue, line: 2,
                          column: "open", textContains: "empty value")
        try expectFailure(header + "AAPL,100,1.5,1.6,1.7,1.4,17591526e10,3\n", kind: .badValue, line: 2,
                          column: "window_start")
        try expectFailure(header + "AAPL,100,nan,1.6,1.7,1.4,1759152600000000000,3\n", kind: .badValue, line: 2, column: "open")
        try expectFailure(header + "AAPL,100,1.5,1.6,1.7,1.4,99999999999999999999,3\n", kind: .badValue, line: 2,
                          column: "window_start", textContains: "out of range")
    }
    func testEmptyLineInTheMiddle() throws {
        try expectFailure(header + good + "\n" + good, kind: .fieldCount, line: 3)
    }
    func testEmptyFileAndHeaderOnly() throws {
        try expectFailure("", kind: .emptyInput, line: nil)
        try expectFailure("", gzip: true, kind: .emptyInput, line: nil)
        try expectFailure(header, kind: .emptyInput, line: 1)
        try expectFailure(header, gzip: true, kind: .emptyInput, line: 1)
    }
    func testTruncatedGzip() throws {
        let dir = tempDir(self)
        var g = MiniCSV(seed: 1)
        let gz = gzipBytes(g.csv(tickers: ["AAPL", "MSFT"], perTicker: 200), dir: dir)
        for backend in InflateBackend.allCases { for cut in [gz.count - 1, gz.count - 8, gz.count / 2, 11] {
            do {
                try convertBytes(Array(gz[0..<cut]), root: dir + "/out", name: "2025-09-29.csv.gz", inflate: backend)
                XCTFail("truncated at \(cut) should fail (\(backend))")
            } catch let e as ConvertError {
                XCTAssertEqual(e.kind, .gzip, "\(e)")
                XCTAssertTrue(e.description.contains("2025-09-29.csv.gz"))
            }
            XCTAssertEqual(listFiles(dir + "/out"), [])
        } }
    }
    func testCorruptGzipIsCaughtByItsChecksum() throws {
        let dir = tempDir(self)
        var g = MiniCSV(seed: 2)
        var gz = gzipBytes(g.csv(tickers: ["AAPL", "MSFT"], perTicker: 200), dir: dir)
        gz[gz.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        for backend in InflateBackend.allCases {
            XCTAssertThrowsError(try convertBytes(gz, root: dir + "/out", name: "x-2025-09-29.csv.gz", inflate: backend)) { e in
                XCTAssertEqual((e as? ConvertError)?.kind, .gzip, "\(e)")
            }
            XCTAssertEqual(listFiles(dir + "/out"), [])
        }
        // Garbage after a complete member is an error too, not silently ignored.
        let good = gzipBytes(Array(header.utf8) + Array(self.good.utf8), dir: dir)
        for backend in InflateBackend.allCases {
            XCTAssertThrowsError(try convertBytes(good + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], root: dir + "/out2", name: "y-2025-09-29.csv.gz",
                                                  inflate: backend)) { e in
                XCTAssertEqual((e as? ConvertError)?.kind, .gzip, "\(backend): \(e)")
            }
        }
    }
    /// A damaged member that ISA-L rejects after decoding part of it, read in 61-byte output
    /// blocks (found by FuzzGzip): both decoders throw a ConvertError naming a byte offset within
    /// the file; computing the offset trapped with an arithmetic overflow before.
    func testDamagedGzipFoundByFuzzingIsAnErrorWithBothDecoders() throws {
        let body: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x75, 0x9c, 0x6b, 0xcf, 0xb4, 0x35,
            0x6e, 0x80, 0xbf, 0xbf, 0xbf, 0xe5, 0xd1, 0x28, 0xb1, 0xe3, 0x1c, 0x3e, 0x72, 0x54, 0xab, 0xb2,
            0xbb, 0x9c, 0xba, 0x2d, 0x7c, 0xa9, 0x10, 0x45, 0x5d, 0x54, 0x0a, 0x08, 0x68, 0xf9, 0xfb, 0x75,
            0xe2, 0x43, 0xec, 0x61, 0x58, 0xad, 0x26, 0x93, 0x9b, 0xe7, 0x4a, 0x72, 0x3b, 0xb6, 0x63, 0x27,
            0x99, 0xf7, 0xb7, 0xef, 0xbf, 0xfd, 0xef, 0xef, 0x7e, 0x79, 0xfb, 0xbf, 0x9f, 0x7e, 0xf8, 0xdf,
            0xff, 0xf9, 0xee, 0xed, 0xa7, 0x9f, 0xbf, 0xfb, 0xf1, 0xed, 0xdb, 0x1f, 0x7e, 0xfa, 0xf5, 0xbb,
            0xb7, 0x7f, 0x7c, 0xff, 0x5f, 0xff, 0x78, 0xfb, 0xe1, 0xa7, 0xdf, 0xdf, 0x7e, 0xff, 0xfe, 0xc7,
            0xff, 0xfc, 0xe9, 0xf7, 0xff, 0xf8, 0xf5, 0xb7, 0x6f, 0x7e, 0xf9, 0xed, 0xed, 0xb7, 0x5f, 0xbe,
            0xf9, 0xf1, 0xd7, 0x6f, 0xbe, 0xfd, 0xed, 0xfb, 0x9f, 0x7e, 0xfc, 0xf5, 0xdd, 0x7b, 0xef, 0x7d,
            0xfa, 0xc9, 0x5b, 0x2d, 0xbd, 0xbd, 0x01, 0xb5, 0x07, 0x9e, 0x4f, 0x90, 0xa2, 0x8d, 0x53, 0xd4,
            0xf3, 0xd4, 0x66, 0x17, 0xb6, 0xb5, 0x05, 0x27, 0x1d, 0xc2, 0xc2, 0xe4, 0x3f, 0x08, 0x14, 0x81,
            0x02
        ]
        for backend in [InflateBackend.zlib, .isal] {
            XCTAssertThrowsError(try ConvertStages.inflate(source: MemorySource(body, name: "fuzz.csv.gz", piece: 4096),
                                                           blockSize: 61, backend: backend), "\(backend)") { e in
                guard let c = e as? ConvertError else { return XCTFail("\(backend): \(e)") }
                XCTAssertTrue("\(c)".contains("fuzz.csv.gz"), "\(c)")
                XCTAssertTrue("\(c)".contains("gzip"), "\(c)")
            }
        }
    }

    /// RFC 1952: a decoder must reject a member whose reserved FLG bits (5-7) are set, and
    /// must check FHCRC when it is present. zlib does both; ISA-L accepted reserved bits
    /// (found by FuzzGzip: zlib failed and ISA-L returned 0 bytes for the same file).
    func testGzipHeaderFlagsAreCheckedTheSameWayByBothDecoders() throws {
        let fuzzFound: [UInt8] = [0x1f, 0x8b, 0x08, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        // "ticker,volume\n" with FHCRC set and the right header CRC.
        let withHeaderCRC: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xa7, 0x77, 0x2b, 0xc9, 0x4c, 0xce,
            0x4e, 0x2d, 0xd2, 0x29, 0xcb, 0xcf, 0x29, 0xcd, 0x4d, 0xe5, 0x02, 0x00, 0x26, 0xd5, 0x0c, 0x0e,
            0x0e, 0x00, 0x00, 0x00]
        // The same with FEXTRA (5 bytes, one of them 0), FNAME, FCOMMENT and FHCRC.
        let allFields: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x05, 0x00, 0x41, 0x42, 0x00, 0x43,
            0x44, 0x78, 0x2e, 0x63, 0x73, 0x76, 0x00, 0x68, 0x69, 0x00, 0x4f, 0x27, 0x2b, 0xc9, 0x4c, 0xce,
            0x4e, 0x2d, 0xd2, 0x29, 0xcb, 0xcf, 0x29, 0xcd, 0x4d, 0xe5, 0x02, 0x00, 0x26, 0xd5, 0x0c, 0x0e,
            0x0e, 0x00, 0x00, 0x00]
        var badAllFields = allFields; badAllFields[24] ^= 0x20  // the comment, under the header CRC
        var badLength = withHeaderCRC; badLength[32] ^= 1       // ISIZE in the trailer
        var badHeaderCRC = withHeaderCRC; badHeaderCRC[10] ^= 1
        var reserved = withHeaderCRC; reserved[3] |= 0x80
        let secondMemberReserved = withHeaderCRC + reserved
        for piece in [1, 2, 3, 4, 5, 7, 4096] {
            for backend in [InflateBackend.zlib, .isal] {
                let what = "\(backend), piece \(piece)"
                XCTAssertEqual(try ConvertStages.inflate(source: MemorySource(withHeaderCRC, name: "ok.csv.gz", piece: piece),
                                                         blockSize: 61, backend: backend), 14, what)
                XCTAssertEqual(try ConvertStages.inflate(source: MemorySource(allFields + withHeaderCRC, name: "ok.csv.gz",
                                                                              piece: piece), blockSize: 61, backend: backend), 28, what)
                XCTAssertEqual(try ConvertStages.inflate(source: MemorySource(withHeaderCRC + withHeaderCRC, name: "ok.csv.gz",
                                                                              piece: piece), blockSize: 61, backend: backend), 28, what)
                for (name, body, expect) in [("fuzz.csv.gz", fuzzFound, "header"), ("hcrc.csv.gz", badHeaderCRC, "header"),
                                             ("flags.csv.gz", reserved, "header"), ("second.csv.gz", secondMemberReserved, "header"),
                                             ("fields.csv.gz", badAllFields, "header"), ("isize.csv.gz", badLength, "gzip")] {
                    XCTAssertThrowsError(try ConvertStages.inflate(source: MemorySource(body, name: name, piece: piece),
                                                                   blockSize: 61, backend: backend), "\(name) \(what)") { e in
                        guard let c = e as? ConvertError else { return XCTFail("\(name) \(what): \(e)") }
                        XCTAssertTrue("\(c)".contains(name), "\(c)")
                        XCTAssertTrue("\(c)".contains(expect), "\(what): \(c)")
                    }
                }
            }
        }
    }

    func testLineTooLong() throws {
        let long = String(repeating: "A", count: 3 << 20)
        try expectFailure(header + good + long + ",1,1,1,1,1,1759152600000000000,1\n", kind: .lineTooLong, line: 3)
    }
    func testStrictRejectsRowsOutsideTheDate() throws {
        let dir = tempDir(self)
        let csv = header + good + "MSFT,1,1,1,1,1,1759239000000000000,1\n"  // 2025-09-30 09:30 ET
        let r = try convertBytes(Array(csv.utf8), root: dir + "/a")
        XCTAssertEqual(r.dateMismatches, 1)
        XCTAssertEqual(r.firstMismatchLine, 3)
        XCTAssertThrowsError(try convertBytes(Array(csv.utf8), root: dir + "/b", strict: true)) { e in
            XCTAssertEqual((e as? ConvertError)?.kind, .strict)
            XCTAssertEqual((e as? ConvertError)?.line, 3)
        }
        XCTAssertEqual(listFiles(dir + "/b"), [])
    }
}
