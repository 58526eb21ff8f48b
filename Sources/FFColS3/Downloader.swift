import FFCol
import FFColConvert
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Mirroring raw files: ROOT/raw/<S3 key>

/// Options of a download run.
public struct DownloadOptions: Sendable {
    /// Output root: files go to `ROOT/raw/<key>`, records to `ROOT/.ffcol/meta/...`.
    public var root: String
    public var maxConcurrent: Int = 4
    public var retry = RetryPolicy()
    /// Skip a date whose file exists with the recorded size and the same source ETag.
    public var incremental = true
    /// Discover files by listing the bucket (the listing wins over the calendar). When false,
    /// every calendar session in the range is requested and a 404 means "no file".
    public var useListing = true
    /// Keys per ListObjectsV2 page (S3 allows at most 1,000).
    public var listPageSize = 1000
    /// Called (from worker threads) for every retry, for `--verbose`.
    public var onRetry: (@Sendable (RetryEvent) -> Void)?
    /// Called (from worker threads) when a date is finished.
    public var onOutcome: (@Sendable (DateOutcome) -> Void)?
    /// When another process (ingest, convert, download) holds a date's lock: wait for it and
    /// then handle the date (usually up to date by then), or, when false, skip it (`busy`).
    public var waitForLocks = true
    /// Called (from worker threads) when a date's lock is held by another process.
    public var onBusy: (@Sendable (TradingDate, DateLock.Holder) -> Void)?

    public init(root: String) { self.root = root }
}

/// What happened to one date in a run.
public struct DateOutcome: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Fetched and verified.
        case downloaded
        /// Present locally with the same source ETag: nothing to do.
        case upToDate = "up_to_date"
        /// No file for that date (404 or absent from the listing).
        case missing
        case failed
        /// Another process held the date's lock and `waitForLocks` was false: left to it.
        case busy
    }
    public var date: TradingDate
    public var key: String
    public var status: Status
    public var bytes: Int64
    public var retries: Int
    public var error: String?
}

/// The numbers of a run; the CLI's summary prints exactly these.
public struct DownloadSummary: Sendable, Codable, Equatable {
    /// Dates considered (listed files plus calendar sessions in the range).
    public var planned = 0
    public var downloaded = 0
    public var upToDate = 0
    public var missing = 0
    public var failed = 0
    /// Dates left to another process (`--no-wait`).
    public var busy = 0
    public var retries = 0
    public var bytesDownloaded: Int64 = 0
    public var seconds: Double = 0
    public init() {}
}

/// A run's result: the summary, each date's outcome (sorted by date), and warnings.
public struct DownloadReport: Sendable {
    public var summary: DownloadSummary
    public var outcomes: [DateOutcome]
    public var warnings: [String]
    /// True if any date failed (the CLI exits non-zero).
    public var hasFailures: Bool { summary.failed > 0 }
}

/// A live view for a progress line.
public struct DownloadProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    /// Compressed bytes received so far (all dates of the run).
    public var bytesDone: Int64
    /// Sum of the sizes of the files still to fetch, as listed (0 if unknown).
    public var bytesExpected: Int64
    public var seconds: Double
    public var retries: Int

    /// Bytes per second since the start.
    public var rate: Double { seconds > 0 ? Double(bytesDone) / seconds : 0 }
    /// Seconds left, from bytes when sizes are known, else from files; nil if unknown.
    public var eta: Double? {
        if bytesExpected > 0, rate > 0 { return max(0, Double(bytesExpected - bytesDone) / rate) }
        if filesDone > 0 { return seconds / Double(filesDone) * Double(filesTotal - filesDone) }
        return nil
    }
}

/// Mirrors a dataset's raw `.csv.gz` files for a range of dates.
///
/// Each file is written to a temp name, fsynced, checked (length and ETag) and renamed, so
/// `ROOT/raw/<key>` is always a complete file. One date's failure never stops the others.
public final class Downloader: @unchecked Sendable {
    public let client: S3Client
    public let options: DownloadOptions
    public let store: MetadataStore

    private let lock = NSLock()
    private var summary = DownloadSummary()
    private var filesDone = 0
    private var filesTotal = 0
    private var bytesExpected: Int64 = 0
    private var startedAt = 0.0

    public init(client: S3Client, options: DownloadOptions) {
        self.client = client
        self.options = options
        self.store = MetadataStore(root: options.root)
    }

    /// The numbers so far (thread-safe; for a progress line).
    public func progress() -> DownloadProgress {
        lock.lock(); defer { lock.unlock() }
        return DownloadProgress(filesDone: filesDone, filesTotal: filesTotal, bytesDone: summary.bytesDownloaded,
                                bytesExpected: bytesExpected, seconds: startedAt > 0 ? monotonicSeconds() - startedAt : 0,
                                retries: summary.retries)
    }

