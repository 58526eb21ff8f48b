import XCTest
import FFCol
@testable import FFColConvert

/// Round trip of realistic generated files for every dataset and variant: every row and every
/// value of the .ffc equals the CSV (ints exactly, doubles bit for bit, tickers byte for byte),
/// rows in (ticker, window_start) order, none lost or duplicated.
final class SynthRoundTripTests: XCTestCase {
    func roundTrip(_ o: SynthOptions, chunkRows: Int = 2_000, gzip: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        var csv: [UInt8] = []
        _ = try Synth.generate(o) { csv.append(contentsOf: $0) }
        let dir = tempDir(self)
        let input = gzip ? gzipBytes(csv, dir: dir) : csv
        let r = try convertBytes(input, root: dir + "/out", dataset: o.dataset, date: o.date.description, chunkRows: chunkRows)
        let f = try FFCFile(path: r.output)
        try f.verify()
        let want = sortedRef(referenceRows(csv))
        XCTAssertEqual(want.count, o.rows, file: file, line: line)
        let got = try readAll(f)
        XCTAssertEqual(got.count, want.count, "\(o.dataset) row count", file: file, line: line)
        if let i = (0..<min(got.count, want.count)).first(where: { got[$0] != want[$0] }) {
            XCTFail("\(o.dataset): row \(i) differs: \(got[i]) vs \(want[i])", file: file, line: line)
        }
        XCTAssertEqual(f.provenance("input_sorted"), o.shuffle ? "false" : "true", file: file, line: line)
        XCTAssertEqual(f.provenance("window_start_outside_date"), "0", file: file, line: line)
        XCTAssertEqual(f.dataset, o.dataset.rawValue)
        XCTAssertEqual(f.date, o.date)
        // Every ticker is found by lookup, with exactly its rows.
        var byTicker: [[UInt8]: Int] = [:]
        for row in want { byTicker[row.ticker, default: 0] += 1 }
        for (t, n) in byTicker.prefix(300) {
            let b = try XCTUnwrap(f.bars(ticker: String(decoding: t, as: UTF8.self)), file: file, line: line)
            XCTAssertEqual(b.count, n, file: file, line: line)
        }
    }

    let date = TradingDate("2025-09-29")!

    func testStocksDay() throws { try roundTrip(SynthOptions(dataset: .stocksDay, date: date, rows: 11_000)) }
    func testStocksMinute() throws { try roundTrip(SynthOptions(dataset: .stocksMinute, date: date, rows: 60_000)) }
    func testOptionsDay() throws { try roundTrip(SynthOptions(dataset: .optionsDay, date: date, rows: 40_000)) }
    func testOptionsMinute() throws { try roundTrip(SynthOptions(dataset: .optionsMinute, date: date, rows: 80_000)) }

    func testUnsortedFractionalExponentCRLF() throws {
        try roundTrip(SynthOptions(dataset: .optionsMinute, date: date, rows: 50_000, seed: 7, fractionalVolume: true,
                                   exponentNotation: true, shuffle: true, crlf: true))
        try roundTrip(SynthOptions(dataset: .stocksMinute, date: date, rows: 50_000, seed: 8, fractionalVolume: true,
                                   exponentNotation: true, shuffle: true), gzip: false)
    }

    /// DST dates: minute bars on both sides of the March and November switches.
    func testDSTDates() throws {
        for d in ["2025-03-07", "2025-03-10", "2025-10-31", "2025-11-03"] {
            try roundTrip(SynthOptions(dataset: .stocksMinute, date: TradingDate(d)!, rows: 20_000))
        }
    }
}
