import Foundation
import XCTest
import FFCol
import FFColConvert

/// `ffcol convert` killed at random moments, and two conversions into one root at once: every
/// `.ffc` present is complete and verifies, temporary files are never taken for output, and a
/// rerun gives the same rows as an undisturbed run.
final class CrashSafetyTests: XCTestCase {
    /// Runs ffcol to completion (output to files, as in ConvertCLITests).
    struct CLI {
        func ffcol(_ args: [String]) throws -> ConvertCLITests.Run {
            let r = try runProduct("ffcol", args)
            return ConvertCLITests.Run(status: r.status, out: r.out, err: r.err)
        }
    }
    let cli = CLI()
    var work = ""
    let days = ["2025-09-29", "2025-09-30"]

    override func setUpWithError() throws {
        work = tempDir(self)
        for (i, d) in days.enumerated() {
            let r = try cli.ffcol(["synth", "--dataset", "stocks_minute", "--date", d, "--rows", "25000", "--seed", "\(i + 7)",
                                   "--out", work + "/flat/"])
            XCTAssertEqual(r.status, 0, r.err)
        }
    }

    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ConvertCLITests.binaryPath)
        p.arguments = args
        p.environment = productEnvironment()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Rows of every date under `root`, verifying each file first.
    func contents(_ root: String, file: StaticString = #filePath, line: UInt = #line) -> [String: [RefRow]] {
        var out: [String: [RefRow]] = [:]
        let store = Store(root: root)
        for d in store.dates(dataset: .stocksMinute) {
            do {
                let f = try FFCFile(path: store.path(dataset: .stocksMinute, date: d))
                try f.verify()
                out["\(d)"] = try readAll(f)
            } catch {
                XCTFail("\(d): \(error)", file: file, line: line)
            }
        }
        return out
    }

    /// Every `.ffc` present verifies; temporary files are not dates and `verify` calls them leftovers.
    func checkState(_ root: String, round: Int) throws {
        let files = listFiles(root)
        let ffcs = files.filter { $0.hasSuffix(".ffc") && !($0.split(separator: "/").last ?? "").hasPrefix(".") }
        let temps = files.filter { $0.contains(".ffc.tmp-") }
        let dates = Store(root: root).dates(dataset: .stocksMinute).map { "\($0)" }
        XCTAssertEqual(dates.count, ffcs.count, "round \(round): dates \(dates) vs files \(files)")
        for f in ffcs {
            do { try FFCFile(path: root + "/" + f).verify() } catch { XCTFail("round \(round): \(f): \(error)") }
        }
        guard !ffcs.isEmpty || !temps.isEmpty else { return }
        let v = try cli.ffcol(["verify", root])
        // verify exits 1 when it found no .ffc at all (only leftovers), never because of a leftover.
        XCTAssertEqual(v.status, ffcs.isEmpty ? 1 : 0, "round \(round): \(v.err)")
        XCTAssertFalse(v.err.contains("CORRUPT"), "round \(round): \(v.err)")
        for t in temps {
            XCTAssertTrue(v.err.contains("leftover temporary file") && v.err.contains(String(t.split(separator: "/").last!)),
                          "round \(round): \(v.err)")
        }
    }

    func testSIGKILLAtRandomMomentsNeverLeavesABadFile() throws {
        let ref = work + "/ref"
        let t0 = monotonicSeconds()
        let r = try cli.ffcol(["convert", work + "/flat", "--out", ref, "--jobs", "1", "--chunk-rows", "2000"])
        XCTAssertEqual(r.status, 0, r.err)
        let undisturbed = monotonicSeconds() - t0
        let want = contents(ref)
        XCTAssertEqual(want.count, 2)

        var rng = SystemRandomNumberGenerator()
        let root = work + "/killed"
        var killedMidway = 0
        for round in 0..<30 {
            // A fresh root now and then, so early kills (before any file is done) are covered too.
            if round % 10 == 0 { try? FileManager.default.removeItem(atPath: root) }
            let p = try start(["convert", work + "/flat", "--out", root, "--jobs", "\(1 + round % 2)", "--chunk-rows", "2000", "-q"])
            // Skewed early (u squared): a round with files already done ends sooner than the
            // undisturbed run, and most kills should land while the process is working.
            let u = Double.random(in: 0...1, using: &rng)
            usleep(UInt32(u * u * undisturbed * 1.1 * 1_000_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal { killedMidway += 1 }
            try checkState(root, round: round)
        }
        XCTAssertGreaterThan(killedMidway, 10, "most kills should land during a conversion")
        let again = try cli.ffcol(["convert", work + "/flat", "--out", root, "--jobs", "2", "--chunk-rows", "2000"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertEqual(contents(root), want)
    }

    func testTwoConvertsIntoOneRootAtOnce() throws {
        // Overlapping inputs: the first process gets both days, the second one of them.
        let one = work + "/one/us_stocks_sip/minute_aggs_v1/2025/09"
        try FileManager.default.createDirectory(atPath: one, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: work + "/flat/us_stocks_sip/minute_aggs_v1/2025/09/2025-09-30.csv.gz",
                                         toPath: one + "/2025-09-30.csv.gz")
        let ref = work + "/ref"
        XCTAssertEqual(try cli.ffcol(["convert", work + "/flat", "--out", ref]).status, 0)
        let want = contents(ref)
        for round in 0..<3 {
            let root = work + "/both\(round)"
            let a = try start(["convert", work + "/flat", "--out", root, "--jobs", "2"])
            let b = try start(["convert", work + "/one", "--out", root])
            a.waitUntilExit(); b.waitUntilExit()
            XCTAssertEqual(a.terminationStatus, 0, "round \(round)")
            XCTAssertEqual(b.terminationStatus, 0, "round \(round)")
            XCTAssertEqual(listFiles(root).filter { $0.contains(".tmp-") }, [], "round \(round)")
            try checkState(root, round: round)
            XCTAssertEqual(contents(root), want, "round \(round)")
        }
    }
}