    /// The local path of a key.
    public func localPath(key: String) -> String { "\(options.root)/raw/\(key)" }

    // MARK: Planning

    /// One date to handle: its key and, if the listing had it, the listed object.
    public struct PlannedDate: Sendable {
        public var date: TradingDate
        public var key: String
        public var listed: S3Object?
        /// False when the listing was used and did not contain the key.
        public var inListing: Bool
    }

    /// Lists the bucket month by month (or falls back to the calendar) and returns the dates
    /// to handle: every listed file in the range plus every calendar session (a session
    /// absent from a successful listing is reported as missing without a request).
    public func plan(dataset: Dataset, from: TradingDate, to: TradingDate) -> (dates: [PlannedDate], warnings: [String]) {
        planDates(client: client, dataset: dataset, from: from, to: to, useListing: options.useListing,
                  pageSize: options.listPageSize, retry: options.retry, onRetry: noteRetry)
    }

    // MARK: Running

    /// Downloads `from...to` and returns the report. Blocking; uses `maxConcurrent` threads.
    public func run(dataset: Dataset, from: TradingDate, to: TradingDate) -> DownloadReport {
        lock.lock()
        summary = DownloadSummary()
        startedAt = monotonicSeconds()
        filesDone = 0
        lock.unlock()

        let (planned, warnings) = plan(dataset: dataset, from: from, to: to)
        lock.lock()
        filesTotal = planned.count
        summary.planned = planned.count
        bytesExpected = planned.reduce(0) { $0 + ($1.listed?.size ?? 0) }
        lock.unlock()

        let outcomes = parallelMap(count: planned.count, threads: options.maxConcurrent) { [self] i -> DateOutcome in
            // The date's lock (shared with ingest and convert): wait for another process, or
            // leave the date to it.
            let o: DateOutcome
            do {
                let p = planned[i]
                var held: DateLock?
                switch try DateLock.tryAcquire(root: options.root, dataset: dataset, date: p.date) {
                case .acquired(let l): held = l
                case .busy(let h):
                    options.onBusy?(p.date, h)
                    if options.waitForLocks {
                        held = try DateLock.acquire(root: options.root, dataset: dataset, date: p.date)
                    }
                }
                if let lock = held {
                    defer { lock.release() }
                    o = self.handle(dataset: dataset, p)
                } else {
                    o = DateOutcome(date: p.date, key: p.key, status: .busy, bytes: 0, retries: 0,
                                    error: "another process is handling this date")
                }
            } catch {
                o = DateOutcome(date: planned[i].date, key: planned[i].key, status: .failed, bytes: 0, retries: 0, error: "\(error)")
            }
            self.count(o)
            self.options.onOutcome?(o)
            return o
        }

        lock.lock()
        summary.seconds = monotonicSeconds() - startedAt
        let s = summary
        lock.unlock()
        return DownloadReport(summary: s, outcomes: outcomes.compactMap { $0 }, warnings: warnings)
    }

    private func noteRetry(_ e: RetryEvent) {
        lock.lock(); summary.retries += 1; lock.unlock()
        options.onRetry?(e)
    }

    private func count(_ o: DateOutcome) {
        lock.lock(); defer { lock.unlock() }
        filesDone += 1
        switch o.status {
        case .downloaded: summary.downloaded += 1
        case .upToDate: summary.upToDate += 1
        case .missing: summary.missing += 1
        case .failed: summary.failed += 1
        case .busy: summary.busy += 1
        }
    }

    private func addBytes(_ n: Int64) {
        lock.lock(); summary.bytesDownloaded += n; lock.unlock()
    }

