import ArgumentParser
import FFCol
import Foundation

// MARK: - ffcol calendar

struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "List NYSE trading sessions, holidays and early closes.",
        discussion: """
            Weekends and NYSE holidays with their observance rules (Good Friday; Juneteenth from \
            2022; a Saturday New Year's Day is not observed), special closures such as 2001-09-11..14, \
            2012-10-29/30 and 2025-01-09, and 13:00 ET early closes. The bucket listing wins over \
            this calendar when downloading.
            """)

    @Option(help: "First date, YYYY-MM-DD.")
    var from: String

    @Option(help: "Last date, YYYY-MM-DD (inclusive; default: the first date).")
    var to: String?

    @Flag(help: "Also list the closed weekdays (holidays and special closures) with the reason.")
    var all = false

    @Flag(help: "Print every date in the range as JSON (session, close time, reason).")
    var json = false

    func validate() throws {
        let a = try parseDate(from, "--from")
        if let to { guard try parseDate(to, "--to") >= a else { throw ValidationError("--to is before --from") } }
    }

    func run() throws {
        let a = try parseDate(from, "--from")
        let b = try to.map { try parseDate($0, "--to") } ?? a
        struct Day: Encodable {
            var date: String
            var session: Bool
            var close: String?
            var earlyClose: Bool
            var reason: String?
            enum CodingKeys: String, CodingKey { case date, session, close, earlyClose = "early_close", reason }
        }
        var days: [Day] = []
        for z in a.daysSinceEpoch...b.daysSinceEpoch {
            let d = TradingDate(daysSinceEpoch: z)
            let session = TradingCalendar.isSession(d)
            let early = TradingCalendar.isEarlyClose(d)
            let reason: String? = session ? (early ? "early close" : nil)
                : (d.weekday == 0 || d.weekday == 6 ? "weekend" : TradingCalendar.closure(d)?.description)
            days.append(Day(date: d.description, session: session, close: session ? (early ? "13:00" : "16:00") : nil,
                            earlyClose: early, reason: reason))
        }
        if json { print(jsonString(days)); return }
        var sessions = 0
        for day in days {
            if day.session {
                sessions += 1
                print(day.earlyClose ? "\(day.date)  early close 13:00 ET" : day.date)
            } else if all && day.reason != "weekend" {
                print("\(day.date)  closed: \(day.reason ?? "")")
            }
        }
        printErr("\(sessions) sessions from \(a) to \(b)")
    }
}
