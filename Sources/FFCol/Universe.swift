// MARK: - Many tickers over a date range, in time order

/// Many tickers over a date range, iterated in time order: per date, a k-way merge on
/// `window_start` across the tickers' bars (ties in ticker-list order).
///
/// Dates are opened and decoded ahead of the iteration on `threads` background threads (at
/// most 2 dates per thread ahead); a ticker with no rows on a date simply takes no part that
/// day. Per row nothing is allocated: bars are read from the decoded columns and the
/// cross-section buffers are reused from minute to minute.
///
/// ```swift
/// let u = store.universe(tickers: ["AAPL", "MSFT", "SPY"], dataset: .stocksMinute, from: a, to: b)
/// try u.forEachBar { date, k, bar in ... }          // k indexes u.tickers
/// try u.forEachMinute { minute in ... }            // all tickers with a bar at that minute
/// ```
public struct Universe: Sendable {
    public let store: Store
    public let dataset: Dataset
    /// The tickers, in the order their indices refer to.
    public let tickers: [String]
    /// The dates that have a file, ascending.
    public let dates: [TradingDate]
    /// Background threads that decode dates ahead of the iteration (0: none).
    public let threads: Int

    public init(store: Store, dataset: Dataset, tickers: [String], dates: [TradingDate],
                threads: Int = Store.defaultThreads) {
        self.store = store; self.dataset = dataset; self.tickers = tickers; self.dates = dates
        self.threads = max(0, threads)
    }

    /// The tickers' bars on one date, indexed like `tickers` (nil where a ticker has no rows).
    public func bars(on date: TradingDate) throws -> [Bars?] {
        guard let f = try store.open(dataset: dataset, date: date) else { return Array(repeating: nil, count: tickers.count) }
        return try tickers.map { try f.bars(ticker: $0) }
    }

    /// Calls `body` with each date and its tickers' bars (`bars(on:)`), in date order, the
    /// next dates decoded ahead on the background threads. Throws the first error.
    public func forEachDate(_ body: (TradingDate, [Bars?]) throws -> Void) throws {
        let u = self
        try forEachAhead(count: dates.count, threads: threads, ahead: 2 * max(1, threads), { try u.bars(on: u.dates[$0]) }) {
            try body(dates[$0], $1)
            return true
        }
    }

    /// Calls `body(date, tickerIndex, bar)` for every bar of every ticker, in order of
    /// (date, window_start, ticker index). Throws the first error.
    public func forEachBar(_ body: (TradingDate, Int, Bar) throws -> Void) throws {
        var heap = MergeHeap()
        try forEachDate { d, day in
            heap.reset(day)
            while let (k, row) = heap.pop() { try body(d, k, day[k]![row]) }
        }
    }

    /// Calls `body` once per distinct minute (date, window_start) with every ticker that has a
    /// bar there, in time order. The cross-section's buffers are reused: copy what must outlive
    /// the call. Throws the first error.
    public func forEachMinute(_ body: (CrossSection) throws -> Void) throws {
        var heap = MergeHeap()
        var cs = CrossSection(date: dates.first ?? TradingDate(year: 1970, month: 1, day: 1)!, windowStart: 0)
        try forEachDate { d, day in
            heap.reset(day)
            cs.date = d
            while let (k, row) = heap.pop() {
                let bar = day[k]![row]
                if !cs.tickerIndices.isEmpty && bar.windowStart != cs.windowStart {
                    try body(cs)
                    cs.tickerIndices.removeAll(keepingCapacity: true)
                    cs.bars.removeAll(keepingCapacity: true)
                }
                cs.windowStart = bar.windowStart
                cs.tickerIndices.append(k)
                cs.bars.append(bar)
            }
            if !cs.tickerIndices.isEmpty {
                try body(cs)
                cs.tickerIndices.removeAll(keepingCapacity: true)
                cs.bars.removeAll(keepingCapacity: true)
            }
        }
    }
}

/// The bars of one minute across a universe: `bars[i]` belongs to ticker
/// `tickerIndices[i]` (ascending); tickers without a bar at this minute are absent.
public struct CrossSection: Sendable {
    public internal(set) var date: TradingDate
    /// Start of the minute, Unix nanoseconds UTC.
    public internal(set) var windowStart: Int64
    public internal(set) var tickerIndices: [Int] = []
    public internal(set) var bars: [Bar] = []
    public var count: Int { bars.count }
}

/// A binary min-heap of (window_start, ticker index) cursors over one date's bars.
struct MergeHeap {
    var keys: [Int64] = []      // current window_start per heap slot
    var who: [Int] = []         // ticker index per heap slot
    var next: [Int] = []        // next row per ticker
    var ws: [ArraySlice<Int64>] = []

    mutating func reset(_ day: [Bars?]) {
        keys.removeAll(keepingCapacity: true); who.removeAll(keepingCapacity: true)
        next = Array(repeating: 0, count: day.count)
        ws = day.map { $0?.windowStart ?? [] }
        for k in 0..<day.count where !ws[k].isEmpty { push(ws[k].first!, k) }
    }

