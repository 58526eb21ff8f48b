import FFCol

// A deterministic generator of realistic Polygon/Massive aggregate flat files (CSV), for tests
// and benchmarks of the converter without downloading anything.
//
// Determinism: the output depends only on `SynthOptions`. All randomness comes from
// xoshiro256** streams seeded from `seed`, and all floating-point work uses only IEEE basic
// operations (+ - * / and square root; `DetMath` supplies exp and log built from them), so a
// given option set produces byte-identical files on every platform and build.
//
// Variants: `shuffle` and `crlf` change only the order of rows and the line endings;
// `exponentNotation` changes only how some prices are spelled (same values); `fractionalVolume`
// changes only some volumes. Everything else is identical to the plain file with the same seed.

// MARK: - Options, summary, errors

/// What to generate.
public struct SynthOptions: Sendable, Equatable {
    public var dataset: Dataset
    /// The session date; timestamps are derived from it (America/New_York).
    public var date: TradingDate
    /// The exact number of data rows (the header is not counted).
    public var rows: Int
    /// The PRNG seed: the same options always produce byte-identical output.
    public var seed: UInt64
    /// Some volumes fractional (`12.5`, `0.25`) and a few integral ones spelled `100.0`.
    /// With it, a fractional volume below 1 can have `transactions` = 1.
    public var fractionalVolume: Bool
    /// A few prices spelled in exponent notation (`1e-04`, `1.5e-02`, `2.5E+01`), same values.
    public var exponentNotation: Bool
    /// Rows NOT in (ticker, window_start) order: some adjacent tickers swapped, some tickers'
    /// bars in reverse time order. Same rows as the unshuffled file.
    public var shuffle: Bool
    /// CRLF line endings (header included).
    public var crlf: Bool

    /// `rows` nil means the realistic size for the dataset (`defaultRows(for:)`).
    public init(dataset: Dataset = .optionsMinute, date: TradingDate, rows: Int? = nil, seed: UInt64 = 42,
                fractionalVolume: Bool = false, exponentNotation: Bool = false,
                shuffle: Bool = false, crlf: Bool = false) {
        self.dataset = dataset
        self.date = date
        self.rows = rows ?? SynthOptions.defaultRows(for: dataset)
        self.seed = seed
        self.fractionalVolume = fractionalVolume
        self.exponentNotation = exponentNotation
        self.shuffle = shuffle
        self.crlf = crlf
    }

    /// The size of a typical recent trading day: 5.5M rows for options minute, 4M stocks minute,
    /// 1M options day, 11,000 stocks day.
    public static func defaultRows(for dataset: Dataset) -> Int {
        switch dataset {
        case .optionsMinute: return 5_500_000
        case .stocksMinute: return 4_000_000
        case .optionsDay: return 1_000_000
        case .stocksDay: return 11_000
        }
    }

    /// The largest accepted `rows` for the dataset (bounded by the space of ticker names).
    public static func maxRows(for dataset: Dataset) -> Int {
        switch dataset {
        case .stocksDay: return 2_000_000
        case .stocksMinute: return 500_000_000
        case .optionsDay, .optionsMinute: return 500_000_000
        }
    }

    /// Throws `SynthError` if the options cannot be generated.
    public func validate() throws {
        if rows < 0 { throw SynthError("rows must be >= 0, got \(rows)") }
        let maxRows = SynthOptions.maxRows(for: dataset)
        if rows > maxRows {
            throw SynthError("rows must be <= \(maxRows) for \(dataset.rawValue), got \(rows)")
        }
    }
}

/// What was generated.
public struct SynthSummary: Sendable, Equatable {
    /// Data rows written (the header is not counted).
    public var rows: Int
    /// Distinct tickers (stock symbols or option contracts).
    public var tickers: Int
    /// Bytes of CSV text, header and line endings included.
    public var csvBytes: Int64
    /// Bytes of the gzip file, when one was written.
    public var gzipBytes: Int64?

    public init(rows: Int, tickers: Int, csvBytes: Int64, gzipBytes: Int64? = nil) {
        self.rows = rows
        self.tickers = tickers
        self.csvBytes = csvBytes
        self.gzipBytes = gzipBytes
    }
}

public struct SynthError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Entry points

public enum Synth {
    /// The CSV header line (without line ending).
    public static let header = "ticker,volume,open,close,high,low,window_start,transactions"

