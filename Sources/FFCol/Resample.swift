// MARK: - Owned bar columns

/// Bars held as a small struct of arrays, one array per column: what resampling and
/// split adjustment produce. `window_start` is Unix nanoseconds UTC as in the flat files.
/// Index it by row (`cols[k]` gives a `Bar`) or use the arrays directly.
public struct BarColumns: Sendable, Equatable {
    public var windowStart: [Int64] = []
    public var open: [Double] = []
    public var high: [Double] = []
    public var low: [Double] = []
    public var close: [Double] = []
    public var volume: [Double] = []
    public var transactions: [Int64] = []

    public init() {}

    /// A copy of `bars` (all seven columns must be loaded).
    public init(_ bars: Bars) {
        windowStart = Array(bars.windowStart)
        open = Array(bars.open); high = Array(bars.high); low = Array(bars.low); close = Array(bars.close)
        volume = Array(bars.volume); transactions = Array(bars.transactions)
        precondition(windowStart.count == bars.count && open.count == bars.count && high.count == bars.count
                     && low.count == bars.count && close.count == bars.count && volume.count == bars.count
                     && transactions.count == bars.count, "BarColumns(_:) needs all columns loaded")
    }

    public var count: Int { windowStart.count }
    public var isEmpty: Bool { windowStart.isEmpty }

    public mutating func reserveCapacity(_ n: Int) {
        windowStart.reserveCapacity(n); open.reserveCapacity(n); high.reserveCapacity(n); low.reserveCapacity(n)
        close.reserveCapacity(n); volume.reserveCapacity(n); transactions.reserveCapacity(n)
    }

    public mutating func append(_ b: Bar) {
        windowStart.append(b.windowStart); open.append(b.open); high.append(b.high); low.append(b.low)
        close.append(b.close); volume.append(b.volume); transactions.append(b.transactions)
    }

    public mutating func append(contentsOf other: BarColumns) {
        windowStart += other.windowStart; open += other.open; high += other.high; low += other.low
        close += other.close; volume += other.volume; transactions += other.transactions
    }

    /// Row `k`.
    public subscript(k: Int) -> Bar {
        Bar(volume: volume[k], open: open[k], close: close[k], high: high[k], low: low[k],
            windowStart: windowStart[k], transactions: transactions[k])
    }

    /// The column `c` if it holds doubles (volume, open, close, high, low).
    public func doubles(_ c: Column) -> [Double]? {
        switch c {
        case .volume: return volume
        case .open: return open
        case .close: return close
        case .high: return high
        case .low: return low
        default: return nil
        }
    }

    /// The column `c` if it holds integers (window_start, transactions).
    public func int64s(_ c: Column) -> [Int64]? {
        switch c {
        case .windowStart: return windowStart
        case .transactions: return transactions
        default: return nil
        }
    }
}

// MARK: - Resampling

/// The length of a resampled bar.
public enum BarInterval: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `n` minutes (1-1440), e.g. 5, 15, 30, or 60 for hourly bars.
    case minutes(Int)
    /// One bar per New York date.
    case day

    /// Parses `5m`, `15m`, `30m`, `1h`, `2h`, `1d` (a number followed by m, h or d;
    /// days only as `1d`). Nil for anything else.
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        guard let unit = s.last, let n = Int(s.dropLast()), n > 0 else { return nil }
        switch unit {
        case "m" where n <= 1440: self = .minutes(n)
        case "h" where n <= 24: self = .minutes(n * 60)
        case "d" where n == 1: self = .day
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .day: return "1d"
        case .minutes(let m): return m % 60 == 0 ? "\(m / 60)h" : "\(m)m"
        }
    }
}

