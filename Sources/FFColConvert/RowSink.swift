#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

// MARK: - Stage 3: per-column builders, order check, chunking

/// Receives parsed rows, keeps them in per-column arrays, checks order and the date of each
/// `window_start`, and hands whole-ticker chunks to the writer.
///
/// While the input is in (ticker, window_start) order, rows are written out as chunks as soon
/// as enough whole tickers are pending, so memory stays bounded. When a row out of order is
/// seen, the rows already written are read back and every row is kept until the end, then
/// sorted (stable) and written: unsorted input costs memory proportional to its rows.
public final class RowSink {
    public let dataset: Dataset
    public let date: TradingDate
    let writer: FFCWriter
    let targetRows: Int
    let fileName: String
    let strict: Bool

    // Pending rows.
    var volume: [Double] = [], open: [Double] = [], close: [Double] = [], high: [Double] = [], low: [Double] = []
    var windowStart: [Int64] = [], transactions: [Int64] = []
    // Runs of equal tickers among pending rows.
    var names: [UInt8] = []
    var nameEnds: [UInt32] = []
    var rowEnds: [UInt32] = []

    public private(set) var sorted = true
    public private(set) var rowCount = 0
    /// Rows whose window_start is outside the file's date (America/New_York).
    public private(set) var dateMismatches = 0
    public private(set) var firstMismatchLine = 0
    public private(set) var duplicateTimestamps = 0
    let dayStart: Int64, dayEnd: Int64
    private var lastTs = Int64.min

    public init(dataset: Dataset, date: TradingDate, writer: FFCWriter, targetRows: Int, fileName: String, strict: Bool) {
        self.dataset = dataset; self.date = date; self.writer = writer
        self.targetRows = max(1, targetRows); self.fileName = fileName; self.strict = strict
        dayStart = EasternTime.unixNanos(date: date, minuteOfDay: 0)
        dayEnd = EasternTime.unixNanos(date: date.adding(days: 1), minuteOfDay: 0)
        let cap = self.targetRows * 4 + 1024
        volume.reserveCapacity(cap); open.reserveCapacity(cap); close.reserveCapacity(cap)
        high.reserveCapacity(cap); low.reserveCapacity(cap)
        windowStart.reserveCapacity(cap); transactions.reserveCapacity(cap)
        names.reserveCapacity(64 * 1024); nameEnds.reserveCapacity(8192); rowEnds.reserveCapacity(8192)
    }

    /// Byte comparison of the current (last) run's ticker with `t`: <0, 0, >0.
    @inline(__always) func compareLast(_ t: UnsafeRawBufferPointer) -> Int {
        let start = nameEnds.count > 1 ? Int(nameEnds[nameEnds.count - 2]) : 0
        let len = names.count - start
        return names.withUnsafeBytes { nb in
            // Safe: start..<names.count is the last run's name, inside the array.
            let r = memcmp(nb.baseAddress! + start, t.baseAddress!, min(len, t.count))
            if r != 0 { return Int(r) }
            return len - t.count
        }
    }

    /// The options root of a ticker (`O:ROOT` + 15 characters), or the whole ticker.
    @inline(__always) static func rootLength(_ t: UnsafeRawBufferPointer) -> Int {
        t.count >= 18 && t[0] == UInt8(ascii: "O") && t[1] == UInt8(ascii: ":") ? t.count - 15 : t.count
    }

    @inline(__always) func lastRootDiffers(_ t: UnsafeRawBufferPointer) -> Bool {
        let start = nameEnds.count > 1 ? Int(nameEnds[nameEnds.count - 2]) : 0
        return names.withUnsafeBytes { nb in
            let last = UnsafeRawBufferPointer(rebasing: nb[start..<nb.count])
            let a = RowSink.rootLength(last), b = RowSink.rootLength(t)
            return a != b || memcmp(last.baseAddress!, t.baseAddress!, a) != 0
        }
    }

    /// Appends one parsed row.
    @inline(__always)
    public func append(ticker t: UnsafeRawBufferPointer, volume v: Double, open o: Double, close c: Double, high h: Double,
                       low l: Double, windowStart ts: Int64, transactions n: Int64, line: Int) throws {
        if ts < dayStart || ts >= dayEnd {
            if strict {
                throw ConvertError(.strict, file: fileName, line: line, column: "window_start", text: String(ts),
                                   "\(ts) is not on \(date) (America/New_York); rerun without --strict to keep such rows")
            }
            dateMismatches += 1
            if firstMismatchLine == 0 { firstMismatchLine = line }
        }
        try appendUnchecked(ticker: t, volume: v, open: o, close: c, high: h, low: l, windowStart: ts, transactions: n)
    }

