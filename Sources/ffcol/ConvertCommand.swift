#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import FFCol
import FFColConvert

extension InflateBackend: ExpressibleByArgument {}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert flat files (.csv.gz, .csv, directories of them, or - for stdin) to .ffc files.",
        discussion: """
        Each input becomes ROOT/<dataset>/YYYY/MM/YYYY-MM-DD.ffc. The dataset and date are taken \
        from the S3-style path (us_options_opra/minute_aggs_v1/2025/09/2025-09-29.csv.gz) or the \
        file name, or from --dataset and --date. Output appears only when complete; an input \
        that fails leaves no output, and the reason is recorded in ROOT/.ffcol/failed/. \
        Input need not be sorted: rows are stored in (ticker, window_start) order either way \
        (unsorted input is held in memory until it is sorted). Rows whose window_start is not \
        on the file's date (America/New_York) are kept and counted, or rejected with --strict.

        Two processes never write the same date at once: each date is locked \
        (ROOT/.ffcol/locks/<dataset>/YYYY-MM-DD.lock, released by the kernel when a process \
        dies). A date locked by another run is left for last; then, by default, ffcol says \
        which process holds it (pid, command, since when) and waits for it (--wait), or skips \
        it (--no-wait: the other run writes it).

        Errors name the path and what to do: a full disk, a read-only or unwritable root, an \
        input that vanished or cannot be read. A missing output root is created.

        Exit status: 0 when every input converted (or was skipped with --no-wait), 1 when any \
        failed, 130 (SIGINT) or 143 (SIGTERM) when interrupted; an interrupted run removes its \
        temporary files first.
        """)

    @Argument(help: "Input files or directories (searched for *.csv.gz and *.csv), or - for stdin.")
    var inputs: [String]

    @Option(name: [.customLong("out"), .customLong("root")], help: "Output root (default: root in config/ffcol.yaml, else ./data).")
    var out: String?

    @Option(help: "Dataset of the inputs, when the path does not say: \(Dataset.allValueStrings.joined(separator: ", ")).")
    var dataset: Dataset?

    @Option(help: "Trading date YYYY-MM-DD of the input, when the path does not say (one input only).")
    var date: TradingDate?

    @Option(help: "Files converted at the same time (each on two threads, and a third for --inflate zlib or stdin).")
    var jobs: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    @Option(help: "Rows per chunk to aim for; chunks always hold whole tickers (whole option roots when they fit).")
    var chunkRows: Int = 16_384

    @Option(help: "Rows per page within a chunk (pages hold whole tickers; one ticker is read by decompressing only the pages that hold it). Default: \(ConvertOptions.defaultPageRows(for: .stocksMinute)) for stocks, \(ConvertOptions.defaultPageRows(for: .optionsMinute)) for options (a contract has a few bars a day). 0 writes .ffc format version 1 (no pages), for readers older than version 2.")
    var pageRows: Int?

    @Option(help: "zstd compression level (1-19). Higher levels compress flat files little better and convert slower.")
    var zstdLevel: Int32 = ConvertOptions.defaultZstdLevel

    @Option(help: "gzip decoder: isal (ISA-L, fastest) or zlib (zlib's inflate; the CRC-32 is still computed with ISA-L). Both check every member's CRC-32 and length.")
    var inflate: InflateBackend = .preferred

    @Flag(help: "Reject a file that has a row whose window_start is not on the file's date.")
    var strict = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(inversion: .prefixedNo, help: "When another ffcol process is writing a date, wait for it and then convert (--wait, the default), or skip that input and leave the date to the other process (--no-wait).")
    var wait = true

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if chunkRows < 1 { throw ValidationError("--chunk-rows must be at least 1") }
        if let p = pageRows, p < 0 { throw ValidationError("--page-rows must be at least 1, or 0 for format version 1") }
        if !ConvertOptions.zstdLevels.contains(zstdLevel) { throw ValidationError("--zstd-level must be between \(ConvertOptions.zstdLevels.lowerBound) and \(ConvertOptions.zstdLevels.upperBound)") }
        if date != nil && inputs.count > 1 { throw ValidationError("--date applies to a single input; name one file") }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin (-) can be read only once") }
    }

    func run() throws {
        TemporaryFiles.removeAllOnSignals()
        let root = out ?? Settings.load().root
        var files: [String] = []
        var problems: [String] = []
        for i in inputs {
            do { files += try InputFinder.expand(i, problems: &problems) } catch { problems.append("\(error)") }
        }
        for p in problems { note("ffcol convert: \(p)") }
        if files.isEmpty {
            throw Failure("ffcol convert: no input files found in \(inputs.joined(separator: " ")) (looked for *.csv.gz and *.csv)")
        }
        var base = ConvertOptions(outRoot: root)
        base.dataset = dataset; base.date = date
        base.targetChunkRows = chunkRows; base.zstdLevel = zstdLevel; base.strict = strict
        base.pageRows = pageRows.map { $0 == 0 ? .formatVersion1 : .rows($0) } ?? .datasetDefault
        base.inflate = inflate
        if files.contains("-"), dataset == nil || date == nil {
            throw Failure("ffcol convert: stdin (-) needs --dataset and --date")
        }

        if let problem = OutputRoot.check(root) { throw Failure("ffcol convert: \(problem)") }

        let t0 = monotonicSeconds()
        let results = ParallelConverter.run(files: files, options: base, jobs: min(jobs, files.count), quiet: quiet, wait: wait)
        let seconds = monotonicSeconds() - t0
        var ok = 0, failed = 0, rows = 0, skipped = 0
        var bytesIn: UInt64 = 0, bytesOut: UInt64 = 0, csv: UInt64 = 0
        for r in results {
            switch r {
            case .success(let c)?:
                ok += 1; rows += c.rows; bytesIn += c.bytesIn; bytesOut += c.bytesOut; csv += c.csvBytes
            case .failure?: failed += 1
            case nil: skipped += 1
            }
        }
        if !quiet {
            let rate = seconds > 0 ? Double(rows) / seconds : 0
            note("""
            converted \(ok) of \(results.count) file\(results.count == 1 ? "" : "s")\(failed > 0 ? " (\(failed) FAILED)" : "")\
            \(skipped > 0 ? " (\(skipped) skipped: another process was writing the date)" : ""): \
            \(rows) rows, \(fmtBytes(bytesIn)) in (\(fmtBytes(csv)) CSV) -> \(fmtBytes(bytesOut)) out, \
            \(fmt2(seconds)) s, \(fmtRate(rate)) rows/s, \(fmt2(seconds > 0 ? Double(csv) / seconds / 1e6 : 0)) MB/s of CSV
            """)
        }
        if failed > 0 || !problems.isEmpty { throw ExitCode(1) }
    }
}

