import XCTest
import FFCol
@testable import FFColConvert

/// The parser's exact decimals (`ParsedFloat`) and the encoder's use of them: the same Doubles
/// as Swift's parsing, and the same decimal form as `FloatCodec.decimalize` of those Doubles.
final class DecimalFormTests: XCTestCase {
    /// Parses `text` as a Float64 field (followed by the rest of a row, as in a flat file).
    func parse(_ text: String) throws -> ParsedFloat {
        let bytes = Array((text + ",1759152600000000000,1\n").utf8)
        return try bytes.withUnsafeBufferPointer { b in
            var p = b.baseAddress!
            var parser = CSVParser(fileName: "t")
            return try parser.parseFloat(&p, b.baseAddress! + b.count, field: 2)
        }
    }

    /// A random decimal text: sign, integer digits, fraction digits (with trailing zeros),
    /// sometimes an exponent.
    func randomText(_ g: inout MiniCSV) -> String {
        var t = g.below(5) == 0 ? "-" : (g.below(40) == 0 ? "+" : "")
        let intDigits = [0, 1, 1, 2, 3, 4, 7, 8, 9, 12, 16][g.below(11)]
        let fracDigits = [0, 0, 1, 2, 2, 3, 4, 6, 7, 8, 9, 14, 16][g.below(13)]
        for i in 0..<intDigits { t += String(i == 0 && g.below(3) != 0 ? 1 + g.below(9) : g.below(10)) }
        if intDigits == 0 && fracDigits == 0 { t += "0" }
        if fracDigits > 0 || g.below(10) == 0 {
            if intDigits == 0 && g.below(2) == 0 { t += "0" }
            t += "."
            var frac = (0..<fracDigits).map { _ in String(g.below(10)) }
            for k in 0..<frac.count where g.below(4) == 0 { frac[frac.count - 1 - k] = "0" }
            t += frac.joined()
        }
        if t == "." || t == "-." || t == "+." { t += "5" }
        if g.below(12) == 0 { t += ["e", "E"][g.below(2)] + ["", "+", "-"][g.below(3)] + String(g.below(25)) }
        return t
    }

    func testParsedFloatsAreSwiftsDoublesAndCanonical() throws {
        var g = MiniCSV(seed: 11)
        for _ in 0..<50_000 {
            let t = randomText(&g)
            let f = try parse(t)
            let want = try XCTUnwrap(Double(t), t)
            XCTAssertEqual(f.double.bitPattern, want.bitPattern, "\(t): \(f)")
            if f.k != ParsedFloat.rawScale {
                XCTAssertLessThanOrEqual(Int(f.k), 15, t)
                XCTAssertLessThan(f.m.magnitude, 1_000_000_000_000_000, t)
                if f.k > 0 { XCTAssertNotEqual(f.m % 10, 0, "\(t): trailing zero kept") }
                XCTAssertFalse(f.double == 0 && f.double.sign == .minus, t)
            }
        }
        for (t, m, k) in [("11.91", 1191, 2), ("17.740000", 1774, 2), ("-3.25", -325, 2), ("0", 0, 0), ("0.0", 0, 0),
                          ("12.", 12, 0), (".5", 5, 1), ("00012.500", 125, 1), ("1.5E+01", 15, 0), ("3.0e-3", 3, 3),
                          ("100", 100, 0), ("1234567.1234567", 12_345_671_234_567, 7)] as [(String, Int64, UInt8)] {
            XCTAssertEqual(try parse(t), ParsedFloat(m: m, k: k), t)
        }
        for t in ["-0", "-0.0", "1e22", "123456789012345678901234", "0.1000000000000000055511151231257827", "1e-16"] {
            XCTAssertEqual(try parse(t).k, ParsedFloat.rawScale, t)
        }
    }

    /// Every short decimal shape (the SWAR fast path's territory and just beyond) parses to
    /// exactly what the digit-by-digit general path gives, and leaves the pointer on the next field.
    /// nonDigits: the lowest flagged byte is the first byte that is not an ASCII digit, for
    /// every byte value in every position after digits and random bytes after it; zero for
    /// eight digits.
    func testNonDigitsFindsTheFirstNonDigit() {
        var g = MiniCSV(seed: 5)
        for i in 0..<8 {
            for b in 0...255 {
                for _ in 0..<4 {
                    var bytes = (0..<8).map { _ in UInt8(ascii: "0") + UInt8(g.below(10)) }
                    bytes[i] = UInt8(b)
                    for j in (i + 1)..<8 { bytes[j] = UInt8(truncatingIfNeeded: g.next()) }
                    let x = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                    let want = bytes.firstIndex { $0 < 0x30 || $0 > 0x39 } ?? 8
                    XCTAssertEqual(CSVParser.nonDigits(x).trailingZeroBitCount >> 3, want, "\(bytes)")
                    XCTAssertEqual(CSVParser.nonDigits(x) == 0, want == 8, "\(bytes)")
                }
            }
        }
    }

