import XCTest
import FFCol
@testable import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// The stage entry points used by the benchmarks see the same bytes and rows as a conversion.
final class StagesTests: XCTestCase {
    let date = TradingDate("2025-09-29")!

    func sample(rows: Int) throws -> (csv: [UInt8], gzip: [UInt8]) { try optionsSample(rows: rows, date: date) }

    func leftovers() -> [String] {
        let tmp = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        guard let d = opendir(tmp) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = direntName(e)
            if name.hasPrefix(".ffcol-stages.ffc.tmp-\(getpid())-") { out.append(name) }
        }
        return out
    }

    func testStagesCountWhatConvertCounts() throws {
        let (csv, gz) = try sample(rows: 20_000)
        XCTAssertEqual(try ConvertStages.inflate(source: MemorySource(gz, piece: 777), blockSize: 5000), UInt64(csv.count))
        XCTAssertEqual(try ConvertStages.inflate(source: MemorySource(csv)), UInt64(csv.count))
        for block in [1 << 20, 4096, 97] {
            let p = try csv.withUnsafeBytes { try ConvertStages.parse(csv: $0, dataset: .optionsMinute, date: date, blockSize: block) }
            XCTAssertEqual(p, StageCounts(rows: 20_000, csvBytes: UInt64(csv.count)), "block \(block)")
        }
        let ip = try ConvertStages.inflateAndParse(source: MemorySource(gz), dataset: .optionsMinute, date: date, blockSize: 8192)
        XCTAssertEqual(ip, StageCounts(rows: 20_000, csvBytes: UInt64(csv.count)))
        XCTAssertEqual(leftovers(), [])
    }

    func testStageErrorsAreTheConvertersErrors() throws {
        XCTAssertThrowsError(try [UInt8]().withUnsafeBytes {
            try ConvertStages.parse(csv: $0, dataset: .optionsMinute, date: date)
        }) { XCTAssertEqual(($0 as? ConvertError)?.kind, .emptyInput) }
        let bad = Array("ticker,volume\nX,1\n".utf8)
        XCTAssertThrowsError(try ConvertStages.inflateAndParse(source: MemorySource(bad), dataset: .optionsMinute, date: date)) {
            XCTAssertEqual(($0 as? ConvertError)?.kind, .badHeader)
        }
        var gz = try sample(rows: 1000).gzip
        gz.removeLast(100)
        XCTAssertThrowsError(try ConvertStages.inflate(source: MemorySource(gz))) {
            XCTAssertEqual(($0 as? ConvertError)?.kind, .gzip)
        }
        XCTAssertEqual(leftovers(), [])
    }
}
