#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - A root of converted files

/// A directory of converted files: `ROOT/<dataset>/YYYY/MM/YYYY-MM-DD.ffc`.
public struct Store: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    /// The path of the file for a dataset and date (whether or not it exists).
    public func path(dataset: Dataset, date: TradingDate) -> String {
        let m = date.month < 10 ? "0\(date.month)" : "\(date.month)"
        return "\(root)/\(dataset.rawValue)/\(date.year)/\(m)/\(date).ffc"
    }

    /// Datasets that have at least one converted file under the root.
    public func datasets() -> [Dataset] {
        Dataset.allCases.filter { !dates(dataset: $0).isEmpty }
    }

    /// Dates with a converted file, ascending, optionally within `from...to`.
    public func dates(dataset: Dataset, from: TradingDate? = nil, to: TradingDate? = nil) -> [TradingDate] {
        var out: [TradingDate] = []
        let dsDir = "\(root)/\(dataset.rawValue)"
        for y in Store.list(dsDir) {
            guard y.utf8.count == 4, let yi = Int(y) else { continue }
            if let f = from, yi < f.year { continue }
            if let t = to, yi > t.year { continue }
            for m in Store.list("\(dsDir)/\(y)") {
                guard m.utf8.count == 2, Int(m) != nil else { continue }
                for f in Store.list("\(dsDir)/\(y)/\(m)") where f.hasSuffix(".ffc") && f.utf8.count == 14 {
                    guard let d = TradingDate(f.prefix(10)) else { continue }
                    if let a = from, d < a { continue }
                    if let b = to, b < d { continue }
                    out.append(d)
                }
            }
        }
        return out.sorted()
    }

    /// Opens the file of one dataset and date (nil if there is none). `.read` suits reading a
    /// few chunks of many files (one ticker across dates), `.mapped` reading many chunks.
    public func open(dataset: Dataset, date: TradingDate, access mode: FFCFile.Access = .mapped) throws -> FFCFile? {
        try FFCFile.openIfPresent(path: path(dataset: dataset, date: date), access: mode)
    }

    /// One ticker's bars across a date range, one entry per date that has rows (missing
    /// dates are simply absent), in date order. Iterating opens and decodes the dates ahead of
    /// the consumer on `threads` threads, the consumer's own included (at most `4 * threads`
    /// dates ahead, so memory stays bounded however long the range is).
    public func bars(ticker: String, dataset: Dataset, from: TradingDate? = nil, to: TradingDate? = nil,
                     columns: [Column] = Column.allCases, threads: Int = Store.defaultThreads) -> TickerSeries {
        TickerSeries(store: self, ticker: ticker, dataset: dataset, dates: dates(dataset: dataset, from: from, to: to),
                     columns: columns, threads: threads)
    }

    /// Names in a directory, excluding `.` and `..` and hidden entries; empty if unreadable.
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = direntName(e)
            if name.hasPrefix(".") { continue }
            out.append(name)
        }
        return out.sorted()
    }
}

/// A ticker's bars over several dates, decoded ahead of the consumer on background threads.
///
/// Not a `Sequence` on purpose: a `for ... in` loop could not report a damaged file. Use
/// `forEach` (throws the first error) or `load()`; `makeIterator()` gives an iterator whose
/// `error` must be checked after the loop.
public struct TickerSeries {
    public let store: Store
    public let ticker: String
    public let dataset: Dataset
    /// The dates that have a file (not all of them need hold the ticker).
    public let dates: [TradingDate]
    public let columns: [Column]
    /// Threads that open and decode dates ahead of the consumer, the consumer's own included
    /// (it decodes dates while the next one is not ready; `threads - 1` run in the background).
    /// 0 or 1: each date is decoded when it is asked for.
    public let threads: Int

    public init(store: Store, ticker: String, dataset: Dataset, dates: [TradingDate], columns: [Column],
                threads: Int = Store.defaultThreads) {
        self.store = store; self.ticker = ticker; self.dataset = dataset; self.dates = dates
        self.columns = columns; self.threads = max(0, threads)
    }

    /// Yields the dates' bars in date order; check `error` after the loop. Dates after the
    /// first error are not yielded. Dropping the iterator stops its background threads. Copies
    /// of an iterator share one position; use it from one thread at a time.
    public struct Iterator: IteratorProtocol {
        let ahead: OrderedPrefetch<Result<Bars?, Error>>
        /// The first error met while opening or decoding a file; iteration stops there.
        public private(set) var error: Error?
        public mutating func next() -> Bars? {
            guard error == nil else { return nil }
            while let r = ahead.next() {
                switch r {
                case .success(let b?): return b
                case .success(nil): continue
                case .failure(let e):
                    error = e
                    ahead.cancel()
                    return nil
                }
            }
            return nil
        }
    }

