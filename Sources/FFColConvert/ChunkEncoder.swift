import FFCol

// MARK: - Stage 3: column arrays -> encoded, compressed blocks

/// Seven column buffers of equal length: the rows of one chunk.
public struct ColumnsView {
    /// volume, open, close, high, low as `ParsedFloat` mantissas and scales.
    public var mantissas: [UnsafeBufferPointer<Int64>]
    public var scales: [UnsafeBufferPointer<UInt8>]
    public var ints: [UnsafeBufferPointer<Int64>]     // window_start, transactions
    public var count: Int { ints[0].count }
}

/// How one Float64 column of a chunk is encoded, and its min/max (IEEE-754 bits).
struct FloatForm {
    /// The scale and mantissas `FloatCodec.decimalize` finds; nil: raw doubles in `doubles`.
    var scale: Int?
    var mantissas: UnsafeBufferPointer<Int64>
    var doubles: UnsafeBufferPointer<Double>
    var minBits: UInt64, maxBits: UInt64
}

/// Encodes and compresses chunks, reusing its buffers (one per writer; not thread-safe).
///
/// Literal mode, per block slot (the ticker directory and each column): zstd Huffman-codes the
/// literals by default; stored raw they decode several times faster. On every
/// `probeInterval`-th chunk a slot's block is compressed both ways, and the slot keeps raw
/// literals until the next probe if they cost at most `rawLiteralAllowance` more bytes (high
/// entropy bytes, like the low bytes of volumes, gain little from Huffman coding).
///
/// Blocks that keep Huffman-coded literals are compressed with acceleration
/// (`huffmanAcceleration`): they are mostly literals, so zstd skipping ahead faster where it
/// finds no match costs few bytes. The probe compares raw literals against the unaccelerated
/// frame, so which slots keep Huffman coding does not depend on the acceleration. A slot whose
/// blocks zstd finds almost no matches in (in options files the low bytes of volume and open)
/// loses nothing to a much larger acceleration (`fastAcceleration`): the probe also compresses
/// such a slot's block that way, and the slot keeps it until the next probe if it costs at most
/// `fastAllowance` times the unaccelerated frame's bytes.
final class ChunkEncoder {
    /// Huffman-coded literals, accelerated.
    let compressor: ZstdCompressor
    /// Huffman-coded literals, not accelerated: the probe's side of the comparison.
    let probeCompressor: ZstdCompressor
    /// Huffman-coded literals, accelerated by `fastAcceleration`.
    let fastCompressor: ZstdCompressor
    /// The same level with raw literals; nil if libzstd does not take the parameter.
    let rawLiteralCompressor: ZstdCompressor?
    /// zstd's acceleration factor for Huffman-literal blocks at levels 1 and 2. On the
    /// options minute day's blocks, one thread (docs/PERFORMANCE.md): 0 -> 4 is 140 -> 117 ms
    /// for the same bytes; on a stocks minute day 97 -> 84 ms for 0.8% more of those blocks'
    /// bytes (8: 109 ms, +0.4% on options; 79 ms, +2.2% on stocks).
    static let huffmanAcceleration: Int32 = 4
    /// The options day's Huffman-literal volume blocks, one thread: 0 -> 4 -> 32 is 38.6 ->
    /// 30.1 -> 23.8 ms for 2.58 -> 2.54 -> 2.51 MB; open 51.8 -> 43.1 -> 31.4 ms for 4.14 ->
    /// 4.12 -> 4.13 MB; but close 0.74 -> 0.76 -> 0.81 MB (docs/PERFORMANCE.md).
    static let fastAcceleration: Int32 = 32
    static let fastAllowance = 1.01
    static let probeInterval = 32
    static let rawLiteralAllowance = 1.30
    /// Per slot (0 ticker directory, 1...5 Float64 columns, 6...7 Int64 columns): raw literals.
    private var rawLiterals = [Bool](repeating: false, count: 1 + Column.count)
    /// Per slot: Huffman-coded literals with `fastAcceleration` (when not raw).
    private var fastHuffman = [Bool](repeating: false, count: 1 + Column.count)
    private var chunksEncoded = 0
    /// Rows per page (versions 2 and 3), or nil: one block per column (version 1).
    let pageRows: Int?
    /// Rows of each page of the chunk being encoded.
    private var pageCounts: [Int] = []
    /// Column c's compressed pages of the chunk being encoded.
    private var columnBytes = [[UInt8]](repeating: [], count: Column.count)
    private var enc = ByteWriter(capacity: 1 << 20)
    /// The four price blocks of a page (open, close, high, low; `PriceCodec`) and the
    /// relative prices they are encoded from, reused from page to page.
    private var priceBlocks = [ByteWriter](repeating: ByteWriter(), count: 4)
    private var priceRelative: [Int64] = []
    private var scratch: [Int64] = []
    private var priceScratch: [[Int64]] = Array(repeating: [], count: 4)
    /// Per Float64 column: rescaled mantissas and Doubles (when needed), `capacity` each.
    private var scaled: [UnsafeMutablePointer<Int64>] = []
    private var doubles: [UnsafeMutablePointer<Double>] = []
    private var capacity = 0
    /// 10^(15 - d): a mantissa below it can be multiplied by 10^d and stay below 10^15.
    private let rescaleLimit: [UInt64] = (0...15).map { d in (0..<(15 - d)).reduce(1) { a, _ in a * 10 } }
    private let pow10Int: [Int64] = (0...15).map { d in (0..<d).reduce(1) { a, _ in a * 10 } }

