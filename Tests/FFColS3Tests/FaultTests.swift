import FFCol
@testable import FFColS3
import XCTest

/// Recovery through the fault-injecting proxy: every fault ends in a byte-identical result
/// and counted retries.
final class FaultTests: XCTestCase {
    let fast = RetryPolicy(maxRetries: 5, baseDelay: 0.05, maxDelay: 0.2)

    private func fetchAll(_ c: S3Client, _ key: String, policy: RetryPolicy) throws -> ([UInt8], FetchResult, [RetryEvent]) {
        var out: [UInt8] = []
        var events: [RetryEvent] = []
        let r = try c.fetch(key: key, policy: policy, onRetry: { events.append($0) },
                            restart: { out.removeAll() }, sink: { out += $0 })
        return (out, r, events)
    }

    func testEachFaultRecoversByteIdentical() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("faults")
        let data = testBytes(600_000, seed: 7)
        let etag = try srv.client(bucket: bucket).put(key: "f/obj.bin", body: data)
        let c = srv.client(bucket: bucket, viaProxy: true)
        defer { try? srv.setFaults("") }

        for mode in ["500", "503", "slowdown", "reset", "cut", "stall"] {
            let before = try srv.faultsInjected()
            let t0 = Date()
            // A stall costs the low-speed window (curl averages the speed over a few seconds):
            // one is enough to show curl detects it long before the proxy gives up (30 s).
            let n = mode == "stall" ? 1 : 2
            try srv.setFaults("\(mode) \(n) obj.bin")
            let (out, r, events) = try fetchAll(c, "f/obj.bin", policy: fast)
            XCTAssertEqual(out.count, data.count, mode)
            XCTAssertTrue(out == data, "\(mode): bytes differ")
            XCTAssertEqual(r.retries, n, mode)
            XCTAssertEqual(events.count, n, mode)
            XCTAssertEqual(r.etag, etag, mode)
            XCTAssertEqual(r.size, Int64(data.count), mode)
            XCTAssertEqual(try srv.faultsInjected() - before, n, mode)
            XCTAssertLessThan(Date().timeIntervalSince(t0), 20, mode)
            print("fault \(mode): recovered in \(String(format: "%.2f", Date().timeIntervalSince(t0))) s")
            if mode == "cut" || mode == "stall" {
                // Resumed from where the body stopped, not from the start.
                XCTAssertGreaterThan(events.last!.resumeAt, 0, mode)
                XCTAssertEqual(events.last!.error.kind, .transport(curlCode: mode == "stall" ? 28 : 18, message: events.last!.error.kind.message), mode)
                XCTAssertLessThan(r.bytesReceived, Int64(data.count) * 2, mode)
            }
        }
    }

    func testGivesUpAfterMaxRetries() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("giveup")
        try srv.client(bucket: bucket).put(key: "g.bin", body: testBytes(1000, seed: 3))
        let c = srv.client(bucket: bucket, viaProxy: true)
        defer { try? srv.setFaults("") }
        try srv.setFaults("503 10 g.bin")
        var events = 0
        XCTAssertThrowsError(try c.fetch(key: "g.bin", policy: RetryPolicy(maxRetries: 2, baseDelay: 0.01, maxDelay: 0.02),
                                         onRetry: { _ in events += 1 }, sink: { _ in })) { e in
            XCTAssertEqual((e as! S3Error).status, 503)
        }
        XCTAssertEqual(events, 2)
    }

    func testBackoffGrowsWithJitter() {
        let p = RetryPolicy(maxRetries: 10, baseDelay: 1, maxDelay: 8)
        for retry in 0..<8 {
            let d = min(8, pow(2, Double(retry)))
            for _ in 0..<20 {
                let x = p.delay(retry: retry)
                XCTAssertGreaterThanOrEqual(x, d / 2)
                XCTAssertLessThanOrEqual(x, d)
            }
        }
    }
}

