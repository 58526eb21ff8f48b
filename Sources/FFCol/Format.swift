// MARK: - The .ffc file format, versions 1 to 3 (see docs/FORMAT.md)

/// Constants and structures of the `.ffc` format. All integers are little-endian.
public enum FFCFormat {
    /// `FFCOL\0\r\n`: readable, cannot be a CSV or gzip start, and CRLF translation damages it.
    public static let magic: [UInt8] = [0x46, 0x46, 0x43, 0x4F, 0x4C, 0x00, 0x0D, 0x0A]
    /// `FFCOLEND`, the last 8 bytes of every complete file.
    public static let endMagic: [UInt8] = Array("FFCOLEND".utf8)
    /// The version written. Version 2 stores each column of a chunk as pages (see `PageTable`);
    /// version 3 also keeps each chunk's block references in a table of fixed-size entries
    /// before the footer, each with its own checksum in the footer, so that a reader of one
    /// chunk reads and checks a footer of names and counts and one entry, not every entry.
    public static let versionMajor: UInt16 = 3
    public static let versionMinor: UInt16 = 0
    /// Major versions this reader reads.
    public static let readableMajors: ClosedRange<UInt16> = 1...3
    /// Header: magic(8) | u16 major | u16 minor | u32 flags (reserved, 0).
    public static let headerSize = 16
    /// Trailer: u64 footer length | u64 XXH64 of the footer | end magic(8).
    public static let trailerSize = 24
    /// A chunk's block references and statistics: the ticker directory's block reference,
    /// then per column a block reference, min and max (in the footer of versions 1 and 2; in
    /// version 3, an entry of the block table).
    public static let blockEntrySize = BlockRef.size + Column.count * (BlockRef.size + 16)
}

/// The columns of every aggregate flat file, after `ticker`, in source order.
public enum Column: Int, CaseIterable, Sendable {
    case volume = 0, open, close, high, low, windowStart, transactions

    public var name: String {
        switch self {
        case .volume: return "volume"
        case .open: return "open"
        case .close: return "close"
        case .high: return "high"
        case .low: return "low"
        case .windowStart: return "window_start"
        case .transactions: return "transactions"
        }
    }
    /// Storage type: 1 = Float64, 2 = Int64.
    public var isFloat: Bool { rawValue <= Column.low.rawValue }

    public init?(name: String) {
        guard let c = Column.allCases.first(where: { $0.name == name }) else { return nil }
        self = c
    }
    public static let count = 7
}

/// Encodings of a block's bytes before compression.
public enum BlockEncoding: UInt8, Sendable {
    /// Int64 values: frame-of-reference or delta, divided by a common divisor, fixed byte width.
    case integer = 1
    /// Float64 values stored as integer mantissas at one decimal scale: value = Double(m) / 10^scale.
    case decimal = 2
    /// Float64 values as raw little-endian IEEE-754 bits.
    case rawFloat = 3
    /// The chunk's ticker directory: row counts and front-coded names.
    case tickers = 4
    /// Float64 prices at one decimal scale relative to the bar's open (close, high, low).
    case relative = 5

    public var name: String {
        switch self {
        case .integer: return "int"
        case .decimal: return "decimal"
        case .rawFloat: return "float64"
        case .tickers: return "tickers"
        case .relative: return "relative"
        }
    }
}

/// Where a stored block lives and how to decode it.
public struct BlockRef: Sendable, Equatable {
    public var offset: UInt64
    public var storedSize: UInt32
    public var rawSize: UInt32
    /// 0 = stored as is, 1 = zstd frame, 2 = pages (version 2 and 3 columns: see `PageTable`).
    public var compression: UInt8
    public var encoding: UInt8
    public var checksum: UInt64

    public init(offset: UInt64, storedSize: UInt32, rawSize: UInt32, compression: UInt8, encoding: UInt8, checksum: UInt64) {
        self.offset = offset; self.storedSize = storedSize; self.rawSize = rawSize
        self.compression = compression; self.encoding = encoding; self.checksum = checksum
    }

