// MARK: - NYSE trading calendar

/// The NYSE trading calendar: which dates are sessions, which are holidays, and which close
/// early (13:00 ET).
///
/// Rules (NYSE Rule 7.2 and the exchange's announcements):
/// - Weekends are closed.
/// - New Year's Day (Jan 1; Sunday -> Monday; a Saturday New Year is *not* observed on the
///   prior Friday, because that Friday ends the accounting year), Martin Luther King Jr. Day
///   (third Monday of January, from 1998), Washington's Birthday (third Monday of February),
///   Good Friday, Memorial Day (last Monday of May), Juneteenth (June 19, from 2022),
///   Independence Day (July 4), Labor Day (first Monday of September), Thanksgiving (fourth
///   Thursday of November), Christmas (Dec 25). Except for New Year's Day, a holiday on a
///   Saturday is observed on the Friday before and one on a Sunday on the Monday after.
/// - Special closures: 1985-09-27 (Hurricane Gloria), 1994-04-27 (President Nixon's funeral),
///   2001-09-11..14 (September 11), 2004-06-11 (President Reagan), 2007-01-02 (President Ford),
///   2012-10-29/30 (Hurricane Sandy), 2018-12-05 (President G. H. W. Bush),
///   2025-01-09 (President Carter).
/// - Early closes at 13:00 ET: July 3 when it falls Monday-Thursday, the day after Thanksgiving,
///   and Dec 24 when it falls Monday-Thursday.
///
/// The rules are meant for 1990 onwards (the flat files start later); earlier special closures
/// (election days before 1981, the 1968 paperwork crisis, ...) are not modelled.
///
/// The calendar predicts; the bucket listing is the truth. A date the calendar calls a session
/// may have no file yet, and a file that exists wins over the calendar.
public enum TradingCalendar {
    /// Why a weekday is closed.
    public enum Closure: Equatable, Sendable, CustomStringConvertible {
        case holiday(String)
        case special(String)

        public var description: String {
            switch self {
            case let .holiday(n): return n
            case let .special(n): return n
            }
        }
    }

    /// The special (unscheduled) closures, with their reason.
    public static let specialClosures: [(date: TradingDate, reason: String)] = [
        ("1985-09-27", "Hurricane Gloria"),
        ("1994-04-27", "National Day of Mourning for President Nixon"),
        ("2001-09-11", "September 11 attacks"),
        ("2001-09-12", "September 11 attacks"),
        ("2001-09-13", "September 11 attacks"),
        ("2001-09-14", "September 11 attacks"),
        ("2004-06-11", "National Day of Mourning for President Reagan"),
        ("2007-01-02", "National Day of Mourning for President Ford"),
        ("2012-10-29", "Hurricane Sandy"),
        ("2012-10-30", "Hurricane Sandy"),
        ("2018-12-05", "National Day of Mourning for President George H. W. Bush"),
        ("2025-01-09", "National Day of Mourning for President Carter"),
    ].map { (TradingDate($0.0)!, $0.1) }

    /// True if the exchange is open on `date`.
    public static func isSession(_ date: TradingDate) -> Bool {
        let wd = date.weekday
        return wd != 0 && wd != 6 && closure(date) == nil
    }

    /// The reason a weekday is closed; nil on weekends and on sessions.
    public static func closure(_ date: TradingDate) -> Closure? {
        let wd = date.weekday
        if wd == 0 || wd == 6 { return nil }
        if let s = specialClosures.first(where: { $0.date == date }) { return .special(s.reason) }
        if let h = holiday(date) { return .holiday(h) }
        return nil
    }

    /// The name of the regular holiday observed on `date`, if any.
    public static func holiday(_ date: TradingDate) -> String? {
        let y = date.year
        for (name, d) in holidays(year: y) where d == date { return name }
        return nil
    }

