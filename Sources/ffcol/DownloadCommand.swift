import ArgumentParser
import FFCol
import FFColConvert
import FFColS3
import Foundation

// MARK: - ffcol download

struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Mirror a dataset's raw .csv.gz files from S3 to ROOT/raw/<S3 key>.",
        discussion: """
            Files are discovered by listing the bucket (the listing wins over the NYSE calendar; \
            sessions absent from it are reported as missing). Each file is written to a temporary \
            name, fsynced, checked against Content-Length and the ETag, then renamed into place. \
            Incremental by default: a date whose file exists with the recorded size and the same \
            source ETag is skipped; a republished file (new ETag) is fetched again. Transfers that \
            fail with 5xx, 429/SlowDown, timeouts, resets or stalls are retried with exponential \
            backoff and jitter, resuming from the byte reached. A 404 is reported as missing, not \
            as an error. Per-date records go to ROOT/.ffcol/meta/<dataset>/YYYY-MM-DD.json \
            (see `ffcol status`). Each date is locked while it is handled \
            (ROOT/.ffcol/locks/<dataset>/YYYY-MM-DD.lock, shared with ingest and convert); a date \
            another process holds is waited for (--wait, the default), or left to that process \
            (--no-wait; counted as busy, not failed), and the holder is named. SIGINT or SIGTERM remove the temporary files \
            and exit with 130 or 143. Exit status 1 if any date failed, 2 on a configuration error.

            Credentials: POLYGON_S3_ACCESS_KEY_ID and POLYGON_S3_SECRET_ACCESS_KEY (or MASSIVE_S3_..., \
            or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), else config/credentials.yaml.
            """)

    @Option(help: "Dataset: stocks_day, stocks_minute, options_day, options_minute.")
    var dataset: String

    @Option(help: "First date, YYYY-MM-DD.")
    var from: String

    @Option(help: "Last date, YYYY-MM-DD (inclusive; default: the first date).")
    var to: String?

    @OptionGroup var s3: S3Options

    @Option(name: .customLong("max-concurrent"), help: "Parallel transfers (default 4; max_concurrent: in config/ffcol.yaml).")
    var maxConcurrent: Int?

    @Flag(inversion: .prefixedNo, help: "Skip dates already mirrored from the same source ETag.")
    var incremental = true

    @Flag(name: .customLong("no-list"), help: "Do not list the bucket; request every calendar session (a 404 means no file).")
    var noList = false

    @Option(help: "Retries per file after the first attempt.")
    var retries: Int = 8

    @Option(name: .customLong("stall-seconds"), help: "A transfer below 1 kB/s for this many seconds is a stall and is retried.")
    var stallSeconds: Int = 30

    @Flag(help: "Print the summary and each date's outcome as JSON on stdout.")
    var json = false

    @Flag(inversion: .prefixedNo, help: "When another ffcol process is handling a date, wait for it and then check the date (--wait, the default), or leave the date to that process (--no-wait; counted as busy, not failed).")
    var wait = true

    func validate() throws {
        _ = try parseDataset(dataset)
        let a = try parseDate(from, "--from")
        if let to { guard try parseDate(to, "--to") >= a else { throw ValidationError("--to is before --from") } }
        if let m = maxConcurrent, !(1...64).contains(m) { throw ValidationError("--max-concurrent must be 1...64") }
        if retries < 0 { throw ValidationError("--retries must be >= 0") }
        if stallSeconds < 1 { throw ValidationError("--stall-seconds must be >= 1") }
    }

    func run() throws {
        TemporaryFiles.removeAllOnSignals()
        let ds = try parseDataset(dataset)
        let a = try parseDate(from, "--from")
        let b = try to.map { try parseDate($0, "--to") } ?? a
        let settings: S3Settings
        var config: S3Configuration
        do {
            settings = try s3.settings(maxConcurrent: maxConcurrent)
            config = try settings.configuration()
        } catch {
            printErr("error: \(error)")
            throw ExitCode(2)
        }
        config.lowSpeedTime = stallSeconds
        if s3.verbose { config.trace = { printErr("s3: " + $0) } }
        var options = DownloadOptions(root: settings.root)
        options.maxConcurrent = settings.maxConcurrent
        options.incremental = incremental
        options.useListing = !noList
        options.retry.maxRetries = retries
        options.waitForLocks = wait
        let waiting = wait
        options.onBusy = { date, holder in
            printErr(waiting ? "\(date): being handled by \(holder); waiting for it (--no-wait leaves it to that process)"
                             : "\(date): being handled by \(holder); left to it (--no-wait)")
        }
        let verbose = s3.verbose
        options.onRetry = { e in
            if verbose {
                printErr("retry \(e.retry) for \(e.error.key) in \(String(format: "%.1f", e.delay)) s from byte \(e.resumeAt): \(e.error)")
            }
        }
        let tty = isatty(STDERR_FILENO) == 1
        options.onOutcome = { o in
            if o.status == .failed {
                if tty { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
                printErr("error: \(o.date): \(o.error ?? "failed")")
            }
        }
        let downloader = Downloader(client: S3Client(config), options: options)
        let progress = tty ? ProgressLine { downloader.progress().line } : nil
        progress?.start()
        let report = downloader.run(dataset: ds, from: a, to: b)
        progress?.stop()
        for w in report.warnings { printErr("warning: \(w)") }

        let s = report.summary
        if json {
            struct Out: Encodable { var summary: DownloadSummary; var dates: [DateOutcome] }
            print(jsonString(Out(summary: s, dates: report.outcomes)))
        } else {
            let rate = s.seconds > 0 ? Double(s.bytesDownloaded) / s.seconds : 0
            print("""
                \(ds.rawValue) \(a)...\(b): \(s.planned) dates, \(s.downloaded) downloaded, \(s.upToDate) up to date, \
                \(s.missing) missing, \(s.failed) failed, \(s.busy > 0 ? "\(s.busy) busy (left to another process), " : "")\(s.retries) retries, \(formatBytes(s.bytesDownloaded)) \
                in \(formatDuration(s.seconds)) (\(formatBytes(Int64(rate)))/s)
                """)
        }
        if report.hasFailures { throw ExitCode(1) }
    }
}

