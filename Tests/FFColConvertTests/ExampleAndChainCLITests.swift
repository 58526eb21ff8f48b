import Foundation
import XCTest
import FFCol

/// The worked example runs and reports what it should; `ffcol scan --underlying` with filters
/// matches the contracts picked from the whole chain by hand.
final class ExampleAndChainCLITests: XCTestCase {
    func run(_ name: String, _ args: [String] = []) throws -> (status: Int32, out: String, err: String) {
        try runProduct(name, args)
    }

    func testBacktestExampleRuns() throws {
        let r = try run("ffcol-example-backtest")
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("data: 15 stocks_minute days 2025-09-02...2025-09-22") }, r.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("backtest: 5 tickers, 15 days, ") }, r.out)
        for t in ["AAPL", "MSFT", "QQQ", "SPY", "TSLA"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix("  \(t) ") && $0.contains("trades") && $0.contains("pnl") }, t)
        }
        let total = try XCTUnwrap(lines.first { $0.hasPrefix("total pnl: ") })
        let trades = Int(total.components(separatedBy: "trades: ").last ?? "") ?? 0
        XCTAssertGreaterThan(trades, 0)
        XCTAssertTrue(lines.contains { $0.hasPrefix("check: ok") }, r.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("chain: SPY 2025-09-22: ") }, r.out)
        let asOf = try XCTUnwrap(lines.first { $0.hasPrefix("as of noon") })
        XCTAssertFalse(asOf.contains(": 0 contracts"), asOf)
        // Deterministic: a second run prints the same.
        XCTAssertEqual(try run("ffcol-example-backtest").out, r.out)
    }

    func testScanUnderlyingFilters() throws {
        let work = tempDir(self)
        var r = try run("ffcol", ["synth", "--dataset", "options_minute", "--date", "2025-09-29", "--rows", "30000", "--out", work + "/flat/"])
        XCTAssertEqual(r.status, 0, r.err)
        r = try run("ffcol", ["convert", work + "/flat", "--out", work + "/data"])
        XCTAssertEqual(r.status, 0, r.err)
        let base = ["scan", "--root", work + "/data", "--format", "csv"]
        let all = try run("ffcol", base + ["--ticker", "SPY"])
        XCTAssertEqual(all.status, 0, all.err)
        let rows = all.out.split(separator: "\n").dropFirst().map(String.init)
        XCTAssertGreaterThan(rows.count, 100)
        // Expiry, strike and type by slicing the symbol text.
        func keep(_ line: String, expiry: ClosedRange<String>, strike: ClosedRange<Int>, call: Bool?) -> Bool {
            let t = Array(line.prefix { $0 != "," })
            let n = t.count
            let e = "20" + String(t[n - 15..<n - 13]) + "-" + String(t[n - 13..<n - 11]) + "-" + String(t[n - 11..<n - 9])
            let k = Int(String(t[n - 8..<n]))!
            return expiry.contains(e) && strike.contains(k) && (call == nil || call == (t[n - 9] == "C"))
        }
        let cases: [([String], ClosedRange<String>, ClosedRange<Int>, Bool?)] = [
            (["--expiry", "2025-09-30"], "2025-09-30"..."2025-09-30", 0...Int.max, nil),
            (["--expiry-from", "2025-09-30", "--expiry-to", "2025-10-03", "--type", "put"], "2025-09-30"..."2025-10-03", 0...Int.max, false),
            (["--strike-min", "640", "--strike-max", "662.5", "--type", "call"], "0"..."9", 640_000...662_500, true),
            (["--strike", "650"], "0"..."9", 650_000...650_000, nil),
        ]
        for (args, e, k, c) in cases {
            let got = try run("ffcol", base + ["--underlying", "SPY"] + args)
            XCTAssertEqual(got.status, 0, got.err)
            let want = rows.filter { keep($0, expiry: e, strike: k, call: c) }
            XCTAssertFalse(want.isEmpty, "\(args)")
            XCTAssertEqual(got.out.split(separator: "\n").dropFirst().map(String.init), want, "\(args)")
        }
        // Without filters --underlying is --ticker; a root with a digit is its own chain.
        XCTAssertEqual(try run("ffcol", base + ["--underlying", "SPY"]).out, all.out)
        let aapl1 = try run("ffcol", base + ["--underlying", "AAPL1"])
        XCTAssertTrue(aapl1.out.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix("O:AAPL1") })
        // Misuse is a usage error.
        for bad in [["--type", "call"], ["--underlying", "SPY", "--strike", "1.0001"], ["--underlying", "SPY", "--ticker", "QQQ"],
                    ["--underlying", "SPY", "--strike", "600", "--strike-min", "590"]] {
            XCTAssertEqual(try run("ffcol", base + bad).status, 64, "\(bad)")
        }
        let help = try run("ffcol", ["scan", "--help"])
        for flag in ["--underlying", "--expiry-from", "--expiry-to", "--strike-min", "--strike-max", "--type"] {
            XCTAssertTrue(help.out.contains(flag), flag)
        }
    }
}
