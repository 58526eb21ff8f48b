import Foundation
import XCTest
import FFCol
import FFColConvert

/// `ffcol convert` against a locked date, a full disk, a read-only root, inputs that vanish and
/// hostile tickers and names: a clear message naming the path and what to do, no partial
/// output, the other dates unaffected, nothing written outside the root.
final class ConvertResourceAndLockTests: XCTestCase {
    var work = ""
    let cli = CrashSafetyTests.CLI()
    let dir = "/flat/us_stocks_sip/minute_aggs_v1/2025/09"

    override func setUpWithError() throws {
        work = tempDir(self)
    }

    func synth(_ date: String, rows: Int, seed: Int) throws {
        let r = try cli.ffcol(["synth", "--dataset", "stocks_minute", "--date", date, "--rows", "\(rows)", "--seed", "\(seed)",
                               "--out", work + "/flat/"])
        XCTAssertEqual(r.status, 0, r.err)
    }

    func text(_ p: String) -> String { (try? String(contentsOfFile: p, encoding: .utf8)) ?? "" }

    /// Starts ffcol with stderr to `log` and extra environment.
    func start(_ args: [String], log: String, env extra: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: productPath("ffcol"))
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["FFCOL_CONFIG"] = nil; env["FFCOL_ROOT"] = nil
        for (k, v) in extra { env[k] = v }
        p.environment = env
        FileManager.default.createFile(atPath: log, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        return p
    }

    func run(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, err: String) {
        let log = work + "/log-\(UUID().uuidString)"
        let p = try start(args, log: log, env: env)
        p.waitUntilExit()
        return (p.terminationStatus, text(log))
    }

    @discardableResult
    func tool(_ path: String, _ args: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// A tmpfs at `path`, unmounted at the end of the test; false where mounting is not permitted.
    func mountTmpfs(_ path: String, size: Int, readOnly: Bool = false) -> Bool {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // FFCOL_TEST_NO_MOUNT=1 exercises the injected faults used where mounting is not permitted.
        if ProcessInfo.processInfo.environment["FFCOL_TEST_NO_MOUNT"] == "1" { return false }
        guard tool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)\(readOnly ? ",ro" : "")", "tmpfs", path]) else { return false }
        addTeardownBlock { self.tool("/bin/umount", ["-l", path]) }
        return true
    }

    // MARK: Locks