    /// The format version of what `encode` writes: 2 with pages, 1 without.
    var formatMajor: UInt16 { pageRows == nil ? 1 : FFCFormat.versionMajor }

    /// `pageRows` nil writes version 1 chunks (one block per column).
    init(level: Int32, pageRows: Int?) {
        precondition(pageRows.map { $0 > 0 } ?? true, "pages need rows")
        self.pageRows = pageRows
        // Safe: setting the level never fails (zstd clamps it); raw literals are not asked for.
        compressor = ZstdCompressor(level: level, rawLiterals: false, acceleration: Self.huffmanAcceleration)!
        probeCompressor = ZstdCompressor(level: level)
        // Safe: as for `compressor`.
        fastCompressor = ZstdCompressor(level: level, rawLiterals: false, acceleration: Self.fastAcceleration)!
        rawLiteralCompressor = ZstdCompressor(level: level, rawLiterals: true)
    }
    deinit {
        for p in scaled { p.deallocate() }
        for p in doubles { p.deallocate() }
    }

    private func reserve(_ n: Int) {
        guard n > capacity else { return }
        for p in scaled { p.deallocate() }
        for p in doubles { p.deallocate() }
        capacity = max(n, capacity * 2)
        scaled = (0..<5).map { _ in .allocate(capacity: capacity) }
        doubles = (0..<5).map { _ in .allocate(capacity: capacity) }
    }

