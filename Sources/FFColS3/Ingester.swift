import FFCol
import FFColConvert
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Ingesting: S3 -> inflate -> parser -> .ffc, without the raw file on disk

/// Options of an ingest run.
public struct IngestOptions: Sendable {
    /// Output root: `.ffc` files go to `ROOT/<dataset>/YYYY/MM/YYYY-MM-DD.ffc`, kept raw files
    /// to `ROOT/raw/<key>`, records to `ROOT/.ffcol/meta/...`.
    public var root: String
    /// Dates converted at once (each is one transfer plus a conversion pipeline).
    public var maxConcurrent: Int = 4
    public var retry = RetryPolicy()
    /// Skip a date whose `.ffc` exists, verifies and records the listed ETag as its source.
    /// False (`--force`) converts every date again.
    public var incremental = true
    /// Discover files by listing the bucket (the listing wins over the calendar). When false,
    /// the ETag of an existing `.ffc` is checked with a HEAD request.
    public var useListing = true
    /// Keys per ListObjectsV2 page (S3 allows at most 1,000).
    public var listPageSize = 1000
    /// Also keep the `.csv.gz` at `ROOT/raw/<key>` (written atomically from the same bytes).
    public var keepRaw = false
    /// Reject a file with rows whose window_start is not on its date.
    public var strict = false
    public var targetChunkRows = 16_384
    public var zstdLevel: Int32 = ConvertOptions.defaultZstdLevel
    /// Bytes held between a transfer and its conversion.
    public var bufferBytes = 4 << 20
    /// How many times a date's conversion starts over when the object is replaced while it is
    /// being read (the bytes already converted belong to the old version).
    public var maxRestarts = 2
    /// Called (from worker threads) for every retry, for `--verbose`.
    public var onRetry: (@Sendable (RetryEvent) -> Void)?
    /// Called (from worker threads) when a date is finished.
    public var onOutcome: (@Sendable (IngestOutcome) -> Void)?
    /// A date locked by another process (`DateLock`) is left for last; then wait for the lock
    /// and handle the date (usually up to date by then), or, when false, skip it (`busy`).
    public var waitForLocks = true
    /// Called (from worker threads) before waiting for, or skipping, a date another process holds.
    public var onBusy: (@Sendable (TradingDate, DateLock.Holder) -> Void)?

    public init(root: String) { self.root = root }
}

/// What happened to one date in an ingest run.
public struct IngestOutcome: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Downloaded, converted and written.
        case converted
        /// The `.ffc` exists, verifies and came from the same source ETag: nothing to do.
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
    /// The `.ffc` path (converted or up to date).
    public var output: String?
    public var records: Int64
    /// Compressed bytes received for this date (all attempts).
    public var bytesDownloaded: Int64
    /// Size of the `.ffc` written.
    public var bytesWritten: Int64
    public var etag: String?
    public var retries: Int
    /// Times the conversion started over because the object was replaced mid-transfer.
    public var restarts: Int
    public var seconds: Double
    public var error: String?
}

/// The numbers of an ingest run; the CLI's summary prints exactly these.
public struct IngestSummary: Sendable, Codable, Equatable {
    /// Dates considered (listed files plus calendar sessions in the range).
    public var planned = 0
    /// Dates whose object was requested and found (converted or failed after the GET; a 404
    /// counts as missing, an up-to-date date is not requested).
    public var downloads = 0
    public var converted = 0
    public var upToDate = 0
    public var missing = 0
    public var failed = 0
    /// Dates skipped because another process was handling them (`--no-wait`).
    public var busy = 0
    /// Retries of requests, plus conversions started over after a mid-transfer replacement.
    public var retries = 0
    public var bytesDownloaded: Int64 = 0
    public var bytesWritten: Int64 = 0
    /// Rows converted (dates converted in this run only).
    public var records: Int64 = 0
    public var seconds: Double = 0
    public init() {}
}

