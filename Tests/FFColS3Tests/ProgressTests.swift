import FFCol
@testable import FFColS3
import XCTest

/// The ingest progress estimate (no server needed).
final class ProgressTests: XCTestCase {
    private func progress(files: Int, of total: Int, bytes: Int64, of expected: Int64, seconds: Double) -> IngestProgress {
        IngestProgress(filesDone: files, filesTotal: total, bytesDone: bytes, bytesExpected: expected,
                       rowsDone: 0, seconds: seconds, retries: 0)
    }

    func testETAFromBytesWhileTheTransferLeads() throws {
        // 40 of 100 MB in 4 s, nothing finished yet: 60 MB at 10 MB/s.
        let p = progress(files: 0, of: 4, bytes: 40_000_000, of: 100_000_000, seconds: 4)
        XCTAssertEqual(try XCTUnwrap(p.eta), 6, accuracy: 1e-9)
        XCTAssertFalse(p.finishing)
    }

    func testETACountsTheConversionThatFollowsTheLastByte() throws {
        // Every byte in after 10 s, 2 of 4 dates written: the bytes say 0, the files say 10 s.
        let p = progress(files: 2, of: 4, bytes: 100_000_000, of: 100_000_000, seconds: 10)
        XCTAssertEqual(try XCTUnwrap(p.eta), 10, accuracy: 1e-9)
        XCTAssertTrue(p.finishing)
        // Nothing finished yet and every byte in: no basis for an estimate.
        let q = progress(files: 0, of: 4, bytes: 100_000_000, of: 100_000_000, seconds: 10)
        XCTAssertNil(q.eta)
        XCTAssertTrue(q.finishing)
    }

    func testETAIsTheLargerEstimateAndZeroAtTheEnd() throws {
        // 1 of 4 files in 5 s (15 s by files) but only 10% of the bytes (45 s by bytes).
        let p = progress(files: 1, of: 4, bytes: 10_000_000, of: 100_000_000, seconds: 5)
        XCTAssertEqual(try XCTUnwrap(p.eta), 45, accuracy: 1e-9)
        XCTAssertEqual(progress(files: 4, of: 4, bytes: 100, of: 100, seconds: 3).eta, 0)
        XCTAssertNil(progress(files: 0, of: 0, bytes: 0, of: 0, seconds: 0).eta)
        // Sizes unknown: from files only.
        XCTAssertEqual(try XCTUnwrap(progress(files: 1, of: 3, bytes: 5, of: 0, seconds: 2).eta), 4, accuracy: 1e-9)
    }
}
