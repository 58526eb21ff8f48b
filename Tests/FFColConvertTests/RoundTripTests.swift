import XCTest
import FFCol
@testable import FFColConvert

/// Every value read back equals the CSV: ints exactly, doubles bit for bit, tickers byte for byte.
final class RoundTripTests: XCTestCase {
    let tickers = ["A", "AAPL", "ADSw", "ADSW", "BRK.A", "BRK.B", "F", "FTV.WD", "MSFT", "MTBpC.CL", "SPY", "TSLA", "ZVZZT"]

    func check(_ csv: [UInt8], chunkRows: Int = 16_384, gzip: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws -> FFCFile {
        let dir = tempDir(self)
        let input = gzip ? gzipBytes(csv, dir: dir) : csv
        let r = try convertBytes(input, root: dir + "/out", chunkRows: chunkRows)
        let f = try FFCFile(path: r.output)
        try f.verify()
        let want = sortedRef(referenceRows(csv))
        let got = try readAll(f)
        XCTAssertEqual(got.count, want.count, "row count", file: file, line: line)
        if let i = (0..<min(got.count, want.count)).first(where: { got[$0] != want[$0] }) {
            XCTFail("row \(i) differs: \(got[i]) vs \(want[i])", file: file, line: line)
        }
        XCTAssertEqual(f.rowCount, want.count, file: file, line: line)
        XCTAssertEqual(f.tickerCount, Set(want.map(\.ticker)).count, file: file, line: line)
        return f
    }

    func testSortedInputManyChunks() throws {
        var g = MiniCSV(seed: 42)
        let f = try check(g.csv(tickers: tickers, perTicker: 600), chunkRows: 500, gzip: true)
        XCTAssertGreaterThan(f.chunkCount, 3)
        XCTAssertEqual(f.provenance("input_sorted"), "true")
        // Each ticker lives in exactly one chunk.
        for t in tickers {
            let b = try XCTUnwrap(f.bars(ticker: t), t)
            XCTAssertTrue(b.windowStart.elementsEqual(b.windowStart.sorted()))
        }
        XCTAssertNil(try f.bars(ticker: "NOPE"))
        XCTAssertNil(try f.bars(ticker: "aapl"))
    }

    func testFractionalVolumesAndExponents() throws {
        var g = MiniCSV(seed: 9)
        let csv = g.csv(tickers: tickers, perTicker: 100, forms: true, fractionalVolume: true)
        XCTAssertTrue(String(decoding: csv, as: UTF8.self).contains("e+"))
        let f = try check(csv)
        var fractional = 0
        try f.forEachTicker { b in fractional += b.volume.filter { $0 != $0.rounded() }.count; return true }
        XCTAssertGreaterThan(fractional, 0)
    }

    func testUnsortedInputIsSorted() throws {
        var g = MiniCSV(seed: 4)
        let csv = g.csv(tickers: tickers, perTicker: 200)
        // Shuffle whole lines (keeping the header).
        var lines = String(decoding: csv, as: UTF8.self).split(separator: "\n").map(String.init)
        let header = lines.removeFirst()
        for i in stride(from: lines.count - 1, to: 0, by: -1) { lines.swapAt(i, g.below(i + 1)) }
        let shuffled = Array((header + "\n" + lines.joined(separator: "\n") + "\n").utf8)
        let f = try check(shuffled, chunkRows: 300)
        XCTAssertEqual(f.provenance("input_sorted"), "false")
    }

    /// Disorder found after chunks were already written: they are read back and re-sorted.
    func testDisorderAfterChunksWereWritten() throws {
        var g = MiniCSV(seed: 8)
        let first = g.csv(tickers: ["B", "C", "D", "E"], perTicker: 400)
        let late = String(decoding: g.csv(tickers: ["A", "C"], perTicker: 50), as: UTF8.self).split(separator: "\n").dropFirst()
        let csv = Array((String(decoding: first, as: UTF8.self) + late.joined(separator: "\n") + "\n").utf8)
        let f = try check(csv, chunkRows: 100)
        XCTAssertEqual(f.provenance("input_sorted"), "false")
    }

    func testDuplicateRowsAreKept() throws {
        let row = "AAPL,1,1,1,1,1,1759152600000000000,1\n"
        let csv = Array(("ticker,volume,open,close,high,low,window_start,transactions\n" + row + row + row).utf8)
        let f = try check(csv)
        XCTAssertEqual(f.rowCount, 3)
        XCTAssertEqual(f.provenance("duplicate_timestamps"), "2")
    }

    /// Rows of every page of every chunk.
    func pageRowCounts(_ f: FFCFile) throws -> [Int] {
        var counts: [Int] = []
        for i in 0..<f.chunkCount {
            let t = try XCTUnwrap(try f.pageTable(i))
            counts += (0..<t.count).map { t.rows($0).count }
        }
        return counts
    }

    /// Pages of at most 8,192 rows for options and 2,048 for stocks unless told otherwise
    /// (`ConvertOptions.defaultPageRows(for:)`); the rows read back the same either way.
    func testPageRowsDependOnTheDataset() throws {
        let dir = tempDir(self)
        var g = MiniCSV(seed: 8)
        let contracts = (0..<4000).map { "O:SPY251017C00\(String(100_000 + $0 * 5).dropFirst())" }
        let options = g.csv(tickers: contracts, perTicker: 8)
        let stocks = g.csv(tickers: (0..<40).map { "T\($0)" }, perTicker: 900)
        for (name, csv, dataset, pageRows, limit) in [("options", options, Dataset.optionsMinute, PageRows.datasetDefault, 8192),
                                                     ("options-4096", options, .optionsMinute, .rows(4096), 4096),
                                                     ("stocks", stocks, .stocksMinute, .datasetDefault, 2048)] {
            let r = try convertBytes(csv, root: "\(dir)/\(name)", dataset: dataset, pageRows: pageRows)
            let f = try FFCFile(path: r.output)
            try f.verify()
            let counts = try pageRowCounts(f)
            XCTAssertEqual(counts.reduce(0, +), f.rowCount, name)
            // No ticker here has more rows than a page holds.
            XCTAssertLessThanOrEqual(counts.max() ?? 0, limit, name)
            // Pages are filled to near the limit (a page ends before the ticker that would
            // take it past the limit, or at the end of its chunk).
            XCTAssertGreaterThan(counts.max() ?? 0, limit - 1000, name)
            let want = sortedRef(referenceRows(csv))
            XCTAssertEqual(try readAll(f), want, name)
        }
        XCTAssertEqual(ConvertOptions.defaultPageRows(for: .optionsDay), 8192)
        XCTAssertEqual(ConvertOptions.defaultPageRows(for: .stocksDay), 2048)
    }

    func testOptionsUnderlyingLookup() throws {
        let contracts = ["O:AAPL251017C00150000", "O:AAPL251017P00150000", "O:AAPL1251017C00150000", "O:AAPLW251017C00150000",
                         "O:F251017C00012000", "O:SPY251017C00600000", "O:SPXW251017C06000000", "O:A251017C00100000"]
        var g = MiniCSV(seed: 6)
        let csv = g.csv(tickers: contracts, perTicker: 50)
        let dir = tempDir(self)
        let r = try convertBytes(csv, root: dir, dataset: .optionsMinute, chunkRows: 20)
        let f = try FFCFile(path: r.output)
        XCTAssertEqual(try f.contracts(underlying: "AAPL").map(\.ticker), ["O:AAPL251017C00150000", "O:AAPL251017P00150000"])
        XCTAssertEqual(try f.contracts(underlying: "AAPL1").map(\.ticker), ["O:AAPL1251017C00150000"])
        XCTAssertEqual(try f.contracts(underlying: "A").map(\.ticker), ["O:A251017C00100000"])
        XCTAssertEqual(try f.contracts(underlying: "F").map(\.ticker), ["O:F251017C00012000"])
        XCTAssertEqual(try f.contracts(underlying: "QQQ").count, 0)
        let occ = try XCTUnwrap(OCCSymbol(Array("O:AAPL1251017C00150000".utf8)))
        XCTAssertEqual(occ.rootString, "AAPL1")
        XCTAssertEqual(occ.expiry, TradingDate("2025-10-17"))
        XCTAssertTrue(occ.isCall)
        XCTAssertEqual(occ.strikeThousandths, 150_000)
    }
}
