#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

// MARK: - Stage 3: per-column builders

/// One parsed Float64 field.
///
/// `k <= maxScale`: the exact decimal `m / 10^k`, with `|m| < 10^15`, no trailing zero digit
/// after the point (`m % 10 != 0` when `k > 0`) and never -0; its Double is the correctly
/// rounded `Double(m) / 10^k`. For such values the smallest scale at which
/// `FloatCodec.decimalize` finds an exact round trip is exactly `k`, and its mantissa is `m`
/// (the proof is in `ChunkEncoder.decimalForm`), so the encoder can skip it.
/// `k == ParsedFloat.rawScale`: anything else; `m` holds the Double's bits.
@frozen public struct ParsedFloat: Equatable {
    public var m: Int64
    public var k: UInt8
    public static let rawScale: UInt8 = 0xFF
    static let maxScale = 15
    static let mantissaLimit: UInt64 = 1_000_000_000_000_000  // 10^15

    @inline(__always) init(m: Int64, k: UInt8) { self.m = m; self.k = k }
    @inline(__always) public init(raw d: Double) { m = Int64(bitPattern: d.bitPattern); k = ParsedFloat.rawScale }

    /// The value (for `k <= maxScale` the correctly rounded quotient of two exact operands).
    @inline(__always) public var double: Double {
        if k == ParsedFloat.rawScale { return Double(bitPattern: UInt64(bitPattern: m)) }
        return k == 0 ? Double(m) : Double(m) / pow10Exact[Int(k)]
    }
}

/// 10^0 ... 10^22, exact.
let pow10Exact: [Double] = (0...22).map { e in
    var v = 1.0
    for _ in 0..<e { v *= 10 }
    return v
}

/// Column memory: seven buffers of `capacity` values (Float64 columns as mantissa and scale,
/// see `ParsedFloat`). The pointers are `let`, so writing through them needs no exclusivity
/// bookkeeping or uniqueness checks per row.
final class ColumnStorage: @unchecked Sendable {
    let capacity: Int
    let mantissas: [UnsafeMutablePointer<Int64>]
    let scales: [UnsafeMutablePointer<UInt8>]
    let ints: [UnsafeMutablePointer<Int64>]
    let volume, open, close, high, low: UnsafeMutablePointer<Int64>
    let volumeK, openK, closeK, highK, lowK: UnsafeMutablePointer<UInt8>
    let windowStart, transactions: UnsafeMutablePointer<Int64>

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        volume = .allocate(capacity: self.capacity); open = .allocate(capacity: self.capacity)
        close = .allocate(capacity: self.capacity); high = .allocate(capacity: self.capacity)
        low = .allocate(capacity: self.capacity)
        volumeK = .allocate(capacity: self.capacity); openK = .allocate(capacity: self.capacity)
        closeK = .allocate(capacity: self.capacity); highK = .allocate(capacity: self.capacity)
        lowK = .allocate(capacity: self.capacity)
        windowStart = .allocate(capacity: self.capacity); transactions = .allocate(capacity: self.capacity)
        mantissas = [volume, open, close, high, low]
        scales = [volumeK, openK, closeK, highK, lowK]
        ints = [windowStart, transactions]
    }
    deinit {
        for p in mantissas { p.deallocate() }
        for p in scales { p.deallocate() }
        for p in ints { p.deallocate() }
    }
}

/// The runs of a `Rows`: the names one after another and, per run, where its name and its
/// rows end. Fixed capacities; `Rows` replaces the storage with a larger one when it is full.
/// The pointers are `let` (no exclusivity bookkeeping per write, as in `ColumnStorage`).
final class RunStorage: @unchecked Sendable {
    let nameCapacity: Int
    let runCapacity: Int
    let names: UnsafeMutablePointer<UInt8>
    let nameEnds: UnsafeMutablePointer<UInt32>
    let rowEnds: UnsafeMutablePointer<UInt32>

