import Foundation
import XCTest
import FFCol
@testable import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// One CSV row as text fields, and its expected typed values (from Swift's own parsers).
struct RefRow: Equatable {
    var ticker: [UInt8]
    var volume, open, close, high, low: Double
    var windowStart, transactions: Int64

    static func == (a: RefRow, b: RefRow) -> Bool {
        a.ticker == b.ticker && a.volume.bitPattern == b.volume.bitPattern && a.open.bitPattern == b.open.bitPattern
            && a.close.bitPattern == b.close.bitPattern && a.high.bitPattern == b.high.bitPattern
            && a.low.bitPattern == b.low.bitPattern && a.windowStart == b.windowStart && a.transactions == b.transactions
    }
}

/// Parses CSV text the slow, obvious way (split and Double(String)), as the reference.
func referenceRows(_ csv: [UInt8]) -> [RefRow] {
    var bytes = csv[...]
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    var out: [RefRow] = []
    // Split on bytes: in Swift strings "\r\n" is one Character.
    for (i, lineBytes) in bytes.split(separator: 10, omittingEmptySubsequences: true).enumerated() {
        var lb = lineBytes
        if lb.last == 13 { lb = lb.dropLast() }
        let l = String(decoding: lb, as: UTF8.self)
        if i == 0 { continue }
        let f = l.split(separator: ",", omittingEmptySubsequences: false)
        precondition(f.count == 8, "bad test row \(l)")
        out.append(RefRow(ticker: Array(f[0].utf8), volume: Double(String(f[1]))!, open: Double(String(f[2]))!,
                          close: Double(String(f[3]))!, high: Double(String(f[4]))!, low: Double(String(f[5]))!,
                          windowStart: Int64(String(f[6]))!, transactions: Int64(String(f[7]))!))
    }
    return out
}

/// Stable sort by (ticker bytes, window_start): the order of rows in an .ffc file.
func sortedRef(_ rows: [RefRow]) -> [RefRow] {
    rows.enumerated().sorted { a, b in
        if a.element.ticker != b.element.ticker { return a.element.ticker.lexicographicallyPrecedes(b.element.ticker) }
        if a.element.windowStart != b.element.windowStart { return a.element.windowStart < b.element.windowStart }
        return a.offset < b.offset
    }.map { $0.element }
}

/// Every row of an .ffc file in file order.
func readAll(_ f: FFCFile) throws -> [RefRow] {
    var out: [RefRow] = []
    try f.forEachTicker { b in
        let t = Array(b.ticker.utf8)
        for bar in b {
            out.append(RefRow(ticker: t, volume: bar.volume, open: bar.open, close: bar.close, high: bar.high, low: bar.low,
                              windowStart: bar.windowStart, transactions: bar.transactions))
        }
        return true
    }
    return out
}

/// A fresh temporary directory, removed at the end of the test.
func tempDir(_ test: XCTestCase) -> String {
    var template = Array("/tmp/ffcol-test-XXXXXX".utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    let dir = String(cString: p!)
    test.addTeardownBlock { _ = system("rm -rf '\(dir)'") }
    return dir
}

/// All regular files under a directory (recursive), relative names.
func listFiles(_ dir: String) -> [String] {
    var out: [String] = []
    func walk(_ d: String, _ rel: String) {
        guard let h = opendir(d) else { return }
        defer { closedir(h) }
        while let e = readdir(h) {
            let name = direntName(e)
            if name == "." || name == ".." { continue }
            var st = stat()
            let p = d + "/" + name
            stat(p, &st)
            if (st.st_mode & S_IFMT) == S_IFDIR { walk(p, rel + name + "/") } else { out.append(rel + name) }
        }
    }
    walk(dir, "")
    return out.sorted()
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let f = fopen(path, "w")!
    bytes.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

func readFile(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "r") else { return [] }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

/// gzip with the system's gzip tool (independent of the code under test).
func gzipBytes(_ bytes: [UInt8], dir: String) -> [UInt8] {
    let p = dir + "/gz-\(UInt32.random(in: 0...UInt32.max))"
    writeFile(p, bytes)
    precondition(system("gzip -n -f '\(p)'") == 0)
    return readFile(p + ".gz")
}

/// A small deterministic generator of CSV text with assorted number forms.
struct MiniCSV {
    var rng: UInt64
    init(seed: UInt64) { rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
        return rng
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// A price in one of the forms seen in flat files.
    mutating func price(_ v: Double, forms: Bool) -> String {
        let cents = (v * 100).rounded() / 100
        if !forms { return shortest(cents) }
        switch below(10) {
        case 0: return fixed(cents, 6)           // 17.740000
        case 1: return fixed(cents, 14)          // 69.86160000000000
        case 2: return exponent(cents)           // 1.5e+01
        default: return shortest(cents)
        }
    }
    func shortest(_ v: Double) -> String {
        if v == v.rounded(), v.magnitude < 1e15 { return String(Int64(v)) }
        return v.description.contains("e") ? fixed(v, 8) : v.description
    }
    func fixed(_ v: Double, _ digits: Int) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([digits, v]) { vsnprintf(&buf, 64, "%.*f", $0) }
        return String(cString: buf)
    }
    func exponent(_ v: Double) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([v]) { vsnprintf(&buf, 64, "%.6e", $0) }
        return String(cString: buf)
    }

    /// CSV text: `tickers` tickers, up to `perTicker` minute bars each, on 2025-09-29.
    mutating func csv(tickers: [String], perTicker: Int, forms: Bool = true, fractionalVolume: Bool = false,
                      crlf: Bool = false, bom: Bool = false, finalNewline: Bool = true) -> [UInt8] {
        let nl = crlf ? "\r\n" : "\n"
        var s = (bom ? "\u{FEFF}" : "") + "ticker,volume,open,close,high,low,window_start,transactions" + nl
        let open930: Int64 = 1_759_152_600_000_000_000
        var lines: [String] = []
        for t in tickers.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            var p = Double(1 + below(50_000)) / 100
            let n = 1 + below(perTicker)
            var minute: Int64 = 0
            for _ in 0..<n {
                minute += Int64(1 + below(3))
                let o = p
                p = max(0.01, p + Double(below(21) - 10) / 100)
                let c = p
                let h = max(o, c) + Double(below(5)) / 100
                let l = max(0.01, min(o, c) - Double(below(5)) / 100)
                var vol = String(1 + below(5000))
                if fractionalVolume, below(3) == 0 { vol += "." + String(1 + below(99)) }
                let ts = open930 + minute * 60_000_000_000
                lines.append("\(t),\(vol),\(price(o, forms: forms)),\(price(c, forms: forms)),\(price(h, forms: forms)),\(price(l, forms: forms)),\(ts),\(1 + below(40))")
            }
        }
        s += lines.joined(separator: nl)
        if finalNewline { s += nl }
        return Array(s.utf8)
    }
}

