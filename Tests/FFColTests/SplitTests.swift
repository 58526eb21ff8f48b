import Foundation
import XCTest
@testable import FFCol

/// Split adjustment at read time: parsing the splits CSV, factors, and adjusted bars.
final class SplitTests: XCTestCase {
    static var fixture: TimeFixture!
    override class func setUp() { fixture = try! TimeFixture(rows: 6_000) }
    override class func tearDown() { fixture.remove(); fixture = nil }

    func d(_ s: String) -> TradingDate { TradingDate(s)! }

    func testParse() throws {
        let csv = "ticker,execution_date,split_from,split_to\r\nAAPL,2020-08-31,1,4\r\n\r\nTSLA,2022-08-25,1,3\nGE,2021-08-02,8,1\n\"NVDA\",2024-06-10,1,10\nAAPL,2014-06-09,1,7\n"
        let t = try SplitTable(csv: Array(csv.utf8))
        XCTAssertEqual(t.splits(ticker: "AAPL"), [Split(ticker: "AAPL", executionDate: d("2014-06-09"), splitFrom: 1, splitTo: 7),
                                                  Split(ticker: "AAPL", executionDate: d("2020-08-31"), splitFrom: 1, splitTo: 4)])
        XCTAssertEqual(t.splits(ticker: "GE").first?.splitFrom, 8)
        XCTAssertEqual(t.splits(ticker: "NVDA").count, 1)
        XCTAssertEqual(t.splits(ticker: "MSFT"), [])
        // Columns in another order, extra columns ignored.
        let other = try SplitTable(csv: Array("id,split_to,split_from,ticker,execution_date\nx1,3,2,ABC,2025-01-02\n".utf8))
        XCTAssertEqual(other.splits(ticker: "ABC"), [Split(ticker: "ABC", executionDate: d("2025-01-02"), splitFrom: 2, splitTo: 3)])
        // From a file.
        let path = NSTemporaryDirectory() + "splits-\(UUID().uuidString).csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try SplitTable(path: path).byTicker, t.byTicker)
    }

    func testParseErrorsNameFileAndLine() {
        func err(_ text: String) -> SplitsFileError? {
            do { _ = try SplitTable(csv: Array(text.utf8), path: "s.csv"); return nil } catch { return error as? SplitsFileError }
        }
        let h = "ticker,execution_date,split_from,split_to\n"
        XCTAssertEqual(err(h + "AAPL,2020-08-31,1,4\nAAPL,2020-13-01,1,4\n")?.description,
                       "s.csv:3: execution_date '2020-13-01' is not a date YYYY-MM-DD")
        XCTAssertEqual(err(h + "AAPL,2020-08-31,0,4\n")?.description, "s.csv:2: split_from '0' is not a positive number")
        XCTAssertEqual(err(h + "AAPL,2020-08-31,1,four\n")?.description, "s.csv:2: split_to 'four' is not a positive number")
        XCTAssertEqual(err(h + "AAPL,2020-08-31\n")?.description, "s.csv:2: 2 fields, want at least 4")
        XCTAssertEqual(err(h + ",2020-08-31,1,4\n")?.description, "s.csv:2: empty ticker")
        XCTAssertEqual(err("ticker,date,from,to\n")?.line, 1)
        XCTAssertEqual(err("")?.description, "s.csv: empty: want a header ticker,execution_date,split_from,split_to")
        XCTAssertThrowsError(try SplitTable(path: "/nonexistent/splits.csv")) { e in
            XCTAssertTrue("\(e)".hasPrefix("/nonexistent/splits.csv: cannot read"), "\(e)")
        }
    }

