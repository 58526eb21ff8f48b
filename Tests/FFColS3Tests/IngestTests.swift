import FFCol
import FFColConvert
@testable import FFColS3
import Foundation
import XCTest

/// `Ingester` (the engine of `ffcol ingest`) against moto, directly and through the fault proxy.
final class IngestTests: XCTestCase {
    private func d(_ s: String) -> TradingDate { TradingDate(s)! }

    private func options(_ root: String) -> IngestOptions {
        var o = IngestOptions(root: root)
        o.retry = RetryPolicy(maxRetries: 4, baseDelay: 0.05, maxDelay: 0.2)
        o.maxConcurrent = 3
        o.listPageSize = 2   // several pages per month
        o.targetChunkRows = 1000   // several chunks per file
        return o
    }

    /// A realistic flat file, gzipped in memory.
    private func flatFile(_ ds: Dataset, _ date: String, rows: Int, seed: UInt64) throws -> [UInt8] {
        var out: [UInt8] = []
        let gz = try GzipWriter(sink: { out.append(contentsOf: $0) })
        let s = try Synth.generate(SynthOptions(dataset: ds, date: d(date), rows: rows, seed: seed)) { try gz.write($0) }
        try gz.close()
        XCTAssertEqual(s.rows, rows)
        return out
    }

    /// Every ticker's rows of a `.ffc` file, in file order.
    private func rows(_ path: String) throws -> [(String, [Bar])] {
        let f = try FFCFile(path: path)
        try f.verify()
        var out: [(String, [Bar])] = []
        try f.forEachTicker { b in out.append((b.ticker, Array(b))); return true }
        return out
    }

    /// Asserts that `path` holds exactly the rows a direct conversion of `gz` gives.
    private func assertSameRows(_ path: String, _ gz: [UInt8], _ ds: Dataset, _ date: String, rows n: Int,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let ref = try makeTempDir()
        var o = ConvertOptions(outRoot: ref)
        o.dataset = ds
        o.date = d(date)
        let r = try Converter.convert(source: MemorySource(gz, name: ds.key(for: d(date)), piece: 10_000), options: o)
        XCTAssertEqual(r.rows, n, file: file, line: line)
        let got = try rows(path), want = try rows(r.output)
        XCTAssertEqual(got.count, want.count, "tickers", file: file, line: line)
        XCTAssertEqual(got.reduce(0) { $0 + $1.1.count }, n, "rows", file: file, line: line)
        for (g, w) in zip(got, want) {
            XCTAssertEqual(g.0, w.0, file: file, line: line)
            XCTAssertTrue(g.1 == w.1, "rows of \(g.0) differ", file: file, line: line)
        }
    }

