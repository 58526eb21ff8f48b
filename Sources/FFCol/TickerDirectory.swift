// MARK: - A chunk's ticker directory

/// The tickers of one chunk in ascending byte order, each with its row range in the chunk.
/// Layout: u32 n | u32 rowEnd[n] | u32 nameEnd[n] | name bytes (see docs/FORMAT.md).
public struct TickerDirectory: Sendable {
    /// Row end (exclusive) of each ticker, within the chunk.
    public let rowEnds: [UInt32]
    /// End (exclusive) of each name in `names`.
    public let nameEnds: [UInt32]
    public let names: [UInt8]

    public var count: Int { rowEnds.count }

    public static func encode(names: [UInt8], nameEnds: [UInt32], rowEnds: [UInt32], into w: inout ByteWriter) {
        w.u32(UInt32(rowEnds.count))
        for e in rowEnds { w.u32(e) }
        for e in nameEnds { w.u32(e) }
        w.bytes.append(contentsOf: names)
    }

    /// Decodes and validates: ascending strictly-increasing row ends ending at `rowCount`,
    /// name ends within the bytes, names strictly ascending.
    public init(decoding src: UnsafeRawBufferPointer, rowCount: Int, tickerCount: Int, fail: (String) -> Error) throws {
        var r = ByteReader(src, context: "")
        guard let n = try? r.u32("count"), Int(n) == tickerCount else {
            throw fail("ticker directory count does not match the chunk table (\(tickerCount))")
        }
        guard src.count >= 4 + 8 * Int(n) else { throw fail("ticker directory shorter than \(n) entries") }
        var re = [UInt32](), ne = [UInt32]()
        re.reserveCapacity(Int(n)); ne.reserveCapacity(Int(n))
        var prev: UInt32 = 0
        for _ in 0..<n {
            let e = try r.u32("row end")
            guard e > prev else { throw fail("ticker directory row ends are not increasing") }
            re.append(e); prev = e
        }
        guard Int(prev) == rowCount else { throw fail("ticker directory covers \(prev) rows, chunk has \(rowCount)") }
        let nameBytes = src.count - 4 - 8 * Int(n)
        prev = 0
        for _ in 0..<n {
            let e = try r.u32("name end")
            guard e > prev, Int(e) <= nameBytes else { throw fail("ticker directory name ends are out of range") }
            ne.append(e); prev = e
        }
        guard Int(prev) == nameBytes else { throw fail("ticker directory has \(nameBytes - Int(prev)) stray bytes") }
        names = Array(UnsafeRawBufferPointer(rebasing: src[(4 + 8 * Int(n))...]))
        rowEnds = re; nameEnds = ne
        for i in 1..<max(1, count) where !(compare(i - 1, name(i)) < 0) {
            throw fail("ticker directory names are not in ascending order")
        }
    }

    public func nameStart(_ i: Int) -> Int { i == 0 ? 0 : Int(nameEnds[i - 1]) }
    public func rowStart(_ i: Int) -> Int { i == 0 ? 0 : Int(rowEnds[i - 1]) }
    public func rows(_ i: Int) -> Range<Int> { rowStart(i)..<Int(rowEnds[i]) }
    public func name(_ i: Int) -> ArraySlice<UInt8> { names[nameStart(i)..<Int(nameEnds[i])] }
    public func nameString(_ i: Int) -> String { String(decoding: name(i), as: UTF8.self) }

    /// Byte-order comparison of name i with `key`: <0, 0, >0.
    public func compare<C: Collection>(_ i: Int, _ key: C) -> Int where C.Element == UInt8 {
        let a = name(i)
        var ia = a.startIndex, ib = key.startIndex
        while ia < a.endIndex, ib < key.endIndex {
            let x = a[ia], y = key[ib]
            if x != y { return x < y ? -1 : 1 }
            ia += 1; ib = key.index(after: ib)
        }
        if ia == a.endIndex { return ib == key.endIndex ? 0 : -1 }
        return 1
    }

    /// The index of the first name >= key.
    public func lowerBound<C: Collection>(_ key: C) -> Int where C.Element == UInt8 {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if compare(mid, key) < 0 { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The index of `key`, if present.
    public func find<C: Collection>(_ key: C) -> Int? where C.Element == UInt8 {
        let i = lowerBound(key)
        return i < count && compare(i, key) == 0 ? i : nil
    }
}
