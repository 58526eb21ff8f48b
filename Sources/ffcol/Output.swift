#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

/// Buffered writes to stdout (data) with number formatting that allocates nothing per value.
final class Output {
    private var buf: [UInt8] = []
    private let fd: Int32
    init(fd: Int32 = 1) { self.fd = fd; buf.reserveCapacity(1 << 17) }
    deinit { flush() }

    func flush() {
        var off = 0
        buf.withUnsafeBytes { raw in
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; if errno == EPIPE { exit(0) }; break }
                off += n
            }
        }
        buf.removeAll(keepingCapacity: true)
    }
    /// Bytes buffered so far (for column padding).
    var mark: Int { buf.count }
    @inline(__always) func maybeFlush() { if buf.count >= 1 << 16 { flush() } }

    @inline(__always) func byte(_ b: UInt8) { buf.append(b) }
    func text(_ s: String) { buf.append(contentsOf: s.utf8) }
    func bytes<C: Collection>(_ s: C) where C.Element == UInt8 { buf.append(contentsOf: s) }

    func int(_ v: Int64) {
        if v < 0 {
            byte(UInt8(ascii: "-"))
            uint(v == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-v))
        } else {
            uint(UInt64(v))
        }
    }
    func uint(_ v0: UInt64) {
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
        withUnsafeMutableBytes(of: &tmp) { t in
            var i = 24, v = v0
            repeat { i -= 1; t[i] = UInt8(48 + v % 10); v /= 10 } while v > 0
            buf.append(contentsOf: t[i..<24])
        }
    }

    /// Shortest decimal text that reads back as the same Double (`147.3`, `12`, `0.0125`).
    func double(_ v: Double) {
        if v.isFinite, v == v.rounded(), v.magnitude < 1e15 {
            if v == 0 && v.sign == .minus { text("-0"); return }
            int(Int64(v)); return
        }
        if v.isFinite, v.magnitude < 1e15, v.magnitude >= 1e-7 {
            var p = 1.0
            for s in 1...17 {
                p *= 10
                let m = (v * p).rounded()
                if m.magnitude < 9e15, Double(m) / p == v {
                    decimal(Int64(m), scale: s); return
                }
            }
        }
        text(v.description)
    }

    /// m / 10^scale as decimal text with no trailing zeros.
    func decimal(_ m0: Int64, scale: Int) {
        var m = m0, s = scale
        while s > 0, m % 10 == 0 { m /= 10; s -= 1 }
        if m < 0 { byte(UInt8(ascii: "-")); m = -m }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { t in
            var i = 24, v = UInt64(m), k = 0
            repeat {
                i -= 1; t[i] = UInt8(48 + v % 10); v /= 10; k += 1
                if k == s { i -= 1; t[i] = UInt8(ascii: ".") }
            } while v > 0 || k < s
            if t[i] == UInt8(ascii: ".") { i -= 1; t[i] = UInt8(ascii: "0") }
            buf.append(contentsOf: t[i..<24])
        }
    }
}

/// Messages to stderr.
func note(_ s: String) {
    var line = s
    line.append("\n")
    _ = line.withCString { fputs($0, stderr) }
}

var stderrIsTTY: Bool { isatty(2) != 0 }
