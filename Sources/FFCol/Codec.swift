import CFFColKernels
// MARK: - Column encodings (before zstd). Layouts in docs/FORMAT.md, "Block encodings".

@usableFromInline let pow10: [Double] = (0...22).map { e in
    var v = 1.0
    for _ in 0..<e { v *= 10 }  // exact: every 10^e with e <= 22 is representable
    return v
}

@inline(__always) func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
@inline(__always) func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

@inline(__always) func gcd(_ a0: UInt64, _ b0: UInt64) -> UInt64 {
    var a = a0, b = b0
    while b != 0 { (a, b) = (b, a % b) }
    return a
}

/// Exact division by a fixed divisor `g = odd * 2^shift` without a hardware divide: for `x` a
/// multiple of `g` (as an integer, signed or unsigned), `x / g == (x >> shift) * inverse`
/// modulo 2^64, where `inverse` is the inverse of `odd` modulo 2^64. The same constants test
/// divisibility: an unsigned `x` is a multiple of `g` exactly when its low `shift` bits are 0
/// and `(x >> shift) * inverse <= UInt64.max / odd` (Granlund and Montgomery).
@usableFromInline struct ExactDivisor {
    let shift: UInt64, inverse: UInt64, limit: UInt64, lowMask: UInt64
    init(_ g: UInt64) {
        precondition(g != 0, "divisor 0")
        let tz = g.trailingZeroBitCount
        let odd = g >> UInt64(tz)
        // Newton's iteration: each step doubles the number of correct low bits (3 -> 96).
        var inv = odd
        for _ in 0..<5 { inv = inv &* (2 &- odd &* inv) }
        shift = UInt64(tz); inverse = inv; limit = UInt64.max / odd
        lowMask = tz == 0 ? 0 : (UInt64(1) << UInt64(tz)) &- 1
    }
    @inline(__always) func divides(_ x: UInt64) -> Bool {
        x & lowMask == 0 && (x &>> shift) &* inverse <= limit
    }
    @inline(__always) func quotient(_ x: UInt64) -> UInt64 { (x &>> shift) &* inverse }
    @inline(__always) func quotient(_ x: Int64) -> Int64 { (x &>> Int64(bitPattern: shift)) &* Int64(bitPattern: inverse) }
}

@inline(__always) func byteWidth(_ maxValue: UInt64) -> Int {
    if maxValue == 0 { return 0 }
    if maxValue <= 0xFF { return 1 }
    if maxValue <= 0xFFFF { return 2 }
    if maxValue <= 0xFFFF_FFFF { return 4 }
    return 8
}

/// How a block's divisor `g` is applied to its differences and offsets from the minimum, which
/// are exact multiples of `g` (see `IntCodec.encode`). A generic parameter, so that each kind
/// is specialised and inlined into the encoding loops.
protocol BlockDivider {
    var g: UInt64 { get }
    func delta(_ d: Int64) -> Int64
    func offset(_ u: UInt64) -> UInt64
}

/// `g == 1`.
struct UnitDivider: BlockDivider {
    var g: UInt64 { 1 }
    @inline(__always) func delta(_ d: Int64) -> Int64 { d }
    @inline(__always) func offset(_ u: UInt64) -> UInt64 { u }
}

/// `g > 1`, for a range below 2^63 (see `IntCodec.encode`): exact division by multiplication.
struct MultiplyDivider: BlockDivider {
    let g: UInt64
    let e: ExactDivisor
    init(_ g: UInt64) { self.g = g; e = ExactDivisor(g) }
    @inline(__always) func delta(_ d: Int64) -> Int64 { e.quotient(d) }
    @inline(__always) func offset(_ u: UInt64) -> UInt64 { e.quotient(u) }
}

/// Integer block layout: u8 mode (0 = frame of reference, 1 = delta) | u8 width (0,1,2,4,8) |
/// u8 flags (bit 0: byte planes) | u8 0 | u32 0 | i64 base | u64 divisor | n x width bytes.
/// With byte planes, byte k of every value is stored together (plane k = n bytes): high
/// bytes that are mostly zero then compress to almost nothing.
public enum IntCodec {
    public static let headerSize = 24
    public static let flagBytePlanes: UInt8 = 1

