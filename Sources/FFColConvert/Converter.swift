#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol
import CFFColSys

// MARK: - The conversion pipeline

/// Options for one conversion.
public struct ConvertOptions: Sendable {
    /// Output root: files go to `ROOT/<dataset>/YYYY/MM/YYYY-MM-DD.ffc`.
    public var outRoot: String
    /// Dataset and date; when nil they come from the input's path or name.
    public var dataset: Dataset?
    public var date: TradingDate?
    /// Rows per chunk to aim for (chunks hold whole tickers / option roots).
    public var targetChunkRows = 16_384
    /// Rows per page within a chunk (format versions 2 and 3: one ticker is read by decompressing the
    /// pages that hold it), by default the dataset's (`defaultPageRows(for:)`); `.formatVersion1` writes
    /// format version 1 (one block per column and chunk), which readers older than version 2
    /// also read.
    public var pageRows: PageRows = .datasetDefault
    /// Pages of at most 2,048 rows for stocks: a stocks minute ticker has up to ~1,000 bars a
    /// day, so one ticker decompresses one or two small pages. 8,192 for options: a contract
    /// has a few bars a day (about 5 on average), a page of 2,048 rows already holds hundreds
    /// of contracts, and options are mostly read by underlying, many contracts in a row. With
    /// 4 times fewer zstd frames, an options minute day converts with 4-9% less CPU into a file
    /// 7% smaller; one contract read cold takes ~60 µs more (docs/PERFORMANCE.md).
    public static func defaultPageRows(for dataset: Dataset) -> Int { dataset.isOptions ? 8192 : 2048 }
    public var zstdLevel: Int32 = ConvertOptions.defaultZstdLevel
    /// The zstd level convert and ingest use unless told otherwise, and the levels they accept.
    public static let defaultZstdLevel: Int32 = 1
    public static let zstdLevels: ClosedRange<Int32> = 1...19
    /// Reject rows whose window_start is not on the file's date (else count and keep them).
    public var strict = false
    /// The gzip decoder.
    public var inflate: InflateBackend = .preferred
    /// Size of each decompressed block handed from the inflate thread to the parser.
    public var blockSize = ConvertOptions.defaultBlockSize
    /// 2 MiB: fewer hand-offs and lines split between blocks than with 1 MiB; the options minute
    /// day converts ~10 ms faster (docs/PERFORMANCE.md).
    public static let defaultBlockSize = 2 << 20
    /// Provenance recorded in the footer.
    public var sourceName: String?
    public var sourceETag: String?
    public var sourceSize: UInt64?
    /// Provenance known only once the input has been read to its end (e.g. the ETag a download
    /// ended with): called after the last byte, before the footer is written; its keys replace
    /// the ones above.
    public var finalProvenance: (@Sendable () -> [(String, String)])?
    /// Called on the converting thread after each block of CSV with the rows parsed so far.
    public var onRows: (@Sendable (_ rowsSoFar: Int) -> Void)?

    public init(outRoot: String) { self.outRoot = outRoot }
}

/// Rows per page of a converted file.
public enum PageRows: Sendable, Equatable {
    /// `ConvertOptions.defaultPageRows(for:)` of the file's dataset.
    case datasetDefault
    /// At most this many rows a page (at least 1), except a ticker with more rows, which is a
    /// page of its own.
    case rows(Int)
    /// No pages: format version 1.
    case formatVersion1

    /// Rows per page for a file of `dataset`, or nil for format version 1.
    public func resolved(for dataset: Dataset) -> Int? {
        switch self {
        case .datasetDefault: return ConvertOptions.defaultPageRows(for: dataset)
        case .rows(let n): return n
        case .formatVersion1: return nil
        }
    }
}

/// What one conversion did.
public struct ConvertResult: Sendable {
    public var input: String
    public var output: String
    public var dataset: Dataset
    public var date: TradingDate
    public var rows: Int
    public var tickers: Int
    public var chunks: Int
    /// Bytes read from the source (compressed size for gzip).
    public var bytesIn: UInt64
    /// Decompressed CSV bytes.
    public var csvBytes: UInt64
    public var bytesOut: UInt64
    public var seconds: Double
    public var inputWasSorted: Bool
    public var dateMismatches: Int
    public var firstMismatchLine: Int
}

public enum Converter {
    public static let version = "0.1.0"