/// A run's result: the summary, each date's outcome (sorted by date), and warnings.
public struct IngestReport: Sendable {
    public var summary: IngestSummary
    public var outcomes: [IngestOutcome]
    public var warnings: [String]
    /// True if any date failed (the CLI exits 1).
    public var hasFailures: Bool { summary.failed > 0 }
}

/// A live view for a progress line.
public struct IngestProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    /// Compressed bytes received so far.
    public var bytesDone: Int64
    /// Listed sizes of the dates being or still to be fetched, plus the bytes done (0 if unknown).
    public var bytesExpected: Int64
    /// Rows parsed so far (dates in progress included).
    public var rowsDone: Int64
    public var seconds: Double
    public var retries: Int

    /// Compressed bytes per second since the start.
    public var rate: Double { seconds > 0 ? Double(bytesDone) / seconds : 0 }
    public var rowsRate: Double { seconds > 0 ? Double(rowsDone) / seconds : 0 }
    /// Seconds left: the larger of the transfer estimate (bytes left at the rate so far, when
    /// sizes are known) and the per-file estimate (seconds per finished file), since a date is
    /// finished only once it is converted and written, after its last byte arrives. Nil when
    /// there is no basis: nothing finished and every byte already in.
    public var eta: Double? {
        guard filesDone < filesTotal else { return filesTotal > 0 ? 0 : nil }
        var e: Double?
        if bytesExpected > 0, rate > 0 { e = max(0, Double(bytesExpected - bytesDone) / rate) }
        if filesDone > 0 { e = max(e ?? 0, seconds / Double(filesDone) * Double(filesTotal - filesDone)) }
        if e == 0 { return nil }
        return e
    }
    /// Every byte received, dates still being converted and written.
    public var finishing: Bool { filesDone < filesTotal && bytesExpected > 0 && bytesDone >= bytesExpected }
}

/// Downloads a dataset's flat files and converts them to `.ffc` as they arrive: the bytes go
/// from the socket (`S3ObjectByteSource`) through inflate and the CSV parser into the `.ffc`
/// writer; nothing but the `.ffc` (and, with `keepRaw`, the `.csv.gz`) is written.
///
/// Each date ends as one of: converted, up to date, missing, failed; one date's failure never
/// stops the others. A failed date leaves no `.ffc` behind (the converter writes to a
/// temporary name) and a record with status `failed` and the error.
public final class Ingester: @unchecked Sendable {
    public let client: S3Client
    public let options: IngestOptions
    public let store: MetadataStore
    public let files: Store

    private let lock = NSLock()
    private var summary = IngestSummary()
    private var filesDone = 0
    private var filesTotal = 0
    private var bytesExpected: Int64 = 0
    private var rowsFinished: Int64 = 0
    private var rowsInFlight: [Int: Int64] = [:]
    private var startedAt = 0.0

    public init(client: S3Client, options: IngestOptions) {
        self.client = client
        self.options = options
        self.store = MetadataStore(root: options.root)
        self.files = Store(root: options.root)
    }

    /// The numbers so far (thread-safe; for a progress line).
    public func progress() -> IngestProgress {
        lock.lock(); defer { lock.unlock() }
        return IngestProgress(filesDone: filesDone, filesTotal: filesTotal, bytesDone: summary.bytesDownloaded,
                              bytesExpected: bytesExpected, rowsDone: rowsFinished + rowsInFlight.values.reduce(0, +),
                              seconds: startedAt > 0 ? monotonicSeconds() - startedAt : 0, retries: summary.retries)
    }

    /// Where a date's `.ffc` goes.
    public func outputPath(_ dataset: Dataset, _ date: TradingDate) -> String { files.path(dataset: dataset, date: date) }
    /// Where a kept raw file goes.
    public func rawPath(key: String) -> String { "\(options.root)/raw/\(key)" }

    // MARK: Running

