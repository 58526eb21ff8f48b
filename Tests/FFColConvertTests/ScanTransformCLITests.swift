import Foundation
import XCTest
import FFCol

/// `ffcol scan --session/--resample/--adjust-splits` against the reader library.
final class ScanTransformCLITests: XCTestCase {
    var work = ""

    func ffcol(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try runProduct("ffcol", args)
    }

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "ffcol-scan-tx-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        for (i, d) in ["2025-11-03", "2025-11-28"].enumerated() {
            XCTAssertEqual(try ffcol(["synth", "--dataset", "stocks_minute", "--date", d, "--rows", "8000", "--seed", "\(i + 3)",
                                      "--out", work + "/flat/"]).status, 0)
        }
        XCTAssertEqual(try ffcol(["convert", work + "/flat", "--out", work + "/data"]).status, 0)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// CSV output rows as BarColumns (all columns, window_start as integer ns).
    func parse(_ text: String) -> BarColumns {
        var c = BarColumns()
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.first, "ticker,volume,open,close,high,low,window_start,transactions")
        for l in lines.dropFirst() {
            let f = l.split(separator: ",").map(String.init)
            c.append(Bar(volume: Double(f[1])!, open: Double(f[2])!, close: Double(f[3])!, high: Double(f[4])!, low: Double(f[5])!,
                         windowStart: Int64(f[6])!, transactions: Int64(f[7])!))
        }
        return c
    }

    func testScanFlagsMatchTheLibrary() throws {
        let store = Store(root: work + "/data")
        let days = try store.bars(ticker: "AAPL", dataset: .stocksMinute).load()
        XCTAssertEqual(days.count, 2)
        let base = ["scan", "--root", work + "/data", "--ticker", "AAPL", "--format", "csv"]

        let regular = try ffcol(base + ["--session", "regular"])
        XCTAssertEqual(regular.status, 0, regular.err)
        var want = BarColumns()
        for d in days { want.append(contentsOf: BarColumns(d.restricted(to: .regular))) }
        XCTAssertEqual(parse(regular.out), want)
        XCTAssertGreaterThan(want.count, 100)

        for (iv, session) in [("15m", Session.regular), ("1h", .extended), ("1d", .regular), ("5m", .extended)] {
            let r = try ffcol(base + ["--session", session.rawValue, "--resample", iv])
            XCTAssertEqual(r.status, 0, r.err)
            var w = BarColumns()
            for d in days { w.append(contentsOf: Resampler.resample([d], interval: BarInterval(iv)!, session: session)) }
            XCTAssertEqual(parse(r.out), w, "\(iv) \(session)")
        }

        let splits = work + "/splits.csv"
        try "ticker,execution_date,split_from,split_to\nAAPL,2025-11-10,1,4\nMSFT,2025-11-04,2,1\n".write(toFile: splits, atomically: true, encoding: .utf8)
        let table = try SplitTable(path: splits)
        for asOf in [nil, "2025-11-07"] {
            let r = try ffcol(base + ["--resample", "1d", "--adjust-splits", splits] + (asOf.map { ["--as-of", $0] } ?? []))
            XCTAssertEqual(r.status, 0, r.err)
            var w = BarColumns()
            for d in days {
                var c = table.adjusted(d, asOf: TradingDate(asOf ?? "2025-11-28")!)
                c = Resampler.resample(c, interval: .day)
                w.append(contentsOf: c)
            }
            XCTAssertEqual(parse(r.out), w)
            let unadjusted = parse(try ffcol(base + ["--resample", "1d"]).out)
            if asOf == nil {
                XCTAssertEqual(parse(r.out).close[0], unadjusted.close[0] * 0.25)   // 11-03 before the split
                XCTAssertEqual(parse(r.out).close[1], unadjusted.close[1])          // 11-28 after it
            } else {
                XCTAssertEqual(parse(r.out), unadjusted)                              // as of before the split
            }
        }

        let bad = work + "/bad.csv"
        try "ticker,execution_date,split_from,split_to\nAAPL,2025-11-10,1,-4\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let e = try ffcol(base + ["--adjust-splits", bad])
        XCTAssertNotEqual(e.status, 0)
        XCTAssertTrue(e.err.contains("\(bad):2: split_to '-4' is not a positive number"), e.err)
        XCTAssertEqual(try ffcol(base + ["--resample", "7m"]).status, 0)
        XCTAssertEqual(try ffcol(base + ["--resample", "2d"]).status, 64)
        XCTAssertEqual(try ffcol(base + ["--as-of", "2025-11-03"]).status, 64)
        XCTAssertTrue(try ffcol(["scan", "--help"]).out.contains("--adjust-splits"))
    }
}
