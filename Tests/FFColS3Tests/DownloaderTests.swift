import FFCol
@testable import FFColS3
import XCTest

/// `Downloader` (the engine of `ffcol download`) against moto.
final class DownloaderTests: XCTestCase {
    let ds = Dataset.stocksDay
    private func d(_ s: String) -> TradingDate { TradingDate(s)! }

    private func options(_ root: String) -> DownloadOptions {
        var o = DownloadOptions(root: root)
        o.retry = RetryPolicy(maxRetries: 4, baseDelay: 0.05, maxDelay: 0.2)
        o.maxConcurrent = 3
        o.listPageSize = 2   // several pages per month
        return o
    }

    private func file(_ root: String, _ date: String) -> [UInt8]? {
        FileManager.default.contents(atPath: "\(root)/raw/\(ds.key(for: d(date)))").map { [UInt8]($0) }
    }

    func testIncrementalRepublishedMissingAndFaults() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("dl")
        let up = srv.client(bucket: bucket)
        // 2024-01-02..05 and 08 are sessions; leave 01-05 out (not published), and add a file
        // on Saturday 01-06 (the listing wins over the calendar).
        var content: [String: [UInt8]] = [:]
        for (i, date) in ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-06", "2024-01-08"].enumerated() {
            content[date] = testBytes(100_000 + i * 1000, seed: UInt64(i))
            try up.put(key: ds.key(for: d(date)), body: content[date]!)
        }
        let root = try makeTempDir()
        let c = srv.client(bucket: bucket, viaProxy: true)
        defer { try? srv.setFaults("") }
        try srv.setFaults("cut 1 2024-01-03\n500 1 2024-01-04\nreset 1 2024-01-08")

        var r = Downloader(client: c, options: options(root)).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        XCTAssertEqual(r.summary.planned, 6)
        XCTAssertEqual(r.summary.downloaded, 5)
        XCTAssertEqual(r.summary.missing, 1)
        XCTAssertEqual(r.summary.failed, 0)
        XCTAssertEqual(r.summary.retries, 3)
        XCTAssertEqual(r.summary.bytesDownloaded, Int64(content.values.reduce(0) { $0 + $1.count }) + r.outcomes.first { $0.date == d("2024-01-03") }!.bytes - Int64(content["2024-01-03"]!.count))
        for (date, bytes) in content { XCTAssertTrue(file(root, date) == bytes, date) }
        XCTAssertEqual(r.outcomes.first { $0.date == d("2024-01-05") }?.status, .missing)

        let store = MetadataStore(root: root)
        let rec = store.load(ds, d("2024-01-03"))!
        XCTAssertEqual(rec.status, .done)
        XCTAssertEqual(rec.size, Int64(content["2024-01-03"]!.count))
        XCTAssertEqual(rec.retries, 1)
        XCTAssertEqual(store.load(ds, d("2024-01-05"))?.status, .skipped)
        XCTAssertEqual(store.records(ds).count, 6)

        // Second run: nothing to download.
        r = Downloader(client: c, options: options(root)).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        XCTAssertEqual(r.summary.downloaded, 0)
        XCTAssertEqual(r.summary.upToDate, 5)
        XCTAssertEqual(r.summary.bytesDownloaded, 0)

        // Republished file: a new ETag is fetched again, only that one.
        let newer = testBytes(123_456, seed: 99)
        try up.put(key: ds.key(for: d("2024-01-04")), body: newer)
        r = Downloader(client: c, options: options(root)).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        XCTAssertEqual(r.summary.downloaded, 1)
        XCTAssertEqual(r.summary.upToDate, 4)
        XCTAssertTrue(file(root, "2024-01-04") == newer)
        XCTAssertEqual(store.load(ds, d("2024-01-04"))?.size, 123_456)

        // Without listing (HEAD for the ETag): still up to date, and 404 means missing.
        var o = options(root)
        o.useListing = false
        r = Downloader(client: c, options: o).run(dataset: ds, from: d("2024-01-01"), to: d("2024-01-08"))
        XCTAssertEqual(r.summary.planned, 5, "calendar sessions only")
        XCTAssertEqual(r.summary.upToDate, 4)
        XCTAssertEqual(r.summary.missing, 1)
        XCTAssertEqual(r.outcomes.first { $0.date == d("2024-01-05") }?.error, "no file (404)")

        // Only temp files are never left behind.
        let leftovers = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.filter { $0.contains(".tmp.") }
        XCTAssertEqual(leftovers, [])
    }

    func testForbiddenDatesFailWithoutStoppingOthers() throws {
        let srv = try TestServer.require()
        guard !srv.noAccessKeyID.isEmpty else { throw XCTSkip("no second user") }
        let bucket = try srv.freshBucket("dl403")
        try srv.client(bucket: bucket).put(key: ds.key(for: d("2024-02-01")), body: [1, 2, 3])
        let root = try makeTempDir()
        let c = srv.client(bucket: bucket, secret: srv.noAccessSecret, keyID: srv.noAccessKeyID)
        var o = options(root)
        o.useListing = true   // the listing is refused too: falls back to the calendar
        let r = Downloader(client: c, options: o).run(dataset: ds, from: d("2024-02-01"), to: d("2024-02-02"))
        XCTAssertEqual(r.summary.failed, 2)
        XCTAssertTrue(r.hasFailures)
        XCTAssertEqual(r.warnings.count, 1)
        let err = r.outcomes[0].error ?? ""
        XCTAssertTrue(err.contains("403") && err.contains("plan"), err)
        let rec = MetadataStore(root: root).load(ds, d("2024-02-01"))!
        XCTAssertEqual(rec.status, .failed)
        XCTAssertEqual(rec.lastError, err)
    }
}