    /// Ingests `from...to` and returns the report. Blocking; uses `maxConcurrent` threads.
    public func run(dataset: Dataset, from: TradingDate, to: TradingDate) -> IngestReport {
        lock.lock()
        summary = IngestSummary()
        startedAt = monotonicSeconds()
        filesDone = 0
        rowsFinished = 0
        rowsInFlight = [:]
        lock.unlock()

        let (planned, warnings) = planDates(client: client, dataset: dataset, from: from, to: to,
                                            useListing: options.useListing, pageSize: options.listPageSize,
                                            retry: options.retry, onRetry: { [self] e in noteRetry(e) })
        lock.lock()
        filesTotal = planned.count
        summary.planned = planned.count
        bytesExpected = planned.reduce(0) { $0 + ($1.listed?.size ?? 0) }
        lock.unlock()

        // First pass: every date whose lock is free. A date another process holds is left for
        // the second pass, which waits for it (or skips it), so that two runs share the work.
        let first = parallelMap(count: planned.count, threads: options.maxConcurrent) { [self] i -> IngestOutcome? in
            let p = planned[i]
            let lock: DateLock
            do {
                switch try DateLock.tryAcquire(root: options.root, dataset: dataset, date: p.date) {
                case .busy: return nil
                case .acquired(let l): lock = l
                }
            } catch {
                return self.done(self.failedOutcome(p, "\(error)"), slot: i, planned: p)
            }
            defer { lock.release() }
            return self.done(self.handle(dataset: dataset, p, slot: i), slot: i, planned: p)
        }
        var outcomes = first
        let later = first.indices.filter { first[$0]! == nil }
        let second = parallelMap(count: later.count, threads: options.maxConcurrent) { [self] k -> IngestOutcome in
            let i = later[k]
            let p = planned[i]
            var lock: DateLock?
            do {
                while lock == nil {
                    switch try DateLock.tryAcquire(root: options.root, dataset: dataset, date: p.date) {
                    case .acquired(let l): lock = l
                    case .busy(let h):
                        options.onBusy?(p.date, h)
                        guard options.waitForLocks else {
                            var o = self.failedOutcome(p, "another process is handling this date: \(h)")
                            o.status = .busy
                            return self.done(o, slot: i, planned: p)
                        }
                        lock = try DateLock.acquire(root: options.root, dataset: dataset, date: p.date)
                    }
                }
            } catch {
                return self.done(self.failedOutcome(p, "\(error)"), slot: i, planned: p)
            }
            defer { lock?.release() }
            return self.done(self.handle(dataset: dataset, p, slot: i), slot: i, planned: p)
        }
        for (k, i) in later.enumerated() { outcomes[i] = second[k] }

        lock.lock()
        summary.seconds = monotonicSeconds() - startedAt
        let s = summary
        lock.unlock()
        return IngestReport(summary: s, outcomes: outcomes.compactMap { $0 ?? nil }, warnings: warnings)
    }

    private func done(_ o: IngestOutcome, slot: Int, planned p: Downloader.PlannedDate) -> IngestOutcome {
        count(o, slot: slot, listedSize: p.listed?.size ?? 0)
        options.onOutcome?(o)
        return o
    }

    private func failedOutcome(_ p: Downloader.PlannedDate, _ error: String) -> IngestOutcome {
        IngestOutcome(date: p.date, key: p.key, status: .failed, output: nil, records: 0, bytesDownloaded: 0,
                      bytesWritten: 0, etag: nil, retries: 0, restarts: 0, seconds: 0, error: error)
    }

    private func noteRetry(_ e: RetryEvent) {
        lock.lock(); summary.retries += 1; lock.unlock()
        options.onRetry?(e)
    }

