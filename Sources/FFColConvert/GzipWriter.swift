import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error of `GzipWriter`: which file (or sink), what operation failed, and why.
public struct GzipWriterError: Error, CustomStringConvertible, Sendable {
    /// The destination path, or `<sink>` for an in-memory writer.
    public let path: String
    /// The operation that failed, e.g. `open of temporary x.csv.gz.tmp-123`, `write to ...`,
    /// `fsync of ...`, `rename from ...`, `deflate`.
    public let operation: String
    /// The reason: the errno text or the zlib message.
    public let reason: String

    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "\(path): \(operation) failed: \(reason)" }

    /// An error whose reason is the text of `code` (by default the current errno).
    static func posix(_ path: String, _ operation: String, _ code: Int32 = currentErrno()) -> GzipWriterError {
        GzipWriterError(path: path, operation: operation, reason: String(cString: strerror(code)))
    }
}

// Top-level wrappers: inside types, `errno`, `write` and `close` are shadowed by members.
@inline(__always) private func currentErrno() -> Int32 { errno }
@inline(__always) private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
@inline(__always) private func posixClose(_ fd: Int32) -> Int32 { close(fd) }

/// A file written atomically: bytes go to `path.tmp-<pid>`, which is fsynced and renamed
/// over `path` by `commit()`. `discard()` (or deinit without commit) removes the temporary.
final class AtomicFile {
    let path: String
    let tempPath: String
    private var fd: Int32

    init(path: String) throws {
        self.path = path
        self.tempPath = "\(path).tmp-\(getpid())"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw GzipWriterError.posix(path, "open of temporary \(tempPath)") }
    }

    /// Writes all of `bytes`, retrying on EINTR and short writes.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else {
            throw GzipWriterError(path: path, operation: "write", reason: "file already closed")
        }
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = posixWrite(fd, p, left)
            if n < 0 {
                if currentErrno() == EINTR { continue }
                throw GzipWriterError.posix(path, "write to \(tempPath)")
            }
            p += n
            left -= n
        }
    }

    /// fsync, close and rename the temporary over `path`. On failure the temporary is removed.
    func commit() throws {
        guard fd >= 0 else {
            throw GzipWriterError(path: path, operation: "close", reason: "file already closed")
        }
        let f = fd
        fd = -1
        if fsync(f) != 0 {
            let e = currentErrno()
            _ = posixClose(f)
            unlink(tempPath)
            throw GzipWriterError.posix(path, "fsync of \(tempPath)", e)
        }
        if posixClose(f) != 0 {
            let e = currentErrno()
            unlink(tempPath)
            throw GzipWriterError.posix(path, "close of \(tempPath)", e)
        }
        if rename(tempPath, path) != 0 {
            let e = currentErrno()
            unlink(tempPath)
            throw GzipWriterError.posix(path, "rename from \(tempPath)", e)
        }
    }

    /// Closes and removes the temporary (no-op after `commit()`).
    func discard() {
        guard fd >= 0 else { return }
        _ = posixClose(fd)
        fd = -1
        unlink(tempPath)
    }

    deinit { discard() }
}

/// Writes a gzip stream (RFC 1952) with zlib's deflate.
///
/// To a path, the output is atomic: it is written to `path.tmp-<pid>`, fsynced and renamed over
/// `path` by `close()`; if anything fails, or the writer is released without `close()`, the
/// temporary is removed and `path` is left untouched. With a sink, compressed blocks are passed
/// to the closure as they are produced (the buffer is only valid during the call).
///
/// Not thread-safe: use from one thread at a time.
public final class GzipWriter {
    /// The destination for messages: the path, or `<sink>`.
    public let name: String
    /// Uncompressed bytes accepted so far.
    public private(set) var bytesIn: Int64 = 0
    /// Compressed bytes produced so far (the file size once closed).
    public private(set) var bytesOut: Int64 = 0

    private let stream: UnsafeMutablePointer<z_stream>
    private let out: UnsafeMutableRawPointer
    private let outCapacity = 1 << 18
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private let file: AtomicFile?
    private var streamOpen = false
    private var finished = false
    private var failed = false