    /// Streams the CSV text to `sink` in blocks of about 1 MiB (each block valid only during the
    /// call). Memory: one output buffer plus the plan of instruments (~60 bytes per ticker).
    public static func generate(_ o: SynthOptions,
                                into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> SynthSummary {
        try o.validate()
        let plan = o.dataset.isOptions ? Planner.options(o) : Planner.stocks(o)
        var emitter = Emitter(options: o, instruments: plan)
        defer { emitter.release() }
        return try emitter.run(sink)
    }

    /// Writes a gzip file (zlib level `level`, default 6) atomically at `path`.
    public static func writeGzip(_ o: SynthOptions, to path: String, level: Int32 = 6) throws -> SynthSummary {
        let gz = try GzipWriter(path: path, level: level)
        var summary = try generate(o) { try gz.write($0) }
        try gz.close()
        summary.gzipBytes = gz.bytesOut
        return summary
    }

    /// Writes a plain CSV file atomically at `path` (temporary, fsync, rename).
    public static func writeCSV(_ o: SynthOptions, to path: String) throws -> SynthSummary {
        let file = try AtomicFile(path: path)
        let summary = try generate(o) { try file.write($0) }
        try file.commit()
        return summary
    }

    /// Unix nanoseconds (UTC) of local time `minuteOfDay` (minutes after midnight) on `date` in
    /// America/New_York, with the US daylight-saving rules in force that year.
    public static func unixNanos(date: TradingDate, minuteOfDay: Int) -> Int64 {
        let offset = newYorkUTCOffsetHours(date: date, minuteOfDay: minuteOfDay)
        let seconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(minuteOfDay) * 60 - Int64(offset) * 3600
        return seconds * 1_000_000_000
    }

    /// The UTC offset of America/New_York in hours at local time `minuteOfDay` on `date`:
    /// -4 (EDT) or -5 (EST). Since 2007 DST runs from 02:00 on the second Sunday of March to
    /// 02:00 on the first Sunday of November; 1987-2006 first Sunday of April to last Sunday of
    /// October; before, last Sunday of April to last Sunday of October (1974: Jan 6, 1975: Feb 23).
    /// The repeated hour 01:00-02:00 on the last day is taken as EDT.
    public static func newYorkUTCOffsetHours(date: TradingDate, minuteOfDay: Int) -> Int {
        let y = date.year
        let start: TradingDate
        let end: TradingDate
        if y >= 2007 {
            start = nthSunday(y, 3, 2)
            end = nthSunday(y, 11, 1)
        } else if y >= 1987 {
            start = nthSunday(y, 4, 1)
            end = lastSunday(y, 10)
        } else {
            start = y == 1974 ? TradingDate(year: 1974, month: 1, day: 6)!
                : y == 1975 ? TradingDate(year: 1975, month: 2, day: 23)! : lastSunday(y, 4)
            end = lastSunday(y, 10)
        }
        let dst: Bool
        if date == start { dst = minuteOfDay >= 120 }
        else if date == end { dst = minuteOfDay < 120 }
        else { dst = start < date && date < end }
        return dst ? -4 : -5
    }

    static func nthSunday(_ year: Int, _ month: Int, _ n: Int) -> TradingDate {
        let first = TradingDate(year: year, month: month, day: 1)!
        let day = 1 + (7 - first.weekday) % 7 + 7 * (n - 1)
        return TradingDate(year: year, month: month, day: day)!
    }

    static func lastSunday(_ year: Int, _ month: Int) -> TradingDate {
        let last = TradingDate(year: year, month: month, day: TradingDate.daysIn(month: month, year: year))!
        return last.adding(days: -last.weekday)
    }

    /// The first local minute and the number of minutes of the minute-bar session:
    /// stocks 04:00-20:00 ET (960), options 09:30-16:00 ET (390).
    static func session(_ d: Dataset) -> (start: Int, minutes: Int) {
        d.isOptions ? (9 * 60 + 30, 390) : (4 * 60, 960)
    }
}

// MARK: - Deterministic randomness and math

/// SplitMix64, used to seed xoshiro and to hash.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    static func mix(_ x: UInt64) -> UInt64 {
        var s = SplitMix64(state: x)
        return s.next()
    }
}

/// xoshiro256** (Blackman and Vigna).
struct Xoshiro {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inline(__always) mutating func next() -> UInt64 {
        let result = Xoshiro.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Xoshiro.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always) mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    /// Uniform in (0, 1).
    @inline(__always) mutating func open01() -> Double { (Double(next() >> 11) + 0.5) * 0x1.0p-53 }
    /// Uniform integer in 0..<n (n > 0).
    @inline(__always) mutating func below(_ n: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
    }
    @inline(__always) mutating func chance(_ p: Double) -> Bool { uniform() < p }
    /// Approximately standard normal (Irwin-Hall of 4 uniforms, range +-3.46): cheap, basic ops.
    @inline(__always) mutating func quickNormal() -> Double {
        (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7320508075688772
    }
    /// Standard normal (Marsaglia polar method).
    mutating func normal() -> Double {
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * DetMath.log(s) / s).squareRoot() }
        }
    }
    /// Pareto with minimum 1 and tail index `alpha`.
    mutating func pareto(_ alpha: Double) -> Double { DetMath.exp(-DetMath.log(open01()) / alpha) }
    /// Log-uniform in [lo, hi].
    mutating func logUniform(_ lo: Double, _ hi: Double) -> Double {
        DetMath.exp(DetMath.log(lo) + uniform() * (DetMath.log(hi) - DetMath.log(lo)))
    }
}

/// exp, log and the normal CDF from IEEE basic operations only, so results are identical on
/// every platform (libm implementations may differ in the last bit).
enum DetMath {
    static let ln2 = 0.6931471805599453

    /// 1/k! for k = 0...13 (Taylor coefficients of exp on |r| <= ln2/2; truncation < 1e-17).
    static let expCoefficients: [Double] = {
        var c = [1.0]
        for k in 1...13 { c.append(c[k - 1] / Double(k)) }
        return c
    }()

    /// 1/(2k+1) for the atanh series of log.
    static let oddReciprocals: [Double] = (0..<13).map { 1 / Double(2 * $0 + 1) }

    static func exp(_ x: Double) -> Double {
        if x > 709 { return .infinity }
        if x < -745 { return 0 }
        let k = (x / ln2).rounded()
        let r = x - k * ln2
        var p = expCoefficients[13]
        for i in stride(from: 12, through: 0, by: -1) { p = p * r + expCoefficients[i] }
        // Scale by 2^k in two steps so that subnormal results are handled.
        let k1 = Int(k) / 2, k2 = Int(k) - Int(k) / 2
        return p * Double(sign: .plus, exponent: k1, significand: 1) * Double(sign: .plus, exponent: k2, significand: 1)
    }

    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "DetMath.log of \(x)")
        var m = x.significand            // [1, 2)
        var e = Double(x.exponent)
        if m > 1.4142135623730951 { m = m / 2; e += 1 }
        let s = (m - 1) / (m + 1)         // |s| < 0.1716, s^2 < 0.0295
        let s2 = s * s
        var p = oddReciprocals[12]
        for i in stride(from: 11, through: 0, by: -1) { p = p * s2 + oddReciprocals[i] }
        return 2 * s * p + e * ln2
    }

    /// Standard normal CDF (Abramowitz-Stegun 26.2.17, error < 7.5e-8).
    static func phi(_ x: Double) -> Double {
        let ax = x < 0 ? -x : x
        let t = 1 / (1 + 0.2316419 * ax)
        let poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))))
        let tail = 0.3989422804014327 * exp(-ax * ax / 2) * poly
        return x >= 0 ? 1 - tail : tail
    }

    /// Black-Scholes price with zero rates.
    static func blackScholes(spot: Double, strike: Double, years: Double, vol: Double, call: Bool) -> Double {
        let sd = vol * years.squareRoot()
        let d1 = (log(spot / strike) + 0.5 * sd * sd) / sd
        let d2 = d1 - sd
        return call ? spot * phi(d1) - strike * phi(d2) : strike * phi(-d2) - spot * phi(-d1)
    }
}

