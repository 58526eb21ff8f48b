#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - A memory-mapped .ffc file

/// Decoded columns of one chunk. Immutable once made: asking for more columns makes a new
/// `DecodedChunk` that shares the columns already decoded, so readers on other threads keep a
/// consistent view.
public final class DecodedChunk: @unchecked Sendable {
    public let index: Int
    public let rowCount: Int
    public let tickers: TickerDirectory
    let floats: [[Double]?]
    let ints: [[Int64]?]

    init(index: Int, rowCount: Int, tickers: TickerDirectory, floats: [[Double]?], ints: [[Int64]?]) {
        self.index = index; self.rowCount = rowCount; self.tickers = tickers
        self.floats = floats; self.ints = ints
    }

    /// The decoded values of a float column (volume, open, close, high, low), if loaded.
    public func doubles(_ c: Column) -> [Double]? { c.isFloat ? floats[c.rawValue] : nil }
    /// The decoded values of an integer column (window_start, transactions), if loaded.
    public func int64s(_ c: Column) -> [Int64]? { c.isFloat ? nil : ints[c.rawValue - 5] }
    /// True when column `c` is loaded.
    public func has(_ c: Column) -> Bool { c.isFloat ? floats[c.rawValue] != nil : ints[c.rawValue - 5] != nil }
}

/// An open `.ffc` file: memory-mapped, or read with `pread` (see `Access`). The footer is
/// validated on open (footer checksum, counts, ordering; in versions 1 and 2 also the bounds
/// of every block); each block's (versions 2 and 3: each page's) checksum is checked when it
/// is read. Version 3 keeps each chunk's block entry in a table of its own, with its checksum
/// in the footer: the entry is checked (checksum, then every field and bound) each time it is
/// used. Reads versions 1 to 3 (see `formatVersion`). Thread-safe: decoded chunks are cached
/// under a lock.
public final class FFCFile: @unchecked Sendable {
    /// How a file's bytes are reached.
    public enum Access: Sendable {
        /// The whole file is mapped: no copies, the right choice for reading many chunks.
        case mapped
        /// The footer is read into memory on open, and each block (and in version 3 each
        /// chunk's block entry) when it is needed, into a buffer the decoding thread reuses:
        /// no page faults and no `munmap` (whose TLB flushes reach every core), the right
        /// choice for a few chunks of many files, such as one ticker across dates. The file
        /// stays open (one descriptor) until released.
        case read
    }

    public let path: String
    /// The footer, checked on open; entries are read from its bytes (mapped or copied) when needed.
    let index: FooterIndex
    public let date: TradingDate
    public let dataset: String
    /// The file's format version (major, minor): 1 (whole columns per chunk), 2 (pages) or 3
    /// (pages, and a block table apart from the footer).
    public let formatVersion: (major: UInt16, minor: UInt16)
    /// The mapping (`.mapped`), or nil.
    private let base: UnsafeRawPointer?
    /// The open descriptor (`.read`), or -1.
    private let fd: Int32
    /// The footer's bytes (`.read`), owned; `index` points into them.
    private let footerCopy: UnsafeMutableRawBufferPointer?
    private let size: Int
    private let lock = Lock()
    private var cache: [Int: DecodedChunk] = [:]
    private var cacheOrder: [Int] = []
    private var decodedFooter: Footer?
    /// How many decoded chunks to keep (least recently decoded are dropped first).
    public var cacheLimit = 8

