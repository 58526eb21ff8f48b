#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CFFColSys
import FFCol

// MARK: - Stage 4: the .ffc writer (one pass, footer last, atomic publish)

/// Writes one `.ffc` file. Data goes to a hidden temporary file next to the destination
/// (`.YYYY-MM-DD.ffc.tmp-PID-N`); `finish` appends the footer, fsyncs, renames it into place
/// and fsyncs the directory. `abort` (or an error) removes the temporary file: a file at the
/// destination path is always complete.
public final class FFCWriter {
    public let path: String
    public let tempPath: String
    private var fd: Int32
    private var offset: UInt64 = 0
    private var out: [UInt8] = []
    private let encoder: ChunkEncoder
    public private(set) var chunks: [ChunkMeta] = []
    public private(set) var rows: UInt64 = 0
    public private(set) var tickers: UInt64 = 0
    private var done = false

    /// `pageRows`: rows per page (format version 3; `ConvertOptions.defaultPageRows(for:)`
    /// gives the dataset's), or nil for format version 1.
    public init(path: String, zstdLevel: Int32 = ConvertOptions.defaultZstdLevel, pageRows: Int?) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        try FFCWriter.makeDirectories(dir)
        tempPath = "\(dir)/.\(base).tmp-\(getpid())-\(TemporaryFiles.nextSerial())-\(UInt32.random(in: 0...UInt32.max))"
        fd = TestFaults.shared.failCreate ?? open(tempPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let e = fd == -1 ? errno : -fd
            throw ConvertError(.io, file: tempPath, "cannot create the output file: \(errnoString(e))\(ioAdvice(e))")
        }
        TemporaryFiles.register(tempPath)
        encoder = ChunkEncoder(level: zstdLevel, pageRows: pageRows)
        out.reserveCapacity(4 << 20)
        var w = ByteWriter()
        w.bytes.append(contentsOf: FFCFormat.magic)
        w.u16(encoder.formatMajor); w.u16(FFCFormat.versionMinor); w.u32(0)
        out.append(contentsOf: w.bytes)
        try flushOut()
    }

    deinit { if !done { abort() } }

    /// `mkdir -p`.
    public static func makeDirectories(_ dir: String) throws {
        var cur = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            cur += "/" + part
            if mkdir(cur, 0o755) != 0, errno != EEXIST {
                let e = errno
                throw ConvertError(.io, file: cur, "cannot create directory: \(errnoString(e))\(ioAdvice(e))")
            }
        }
    }

    private func flushOut() throws {
        var done = 0
        try out.withUnsafeBytes { raw in
            while done < raw.count {
                let n = TestFaults.shared.failWrite(at: offset + UInt64(done)) ?? write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errno
                    throw ConvertError(.io, file: path, "cannot write (temporary file \(tempPath), removed): \(errnoString(e))\(ioAdvice(e))")
                }
                done += n
            }
        }
        offset += UInt64(out.count)
        out.removeAll(keepingCapacity: true)
    }

    /// Writes one chunk: rows of whole tickers, in (ticker, window_start) order.
    public func writeChunk(_ cols: ColumnsView, names: UnsafeRawBufferPointer, nameEnds: UnsafeBufferPointer<UInt32>,
                           rowEnds: UnsafeBufferPointer<UInt32>) throws {
        let meta = encoder.encode(cols, names: names, nameEnds: nameEnds, rowEnds: rowEnds, firstRow: rows,
                                  firstTickerOrdinal: tickers, fileOffset: offset, out: &out)
        chunks.append(meta)
        rows += UInt64(meta.rowCount)
        tickers += UInt64(meta.tickerCount)
        try flushOut()
        // Write-behind: without it, finish's fsync writes the whole file while nothing else runs
        // (14-19 ms for the 20 MB of an options minute day, ~1 ms with it).
        if offset - writtenBack >= FFCWriter.writeBehindBytes {
            _ = ffcol_start_writeback(fd, Int64(writtenBack), Int64(offset - writtenBack))
            writtenBack = offset
        }
    }

    /// Every this many bytes written, the kernel is asked to start writing them to the device.
    /// (The options day's final `fsync`, `strace -T`: 3.0 ms with 4 MiB, 0.9-1.1 ms with 1 MiB.)
    static let writeBehindBytes: UInt64 = 1 << 20
    /// Where the last write-behind ended.
    private var writtenBack: UInt64 = 0

    /// Appends the block table (version 3), footer and trailer, fsyncs, renames into place.
    /// Returns the file size.
    @discardableResult
    public func finish(dataset: Dataset, date: TradingDate, provenance: [(String, String)]) throws -> UInt64 {
        let f = Footer(dataset: dataset.rawValue, dateDays: Int32(date.daysSinceEpoch), rowCount: rows,
                       tickerCount: tickers, provenance: provenance, chunks: chunks)
        let major = encoder.formatMajor
        // Version 3: the block table, then the footer (which holds each entry's checksum).
        if major >= 3 { out.append(contentsOf: f.blockTable()) }
        let footer = f.encode(major: major)
        out.append(contentsOf: footer)
        var w = ByteWriter()
        w.u64(UInt64(footer.count))
        w.u64(footer.withUnsafeBytes { XXH64.hash($0) })
        w.bytes.append(contentsOf: FFCFormat.endMagic)
        out.append(contentsOf: w.bytes)
        try flushOut()
        guard fsync(fd) == 0 else {
            let e = errno
            throw ConvertError(.io, file: path, "fsync of the temporary file \(tempPath) failed: \(errnoString(e))\(ioAdvice(e))")
        }
        close(fd); fd = -1
        guard rename(tempPath, path) == 0 else {
            throw ConvertError(.io, file: path, "cannot rename the finished file into place: \(String(cString: strerror(errno)))")
        }
        TemporaryFiles.unregister(tempPath)
        done = true
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dfd = open(dir, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
        return offset
    }

    /// Removes the temporary file. Safe to call more than once.
    public func abort() {
        if fd >= 0 { close(fd); fd = -1 }
        if !done { unlink(tempPath); TemporaryFiles.unregister(tempPath) }
        done = true
    }

    // MARK: Read-back (for input found unsorted after chunks were written)

    /// Decodes every chunk written so far and forgets them; the file is truncated to its header.
    func takeBack(into sink: inout RowSink) throws {
        let dctx = ZstdDecompressor()
        func block(_ b: BlockRef) throws -> [UInt8] {
            var stored = [UInt8](repeating: 0, count: Int(b.storedSize))
            let n = stored.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(b.offset)) }
            guard n == Int(b.storedSize) else { throw ConvertError(.io, file: tempPath, "cannot read back a written chunk") }
            if b.compression == 0 { return stored }
            var raw = [UInt8](repeating: 0, count: Int(b.rawSize))
            let ok = stored.withUnsafeBytes { s in raw.withUnsafeMutableBytes { dctx.decompress(s, into: $0) } }
            guard ok else { throw ConvertError(.io, file: tempPath, "cannot decode a written chunk") }
            return raw
        }
        for c in chunks {
            let withRaw: (BlockRef, String, (UnsafeRawBufferPointer) throws -> Void) throws -> Void = { b, _, body in
                try block(b).withUnsafeBytes { try body($0) }
            }
            let fail: (String, String) -> Error = { what, m in ConvertError(.io, file: self.tempPath, "read-back of \(what): \(m)") }
            let dir = try ChunkDecoder(meta: c, withRaw: withRaw, fail: fail).tickers()
            var dec = ChunkDecoder(meta: c, pages: dir.pages, withRaw: withRaw, fail: fail)
            var f: [[Double]] = []
            for col in Column.allCases where col.isFloat { f.append(try dec.doubles(col)) }
            let iv = [try dec.int64s(.windowStart), try dec.int64s(.transactions)]
            for t in 0..<dir.count {
                let nm = Array(dir.name(t))
                try nm.withUnsafeBytes { nb in
                    for j in dir.rows(t) {
                        try sink.appendUnchecked(ticker: nb, volume: ParsedFloat(raw: f[0][j]), open: ParsedFloat(raw: f[1][j]),
                                                 close: ParsedFloat(raw: f[2][j]), high: ParsedFloat(raw: f[3][j]),
                                                 low: ParsedFloat(raw: f[4][j]), windowStart: iv[0][j], transactions: iv[1][j])
                    }
                }
            }
        }
        chunks.removeAll(); rows = 0; tickers = 0
        guard ftruncate(fd, off_t(FFCFormat.headerSize)) == 0, lseek(fd, off_t(FFCFormat.headerSize), SEEK_SET) >= 0 else {
            throw ConvertError(.io, file: tempPath, "cannot truncate: \(String(cString: strerror(errno)))")
        }
        offset = UInt64(FFCFormat.headerSize)
        writtenBack = min(writtenBack, offset)
    }
}