// MARK: - Symbols

/// A ticker of up to 24 bytes, packed big-endian into three words (zero padded), so that
/// comparing keys compares the tickers in byte order.
struct SymbolKey: Hashable, Comparable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0
    var count: Int = 0

    init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        precondition(bytes.count <= 24, "symbol too long")
        for b in bytes { append(b) }
    }

    init(_ s: String) { self.init(Array(s.utf8)) }

    mutating func append(_ b: UInt8) {
        let shift = UInt64(56 - 8 * (count % 8))
        switch count / 8 {
        case 0: w0 |= UInt64(b) << shift
        case 1: w1 |= UInt64(b) << shift
        default: w2 |= UInt64(b) << shift
        }
        count += 1
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 {
        let w = i < 8 ? w0 : i < 16 ? w1 : w2
        return UInt8(truncatingIfNeeded: w >> UInt64(56 - 8 * (i % 8)))
    }

    var string: String { String(decoding: (0..<count).map { byte($0) }, as: UTF8.self) }

    var hash64: UInt64 {
        SplitMix64.mix(w0 ^ SplitMix64.mix(w1 ^ SplitMix64.mix(w2 ^ UInt64(count))))
    }

    static func < (a: SymbolKey, b: SymbolKey) -> Bool {
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        return a.w2 < b.w2
    }
}

// MARK: - Plan

/// One ticker of the file and the parameters of its bars.
struct Instrument {
    var key: SymbolKey
    /// Number of rows of this ticker.
    var bars: Int32
    /// Starting price, dollars.
    var price: Double
    /// Mean trades per bar at full session activity.
    var activity: Float
    /// Relative price standard deviation per minute bar.
    var sigma: Float
    /// Mean trade size (shares or contracts).
    var tradeSize: Float
}