    public convenience init(path: String, access: Access = .mapped) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FFCError.io(path: path, message: "cannot open: \(errnoText())") }
        try self.init(path: path, access: access, descriptor: fd)
    }

    /// The file at `path`, or nil if there is none (one `open`, no separate existence check).
    static func openIfPresent(path: String, access: Access) throws -> FFCFile? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw FFCError.io(path: path, message: "cannot open: \(errnoText())")
        }
        return try FFCFile(path: path, access: access, descriptor: fd)
    }

    /// Takes `fd` (open for reading): closed on failure, and once opened unless `.read` keeps it.
    private init(path: String, access: Access, descriptor fd: Int32) throws {
        self.path = path
        var keepOpen = false
        defer { if !keepOpen { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FFCError.io(path: path, message: "cannot stat: \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FFCError.io(path: path, message: "not a regular file") }
        let size = Int(st.st_size)
        guard size >= FFCFormat.headerSize + FFCFormat.trailerSize else {
            throw FFCError.corrupt(path, "file is \(size) bytes, shorter than a header and trailer (truncated?)")
        }
        var mapping: UnsafeRawPointer?
        if access == .mapped {
            guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
                throw FFCError.io(path: path, message: "cannot mmap: \(errnoText())")
            }
            mapping = UnsafeRawPointer(p)
        }
        var copy: UnsafeMutableRawBufferPointer?
        do {
            let h = FFCFormat.headerSize, t = size - FFCFormat.trailerSize
            // The header, then the trailer (footer length, footer checksum, end marker).
            let (flen, fsum, major, minor) = try withUnsafeTemporaryAllocation(byteCount: h + FFCFormat.trailerSize, alignment: 8) { e -> (UInt64, UInt64, UInt16, UInt16) in
                let head = UnsafeMutableRawBufferPointer(rebasing: e[0..<h])
                let tail = UnsafeMutableRawBufferPointer(rebasing: e[h...])
                if let m = mapping {
                    // Safe: size >= headerSize + trailerSize (checked above).
                    head.copyMemory(from: UnsafeRawBufferPointer(start: m, count: h))
                    tail.copyMemory(from: UnsafeRawBufferPointer(start: m + t, count: FFCFormat.trailerSize))
                } else {
                    try FFCFile.readFully(fd, into: head, at: 0, path: path)
                    try FFCFile.readFully(fd, into: tail, at: t, path: path)
                }
                guard head.prefix(8).elementsEqual(FFCFormat.magic) else { throw FFCError.notFFC(path: path) }
                let major = UInt16(littleEndian: head.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
                let minor = UInt16(littleEndian: head.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
                guard FFCFormat.readableMajors.contains(major) else {
                    throw FFCError.unsupportedVersion(path: path, major: Int(major), minor: Int(minor))
                }
                let flags = UInt32(littleEndian: head.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
                guard flags == 0 else { throw FFCError.corrupt(path, "header flags are \(flags), must be 0") }
                guard tail.suffix(8).elementsEqual(FFCFormat.endMagic) else {
                    throw FFCError.corrupt(path, "no end marker: the file is truncated or was not completely written")
                }
                return (UInt64(littleEndian: tail.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                        UInt64(littleEndian: tail.loadUnaligned(fromByteOffset: 8, as: UInt64.self)), major, minor)
            }
            guard flen <= UInt64(t - h) else {
                throw FFCError.corrupt(path, "footer length \(flen) exceeds the file")
            }
            let fstart = t - Int(flen)
            let fbuf: UnsafeRawBufferPointer
            if let m = mapping {
                // Safe: fstart >= headerSize and fstart + flen == t <= size, checked above.
                fbuf = UnsafeRawBufferPointer(start: m + fstart, count: Int(flen))
            } else {
                let c = UnsafeMutableRawBufferPointer.allocate(byteCount: max(Int(flen), 1), alignment: 16)
                copy = c
                let part = UnsafeMutableRawBufferPointer(rebasing: c[0..<Int(flen)])
                try FFCFile.readFully(fd, into: part, at: fstart, path: path)
                fbuf = UnsafeRawBufferPointer(part)
            }
            guard XXH64.hash(fbuf) == fsum else {
                throw FFCError.corrupt(path, "footer checksum mismatch (the footer is damaged)")
            }
            let index = try FooterIndex(fbuf, path: path, fileDataEnd: UInt64(fstart), major: major)
            guard let d = Optional(TradingDate(daysSinceEpoch: Int(index.dateDays))),
                  (1970...2200).contains(d.year) else {
                throw FFCError.corrupt(path, "date out of range")
            }
            self.index = index
            formatVersion = (major, minor)
            date = d
            dataset = index.dataset
        } catch {
            if let m = mapping { munmap(UnsafeMutableRawPointer(mutating: m), size) }
            copy?.deallocate()
            throw error
        }
        base = mapping
        footerCopy = copy
        self.fd = access == .read ? fd : -1
        self.size = size
        keepOpen = access == .read
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
        footerCopy?.deallocate()
        if fd >= 0 { close(fd) }
    }

    /// Reads `buf.count` bytes at `offset`; a short read is a file that shrank since it was
    /// opened (truncated while being read).
    static func readFully(_ fd: Int32, into buf: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws {
        var done = 0
        while done < buf.count {
            // Safe: done < buf.count, so the pointer and the remaining count lie in buf.
            let n = pread(fd, buf.baseAddress! + done, buf.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FFCError.io(path: path, message: "cannot read: \(errnoText())")
            }
            if n == 0 {
                throw FFCError.corrupt(path, "file ends at byte \(offset + done), expected \(buf.count - done) more (truncated while open?)")
            }
            done += n
        }
    }

    // MARK: Metadata

    /// The whole footer, decoded on first use (the reader itself does not need it). Throws
    /// only for a version 3 file whose block table cannot be read or is damaged.
    public var footer: Footer {
        get throws {
            if let f = lock.withLock({ decodedFooter }) { return f }
            let f = try index.footer { try meta($0) }
            lock.withLock { decodedFooter = f }
            return f
        }
    }
    /// Chunk `i`'s entry: its record in the footer and its block references. Throws only for
    /// a version 3 file whose entry cannot be read or is damaged.
    public func chunkMeta(_ i: Int) throws -> ChunkMeta {
        precondition(i >= 0 && i < chunkCount, "chunk index \(i) out of range 0..<\(chunkCount)")
        return try meta(i)
    }

    /// Chunk `i`'s entry. Version 3: its block entry is checked (checksum, then every field)
    /// each time, in the mapping or read from the file (336 bytes: cheaper than keeping state).
    func meta(_ i: Int) throws -> ChunkMeta {
        if index.major < 3 { return index.meta(i, blocks: index.blocksInFooter(i)) }
        let at = Int(index.tableOffset) + i * FFCFormat.blockEntrySize
        if let base {
            // Safe: the table lies inside [headerSize, start of footer) (checked by FooterIndex).
            return try checkedMeta(i, UnsafeRawBufferPointer(start: base + at, count: FFCFormat.blockEntrySize))
        }
        return try withUnsafeTemporaryAllocation(byteCount: FFCFormat.blockEntrySize, alignment: 8) { e in
            try FFCFile.readFully(fd, into: e, at: at, path: path)
            return try checkedMeta(i, UnsafeRawBufferPointer(e))
        }
    }

    /// Chunk `i`'s entry from its version 3 block entry `e`, once `e` is checked: its
    /// checksum, then its fields.
    private func checkedMeta(_ i: Int, _ e: UnsafeRawBufferPointer) throws -> ChunkMeta {
        guard XXH64.hash(e) == index.entryChecksum(i) else {
            throw FFCError.corrupt(path, "chunk \(i): block entry checksum mismatch (the block table is damaged)")
        }
        try FooterIndex.checkBlockEntry(e, chunk: i, major: index.major, dataEnd: index.dataEnd, "\(path) (block table)")
        return index.meta(i, blocks: e)
    }
    public var rowCount: Int { Int(index.rowCount) }
    public var tickerCount: Int { Int(index.tickerCount) }
    public var chunkCount: Int { index.chunkCount }
    public var fileSize: Int { size }
    public func provenance(_ key: String) -> String? { index.provenance().first { $0.0 == key }?.1 }

    // MARK: Blocks

    /// Hands the stored bytes of a block to `body`: in the mapping, or read into `dctx`'s
    /// input buffer. `b` comes from a checked entry (see `meta`), so its bounds are valid.
    func withStored<T>(_ b: BlockRef, dctx: ZstdDecompressor, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        if let base {
            // Safe: the entry's check (FooterIndex or checkedMeta) made offset + storedSize <=
            // the end of the data section < size.
            return try body(UnsafeRawBufferPointer(start: base + Int(b.offset), count: Int(b.storedSize)))
        }
        return try dctx.withInput(Int(b.storedSize)) { buf in
            try FFCFile.readFully(fd, into: buf, at: Int(b.offset), path: path)
            return try body(UnsafeRawBufferPointer(buf))
        }
    }

    /// A copy of a block's stored bytes (tests and tools).
    func stored(_ b: BlockRef) throws -> [UInt8] {
        let dctx = DecompressorPool.take()
        defer { DecompressorPool.give(dctx) }
        return try withStored(b, dctx: dctx) { Array($0) }
    }

    /// Checks a block's checksum and hands its decoded bytes to `body`.
    func withBlock<T>(_ b: BlockRef, chunk: Int, what: String, dctx: ZstdDecompressor,
                      _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        try withStored(b, dctx: dctx) { s in try decodeBlock(s, b, chunk: chunk, what: what, dctx: dctx, body) }
    }

    private func decodeBlock<T>(_ s: UnsafeRawBufferPointer, _ b: BlockRef, chunk: Int, what: String, dctx: ZstdDecompressor,
                                _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard XXH64.hash(s) == b.checksum else { throw FFCError.checksum(path: path, chunk: chunk, column: what) }
        if b.compression == 0 { return try body(s) }
        // The footer's raw size is checked against the frame (which always records it) before
        // allocating: a damaged footer must not make the reader allocate gigabytes.
        guard ZstdDecompressor.frameContentSize(s) == UInt64(b.rawSize) else {
            throw FFCError.corrupt(path, "chunk \(chunk), \(what): the footer says \(b.rawSize) decoded bytes, the zstd frame header disagrees")
        }
        return try dctx.withScratch(Int(b.rawSize)) { raw in
            guard dctx.decompress(s, into: raw) else {
                throw FFCError.corrupt(path, "chunk \(chunk), \(what): zstd frame does not decode to \(b.rawSize) bytes")
            }
            return try body(UnsafeRawBufferPointer(raw))
        }
    }

    // MARK: Chunks

    /// The decoded chunk `i` with at least `columns` loaded. Safe to call from several threads
    /// at once: decoding happens outside the lock, each thread with its own zstd context.
    public func chunk(_ i: Int, columns: [Column] = Column.allCases) throws -> DecodedChunk {
        precondition(i >= 0 && i < chunkCount, "chunk index \(i) out of range 0..<\(chunkCount)")
        let cached: DecodedChunk? = lock.withLock { cache[i] }
        if let c = cached, columns.allSatisfy({ c.has($0) }) { return c }
        let dctx = DecompressorPool.take()
        defer { DecompressorPool.give(dctx) }
        let meta = try self.meta(i)
        let stage = Stage()
        let withRaw: (BlockRef, String, (UnsafeRawBufferPointer) throws -> Void) throws -> Void = { b, what, body in
            if let s = stage.bytes(of: b) { return try self.decodeBlock(s, b, chunk: i, what: what, dctx: dctx, body) }
            try self.withBlock(b, chunk: i, what: what, dctx: dctx) { try body($0) }
        }
        let fail: (String, String) -> Error = { what, m in FFCError.corrupt(self.path, "chunk \(i), \(what): \(m)") }
        let dir = try cached?.tickers ?? ChunkDecoder(meta: meta, withRaw: withRaw, fail: fail).tickers()
        var dec = ChunkDecoder(meta: meta, pages: dir.pages, withRaw: withRaw, fail: fail)
        var floats = cached?.floats ?? Array(repeating: nil, count: 5)
        var ints = cached?.ints ?? Array(repeating: nil, count: 2)
        for c in columns {
            if c.isFloat {
                if floats[c.rawValue] == nil {
                    floats[c.rawValue] = try staged(meta.columns[c.rawValue].block, stage, dctx) { try dec.doubles(c) }
                }
            } else {
                if ints[c.rawValue - 5] == nil {
                    ints[c.rawValue - 5] = try staged(meta.columns[c.rawValue].block, stage, dctx) { try dec.int64s(c) }
                }
            }
        }
        let dc = DecodedChunk(index: i, rowCount: Int(meta.rowCount), tickers: dir, floats: floats, ints: ints)
        lock.withLock {
            if cache[i] == nil { cacheOrder.append(i) }
            cache[i] = dc
            while cacheOrder.count > max(0, cacheLimit) { cache[cacheOrder.removeFirst()] = nil }
        }
        return dc
    }

    /// The stored bytes of one column's pages, read at once (see `staged`).
    private final class Stage {
        var buf: UnsafeRawBufferPointer?
        var at: UInt64 = 0
        /// `b`'s stored bytes if they lie inside the staged range.
        func bytes(of b: BlockRef) -> UnsafeRawBufferPointer? {
            guard let buf, b.offset >= at else { return nil }
            let from = b.offset - at
            guard from <= UInt64(buf.count), UInt64(b.storedSize) <= UInt64(buf.count) - from else { return nil }
            // Safe: [from, from + storedSize) lies inside buf (checked above).
            return UnsafeRawBufferPointer(rebasing: buf[Int(from)..<Int(from) + Int(b.storedSize)])
        }
    }

    /// Runs `body` (which decodes every page of the column `col`) with, for a file opened with
    /// `.read`, the column's pages read in one `pread` into `dctx`'s staging buffer: they lie
    /// together (`col` covers them; the page table is checked against it), and each page is
    /// then checked and decoded from there, not read on its own.
    private func staged<T>(_ col: BlockRef, _ stage: Stage, _ dctx: ZstdDecompressor, _ body: () throws -> T) throws -> T {
        guard fd >= 0, col.compression == BlockRef.paged, col.storedSize > 0 else { return try body() }
        return try dctx.withStage(Int(col.storedSize)) { buf in
            try FFCFile.readFully(fd, into: buf, at: Int(col.offset), path: path)
            stage.buf = UnsafeRawBufferPointer(buf)
            stage.at = col.offset
            defer { stage.buf = nil }
            return try body()
        }
    }

    /// Chunk `i`'s page table (versions 2 and 3), or nil (version 1): read from its ticker directory.
    public func pageTable(_ i: Int) throws -> PageTable? {
        precondition(i >= 0 && i < chunkCount, "chunk index \(i) out of range 0..<\(chunkCount)")
        let meta = try self.meta(i)
        guard meta.isPaged else { return nil }
        if let c = lock.withLock({ cache[i] }) { return c.tickers.pages }
        let dctx = DecompressorPool.take()
        defer { DecompressorPool.give(dctx) }
        return try ChunkDecoder(meta: meta, withRaw: { b, what, body in
            try self.withBlock(b, chunk: i, what: what, dctx: dctx) { try body($0) }
        }, fail: { what, m in FFCError.corrupt(self.path, "chunk \(i), \(what): \(m)") }).tickers().pages
    }

    /// Drops all decoded chunks.
    public func dropCache() { lock.withLock { cache.removeAll(); cacheOrder.removeAll() } }

    // MARK: Lookup

    /// The chunk whose ticker range contains `key`, by binary search of the chunk table (in
    /// the footer's bytes: nothing is decoded or allocated).
    public func chunkIndex<C: Collection>(containing key: C) -> Int? where C.Element == UInt8 {
        let k = Array(key)
        return k.withUnsafeBytes { kb in
            let lo = index.lowerBound(kb)  // first chunk whose last ticker >= key
            guard lo < chunkCount, index.compareTicker(lo, last: false, kb) <= 0 else { return nil }
            return lo
        }
    }

    /// One ticker's rows on this file's date, or nil if the ticker has none.
    public func bars(ticker: String, columns: [Column] = Column.allCases) throws -> Bars? {
        let key = Array(ticker.utf8)
        guard let ci = chunkIndex(containing: key) else { return nil }
        // A chunk already decoded serves directly; otherwise decode just this ticker's rows
        // (which is not cached): the pages that hold them (versions 2 and 3), or whole blocks (1).
        let cached: DecodedChunk? = lock.withLock { cache[ci] }
        if let dc = cached, columns.allSatisfy({ dc.has($0) }) {
            guard let t = dc.tickers.find(key) else { return nil }
            return Bars(ticker: ticker, date: date, chunk: dc, rows: dc.tickers.rows(t))
        }
        let dctx = DecompressorPool.take()
        defer { DecompressorPool.give(dctx) }
        let meta = try self.meta(ci)
        let withRaw: (BlockRef, String, (UnsafeRawBufferPointer) throws -> Void) throws -> Void = { b, what, body in
            try self.withBlock(b, chunk: ci, what: what, dctx: dctx) { try body($0) }
        }
        let fail: (String, String) -> Error = { what, m in FFCError.corrupt(self.path, "chunk \(ci), \(what): \(m)") }
        let dir = try cached?.tickers ?? ChunkDecoder(meta: meta, withRaw: withRaw, fail: fail).tickers()
        guard let t = dir.find(key) else { return nil }
        let range = dir.rows(t)
        var dec = ChunkDecoder(meta: meta, rows: range, pages: dir.pages, withRaw: withRaw, fail: fail)
        var floats: [[Double]?] = Array(repeating: nil, count: 5), ints: [[Int64]?] = Array(repeating: nil, count: 2)
        for c in columns {
            if c.isFloat { floats[c.rawValue] = try dec.doubles(c) } else { ints[c.rawValue - 5] = try dec.int64s(c) }
        }
        let dc = DecodedChunk(index: ci, rowCount: range.count, tickers: TickerDirectory(single: dir.name(t), rows: range.count),
                              floats: floats, ints: ints)
        return Bars(ticker: ticker, date: date, chunk: dc, rows: 0..<range.count)
    }

    /// Every ticker starting with `prefix`, in ascending order, as (chunk, ticker index) pairs.
    public func tickers(withPrefix prefix: String, columns: [Column] = Column.allCases,
                        where filter: ((ArraySlice<UInt8>) -> Bool)? = nil) throws -> [Bars] {
        let key = Array(prefix.utf8)
        var out: [Bars] = []
        let lo = key.withUnsafeBytes { index.lowerBound($0) }
        func firstStartsWithKey(_ ci: Int) -> Bool {
            let n = index.names(ci)
            return n.firstLen >= key.count
                && UnsafeRawBufferPointer(rebasing: index.buf[n.first..<n.first + key.count]).elementsEqual(key)
        }
        var ci = lo
        while ci < chunkCount, ci == lo || firstStartsWithKey(ci) {
            let dc = try chunk(ci, columns: columns)
            var t = dc.tickers.lowerBound(key)
            while t < dc.tickers.count, dc.tickers.name(t).starts(with: key) {
                let name = dc.tickers.name(t)
                if filter?(name) ?? true {
                    out.append(Bars(ticker: String(decoding: name, as: UTF8.self), date: date, chunk: dc, rows: dc.tickers.rows(t)))
                }
                t += 1
            }
            if t < dc.tickers.count { break }  // the prefix range ended inside this chunk
            ci += 1
        }
        return out
    }

    /// All contracts of an options underlying root (`AAPL` gives `O:AAPL...` but not `O:AAPL1...`).
    public func contracts(underlying root: String, columns: [Column] = Column.allCases) throws -> [Bars] {
        let rootBytes = Array(root.utf8)
        return try tickers(withPrefix: "O:" + root, columns: columns) { name in
            guard let occ = OCCSymbol(name) else { return false }
            return occ.root.elementsEqual(rootBytes)
        }
    }

    /// Every ticker of the file, chunk by chunk (each chunk decoded once).
    public func forEachTicker(columns: [Column] = Column.allCases, _ body: (Bars) throws -> Bool) throws {
        for ci in 0..<chunkCount {
            let dc = try chunk(ci, columns: columns)
            for t in 0..<dc.tickers.count {
                if try !body(Bars(ticker: dc.tickers.nameString(t), date: date, chunk: dc, rows: dc.tickers.rows(t))) { return }
            }
        }
    }

    // MARK: Verification

    /// Checks every block checksum, decodes every block and checks row order. Throws the first problem.
    public func verify() throws {
        for i in 0..<chunkCount {
            let dc = try chunk(i)
            guard let ts = dc.int64s(.windowStart) else { continue }
            for t in 0..<dc.tickers.count {
                let r = dc.tickers.rows(t)
                var prev = Int64.min
                for j in r {
                    guard ts[j] >= prev else {
                        throw FFCError.corrupt(path, "chunk \(i): rows of \(dc.tickers.nameString(t)) are not in window_start order")
                    }
                    prev = ts[j]
                }
            }
            lock.withLock { cache[i] = nil; cacheOrder.removeAll { $0 == i } }
        }
    }
}