    private func count(_ o: IngestOutcome, slot: Int, listedSize: Int64) {
        lock.lock(); defer { lock.unlock() }
        filesDone += 1
        rowsInFlight[slot] = nil
        switch o.status {
        case .converted:
            summary.converted += 1
            summary.records += o.records
            summary.bytesWritten += o.bytesWritten
            rowsFinished += o.records
        case .upToDate: summary.upToDate += 1
        case .missing: summary.missing += 1
        case .failed: summary.failed += 1
        case .busy: summary.busy += 1
        }
        // Bytes that will never come (nothing fetched, or less than listed) leave the estimate.
        if o.status != .converted { bytesExpected -= max(0, listedSize - o.bytesDownloaded) }
    }

    private func addBytes(_ n: Int64) { lock.lock(); summary.bytesDownloaded += n; lock.unlock() }
    private func setRows(_ slot: Int, _ n: Int64) { lock.lock(); rowsInFlight[slot] = n; lock.unlock() }
    private func noteDownload() { lock.lock(); summary.downloads += 1; lock.unlock() }
    private func noteRestart() { lock.lock(); summary.retries += 1; lock.unlock() }

    // MARK: One date

    /// True if `path` is a complete `.ffc` that verifies and was converted from `etag`.
    public static func isUpToDate(path: String, etag: String) -> Bool {
        guard let f = try? FFCFile(path: path), f.provenance("source_etag") == etag else { return false }
        do { try f.verify() } catch { return false }
        return true
    }

