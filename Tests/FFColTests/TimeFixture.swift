import Foundation
import XCTest
@testable import FFCol
import FFColConvert

/// Generated stock minute files on days that exercise the calendar: the first sessions
/// after the March and November 2025 DST changes, an ordinary day, and the early close
/// after Thanksgiving. Keeps the source CSV rows as the reference.
final class TimeFixture {
    static let days = ["2025-03-10", "2025-09-29", "2025-11-03", "2025-11-28"]
    let root: String
    /// Source rows per date, in file order.
    var source: [String: [SourceRow]] = [:]

    struct SourceRow {
        var ticker: String
        var volume: Double, open: Double, close: Double, high: Double, low: Double
        var windowStart: Int64, transactions: Int64
    }

    init(rows: Int = 12_000) throws {
        var template = Array("/tmp/ffcol-time-XXXXXX".utf8CString)
        root = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        for (k, d) in Self.days.enumerated() {
            var csv: [UInt8] = []
            _ = try Synth.generate(SynthOptions(dataset: .stocksMinute, date: TradingDate(d)!, rows: rows, seed: UInt64(k + 7))) {
                csv.append(contentsOf: $0)
            }
            var o = ConvertOptions(outRoot: root)
            o.dataset = .stocksMinute
            o.date = TradingDate(d)
            o.targetChunkRows = 1_500
            _ = try Converter.convert(source: MemorySource(csv, name: d), options: o)
            var rowsOut: [SourceRow] = []
            for line in String(decoding: csv, as: UTF8.self).split(separator: "\n").dropFirst() {
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                rowsOut.append(SourceRow(ticker: f[0], volume: Double(f[1])!, open: Double(f[2])!, close: Double(f[3])!,
                                         high: Double(f[4])!, low: Double(f[5])!, windowStart: Int64(f[6])!,
                                         transactions: Int64(f[7])!))
            }
            source[d] = rowsOut
        }
    }

    func remove() { _ = system("rm -rf '\(root)'") }

    /// Source rows of one ticker across all days, in time order.
    func rows(_ ticker: String) -> [SourceRow] {
        Self.days.flatMap { source[$0]!.filter { $0.ticker == ticker } }.sorted { $0.windowStart < $1.windowStart }
    }

    /// Tickers present on every day.
    var commonTickers: [String] {
        var s = Set(source[Self.days[0]]!.map(\.ticker))
        for d in Self.days.dropFirst() { s.formIntersection(source[d]!.map(\.ticker)) }
        return s.sorted()
    }

    // MARK: Reference New York time, from the system time zone database.

    static let ny: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "America/New_York")!
        return c
    }()

    /// (date "YYYY-MM-DD", minute of day) in New York.
    static func local(_ ns: Int64) -> (date: String, minute: Int) {
        let d = Date(timeIntervalSince1970: Double(ns / 1_000_000_000))
        let c = ny.dateComponents([.year, .month, .day, .hour, .minute], from: d)
        let date = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        return (date, c.hour! * 60 + c.minute!)
    }

    /// Unix ns of New York wall time `minute` on `date`.
    static func nanos(_ date: String, _ minute: Int) -> Int64 {
        let p = date.split(separator: "-").map { Int($0)! }
        let d = ny.date(from: DateComponents(year: p[0], month: p[1], day: p[2], hour: minute / 60, minute: minute % 60))!
        return Int64(d.timeIntervalSince1970) * 1_000_000_000
    }

    /// Regular session close per test day (by hand: 2025-11-28 closes at 13:00).
    static func close(_ date: String) -> Int { date == "2025-11-28" ? 13 * 60 : 16 * 60 }
}
