import XCTest
@testable import FFCol
#if canImport(Glibc)
import Glibc
#endif

/// `OrderedPrefetch`: values in index order whatever order they finish in, workers within
/// their window, and no thread left behind when it is dropped.
final class PrefetchTests: XCTestCase {
    final class Started: @unchecked Sendable {
        let lock = Lock()
        var max = -1
        var count = 0
        func note(_ i: Int) { lock.withLock { max = Swift.max(max, i); count += 1 } }
        var snapshot: (max: Int, count: Int) { lock.withLock { (max, count) } }
    }

    func testValuesComeInIndexOrder() {
        for count in [0, 1, 2, 7, 100] {
            for threads in [0, 1, 2, 4] {
                for ahead in [1, 3, 16] { for helps in [false, true] {
                    let p = OrderedPrefetch(count: count, threads: threads, ahead: ahead, consumerHelps: helps) { i -> Int in
                        // Some indices finish late, so later ones are often done first.
                        if i % 3 == 0 { usleep(UInt32(40 * (i % 5))) }
                        return i * i
                    }
                    var got: [Int] = []
                    while let v = p.next() { got.append(v) }
                    XCTAssertEqual(got, (0..<count).map { $0 * $0 }, "count \(count) threads \(threads) ahead \(ahead) helps \(helps)")
                    XCTAssertNil(p.next())
                } }
            }
        }
    }

    func testWorkersStayWithinTheirWindow() {
        for ahead in [1, 2, 5] { for helps in [false, true] {
            let s = Started()
            let p = OrderedPrefetch(count: 60, threads: helps ? 1 : 3, ahead: ahead, consumerHelps: helps) { i -> Int in
                s.note(i)
                return i
            }
            var i = 0
            while let v = p.next() {
                XCTAssertEqual(v, i)
                // Having handed out index i, the workers may have started at most up to i + ahead.
                let m = s.snapshot.max
                XCTAssertLessThanOrEqual(m, i + ahead, "ahead \(ahead) helps \(helps)")
                if i % 7 == 0 { usleep(300) }  // a slow consumer: workers must wait, not run on
                i += 1
            }
            XCTAssertEqual(i, 60)
            XCTAssertEqual(s.snapshot.count, 60, "each index produced once")
        } }
    }

    func testDroppingItEarlyStopsItsWorkers() {
        let s = Started()
        do {
            let p = OrderedPrefetch(count: 10_000, threads: 2, ahead: 4) { i -> Int in
                s.note(i)
                usleep(100)
                return i
            }
            XCTAssertEqual(p.next(), 0)
            XCTAssertEqual(p.next(), 1)
        }
        // Dropped: its workers were joined, so nothing starts any more.
        let after = s.snapshot
        XCTAssertLessThanOrEqual(after.max, 1 + 4)
        usleep(20_000)
        XCTAssertEqual(s.snapshot.count, after.count)
        // cancel() ends iteration at once.
        let p = OrderedPrefetch(count: 100, threads: 2, ahead: 2) { $0 }
        XCTAssertEqual(p.next(), 0)
        p.cancel()
        XCTAssertNil(p.next())
    }
}