    func testFactors() {
        let t = SplitTable([Split(ticker: "X", executionDate: d("2025-06-02"), splitFrom: 1, splitTo: 4),
                            Split(ticker: "X", executionDate: d("2025-09-02"), splitFrom: 1, splitTo: 2),
                            Split(ticker: "R", executionDate: d("2025-06-02"), splitFrom: 10, splitTo: 1)])
        // Two splits after the bar, both on or before the as-of date.
        XCTAssertTrue(t.factors(ticker: "X", date: d("2025-05-30"), asOf: d("2025-12-31")) == (0.125, 8))
        // Only the first has happened by the as-of date; the as-of date itself counts.
        XCTAssertTrue(t.factors(ticker: "X", date: d("2025-05-30"), asOf: d("2025-06-02")) == (0.25, 4))
        // Bars on the execution date already trade on the new basis.
        XCTAssertTrue(t.factors(ticker: "X", date: d("2025-06-02"), asOf: d("2025-12-31")) == (0.5, 2))
        // As-of before any split: no change.
        XCTAssertTrue(t.factors(ticker: "X", date: d("2025-05-30"), asOf: d("2025-06-01")) == (1, 1))
        // Reverse split: prices up, volume down.
        XCTAssertTrue(t.factors(ticker: "R", date: d("2025-05-30"), asOf: d("2025-12-31")) == (10, 0.1))
        XCTAssertTrue(t.factors(ticker: "Y", date: d("2025-05-30"), asOf: d("2025-12-31")) == (1, 1))
    }

    /// A split in the middle of the fixture's date range (between 2025-09-29 and 2025-11-03),
    /// a second one before 2025-11-28, a reverse split, and an as-of date before a split.
    func testAdjustedBarsAcrossARange() throws {
        let f = Self.fixture!
        let store = Store(root: f.root)
        let tk = Array(f.commonTickers.prefix(2))
        let (a, r) = (tk[0], tk[1])
        let t = SplitTable([Split(ticker: a, executionDate: d("2025-10-15"), splitFrom: 1, splitTo: 4),
                            Split(ticker: a, executionDate: d("2025-11-10"), splitFrom: 2, splitTo: 3),
                            Split(ticker: r, executionDate: d("2025-10-01"), splitFrom: 20, splitTo: 1)])
        func check(_ ticker: String, asOf: String, price: [String: Double]) throws {
            var all = BarColumns()
            var unadjusted = BarColumns()
            try store.bars(ticker: ticker, dataset: .stocksMinute).forEach { b in
                let got = t.adjusted(b, asOf: d(asOf))
                let p = price["\(b.date)"] ?? 1
                let src = f.source["\(b.date)"]!.filter { $0.ticker == ticker }
                XCTAssertEqual(got.count, src.count)
                for (k, s) in src.enumerated() {
                    XCTAssertEqual(got.open[k], s.open * p); XCTAssertEqual(got.high[k], s.high * p)
                    XCTAssertEqual(got.low[k], s.low * p); XCTAssertEqual(got.close[k], s.close * p)
                    XCTAssertEqual(got.volume[k], s.volume * (1 / p), accuracy: 1e-9 * max(1, s.volume))
                    XCTAssertEqual(got.transactions[k], s.transactions)
                    XCTAssertEqual(got.windowStart[k], s.windowStart)
                }
                all.append(contentsOf: got)
                unadjusted.append(contentsOf: BarColumns(b))
            }
            // Adjusting owned columns in place gives the same.
            t.adjust(&unadjusted, ticker: ticker, asOf: d(asOf))
            XCTAssertEqual(unadjusted, all, "\(ticker) as of \(asOf)")
        }
        let q = 0.25 * (2.0 / 3.0)
        try check(a, asOf: "2025-11-28", price: ["2025-03-10": q, "2025-09-29": q, "2025-11-03": 2.0 / 3.0])
        try check(a, asOf: "2025-11-03", price: ["2025-03-10": 0.25, "2025-09-29": 0.25])
        try check(a, asOf: "2025-10-14", price: [:])      // before both splits: unchanged
        try check(r, asOf: "2025-11-28", price: ["2025-03-10": 20, "2025-09-29": 20])
        try check(r, asOf: "2025-09-30", price: [:])
    }
}