    static let size = 8 + 4 + 4 + 1 + 1 + 2 + 8
    /// `compression` of a paged (version 2 or 3) column: its pages follow each other from `offset`.
    public static let paged: UInt8 = 2

    func write(_ w: inout ByteWriter) {
        w.u64(offset); w.u32(storedSize); w.u32(rawSize); w.u8(compression); w.u8(encoding); w.u16(0); w.u64(checksum)
    }

    /// The reference stored at `at` in `b` (the caller has checked that `size` bytes lie
    /// there), and its reserved field (must be 0; checked by the caller).
    @inline(__always) static func load(_ b: UnsafeRawBufferPointer, at: Int) -> (ref: BlockRef, reserved: UInt16) {
        func u32(_ k: Int) -> UInt32 { UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at + k, as: UInt32.self)) }
        func u64(_ k: Int) -> UInt64 { UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at + k, as: UInt64.self)) }
        let ref = BlockRef(offset: u64(0), storedSize: u32(8), rawSize: u32(12),
                           compression: b[at + 16], encoding: b[at + 17], checksum: u64(20))
        return (ref, UInt16(littleEndian: b.loadUnaligned(fromByteOffset: at + 18, as: UInt16.self)))
    }
    /// The checks of a footer's block reference (both footer readers make them): inside
    /// `[headerSize, fileDataEnd)`; a paged column (`column`, `major` >= 2) points at pages
    /// (compression 2, encoding 0, checksum 0); any other block has a known compression and
    /// encoding, and equal sizes when uncompressed.
    func check(column: Bool, major: UInt16, fileDataEnd: UInt64, _ context: @autoclosure () -> String,
               _ what: @autoclosure () -> String) throws {
        guard offset >= UInt64(FFCFormat.headerSize), offset <= fileDataEnd, UInt64(storedSize) <= fileDataEnd - offset else {
            throw FFCError.corrupt(context(), "\(what()): block [\(offset), +\(storedSize)) lies outside the data section")
        }
        if column && major >= 2 {
            guard compression == BlockRef.paged, encoding == 0, checksum == 0 else {
                throw FFCError.corrupt(context(), "\(what()): a version \(major) column must be stored as pages (compression 2, encoding 0, checksum 0)")
            }
            return
        }
        guard compression <= 1, BlockEncoding(rawValue: encoding) != nil else {
            throw FFCError.corrupt(context(), "\(what()): unknown compression \(compression) or encoding \(encoding)")
        }
        guard compression == 1 || storedSize == rawSize else {
            throw FFCError.corrupt(context(), "\(what()): uncompressed block with stored size != raw size")
        }
    }

    static func read(_ r: inout ByteReader, _ what: @autoclosure () -> String) throws -> BlockRef {
        let off = try r.u64(what()), ss = try r.u32(what()), rs = try r.u32(what())
        let comp = try r.u8(what()), enc = try r.u8(what())
        let reserved = try r.u16(what())
        guard reserved == 0 else { throw FFCError.corrupt(r.context, "\(what()): reserved field is \(reserved), must be 0") }
        return BlockRef(offset: off, storedSize: ss, rawSize: rs, compression: comp, encoding: enc, checksum: try r.u64(what()))
    }
}

/// One column of one chunk: its block and min/max statistics (Int64 values or Float64 bits).
public struct ColumnChunkMeta: Sendable, Equatable {
    public var block: BlockRef
    public var minBits: UInt64
    public var maxBits: UInt64
    public init(block: BlockRef, minBits: UInt64, maxBits: UInt64) {
        self.block = block; self.minBits = minBits; self.maxBits = maxBits
    }
}

/// One chunk: a run of rows holding whole tickers.
public struct ChunkMeta: Sendable, Equatable {
    /// Index of the chunk's first row in the file.
    public var firstRow: UInt64
    public var rowCount: UInt32
    public var tickerCount: UInt32
    /// Ordinal of the chunk's first ticker among all tickers of the file.
    public var firstTickerOrdinal: UInt64
    public var firstTicker: [UInt8]
    public var lastTicker: [UInt8]
    public var tickers: BlockRef
    public var columns: [ColumnChunkMeta]