/// Aggregates minute bars (in time order) into longer bars.
///
/// Each output bar: `open` of the first input bar, `close` of the last, `high` the
/// maximum, `low` the minimum, `volume` and `transactions` summed, and `window_start` the
/// start of its bucket. Buckets follow New York wall time and never span two dates:
///
/// - intraday intervals with `session: .regular` keep only regular-session bars and align
///   buckets to 09:30 ET (so 1h bars start 09:30, 10:30, ...; the last one of the day is
///   cut at the close, 16:00 or 13:00 on early-close days);
/// - intraday intervals with `session: .extended` keep every bar and align buckets to
///   midnight ET (1h bars start 04:00, 05:00, ...);
/// - `.day` gives one bar per New York date with `window_start` at midnight ET, as in the
///   day flat files; with `.regular` it aggregates the regular session only.
///
/// Buckets with no input bars are absent. Feed the bars one date at a time (as
/// `TickerSeries.forEach` gives them) and call `finish()`; memory grows only with the
/// output arrays.
///
/// ```swift
/// var r = Resampler(interval: .minutes(15), session: .regular)
/// try store.bars(ticker: "AAPL", dataset: .stocksMinute).forEach { r.add($0) }
/// let bars15 = r.finish()
/// ```
public struct Resampler {
    public let interval: BarInterval
    public let session: Session
    var out = BarColumns()
    var cache = LocalTimeCache()
    /// The current bucket: its date's day number and starting minute, and aggregates.
    var key: (day: Int, minute: Int)? = nil
    var cur = Bar(volume: 0, open: 0, close: 0, high: 0, low: 0, windowStart: 0, transactions: 0)
    /// Session bounds of the date last looked up.
    var boundsDay = Int.min
    var bounds: Range<Int>? = nil

    public init(interval: BarInterval, session: Session = .extended) {
        if case .minutes(let m) = interval { precondition(m >= 1 && m <= 1440, "interval out of range") }
        self.interval = interval
        self.session = session
    }

    /// Adds one date's bars of one ticker (all columns loaded, in window_start order).
    public mutating func add(_ bars: Bars) {
        guard bars.count > 0 else { return }
        let j0 = bars.rows.lowerBound
        let c = bars.chunk
        guard let v = c.doubles(.volume), let o = c.doubles(.open), let cl = c.doubles(.close),
              let h = c.doubles(.high), let l = c.doubles(.low), let w = c.int64s(.windowStart),
              let t = c.int64s(.transactions) else {
            preconditionFailure("resampling needs all columns loaded")
        }
        for j in j0..<bars.rows.upperBound {
            add(Bar(volume: v[j], open: o[j], close: cl[j], high: h[j], low: l[j], windowStart: w[j], transactions: t[j]))
        }
    }

    /// Adds every bar of `cols`, in order.
    public mutating func add(_ cols: BarColumns) {
        for k in 0..<cols.count { add(cols[k]) }
    }

    /// Adds one bar; bars must come in time order.
    public mutating func add(_ b: Bar) {
        let lt = cache.localTime(unixNanos: b.windowStart)
        let dayNum = lt.date.daysSinceEpoch
        if session == .regular {
            if dayNum != boundsDay { boundsDay = dayNum; bounds = session.minutes(on: lt.date) }
            guard let r = bounds, r.contains(lt.minuteOfDay) else { return }
        }
        let minute: Int
        switch interval {
        case .day: minute = 0
        case .minutes(let n):
            let anchor = session == .regular ? Session.regularOpenMinute : 0
            minute = anchor + EasternTime.floorDivInt(lt.minuteOfDay - anchor, n) * n
        }
        if let k = key, k.day == dayNum, k.minute == minute {
            cur.high = max(cur.high, b.high)
            cur.low = min(cur.low, b.low)
            cur.close = b.close
            cur.volume += b.volume
            cur.transactions += b.transactions
        } else {
            if key != nil { out.append(cur) }
            key = (dayNum, minute)
            cur = b
            cur.windowStart = EasternTime.unixNanos(date: lt.date, minuteOfDay: minute)
        }
    }

    /// The bars so far, including the open bucket; the resampler can keep going.
    public var result: BarColumns {
        var r = out
        if key != nil { r.append(cur) }
        return r
    }

    /// Closes the last bucket and returns every resampled bar.
    public mutating func finish() -> BarColumns {
        if key != nil { out.append(cur); key = nil }
        return out
    }

    /// Resamples `bars` (one or more dates of one ticker, in date order).
    public static func resample(_ bars: some Sequence<Bars>, interval: BarInterval, session: Session = .extended) -> BarColumns {
        var r = Resampler(interval: interval, session: session)
        for b in bars { r.add(b) }
        return r.finish()
    }

    /// Resamples bars already held as columns (in time order).
    public static func resample(_ cols: BarColumns, interval: BarInterval, session: Session = .extended) -> BarColumns {
        var r = Resampler(interval: interval, session: session)
        r.add(cols)
        return r.finish()
    }
}

extension EasternTime {
    @inline(__always) static func floorDivInt(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