    func testFastPathsAgreeWithTheGeneralPath() throws {
        var parser = CSVParser(fileName: "t")
        let digits = ["", "0", "5", "00", "10", "90", "07", "123", "100", "1000", "9999", "12345", "100000", "1234567", "10000000"]
        // Fractions of 8 digits and more: zeros past the 8th, then a digit that is not, or too many.
        let longFractions = ["12345678", "93000000", "00000000", "10000001", "930000000000", "93000000000000",
                             "123456780000000", "000000000000000", "9300000000000000", "930000000000001",
                             "12345678000000009", "123456789", "0000000000000001"]
        var checked = 0
        for sign in ["", "-"] {
            for ip in digits {
                for dot in [false, true] {
                    for fp in dot ? digits + longFractions : [""] {
                        let text = sign + ip + (dot ? "." : "") + fp
                        _ = fastAgreesWithGeneral(Array((text + ",1759152600000000000,1\n").utf8), &parser)
                        checked += 1
                    }
                }
            }
        }
        XCTAssertEqual(checked, 2 * 15 * (1 + 15 + 13))
    }

    /// Random short texts of digits, dots, signs, exponents and other bytes, followed by a
    /// comma or anything else: the fast paths give what the general path gives (the same value
    /// and next field, or both an error), including where a number ends inside the first
    /// 8-byte word and where it runs past it.
    func testFastPathsAgreeWithTheGeneralPathOnRandomText() throws {
        var g = MiniCSV(seed: 21)
        var parser = CSVParser(fileName: "t")
        let alphabet = Array(("0123456789" + "0123456789" + "0123456789" + "...,,-+eEx \r\n").utf8)
        var accepted = 0
        for _ in 0..<200_000 {
            var bytes = (0..<(1 + g.below(12))).map { _ in alphabet[g.below(alphabet.count)] }
            bytes += Array((g.below(4) == 0 ? "7" : ",1759152600000000000,1\n").utf8)
            bytes += Array(repeating: UInt8(ascii: "9"), count: g.below(2) == 0 ? 0 : 20)
            if fastAgreesWithGeneral(bytes, &parser) { accepted += 1 }
        }
        XCTAssertGreaterThan(accepted, 20_000)
        // Eight digits after the point, then zeros, maybe a digit, then the end of the field
        // (or not): the longest fractions the fast path takes, and ones just past them.
        var long = 0
        for _ in 0..<20_000 {
            var text = String(g.below(1_000)) + "." + (0..<8).map { _ in String(g.below(10)) }.joined()
            text += String(repeating: "0", count: g.below(10))
            if g.below(3) == 0 { text += String(g.below(10)) }
            let tail = [",1759152600000000000,1\n", ",1", "x,1759152600000000000,1\n", ""][g.below(4)]
            if fastAgreesWithGeneral(Array((text + tail).utf8), &parser) { long += 1 }
        }
        XCTAssertGreaterThan(long, 5_000)
    }

