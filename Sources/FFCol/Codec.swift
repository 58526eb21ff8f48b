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

@inline(__always) func byteWidth(_ maxValue: UInt64) -> Int {
    if maxValue == 0 { return 0 }
    if maxValue <= 0xFF { return 1 }
    if maxValue <= 0xFFFF { return 2 }
    if maxValue <= 0xFFFF_FFFF { return 4 }
    return 8
}

/// Integer block layout: u8 mode (0 = frame of reference, 1 = delta) | u8 width (0,1,2,4,8) |
/// u16 0 | u32 0 | i64 base | u64 divisor | n x width bytes.
public enum IntCodec {
    public static let headerSize = 24

    /// Encodes `values` choosing the narrower of frame-of-reference and zigzag delta.
    public static func encode(_ values: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        let n = values.count
        guard n > 0 else {
            w.u8(0); w.u8(0); w.u16(0); w.u32(0); w.i64(0); w.u64(1); return
        }
        var mn = values[0], mx = values[0]
        var dgcd: UInt64 = 0
        var dmaxZ: UInt64 = 0
        var prev = values[0]
        for v in values {
            if v < mn { mn = v }
            if v > mx { mx = v }
            // Safe: wrapping difference; decoding adds it back with the same wrapping.
            let d = v &- prev
            prev = v
            dgcd = gcd(dgcd, d.magnitude)
        }
        var fgcd: UInt64 = 0
        for v in values { fgcd = gcd(fgcd, UInt64(bitPattern: v &- mn)) }
        if fgcd == 0 { fgcd = 1 }
        if dgcd == 0 { dgcd = 1 }
        let forWidth = byteWidth(UInt64(bitPattern: mx &- mn) / fgcd)
        prev = values[0]
        for v in values {
            let d = v &- prev
            prev = v
            let z = zigzag(d / Int64(bitPattern: dgcd == UInt64(1) << 63 ? 1 : dgcd))
            if z > dmaxZ { dmaxZ = z }
        }
        // A divisor of 2^63 cannot be represented as a positive Int64: fall back to 1.
        if dgcd == UInt64(1) << 63 { dgcd = 1; dmaxZ = UInt64.max }
        let deltaWidth = byteWidth(dmaxZ)
        let useDelta = deltaWidth < forWidth
        let width = useDelta ? deltaWidth : forWidth
        w.u8(useDelta ? 1 : 0); w.u8(UInt8(width)); w.u16(0); w.u32(0)
        w.i64(useDelta ? values[0] : mn)
        w.u64(useDelta ? dgcd : fgcd)
        let start = w.bytes.count
        w.bytes.append(contentsOf: repeatElement(0, count: n * width))
        guard width > 0 else { return }
        w.bytes.withUnsafeMutableBytes { raw in
            // Safe: the array was just grown by n * width bytes from `start`.
            let out = raw.baseAddress! + start
            var p = values[0]
            for i in 0..<n {
                let u: UInt64
                if useDelta {
                    let d = values[i] &- p
                    p = values[i]
                    u = zigzag(d / Int64(bitPattern: dgcd))
                } else {
                    u = UInt64(bitPattern: values[i] &- mn) / fgcd
                }
                switch width {
                case 1: out.storeBytes(of: UInt8(truncatingIfNeeded: u), toByteOffset: i, as: UInt8.self)
                case 2: out.storeBytes(of: UInt16(truncatingIfNeeded: u).littleEndian, toByteOffset: i * 2, as: UInt16.self)
                case 4: out.storeBytes(of: UInt32(truncatingIfNeeded: u).littleEndian, toByteOffset: i * 4, as: UInt32.self)
                default: out.storeBytes(of: u.littleEndian, toByteOffset: i * 8, as: UInt64.self)
                }
            }
        }
    }

