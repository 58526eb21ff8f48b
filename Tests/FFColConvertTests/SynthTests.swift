import CZlib
import FFCol
@testable import FFColConvert
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class SynthTests: XCTestCase {
    // MARK: - Helpers

    struct Row {
        var ticker: [UInt8]
        var volume: String
        var open: String, close: String, high: String, low: String
        var windowStart: Int64
        var transactions: Int
        var line: String
        var tickerString: String { String(decoding: ticker, as: UTF8.self) }
    }

    static let date = TradingDate("2025-09-29")!

    func generate(_ o: SynthOptions) throws -> (bytes: [UInt8], summary: SynthSummary) {
        var bytes: [UInt8] = []
        let summary = try Synth.generate(o) { bytes.append(contentsOf: $0) }
        return (bytes, summary)
    }

    func options(_ d: Dataset, rows: Int, date: TradingDate = SynthTests.date, seed: UInt64 = 42) -> SynthOptions {
        SynthOptions(dataset: d, date: date, rows: rows, seed: seed)
    }

    /// Lines without their terminator (LF or CRLF); the header is lines[0].
    func lines(_ bytes: [UInt8]) -> [String] {
        var out: [String] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 10 {
            var end = i
            if end > start && bytes[end - 1] == 13 { end -= 1 }
            out.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = i + 1
        }
        XCTAssertEqual(start, bytes.count, "output must end with a line terminator")
        return out
    }

    func rows(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [Row] {
        let ls = lines(bytes)
        XCTAssertEqual(ls.first, Synth.header, file: file, line: line)
        return ls.dropFirst().map { l in
            let f = l.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, 8, "bad row: \(l)", file: file, line: line)
            return Row(ticker: Array(f[0].utf8), volume: f[1], open: f[2], close: f[3], high: f[4], low: f[5],
                       windowStart: Int64(f[6]) ?? -1, transactions: Int(f[7]) ?? -1, line: l)
        }
    }

    func price(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let v = Double(s) else {
            XCTFail("not a number: \(s)", file: file, line: line)
            return .nan
        }
        return v
    }

    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }

    /// Inflates a gzip (or zlib) stream with windowBits 15 + 32 (automatic header detection).
    func inflateAll(_ input: [UInt8]) throws -> [UInt8] {
        var strm = z_stream()
        XCTAssertEqual(ffcol_inflateInit2(&strm, 15 + 32), Z_OK)
        defer { inflateEnd(&strm) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var input = input
        var rc: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inp in
            strm.next_in = inp.baseAddress
            strm.avail_in = uInt(inp.count)
            repeat {
                buf.withUnsafeMutableBufferPointer { b in
                    strm.next_out = b.baseAddress
                    strm.avail_out = uInt(b.count)
                    rc = inflate(&strm, Z_NO_FLUSH)
                    out.append(contentsOf: b[0..<(b.count - Int(strm.avail_out))])
                }
            } while rc == Z_OK
        }
        XCTAssertEqual(rc, Z_STREAM_END, "inflate did not reach the end of the gzip stream")
        XCTAssertEqual(strm.avail_in, 0, "trailing bytes after the gzip stream")
        return out
    }

    func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SynthError("cannot open \(path)") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    func tempDir() -> String {
        var template = Array("/tmp/ffcol-synth-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        XCTAssertNotNil(p)
        return String(cString: p!)
    }

    func listDir(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = direntName(e)
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func removeTree(_ dir: String) {
        for n in listDir(dir) { unlink(dir + "/" + n) }
        rmdir(dir)
    }

    // MARK: - Determinism

    func testSameSeedGivesIdenticalBytes() throws {
        for d in Dataset.allCases {
            let o = options(d, rows: d.isMinute ? 20_000 : 3_000)
            let a = try generate(o), b = try generate(o)
            XCTAssertEqual(a.bytes, b.bytes, "\(d)")
            XCTAssertEqual(a.summary, b.summary, "\(d)")
        }
    }

    func testDifferentSeedDiffers() throws {
        for d in Dataset.allCases {
            let a = try generate(options(d, rows: 5_000, seed: 1))
            let b = try generate(options(d, rows: 5_000, seed: 2))
            XCTAssertNotEqual(a.bytes, b.bytes, "\(d)")
        }
    }

    /// Pins the output of one small configuration: a change here means every benchmark file
    /// changes (intended changes must update the constant; a platform difference is a bug).
    func testOutputIsPinned() throws {
        let (bytes, _) = try generate(options(.stocksMinute, rows: 5_000, seed: 7))
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        XCTAssertEqual(String(h, radix: 16), SynthTests.pinnedHash, "FNV-1a of the output changed")
    }

    static let pinnedHash = "a1f7ccf6ec6a7ac1"

    func testDeterministicMathIsAccurate() {
        var x = -30.0
        while x < 30 {
            let e = DetMath.exp(x), ref = Glibc.exp(x)
            XCTAssertLessThan(abs(e - ref) / ref, 1e-14, "exp(\(x))")
            x += 0.0137
        }
        var y = 1e-6
        while y < 1e6 {
            let l = DetMath.log(y), ref = Glibc.log(y)
            XCTAssertLessThan(abs(l - ref), 1e-14 * max(1, abs(ref)), "log(\(y))")
            y *= 1.0173
        }
        XCTAssertEqual(DetMath.log(1), 0)
        XCTAssertEqual(DetMath.exp(0), 1)
        XCTAssertEqual(DetMath.phi(0), 0.5, accuracy: 1e-7)
        XCTAssertEqual(DetMath.phi(1.96), 0.9750021, accuracy: 1e-6)
    }

    // MARK: - Shape

    func testExactRowCountHeaderAndSummary() throws {
        for d in Dataset.allCases {
            for n in [0, 1, 2, 7, 1_000, 12_345] {
                let (bytes, s) = try generate(options(d, rows: n))
                let rs = rows(bytes)
                XCTAssertEqual(rs.count, n, "\(d) rows \(n)")
                XCTAssertEqual(s.rows, n)
                XCTAssertEqual(s.csvBytes, Int64(bytes.count))
                XCTAssertEqual(s.tickers, Set(rs.map(\.ticker)).count, "\(d) rows \(n)")
                XCTAssertNil(s.gzipBytes)
                if !d.isMinute { XCTAssertEqual(s.tickers, n, "one row per ticker in a day file") }
            }
        }
        let (bytes, _) = try generate(options(.stocksDay, rows: 3))
        XCTAssertTrue(bytes.starts(with: Array("ticker,volume,open,close,high,low,window_start,transactions\n".utf8)))
    }

    func testDefaultRows() {
        XCTAssertEqual(SynthOptions(dataset: .optionsMinute, date: SynthTests.date).rows, 5_500_000)
        XCTAssertEqual(SynthOptions(dataset: .stocksMinute, date: SynthTests.date).rows, 4_000_000)
        XCTAssertEqual(SynthOptions(dataset: .optionsDay, date: SynthTests.date).rows, 1_000_000)
        XCTAssertEqual(SynthOptions(dataset: .stocksDay, date: SynthTests.date).rows, 11_000)
        XCTAssertThrowsError(try Synth.generate(options(.stocksDay, rows: -1)) { _ in })
        XCTAssertThrowsError(try Synth.generate(options(.stocksDay, rows: 3_000_000)) { _ in })
    }

    func testSortedByTickerThenTime() throws {
        for d in Dataset.allCases {
            let rs = rows(try generate(options(d, rows: d.isMinute ? 30_000 : 5_000)).bytes)
            for i in 1..<rs.count {
                let a = rs[i - 1], b = rs[i]
                let ok = SynthTests.less(a.ticker, b.ticker) || (a.ticker == b.ticker && a.windowStart < b.windowStart)
                if !ok {
                    XCTFail("\(d): row \(i) out of order: \(a.line) then \(b.line)")
                    break
                }
            }
        }
    }

    func testOHLCVolumeAndTransactionInvariants() throws {
        for d in Dataset.allCases {
            let rs = rows(try generate(options(d, rows: d.isMinute ? 30_000 : 5_000)).bytes)
            var singleTradeFlat = 0
            for r in rs {
                let o = price(r.open), c = price(r.close), h = price(r.high), l = price(r.low)
                XCTAssertGreaterThan(l, 0, r.line)
                XCTAssertGreaterThanOrEqual(h, max(o, c), r.line)
                XCTAssertLessThanOrEqual(l, min(o, c), r.line)
                guard let v = Int(r.volume) else { XCTFail("volume not an integer: \(r.line)"); continue }
                XCTAssertGreaterThanOrEqual(r.transactions, 1, r.line)
                XCTAssertLessThanOrEqual(r.transactions, v, r.line)
                if r.transactions == 1 && o == h && h == l && l == c { singleTradeFlat += 1 }
            }
            XCTAssertGreaterThan(singleTradeFlat, rs.count / 20, "\(d): many single-trade flat bars expected")
        }
    }

    // MARK: - Time

    /// Expected session bounds (UTC ns) computed independently: offset 4 (EDT) or 5 (EST).
    func sessionBounds(_ date: TradingDate, offsetHours: Int64, startMinute: Int64, minutes: Int64) -> ClosedRange<Int64> {
        let start = (Int64(date.daysSinceEpoch) * 86_400 + (startMinute + offsetHours * 60) * 60) * 1_000_000_000
        return start...(start + (minutes - 1) * 60_000_000_000)
    }

    func testMinuteTimestampsAlignedAndInSessionAcrossDST() throws {
        // (date, UTC offset hours): 2025 DST runs 2025-03-09 ... 2025-11-02.
        let cases: [(String, Int64)] = [
            ("2025-09-29", 4), ("2025-03-07", 5), ("2025-03-10", 4), ("2025-10-31", 4), ("2025-11-03", 5),
            ("2025-01-15", 5), ("2006-03-15", 5), ("2006-04-03", 4),
        ]
        for (ds, off) in cases {
            let date = TradingDate(ds)!
            for d in [Dataset.stocksMinute, .optionsMinute] {
                let bounds = d.isOptions
                    ? sessionBounds(date, offsetHours: off, startMinute: 9 * 60 + 30, minutes: 390)
                    : sessionBounds(date, offsetHours: off, startMinute: 4 * 60, minutes: 960)
                let rs = rows(try generate(options(d, rows: 20_000, date: date)).bytes)
                var firstSeen = false, lastSeen = false
                for r in rs {
                    XCTAssertEqual(r.windowStart % 60_000_000_000, 0, r.line)
                    XCTAssertTrue(bounds.contains(r.windowStart), "\(ds) \(d): \(r.line) outside \(bounds)")
                    XCTAssertEqual(String(r.windowStart).count, 19)
                    firstSeen = firstSeen || r.windowStart == bounds.lowerBound
                    lastSeen = lastSeen || r.windowStart == bounds.upperBound
                    if !bounds.contains(r.windowStart) { break }
                }
                XCTAssertTrue(firstSeen && lastSeen, "\(ds) \(d): the first and last minute of the session should occur")
            }
        }
    }

    func testDayFileTimestampIsMidnightNewYork() throws {
        for d in [Dataset.stocksDay, .optionsDay] {
            let rs = rows(try generate(options(d, rows: 2_000)).bytes)
            XCTAssertTrue(rs.allSatisfy { $0.windowStart == 1_759_118_400_000_000_000 }, "\(d)")
            let jan = rows(try generate(options(d, rows: 100, date: TradingDate("2025-01-15")!)).bytes)
            let expected = (Int64(TradingDate("2025-01-15")!.daysSinceEpoch) * 86_400 + 5 * 3600) * 1_000_000_000
            XCTAssertTrue(jan.allSatisfy { $0.windowStart == expected }, "\(d) in January (EST)")
        }
        XCTAssertEqual(Synth.unixNanos(date: SynthTests.date, minuteOfDay: 0), 1_759_118_400_000_000_000)
    }

    func testNewYorkOffsetAtTransitions() {
        func off(_ s: String, _ minute: Int) -> Int { Synth.newYorkUTCOffsetHours(date: TradingDate(s)!, minuteOfDay: minute) }
        XCTAssertEqual(off("2025-03-08", 600), -5)
        XCTAssertEqual(off("2025-03-09", 60), -5)   // before 02:00 on the second Sunday of March
        XCTAssertEqual(off("2025-03-09", 180), -4)
        XCTAssertEqual(off("2025-11-02", 60), -4)   // 01:00-02:00 taken as EDT
        XCTAssertEqual(off("2025-11-02", 180), -5)
        XCTAssertEqual(off("2025-11-01", 1200), -4)
        XCTAssertEqual(off("2024-03-10", 600), -4)  // second Sunday of March 2024
        XCTAssertEqual(off("2024-03-09", 600), -5)
        XCTAssertEqual(off("2024-11-03", 600), -5)
        XCTAssertEqual(off("2006-04-02", 600), -4)  // 1987-2006: first Sunday of April
        XCTAssertEqual(off("2006-04-01", 600), -5)
        XCTAssertEqual(off("2006-10-29", 600), -5)  // last Sunday of October
        XCTAssertEqual(off("2006-10-28", 600), -4)
    }

    // MARK: - Tickers

    func testStockTickers() throws {
        let (bytes, s) = try generate(options(.stocksMinute, rows: 100_000))
        let rs = rows(bytes)
        var perTicker: [String: Int] = [:]
        for r in rs { perTicker[r.tickerString, default: 0] += 1 }
        for t in ["AAPL", "SPY", "QQQ", "MSFT", "TSLA", "ZVZZT", "BRK.A", "BRK.B", "ADSw", "MTBpC.CL", "FTV.WD"] {
            XCTAssertNotNil(perTicker[t], "missing \(t)")
        }
        XCTAssertEqual(perTicker["AAPL"], 960, "AAPL trades every minute 04:00-20:00")
        XCTAssertEqual(s.tickers, 100_000 / 360)
        // Two tickers that differ only by case.
        let lower = Dictionary(grouping: perTicker.keys, by: { $0.lowercased() })
        XCTAssertTrue(lower.values.contains { $0.count >= 2 }, "expected tickers differing only by case")
        // Heavy tail: many tickers with a handful of bars, some with all 960.
        let counts = perTicker.values
        XCTAssertGreaterThan(counts.filter { $0 <= 10 }.count, 0)
        XCTAssertGreaterThan(counts.filter { $0 == 960 }.count, 5)
        // Mostly 1-5 uppercase letters.
        let plain = perTicker.keys.filter { $0.count <= 5 && $0.utf8.allSatisfy { (65...90).contains($0) } }
        XCTAssertGreaterThan(plain.count, perTicker.count * 9 / 10)

        let day = rows(try generate(options(.stocksDay, rows: 11_000)).bytes)
        XCTAssertEqual(Set(day.map(\.ticker)).count, 11_000)
        XCTAssertTrue(day.contains { $0.tickerString == "AAPL" })
    }

    func testStockPriceForms() throws {
        let rs = rows(try generate(options(.stocksMinute, rows: 100_000)).bytes)
        var fixed = 0, subDollar4 = 0, integral = 0
        for r in rs {
            for p in [r.open, r.close, r.high, r.low] {
                if p.hasSuffix("0") && p.contains(".") { fixed += 1 }
                if !p.contains(".") { integral += 1 }
                if p.hasPrefix("0.") && p.count == 6 && !p.hasSuffix("0") { subDollar4 += 1 }
                XCTAssertFalse(p.contains("e") || p.contains("E"), "exponent only when asked: \(r.line)")
            }
        }
        XCTAssertGreaterThan(fixed, 4 * rs.count / 100, "fixed forms with trailing zeros should appear")
        XCTAssertLessThan(fixed, 4 * rs.count * 8 / 100)
        XCTAssertGreaterThan(subDollar4, 0, "sub-dollar prices with 4 decimals")
        XCTAssertGreaterThan(integral, 0, "prices like 12")
    }

    func testOCCSymbols() throws {
        let (bytes, _) = try generate(options(.optionsMinute, rows: 200_000))
        let rs = rows(bytes)
        var roots: [String: Int] = [:]
        var bars: [String: Int] = [:]
        let d0 = SynthTests.date.daysSinceEpoch
        for r in rs {
            bars[r.tickerString, default: 0] += 1
            let t = r.ticker
            XCTAssertTrue(t.starts(with: Array("O:".utf8)), r.line)
            XCTAssertGreaterThanOrEqual(t.count, 2 + 1 + 15)
            XCTAssertLessThanOrEqual(t.count, 2 + 6 + 15)
            let root = Array(t[2..<(t.count - 15)])
            let tail = Array(t[(t.count - 15)...])
            XCTAssertTrue((65...90).contains(root[0]), r.line)
            XCTAssertTrue(root.allSatisfy { (65...90).contains($0) || (48...57).contains($0) }, r.line)
            let digits = tail[0..<6] + tail[7..<15]
            XCTAssertTrue(digits.allSatisfy { (48...57).contains($0) }, r.line)
            XCTAssertTrue(tail[6] == UInt8(ascii: "C") || tail[6] == UInt8(ascii: "P"), r.line)
            let ymd = String(decoding: tail[0..<6], as: UTF8.self)
            let exp = TradingDate("20\(ymd.prefix(2))-\(ymd.dropFirst(2).prefix(2))-\(ymd.suffix(2))")
            XCTAssertNotNil(exp, r.line)
            if let e = exp {
                XCTAssertTrue((d0...(d0 + 366)).contains(e.daysSinceEpoch), "expiry within a year: \(r.line)")
            }
            let strike = Int(String(decoding: tail[7..<15], as: UTF8.self))!
            XCTAssertGreaterThan(strike, 0)
            roots[String(decoding: root, as: UTF8.self), default: 0] += 1
            // Option prices in cents: any decimals beyond the second are trailing zeros.
            for p in [r.open, r.close, r.high, r.low] {
                let frac = p.split(separator: ".").dropFirst().first ?? ""
                XCTAssertTrue(frac.dropFirst(2).allSatisfy { $0 == "0" }, r.line)
            }
        }
        for root in ["SPY", "SPXW", "QQQ", "AAPL", "TSLA", "AAPL1", "F"] {
            XCTAssertNotNil(roots[root], "missing root \(root)")
        }
        // Heavy tail: ~rows/5.5 contracts, most with a handful of bars, the busiest with all 390.
        let counts = Array(bars.values)
        XCTAssertEqual(Double(counts.count), 200_000 / 5.5, accuracy: 2)
        XCTAssertGreaterThan(counts.filter { $0 == 1 }.count, counts.count / 3)
        XCTAssertEqual(counts.max(), 390)
        for root in ["SPY", "SPXW", "QQQ"] {
            let best = bars.filter { $0.key.hasPrefix("O:\(root)2") }.values.max() ?? 0
            XCTAssertGreaterThanOrEqual(best, 200, "\(root) should have busy near-the-money contracts")
        }
    }

    // MARK: - Streaming

    func testStreamsInBlocksOfAboutOneMiB() throws {
        var sizes: [Int] = []
        let s = try Synth.generate(options(.stocksMinute, rows: 100_000)) { sizes.append($0.count) }
        XCTAssertGreaterThan(sizes.count, 3)
        XCTAssertTrue(sizes.dropLast().allSatisfy { $0 >= 1 << 20 && $0 < (1 << 20) + 4096 }, "\(sizes)")
        XCTAssertEqual(Int64(sizes.reduce(0, +)), s.csvBytes)
    }

    // MARK: - Variants

    func testCRLFOnlyChangesLineEndings() throws {
        var o = options(.stocksMinute, rows: 10_000)
        let plain = try generate(o).bytes
        o.crlf = true
        let crlf = try generate(o).bytes
        XCTAssertEqual(crlf.count, plain.count + 10_001)
        var stripped: [UInt8] = []
        for i in crlf.indices where !(crlf[i] == 13 && i + 1 < crlf.count && crlf[i + 1] == 10) { stripped.append(crlf[i]) }
        XCTAssertEqual(stripped, plain)
    }

    func testShuffleKeepsRowsButBreaksOrder() throws {
        for d in [Dataset.stocksMinute, .optionsMinute, .stocksDay] {
            var o = options(d, rows: 20_000)
            let plain = lines(try generate(o).bytes)
            o.shuffle = true
            let shuffled = lines(try generate(o).bytes)
            XCTAssertEqual(shuffled.first, Synth.header)
            XCTAssertNotEqual(shuffled, plain, "\(d)")
            XCTAssertEqual(shuffled.sorted(), plain.sorted(), "\(d): same rows")
            let rs = rows(try generate(o).bytes)
            var inversions = 0
            for i in 1..<rs.count {
                let a = rs[i - 1], b = rs[i]
                if SynthTests.less(b.ticker, a.ticker) || (a.ticker == b.ticker && b.windowStart < a.windowStart) {
                    inversions += 1
                }
            }
            XCTAssertGreaterThan(inversions, d.isMinute ? 50 : 5, "\(d)")
        }
        // Even the smallest unsortable inputs come out unsorted.
        let two = rows(try generate(SynthOptions(dataset: .stocksDay, date: SynthTests.date, rows: 2, shuffle: true)).bytes)
        XCTAssertTrue(SynthTests.less(two[1].ticker, two[0].ticker))
    }

    func testExponentNotationKeepsValues() throws {
        var o = options(.stocksMinute, rows: 20_000)
        let plain = rows(try generate(o).bytes)
        o.exponentNotation = true
        let exp = rows(try generate(o).bytes)
        XCTAssertEqual(plain.count, exp.count)
        var spelled = 0, upper = 0
        for (a, b) in zip(plain, exp) {
            XCTAssertEqual(a.ticker, b.ticker)
            XCTAssertEqual(a.volume, b.volume)
            XCTAssertEqual(a.windowStart, b.windowStart)
            XCTAssertEqual(a.transactions, b.transactions)
            for (x, y) in [(a.open, b.open), (a.close, b.close), (a.high, b.high), (a.low, b.low)] {
                XCTAssertEqual(price(x), price(y), "\(a.line) vs \(b.line)")
                if y.contains("e") || y.contains("E") {
                    spelled += 1
                    if y.contains("E") { upper += 1 }
                    // C %e style: d[.ddd]e[+-]dd
                    let parts = y.split(whereSeparator: { $0 == "e" || $0 == "E" })
                    XCTAssertEqual(parts.count, 2, y)
                    XCTAssertTrue(parts[1].first == "+" || parts[1].first == "-", y)
                    XCTAssertEqual(parts[1].count, 3, y)
                    XCTAssertFalse(parts[0].hasSuffix("0"), y)
                } else {
                    XCTAssertEqual(x, y)
                }
            }
        }
        XCTAssertGreaterThan(spelled, 20_000 * 4 / 200)
        XCTAssertLessThan(spelled, 20_000 * 4 / 50)
        XCTAssertGreaterThan(upper, 0)
    }

    func testExponentFormatting() {
        var w = CSVTextWriter(capacity: 256)
        defer { w.release() }
        func spell(_ v: UInt64, upper: Bool = false) -> String {
            w.count = 0
            w.exponent(v, scale: 4, upper: upper)
            return String(decoding: UnsafeBufferPointer(start: w.base, count: w.count), as: UTF8.self)
        }
        XCTAssertEqual(spell(1), "1e-04")
        XCTAssertEqual(spell(150), "1.5e-02")
        XCTAssertEqual(spell(250_000, upper: true), "2.5E+01")
        XCTAssertEqual(spell(10_000), "1e+00")
        XCTAssertEqual(spell(1_473_000), "1.473e+02")
        XCTAssertEqual(spell(7_351_000_000), "7.351e+05")
        w.count = 0
        w.decimal(1_473_000, scale: 4); w.byte(44)
        w.decimal(120_000, scale: 4); w.byte(44)
        w.decimal(125, scale: 4); w.byte(44)
        w.fixed(177_400, scale: 4, decimals: 6)
        XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: w.base, count: w.count), as: UTF8.self),
                       "147.3,12,0.0125,17.740000")
    }

    func testFractionalVolumeOnlyChangesSomeVolumes() throws {
        var o = options(.optionsMinute, rows: 20_000)
        let plain = rows(try generate(o).bytes)
        o.fractionalVolume = true
        let frac = rows(try generate(o).bytes)
        var fractional = 0, spelledDotZero = 0
        for (a, b) in zip(plain, frac) {
            XCTAssertEqual(a.ticker, b.ticker)
            XCTAssertEqual([a.open, a.close, a.high, a.low], [b.open, b.close, b.high, b.low])
            XCTAssertEqual(a.transactions, b.transactions)
            if a.volume != b.volume {
                let v = price(b.volume)
                if b.volume.hasSuffix(".0") {
                    spelledDotZero += 1
                    XCTAssertEqual(v, Double(a.volume)!)
                } else {
                    fractional += 1
                    XCTAssertNotEqual(v.rounded(), v, b.line)
                    XCTAssertLessThan(v, Double(a.volume)!)
                    XCTAssertLessThanOrEqual(Double(b.transactions), v.rounded(.up), b.line)
                }
            }
        }
        XCTAssertGreaterThan(fractional, 20_000 / 50)
        XCTAssertGreaterThan(spelledDotZero, 20_000 / 200)
        XCTAssertTrue(frac.contains { $0.volume.hasPrefix("0.") }, "volumes below one share")
    }

    // MARK: - gzip

    func testGzipInMemoryRoundTrip() throws {
        let plain = try generate(options(.optionsMinute, rows: 30_000)).bytes
        var gz: [UInt8] = []
        let w = try GzipWriter(sink: { gz.append(contentsOf: $0) })
        // Feed in uneven pieces.
        var i = 0, piece = 1
        while i < plain.count {
            let n = min(piece, plain.count - i)
            try plain[i..<(i + n)].withUnsafeBytes { try w.write($0) }
            i += n
            piece = piece * 3 + 7
        }
        try w.close()
        XCTAssertEqual(w.bytesIn, Int64(plain.count))
        XCTAssertEqual(w.bytesOut, Int64(gz.count))
        XCTAssertEqual(Array(gz.prefix(3)), [0x1f, 0x8b, 8], "gzip magic and deflate method")
        XCTAssertLessThan(gz.count, plain.count / 4)
        XCTAssertEqual(try inflateAll(gz), plain)
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 4).withUnsafeBytes { try w.write($0) })
        XCTAssertThrowsError(try w.close())
    }

    func testGzipEmptyStreamAndLevels() throws {
        for level: Int32 in [1, 6, 9, -1] {
            var gz: [UInt8] = []
            let w = try GzipWriter(sink: { gz.append(contentsOf: $0) }, level: level)
            try w.close()
            XCTAssertEqual(try inflateAll(gz), [])
        }
        XCTAssertThrowsError(try GzipWriter(sink: { _ in }, level: 12))
    }

    func testWriteGzipFileMatchesGenerator() throws {
        let dir = tempDir()
        defer { removeTree(dir) }
        let o = options(.stocksMinute, rows: 30_000)
        let plain = try generate(o).bytes
        let path = dir + "/2025-09-29.csv.gz"
        let s = try Synth.writeGzip(o, to: path)
        XCTAssertEqual(listDir(dir), ["2025-09-29.csv.gz"], "no temporary left behind")
        let gz = try readFile(path)
        XCTAssertEqual(s.gzipBytes, Int64(gz.count))
        XCTAssertEqual(s.csvBytes, Int64(plain.count))
        XCTAssertEqual(try inflateAll(gz), plain)

        let csvPath = dir + "/plain.csv"
        _ = try Synth.writeCSV(o, to: csvPath)
        XCTAssertEqual(try readFile(csvPath), plain)
    }

    func testGzipWriterErrorsNameThePathAndLeaveNothing() throws {
        let dir = tempDir()
        defer { removeTree(dir) }
        let missing = dir + "/no/such/dir/x.csv.gz"
        XCTAssertThrowsError(try GzipWriter(path: missing)) { e in
            guard let g = e as? GzipWriterError else { return XCTFail("\(e)") }
            XCTAssertTrue(g.description.contains(missing), g.description)
            XCTAssertTrue(g.operation.hasPrefix("open"), g.operation)
            XCTAssertEqual(g.path, missing)
            XCTAssertTrue(g.description.contains("No such file"), g.description)
        }
        // Released without close: the temporary disappears and the target is never created.
        let path = dir + "/abandoned.csv.gz"
        do {
            let w = try GzipWriter(path: path)
            try [UInt8](repeating: 65, count: 1000).withUnsafeBytes { try w.write($0) }
            withExtendedLifetime(w) { XCTAssertEqual(listDir(dir).count, 1) }
        }
        XCTAssertEqual(listDir(dir), [])
        // A failing sink: the error propagates and the writer refuses further use.
        struct Boom: Error {}
        let w = try GzipWriter(sink: { _ in throw Boom() }, level: 1)
        XCTAssertThrowsError(try w.close()) { XCTAssertTrue($0 is Boom) }
        XCTAssertThrowsError(try w.close()) { XCTAssertTrue($0 is GzipWriterError) }
    }
}