    /// True for paged (version 2 and 3) chunks: each column is stored as pages listed in the ticker directory.
    public var isPaged: Bool { columns.first?.block.compression == BlockRef.paged }

    public init(firstRow: UInt64, rowCount: UInt32, tickerCount: UInt32, firstTickerOrdinal: UInt64,
                firstTicker: [UInt8], lastTicker: [UInt8], tickers: BlockRef, columns: [ColumnChunkMeta]) {
        self.firstRow = firstRow; self.rowCount = rowCount; self.tickerCount = tickerCount
        self.firstTickerOrdinal = firstTickerOrdinal; self.firstTicker = firstTicker; self.lastTicker = lastTicker
        self.tickers = tickers; self.columns = columns
    }
}

/// The footer: schema, provenance and the chunk table.
public struct Footer: Sendable, Equatable {
    public var dataset: String
    /// Days since 1970-01-01 of the file's trading date.
    public var dateDays: Int32
    public var rowCount: UInt64
    public var tickerCount: UInt64
    /// Key/value pairs: source name, size, ETag, ffcol version, counts of warnings, ...
    public var provenance: [(String, String)]
    public var chunks: [ChunkMeta]

    public init(dataset: String, dateDays: Int32, rowCount: UInt64, tickerCount: UInt64,
                provenance: [(String, String)], chunks: [ChunkMeta]) {
        self.dataset = dataset; self.dateDays = dateDays; self.rowCount = rowCount
        self.tickerCount = tickerCount; self.provenance = provenance; self.chunks = chunks
    }

    public static func == (a: Footer, b: Footer) -> Bool {
        a.dataset == b.dataset && a.dateDays == b.dateDays && a.rowCount == b.rowCount
            && a.tickerCount == b.tickerCount && a.chunks == b.chunks
            && a.provenance.map { $0.0 } == b.provenance.map { $0.0 }
            && a.provenance.map { $0.1 } == b.provenance.map { $0.1 }
    }

    /// The footer's bytes as a file of major version `major` stores them. Version 3 keeps the
    /// block references and statistics out of the footer, in `blockTable()`, and the footer
    /// holds each entry's checksum instead.
    public func encode(major: UInt16 = 2) -> [UInt8] {
        var w = ByteWriter(capacity: 256 + chunks.count * (major >= 3 ? 64 : 360))
        // Schema
        w.u16(UInt16(Column.count))
        for c in Column.allCases {
            w.u8(c.isFloat ? 1 : 2)
            w.str16(Array(c.name.utf8))
        }
        w.str16(Array(dataset.utf8))
        w.u32(UInt32(bitPattern: dateDays))
        w.u64(rowCount)
        w.u64(tickerCount)
        w.u32(UInt32(provenance.count))
        for (k, v) in provenance { w.str16(Array(k.utf8)); w.str32(Array(v.utf8)) }
        w.u32(UInt32(chunks.count))
        var entry = ByteWriter(capacity: FFCFormat.blockEntrySize)
        for c in chunks {
            w.u64(c.firstRow); w.u32(c.rowCount); w.u32(c.tickerCount); w.u64(c.firstTickerOrdinal)
            if major >= 3 {
                entry.bytes.removeAll(keepingCapacity: true)
                Footer.writeBlockEntry(c, &entry)
                w.u64(entry.bytes.withUnsafeBytes { XXH64.hash($0) })
                w.str16(c.firstTicker); w.str16(c.lastTicker)
            } else {
                w.str16(c.firstTicker); w.str16(c.lastTicker)
                Footer.writeBlockEntry(c, &w)
            }
        }
        return w.bytes
    }

    /// Version 3: the block table, each chunk's entry (`FFCFormat.blockEntrySize` bytes) in
    /// chunk order. It lies just before the footer.
    public func blockTable() -> [UInt8] {
        var w = ByteWriter(capacity: chunks.count * FFCFormat.blockEntrySize)
        for c in chunks { Footer.writeBlockEntry(c, &w) }
        return w.bytes
    }