    /// Encodes `values` choosing frame-of-reference or zigzag delta (the narrower width; on a
    /// tie, the one with more values that fit in one byte). Returns the smallest and largest
    /// value (0 and 0 for no values).
    ///
    /// One divisor serves both modes: the gcd of consecutive differences equals the gcd of all
    /// differences, hence of the offsets from the minimum.
    @discardableResult
    public static func encode(_ values: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) -> (min: Int64, max: Int64) {
        let n = values.count
        guard n > 0 else {
            w.u8(0); w.u8(0); w.u8(0); w.u8(0); w.u32(0); w.i64(0); w.u64(1); return (0, 0)
        }
        // Pass 1: the divisor. The gcd test uses multiplication by the divisor's inverse
        // (`ExactDivisor.divides` is `%` == 0 without a divide instruction); it stops once the
        // divisor is 1.
        var g: UInt64 = 0
        var div = ExactDivisor(1)
        var prev = values[0]
        for v in values {
            // Safe: wrapping difference; decoding adds it back with the same wrapping.
            let d = v &- prev
            prev = v
            if d != 0, g == 0 || !div.divides(d.magnitude) {
                g = gcd(g, d.magnitude)
                if g == 1 { break }
                div = ExactDivisor(g)
            }
        }
        // Pass 2: the range.
        var mn = values[0], mx = values[0]
        for v in values { mn = min(mn, v); mx = max(mx, v) }
        // A divisor of 2^63 cannot be applied to a signed delta: use 1. Nor can any divisor
        // but 1 serve a range of 2^63 or more (never prices, counts or timestamps): differences
        // then wrap, and an offset from the minimum, taken modulo 2^64, need not be a multiple
        // of the gcd of the wrapped differences.
        if g == 0 || g == UInt64(1) << 63 || UInt64(bitPattern: mx &- mn) >= (UInt64(1) << 63) { g = 1 }
        if g == 1 {
            encodeWith(values, UnitDivider(), min: mn, max: mx, into: &w)
        } else {
            // No difference wraps, so every offset and delta is an exact multiple of g, and
            // exact division by multiplication gives what a divide gives.
            encodeWith(values, MultiplyDivider(g), min: mn, max: mx, into: &w)
        }
        return (mn, mx)
    }