    init(nameCapacity: Int, runCapacity: Int) {
        self.nameCapacity = max(nameCapacity, 256)
        self.runCapacity = max(runCapacity, 16)
        names = .allocate(capacity: self.nameCapacity)
        nameEnds = .allocate(capacity: self.runCapacity)
        rowEnds = .allocate(capacity: self.runCapacity)
    }
    deinit { names.deallocate(); nameEnds.deallocate(); rowEnds.deallocate() }
}

/// Rows held in per-column buffers, with runs of equal tickers.
///
/// Invariants: `0 <= count <= storage.capacity`; `runs.nameEnds` and `runs.rowEnds` have
/// `runCount` entries, strictly increasing; the names are `runs.names[0..<namesCount]`. While a
/// run is open its row end holds the row it started at; `closeRun()` sets it to `count`, and
/// after it the last row end equals `count`.
/// The storage is a reference: a `Rows` handed to the writer must not be appended to again
/// (the writer hands back a different, empty one).
public struct Rows {
    var storage: ColumnStorage
    private(set) var count = 0
    private(set) var runs: RunStorage
    private(set) var runCount = 0
    private(set) var namesCount = 0

    init(capacity: Int) {
        storage = ColumnStorage(capacity: capacity)
        runs = RunStorage(nameCapacity: min(capacity, 1 << 16), runCapacity: 1024)
    }

    var isEmpty: Bool { count == 0 }

    /// Float64 column `c` (0 = volume ... 4 = low) at row `i < count`.
    @inline(__always) func float(_ c: Int, _ i: Int) -> ParsedFloat {
        ParsedFloat(m: storage.mantissas[c][i], k: storage.scales[c][i])
    }
    var windowStart: UnsafeMutableBufferPointer<Int64> { .init(start: storage.windowStart, count: count) }
    var transactions: UnsafeMutableBufferPointer<Int64> { .init(start: storage.transactions, count: count) }

    /// The name of run `k < runCount`.
    @inline(__always) func name(_ k: Int) -> UnsafeRawBufferPointer {
        let s = k == 0 ? 0 : Int(runs.nameEnds[k &- 1])
        // Safe: the names of runs 0..<runCount lie inside runs.names[0..<namesCount].
        return UnsafeRawBufferPointer(start: runs.names + s, count: Int(runs.nameEnds[k]) &- s)
    }
    /// The rows of run `k < runCount` (closed runs only).
    @inline(__always) func rowRange(_ k: Int) -> Range<Int> { (k == 0 ? 0 : Int(runs.rowEnds[k &- 1]))..<Int(runs.rowEnds[k]) }

    /// The current (last) run's name; empty when there is no run.
    @inline(__always) var lastName: UnsafeRawBufferPointer {
        runCount == 0 ? UnsafeRawBufferPointer(start: runs.names, count: 0) : name(runCount &- 1)
    }

    mutating func removeAll() {
        count = 0
        namesCount = 0; runCount = 0
    }

    @inline(never) mutating func grow() {
        let bigger = ColumnStorage(capacity: storage.capacity * 2)
        for k in 0..<5 {
            bigger.mantissas[k].update(from: storage.mantissas[k], count: count)
            bigger.scales[k].update(from: storage.scales[k], count: count)
        }
        for k in 0..<2 { bigger.ints[k].update(from: storage.ints[k], count: count) }
        storage = bigger
    }

    /// Room for one more run and `nameBytes` more bytes of names.
    @inline(never) mutating func growRuns(nameBytes: Int) {
        let bigger = RunStorage(nameCapacity: max(runs.nameCapacity * 2, namesCount + nameBytes),
                                runCapacity: runCount < runs.runCapacity ? runs.runCapacity : runs.runCapacity * 2)
        bigger.names.update(from: runs.names, count: namesCount)
        bigger.nameEnds.update(from: runs.nameEnds, count: runCount)
        bigger.rowEnds.update(from: runs.rowEnds, count: runCount)
        runs = bigger
    }