    public func makeIterator() -> Iterator {
        let s = self
        // threads - 1 workers and the consumer, which decodes dates itself while its next one
        // is not ready (a date takes ~0.1 ms: waking a sleeping consumer for each cost more).
        return Iterator(ahead: OrderedPrefetch(count: dates.count, threads: max(0, threads - 1), ahead: 4 * max(1, threads),
                                               consumerHelps: true) { i in
            Result { () throws -> Bars? in
                // One chunk of each file: read, not mapped (see FFCFile.Access).
                guard let f = try s.store.open(dataset: s.dataset, date: s.dates[i], access: .read) else { return nil }
                return try f.bars(ticker: s.ticker, columns: s.columns)
            }
        })
    }

    /// Calls `body` with each date's bars, in date order. Throws the first error (a damaged
    /// or unreadable file, or one thrown by `body`).
    public func forEach(_ body: (Bars) throws -> Void) throws {
        var it = makeIterator()
        while let b = it.next() { try body(b) }
        if let e = it.error { throw e }
    }

    /// All dates' bars, throwing the first error.
    public func load() throws -> [Bars] {
        var out: [Bars] = []
        try forEach { out.append($0) }
        return out
    }
}

// MARK: - Parallel column scans

extension Store {
    /// Decodes `columns` of every chunk of every file of `dataset` in `from...to` on `threads`
    /// threads and calls `body` with each decoded chunk, concurrently from those threads, in no
    /// particular order. For whole-column work (sums, filters, statistics over all rows):
    /// each thread decodes with its own zstd context, and decoded chunks are not cached.
    /// Files are read (`FFCFile.Access.read`: each column's pages of a chunk in one `pread`, no
    /// page faults or `munmap`), opened as the threads reach them and closed when their chunks
    /// are done, so a few are open at a time however many dates there are.
    /// Throws the first error met (the remaining work is abandoned).
    public func forEachChunk(dataset: Dataset, from: TradingDate? = nil, to: TradingDate? = nil,
                             columns: [Column], threads: Int = Store.defaultThreads,
                             _ body: @escaping @Sendable (TradingDate, DecodedChunk) throws -> Void) throws {
        let work = ChunkWork(store: self, dataset: dataset, dates: dates(dataset: dataset, from: from, to: to))
        let failure = FirstError()
        let n = max(1, threads)
        _ = parallelMap(count: n, threads: n) { _ in
            while failure.error == nil {
                do {
                    guard let item = try work.next() else { return }
                    try body(item.0.date, try item.0.chunk(item.1, columns: columns))
                } catch {
                    failure.set(error)
                }
            }
        }
        if let e = failure.error { throw e }
    }

    /// The number of online processors.
    public static var defaultThreads: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// The chunks of a run of dates, handed out one at a time in date order; each file is opened
/// (for reading, with its decoded chunks not cached) when the first of its chunks is asked for.
private final class ChunkWork: @unchecked Sendable {
    private let lock = Lock()
    private let store: Store
    private let dataset: Dataset
    private let dates: [TradingDate]
    private var nextDate = 0
    private var file: FFCFile?
    private var nextChunk = 0

    init(store: Store, dataset: Dataset, dates: [TradingDate]) {
        self.store = store; self.dataset = dataset; self.dates = dates
    }

    /// The next chunk to decode, or nil when every date's chunks have been handed out.
    func next() throws -> (FFCFile, Int)? {
        try lock.withLock {
            while true {
                if let f = file, nextChunk < f.chunkCount {
                    nextChunk += 1
                    return (f, nextChunk - 1)
                }
                file = nil
                guard nextDate < dates.count else { return nil }
                let d = dates[nextDate]
                nextDate += 1
                if let f = try store.open(dataset: dataset, date: d, access: .read) {
                    f.cacheLimit = 0
                    file = f
                    nextChunk = 0
                }
            }
        }
    }
}

/// The first error reported by any thread.
private final class FirstError: @unchecked Sendable {
    private let lock = Lock()
    private var first: Error?
    var error: Error? { lock.withLock { first } }
    func set(_ e: Error) { lock.withLock { if first == nil { first = e } } }
}