    /// The rest of `encode` with the divisor applied by `div`: mode and width, header, values.
    @inline(__always)
    static func encodeWith<D: BlockDivider>(_ values: UnsafeBufferPointer<Int64>, _ div: D, min mn: Int64, max mx: Int64,
                                            into w: inout ByteWriter) {
        let n = values.count
        let g = div.g
        // Pass 3: both modes' statistics: the byte width of the largest zigzag delta, and how
        // many deltas and offsets fit in one byte (the tie-break). A Bool's byte is added, not a
        // branch (`? 1 : 0` compiled to one that the processor mispredicts on mixed data).
        var deltaWidth = 0
        var deltaSmall = 0, forSmall = 0
        var prev = values[0]
        var exact = g >= (1 << 55)
        if !exact {
            // On the undivided values, with no division per value, in a loop the compiler
            // vectorises: for multiples d of g, zigzag(d / g) < 256 exactly when
            // -128g <= d <= 127g, that is when d + 128g (wrapping) is at most 255g, and an
            // offset u has u / g < 256 exactly when u < 256g. Only the byte width of the largest
            // zigzag delta is needed, and the OR of all of them has its highest bit.
            //
            // The tests are written without comparisons (x86-64's baseline SSE2 has no 64-bit
            // compare, and the compiler's emulation of one cost more than the rest of the loop):
            // for L < 2^63, x < L exactly when the top bit of (x - L) & ~x (wrapping) is set.
            // If x < L, x < 2^63 (the top bit of ~x is set) and x - L wraps to at least
            // 2^64 - L > 2^63; if x >= L, either x >= 2^63 (~x clears the bit) or x - L < 2^63.
            // Both limits, 255g + 1 and 256g, are below 2^63 (g < 2^55).
            let bias = 128 &* g, deltaEnd = 255 &* g &+ 1, offsetLimit = 256 &* g
            var zor: UInt64 = 0
            var dSmall: UInt64 = 0, fSmall: UInt64 = 0
            for v in values {
                let d = v &- prev
                prev = v
                zor |= zigzag(d)
                let u = UInt64(bitPattern: d) &+ bias, x = UInt64(bitPattern: v &- mn)
                dSmall &+= ((u &- deltaEnd) & ~u) &>> 63
                fSmall &+= ((x &- offsetLimit) & ~x) &>> 63
            }
            deltaSmall = Int(dSmall)
            forSmall = Int(fSmall)
            if g == 1 || zor == 0 {
                deltaWidth = byteWidth(zor)
            } else {
                // The largest zigzag delta Z is in [2^(b-1), 2^b) (b: zor's bit length). For a
                // multiple d of g, zigzag(d / g) is zigzag(d) / g (d >= 0) or
                // (zigzag(d) + 1) / g - 1 (d < 0), and grows with zigzag(d) (both order
                // 0, -1, 1, -2, 2, ... the same way): the largest divided one lies between the
                // two bounds below. When their widths differ, the exact pass decides.
                let b = 64 - zor.leadingZeroBitCount
                let top = b == 64 ? UInt64.max : (UInt64(1) << UInt64(b)) &- 1
                let low = ((UInt64(1) << UInt64(b - 1)) + 1) / g, high = top / g
                deltaWidth = byteWidth(high)
                exact = byteWidth(low == 0 ? 0 : low - 1) != deltaWidth
            }
        }
        if exact {
            prev = values[0]
            deltaSmall = 0; forSmall = 0
            var dmaxZ: UInt64 = 0
            let offsetLimit = g < (1 << 55) ? 256 &* g : UInt64.max
            for v in values {
                let z = zigzag(div.delta(v &- prev))
                prev = v
                dmaxZ = max(dmaxZ, z)
                deltaSmall &+= Int(unsafeBitCast(z < 256, to: UInt8.self))
                forSmall &+= Int(unsafeBitCast(UInt64(bitPattern: v &- mn) < offsetLimit, to: UInt8.self))
            }
            deltaWidth = byteWidth(dmaxZ)
        }
        let forWidth = byteWidth(div.offset(UInt64(bitPattern: mx &- mn)))
        let useDelta = deltaWidth < forWidth || (deltaWidth == forWidth && deltaSmall > forSmall)
        let width = useDelta ? deltaWidth : forWidth
        let planes = width >= 2
        w.u8(useDelta ? 1 : 0); w.u8(UInt8(width)); w.u8(planes ? flagBytePlanes : 0); w.u8(0); w.u32(0)
        w.i64(useDelta ? values[0] : mn)
        w.u64(g)
        guard width > 0 else { return }
        let start = w.bytes.count
        w.bytes.append(contentsOf: repeatElement(0, count: n * width))
        let v = values.baseAddress!
        w.bytes.withUnsafeMutableBytes { raw in
            // Safe: the array was just grown by n * width bytes from `start`; plane k of n
            // bytes starts at k * n; v has n values and delta values read v[i - 1] for i >= 1.
            let out = (raw.baseAddress! + start).assumingMemoryBound(to: UInt8.self)
            @inline(__always) func put(_ u: (Int) -> UInt64) {
                switch width {
                case 1:
                    for i in 0..<n { out[i] = UInt8(truncatingIfNeeded: u(i)) }
                case 2:
                    let hi = out + n
                    for i in 0..<n { let x = u(i); out[i] = UInt8(truncatingIfNeeded: x); hi[i] = UInt8(truncatingIfNeeded: x &>> 8) }
                default:
                    let tmp = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
                    defer { tmp.deallocate() }
                    for i in 0..<n { tmp[i] = u(i) }
                    for k in 0..<width {
                        let plane = out + k &* n
                        let shift = UInt64(8 &* k)
                        for i in 0..<n { plane[i] = UInt8(truncatingIfNeeded: tmp[i] &>> shift) }
                    }
                }
            }
            if useDelta {
                put { i in i == 0 ? 0 : zigzag(div.delta(v[i] &- v[i &- 1])) }
            } else {
                put { i in div.offset(UInt64(bitPattern: v[i] &- mn)) }
            }
        }
    }

    /// Decodes `out.count` values. Throws (via `fail`) on a layout that does not match.
    public static func decode(_ src: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Int64>,
                              fail: (String) -> Error) throws {
        try decode(src, count: out.count, rows: 0..<out.count, into: out, fail: fail)
    }