    /// A chunk's block references and statistics: the ticker directory's, then each column's
    /// block reference, min and max.
    static func writeBlockEntry(_ c: ChunkMeta, _ w: inout ByteWriter) {
        c.tickers.write(&w)
        for m in c.columns { m.block.write(&w); w.u64(m.minBits); w.u64(m.maxBits) }
    }

    /// Decodes and validates a footer of a version 1 or 2 file (version 3 footers are read by
    /// `FFCFile`). `fileDataEnd` is where the footer starts: every block must lie inside
    /// `[headerSize, fileDataEnd)`. `major` is the file's major version (1 or 2).
    public static func decode(_ buf: UnsafeRawBufferPointer, path: String, fileDataEnd: UInt64, major: UInt16 = 2) throws -> Footer {
        precondition(major <= 2, "Footer.decode reads version 1 and 2 footers")
        var r = ByteReader(buf, context: "\(path) (footer)")
        try FooterIndex.checkSchema(&r, buf)
        let dataset = String(decoding: try r.str16("dataset"), as: UTF8.self)
        let dateDays = Int32(bitPattern: try r.u32("date"))
        let rowCount = try r.u64("row count")
        let tickerCount = try r.u64("ticker count")
        let np = try r.u32("provenance count")
        guard Int(np) <= r.remaining / 6 else { throw FFCError.corrupt(r.context, "provenance count \(np) too large") }
        var prov: [(String, String)] = []
        for _ in 0..<np {
            let k = String(decoding: try r.str16("provenance key"), as: UTF8.self)
            let v = String(decoding: try r.str32("provenance value"), as: UTF8.self)
            prov.append((k, v))
        }
        let nchunks = try r.u32("chunk count")
        let minChunkSize = 8 + 4 + 4 + 8 + 2 + 2 + BlockRef.size + Column.count * (BlockRef.size + 16)
        guard Int(nchunks) <= r.remaining / minChunkSize else {
            throw FFCError.corrupt(r.context, "chunk count \(nchunks) does not fit in the footer")
        }
        var chunks: [ChunkMeta] = []
        chunks.reserveCapacity(Int(nchunks))
        var expectRow: UInt64 = 0, expectTicker: UInt64 = 0
        func check(_ b: BlockRef, column: Bool, _ what: @autoclosure () -> String) throws {
            try b.check(column: column, major: major, fileDataEnd: fileDataEnd, r.context, what())
        }
        let columns = Column.allCases
        for i in 0..<Int(nchunks) {
            // Messages are built only on failure (autoclosures): no allocation per field.
            // One bounds check for each fixed-size run of fields, unchecked reads inside it.
            try r.require(24, "chunk \(i)")
            let firstRow = r.peekU64(0), rows = r.peekU32(8), nt = r.peekU32(12), ft = r.peekU64(16)
            r.advance(24)
            let first = try r.str16("chunk \(i) first ticker"), last = try r.str16("chunk \(i) last ticker")
            try r.require(BlockRef.size + Column.count * (BlockRef.size + 16), "chunk \(i) blocks")
            func block(_ at: Int) throws -> BlockRef {
                guard r.peekU16(at + 18) == 0 else {
                    throw FFCError.corrupt(r.context, "chunk \(i): reserved field of a block reference is not 0")
                }
                return BlockRef(offset: r.peekU64(at), storedSize: r.peekU32(at + 8), rawSize: r.peekU32(at + 12),
                                compression: r.peekU8(at + 16), encoding: r.peekU8(at + 17), checksum: r.peekU64(at + 20))
            }
            let tick = try block(0)
            try check(tick, column: false, "chunk \(i) tickers")
            guard tick.encoding == BlockEncoding.tickers.rawValue else {
                throw FFCError.corrupt(r.context, "chunk \(i): ticker block has encoding \(tick.encoding)")
            }
            var cols: [ColumnChunkMeta] = []
            cols.reserveCapacity(Column.count)
            var at = BlockRef.size
            for c in columns {
                let b = try block(at)
                try check(b, column: true, "chunk \(i) \(c.name)")
                cols.append(ColumnChunkMeta(block: b, minBits: r.peekU64(at + BlockRef.size), maxBits: r.peekU64(at + BlockRef.size + 8)))
                at += BlockRef.size + 16
            }
            r.advance(at)
            let what = "chunk"
            guard firstRow == expectRow, ft == expectTicker, rows > 0, nt > 0, nt <= rows else {
                throw FFCError.corrupt(r.context, "\(what) \(i): rows/tickers do not follow the previous chunk (first row \(firstRow), expected \(expectRow))")
            }
            if let prev = chunks.last, !(prev.lastTicker.lexicographicallyPrecedes(first)) {
                throw FFCError.corrupt(r.context, "\(what) \(i): tickers are not in ascending order across chunks")
            }
            expectRow += UInt64(rows); expectTicker += UInt64(nt)
            chunks.append(ChunkMeta(firstRow: firstRow, rowCount: rows, tickerCount: nt, firstTickerOrdinal: ft,
                                    firstTicker: first, lastTicker: last, tickers: tick, columns: cols))
        }
        guard expectRow == rowCount, expectTicker == tickerCount else {
            throw FFCError.corrupt(r.context, "chunk rows (\(expectRow)) or tickers (\(expectTicker)) do not add up to the file's \(rowCount) rows, \(tickerCount) tickers")
        }
        guard r.remaining == 0 else { throw FFCError.corrupt(r.context, "\(r.remaining) unexpected bytes at the end of the footer") }
        return Footer(dataset: dataset, dateDays: dateDays, rowCount: rowCount, tickerCount: tickerCount,
                      provenance: prov, chunks: chunks)
    }
}