    @inline(__always) func less(_ a: Int, _ b: Int) -> Bool {
        keys[a] < keys[b] || (keys[a] == keys[b] && who[a] < who[b])
    }

    mutating func push(_ key: Int64, _ k: Int) {
        keys.append(key); who.append(k)
        var i = keys.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard less(i, p) else { break }
            keys.swapAt(i, p); who.swapAt(i, p); i = p
        }
    }

    /// The next (ticker index, row within that ticker's bars), advancing that ticker.
    mutating func pop() -> (Int, Int)? {
        guard let k = who.first else { return nil }
        let row = next[k]
        next[k] += 1
        let w = ws[k]
        if row + 1 < w.count {
            keys[0] = w[w.startIndex + row + 1]
        } else {
            keys.swapAt(0, keys.count - 1); who.swapAt(0, who.count - 1)
            keys.removeLast(); who.removeLast()
        }
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < keys.count && less(l, m) { m = l }
            if r < keys.count && less(r, m) { m = r }
            if m == i { break }
            keys.swapAt(i, m); who.swapAt(i, m); i = m
        }
        return (k, row)
    }
}

extension Store {
    /// Many tickers over a date range, for time-ordered iteration (see `Universe`).
    public func universe(tickers: [String], dataset: Dataset, from: TradingDate? = nil, to: TradingDate? = nil,
                         threads: Int = Store.defaultThreads) -> Universe {
        Universe(store: self, dataset: dataset, tickers: tickers, dates: dates(dataset: dataset, from: from, to: to),
                 threads: threads)
    }

    /// Every ticker of one date as a single columnar table (nil if there is no file).
    public func table(dataset: Dataset, date: TradingDate, columns: [Column] = Column.allCases) throws -> DayTable? {
        try open(dataset: dataset, date: date)?.table(columns: columns)
    }
}

// MARK: - All tickers on one date

/// Every ticker of one file as one table: ticker names, per-ticker row offsets and
/// contiguous column arrays, rows in (ticker, window_start) order.
/// Columns not requested are empty arrays.
public struct DayTable: Sendable {
    public let date: TradingDate
    /// Ticker names, ascending.
    public private(set) var tickers: [String] = []
    /// Ticker `tickers[i]` has rows `rowOffsets[i]..<rowOffsets[i + 1]` (`tickers.count + 1` entries).
    public private(set) var rowOffsets: [Int] = [0]
    public private(set) var volume: [Double] = []
    public private(set) var open: [Double] = []
    public private(set) var close: [Double] = []
    public private(set) var high: [Double] = []
    public private(set) var low: [Double] = []
    /// Start of each bar, Unix nanoseconds UTC.
    public private(set) var windowStart: [Int64] = []
    public private(set) var transactions: [Int64] = []

    public init(date: TradingDate) { self.date = date }

    public var count: Int { rowOffsets.last! }

    /// The row range of ticker index `i`.
    public func rows(tickerIndex i: Int) -> Range<Int> { rowOffsets[i]..<rowOffsets[i + 1] }

    /// The index of `ticker` (binary search), or nil.
    public func index(of ticker: String) -> Int? {
        let key = Array(ticker.utf8)
        var lo = 0, hi = tickers.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if tickers[mid].utf8.lexicographicallyPrecedes(key) { lo = mid + 1 } else { hi = mid }
        }
        return lo < tickers.count && tickers[lo].utf8.elementsEqual(key) ? lo : nil
    }

    /// Row `k` as a `Bar`. All seven columns must be loaded.
    public subscript(k: Int) -> Bar {
        Bar(volume: volume[k], open: open[k], close: close[k], high: high[k], low: low[k],
            windowStart: windowStart[k], transactions: transactions[k])
    }

    mutating func reserve(_ n: Int, _ columns: [Column]) {
        for c in columns {
            switch c {
            case .volume: volume.reserveCapacity(n)
            case .open: open.reserveCapacity(n)
            case .close: close.reserveCapacity(n)
            case .high: high.reserveCapacity(n)
            case .low: low.reserveCapacity(n)
            case .windowStart: windowStart.reserveCapacity(n)
            case .transactions: transactions.reserveCapacity(n)
            }
        }
    }

    mutating func append(_ b: Bars) {
        tickers.append(b.ticker)
        rowOffsets.append(count + b.count)
        volume.append(contentsOf: b.volume)
        open.append(contentsOf: b.open)
        close.append(contentsOf: b.close)
        high.append(contentsOf: b.high)
        low.append(contentsOf: b.low)
        windowStart.append(contentsOf: b.windowStart)
        transactions.append(contentsOf: b.transactions)
    }
}

extension FFCFile {
    /// Every ticker of this file as a single columnar table (each chunk decoded once).
    public func table(columns: [Column] = Column.allCases) throws -> DayTable {
        var t = DayTable(date: date)
        t.reserve(rowCount, columns)
        try forEachTicker(columns: columns) { t.append($0); return true }
        return t
    }
}
