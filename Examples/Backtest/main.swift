// A worked example of the reader library as a backtest's data layer.
//
// 1. Generates three weeks of small synthetic stocks minute files and one options minute
//    day (the same generator as `ffcol synth`) and converts them into a temporary root.
// 2. Runs a moving-average crossover on minute bars of several tickers, iterating the
//    universe in time order (one date at a time, no allocation per bar).
// 3. Reads an options chain: contracts of the nearest expiry around the money, as of noon.
//
// Run: swift run ffcol-example-backtest
import FFCol
import FFColConvert
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
    fputs("ffcol-example-backtest: \(message)\n", stderr)
    exit(1)
}

// MARK: Data

var template = Array("/tmp/ffcol-example-XXXXXX".utf8CString)
guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { fail("cannot make a temporary directory") }
let root = String(cString: made)
defer { _ = system("rm -rf '\(root)'") }

func convert(_ dataset: Dataset, _ date: TradingDate, rows: Int, seed: UInt64) throws {
    var csv: [UInt8] = []
    _ = try Synth.generate(SynthOptions(dataset: dataset, date: date, rows: rows, seed: seed)) { csv.append(contentsOf: $0) }
    var o = ConvertOptions(outRoot: root)
    o.dataset = dataset
    o.date = date
    _ = try Converter.convert(source: MemorySource(csv, name: "\(date)"), options: o)
}

let first = TradingDate(year: 2025, month: 9, day: 2)!
let last = TradingDate(year: 2025, month: 9, day: 22)!
var sessions: [TradingDate] = []
var d = first
while d <= last {
    if TradingCalendar.isSession(d) { sessions.append(d) }
    d = d.adding(days: 1)
}
do {
    for (k, day) in sessions.enumerated() { try convert(.stocksMinute, day, rows: 6_000, seed: UInt64(100 + k)) }
    try convert(.optionsMinute, last, rows: 30_000, seed: 7)
} catch { fail("generating data: \(error)") }
let store = Store(root: root)
print("data: \(sessions.count) stocks_minute days \(first)...\(last), options_minute \(last)")

// MARK: Moving-average crossover

/// Simple moving average over the last `n` values, in a fixed ring (no allocation per update).
struct SMA {
    var ring: [Double]
    var pos = 0, filled = 0
    var sum = 0.0
    init(_ n: Int) { ring = Array(repeating: 0, count: n) }
    var ready: Bool { filled == ring.count }
    var value: Double { sum / Double(ring.count) }
    mutating func add(_ x: Double) {
        sum += x - ring[pos]
        ring[pos] = x
        pos = (pos + 1) % ring.count
        filled = min(filled + 1, ring.count)
    }
}

/// One ticker's strategy state: long 100 shares while the fast average is above the slow one;
/// flat at the end of each day.
struct Book {
    var fast = SMA(10), slow = SMA(30)
    var shares = 0.0, cash = 0.0, lastClose = 0.0
    var trades = 0, wasAbove: Bool?
    mutating func newDay() {
        if shares != 0 { cash += shares * lastClose; shares = 0; trades += 1 }
        fast = SMA(10); slow = SMA(30); wasAbove = nil
    }
    mutating func on(_ bar: Bar) {
        lastClose = bar.close
        fast.add(bar.close); slow.add(bar.close)
        guard fast.ready && slow.ready else { return }
        let above = fast.value > slow.value
        if let was = wasAbove, was != above {
            if above && shares == 0 { shares = 100; cash -= 100 * bar.close; trades += 1 }
            if !above && shares > 0 { cash += shares * bar.close; shares = 0; trades += 1 }
        }
        wasAbove = above
    }
    var pnl: Double { cash + shares * lastClose }
}

let tickers = ["AAPL", "MSFT", "QQQ", "SPY", "TSLA"]
let universe = store.universe(tickers: tickers, dataset: .stocksMinute, from: first, to: last)
var books = Array(repeating: Book(), count: tickers.count)
var bars = 0
var day: TradingDate?
do {
    try universe.forEachBar { date, k, bar in
        if date != day {
            for i in books.indices { books[i].newDay() }
            day = date
        }
        books[k].on(bar)
        bars += 1
    }
} catch { fail("reading bars: \(error)") }
for i in books.indices { books[i].newDay() }  // flat at the end

print("backtest: \(tickers.count) tickers, \(universe.dates.count) days, \(bars) bars, MA(10) x MA(30), 100 shares")
for (t, b) in zip(tickers, books) {
    print("  \(t.padding(5)) trades \(String(b.trades).padding(4, left: true))  pnl \(money(b.pnl))")
}
print("total pnl: \(money(books.map(\.pnl).reduce(0, +)))  trades: \(books.map(\.trades).reduce(0, +))")

// The same bars another way: one ticker's whole range as contiguous columns.
do {
    var columns = 0
    for t in tickers {
        columns += try store.bars(ticker: t, dataset: .stocksMinute, from: first, to: last, columns: [.close]).loadColumns().close.count
    }
    print("check: \(columns == bars ? "ok" : "MISMATCH") (\(columns) rows as columns)")
} catch { fail("reading columns: \(error)") }

// MARK: An options chain

do {
    let spy = try store.bars(ticker: "SPY", dataset: .stocksMinute, from: last, to: last).loadColumns()
    guard spy.count > 0 else { fail("no SPY bars on \(last)") }
    let noon = Synth.unixNanos(date: last, minuteOfDay: 12 * 60)
    let atNoon = spy.windowStart.lastIndex { $0 <= noon } ?? 0
    let spot = spy.close[atNoon]
    let chain = try store.chain(underlying: "SPY", date: last)!
    guard let nearest = chain.expiries.first else { fail("no SPY contracts on \(last)") }
    let band = Int64(spot * 1000 * 0.01)
    let near = chain.filtered(ChainFilter(expiryFrom: nearest, expiryTo: nearest,
                                          strikeMinThousandths: Int64(spot * 1000) - band,
                                          strikeMaxThousandths: Int64(spot * 1000) + band))
    print("chain: SPY \(last): \(chain.contracts.count) contracts, \(chain.expiries.count) expiries; spot \(money(spot)) at noon")
    let quotes = near.asOf(noon)
    print("as of noon, expiry \(nearest), strikes within 1%: \(near.contracts.count) contracts, \(quotes.count) with a bar")
    for q in quotes.prefix(6) {
        let c = q.contract
        print("  \(c.type == .call ? "C" : "P") \(strikeText(c.strikeThousandths).padding(8, left: true))  close \(money(q.bar.close))")
    }
} catch { fail("reading the chain: \(error)") }

// MARK: Formatting

func money(_ x: Double) -> String {
    let cents = Int64((abs(x) * 100).rounded())
    let c = cents % 100
    return (x < 0 ? "-" : "") + "\(cents / 100)." + (c < 10 ? "0" : "") + "\(c)"
}

func strikeText(_ k: Int64) -> String {
    let f = k % 1000
    guard f != 0 else { return "\(k / 1000)" }
    var s = String(f)
    while s.count < 3 { s = "0" + s }
    while s.hasSuffix("0") { s.removeLast() }
    return "\(k / 1000).\(s)"
}

extension String {
    func padding(_ n: Int, left: Bool = false) -> String {
        count >= n ? self : left ? String(repeating: " ", count: n - count) + self : self + String(repeating: " ", count: n - count)
    }
}
