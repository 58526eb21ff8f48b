// MARK: - Decoding one chunk's blocks

/// Decodes the blocks of one chunk, resolving prices stored relative to the open.
/// `withRaw` hands over a block's checksum-verified, decompressed bytes. (Low-level: most
/// code wants `FFCFile.chunk(_:columns:)`.)
public struct ChunkDecoder {
    let meta: ChunkMeta
    let withRaw: (BlockRef, String, (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    let fail: (String, String) -> Error
    private var scaled: [Int: (scale: Int, m: [Int64])] = [:]

    public init(meta: ChunkMeta, withRaw: @escaping (BlockRef, String, (UnsafeRawBufferPointer) throws -> Void) throws -> Void,
         fail: @escaping (String, String) -> Error) {
        self.meta = meta; self.withRaw = withRaw; self.fail = fail
    }

    var rows: Int { Int(meta.rowCount) }

    public func tickers() throws -> TickerDirectory {
        var dir: TickerDirectory?
        try withRaw(meta.tickers, "tickers") { src in
            dir = try TickerDirectory(decoding: src, rowCount: rows, tickerCount: Int(meta.tickerCount),
                                      fail: { fail("tickers", $0) })
        }
        return dir!
    }

    public func int64s(_ c: Column) throws -> [Int64] {
        let b = meta.columns[c.rawValue].block
        guard !c.isFloat, b.encoding == BlockEncoding.integer.rawValue else {
            throw fail(c.name, "encoding \(b.encoding) is not an integer encoding")
        }
        var out = [Int64](repeating: 0, count: rows)
        try withRaw(b, c.name) { src in
            try out.withUnsafeMutableBufferPointer { try IntCodec.decode(src, into: $0, fail: { fail(c.name, $0) }) }
        }
        return out
    }

    public mutating func doubles(_ c: Column) throws -> [Double] {
        let b = meta.columns[c.rawValue].block
        guard c.isFloat else { throw fail(c.name, "not a float column") }
        switch BlockEncoding(rawValue: b.encoding) {
        case .rawFloat?:
            var out = [Double](repeating: 0, count: rows)
            try withRaw(b, c.name) { src in
                try out.withUnsafeMutableBufferPointer { try FloatCodec.decodeRaw(src, into: $0, fail: { fail(c.name, $0) }) }
            }
            return out
        case .decimal?, .relative?:
            let s = try mantissas(c)
            return FloatCodec.toDoubles(s.m, scale: s.scale)
        default:
            throw fail(c.name, "encoding \(b.encoding) is not a float encoding")
        }
    }

    /// Scale and integer mantissas of a decimal or relative column.
    mutating func mantissas(_ c: Column) throws -> (scale: Int, m: [Int64]) {
        if let s = scaled[c.rawValue] { return s }
        let b = meta.columns[c.rawValue].block
        var decoded: (scale: Int, relation: Int, values: [Int64])?
        try withRaw(b, c.name) { src in decoded = try FloatCodec.decodeScaled(src, count: rows, fail: { fail(c.name, $0) }) }
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
