import FFCol
import XCTest

/// The NYSE calendar against a table of known sessions, holidays and early closes.
final class CalendarTests: XCTestCase {
    private func d(_ s: String) -> TradingDate { TradingDate(s)! }

    func testKnownClosedWeekdays() {
        let closed: [(String, String)] = [
            ("2025-01-09", "Carter"),
            ("2025-01-01", "New Year's Day"),
            ("2023-01-02", "New Year's Day"),          // Sunday New Year observed Monday
            ("2024-01-15", "Martin Luther King"),
            ("2024-02-19", "Washington"),
            ("2024-03-29", "Good Friday"),
            ("2025-04-18", "Good Friday"),
            ("2015-04-03", "Good Friday"),
            ("2022-06-20", "Juneteenth"),             // Sunday observed Monday
            ("2023-06-19", "Juneteenth"),
            ("2024-05-27", "Memorial"),
            ("2020-07-03", "Independence"),            // Saturday observed Friday
            ("2021-07-05", "Independence"),            // Sunday observed Monday
            ("2024-09-02", "Labor"),
            ("2024-11-28", "Thanksgiving"),
            ("2022-12-26", "Christmas"),               // Sunday observed Monday
            ("2021-12-24", "Christmas"),               // Saturday observed Friday
            ("2001-09-11", "September 11"), ("2001-09-12", "September 11"),
            ("2001-09-13", "September 11"), ("2001-09-14", "September 11"),
            ("2004-06-11", "Reagan"), ("2007-01-02", "Ford"),
            ("2012-10-29", "Sandy"), ("2012-10-30", "Sandy"),
            ("2018-12-05", "Bush"),
        ]
        for (date, reason) in closed {
            XCTAssertFalse(TradingCalendar.isSession(d(date)), "\(date) should be closed (\(reason))")
            let why = TradingCalendar.closure(d(date))?.description ?? ""
            XCTAssertTrue(why.contains(reason), "\(date): expected \(reason), got \(why)")
        }
    }

    func testKnownSessions() {
        let open = [
            "2021-06-18",   // Juneteenth 2021 (Saturday) was not an NYSE holiday yet: Friday open
            "2021-06-21",
            "2021-12-31",   // Saturday 2022-01-01 is not observed on the Friday before
            "2022-12-23", "2022-12-27",
            "2024-01-02", "2025-01-08", "2025-01-10",
            "2001-09-17", "2012-10-31", "1998-01-20",
            "1997-01-20",   // MLK Day became an NYSE holiday in 1998
            "2024-07-03", "2024-11-29", "2024-12-24",
        ]
        for date in open { XCTAssertTrue(TradingCalendar.isSession(d(date)), "\(date) should be a session") }
        XCTAssertFalse(TradingCalendar.isSession(d("1998-01-19")))
        XCTAssertFalse(TradingCalendar.isSession(d("2024-01-06")), "Saturday")
        XCTAssertFalse(TradingCalendar.isSession(d("2024-01-07")), "Sunday")
    }

    func testEarlyCloses() {
        for date in ["2024-07-03", "2024-11-29", "2024-12-24", "2019-07-03", "2018-12-24", "2014-07-03", "2025-12-24"] {
            XCTAssertTrue(TradingCalendar.isEarlyClose(d(date)), date)
            XCTAssertEqual(TradingCalendar.closeMinutes(d(date)), 13 * 60, date)
        }
        for date in ["2024-07-05", "2022-07-01", "2020-07-02", "2021-12-23", "2024-01-02", "2022-12-23"] {
            XCTAssertFalse(TradingCalendar.isEarlyClose(d(date)), date)
        }
        XCTAssertEqual(TradingCalendar.closeMinutes(d("2024-01-02")), 16 * 60)
        XCTAssertNil(TradingCalendar.closeMinutes(d("2024-12-25")))
    }

    func testSessionCounts() {
        // NYSE published session counts.
        XCTAssertEqual(TradingCalendar.sessions(from: d("2023-01-01"), to: d("2023-12-31")).count, 250)
        XCTAssertEqual(TradingCalendar.sessions(from: d("2024-01-01"), to: d("2024-12-31")).count, 252)
        XCTAssertEqual(TradingCalendar.sessions(from: d("2022-01-01"), to: d("2022-12-31")).count, 251)
        XCTAssertEqual(TradingCalendar.sessions(from: d("2025-01-01"), to: d("2025-01-10")),
                       ["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07", "2025-01-08", "2025-01-10"].map(d))
        XCTAssertEqual(TradingCalendar.nextSession(after: d("2025-01-08")), d("2025-01-10"))
        XCTAssertEqual(TradingCalendar.previousSession(before: d("2024-04-01")), d("2024-03-28"))
    }

    func testEaster() {
        for (y, s) in [(2024, "2024-03-31"), (2025, "2025-04-20"), (2000, "2000-04-23"), (2038, "2038-04-25"), (2019, "2019-04-21")] {
            XCTAssertEqual(TradingCalendar.easter(year: y), d(s))
        }
    }
}