    @inline(__always)
    func appendUnchecked(ticker t: UnsafeRawBufferPointer, volume v: Double, open o: Double, close c: Double,
                         high h: Double, low l: Double, windowStart ts: Int64, transactions n: Int64) throws {
        // cmp < 0: the new ticker sorts after the current one (in order).
        let cmp = nameEnds.isEmpty ? -1 : compareLast(t)
        if cmp == 0 {
            if ts < lastTs {
                if sorted { try becomeUnsorted() }
            } else if ts == lastTs { duplicateTimestamps += 1 }
            rowEnds[rowEnds.count - 1] += 1
        } else {
            if cmp < 0 {
                // Safe to end a chunk here: every pending ticker is complete.
                if sorted, volume.count >= targetRows, lastRootDiffers(t) || volume.count >= targetRows * 4 {
                    try flush()
                }
            } else {
                if sorted { try becomeUnsorted() }
            }
            names.append(contentsOf: t)
            nameEnds.append(UInt32(names.count))
            rowEnds.append(UInt32(volume.count + 1))
        }
        lastTs = ts
        volume.append(v); open.append(o); close.append(c); high.append(h); low.append(l)
        windowStart.append(ts); transactions.append(n)
        rowCount += 1
    }

    private func becomeUnsorted() throws {
        sorted = false
        guard !writer.chunks.isEmpty else { return }
        // Move the pending rows aside, read back what was written, then re-append the pending rows.
        let pv = volume, po = open, pc = close, ph = high, pl = low, pts = windowStart, ptx = transactions
        let pn = names, pne = nameEnds, pre = rowEnds
        let savedCount = rowCount
        clearPending()
        rowCount = 0
        try writer.takeBack(into: self)
        var rs = 0
        for (k, ne) in pne.enumerated() {
            let ns = k == 0 ? 0 : Int(pne[k - 1])
            try pn[ns..<Int(ne)].withUnsafeBytes { nb in
                for j in rs..<Int(pre[k]) {
                    try appendUnchecked(ticker: nb, volume: pv[j], open: po[j], close: pc[j], high: ph[j], low: pl[j],
                                        windowStart: pts[j], transactions: ptx[j])
                }
            }
            rs = Int(pre[k])
        }
        precondition(rowCount == savedCount, "read-back lost rows")
    }