    /// Inflated blocks that may wait for the parser (16 MiB with the default `blockSize`).
    /// Three threads share the cores and the scheduler runs each in slices of a few
    /// milliseconds; with 4 blocks of 1 MiB (5 ms of parsing) the parser ran dry whenever the
    /// inflater waited one slice out, and a core sat idle. Measured in docs/PERFORMANCE.md.
    static let inflatedBlocks = 8

    /// Dataset and date for an input, from the options or the path.
    public static func identify(_ name: String, options: ConvertOptions) throws -> (Dataset, TradingDate) {
        guard let ds = options.dataset ?? Dataset.detect(inPath: name) else {
            throw ConvertError(.usage, file: name,
                "cannot tell the dataset from the path; pass --dataset (\(Dataset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let d = options.date ?? TradingDate.detect(inPath: name) else {
            if let bad = TradingDate.impossibleDate(inPath: name) {
                throw ConvertError(.usage, file: name, "'\(bad)' in the path is not a valid date; rename the file or pass --date")
            }
            throw ConvertError(.usage, file: name, "cannot tell the date from the path (no valid YYYY-MM-DD in it); pass --date")
        }
        return (ds, d)
    }

    /// Converts a file path (or `-` for stdin).
    public static func convert(path: String, options: ConvertOptions) throws -> ConvertResult {
        let src = try FileSource(path: path)
        var o = options
        if o.sourceSize == nil { o.sourceSize = src.size }
        if o.sourceName == nil { o.sourceName = path }
        return try convert(source: src, options: o)
    }

    /// Converts a stream. Parsing runs on the calling thread, encoding, compressing and
    /// writing on another (`AsyncChunkWriter`); up to `inflatedBlocks` blocks of `blockSize`
    /// and `AsyncChunkWriter.queueDepth` chunks wait between them.
    ///
    /// Inflating with ISA-L (about 0.6 x the parser's work) from a source that
    /// `readsWithoutWaiting` is done by those two threads, by whichever is free: the parser
    /// when no block is ready, the writer when no chunk waits. With a third thread,
    /// time-sliced with the other two on a 2-core machine, fewer than two threads could run
    /// 10-23% of the time (`perf sched`; docs/PERFORMANCE.md). zlib (about 1.7 x the parser's
    /// work, the longest stage) and sources that may wait (stdin, downloads) get a thread of
    /// their own, which keeps the slowest stage running without gaps.
    public static func convert(source: ByteSource, options: ConvertOptions) throws -> ConvertResult {
        let t0 = monotonicSeconds()
        let (dataset, date) = try identify(options.sourceName ?? source.name, options: options)
        let store = Store(root: options.outRoot)
        let outPath = store.path(dataset: dataset, date: date)
        let writer = try FFCWriter(path: outPath, zstdLevel: options.zstdLevel, pageRows: options.pageRows.resolved(for: dataset))
        let name = source.name
        let inflater = InflateStream(source: source, backend: options.inflate)
        let pipe = BlockPipe(blocks: inflatedBlocks, blockSize: options.blockSize)
        let shareInflate = options.inflate == .isal && source.readsWithoutWaiting
        let producer: Worker?
        if shareInflate {
            pipe.share(inflater)
            producer = nil
        } else {
            producer = pipe.fill(from: inflater)
        }
        let chunkWriter = AsyncChunkWriter(writer: writer, chunkCapacity: max(1, options.targetChunkRows) * 4 + 1024,
                                           helping: shareInflate ? pipe : nil)
        var sink = RowSink(dataset: dataset, date: date, writer: chunkWriter, targetRows: options.targetChunkRows,
                           fileName: name, strict: options.strict)
        var parser = CSVParser(fileName: name)
        var lines = LineAssembler()
        do {
            while let (buf, n) = try pipe.pop() {
                defer { pipe.giveBack(buf) }
                try lines.feed(UnsafeRawBufferPointer(rebasing: buf[0..<n]), parser: &parser, sink: &sink)
                options.onRows?(sink.rowCount)
            }
            try lines.finish(parser: &parser, sink: &sink)
            producer?.join()
            guard parser.sawHeader else {
                throw ConvertError(.emptyInput, file: name, "the input is empty; expected at least the header line")
            }
            guard sink.rowCount > 0 else {
                throw ConvertError(.emptyInput, file: name, line: 1, "the file has a header but no rows; nothing to convert")
            }
            try sink.finish()
            chunkWriter.stop()
            var prov: [(String, String)] = [
                ("source", options.sourceName ?? name),
                ("source_bytes", String(options.sourceSize ?? inflater.bytesIn)),
                ("csv_bytes", String(inflater.bytesOut)),
                ("rows", String(sink.rowCount)),
                ("input_sorted", sink.sorted ? "true" : "false"),
                ("window_start_outside_date", String(sink.dateMismatches)),
                ("duplicate_timestamps", String(sink.duplicateTimestamps)),
                ("ffcol_version", version),
                ("created_unix", String(time(nil))),
            ]
            if let e = options.sourceETag { prov.append(("source_etag", e)) }
            if let late = options.finalProvenance?() {
                for (k, v) in late {
                    if let i = prov.firstIndex(where: { $0.0 == k }) { prov[i].1 = v } else { prov.append((k, v)) }
                }
            }
            let size = try writer.finish(dataset: dataset, date: date, provenance: prov)
            return ConvertResult(input: name, output: outPath, dataset: dataset, date: date, rows: sink.rowCount,
                                 tickers: Int(writer.tickers), chunks: writer.chunks.count, bytesIn: inflater.bytesIn,
                                 csvBytes: inflater.bytesOut, bytesOut: size, seconds: monotonicSeconds() - t0,
                                 inputWasSorted: sink.sorted, dateMismatches: sink.dateMismatches,
                                 firstMismatchLine: sink.firstMismatchLine)
        } catch {
            pipe.cancel()
            producer?.join()
            chunkWriter.stop()
            writer.abort()
            throw error
        }
    }
}

public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// MARK: - Threads and the block pipe

/// A thread running one closure, joinable.
final class Worker: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void
    private let name: String?
    private var joined = false

