import Foundation
import XCTest

/// The `ffcol` executable built next to the test bundle (.build/<config>/ffcol).
func ffcolBinary() throws -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let p = dir.appendingPathComponent("ffcol").path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
        dir = dir.deletingLastPathComponent()
    }
    throw XCTSkip("ffcol executable not found next to the tests")
}

/// Runs `ffcol` without any S3 credentials from the environment (only those in `env`) and
/// returns its exit status, stdout and stderr. Both pipes are drained while the process runs,
/// each on its own thread: a child that fills one pipe (a long error report, a sanitizer
/// report) while the other is being read would otherwise block forever.
func runFFCol(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try ffcolBinary())
    p.arguments = args
    var e = ProcessInfo.processInfo.environment
    for k in e.keys where k.hasPrefix("POLYGON_") || k.hasPrefix("MASSIVE_") || k.hasPrefix("AWS_") { e[k] = nil }
    // Under AddressSanitizer, leak checking is on in ffcol (scripts/test-sanitizers.sh).
    if let asan = e["FFCOL_TEST_PRODUCT_ASAN_OPTIONS"] { e["ASAN_OPTIONS"] = asan }
    for (k, v) in env { e[k] = v }
    p.environment = e
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = PipeDrain(out.fileHandleForReading)
    let r = PipeDrain(err.fileHandleForReading)
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o.wait(), as: UTF8.self), String(decoding: r.wait(), as: UTF8.self))
}

/// Reads a pipe to its end on a thread of its own. (NSCondition rather than a dispatch
/// semaphore: its pthread calls are visible to ThreadSanitizer.)
private final class PipeDrain: @unchecked Sendable {
    private let cond = NSCondition()
    private var data: Data?

    init(_ handle: FileHandle) {
        Thread { [self] in
            let d = handle.readDataToEndOfFile()
            cond.lock(); data = d; cond.signal(); cond.unlock()
        }.start()
    }

    /// The whole output, once the writer has closed its end.
    func wait() -> Data {
        cond.lock(); defer { cond.unlock() }
        while data == nil { cond.wait() }
        return data!
    }
}
