#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

// MARK: - The pipeline's stages one at a time (for measuring them)

/// What `ConvertStages.parse` and `ConvertStages.inflateAndParse` saw.
public struct StageCounts: Sendable, Equatable {
    /// Data rows parsed (the header is not counted).
    public var rows: Int
    /// CSV bytes parsed (decompressed).
    public var csvBytes: UInt64
}

/// The stages of `Converter.convert` without the ones after them, so that each can be timed
/// on its own. Nothing is written: rows are parsed into the same column arrays the converter
/// fills, and dropped after each block instead of being encoded.
public enum ConvertStages {
    /// Stage 1: inflates the whole source (or copies it, for plain CSV) into one buffer of
    /// `blockSize` bytes, block after block, on the calling thread. Returns the CSV byte count.
    public static func inflate(source: ByteSource, blockSize: Int = ConvertOptions.defaultBlockSize,
                               backend: InflateBackend = .preferred) throws -> UInt64 {
        let inflater = InflateStream(source: source, backend: backend)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, blockSize), alignment: 64)
        defer { buf.deallocate() }
        while try inflater.read(into: buf) > 0 {}
        return inflater.bytesOut
    }

    /// Stage 2: line assembly and parsing of CSV already in memory, in blocks of `blockSize`
    /// bytes, into the converter's row sink (order and date checks, column arrays). No
    /// encoding, compression or I/O.
    public static func parse(csv: UnsafeRawBufferPointer, dataset: Dataset, date: TradingDate,
                             blockSize: Int = ConvertOptions.defaultBlockSize) throws -> StageCounts {
        var run = try ParseRun(dataset: dataset, date: date, name: "<memory>")
        defer { run.close() }
        var off = 0
        let step = max(1, blockSize)
        while off < csv.count {
            let n = min(step, csv.count - off)
            try run.feed(UnsafeRawBufferPointer(rebasing: csv[off..<(off + n)]))
            off += n
        }
        try run.finish()
        return StageCounts(rows: run.rows, csvBytes: UInt64(csv.count))
    }

    /// Stages 1 and 2 with inflating on a thread of its own (as `Converter.convert` runs them
    /// for zlib or a source that may wait), at most 4 blocks of `blockSize` in flight, parsing
    /// on the calling thread; then nothing more.
    public static func inflateAndParse(source: ByteSource, dataset: Dataset, date: TradingDate,
                                       blockSize: Int = ConvertOptions.defaultBlockSize) throws -> StageCounts {
        var run = try ParseRun(dataset: dataset, date: date, name: source.name)
        defer { run.close() }
        let inflater = InflateStream(source: source)
        let pipe = BlockPipe(blocks: 4, blockSize: max(1, blockSize))
        let producer = pipe.fill(from: inflater)
        do {
            while let (buf, n) = try pipe.pop() {
                defer { pipe.giveBack(buf) }
                try run.feed(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            }
            try run.finish()
            producer.join()
        } catch {
            pipe.cancel()
            producer.join()
            throw error
        }
        return StageCounts(rows: run.rows, csvBytes: inflater.bytesOut)
    }
}

/// A parser and a row sink whose pending rows are dropped after every block. The sink's chunk
/// target is never reached, so nothing is handed to its writer (a temporary file, removed).
private struct ParseRun {
    var parser: CSVParser
    var sink: RowSink
    var lines = LineAssembler()
    let writer: FFCWriter
    let chunkWriter: AsyncChunkWriter
    var rows = 0

    init(dataset: Dataset, date: TradingDate, name: String) throws {
        let tmp = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        writer = try FFCWriter(path: "\(tmp)/ffcol-stages.ffc", pageRows: ConvertOptions.defaultPageRows(for: dataset))
        chunkWriter = AsyncChunkWriter(writer: writer, chunkCapacity: 1024)
        sink = RowSink(dataset: dataset, date: date, writer: chunkWriter, targetRows: 1 << 40, fileName: name, strict: false)
        parser = CSVParser(fileName: name)
    }

    mutating func feed(_ block: UnsafeRawBufferPointer) throws {
        try lines.feed(block, parser: &parser, sink: &sink)
        sink.rows.removeAll()
    }

    mutating func finish() throws {
        try lines.finish(parser: &parser, sink: &sink)
        sink.rows.removeAll()
        guard parser.sawHeader else {
            throw ConvertError(.emptyInput, file: parser.fileName, "the input is empty; expected at least the header line")
        }
        rows = sink.rowCount
    }

    func close() {
        chunkWriter.stop()
        writer.abort()
    }
}
