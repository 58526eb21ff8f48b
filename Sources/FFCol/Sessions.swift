// MARK: - Trading sessions

/// The part of a New York trading day a bar belongs to.
///
/// - `regular`: 09:30 ET up to the close, 16:00 ET, or 13:00 ET on early-close days
///   (`TradingCalendar.isEarlyClose`: the day after Thanksgiving, Christmas Eve and 3 July
///   when they are sessions). Days that are not sessions (weekends, holidays) have no
///   regular session.
/// - `extended`: every bar, whatever its time. For stocks the flat files cover
///   04:00-20:00 ET (pre-market, regular hours and after hours); options trade in the
///   regular session only.
///
/// A bar is inside the regular session when its `window_start` is at or after 09:30 and
/// before the close, so the last regular minute bar starts at 15:59 (12:59 on an early
/// close).
public enum Session: String, Sendable, CaseIterable, CustomStringConvertible {
    case regular
    case extended

    public var description: String { rawValue }

    /// The first minute of the regular session, minutes after midnight ET (09:30).
    public static let regularOpenMinute = 9 * 60 + 30

    /// The session's minutes on `date` as minutes after midnight ET, or nil if the
    /// session has no minutes that day (`regular` on a weekend or holiday).
    /// `extended` is the whole day, `0..<1440`.
    public func minutes(on date: TradingDate) -> Range<Int>? {
        switch self {
        case .extended: return 0..<1440
        case .regular:
            guard let close = TradingCalendar.closeMinutes(date) else { return nil }
            return Session.regularOpenMinute..<close
        }
    }

    /// The session on `date` as a half-open range of Unix nanoseconds, or nil when the
    /// session has no minutes that day. Comparing `window_start` against this range is
    /// the fast way to filter one date's bars.
    public func nanos(on date: TradingDate) -> Range<Int64>? {
        guard let m = minutes(on: date) else { return nil }
        if self == .extended {
            // Midnight to the next midnight, whatever the day's length (23 or 25 hours
            // on DST changes).
            return EasternTime.unixNanos(date: date, minuteOfDay: 0)
                ..< EasternTime.unixNanos(date: date.adding(days: 1), minuteOfDay: 0)
        }
        return EasternTime.unixNanos(date: date, minuteOfDay: m.lowerBound)
            ..< EasternTime.unixNanos(date: date, minuteOfDay: m.upperBound)
    }

    /// True if a bar starting at New York wall time `minuteOfDay` on `date` is inside
    /// the session.
    public func contains(date: TradingDate, minuteOfDay: Int) -> Bool {
        minutes(on: date)?.contains(minuteOfDay) ?? false
    }

    /// True if a bar whose `window_start` is `unixNanos` is inside the session.
    public func contains(unixNanos: Int64) -> Bool {
        if self == .extended { return true }
        let t = EasternTime.localTime(unixNanos: unixNanos)
        return contains(date: t.date, minuteOfDay: t.minuteOfDay)
    }
}

extension EasternTime {
    /// A bar's New York date and wall-clock minute of the day (0-1439).
    public struct LocalTime: Sendable, Equatable, Hashable {
        public var date: TradingDate
        public var minuteOfDay: Int
        public init(date: TradingDate, minuteOfDay: Int) { self.date = date; self.minuteOfDay = minuteOfDay }
    }

    /// The New York date and minute of day of a Unix-ns timestamp (seconds are dropped).
    public static func localTime(unixNanos ns: Int64) -> LocalTime {
        let p = parts(unixNanos: ns)
        return LocalTime(date: p.date, minuteOfDay: p.minuteOfDay)
    }
}

/// Converts many timestamps of the same few days to New York local time quickly: the UTC
/// offset is looked up once per stretch of a day with one offset, not once per row.
struct LocalTimeCache {
    /// Unix seconds range over which `date` and `offset` hold.
    var lo: Int64 = 1, hi: Int64 = 0
    var date = TradingDate(daysSinceEpoch: 0)
    var dayStartLocal: Int64 = 0
    var offset: Int64 = 0

    @inline(__always) mutating func localTime(unixNanos ns: Int64) -> EasternTime.LocalTime {
        let s = EasternTime.floorDiv(ns, 1_000_000_000)
        if s < lo || s >= hi { refill(s) }
        return EasternTime.LocalTime(date: date, minuteOfDay: Int((s + offset - dayStartLocal) / 60))
    }

    mutating func refill(_ s: Int64) {
        offset = EasternTime.offsetSeconds(unixSeconds: s)
        let local = s + offset
        let days = EasternTime.floorDiv(local, 86_400)
        date = TradingDate(daysSinceEpoch: Int(days))
        dayStartLocal = days * 86_400
        // The local day in UTC under this offset; keep only what has this offset.
        var a = dayStartLocal - offset, b = dayStartLocal + 86_400 - offset
        if EasternTime.offsetSeconds(unixSeconds: a) != offset || EasternTime.offsetSeconds(unixSeconds: b - 1) != offset {
            // A DST change inside the day: cache just this second's hour.
            a = s - ((s % 3600) + 3600) % 3600
            b = a + 3600
            if EasternTime.offsetSeconds(unixSeconds: a) != offset || EasternTime.offsetSeconds(unixSeconds: b - 1) != offset {
                a = s; b = s + 1
            }
        }
        lo = a; hi = b
    }
}

extension Bars {
    /// The indices (0-based, as for `self[k]`) of the bars inside `session`, in order.
    /// One array is allocated per call. Needs the `window_start` column.
    ///
    /// The bars are assumed to be on `date` in New York (true of every flat file); each
    /// row is compared against that date's session bounds, so the order of rows does not
    /// matter.
    public func indices(in session: Session) -> [Int] {
        if session == .extended { return Array(0..<count) }
        guard let r = session.nanos(on: date) else { return [] }
        var out: [Int] = []
        out.reserveCapacity(count)
        let ws = windowStart
        var k = 0
        for t in ws {
            if r.contains(t) { out.append(k) }
            k += 1
        }
        return out
    }

    /// These bars restricted to `session`, as a `Bars` view (no copy, no allocation).
    /// Needs the `window_start` column, in ascending order within the ticker (as the
    /// converter writes it); the session's rows are then one contiguous range, found by
    /// binary search.
    public func restricted(to session: Session) -> Bars {
        if session == .extended { return self }
        guard let r = session.nanos(on: date) else {
            return Bars(ticker: ticker, date: date, chunk: chunk, rows: rows.lowerBound..<rows.lowerBound)
        }
        let ws = windowStart
        func firstIndex(notBelow v: Int64) -> Int {
            var lo = ws.startIndex, hi = ws.endIndex
            while lo < hi {
                let mid = (lo + hi) / 2
                if ws[mid] < v { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        let a = firstIndex(notBelow: r.lowerBound), b = firstIndex(notBelow: r.upperBound)
        return Bars(ticker: ticker, date: date, chunk: chunk, rows: a..<Swift.max(a, b))
    }
}