/// The download-as-ByteSource adapter.
final class ByteSourceTests: XCTestCase {
    func testReadsWholeObjectThroughSmallQueueWithFaults() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("bytesource")
        let data = testBytes(1_000_003, seed: 11)
        try srv.client(bucket: bucket).put(key: "s/obj.csv.gz", body: data)
        defer { try? srv.setFaults("") }
        try srv.setFaults("cut 1 obj.csv.gz\n503 1 obj.csv.gz")
        let c = srv.client(bucket: bucket, viaProxy: true)
        var teed = 0
        let src = S3ObjectByteSource(client: c, key: "s/obj.csv.gz",
                                     policy: RetryPolicy(maxRetries: 4, baseDelay: 0.05, maxDelay: 0.1),
                                     capacity: 10_000, tee: { teed += $0.count })
        XCTAssertEqual(src.name, "s/obj.csv.gz")
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 7_777)
        while true {
            let n = try buf.withUnsafeMutableBytes { try src.read(into: $0) }
            if n == 0 { break }
            out += buf[0..<n]
            if out.count % 3 == 0 { usleep(100) }   // a reader slower than the network at times
        }
        XCTAssertTrue(out == data)
        XCTAssertEqual(src.bytesRead, Int64(data.count))
        XCTAssertEqual(teed, data.count)
        XCTAssertEqual(src.result?.retries, 2)
        XCTAssertEqual(src.result?.size, Int64(data.count))
        // Reading after the end keeps returning 0.
        XCTAssertEqual(try buf.withUnsafeMutableBytes { try src.read(into: $0) }, 0)
    }

    func testErrorsAreThrownFromRead() throws {
        let srv = try TestServer.require()
        let c = srv.client(bucket: try srv.freshBucket("bserr"))
        let src = S3ObjectByteSource(client: c, key: "missing.csv.gz")
        var buf = [UInt8](repeating: 0, count: 100)
        XCTAssertThrowsError(try buf.withUnsafeMutableBytes { try src.read(into: $0) }) { e in
            XCTAssertEqual((e as? S3Error)?.status, 404)
        }
    }

    func testCancelStopsTheTransfer() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("bscancel")
        try srv.client(bucket: bucket).put(key: "big.bin", body: testBytes(1_000_000, seed: 5))
        let src = S3ObjectByteSource(client: srv.client(bucket: bucket), key: "big.bin", capacity: 1000)
        var buf = [UInt8](repeating: 0, count: 100)
        XCTAssertGreaterThan(try buf.withUnsafeMutableBytes { try src.read(into: $0) }, 0)
        src.cancel()
        XCTAssertThrowsError(try buf.withUnsafeMutableBytes { try src.read(into: $0) }) { e in
            XCTAssertEqual((e as? S3Error)?.kind, .cancelled)
        }
        XCTAssertNil(src.result, "the transfer did not run to the end")
    }

    /// Found by LeakSanitizer (every `ffcol ingest`, reported when one exited with an error):
    /// the source held its transfer thread and the thread's closure held the source, so neither
    /// was ever freed, nor what the source holds (the client, the tee and everything it captures,
    /// i.e. the whole Ingester). Once the transfer has ended and the reader lets go, it is freed.
    func testSourceIsFreedAfterTheTransferEnds() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("bsfree")
        try srv.client(bucket: bucket).put(key: "small.bin", body: testBytes(10_000, seed: 3))
        final class Token {}
        weak var weakSource: S3ObjectByteSource?
        weak var weakToken: Token?
        for key in ["small.bin", "missing.bin"] {
            do {
                let token = Token()
                let src = S3ObjectByteSource(client: srv.client(bucket: bucket), key: key, tee: { _ in _ = token })
                weakSource = src
                weakToken = token
                var buf = [UInt8](repeating: 0, count: 4096)
                do {
                    while try buf.withUnsafeMutableBytes({ try src.read(into: $0) }) > 0 {}
                    XCTAssertNotNil(src.result, key)
                } catch {
                    XCTAssertEqual((error as? S3Error)?.status, 404, key)
                }
            }
            // The transfer thread lets go of the source when it returns, right after the end.
            for _ in 0..<500 where weakSource != nil { usleep(10_000) }
            XCTAssertNil(weakSource, "\(key): the source is still alive after its transfer ended")
            XCTAssertNil(weakToken, "\(key): what the tee captured is still alive")
        }
    }
}
