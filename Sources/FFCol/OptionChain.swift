// MARK: - Options chains

/// Call or put.
public enum OptionType: String, Sendable, CaseIterable {
    case call, put
}

/// Which contracts of a chain to keep. Every bound is inclusive; nil means unbounded.
/// Strikes are exact, in thousandths of a dollar (600 dollars is 600_000).
public struct ChainFilter: Sendable, Equatable {
    public var expiryFrom: TradingDate?
    public var expiryTo: TradingDate?
    public var strikeMinThousandths: Int64?
    public var strikeMaxThousandths: Int64?
    public var type: OptionType?

    public init(expiryFrom: TradingDate? = nil, expiryTo: TradingDate? = nil,
                strikeMinThousandths: Int64? = nil, strikeMaxThousandths: Int64? = nil, type: OptionType? = nil) {
        self.expiryFrom = expiryFrom; self.expiryTo = expiryTo
        self.strikeMinThousandths = strikeMinThousandths; self.strikeMaxThousandths = strikeMaxThousandths
        self.type = type
    }

    /// True when a parsed symbol passes every bound.
    public func matches(_ s: OCCSymbol) -> Bool {
        if let a = expiryFrom, s.expiry < a { return false }
        if let b = expiryTo, b < s.expiry { return false }
        if let lo = strikeMinThousandths, s.strikeThousandths < lo { return false }
        if let hi = strikeMaxThousandths, s.strikeThousandths > hi { return false }
        if let t = type, (t == .call) != s.isCall { return false }
        return true
    }

    /// A decimal strike in dollars (`600`, `172.5`, `0.125`) as exact thousandths, or nil if
    /// it is not a non-negative decimal with at most three places.
    public static func strikeThousandths(_ text: String) -> Int64? {
        var whole: Int64 = 0, frac: Int64 = 0, places = 0, seenDot = false, digits = 0
        for b in text.utf8 {
            if b == UInt8(ascii: ".") {
                if seenDot { return nil }
                seenDot = true
                continue
            }
            guard b >= 48, b <= 57 else { return nil }
            digits += 1
            if seenDot {
                places += 1
                if places > 3 { return nil }
                frac = frac * 10 + Int64(b - 48)
            } else {
                if whole > 99_999_999 { return nil }
                whole = whole * 10 + Int64(b - 48)
            }
        }
        guard digits > 0 else { return nil }
        while places < 3 { frac *= 10; places += 1 }
        return whole * 1000 + frac
    }
}

/// One option contract on one date: its parsed OCC symbol and its bars that day.
public struct OptionContract: Sendable {
    /// The OCC symbol, e.g. `O:SPY251017C00600000`.
    public let ticker: String
    public let symbol: OCCSymbol
    /// The contract's bars on the chain's date (a view on a decoded chunk).
    public let bars: Bars

    public var root: String { symbol.rootString }
    public var expiry: TradingDate { symbol.expiry }
    public var type: OptionType { symbol.isCall ? .call : .put }
    /// Strike in thousandths of a dollar (exact).
    public var strikeThousandths: Int64 { symbol.strikeThousandths }

    /// The last bar starting at or before `t` (Unix ns), or nil if the first bar is later.
    /// Needs all seven columns loaded.
    public func lastBar(atOrBefore t: Int64) -> Bar? {
        let ws = bars.windowStart
        var lo = ws.startIndex, hi = ws.endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if ws[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo == ws.startIndex ? nil : bars[lo - 1 - ws.startIndex]
    }
}

/// An underlying's option contracts on one date, in OCC symbol order (expiry, call before
/// put, strike), optionally filtered.
///
/// ```swift
/// let chain = try store.chain(underlying: "SPY", date: d,
///                             filter: ChainFilter(expiryTo: d, type: .call))!
/// for c in chain.contracts { _ = (c.expiry, c.strikeThousandths, c.bars.close.last) }
/// for q in chain.asOf(t) { _ = (q.contract.strikeThousandths, q.bar.close) }
/// ```
public struct OptionChain: Sendable {
    public let underlying: String
    public let date: TradingDate
    public let contracts: [OptionContract]

    public init(underlying: String, date: TradingDate, contracts: [OptionContract]) {
        self.underlying = underlying; self.date = date; self.contracts = contracts
    }

    /// The chain as of time `t` (Unix ns): for each contract with a bar starting at or before
    /// `t`, its last such bar. Contracts with no bar yet are left out. Needs all seven columns.
    public func asOf(_ t: Int64) -> [(contract: OptionContract, bar: Bar)] {
        var out: [(contract: OptionContract, bar: Bar)] = []
        out.reserveCapacity(contracts.count)
        for c in contracts { if let b = c.lastBar(atOrBefore: t) { out.append((c, b)) } }
        return out
    }

    /// The distinct expiries, ascending.
    public var expiries: [TradingDate] { Array(Set(contracts.map(\.expiry))).sorted() }

    /// The contracts passing `filter`.
    public func filtered(_ filter: ChainFilter) -> OptionChain {
        OptionChain(underlying: underlying, date: date, contracts: contracts.filter { filter.matches($0.symbol) })
    }
}

extension FFCFile {
    /// The chain of an options underlying root on this file's date (`AAPL` does not include
    /// `AAPL1`), keeping the contracts that pass `filter`. Chunks are decoded only where the
    /// root's symbols lie.
    public func chain(underlying root: String, filter: ChainFilter = ChainFilter(),
                      columns: [Column] = Column.allCases) throws -> OptionChain {
        let rootBytes = Array(root.utf8)
        var out: [OptionContract] = []
        for b in try tickers(withPrefix: "O:" + root, columns: columns, where: { name in
            guard let s = OCCSymbol(name) else { return false }
            return s.root.elementsEqual(rootBytes) && filter.matches(s)
        }) {
            out.append(OptionContract(ticker: b.ticker, symbol: OCCSymbol(Array(b.ticker.utf8))!, bars: b))
        }
        return OptionChain(underlying: root, date: date, contracts: out)
    }
}

extension Store {
    /// The chain of an underlying root on one date (nil when there is no file that day).
    public func chain(underlying root: String, date: TradingDate, dataset: Dataset = .optionsMinute,
                      filter: ChainFilter = ChainFilter(), columns: [Column] = Column.allCases) throws -> OptionChain? {
        try open(dataset: dataset, date: date)?.chain(underlying: root, filter: filter, columns: columns)
    }
}
