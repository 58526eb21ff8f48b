import Foundation
import XCTest
import FFCol
@testable import FFColConvert

/// Inputs meant to hurt: absurd lines, binary tickers, impossible dates, directories and loops
/// where files are expected, unreadable inputs and an output root that cannot exist. Each is a
/// clear error naming the path, leaves no output for that input, and does not stop the others.
final class HostileInputTests: XCTestCase {
    let header = "ticker,volume,open,close,high,low,window_start,transactions\n"
    let good = "AAPL,100,1.5,1.6,1.7,1.4,1759152600000000000,3\n"
    var work = ""
    override func setUp() { work = tempDir(self) }

    func convertError(_ text: [UInt8], piece: Int = 1 << 20) -> ConvertError? {
        do {
            try convertBytes(text, root: work + "/out", name: "us_stocks_sip/minute_aggs_v1/2025/09/2025-09-29.csv")
            return nil
        } catch let e as ConvertError {
            return e
        } catch {
            XCTFail("unexpected error type: \(error)")
            return nil
        }
    }

    func testTenMegabyteLineIsLineTooLong() throws {
        var bytes = Array((header + good).utf8)
        bytes += Array("MSFT,".utf8) + [UInt8](repeating: UInt8(ascii: "9"), count: 10 << 20) + Array(",1,1,1,1,1,1\n".utf8)
        let e = try XCTUnwrap(convertError(bytes))
        XCTAssertEqual(e.kind, .lineTooLong, "\(e)")
        XCTAssertEqual(e.line, 3)
        XCTAssertTrue(e.description.contains("2025-09-29.csv"), "\(e)")
        XCTAssertEqual(listFiles(work + "/out").filter { !$0.hasPrefix(".ffcol/") }, [])
    }

    func testTickerWithControlOrNonASCIIBytesIsRejectedAndShownEscaped() throws {
        for bad in [[UInt8(ascii: "A"), 0x07, UInt8(ascii: "B")], [0xC3, 0xA9], [UInt8(ascii: "X"), 0x7F], [0x00]] {
            let bytes = Array((header + good).utf8) + bad + Array(",1,1,1,1,1,1759152660000000000,1\n".utf8)
            let e = try XCTUnwrap(convertError(bytes), "\(bad)")
            XCTAssertEqual(e.kind, .badValue, "\(e)")
            XCTAssertEqual(e.column, "ticker")
            XCTAssertEqual(e.line, 3)
            XCTAssertTrue(e.description.contains("not printable ASCII") && e.description.contains("\\x"), "\(e)")
            XCTAssertTrue(e.description.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "message is printable: \(e)")
        }
        // Every printable ASCII byte (except the comma) is a valid ticker byte.
        let all = (0x21...0x7E).filter { $0 != 0x2C }.map { UInt8($0) }
        XCTAssertNil(convertError(Array(header.utf8) + all + Array(",1,1,1,1,1,1759152660000000000,1\n".utf8)))
    }

    /// Tickers of every length up to past 32 bytes (where the parser stops looking at 32 bytes at
    /// once), with a byte that is not printable ASCII at the start, middle or end, or none; each
    /// followed by more lines, so that 32 bytes remain after it.
    func testTickersOfEveryLengthWithABadByteAnywhere() throws {
        let rest = ",1,1,1,1,1,1759152660000000000,1\n"
        for length in 1...36 {
            let name = (0..<length).map { i in UInt8(ascii: "A") + UInt8(i % 26) }
            for bad in [nil, 0, length / 2, length - 1] {
                var ticker = name
                if let bad { ticker[bad] = [0x07, 0xC3, 0x7F, 0x1F][length % 4] }
                let bytes = Array((header + good).utf8) + ticker + Array((rest + good + good).utf8)
                let e = convertError(bytes)
                if bad == nil {
                    // In order after AAPL, then AAPL again: an unsorted file, converted.
                    XCTAssertNil(e, "length \(length)")
                } else {
                    let e = try XCTUnwrap(e, "length \(length) bad byte at \(bad!)")
                    XCTAssertEqual(e.kind, .badValue, "\(e)")
                    XCTAssertEqual(e.column, "ticker", "\(e)")
                    XCTAssertEqual(e.line, 3, "\(e)")
                    XCTAssertTrue(e.description.contains("byte \(bad! + 1) of the ticker"), "\(e)")
                }
            }
        }
        // A line that ends, or has no comma, within its first 32 bytes.
        for line in ["\n", "ABC\n", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\r\n", ",1,1,1,1,1,1759152660000000000,1\n"] {
            let e = try XCTUnwrap(convertError(Array((header + good + line + good + good).utf8)), line)
            XCTAssertEqual(e.line, 3, "\(e)")
            XCTAssertTrue(e.kind == .fieldCount || e.kind == .badValue, "\(e)")
        }
    }