    /// Decodes only `rows` of a block of `n` values into `out` (`out.count == rows.count`).
    /// Frame-of-reference values are read directly; deltas are summed from the start up to
    /// `rows.upperBound` (no stores before `rows.lowerBound`).
    public static func decode(_ src: UnsafeRawBufferPointer, count n: Int, rows: Range<Int>,
                              into out: UnsafeMutableBufferPointer<Int64>, fail: (String) -> Error) throws {
        precondition(out.count == rows.count, "row range out of bounds")
        guard let o = out.baseAddress else {
            // No rows: the header is still checked.
            var none: Int64 = 0
            try withUnsafeMutablePointer(to: &none) { try decodeMapped(src, count: n, rows: rows, into: $0, fail: fail) { $0 } }
            return
        }
        try decodeMapped(src, count: n, rows: rows, into: o, fail: fail) { $0 }
    }

    /// Rows gathered at a time into a small buffer by the byte-plane loops.
    static let gatherBlock = 512

    /// Decodes `rows` of a block of `n` values, storing `map(value)` for each into
    /// `o[0..<rows.count]` (every slot is written unless it throws). Specialised per `T` and
    /// `map` (a decimal column decodes straight to Double, with no Int64 pass).
    ///
    /// Byte planes of widths 1, 2 and 4 are first gathered into a small UInt32 buffer, a loop
    /// the compiler vectorises (SSE2 byte unpacking); the mode is then applied row by row.
    ///
    /// `offsets`, when given, replaces the row-by-row map for frame-of-reference blocks with a
    /// divisor of 1: it gets each gathered run of values `t[0..<k]` and the base, and must
    /// store `map(base + t[i])` into `out[i]` for every i (a whole-run loop can be vectorised
    /// where the row-by-row one cannot).
    @inline(__always)
    static func decodeMapped<T>(_ src: UnsafeRawBufferPointer, count n: Int, rows: Range<Int>,
                                into o: UnsafeMutablePointer<T>, fail: (String) -> Error,
                                offsets: ((_ t: UnsafePointer<UInt32>, _ k: Int, _ base: Int64, _ out: UnsafeMutablePointer<T>) -> Void)? = nil,
                                _ map: (Int64) -> T) throws {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= n, "row range out of bounds")
        guard src.count >= headerSize else { throw fail("integer block shorter than its header") }
        let mode = src[0], width = Int(src[1]), flags = src[2]
        guard mode <= 1, width == 0 || width == 1 || width == 2 || width == 4 || width == 8,
              flags & ~flagBytePlanes == 0, src[3] == 0 else {
            throw fail("integer block has mode \(mode), width \(width), flags \(flags)")
        }
        guard src.count == headerSize + n * width else {
            throw fail("integer block holds \(src.count - headerSize) bytes, expected \(n) x \(width)")
        }
        let base = Int64(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        let div = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let d = Int64(bitPattern: div)
        let m = rows.count, lo = rows.lowerBound
        guard m > 0 else { return }
        // Safe: the size check above is the one bounds check: n * width bytes follow the
        // header, rows lie in 0..<n and o has rows.count slots; every read below is at
        // plane * n + row (or row * width) for a row < n. All arithmetic wraps: a damaged block
        // decodes to wrong numbers, never a trap (and it fails its checksum before it gets here).
        let p = src.baseAddress! + headerSize
        if width == 0 {
            let v = map(base)
            for i in 0..<m { o[i] = v }
            return
        }
        let planes = width > 1 && flags & flagBytePlanes != 0
        if width == 8 {
            @inline(__always) func value(_ i: Int) -> UInt64 {
                if planes {
                    var v: UInt64 = 0
                    for k in 0..<8 { v |= UInt64(p.load(fromByteOffset: k &* n &+ i, as: UInt8.self)) &<< UInt64(8 &* k) }
                    return v
                }
                return UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
            }
            if mode == 0 {
                for i in 0..<m { o[i] = map(base &+ Int64(bitPattern: value(lo &+ i) &* div)) }
            } else {
                var acc = base
                for i in 0..<lo { acc = acc &+ unzigzag(value(i)) &* d }
                for i in 0..<m { acc = acc &+ unzigzag(value(lo &+ i)) &* d; o[i] = map(acc) }
            }
            return
        }
        // Widths 1, 2, 4: values fit in UInt32.
        let b = p.assumingMemoryBound(to: UInt8.self)
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: gatherBlock) { tb in
            let t = tb.baseAddress!
            /// Values of rows start..<start+k (k <= gatherBlock) into t.
            @inline(__always) func gather(_ start: Int, _ k: Int) {
                if width == 1 {
                    let b0 = b + start
                    for i in 0..<k { t[i] = UInt32(b0[i]) }
                } else if planes {
                    // SSE2 byte unpacking (Sources/CFFColKernels): the compiler's own
                    // vectorisation of the width-4 loop took 4.75 instructions a row. Safe: plane
                    // p holds bytes [p * n, p * n + n) and start + k <= n (asserted in debug
                    // builds: sanitizers do not see inside the C loops).
                    assert(start >= 0 && start &+ k <= n, "gather outside the planes")
                    let b0 = b + start, b1 = b0 + n
                    if width == 2 {
                        ffcol_gather_planes2(b0, b1, t, k)
                    } else {
                        let b2 = b1 + n, b3 = b2 + n
                        ffcol_gather_planes4(b0, b1, b2, b3, t, k)
                    }
                } else if width == 2 {
                    for i in 0..<k { t[i] = UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: (start &+ i) &* 2, as: UInt16.self))) }
                } else {
                    for i in 0..<k { t[i] = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: (start &+ i) &* 4, as: UInt32.self)) }
                }
            }
            var acc = base
            if mode == 1 {
                // The deltas before the range, summed.
                // Sum(unzigzag(u) * d) = d * Sum(unzigzag(u)) modulo 2^64; with u < 2^32 each
                // unzigzag fits in Int32, so the sum is a loop the compiler vectorises.
                var sum: Int64 = 0
                var s = 0
                while s < lo {
                    let k = min(gatherBlock, lo &- s)
                    gather(s, k)
                    for i in 0..<k {
                        let u = t[i]
                        sum &+= Int64(Int32(bitPattern: u &>> 1) ^ (0 &- Int32(bitPattern: u & 1)))
                    }
                    s &+= k
                }
                acc = acc &+ sum &* d
            }
            var j = 0
            while j < m {
                let k = min(gatherBlock, m &- j)
                gather(lo &+ j, k)
                let oj = o + j
                if mode == 0 {
                    if d == 1, let f = offsets {
                        f(UnsafePointer(t), k, base, oj)
                    } else if d == 1 {
                        for i in 0..<k { oj[i] = map(base &+ Int64(t[i])) }
                    } else {
                        for i in 0..<k { oj[i] = map(base &+ Int64(t[i]) &* d) }
                    }
                } else {
                    for i in 0..<k { acc = acc &+ unzigzag(UInt64(t[i])) &* d; oj[i] = map(acc) }
                }
                j &+= k
            }
        }
    }
}