/// Converts bytes (plain or gzip) through the real pipeline into `root`.
@discardableResult
func convertBytes(_ bytes: [UInt8], root: String, dataset: Dataset = .stocksMinute, date: String = "2025-09-29",
                  name: String = "input.csv", chunkRows: Int = 16_384, blockSize: Int = 1 << 20, piece: Int = 1 << 20,
                  strict: Bool = false, inflate: InflateBackend = .preferred,
                  pageRows: PageRows = .datasetDefault) throws -> ConvertResult {
    var o = ConvertOptions(outRoot: root)
    o.pageRows = pageRows
    o.dataset = dataset
    o.date = TradingDate(date)!
    o.targetChunkRows = chunkRows
    o.blockSize = blockSize
    o.sourceName = name
    o.strict = strict
    o.inflate = inflate
    return try Converter.convert(source: MemorySource(bytes, name: name, piece: piece), options: o)
}

// MARK: - Running the built executables

/// The path of a product built next to the test bundle (`.build/<config>/NAME`).
func productPath(_ name: String) -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let p = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
        dir = dir.deletingLastPathComponent()
    }
    return "\(name)-not-built"
}

/// Runs a built product with output to files (no pipe deadlocks on large output), without
/// FFCOL_CONFIG / FFCOL_ROOT from the environment.
func runProduct(_ name: String, _ args: [String], cwd: String? = nil,
                file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, out: String, err: String) {
    let bin = productPath(name)
    XCTAssertTrue(FileManager.default.isExecutableFile(atPath: bin), "\(name) not found next to the tests", file: file, line: line)
    let tmp = NSTemporaryDirectory() + "ffcol-run-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: tmp + ".out", contents: nil)
    FileManager.default.createFile(atPath: tmp + ".err", contents: nil)
    defer { try? FileManager.default.removeItem(atPath: tmp + ".out"); try? FileManager.default.removeItem(atPath: tmp + ".err") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: bin)
    p.arguments = args
    if let c = cwd { p.currentDirectoryURL = URL(fileURLWithPath: c) }
    p.environment = productEnvironment()
    p.standardOutput = FileHandle(forWritingAtPath: tmp + ".out")
    p.standardError = FileHandle(forWritingAtPath: tmp + ".err")
    try p.run()
    p.waitUntilExit()
    return (p.terminationStatus, readText(tmp + ".out"), readText(tmp + ".err"))
}

/// The environment for a product the tests run: without FFCOL_CONFIG / FFCOL_ROOT, and under
/// AddressSanitizer with leak checking on (scripts/test-sanitizers.sh passes the options in
/// FFCOL_TEST_PRODUCT_ASAN_OPTIONS; the test process itself runs without it).
func productEnvironment() -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["FFCOL_CONFIG"] = nil; env["FFCOL_ROOT"] = nil
    if let asan = env["FFCOL_TEST_PRODUCT_ASAN_OPTIONS"] { env["ASAN_OPTIONS"] = asan }
    return env
}

/// A file's text ("" if unreadable). Not String(contentsOfFile:), which leaks a 4 KiB buffer
/// for every empty file (Foundation; LeakSanitizer found it through runProduct's empty stdout).
func readText(_ path: String) -> String {
    guard let h = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? h.close() }
    return String(decoding: h.readDataToEndOfFile(), as: UTF8.self)
}

/// A generated options minute day of `rows` rows on `date`: its CSV and the same bytes gzipped.
func optionsSample(rows: Int, date: TradingDate) throws -> (csv: [UInt8], gzip: [UInt8]) {
    var csv: [UInt8] = []
    _ = try Synth.generate(SynthOptions(dataset: .optionsMinute, date: date, rows: rows)) { csv.append(contentsOf: $0) }
    var gz: [UInt8] = []
    let w = try GzipWriter(sink: { gz.append(contentsOf: $0) }, level: 1)
    try csv.withUnsafeBytes { try w.write($0) }
    try w.close()
    return (csv, gz)
}
