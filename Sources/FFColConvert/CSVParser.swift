#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol
import CFFColKernels

// MARK: - The CSV parser (stage 2: bytes -> typed values)

/// Parses flat-file CSV (`ticker,volume,open,close,high,low,window_start,transactions`)
/// from complete lines in a byte buffer straight into a `RowSink`.
///
/// Contract: `parseLines` is given a region that ends right after a `\n`, or, at the end of
/// the input, the final line without one. It never reads outside the region. Lines split
/// across input blocks are joined by `LineAssembler` before they get here.
///
/// Numbers: Float64 fields that are exact short decimals (`ParsedFloat`) are kept as integer
/// mantissa and scale, which the encoder uses directly; their Double is the correctly rounded
/// quotient. Others become a Double: a fast path for plain decimals (<= 19 significant digits
/// and a power-of-ten exponent within +-22, where one IEEE multiply or divide of exact operands
/// is correctly rounded); anything else goes through glibc `strtod`, which is correctly
/// rounded. Either way the Double is bit-identical to Swift's `Double(String)` of the same text.
public struct CSVParser {
    public static let header = Array("ticker,volume,open,close,high,low,window_start,transactions".utf8)
    static let fieldNames = ["ticker", "volume", "open", "close", "high", "low", "window_start", "transactions"]

    public let fileName: String
    /// Exact powers of ten 10^0 ... 10^22 (a stored copy: no lazy-global check per number).
    let pow10Table: [Double] = (0...22).map { e in
        var v = 1.0
        for _ in 0..<e { v *= 10 }
        return v
    }
    /// Lines seen so far (the header is line 1).
    public private(set) var line = 0
    public private(set) var sawHeader = false
    /// The previous row's ticker when it had at most 32 bytes: its bytes in four little-endian
    /// words, zero past its length, and the masks that keep its `lastTickerLength` bytes of a
    /// word; else length 0. It was validated and appended to the sink, whose current ticker it
    /// therefore is.
    var lastTicker: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var lastTickerMasks: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var lastTickerLength = 0

    public init(fileName: String) { self.fileName = fileName }

    // Every method that `parseRow` calls and the compiler may not inline (slow paths, errors) is
    // `mutating`, though none changes the parser: a non-mutating call takes `self` as an
    // immutable value, and from a mutating method the compiler made one by copying the whole
    // struct (then 88 bytes) for every row. A mutating call passes the address.

    // MARK: Errors

    mutating func error(_ kind: ConvertError.Kind, field: Int?, _ p: UnsafePointer<UInt8>?, _ e: UnsafePointer<UInt8>?,
               _ message: String) -> ConvertError {
        var text: String?
        if let p = p, let e = e {
            // Show the field up to its delimiter, at most 60 bytes.
            var q = p
            while q < e, q.pointee != UInt8(ascii: ","), q.pointee != 10, q.pointee != 13, q - p < 60 { q += 1 }
            text = String(decoding: UnsafeBufferPointer(start: p, count: q - p), as: UTF8.self)
        }
        return ConvertError(kind, file: fileName, line: line, column: field.map { CSVParser.fieldNames[$0] }, text: text, message)
    }

    // MARK: Lines

    /// Parses every line in `region`. Returns the number of data rows appended.
    @discardableResult
    public mutating func parseLines(_ region: UnsafeRawBufferPointer, into sink: inout RowSink) throws -> Int {
        guard let rb = region.baseAddress, region.count > 0 else { return 0 }
        var p = rb.assumingMemoryBound(to: UInt8.self)
        let end = p + region.count
        var rows = 0
        if !sawHeader {
            p = try parseHeader(p, end)
        }
        // Safe: every read below is guarded by `p < end` (or `q < e`) against the region end.
        while p < end {
            line &+= 1
            p = try parseRow(p, end, &sink)
            rows &+= 1
        }
        return rows
    }