// MARK: - The footer, validated in place

/// A footer checked in place (in the mapping, or in the copy a `.read` file owns) without
/// decoding it: every check of `Footer.decode` is made on open, but only the offset of each
/// chunk's record is kept. A chunk's entry (`ChunkMeta`) is read when that chunk is needed, and
/// the chunk table is searched by ticker straight from the footer's bytes. Opening a file so
/// allocates a handful of objects, not three per chunk.
///
/// Versions 1 and 2 hold each chunk's block entry in its record, and init checks them all.
/// Version 3 keeps the entries in the block table before the footer (`tableOffset`) and each
/// record holds its entry's checksum: the caller checks an entry (`checkBlockEntry`) before
/// it uses it.
struct FooterIndex {
    let buf: UnsafeRawBufferPointer
    let major: UInt16
    let dataset: String
    let dateDays: Int32
    let rowCount: UInt64
    let tickerCount: UInt64
    /// Offset of the provenance count, and the number of entries.
    let provenanceAt: Int
    let provenanceCount: Int
    /// Offset of each chunk's record within the footer.
    let entries: [UInt32]
    /// Where blocks must end: the start of the footer (versions 1 and 2) or of the block table.
    let dataEnd: UInt64
    /// Version 3: the file offset of the block table (`dataEnd`); entry i follows at
    /// `tableOffset + i * FFCFormat.blockEntrySize`.
    var tableOffset: UInt64 { dataEnd }

    var chunkCount: Int { entries.count }

    /// Offset of the first ticker name's length in a chunk's record: after first row, row
    /// count, ticker count, first ticker ordinal, and in version 3 the entry's checksum.
    static func nameAt(major: UInt16) -> Int { major >= 3 ? 32 : 24 }
    var nameAt: Int { Self.nameAt(major: major) }