    /// The encoding of Float64 column `c`: exactly what `FloatCodec.decimalize` would find for
    /// the column's Doubles, computed from the parsed decimals when every value has one.
    ///
    /// Why that is the same: let every value i be the exact decimal M_i / 10^k_i with |M_i| <
    /// 10^15, k_i <= 15 and no trailing zero after the point (`ParsedFloat`), and let S be the
    /// largest k_i. (1) At a scale s < k_i, value i fails decimalize's round trip: a candidate
    /// m / 10^s that rounds to the same Double has |m| < 10^15 (else it would be 10 times too
    /// large), so both decimals have at most 15 significant digits, and two different such
    /// decimals never round to the same Double (15 <= DBL_DIG); they differ, since M_i / 10^k_i
    /// has k_i > s digits after the point. So decimalize's scale is at least S. (2) At S, with
    /// M'_i = M_i * 10^(S - k_i) and |M'_i| < 10^15 (checked below), v_i * 10^S is within
    /// 10^15 * 2^-52 < 0.23 of M'_i and adding 0.5 rounds by at most 2^-3, so decimalize's
    /// rounding gives M'_i, and Double(M'_i) / 10^S is v_i by definition: scale S, mantissas
    /// M'_i. Min and max: rounding is monotone, so the extreme mantissas give the extreme values.
    /// Anything else (a raw value, a rescaled mantissa >= 10^15) takes the Doubles and the
    /// general codec.
    func floatForm(_ c: Int, _ cols: ColumnsView) -> FloatForm {
        let m = cols.mantissas[c], k = cols.scales[c], n = m.count
        reserve(n)
        // Safe: n >= 1 (checked by encode) and every buffer below has `capacity >= n` slots.
        var kmin = k[0], kmax = k[0]
        for x in k { kmin = min(kmin, x); kmax = max(kmax, x) }
        if kmax != ParsedFloat.rawScale {
            let S = Int(kmax)
            var mant = m
            var fits = true
            var mn = Int64.max, mx = Int64.min
            if kmin != kmax {
                let out = scaled[c]
                let spread = S &- Int(kmin)
                // Every mantissa is multiplied by 10^(S - k[i]) <= 10^spread. For the usual
                // spreads (prices with 1 to 3 decimals) the factor is a choice between constants,
                // not a table lookup, and the loop is vectorised; the products stay below 10^15
                // when the largest magnitude is below 10^(15 - spread), checked once after the
                // loop. Otherwise (or when that check fails), each value is checked first.
                var checked = true
                if spread <= 3 {
                    let kS = UInt8(truncatingIfNeeded: S)
                    var largest: UInt64 = 0
                    @inline(__always) func rescale(_ factor: (UInt8) -> Int64) {
                        for i in 0..<n {
                            largest = max(largest, m[i].magnitude)
                            let x = m[i] &* factor(kS &- k[i])
                            out[i] = x
                            mn = min(mn, x); mx = max(mx, x)
                        }
                    }
                    switch spread {
                    case 1: rescale { d in d == 0 ? 1 : 10 }
                    case 2: rescale { d in d == 0 ? 1 : d == 1 ? 10 : 100 }
                    default: rescale { d in d == 0 ? 1 : d == 1 ? 10 : d == 2 ? 100 : 1000 }
                    }
                    checked = largest >= rescaleLimit[spread]
                }
                if checked {
                    mn = .max; mx = .min
                    // Safe: S - k[i] is in 0...15 (every k[i] <= kmax = S <= 15).
                    rescaleLimit.withUnsafeBufferPointer { lim in pow10Int.withUnsafeBufferPointer { p10 in
                        for i in 0..<n {
                            let d = S &- Int(k[i])
                            if m[i].magnitude >= lim[d] { fits = false; break }
                            let x = m[i] &* p10[d]
                            out[i] = x
                            mn = min(mn, x); mx = max(mx, x)
                        }
                    } }
                }
                mant = UnsafeBufferPointer(start: out, count: n)
            } else {
                for x in mant { mn = min(mn, x); mx = max(mx, x) }
            }
            if fits {
                let p = pow10Exact[S]
                let dmn = S == 0 ? Double(mn) : Double(mn) / p, dmx = S == 0 ? Double(mx) : Double(mx) / p
                return FloatForm(scale: S, mantissas: mant, doubles: UnsafeBufferPointer(start: nil, count: 0),
                                 minBits: dmn.bitPattern, maxBits: dmx.bitPattern)
            }
        }
        let d = doubles[c]
        for i in 0..<n { d[i] = ParsedFloat(m: m[i], k: k[i]).double }
        let f = UnsafeBufferPointer(start: UnsafePointer(d), count: n)
        var mn = f[0], mx = f[0]
        for v in f { if v < mn { mn = v }; if v > mx { mx = v } }
        var form = FloatForm(scale: nil, mantissas: UnsafeBufferPointer(start: nil, count: 0), doubles: f,
                             minBits: mn.bitPattern, maxBits: mx.bitPattern)
        if let s = FloatCodec.decimalize(f, mantissas: &scratch) {
            let out = scaled[c]
            scratch.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: n) }
            form.scale = s
            form.mantissas = UnsafeBufferPointer(start: out, count: n)
        }
        return form
    }

    /// Encodes one chunk; appends its blocks to `out` (which starts at file offset `fileOffset`)
    /// and returns the chunk's metadata.
    ///
    /// Versions 2 and 3 (`pageRows` set): the rows are cut into pages of whole tickers (a page ends
    /// before the ticker that would take it past `pageRows` rows; a larger ticker is a page of
    /// its own), each column of each page is encoded and compressed on its own, and the page
    /// table follows the names in the ticker directory. The directory comes first, then each
    /// column's pages in order. Version 1: one block per column.
    func encode(_ cols: ColumnsView, names: UnsafeRawBufferPointer, nameEnds: UnsafeBufferPointer<UInt32>,
                rowEnds: UnsafeBufferPointer<UInt32>, firstRow: UInt64, firstTickerOrdinal: UInt64,
                fileOffset: UInt64, out: inout [UInt8]) -> ChunkMeta {
        let n = cols.count
        precondition(n > 0 && rowEnds.count == nameEnds.count && Int(rowEnds.last!) == n, "chunk invariants")
        let probe = chunksEncoded % Self.probeInterval == 0
        chunksEncoded += 1
        pageCounts.removeAll(keepingCapacity: true)
        if let limit = pageRows {
            var start = 0, prevEnd = 0
            for e in rowEnds {
                let end = Int(e)
                if end - start > limit && prevEnd > start { pageCounts.append(prevEnd - start); start = prevEnd }
                prevEnd = end
            }
            pageCounts.append(n - start)
        } else {
            pageCounts.append(n)
        }
        for c in 0..<Column.count { columnBytes[c].removeAll(keepingCapacity: true) }
        var blocks = [BlockRef](repeating: BlockRef(offset: 0, storedSize: 0, rawSize: 0, compression: 0, encoding: 0, checksum: 0),
                                count: pageCounts.count * Column.count)
        var stats = [(min: UInt64, max: UInt64)](repeating: (0, 0), count: Column.count)
        var start = 0
        for (j, count) in pageCounts.enumerated() {
            let page = cols.rows(start..<start + count)
            let refs = encodeColumns(page, probe: probe && j == 0)
            for c in 0..<Column.count {
                blocks[c * pageCounts.count + j] = refs[c].block
                if j == 0 {
                    stats[c] = (refs[c].minBits, refs[c].maxBits)
                } else if c < 5 {
                    // Compared as Doubles, as one pass over the chunk's values would (`<`: a NaN
                    // first stays, a NaN later is passed over; -0 and 0 keep the earlier one).
                    if Double(bitPattern: refs[c].minBits) < Double(bitPattern: stats[c].min) { stats[c].min = refs[c].minBits }
                    if Double(bitPattern: refs[c].maxBits) > Double(bitPattern: stats[c].max) { stats[c].max = refs[c].maxBits }
                } else {
                    stats[c].min = UInt64(bitPattern: min(Int64(bitPattern: stats[c].min), Int64(bitPattern: refs[c].minBits)))
                    stats[c].max = UInt64(bitPattern: max(Int64(bitPattern: stats[c].max), Int64(bitPattern: refs[c].maxBits)))
                }
            }
            start += count
        }
        // Ticker directory (with the page table in versions 2 and 3), then the columns.
        enc.bytes.removeAll(keepingCapacity: true)
        TickerDirectory.encode(names: names, nameEnds: nameEnds, rowEnds: rowEnds, into: &enc)
        if pageRows != nil { PageTable.encode(rowCounts: pageCounts, blocks: blocks, into: &enc) }
        var tickers = enc.bytes.withUnsafeBytes { store($0, slot: 0, probe: probe, into: &out) }
        tickers.offset += fileOffset
        tickers.encoding = BlockEncoding.tickers.rawValue
        var columns: [ColumnChunkMeta] = []
        columns.reserveCapacity(Column.count)
        for c in 0..<Column.count {
            let at = fileOffset + UInt64(out.count)
            out.append(contentsOf: columnBytes[c])
            let block: BlockRef
            if pageRows != nil {
                var raw: UInt64 = 0
                for j in 0..<pageCounts.count { raw += UInt64(blocks[c * pageCounts.count + j].rawSize) }
                precondition(raw <= UInt64(UInt32.max) && columnBytes[c].count <= Int(UInt32.max), "column of a chunk over 4 GiB")
                block = BlockRef(offset: at, storedSize: UInt32(columnBytes[c].count), rawSize: UInt32(raw),
                                 compression: BlockRef.paged, encoding: 0, checksum: 0)
            } else {
                var b = blocks[c]
                b.offset = at
                block = b
            }
            columns.append(ColumnChunkMeta(block: block, minBits: stats[c].min, maxBits: stats[c].max))
        }
        let firstName = Array(names[0..<Int(nameEnds[0])])
        let lastStart = nameEnds.count > 1 ? Int(nameEnds[nameEnds.count - 2]) : 0
        let lastName = Array(names[lastStart..<Int(nameEnds.last!)])
        return ChunkMeta(firstRow: firstRow, rowCount: UInt32(n), tickerCount: UInt32(rowEnds.count),
                         firstTickerOrdinal: firstTickerOrdinal, firstTicker: firstName, lastTicker: lastName,
                         tickers: tickers, columns: columns)
    }

    /// Compresses `raw` (the block of slot `slot`: 0 the ticker directory, 1 + c column c) and
    /// appends it to `dest`: the zstd frame, or the encoded bytes when the frame is not smaller.
    /// The reference's offset is where it starts in `dest`; its encoding is left 0.
    private func store(_ raw: UnsafeRawBufferPointer, slot: Int, probe: Bool, into dest: inout [UInt8]) -> BlockRef {
        // Each compressor's frame stays in its own buffer until its next call.
        let frame: UnsafeRawBufferPointer
        if let alt = rawLiteralCompressor, probe {
            let huffman = probeCompressor.compressed(raw), plain = alt.compressed(raw)
            rawLiterals[slot] = Double(plain.count) <= Double(huffman.count) * Self.rawLiteralAllowance
            if rawLiterals[slot] {
                frame = plain
            } else {
                let fast = fastCompressor.compressed(raw)
                fastHuffman[slot] = Double(fast.count) <= Double(huffman.count) * Self.fastAllowance
                frame = fastHuffman[slot] ? fast : huffman
            }
        } else if let alt = rawLiteralCompressor, rawLiterals[slot] {
            frame = alt.compressed(raw)
        } else {
            frame = (fastHuffman[slot] ? fastCompressor : compressor).compressed(raw)
        }
        // Keep whichever is smaller: a zstd frame or the raw encoded bytes.
        let useZstd = frame.count < raw.count
        let stored = useZstd ? frame : raw
        let offset = UInt64(dest.count)
        let checksum = XXH64.hash(stored)
        dest.append(contentsOf: stored)
        return BlockRef(offset: offset, storedSize: UInt32(stored.count), rawSize: UInt32(raw.count),
                        compression: useZstd ? 1 : 0, encoding: 0, checksum: checksum)
    }

    /// Encodes the seven columns of `cols` (one page, or a whole version 1 chunk), appending
    /// column c's block to `columnBytes[c]`; returns the blocks (offsets within
    /// `columnBytes[c]`) with the values' min and max.
    private func encodeColumns(_ cols: ColumnsView, probe: Bool) -> [ColumnChunkMeta] {
        var columns: [ColumnChunkMeta] = []
        columns.reserveCapacity(Column.count)
        /// Column c's block from `enc`, or from price block `price`.
        func store(_ c: Int, _ e: BlockEncoding, from price: Int? = nil) -> BlockRef {
            let block = price.map { priceBlocks[$0].bytes } ?? enc.bytes
            var b = block.withUnsafeBytes { self.store($0, slot: 1 + c, probe: probe, into: &columnBytes[c]) }
            b.encoding = e.rawValue
            return b
        }
        let forms = (0..<5).map { floatForm($0, cols) }
        // Prices relative to the open when the four share an exact decimal form.
        let prices = forms[1...4].allSatisfy({ $0.scale != nil })
            && PriceCodec.encode(decimals: forms[1...4].map { ($0.scale!, $0.mantissas) }, scratch: &priceScratch,
                                 relative: &priceRelative, into: &priceBlocks)
        for (k, form) in forms.enumerated() {
            let e: BlockEncoding
            if k >= 1, prices {
                // The block is in priceBlocks[k - 1]: compressed from there.
                columns.append(ColumnChunkMeta(block: store(k, k == 1 ? .decimal : .relative, from: k - 1),
                                               minBits: form.minBits, maxBits: form.maxBits))
                continue
            }
            enc.bytes.removeAll(keepingCapacity: true)
            if let s = form.scale {
                FloatCodec.writeDecimal(scale: s, mantissas: form.mantissas, into: &enc)
                e = .decimal
            } else {
                for v in form.doubles { enc.u64(v.bitPattern) }
                e = .rawFloat
            }
            columns.append(ColumnChunkMeta(block: store(k, e), minBits: form.minBits, maxBits: form.maxBits))
        }
        for (k, iv) in cols.ints.enumerated() {
            enc.bytes.removeAll(keepingCapacity: true)
            let (mn, mx) = IntCodec.encode(iv, into: &enc)
            columns.append(ColumnChunkMeta(block: store(5 + k, .integer), minBits: UInt64(bitPattern: mn), maxBits: UInt64(bitPattern: mx)))
        }
        return columns
    }
}

extension ColumnsView {
    /// Rows `r` of every column.
    func rows(_ r: Range<Int>) -> ColumnsView {
        if r == 0..<count { return self }
        return ColumnsView(mantissas: mantissas.map { UnsafeBufferPointer(rebasing: $0[r]) },
                           scales: scales.map { UnsafeBufferPointer(rebasing: $0[r]) },
                           ints: ints.map { UnsafeBufferPointer(rebasing: $0[r]) })
    }
}
