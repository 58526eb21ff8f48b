// MARK: - Decoding one chunk's blocks

/// Decodes the blocks of one chunk, resolving prices stored relative to the open.
/// `withRaw` hands over a block's checksum-verified, decompressed bytes. (Low-level: most
/// code wants `FFCFile.chunk(_:columns:)`.)
///
/// A paged chunk (versions 2 and 3) needs its page table (`TickerDirectory.pages`, from `tickers()`):
/// only the pages that overlap the row range are decoded, each by a decoder of its own.
public struct ChunkDecoder {
    let meta: ChunkMeta
    let withRaw: (BlockRef, String, (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    let fail: (String, String) -> Error
    private var scaled: [Int: (scale: Int, m: [Int64])] = [:]
    /// The rows decoded (all rows of the chunk unless a range is given).
    public let range: Range<Int>
    /// Paged chunks: the page table, and a decoder per page overlapping `range` (made on first use).
    private let pages: PageTable?
    private var parts: [ChunkDecoder]?

    public init(meta: ChunkMeta, rows range: Range<Int>? = nil, pages: PageTable? = nil,
                withRaw: @escaping (BlockRef, String, (UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                fail: @escaping (String, String) -> Error) {
        self.meta = meta; self.withRaw = withRaw; self.fail = fail; self.pages = pages
        self.range = range ?? 0..<Int(meta.rowCount)
        precondition(self.range.lowerBound >= 0 && self.range.upperBound <= Int(meta.rowCount), "row range outside the chunk")
    }

    /// The page decoders of a paged chunk (one per page overlapping `range`).
    private func makeParts(_ c: Column) throws -> [ChunkDecoder] {
        guard let t = pages else { throw fail(c.name, "paged column read without the chunk's page table") }
        let fail = self.fail
        return t.pages(overlapping: range).map { j -> ChunkDecoder in
            let r = t.rows(j)
            let local = max(range.lowerBound, r.lowerBound) - r.lowerBound..<min(range.upperBound, r.upperBound) - r.lowerBound
            return ChunkDecoder(meta: t.pageMeta(j, of: meta), rows: local, withRaw: withRaw,
                                fail: { what, m in fail("\(what) page \(j)", m) })
        }
    }

    /// Checks that `out` holds the range's rows. Then, for a paged chunk, decodes column `c`
    /// of every page overlapping the range into it with `one`, page after page, and returns
    /// true; false for a version 1 chunk. True also when there are no rows.
    private mutating func paged<T>(_ c: Column, into out: UnsafeMutableBufferPointer<T>,
                                   _ one: (inout ChunkDecoder, UnsafeMutableBufferPointer<T>) throws -> Void) throws -> Bool {
        precondition(out.count == rows, "output of \(out.count) slots for \(rows) rows")
        if rows == 0 { return true }
        guard meta.isPaged else { return false }
        // Taken out while in use, so that the array is not shared and its elements are
        // mutated in place (a shared copy would be copied whole on the first mutation).
        var p = try parts ?? makeParts(c)
        parts = nil
        defer { parts = p }
        var at = 0
        for k in p.indices {
            // Safe: the pages' ranges are consecutive and add up to `range` (PageTable checked
            // that the row counts add up), and `out` holds `rows` slots (checked above).
            try one(&p[k], UnsafeMutableBufferPointer(rebasing: out[at..<at + p[k].rows]))
            at += p[k].rows
        }
        return true
    }

    /// Rows in the chunk.
    var total: Int { Int(meta.rowCount) }
    /// Rows decoded.
    var rows: Int { range.count }

    /// True when close, high or low are stored relative to the open (so the open's mantissas
    /// are worth keeping).
    var hasRelativePrices: Bool {
        [Column.close, .high, .low].contains { meta.columns[$0.rawValue].block.encoding == BlockEncoding.relative.rawValue }
    }

    public func tickers() throws -> TickerDirectory {
        var dir: TickerDirectory?
        try withRaw(meta.tickers, "tickers") { src in
            dir = try TickerDirectory(decoding: src, rowCount: total, tickerCount: Int(meta.tickerCount), pagesOf: meta,
                                      fail: { fail("tickers", $0) })
        }
        return dir!
    }

    public mutating func int64s(_ c: Column) throws -> [Int64] {
        try array { d, buf in try d.int64s(c, into: buf) }
    }

    /// An array of the range's rows filled by `fill`, straight in its memory: every slot is
    /// written (or `fill` throws, leaving the array empty).
    private mutating func array<T>(_ fill: (inout ChunkDecoder, UnsafeMutableBufferPointer<T>) throws -> Void) throws -> [T] {
        let n = rows
        return try [T](unsafeUninitializedCapacity: n) { buf, initialized in
            try fill(&self, buf)
            initialized = n
        }
    }

    /// The range's values of integer column `c` into `out` (`rows` slots).
    mutating func int64s(_ c: Column, into out: UnsafeMutableBufferPointer<Int64>) throws {
        if try paged(c, into: out, { d, o in try d.int64s(c, into: o) }) { return }
        let b = meta.columns[c.rawValue].block
        guard !c.isFloat, b.encoding == BlockEncoding.integer.rawValue else {
            throw fail(c.name, "encoding \(b.encoding) is not an integer encoding")
        }
        try withRaw(b, c.name) { src in
            try IntCodec.decode(src, count: total, rows: range, into: out, fail: { fail(c.name, $0) })
        }
    }

    public mutating func doubles(_ c: Column) throws -> [Double] {
        try array { d, buf in try d.doubles(c, into: buf) }
    }

    /// The range's values of float column `c` into `out` (`rows` slots).
    mutating func doubles(_ c: Column, into out: UnsafeMutableBufferPointer<Double>) throws {
        if try paged(c, into: out, { d, o in try d.doubles(c, into: o) }) { return }
        let b = meta.columns[c.rawValue].block
        guard c.isFloat else { throw fail(c.name, "not a float column") }
        switch BlockEncoding(rawValue: b.encoding) {
        case .rawFloat?:
            if rows == total {
                try withRaw(b, c.name) { src in try FloatCodec.decodeRaw(src, into: out, fail: { fail(c.name, $0) }) }
            } else {
                var all = [Double](repeating: 0, count: total)
                try withRaw(b, c.name) { src in
                    try all.withUnsafeMutableBufferPointer { try FloatCodec.decodeRaw(src, into: $0, fail: { fail(c.name, $0) }) }
                }
                _ = out.update(fromContentsOf: all[range])
            }
        case .decimal? where scaled[c.rawValue] == nil && !(c == .open && hasRelativePrices):
            // Decode the mantissas straight into the output as Doubles.
            try withRaw(b, c.name) { src in
                guard src.count >= 8 else { throw fail(c.name, "decimal block shorter than its header") }
                let scale = Int(src[0])
                guard scale <= 22, src[1] == 0, src[2] == 0, src[3] == 0 else {
                    throw fail(c.name, "decimal block has scale \(scale), relation \(src[1])")
                }
                // Mantissas decoded straight to Doubles: value = Double(m) / 10^scale.
                let dst = out.baseAddress!
                let src8 = UnsafeRawBufferPointer(rebasing: src[8...])
                // With a divisor of 1 and |base| < 2^52, base + t (t < 2^32) is below 2^53,
                // so Double(base + t) == Double(base) + Double(t) exactly: a loop the
                // compiler vectorises (UInt32 -> Double, add, divide).
                let p = pow10[scale]
                let limit: Int64 = 1 << 52
                if scale == 0 {
                    try IntCodec.decodeMapped(src8, count: total, rows: range, into: dst, fail: { fail(c.name, $0) },
                                              offsets: { t, k, base, out in
                        if base > -limit && base < limit {
                            let bd = Double(base)
                            for i in 0..<k { out[i] = Double(t[i]) + bd }
                        } else {
                            for i in 0..<k { out[i] = Double(base &+ Int64(t[i])) }
                        }
                    }) { Double($0) }
                } else {
                    try IntCodec.decodeMapped(src8, count: total, rows: range, into: dst, fail: { fail(c.name, $0) },
                                              offsets: { t, k, base, out in
                        if base > -limit && base < limit {
                            let bd = Double(base)
                            for i in 0..<k { out[i] = (Double(t[i]) + bd) / p }
                        } else {
                            for i in 0..<k { out[i] = Double(base &+ Int64(t[i])) / p }
                        }
                    }) { Double($0) / p }
                }
            }
        case .decimal?, .relative?:
            let s = try mantissas(c)
            FloatCodec.toDoubles(s.m, scale: s.scale, into: out)
        default:
            throw fail(c.name, "encoding \(b.encoding) is not a float encoding")
        }
    }

    /// Scale and integer mantissas of a decimal or relative column.
    mutating func mantissas(_ c: Column) throws -> (scale: Int, m: [Int64]) {
        if let s = scaled[c.rawValue] { return s }
        let b = meta.columns[c.rawValue].block
        var decoded: (scale: Int, relation: Int, values: [Int64])?
        try withRaw(b, c.name) { src in
            decoded = try FloatCodec.decodeScaled(src, count: total, rows: range, fail: { fail(c.name, $0) })
        }
        var (scale, relation, m) = decoded!
        let isRelative = b.encoding == BlockEncoding.relative.rawValue
        guard isRelative == (relation != 0) else { throw fail(c.name, "relation \(relation) does not match the encoding") }
        if isRelative {
            let expected: PriceCodec.Relation = c == .close ? .closeFromOpen : c == .high ? .highFromBody : c == .low ? .lowFromBody : .none
            guard expected != .none, relation == expected.rawValue else {
                throw fail(c.name, "relation \(relation) is not valid for this column")
            }
            let open = try mantissas(.open)
            guard meta.columns[Column.open.rawValue].block.encoding == BlockEncoding.decimal.rawValue, open.scale == scale else {
                throw fail(c.name, "relative prices need the open as decimal at the same scale")
            }
            // Safe: wrapping arithmetic; damaged input gives wrong numbers (caught by checksums), never a trap.
            if expected == .closeFromOpen {
                for i in 0..<rows { m[i] = open.m[i] &+ m[i] }
            } else {
                let close = try mantissas(.close)
                guard close.scale == scale else { throw fail(c.name, "close and open scales differ") }
                if expected == .highFromBody {
                    for i in 0..<rows { m[i] = max(open.m[i], close.m[i]) &+ m[i] }
                } else {
                    for i in 0..<rows { m[i] = min(open.m[i], close.m[i]) &- m[i] }
                }
            }
        }
        scaled[c.rawValue] = (scale, m)
        return (scale, m)
    }
}