    /// Decodes `out.count` values. Throws (via `fail`) on a layout that does not match.
    public static func decode(_ src: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Int64>,
                              fail: (String) -> Error) throws {
        let n = out.count
        guard src.count >= headerSize else { throw fail("integer block shorter than its header") }
        let mode = src[0], width = Int(src[1])
        guard mode <= 1, [0, 1, 2, 4, 8].contains(width) else { throw fail("integer block has mode \(mode), width \(width)") }
        guard src.count == headerSize + n * width else {
            throw fail("integer block holds \(src.count - headerSize) bytes, expected \(n) x \(width)")
        }
        let base = Int64(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        let div = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let p = src.baseAddress! + headerSize
        guard let o = out.baseAddress else { return }
        // Safe: size checked above: n * width bytes follow the header; o has n slots.
        // All arithmetic wraps: a damaged block decodes to wrong numbers, never a trap
        // (and a damaged block fails its checksum before it gets here).
        @inline(__always) func load(_ i: Int) -> UInt64 {
            switch width {
            case 1: return UInt64(p.load(fromByteOffset: i, as: UInt8.self))
            case 2: return UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
            case 4: return UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)))
            default: return UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
            }
        }
        if width == 0 {
            for i in 0..<n { o[i] = base }
            return
        }
        if mode == 0 {
            switch width {
            case 1: for i in 0..<n { o[i] = base &+ Int64(bitPattern: UInt64(p.load(fromByteOffset: i, as: UInt8.self)) &* div) }
            case 2: for i in 0..<n { o[i] = base &+ Int64(bitPattern: UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))) &* div) }
            default: for i in 0..<n { o[i] = base &+ Int64(bitPattern: load(i) &* div) }
            }
        } else {
            let d = Int64(bitPattern: div)
            var acc = base
            switch width {
            case 1:
                for i in 0..<n { acc = acc &+ unzigzag(UInt64(p.load(fromByteOffset: i, as: UInt8.self))) &* d; o[i] = acc }
            case 2:
                for i in 0..<n { acc = acc &+ unzigzag(UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))) &* d; o[i] = acc }
            default:
                for i in 0..<n { acc = acc &+ unzigzag(load(i)) &* d; o[i] = acc }
            }
        }
    }
}

/// Float64 columns: as decimal mantissas at one scale when every value round-trips exactly,
/// else as raw bits. Decimal layout: u8 scale (0...22) | 7 bytes 0 | integer block of mantissas.
public enum FloatCodec {
    /// Largest mantissa magnitude for which Double(m) is exact, so Double(m) / 10^s is
    /// correctly rounded (one IEEE division of two exact operands).
    static let maxMantissa: Int64 = 1 << 53

    /// Finds the smallest scale at which all values are m / 10^s with exact round trip and
    /// fills `mantissas`. Returns nil when some value has no such form (use raw bits).
    public static func decimalize(_ values: UnsafeBufferPointer<Double>, mantissas: inout [Int64]) -> Int? {
        mantissas.removeAll(keepingCapacity: true)
        var scale = 0
        for v in values {
            // A value that round-trips at `scale` also does at any larger scale while m stays
            // below 2^53, so the scale only grows. Check bits: -0.0 and NaN never pass.
            while true {
                let m = (v * pow10[scale]).rounded()
                if m.magnitude < 9.0e15, Double(Int64(m)) / pow10[scale] == v, v.sign == .plus || v != 0 { break }
                if !(v.isFinite) || scale >= 15 { return nil }
                scale += 1
            }
        }
        for v in values {
            let m = Int64((v * pow10[scale]).rounded())
            // Verify the final scale for every value (bit-identical round trip).
            guard m.magnitude < UInt64(maxMantissa),
                  (Double(m) / pow10[scale]).bitPattern == v.bitPattern else { return nil }
            mantissas.append(m)
        }
        return scale
    }

    public static func encode(_ values: UnsafeBufferPointer<Double>, scratch: inout [Int64],
                              into w: inout ByteWriter) -> BlockEncoding {
        if let s = decimalize(values, mantissas: &scratch) {
            w.u8(UInt8(s)); w.u8(0); w.u16(0); w.u32(0)
            scratch.withUnsafeBufferPointer { IntCodec.encode($0, into: &w) }
            return .decimal
        }
        for v in values { w.u64(v.bitPattern) }
        return .rawFloat
    }

    public static func decode(_ src: UnsafeRawBufferPointer, encoding: BlockEncoding,
                              into out: UnsafeMutableBufferPointer<Double>, scratch: inout [Int64],
                              fail: (String) -> Error) throws {
        let n = out.count
        switch encoding {
        case .rawFloat:
            guard src.count == n * 8 else { throw fail("float block holds \(src.count) bytes, expected \(n) x 8") }
            // Safe: size checked; out has n slots.
            for i in 0..<n {
                out[i] = Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)))
            }
        case .decimal:
            guard src.count >= 8 else { throw fail("decimal block shorter than its header") }
            let scale = Int(src[0])
            guard scale <= 22 else { throw fail("decimal block has scale \(scale) (at most 22)") }
            if scratch.count < n { scratch = [Int64](repeating: 0, count: n) }
            try scratch.withUnsafeMutableBufferPointer { m in
                let mm = UnsafeMutableBufferPointer(rebasing: m[0..<n])
                try IntCodec.decode(UnsafeRawBufferPointer(rebasing: src[8...]), into: mm, fail: fail)
                let p = pow10[scale]
                if scale == 0 {
                    for i in 0..<n { out[i] = Double(mm[i]) }
                } else {
                    for i in 0..<n { out[i] = Double(mm[i]) / p }
                }
            }
        default:
            throw fail("encoding \(encoding.name) is not a float encoding")
        }
    }
}