    /// Parses `bytes` as a Float64 field with `parseFloat` (fast paths first) and with
    /// `parseFloatGeneral`; asserts the same value and next field, or that both fail. Returns
    /// whether they parsed.
    func fastAgreesWithGeneral(_ bytes: [UInt8], _ parser: inout CSVParser) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            let end = b.baseAddress! + b.count
            var p0 = b.baseAddress!
            let general = Result { try parser.parseFloatGeneral(&p0, end, field: 2) }
            var p1 = b.baseAddress!
            let fast = Result { try parser.parseFloat(&p1, end, field: 2) }
            let text = String(decoding: b, as: UTF8.self)
            switch (fast, general) {
            case let (.success(a), .success(c)):
                XCTAssertEqual(a, c, text)
                XCTAssertEqual(p1, p0, text)
                return true
            case (.failure, .failure): return false
            default:
                XCTFail("\(text): \(fast) vs \(general)")
                return false
            }
        }
    }

    func testIntegersMatchSwift() throws {
        var g = MiniCSV(seed: 13)
        var parser = CSVParser(fileName: "t")
        for i in 0..<30_000 {
            let digits = 1 + g.below(22)
            var t = g.below(4) == 0 ? "-" : ""
            for _ in 0..<digits { t += String(g.below(10)) }
            if i % 7 == 0 { t = String(Int64.max - Int64(g.below(3))) }
            if i % 11 == 0 { t = "-" + String(UInt64(Int64.max) + 1 - UInt64(g.below(3))) }
            for (field, tail) in [(6, ",1\n"), (7, "\n" + String(repeating: "x", count: 30)), (7, "\r\n")] {
                let bytes = Array((t + tail).utf8)
                let got: Int64? = bytes.withUnsafeBufferPointer { b in
                    var p = b.baseAddress!
                    return try? parser.parseInt(&p, b.baseAddress! + b.count, field: field)
                }
                XCTAssertEqual(got, Int64(t), "\(t) field \(field)")
            }
        }
    }

    /// Columns of random parsed values: `floatForm` gives what decimalize gives on the Doubles.
    func testFloatFormMatchesDecimalize() throws {
        var g = MiniCSV(seed: 12)
        let enc = ChunkEncoder(level: 1, pageRows: 2048)
        for round in 0..<2000 {
            let n = 1 + g.below(round % 3 == 0 ? 4 : 300)
            // Columns of one "kind" (so that most share a decimal form), with some outliers.
            let maxInt = [1, 3, 5, 8, 12, 14][g.below(6)], maxFrac = [0, 1, 2, 4, 7, 9, 15][g.below(7)]
            var vals: [ParsedFloat] = []
            for _ in 0..<n {
                var t: String
                if g.below(50) == 0 { t = randomText(&g) } else {
                    t = g.below(6) == 0 ? "-" : ""
                    t += String(g.next() % UInt64(pow(10.0, Double(g.below(maxInt + 1)))))
                    let fd = g.below(maxFrac + 1)
                    if fd > 0 { t += "." + (0..<fd).map { _ in String(g.below(10)) }.joined() }
                }
                vals.append(try parse(t))
            }
            checkFloatForm(vals, enc, "round \(round)")
        }
    }

    /// Mixed scales whose largest mantissa is just below and at the limit where rescaling to
    /// the largest scale would reach 10^15 (spreads 1 to 5: the constant-factor loop and the
    /// checked one), and both signs.
    func testFloatFormRescaleLimits() {
        let enc = ChunkEncoder(level: 1, pageRows: 2048)
        for spread in 1...5 {
            for kmin in [0, 2] {
                var limit: Int64 = 1
                for _ in 0..<(15 - spread) { limit *= 10 }
                // Mantissas as the parser gives them: no trailing zero when the scale is above 0.
                // The last, rescaled, is beyond what a Double holds exactly: no decimal form.
                let largest: Int64 = 999_999_999_999_999
                for big in kmin == 0 ? [limit - 1, limit, limit + 7, largest] : [limit - 1, limit + 1, limit + 7, largest] {
                    for sign: Int64 in [1, -1] {
                        let vals = [ParsedFloat(m: 3, k: UInt8(kmin + spread)), ParsedFloat(m: sign * big, k: UInt8(kmin)),
                                    ParsedFloat(m: 12, k: UInt8(kmin + 1)), ParsedFloat(m: -5, k: UInt8(kmin + spread))]
                        checkFloatForm(vals, enc, "spread \(spread) kmin \(kmin) big \(sign * big)")
                    }
                }
            }
        }
    }

    /// `floatForm` of a column of `vals` gives what decimalize gives on their Doubles.
    private func checkFloatForm(_ vals: [ParsedFloat], _ enc: ChunkEncoder, _ label: String, file: StaticString = #filePath,
                                line: UInt = #line) {
        let n = vals.count
        let m = vals.map { $0.m }, k = vals.map { $0.k }, d = vals.map { $0.double }
        let ints = [Int64](repeating: 0, count: n)
        m.withUnsafeBufferPointer { mb in k.withUnsafeBufferPointer { kb in ints.withUnsafeBufferPointer { ib in
            let cols = ColumnsView(mantissas: Array(repeating: mb, count: 5), scales: Array(repeating: kb, count: 5),
                                   ints: [ib, ib])
            let form = enc.floatForm(2, cols)
            var want: [Int64] = []
            let s = d.withUnsafeBufferPointer { FloatCodec.decimalize($0, mantissas: &want) }
            XCTAssertEqual(form.scale, s, label, file: file, line: line)
            if s != nil { XCTAssertEqual(Array(form.mantissas), want, label, file: file, line: line) } else {
                XCTAssertEqual(form.doubles.map { $0.bitPattern }, d.map { $0.bitPattern }, label, file: file, line: line)
            }
            var mn = d[0], mx = d[0]
            for v in d { if v < mn { mn = v }; if v > mx { mx = v } }
            XCTAssertEqual(form.minBits, mn.bitPattern, label, file: file, line: line)
            XCTAssertEqual(form.maxBits, mx.bitPattern, label, file: file, line: line)
        } } }
    }
}
