import Foundation
import XCTest
@testable import FFCol

/// Resampling against a dictionary-grouping reference computed from the source CSV rows,
/// over DST-change and early-close days.
final class ResampleTests: XCTestCase {
    static var fixture: TimeFixture!
    override class func setUp() { fixture = try! TimeFixture() }
    override class func tearDown() { fixture.remove(); fixture = nil }

    struct Key: Hashable { var date: String; var minute: Int }

    /// Straightforward reference: group source rows by (New York date, bucket minute).
    func reference(_ rows: [TimeFixture.SourceRow], minutes: Int?, regular: Bool) -> BarColumns {
        var groups: [Key: [TimeFixture.SourceRow]] = [:]
        for r in rows {
            let (d, m) = TimeFixture.local(r.windowStart)
            if regular && !(570..<TimeFixture.close(d)).contains(m) { continue }
            let bucket: Int
            if let n = minutes {
                let anchor = regular ? 570 : 0
                bucket = anchor + ((m - anchor) / n) * n
            } else {
                bucket = 0
            }
            groups[Key(date: d, minute: bucket), default: []].append(r)
        }
        var out = BarColumns()
        for (k, g0) in groups.sorted(by: { TimeFixture.nanos($0.key.date, $0.key.minute) < TimeFixture.nanos($1.key.date, $1.key.minute) }) {
            let g = g0.sorted { $0.windowStart < $1.windowStart }
            out.append(Bar(volume: g.reduce(0) { $0 + $1.volume }, open: g.first!.open, close: g.last!.close,
                           high: g.map(\.high).max()!, low: g.map(\.low).min()!,
                           windowStart: TimeFixture.nanos(k.date, k.minute),
                           transactions: g.reduce(0) { $0 + $1.transactions }))
        }
        return out
    }

    func testResampleMatchesReference() throws {
        let f = Self.fixture!
        let store = Store(root: f.root)
        let intervals: [(String, Int?)] = [("5m", 5), ("15m", 15), ("30m", 30), ("1h", 60), ("1d", nil)]
        var bars = 0
        for ticker in f.commonTickers.prefix(6) {
            let days = try store.bars(ticker: ticker, dataset: .stocksMinute).load()
            XCTAssertEqual(days.count, TimeFixture.days.count)
            let src = f.rows(ticker)
            for (text, n) in intervals {
                let iv = try XCTUnwrap(BarInterval(text))
                XCTAssertEqual(iv, n.map { .minutes($0) } ?? .day)
                for session in Session.allCases {
                    let want = reference(src, minutes: n, regular: session == .regular)
                    let got = Resampler.resample(days, interval: iv, session: session)
                    XCTAssertEqual(got, want, "\(ticker) \(text) \(session)")
                    // Incremental use and resampling of owned columns agree.
                    var r = Resampler(interval: iv, session: session)
                    for d in days { r.add(d) }
                    XCTAssertEqual(r.result, want)
                    XCTAssertEqual(r.finish(), want)
                    var all = BarColumns()
                    for d in days { all.append(contentsOf: BarColumns(d)) }
                    XCTAssertEqual(Resampler.resample(all, interval: iv, session: session), want)
                    bars += want.count
                }
            }
        }
        XCTAssertGreaterThan(bars, 1000)
    }

    func testBucketsOnSpecialDays() throws {
        let f = Self.fixture!
        let store = Store(root: f.root)
        let ticker = f.commonTickers[0]
        let days = try store.bars(ticker: ticker, dataset: .stocksMinute).load()
        let hourly = Resampler.resample(days, interval: .minutes(60), session: .regular)
        for k in 0..<hourly.count {
            let (d, m) = TimeFixture.local(hourly.windowStart[k])
            XCTAssertEqual((m - 570) % 60, 0, "regular hourly bars start on the half hour")
            XCTAssertLessThan(m, TimeFixture.close(d))
        }
        // 2025-11-28 closes 13:00: the last regular hourly bar starts 12:30.
        let last = (0..<hourly.count).last { TimeFixture.local(hourly.windowStart[$0]).date == "2025-11-28" }!
        XCTAssertEqual(TimeFixture.local(hourly.windowStart[last]).minute, 12 * 60 + 30)
        let daily = Resampler.resample(days, interval: .day, session: .extended)
        XCTAssertEqual(daily.windowStart, TimeFixture.days.map { TimeFixture.nanos($0, 0) })
        XCTAssertNil(BarInterval("0m")); XCTAssertNil(BarInterval("2d")); XCTAssertNil(BarInterval("5x")); XCTAssertNil(BarInterval("m"))
        XCTAssertEqual(BarInterval("1h")?.description, "1h")
        XCTAssertEqual(BarInterval("15m")?.description, "15m")
    }
}
