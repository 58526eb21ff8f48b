import ArgumentParser
import FFCol
import FFColConvert
import FFColS3
import Foundation

// MARK: - ffcol status

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the per-date records of a dataset (done, failed, skipped, in_progress).",
        discussion: """
            Reads ROOT/.ffcol/meta/<dataset>/YYYY-MM-DD.json, written by `ffcol download` and \
            `ffcol ingest` (status, source ETag and size, rows, bytes, retries, duration, output, \
            last error). \
            An in_progress date is shown as running (with the process that holds its lock) or \
            interrupted (nobody holds the lock: the run was killed; the next run converts it). \
            Text on stdout, or JSON with --json (the records as written).
            """)

    @Option(help: "Dataset: stocks_day, stocks_minute, options_day, options_minute.")
    var dataset: String

    @Option(help: "First date, YYYY-MM-DD (default: all).")
    var from: String?

    @Option(help: "Last date, YYYY-MM-DD (default: all).")
    var to: String?

    @Option(help: "Output root (default data; env FFCOL_ROOT; root: in config/ffcol.yaml).")
    var root: String?

    @Option(name: .customLong("config-dir"), help: "Directory holding ffcol.yaml.")
    var configDir: String = "config"

    @Flag(help: "Print the records as a JSON array.")
    var json = false

    func validate() throws {
        _ = try parseDataset(dataset)
        if let from { _ = try parseDate(from, "--from") }
        if let to { _ = try parseDate(to, "--to") }
    }

    func run() throws {
        let ds = try parseDataset(dataset)
        let settings: S3Settings
        do {
            settings = try S3Settings.resolve(overrides: S3Overrides(root: root),
                                              environment: ProcessInfo.processInfo.environment, configDirectory: configDir)
        } catch {
            printErr("error: \(error)")
            throw ExitCode(2)
        }
        let store = MetadataStore(root: settings.root)
        let records = store.records(ds, from: try from.map { try parseDate($0, "--from") },
                                    to: try to.map { try parseDate($0, "--to") })
        if json {
            print(jsonString(records))
            return
        }
        var counts: [DateRecord.Status: Int] = [:]
        var interrupted = 0
        for r in records {
            counts[r.status, default: 0] += 1
            var line = "\(r.date)  \(r.status.rawValue.padding(toLength: max(7, r.status.rawValue.count), withPad: " ", startingAt: 0))"
            if let size = r.size { line += "  \(formatBytes(size))" }
            if let e = r.etag { line += "  etag \(e)" }
            if r.records > 0 { line += "  \(r.records) rows" }
            if let o = r.output, r.status == .done { line += "  -> \(o)" }
            if r.retries > 0 { line += "  retries \(r.retries)" }
            if let err = r.lastError { line += "  \(err)" }
            if r.status == .inProgress {
                if let day = TradingDate(r.date), let holder = DateLock.currentHolder(root: settings.root, dataset: ds, date: day) {
                    line += "  running: \(holder)"
                } else {
                    interrupted += 1
                    line += "  interrupted: \(r.holder ?? "the run") is gone (killed?); the next run converts this date"
                }
            }
            print(line)
        }
        let inProgress = counts[.inProgress] ?? 0
        var summary = "\(records.count) dates: \(counts[.done] ?? 0) done, \(counts[.skipped] ?? 0) skipped, \(counts[.failed] ?? 0) failed"
        if inProgress > interrupted { summary += ", \(inProgress - interrupted) in progress" }
        if interrupted > 0 { summary += ", \(interrupted) interrupted (in_progress records of runs that are gone)" }
        print(summary)
    }
}
