import ArgumentParser
import FFCol

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, ndjson
}

enum TimeZoneChoice: String, ExpressibleByArgument, CaseIterable {
    case newYork = "America/New_York"
    case utc = "UTC"
}

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Print the bars of one or more tickers from converted files.",
        discussion: """
        Examples:
          ffcol scan --ticker AAPL --from 2025-09-01 --to 2025-09-30
          ffcol scan --dataset options_minute --ticker SPY            (every SPY contract)
          ffcol scan --ticker O:SPY251017C00600000 --format csv       (one contract)
          ffcol scan --underlying SPY --expiry 2025-10-17 --strike-min 590 --strike-max 610 --type call

        For options datasets, a --ticker without the O: prefix is an underlying root and gives \
        all of its contracts; a full OCC symbol gives one contract. Without --ticker, every \
        ticker is printed. Rows come per --ticker, then by date, then (ticker, window_start).

        --underlying selects an options chain and narrows it by expiry (--expiry, or         --expiry-from/--expiry-to), strike in dollars (--strike, or --strike-min/--strike-max)         and --type call|put; bounds are inclusive. Rows come per --underlying, then by date,         then (contract, window_start).

        --format csv writes the header and the source columns in source order with window_start \
        as integer Unix nanoseconds (as in the flat files), so the output can be compared with \
        the original file; with --tz it is written as ISO 8601 text instead. --format table \
        shows America/New_York times unless --tz says otherwise.

        Sessions, resampling and splits (minute datasets; applied in this order):
          --session regular     only bars from 09:30 ET to the close (16:00, 13:00 on \
        early-close days such as the day after Thanksgiving); extended (the default) keeps \
        every bar, 04:00-20:00 ET for stocks.
          --resample 5m|15m|30m|1h|1d     aggregate each date's bars: open first, close last, \
        high max, low min, volume and transactions summed, window_start the start of the \
        bucket. Intraday buckets start at 09:30 ET with --session regular and at midnight ET \
        otherwise; 1d gives one bar per date stamped midnight ET, as in the day files.
          --adjust-splits FILE  adjust prices and volumes for the splits in FILE, a CSV with \
        the header ticker,execution_date,split_from,split_to (as the splits endpoint returns \
        it): a split executed after a bar's date and on or before --as-of (default: the last \
        date scanned) multiplies prices by split_from/split_to and volume by \
        split_to/split_from. Without it prices are as traded.

          ffcol scan --ticker AAPL --session regular --resample 15m --format csv
          ffcol scan --ticker AAPL --resample 1d --adjust-splits splits.csv
        The output columns and formats are the same as without these options.
        """)

    @Option(help: "Root of converted files (default: root in config/ffcol.yaml, else ./data).")
    var root: String?

    @Option(help: "Dataset (default: the one present under ROOT): \(Dataset.allValueStrings.joined(separator: ", ")).")
    var dataset: Dataset?

    @Option(name: .customLong("ticker"), help: "Ticker, options underlying root, or OCC symbol; repeatable.")
    var tickers: [String] = []

    @Option(help: "First date YYYY-MM-DD (default: the first converted date).")
    var from: TradingDate?

    @Option(help: "Last date YYYY-MM-DD (default: the last converted date).")
    var to: TradingDate?

    @Option(help: "Comma-separated columns to print after ticker (default: all): volume,open,close,high,low,window_start,transactions.")
    var columns: String?

    @Option(help: "Output format: table, csv or ndjson.")
    var format: OutputFormat = .table

    @Option(help: "Print window_start as local time text in this zone: America/New_York or UTC.")
    var tz: TimeZoneChoice?

    @Option(help: "Print at most this many rows.")
    var limit: Int?

    @OptionGroup(title: "Options chains")
    var chain: ChainOptions

    @Option(help: "Session: regular (09:30 ET to the close) or extended (every bar; default).")
    var session: Session = .extended

    @Option(help: "Resample each date's bars to 5m, 15m, 30m, 1h or 1d bars.")
    var resample: BarInterval?

    @Option(name: .customLong("adjust-splits"), help: ArgumentHelp("Adjust prices and volumes for the splits in this CSV (ticker,execution_date,split_from,split_to).", valueName: "file"))
    var adjustSplits: String?

    @Option(name: .customLong("as-of"), help: "Date YYYY-MM-DD the split adjustment is as of (default: the last date scanned).")
    var asOf: TradingDate?

    func validate() throws {
        if let l = limit, l < 0 { throw ValidationError("--limit must not be negative") }
        if asOf != nil && adjustSplits == nil { throw ValidationError("--as-of needs --adjust-splits") }
        if let f = from, let t = to, t < f { throw ValidationError("--to \(t) is before --from \(f)") }
        if !chain.underlying.isEmpty {
            if !tickers.isEmpty { throw ValidationError("use either --ticker or --underlying") }
            if let d = dataset, !d.isOptions { throw ValidationError("--underlying needs an options dataset, not \(d.rawValue)") }
        }
        if let c = columns {
            for name in c.split(separator: ",") where Column(name: String(name)) == nil {
                throw ValidationError("unknown column '\(name)'; columns are \(Column.allCases.map(\.name).joined(separator: ","))")
            }
        }
    }

    func run() throws {
        let store = Store(root: root ?? Settings.load().root)
        let ds = try resolveDataset(store)
        let cols: [Column] = columns.map { $0.split(separator: ",").compactMap { Column(name: String($0)) } } ?? Column.allCases
        let dates = store.dates(dataset: ds, from: from, to: to)
        if dates.isEmpty {
            throw Failure("no \(ds.rawValue) files under \(store.root) between \(from?.description ?? "the start") and \(to?.description ?? "the end")")
        }
        let printer = RowPrinter(format: format, columns: cols, tz: tz ?? (format == .table ? .newYork : nil), limit: limit)
        let transform = try BarTransform(scan: self, dataset: ds, lastDate: dates.last!)
        let load = transform.loadColumns(cols)
        let emit = { (b: Bars) -> Bool in transform.print(b, printer) }
        printer.begin()
        /// Prints what `select` takes from each date's file, in date order; the dates are opened
        /// and decoded ahead of the printing on background threads (at most 2 per thread ahead:
        /// an underlying's contracts can be many rows a day). False once the row limit is hit.
        /// A ticker or an underlying is a few chunks of each file: read, not mapped.
        func emitDates(_ select: @escaping (FFCFile) throws -> [Bars]) throws -> Bool {
            let threads = Store.defaultThreads
            return try forEachAhead(count: dates.count, threads: threads, ahead: 2 * threads,
                                    { try store.open(dataset: ds, date: dates[$0], access: .read).map(select) ?? [] }) { _, day in
                day.allSatisfy(emit)
            }
        }
        if !chain.underlying.isEmpty {
            guard ds.isOptions else { throw Failure("--underlying needs an options dataset; \(ds.rawValue) is not one") }
            let filter = chain.filter
            for u in chain.underlying {
                guard try emitDates({ f in try f.chain(underlying: u, filter: filter, columns: load).contracts.map(\.bars) }) else { break }
            }
        } else if tickers.isEmpty {
            for d in dates {
                guard let f = try store.open(dataset: ds, date: d) else { continue }
                var stop = false
                try f.forEachTicker(columns: load) { b in
                    stop = !emit(b)
                    return !stop
                }
                if stop { break }
            }
        } else {
            for t in tickers {
                let underlying = ds.isOptions && !t.hasPrefix("O:")
                guard try emitDates({ f in
                    if underlying { return try f.contracts(underlying: t, columns: load) }
                    return try f.bars(ticker: t, columns: load).map { [$0] } ?? []
                }) else { break }
            }
        }
        printer.end()
        if printer.rows == 0 {
            let what = !chain.underlying.isEmpty ? chain.underlying.joined(separator: ", ") + " contracts" + (chain.narrows ? " matching the filters" : "")
                : tickers.isEmpty ? "any ticker" : tickers.joined(separator: ", ")
            note("no rows for \(what) in \(ds.rawValue) \(dates.first!)...\(dates.last!) (\(dates.count) file\(dates.count == 1 ? "" : "s"))")
        }
    }

    func resolveDataset(_ store: Store) throws -> Dataset {
        if let d = dataset { return d }
        let present = store.datasets()
        if present.count == 1 { return present[0] }
        if present.isEmpty {
            throw Failure("no converted files under \(store.root); convert some with 'ffcol convert', or pass --root")
        }
        throw Failure("several datasets under \(store.root): \(present.map(\.rawValue).joined(separator: ", ")); choose one with --dataset")
    }
}

