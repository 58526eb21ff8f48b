import ArgumentParser
import FFCol
import FFColConvert
import FFColS3
import Foundation

// MARK: - Options shared by download and ingest

/// What to fetch (dataset, dates) and how: listing, retries, stalls, locks, output format.
struct TransferOptions: ParsableArguments {
    @Option(help: "Dataset: stocks_day, stocks_minute, options_day, options_minute.")
    var dataset: String

    @Option(help: "First date, YYYY-MM-DD.")
    var from: String

    @Option(help: "Last date, YYYY-MM-DD (inclusive; default: the first date).")
    var to: String?

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
        if retries < 0 { throw ValidationError("--retries must be >= 0") }
        if stallSeconds < 1 { throw ValidationError("--stall-seconds must be >= 1") }
    }

    /// The dataset and the inclusive date range.
    func range() throws -> (dataset: Dataset, from: TradingDate, to: TradingDate) {
        let a = try parseDate(from, "--from")
        return (try parseDataset(dataset), a, try to.map { try parseDate($0, "--to") } ?? a)
    }

    /// The settings and S3 configuration, with the stall limit and `--verbose` tracing; a
    /// configuration error is printed and exits with 2.
    func configure(_ s3: S3Options, maxConcurrent: Int?) throws -> (S3Settings, S3Configuration) {
        do {
            let settings = try s3.settings(maxConcurrent: maxConcurrent)
            var config = try settings.configuration()
            config.lowSpeedTime = stallSeconds
            if s3.verbose { config.trace = { printErr("s3: " + $0) } }
            return (settings, config)
        } catch {
            printErr("error: \(error)")
            throw ExitCode(2)
        }
    }

    /// Prints each retry with `--verbose`.
    static func retryPrinter(verbose: Bool) -> @Sendable (RetryEvent) -> Void {
        { e in
            if verbose {
                printErr("retry \(e.retry) for \(e.error.key) in \(String(format: "%.1f", e.delay)) s from byte \(e.resumeAt): \(e.error)")
            }
        }
    }

    /// Says who holds a locked date and what this run does about it.
    var busyPrinter: @Sendable (TradingDate, DateLock.Holder) -> Void {
        let waiting = wait
        return { date, holder in
            printErr(waiting ? "\(date): being handled by \(holder); waiting for it (--no-wait leaves it to that process)"
                             : "\(date): being handled by \(holder); left to it (--no-wait)")
        }
    }
}