    private func tempFiles(_ root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []).filter { $0.contains(".tmp") }
    }

    func testIngestIncrementalRepublishedMissingGarbageAndFaults() throws {
        let srv = try TestServer.require()
        let ds = Dataset.stocksMinute
        let bucket = try srv.freshBucket("ingest")
        let up = srv.client(bucket: bucket)
        // Sessions 2024-01-02..05 and 08 (06/07 is a weekend): 05 is not published, 08 is garbage.
        let rowsOf = ["2024-01-02": 3000, "2024-01-03": 4000, "2024-01-04": 2500]
        var gz: [String: [UInt8]] = [:]
        var etags: [String: String] = [:]
        for (i, date) in rowsOf.keys.sorted().enumerated() {
            gz[date] = try flatFile(ds, date, rows: rowsOf[date]!, seed: UInt64(10 + i))
            etags[date] = try up.put(key: ds.key(for: d(date)), body: gz[date]!)
        }
        try up.put(key: ds.key(for: d("2024-01-08")), body: testBytes(50_000, seed: 8))

        let root = try makeTempDir()
        let c = srv.client(bucket: bucket, viaProxy: true)
        defer { try? srv.setFaults("") }
        // A body cut half way and a 500, both on files being converted.
        try srv.setFaults("cut 1 2024-01-03\n500 1 2024-01-04")
        var o = options(root)
        o.keepRaw = true
        let ing = Ingester(client: c, options: o)
        var r = ing.run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        var s = r.summary
        XCTAssertEqual(s.planned, 5)
        XCTAssertEqual(s.converted, 3)
        XCTAssertEqual(s.missing, 1)
        XCTAssertEqual(s.failed, 1)
        XCTAssertEqual(s.upToDate, 0)
        XCTAssertEqual(s.retries, 2)
        XCTAssertEqual(s.records, 9500)
        XCTAssertTrue(r.hasFailures)
        XCTAssertEqual(s.downloads, 4)
        // Every converted byte arrived once; the cut body's first half was not fetched again.
        let gzTotal = Int64(gz.values.reduce(0) { $0 + $1.count })
        XCTAssertGreaterThanOrEqual(s.bytesDownloaded, gzTotal)
        XCTAssertLessThanOrEqual(s.bytesDownloaded, gzTotal + 50_000)
        XCTAssertEqual(s.bytesWritten, r.outcomes.reduce(0) { $0 + $1.bytesWritten })
        // The library's live numbers end where the summary does.
        let p = ing.progress()
        XCTAssertEqual(p.filesDone, 5)
        XCTAssertEqual(p.bytesDone, s.bytesDownloaded)
        XCTAssertEqual(p.rowsDone, 9500)

        let store = MetadataStore(root: root)
        for (date, n) in rowsOf {
            let out = ing.outputPath(ds, d(date))
            try assertSameRows(out, gz[date]!, ds, date, rows: n)
            let f = try FFCFile(path: out)
            XCTAssertEqual(f.provenance("source_etag"), etags[date])
            XCTAssertEqual(f.provenance("source_bytes"), String(gz[date]!.count))
            XCTAssertEqual(f.provenance("source"), "s3://\(bucket)/\(ds.key(for: d(date)))")
            // --keep-raw: the same bytes as the object.
            let raw = FileManager.default.contents(atPath: ing.rawPath(key: ds.key(for: d(date)))).map { [UInt8]($0) }
            XCTAssertTrue(raw == gz[date], "raw copy of \(date) differs")
            let rec = try XCTUnwrap(store.load(ds, d(date)))
            XCTAssertEqual(rec.status, .done)
            XCTAssertEqual(rec.records, Int64(n))
            XCTAssertEqual(rec.etag, etags[date])
            XCTAssertEqual(rec.size, Int64(gz[date]!.count))
            XCTAssertEqual(rec.bytesWritten, Int64(f.fileSize))
            XCTAssertGreaterThanOrEqual(rec.bytesDownloaded, Int64(gz[date]!.count))
            XCTAssertEqual(rec.output, "\(ds.rawValue)/2024/01/\(date).ffc")
            XCTAssertNil(rec.lastError)
            XCTAssertGreaterThan(rec.durationSeconds, 0)
        }
        XCTAssertEqual(store.load(ds, d("2024-01-03"))?.retries, 1)
        XCTAssertEqual(store.load(ds, d("2024-01-05"))?.status, .skipped)
        XCTAssertEqual(r.outcomes.first { $0.date == d("2024-01-05") }?.status, .missing)

        // The garbage object: a clear error, a failed record, no .ffc, no raw copy, no temp file.
        let bad = try XCTUnwrap(r.outcomes.first { $0.date == d("2024-01-08") })
        XCTAssertEqual(bad.status, .failed)
        let err = bad.error ?? ""
        XCTAssertTrue(err.contains(ds.key(for: d("2024-01-08"))) && err.contains("bad header"), err)
        let badRec = try XCTUnwrap(store.load(ds, d("2024-01-08")))
        XCTAssertEqual(badRec.status, .failed)
        XCTAssertEqual(badRec.lastError, err)
        XCTAssertNil(fileSize(ing.outputPath(ds, d("2024-01-08"))))
        XCTAssertNil(fileSize(ing.rawPath(key: ds.key(for: d("2024-01-08")))))
        XCTAssertEqual(tempFiles(root), [])

        // The garbage is replaced by a good file: the next run converts that date only.
        let gz8 = try flatFile(ds, "2024-01-08", rows: 1500, seed: 18)
        try up.put(key: ds.key(for: d("2024-01-08")), body: gz8)
        r = Ingester(client: c, options: o).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        s = r.summary
        XCTAssertEqual([s.converted, s.upToDate, s.missing, s.failed], [1, 3, 1, 0])
        XCTAssertEqual(s.records, 1500)
        try assertSameRows(ing.outputPath(ds, d("2024-01-08")), gz8, ds, "2024-01-08", rows: 1500)
        XCTAssertEqual(store.load(ds, d("2024-01-08"))?.status, .done)
        XCTAssertNil(store.load(ds, d("2024-01-08"))?.lastError)

        // A second run converts nothing and downloads nothing.
        let mtime = try FileManager.default.attributesOfItem(atPath: ing.outputPath(ds, d("2024-01-02")))[.modificationDate] as! Date
        r = Ingester(client: c, options: o).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        s = r.summary
        XCTAssertEqual([s.converted, s.upToDate, s.missing, s.failed, s.downloads], [0, 4, 1, 0, 0])
        XCTAssertEqual(s.bytesDownloaded, 0)
        XCTAssertEqual(s.records, 0)
        XCTAssertFalse(r.hasFailures)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: ing.outputPath(ds, d("2024-01-02")))[.modificationDate] as! Date, mtime)

        // Republished with different content (new ETag): converted again, only that date.
        let newer = try flatFile(ds, "2024-01-03", rows: 3300, seed: 99)
        let newTag = try up.put(key: ds.key(for: d("2024-01-03")), body: newer)
        XCTAssertNotEqual(newTag, etags["2024-01-03"])
        r = Ingester(client: c, options: o).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        s = r.summary
        XCTAssertEqual([s.converted, s.upToDate, s.missing, s.failed], [1, 3, 1, 0])
        XCTAssertEqual(r.outcomes.first { $0.status == .converted }?.date, d("2024-01-03"))
        try assertSameRows(ing.outputPath(ds, d("2024-01-03")), newer, ds, "2024-01-03", rows: 3300)
        XCTAssertEqual(try FFCFile(path: ing.outputPath(ds, d("2024-01-03"))).provenance("source_etag"), newTag)
        XCTAssertTrue(FileManager.default.contents(atPath: ing.rawPath(key: ds.key(for: d("2024-01-03")))).map { [UInt8]($0) } == newer)
        XCTAssertEqual(store.load(ds, d("2024-01-03"))?.etag, newTag)

        // A damaged .ffc is not up to date: converted again.
        let p2 = ing.outputPath(ds, d("2024-01-02"))
        var bytes = [UInt8](FileManager.default.contents(atPath: p2)!)
        bytes[100] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: p2))
        // Without the listing (HEAD for the ETag), --force converts everything that exists.
        var noList = o
        noList.useListing = false
        r = Ingester(client: c, options: noList).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        s = r.summary
        XCTAssertEqual([s.converted, s.upToDate, s.missing, s.failed], [1, 3, 1, 0])
        XCTAssertEqual(r.outcomes.first { $0.date == d("2024-01-05") }?.error, "no file (404)")
        try assertSameRows(p2, gz["2024-01-02"]!, ds, "2024-01-02", rows: 3000)
        noList.incremental = false
        r = Ingester(client: c, options: noList).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        XCTAssertEqual([r.summary.converted, r.summary.upToDate, r.summary.missing], [4, 0, 1])
        XCTAssertEqual(r.summary.records, 3000 + 3300 + 2500 + 1500)
        XCTAssertEqual(tempFiles(root), [])
    }

    /// The object is replaced after part of it was converted: the resumed request is refused
    /// (If-Match), and the date's conversion starts over from the new version.
    func testObjectReplacedMidTransferRestartsConversion() throws {
        let srv = try TestServer.require()
        let ds = Dataset.optionsMinute
        let bucket = try srv.freshBucket("ingchg")
        let up = srv.client(bucket: bucket)
        let key = ds.key(for: d("2024-03-05"))
        let first = try flatFile(ds, "2024-03-05", rows: 6000, seed: 1)
        let second = try flatFile(ds, "2024-03-05", rows: 5000, seed: 2)
        try up.put(key: key, body: first)
        let root = try makeTempDir()
        defer { try? srv.setFaults("") }
        try srv.setFaults("cut 1 2024-03-05")
        var o = options(root)
        o.keepRaw = true
        let replaced = Lines()
        o.onRetry = { e in
            // Called on the transfer thread before the resumed request.
            if replaced.all.isEmpty {
                replaced.add(e.error.description)
                _ = try? up.put(key: key, body: second)
            }
        }
        let ing = Ingester(client: srv.client(bucket: bucket, viaProxy: true), options: o)
        let r = ing.run(dataset: ds, from: d("2024-03-05"), to: d("2024-03-05"))
        XCTAssertEqual(replaced.all.count, 1)
        XCTAssertEqual(r.summary.converted, 1, "\(r.outcomes)")
        XCTAssertEqual(r.summary.failed, 0)
        XCTAssertEqual(r.summary.records, 5000)
        XCTAssertEqual(r.outcomes[0].restarts, 1)
        XCTAssertEqual(r.summary.retries, 2, "the cut, and the restart")
        try assertSameRows(ing.outputPath(ds, d("2024-03-05")), second, ds, "2024-03-05", rows: 5000)
        XCTAssertTrue(FileManager.default.contents(atPath: ing.rawPath(key: key)).map { [UInt8]($0) } == second)
        let f = try FFCFile(path: ing.outputPath(ds, d("2024-03-05")))
        XCTAssertEqual(f.provenance("source_etag"), try up.head(key: key).etag)
        XCTAssertEqual(f.provenance("source_bytes"), String(second.count))
        XCTAssertEqual(MetadataStore(root: root).load(ds, d("2024-03-05"))?.retries, 2)
        XCTAssertEqual(tempFiles(root), [])
    }

    func testStrictRejectsRowsOutsideTheDate() throws {
        let srv = try TestServer.require()
        let ds = Dataset.stocksDay
        let bucket = try srv.freshBucket("ingstrict")
        // A day file published under the next date's key: every window_start is off by a day.
        let gz = try flatFile(ds, "2024-04-01", rows: 200, seed: 4)
        try srv.client(bucket: bucket).put(key: ds.key(for: d("2024-04-02")), body: gz)
        let root = try makeTempDir()
        var o = options(root)
        o.strict = true
        var r = Ingester(client: srv.client(bucket: bucket), options: o).run(dataset: ds, from: d("2024-04-02"), to: d("2024-04-02"))
        XCTAssertEqual(r.summary.failed, 1)
        XCTAssertTrue(r.outcomes[0].error?.contains("window_start outside") == true, r.outcomes[0].error ?? "")
        XCTAssertNil(fileSize(Store(root: root).path(dataset: ds, date: d("2024-04-02"))))
        o.strict = false
        r = Ingester(client: srv.client(bucket: bucket), options: o).run(dataset: ds, from: d("2024-04-02"), to: d("2024-04-02"))
        XCTAssertEqual(r.summary.converted, 1)
        XCTAssertEqual(r.summary.records, 200)
    }

    func testForbiddenFailsWithClearMessageAndLostRawIsFetchedAgain() throws {
        let srv = try TestServer.require()
        let ds = Dataset.stocksDay
        let bucket = try srv.freshBucket("ing403")
        let gz = try flatFile(ds, "2024-02-01", rows: 300, seed: 6)
        try srv.client(bucket: bucket).put(key: ds.key(for: d("2024-02-01")), body: gz)
        let root = try makeTempDir()
        var o = options(root)
        o.useListing = false
        if !srv.noAccessKeyID.isEmpty {
            let c = srv.client(bucket: bucket, secret: srv.noAccessSecret, keyID: srv.noAccessKeyID)
            let r = Ingester(client: c, options: o).run(dataset: ds, from: d("2024-02-01"), to: d("2024-02-02"))
            XCTAssertEqual(r.summary.failed, 2)
            let err = r.outcomes[0].error ?? ""
            XCTAssertTrue(err.contains("403") && err.contains("plan"), err)
            XCTAssertEqual(MetadataStore(root: root).load(ds, d("2024-02-01"))?.lastError, err)
        }
        // --keep-raw after a run without it: the .ffc is current but the raw copy is absent,
        // so the date is fetched again (HEAD for the version, as the listing is off).
        let c = srv.client(bucket: bucket)
        var r = Ingester(client: c, options: o).run(dataset: ds, from: d("2024-02-01"), to: d("2024-02-01"))
        XCTAssertEqual(r.summary.converted, 1)
        o.keepRaw = true
        let ing = Ingester(client: c, options: o)
        r = ing.run(dataset: ds, from: d("2024-02-01"), to: d("2024-02-01"))
        XCTAssertEqual(r.summary.converted, 1)
        XCTAssertTrue(FileManager.default.contents(atPath: ing.rawPath(key: ds.key(for: d("2024-02-01")))).map { [UInt8]($0) } == gz)
        r = ing.run(dataset: ds, from: d("2024-02-01"), to: d("2024-02-01"))
        XCTAssertEqual(r.summary.upToDate, 1)
    }

    // MARK: The command line

    func testCLIIngestExitCodesAndStatus() throws {
        let srv = try TestServer.require()
        let ds = Dataset.optionsDay
        let bucket = try srv.freshBucket("ingcli")
        let up = srv.client(bucket: bucket)
        let gz = try flatFile(ds, "2023-06-16", rows: 2000, seed: 5)
        try up.put(key: ds.key(for: d("2023-06-16")), body: gz)
        try up.put(key: ds.key(for: d("2023-06-20")), body: Array("not,a,flat,file\n1,2,3,4\n".utf8))
        let root = try makeTempDir()
        let cfg = try makeTempDir()
        let env = ["POLYGON_S3_ACCESS_KEY_ID": srv.accessKeyID, "POLYGON_S3_SECRET_ACCESS_KEY": srv.secret]
        let args = ["ingest", "--dataset", "options_day", "--from", "2023-06-15", "--to", "2023-06-20",
                    "--endpoint-url", srv.proxy, "--bucket", bucket, "--root", root, "--config-dir", cfg, "--jobs", "2"]
        // 06-15 missing, 06-16 converted, 06-19 Juneteenth (not a session), 06-20 not a flat file.
        var r = try runFFCol(args, env: env)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.out.contains("3 dates, 2 downloads, 1 converted, 0 up to date, 1 missing, 1 failed"), r.out)
        XCTAssertTrue(r.out.contains("2000 records"), r.out)
        XCTAssertTrue(r.err.contains("error: 2023-06-20:") && r.err.contains("bad header"), r.err)
        try assertSameRows(Store(root: root).path(dataset: ds, date: d("2023-06-16")), gz, ds, "2023-06-16", rows: 2000)

        r = try runFFCol(["status", "--dataset", "options_day", "--root", root, "--config-dir", cfg])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.out.contains("3 dates: 1 done, 1 skipped, 1 failed"), r.out)
        XCTAssertTrue(r.out.contains("2000 rows"), r.out)

        // The bad file removed: nothing failed, nothing converted again (exit 0); JSON summary.
        try up.delete(key: ds.key(for: d("2023-06-20")))
        r = try runFFCol(args + ["--json"], env: env)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("\"upToDate\" : 1"), r.out)
        XCTAssertTrue(r.out.contains("\"missing\" : 2"), r.out)
        XCTAssertTrue(r.out.contains("\"converted\" : 0"), r.out)

        // --force converts again; the listing is refused with a wrong secret: exit 1, clear message.
        r = try runFFCol(args + ["--force"], env: env)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("1 converted"), r.out)
        let wrong = srv.wrongSecret
        r = try runFFCol(args + ["--retries", "0"],
                         env: ["POLYGON_S3_ACCESS_KEY_ID": srv.accessKeyID, "POLYGON_S3_SECRET_ACCESS_KEY": wrong])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("SignatureDoesNotMatch"), r.err)
        XCTAssertFalse((r.out + r.err).contains(wrong))

        // No credentials: configuration error, exit 2.
        r = try runFFCol(args)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("no S3 credentials"), r.err)
    }

    func testCLIIngestHelpMentionsEachOption() throws {
        let r = try runFFCol(["ingest", "--help"])
        XCTAssertEqual(r.status, 0)
        for opt in ["--dataset", "--from", "--to", "--root", "--max-concurrent", "--jobs", "--endpoint-url", "--bucket",
                    "--region", "--config-dir", "--no-incremental", "--force", "--keep-raw", "--strict", "--no-list",
                    "--retries", "--stall-seconds", "--zstd-level", "--json", "--verbose", "--wait", "--no-wait",
                    "POLYGON_S3_ACCESS_KEY_ID"] {
            XCTAssertTrue(r.out.contains(opt), "help lacks \(opt)")
        }
    }
}