    /// Handles one date; never throws (the outcome carries the error).
    func handle(dataset: Dataset, _ p: Downloader.PlannedDate, slot: Int) -> IngestOutcome {
        let started = monotonicSeconds()
        let out = outputPath(dataset, p.date)
        let relOut = String(out.dropFirst(options.root.count + 1))
        var record = store.load(dataset, p.date) ?? DateRecord(dataset: dataset.rawValue, date: p.date.description,
                                                                key: p.key, status: .failed)
        record.key = p.key
        var outcome = IngestOutcome(date: p.date, key: p.key, status: .failed, output: nil, records: 0,
                                    bytesDownloaded: 0, bytesWritten: 0, etag: nil, retries: 0, restarts: 0,
                                    seconds: 0, error: nil)

        var requested = false
        var upToDateSize: Int64?
        var upToDateLastModified: String?
        var interruptHook: Int?
        defer { if let h = interruptHook { TemporaryFiles.removeInterruptHook(h) } }

        func finish(_ status: IngestOutcome.Status, error: String? = nil) -> IngestOutcome {
            if let h = interruptHook { TemporaryFiles.removeInterruptHook(h); interruptHook = nil }
            record.holder = nil
            if requested && (status == .converted || status == .failed) { noteDownload() }
            outcome.status = status
            outcome.error = error
            outcome.seconds = monotonicSeconds() - started
            switch status {
            case .converted, .failed, .missing:
                record.status = status == .converted ? .done : (status == .missing ? .skipped : .failed)
                record.retries = outcome.retries + outcome.restarts
                record.bytesDownloaded = outcome.bytesDownloaded
                record.durationSeconds = outcome.seconds
                record.lastError = error
                if status == .converted {
                    record.records = outcome.records
                    record.bytesWritten = outcome.bytesWritten
                    record.output = relOut
                } else if status == .missing {
                    record.records = 0
                    record.bytesWritten = 0
                }
                // A failure keeps what the record said about an earlier good conversion (an
                // existing .ffc is left as it was), with status failed and the error.
            case .busy:
                return outcome
            case .upToDate:
                // Keep the record, unless it is absent or says otherwise (lost, or written by
                // an interrupted run): describe the file that is there.
                if record.status == .done && record.output == relOut && record.etag == outcome.etag
                    && record.size == upToDateSize { return outcome }
                record.status = .done
                record.etag = outcome.etag
                record.size = upToDateSize
                record.lastModified = upToDateLastModified ?? record.lastModified
                record.output = relOut
                record.records = outcome.records
                record.bytesWritten = outcome.bytesWritten
                record.lastError = nil
            }
            record.updatedAt = isoNow()
            do { try store.save(record, dataset: dataset, date: p.date) } catch {
                outcome.status = .failed
                outcome.error = "cannot write the metadata record: \(error)"
            }
            return outcome
        }

        if !p.inListing {
            return finish(.missing, error: "not in the bucket listing (holiday, or not published yet)")
        }

        do {
            // Up to date? The .ffc itself says which source version it came from.
            if options.incremental, fileSize(out) != nil {
                // The current version: from the listing, else a HEAD (a 404 means missing).
                var current = p.listed.map { (etag: $0.etag, size: $0.size) }
                if current == nil {
                    let info = try client.withRetries(key: p.key, policy: options.retry, onRetry: { [self] e in
                        outcome.retries += 1; noteRetry(e)
                    }) { try client.head(key: p.key) }
                    current = (info.etag, info.size)
                }
                let etag = current!.etag
                let rawOK = !options.keepRaw || fileSize(rawPath(key: p.key)) == current!.size
                if rawOK, Self.isUpToDate(path: out, etag: etag) {
                    outcome.etag = etag
                    upToDateSize = current!.size
                    upToDateLastModified = p.listed?.lastModified
                    outcome.output = out
                    if let f = try? FFCFile(path: out) {
                        outcome.records = Int64(f.rowCount)
                        outcome.bytesWritten = Int64(f.fileSize)
                    }
                    return finish(.upToDate)
                }
            }

            // Not done until the new .ffc is in place and its record written: a run that is
            // killed from here on leaves `in_progress` (or `failed` after SIGINT/SIGTERM), never
            // `done` with the details of an older file, and the next run converts the date.
            var started = record
            started.status = .inProgress
            started.holder = "pid \(getpid()) since \(isoNow())"
            started.lastError = nil
            started.updatedAt = isoNow()
            do { try store.save(started, dataset: dataset, date: p.date) } catch {
                return finish(.failed, error: "cannot write the metadata record: \(error)")
            }
            let interrupted: DateRecord = {
                var r = started
                r.status = .failed
                r.holder = nil
                return r
            }()
            let store = self.store
            interruptHook = TemporaryFiles.addInterruptHook { sig in
                var r = interrupted
                r.lastError = "interrupted by \(sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal \(sig)") before this date was finished; the next run converts it"
                r.updatedAt = isoNow()
                try? store.save(r, dataset: dataset, date: p.date)
            }

            var attempt = 0
            requested = true
            while true {
                do {
                    let (conv, fetch) = try ingestOnce(dataset: dataset, p, slot: slot, outcome: &outcome)
                    outcome.output = conv.output
                    outcome.records = Int64(conv.rows)
                    outcome.bytesWritten = Int64(conv.bytesOut)
                    outcome.etag = fetch.etag
                    record.etag = fetch.etag
                    record.size = fetch.size
                    record.lastModified = fetch.lastModified.isEmpty ? p.listed?.lastModified : fetch.lastModified
                    return finish(.converted)
                } catch let e as S3Error {
                    if case .changed = e.kind, attempt < options.maxRestarts {
                        // The object was replaced after bytes of the old version were converted:
                        // the conversion was aborted (no .ffc written); convert the new version.
                        attempt += 1
                        outcome.restarts += 1
                        noteRestart()
                        continue
                    }
                    throw e
                }
            }
        } catch let e as S3Error where e.isNotFound {
            return finish(.missing, error: "no file (404)")
        } catch {
            return finish(.failed, error: "\(error)")
        }
    }

    /// One attempt: a transfer feeding a conversion (and the raw file with `keepRaw`).
    private func ingestOnce(dataset: Dataset, _ p: Downloader.PlannedDate, slot: Int,
                            outcome: inout IngestOutcome) throws -> (ConvertResult, FetchResult) {
        let raw = options.keepRaw ? try RawFile(path: rawPath(key: p.key)) : nil
        defer { raw?.discard() }
        let received = ByteCounter()
        let retries = ByteCounter()
        let source = S3ObjectByteSource(
            client: client, key: p.key, policy: options.retry, capacity: options.bufferBytes,
            tee: { [self] buf in
                try raw?.write(buf)
                received.add(Int64(buf.count))
                addBytes(Int64(buf.count))
            },
            onRetry: { [self] e in retries.add(1); noteRetry(e) })
        defer {
            source.cancel()
            outcome.bytesDownloaded += received.value
            outcome.retries += Int(retries.value)
        }

        var o = ConvertOptions(outRoot: options.root)
        o.dataset = dataset
        o.date = p.date
        o.strict = options.strict
        o.targetChunkRows = options.targetChunkRows
        o.zstdLevel = options.zstdLevel
        o.sourceName = "s3://\(client.configuration.bucket)/\(p.key)"
        o.sourceETag = p.listed?.etag
        o.sourceSize = p.listed.map { UInt64($0.size) }
        // The version actually read, known at the end of the transfer (it can differ from the
        // listing's if the file was republished in between).
        o.finalProvenance = { [source] in
            guard let r = source.result else { return [] }
            return [("source_etag", r.etag), ("source_bytes", String(r.size))]
        }
        o.onRows = { [self] n in setRows(slot, Int64(n)) }

        // Transfer errors come out of the source's read as S3Error, unwrapped.
        let conv = try Converter.convert(source: source, options: o)
        guard let fetch = source.result else {
            // The converter stopped before the end of the stream (it never does on success).
            unlink(conv.output)
            throw S3Error(.integrity("the conversion ended before the end of the object"), key: p.key)
        }
        if let raw {
            try raw.commit(expectedSize: fetch.size)
        }
        return (conv, fetch)
    }
}