    @inline(__always) mutating func appendValues(_ v: ParsedFloat, _ o: ParsedFloat, _ c: ParsedFloat, _ h: ParsedFloat,
                                                 _ l: ParsedFloat, _ ts: Int64, _ n: Int64) {
        if count == storage.capacity { grow() }
        let s = storage
        // Safe: count < capacity after the check above.
        s.volume[count] = v.m; s.open[count] = o.m; s.close[count] = c.m; s.high[count] = h.m; s.low[count] = l.m
        s.volumeK[count] = v.k; s.openK[count] = o.k; s.closeK[count] = c.k; s.highK[count] = h.k; s.lowK[count] = l.k
        s.windowStart[count] = ts; s.transactions[count] = n
        count &+= 1
    }

    /// Ends the current run at `count`.
    @inline(__always) mutating func closeRun() {
        // Safe: runCount - 1 < runCapacity.
        if runCount > 0 { runs.rowEnds[runCount &- 1] = UInt32(count) }
    }

    /// Starts a run of ticker `t` at the next row (closing the previous run).
    @inline(__always) mutating func startRun(_ t: UnsafeRawBufferPointer) {
        closeRun()
        if namesCount &+ t.count > runs.nameCapacity || runCount == runs.runCapacity { growRuns(nameBytes: t.count) }
        let r = runs
        // Safe: namesCount + t.count <= nameCapacity and runCount < runCapacity after the check above.
        if let src = t.baseAddress { UnsafeMutableRawPointer(r.names + namesCount).copyMemory(from: src, byteCount: t.count) }
        namesCount &+= t.count
        r.nameEnds[runCount] = UInt32(namesCount)
        r.rowEnds[runCount] = UInt32(count)
        runCount &+= 1
    }

    /// Hands the columns to `body` as one chunk. The last run must be closed.
    func withColumns<T>(_ body: (ColumnsView, UnsafeRawBufferPointer, UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<UInt32>) throws -> T) rethrows -> T {
        precondition(runCount > 0 ? Int(runs.rowEnds[runCount - 1]) == count : count == 0, "the last run is not closed")
        let m = storage.mantissas.map { UnsafeBufferPointer(start: $0, count: count) }
        let k = storage.scales.map { UnsafeBufferPointer(start: $0, count: count) }
        let i = storage.ints.map { UnsafeBufferPointer(start: $0, count: count) }
        return try body(ColumnsView(mantissas: m, scales: k, ints: i), UnsafeRawBufferPointer(start: runs.names, count: namesCount),
                        UnsafeBufferPointer(start: runs.nameEnds, count: runCount), UnsafeBufferPointer(start: runs.rowEnds, count: runCount))
    }
}

/// The options root of a ticker (`O:ROOT` + 15 characters), or the whole ticker.
@inline(__always) func rootLength(_ t: UnsafeRawBufferPointer) -> Int {
    t.count >= 18 && t[0] == UInt8(ascii: "O") && t[1] == UInt8(ascii: ":") ? t.count - 15 : t.count
}

@inline(__always) func sameRoot(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let la = rootLength(a), lb = rootLength(b)
    return la == lb && memcmp(a.baseAddress!, b.baseAddress!, la) == 0
}

// MARK: - The row sink: order check, date check, chunking

/// Receives parsed rows, checks order and the date of each `window_start`, and hands
/// whole-ticker chunks to the writer (encoded and compressed on the writer's own thread).
///
/// While the input is in (ticker, window_start) order, rows are handed on as chunks as soon as
/// enough whole tickers are pending, so memory stays bounded. When a row out of order is seen,
/// the rows already written are read back and every row is kept until the end, then sorted
/// (stable) and written: unsorted input costs memory proportional to its rows.
///
/// A struct used `inout` by the parser: no reference counting or dynamic exclusivity checks
/// per row.
public struct RowSink {
    /// An options root's contracts stay in one chunk until it holds this many times the target
    /// rows; then the chunk ends at the next contract.
    static let rootSpanFactor = 2
    public let dataset: Dataset
    public let date: TradingDate
    let writer: AsyncChunkWriter
    let targetRows: Int
    let fileName: String
    let strict: Bool
    var rows: Rows

    public private(set) var sorted = true
    public private(set) var rowCount = 0
    /// Rows whose window_start is outside the file's date (America/New_York).
    public private(set) var dateMismatches = 0
    public private(set) var firstMismatchLine = 0
    public private(set) var duplicateTimestamps = 0
    let dayStart: Int64, dayEnd: Int64
    private var lastTs = Int64.min