    /// A date another process is writing: `--no-wait` skips it naming the holder (exit 0), the
    /// default waits for it, says so, and converts once the lock is free.
    func testLockedDateIsSkippedWithNoWaitAndWaitedForByDefault() throws {
        try synth("2025-09-29", rows: 3000, seed: 1)
        try synth("2025-09-30", rows: 3000, seed: 2)
        let root = work + "/out"
        guard case .acquired(let lock) = try DateLock.tryAcquire(root: root, dataset: .stocksMinute, date: TradingDate("2025-09-30")!) else {
            return XCTFail("a fresh root's lock is free")
        }
        let day = TradingDate("2025-09-30")!
        XCTAssertEqual(DateLock.currentHolder(root: root, dataset: .stocksMinute, date: day)?.pid, getpid())
        XCTAssertNil(DateLock.currentHolder(root: root, dataset: .stocksMinute, date: TradingDate("2025-09-29")!))
        let r = try run(["convert", work + "/flat", "--out", root, "--no-wait"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("skipped") && r.err.contains("stocks_minute 2025-09-30 is being written by pid \(getpid())")
                      && r.err.contains("since 20") && r.err.contains("(--no-wait)"), r.err)
        XCTAssertTrue(r.err.contains("converted 1 of 2 files") && r.err.contains("1 skipped"), r.err)
        XCTAssertEqual(Store(root: root).dates(dataset: .stocksMinute).map { "\($0)" }, ["2025-09-29"])

        let log = work + "/wait.err"
        let p = try start(["convert", work + "/flat", "--out", root], log: log)
        while !text(log).contains("waiting for it") {
            XCTAssertTrue(p.isRunning, text(log))
            if !p.isRunning { return }
            usleep(20_000)
        }
        XCTAssertTrue(text(log).contains("stocks_minute 2025-09-30 is being written by pid \(getpid())"), text(log))
        lock.release()
        XCTAssertNotEqual(DateLock.currentHolder(root: root, dataset: .stocksMinute, date: day)?.pid, getpid())
        p.waitUntilExit()
        XCTAssertNil(DateLock.currentHolder(root: root, dataset: .stocksMinute, date: day))
        XCTAssertEqual(p.terminationStatus, 0, text(log))
        XCTAssertEqual(Store(root: root).dates(dataset: .stocksMinute).map { "\($0)" }, ["2025-09-29", "2025-09-30"])
        XCTAssertEqual(listFiles(root).filter { $0.contains(".tmp") }, [])
    }

    // MARK: Resource errors

    /// A disk that fills up during one file: that file fails with the path and what to do,
    /// leaves nothing, is recorded in .ffcol/failed; the next file converts; with space again
    /// a rerun converts it and clears the record. A tmpfs, or injected ENOSPC where mounting
    /// is not permitted.
    func testFullDiskFailsOneFileCleanlyAndTheRerunConvertsIt() throws {
        try synth("2025-09-26", rows: 120_000, seed: 3)   // first in path order, ~800 kB as .ffc
        try synth("2025-09-29", rows: 2000, seed: 4)
        let root = work + "/disk"
        let mounted = mountTmpfs(root, size: 400 << 10)
        print("full disk: \(mounted ? "tmpfs of 400 KiB" : "injected ENOSPC (mount not permitted)")")
        let env = mounted ? [:] : ["FFCOL_TEST_FAULT": "enospc-after:\(300 << 10)"]
        let r = try run(["convert", work + "/flat", "--out", root, "--jobs", "1"], env: env)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains(root + "/stocks_minute/2025/09/2025-09-26.ffc") && r.err.contains("No space left on device")
                      && r.err.contains("the disk is full: free some space or use another output root"), r.err)
        XCTAssertTrue(r.err.contains("converted 1 of 2 files (1 FAILED)"), r.err)
        XCTAssertEqual(listFiles(root).filter { $0.contains(".tmp") }, [])
        XCTAssertEqual(Store(root: root).dates(dataset: .stocksMinute).map { "\($0)" }, ["2025-09-29"])
        let failed = root + "/.ffcol/failed/stocks_minute/2025-09-26.txt"
        XCTAssertTrue(text(failed).contains("No space left on device"), text(failed))

        if mounted { XCTAssertTrue(tool("/bin/mount", ["-o", "remount,size=16m", root])) }
        let again = try run(["convert", work + "/flat", "--out", root], env: [:])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertEqual(try FFCFile(path: Store(root: root).path(dataset: .stocksMinute, date: TradingDate("2025-09-26")!)).rowCount, 120_000)
        XCTAssertFalse(FileManager.default.fileExists(atPath: failed))
    }

    /// A read-only output root: exit 1 before any work, naming the path and what to do.
    func testReadOnlyRootIsAClearError() throws {
        try synth("2025-09-29", rows: 500, seed: 1)
        let ro = work + "/ro"
        if mountTmpfs(ro, size: 1 << 20, readOnly: true) {
            let r = try run(["convert", work + "/flat", "--out", ro + "/data"])
            XCTAssertEqual(r.status, 1, r.err)
            XCTAssertTrue(r.err.contains(ro + "/data") && r.err.contains("Read-only file system")
                          && r.err.contains("remount it read-write or use another output root"), r.err)
            XCTAssertEqual(listFiles(ro), [])
        } else {
            print("read-only root: injected EROFS (mount not permitted)")
            let r = try run(["convert", work + "/flat", "--out", work + "/out"], env: ["FFCOL_TEST_FAULT": "erofs"])
            XCTAssertEqual(r.status, 1, r.err)
            XCTAssertTrue(r.err.contains("Read-only file system") && r.err.contains("remount it read-write"), r.err)
            XCTAssertEqual(Store(root: work + "/out").dates(dataset: .stocksMinute), [])
        }
    }

