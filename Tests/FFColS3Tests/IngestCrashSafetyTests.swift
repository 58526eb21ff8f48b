import FFCol
import FFColConvert
@testable import FFColS3
import Foundation
import XCTest

/// `ffcol ingest` killed at random moments, stopped by SIGINT/SIGTERM, run twice at once on one
/// root, on a full disk, a read-only root and a root below a file, and fed hostile keys and
/// tickers: every `.ffc` present is complete, temporary files are never taken for output, the
/// records say what is true, nothing is written outside the root, and a rerun finishes the job.
final class IngestCrashSafetyTests: XCTestCase {
    private func d(_ s: String) -> TradingDate { TradingDate(s)! }
    private let ds = Dataset.stocksMinute
    private let dates = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]

    // MARK: Helpers

    private func flatFile(_ date: String, rows: Int, seed: UInt64, ds: Dataset = .stocksMinute) throws -> [UInt8] {
        var out: [UInt8] = []
        let gz = try GzipWriter(sink: { out.append(contentsOf: $0) })
        _ = try Synth.generate(SynthOptions(dataset: ds, date: d(date), rows: rows, seed: seed)) { try gz.write($0) }
        try gz.close()
        return out
    }

    private var env: [String: String] = [:]
    private var cfg = ""

    /// Starts ffcol with stdout and stderr going to files (`<log>.out`, `<log>.err`).
    private func start(_ args: [String], log: String, extraEnv: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ffcolBinary())
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for k in e.keys where k.hasPrefix("POLYGON_") || k.hasPrefix("MASSIVE_") || k.hasPrefix("AWS_") || k.hasPrefix("FFCOL_") { e[k] = nil }
        for (k, v) in env { e[k] = v }
        for (k, v) in extraEnv { e[k] = v }
        p.environment = e
        FileManager.default.createFile(atPath: log + ".out", contents: nil)
        FileManager.default.createFile(atPath: log + ".err", contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: log + ".out")
        p.standardError = FileHandle(forWritingAtPath: log + ".err")
        try p.run()
        return p
    }

    private func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    private func run(_ args: [String], extraEnv: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let log = try makeTempDir() + "/run"
        let p = try start(args, log: log, extraEnv: extraEnv)
        p.waitUntilExit()
        return (p.terminationStatus, text(log + ".out"), text(log + ".err"))
    }

    private func ingestArgs(_ srv: TestServer, bucket: String, root: String, from: String = "2024-01-02",
                            to: String = "2024-01-05", viaProxy: Bool = false) -> [String] {
        ["ingest", "--dataset", ds.rawValue, "--from", from, "--to", to, "--endpoint-url", viaProxy ? srv.proxy : srv.endpoint,
         "--bucket", bucket, "--root", root, "--config-dir", cfg, "--retries", "2"]
    }

    private func setUpServer(_ name: String, rows: Int = 5000) throws -> (TestServer, String, [String: [UInt8]], [String: String]) {
        let srv = try TestServer.require()
        env = ["POLYGON_S3_ACCESS_KEY_ID": srv.accessKeyID, "POLYGON_S3_SECRET_ACCESS_KEY": srv.secret]
        cfg = try makeTempDir()
        let bucket = try srv.freshBucket(name)
        var gz: [String: [UInt8]] = [:], etags: [String: String] = [:]
        for (i, date) in dates.enumerated() {
            gz[date] = try flatFile(date, rows: rows + 700 * i, seed: UInt64(40 + i))
            etags[date] = try srv.client(bucket: bucket).put(key: ds.key(for: d(date)), body: gz[date]!)
        }
        return (srv, bucket, gz, etags)
    }

    /// Every regular file under `dir`, relative names, sorted.
    private func files(_ dir: String) -> [String] {
        var out: [String] = []
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        while let f = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue { out.append(f) }
        }
        return out.sorted()
    }

    private func isTemp(_ rel: String) -> Bool {
        let base = rel.split(separator: "/").last.map(String.init) ?? rel
        return (base.hasPrefix(".") && base.contains(".ffc.tmp-")) || base.contains(".tmp.") || base.contains(".tmp-")
    }

    /// Rows of each ticker of a verified `.ffc`.
    private func rows(_ path: String) throws -> [String: [Bar]] {
        let f = try FFCFile(path: path)
        try f.verify()
        var out: [String: [Bar]] = [:]
        try f.forEachTicker { b in out[b.ticker] = Array(b); return true }
        return out
    }

    /// The state of a root at any moment, killed or not:
    /// - every `.ffc` under its final name verifies and holds the rows of an undisturbed run;
    /// - temporary files are hidden or `.tmp.` names, and no reader takes them for a date;
    /// - a raw file under its final name is the whole object;
    /// - a `done` record describes the `.ffc` that is there (ETag, rows, size) and its raw copy;
    ///   any other record is `in_progress` (a killed run) or absent;
    /// - `ffcol verify` passes and names each leftover.
    /// Each date may have several acceptable versions (an object republished between runs).
    private func checkState(_ root: String, want: [String: [[String: [Bar]]]], gz: [String: [[UInt8]]], etags: [String: [String]],
                            round: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let all = files(root)
        let store = Store(root: root)
        var ffcs: [String] = []
        for f in all {
            let at = "round \(round): \(f)"
            if f.hasPrefix(".ffcol/locks/") {
                XCTAssertTrue(f.hasSuffix(".lock"), at, file: file, line: line)
            } else if f.hasPrefix(".ffcol/meta/") {
                XCTAssertTrue(f.hasSuffix(".json") || isTemp(f), at, file: file, line: line)
            } else if f.hasPrefix("raw/") {
                if isTemp(f) { continue }
                let date = try XCTUnwrap(TradingDate.detect(inPath: f), at, file: file, line: line)
                XCTAssertEqual(f, "raw/" + ds.key(for: date), at, file: file, line: line)
                let bytes = FileManager.default.contents(atPath: root + "/" + f).map { [UInt8]($0) }
                XCTAssertTrue(gz["\(date)"]!.contains { $0 == bytes },
                              "\(at): a raw file under its final name is not the whole object", file: file, line: line)
            } else if f.hasPrefix(ds.rawValue + "/") {
                if isTemp(f) { continue }
                XCTAssertTrue(f.hasSuffix(".ffc"), at, file: file, line: line)
                ffcs.append(f)
                let date = try XCTUnwrap(TradingDate.detect(inPath: f), at, file: file, line: line)
                do {
                    let got = try rows(root + "/" + f)
                    XCTAssertTrue(want["\(date)"]!.contains { $0 == got }, "\(at): rows differ from an undisturbed run", file: file, line: line)
                } catch {
                    XCTFail("\(at): \(error)", file: file, line: line)
                }
            } else {
                XCTFail("\(at): unexpected file", file: file, line: line)
            }
        }
        XCTAssertEqual(store.dates(dataset: ds).count, ffcs.count, "round \(round): temporary files read as dates: \(all)", file: file, line: line)
        var interrupted: [String] = []
        for r in MetadataStore(root: root).records(ds) {
            let date = d(r.date)
            let at = "round \(round): record \(r.date) \(r.status)"
            switch r.status {
            case .done:
                let p = store.path(dataset: ds, date: date)
                let f = try XCTUnwrap(try? FFCFile(path: p), "\(at): done but no readable .ffc", file: file, line: line)
                XCTAssertEqual(f.provenance("source_etag"), r.etag, at, file: file, line: line)
                XCTAssertTrue(etags[r.date]!.contains(r.etag ?? ""), at, file: file, line: line)
                XCTAssertEqual(Int64(f.rowCount), r.records, at, file: file, line: line)
                XCTAssertEqual(Int64(f.fileSize), r.bytesWritten, at, file: file, line: line)
                XCTAssertEqual(fileSize(root + "/raw/" + ds.key(for: date)), r.size, "\(at): raw copy", file: file, line: line)
            case .inProgress:
                XCTAssertNotNil(r.holder, at, file: file, line: line)
                interrupted.append("\(r.date)")
            default:
                XCTFail("\(at): unexpected status after SIGKILL", file: file, line: line)
            }
        }
        if !interrupted.isEmpty {
            // The killed run holds no lock any more: status calls its dates interrupted.
            let st = try run(["status", "--root", root, "--dataset", ds.rawValue])
            XCTAssertEqual(st.status, 0, st.err, file: file, line: line)
            for day in interrupted {
                XCTAssertTrue(st.out.split(separator: "\n").contains { $0.hasPrefix(day) && $0.contains("interrupted: pid ") },
                              "round \(round): \(st.out)", file: file, line: line)
            }
            XCTAssertTrue(st.out.contains("\(interrupted.count) interrupted"), "round \(round): \(st.out)", file: file, line: line)
        }
        guard !ffcs.isEmpty else { return }
        let v = try run(["verify", root])
        XCTAssertEqual(v.status, 0, "round \(round): \(v.err)", file: file, line: line)
        XCTAssertFalse(v.err.contains("CORRUPT"), "round \(round): \(v.err)", file: file, line: line)
        for t in all where t.hasPrefix(ds.rawValue + "/") && isTemp(t) {
            XCTAssertTrue(v.err.contains("leftover temporary file") && v.err.contains(String(t.split(separator: "/").last!)),
                          "round \(round): \(v.err)", file: file, line: line)
        }
    }

    /// The summary of an `ingest --json` run.
    private func summary(_ out: String) throws -> [String: Int] {
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
        let s = try XCTUnwrap(obj["summary"] as? [String: Any], out)
        return s.compactMapValues { $0 as? Int }
    }

    // MARK: SIGKILL

    func testSIGKILLAtRandomMomentsNeverLeavesABadFileOrARecordThatLies() throws {
        let (srv, bucket, gz, etags) = try setUpServer("kill")
        let ref = try makeTempDir()
        let t0 = FFColConvert.monotonicSeconds()
        let r0 = try run(ingestArgs(srv, bucket: bucket, root: ref) + ["--keep-raw", "--jobs", "2"])
        let undisturbed = FFColConvert.monotonicSeconds() - t0
        XCTAssertEqual(r0.status, 0, r0.err)
        var want: [String: [String: [Bar]]] = [:]
        for date in dates { want[date] = try rows(Store(root: ref).path(dataset: ds, date: d(date))) }
        let refRecords = MetadataStore(root: ref).records(ds)
        XCTAssertEqual(refRecords.map(\.status), [.done, .done, .done, .done])

        var rng = SystemRandomNumberGenerator()
        let root = try makeTempDir() + "/killed"
        var killedMidway = 0
        let log = try makeTempDir() + "/kill"
        var wantAny = want.mapValues { [$0] }, gzAny = gz.mapValues { [$0] }, etagsAny = etags.mapValues { [$0] }
        var final = refRecords
        for round in 0..<30 {
            if round % 10 == 0 && round != 20 { try? FileManager.default.removeItem(atPath: root) }
            if round == 15 {
                // 2024-01-04 is republished: from now on either version may be on disk, and a
                // record that says done must name the version of the file that is there.
                let newer = try flatFile("2024-01-04", rows: 6100, seed: 77)
                etagsAny["2024-01-04"]!.append(try srv.client(bucket: bucket).put(key: ds.key(for: d("2024-01-04")), body: newer))
                gzAny["2024-01-04"]!.append(newer)
                let ref2 = try makeTempDir()
                XCTAssertEqual(try run(ingestArgs(srv, bucket: bucket, root: ref2) + ["--keep-raw"]).status, 0)
                wantAny["2024-01-04"]!.append(try rows(Store(root: ref2).path(dataset: ds, date: d("2024-01-04"))))
                final = MetadataStore(root: ref2).records(ds)
                want["2024-01-04"] = wantAny["2024-01-04"]![1]
            }
            let p = try start(ingestArgs(srv, bucket: bucket, root: root) + ["--keep-raw", "--jobs", "\(1 + round % 2)"]
                              + (round % 2 == 1 ? ["--force"] : []), log: log)
            // Skewed early (u squared): an incremental round has less to do than the undisturbed
            // run and ends sooner, and most kills should land while the process is working.
            let u = Double.random(in: 0...1, using: &rng)
            usleep(UInt32(u * u * undisturbed * 1.1 * 1_000_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal { killedMidway += 1 }
            try checkState(root, want: wantAny, gz: gzAny, etags: etagsAny, round: round)
        }
        print("ingest SIGKILL: \(killedMidway) of 30 runs killed before they finished")
        XCTAssertGreaterThanOrEqual(killedMidway, 8, "many kills should land during the run")

        // A rerun finishes the job: the same rows and records as the undisturbed run, and the
        // leftovers of the killed runs are gone (each date's are removed under its lock).
        let again = try run(ingestArgs(srv, bucket: bucket, root: root) + ["--keep-raw", "--jobs", "2"])
        XCTAssertEqual(again.status, 0, again.err)
        try checkState(root, want: want.mapValues { [$0] }, gz: gzAny.mapValues { [$0.last!] },
                       etags: etagsAny.mapValues { [$0.last!] }, round: 30)
        let recs = MetadataStore(root: root).records(ds)
        XCTAssertEqual(recs.map(\.status), [.done, .done, .done, .done])
        XCTAssertEqual(recs.map(\.records), final.map(\.records))
        XCTAssertEqual(recs.map(\.etag), final.map(\.etag))
        XCTAssertEqual(files(root).filter(isTemp), [])
        XCTAssertEqual(Store(root: root).dates(dataset: ds).map { "\($0)" }, dates)
    }

    // MARK: SIGINT and SIGTERM

    func testSIGINTAndSIGTERMRemoveTemporaryFilesAndRecordTheDateAsInterrupted() throws {
        let (srv, bucket, gz, etags) = try setUpServer("sigint")
        defer { try? srv.setFaults("") }
        for (sig, code, name) in [(SIGINT, Int32(130), "SIGINT"), (SIGTERM, Int32(143), "SIGTERM")] {
            let root = try makeTempDir()
            // 2024-01-03's body stops half way (the proxy stalls): the date is mid-conversion,
            // with its temporary .ffc and raw copy on disk, when the signal comes.
            try srv.setFaults("stall 1 2024-01-03")
            let log = try makeTempDir() + "/sig"
            let p = try start(ingestArgs(srv, bucket: bucket, root: root, viaProxy: true) + ["--keep-raw", "--jobs", "2"], log: log)
            let store = MetadataStore(root: root)
            // Wait (no time limit but the test's) for both temporary files of the stalled date.
            while true {
                let fs = files(root)
                if fs.contains(where: { $0.hasPrefix(ds.rawValue + "/") && $0.contains(".2024-01-03.ffc.tmp-") }),
                   fs.contains(where: { $0.hasPrefix("raw/") && $0.contains("2024-01-03.csv.gz.tmp.") }) { break }
                XCTAssertTrue(p.isRunning, text(log + ".err"))
                if !p.isRunning { return }
                usleep(20_000)
            }
            XCTAssertEqual(store.load(ds, d("2024-01-03"))?.status, .inProgress)
            kill(p.processIdentifier, sig)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, code, name)
            XCTAssertTrue(text(log + ".err").contains("interrupted: temporary files removed"), text(log + ".err"))
            XCTAssertEqual(files(root).filter(isTemp), [], name)
            XCTAssertNil(fileSize(Store(root: root).path(dataset: ds, date: d("2024-01-03"))), name)
            XCTAssertNil(fileSize(root + "/raw/" + ds.key(for: d("2024-01-03"))), name)
            let rec = try XCTUnwrap(store.load(ds, d("2024-01-03")), name)
            XCTAssertEqual(rec.status, .failed, name)
            XCTAssertTrue(rec.lastError?.contains("interrupted by \(name)") == true, rec.lastError ?? "")
            XCTAssertNil(rec.holder)
            // Every other record tells the truth.
            for r in store.records(ds) where r.status == .done {
                XCTAssertEqual(try FFCFile(path: Store(root: root).path(dataset: ds, date: d(r.date))).provenance("source_etag"), r.etag)
            }
            // The next run converts what is not done.
            try srv.setFaults("")
            let again = try run(ingestArgs(srv, bucket: bucket, root: root) + ["--keep-raw", "--json"])
            XCTAssertEqual(again.status, 0, again.err)
            XCTAssertEqual(store.records(ds).map(\.status), [.done, .done, .done, .done], name)
            XCTAssertEqual(store.load(ds, d("2024-01-03"))?.etag, etags["2024-01-03"])
            XCTAssertTrue(FileManager.default.contents(atPath: root + "/raw/" + ds.key(for: d("2024-01-03"))).map { [UInt8]($0) }
                          == gz["2024-01-03"])
        }
    }

    // MARK: Two runs on one root

    /// Two ingests over overlapping ranges at once: each date is converted exactly once (the
    /// run that finds a date locked takes it last, and finds it up to date), nothing is lost
    /// or half-written and the records agree with the files.
    func testTwoIngestsOverOverlappingDatesShareTheWork() throws {
        let (srv, bucket, gz, etags) = try setUpServer("two")
        let ref = try makeTempDir()
        XCTAssertEqual(try run(ingestArgs(srv, bucket: bucket, root: ref) + ["--keep-raw"]).status, 0)
        var want: [String: [String: [Bar]]] = [:]
        for date in dates { want[date] = try rows(Store(root: ref).path(dataset: ds, date: d(date))) }
        for round in 0..<3 {
            let root = try makeTempDir()
            let la = try makeTempDir() + "/a", lb = try makeTempDir() + "/b"
            let a = try start(ingestArgs(srv, bucket: bucket, root: root, to: "2024-01-04") + ["--keep-raw", "--json", "--jobs", "2"], log: la)
            let b = try start(ingestArgs(srv, bucket: bucket, root: root, from: "2024-01-03") + ["--keep-raw", "--json", "--jobs", "2"], log: lb)
            a.waitUntilExit(); b.waitUntilExit()
            XCTAssertEqual(a.terminationStatus, 0, text(la + ".err"))
            XCTAssertEqual(b.terminationStatus, 0, text(lb + ".err"))
            let sa = try summary(text(la + ".out")), sb = try summary(text(lb + ".out"))
            XCTAssertEqual(sa["converted"]! + sb["converted"]!, 4, "round \(round): \(sa) \(sb)")
            XCTAssertEqual(sa["upToDate"]! + sb["upToDate"]!, 2, "round \(round): \(sa) \(sb)")
            XCTAssertEqual(sa["failed"]! + sb["failed"]!, 0)
            try checkState(root, want: want.mapValues { [$0] }, gz: gz.mapValues { [$0] }, etags: etags.mapValues { [$0] }, round: round)
            XCTAssertEqual(MetadataStore(root: root).records(ds).map(\.status), [.done, .done, .done, .done])
            XCTAssertEqual(files(root).filter(isTemp), [])
            XCTAssertEqual(Store(root: root).dates(dataset: ds).map { "\($0)" }, dates)
        }
    }

    /// `download` and `ingest --keep-raw` at once over the same dates (both write ROOT/raw):
    /// both succeed, every raw file is the whole object, every .ffc has the right rows.
    func testDownloadAndIngestAtOnceOnOneRoot() throws {
        let (srv, bucket, gz, _) = try setUpServer("dlin")
        let root = try makeTempDir()
        let la = try makeTempDir() + "/a", lb = try makeTempDir() + "/b"
        let args = ingestArgs(srv, bucket: bucket, root: root)
        let a = try start(args + ["--keep-raw", "--jobs", "2"], log: la)
        let b = try start(["download"] + args.dropFirst() + ["--max-concurrent", "2"], log: lb)
        a.waitUntilExit(); b.waitUntilExit()
        XCTAssertEqual(a.terminationStatus, 0, text(la + ".err"))
        XCTAssertEqual(b.terminationStatus, 0, text(lb + ".err"))
        for date in dates {
            XCTAssertTrue(FileManager.default.contents(atPath: root + "/raw/" + ds.key(for: d(date))).map { [UInt8]($0) } == gz[date], date)
            let f = try FFCFile(path: Store(root: root).path(dataset: ds, date: d(date)))
            try f.verify()
        }
        XCTAssertEqual(files(root).filter(isTemp), [])
        XCTAssertEqual(MetadataStore(root: root).records(ds).map(\.status), [.done, .done, .done, .done])
    }

    /// A date locked by another process: `--no-wait` names the holder and leaves the date
    /// (busy, exit 0); `--wait` names it, waits, and then does the date.
    func testALockedDateNamesItsHolderAndIsWaitedForOrLeft() throws {
        let (srv, bucket, _, _) = try setUpServer("lock")
        let root = try makeTempDir()
        guard case .acquired(let lock) = try DateLock.tryAcquire(root: root, dataset: ds, date: d("2024-01-03")) else {
            return XCTFail("the lock of a fresh root is free")
        }
        var r = try run(ingestArgs(srv, bucket: bucket, root: root) + ["--no-wait"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("2024-01-03: being handled by pid \(getpid())") && r.err.contains("left to it (--no-wait)"), r.err)
        XCTAssertTrue(r.err.contains(" since 20"), r.err)
        XCTAssertTrue(r.out.contains("3 converted") && r.out.contains("1 busy (left to another process)"), r.out)
        XCTAssertNil(fileSize(Store(root: root).path(dataset: ds, date: d("2024-01-03"))))

        // download the same way, on a root of its own.
        let mirror = try makeTempDir()
        guard case .acquired(let mirrorLock) = try DateLock.tryAcquire(root: mirror, dataset: ds, date: d("2024-01-03")) else {
            return XCTFail("the lock of a fresh root is free")
        }
        let downloadArgs = ["download"] + ingestArgs(srv, bucket: bucket, root: mirror).dropFirst()
        let dl = try run(downloadArgs + ["--no-wait"])
        XCTAssertEqual(dl.status, 0, dl.err)
        XCTAssertTrue(dl.err.contains("2024-01-03: being handled by pid \(getpid())") && dl.err.contains("left to it (--no-wait)"), dl.err)
        XCTAssertTrue(dl.out.contains("3 downloaded") && dl.out.contains("1 busy (left to another process)"), dl.out)
        XCTAssertNil(fileSize(mirror + "/raw/" + ds.key(for: d("2024-01-03"))))
        mirrorLock.release()
        let dl2 = try run(downloadArgs)
        XCTAssertEqual(dl2.status, 0, dl2.err)
        XCTAssertTrue(dl2.out.contains("1 downloaded, 3 up to date") && !dl2.out.contains("busy"), dl2.out)
        XCTAssertNotNil(fileSize(mirror + "/raw/" + ds.key(for: d("2024-01-03"))))

        let log = try makeTempDir() + "/wait"
        let p = try start(ingestArgs(srv, bucket: bucket, root: root) + ["--wait"], log: log)
        while !text(log + ".err").contains("waiting for it") {
            XCTAssertTrue(p.isRunning, text(log + ".err"))
            if !p.isRunning { return }
            usleep(20_000)
        }
        XCTAssertTrue(text(log + ".err").contains("2024-01-03: being handled by pid \(getpid())"), text(log + ".err"))
        XCTAssertTrue(p.isRunning)
        lock.release()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text(log + ".err"))
        XCTAssertTrue(text(log + ".out").contains("1 converted, 3 up to date"), text(log + ".out"))
        XCTAssertEqual(MetadataStore(root: root).records(ds).map(\.status), [.done, .done, .done, .done])

        // `ffcol status` shows a date left in progress by a killed run, and says what happens next.
        var rec = try XCTUnwrap(MetadataStore(root: root).load(ds, d("2024-01-05")))
        rec.status = .inProgress
        rec.holder = "pid 99999 since 2024-01-06T00:00:00Z"
        try MetadataStore(root: root).save(rec, dataset: ds, date: d("2024-01-05"))
        let st = try run(["status", "--dataset", ds.rawValue, "--root", root, "--config-dir", cfg])
        XCTAssertEqual(st.status, 0, st.err)
        XCTAssertTrue(st.out.contains("2024-01-05  in_progress") && st.out.contains("pid 99999")
                      && st.out.contains("the next run converts this date"), st.out)
        XCTAssertTrue(st.out.contains("interrupted: pid 99999"), st.out)
        XCTAssertTrue(st.out.contains("4 dates: 3 done, 0 skipped, 0 failed, 1 interrupted"), st.out)
        // While a process holds the date's lock, the same record is running, with that process.
        guard case .acquired(let held) = try DateLock.tryAcquire(root: root, dataset: ds, date: d("2024-01-05")) else {
            return XCTFail("the lock of 2024-01-05 is free")
        }
        let running = try run(["status", "--dataset", ds.rawValue, "--root", root, "--config-dir", cfg])
        held.release()
        XCTAssertTrue(running.out.contains("2024-01-05  in_progress") && running.out.contains("running: pid \(getpid())"), running.out)
        XCTAssertTrue(running.out.contains("4 dates: 3 done, 0 skipped, 0 failed, 1 in progress"), running.out)
        XCTAssertFalse(running.out.contains("interrupted"), running.out)
    }

    // MARK: Resource errors

    /// Mounts a tmpfs at `dir` (size in bytes); false where mounting is not permitted.
    private func mountTmpfs(_ dir: String, size: Int, readOnly: Bool = false) -> Bool {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // FFCOL_TEST_NO_MOUNT=1 exercises the injected faults used where mounting is not permitted.
        if ProcessInfo.processInfo.environment["FFCOL_TEST_NO_MOUNT"] == "1" { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/mount")
        p.arguments = ["-t", "tmpfs", "-o", "size=\(size)\(readOnly ? ",ro" : "")", "tmpfs", dir]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return false }
        addTeardownBlock { _ = self.mountCommand(["-l", dir], umount: true) }
        return true
    }

    @discardableResult
    private func mountCommand(_ args: [String], umount: Bool = false) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: umount ? "/bin/umount" : "/bin/mount")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// A disk that fills up during one date: that date fails with a message naming the path
    /// and what to do, leaves nothing behind, is recorded as failed; the other dates convert;
    /// with space again, the next run converts it. On a tmpfs mounted for the test, or (where
    /// mounting is not permitted) with ENOSPC injected through FFCOL_TEST_FAULT.
    func testFullDiskFailsOneDateCleanlyAndTheNextRunRetriesIt() throws {
        let (srv, bucket, _, _) = try setUpServer("full", rows: 1000)
        // 2024-01-02 is big; the others are small.
        let big = try flatFile("2024-01-02", rows: 120_000, seed: 3)
        try srv.client(bucket: bucket).put(key: ds.key(for: d("2024-01-02")), body: big)
        let root = try makeTempDir() + "/disk"
        let mounted = mountTmpfs(root, size: 400 << 10)
        let fault = mounted ? [:] : ["FFCOL_TEST_FAULT": "enospc-after:\(300 << 10)"]
        print("full disk: \(mounted ? "tmpfs of 400 KiB" : "injected ENOSPC (mount not permitted)")")
        let r = try run(ingestArgs(srv, bucket: bucket, root: root) + ["--jobs", "1"], extraEnv: fault)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("error: 2024-01-02:") && r.err.contains("No space left on device")
                      && r.err.contains("2024-01-02.ffc") && r.err.contains("the disk is full: free some space"), r.err)
        XCTAssertTrue(r.out.contains("3 converted") && r.out.contains("1 failed"), r.out)
        XCTAssertEqual(files(root).filter(isTemp), [])
        XCTAssertNil(fileSize(Store(root: root).path(dataset: ds, date: d("2024-01-02"))))
        let store = MetadataStore(root: root)
        XCTAssertEqual(store.load(ds, d("2024-01-02"))?.status, .failed)
        XCTAssertTrue(store.load(ds, d("2024-01-02"))?.lastError?.contains("No space left on device") == true)
        XCTAssertEqual(store.records(ds).filter { $0.status == .done }.count, 3)
        // Space again: the next run converts the failed date only.
        if mounted { XCTAssertTrue(mountCommand(["-o", "remount,size=16m", root])) }
        let again = try run(ingestArgs(srv, bucket: bucket, root: root))
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("1 converted, 3 up to date"), again.out)
        XCTAssertEqual(try FFCFile(path: Store(root: root).path(dataset: ds, date: d("2024-01-02"))).rowCount, 120_000)
    }

    /// A read-only root and a root below a regular file: a configuration error (exit 2) that
    /// names the path and what to do, before anything is downloaded; nothing written.
    func testReadOnlyRootAndRootBelowAFileAreClearErrors() throws {
        let (srv, bucket, _, _) = try setUpServer("ro", rows: 500)
        let ro = try makeTempDir() + "/ro"
        if mountTmpfs(ro, size: 1 << 20, readOnly: true) {
            let r = try run(ingestArgs(srv, bucket: bucket, root: ro + "/data"))
            XCTAssertEqual(r.status, 2, r.err)
            XCTAssertTrue(r.err.contains(ro + "/data") && r.err.contains("Read-only file system")
                          && r.err.contains("remount it read-write or use another output root"), r.err)
            XCTAssertEqual(files(ro), [])
        } else {
            // No mount: creating the .ffc fails with an injected EROFS; each date fails alone.
            print("read-only root: injected EROFS (mount not permitted)")
            let root = try makeTempDir()
            let r = try run(ingestArgs(srv, bucket: bucket, root: root), extraEnv: ["FFCOL_TEST_FAULT": "erofs"])
            XCTAssertEqual(r.status, 1, r.err)
            XCTAssertTrue(r.err.contains("Read-only file system") && r.err.contains("remount it read-write"), r.err)
            XCTAssertEqual(Store(root: root).dates(dataset: ds), [])
        }
        let plain = try makeTempDir() + "/plainfile"
        FileManager.default.createFile(atPath: plain, contents: Data([1, 2, 3]))
        let r = try run(ingestArgs(srv, bucket: bucket, root: plain + "/data"))
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains(plain) && r.err.contains("Not a directory") && r.err.contains("use another output root"), r.err)
        XCTAssertEqual(FileManager.default.contents(atPath: plain), Data([1, 2, 3]))
        // A root that does not exist yet is created.
        let fresh = try makeTempDir() + "/a/b/c"
        let ok = try run(ingestArgs(srv, bucket: bucket, root: fresh, to: "2024-01-02"))
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertNotNil(fileSize(Store(root: fresh).path(dataset: ds, date: d("2024-01-02"))))
    }

    // MARK: Hostile keys, dataset names and tickers

    /// Keys with `..`, absolute-looking parts, impossible dates and control characters in the
    /// listing, dataset names that are paths, and tickers such as `../x` and `/`: nothing is
    /// written outside the root (the parent directory is compared before and after), hostile
    /// keys are ignored, and the good dates convert with their tickers stored as data.
    func testHostileKeysDatasetNamesAndTickersNeverWriteOutsideTheRoot() throws {
        let (srv, bucket, _, _) = try setUpServer("hostile", rows: 300)
        let prefix = ds.keyPrefix + "/2024/01/"
        let hostile = [prefix + "../../../../../escape/2024-01-08.csv.gz", prefix + "/abs/2024-01-09.csv.gz",
                       prefix + "2024-01-10.csv.gz/../../../../../../escape", prefix + "2024-01-99.csv.gz",
                       prefix + "..", prefix + "2024-01-11.csv.gz\u{1}", prefix + "../2024-01-12.csv.gz",
                       "/" + prefix + "2024-01-16.csv.gz"]
        let good = try flatFile("2024-01-08", rows: 200, seed: 1)
        // Uploaded with boto3 (it sends `..` as is; libcurl would squash it).
        let script = """
        import os, sys, boto3
        from botocore.config import Config
        s3 = boto3.client("s3", endpoint_url=os.environ["FFCOL_TEST_S3_ENDPOINT"], region_name="us-east-1",
            aws_access_key_id=os.environ["FFCOL_TEST_S3_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["FFCOL_TEST_S3_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}))
        body = open(sys.argv[2], "rb").read()
        for k in sys.argv[3:]:
            s3.put_object(Bucket=sys.argv[1], Key=k, Body=body)
        """
        let work = try makeTempDir()
        try Data(good).write(to: URL(fileURLWithPath: work + "/good.csv.gz"))
        try script.write(toFile: work + "/put.py", atomically: true, encoding: .utf8)
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", work + "/put.py", bucket, work + "/good.csv.gz"] + hostile
        try py.run(); py.waitUntilExit()
        XCTAssertEqual(py.terminationStatus, 0)
        // Tickers that look like paths, on a real date.
        let csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
            + ["../x", "..", "/", "/etc/passwd", "a/../../b", "~", "C:\\x"].enumerated().map { i, t in
                "\(t),1,1,1,1,1,\(1_704_292_200_000_000_000 + Int64(i) * 60_000_000_000),1\n" }.joined()
        var gz: [UInt8] = []
        let w = try GzipWriter(sink: { gz.append(contentsOf: $0) })
        try Array(csv.utf8).withUnsafeBytes { try w.write($0) }
        try w.close()
        try srv.client(bucket: bucket).put(key: ds.key(for: d("2024-01-03")), body: gz)

        let parent = try makeTempDir()
        let root = parent + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: parent + "/sentinel", contents: Data([7]))
        let before = files(parent).filter { !$0.hasPrefix("root/") }
        let base = ["--endpoint-url", srv.endpoint, "--bucket", bucket, "--root", root, "--config-dir", cfg]
        let r = try run(["ingest", "--dataset", ds.rawValue, "--from", "2024-01-01", "--to", "2024-01-31", "--keep-raw"] + base)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertFalse(r.err.contains("listing failed"), r.err)
        for bad in ["../x", "/", "../../stocks_minute", "stocks_minute/../..", "/tmp"] {
            for cmd in ["ingest", "download", "status"] {
                let b = try run([cmd, "--dataset", bad, "--from", "2024-01-02"] + (cmd == "status" ? ["--root", root] : base))
                XCTAssertNotEqual(b.status, 0, "\(cmd) --dataset \(bad)")
            }
        }
        XCTAssertEqual(files(parent).filter { !$0.hasPrefix("root/") }, before, "written outside the root")
        // Inside the root: only the dataset's own paths, named from the date, never from a key or ticker.
        for f in files(root) {
            XCTAssertTrue(f.hasPrefix(".ffcol/") || f.hasPrefix(ds.rawValue + "/2024/01/") || f.hasPrefix("raw/" + prefix), f)
            XCTAssertFalse(f.contains(".."), f)
        }
        XCTAssertNil(fileSize(root + "/raw/" + ds.key(for: d("2024-01-08"))), "a hostile key's object is never fetched")
        let tickers = try rows(Store(root: root).path(dataset: ds, date: d("2024-01-03"))).keys.sorted()
        XCTAssertEqual(tickers, ["..", "../x", "/", "/etc/passwd", "C:\\x", "a/../../b", "~"].sorted())
    }
}