    init(dataset: Dataset, date: TradingDate, writer: AsyncChunkWriter, targetRows: Int, fileName: String, strict: Bool) {
        self.dataset = dataset; self.date = date; self.writer = writer
        self.targetRows = max(1, targetRows); self.fileName = fileName; self.strict = strict
        dayStart = EasternTime.unixNanos(date: date, minuteOfDay: 0)
        dayEnd = EasternTime.unixNanos(date: date.adding(days: 1), minuteOfDay: 0)
        rows = Rows(capacity: min(self.targetRows * 4 + 1024, 1 << 22))
    }

    /// Byte comparison of the current (last) run's ticker with `t`: <0, 0, >0.
    @inline(__always) func compareLast(_ t: UnsafeRawBufferPointer) -> Int {
        let last = rows.lastName
        // Safe: both buffers hold at least min(last.count, t.count) bytes.
        let r = memcmp(last.baseAddress!, t.baseAddress!, min(last.count, t.count))
        if r != 0 { return Int(r) }
        return last.count - t.count
    }

    @inline(__always) func lastRootDiffers(_ t: UnsafeRawBufferPointer) -> Bool {
        !sameRoot(rows.lastName, t)
    }

    /// Appends one row of Doubles.
    public mutating func append(ticker t: UnsafeRawBufferPointer, volume v: Double, open o: Double, close c: Double, high h: Double,
                                low l: Double, windowStart ts: Int64, transactions n: Int64, line: Int) throws {
        try append(ticker: t, volume: ParsedFloat(raw: v), open: ParsedFloat(raw: o), close: ParsedFloat(raw: c),
                   high: ParsedFloat(raw: h), low: ParsedFloat(raw: l), windowStart: ts, transactions: n, line: line)
    }

    /// Appends one parsed row. `sameTicker`: the caller knows `t` is the ticker of the row
    /// appended last (else it is compared).
    @inline(__always)
    public mutating func append(ticker t: UnsafeRawBufferPointer, volume v: ParsedFloat, open o: ParsedFloat, close c: ParsedFloat,
                                high h: ParsedFloat, low l: ParsedFloat, windowStart ts: Int64, transactions n: Int64, line: Int,
                                sameTicker: Bool = false) throws {
        // Most rows: a later bar of the current ticker, on the file's date, with room left.
        // The same steps as appendChecked takes for such a row, without a call.
        if ts > lastTs, ts >= dayStart, ts < dayEnd, rows.count < rows.storage.capacity, sameTicker || sameTickerAsLast(t) {
            rows.appendValues(v, o, c, h, l, ts, n)
            lastTs = ts
            rowCount &+= 1
            return
        }
        try appendChecked(ticker: t, volume: v, open: o, close: c, high: h, low: l, windowStart: ts, transactions: n, line: line)
    }

    /// Whether `t` is the current (last) run's ticker.
    @inline(__always) func sameTickerAsLast(_ t: UnsafeRawBufferPointer) -> Bool {
        guard rows.runCount > 0 else { return false }
        let last = rows.lastName
        guard last.count == t.count else { return false }
        // Safe: both buffers hold t.count bytes.
        return memcmp(last.baseAddress!, t.baseAddress!, t.count) == 0
    }