/// Float64 columns: as decimal mantissas at one scale when every value round-trips exactly,
/// else as raw bits. Decimal layout: u8 scale (0...22) | 7 bytes 0 | integer block of mantissas.
public enum FloatCodec {
    /// Largest mantissa magnitude for which Double(m) is exact, so Double(m) / 10^scale is
    /// correctly rounded (one IEEE division of two exact operands).
    static let maxMantissa: Int64 = 1 << 53
    /// Largest scale tried.
    static let maxScale = 15

    /// Finds the smallest scale at which every value is m / 10^s with a bit-exact round
    /// trip and fills `mantissas`; nil when there is none (use raw bits).
    public static func decimalize(_ values: UnsafeBufferPointer<Double>, mantissas: inout [Int64]) -> Int? {
        var scale = 0
        restart: while true {
            mantissas.removeAll(keepingCapacity: true)
            let p = pow10[scale]
            for v in values {
                let x = v * p
                // |x| < 2^53 also rules out NaN and infinities.
                guard x.magnitude < 9.0e15 else { return nil }
                // Round half away from zero by truncation (cvttsd2si); the check below decides.
                let m = Int64(x + (x < 0 ? -0.5 : 0.5))
                if (Double(m) / p).bitPattern != v.bitPattern {
                    // -0.0 has no decimal form here; other values may need a larger scale.
                    if v == 0 || scale >= maxScale { return nil }
                    scale += 1
                    continue restart
                }
                mantissas.append(m)
            }
            return scale
        }
    }