func fmt2(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals == 1 { s += "0" }
    }
    return s
}
func fmtBytes(_ b: UInt64) -> String {
    let v = Double(b)
    if v >= 1e9 { return fmt2(v / 1e9) + " GB" }
    if v >= 1e6 { return fmt2(v / 1e6) + " MB" }
    if v >= 1e3 { return fmt2(v / 1e3) + " kB" }
    return "\(b) B"
}
func fmtRate(_ r: Double) -> String {
    if r >= 1e6 { return fmt2(r / 1e6) + "M" }
    if r >= 1e3 { return fmt2(r / 1e3) + "k" }
    return fmt2(r)
}

/// Finds input files: a file as is, a directory searched recursively (following no symlink
/// loops) for *.csv.gz and *.csv, sorted by path.
enum InputFinder {
    /// `problems` gets a line for each input file found but not readable (vanished, dangling).
    static func expand(_ input: String, problems: inout [String]) throws -> [String] {
        if input == "-" { return ["-"] }
        var st = stat()
        guard stat(input, &st) == 0 else {
            throw Failure("\(input): \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) != S_IFDIR { return [input] }
        var out: [String] = []
        var seen = Set<[UInt64]>()
        walk(input, &out, &seen, &problems)
        return out.sorted()
    }

    private static func walk(_ dir: String, _ out: inout [String], _ seen: inout Set<[UInt64]>, _ problems: inout [String]) {
        var st = stat()
        guard stat(dir, &st) == 0 else { return }
        let key = [UInt64(st.st_dev), UInt64(st.st_ino)]
        guard seen.insert(key).inserted else { return }  // a symlink loop or repeated directory
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = direntName(e)
            if name.hasPrefix(".") { continue }
            let p = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var s = stat()
            guard stat(p, &s) == 0 else {
                let e = errno
                if name.hasSuffix(".csv.gz") || name.hasSuffix(".csv") {
                    problems.append("\(p): \(String(cString: strerror(e))) (it vanished after the directory was read, or is a dangling symlink); skipped")
                }
                continue
            }
            if (s.st_mode & S_IFMT) == S_IFDIR {
                walk(p, &out, &seen, &problems)
            } else if name.hasSuffix(".csv.gz") || name.hasSuffix(".csv") {
                out.append(p)
            }
        }
    }
}

/// Converts files on `jobs` threads; prints one line per file; records failures. Each
/// conversion holds its date's `DateLock`; a file whose date another process holds is left for
/// a second pass, where it waits for the lock (`wait`) or is skipped (nil in the results).
enum ParallelConverter {
    static func run(files: [String], options: ConvertOptions, jobs: Int, quiet: Bool,
                    wait: Bool = true) -> [Result<ConvertResult, Error>?] {
        final class Progress: @unchecked Sendable {
            var done = 0
            var mutex = pthread_mutex_t()
            init() { pthread_mutex_init(&mutex, nil) }
        }
        let progress = Progress()
        let total = files.count
        enum Step { case done(Result<ConvertResult, Error>), busy(DateLock.Holder) }

        func report(_ f: String, _ r: Result<ConvertResult, Error>?, _ ident: (Dataset, TradingDate)?,
                    holder: DateLock.Holder? = nil) {
            pthread_mutex_lock(&progress.mutex)
            defer { pthread_mutex_unlock(&progress.mutex) }
            progress.done += 1
            let done = progress.done
            switch r {
            case .success(let c)?:
                if !quiet {
                    var line = "[\(done)/\(total)] \(c.input) -> \(c.output): \(c.rows) rows, \(c.tickers) tickers, \(c.chunks) chunks, \(fmtBytes(c.bytesOut)), \(fmt2(c.seconds)) s"
                    if !c.inputWasSorted { line += " (input was not sorted; rows were sorted)" }
                    if c.dateMismatches > 0 {
                        line += "\n  warning: \(c.dateMismatches) rows have a window_start outside \(c.date) (first at line \(c.firstMismatchLine)); kept (use --strict to reject)"
                    }
                    note(line)
                }
            case .failure(let e)?:
                note("[\(done)/\(total)] FAILED \(e)")
            case nil:
                note("[\(done)/\(total)] skipped \(f): \(ident.map { "\($0.0.rawValue) \($0.1)" } ?? "its date") is being written by \(holder.map { "\($0)" } ?? "another process"); left to it (--no-wait)")
            }
        }

        /// Converts `f` holding `lock` (if any), records the outcome, releases the lock.
        func convert(_ f: String, _ ident: (Dataset, TradingDate)?, _ lock: DateLock?) -> Result<ConvertResult, Error> {
            defer { lock?.release() }
            let r: Result<ConvertResult, Error>
            do {
                let c = try Converter.convert(path: f, options: options)
                r = .success(c)
            } catch {
                r = .failure(error)
            }
            switch r {
            case .success(let c): FailureRecord.clear(root: options.outRoot, dataset: c.dataset, date: c.date)
            case .failure(let e):
                if let (ds, d) = ident {
                    FailureRecord.write(root: options.outRoot, dataset: ds, date: d, input: f, error: "\(e)")
                }
            }
            return r
        }

        let idents = files.map { try? Converter.identify($0, options: options) }
        let first = parallelMap(count: total, threads: jobs) { i -> Step in
            let f = files[i]
            guard let (ds, d) = idents[i] else {
                let r = convert(f, nil, nil)  // fails to identify, with the reason
                report(f, r, nil)
                return .done(r)
            }
            do {
                switch try DateLock.tryAcquire(root: options.outRoot, dataset: ds, date: d) {
                case .busy(let h): return .busy(h)
                case .acquired(let l):
                    let r = convert(f, (ds, d), l)
                    report(f, r, (ds, d))
                    return .done(r)
                }
            } catch {
                report(f, .failure(error), (ds, d))
                return .done(.failure(error))
            }
        }
        var results: [Result<ConvertResult, Error>?] = Array(repeating: nil, count: total)
        var later: [(Int, DateLock.Holder)] = []
        for (i, s) in first.enumerated() {
            switch s! {
            case .done(let r): results[i] = r
            case .busy(let h): later.append((i, h))
            }
        }
        guard !later.isEmpty else { return results }
        let second = parallelMap(count: later.count, threads: jobs) { k -> Result<ConvertResult, Error>? in
            let (i, h) = later[k]
            let f = files[i]
            let (ds, d) = idents[i]!
            guard wait else {
                report(f, nil, (ds, d), holder: h)
                return nil
            }
            note("ffcol convert: \(ds.rawValue) \(d) is being written by \(h); waiting for it (--no-wait skips such dates)")
            do {
                let l = try DateLock.acquire(root: options.outRoot, dataset: ds, date: d)
                let r = convert(f, (ds, d), l)
                report(f, r, (ds, d))
                return r
            } catch {
                report(f, .failure(error), (ds, d))
                return .failure(error)
            }
        }
        for (k, (i, _)) in later.enumerated() { results[i] = second[k] ?? nil }
        return results
    }
}

/// Checks that an output root can be written before any work starts.
enum OutputRoot {
    /// nil if `root` exists (or was created) and is writable; else a message naming the path
    /// and what to do.
    static func check(_ root: String) -> String? {
        let locks = root + "/.ffcol/locks"
        do { try FFCWriter.makeDirectories(locks) } catch {
            return "cannot use \(root) as the output root: \(error)"
        }
        if access(locks, W_OK) != 0 {
            let e = errno
            return "cannot use \(root) as the output root: \(locks): \(String(cString: strerror(e)))\(ioAdvice(e))"
        }
        return nil
    }
}

/// `ROOT/.ffcol/failed/<dataset>/YYYY-MM-DD.txt`: why the last conversion of a date failed.
enum FailureRecord {
    static func path(root: String, dataset: Dataset, date: TradingDate) -> String {
        "\(root)/.ffcol/failed/\(dataset.rawValue)/\(date).txt"
    }
    static func write(root: String, dataset: Dataset, date: TradingDate, input: String, error: String) {
        let p = path(root: root, dataset: dataset, date: date)
        let dir = String(p[..<p.lastIndex(of: "/")!])
        try? FFCWriter.makeDirectories(dir)
        let text = "input: \(input)\nfailed_unix: \(time(nil))\nerror: \(error)\n"
        let tmp = p + ".tmp-\(getpid())"
        guard let f = fopen(tmp, "w") else { return }
        fputs(text, f)
        fflush(f); fsync(fileno(f)); fclose(f)
        rename(tmp, p)
    }
    static func clear(root: String, dataset: Dataset, date: TradingDate) {
        unlink(path(root: root, dataset: dataset, date: date))
    }
}