enum Planner {
    static let uppercase = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    /// Integer counts in `minimum...caps[i]`, roughly proportional to `weights`, summing exactly
    /// to `total` (water-filling: a common multiplier found by bisection, then the remainder one
    /// by one to the items that would grow next). Requires count * minimum <= total <= sum(caps).
    static func allocate(total: Int, weights: [Double], caps: [Int32], minimum: Int32 = 1) -> (counts: [Int32], scale: Double) {
        let n = weights.count
        precondition(n > 0 && n * Int(minimum) <= total)
        @inline(__always) func count(_ i: Int, _ lambda: Double) -> Int32 {
            let x = lambda * weights[i]
            if x >= Double(caps[i]) { return caps[i] }
            let c = Int32(x)
            return c < minimum ? minimum : c
        }
        func sum(_ lambda: Double) -> Int {
            var s = 0
            for i in 0..<n { s += Int(count(i, lambda)) }
            return s
        }
        var lo = 0.0, hi = 1.0
        while sum(hi) <= total {
            lo = hi
            hi *= 2
            if hi > 1e300 { break }
        }
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if mid <= lo || mid >= hi { break }
            if sum(mid) <= total { lo = mid } else { hi = mid }
        }
        var counts = (0..<n).map { count($0, lo) }
        var remainder = total - counts.reduce(0) { $0 + Int($1) }
        // First the items that grow between lo and hi, then anything below its cap.
        var i = 0
        while remainder > 0 && i < n {
            if count(i, hi) > counts[i] { counts[i] += 1; remainder -= 1 }
            i += 1
        }
        while remainder > 0 {
            var progressed = false
            for j in 0..<n where remainder > 0 && counts[j] < caps[j] {
                counts[j] += 1; remainder -= 1; progressed = true
            }
            precondition(progressed, "allocate: total exceeds capacity")
        }
        return (counts, lo)
    }

    // MARK: Stocks

    struct SpecialStock {
        let name: String, price: Double, barWeight: Double, activity: Double
    }

    /// Always present (in this priority order when there are fewer tickers than specials).
    static let specialStocks: [SpecialStock] = [
        .init(name: "AAPL", price: 254.3, barWeight: 1e12, activity: 700),
        .init(name: "SPY", price: 663.7, barWeight: 1e12, activity: 1000),
        .init(name: "QQQ", price: 598.7, barWeight: 1e12, activity: 800),
        .init(name: "MSFT", price: 514.6, barWeight: 1e12, activity: 450),
        .init(name: "TSLA", price: 443.2, barWeight: 1e12, activity: 1300),
        .init(name: "ZVZZT", price: 10.0, barWeight: 0.004, activity: 0.2),
        .init(name: "BRK.A", price: 735_100, barWeight: 2, activity: 0.5),
        .init(name: "BRK.B", price: 490.2, barWeight: 50, activity: 60),
        .init(name: "ADSw", price: 0.0213, barWeight: 0.01, activity: 0.3),
        .init(name: "MTBpC.CL", price: 25.12, barWeight: 0.02, activity: 0.3),
        .init(name: "FTV.WD", price: 52.4, barWeight: 0.3, activity: 1),
        .init(name: "ABRpD", price: 18.55, barWeight: 0.05, activity: 0.4),
        .init(name: "ABRPD", price: 4.21, barWeight: 0.02, activity: 0.3),
    ]

    static func randomStockName(_ rng: inout Xoshiro) -> [UInt8] {
        let u = rng.uniform()
        let len = u < 0.005 ? 1 : u < 0.045 ? 2 : u < 0.35 ? 3 : u < 0.9 ? 4 : 5
        var name: [UInt8] = (0..<len).map { _ in uppercase[rng.below(26)] }
        if len >= 3 && len <= 4 && rng.chance(0.03) {
            let suffixes = ["w", "pA", "pB", "pC", "pD", ".U", ".WS", ".A", ".B", "pA.CL", ".WD", ".RT"]
            name += Array(suffixes[rng.below(suffixes.count)].utf8)
        }
        return name
    }

    static func stocks(_ o: SynthOptions) -> [Instrument] {
        let rows = o.rows
        guard rows > 0 else { return [] }
        var rng = Xoshiro(seed: o.seed ^ 0x5354_4F43_4B53_0001)
        let minute = o.dataset.isMinute
        let n = minute ? max(rows / 360, min(rows, 20), (rows + 959) / 960) : rows

        var keys: [SymbolKey] = []
        keys.reserveCapacity(n)
        var seen = Set<SymbolKey>()
        for s in specialStocks.prefix(n) {
            let k = SymbolKey(s.name)
            keys.append(k); seen.insert(k)
        }
        while keys.count < n {
            let k = SymbolKey(randomStockName(&rng))
            if seen.insert(k).inserted { keys.append(k) }
        }
        seen = []

        var instruments: [Instrument] = []
        instruments.reserveCapacity(n)
        var weights: [Double] = []
        weights.reserveCapacity(n)
        for (i, k) in keys.enumerated() {
            let special: SpecialStock? = i < specialStocks.count ? specialStocks[i] : nil
            let price = special?.price ?? rng.logUniform(0.05, 2000)
            let weight = special?.barWeight ?? DetMath.exp(1.6 * rng.normal())
            let sigma = (price < 1 ? 0.006 : price < 20 ? 0.0025 : 0.0009) * (0.5 + rng.uniform())
            let tradeSize = min(20_000, 100 * DetMath.exp(0.4 * DetMath.log(50 / price))) * (0.5 + rng.uniform())
            weights.append(weight)
            instruments.append(Instrument(key: k, bars: 1, price: price,
                                          activity: Float(special?.activity ?? 0),
                                          sigma: Float(sigma), tradeSize: Float(max(1, tradeSize))))
        }

        if minute {
            let (counts, scale) = allocate(total: rows, weights: weights, caps: Array(repeating: 960, count: n))
            for i in 0..<n {
                instruments[i].bars = counts[i]
                if i >= specialStocks.count {
                    // Expected bars if uncapped -> trades per active minute.
                    let x = scale * weights[i]
                    instruments[i].activity = Float(min(600, max(0.25, 5 * DetMath.exp(2 * DetMath.log(max(x, 1e-3) / 300)))))
                }
            }
        } else {
            for i in specialStocks.count..<max(n, specialStocks.count) where i < n {
                instruments[i].activity = Float(min(600, 0.05 * weights[i]))
            }
        }
        instruments.sort { $0.key < $1.key }
        return instruments
    }

    // MARK: Options

    struct Root {
        var name: [UInt8]
        var spot: Double
        var vol: Double
        /// Contract-count weight.
        var weight: Double
        /// Scales the number of bars of its contracts.
        var activity: Double
        var expiries: [TradingDate]
        /// Strikes in thousandths of a dollar: first and step; `strikes` of them.
        var strikeMin: Int
        var strikeStep: Int
        var strikes: Int
        var capacity: Int { expiries.count * strikes * 2 }
    }

    enum ExpiryStyle { case daily, weekly, monthly }

    struct SpecialRoot {
        let name: String, spot: Double, vol: Double, weight: Double, activity: Double, style: ExpiryStyle, step: Int
    }

    /// Always present (in this priority order when there are fewer contracts than roots).
    static let specialRoots: [SpecialRoot] = [
        .init(name: "SPY", spot: 663.7, vol: 0.14, weight: 250, activity: 40, style: .daily, step: 1000),
        .init(name: "SPXW", spot: 6661.2, vol: 0.14, weight: 400, activity: 25, style: .daily, step: 5000),
        .init(name: "QQQ", spot: 598.7, vol: 0.18, weight: 200, activity: 30, style: .daily, step: 1000),
        .init(name: "AAPL", spot: 254.3, vol: 0.28, weight: 120, activity: 30, style: .weekly, step: 2500),
        .init(name: "TSLA", spot: 443.2, vol: 0.6, weight: 150, activity: 35, style: .weekly, step: 2500),
        .init(name: "AAPL1", spot: 254.3, vol: 0.28, weight: 0.3, activity: 0.05, style: .monthly, step: 5000),
        .init(name: "F", spot: 11.62, vol: 0.3, weight: 25, activity: 3, style: .weekly, step: 500),
        .init(name: "NVDA", spot: 181.9, vol: 0.45, weight: 120, activity: 30, style: .weekly, step: 2500),
        .init(name: "IWM", spot: 242.6, vol: 0.2, weight: 80, activity: 15, style: .daily, step: 1000),
    ]

    /// Expiry dates on or after `date`, within a year: every weekday for two weeks (daily),
    /// Fridays for `weeks` weeks, and the third Friday of each month.
    static func expiries(from date: TradingDate, style: ExpiryStyle, weeks: Int, months: Int) -> [TradingDate] {
        var set = Set<Int>()
        let d0 = date.daysSinceEpoch
        if style == .daily {
            for i in 0..<14 {
                let d = TradingDate(daysSinceEpoch: d0 + i)
                if d.weekday >= 1 && d.weekday <= 5 { set.insert(d0 + i) }
            }
        }
        if style != .monthly {
            let toFriday = (5 - date.weekday + 7) % 7
            for w in 0..<weeks { set.insert(d0 + toFriday + 7 * w) }
        }
        var y = date.year, m = date.month
        for _ in 0...months {
            let first = TradingDate(year: y, month: m, day: 1)!
            let third = first.daysSinceEpoch + (5 - first.weekday + 7) % 7 + 14
            if third >= d0 && third - d0 <= 366 { set.insert(third) }
            m += 1
            if m > 12 { m = 1; y += 1 }
        }
        return set.sorted().filter { $0 - d0 <= 366 }.map { TradingDate(daysSinceEpoch: $0) }
    }

    static func makeRoot(name: [UInt8], spot: Double, vol: Double, weight: Double, activity: Double, style: ExpiryStyle,
                         step: Int?, date: TradingDate, rng: inout Xoshiro) -> Root {
        let weeks = style == .monthly ? 0 : style == .daily ? 10 : 4 + rng.below(5)
        let months = style == .monthly ? 4 + rng.below(6) : 12
        let exps = expiries(from: date, style: style, weeks: weeks, months: months)
        let stepK = step ?? (spot < 25 ? 500 : spot < 100 ? 1000 : spot < 250 ? 2500 : 5000)
        let lo = max(stepK, Int((spot * 0.5 * 1000 / Double(stepK)).rounded(.up)) * stepK)
        let hi = Int((spot * 1.6 * 1000 / Double(stepK)).rounded(.down)) * stepK
        let strikes = max(1, (hi - lo) / stepK + 1)
        return Root(name: name, spot: spot, vol: vol, weight: weight, activity: activity, expiries: exps,
                    strikeMin: lo, strikeStep: stepK, strikes: strikes)
    }

    static func randomRootName(_ rng: inout Xoshiro) -> [UInt8] {
        let u = rng.uniform()
        let len = u < 0.005 ? 1 : u < 0.065 ? 2 : u < 0.41 ? 3 : u < 0.93 ? 4 : u < 0.995 ? 5 : 6
        var name: [UInt8] = (0..<len).map { _ in uppercase[rng.below(26)] }
        if len <= 5 && rng.chance(0.01) { name.append(UInt8(ascii: "1") + UInt8(rng.below(3))) }
        return name
    }

    static func options(_ o: SynthOptions) -> [Instrument] {
        let rows = o.rows
        guard rows > 0 else { return [] }
        let minute = o.dataset.isMinute
        let maxBars = Synth.session(o.dataset).minutes
        var rng = Xoshiro(seed: o.seed ^ 0x4F50_5449_4F4E_0001)
        let contracts = minute
            ? min(rows, max(Int((Double(rows) / 5.5).rounded()), (rows + maxBars - 1) / maxBars, min(rows, specialRoots.count)))
            : rows

        // Roots: the specials, then random ones until there are enough and they can hold the contracts.
        var roots: [Root] = []
        var seen = Set<[UInt8]>()
        for s in specialRoots.prefix(contracts) {
            roots.append(makeRoot(name: Array(s.name.utf8), spot: s.spot, vol: s.vol, weight: s.weight, activity: s.activity,
                                  style: s.style, step: s.step, date: o.date, rng: &rng))
            seen.insert(Array(s.name.utf8))
        }
        let wantRoots = min(contracts, max(roots.count, contracts / 180))
        var capacity = roots.reduce(0) { $0 + $1.capacity }
        while roots.count < wantRoots || capacity < contracts {
            let name = randomRootName(&rng)
            guard seen.insert(name).inserted else { continue }
            let w = min(120, 1 / rng.open01())
            let style: ExpiryStyle = w > 30 ? .weekly : .monthly
            let r = makeRoot(name: name, spot: rng.logUniform(2, 800), vol: 0.25 + 0.75 * rng.uniform(),
                             weight: w, activity: w.squareRoot(), style: style, step: nil, date: o.date, rng: &rng)
            roots.append(r)
            capacity += r.capacity
        }
        seen = []

        let perRoot = allocate(total: contracts, weights: roots.map(\.weight),
                               caps: roots.map { Int32(min($0.capacity, Int(Int32.max))) }).counts

        var instruments: [Instrument] = []
        instruments.reserveCapacity(contracts)
        var barWeights: [Double] = []
        barWeights.reserveCapacity(contracts)
        let d0 = o.date.daysSinceEpoch
        var picked = Set<Int>()
        for (ri, root) in roots.enumerated() {
            let m = Int(perRoot[ri])
            let space = root.capacity
            picked.removeAll(keepingCapacity: true)
            // A contract index: (expiry * strikes + strike) * 2 + put.
            if 10 * m > 9 * space {
                var need = m
                for idx in 0..<space where need > 0 {
                    if rng.below(space - idx) < need { picked.insert(idx); need -= 1 }
                }
            } else {
                // Near the money and near expiry first; each collision widens the strike
                // distribution a little, so a saturated centre spreads outwards gradually.
                var widen = 1.0
                while picked.count < m {
                    let idx: Int
                    if widen < 100 {
                        let u = rng.uniform()
                        let e = min(root.expiries.count - 1, Int(Double(root.expiries.count) * u * u))
                        let days = Double(root.expiries[e].daysSinceEpoch - d0)
                        let width = (0.025 + 0.3 * root.vol * (days / 365).squareRoot()) * widen
                        let k = root.spot * 1000 * DetMath.exp(min(3, max(-3, width * rng.normal())))
                        let ki = min(root.strikes - 1, max(0, Int(((k - Double(root.strikeMin)) / Double(root.strikeStep)).rounded())))
                        idx = (e * root.strikes + ki) * 2 + rng.below(2)
                    } else {
                        idx = rng.below(space)
                    }
                    if !picked.insert(idx).inserted { widen *= 1.01 }
                }
            }
            for idx in picked.sorted() {
                let put = idx % 2 == 1
                let ki = (idx / 2) % root.strikes
                let e = (idx / 2) / root.strikes
                let exp = root.expiries[e]
                let strike = root.strikeMin + ki * root.strikeStep
                instruments.append(contract(root: root, expiry: exp, put: put, strike: strike,
                                            date: o.date, rng: &rng, weight: &barWeights))
            }
        }

        if minute {
            let (counts, scale) = allocate(total: rows, weights: barWeights,
                                           caps: Array(repeating: Int32(maxBars), count: instruments.count))
            for i in instruments.indices {
                instruments[i].bars = counts[i]
                let x = max(1e-3, scale * barWeights[i])
                instruments[i].activity = Float(min(300, max(0.05, 0.5 * DetMath.exp(1.3 * DetMath.log(x / 30)))))
            }
        } else {
            let total = barWeights.reduce(0, +)
            let mean = total / Double(max(1, barWeights.count))
            for i in instruments.indices {
                instruments[i].activity = Float(min(300, 0.02 * barWeights[i] / mean))
            }
        }
        instruments.sort { $0.key < $1.key }
        return instruments
    }

    static func contract(root: Root, expiry: TradingDate, put: Bool, strike: Int, date: TradingDate,
                         rng: inout Xoshiro, weight: inout [Double]) -> Instrument {
        var key = SymbolKey([UInt8(ascii: "O"), UInt8(ascii: ":")] + root.name)
        let yy = expiry.year % 100
        for v in [yy / 10, yy % 10, expiry.month / 10, expiry.month % 10, expiry.day / 10, expiry.day % 10] {
            key.append(UInt8(48 + v))
        }
        key.append(put ? UInt8(ascii: "P") : UInt8(ascii: "C"))
        var s = strike, digits = [UInt8](repeating: 48, count: 8)
        for i in stride(from: 7, through: 0, by: -1) { digits[i] = UInt8(48 + s % 10); s /= 10 }
        for d in digits { key.append(d) }

        let days = Double(expiry.daysSinceEpoch - date.daysSinceEpoch)
        let years = max(days, 0.3) / 365
        let k = Double(strike) / 1000
        let intrinsic = put ? max(0, k - root.spot) : max(0, root.spot - k)
        let fair = DetMath.blackScholes(spot: root.spot, strike: k, years: years, vol: root.vol, call: !put)
        let price = max(0.01, intrinsic, fair)
        let moneyness = DetMath.log(k / root.spot)
        let width = 0.02 + 0.25 * root.vol * years.squareRoot()
        let nearMoney = DetMath.exp(-moneyness * moneyness / (2 * width * width)) + 0.03
        let nearExpiry = 1 / (1 + days / 5).squareRoot()
        weight.append(root.activity * nearMoney * nearExpiry * rng.pareto(1.5))
        let sigma = min(0.08, 0.004 + 0.012 / max(0.05, price).squareRoot())
        return Instrument(key: key, bars: 1, price: price, activity: 0,
                          sigma: Float(sigma * (0.6 + 0.8 * rng.uniform())),
                          tradeSize: Float(1 + 3 * rng.uniform()))
    }
}

