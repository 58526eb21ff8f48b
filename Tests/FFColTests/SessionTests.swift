import Foundation
import XCTest
@testable import FFCol

/// New York time and the regular/extended session filters, against the system time zone
/// database and source rows.
final class SessionTests: XCTestCase {
    static var fixture: TimeFixture!
    override class func setUp() { fixture = try! TimeFixture() }
    override class func tearDown() { fixture.remove(); fixture = nil }

    func testLocalTimeMatchesTimeZoneDatabase() {
        let f = Self.fixture!
        var cache = LocalTimeCache()
        for d in TimeFixture.days {
            for r in f.source[d]! {
                let want = TimeFixture.local(r.windowStart)
                let got = EasternTime.localTime(unixNanos: r.windowStart)
                XCTAssertEqual("\(got.date)", want.date)
                XCTAssertEqual(got.minuteOfDay, want.minute)
                XCTAssertEqual(cache.localTime(unixNanos: r.windowStart), got)
                XCTAssertEqual(want.date, d, "synthetic rows lie on their file's New York date")
            }
        }
        // Every 7 minutes across both 2025 DST changes, in order and out of order.
        for start in ["2025-03-08", "2025-11-01"] {
            let t0 = TimeFixture.nanos(start, 0)
            var stamps = (0..<(3 * 1440 / 7)).map { t0 + Int64($0) * 7 * 60_000_000_000 }
            for pass in 0..<2 {
                var c = LocalTimeCache()
                for t in stamps {
                    let want = TimeFixture.local(t)
                    let got = c.localTime(unixNanos: t)
                    XCTAssertEqual("\(got.date)", want.date, "\(t) pass \(pass)")
                    XCTAssertEqual(got.minuteOfDay, want.minute, "\(t) pass \(pass)")
                }
                stamps.reverse()
            }
        }
    }

    func testSessionBounds() {
        XCTAssertEqual(Session.regular.minutes(on: TradingDate("2025-11-28")!), 570..<780)
        XCTAssertEqual(Session.regular.minutes(on: TradingDate("2025-11-26")!), 570..<960)
        XCTAssertNil(Session.regular.minutes(on: TradingDate("2025-11-27")!))   // Thanksgiving
        XCTAssertNil(Session.regular.minutes(on: TradingDate("2025-11-29")!))   // Saturday
        XCTAssertEqual(Session.regular.minutes(on: TradingDate("2025-12-24")!), 570..<780)
        XCTAssertEqual(Session.extended.minutes(on: TradingDate("2025-11-29")!), 0..<1440)
        // 09:30 EDT is 13:30 UTC; 09:30 EST is 14:30 UTC.
        XCTAssertEqual(Session.regular.nanos(on: TradingDate("2025-03-10")!)!.lowerBound, TimeFixture.nanos("2025-03-10", 570))
        XCTAssertEqual(Session.regular.nanos(on: TradingDate("2025-03-10")!)!.lowerBound % 86_400_000_000_000, 13 * 3600 * 1_000_000_000 + 1800 * 1_000_000_000)
        XCTAssertEqual(Session.regular.nanos(on: TradingDate("2025-11-03")!)!.lowerBound % 86_400_000_000_000, 14 * 3600 * 1_000_000_000 + 1800 * 1_000_000_000)
        // The DST days themselves are 23 and 25 hours long.
        let spring = Session.extended.nanos(on: TradingDate("2025-03-09")!)!
        let fall = Session.extended.nanos(on: TradingDate("2025-11-02")!)!
        XCTAssertEqual(spring.upperBound - spring.lowerBound, 23 * 3_600_000_000_000)
        XCTAssertEqual(fall.upperBound - fall.lowerBound, 25 * 3_600_000_000_000)
        XCTAssertTrue(Session.regular.contains(unixNanos: TimeFixture.nanos("2025-11-28", 12 * 60 + 59)))
        XCTAssertFalse(Session.regular.contains(unixNanos: TimeFixture.nanos("2025-11-28", 13 * 60)))
        XCTAssertTrue(Session.extended.contains(unixNanos: TimeFixture.nanos("2025-11-28", 13 * 60)))
    }

    func testRegularSessionFilterMatchesSource() throws {
        let f = Self.fixture!
        let store = Store(root: f.root)
        var checked = 0, lateOnEarlyClose = 0
        for ticker in f.commonTickers.prefix(12) {
            try store.bars(ticker: ticker, dataset: .stocksMinute).forEach { b in
                let d = "\(b.date)"
                let src = f.source[d]!.filter { $0.ticker == ticker }
                let want = src.filter { (570..<TimeFixture.close(d)).contains(TimeFixture.local($0.windowStart).minute) }
                    .map(\.windowStart)
                if d == "2025-11-28" { lateOnEarlyClose += src.filter { TimeFixture.local($0.windowStart).minute >= 780 }.count }
                let idx = b.indices(in: .regular)
                XCTAssertEqual(idx.map { b[$0].windowStart }, want, "\(ticker) \(d)")
                XCTAssertEqual(Array(b.restricted(to: .regular).windowStart), want, "\(ticker) \(d)")
                XCTAssertEqual(Array(b.restricted(to: .extended).windowStart), src.map(\.windowStart))
                XCTAssertEqual(b.indices(in: .extended).count, src.count)
                checked += want.count
            }
        }
        XCTAssertGreaterThan(checked, 1000)
        XCTAssertGreaterThan(lateOnEarlyClose, 0, "the early-close day has after-hours bars to drop")
    }
}
