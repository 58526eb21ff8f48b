// MARK: - America/New_York time

/// Conversion of Unix nanosecond timestamps to America/New_York wall time with the US
/// daylight-saving rules in force each year (1967-1973 and 1976-1986: last Sunday of April;
/// 1987-2006: first Sunday of April to last Sunday of October; 2007 on: second Sunday of
/// March to first Sunday of November; 2:00 local time). 1974-1975 use the 1976 rule.
public enum EasternTime {
    /// The UTC offset in seconds (-14400 for EDT, -18000 for EST) at `unixSeconds`.
    public static func offsetSeconds(unixSeconds: Int64) -> Int64 {
        let days = Int(floorDiv(unixSeconds, 86_400))
        let year = TradingDate(daysSinceEpoch: days).year
        let (start, end) = dstBounds(year: year)
        // DST starts at 2:00 EST (07:00 UTC) and ends at 2:00 EDT (06:00 UTC).
        let s = Int64(start.daysSinceEpoch) * 86_400 + 7 * 3600
        let e = Int64(end.daysSinceEpoch) * 86_400 + 6 * 3600
        return unixSeconds >= s && unixSeconds < e ? -14_400 : -18_000
    }

    /// The DST start and end dates of `year`.
    public static func dstBounds(year: Int) -> (TradingDate, TradingDate) {
        if year >= 2007 {
            return (nthSunday(year, 3, 2), nthSunday(year, 11, 1))
        } else if year >= 1987 {
            return (nthSunday(year, 4, 1), lastSunday(year, 10))
        } else {
            return (lastSunday(year, 4), lastSunday(year, 10))
        }
    }

    static func nthSunday(_ y: Int, _ m: Int, _ n: Int) -> TradingDate {
        let first = TradingDate(year: y, month: m, day: 1)!
        let delta = (7 - first.weekday) % 7
        return first.adding(days: delta + 7 * (n - 1))
    }
    static func lastSunday(_ y: Int, _ m: Int) -> TradingDate {
        let last = TradingDate(year: y, month: m, day: TradingDate.daysIn(month: m, year: y))!
        return last.adding(days: -last.weekday)
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Local wall time parts of a Unix-ns timestamp in New York.
    public struct Parts: Sendable, Equatable {
        public var date: TradingDate
        public var hour: Int, minute: Int, second: Int, nanosecond: Int
        /// UTC offset in seconds.
        public var offset: Int
        /// Minutes since local midnight.
        public var minuteOfDay: Int { hour * 60 + minute }
    }

    public static func parts(unixNanos ns: Int64) -> Parts { parts(unixNanos: ns, offset: nil) }

    /// UTC parts (offset 0).
    public static func utcParts(unixNanos ns: Int64) -> Parts { parts(unixNanos: ns, offset: 0) }

    static func parts(unixNanos ns: Int64, offset fixed: Int64?) -> Parts {
        let secs = floorDiv(ns, 1_000_000_000)
        let nano = Int(ns - secs * 1_000_000_000)
        let off = fixed ?? offsetSeconds(unixSeconds: secs)
        let local = secs + off
        let days = floorDiv(local, 86_400)
        let sod = Int(local - days * 86_400)
        return Parts(date: TradingDate(daysSinceEpoch: Int(days)), hour: sod / 3600, minute: (sod / 60) % 60,
                     second: sod % 60, nanosecond: nano, offset: Int(off))
    }

    /// Unix ns of local New York wall time `minuteOfDay` on `date` (for times that exist).
    public static func unixNanos(date: TradingDate, minuteOfDay: Int) -> Int64 {
        let localSecs = Int64(date.daysSinceEpoch) * 86_400 + Int64(minuteOfDay) * 60
        // Offset at the guessed instant (standard time first); re-evaluate once.
        var off = offsetSeconds(unixSeconds: localSecs + 18_000)
        off = offsetSeconds(unixSeconds: localSecs - off)
        return (localSecs - off) * 1_000_000_000
    }

    /// ISO 8601 text with the offset, e.g. `2025-09-29T09:30:00-04:00` (UTC: `...Z`).
    public static func format(unixNanos ns: Int64, utc: Bool) -> String {
        let p = utc ? utcParts(unixNanos: ns) : parts(unixNanos: ns)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var s = "\(p.date)T\(two(p.hour)):\(two(p.minute)):\(two(p.second))"
        if p.nanosecond != 0 {
            var frac = String(p.nanosecond)
            frac = String(repeating: "0", count: 9 - frac.count) + frac
            while frac.hasSuffix("0") { frac.removeLast() }
            s += "." + frac
        }
        if utc { return s + "Z" }
        let o = -p.offset
        return s + "-" + two(o / 3600) + ":" + two((o / 60) % 60)
    }
}
