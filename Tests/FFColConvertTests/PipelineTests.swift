import XCTest
import FFCol
@testable import FFColConvert

/// The converter's two ways of running (`Converter.convert`): inflating on the parser's and the
/// writer's threads, whichever is free (ISA-L, a source that reads without waiting), or on a
/// thread of its own (zlib, or a source that may wait, like stdin or a download).
final class PipelineTests: XCTestCase {
    /// The same bytes from a source that says its reads may wait.
    final class WaitingSource: ByteSource {
        let inner: MemorySource
        init(_ inner: MemorySource) { self.inner = inner }
        var name: String { inner.name }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try inner.read(into: buffer) }
    }

    /// Thread names seen during a conversion.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var names = Set<String>()
        func add(_ more: [String]) { lock.lock(); names.formUnion(more); lock.unlock() }
        var all: Set<String> { lock.lock(); defer { lock.unlock() }; return names }
    }

    /// The names of this process's threads (/proc/self/task/*/comm; Linux only).
    static func threadNames() -> [String] {
        let dir = "/proc/self/task"
        guard let ids = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return ids.compactMap { try? String(contentsOfFile: "\(dir)/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The three ways, as (backend, whether the source says it may wait, whether inflating
    /// should have a thread of its own).
    let ways: [(InflateBackend, Bool, Bool)] = [(.isal, false, false), (.isal, true, true), (.zlib, false, true)]

    func convert(_ gz: [UInt8], root: String, backend: InflateBackend, waits: Bool, seen: Seen) throws -> ConvertResult {
        var o = ConvertOptions(outRoot: root)
        o.dataset = .stocksMinute
        o.date = TradingDate("2025-09-29")!
        // Small blocks and chunks: hundreds of hand-offs between the threads.
        o.targetChunkRows = 200
        o.blockSize = 4096
        o.inflate = backend
        o.sourceName = "input.csv.gz"
        o.finalProvenance = { [("created_unix", "0")] }
        o.onRows = { _ in seen.add(PipelineTests.threadNames()) }
        let mem = MemorySource(gz, name: "input.csv.gz", piece: 1000)
        return try Converter.convert(source: waits ? WaitingSource(mem) : mem, options: o)
    }

    func testEveryWayOfInflatingWritesTheSameFileOnTheThreadsExpected() throws {
        var g = MiniCSV(seed: 21)
        let csv = g.csv(tickers: (0..<300).map { "T\($0)" }, perTicker: 80)
        let dir = tempDir(self)
        let gz = gzipBytes(csv, dir: dir)
        let want = sortedRef(referenceRows(csv))
        XCTAssertGreaterThan(want.count, 10_000)
        var outputs: [[UInt8]] = []
        for (k, (backend, waits, ownThread)) in ways.enumerated() {
            let what = "\(backend), source \(waits ? "may wait" : "reads without waiting")"
            let seen = Seen()
            let r = try convert(gz, root: "\(dir)/out\(k)", backend: backend, waits: waits, seen: seen)
            XCTAssertGreaterThan(r.chunks, 40, what)
            XCTAssertGreaterThan(r.csvBytes, 100 * 4096, what)
            #if os(Linux)
            XCTAssertTrue(seen.all.contains("ffcol-write"), "\(what): \(seen.all.sorted())")
            XCTAssertEqual(seen.all.contains("ffcol-inflate"), ownThread, "\(what): \(seen.all.sorted())")
            #endif
            let f = try FFCFile(path: r.output)
            try f.verify()
            let got = try readAll(f)
            XCTAssertEqual(got.count, want.count, what)
            XCTAssertTrue(got == want, "\(what): rows differ")
            outputs.append(Array(try XCTUnwrap(FileManager.default.contents(atPath: r.output), what)))
        }
        XCTAssertEqual(outputs[1], outputs[0], "a thread of its own for ISA-L changes the file")
        XCTAssertEqual(outputs[2], outputs[0], "zlib changes the file")
    }

    /// Damaged gzip data is an error naming the file whichever thread inflates it, and leaves
    /// no file behind.
    func testDamagedGzipIsAnErrorInEveryWayOfInflating() throws {
        var g = MiniCSV(seed: 22)
        let csv = g.csv(tickers: (0..<100).map { "T\($0)" }, perTicker: 40)
        let dir = tempDir(self)
        let gz = gzipBytes(csv, dir: dir)
        var flipped = gz
        flipped[gz.count / 2] ^= 0x55
        let truncated = Array(gz[..<(gz.count * 2 / 3)])
        for (damage, body) in [("flipped", flipped), ("truncated", truncated)] {
            for (k, (backend, waits, _)) in ways.enumerated() {
                let what = "\(damage), \(backend), source \(waits ? "may wait" : "reads without waiting")"
                let root = "\(dir)/\(damage)\(k)"
                XCTAssertThrowsError(try convert(body, root: root, backend: backend, waits: waits, seen: Seen()), what) { e in
                    guard let c = e as? ConvertError else { return XCTFail("\(what): \(e)") }
                    // A flipped byte may decode to text the parser rejects before the CRC is reached.
                    if damage == "truncated" { XCTAssertEqual(c.kind, .gzip, "\(what): \(c)") }
                    XCTAssertTrue("\(c)".contains("input.csv.gz"), "\(what): \(c)")
                }
                let left = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }
                    .filter { $0.hasSuffix(".ffc") || $0.contains(".tmp-") } ?? []
                XCTAssertEqual(left, [], what)
            }
        }
    }
}