// MARK: - Output buffer

/// Appends ASCII to a fixed buffer (no bounds checks: callers keep a row's worth of slack).
struct CSVTextWriter {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    func release() { base.deallocate() }

    @inline(__always) mutating func byte(_ b: UInt8) {
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func bytes(_ p: UnsafePointer<UInt8>, _ n: Int) {
        (base + count).update(from: p, count: n)
        count += n
    }

    /// The symbol's bytes (stores all 24 bytes, advances by its length).
    @inline(__always) mutating func symbol(_ k: SymbolKey) {
        let p = UnsafeMutableRawPointer(base + count)
        p.storeBytes(of: k.w0.bigEndian, as: UInt64.self)
        (p + 8).storeBytes(of: k.w1.bigEndian, as: UInt64.self)
        (p + 16).storeBytes(of: k.w2.bigEndian, as: UInt64.self)
        count += k.count
    }

    @inline(__always) static func digitCount(_ v: UInt64) -> Int {
        var d = 1, t = v
        while t >= 10 { t /= 10; d += 1 }
        return d
    }

    @inline(__always) mutating func uint(_ v: UInt64) {
        let d = CSVTextWriter.digitCount(v)
        var i = count + d - 1
        var n = v
        repeat {
            base[i] = UInt8(truncatingIfNeeded: 48 &+ n % 10)
            n /= 10
            i -= 1
        } while n > 0
        count += d
    }

    /// `v` in exactly `width` digits with leading zeros.
    @inline(__always) mutating func padded(_ v: UInt64, _ width: Int) {
        var n = v
        var i = count + width - 1
        while i >= count {
            base[i] = UInt8(truncatingIfNeeded: 48 &+ n % 10)
            n /= 10
            i -= 1
        }
        count += width
    }

    static let pow10: [UInt64] = (0...18).map { e in (0..<e).reduce(UInt64(1)) { v, _ in v * 10 } }

    /// A fixed-point value `v / 10^scale` (v >= 0) in shortest form: `147.3`, `12`, `0.0125`.
    @inline(__always) mutating func decimal(_ v: UInt64, scale: Int) {
        let p = CSVTextWriter.pow10[scale]
        uint(v / p)
        var frac = v % p
        if frac != 0 {
            var digits = scale
            while frac % 10 == 0 { frac /= 10; digits -= 1 }
            byte(UInt8(ascii: "."))
            padded(frac, digits)
        }
    }

    /// `v / 10^scale` with exactly `decimals` (>= scale) decimals: `17.740000`.
    mutating func fixed(_ v: UInt64, scale: Int, decimals: Int) {
        let p = CSVTextWriter.pow10[scale]
        uint(v / p)
        byte(UInt8(ascii: "."))
        padded(v % p, scale)
        for _ in scale..<decimals { byte(48) }
    }

    /// `v / 10^scale` (v > 0) in C `%e` style with the shortest mantissa: `1e-04`, `2.5E+01`.
    mutating func exponent(_ v: UInt64, scale: Int, upper: Bool) {
        var mant = v, zeros = 0
        while mant % 10 == 0 { mant /= 10; zeros += 1 }
        let nd = CSVTextWriter.digitCount(mant)
        let e = nd - 1 + zeros - scale
        let start = count
        uint(mant)
        if nd > 1 {
            // Insert the point after the first digit.
            var i = count
            while i > start + 1 { base[i] = base[i - 1]; i -= 1 }
            base[start + 1] = UInt8(ascii: ".")
            count += 1
        }
        byte(upper ? UInt8(ascii: "E") : UInt8(ascii: "e"))
        byte(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let ae = UInt64(e < 0 ? -e : e)
        if ae < 10 { byte(48) }
        uint(ae)
    }
}

// MARK: - Emitter

/// How a row's prices are spelled.
enum PriceStyle { case shortest, fixed6, fixed14 }

struct Emitter {
    let o: SynthOptions
    let instruments: [Instrument]
    /// Scratch for minute selection: the picked minutes and a bitset of the session.
    let minutes: UnsafeMutablePointer<Int16>
    let words: UnsafeMutablePointer<UInt64>
    /// Relative trading intensity of each session minute.
    let intensity: [Double]
    let sessionStartNanos: Int64
    let dayNanos: Int64
    let isOptions: Bool
    let isMinute: Bool
    let sessionMinutes: Int
    /// Regular-session minutes within the session (stocks: 09:30-16:00 inside 04:00-20:00).
    let regular: Range<Int>
    let blockSize = 1 << 20
    var csvBytes: Int64 = 0
    var rows = 0

    static let fractions: [UInt64] = [50, 25, 75, 10, 20, 5]

    init(options: SynthOptions, instruments: [Instrument]) {
        o = options
        self.instruments = instruments
        isOptions = options.dataset.isOptions
        isMinute = options.dataset.isMinute
        let session = Synth.session(options.dataset)
        sessionMinutes = session.minutes
        let regular = isOptions ? 0..<390 : 330..<720
        self.regular = regular
        sessionStartNanos = Synth.unixNanos(date: options.date, minuteOfDay: session.start)
        dayNanos = Synth.unixNanos(date: options.date, minuteOfDay: 0)
        minutes = .allocate(capacity: 1024)
        words = .allocate(capacity: 16)
        intensity = (0..<session.minutes).map { m -> Double in
            if !regular.contains(m) {
                // Extended hours: busier just before the open and just after the close.
                if m >= regular.lowerBound - 90 && m < regular.lowerBound { return 0.12 }
                if m >= regular.upperBound && m < regular.upperBound + 60 { return 0.15 }
                return 0.03
            }
            let a = Double(m - regular.lowerBound), b = Double(regular.upperBound - 1 - m)
            return 0.7 + 1.6 * DetMath.exp(-a / 15) + 1.2 * DetMath.exp(-b / 20)
        }
    }

    func release() {
        minutes.deallocate()
        words.deallocate()
    }

    mutating func flush(_ w: inout CSVTextWriter, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard w.count > 0 else { return }
        try sink(UnsafeRawBufferPointer(start: w.base, count: w.count))
        csvBytes += Int64(w.count)
        w.count = 0
    }

    mutating func run(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> SynthSummary {
        var out = CSVTextWriter(capacity: blockSize + 64 * 1024)
        defer { out.release() }
        for b in Synth.header.utf8 { out.byte(b) }
        if o.crlf { out.byte(13) }
        out.byte(10)

        // Emission order: ticker order, or with `shuffle` some adjacent tickers swapped and some
        // tickers reversed (decided by a separate stream so the rows themselves do not change).
        let n = instruments.count
        var order = Array(0..<n)
        var reversed = [Bool](repeating: false, count: o.shuffle ? n : 0)
        if o.shuffle && n > 0 {
            var srng = Xoshiro(seed: o.seed ^ 0x5348_5546_464C_4521)
            var i = 0
            while i + 1 < n {
                if i == 0 || srng.chance(0.03) {
                    order.swapAt(i, i + 1)
                    i += 2
                } else {
                    i += 1
                }
            }
            for j in 0..<n where srng.chance(0.05) { reversed[j] = true }
            if n == 1 { reversed[0] = true }
        }

        // A reversed ticker's rows are built in `scratch` and copied line by line backwards.
        var scratch = CSVTextWriter(capacity: o.shuffle ? 1024 * 1024 : 0)
        defer { scratch.release() }
        var lineStarts: [Int] = []
        lineStarts.reserveCapacity(o.shuffle ? 1024 : 0)
        for idx in order {
            let inst = instruments[idx]
            if o.shuffle && reversed[idx] && inst.bars > 1 {
                scratch.count = 0
                lineStarts.removeAll(keepingCapacity: true)
                try emitRows(inst, into: &scratch, lineStarts: &lineStarts, record: true, sink: { _ in })
                lineStarts.append(scratch.count)
                for l in stride(from: lineStarts.count - 2, through: 0, by: -1) {
                    out.bytes(scratch.base + lineStarts[l], lineStarts[l + 1] - lineStarts[l])
                    if out.count >= blockSize { try flush(&out, sink) }
                }
            } else {
                try emitRows(inst, into: &out, lineStarts: &lineStarts, record: false, sink: sink)
            }
        }
        try flush(&out, sink)
        return SynthSummary(rows: rows, tickers: n, csvBytes: csvBytes)
    }

    /// Picks `k` distinct minutes of the session into `minutes` (ascending). Stocks prefer the
    /// regular session for sparse tickers; a dense ticker misses mostly extended-hours minutes.
    func pickMinutes(_ k: Int, _ rng: inout Xoshiro) -> Int {
        let m = sessionMinutes
        let nw = (m + 63) / 64
        let prefer = !isOptions
        let regLo = regular.lowerBound, regCount = regular.count
        let words = self.words
        @inline(__always) func isSet(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        @inline(__always) func flip(_ i: Int) { words[i >> 6] ^= (1 << UInt64(i & 63)) }
        if 2 * k <= m {
            for i in 0..<nw { words[i] = 0 }
            var set = 0
            while set < k {
                let i = prefer && rng.chance(0.85) ? regLo + rng.below(regCount) : rng.below(m)
                if !isSet(i) { flip(i); set += 1 }
            }
        } else {
            for i in 0..<nw { words[i] = ~0 }
            if m % 64 != 0 { words[nw - 1] = (1 << UInt64(m % 64)) - 1 }
            var cleared = 0
            while cleared < m - k {
                let i: Int
                if prefer && rng.chance(0.9) {
                    let r = rng.below(m - regCount)
                    i = r < regLo ? r : r + regCount
                } else {
                    i = rng.below(m)
                }
                if isSet(i) { flip(i); cleared += 1 }
            }
        }
        var c = 0
        for wi in 0..<nw {
            var w = words[wi]
            while w != 0 {
                minutes[c] = Int16(wi * 64 + w.trailingZeroBitCount)
                c += 1
                w &= w - 1
            }
        }
        return c
    }

    /// The price tick in units of $0.0001: stocks under $1 trade in $0.0001, all else in cents.
    @inline(__always) func tick(_ p: Double) -> Int64 { (!isOptions && p < 1) ? 1 : 100 }

    /// `p` dollars rounded to the tick, in units of $0.0001, at least one tick.
    @inline(__always) func quantize(_ p: Double) -> Int64 {
        let unit = tick(p)
        let q = Int64((p * 10_000 / Double(unit)).rounded()) * unit
        return max(unit, q)
    }

    /// The rows of one ticker into `w`. Unless `record`, flushes `w` to `sink` whenever a block
    /// is full; with `record`, appends the offset of each line to `lineStarts` and never flushes.
    mutating func emitRows(_ inst: Instrument, into w: inout CSVTextWriter, lineStarts: inout [Int], record: Bool,
                           sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let seed = inst.key.hash64 ^ o.seed
        var rng = Xoshiro(seed: seed)
        // Variant decisions (fractional volume, exponent notation) come from their own stream,
        // so the variants leave everything else unchanged.
        var vrng = Xoshiro(seed: seed ^ 0x5641_5249_414E_5453)
        let count = isMinute ? pickMinutes(Int(inst.bars), &rng) : 1
        var p = inst.price
        let p0 = inst.price
        let sigma = Double(inst.sigma)
        let act = Double(inst.activity)
        let tradeSize = Double(inst.tradeSize)
        let key = inst.key
        let step = isMinute ? sigma : sigma * 15

        for b in 0..<count {
            let minute = isMinute ? Int(minutes[b]) : 0
            let ts = isMinute ? sessionStartNanos + Int64(minute) * 60_000_000_000 : dayNanos

            // Trades in the bar: heavy tailed around the ticker's activity at this minute.
            let level = isMinute ? act * intensity[minute] : act * 390
            let tradesD = level * 0.5 / rng.open01().squareRoot()
            let trades = tradesD >= 1_000_000 ? 1_000_000 : max(1, Int(tradesD))

            // Volume (integral, >= trades).
            var volume: Int
            if isOptions {
                var extra = 0.0
                if trades == 1 {
                    extra = rng.chance(0.5) ? 0 : (tradeSize - 1) / rng.open01()
                } else {
                    extra = Double(trades) * (tradeSize - 1) * (0.3 + 1.4 * rng.uniform())
                    if rng.chance(0.03) { extra += 10 * tradeSize / rng.open01() }
                }
                volume = trades + Int(min(extra, 1e7))
            } else if trades == 1 {
                let u = rng.uniform()
                volume = u < 0.35 ? 100 : u < 0.45 ? 100 * (2 + rng.below(4))
                    : 1 + Int(min(1e7, tradeSize * 0.5 * rng.open01() / rng.open01().squareRoot()))
            } else {
                var v = Double(trades) * tradeSize * (0.5 + rng.uniform())
                if rng.chance(0.02) { v += 20 * tradeSize / rng.open01() }
                volume = max(trades, Int(min(v, 1e12)))
            }

            // Prices: a random walk with mild mean reversion; single-trade bars are flat.
            var op = quantize(p)
            var c = op, h = op, l = op
            if trades > 1 {
                p = p * (1 + step * rng.quickNormal()) + (p0 - p) * 0.002
                if p < 0.0001 { p = 0.0001 }
                c = quantize(p)
                h = max(op, c)
                l = min(op, c)
                if trades > 2 {
                    let spread = step * p * 1.2
                    let unit = tick(p)
                    h += Int64((spread * rng.uniform() * rng.uniform() * 10_000 / Double(unit)).rounded()) * unit
                    let down = Int64((spread * rng.uniform() * rng.uniform() * 10_000 / Double(unit)).rounded()) * unit
                    if l - down >= unit { l -= down }
                }
            } else if rng.chance(0.3) {
                // A lone trade away from the last price.
                p = p * (1 + step * rng.quickNormal())
                if p < 0.0001 { p = 0.0001 }
                op = quantize(p)
                c = op; h = op; l = op
            }

            if record { lineStarts.append(w.count) }
            writeRow(&w, &vrng, &rng, key: key, volume: volume, trades: trades,
                     o: op, c: c, h: h, l: l, ts: ts)
            rows += 1
            if !record && w.count >= blockSize { try flush(&w, sink) }
        }
    }

    @inline(__always) func writePrice(_ w: inout CSVTextWriter, _ vrng: inout Xoshiro, _ v: Int64, _ style: PriceStyle) {
        w.byte(44)
        if o.exponentNotation && vrng.chance(0.01) {
            w.exponent(UInt64(v), scale: 4, upper: vrng.chance(0.25))
            return
        }
        switch style {
        case .shortest: w.decimal(UInt64(v), scale: 4)
        case .fixed6: w.fixed(UInt64(v), scale: 4, decimals: 6)
        case .fixed14: w.fixed(UInt64(v), scale: 4, decimals: 14)
        }
    }

    @inline(__always) func writeRow(_ w: inout CSVTextWriter, _ vrng: inout Xoshiro, _ rng: inout Xoshiro,
                                    key: SymbolKey, volume: Int, trades: Int,
                                    o op: Int64, c: Int64, h: Int64, l: Int64, ts: Int64) {
        w.symbol(key)
        w.byte(44)
        // Volume: with fractional volumes, some get a fraction (12.5, 0.25), a few are spelled `N.0`.
        if o.fractionalVolume {
            let u = vrng.uniform()
            if u < 0.04 {
                let f = Emitter.fractions[vrng.below(Emitter.fractions.count)]
                w.decimal(UInt64(volume - 1) * 100 + f, scale: 2)
            } else if u < 0.05 {
                w.uint(UInt64(volume)); w.byte(46); w.byte(48)
            } else {
                w.uint(UInt64(volume))
            }
        } else {
            w.uint(UInt64(volume))
        }
        // Prices: mostly shortest, a few percent of rows in fixed forms with trailing zeros.
        let u = rng.uniform()
        let style: PriceStyle = u < 0.03 ? .fixed6 : u < 0.035 ? .fixed14 : .shortest
        writePrice(&w, &vrng, op, style)
        writePrice(&w, &vrng, c, style)
        writePrice(&w, &vrng, h, style)
        writePrice(&w, &vrng, l, style)
        w.byte(44)
        w.uint(UInt64(ts))
        w.byte(44)
        w.uint(UInt64(trades))
        if o.crlf { w.byte(13) }
        w.byte(10)
    }
}
