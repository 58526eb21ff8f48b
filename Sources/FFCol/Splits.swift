#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Split adjustment

/// One stock split: on `executionDate` each `splitFrom` shares became `splitTo` shares
/// (a 4-for-1 split is from 1 to 4; a 1-for-10 reverse split is from 10 to 1).
public struct Split: Sendable, Equatable, Hashable {
    public var ticker: String
    public var executionDate: TradingDate
    public var splitFrom: Double
    public var splitTo: Double

    public init(ticker: String, executionDate: TradingDate, splitFrom: Double, splitTo: Double) {
        self.ticker = ticker; self.executionDate = executionDate; self.splitFrom = splitFrom; self.splitTo = splitTo
    }
}

/// A malformed splits file: the file, the 1-based line and what is wrong.
public struct SplitsFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public var path: String
    /// 1-based line number; 0 when the file as a whole is at fault (unreadable, empty).
    public var line: Int
    public var message: String

    public var description: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }
}

/// A table of stock splits, for adjusting prices and volumes at read time.
///
/// The flat files hold prices as traded (unadjusted). To compare prices across a split,
/// adjust them as of a date: for each split of the ticker with an execution date after
/// the bar's date and on or before the as-of date, prices are multiplied by
/// `splitFrom / splitTo` and volume by `splitTo / splitFrom`; transactions are unchanged.
/// Bars on or after a split's execution date already trade on the new basis. Nothing
/// is adjusted unless you ask.
///
/// ```swift
/// let splits = try SplitTable(path: "splits.csv")   // ticker,execution_date,split_from,split_to
/// try store.bars(ticker: "AAPL", dataset: .stocksMinute).forEach { day in
///     let adjusted = splits.adjusted(day, asOf: TradingDate("2025-09-30")!)   // BarColumns
/// }
/// ```
public struct SplitTable: Sendable {
    /// Splits per ticker, in execution-date order.
    public private(set) var byTicker: [String: [Split]] = [:]

    public init(_ splits: [Split] = []) {
        for s in splits { byTicker[s.ticker, default: []].append(s) }
        for k in byTicker.keys { byTicker[k]!.sort { $0.executionDate < $1.executionDate } }
    }

    /// Reads a CSV as Massive's splits endpoint returns it: a header line naming at least
    /// `ticker`, `execution_date` (YYYY-MM-DD), `split_from` and `split_to` (positive
    /// numbers), in any order, other columns ignored; then one split per line. Blank lines
    /// are skipped; CRLF line ends and double-quoted fields are accepted.
    /// Throws `SplitsFileError` naming the file and line of the first bad input.
    public init(path: String) throws {
        guard let bytes = SplitTable.readAll(path) else {
            throw SplitsFileError(path: path, line: 0, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        try self.init(csv: bytes, path: path)
    }

    /// Parses splits CSV text; `path` only names the source in errors.
    public init(csv: some Collection<UInt8>, path: String = "<splits>") throws {
        var splits: [Split] = []
        var columns: (ticker: Int, date: Int, from: Int, to: Int)? = nil
        var lineNo = 0
        for rawLine in csv.split(separator: 10, omittingEmptySubsequences: false) {
            lineNo += 1
            var line = Array(rawLine)
            if line.last == 13 { line.removeLast() }
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { f -> String in
                var s = Substring(String(decoding: f, as: UTF8.self))
                while s.first == " " { s.removeFirst() }
                while s.last == " " { s.removeLast() }
                if s.count >= 2, s.first == "\"", s.last == "\"" { s = s.dropFirst().dropLast() }
                return String(s)
            }
            guard let c = columns else {
                func find(_ name: String) throws -> Int {
                    guard let i = fields.firstIndex(of: name) else {
                        throw SplitsFileError(path: path, line: lineNo,
                                              message: "header has no '\(name)' column (want ticker,execution_date,split_from,split_to)")
                    }
                    return i
                }
                columns = (try find("ticker"), try find("execution_date"), try find("split_from"), try find("split_to"))
                continue
            }
            func fail(_ m: String) -> SplitsFileError { SplitsFileError(path: path, line: lineNo, message: m) }
            let need = max(c.ticker, c.date, c.from, c.to) + 1
            guard fields.count >= need else { throw fail("\(fields.count) fields, want at least \(need)") }
            let ticker = fields[c.ticker]
            guard !ticker.isEmpty else { throw fail("empty ticker") }
            guard let date = TradingDate(fields[c.date]) else {
                throw fail("execution_date '\(fields[c.date])' is not a date YYYY-MM-DD")
            }
            guard let from = Double(fields[c.from]), from.isFinite, from > 0 else {
                throw fail("split_from '\(fields[c.from])' is not a positive number")
            }
            guard let to = Double(fields[c.to]), to.isFinite, to > 0 else {
                throw fail("split_to '\(fields[c.to])' is not a positive number")
            }
            splits.append(Split(ticker: ticker, executionDate: date, splitFrom: from, splitTo: to))
        }
        guard columns != nil else {
            throw SplitsFileError(path: path, line: 0, message: "empty: want a header ticker,execution_date,split_from,split_to")
        }
        self.init(splits)
    }

    /// The splits of `ticker`, oldest first.
    public func splits(ticker: String) -> [Split] { byTicker[ticker] ?? [] }

    /// The factors for a bar of `ticker` on `date` adjusted as of `asOf`: multiply prices
    /// by `price` and volume by `volume`. Both are 1 when no split falls in
    /// `(date, asOf]`.
    public func factors(ticker: String, date: TradingDate, asOf: TradingDate) -> (price: Double, volume: Double) {
        var p = 1.0, v = 1.0
        for s in byTicker[ticker] ?? [] where s.executionDate > date && s.executionDate <= asOf {
            p *= s.splitFrom / s.splitTo
            v *= s.splitTo / s.splitFrom
        }
        return (p, v)
    }

    /// One date's bars of a ticker adjusted as of `asOf` (all columns loaded). The bars'
    /// date is `bars.date`.
    public func adjusted(_ bars: Bars, asOf: TradingDate) -> BarColumns {
        var c = BarColumns(bars)
        let f = factors(ticker: bars.ticker, date: bars.date, asOf: asOf)
        if f.price != 1 || f.volume != 1 { c.scale(price: f.price, volume: f.volume, rows: 0..<c.count) }
        return c
    }

    /// Adjusts bars of `ticker` held as columns in place, as of `asOf`; each bar's date is
    /// the New York date of its `window_start` (so resampled bars can be adjusted too).
    public func adjust(_ cols: inout BarColumns, ticker: String, asOf: TradingDate) {
        guard byTicker[ticker] != nil, cols.count > 0 else { return }
        var cache = LocalTimeCache()
        var k = 0
        while k < cols.count {
            // A run of rows on one date shares its factors.
            let date = cache.localTime(unixNanos: cols.windowStart[k]).date
            var e = k + 1
            while e < cols.count, cache.localTime(unixNanos: cols.windowStart[e]).date == date { e += 1 }
            let f = factors(ticker: ticker, date: date, asOf: asOf)
            if f.price != 1 || f.volume != 1 { cols.scale(price: f.price, volume: f.volume, rows: k..<e) }
            k = e
        }
    }

    static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return out }
            out.append(contentsOf: buf[0..<n])
        }
    }
}

extension BarColumns {
    mutating func scale(price p: Double, volume v: Double, rows r: Range<Int>) {
        for k in r {
            open[k] *= p; high[k] *= p; low[k] *= p; close[k] *= p
            volume[k] *= v
        }
    }
}
