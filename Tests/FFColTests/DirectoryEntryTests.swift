import XCTest
@testable import FFCol
#if canImport(Glibc)
import Glibc
#endif

/// Directory listings (Store, `ffcol convert` and `verify` walking their inputs).
final class DirectoryEntryTests: XCTestCase {
    /// Found by AddressSanitizer (heap-buffer-overflow in a test's listing of $TMPDIR): names
    /// were read by copying `dirent.d_name` whole (256 bytes), past the end of the short entries
    /// glibc packs at the end of its read buffer. Thousands of short names fill that buffer
    /// many times over; every name must come back, and (under ASan) nothing is read past an
    /// entry.
    func testDirectoryEntryNamesAreReadWithinTheEntry() throws {
        var t = Array("/tmp/ffcol-dirent-XXXXXX".utf8CString)
        let dir = String(cString: try XCTUnwrap(mkdtemp(&t)))
        defer { _ = system("rm -rf '\(dir)'") }
        var expected: [String] = []
        for i in 0..<3000 {
            let name = String(repeating: "n", count: i % 23) + String(i)
            let fd = open(dir + "/" + name, O_CREAT | O_WRONLY, 0o644)
            XCTAssertGreaterThanOrEqual(fd, 0)
            close(fd)
            expected.append(name)
        }
        var seen: [String] = []
        let d = try XCTUnwrap(opendir(dir))
        while let e = readdir(d) { seen.append(direntName(e)) }
        closedir(d)
        XCTAssertEqual(seen.filter { $0 != "." && $0 != ".." }.sorted(), expected.sorted())
        XCTAssertEqual(Store.list(dir), expected.sorted())
    }
}