    /// Writes a gzip file at `path` (atomically, see the type's documentation).
    /// `level` is the zlib level: 0 (store) ... 9 (best), or -1 for zlib's default (6).
    public convenience init(path: String, level: Int32 = 6) throws {
        try GzipWriter.checkLevel(level, path)
        let file = try AtomicFile(path: path)
        try self.init(name: path, level: level, file: file, sink: { try file.write($0) })
    }

    /// Compresses into `sink`, which receives each compressed block in order; e.g. to gzip into
    /// memory: `var out: [UInt8] = []; let gz = try GzipWriter(sink: { out.append(contentsOf: $0) })`.
    public convenience init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void, level: Int32 = 6) throws {
        try self.init(name: "<sink>", level: level, file: nil, sink: sink)
    }

    private init(name: String, level: Int32, file: AtomicFile?,
                 sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        self.name = name
        self.file = file
        self.sink = sink
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        out = .allocate(byteCount: outCapacity, alignment: 16)
        try GzipWriter.checkLevel(level, name)
        // windowBits 15 + 16: a 32 KiB window with a gzip header and CRC-32 trailer.
        let rc = ffcol_deflateInit2(stream, level, 15 + 16)
        guard rc == Z_OK else {
            throw GzipWriterError(path: name, operation: "deflateInit2", reason: GzipWriter.zlibMessage(rc, stream))
        }
        streamOpen = true
        stream.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(outCapacity)
    }

    deinit {
        if streamOpen { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        out.deallocate()
        file?.discard()
    }

    /// Compresses `bytes`. Throws if the writer is closed, failed earlier, or the sink fails.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try checkUsable("write")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            // avail_in is 32-bit: feed at most 1 GiB at a time.
            let n = min(bytes.count - offset, 1 << 30)
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(n)
            repeat {
                try run(Z_NO_FLUSH)
            } while stream.pointee.avail_in > 0
            offset += n
        }
        bytesIn += Int64(bytes.count)
    }

    /// Finishes the gzip stream and, for a path, fsyncs and renames the file into place.
    /// After `close()` the writer cannot be used again.
    public func close() throws {
        try checkUsable("close")
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        var rc: Int32
        repeat {
            rc = try run(Z_FINISH)
        } while rc != Z_STREAM_END
        try drain()
        finished = true
        deflateEnd(stream)
        streamOpen = false
        do {
            try file?.commit()
        } catch {
            failed = true
            throw error
        }
    }

    // MARK: - Internals

    private func checkUsable(_ op: String) throws {
        if finished { throw GzipWriterError(path: name, operation: op, reason: "writer already closed") }
        if failed { throw GzipWriterError(path: name, operation: op, reason: "writer failed earlier") }
    }

    /// One deflate call; passes the output buffer to the sink whenever it is full.
    @discardableResult
    private func run(_ flush: Int32) throws -> Int32 {
        let rc = deflate(stream, flush)
        if rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR {
            failed = true
            file?.discard()
            throw GzipWriterError(path: name, operation: "deflate", reason: GzipWriter.zlibMessage(rc, stream))
        }
        if stream.pointee.avail_out == 0 { try drain() }
        return rc
    }

    /// Hands the produced bytes to the sink and resets the output buffer.
    private func drain() throws {
        let produced = outCapacity - Int(stream.pointee.avail_out)
        if produced > 0 {
            do {
                try sink(UnsafeRawBufferPointer(start: out, count: produced))
            } catch {
                failed = true
                file?.discard()
                throw error
            }
            bytesOut += Int64(produced)
        }
        stream.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(outCapacity)
    }

    private static func checkLevel(_ level: Int32, _ name: String) throws {
        guard level == Z_DEFAULT_COMPRESSION || (0...9).contains(level) else {
            throw GzipWriterError(path: name, operation: "deflateInit2",
                                  reason: "invalid compression level \(level) (expected 0...9, or -1 for the default)")
        }
    }

    static func zlibMessage(_ rc: Int32, _ s: UnsafeMutablePointer<z_stream>) -> String {
        if let m = s.pointee.msg { return "\(String(cString: m)) (zlib error \(rc))" }
        switch rc {
        case Z_MEM_ERROR: return "out of memory (zlib error \(rc))"
        case Z_STREAM_ERROR: return "invalid stream state or parameter (zlib error \(rc))"
        case Z_VERSION_ERROR: return "zlib version mismatch (zlib error \(rc))"
        default: return "zlib error \(rc)"
        }
    }
}
