import XCTest
import FFCol
@testable import FFColConvert

/// The shared inflate stream of `BlockPipe`: blocks that end part-way, when a thread hands the
/// stream over to another, still give every byte once and in order.
final class BlockPipeTests: XCTestCase {
    let date = TradingDate("2025-09-29")!

    func sample(rows: Int) throws -> (csv: [UInt8], gzip: [UInt8]) { try optionsSample(rows: rows, date: date) }

    /// Pops every block of `pipe`, returning the bytes and each block's size.
    func drain(_ pipe: BlockPipe) throws -> (bytes: [UInt8], sizes: [Int]) {
        var out: [UInt8] = [], sizes: [Int] = []
        while let (b, n) = try pipe.pop() {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[0..<n]))
            sizes.append(n)
            pipe.giveBack(b)
        }
        return (out, sizes)
    }

    func testConsumerHandsTheStreamToAWaitingHelper() throws {
        let (csv, gz) = try sample(rows: 25_000)
        XCTAssertGreaterThan(csv.count, 4 * BlockPipe.consumerYieldAfter)
        for backend in InflateBackend.allCases {
            let pipe = BlockPipe(blocks: 4, blockSize: 1 << 20)
            pipe.share(InflateStream(source: MemorySource(gz, piece: 4096), backend: backend))
            // A helper that waits with nothing else to do, for good: every block the consumer
            // inflates for itself ends once it holds consumerYieldAfter bytes.
            pipe.monitor.locked { pipe.helperWaiting = true }
            let (bytes, sizes) = try drain(pipe)
            XCTAssertEqual(bytes, csv, "\(backend)")
            XCTAssertEqual(sizes.count, (csv.count + BlockPipe.consumerYieldAfter - 1) / BlockPipe.consumerYieldAfter, "\(backend)")
            XCTAssertTrue(sizes.dropLast().allSatisfy { $0 == BlockPipe.consumerYieldAfter }, "\(backend): \(sizes)")
        }
        // Without a waiting helper the consumer fills whole blocks.
        let pipe = BlockPipe(blocks: 4, blockSize: 1 << 20)
        pipe.share(InflateStream(source: MemorySource(gz), backend: .isal))
        let (bytes, sizes) = try drain(pipe)
        XCTAssertEqual(bytes, csv)
        XCTAssertTrue(sizes.dropLast().allSatisfy { $0 == 1 << 20 }, "\(sizes)")
    }

    func testHelperAndConsumerInflatingInTurnGiveEveryByteInOrder() throws {
        let (csv, gz) = try sample(rows: 25_000)
        for blockSize in [256 << 10, 1 << 20] {
            let pipe = BlockPipe(blocks: 3, blockSize: blockSize)
            pipe.share(InflateStream(source: MemorySource(gz), backend: .isal))
            final class Flag: @unchecked Sendable { var stop = false }
            let flag = Flag()
            // A helper as the chunk writer is one: it inflates whenever it can, else waits.
            let helper = Worker(name: "test-helper") {
                pipe.monitor.lock()
                while !flag.stop {
                    if pipe.inflateNextLocked() { continue }
                    pipe.helperWaiting = true
                    pipe.monitor.wait()
                    pipe.helperWaiting = false
                }
                pipe.monitor.unlock()
            }
            let (bytes, _) = try drain(pipe)
            pipe.monitor.locked { flag.stop = true; pipe.monitor.broadcast() }
            helper.join()
            XCTAssertEqual(bytes, csv, "block \(blockSize)")
        }
    }

    func testAnErrorAfterHandedOverBlocksEndsThePipeWithIt() throws {
        let (csv, gz) = try sample(rows: 25_000)
        // Truncated well after the first blocks: those arrive, then the error.
        let cut = Array(gz[0..<(gz.count * 3 / 4)])
        let pipe = BlockPipe(blocks: 4, blockSize: 1 << 20)
        pipe.share(InflateStream(source: MemorySource(cut), backend: .isal))
        pipe.monitor.locked { pipe.helperWaiting = true }
        var got: [UInt8] = []
        XCTAssertThrowsError(try {
            while let (b, n) = try pipe.pop() {
                got.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[0..<n]))
                pipe.giveBack(b)
            }
        }()) { e in
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertGreaterThan(got.count, 0)
        XCTAssertEqual(Array(csv[0..<got.count]), got)
    }
}