/// A thread-safe counter.
final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n: Int64 = 0
    func add(_ k: Int64) { lock.lock(); n += k; lock.unlock() }
    var value: Int64 { lock.lock(); defer { lock.unlock() }; return n }
}

/// The `--keep-raw` copy: written by the transfer thread (through the byte source's tee) to a
/// temporary name, renamed into place only when the transfer ended with its length and ETag
/// checked. `discard` may run while the transfer thread is still writing: both hold the lock.
final class RawFile: @unchecked Sendable {
    let path: String
    private let tmp: String
    private let lock = NSLock()
    private var fd: Int32
    private var written: Int64 = 0

    init(path: String) throws {
        self.path = path
        try makeDirectories((path as NSString).deletingLastPathComponent)
        tmp = temporaryName(for: path)
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError("cannot create \(tmp)") }
        TemporaryFiles.register(tmp)
    }

    func write(_ buf: UnsafeRawBufferPointer) throws {
        lock.lock(); defer { lock.unlock() }
        guard fd >= 0 else { throw PosixError(description: "\(tmp): the raw copy was abandoned") }
        var off = 0
        while off < buf.count {
            let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 { if errno == EINTR { continue }; throw posixError("cannot write \(tmp)") }
            off += n
        }
        written += Int64(buf.count)
    }

    /// fsync, size check, rename into place.
    func commit(expectedSize: Int64) throws {
        lock.lock(); defer { lock.unlock() }
        guard fd >= 0 else { throw PosixError(description: "\(tmp): the raw copy was abandoned") }
        guard fsync(fd) == 0 else { throw posixError("cannot fsync \(tmp)") }
        close(fd); fd = -1
        defer { TemporaryFiles.unregister(tmp) }
        guard written == expectedSize else {
            unlink(tmp)
            throw S3Error(.integrity("raw copy has \(written) bytes, expected \(expectedSize)"), key: path)
        }
        try renameDurably(tmp, to: path)
    }

    /// Closes and removes the temporary file (no-op after `commit`).
    func discard() {
        lock.lock(); defer { lock.unlock() }
        if fd >= 0 { close(fd); fd = -1; unlink(tmp); TemporaryFiles.unregister(tmp) }
    }
}
