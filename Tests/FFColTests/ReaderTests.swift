import XCTest
@testable import FFCol
import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// The reader across files: Store, ticker series, parallel chunk scans, concurrent use.
final class ReaderTests: XCTestCase {
    var root = ""
    let days = ["2025-09-25", "2025-09-26", "2025-09-29"]

    override func setUpWithError() throws {
        var template = Array("/tmp/ffcol-reader-XXXXXX".utf8CString)
        root = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        for (k, d) in days.enumerated() {
            var csv: [UInt8] = []
            _ = try Synth.generate(SynthOptions(dataset: .stocksMinute, date: TradingDate(d)!, rows: 30_000, seed: UInt64(k + 1))) {
                csv.append(contentsOf: $0)
            }
            var o = ConvertOptions(outRoot: root)
            o.dataset = .stocksMinute
            o.date = TradingDate(d)
            o.targetChunkRows = 2_000
            _ = try Converter.convert(source: MemorySource(csv, name: d), options: o)
        }
    }
    override func tearDown() { _ = system("rm -rf '\(root)'") }

    func testParallelScanSumsEveryRowOnce() throws {
        let store = Store(root: root)
        // Reference: file by file, chunk by chunk, on this thread.
        var wantRows = 0, wantSum = 0.0
        for d in store.dates(dataset: .stocksMinute) {
            let f = try XCTUnwrap(store.open(dataset: .stocksMinute, date: d))
            for i in 0..<f.chunkCount {
                let v = try f.chunk(i, columns: [.volume]).doubles(.volume)!
                wantRows += v.count
                wantSum += v.reduce(0, +)
            }
        }
        XCTAssertEqual(wantRows, 90_000)
        for threads in [1, 2, 4] {
            final class Acc: @unchecked Sendable { let lock = Lock(); var rows = 0; var sum = 0.0 }
            let acc = Acc()
            try store.forEachChunk(dataset: .stocksMinute, columns: [.volume], threads: threads) { _, c in
                let v = c.doubles(.volume)!
                let s = v.reduce(0, +)
                acc.lock.withLock { acc.rows += v.count; acc.sum += s }
            }
            XCTAssertEqual(acc.rows, wantRows, "threads \(threads)")
            // Integers in doubles: the sum is exact whatever the order.
            XCTAssertEqual(acc.sum, wantSum, "threads \(threads)")
        }
        // A date range.
        final class Count: @unchecked Sendable { let lock = Lock(); var rows = 0 }
        let cnt = Count()
        try store.forEachChunk(dataset: .stocksMinute, from: TradingDate("2025-09-26"), to: TradingDate("2025-09-26"),
                               columns: [.windowStart]) { d, c in
            XCTAssertEqual(d, TradingDate("2025-09-26"))
            cnt.lock.withLock { cnt.rows += c.rowCount }
        }
        XCTAssertEqual(cnt.rows, 30_000)
    }

