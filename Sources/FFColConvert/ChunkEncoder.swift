import FFCol

// MARK: - Stage 3: column arrays -> encoded, compressed blocks

/// Seven column buffers of equal length: the rows of one chunk.
public struct ColumnsView {
    public var floats: [UnsafeBufferPointer<Double>]  // volume, open, close, high, low
    public var ints: [UnsafeBufferPointer<Int64>]     // window_start, transactions
    public var count: Int { ints[0].count }
}

/// Encodes and compresses chunks, reusing its buffers (one per writer; not thread-safe).
final class ChunkEncoder {
    let compressor: ZstdCompressor
    private var enc = ByteWriter(capacity: 1 << 20)
    private var packed: [UInt8] = []
    private var scratch: [Int64] = []
    private var priceScratch: [[Int64]] = Array(repeating: [], count: 4)

    init(level: Int32) { compressor = ZstdCompressor(level: level) }

    /// Encodes one chunk; appends its blocks to `out` (which starts at file offset `fileOffset`)
    /// and returns the chunk's metadata.
    func encode(_ cols: ColumnsView, names: UnsafeRawBufferPointer, nameEnds: UnsafeBufferPointer<UInt32>,
                rowEnds: UnsafeBufferPointer<UInt32>, firstRow: UInt64, firstTickerOrdinal: UInt64,
                fileOffset: UInt64, out: inout [UInt8]) -> ChunkMeta {
        let n = cols.count
        precondition(n > 0 && rowEnds.count == nameEnds.count && Int(rowEnds.last!) == n, "chunk invariants")
        func store(_ encoding: BlockEncoding) -> BlockRef {
            let raw = enc.bytes
            raw.withUnsafeBytes { compressor.compress($0, into: &packed) }
            // Keep whichever is smaller: a zstd frame or the raw encoded bytes.
            let useZstd = packed.count < raw.count
            let offset = fileOffset + UInt64(out.count)
            let checksum: UInt64
            if useZstd {
                checksum = packed.withUnsafeBytes { XXH64.hash($0) }
                out.append(contentsOf: packed)
            } else {
                checksum = raw.withUnsafeBytes { XXH64.hash($0) }
                out.append(contentsOf: raw)
            }
            return BlockRef(offset: offset, storedSize: UInt32(useZstd ? packed.count : raw.count),
                            rawSize: UInt32(raw.count), compression: useZstd ? 1 : 0,
                            encoding: encoding.rawValue, checksum: checksum)
        }
        // Ticker directory.
        enc.bytes.removeAll(keepingCapacity: true)
        TickerDirectory.encode(names: names, nameEnds: nameEnds, rowEnds: rowEnds, into: &enc)
        let tickers = store(.tickers)
        var columns: [ColumnChunkMeta] = []
        columns.reserveCapacity(Column.count)
        // Prices relative to the open when the four share an exact decimal form.
        let prices = PriceCodec.encode(Array(cols.floats[1...4]), scratch: &priceScratch)
        for (k, f) in cols.floats.enumerated() {
            enc.bytes.removeAll(keepingCapacity: true)
            let e: BlockEncoding
            if k >= 1, let p = prices {
                enc.bytes.append(contentsOf: p[k - 1])
                e = k == 1 ? .decimal : .relative
            } else {
                e = FloatCodec.encode(f, scratch: &scratch, into: &enc)
            }
            var mn = f[0], mx = f[0]
            for v in f { if v < mn { mn = v }; if v > mx { mx = v } }
            columns.append(ColumnChunkMeta(block: store(e), minBits: mn.bitPattern, maxBits: mx.bitPattern))
        }
        for iv in cols.ints {
            enc.bytes.removeAll(keepingCapacity: true)
            IntCodec.encode(iv, into: &enc)
            var mn = iv[0], mx = iv[0]
            for v in iv { if v < mn { mn = v }; if v > mx { mx = v } }
            columns.append(ColumnChunkMeta(block: store(.integer), minBits: UInt64(bitPattern: mn), maxBits: UInt64(bitPattern: mx)))
        }
        let firstName = Array(names[0..<Int(nameEnds[0])])
        let lastStart = nameEnds.count > 1 ? Int(nameEnds[nameEnds.count - 2]) : 0
        let lastName = Array(names[lastStart..<Int(nameEnds.last!)])
        return ChunkMeta(firstRow: firstRow, rowCount: UInt32(n), tickerCount: UInt32(rowEnds.count),
                         firstTickerOrdinal: firstTickerOrdinal, firstTicker: firstName, lastTicker: lastName,
                         tickers: tickers, columns: columns)
    }
}
