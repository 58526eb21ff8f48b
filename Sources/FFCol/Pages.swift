// MARK: - Pages of a chunk (format versions 2 and 3)

/// The pages of a chunk (versions 2 and 3): runs of whole tickers, each column of each page encoded and
/// compressed on its own, so that one ticker is read by decompressing the pages that hold it
/// instead of whole columns of the chunk.
///
/// Stored after the names in the chunk's ticker directory (see docs/FORMAT.md):
/// u32 page count p | p x u32 row counts | for each column in schema order, for each page:
/// u32 stored size | u32 raw size | u8 compression | u8 encoding | u16 reserved | u64 XXH64.
/// Column c's pages follow each other from the offset of the column's block reference.
public struct PageTable: Sendable, Equatable {
    /// Row end (exclusive) of each page, within the chunk.
    public let rowEnds: [Int]
    /// Block of column c, page j at `c * count + j` (absolute offsets).
    public let blocks: [BlockRef]

    public var count: Int { rowEnds.count }
    public func rows(_ j: Int) -> Range<Int> { (j == 0 ? 0 : rowEnds[j - 1])..<rowEnds[j] }
    public func block(_ c: Column, _ j: Int) -> BlockRef { blocks[c.rawValue * count + j] }

    /// Size of one page entry.
    static let entrySize = 4 + 4 + 1 + 1 + 2 + 8

    /// The pages whose rows overlap `r` (a non-empty range of the chunk's rows).
    public func pages(overlapping r: Range<Int>) -> Range<Int> {
        // First page ending after r.lowerBound, first page ending at or after r.upperBound.
        func firstEnd(after x: Int) -> Int {
            var lo = 0, hi = count
            while lo < hi { let mid = (lo + hi) / 2; if rowEnds[mid] <= x { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        let a = firstEnd(after: r.lowerBound)
        let b = r.isEmpty ? a : min(count - 1, firstEnd(after: r.upperBound - 1)) + 1
        return a..<max(a, b)
    }

    /// Appends the table: `rowCounts` per page, `blocks` column-major as in `blocks`.
    public static func encode(rowCounts: [Int], blocks: [BlockRef], into w: inout ByteWriter) {
        precondition(blocks.count == rowCounts.count * Column.count, "one block per page and column")
        w.u32(UInt32(rowCounts.count))
        for n in rowCounts { w.u32(UInt32(n)) }
        for b in blocks {
            w.u32(b.storedSize); w.u32(b.rawSize); w.u8(b.compression); w.u8(b.encoding); w.u16(0); w.u64(b.checksum)
        }
    }

    /// Decodes and validates the table of a chunk (`meta`, whose column block references were
    /// checked with the footer): at least one page, row counts > 0 adding up to the chunk's,
    /// known compressions and encodings, and each column's page sizes adding up exactly to its
    /// block reference's (so every page lies inside the column's checked bytes).
    public init(decoding src: UnsafeRawBufferPointer, meta: ChunkMeta, fail: (String) -> Error) throws {
        guard src.count >= 4 else { throw fail("page table missing") }
        let p = Int(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        guard p >= 1, p <= Int(meta.rowCount) else { throw fail("page count \(p) for a chunk of \(meta.rowCount) rows") }
        let need = 4 + p * 4 + p * Column.count * Self.entrySize
        guard src.count == need else { throw fail("page table of \(p) pages is \(src.count) bytes, expected \(need)") }
        // Safe: src holds exactly `need` bytes (checked above); every read below is inside them.
        var ends = [Int](repeating: 0, count: p)
        var total = 0
        for j in 0..<p {
            let n = Int(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 + 4 * j, as: UInt32.self)))
            guard n > 0, n <= Int(meta.rowCount) - total else { throw fail("page row counts do not add up to \(meta.rowCount)") }
            total += n
            ends[j] = total
        }
        guard total == Int(meta.rowCount) else { throw fail("pages cover \(total) rows, the chunk has \(meta.rowCount)") }
        var blocks: [BlockRef] = []
        blocks.reserveCapacity(p * Column.count)
        var at = 4 + 4 * p
        for c in Column.allCases {
            let col = meta.columns[c.rawValue].block
            var offset = col.offset, stored: UInt64 = 0, raw: UInt64 = 0
            for j in 0..<p {
                let ss = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                let rs = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))
                let comp = src[at + 8], enc = src[at + 9]
                let reserved = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: at + 10, as: UInt16.self))
                let sum = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: at + 12, as: UInt64.self))
                guard comp <= 1, let e = BlockEncoding(rawValue: enc), e != .tickers, reserved == 0 else {
                    throw fail("\(c.name) page \(j): compression \(comp), encoding \(enc), reserved \(reserved)")
                }
                guard comp == 1 || ss == rs else { throw fail("\(c.name) page \(j): uncompressed page with stored size != raw size") }
                blocks.append(BlockRef(offset: offset, storedSize: ss, rawSize: rs, compression: comp, encoding: enc, checksum: sum))
                offset += UInt64(ss); stored += UInt64(ss); raw += UInt64(rs)
                at += Self.entrySize
            }
            guard stored == UInt64(col.storedSize), raw == UInt64(col.rawSize) else {
                throw fail("\(c.name) pages add up to \(stored) stored, \(raw) raw bytes; the chunk table says \(col.storedSize), \(col.rawSize)")
            }
        }
        rowEnds = ends
        self.blocks = blocks
    }

    /// The entry of page `j` as a chunk of its own: its row count and its columns' blocks
    /// (statistics are not kept per page).
    func pageMeta(_ j: Int, of meta: ChunkMeta) -> ChunkMeta {
        let r = rows(j)
        var m = meta
        m.firstRow = meta.firstRow + UInt64(r.lowerBound)
        m.rowCount = UInt32(r.count)
        m.columns = Column.allCases.map { ColumnChunkMeta(block: block($0, j), minBits: 0, maxBits: 0) }
        return m
    }
}
