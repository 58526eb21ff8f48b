// MARK: - A chunk's ticker directory

/// The tickers of one chunk in ascending byte order, each with its row range in the chunk.
///
/// Stored layout (encoding 4, see docs/FORMAT.md): u32 k | integer block of k row counts |
/// k x u8 shared-prefix length | k x u8 suffix length | suffix bytes. Names are front-coded:
/// each stores only what differs from the name before it (OCC symbols of one root share
/// most of their bytes).
public struct TickerDirectory: Sendable {
    /// Row end (exclusive) of each ticker, within the chunk.
    public let rowEnds: [UInt32]
    /// End (exclusive) of each name in `names`.
    public let nameEnds: [UInt32]
    public let names: [UInt8]
    /// The chunk's pages (versions 2 and 3; the table follows the names), or nil.
    public let pages: PageTable?

    public var count: Int { rowEnds.count }

    /// A directory of one ticker covering `rows` rows.
    init(single name: ArraySlice<UInt8>, rows: Int) {
        names = Array(name); nameEnds = [UInt32(name.count)]; rowEnds = [UInt32(rows)]; pages = nil
    }

    /// Encodes names (concatenated, with exclusive ends) and row ends. Names must be strictly
    /// ascending and at most 255 bytes.
    public static func encode(names: UnsafeRawBufferPointer, nameEnds: UnsafeBufferPointer<UInt32>,
                              rowEnds: UnsafeBufferPointer<UInt32>, into w: inout ByteWriter) {
        let k = rowEnds.count
        w.u32(UInt32(k))
        var counts = [Int64](repeating: 0, count: k)
        var prevEnd: UInt32 = 0
        for i in 0..<k { counts[i] = Int64(rowEnds[i] - prevEnd); prevEnd = rowEnds[i] }
        counts.withUnsafeBufferPointer { _ = IntCodec.encode($0, into: &w) }
        var prefixes = [UInt8](repeating: 0, count: k), suffixes = [UInt8](repeating: 0, count: k)
        precondition(k == 0 || Int(nameEnds[k - 1]) <= names.count, "names shorter than their ends")
        // Suffixes are copied into a buffer of the names' size (they are parts of the names);
        // a copy per name through Array.append cost more than the rest of the loop.
        let suffixBytes = [UInt8](unsafeUninitializedCapacity: max(names.count, 1)) { sb, initialized in
            var used = 0
            var prevStart = 0, prevLen = 0
            if k > 0, let base = names.baseAddress?.assumingMemoryBound(to: UInt8.self), let dst = sb.baseAddress {
                for i in 0..<k {
                    let start = i == 0 ? 0 : Int(nameEnds[i - 1]), len = Int(nameEnds[i]) - start
                    precondition(len >= 0 && len <= 255, "ticker longer than 255 bytes")
                    // Safe: both names lie in `names` (checked above: the ends ascend to at most
                    // names.count), and every read is below `limit`, within both. The suffixes
                    // of all names add up to at most names.count bytes, the buffer's size.
                    let a = base + start, b = base + prevStart
                    let limit = min(len, prevLen)
                    var shared = 0
                    while shared + 8 <= limit {
                        let x = UnsafeRawPointer(a + shared).loadUnaligned(as: UInt64.self)
                            ^ UnsafeRawPointer(b + shared).loadUnaligned(as: UInt64.self)
                        if x != 0 { shared += UInt64(littleEndian: x).trailingZeroBitCount >> 3; break }
                        shared += 8
                    }
                    // Past a differing word `shared` is at the first differing byte: this stops at once.
                    while shared < limit, a[shared] == b[shared] { shared += 1 }
                    prefixes[i] = UInt8(shared); suffixes[i] = UInt8(len - shared)
                    (dst + used).initialize(from: a + shared, count: len - shared)
                    used += len - shared
                    prevStart = start; prevLen = len
                }
            }
            initialized = used
        }
        w.bytes.append(contentsOf: prefixes)
        w.bytes.append(contentsOf: suffixes)
        w.bytes.append(contentsOf: suffixBytes)
    }

