#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

/// Buffered writes to stdout (data) with number formatting that allocates nothing per value:
/// one fixed buffer, written out in blocks of at least 64 KiB.
final class Output {
    /// Flush threshold; the buffer has room for one more row of any width beyond it.
    static let flushAt = 1 << 16
    private let capacity: Int
    private let buf: UnsafeMutablePointer<UInt8>
    /// Bytes buffered. (Unchecked exclusivity: the class is used from one thread, and this is
    /// touched several times per value.)
    @exclusivity(unchecked) private var n = 0
    private let fd: Int32

    init(fd: Int32 = 1) {
        self.fd = fd
        capacity = Output.flushAt * 2
        buf = .allocate(capacity: capacity)
    }
    deinit {
        flush()
        buf.deallocate()
    }

    func flush() {
        var off = 0
        while off < n {
            let w = write(fd, buf + off, n - off)
            if w < 0 { if errno == EINTR { continue }; if errno == EPIPE { exit(0) }; break }
            off += w
        }
        n = 0
    }
    /// Bytes buffered so far (for column padding).
    var mark: Int { n }
    @inline(__always) func maybeFlush() { if n >= Output.flushAt { flush() } }

    /// Makes room for `k` more bytes (flushing if needed); returns false if `k` can never fit.
    @inline(__always) private func room(_ k: Int) {
        if k > capacity - n { flush() }
    }

    @inline(__always) func byte(_ b: UInt8) {
        room(1)
        buf[n] = b; n &+= 1
    }
    func text(_ s: String) {
        var s = s
        s.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }
    func bytes(_ s: UnsafeRawBufferPointer) {
        var rest = s
        while !rest.isEmpty {
            room(min(rest.count, capacity))
            let k = min(rest.count, capacity - n)
            // Safe: room() left at least k bytes free.
            UnsafeMutableRawPointer(buf + n).copyMemory(from: rest.baseAddress!, byteCount: k)
            n &+= k
            rest = UnsafeRawBufferPointer(rebasing: rest[k...])
        }
    }
    func bytes(_ s: [UInt8]) { s.withUnsafeBytes { bytes($0) } }
    func bytes<C: Collection>(_ s: C) where C.Element == UInt8 { for b in s { byte(b) } }

    func int(_ v: Int64) {
        room(24)
        if v < 0 {
            buf[n] = UInt8(ascii: "-"); n &+= 1
            putDigits(UInt64(0) &- UInt64(bitPattern: v), minDigits: 1, point: 0)
        } else {
            putDigits(UInt64(v), minDigits: 1, point: 0)
        }
    }
    func uint(_ v: UInt64) { room(24); putDigits(v, minDigits: 1, point: 0) }

    /// Writes the decimal digits of `v`, at least `minDigits` of them (leading zeros), with a
    /// '.' before the last `point` digits (`minDigits > point` when `point > 0`). The caller
    /// made room for 24 bytes. Two digits per division by 100.
    @inline(__always) private func putDigits(_ v0: UInt64, minDigits: Int, point: Int) {
        var digits = 1, t = v0
        while t >= 100 { t /= 100; digits &+= 2 }
        if t >= 10 { digits &+= 1 }
        if digits < minDigits { digits = minDigits }
        let len = digits &+ (point > 0 ? 1 : 0)
        // Safe: at most 20 digits and a point; the caller made room for 24 bytes, and every
        // store below is at an index in [n, n + len).
        var i = n &+ len, v = v0, left = digits
        @inline(__always) func two() {
            let q = v / 100
            let r = UInt32(truncatingIfNeeded: v &- q &* 100)
            let tens = r / 10
            i &-= 2
            buf[i] = UInt8(truncatingIfNeeded: 48 &+ tens)
            buf[i &+ 1] = UInt8(truncatingIfNeeded: 48 &+ r &- tens &* 10)
            v = q
        }
        @inline(__always) func one() {
            let q = v / 10
            i &-= 1
            buf[i] = UInt8(truncatingIfNeeded: 48 &+ (v &- q &* 10))
            v = q
        }
        if point > 0 {
            var f = point
            while f >= 2 { two(); f &-= 2 }
            if f == 1 { one() }
            i &-= 1
            buf[i] = UInt8(ascii: ".")
            left &-= point
        }
        while left >= 2 { two(); left &-= 2 }
        if left == 1 { one() }
        n &+= len
    }

    /// Shortest decimal text that reads back as the same Double (`147.3`, `12`, `0.0125`):
    /// the smallest number of decimals s <= 17 with Double(m) / 10^s == v, else Swift's own
    /// shortest representation.
    func double(_ v: Double) {
        if v.isFinite, v.magnitude < 1e15 {
            let t = Int64(v)  // truncates
            if Double(t) == v {
                if v == 0 && v.sign == .minus { text("-0"); return }
                int(t); return
            }
            if v.magnitude >= 1e-7 {
                var p = 1.0
                for s in 1...17 {
                    p *= 10
                    let x = v * p
                    guard x.magnitude < 9e15 else { break }
                    // Round half away from zero; beyond 2^52 x is already an integer.
                    let m = x.magnitude >= 4_503_599_627_370_496 ? Int64(x) : Int64(x + (x < 0 ? -0.5 : 0.5))
                    if Double(m) / p == v {
                        decimal(m, scale: s); return
                    }
                }
            }
        }
        text(v.description)
    }

    /// m / 10^scale as decimal text with no trailing zeros.
    func decimal(_ m0: Int64, scale: Int) {
        var m = m0, s = scale
        while s > 0, m % 10 == 0 { m /= 10; s -= 1 }
        room(24)
        if m < 0 { buf[n] = UInt8(ascii: "-"); n &+= 1 }
        putDigits(m < 0 ? UInt64(0) &- UInt64(bitPattern: m) : UInt64(m), minDigits: s &+ 1, point: s)
    }
}

/// Messages to stderr.
func note(_ s: String) {
    var line = s
    line.append("\n")
    _ = line.withCString { fputs($0, stderr) }
}

var stderrIsTTY: Bool { isatty(2) != 0 }