/// A progress line on stderr, redrawn twice a second (only used on a TTY).
final class ProgressLine: @unchecked Sendable {
    private let render: () -> String
    private let lock = NSLock()
    private var running = false
    private let done = DispatchSemaphore(value: 0)

    init(_ render: @escaping () -> String) { self.render = render }

    func start() {
        running = true
        Thread { [self] in
            while true {
                lock.lock(); let r = running; lock.unlock()
                if !r { break }
                FileHandle.standardError.write("\r\u{1B}[K\(render())".data(using: .utf8)!)
                usleep(500_000)
            }
            FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
            done.signal()
        }.start()
    }

    func stop() {
        lock.lock(); running = false; lock.unlock()
        done.wait()
    }
}

extension DownloadProgress {
    /// `[3/10 files] 120.0 MB  25.0 MB/s  ETA 0:05  retries 1`
    var line: String {
        var line = "[\(filesDone)/\(filesTotal) files] \(formatBytes(bytesDone))  \(formatBytes(Int64(rate)))/s"
        if let eta { line += "  ETA \(formatDuration(eta))" }
        if retries > 0 { line += "  retries \(retries)" }
        return line
    }
}

extension IngestProgress {
    /// `[3/10 files] 120.0 MB  25.0 MB/s  1.2M rows/s  ETA 0:05  retries 1`
    var line: String {
        var line = "[\(filesDone)/\(filesTotal) files] \(formatBytes(bytesDone))  \(formatBytes(Int64(rate)))/s"
        line += "  \(formatCount(rowsRate)) rows/s"
        if let eta { line += "  ETA \(formatDuration(eta))" }
        if finishing { line += "  all bytes in, converting the last \(filesTotal - filesDone)" }
        if retries > 0 { line += "  retries \(retries)" }
        return line
    }
}

/// 950, 12.3k, 4.5M
func formatCount(_ v: Double) -> String {
    if v >= 1e6 { return String(format: "%.1fM", v / 1e6) }
    if v >= 1e3 { return String(format: "%.1fk", v / 1e3) }
    return String(format: "%.0f", v)
}