    private func clearPending() {
        volume.removeAll(keepingCapacity: true); open.removeAll(keepingCapacity: true)
        close.removeAll(keepingCapacity: true); high.removeAll(keepingCapacity: true)
        low.removeAll(keepingCapacity: true); windowStart.removeAll(keepingCapacity: true)
        transactions.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true); nameEnds.removeAll(keepingCapacity: true)
        rowEnds.removeAll(keepingCapacity: true)
    }

    /// Writes all pending rows (sorted input) as one chunk.
    private func flush() throws {
        guard !volume.isEmpty else { return }
        try volume.withUnsafeBufferPointer { v in try open.withUnsafeBufferPointer { o in
        try close.withUnsafeBufferPointer { c in try high.withUnsafeBufferPointer { h in
        try low.withUnsafeBufferPointer { l in try windowStart.withUnsafeBufferPointer { ts in
        try transactions.withUnsafeBufferPointer { tx in
        try names.withUnsafeBytes { nb in try nameEnds.withUnsafeBufferPointer { ne in
        try rowEnds.withUnsafeBufferPointer { re in
            try writer.writeChunk(ColumnsView(floats: [v, o, c, h, l], ints: [ts, tx]), names: nb, nameEnds: ne, rowEnds: re)
        } } } } } } } } } }
        clearPending()
    }

    /// Writes whatever is pending; for unsorted input, sorts everything first.
    public func finish() throws {
        if sorted { try flush(); return }
        try writeSorted()
    }

    /// Stable sort of all rows by (ticker bytes, window_start), then chunked as in streaming mode.
    private func writeSorted() throws {
        let runCount = nameEnds.count
        func name(_ r: Int) -> ArraySlice<UInt8> { names[(r == 0 ? 0 : Int(nameEnds[r - 1]))..<Int(nameEnds[r])] }
        var runs = Array(0..<runCount)
        runs.sort { a, b in
            let x = name(a), y = name(b)
            if x.elementsEqual(y) { return a < b }
            return x.lexicographicallyPrecedes(y)
        }
        // Row permutation: per ticker, its rows (in run order), stable-sorted by window_start.
        var perm: [Int] = []
        perm.reserveCapacity(volume.count)
        var outNames: [UInt8] = [], outNameEnds: [UInt32] = [], outTickerEnds: [Int] = []
        var i = 0
        while i < runs.count {
            var j = i + 1
            while j < runs.count, name(runs[j]).elementsEqual(name(runs[i])) { j += 1 }
            let startPerm = perm.count
            var needSort = false
            var prev = Int64.min
            for k in i..<j {
                let r = runs[k]
                let rs = r == 0 ? 0 : Int(rowEnds[r - 1])
                for row in rs..<Int(rowEnds[r]) {
                    if windowStart[row] < prev { needSort = true }
                    prev = windowStart[row]
                    perm.append(row)
                }
            }
            if needSort {
                let ts = windowStart
                var seg = Array(perm[startPerm...])
                seg = seg.enumerated().sorted { a, b in
                    ts[a.element] != ts[b.element] ? ts[a.element] < ts[b.element] : a.offset < b.offset
                }.map { $0.element }
                perm.replaceSubrange(startPerm..., with: seg)
            }
            outNames.append(contentsOf: name(runs[i]))
            outNameEnds.append(UInt32(outNames.count))
            outTickerEnds.append(perm.count)
            i = j
        }
        // Chunk boundaries with the same rule as streaming.
        var cv = [[Double]](repeating: [], count: 5), ci = [[Int64]](repeating: [], count: 2)
        var cn: [UInt8] = [], cne: [UInt32] = [], cre: [UInt32] = []
        func emit() throws {
            guard !ci[0].isEmpty else { return }
            try cv[0].withUnsafeBufferPointer { a in try cv[1].withUnsafeBufferPointer { b in
            try cv[2].withUnsafeBufferPointer { c in try cv[3].withUnsafeBufferPointer { d in
            try cv[4].withUnsafeBufferPointer { e in try ci[0].withUnsafeBufferPointer { f in
            try ci[1].withUnsafeBufferPointer { g in try cn.withUnsafeBytes { nb in
            try cne.withUnsafeBufferPointer { ne in try cre.withUnsafeBufferPointer { re in
                try writer.writeChunk(ColumnsView(floats: [a, b, c, d, e], ints: [f, g]), names: nb, nameEnds: ne, rowEnds: re)
            } } } } } } } } } }
            for k in 0..<5 { cv[k].removeAll(keepingCapacity: true) }
            for k in 0..<2 { ci[k].removeAll(keepingCapacity: true) }
            cn.removeAll(keepingCapacity: true); cne.removeAll(keepingCapacity: true); cre.removeAll(keepingCapacity: true)
        }
        var rowStart = 0
        for t in 0..<outNameEnds.count {
            let ns = t == 0 ? 0 : Int(outNameEnds[t - 1])
            let nm = outNames[ns..<Int(outNameEnds[t])]
            if ci[0].count >= targetRows {
                let rootDiffers: Bool = nm.withUnsafeBytes { tb in
                    cn.withUnsafeBytes { cb in
                        let ls = cne.count > 1 ? Int(cne[cne.count - 2]) : 0
                        let last = UnsafeRawBufferPointer(rebasing: cb[ls..<cb.count])
                        let a = RowSink.rootLength(last), b = RowSink.rootLength(tb)
                        return a != b || memcmp(last.baseAddress!, tb.baseAddress!, a) != 0
                    }
                }
                if rootDiffers || ci[0].count >= targetRows * 4 { try emit() }
            }
            for p in perm[rowStart..<outTickerEnds[t]] {
                cv[0].append(volume[p]); cv[1].append(open[p]); cv[2].append(close[p])
                cv[3].append(high[p]); cv[4].append(low[p])
                ci[0].append(windowStart[p]); ci[1].append(transactions[p])
            }
            cn.append(contentsOf: nm); cne.append(UInt32(cn.count)); cre.append(UInt32(ci[0].count))
            rowStart = outTickerEnds[t]
        }
        try emit()
        clearPending()
    }
}