    /// The regular holidays observed in `year` (observed dates; may include none for a
    /// Saturday New Year).
    public static func holidays(year y: Int) -> [(name: String, date: TradingDate)] {
        var out: [(String, TradingDate)] = []
        // New Year's Day: Sunday -> Monday; Saturday -> not observed.
        let ny = TradingDate(year: y, month: 1, day: 1)!
        if ny.weekday == 0 { out.append(("New Year's Day", ny.adding(days: 1))) }
        else if ny.weekday != 6 { out.append(("New Year's Day", ny)) }
        if y >= 1998 { out.append(("Martin Luther King Jr. Day", nthWeekday(3, weekday: 1, month: 1, year: y))) }
        out.append(("Washington's Birthday", nthWeekday(3, weekday: 1, month: 2, year: y)))
        out.append(("Good Friday", easter(year: y).adding(days: -2)))
        out.append(("Memorial Day", lastWeekday(1, month: 5, year: y)))
        if y >= 2022 { out.append(("Juneteenth", observed(TradingDate(year: y, month: 6, day: 19)!))) }
        out.append(("Independence Day", observed(TradingDate(year: y, month: 7, day: 4)!)))
        out.append(("Labor Day", nthWeekday(1, weekday: 1, month: 9, year: y)))
        out.append(("Thanksgiving Day", nthWeekday(4, weekday: 4, month: 11, year: y)))
        out.append(("Christmas Day", observed(TradingDate(year: y, month: 12, day: 25)!)))
        return out
    }

    /// True if `date` is a session that closes early, at 13:00 ET.
    public static func isEarlyClose(_ date: TradingDate) -> Bool {
        guard isSession(date) else { return false }
        let wd = date.weekday
        if date.month == 7 && date.day == 3 && (1...4).contains(wd) { return true }
        if date.month == 12 && date.day == 24 && (1...4).contains(wd) { return true }
        if date.month == 11 {
            let tg = nthWeekday(4, weekday: 4, month: 11, year: date.year)
            if date == tg.adding(days: 1) { return true }
        }
        return false
    }

    /// The close as minutes after midnight ET: 960 (16:00), 780 (13:00), or nil if closed.
    public static func closeMinutes(_ date: TradingDate) -> Int? {
        guard isSession(date) else { return nil }
        return isEarlyClose(date) ? 13 * 60 : 16 * 60
    }

    /// The sessions in `from...to`, in order.
    public static func sessions(from: TradingDate, to: TradingDate) -> [TradingDate] {
        guard from <= to else { return [] }
        var out: [TradingDate] = []
        for z in from.daysSinceEpoch...to.daysSinceEpoch {
            let d = TradingDate(daysSinceEpoch: z)
            if isSession(d) { out.append(d) }
        }
        return out
    }

    /// The session after `date`.
    public static func nextSession(after date: TradingDate) -> TradingDate {
        var d = date.adding(days: 1)
        while !isSession(d) { d = d.adding(days: 1) }
        return d
    }

    /// The session before `date`.
    public static func previousSession(before date: TradingDate) -> TradingDate {
        var d = date.adding(days: -1)
        while !isSession(d) { d = d.adding(days: -1) }
        return d
    }

    // MARK: Date arithmetic

    /// Saturday -> Friday before, Sunday -> Monday after.
    static func observed(_ d: TradingDate) -> TradingDate {
        switch d.weekday {
        case 6: return d.adding(days: -1)
        case 0: return d.adding(days: 1)
        default: return d
        }
    }

    /// The `n`-th `weekday` (0 = Sunday) of a month.
    static func nthWeekday(_ n: Int, weekday: Int, month: Int, year: Int) -> TradingDate {
        let first = TradingDate(year: year, month: month, day: 1)!
        let offset = (weekday - first.weekday + 7) % 7
        return first.adding(days: offset + 7 * (n - 1))
    }

    /// The last `weekday` of a month.
    static func lastWeekday(_ weekday: Int, month: Int, year: Int) -> TradingDate {
        let last = TradingDate(year: year, month: month, day: TradingDate.daysIn(month: month, year: year))!
        let back = (last.weekday - weekday + 7) % 7
        return last.adding(days: -back)
    }

    /// Easter Sunday (Gregorian; the anonymous "Meeus/Jones/Butcher" algorithm).
    public static func easter(year y: Int) -> TradingDate {
        let a = y % 19, b = y / 100, c = y % 100
        let d = b / 4, e = b % 4
        let f = (b + 8) / 25, g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return TradingDate(year: y, month: month, day: day)!
    }
}