    /// Decodes and validates: `tickerCount` entries, row counts > 0 adding up to `rowCount`,
    /// prefixes no longer than the previous name, names strictly ascending. With `pagesOf`, a
    /// paged chunk (versions 2 and 3), the page table follows the names (see `PageTable`); otherwise
    /// nothing may follow them.
    public init(decoding src: UnsafeRawBufferPointer, rowCount: Int, tickerCount: Int, pagesOf meta: ChunkMeta? = nil,
                fail: (String) -> Error) throws {
        guard src.count >= 4 else { throw fail("ticker directory shorter than its header") }
        let k = Int(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        guard k == tickerCount else { throw fail("ticker directory holds \(k) tickers, the chunk table says \(tickerCount)") }
        // The integer block's size follows from its header (width at byte 1).
        guard src.count >= 4 + IntCodec.headerSize else { throw fail("ticker directory truncated") }
        let width = Int(src[4 + 1])
        guard [0, 1, 2, 4, 8].contains(width) else { throw fail("ticker directory row counts have width \(width)") }
        let intEnd = 4 + IntCodec.headerSize + k * width
        guard src.count >= intEnd + 2 * k else { throw fail("ticker directory truncated") }
        var counts = [Int64](repeating: 0, count: k)
        try counts.withUnsafeMutableBufferPointer {
            try IntCodec.decode(UnsafeRawBufferPointer(rebasing: src[4..<intEnd]), into: $0, fail: fail)
        }
        var re = [UInt32](), ne = [UInt32](), nm: [UInt8]
        re.reserveCapacity(k); ne.reserveCapacity(k)
        var total = 0
        for c in counts {
            guard c > 0, c <= Int64(rowCount) - Int64(total) else { throw fail("ticker directory row counts do not add up to \(rowCount)") }
            total += Int(c)
            re.append(UInt32(total))
        }
        guard total == rowCount else { throw fail("ticker directory covers \(total) rows, chunk has \(rowCount)") }
        // Pass 1: check every entry and size the names.
        let suffixStart = intEnd + 2 * k
        var sp = suffixStart  // next suffix byte
        var prevLen = 0, need = 0
        for i in 0..<k {
            let shared = Int(src[intEnd + i]), suffix = Int(src[intEnd + k + i])
            guard shared <= prevLen, shared + suffix > 0, suffix <= src.count - sp else {
                throw fail("ticker directory entry \(i) is malformed")
            }
            sp += suffix
            need += shared + suffix
            prevLen = shared + suffix
        }
        if let meta, meta.isPaged {
            pages = try PageTable(decoding: UnsafeRawBufferPointer(rebasing: src[sp...]), meta: meta, fail: fail)
        } else {
            guard sp == src.count else { throw fail("ticker directory has \(src.count - sp) stray bytes") }
            pages = nil
        }
        // Pass 2: copy each name's shared prefix from the previous name and its suffix from
        // `src` into one buffer of exactly `need` bytes. (Appending a slice of the array being
        // built would copy the whole array on every append.)
        nm = [UInt8](unsafeUninitializedCapacity: need) { buf, initialized in
            // Safe: pass 1 checked that the names add up to `need` bytes, that each shared
            // prefix lies in the previous name (which ends where the current name starts, so
            // the two ranges do not overlap) and that each suffix lies in `src`.
            let out = buf.baseAddress!, base = src.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var at = 0, prevStart = 0, sp = suffixStart
            for i in 0..<k {
                let shared = Int(base[intEnd + i]), suffix = Int(base[intEnd + k + i])
                (out + at).initialize(from: out + prevStart, count: shared)
                (out + at + shared).initialize(from: base + sp, count: suffix)
                prevStart = at
                at += shared + suffix
                sp += suffix
                ne.append(UInt32(at))
            }
            initialized = need
        }
        names = nm; rowEnds = re; nameEnds = ne
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
