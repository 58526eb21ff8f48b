import FFCol
@testable import FFColS3
import XCTest

/// The client against moto with signature checking on.
final class S3ClientTests: XCTestCase {
    func testPutGetHeadRange() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("basic")
        let c = srv.client(bucket: bucket)
        let data = testBytes(200_000, seed: 1)
        let etag = try c.put(key: "dir/sub dir/file+1.bin", body: data)
        XCTAssertFalse(etag.isEmpty)
        XCTAssertFalse(etag.contains("\""))
        XCTAssertEqual(try c.getData(key: "dir/sub dir/file+1.bin"), data)
        let info = try c.head(key: "dir/sub dir/file+1.bin")
        XCTAssertEqual(info.size, 200_000)
        XCTAssertEqual(info.etag, etag)

        var tail: [UInt8] = []
        let head = try c.get(key: "dir/sub dir/file+1.bin", rangeStart: 150_000, ifMatch: etag) { tail += $0; return true }
        XCTAssertEqual(head.status, 206)
        XCTAssertEqual(tail, Array(data[150_000...]))
        XCTAssertEqual(head.contentRange?.total, 200_000)

        // If-Match with another ETag: 412.
        XCTAssertThrowsError(try c.get(key: "dir/sub dir/file+1.bin", rangeStart: 10, ifMatch: "0000") { _ in true }) { e in
            XCTAssertEqual((e as? S3Error)?.status, 412)
        }
    }

    func testListingPaginatesWithEncodedPrefix() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("list")
        let c = srv.client(bucket: bucket)
        for i in 0..<7 { try c.put(key: "a/b/\(i).csv.gz", body: [UInt8(i)]) }
        try c.put(key: "a/c/x.csv.gz", body: [1])
        try c.put(key: "a/b+c/y.csv.gz", body: [1])

        let page = try c.listPage(prefix: "a/b/", maxKeys: 3)
        XCTAssertEqual(page.objects.count, 3)
        XCTAssertTrue(page.isTruncated)
        XCTAssertNotNil(page.nextContinuationToken)

        let all = try c.list(prefix: "a/b/", maxKeys: 3)   // 3 pages
        XCTAssertEqual(all.map(\.key), (0..<7).map { "a/b/\($0).csv.gz" })
        XCTAssertEqual(all.map(\.size), Array(repeating: 1, count: 7))
        XCTAssertEqual(try c.list(prefix: "a/b+c/").map(\.key), ["a/b+c/y.csv.gz"])
        XCTAssertEqual(try c.list(prefix: "nothing/").count, 0)
    }

    func testNotFoundIsReported() throws {
        let srv = try TestServer.require()
        let c = srv.client(bucket: try srv.freshBucket("nf"))
        XCTAssertThrowsError(try c.getData(key: "no/such.csv.gz")) { e in
            let e = e as! S3Error
            XCTAssertTrue(e.isNotFound)
            XCTAssertEqual(e.code, "NoSuchKey")
            XCTAssertFalse(e.isRetryable)
        }
        XCTAssertThrowsError(try c.head(key: "no/such.csv.gz")) { e in XCTAssertEqual((e as! S3Error).status, 404) }
    }

    func testWrongSecretIsSignatureDoesNotMatch() throws {
        let srv = try TestServer.require()
        let bucket = try srv.freshBucket("sig")
        try srv.client(bucket: bucket).put(key: "k", body: [1, 2, 3])
        let wrong = srv.wrongSecret
        let lines = Lines()
        let c = srv.client(bucket: bucket, secret: wrong, trace: { lines.add($0) })
        XCTAssertThrowsError(try c.getData(key: "k")) { e in
            let e = e as! S3Error
            XCTAssertEqual(e.status, 403)
            XCTAssertEqual(e.code, "SignatureDoesNotMatch")
            XCTAssertTrue(e.description.contains("secret access key is wrong"), e.description)
            XCTAssertFalse(e.description.contains(wrong))
        }
        XCTAssertThrowsError(try c.list(prefix: "")) { e in XCTAssertEqual((e as! S3Error).code, "SignatureDoesNotMatch") }
        XCTAssertFalse(lines.all.isEmpty)
        for l in lines.all {
            XCTAssertFalse(l.contains(wrong), l)
            XCTAssertTrue(l.contains("Signature=<redacted>"), l)
        }
    }

    func testAccessDeniedHasAClearMessage() throws {
        let srv = try TestServer.require()
        guard !srv.noAccessKeyID.isEmpty else { throw XCTSkip("no second user") }
        let bucket = try srv.freshBucket("denied")
        try srv.client(bucket: bucket).put(key: "k", body: [1])
        let c = srv.client(bucket: bucket, secret: srv.noAccessSecret, keyID: srv.noAccessKeyID)
        XCTAssertThrowsError(try c.getData(key: "k")) { e in
            let e = e as! S3Error
            XCTAssertEqual(e.status, 403)
            XCTAssertEqual(e.code, "AccessDenied")
            for word in ["keys", "plan", "history", "not be published yet"] {
                XCTAssertTrue(e.description.contains(word), e.description)
            }
        }
    }
}
