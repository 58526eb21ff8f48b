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

    @OptionGroup var transfer: TransferOptions

    @OptionGroup var s3: S3Options

    @Option(name: .customLong("max-concurrent"), help: "Parallel transfers (default 4; max_concurrent: in config/ffcol.yaml).")
    var maxConcurrent: Int?

    @Flag(inversion: .prefixedNo, help: "Skip dates already mirrored from the same source ETag.")
    var incremental = true

    func validate() throws {
        if let m = maxConcurrent, !(1...64).contains(m) { throw ValidationError("--max-concurrent must be 1...64") }
    }

    func run() throws {
        TemporaryFiles.removeAllOnSignals()
        let (ds, a, b) = try transfer.range()
        let (settings, config) = try transfer.configure(s3, maxConcurrent: maxConcurrent)
        var options = DownloadOptions(root: settings.root)
        options.maxConcurrent = settings.maxConcurrent
        options.incremental = incremental
        options.useListing = !transfer.noList
        options.retry.maxRetries = transfer.retries
        options.waitForLocks = transfer.wait
        options.onBusy = transfer.busyPrinter
        options.onRetry = TransferOptions.retryPrinter(verbose: s3.verbose)
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
        if transfer.json {
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