    mutating func parseHeader(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws -> UnsafePointer<UInt8> {
        var p = start
        line = 1
        // UTF-8 byte order mark.
        if end - p >= 3, p[0] == 0xEF, p[1] == 0xBB, p[2] == 0xBF { p += 3 }
        var e = p
        while e < end, e.pointee != 10 { e += 1 }
        let next = e < end ? e + 1 : e
        if e > p, (e - 1).pointee == 13 { e -= 1 }
        let got = UnsafeBufferPointer(start: p, count: e - p)
        guard got.elementsEqual(CSVParser.header) else {
            var shown = String(decoding: got.prefix(120), as: UTF8.self)
            if got.count > 120 { shown += "..." }
            throw ConvertError(.badHeader, file: fileName, line: 1, text: shown,
                               "expected the header '\(String(decoding: CSVParser.header, as: UTF8.self))'")
        }
        sawHeader = true
        return next
    }

    mutating func badTicker(_ t: UnsafePointer<UInt8>, _ n: Int) -> ConvertError {
        var shown = ""
        var first = -1
        for k in 0..<min(n, 60) {
            let b = t[k]
            if b >= 0x20 && b <= 0x7E { shown.append(Character(Unicode.Scalar(b))) } else {
                if first < 0 { first = k }
                shown += "\\x" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return ConvertError(.badValue, file: fileName, line: line, column: "ticker", text: shown,
                            "byte \(first + 1) of the ticker is not printable ASCII (flat-file tickers are ASCII; shown escaped)")
    }

    /// The ticker at `p`: up to the first comma (or a line end: an error), found in the first 32
    /// bytes at once when 32 remain (`ffcol_delimiters32`), else eight bytes at a time while
    /// eight remain, then byte by byte; checked to be 1 to 255 bytes of printable ASCII. Leaves
    /// `p` at the comma and returns the length.
    @inline(__always)
    mutating func parseTicker(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws -> Int {
        // Most tickers (OCC symbols have 21 bytes) end within 32 bytes: one SIMD pass over them
        // finds the delimiter and the bytes that are not printable ASCII.
        if end - p >= 32 {
            var unprintable: UInt32 = 0
            // Safe: 32 bytes remain at p.
            let delimiters = ffcol_delimiters32(p, &unprintable)
            if delimiters != 0 {
                let t0 = p
                let tlen = delimiters.trailingZeroBitCount
                p += tlen
                if p.pointee != UInt8(ascii: ",") {
                    if tlen == 0 { throw error(.fieldCount, field: nil, nil, nil, "empty line; expected 8 fields") }
                    throw error(.fieldCount, field: nil, t0, end, "expected 8 fields, found 1")
                }
                if tlen == 0 { throw error(.badValue, field: 0, t0, end, "empty ticker") }
                if unprintable & ((1 << UInt32(tlen)) &- 1) != 0 { throw badTicker(t0, tlen) }
                return tlen
            }
        }
        // Printable ASCII check of the same words: a byte outside 0x20...0x7E has its high bit
        // set in `x`, or in `x + 0x60` not set (below 0x20), or in `x + 0x01` set (0x7F).
        // Carries between bytes start only at bytes with the high bit set, which are flagged.
        let t0 = p
        var bad: UInt64 = 0
        p = CSVParser.findDelimiter(p, end) { x, below in
            bad |= (x | ~(x &+ 0x6060_6060_6060_6060) | (x &+ 0x0101_0101_0101_0101)) & 0x8080_8080_8080_8080 & below
        }
        let tlen = p - t0
        if p == end || p.pointee != UInt8(ascii: ",") {
            if tlen == 0 { throw error(.fieldCount, field: nil, nil, nil, "empty line; expected 8 fields") }
            throw error(.fieldCount, field: nil, t0, end, "expected 8 fields, found 1")
        }
        if tlen == 0 { throw error(.badValue, field: 0, t0, end, "empty ticker") }
        if tlen > 255 { throw error(.badValue, field: 0, t0, end, "ticker longer than 255 bytes") }
        // Flat-file tickers are printable ASCII; anything else (control bytes, UTF-8, binary
        // garbage) is rejected rather than stored, so tickers are always safe to print.
        // The bytes findDelimiter read one by one (fewer than 8 were left in the region).
        let w0 = (tlen >> 3) << 3
        if end - (t0 + w0) < 8 {
            for k in w0..<tlen { let b = t0[k]; bad |= UInt64(b &- 0x20 > 0x5E ? 1 : 0) }
        }
        if bad != 0 { throw badTicker(t0, tlen) }
        return tlen
    }

    /// Whether the row at `t0` starts with the previous row's ticker and a comma (most rows:
    /// bars of one ticker are consecutive). Needs 33 bytes at `t0`; else false.
    @inline(__always)
    func repeatsTicker(_ t0: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Bool {
        let n = lastTickerLength
        guard n > 0, end - t0 >= 33 else { return false }
        // Safe: 33 bytes remain at t0; the loads read t0[0..<32] and the comma check t0[n], n <= 32.
        let r = UnsafeRawPointer(t0)
        @inline(__always) func word(_ k: Int) -> UInt64 { UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 8 &* k, as: UInt64.self)) }
        let diff = (word(0) & lastTickerMasks.0 ^ lastTicker.0) | (word(1) & lastTickerMasks.1 ^ lastTicker.1)
            | (word(2) & lastTickerMasks.2 ^ lastTicker.2) | (word(3) & lastTickerMasks.3 ^ lastTicker.3)
        return diff == 0 && t0[n] == UInt8(ascii: ",")
    }

    /// Remembers the ticker of `n` bytes at `t0` (validated) for `repeatsTicker`.
    @inline(__always)
    mutating func rememberTicker(_ t0: UnsafePointer<UInt8>, _ n: Int, _ end: UnsafePointer<UInt8>) {
        guard n <= 32, end - t0 >= 32 else { lastTickerLength = 0; return }
        // Safe: 32 bytes remain at t0.
        let r = UnsafeRawPointer(t0)
        @inline(__always) func mask(_ k: Int) -> UInt64 { k >= 8 ? .max : k <= 0 ? 0 : UInt64.max &>> UInt64(64 &- 8 &* k) }
        lastTickerMasks = (mask(n), mask(n &- 8), mask(n &- 16), mask(n &- 24))
        lastTicker = (UInt64(littleEndian: r.loadUnaligned(as: UInt64.self)) & lastTickerMasks.0,
                      UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) & lastTickerMasks.1,
                      UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) & lastTickerMasks.2,
                      UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 24, as: UInt64.self)) & lastTickerMasks.3)
        lastTickerLength = n
    }

    @inline(__always)
    mutating func parseRow(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ sink: inout RowSink) throws -> UnsafePointer<UInt8> {
        var p = start
        let t0 = p
        let tlen: Int
        let sameTicker = repeatsTicker(t0, end)
        if sameTicker {
            tlen = lastTickerLength
            p += tlen
        } else {
            tlen = try parseTicker(&p, end)
        }
        p += 1
        let vol = try parseFloat(&p, end, field: 1)
        // Prices: a field whose text repeats the one before it (open = close = high = low in
        // most options minute bars, which hold one trade) is not parsed again.
        var f = p
        let o = try parseFloat(&p, end, field: 2)
        let c: ParsedFloat, h: ParsedFloat, l: ParsedFloat
        if CSVParser.repeatsThrice(f, p, end) {
            // All four prices the same text (four in five options bars): one check.
            c = o; h = o; l = o
            p += 3 &* (p - f)
        } else {
            var g = p
            c = CSVParser.repeatsField(f, p, end) ? o : try parseFloat(&p, end, field: 3)
            if p == g { p += g - f }
            f = g; g = p
            h = CSVParser.repeatsField(f, p, end) ? c : try parseFloat(&p, end, field: 4)
            if p == g { p += g - f }
            f = g; g = p
            l = CSVParser.repeatsField(f, p, end) ? h : try parseFloat(&p, end, field: 5)
            if p == g { p += g - f }
        }
        let ts = try parseTimestamp(&p, end)
        let n = try parseInt(&p, end, field: 7)
        // p is at the line end: \n, \r\n, or the end of the region.
        if p < end {
            if p.pointee == 13 {
                p += 1
                if p < end, p.pointee != 10 { throw error(.badValue, field: 7, start, end, "carriage return inside a line") }
            }
            if p < end { p += 1 }
        }
        try sink.append(ticker: UnsafeRawBufferPointer(start: t0, count: tlen), volume: vol, open: o, close: c,
                        high: h, low: l, windowStart: ts, transactions: n, line: line, sameTicker: sameTicker)
        // Only once the row is in the sink: the remembered ticker is the sink's current one.
        if !sameTicker { rememberTicker(t0, tlen, end) }
        return p
    }

    /// Whether the field at `p` repeats the previous one, which started at `f` and ended, with
    /// its comma, at `p`: the next `p - f` bytes at `p` are the same bytes (the same text, then
    /// a comma). Then its value is the previous one (parsing is a function of the text), and
    /// the caller moves `p` past it. Needs at least 16 bytes at `p` and fields of at most 16
    /// bytes; else false (the field is parsed).
    @inline(__always)
    static func repeatsField(_ f: UnsafePointer<UInt8>, _ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Bool {
        let n = p - f
        guard end - p >= 16 else { return false }
        // Safe: 16 bytes remain at p, and f + 16 <= p + 16 (f < p; n >= 2: a digit and the
        // comma). One word for a field of up to 8 bytes with its comma (most prices), masked to
        // its n bytes; two for up to 16, the second masked to the n - 8 bytes past the first.
        let a0 = UnsafeRawPointer(f).loadUnaligned(as: UInt64.self), b0 = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
        if n <= 8 {
            return UInt64(littleEndian: a0 ^ b0) & (UInt64.max &>> UInt64(64 &- 8 &* n)) == 0
        }
        guard n <= 16 else { return false }
        let a1 = UnsafeRawPointer(f + 8).loadUnaligned(as: UInt64.self), b1 = UnsafeRawPointer(p + 8).loadUnaligned(as: UInt64.self)
        return a0 == b0 && UInt64(littleEndian: a1 ^ b1) & (UInt64.max &>> UInt64(128 &- 8 &* n)) == 0
    }

    /// Whether the three fields at `p` each repeat the field that started at `f` and ended, with
    /// its comma, at `p` (n = p - f bytes): the 3n bytes at `p` equal the 3n bytes at `f`, that
    /// is, the 4n bytes at `f` repeat with period n. One 32-byte comparison; needs n <= 10 and
    /// 32 bytes at `p`, else false (the fields are checked one by one).
    @inline(__always)
    static func repeatsThrice(_ f: UnsafePointer<UInt8>, _ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Bool {
        let n = p - f
        guard n <= 10, end - p >= 32 else { return false }
        // Safe: 32 bytes remain at p, and f < p lies in the same region.
        let equal = ffcol_equal32(f, p)
        return ~equal & ((1 << UInt32(3 &* n)) &- 1) == 0
    }

    /// After a field: consume the delimiter expected after `field` (comma, or line end after the last).
    @inline(__always)
    mutating func endField(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, field: Int, start: UnsafePointer<UInt8>) throws {
        if field < 7 {
            guard p < end, p.pointee == UInt8(ascii: ",") else {
                if p == end || p.pointee == 10 || p.pointee == 13 {
                    throw error(.fieldCount, field: nil, nil, nil, "expected 8 fields, found \(field + 1)")
                }
                throw error(.badValue, field: field, start, end, "expected a number")
            }
            p += 1
        } else {
            guard p == end || p.pointee == 10 || p.pointee == 13 else {
                if p.pointee == UInt8(ascii: ",") {
                    throw error(.fieldCount, field: nil, nil, nil, "expected 8 fields, found more")
                }
                throw error(.badValue, field: field, start, end, "expected an integer")
            }
        }
    }

    // MARK: Numbers

    /// The first `,`, `\n` or `\r` in [p, end), or `end`. SWAR: a byte equal to the delimiter
    /// becomes zero after XOR, and `(x - 0x01..) & ~x & 0x80..` marks the lowest zero byte exactly.
    /// `word(x, mask)` sees every 8-byte word read, with `mask` selecting its bytes before the
    /// delimiter; when the search ends in the byte-by-byte tail, the bytes from
    /// `(p - start) / 8 * 8` on were not given to `word`.
    @inline(__always)
    static func findDelimiter(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>,
                              word: (UInt64, UInt64) -> Void = { _, _ in }) -> UnsafePointer<UInt8> {
        var p = start
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while end - p >= 8 {
            // Safe: 8 bytes remain at p.
            let x = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
            let a = x ^ (ones &* 0x2C), b = x ^ (ones &* 0x0A), c = x ^ (ones &* 0x0D)
            let hit = ((a &- ones) & ~a | (b &- ones) & ~b | (c &- ones) & ~c) & highs
            if hit != 0 {
                let nb = hit.trailingZeroBitCount / 8
                // Whole bytes before the delimiter; the caller's tail loop starts at a multiple of 8.
                word(x, nb == 0 ? 0 : UInt64.max &>> UInt64(64 &- 8 &* nb))
                return p + nb
            }
            word(x, UInt64.max)
            p += 8
        }
        while p < end {
            let c = p.pointee
            if c == UInt8(ascii: ",") || c == 10 || c == 13 { break }
            p += 1
        }
        return p
    }

    /// The 8 bytes at `q`, or, after a minus sign, the 8 at `q + 1` (then `q` moves past the
    /// sign), and whether there was one. The first load does not wait for the sign (negative
    /// numbers are rare, so the branch is predicted). The caller guarantees 9 readable bytes.
    @inline(__always)
    static func digitsWord(_ q: inout UnsafePointer<UInt8>) -> (UInt64, Bool) {
        // Safe: the caller checked that 9 bytes remain at q.
        let x = UInt64(littleEndian: UnsafeRawPointer(q).loadUnaligned(as: UInt64.self))
        guard x & 0xFF == UInt64(UInt8(ascii: "-")) else { return (x, false) }
        q += 1
        return (UInt64(littleEndian: UnsafeRawPointer(q).loadUnaligned(as: UInt64.self)), true)
    }

    /// Eight ASCII digits at `p` as a number, or nil if any byte is not a digit (SWAR).
    /// Caller guarantees 8 readable bytes.
    @inline(__always)
    static func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
        // Safe: the caller checked that p + 8 <= end.
        let raw = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        guard CSVParser.nonDigits(raw) == 0 else { return nil }
        return CSVParser.digitValue(raw &- 0x3030_3030_3030_3030)
    }

    /// An integer field. Fast path (SWAR): `[-]digits` with 1 to 19 digits and at least 25
    /// bytes left in the region: up to four 8-byte loads (one more after a minus), no loop; else `parseIntGeneral`.
    @inline(__always)
    mutating func parseInt(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, field: Int) throws -> Int64 {
        if end - p >= 25 {
            // Safe: 25 bytes remain at p; the loads read q[0..<24] with q <= p + 1.
            var q = p
            let (x, neg) = CSVParser.digitsWord(&q)
            let ndx = CSVParser.nonDigits(x)
            var v: UInt64 = 0, n = 0
            if ndx != 0 {
                n = ndx.trailingZeroBitCount >> 3
                if n > 0 { v = CSVParser.digitValue((x &- 0x3030_3030_3030_3030) &<< UInt64(64 &- 8 &* n)) }
            } else {
                v = CSVParser.digitValue(x &- 0x3030_3030_3030_3030)
                let y = UInt64(littleEndian: UnsafeRawPointer(q + 8).loadUnaligned(as: UInt64.self))
                let ndy = CSVParser.nonDigits(y)
                if ndy != 0 {
                    let ny = ndy.trailingZeroBitCount >> 3
                    if ny > 0 {
                        v = v &* UInt64(pow10Int[ny]) &+ CSVParser.digitValue((y &- 0x3030_3030_3030_3030) &<< UInt64(64 &- 8 &* ny))
                    }
                    n = 8 &+ ny
                } else {
                    v = v &* 100_000_000 &+ CSVParser.digitValue(y &- 0x3030_3030_3030_3030)
                    let z = UInt64(littleEndian: UnsafeRawPointer(q + 16).loadUnaligned(as: UInt64.self))
                    let ndz = CSVParser.nonDigits(z)
                    let nz = ndz.trailingZeroBitCount >> 3  // 8 when all are digits: rejected below
                    if nz > 0, nz < 4 {
                        v = v &* UInt64(pow10Int[nz]) &+ CSVParser.digitValue((z &- 0x3030_3030_3030_3030) &<< UInt64(64 &- 8 &* nz))
                    }
                    n = 16 &+ nz
                }
            }
            // 1 to 19 digits cannot wrap a UInt64 (< 10^19 < 2^64).
            if n > 0, n <= 19, v <= (neg ? UInt64(Int64.max) + 1 : UInt64(Int64.max)) {
                let d = q + n
                if field < 7 ? d.pointee == UInt8(ascii: ",") : (d.pointee == 10 || d.pointee == 13) {
                    p = field < 7 ? d + 1 : d
                    return neg ? Int64(bitPattern: 0 &- v) : Int64(v)
                }
            }
        }
        return try parseIntGeneral(&p, end, field: field)
    }

    /// The window_start field. Fast path: 19 digits whose last nine are zeros (a whole second
    /// in nanoseconds, as every flat file's bars start), then a comma: the zeros and the comma
    /// are two masked compares, and only the first ten digits are converted. Else `parseInt`.
    @inline(__always)
    mutating func parseTimestamp(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) throws -> Int64 {
        if end - p >= 24 {
            // Safe: 24 bytes remain at p; the loads read p[0..<24].
            let r = UnsafeRawPointer(p)
            let x = UInt64(littleEndian: r.loadUnaligned(as: UInt64.self))
            let y = UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let z = UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            // Bytes 10-15 "000000", bytes 16-18 "000" and byte 19 ",", and bytes 0-9 digits (the
            // whole of both words: their top bytes were just found to be "0"). A word passes the
            // digit test only if every byte is a digit.
            if y &>> 16 == 0x3030_3030_3030, z & 0xFFFF_FFFF == 0x2C30_3030,
               CSVParser.nonDigits(x) | CSVParser.nonDigits(y) == 0 {
                let seconds = CSVParser.digitValue(x &- 0x3030_3030_3030_3030) &* 100
                    &+ (y & 0xFF &- 0x30) &* 10 &+ (y &>> 8 & 0xFF &- 0x30)
                // Ten digits: below 10^10, so the product does not wrap a UInt64; above
                // Int64.max (from 9,223,372,037 seconds) it is out of range, which parseInt
                // reports.
                if seconds <= UInt64(Int64.max) / 1_000_000_000 {
                    p += 20
                    return Int64(seconds &* 1_000_000_000)
                }
            }
        }
        return try parseInt(&p, end, field: 6)
    }

    @inline(never)
    mutating func parseIntGeneral(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, field: Int) throws -> Int64 {
        let start = p
        var neg = false
        if p < end, p.pointee == UInt8(ascii: "-") { neg = true; p += 1 }
        let d0 = p
        var v: UInt64 = 0
        // Fast path for long numbers such as 19-digit nanosecond timestamps: 16 digits in two
        // SWAR steps, the rest below. Safe: both loads are inside [p, end).
        if end - p >= 17, let hi = CSVParser.eightDigits(p), let lo = CSVParser.eightDigits(p + 8) {
            v = hi &* 100_000_000 &+ lo
            p += 16
        }
        while p < end {
            let d = p.pointee &- 48
            if d > 9 { break }
            // Safe: overflow is detected below from the digit count and the final comparison.
            v = v &* 10 &+ UInt64(d)
            p += 1
        }
        let nd = p - d0
        guard nd > 0 else {
            let empty = p == start && (p == end || p.pointee == UInt8(ascii: ",") || p.pointee == 10 || p.pointee == 13)
            throw error(.badValue, field: field, start, end, empty ? "empty value; expected an integer" : "expected an integer")
        }
        // Up to 19 digits cannot wrap a UInt64 (< 1e19 < 2^64); longer ones are re-read exactly
        // (they can only be in range with leading zeros).
        if nd > 19 {
            var exact: UInt64 = 0
            var q = d0
            while q < p {
                let (m, o1) = exact.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(q.pointee - 48))
                if o1 || o2 { throw error(.badValue, field: field, start, end, "integer out of range") }
                exact = a; q += 1
            }
            v = exact
        }
        if v > (neg ? UInt64(Int64.max) + 1 : UInt64(Int64.max)) {
            throw error(.badValue, field: field, start, end, "integer out of range")
        }
        try endField(&p, end, field: field, start: start)
        return neg ? Int64(bitPattern: 0 &- v) : Int64(v)
    }

    /// Powers of ten 10^0 ... 10^18 as integers (a stored copy, like `pow10Table`).
    let pow10Int: [Int64] = (0...18).map { e in
        var v: Int64 = 1
        for _ in 0..<e { v *= 10 }
        return v
    }

    /// The lowest byte of `x` that is not an ASCII digit has its high bit set in the result, and
    /// no byte below it (SWAR); zero when all eight are digits. For a byte b with no borrow or
    /// carry from below, b - 0x30 has the high bit for b < 0x30 and b >= 0xB0, and b + 0x46 for
    /// 0x3A <= b < 0xBA: together every byte but "0"..."9". Borrows and carries start only at a
    /// non-digit byte, so bytes above the lowest non-digit may be flagged or not: only the
    /// lowest flagged byte is ever used.
    @inline(__always)
    static func nonDigits(_ x: UInt64) -> UInt64 {
        ((x &- 0x3030_3030_3030_3030) | (x &+ 0x4646_4646_4646_4646)) & 0x8080_8080_8080_8080
    }

    /// The digits (0...9 per byte, first digit in the lowest byte) of `d` as a number, where
    /// the digits occupy the top bytes and the bytes below them are zero.
    @inline(__always)
    static func digitValue(_ d: UInt64) -> UInt64 {
        // Pairs, quads, then the halves, each with one multiply: (v * (10 << 8 + 1)) >> 8 puts
        // 10 * byte i + byte i+1 in byte i (no lane overflows: at most 99, 9999, 99999999).
        var v = (d &* 2561) &>> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) &>> 16
        v = ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) &>> 32
        return v
    }

    /// A Float64 field as an exact decimal when it has one that the encoder can use as is
    /// (see `ParsedFloat`), else as the correctly rounded Double.
    ///
    /// Fast path (SWAR): `[-]D[.F]` with at most 7 digits in D and 8 in F (or up to 15 when
    /// those past the 8th are zeros), followed by a comma, and at least 17 bytes left in the
    /// region: a few 8-byte loads, no loop. Everything else
    /// (longer numbers, `+`, exponents, `-0`, errors) goes through `parseFloatGeneral`.
    @inline(__always)
    mutating func parseFloat(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, field: Int) throws -> ParsedFloat {
        if end - p >= 17 {
            // Safe: 17 bytes remain at p. The loads below read p[0..<9] (sign and integer part)
            // and q[n1 + 1 ..< n1 + 9] with q <= p + 1 and n1 <= 7, so at most up to p + 16;
            // the byte after a fraction of n2 < 8 digits is at q + n1 + 1 + n2 <= p + 16. A longer
            // fraction is read only after its own check of 17 bytes at the point.
            var q = p
            let (x, neg) = CSVParser.digitsWord(&q)
            let ndx = CSVParser.nonDigits(x)
            if ndx != 0 {
                let n1 = ndx.trailingZeroBitCount >> 3
                // The integer part's digit values in the top n1 bytes (0 when n1 is 0).
                let dx = n1 == 0 ? 0 : (x &- 0x3030_3030_3030_3030) &<< UInt64(64 &- 8 &* n1)
                q += n1
                var m: UInt64 = 0, k = 0, ok = n1 > 0
                if q.pointee == UInt8(ascii: ".") {
                    let y = UInt64(littleEndian: UnsafeRawPointer(q + 1).loadUnaligned(as: UInt64.self))
                    let ndy = CSVParser.nonDigits(y)
                    let n2 = ndy.trailingZeroBitCount >> 3  // 8 when the 8 bytes are digits
                    // More than 8 fraction digits only when those past the 8th are zeros (some
                    // flat files print prices as "14.93000000000000"): then they are skipped. At
                    // most 19 digits in all, as `parseFloatGeneral` keeps exact decimals.
                    var zeros = 0
                    if n2 == 8 { zeros = CSVParser.zerosAfterEightDigits(q, end, n1) }
                    if zeros >= 0 {
                        if n2 > 0 { ok = true }
                        // Fraction digits at the top, trailing zeros (top bytes that are 0) dropped:
                        // the k significant ones in the top k bytes of `fd`.
                        let dy = n2 == 0 ? 0 : (y &- 0x3030_3030_3030_3030) &<< UInt64(64 &- 8 &* n2)
                        let z = min(dy.leadingZeroBitCount >> 3, n2)
                        k = n2 &- z
                        let fd = dy &<< UInt64(8 &* z)
                        if n1 &+ k <= 8 {
                            // Integer digits, then the fraction's, in one word: one conversion.
                            m = CSVParser.digitValue(dx &>> UInt64(8 &* k) | fd)
                        } else {
                            m = CSVParser.digitValue(dx) &* UInt64(pow10Int[k]) &+ CSVParser.digitValue(fd)
                        }
                        q += n2 &+ 1 &+ zeros
                    } else { ok = false }
                } else {
                    m = CSVParser.digitValue(dx)
                }
                if ok, q.pointee == UInt8(ascii: ","), !(neg && m == 0) {
                    p = q + 1
                    // |m| < 10^15 (at most 7 + 8 digits): it fits, and the sign cannot overflow.
                    let sm = Int64(bitPattern: m)
                    return ParsedFloat(m: neg ? 0 &- sm : sm, k: UInt8(truncatingIfNeeded: k))
                }
            }
        }
        return try parseFloatGeneral(&p, end, field: field)
    }

    /// After a point at `q` and 8 fraction digits: how many zeros follow them, up to the field's
    /// end, when at most 7 do, the number has at most 19 digits in all with its `n1` integer
    /// digits, and 17 bytes remain at `q`; else -1. Out of line: few fields get here.
    @inline(never)
    static func zerosAfterEightDigits(_ q: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ n1: Int) -> Int {
        guard end - q >= 17 else { return -1 }
        // Safe: 17 bytes remain at q; the load reads q[9..<17].
        let y = UInt64(littleEndian: UnsafeRawPointer(q + 9).loadUnaligned(as: UInt64.self))
        let t = CSVParser.nonDigits(y).trailingZeroBitCount >> 3
        guard t < 8, n1 &+ 8 &+ t <= 19 else { return -1 }
        return t == 0 || (y ^ 0x3030_3030_3030_3030) & (UInt64.max &>> UInt64(64 &- 8 &* t)) == 0 ? t : -1
    }

    /// Any Float64 field, digit by digit; exact decimals as `ParsedFloat.decimal`, others as the
    /// correctly rounded Double.
    @inline(never)
    mutating func parseFloatGeneral(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, field: Int) throws -> ParsedFloat {
        let start = p
        var neg = false
        if p < end {
            if p.pointee == UInt8(ascii: "-") { neg = true; p += 1 } else if p.pointee == UInt8(ascii: "+") { p += 1 }
        }
        // Accumulate every digit; with at most 19 of them m is exact (< 10^19 < 2^64).
        var m: UInt64 = 0
        var digits = 0
        var exp10 = 0
        while p < end {
            let d = p.pointee &- 48
            if d > 9 { break }
            m = m &* 10 &+ UInt64(d)
            digits &+= 1; p += 1
        }
        if p < end, p.pointee == UInt8(ascii: ".") {
            p += 1
            let f0 = p
            while p < end {
                let d = p.pointee &- 48
                if d > 9 { break }
                m = m &* 10 &+ UInt64(d)
                p += 1
            }
            exp10 = f0 - p
            digits &-= exp10
        }
        guard digits > 0 else {
            let empty = p == start && (p == end || p.pointee == UInt8(ascii: ",") || p.pointee == 10 || p.pointee == 13)
            throw error(.badValue, field: field, start, end, empty ? "empty value; expected a number" : "expected a number")
        }
        if p < end, p.pointee | 0x20 == UInt8(ascii: "e") {
            p += 1
            var eneg = false
            if p < end, p.pointee == UInt8(ascii: "-") { eneg = true; p += 1 } else if p < end, p.pointee == UInt8(ascii: "+") { p += 1 }
            var ev = 0, ed = 0
            while p < end {
                let d = p.pointee &- 48
                if d > 9 { break }
                if ev < 100_000 { ev = ev * 10 + Int(d) }
                ed += 1; p += 1
            }
            guard ed > 0 else { throw error(.badValue, field: field, start, end, "expected a number (bad exponent)") }
            exp10 += eneg ? -ev : ev
        }
        let fieldEnd = p
        try endField(&p, end, field: field, start: start)
        // The exact decimal m * 10^exp10 as M / 10^k with |M| < 10^15 and k <= 15, when there is one.
        if digits <= 19 {
            if m == 0 {
                if !neg { return ParsedFloat(m: 0, k: 0) }
            } else {
                var mm = m, e = exp10
                while e < 0, mm % 10 == 0 { mm /= 10; e += 1 }
                while e > 0, mm < ParsedFloat.mantissaLimit { mm *= 10; e -= 1 }
                if e <= 0, e >= -ParsedFloat.maxScale, mm < ParsedFloat.mantissaLimit {
                    let sm = Int64(mm)
                    return ParsedFloat(m: neg ? -sm : sm, k: UInt8(-e))
                }
            }
        }
        return ParsedFloat(raw: doubleValue(m: m, digits: digits, exp10: exp10, neg: neg, start, fieldEnd))
    }

    /// The Double of a validated decimal field: one exact IEEE operation when the mantissa and
    /// the power of ten are exact, else strtod.
    mutating func doubleValue(m: UInt64, digits: Int, exp10: Int, neg: Bool, _ start: UnsafePointer<UInt8>,
                     _ fieldEnd: UnsafePointer<UInt8>) -> Double {
        // Fast path: exact mantissa, exact power of ten, one correctly rounded operation.
        if digits <= 19, m <= (1 << 53) {
            let v = Double(m)
            if exp10 == 0 { return neg ? -v : v }
            if exp10 < 0, exp10 >= -22 { let r = v / pow10Table[-exp10]; return neg ? -r : r }
            if exp10 > 0, exp10 <= 22 { let r = v * pow10Table[exp10]; return neg ? -r : r }
            if m == 0 { return neg ? -0.0 : 0.0 }
        }
        return slowParse(start, fieldEnd)
    }

    /// A Float64 field as a Double (the value the converter stores for it).
    mutating func parseDouble(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, field: Int) throws -> Double {
        try parseFloat(&p, end, field: field).double
    }

    /// Exact fallback: glibc strtod (correctly rounded) on a NUL-terminated copy of the field.
    @inline(never)
    mutating func slowParse(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Double {
        let n = end - start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf in
            // Safe: buf has n + 1 slots; the field has n bytes (validated decimal syntax).
            buf.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: n + 1) { $0.update(from: start, count: n) }
            buf[n] = 0
            return strtod(buf.baseAddress!, nil)
        }
    }
}


extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
