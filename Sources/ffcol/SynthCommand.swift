import ArgumentParser
import FFCol
import FFColConvert
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a realistic flat file (CSV of aggregate bars, gzipped) deterministically.",
        discussion: """
            Writes a synthetic Polygon/Massive aggregates file with the real header \
            (ticker,volume,open,close,high,low,window_start,transactions), rows sorted by ticker \
            then window_start, realistic tickers (stock symbols with dots and lowercase, OCC option \
            symbols), heavy-tailed bars per ticker, prices in shortest and fixed forms, and \
            window_start in Unix nanoseconds for the session in America/New_York (minute files: \
            stocks 04:00-20:00 ET, options 09:30-16:00 ET; day files: midnight ET). The same \
            options always produce a byte-identical file.

            --out takes a file path ending in .csv.gz (gzip) or .csv (plain text), or a \
            directory, in which case the S3 key layout is used below it (directories are \
            created), e.g. DIR/us_options_opra/minute_aggs_v1/2025/09/2025-09-29.csv.gz. Files \
            are written atomically (temporary file, fsync, rename).

            A one-line summary goes to standard error: rows, tickers, CSV bytes, gzip bytes, \
            seconds.

            Examples:
              ffcol synth --out /tmp/opts.csv.gz
              ffcol synth --dataset stocks_minute --rows 100000 --out data/
              ffcol synth --dataset stocks_day --shuffle --crlf --out /tmp/day.csv
            """)

    @Option(help: ArgumentHelp(
        "The dataset: stocks_day, stocks_minute, options_day or options_minute.",
        valueName: "dataset"))
    var dataset: String = Dataset.optionsMinute.rawValue

    @Option(help: ArgumentHelp("The session date, YYYY-MM-DD (any calendar date is accepted).",
                               valueName: "YYYY-MM-DD"))
    var date: String = "2025-09-29"

    @Option(help: ArgumentHelp("""
        Exact number of data rows. Default: a realistic day, 5500000 for options_minute, \
        4000000 for stocks_minute, 1000000 for options_day, 11000 for stocks_day.
        """, valueName: "N"))
    var rows: Int?

    @Option(help: "Seed of the pseudo-random generator; the same seed gives the same bytes.")
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Output: a .csv.gz or .csv file path, or a directory (S3 key layout below it).",
                               valueName: "path"))
    var out: String

    @Option(help: "gzip compression level, 1 (fastest) to 9 (smallest).")
    var level: Int32 = 6

    @Flag(help: "Make some volumes fractional (12.5, 0.25) and spell a few as N.0.")
    var fractionalVolume = false

    @Flag(help: "Spell about 1% of prices in exponent notation (1e-04, 1.5e-02, 2.5E+01); same values.")
    var exponentNotation = false

    @Flag(help: "Leave rows unsorted: swap some adjacent tickers, reverse some tickers' bars. Same rows.")
    var shuffle = false

    @Flag(help: "Use CRLF line endings.")
    var crlf = false

    func validate() throws {
        guard let ds = Dataset(rawValue: dataset) else {
            throw ValidationError("--dataset must be one of \(Dataset.allCases.map(\.rawValue).joined(separator: ", ")); got '\(dataset)'")
        }
        guard TradingDate(date) != nil else {
            throw ValidationError("--date must be a real date in the form YYYY-MM-DD between 1970 and 2200; got '\(date)'")
        }
        if let rows {
            let maxRows = SynthOptions.maxRows(for: ds)
            guard rows >= 0 && rows <= maxRows else {
                throw ValidationError("--rows must be between 0 and \(maxRows) for \(ds.rawValue); got \(rows)")
            }
        }
        guard (1...9).contains(level) else {
            throw ValidationError("--level must be between 1 and 9; got \(level)")
        }
        guard !out.isEmpty else { throw ValidationError("--out must not be empty") }
        if !out.hasSuffix(".csv.gz") && !out.hasSuffix(".csv") && !out.hasSuffix("/") && !SynthCommand.isDirectory(out) {
            throw ValidationError("--out must be a file path ending in .csv.gz or .csv, or a directory (existing, or ending in '/'); got '\(out)'")
        }
    }

    func run() throws {
        let ds = Dataset(rawValue: dataset)!
        let day = TradingDate(date)!
        let options = SynthOptions(dataset: ds, date: day, rows: rows, seed: seed,
                                   fractionalVolume: fractionalVolume, exponentNotation: exponentNotation,
                                   shuffle: shuffle, crlf: crlf)
        var path = out
        if !out.hasSuffix(".csv.gz") && !out.hasSuffix(".csv") {
            // A directory: the S3 key layout below it, creating directories as needed.
            let dir = out.hasSuffix("/") ? String(out.dropLast()) : out
            path = (dir.isEmpty ? "" : dir + "/") + ds.key(for: day)
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                try SynthCommand.makeDirectories(String(path[..<slash]))
            }
        }

        let clock = ContinuousClock()
        let start = clock.now
        let summary = path.hasSuffix(".csv")
            ? try Synth.writeCSV(options, to: path)
            : try Synth.writeGzip(options, to: path, level: level)
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

        var line = "synth: \(ds.rawValue) \(day): \(summary.rows) rows, \(summary.tickers) tickers, "
            + "\(summary.csvBytes) CSV bytes"
        if let gz = summary.gzipBytes { line += ", \(gz) gzip bytes" }
        line += ", \(SynthCommand.format(seconds)) s -> \(path)\n"
        fputs(line, stderr)
    }

    static func format(_ seconds: Double) -> String {
        let hundredths = Int((seconds * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p.
    static func makeDirectories(_ path: String) throws {
        if isDirectory(path) { return }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectories(String(path[..<slash]))
        }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw ValidationError("cannot create directory \(path): \(String(cString: strerror(errno)))")
        }
    }
}