    /// `name`: the thread's name, at most 15 bytes (`ffcol_name_this_thread`).
    init(name: String? = nil, _ body: @escaping () -> Void) {
        self.body = body
        self.name = name
        let ctx = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let w = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
            if let n = w.name { ffcol_name_this_thread(n) }
            w.body()
            return nil
        }, ctx)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

/// One mutex and condition variable, shared by the stages of a conversion that wait on each
/// other (`BlockPipe`, `AsyncChunkWriter`), so that one thread can wait for either's state.
final class Monitor: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }
    deinit { pthread_cond_destroy(&cond); pthread_mutex_destroy(&mutex) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
    /// Waits for a `broadcast`; the lock must be held.
    func wait() { pthread_cond_wait(&cond, &mutex) }
    func broadcast() { pthread_cond_broadcast(&cond) }
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock(); defer { unlock() }
        return try body()
    }
}

/// A bounded hand-off of fixed-size buffers of inflated bytes to one consumer, in order.
///
/// Filled either by a thread of its own (`fill(from:)`), or by the threads that use it
/// (`share(_:)`): then the consumer inflates the next block itself when none is ready, and
/// other threads sharing the `monitor` inflate blocks when they have nothing better to do
/// (`inflateNextLocked`). One block is inflated at a time, and blocks are handed out in the
/// order they were inflated.
final class BlockPipe: @unchecked Sendable {
    let monitor: Monitor
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var all: [UnsafeMutableRawBufferPointer] = []
    private var full: [(UnsafeMutableRawBufferPointer, Int)] = []
    private var head = 0
    private var finished = false
    private var cancelled = false
    private var error: Error?
    /// The inflate stream threads read from in turn (`share`), and whether one is reading.
    private var shared: InflateStream?
    private var inflating = false

    init(blocks: Int, blockSize: Int) {
        monitor = Monitor()
        for _ in 0..<blocks {
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
            free.append(b); all.append(b)
        }
    }
    deinit {
        for b in all { b.deallocate() }
    }

    /// Starts the producer thread: fills free buffers from `inflater` until its end, an error
    /// (handed to the consumer by `pop`), or `cancel`.
    func fill(from inflater: InflateStream) -> Worker {
        Worker(name: "ffcol-inflate") {
            while let buf = self.takeFree() {
                let (n, failure) = BlockPipe.read(inflater, into: buf)
                guard self.monitor.locked({ self.recordLocked(buf, n, failure) }) else { return }
            }
        }
    }

    /// No thread of its own: the threads that use the pipe inflate from `inflater` in turn.
    func share(_ inflater: InflateStream) {
        monitor.locked { shared = inflater }
    }