    func testImpossibleDateInTheNameAsksForDate() {
        var o = ConvertOptions(outRoot: work + "/out")
        o.dataset = .stocksMinute
        XCTAssertThrowsError(try Converter.identify("flat/us_stocks_sip/minute_aggs_v1/2025/02/2025-02-30.csv.gz", options: o)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("2025-02-30") && s.contains("not a valid date") && s.contains("--date"), s)
        }
    }

    func testDirectoryWhereAFileIsExpected() throws {
        let d = work + "/2025-09-29.csv.gz"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        var o = ConvertOptions(outRoot: work + "/out")
        o.dataset = .stocksMinute
        XCTAssertThrowsError(try Converter.convert(path: d, options: o)) { e in
            XCTAssertTrue("\(e)".contains(d) && "\(e)".contains("is a directory"), "\(e)")
        }
        XCTAssertEqual(listFiles(work + "/out"), [])
    }

    /// Through the command line: one good input next to a symlink loop, an impossible date, a
    /// 10 MB line, a bad ticker and (unless root) an unreadable file.
    func testHostileInputsInOneRunDoNotStopTheGoodOne() throws {
        let dir = work + "/flat/us_stocks_sip/minute_aggs_v1/2025/09"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        writeFile(dir + "/2025-09-29.csv", Array((header + good).utf8))
        writeFile(work + "/flat/us_stocks_sip/minute_aggs_v1/2025/2025-02-30.csv", Array((header + good).utf8))
        writeFile(dir + "/2025-09-26.csv", Array((header + good).utf8) + [UInt8](repeating: 0x41, count: 10 << 20) + [10])
        writeFile(dir + "/2025-09-25.csv", Array((header + "BAD\u{1}X,1,1,1,1,1,1758807000000000000,1\n").utf8))
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: work + "/flat")
        try FileManager.default.createSymbolicLink(atPath: dir + "/self", withDestinationPath: dir + "/self")
        let asRoot = getuid() == 0
        if !asRoot {
            writeFile(dir + "/2025-09-24.csv", Array((header + good).utf8))
            chmod(dir + "/2025-09-24.csv", 0)
        }
        let cli = CrashSafetyTests.CLI()
        let r = try cli.ffcol(["convert", work + "/flat", "--out", work + "/out", "--jobs", "2"])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("2025-02-30.csv") && r.err.contains("not a valid date"), r.err)
        XCTAssertTrue(r.err.contains("2025-09-26.csv") && r.err.contains("line too long"), r.err)
        XCTAssertTrue(r.err.contains("2025-09-25.csv") && r.err.contains("not printable ASCII"), r.err)
        if !asRoot { XCTAssertTrue(r.err.contains("2025-09-24.csv") && r.err.contains("ermission denied"), r.err) }
        let out = listFiles(work + "/out").filter { !$0.hasPrefix(".ffcol/") }
        XCTAssertEqual(out, ["stocks_minute/2025/09/2025-09-29.ffc"], r.err)
        XCTAssertTrue(r.err.contains("converted 1 of"), r.err)
    }

    /// An output root below a regular file cannot be created (ENOTDIR, which stops root too).
    func testOutputRootBelowAFileIsAClearError() throws {
        let dir = work + "/flat/us_stocks_sip/minute_aggs_v1/2025/09"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        writeFile(dir + "/2025-09-29.csv", Array((header + good).utf8))
        writeFile(work + "/plainfile", [1, 2, 3])
        let cli = CrashSafetyTests.CLI()
        let r = try cli.ffcol(["convert", work + "/flat", "--out", work + "/plainfile/sub"])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains(work + "/plainfile") && r.err.contains("Not a directory"), r.err)
        XCTAssertEqual(readFile(work + "/plainfile"), [1, 2, 3])
    }
}