    public static func encode(_ values: UnsafeBufferPointer<Double>, scratch: inout [Int64],
                              into w: inout ByteWriter) -> BlockEncoding {
        if let s = decimalize(values, mantissas: &scratch) {
            writeDecimal(scale: s, mantissas: scratch, into: &w)
            return .decimal
        }
        for v in values { w.u64(v.bitPattern) }
        return .rawFloat
    }

    static func writeDecimal(scale: Int, mantissas: [Int64], into w: inout ByteWriter) {
        mantissas.withUnsafeBufferPointer { writeDecimal(scale: scale, mantissas: $0, into: &w) }
    }

    /// A decimal block (encoding 2) of `mantissas` at `scale`: the bytes `encode` writes when
    /// `decimalize` finds that scale and those mantissas.
    public static func writeDecimal(scale: Int, mantissas: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        w.u8(UInt8(scale)); w.u8(0); w.u16(0); w.u32(0)
        IntCodec.encode(mantissas, into: &w)
    }

    public static func decodeRaw(_ src: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Double>,
                                 fail: (String) -> Error) throws {
        let n = out.count
        guard src.count == n * 8 else { throw fail("float block holds \(src.count) bytes, expected \(n) x 8") }
        // Safe: size checked; out has n slots.
        for i in 0..<n {
            out[i] = Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)))
        }
    }

    /// Scale and mantissas of a decimal block (encoding 2) or the x of a relative block (5).
    static func decodeScaled(_ src: UnsafeRawBufferPointer, count n: Int, rows: Range<Int>? = nil,
                             fail: (String) -> Error) throws -> (scale: Int, relation: Int, values: [Int64]) {
        let rows = rows ?? 0..<n
        guard src.count >= 8 else { throw fail("decimal block shorter than its header") }
        let scale = Int(src[0]), relation = Int(src[1])
        guard scale <= 22 else { throw fail("decimal block has scale \(scale) (at most 22)") }
        guard relation <= 3, src[2] == 0, src[3] == 0 else { throw fail("decimal block has relation \(relation)") }
        let m = try [Int64](unsafeUninitializedCapacity: rows.count) { buf, initialized in
            try IntCodec.decode(UnsafeRawBufferPointer(rebasing: src[8...]), count: n, rows: rows, into: buf, fail: fail)
            initialized = rows.count
        }
        return (scale, relation, m)
    }

    /// value = Double(m) / 10^scale.
    static func toDoubles(_ m: [Int64], scale: Int) -> [Double] {
        [Double](unsafeUninitializedCapacity: m.count) { out, initialized in
            toDoubles(m, scale: scale, into: out)
            initialized = m.count
        }
    }

    /// `Double(m[i]) / 10^scale` into `out` (at least `m.count` slots).
    static func toDoubles(_ m: [Int64], scale: Int, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(out.count >= m.count, "output shorter than the mantissas")
        let p = pow10[scale]
        m.withUnsafeBufferPointer { mb in
            // Safe: out has at least m.count slots (checked above).
            if scale == 0 {
                for i in 0..<mb.count { out[i] = Double(mb[i]) }
            } else {
                for i in 0..<mb.count { out[i] = Double(mb[i]) / p }
            }
        }
    }
}

// MARK: - Prices relative to the bar's open

/// The four prices of a bar at one decimal scale: open as a decimal block, close, high and
/// low relative to it (encoding 5): close = open + x, high = max(open, close) + x,
/// low = min(open, close) - x. Single-trade bars (all four equal) and high/low at the body's
/// edge store x = 0.
public enum PriceCodec {
    /// How a relative price column is reconstructed (the `relation` byte of encoding 5).
    public enum Relation: Int { case none = 0, closeFromOpen = 1, highFromBody = 2, lowFromBody = 3 }

