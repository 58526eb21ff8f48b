import ArgumentParser
import FFCol
import FFColConvert
import FFColS3
import Foundation

// MARK: - ffcol ingest

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Download a dataset's flat files from S3 and convert them to .ffc as they arrive.",
        discussion: """
            The bytes go from the socket through inflate and the CSV parser into the .ffc writer; \
            nothing else lands on disk unless --keep-raw is given. Output: \
            ROOT/<dataset>/YYYY/MM/YYYY-MM-DD.ffc, written to a temporary name and renamed when \
            complete, with the source key, ETag and size in its footer.

            Files are discovered by listing the bucket (the listing wins over the NYSE calendar; \
            sessions absent from it are reported as missing). Incremental by default: a date is \
            skipped when its .ffc exists, verifies (every checksum) and was converted from the \
            ETag the listing shows; a republished file (new ETag) is converted again; --force \
            converts everything again. Transfers that fail with 5xx, 429/SlowDown, timeouts, \
            resets or stalls are retried with exponential backoff and jitter, resuming from the \
            byte reached; if the object is replaced during the transfer, that date's conversion \
            starts over from the new version. A 404 is reported as missing, not as an error. \
            One bad date never stops the others. \
            Two runs on one root share the work: each date is locked while it is handled \
            (ROOT/.ffcol/locks/<dataset>/YYYY-MM-DD.lock, released by the kernel if the process \
            dies); a date another run holds is left for last, then ffcol says which process \
            holds it (pid, command, since when) and waits for it (--wait, the default; the date \
            is then usually up to date) or leaves it to that run (--no-wait). \
            Stopped by SIGINT or SIGTERM, ingest removes its temporary files, records the dates \
            in progress as failed (interrupted) and exits with 130 or 143; after a SIGKILL such \
            a date stays in_progress; either way the next run converts it. Errors name the path \
            and what to do (a full disk, a read-only or unwritable root). Per-date records (status, rows, bytes, ETag, \
            duration, last error) go to ROOT/.ffcol/meta/<dataset>/YYYY-MM-DD.json \
            (see `ffcol status`). Exit status 1 if any date failed, 2 on a configuration error.

            Credentials: POLYGON_S3_ACCESS_KEY_ID and POLYGON_S3_SECRET_ACCESS_KEY (or MASSIVE_S3_..., \
            or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), else config/credentials.yaml.
            """)

    @OptionGroup var transfer: TransferOptions

    @OptionGroup var s3: S3Options

    @Option(name: [.customLong("max-concurrent"), .customLong("jobs")],
            help: "Dates downloaded and converted at once (default 4; max_concurrent: in config/ffcol.yaml). --jobs is the same option.")
    var maxConcurrent: Int?

    @Flag(inversion: .prefixedNo, help: "Skip dates whose .ffc verifies and came from the same source ETag.")
    var incremental = true

    @Flag(help: "Convert every date again (the same as --no-incremental).")
    var force = false

    @Flag(name: .customLong("keep-raw"), help: "Also keep each .csv.gz at ROOT/raw/<S3 key> (written atomically from the same bytes).")
    var keepRaw = false

    @Flag(help: "Reject a file with rows whose window_start is not on its date (default: count and keep them).")
    var strict = false

    @Option(name: .customLong("zstd-level"), help: "zstd level of the .ffc blocks (1-19).")
    var zstdLevel: Int32 = ConvertOptions.defaultZstdLevel

    func validate() throws {
        if let m = maxConcurrent, !(1...64).contains(m) { throw ValidationError("--max-concurrent must be 1...64") }
        if !ConvertOptions.zstdLevels.contains(zstdLevel) { throw ValidationError("--zstd-level must be \(ConvertOptions.zstdLevels.lowerBound)...\(ConvertOptions.zstdLevels.upperBound)") }
    }

    func run() throws {
        TemporaryFiles.removeAllOnSignals()
        let (ds, a, b) = try transfer.range()
        let (settings, config) = try transfer.configure(s3, maxConcurrent: maxConcurrent)
        if let problem = OutputRoot.check(settings.root) {
            printErr("error: \(problem)")
            throw ExitCode(2)
        }
        var options = IngestOptions(root: settings.root)
        options.waitForLocks = transfer.wait
        options.onBusy = transfer.busyPrinter
        options.maxConcurrent = settings.maxConcurrent
        options.incremental = incremental && !force
        options.useListing = !transfer.noList
        options.retry.maxRetries = transfer.retries
        options.keepRaw = keepRaw
        options.strict = strict
        options.zstdLevel = zstdLevel
        let verbose = s3.verbose
        options.onRetry = TransferOptions.retryPrinter(verbose: verbose)
        let tty = isatty(STDERR_FILENO) == 1
        options.onOutcome = { o in
            let clear = tty ? "\r\u{1B}[K" : ""
            switch o.status {
            case .failed:
                printErr("\(clear)error: \(o.date): \(o.error ?? "failed")")
            case .converted where verbose:
                printErr("\(clear)\(o.date): \(o.records) rows -> \(o.output ?? "?") (\(formatBytes(o.bytesWritten)))")
            default: break
            }
        }
        let ingester = Ingester(client: S3Client(config), options: options)
        let progress = tty ? ProgressLine { ingester.progress().line } : nil
        progress?.start()
        let report = ingester.run(dataset: ds, from: a, to: b)
        progress?.stop()
        for w in report.warnings { printErr("warning: \(w)") }

        let s = report.summary
        if transfer.json {
            struct Out: Encodable { var summary: IngestSummary; var dates: [IngestOutcome] }
            print(jsonString(Out(summary: s, dates: report.outcomes)))
        } else {
            let rate = s.seconds > 0 ? Double(s.bytesDownloaded) / s.seconds : 0
            let rows = s.seconds > 0 ? Double(s.records) / s.seconds : 0
            print("""
                \(ds.rawValue) \(a)...\(b): \(s.planned) dates, \(s.downloads) downloads, \(s.converted) converted, \
                \(s.upToDate) up to date, \(s.missing) missing, \(s.failed) failed\(s.busy > 0 ? ", \(s.busy) busy (left to another process)" : ""), \(s.retries) retries, \
                \(formatBytes(s.bytesDownloaded)) downloaded, \(s.records) records, \(formatBytes(s.bytesWritten)) written \
                in \(String(format: "%.2f", s.seconds)) s (\(formatBytes(Int64(rate)))/s, \(formatCount(rows)) rows/s)
                """)
        }
        if report.hasFailures { throw ExitCode(1) }
    }
}