// MARK: - Temporary files in progress

/// The temporary files being written right now, so that an interrupted process (SIGINT,
/// SIGTERM) can remove them before it exits. See `TemporaryFiles.removeAllOnSignals()`.
public enum TemporaryFiles {
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var mutex = pthread_mutex_t()
    nonisolated(unsafe) private static var ready = false
    nonisolated(unsafe) private static var serial = 0
    private static let setup: Void = { pthread_mutex_init(&mutex, nil); ready = true }()

    /// 1, 2, 3, ...: unique in this process, for temporary file names. Writers are created on
    /// several threads at once (`convert --jobs`, `ingest`), so the count is taken under the lock.
    static func nextSerial() -> Int {
        _ = setup
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        serial += 1
        return serial
    }

    public static func register(_ p: String) {
        _ = setup
        pthread_mutex_lock(&mutex)
        if exiting {
            // Created after the signal: remove it, and let this thread go no further.
            unlink(p)
            pthread_mutex_unlock(&mutex)
            while true { sleep(60) }
        }
        paths.insert(p)
        pthread_mutex_unlock(&mutex)
    }
    public static func unregister(_ p: String) {
        _ = setup
        pthread_mutex_lock(&mutex); paths.remove(p); pthread_mutex_unlock(&mutex)
    }
    /// Removes every registered file; returns how many there were.
    @discardableResult
    public static func removeAll() -> Int {
        _ = setup
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        for p in paths { unlink(p) }
        let n = paths.count
        paths.removeAll()
        return n
    }