    /// Reads the schema at the start of a footer (`r` reads `buf`) and checks it is the seven
    /// columns of `Column`, by name and type, without allocating unless it is not.
    static func checkSchema(_ r: inout ByteReader, _ buf: UnsafeRawBufferPointer) throws {
        let ncols = try r.u16("schema column count")
        guard ncols == Column.count else {
            throw FFCError.corrupt(r.context, "schema has \(ncols) columns, expected \(Column.count)")
        }
        for c in Column.allCases {
            let t = try r.u8("schema type")
            let n = Int(try r.u16("schema name"))
            try r.require(n, "schema name")
            let name = UnsafeRawBufferPointer(rebasing: buf[r.offset..<r.offset + n])
            guard t == (c.isFloat ? 1 : 2) && c.name.utf8.elementsEqual(name) else {
                throw FFCError.corrupt(r.context, "schema column \(c.rawValue) is '\(String(decoding: name, as: UTF8.self))' of type \(t), expected '\(c.name)'")
            }
            r.advance(n)
        }
    }

    /// Checks chunk `i`'s block entry (`e` holds at least `FFCFormat.blockEntrySize` bytes): reserved
    /// fields, every block inside `[headerSize, dataEnd)`, compressions and encodings.
    static func checkBlockEntry(_ e: UnsafeRawBufferPointer, chunk i: Int, major: UInt16, dataEnd: UInt64,
                                _ context: @autoclosure () -> String) throws {
        precondition(e.count >= FFCFormat.blockEntrySize, "a block entry is \(FFCFormat.blockEntrySize) bytes")
        // Safe: every read below is inside the first FFCFormat.blockEntrySize bytes of e (checked above).
        func check(_ at: Int, column: Bool, _ what: @autoclosure () -> String) throws {
            let (b, reserved) = BlockRef.load(e, at: at)
            guard reserved == 0 else {
                throw FFCError.corrupt(context(), "chunk \(i): reserved field of a block reference is not 0")
            }
            try b.check(column: column, major: major, fileDataEnd: dataEnd, context(), what())
        }
        try check(0, column: false, "chunk \(i) tickers")
        guard e[17] == BlockEncoding.tickers.rawValue else {
            throw FFCError.corrupt(context(), "chunk \(i): ticker block has encoding \(e[17])")
        }
        var at = BlockRef.size
        for c in Column.allCases {
            try check(at, column: true, "chunk \(i) \(c.name)")
            at += BlockRef.size + 16
        }
    }

