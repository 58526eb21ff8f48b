// The reader library on converted synthetic files (see BenchFixtures): opening a file,
// lookups, one-ticker scans and whole-column decodes. Files are opened anew in every
// iteration, so decoded chunks are never reused across iterations (the page cache is warm).
//
// Custom metric "rows/s": rows delivered per second of the benchmark's own wall time.
import Benchmark
import BenchFixtures
import FFCol

let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
let rowsMetric = BenchmarkMetric.custom("rows", polarity: .prefersSmaller, useScalingFactor: false)

func report(_ b: Benchmark, seconds: Double, rows: Int) {
    b.measurement(rowsMetric, rows)
    if seconds > 0 { b.measurement(rowsPerSecond, Int((Double(rows) / seconds).rounded())) }
}

func optionsPath() throws -> String {
    let s = try Fixtures.prepareStore()
    return s.path(dataset: .optionsMinute, date: Fixtures.optionsDate)
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]
    Benchmark.defaultConfiguration = .init(
        metrics: metrics + [rowsPerSecond, rowsMetric],
        warmupIterations: 2,
        maxDuration: .seconds(10),
        maxIterations: 50
    )
    let first = Fixtures.stocksDates.first!, last = Fixtures.stocksDates.last!

    Benchmark("Open: options minute day (mmap, trailer, footer checksum and decode)",
              configuration: .init(metrics: metrics, maxDuration: .seconds(3), maxIterations: 10_000)) { _, path in
        let f = try FFCFile(path: path)
        blackHole(f.chunkCount)
    } setup: {
        try optionsPath()
    }

    Benchmark("Lookup: chunk of one contract in an open options file (x1000)",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo,
                                   maxDuration: .seconds(3), maxIterations: 10_000)) { benchmark, s in
        for _ in benchmark.scaledIterations { blackHole(s.file.chunkIndex(containing: s.key)) }
    } setup: { () -> (file: FFCFile, key: [UInt8]) in
        let f = try FFCFile(path: try optionsPath())
        let c = try f.contracts(underlying: Fixtures.scanUnderlying, columns: [])
        return (f, Array(c[c.count / 2].ticker.utf8))
    }

    Benchmark("Open + one contract's bars, cold (options minute day, all columns)",
              configuration: .init(metrics: metrics, maxDuration: .seconds(3), maxIterations: 10_000)) { _, s in
        let f = try FFCFile(path: s.path)
        blackHole(try f.bars(ticker: s.ticker)?.count)
    } setup: { () -> (path: String, ticker: String) in
        let p = try optionsPath()
        let c = try FFCFile(path: p).contracts(underlying: Fixtures.scanUnderlying, columns: [])
        return (p, c[c.count / 2].ticker)
    }

    Benchmark("Scan: \(Fixtures.scanTicker) across \(Fixtures.days) stocks minute days (all columns, sum close)") { benchmark, store in
        let t0 = now()
        var rows = 0, sum = 0.0
        try store.bars(ticker: Fixtures.scanTicker, dataset: .stocksMinute, from: first, to: last).forEach { day in
            rows += day.count
            for c in day.close { sum += c }
        }
        precondition(rows > 0, "the scan found no rows: the benchmark files are missing or stale")
        report(benchmark, seconds: now() - t0, rows: rows)
        blackHole(sum)
    } setup: {
        try Fixtures.prepareStore()
    }

    // Bar values only (the dates are decoded once, in setup): what a backtest's
    // `for bar in day` costs per row once the data is in memory.
    Benchmark("Iterate: \(Fixtures.scanTicker)'s Bar values over \(Fixtures.days) stocks minute days, decoded (x1000)",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, rowsPerSecond, rowsMetric], scalingFactor: .kilo,
                                   maxDuration: .seconds(3), maxIterations: 10_000)) { benchmark, days in
        let t0 = now()
        var rows = 0, sum = 0.0
        for _ in benchmark.scaledIterations {
            for day in days {
                for bar in day {
                    sum += bar.close + bar.volume + bar.high - bar.low + Double(bar.transactions & 1)
                    rows += 1
                }
            }
        }
        report(benchmark, seconds: now() - t0, rows: rows)
        blackHole(sum)
    } setup: { () -> [Bars] in
        let days = try Fixtures.prepareStore().bars(ticker: Fixtures.scanTicker, dataset: .stocksMinute, from: first, to: last).load()
        precondition(!days.isEmpty, "the scan found no rows: the benchmark files are missing or stale")
        return days
    }

    Benchmark("Scan: underlying \(Fixtures.scanUnderlying), options minute day (every contract, all columns, sum close)") { benchmark, path in
        let t0 = now()
        let f = try FFCFile(path: path)
        var rows = 0, sum = 0.0
        for b in try f.contracts(underlying: Fixtures.scanUnderlying) {
            rows += b.count
            for c in b.close { sum += c }
        }
        precondition(rows > 0, "the underlying has no contracts in the benchmark file")
        report(benchmark, seconds: now() - t0, rows: rows)
        blackHole(sum)
    } setup: {
        try optionsPath()
    }

    Benchmark("Decode: volume of every row, \(Fixtures.days) stocks minute days (sum)") { benchmark, store in
        let t0 = now()
        var rows = 0, sum = 0.0
        for date in store.dates(dataset: .stocksMinute, from: first, to: last) {
            guard let f = try store.open(dataset: .stocksMinute, date: date) else { continue }
            f.cacheLimit = 1
            for i in 0..<f.chunkCount {
                let v = try f.chunk(i, columns: [.volume]).doubles(.volume)!
                rows += v.count
                for x in v { sum += x }
            }
        }
        report(benchmark, seconds: now() - t0, rows: rows)
        blackHole(sum)
    } setup: {
        try Fixtures.prepareStore()
    }
}
