import Foundation
import XCTest

/// A fresh directory under the system's temporary directory, removed (with everything in it)
/// when the test that made it finishes, failed or not.
func makeTempDir() throws -> String {
    let path = NSTemporaryDirectory() + "ffcol-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    TempDirCleaner.shared.add(path)
    return path
}

/// Removes the directories `makeTempDir` made during a test once the test case finishes.
final class TempDirCleaner: NSObject, XCTestObservation, @unchecked Sendable {
    static let shared: TempDirCleaner = {
        let c = TempDirCleaner()
        XCTestObservationCenter.shared.addTestObserver(c)
        return c
    }()
    private let lock = NSLock()
    private var dirs: [String] = []

    func add(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        dirs.append(path)
    }

    func testCaseDidFinish(_ testCase: XCTestCase) {
        lock.lock()
        let done = dirs
        dirs.removeAll()
        lock.unlock()
        // Tests make read-only directories too: give the owner write access back first.
        for d in done { _ = system("chmod -R u+w '\(d)' 2>/dev/null; rm -rf '\(d)'") }
    }
}