    /// Handles one date; never throws (the outcome carries the error).
    func handle(dataset: Dataset, _ p: PlannedDate) -> DateOutcome {
        let started = monotonicSeconds()
        let dest = localPath(key: p.key)
        var record = store.load(dataset, p.date) ?? DateRecord(dataset: dataset.rawValue, date: p.date.description,
                                                                key: p.key, status: .failed)
        record.key = p.key
        record.output = "raw/\(p.key)"
        var retries = 0
        var received: Int64 = 0

        func finish(_ status: DateOutcome.Status, error: String? = nil) -> DateOutcome {
            // An up-to-date date keeps its record as it is.
            if status != .upToDate {
                record.status = status == .downloaded ? .done : (status == .missing ? .skipped : .failed)
                record.retries = retries
                record.bytesDownloaded = received
                record.durationSeconds = monotonicSeconds() - started
                record.lastError = error
                if status == .missing { record.bytesWritten = 0 }
                record.updatedAt = isoNow()
                do { try store.save(record, dataset: dataset, date: p.date) } catch {
                    let msg = "cannot write the metadata record: \(error)"
                    return DateOutcome(date: p.date, key: p.key, status: .failed, bytes: received, retries: retries, error: msg)
                }
            }
            return DateOutcome(date: p.date, key: p.key, status: status, bytes: received, retries: retries, error: error)
        }

        if !p.inListing {
            return finish(.missing, error: "not in the bucket listing (holiday, or not published yet)")
        }

        do {
            // The source version: from the listing, else a HEAD.
            var sourceETag = p.listed?.etag
            if sourceETag == nil && options.incremental && record.status == .done && fileSize(dest) == record.size {
                let info = try client.withRetries(key: p.key, policy: options.retry, onRetry: { [self] e in
                    retries += 1; noteRetry(e)
                }) { try client.head(key: p.key) }
                sourceETag = info.etag
            }
            if options.incremental, record.status == .done, let e = sourceETag, e == record.etag,
               let size = record.size, fileSize(dest) == size {
                return finish(.upToDate)
            }

            try makeDirectories((dest as NSString).deletingLastPathComponent)
            let tmp = temporaryName(for: dest)
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw posixError("cannot create \(tmp)") }
            TemporaryFiles.register(tmp)
            var keepTemp = false
            defer { close(fd); if !keepTemp { unlink(tmp) }; TemporaryFiles.unregister(tmp) }
            let r = try client.fetch(
                key: p.key, policy: options.retry,
                onRetry: { [self] e in retries += 1; noteRetry(e) },
                restart: {
                    guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { throw posixError("cannot truncate \(tmp)") }
                },
                sink: { [self] buf in
                    var off = 0
                    while off < buf.count {
                        let n = write(fd, buf.baseAddress! + off, buf.count - off)
                        if n < 0 { if errno == EINTR { continue }; throw posixError("cannot write \(tmp)") }
                        off += n
                    }
                    received += Int64(buf.count)
                    addBytes(Int64(buf.count))
                })
            guard fsync(fd) == 0 else { throw posixError("cannot fsync \(tmp)") }
            guard fileSize(tmp) == r.size else {
                throw S3Error(.integrity("file on disk has \(fileSize(tmp) ?? -1) bytes, expected \(r.size)"), key: p.key)
            }
            try renameDurably(tmp, to: dest)
            keepTemp = true  // renamed away
            record.etag = r.etag
            record.size = r.size
            record.lastModified = r.lastModified.isEmpty ? p.listed?.lastModified : r.lastModified
            record.bytesWritten = r.size
            return finish(.downloaded)
        } catch let e as S3Error where e.isNotFound {
            return finish(.missing, error: "no file (404)")
        } catch {
            return finish(.failed, error: "\(error)")
        }
    }
}

/// The size of a regular file, nil if absent.
func fileSize(_ path: String) -> Int64? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Int64(st.st_size)
}

/// The dates of a run (shared by `Downloader` and `Ingester`): every listed file in the range
/// plus every calendar session; a session absent from a successful listing has
/// `inListing == false`. Without a listing (or if it fails), every calendar session.
func planDates(client: S3Client, dataset: Dataset, from: TradingDate, to: TradingDate, useListing: Bool,
               pageSize: Int, retry: RetryPolicy,
               onRetry: @escaping (RetryEvent) -> Void) -> (dates: [Downloader.PlannedDate], warnings: [String]) {
    typealias PlannedDate = Downloader.PlannedDate
    var warnings: [String] = []
    let sessions = TradingCalendar.sessions(from: from, to: to)
    guard useListing else {
        return (sessions.map { PlannedDate(date: $0, key: dataset.key(for: $0), listed: nil, inListing: true) }, [])
    }
    var listed: [TradingDate: S3Object] = [:]
    var y = from.year, m = from.month
    do {
        while (y, m) <= (to.year, to.month) {
            let prefix = "\(dataset.keyPrefix)/\(y)/\(m < 10 ? "0" : "")\(m)/"
            let objects = try client.withRetries(key: prefix, policy: retry, onRetry: onRetry) {
                try client.list(prefix: prefix, maxKeys: pageSize)
            }
            for o in objects {
                guard let d = TradingDate.detect(inPath: o.key), d >= from, d <= to, o.key == dataset.key(for: d) else { continue }
                listed[d] = o
            }
            m += 1
            if m > 12 { m = 1; y += 1 }
        }
    } catch {
        warnings.append("listing failed (\(error)); falling back to the trading calendar")
        return (sessions.map { PlannedDate(date: $0, key: dataset.key(for: $0), listed: nil, inListing: true) }, warnings)
    }
    var dates = Set(listed.keys)
    dates.formUnion(sessions)
    return (dates.sorted().map { d in
        PlannedDate(date: d, key: dataset.key(for: d), listed: listed[d], inListing: listed[d] != nil)
    }, warnings)
}