    @inline(never)
    mutating func appendChecked(ticker t: UnsafeRawBufferPointer, volume v: ParsedFloat, open o: ParsedFloat, close c: ParsedFloat,
                                high h: ParsedFloat, low l: ParsedFloat, windowStart ts: Int64, transactions n: Int64, line: Int) throws {
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
    mutating func appendUnchecked(ticker t: UnsafeRawBufferPointer, volume v: ParsedFloat, open o: ParsedFloat, close c: ParsedFloat,
                                  high h: ParsedFloat, low l: ParsedFloat, windowStart ts: Int64, transactions n: Int64) throws {
        // cmp < 0: the new ticker sorts after the current one (in order).
        let cmp = rows.runCount == 0 ? -1 : compareLast(t)
        if cmp == 0 {
            if ts < lastTs {
                if sorted { try becomeUnsorted() }
            } else if ts == lastTs { duplicateTimestamps += 1 }
            rows.appendValues(v, o, c, h, l, ts, n)
        } else {
            if cmp < 0 {
                // Safe to end a chunk here: every pending ticker is complete.
                if sorted, rows.count >= targetRows, lastRootDiffers(t) || rows.count >= targetRows * RowSink.rootSpanFactor {
                    try flush()
                }
            } else if sorted {
                try becomeUnsorted()
            }
            rows.startRun(t)
            rows.appendValues(v, o, c, h, l, ts, n)
        }
        lastTs = ts
        rowCount += 1
    }

    private mutating func becomeUnsorted() throws {
        sorted = false
        try writer.drain()
        guard !writer.writer.chunks.isEmpty else { return }
        // Read back what was written, then re-append the pending rows after it.
        rows.closeRun()
        let pending = rows
        rows = Rows(capacity: pending.count)
        let savedCount = rowCount
        rowCount = 0
        try writer.writer.takeBack(into: &self)
        for k in 0..<pending.runCount {
            let nb = pending.name(k)
            for j in pending.rowRange(k) {
                try appendUnchecked(ticker: nb, volume: pending.float(0, j), open: pending.float(1, j), close: pending.float(2, j),
                                    high: pending.float(3, j), low: pending.float(4, j), windowStart: pending.windowStart[j],
                                    transactions: pending.transactions[j])
            }
        }
        precondition(rowCount == savedCount, "read-back lost rows")
    }

    /// Hands all pending rows (sorted input) to the writer as one chunk.
    private mutating func flush() throws {
        guard !rows.isEmpty else { return }
        rows.closeRun()
        rows = try writer.submit(rows)
    }

    /// Writes whatever is pending (for unsorted input, sorts everything first) and waits
    /// until every chunk is written.
    public mutating func finish() throws {
        if sorted { try flush() } else { try writeSorted() }
        try writer.drain()
    }

    /// Stable sort of all rows by (ticker bytes, window_start), then chunked as in streaming mode.
    private mutating func writeSorted() throws {
        rows.closeRun()
        let r = rows
        rows = Rows(capacity: 0)
        let runCount = r.runCount
        var runs = Array(0..<runCount)
        runs.sort { a, b in
            let x = r.name(a), y = r.name(b)
            if x.elementsEqual(y) { return a < b }
            return x.lexicographicallyPrecedes(y)
        }
        // Row permutation: per ticker, its rows (in run order), stable-sorted by window_start.
        var perm: [Int] = []
        perm.reserveCapacity(r.count)
        var outNames: [UInt8] = [], outNameEnds: [UInt32] = [], outTickerEnds: [Int] = []
        var i = 0
        while i < runs.count {
            var j = i + 1
            while j < runs.count, r.name(runs[j]).elementsEqual(r.name(runs[i])) { j += 1 }
            let startPerm = perm.count
            var needSort = false
            var prev = Int64.min
            for k in i..<j {
                let run = runs[k]
                for row in r.rowRange(run) {
                    if r.windowStart[row] < prev { needSort = true }
                    prev = r.windowStart[row]
                    perm.append(row)
                }
            }
            if needSort {
                let ts = r.windowStart
                let seg = perm[startPerm...].enumerated().sorted { a, b in
                    ts[a.element] != ts[b.element] ? ts[a.element] < ts[b.element] : a.offset < b.offset
                }.map { $0.element }
                perm.replaceSubrange(startPerm..., with: seg)
            }
            outNames.append(contentsOf: r.name(runs[i]))
            outNameEnds.append(UInt32(outNames.count))
            outTickerEnds.append(perm.count)
            i = j
        }
        // Chunk boundaries with the same rule as streaming.
        var chunk = Rows(capacity: targetRows * 4 + 1024)
        var rowStart = 0
        for t in 0..<outNameEnds.count {
            let ns = t == 0 ? 0 : Int(outNameEnds[t - 1])
            try outNames[ns..<Int(outNameEnds[t])].withUnsafeBytes { tb in
                if chunk.count >= targetRows {
                    let differs = !sameRoot(chunk.lastName, tb)
                    if differs || chunk.count >= targetRows * RowSink.rootSpanFactor { chunk.closeRun(); chunk = try writer.submit(chunk) }
                }
                chunk.startRun(tb)
            }
            for p in perm[rowStart..<outTickerEnds[t]] {
                chunk.appendValues(r.float(0, p), r.float(1, p), r.float(2, p), r.float(3, p), r.float(4, p),
                                   r.windowStart[p], r.transactions[p])
            }
            rowStart = outTickerEnds[t]
        }
        chunk.closeRun()
        if !chunk.isEmpty { _ = try writer.submit(chunk) }
    }
}

// MARK: - Stage 4a: chunks encoded and written on their own thread

/// Encodes, compresses and writes chunks on a background thread, so that parsing the next
/// chunk overlaps with compressing this one. At most `queueDepth` chunks wait; their arrays are
/// reused.
///
/// Given a `BlockPipe` that threads share (`helping:`), the thread also inflates the next block
/// whenever no chunk waits, as the parser does whenever no block is ready: a conversion then
/// runs on two threads, and inflating goes to whichever is free (see `Converter.convert`).
final class AsyncChunkWriter: @unchecked Sendable {
    /// Chunks that may wait for the writer thread (about 13 ms of its work for options minute
    /// chunks of 16,384 rows; 2 was 3 ms, less than one of the scheduler's slices).
    static let queueDepth = 8
    let writer: FFCWriter
    private let monitor: Monitor
    private let pipe: BlockPipe?
    private var queue: [Rows] = []
    private var spare: [Rows] = []
    private var busy = false
    private var stopped = false
    private var error: Error?
    private var worker: Worker?
    private let capacity: Int