    /// The parallel scan reads files as it reaches them and closes each when its chunks are
    /// done: with one thread, one file of the store is open at a time, whatever the range.
    func testParallelScanKeepsFewFilesOpen() throws {
        let store = Store(root: root), root = self.root
        @Sendable func openStoreFiles() -> Int {
            var n = 0
            guard let d = opendir("/proc/self/fd") else { return -1 }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                var buf = [CChar](repeating: 0, count: 4096)
                let len = readlink("/proc/self/fd/" + name, &buf, buf.count - 1)
                if len > 0, String(cString: buf).hasPrefix(root), String(cString: buf).hasSuffix(".ffc") { n += 1 }
            }
            return n
        }
        final class Seen: @unchecked Sendable { let lock = Lock(); var most = 0; var dates = Set<TradingDate>() }
        let seen = Seen()
        try store.forEachChunk(dataset: .stocksMinute, columns: [.close], threads: 1) { d, _ in
            let n = openStoreFiles()
            seen.lock.withLock { seen.most = max(seen.most, n); seen.dates.insert(d) }
        }
        XCTAssertEqual(seen.dates.count, 3)
        XCTAssertEqual(seen.most, 1)
    }

    func testParallelScanReportsACorruptFile() throws {
        let store = Store(root: root)
        let p = store.path(dataset: .stocksMinute, date: TradingDate("2025-09-26")!)
        try damageBlock(p, chunk: 3, column: .volume, byte: 3, mask: 0x40)
        XCTAssertThrowsError(try store.forEachChunk(dataset: .stocksMinute, columns: [.volume], threads: 2) { _, _ in }) { e in
            XCTAssertEqual(e as? FFCError, .checksum(path: p, chunk: 3, column: "volume"))
        }
    }

    func testSeriesIsTheSameWithAnyNumberOfReadAheadThreads() throws {
        let store = Store(root: root)
        // Reference: each file on its own, on this thread.
        var want: [(TradingDate, [Bar])] = []
        for d in store.dates(dataset: .stocksMinute) {
            if let b = try XCTUnwrap(store.open(dataset: .stocksMinute, date: d)).bars(ticker: "AAPL") { want.append((d, Array(b))) }
        }
        XCTAssertEqual(want.count, 3)
        for threads in [0, 1, 2, 5] {
            let got = try store.bars(ticker: "AAPL", dataset: .stocksMinute, threads: threads).load()
            XCTAssertEqual(got.map(\.date), want.map(\.0), "threads \(threads)")
            XCTAssertEqual(got.map { Array($0) }, want.map(\.1), "threads \(threads)")
            let closes = try store.bars(ticker: "AAPL", dataset: .stocksMinute, columns: [.close], threads: threads).loadColumns()
            XCTAssertEqual(closes.close, want.flatMap { $0.1.map(\.close) }, "threads \(threads)")
            // An iterator dropped after its first date stops cleanly.
            var it = store.bars(ticker: "AAPL", dataset: .stocksMinute, threads: threads).makeIterator()
            XCTAssertEqual(it.next()?.date, want[0].0)
        }
    }

    func testSeriesStopsAtADamagedDate() throws {
        let store = Store(root: root)
        let p = store.path(dataset: .stocksMinute, date: TradingDate("2025-09-26")!)
        let ci = try damageBlock(p, ticker: "AAPL", column: .close, byte: 5, mask: 0x10)
        let want = FFCError.checksum(path: p, chunk: ci, column: "close")
        for threads in [0, 2] {
            let series = store.bars(ticker: "AAPL", dataset: .stocksMinute, threads: threads)
            // The date before the damaged one is yielded, then iteration stops with the error.
            var it = series.makeIterator()
            XCTAssertEqual(it.next()?.date, TradingDate("2025-09-25"))
            XCTAssertNil(it.next())
            XCTAssertEqual(it.error as? FFCError, want)
            XCTAssertNil(it.next())
            XCTAssertThrowsError(try series.load()) { XCTAssertEqual($0 as? FFCError, want) }
            // An error thrown by the body ends the loop too.
            struct Stop: Error {}
            var seen = 0
            XCTAssertThrowsError(try series.forEach { _ in seen += 1; throw Stop() }) { XCTAssertTrue($0 is Stop) }
            XCTAssertEqual(seen, 1)
        }
    }

    func testSeriesAcrossDatesAndConcurrentLookups() throws {
        let store = Store(root: root)
        let series = try store.bars(ticker: "AAPL", dataset: .stocksMinute).load()
        XCTAssertEqual(series.map(\.date), days.map { TradingDate($0)! })
        for day in series {
            XCTAssertTrue(day.windowStart.elementsEqual(day.windowStart.sorted()))
            for bar in day { XCTAssertTrue(bar.low <= bar.high) }
        }
        // Missing dates are absent, not errors.
        XCTAssertEqual(try store.bars(ticker: "AAPL", dataset: .stocksMinute, from: TradingDate("2025-09-27"),
                                      to: TradingDate("2025-09-28")).load().count, 0)
        XCTAssertEqual(try store.bars(ticker: "NOSUCH", dataset: .stocksMinute).load().count, 0)
        // Many threads asking one file for chunks and columns at once get identical answers.
        let f = try XCTUnwrap(store.open(dataset: .stocksMinute, date: TradingDate("2025-09-29")!))
        f.cacheLimit = 2
        let want = try (0..<f.chunkCount).map { try f.chunk($0).doubles(.close)! }
        f.dropCache()
        final class Bad: @unchecked Sendable { let lock = Lock(); var n = 0 }
        let bad = Bad()
        DispatchQueue.concurrentPerform(iterations: 64) { k in
            let i = k % f.chunkCount
            let cols: [Column] = k % 2 == 0 ? [.close] : [.volume, .close]
            if (try? f.chunk(i, columns: cols).doubles(.close)) != want[i] { bad.lock.withLock { bad.n += 1 } }
        }
        XCTAssertEqual(bad.n, 0)
    }
}

import Dispatch