/// Writes rows as table, CSV or NDJSON.
final class RowPrinter {
    let format: OutputFormat
    let columns: [Column]
    let tz: TimeZoneChoice?
    let limit: Int?
    let out = Output()
    private(set) var rows = 0

    init(format: OutputFormat, columns: [Column], tz: TimeZoneChoice?, limit: Int?) {
        self.format = format; self.columns = columns; self.tz = tz; self.limit = limit
    }

    func begin() {
        switch format {
        case .csv:
            out.text("ticker")
            for c in columns { out.byte(UInt8(ascii: ",")); out.text(c.name) }
            out.byte(10)
        case .table:
            out.text(pad("ticker", 22))
            for c in columns { out.text(" "); out.text(pad(c.name, c == .windowStart ? (tz == nil ? 19 : 25) : 12)) }
            out.byte(10)
        case .ndjson: break
        }
    }

    func end() { out.flush() }

    func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }

    /// Prints a ticker's rows; false once the limit is reached.
    func print(_ b: Bars) -> Bool {
        printRows(ticker: b.ticker, columns.map { $0.isFloat ? b.chunk.doubles($0) : nil },
                  columns.map { $0.isFloat ? nil : b.chunk.int64s($0) }, b.rows)
    }

    /// Prints resampled or adjusted bars of one ticker; false once the limit is reached.
    func print(ticker: String, _ c: BarColumns) -> Bool {
        printRows(ticker: ticker, columns.map { c.doubles($0) }, columns.map { c.int64s($0) }, 0..<c.count)
    }

    func printRows(ticker: String, _ fl: [[Double]?], _ il: [[Int64]?], _ rowRange: Range<Int>) -> Bool {
        if format == .csv && (tz == nil || !columns.contains(.windowStart)) {
            return printCSV(ticker: ticker, fl, il, rowRange)
        }
        let b = (ticker: ticker, rows: rowRange)
        let name = Array(b.ticker.utf8)
        for j in b.rows {
            if let l = limit, rows >= l { return false }
            rows += 1
            switch format {
            case .csv:
                out.bytes(name)
                for (k, c) in columns.enumerated() {
                    out.byte(UInt8(ascii: ","))
                    value(c, fl[k], il[k], j)
                }
            case .ndjson:
                out.text("{\"ticker\":\"")
                jsonEscaped(name)
                out.byte(UInt8(ascii: "\""))
                for (k, c) in columns.enumerated() {
                    out.text(",\""); out.text(c.name); out.text("\":")
                    if c == .windowStart, tz != nil { out.byte(UInt8(ascii: "\"")) }
                    value(c, fl[k], il[k], j)
                    if c == .windowStart, tz != nil { out.byte(UInt8(ascii: "\"")) }
                }
                out.byte(UInt8(ascii: "}"))
            case .table:
                out.text(pad(b.ticker, 22))
                for (k, c) in columns.enumerated() {
                    out.text(" ")
                    let w = c == .windowStart ? (tz == nil ? 19 : 25) : 12
                    let before = out.mark
                    value(c, fl[k], il[k], j)
                    let n = out.mark - before
                    if n < w { out.text(String(repeating: " ", count: w - n)) }
                }
            }
            out.byte(10)
            out.maybeFlush()
        }
        return true
    }

    /// CSV with numbers only (no time zone text): the values are first copied column by
    /// column into one buffer of bit patterns, so that the row loop touches no arrays.
    func printCSV(ticker: String, _ fl: [[Double]?], _ il: [[Int64]?], _ rowRange: Range<Int>) -> Bool {
        let nc = columns.count
        var count = rowRange.count
        if let l = limit { count = min(count, max(0, l - rows)) }
        let name = Array(ticker.utf8)
        // Kind of each printed column: 0 = not loaded (empty field), 1 = Float64, 2 = Int64.
        var kinds = [UInt8](repeating: 0, count: nc)
        let vals = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, nc * count))
        defer { vals.deallocate() }
        let lo = rowRange.lowerBound
        for k in 0..<nc {
            // Safe: vals holds nc * count slots; column k's run is [k * count, (k + 1) * count),
            // and rows lo..<lo + count lie inside each column (rowRange is a range of it).
            let col = vals + k * count
            if let f = fl[k] {
                kinds[k] = 1
                f.withUnsafeBufferPointer { fb in for r in 0..<count { col[r] = fb[lo + r].bitPattern } }
            } else if let iv = il[k] {
                kinds[k] = 2
                iv.withUnsafeBufferPointer { ib in for r in 0..<count { col[r] = UInt64(bitPattern: ib[lo + r]) } }
            }
        }
        kinds.withUnsafeBufferPointer { kb in
            name.withUnsafeBytes { nb in
                for r in 0..<count {
                    out.bytes(nb)
                    for k in 0..<nc {
                        out.byte(UInt8(ascii: ","))
                        let v = vals[k &* count &+ r]
                        switch kb[k] {
                        case 1: out.double(Double(bitPattern: v))
                        case 2: out.int(Int64(bitPattern: v))
                        default: break
                        }
                    }
                    out.byte(10)
                    out.maybeFlush()
                }
            }
        }
        rows += count
        return count == rowRange.count
    }

    @inline(__always) func value(_ c: Column, _ f: [Double]?, _ i: [Int64]?, _ j: Int) {
        if let f = f { out.double(f[j]); return }
        guard let i = i else { return }
        if c == .windowStart, let tz = tz {
            out.text(EasternTime.format(unixNanos: i[j], utc: tz == .utc))
        } else {
            out.int(i[j])
        }
    }

    func jsonEscaped(_ s: [UInt8]) {
        for b in s {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.byte(UInt8(ascii: "\\")); out.byte(b) }
            else if b < 0x20 { out.text("\\u00"); out.byte(hex(b >> 4)); out.byte(hex(b & 15)) }
            else { out.byte(b) }
        }
    }
    func hex(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }
}