    /// `fileDataEnd` is where the footer starts; `major` is the file's major version (1 to 3).
    init(_ buf: UnsafeRawBufferPointer, path: String, fileDataEnd: UInt64, major: UInt16 = FFCFormat.versionMajor) throws {
        self.buf = buf
        self.major = major
        var r = ByteReader(buf, context: "\(path) (footer)")
        try Self.checkSchema(&r, buf)
        dataset = String(decoding: try r.str16("dataset"), as: UTF8.self)
        dateDays = Int32(bitPattern: try r.u32("date"))
        rowCount = try r.u64("row count")
        tickerCount = try r.u64("ticker count")
        provenanceAt = r.offset
        let np = try r.u32("provenance count")
        guard Int(np) <= r.remaining / 6 else { throw FFCError.corrupt(r.context, "provenance count \(np) too large") }
        provenanceCount = Int(np)
        for _ in 0..<np {
            let k = Int(try r.u16("provenance key")); try r.require(k, "provenance key"); r.advance(k)
            let v = Int(try r.u32("provenance value")); try r.require(v, "provenance value"); r.advance(v)
        }
        let nchunks = try r.u32("chunk count")
        let v3 = major >= 3
        let nameAt = Self.nameAt(major: major)
        // Fixed fields and two name lengths, and in versions 1 and 2 the block entry.
        let minChunkSize = nameAt + 2 + 2 + (v3 ? 0 : FFCFormat.blockEntrySize)
        guard Int(nchunks) <= r.remaining / minChunkSize else {
            throw FFCError.corrupt(r.context, "chunk count \(nchunks) does not fit in the footer")
        }
        // Version 3: the block table lies between the blocks and the footer.
        var dataEnd = fileDataEnd
        if v3 {
            let table = UInt64(nchunks) * UInt64(FFCFormat.blockEntrySize)
            guard table <= fileDataEnd - UInt64(FFCFormat.headerSize) else {
                throw FFCError.corrupt(r.context, "the block table of \(nchunks) chunks does not fit before the footer")
            }
            dataEnd = fileDataEnd - table
        }
        self.dataEnd = dataEnd
        var entries = [UInt32](repeating: 0, count: Int(nchunks))
        var expectRow: UInt64 = 0, expectTicker: UInt64 = 0
        var prevLast = 0, prevLastLen = -1
        for i in 0..<Int(nchunks) {
            entries[i] = UInt32(r.offset)
            // The fixed fields and the first name's length, the name and the last name's
            // length, then the last name (and the blocks): three checks, unchecked reads after.
            try r.require(nameAt + 2, "chunk \(i)")
            let firstRow = r.peekU64(0), rows = r.peekU32(8), nt = r.peekU32(12), ft = r.peekU64(16)
            let firstLen = Int(r.peekU16(nameAt))
            r.advance(nameAt + 2)
            try r.require(firstLen + 2, "chunk \(i) first ticker")
            let first = r.offset
            let lastLen = Int(r.peekU16(firstLen))
            r.advance(firstLen + 2)
            let last = r.offset
            if v3 {
                try r.require(lastLen, "chunk \(i) last ticker")
                r.advance(lastLen)
            } else {
                try r.require(lastLen + FFCFormat.blockEntrySize, "chunk \(i) last ticker and blocks")
                r.advance(lastLen)
                // Safe: FFCFormat.blockEntrySize bytes remain (required above).
                try Self.checkBlockEntry(UnsafeRawBufferPointer(rebasing: buf[r.offset..<r.offset + FFCFormat.blockEntrySize]),
                                         chunk: i, major: major, dataEnd: dataEnd, r.context)
                r.advance(FFCFormat.blockEntrySize)
            }
            guard firstRow == expectRow, ft == expectTicker, rows > 0, nt > 0, nt <= rows else {
                throw FFCError.corrupt(r.context, "chunk \(i): rows/tickers do not follow the previous chunk (first row \(firstRow), expected \(expectRow))")
            }
            if prevLastLen >= 0, !(FooterIndex.compare(buf, prevLast, prevLastLen, UnsafeRawBufferPointer(rebasing: buf[first..<first + firstLen])) < 0) {
                throw FFCError.corrupt(r.context, "chunk \(i): tickers are not in ascending order across chunks")
            }
            prevLast = last; prevLastLen = lastLen
            expectRow += UInt64(rows); expectTicker += UInt64(nt)
        }
        guard expectRow == rowCount, expectTicker == tickerCount else {
            throw FFCError.corrupt(r.context, "chunk rows (\(expectRow)) or tickers (\(expectTicker)) do not add up to the file's \(rowCount) rows, \(tickerCount) tickers")
        }
        guard r.remaining == 0 else { throw FFCError.corrupt(r.context, "\(r.remaining) unexpected bytes at the end of the footer") }
        self.entries = entries
    }

    /// Byte-order comparison of `buf[at..<at+len]` with `key` (memcmp, then length).
    @inline(__always) static func compare(_ buf: UnsafeRawBufferPointer, _ at: Int, _ len: Int, _ key: UnsafeRawBufferPointer) -> Int {
        let n = min(len, key.count)
        var i = 0
        // Safe: at + len <= buf.count was checked when the footer was indexed.
        while i < n {
            let a = buf[at &+ i], b = key[i]
            if a != b { return a < b ? -1 : 1 }
            i &+= 1
        }
        return len - key.count
    }