    nonisolated(unsafe) private static var hooks: [Int: @Sendable (Int32) -> Void] = [:]
    /// Set when SIGINT/SIGTERM arrived: from then on no thread starts a new temporary file.
    nonisolated(unsafe) private static var exiting = false
    nonisolated(unsafe) private static var nextHook = 0

    /// Registers `body` to run (with the signal number) when SIGINT or SIGTERM stops the
    /// process, after the temporary files are removed: e.g. to record a date as interrupted.
    /// Returns a token for `removeInterruptHook`.
    public static func addInterruptHook(_ body: @escaping @Sendable (Int32) -> Void) -> Int {
        _ = setup
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        nextHook += 1
        hooks[nextHook] = body
        return nextHook
    }
    public static func removeInterruptHook(_ token: Int) {
        _ = setup
        pthread_mutex_lock(&mutex); hooks[token] = nil; pthread_mutex_unlock(&mutex)
    }
    /// Runs the hooks registered now, in order, once.
    private static func runInterruptHooks(_ sig: Int32) {
        pthread_mutex_lock(&mutex)
        let now = hooks.sorted(by: { $0.key < $1.key }).map(\.value)
        hooks.removeAll()
        pthread_mutex_unlock(&mutex)
        for h in now { h(sig) }
        pthread_mutex_lock(&mutex)
        exiting = true
        for p in paths { unlink(p) }  // those of the hooks' own writes, and any started meanwhile
        paths.removeAll()
        pthread_mutex_unlock(&mutex)
    }

    /// Blocks SIGINT and SIGTERM in this thread (and so in every thread started after it) and
    /// starts a thread that waits for them: it removes the registered temporary files, prints
    /// `message` to stderr and exits with 128 + the signal number (130, 143).
    /// Call once, early, from the main thread, before starting other threads.
    public static func removeAllOnSignals(message: String = "interrupted: temporary files removed, nothing was left half-written") {
        _ = setup
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let msg = message
        _ = Worker {
            var s = sigset_t()
            sigemptyset(&s)
            sigaddset(&s, SIGINT)
            sigaddset(&s, SIGTERM)
            var sig: Int32 = 0
            while sigwait(&s, &sig) != 0 {}
            removeAll()
            runInterruptHooks(sig)
            fputs("ffcol: \(msg)\n", stderr)
            _exit(128 + sig)
        }
    }
}

// MARK: - Injected faults (tests only)

/// Faults injected through the environment, for tests of resource errors on machines where a
/// full or read-only file system cannot be mounted: `FFCOL_TEST_FAULT=enospc-after:BYTES`
/// (a `.ffc` write past BYTES fails with ENOSPC) or `FFCOL_TEST_FAULT=erofs` (creating a
/// `.ffc` fails with EROFS). Unset, nothing changes.
struct TestFaults: Sendable {
    var enospcAfter: UInt64?
    var erofs = false
    static let shared: TestFaults = {
        var f = TestFaults()
        guard let p = getenv("FFCOL_TEST_FAULT") else { return f }
        let v = String(cString: p)
        if v.hasPrefix("enospc-after:") { f.enospcAfter = UInt64(v.dropFirst(13)) }
        if v == "erofs" { f.erofs = true }
        return f
    }()
    /// -EROFS instead of opening, when injected.
    var failCreate: Int32? { erofs ? -EROFS : nil }
    /// -1 with errno ENOSPC instead of writing, when the injected limit is reached.
    func failWrite(at offset: UInt64) -> Int? {
        guard let limit = enospcAfter, offset >= limit else { return nil }
        errno = ENOSPC
        return -1
    }
}
