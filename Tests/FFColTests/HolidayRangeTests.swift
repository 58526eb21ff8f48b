import XCTest
@testable import FFCol
import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// A date range with a holiday inside (Thanksgiving 2025-11-27, no file): the missing date is
/// simply absent from series, universes and resampled days.
final class HolidayRangeTests: XCTestCase {
    func testRangeAcrossThanksgiving() throws {
        var template = Array("/tmp/ffcol-holiday-XXXXXX".utf8CString)
        let root = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        defer { _ = system("rm -rf '\(root)'") }
        let days = ["2025-11-25", "2025-11-26", "2025-11-28"]
        for (k, d) in days.enumerated() {
            var csv: [UInt8] = []
            _ = try Synth.generate(SynthOptions(dataset: .stocksMinute, date: TradingDate(d)!, rows: 20_000, seed: UInt64(10 + k))) {
                csv.append(contentsOf: $0)
            }
            var o = ConvertOptions(outRoot: root)
            o.dataset = .stocksMinute
            o.date = TradingDate(d)
            _ = try Converter.convert(source: MemorySource(csv, name: d), options: o)
        }
        XCTAssertFalse(TradingCalendar.isSession(TradingDate("2025-11-27")!))
        let store = Store(root: root)
        let from = TradingDate("2025-11-24")!, to = TradingDate("2025-11-28")!
        XCTAssertEqual(store.dates(dataset: .stocksMinute, from: from, to: to), days.map { TradingDate($0)! })

        let series = try store.bars(ticker: "AAPL", dataset: .stocksMinute, from: from, to: to).load()
        XCTAssertEqual(series.map(\.date), days.map { TradingDate($0)! })

        // Daily bars: one per date with rows, stamped midnight New York of that date.
        let daily = Resampler.resample(series, interval: .day, session: .extended)
        XCTAssertEqual(daily.count, 3)
        XCTAssertEqual(daily.windowStart, days.map { EasternTime.unixNanos(date: TradingDate($0)!, minuteOfDay: 0) })

        // Regular session on the early-close day after the holiday ends at 13:00.
        let friday = try XCTUnwrap(series.last).restricted(to: .regular)
        let last = try XCTUnwrap(friday.windowStart.last)
        XCTAssertLessThan(EasternTime.localTime(unixNanos: last).minuteOfDay, 13 * 60)

        // A universe over the range visits exactly the dates with files, in order.
        var seen: [TradingDate] = []
        try store.universe(tickers: ["AAPL", "MSFT"], dataset: .stocksMinute, from: from, to: to).forEachBar { d, _, _ in
            if seen.last != d { seen.append(d) }
        }
        XCTAssertEqual(seen, days.map { TradingDate($0)! })
    }
}