    @inline(__always) func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
    @inline(__always) func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    @inline(__always) func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }

    /// Offset and length of chunk `i`'s first and last ticker names in the footer.
    @inline(__always) func names(_ i: Int) -> (first: Int, firstLen: Int, last: Int, lastLen: Int) {
        // Safe: every record's layout was checked in init.
        let e = Int(entries[i]) + nameAt
        let fl = u16(e)
        let ll = u16(e + 2 + fl)
        return (e + 2, fl, e + 4 + fl, ll)
    }

    /// Compares `key` with chunk i's first (`last == false`) or last ticker.
    @inline(__always) func compareTicker(_ i: Int, last: Bool, _ key: UnsafeRawBufferPointer) -> Int {
        let n = names(i)
        return last ? FooterIndex.compare(buf, n.last, n.lastLen, key) : FooterIndex.compare(buf, n.first, n.firstLen, key)
    }

    /// The first chunk whose last ticker is >= key.
    func lowerBound(_ key: UnsafeRawBufferPointer) -> Int {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if compareTicker(mid, last: true, key) < 0 { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Version 3: the XXH64 of chunk `i`'s entry in the block table, as the footer records it.
    func entryChecksum(_ i: Int) -> UInt64 {
        precondition(major >= 3, "only version 3 footers record block entry checksums")
        return u64(Int(entries[i]) + 24)
    }

    /// Versions 1 and 2: chunk `i`'s block entry, inside its record (checked in init).
    func blocksInFooter(_ i: Int) -> UnsafeRawBufferPointer {
        precondition(major < 3, "version 3 block entries are in the block table")
        let n = names(i)
        let at = n.last + n.lastLen
        return UnsafeRawBufferPointer(rebasing: buf[at..<at + FFCFormat.blockEntrySize])
    }

    /// Chunk `i`'s entry: its record in the footer and its block entry `blocks` (checked:
    /// versions 1 and 2 in init, version 3 by the caller with `checkBlockEntry`).
    func meta(_ i: Int, blocks: UnsafeRawBufferPointer) -> ChunkMeta {
        precondition(blocks.count >= FFCFormat.blockEntrySize, "a block entry is \(FFCFormat.blockEntrySize) bytes")
        let n = names(i)
        let e = Int(entries[i])
        // Safe: every read is inside the first FFCFormat.blockEntrySize bytes of `blocks` (checked above).
        func b64(_ at: Int) -> UInt64 { UInt64(littleEndian: blocks.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        func block(_ at: Int) -> BlockRef { BlockRef.load(blocks, at: at).ref }
        let tickers = block(0)
        var at = BlockRef.size
        var cols: [ColumnChunkMeta] = []
        cols.reserveCapacity(Column.count)
        for _ in 0..<Column.count {
            cols.append(ColumnChunkMeta(block: block(at), minBits: b64(at + BlockRef.size), maxBits: b64(at + BlockRef.size + 8)))
            at += BlockRef.size + 16
        }
        return ChunkMeta(firstRow: u64(e), rowCount: u32(e + 8), tickerCount: u32(e + 12), firstTickerOrdinal: u64(e + 16),
                         firstTicker: Array(buf[n.first..<n.first + n.firstLen]), lastTicker: Array(buf[n.last..<n.last + n.lastLen]),
                         tickers: tickers, columns: cols)
    }

    /// The provenance entries (checked in init).
    func provenance() -> [(String, String)] {
        var out: [(String, String)] = []
        var at = provenanceAt + 4
        for _ in 0..<provenanceCount {
            let k = u16(at); at += 2
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: buf[at..<at + k]), as: UTF8.self); at += k
            let v = Int(u32(at)); at += 4
            let value = String(decoding: UnsafeRawBufferPointer(rebasing: buf[at..<at + v]), as: UTF8.self); at += v
            out.append((key, value))
        }
        return out
    }

    /// The whole footer, decoded, each chunk's block entry given by `blocks`.
    func footer(blocks: (Int) throws -> ChunkMeta) rethrows -> Footer {
        Footer(dataset: dataset, dateDays: dateDays, rowCount: rowCount, tickerCount: tickerCount,
               provenance: provenance(), chunks: try (0..<chunkCount).map(blocks))
    }

    /// Versions 1 and 2: the whole footer, decoded.
    func footer() -> Footer { footer { meta($0, blocks: blocksInFooter($0)) } }
}
