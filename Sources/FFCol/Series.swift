// MARK: - One ticker across days, as contiguous columns

/// One ticker's bars over a date range, all loaded, as contiguous typed column arrays.
///
/// Rows of every date are concatenated in date order (and `window_start` order within a
/// date); `dateOffsets` marks where each date starts, so `rows(of:)` gives one day's range.
/// Dates without rows for the ticker (holidays, no trades, no file) are simply absent.
/// Columns not requested when loading are empty arrays.
///
/// ```swift
/// let s = try store.bars(ticker: "AAPL", dataset: .stocksMinute, from: a, to: b).loadColumns()
/// for k in 0..<s.count { _ = (s.windowStart[k], s.close[k]) }
/// ```
public struct SeriesColumns: Sendable {
    public let ticker: String
    /// The dates that have rows, ascending.
    public private(set) var dates: [TradingDate] = []
    /// Row offsets: date `dates[i]` has rows `dateOffsets[i]..<dateOffsets[i + 1]`
    /// (`dates.count + 1` entries, the first 0 and the last `count`).
    public private(set) var dateOffsets: [Int] = [0]
    public private(set) var volume: [Double] = []
    public private(set) var open: [Double] = []
    public private(set) var close: [Double] = []
    public private(set) var high: [Double] = []
    public private(set) var low: [Double] = []
    /// Start of each bar, Unix nanoseconds UTC.
    public private(set) var windowStart: [Int64] = []
    public private(set) var transactions: [Int64] = []

    public init(ticker: String) { self.ticker = ticker }

    /// The number of rows over all dates.
    public var count: Int { dateOffsets.last! }

    /// The row range of date index `i` (an index into `dates`).
    public func rows(dateIndex i: Int) -> Range<Int> { dateOffsets[i]..<dateOffsets[i + 1] }

    /// The row range of `date`, or nil if the ticker has no rows that day.
    public func rows(of date: TradingDate) -> Range<Int>? {
        var lo = 0, hi = dates.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if dates[mid] < date { lo = mid + 1 } else { hi = mid }
        }
        return lo < dates.count && dates[lo] == date ? rows(dateIndex: lo) : nil
    }

    /// Row `k` as a `Bar`. All seven columns must be loaded.
    public subscript(k: Int) -> Bar {
        Bar(volume: volume[k], open: open[k], close: close[k], high: high[k], low: low[k],
            windowStart: windowStart[k], transactions: transactions[k])
    }

    /// Appends one date's rows (dates must be appended in ascending order).
    public mutating func append(_ b: Bars) {
        precondition(dates.last.map { $0 < b.date } ?? true, "dates must be appended in ascending order")
        guard b.count > 0 else { return }
        dates.append(b.date)
        dateOffsets.append(count + b.count)
        volume.append(contentsOf: b.volume)
        open.append(contentsOf: b.open)
        close.append(contentsOf: b.close)
        high.append(contentsOf: b.high)
        low.append(contentsOf: b.low)
        windowStart.append(contentsOf: b.windowStart)
        transactions.append(contentsOf: b.transactions)
    }
}

extension TickerSeries {
    /// All dates' rows at once as contiguous column arrays with per-date offsets (dates are
    /// decoded ahead on the series' threads, as by `forEach`). Throws the first error (a
    /// damaged or unreadable file).
    public func loadColumns() throws -> SeriesColumns {
        var out = SeriesColumns(ticker: ticker)
        try forEach { out.append($0) }
        return out
    }
}