    /// Encodes open/close/high/low; nil when they do not share an exact decimal form.
    /// Returns the four encoded blocks' bytes.
    public static func encode(_ cols: [UnsafeBufferPointer<Double>], scratch: inout [[Int64]]) -> [[UInt8]]? {
        var scales: [Int] = []
        for k in 0..<4 {
            guard let s = FloatCodec.decimalize(cols[k], mantissas: &scratch[k]) else { return nil }
            scales.append(s)
        }
        let found = (0..<4).map { k in scratch[k] }
        return found[0].withUnsafeBufferPointer { o in found[1].withUnsafeBufferPointer { c in
            found[2].withUnsafeBufferPointer { h in found[3].withUnsafeBufferPointer { l in
                encode(decimals: [(scales[0], o), (scales[1], c), (scales[2], h), (scales[3], l)], scratch: &scratch)
            } } } }
    }

    /// The same from the four columns' decimal forms (the scale and mantissas `decimalize`
    /// finds for each); nil when they do not fit one common scale. `scratch` holds 4 arrays.
    public static func encode(decimals cols: [(scale: Int, mantissas: UnsafeBufferPointer<Int64>)],
                              scratch: inout [[Int64]]) -> [[UInt8]]? {
        var out = [ByteWriter](repeating: ByteWriter(), count: 4)
        var relative: [Int64] = []
        guard encode(decimals: cols, scratch: &scratch, relative: &relative, into: &out) else { return nil }
        return out.map { $0.bytes }
    }

    /// The same into `out` (4 writers, emptied first: open, close, high, low), with the buffers
    /// of `scratch` (4 arrays) and `relative` reused from call to call; false when the columns do
    /// not fit one common scale (then `out` holds nothing to use).
    public static func encode(decimals cols: [(scale: Int, mantissas: UnsafeBufferPointer<Int64>)],
                              scratch: inout [[Int64]], relative: inout [Int64], into out: inout [ByteWriter]) -> Bool {
        precondition(cols.count == 4 && scratch.count == 4 && out.count == 4, "four price columns")
        let S = cols.map { $0.scale }.max()!
        let n = cols[0].mantissas.count
        // Rescale to the common scale; every mantissa must stay below 2^53.
        for k in 0..<4 where cols[k].scale < S {
            let f = Int64(pow10[S - cols[k].scale])
            scratch[k].removeAll(keepingCapacity: true)
            for x in cols[k].mantissas {
                let (m, o) = x.multipliedReportingOverflow(by: f)
                guard !o, m.magnitude < UInt64(FloatCodec.maxMantissa) else { return false }
                scratch[k].append(m)
            }
        }
        if relative.count < 3 * n { relative = [Int64](repeating: 0, count: 3 * n) }
        func body(_ o: UnsafeBufferPointer<Int64>, _ c: UnsafeBufferPointer<Int64>, _ h: UnsafeBufferPointer<Int64>,
                  _ l: UnsafeBufferPointer<Int64>) {
            relative.withUnsafeMutableBufferPointer { rb in
                // Safe: rb has at least 3 * n slots (three columns of n); o, c, h, l have n values each.
                let rel = rb.baseAddress!
                let r0 = rel, r1 = rel + n, r2 = rel + 2 * n
                for i in 0..<n {
                    let hi = max(o[i], c[i]), lo = min(o[i], c[i])
                    // Safe: all magnitudes are below 2^53, so differences cannot overflow.
                    r0[i] = c[i] &- o[i]
                    r1[i] = h[i] &- hi
                    r2[i] = lo &- l[i]
                }
                out[0].bytes.removeAll(keepingCapacity: true)
                FloatCodec.writeDecimal(scale: S, mantissas: o, into: &out[0])
                for k in 0..<3 {
                    out[k + 1].bytes.removeAll(keepingCapacity: true)
                    out[k + 1].u8(UInt8(S)); out[k + 1].u8(UInt8(k + 1)); out[k + 1].u16(0); out[k + 1].u32(0)
                    IntCodec.encode(UnsafeBufferPointer(start: rel + k * n, count: n), into: &out[k + 1])
                }
            }
        }
        // The rescaled columns are read from a copy of the array of arrays (`scratch` itself is
        // not touched until the next call, so the copy shares its buffers).
        let sc = scratch
        func col(_ k: Int, _ f: (UnsafeBufferPointer<Int64>) -> Void) {
            cols[k].scale < S ? sc[k].withUnsafeBufferPointer(f) : f(cols[k].mantissas)
        }
        col(0) { o in col(1) { c in col(2) { h in col(3) { l in body(o, c, h, l) } } } }
        return true
    }
}
