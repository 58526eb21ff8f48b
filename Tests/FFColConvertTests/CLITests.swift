import Foundation
import XCTest
import FFCol

/// The `ffcol` executable end to end: synth -> convert -> scan/inspect/verify, exit codes,
/// messages, and output formats.
final class ConvertCLITests: XCTestCase {
    static var binaryPath: String { productPath("ffcol") }

    struct Run { var status: Int32; var out: String; var err: String }

    /// Runs ffcol with output to files (no pipe deadlocks on large output).
    @discardableResult
    func ffcol(_ args: [String], cwd: String? = nil) throws -> Run {
        let r = try runProduct("ffcol", args, cwd: cwd)
        return Run(status: r.status, out: r.out, err: r.err)
    }

    func zcat(_ path: String) -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        let out = NSTemporaryDirectory() + "zcat-\(UUID().uuidString)"
        p.arguments = ["-c", "gzip -dc '\(path)' > '\(out)'"]
        try! p.run(); p.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: out) }
        return Array(FileManager.default.contents(atPath: out)!)
    }

    /// Source rows of one ticker (or ticker prefix), in file order.
    func sourceRows(_ csv: [UInt8], where keep: (String) -> Bool) -> [RefRow] {
        referenceRows(csv).filter { keep(String(decoding: $0.ticker, as: UTF8.self)) }
    }

    func parseCSVOutput(_ text: String) -> [RefRow] {
        referenceRows(Array(text.utf8))
    }

    var work = ""
    let days = ["2025-09-26", "2025-09-29", "2025-09-30"]

    override func setUpWithError() throws {
        work = tempDir(self)
        for (i, d) in days.enumerated() {
            let r = try ffcol(["synth", "--dataset", "stocks_minute", "--date", d, "--rows", "30000", "--seed", "\(i + 1)",
                               "--out", work + "/flat/"])
            XCTAssertEqual(r.status, 0, r.err)
        }
        let r = try ffcol(["synth", "--dataset", "options_minute", "--date", "2025-09-29", "--rows", "40000", "--out", work + "/flat/"])
        XCTAssertEqual(r.status, 0, r.err)
    }

    func stocksFile(_ d: String) -> String {
        "\(work)/flat/us_stocks_sip/minute_aggs_v1/\(d.prefix(4))/\(d.dropFirst(5).prefix(2))/\(d).csv.gz"
    }

    func testConvertThenScanEveryFormat() throws {
        let conv = try ffcol(["convert", work + "/flat", "--out", work + "/data", "--jobs", "2"])
        XCTAssertEqual(conv.status, 0, conv.err)
        XCTAssertTrue(conv.err.contains("converted 4 of 4 files"), conv.err)
        XCTAssertTrue(conv.err.contains("rows/s"), conv.err)

        // CSV: same header and values as the source files, across three dates.
        let csv = try ffcol(["scan", "--root", work + "/data", "--dataset", "stocks_minute", "--ticker", "AAPL", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.err)
        XCTAssertTrue(csv.out.hasPrefix("ticker,volume,open,close,high,low,window_start,transactions\n"))
        var want: [RefRow] = []
        for d in days { want += sortedRef(sourceRows(zcat(stocksFile(d))) { $0 == "AAPL" }) }
        XCTAssertGreaterThan(want.count, 100)
        XCTAssertEqual(parseCSVOutput(csv.out), want)

        // Date range: only the middle day.
        let mid = try ffcol(["scan", "--root", work + "/data", "--dataset", "stocks_minute", "--ticker", "AAPL",
                             "--from", "2025-09-29", "--to", "2025-09-29", "--format", "csv"])
        XCTAssertEqual(parseCSVOutput(mid.out), sortedRef(sourceRows(zcat(stocksFile("2025-09-29"))) { $0 == "AAPL" }))

        // NDJSON: one object per row.
        let nd = try ffcol(["scan", "--root", work + "/data", "--dataset", "stocks_minute", "--ticker", "MSFT", "--format", "ndjson",
                            "--tz", "UTC", "--limit", "7"])
        XCTAssertEqual(nd.status, 0, nd.err)
        let lines = nd.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 7)
        for l in lines {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
            XCTAssertEqual(obj["ticker"] as? String, "MSFT")
            XCTAssertTrue((obj["window_start"] as? String)?.hasSuffix("Z") ?? false)
            XCTAssertNotNil(obj["close"] as? Double)
        }

        // Table with --columns.
        let table = try ffcol(["scan", "--root", work + "/data", "--dataset", "stocks_minute", "--ticker", "SPY", "--columns", "close,window_start",
                               "--limit", "3"])
        let tl = table.out.split(separator: "\n")
        XCTAssertEqual(tl.count, 4)
        guard tl.count == 4 else { return }
        XCTAssertTrue(tl[0].hasPrefix("ticker"))
        XCTAssertTrue(tl[0].contains("close") && tl[0].contains("window_start") && !tl[0].contains("volume"))
        XCTAssertTrue(tl[1].contains("-04:00"), String(tl[1]))

        // Options: an underlying gives all its contracts, an OCC symbol one.
        let opt = try ffcol(["scan", "--root", work + "/data", "--dataset", "options_minute", "--ticker", "SPY", "--format", "csv"])
        XCTAssertEqual(opt.status, 0, opt.err)
        let optRows = parseCSVOutput(opt.out)
        let src = zcat("\(work)/flat/us_options_opra/minute_aggs_v1/2025/09/2025-09-29.csv.gz")
        let spy = sourceRows(src) { OCCSymbol(Array($0.utf8))?.rootString == "SPY" }
        XCTAssertGreaterThan(spy.count, 0)
        XCTAssertEqual(optRows, sortedRef(spy))
        guard let first = spy.first else { return }
        let one = String(decoding: first.ticker, as: UTF8.self)
        let single = try ffcol(["scan", "--root", work + "/data", "--dataset", "options_minute", "--ticker", one, "--format", "csv"])
        XCTAssertEqual(parseCSVOutput(single.out), sortedRef(spy.filter { $0.ticker == first.ticker }))

        // Two datasets under the root and no --dataset: a clear error listing them.
        let amb = try ffcol(["scan", "--root", work + "/data", "--ticker", "AAPL"])
        XCTAssertNotEqual(amb.status, 0)
        XCTAssertTrue(amb.err.contains("options_minute") && amb.err.contains("stocks_minute") && amb.err.contains("--dataset"), amb.err)

        // inspect and verify.
        let ffc = "\(work)/data/stocks_minute/2025/09/2025-09-29.ffc"
        let ins = try ffcol(["inspect", ffc])
        XCTAssertEqual(ins.status, 0, ins.err)
        XCTAssertTrue(ins.out.contains("rows:") && ins.out.contains("window_start") && ins.out.contains("source:"), ins.out)
        XCTAssertEqual(try ffcol(["verify", work + "/data"]).status, 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: ffc))
        bytes[100] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: ffc))
        let bad = try ffcol(["verify", work + "/data"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("CORRUPT") && bad.err.contains("2025-09-29.ffc"), bad.err)
        let scanBad = try ffcol(["scan", "--root", work + "/data", "--dataset", "stocks_minute", "--format", "csv"])
        XCTAssertNotEqual(scanBad.status, 0)
        XCTAssertTrue(scanBad.err.contains("2025-09-29.ffc"), scanBad.err)
        // One ticker across the dates (decoded ahead on other threads): the damaged date's error,
        // after the rows of the dates before it.
        // The first ticker of the damaged file: its rows are in the first chunk, where byte 100 is.
        let firstTicker = try XCTUnwrap(referenceRows(zcat(stocksFile("2025-09-29"))).map { String(decoding: $0.ticker, as: UTF8.self) }.min())
        let tickerBad = try ffcol(["scan", "--root", work + "/data", "--dataset", "stocks_minute", "--ticker", firstTicker, "--format", "csv"])
        XCTAssertNotEqual(tickerBad.status, 0)
        XCTAssertTrue(tickerBad.err.contains("2025-09-29.ffc") && tickerBad.err.contains("checksum"), tickerBad.err)
        var before: [RefRow] = []
        for d in days where d < "2025-09-29" { before += sortedRef(sourceRows(zcat(stocksFile(d))) { $0 == firstTicker }) }
        XCTAssertGreaterThan(before.count, 0)
        XCTAssertEqual(parseCSVOutput(tickerBad.out), before)
    }

    func testBadInputFailsCleanlyAndOthersStillConvert() throws {
        let dir = work + "/bad/us_stocks_sip/minute_aggs_v1/2025/10"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let badText = "ticker,volume,open,close,high,low,window_start,transactions\nAAPL,1,1,1,1,1,1759152600000000000,1\nAAPL,1,x,1,1,1,1759152660000000000,1\n"
        let gz = gzipBytes(Array(badText.utf8), dir: work)
        FileManager.default.createFile(atPath: dir + "/2025-10-01.csv.gz", contents: Data(gz))
        try FileManager.default.copyItem(atPath: stocksFile("2025-09-29"), toPath: dir + "/2025-10-02.csv.gz")
        let r = try ffcol(["convert", work + "/bad", "--out", work + "/out"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("2025-10-01.csv.gz:3") && r.err.contains("'open'") && r.err.contains("'x'"), r.err)
        XCTAssertTrue(r.err.contains("converted 1 of 2 files"), r.err)
        let files = listFiles(work + "/out")
        XCTAssertTrue(files.contains("stocks_minute/2025/10/2025-10-02.ffc"), "\(files)")
        XCTAssertFalse(files.contains { $0.contains("2025-10-01.ffc") }, "\(files)")
        XCTAssertTrue(files.contains(".ffcol/failed/stocks_minute/2025-10-01.txt"), "\(files)")
        XCTAssertFalse(files.contains { $0.contains(".tmp-") }, "\(files)")
    }

    func testHelpExplainsEveryCommand() throws {
        let top = try ffcol(["--help"])
        for c in ["convert", "scan", "inspect", "verify", "synth", "demo", "download", "status", "calendar"] {
            XCTAssertTrue(top.out.contains(c), "top-level help lacks \(c)")
        }
        let conv = try ffcol(["convert", "--help"])
        for o in ["--out", "--dataset", "--date", "--jobs", "--strict", "--chunk-rows"] { XCTAssertTrue(conv.out.contains(o), o) }
        let scan = try ffcol(["scan", "--help"])
        for o in ["--root", "--dataset", "--ticker", "--from", "--to", "--columns", "--format", "--tz", "--limit"] {
            XCTAssertTrue(scan.out.contains(o), o)
        }
        let bad = try ffcol(["scan", "--format", "xml"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("xml"), bad.err)
    }

    /// SIGINT and SIGTERM while a conversion is in progress: exit 130 / 143, the temporary file
    /// removed, no output.
    func testInterruptRemovesTemporaryFiles() throws {
        for (sig, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let out = work + "/int\(sig)"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.binaryPath)
            p.arguments = ["convert", "-", "--dataset", "stocks_minute", "--date", "2025-09-29", "--out", out, "-q"]
            let stdin = Pipe()
            p.standardInput = stdin
            try p.run()
            // Some rows, then the input stays open: the conversion is under way.
            stdin.fileHandleForWriting.write(Data("ticker,volume,open,close,high,low,window_start,transactions\nAAPL,1,1,1,1,1,1759152600000000000,1\n".utf8))
            var sawTemp = false
            for _ in 0..<200 where !sawTemp {
                sawTemp = listFiles(out).contains { $0.contains(".tmp-") }
                if !sawTemp { usleep(25_000) }
            }
            XCTAssertTrue(sawTemp, "the conversion should have a temporary file while it runs")
            kill(p.processIdentifier, sig)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, code, "signal \(sig)")
            XCTAssertEqual(listFiles(out).filter { !$0.hasPrefix(".ffcol/") }, [], "nothing left after signal \(sig)")
            try? stdin.fileHandleForWriting.close()
        }
    }

    /// Out-of-range options are usage errors (exit 64) that name the option, before any work.
    func testConvertOptionRanges() throws {
        for (opt, bad, good) in [("--zstd-level", "20", "19"), ("--zstd-level", "0", "1"), ("--jobs", "0", "1"),
                                 ("--chunk-rows", "0", "1000")] {
            let r = try ffcol(["convert", stocksFile(days[0]), "--out", work + "/ranges", opt, bad, "-q"])
            XCTAssertEqual(r.status, 64, "\(opt) \(bad): \(r.err)")
            XCTAssertTrue(r.err.contains(opt), r.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/ranges/stocks_minute"), "\(opt) \(bad)")
            let ok = try ffcol(["convert", stocksFile(days[0]), "--out", work + "/ranges-\(opt)-\(good)", opt, good, "-q"])
            XCTAssertEqual(ok.status, 0, "\(opt) \(good): \(ok.err)")
        }
        let r = try ffcol(["convert", stocksFile(days[0]), "--out", work + "/ranges", "--page-rows=-1", "-q"])
        XCTAssertEqual(r.status, 64, r.err)
        XCTAssertTrue(r.err.contains("--page-rows must be at least 1, or 0 for format version 1"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/ranges/stocks_minute"))
    }

    func testStdinNeedsDatasetAndDate() throws {
        let r = try ffcol(["convert", "-", "--out", work + "/o"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("--dataset") && r.err.contains("--date"), r.err)
    }
}
