import XCTest
@testable import FFCol
import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// Options chains against rows parsed straight from the generated CSV, symbols parsed by hand.
final class OptionChainTests: XCTestCase {
    var root = ""
    let day = TradingDate("2025-09-29")!
    var src: [CSVRow] = []

    override func setUpWithError() throws {
        var template = Array("/tmp/ffcol-chain-XXXXXX".utf8CString)
        root = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        var csv: [UInt8] = []
        _ = try Synth.generate(SynthOptions(dataset: .optionsMinute, date: day, rows: 40_000, seed: 3)) { csv.append(contentsOf: $0) }
        src = CSVRow.parse(csv)
        var o = ConvertOptions(outRoot: root)
        o.dataset = .optionsMinute
        o.date = day
        o.targetChunkRows = 2_000
        _ = try Converter.convert(source: MemorySource(csv, name: "\(day)"), options: o)
    }
    override func tearDown() { _ = system("rm -rf '\(root)'") }

    /// Root, expiry text (YYMMDD), call?, strike thousandths: by slicing the text.
    func parts(_ t: String) -> (root: String, expiry: String, call: Bool, strike: Int64) {
        let s = Array(t)
        let n = s.count
        return (String(s[2..<n - 15]), String(s[n - 15..<n - 9]), s[n - 9] == "C", Int64(String(s[n - 8..<n]))!)
    }

    /// Contracts of `root` passing `keep`, each with its rows in time order, in byte order of symbol.
    func reference(_ root: String, _ keep: (String, Bool, Int64) -> Bool = { _, _, _ in true }) -> [(String, [CSVRow])] {
        var by: [String: [CSVRow]] = [:]
        for r in src where r.ticker.hasPrefix("O:") {
            let p = parts(r.ticker)
            if p.root == root && keep(p.expiry, p.call, p.strike) { by[r.ticker, default: []].append(r) }
        }
        return by.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { k in
            (k, by[k]!.sorted { $0.windowStart < $1.windowStart })
        }
    }

    func check(_ chain: OptionChain, _ want: [(String, [CSVRow])], _ msg: String) {
        XCTAssertEqual(chain.contracts.map(\.ticker), want.map(\.0), msg)
        for (c, w) in zip(chain.contracts, want) {
            let p = parts(w.0)
            XCTAssertEqual(c.root, p.root)
            XCTAssertEqual(c.type, p.call ? .call : .put)
            XCTAssertEqual(c.strikeThousandths, p.strike)
            XCTAssertEqual("\(c.expiry)", "20\(p.expiry.prefix(2))-\(p.expiry.dropFirst(2).prefix(2))-\(p.expiry.suffix(2))")
            XCTAssertEqual(Array(c.bars), w.1.map(\.bar), w.0)
        }
    }

    func testRootWithADigit() throws {
        let store = Store(root: root)
        let want = reference("AAPL1")
        XCTAssertFalse(want.isEmpty, "the generated day has AAPL1 contracts")
        let chain = try XCTUnwrap(store.chain(underlying: "AAPL1", date: day))
        check(chain, want, "AAPL1")
        let aapl = try XCTUnwrap(store.chain(underlying: "AAPL", date: day))
        check(aapl, reference("AAPL"), "AAPL")
        XCTAssertFalse(aapl.contracts.contains { $0.root == "AAPL1" })
        XCTAssertNil(try store.chain(underlying: "AAPL", date: TradingDate("2025-09-30")!))
        XCTAssertTrue(try store.chain(underlying: "NOSUCH", date: day)!.contracts.isEmpty)
    }

    func testFilters() throws {
        let store = Store(root: root)
        let all = reference("SPY")
        XCTAssertGreaterThan(all.count, 20)
        let expiries = Set(all.map { parts($0.0).expiry }).sorted()
        let strikes = all.map { parts($0.0).strike }.sorted()
        let e0 = expiries[expiries.count / 3], e1 = expiries[(2 * expiries.count) / 3]
        let s0 = strikes[strikes.count / 4], s1 = strikes[(3 * strikes.count) / 4]
        func date(_ yymmdd: String) -> TradingDate {
            TradingDate(year: 2000 + Int(yymmdd.prefix(2))!, month: Int(yymmdd.dropFirst(2).prefix(2))!, day: Int(yymmdd.suffix(2))!)!
        }
        for type in [nil, OptionType.call, .put] {
            let f = ChainFilter(expiryFrom: date(e0), expiryTo: date(e1), strikeMinThousandths: s0, strikeMaxThousandths: s1, type: type)
            let want = reference("SPY") { e, call, k in
                e >= e0 && e <= e1 && k >= s0 && k <= s1 && (type == nil || (type == .call) == call)
            }
            XCTAssertFalse(want.isEmpty)
            let chain = try XCTUnwrap(store.chain(underlying: "SPY", date: day, filter: f))
            check(chain, want, "SPY \(String(describing: type))")
            XCTAssertEqual(try store.chain(underlying: "SPY", date: day)!.filtered(f).contracts.map(\.ticker), want.map(\.0))
        }
        // One exact strike.
        let one = ChainFilter(strikeMinThousandths: s0, strikeMaxThousandths: s0)
        check(try store.chain(underlying: "SPY", date: day, filter: one)!, reference("SPY") { _, _, k in k == s0 }, "strike")
    }

    func testChainAsOf() throws {
        let store = Store(root: root)
        let all = reference("SPY")
        let times = all.flatMap { $0.1.map(\.windowStart) }.sorted()
        let chain = try XCTUnwrap(store.chain(underlying: "SPY", date: day))
        for t in [times.first! - 1, times.first!, times[times.count / 2], times[times.count / 2] + 30_000_000_000, times.last!] {
            let want = all.compactMap { c -> (String, Bar)? in
                c.1.last { $0.windowStart <= t }.map { (c.0, $0.bar) }
            }
            let got = chain.asOf(t)
            XCTAssertEqual(got.map(\.contract.ticker), want.map(\.0), "t \(t)")
            XCTAssertEqual(got.map(\.bar), want.map(\.1), "t \(t)")
        }
        XCTAssertTrue(chain.asOf(times.first! - 1).isEmpty)
    }

    func testStrikeText() {
        XCTAssertEqual(ChainFilter.strikeThousandths("600"), 600_000)
        XCTAssertEqual(ChainFilter.strikeThousandths("172.5"), 172_500)
        XCTAssertEqual(ChainFilter.strikeThousandths("0.125"), 125)
        XCTAssertEqual(ChainFilter.strikeThousandths("12."), 12_000)
        XCTAssertNil(ChainFilter.strikeThousandths("1.0005"))
        XCTAssertNil(ChainFilter.strikeThousandths("-5"))
        XCTAssertNil(ChainFilter.strikeThousandths(""))
        XCTAssertNil(ChainFilter.strikeThousandths("1.2.3"))
    }
}
