import XCTest
import FFCol
@testable import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// Writers created on several threads at once, as `convert --jobs` and `ingest` do.
final class WriterConcurrencyTests: XCTestCase {
    /// Found by ThreadSanitizer (ingest tests): the serial number in temporary file names was a
    /// static counter incremented without a lock by every new writer. Writers created on 4
    /// threads at once get distinct serial numbers (and so distinct names), and (under TSan)
    /// nothing races.
    func testWritersCreatedOnManyThreadsGetDistinctTemporaryNames() throws {
        let root = tempDir(self)
        let names = parallelMap(count: 200, threads: 4) { i -> String? in
            guard let w = try? FFCWriter(path: "\(root)/d\(i % 7)/2025-09-29.ffc", pageRows: 2048) else { return nil }
            defer { w.abort() }
            return w.tempPath
        }
        let paths = names.compactMap { $0 ?? nil }
        XCTAssertEqual(paths.count, 200, "every writer was created")
        // .2025-09-29.ffc.tmp-PID-SERIAL-RANDOM: the serial numbers alone are distinct.
        let serials = paths.map { $0.split(separator: "-").dropLast().last.map(String.init) ?? "" }
        XCTAssertEqual(Set(serials).count, 200, "serial numbers repeat: \(serials.sorted())")
    }
}
