#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import FFCol
import FFColConvert

/// Synthetic flat files (`Synth`, seed 42) and their conversions, generated on first use and
/// cached on disk, keyed by their sizes.
///
/// Environment:
/// - `FFCOL_BENCH_DIR`: the cache folder (default `$TMPDIR/ffcol-bench`, else `/tmp/ffcol-bench`).
/// - `FFCOL_BENCH_OPTIONS_ROWS`: rows of the options minute day (default 1,500,000; a real
///   day is about 5,500,000).
/// - `FFCOL_BENCH_STOCKS_ROWS`: rows of each stocks minute day (default 1,000,000; a real
///   day is about 4,000,000).
/// - `FFCOL_BENCH_DAYS`: stocks minute days for the multi-day scans (default 20).
public enum Fixtures {
    public static let optionsRows = env("FFCOL_BENCH_OPTIONS_ROWS", 1_500_000)
    public static let stocksRows = env("FFCOL_BENCH_STOCKS_ROWS", 1_000_000)
    public static let days = env("FFCOL_BENCH_DAYS", 20)
    /// The ticker scanned across days, and the options underlying scanned in one day.
    public static let scanTicker = "SPY"
    public static let scanUnderlying = "SPY"

    public static let optionsDate = TradingDate("2025-09-29")!
    /// `days` weekdays from 2025-09-02 on (what matters here is only that they are distinct).
    public static let stocksDates: [TradingDate] = {
        var out: [TradingDate] = []
        var d = TradingDate("2025-09-02")!
        while out.count < days {
            let weekday = (d.daysSinceEpoch + 4) % 7   // 1970-01-01 was a Thursday; 0 = Sunday
            if weekday != 0 && weekday != 6 { out.append(d) }
            d = d.adding(days: 1)
        }
        return out
    }()

    public static let root: String = {
        let base = getenv("FFCOL_BENCH_DIR").map { String(cString: $0) }
            ?? ((getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/ffcol-bench")
        return base
    }()

    /// The flat files, in the S3 key layout.
    public static var flatDir: String { "\(root)/flat" }
    /// The converted files (a `Store` root); the format version is in the name, so that files
    /// an older ffcol wrote are not measured as this one's.
    public static var storeRoot: String { "\(root)/ffc-v\(FFCFormat.versionMajor)-o\(optionsRows)-s\(stocksRows)" }
    public static var store: Store { Store(root: storeRoot) }
    /// Scratch output of the conversion benchmarks.
    public static var scratchRoot: String { "\(root)/scratch" }

    static func env(_ name: String, _ fallback: Int) -> Int {
        guard let v = getenv(name), let n = Int(String(cString: v).replacingUnderscores()), n > 0 else { return fallback }
        return n
    }

    static func gzipPath(_ ds: Dataset, _ date: TradingDate, rows: Int) -> String {
        // The rows are in the folder name, so that files of other sizes are not mistaken for these.
        "\(flatDir)/\(rows)/\(ds.key(for: date))"
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Seconds since the epoch of the last change of `path`, nil if it cannot be read.
    static func modificationTime(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        #if canImport(Darwin)
        return Int(st.st_mtimespec.tv_sec)
        #else
        return Int(st.st_mtim.tv_sec)
        #endif
    }

    static func makeParent(_ path: String) throws {
        if let slash = path.lastIndex(of: "/") { try FFCWriter.makeDirectories(String(path[..<slash])) }
    }

    /// The options minute day as gzip CSV (generated if missing).
    public static func optionsGzip() throws -> String {
        let p = gzipPath(.optionsMinute, optionsDate, rows: optionsRows)
        if !exists(p) {
            log("generating \(p) (\(optionsRows) rows)")
            try makeParent(p)
            _ = try Synth.writeGzip(SynthOptions(dataset: .optionsMinute, date: optionsDate, rows: optionsRows), to: p)
        }
        return p
    }

    /// One stocks minute day as gzip CSV (generated if missing).
    public static func stocksGzip(_ date: TradingDate) throws -> String {
        let p = gzipPath(.stocksMinute, date, rows: stocksRows)
        if !exists(p) {
            log("generating \(p) (\(stocksRows) rows)")
            try makeParent(p)
            _ = try Synth.writeGzip(SynthOptions(dataset: .stocksMinute, date: date, rows: stocksRows), to: p)
        }
        return p
    }

    /// The options minute day as plain CSV bytes in memory.
    public static func optionsCSV() throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(optionsRows * 72)
        _ = try Synth.generate(SynthOptions(dataset: .optionsMinute, date: optionsDate, rows: optionsRows)) {
            out.append(contentsOf: $0)
        }
        return out
    }

    /// A whole file's bytes.
    public static func read(_ path: String) throws -> [UInt8] {
        let src = try FileSource(path: path)
        var out: [UInt8] = []
        if let s = src.size { out.reserveCapacity(Int(s)) }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buf.deallocate() }
        while true {
            let n = try src.read(into: buf)
            if n == 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
        return out
    }

    /// The store with the options minute day and `days` stocks minute days, converted (both
    /// generated and converted if missing, two at a time).
    @discardableResult
    public static func prepareStore() throws -> Store {
        let s = store
        var jobs: [(Dataset, TradingDate)] = [(.optionsMinute, optionsDate)]
        jobs += stocksDates.map { (.stocksMinute, $0) }
        // Missing files, files this build cannot read, and files converted before this
        // benchmark executable was built (perhaps by an older writer, whose output the read
        // benchmarks would then measure) are converted again.
        // (The benchmark runner starts the executable by its bare name: ask /proc for it.)
        let built = modificationTime("/proc/self/exe") ?? modificationTime(CommandLine.arguments[0]) ?? 0
        jobs = jobs.filter {
            let p = s.path(dataset: $0.0, date: $0.1)
            guard exists(p), (modificationTime(p) ?? 0) >= built,
                  let f = try? FFCFile(path: p), (try? f.chunk(0)) != nil else { return true }
            return false
        }
        if jobs.isEmpty { return s }
        let errors = ErrorBox()
        let todo = jobs
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for (k, job) in todo.enumerated() where k % 2 == worker {
                do {
                    let gz = job.0 == .optionsMinute ? try optionsGzip() : try stocksGzip(job.1)
                    log("converting \(gz)")
                    var o = ConvertOptions(outRoot: storeRoot)
                    o.dataset = job.0; o.date = job.1
                    _ = try Converter.convert(path: gz, options: o)
                } catch { errors.set(error) }
            }
        }
        if let e = errors.error { throw e }
        return s
    }

    public static func log(_ s: String) {
        fputs("[fixtures] \(s)\n", stderr)
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = PthreadLock()
    private(set) var error: Error?
    func set(_ e: Error) { lock.locked { if error == nil { error = e } } }
}

/// A pthread mutex.
final class PthreadLock: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&m); defer { pthread_mutex_unlock(&m) }
        return body()
    }
}

extension String {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}

/// Seconds on the monotonic clock.
public func now() -> Double { monotonicSeconds() }
