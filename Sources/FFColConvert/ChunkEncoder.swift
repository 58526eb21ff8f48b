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
final class ChunkEncoder {
    let compressor: ZstdCompressor
    /// The same level with raw literals; nil if libzstd does not take the parameter.
    let rawLiteralCompressor: ZstdCompressor?
    static let probeInterval = 32
    static let rawLiteralAllowance = 1.10
    /// Per slot (0 ticker directory, 1...5 Float64 columns, 6...7 Int64 columns): raw literals.
    private var rawLiterals = [Bool](repeating: false, count: 1 + Column.count)
    private var chunksEncoded = 0
    private var enc = ByteWriter(capacity: 1 << 20)
    private var packed: [UInt8] = []
    private var packedRaw: [UInt8] = []
    private var scratch: [Int64] = []
    private var priceScratch: [[Int64]] = Array(repeating: [], count: 4)
    /// Per Float64 column: rescaled mantissas and Doubles (when needed), `capacity` each.
    private var scaled: [UnsafeMutablePointer<Int64>] = []
    private var doubles: [UnsafeMutablePointer<Double>] = []
    private var capacity = 0
    /// 10^(15 - d): a mantissa below it can be multiplied by 10^d and stay below 10^15.
    private let rescaleLimit: [UInt64] = (0...15).map { d in (0..<(15 - d)).reduce(1) { a, _ in a * 10 } }
    private let pow10Int: [Int64] = (0...15).map { d in (0..<d).reduce(1) { a, _ in a * 10 } }

    init(level: Int32) {
        compressor = ZstdCompressor(level: level)
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
    func encode(_ cols: ColumnsView, names: UnsafeRawBufferPointer, nameEnds: UnsafeBufferPointer<UInt32>,
                rowEnds: UnsafeBufferPointer<UInt32>, firstRow: UInt64, firstTickerOrdinal: UInt64,
                fileOffset: UInt64, out: inout [UInt8]) -> ChunkMeta {
        let n = cols.count
        precondition(n > 0 && rowEnds.count == nameEnds.count && Int(rowEnds.last!) == n, "chunk invariants")
        let probe = chunksEncoded % Self.probeInterval == 0
        chunksEncoded += 1
        var slot = 0
        func store(_ encoding: BlockEncoding) -> BlockRef {
            let raw = enc.bytes
            defer { slot += 1 }
            if let alt = rawLiteralCompressor, probe {
                raw.withUnsafeBytes { compressor.compress($0, into: &packed) }
                raw.withUnsafeBytes { alt.compress($0, into: &packedRaw) }
                rawLiterals[slot] = Double(packedRaw.count) <= Double(packed.count) * Self.rawLiteralAllowance
                if rawLiterals[slot] { swap(&packed, &packedRaw) }
            } else if let alt = rawLiteralCompressor, rawLiterals[slot] {
                raw.withUnsafeBytes { alt.compress($0, into: &packed) }
            } else {
                raw.withUnsafeBytes { compressor.compress($0, into: &packed) }
            }
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
        let forms = (0..<5).map { floatForm($0, cols) }
        // Prices relative to the open when the four share an exact decimal form.
        var prices: [[UInt8]]?
        if forms[1...4].allSatisfy({ $0.scale != nil }) {
            prices = PriceCodec.encode(decimals: forms[1...4].map { ($0.scale!, $0.mantissas) }, scratch: &priceScratch)
        }
        for (k, form) in forms.enumerated() {
            enc.bytes.removeAll(keepingCapacity: true)
            let e: BlockEncoding
            if k >= 1, let p = prices {
                enc.bytes.append(contentsOf: p[k - 1])
                e = k == 1 ? .decimal : .relative
            } else if let s = form.scale {
                FloatCodec.writeDecimal(scale: s, mantissas: form.mantissas, into: &enc)
                e = .decimal
            } else {
                for v in form.doubles { enc.u64(v.bitPattern) }
                e = .rawFloat
            }
            columns.append(ColumnChunkMeta(block: store(e), minBits: form.minBits, maxBits: form.maxBits))
        }
        for iv in cols.ints {
            enc.bytes.removeAll(keepingCapacity: true)
            let (mn, mx) = IntCodec.encode(iv, into: &enc)
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