    /// An output directory that does not exist is created; an input that vanished between runs
    /// (named on the command line), after its directory was listed (a dangling name) or just
    /// before it was opened is an error naming it, and the others still convert.
    func testMissingOutputDirectoryIsCreatedAndVanishedInputsAreNamed() throws {
        try synth("2025-09-29", rows: 500, seed: 1)
        try synth("2025-09-30", rows: 500, seed: 2)
        let a = work + dir + "/2025-09-29.csv.gz", b = work + dir + "/2025-09-30.csv.gz"
        let root = work + "/not/there/yet"
        var r = try run(["convert", a, b, "--out", root])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(Store(root: root).dates(dataset: .stocksMinute).count, 2)

        try FileManager.default.removeItem(atPath: b)
        r = try run(["convert", a, b, "--out", root])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains(b) && r.err.contains("No such file or directory"), r.err)
        XCTAssertTrue(r.err.contains("converted 1 of"), r.err)
        XCTAssertEqual(listFiles(root).filter { $0.contains(".tmp") }, [])
        // Gone when the converter opens it: the error names it and nothing is written.
        var o = ConvertOptions(outRoot: work + "/out3")
        o.dataset = .stocksMinute
        XCTAssertThrowsError(try Converter.convert(path: b, options: o)) { e in
            XCTAssertTrue("\(e)".contains(b) && "\(e)".contains("cannot open: No such file or directory"), "\(e)")
        }
        XCTAssertEqual(listFiles(work + "/out3"), [])

        // Found in the directory but gone when opened: a name whose target is missing.
        try FileManager.default.createSymbolicLink(atPath: b, withDestinationPath: work + "/gone.csv.gz")
        r = try run(["convert", work + "/flat", "--out", work + "/out2"])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains(b) && r.err.contains("No such file or directory") && r.err.contains("vanished"), r.err)
        XCTAssertEqual(Store(root: work + "/out2").dates(dataset: .stocksMinute).map { "\($0)" }, ["2025-09-29"])
    }

    // MARK: Nothing outside the root

    /// Tickers that look like paths, hostile file names, --dataset and --date values: nothing
    /// is written outside the root (the parent directory is listed before and after), and
    /// inside it only the dataset/date path.
    func testHostileTickersAndNamesNeverWriteOutsideTheRoot() throws {
        let parent = work + "/parent"
        let root = parent + "/root"
        let inputs = work + "/in/a/b"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
        writeFile(parent + "/sentinel", [7])
        let header = "ticker,volume,open,close,high,low,window_start,transactions\n"
        let tickers = ["../x", "..", "/", "/etc/passwd", "../../../../tmp/evil", "a/../../b", "~", "$(touch pwned)", "C:\\x", "-rf"]
        let body = tickers.enumerated().map { i, t in "\(t),1,1,1,1,1,\(1_759_152_600_000_000_000 + Int64(i) * 60_000_000_000),1\n" }.joined()
        writeFile(inputs + "/2025-09-29.csv", Array((header + body).utf8))
        // Names with .. and control characters that still hold a date.
        writeFile(inputs + "/x..2025-09-30..csv", Array((header + "A,1,1,1,1,1,1759239000000000000,1\n").utf8))
        writeFile(inputs + "/\u{1}\u{1B}[2J2025-10-01.csv", Array((header + "A,1,1,1,1,1,1759325400000000000,1\n").utf8))
        let before = listFiles(parent).filter { !$0.hasPrefix("root/") }

        var r = try run(["convert", work + "/in", "--out", root, "--dataset", "stocks_minute"])
        XCTAssertEqual(r.status, 0, r.err)
        r = try run(["convert", inputs + "/../b/../../a/b/2025-09-29.csv", "--out", root, "--dataset", "stocks_minute", "--date", "2025-09-29"])
        XCTAssertEqual(r.status, 0, r.err)
        for args in [["--dataset", "../../x"], ["--dataset", "/tmp"], ["--date", "../../2025-09-29"], ["--date", "2025-09-29/../.."]] {
            r = try run(["convert", inputs + "/2025-09-29.csv", "--out", root] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
        }
        XCTAssertEqual(listFiles(parent).filter { !$0.hasPrefix("root/") }, before, "written outside the root")
        for f in listFiles(root) {
            XCTAssertTrue(f.hasPrefix(".ffcol/") || f.hasPrefix("stocks_minute/2025/"), f)
            XCTAssertFalse(f.contains(".."), f)
        }
        XCTAssertEqual(Store(root: root).dates(dataset: .stocksMinute).map { "\($0)" }, ["2025-09-29", "2025-09-30", "2025-10-01"])
        let f = try FFCFile(path: Store(root: root).path(dataset: .stocksMinute, date: TradingDate("2025-09-29")!))
        var got: [String] = []
        try f.forEachTicker { b in got.append(b.ticker); return true }
        XCTAssertEqual(got.sorted(), tickers.sorted())
    }
}