    /// Inflates the next block of the shared stream if no other thread is inflating, a buffer
    /// is free and the stream has not ended; returns whether it did. Called with the monitor
    /// locked; unlocks it while inflating and returns with it locked.
    ///
    /// The block is inflated `handOffStep` bytes at a time, and ends early, holding what is
    /// inflated so far, when the other thread waits for it: a helper (`consumer` false) stops
    /// as soon as the consumer waits for a block; the consumer, which parses the block next,
    /// stops once it has `consumerYieldAfter` bytes and a helper has nothing else to do, so
    /// that the helper inflates what follows while the consumer parses. One thread no longer
    /// sleeps for the rest of a 2 MiB block (~1.3 ms) that the other is inflating.
    func inflateNextLocked(consumer: Bool = false) -> Bool {
        guard let inflater = shared, !inflating, !finished, !cancelled, let buf = free.popLast() else { return false }
        inflating = true
        monitor.unlock()
        var filled = 0
        var failure: Error?
        while filled < buf.count {
            // Safe: filled < buf.count, and the step ends at buf.count at the latest.
            let step = UnsafeMutableRawBufferPointer(rebasing: buf[filled..<min(buf.count, filled + BlockPipe.handOffStep)])
            let (n, f) = BlockPipe.read(inflater, into: step)
            if let f { failure = f; break }
            if n == 0 { break }
            filled += n
            guard filled < buf.count else { break }
            let yield = monitor.locked {
                consumer ? filled >= BlockPipe.consumerYieldAfter && helperWaiting : consumerWaiting
            }
            if yield { break }
        }
        monitor.lock()
        inflating = false
        // A block that ends early is handed out like a full one; the stream's end (0 bytes) is
        // recorded by the next call. On an error what this call inflated is dropped.
        _ = recordLocked(buf, failure == nil ? filled : 0, failure)
        return true
    }

    /// Bytes inflated between checks for a waiting thread. Each ISA-L call copies the last
    /// 32 KiB of its output aside (the history the next call may refer to), so a step costs a
    /// 32 KiB copy: 64 KiB steps cost the options minute day ~20 ms more CPU than 256 KiB
    /// ones (docs/PERFORMANCE.md); 512 KiB ones made the threads wait longer for each other.
    static let handOffStep = 256 << 10
    /// The consumer inflates at least this much for itself before it hands the stream over
    /// (a multiple of `handOffStep`: it is checked after each step).
    static let consumerYieldAfter = 256 << 10
    /// The consumer waits in `pop` for a block another thread is inflating.
    private var consumerWaiting = false
    /// A helper has nothing to do but inflate and waits because another thread is inflating
    /// (set by the helper around its wait, with the monitor locked).
    var helperWaiting = false

    /// One block read from `inflater`: its byte count (0 at the end), or the error.
    private static func read(_ inflater: InflateStream, into buf: UnsafeMutableRawBufferPointer) -> (Int, Error?) {
        do { return (try inflater.read(into: buf), nil) } catch { return (0, error) }
    }

    /// Hands the consumer block `buf` with `n` bytes, or, at the end of the stream (`n` 0) or
    /// on `failure`, returns `buf` and ends the pipe with the error; returns whether the stream
    /// goes on. Called with the monitor locked.
    private func recordLocked(_ buf: UnsafeMutableRawBufferPointer, _ n: Int, _ failure: Error?) -> Bool {
        defer { monitor.broadcast() }
        guard failure == nil, n > 0 else {
            free.append(buf)
            finished = true; error = failure
            return false
        }
        full.append((buf, n))
        return true
    }

    /// Producer: a free buffer, or nil when cancelled.
    func takeFree() -> UnsafeMutableRawBufferPointer? {
        monitor.lock(); defer { monitor.unlock() }
        while free.isEmpty && !cancelled { monitor.wait() }
        return cancelled ? nil : free.removeLast()
    }
    /// Consumer: the next filled buffer, nil at the end; throws the inflate error. With a
    /// shared stream, inflates the next block itself when none is ready and no other thread is
    /// inflating.
    func pop() throws -> (UnsafeMutableRawBufferPointer, Int)? {
        monitor.lock(); defer { monitor.unlock() }
        while head == full.count && !finished {
            if !inflateNextLocked(consumer: true) {
                consumerWaiting = true
                monitor.wait()
                consumerWaiting = false
            }
        }
        if head < full.count {
            let item = full[head]
            head += 1
            if head == full.count { full.removeAll(keepingCapacity: true); head = 0 }
            return item
        }
        if let e = error { throw e }
        return nil
    }
    func giveBack(_ b: UnsafeMutableRawBufferPointer) {
        monitor.locked { free.append(b); monitor.broadcast() }
    }
    func cancel() {
        monitor.locked { cancelled = true; monitor.broadcast() }
    }
}