    init(writer: FFCWriter, chunkCapacity: Int, helping pipe: BlockPipe? = nil) {
        self.writer = writer
        self.capacity = chunkCapacity
        self.pipe = pipe
        monitor = pipe?.monitor ?? Monitor()
        worker = Worker(name: "ffcol-write") { [unowned self] in self.loop() }
    }

    private func loop() {
        monitor.lock()
        while true {
            if !queue.isEmpty {
                var job = queue.removeFirst()
                busy = true
                let failed = error != nil
                monitor.unlock()
                var err: Error?
                if !failed {
                    do {
                        try job.withColumns { cols, names, ne, re in
                            try writer.writeChunk(cols, names: names, nameEnds: ne, rowEnds: re)
                        }
                    } catch { err = error }
                }
                job.removeAll()
                monitor.lock()
                if let e = err, error == nil { error = e }
                spare.append(job)
                busy = false
                monitor.broadcast()
                continue
            }
            if let pipe = pipe, pipe.inflateNextLocked() { continue }
            if stopped { break }
            // Nothing to encode, and no block to inflate now: the thread inflating one hands
            // the stream over (see BlockPipe.inflateNextLocked).
            pipe?.helperWaiting = true
            monitor.wait()
            pipe?.helperWaiting = false
        }
        monitor.unlock()
    }

    /// Queues a chunk; returns empty arrays to fill next. Throws an earlier write error.
    func submit(_ rows: Rows) throws -> Rows {
        monitor.lock()
        defer { monitor.unlock() }
        if let e = error { throw e }
        while queue.count >= AsyncChunkWriter.queueDepth && error == nil { monitor.wait() }
        if let e = error { throw e }
        queue.append(rows)
        monitor.broadcast()
        return spare.popLast() ?? Rows(capacity: capacity)
    }

    /// Waits until every queued chunk is written; throws a write error.
    func drain() throws {
        monitor.lock()
        defer { monitor.unlock() }
        while (!queue.isEmpty || busy) && error == nil { monitor.wait() }
        if let e = error { throw e }
    }

    /// Stops the thread (after the queue is empty). Call once, on success or failure.
    func stop() {
        monitor.lock()
        if error != nil { queue.removeAll() }
        stopped = true
        monitor.broadcast()
        monitor.unlock()
        worker?.join()
        worker = nil
    }
}
