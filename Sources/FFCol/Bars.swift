// MARK: - One ticker's bars on one date

/// One bar, a small value type (no allocation per row).
public struct Bar: Sendable, Equatable {
    public var volume: Double
    public var open: Double
    public var close: Double
    public var high: Double
    public var low: Double
    /// Start of the bar, Unix nanoseconds UTC.
    public var windowStart: Int64
    public var transactions: Int64

    /// A bar from its seven values (`windowStart` in Unix nanoseconds UTC).
    public init(volume: Double, open: Double, close: Double, high: Double, low: Double,
                windowStart: Int64, transactions: Int64) {
        self.volume = volume; self.open = open; self.close = close; self.high = high; self.low = low
        self.windowStart = windowStart; self.transactions = transactions
    }
}

/// One ticker's rows in one file: a view on a decoded chunk (no copy).
///
/// Columns are `ArraySlice`s of the chunk's contiguous typed buffers; iterate with
/// `for bar in bars` (yields `Bar` values) or index the columns directly.
/// Columns not requested when the chunk was loaded are empty slices.
public struct Bars: Sequence, Sendable {
    public let ticker: String
    public let date: TradingDate
    public let chunk: DecodedChunk
    /// Row range within the chunk.
    public let rows: Range<Int>

    public var count: Int { rows.count }

    @inline(__always) func d(_ c: Column) -> ArraySlice<Double> {
        guard let a = chunk.doubles(c) else { return [] }
        return a[rows]
    }
    @inline(__always) func i(_ c: Column) -> ArraySlice<Int64> {
        guard let a = chunk.int64s(c) else { return [] }
        return a[rows]
    }
    public var volume: ArraySlice<Double> { d(.volume) }
    public var open: ArraySlice<Double> { d(.open) }
    public var close: ArraySlice<Double> { d(.close) }
    public var high: ArraySlice<Double> { d(.high) }
    public var low: ArraySlice<Double> { d(.low) }
    public var windowStart: ArraySlice<Int64> { i(.windowStart) }
    public var transactions: ArraySlice<Int64> { i(.transactions) }

    /// Bar `k` (0-based within this ticker). All seven columns must be loaded.
    public subscript(k: Int) -> Bar {
        precondition(k >= 0 && k < rows.count, "bar index out of range")
        let j = rows.lowerBound + k
        let f = chunk.floats, n = chunk.ints
        return Bar(volume: f[0]![j], open: f[1]![j], close: f[2]![j], high: f[3]![j], low: f[4]![j],
                   windowStart: n[0]![j], transactions: n[1]![j])
    }

    /// Yields the ticker's bars in window_start order. It holds the seven columns itself, so a
    /// step reads seven values and touches no reference count (a few instructions a bar).
    public struct Iterator: IteratorProtocol {
        @usableFromInline let v, o, c, h, l: [Double]
        @usableFromInline let w, t: [Int64]
        @usableFromInline var j: Int
        @usableFromInline let end: Int

        init(_ b: Bars) {
            let f = b.chunk.floats, n = b.chunk.ints
            guard let v = f[0], let o = f[1], let c = f[2], let h = f[3], let l = f[4], let w = n[0], let t = n[1] else {
                preconditionFailure("iterating Bars needs all columns loaded")
            }
            self.v = v; self.o = o; self.c = c; self.h = h; self.l = l; self.w = w; self.t = t
            j = b.rows.lowerBound
            end = b.rows.upperBound
        }

        @inlinable
        public mutating func next() -> Bar? {
            guard j < end else { return nil }
            defer { j &+= 1 }
            return Bar(volume: v[j], open: o[j], close: c[j], high: h[j], low: l[j], windowStart: w[j], transactions: t[j])
        }
    }
    public func makeIterator() -> Iterator { Iterator(self) }
}

// MARK: - OCC option symbols

/// An OCC option symbol: `O:` + root (1-6 chars) + YYMMDD + C/P + strike x 1000 (8 digits).
public struct OCCSymbol: Sendable, Equatable {
    public let root: ArraySlice<UInt8>
    public let expiry: TradingDate
    public let isCall: Bool
    /// Strike in thousandths of a dollar (exact).
    public let strikeThousandths: Int64

    public var rootString: String { String(decoding: root, as: UTF8.self) }
    public var strike: Double { Double(strikeThousandths) / 1000 }

    public init?<C: Collection>(_ ticker: C) where C.Element == UInt8 {
        let t = Array(ticker)
        let n = t.count
        guard n >= 2 + 1 + 15, n <= 2 + 6 + 15, t[0] == UInt8(ascii: "O"), t[1] == UInt8(ascii: ":") else { return nil }
        let tail = n - 15
        func digits(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r {
                let d = Int64(t[i]) - 48
                guard d >= 0, d <= 9 else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard let yy = digits(tail..<tail + 2), let mm = digits(tail + 2..<tail + 4), let dd = digits(tail + 4..<tail + 6),
              let date = TradingDate(year: 2000 + Int(yy), month: Int(mm), day: Int(dd)),
              t[tail + 6] == UInt8(ascii: "C") || t[tail + 6] == UInt8(ascii: "P"),
              let k = digits(tail + 7..<n) else { return nil }
        root = t[2..<tail]
        expiry = date
        isCall = t[tail + 6] == UInt8(ascii: "C")
        strikeThousandths = k
    }
}
