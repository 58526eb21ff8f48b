import XCTest
@testable import FFCol
import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// One ticker across days as columns, universes merged in time order, and one date as a table,
/// each against rows parsed straight from the generated CSV.
final class UniverseTests: XCTestCase {
    var root = ""
    let days = ["2025-09-25", "2025-09-26", "2025-09-29", "2025-09-30"]
    var source: [TradingDate: [CSVRow]] = [:]

    override func setUpWithError() throws {
        var template = Array("/tmp/ffcol-universe-XXXXXX".utf8CString)
        root = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        for (k, d) in days.enumerated() {
            var csv: [UInt8] = []
            _ = try Synth.generate(SynthOptions(dataset: .stocksMinute, date: TradingDate(d)!, rows: 12_000, seed: UInt64(k + 7))) {
                csv.append(contentsOf: $0)
            }
            source[TradingDate(d)!] = CSVRow.parse(csv)
            var o = ConvertOptions(outRoot: root)
            o.dataset = .stocksMinute
            o.date = TradingDate(d)
            o.targetChunkRows = 1_500
            _ = try Converter.convert(source: MemorySource(csv, name: d), options: o)
        }
    }
    override func tearDown() { _ = system("rm -rf '\(root)'") }

    func rows(_ ticker: String, _ d: TradingDate) -> [CSVRow] {
        (source[d] ?? []).filter { $0.ticker == ticker }.sorted { $0.windowStart < $1.windowStart }
    }

    /// A ticker present on some dates but not all.
    func patchyTicker() -> String {
        let sets = days.map { Set(source[TradingDate($0)!]!.map(\.ticker)) }
        let all = sets.reduce(Set<String>()) { $0.union($1) }
        return all.sorted().first { t in sets.contains { !$0.contains(t) } && sets.contains { $0.contains(t) } }!
    }

    func testSeriesColumnsAcrossDays() throws {
        let store = Store(root: root)
        for ticker in ["AAPL", "ZVZZT", patchyTicker()] {
            let s = try store.bars(ticker: ticker, dataset: .stocksMinute, from: TradingDate("2025-09-26"), to: TradingDate("2025-09-30"))
                .loadColumns()
            var wantDates: [TradingDate] = []
            var want: [CSVRow] = []
            for d in days.dropFirst().map({ TradingDate($0)! }) {
                let r = rows(ticker, d)
                if !r.isEmpty { wantDates.append(d); want += r }
            }
            XCTAssertEqual(s.dates, wantDates, ticker)
            XCTAssertEqual(s.count, want.count, ticker)
            XCTAssertEqual((0..<s.count).map { s[$0] }, want.map(\.bar), ticker)
            for (i, d) in s.dates.enumerated() {
                XCTAssertEqual(s.rows(of: d), s.rows(dateIndex: i))
                XCTAssertEqual(s.rows(of: d)!.count, rows(ticker, d).count)
            }
            XCTAssertNil(s.rows(of: TradingDate("2025-09-25")!))
        }
        // Fewer columns: the others are empty.
        let c = try store.bars(ticker: "SPY", dataset: .stocksMinute, columns: [.close]).loadColumns()
        XCTAssertEqual(c.close, days.flatMap { rows("SPY", TradingDate($0)!).map(\.close) })
        XCTAssertTrue(c.open.isEmpty)
        XCTAssertEqual(try store.bars(ticker: "NOSUCH", dataset: .stocksMinute).loadColumns().count, 0)
    }

    func testUniverseInTimeOrder() throws {
        let store = Store(root: root)
        let tickers = ["SPY", "AAPL", patchyTicker(), "NOSUCH", "ZVZZT"]
        for threads in [0, 1, 2, 5] {
            try checkUniverse(store.universe(tickers: tickers, dataset: .stocksMinute, to: TradingDate("2025-09-29"), threads: threads),
                              tickers)
        }
    }

    func checkUniverse(_ u: Universe, _ tickers: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(u.dates.count, 3)
        struct Item: Equatable { var d: TradingDate; var k: Int; var bar: Bar }
        var want: [Item] = []
        for d in u.dates {
            var day: [Item] = []
            for (k, t) in tickers.enumerated() { day += rows(t, d).map { Item(d: d, k: k, bar: $0.bar) } }
            day.sort { ($0.bar.windowStart, $0.k) < ($1.bar.windowStart, $1.k) }
            want += day
        }
        var got: [Item] = []
        try u.forEachBar { d, k, b in got.append(Item(d: d, k: k, bar: b)) }
        XCTAssertEqual(got.count, want.count)
        XCTAssertEqual(got, want)

        // Cross-sections: one per distinct (date, minute), members in ticker order.
        var minutes: [(TradingDate, Int64, [Int], [Bar])] = []
        try u.forEachMinute { cs in minutes.append((cs.date, cs.windowStart, cs.tickerIndices, cs.bars)) }
        var i = 0
        for m in minutes {
            XCTAssertFalse(m.2.isEmpty)
            for (j, k) in m.2.enumerated() {
                XCTAssertEqual(want[i], Item(d: m.0, k: k, bar: m.3[j]))
                XCTAssertEqual(m.3[j].windowStart, m.1)
                i += 1
            }
        }
        XCTAssertEqual(i, want.count)
        let distinct = Set(want.map { "\($0.d) \($0.bar.windowStart)" }).count
        XCTAssertEqual(minutes.count, distinct, "threads \(u.threads)", file: file, line: line)
    }

    func testUniverseStopsAtADamagedDate() throws {
        let store = Store(root: root)
        let d = TradingDate("2025-09-29")!
        let p = store.path(dataset: .stocksMinute, date: d)
        let ci = try damageBlock(p, ticker: "SPY", column: .volume, byte: 7, mask: 0x01)
        for threads in [0, 2] {
            let u = store.universe(tickers: ["AAPL", "SPY"], dataset: .stocksMinute, threads: threads)
            var dates: [TradingDate] = []
            XCTAssertThrowsError(try u.forEachBar { date, _, _ in if dates.last != date { dates.append(date) } }) {
                XCTAssertEqual($0 as? FFCError, .checksum(path: p, chunk: ci, column: "volume"))
            }
            // The dates before the damaged one were delivered whole, then the error.
            XCTAssertEqual(dates, days.prefix(2).map { TradingDate($0)! }, "threads \(threads)")
        }
    }

    func testDayTable() throws {
        let store = Store(root: root)
        let d = TradingDate("2025-09-26")!
        let t = try XCTUnwrap(store.table(dataset: .stocksMinute, date: d))
        let src = source[d]!
        let names = Set(src.map(\.ticker)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        XCTAssertEqual(t.tickers, names)
        XCTAssertEqual(t.count, src.count)
        var want: [Bar] = []
        for n in names { want += rows(n, d).map(\.bar) }
        XCTAssertEqual((0..<t.count).map { t[$0] }, want)
        let k = try XCTUnwrap(t.index(of: "AAPL"))
        XCTAssertEqual(t.rows(tickerIndex: k).map { t.close[$0] }, rows("AAPL", d).map(\.close))
        XCTAssertNil(t.index(of: "NOSUCH"))
        XCTAssertNil(try store.table(dataset: .stocksMinute, date: TradingDate("2025-09-27")!))
        let v = try XCTUnwrap(store.table(dataset: .stocksMinute, date: d, columns: [.volume]))
        XCTAssertEqual(v.volume.reduce(0, +), src.map(\.volume).reduce(0, +))
        XCTAssertTrue(v.close.isEmpty)
    }
}
