#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

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
    /// pages that hold it); nil writes format version 1 (one block per column and chunk), which
    /// readers older than version 2 also read.
    public var pageRows: Int? = ConvertOptions.defaultPageRows
    public static let defaultPageRows = 2048
    public var zstdLevel: Int32 = ConvertOptions.defaultZstdLevel
    /// The zstd level convert and ingest use unless told otherwise, and the levels they accept.
    public static let defaultZstdLevel: Int32 = 1
    public static let zstdLevels: ClosedRange<Int32> = 1...19
    /// Reject rows whose window_start is not on the file's date (else count and keep them).
    public var strict = false
    /// The gzip decoder.
    public var inflate: InflateBackend = .preferred
    /// Size of each decompressed block handed from the inflate thread to the parser.
    public var blockSize = 1 << 20
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
    /// milliseconds; with 4 blocks (5 ms of parsing) the parser ran dry whenever the inflater
    /// waited one slice out, and a core sat idle. Measured in docs/PERFORMANCE.md.
    static let inflatedBlocks = 16

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

    /// Converts a stream. Inflate runs on its own thread, parsing on the calling thread, and
    /// encoding, compressing and writing on a third (`AsyncChunkWriter`). Up to
    /// `inflatedBlocks` blocks of `blockSize` and `AsyncChunkWriter.queueDepth` chunks wait
    /// between them.
    public static func convert(source: ByteSource, options: ConvertOptions) throws -> ConvertResult {
        let t0 = monotonicSeconds()
        let (dataset, date) = try identify(options.sourceName ?? source.name, options: options)
        let store = Store(root: options.outRoot)
        let outPath = store.path(dataset: dataset, date: date)
        let writer = try FFCWriter(path: outPath, zstdLevel: options.zstdLevel, pageRows: options.pageRows)
        let name = source.name
        let chunkWriter = AsyncChunkWriter(writer: writer, chunkCapacity: max(1, options.targetChunkRows) * 4 + 1024)
        var sink = RowSink(dataset: dataset, date: date, writer: chunkWriter, targetRows: options.targetChunkRows,
                           fileName: name, strict: options.strict)
        var parser = CSVParser(fileName: name)
        var lines = LineAssembler()
        let inflater = InflateStream(source: source, backend: options.inflate)
        let pipe = BlockPipe(blocks: inflatedBlocks, blockSize: options.blockSize)
        let producer = pipe.fill(from: inflater)
        do {
            while let (buf, n) = try pipe.pop() {
                defer { pipe.giveBack(buf) }
                try lines.feed(UnsafeRawBufferPointer(rebasing: buf[0..<n]), parser: &parser, sink: &sink)
                options.onRows?(sink.rowCount)
            }
            try lines.finish(parser: &parser, sink: &sink)
            producer.join()
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
            producer.join()
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
    private var joined = false

    init(_ body: @escaping () -> Void) {
        self.body = body
        let ctx = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let w = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
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

/// A bounded hand-off of fixed-size buffers between one producer and one consumer.
final class BlockPipe: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var all: [UnsafeMutableRawBufferPointer] = []
    private var full: [(UnsafeMutableRawBufferPointer, Int)] = []
    private var head = 0
    private var finished = false
    private var cancelled = false
    private var error: Error?

    init(blocks: Int, blockSize: Int) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
        for _ in 0..<blocks {
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
            free.append(b); all.append(b)
        }
    }
    deinit {
        for b in all { b.deallocate() }
        pthread_cond_destroy(&cond); pthread_mutex_destroy(&mutex)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Starts the producer thread: fills free buffers from `inflater` until its end, an error
    /// (handed to the consumer by `pop`), or `cancel`.
    func fill(from inflater: InflateStream) -> Worker {
        Worker {
            do {
                while let buf = self.takeFree() {
                    let n = try inflater.read(into: buf)
                    if n == 0 { self.finish(error: nil, returning: buf); return }
                    self.push(buf, count: n)
                }
            } catch {
                self.finish(error: error, returning: nil)
            }
        }
    }

    /// Producer: a free buffer, or nil when cancelled.
    func takeFree() -> UnsafeMutableRawBufferPointer? {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        while free.isEmpty && !cancelled { pthread_cond_wait(&cond, &mutex) }
        return cancelled ? nil : free.removeLast()
    }
    func push(_ b: UnsafeMutableRawBufferPointer, count: Int) {
        locked { full.append((b, count)); pthread_cond_broadcast(&cond) }
    }
    func finish(error: Error?, returning b: UnsafeMutableRawBufferPointer?) {
        locked {
            if let b = b { free.append(b) }
            finished = true; self.error = error
            pthread_cond_broadcast(&cond)
        }
    }
    /// Consumer: the next filled buffer, nil at the end; throws the producer's error.
    func pop() throws -> (UnsafeMutableRawBufferPointer, Int)? {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        while head == full.count && !finished { pthread_cond_wait(&cond, &mutex) }
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
        locked { free.append(b); pthread_cond_broadcast(&cond) }
    }
    func cancel() {
        locked { cancelled = true; pthread_cond_broadcast(&cond) }
    }
}
