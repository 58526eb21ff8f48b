// csv.gz -> .ffc, stage by stage and whole, on synthetic flat files (see BenchFixtures).
//
// Each benchmark reports, besides package-benchmark's time, CPU, malloc and peak RSS metrics,
// two custom ones computed from its own wall time: "CSV MB/s" (decompressed CSV bytes per
// second, 1 MB = 10^6 bytes) and "rows/s".
import Benchmark
import BenchFixtures
import FFCol
import FFColConvert

let csvMBps = BenchmarkMetric.custom("CSV MB/s", polarity: .prefersLarger, useScalingFactor: false)
let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, csvMBps, rowsPerSecond]

func report(_ b: Benchmark, seconds: Double, csvBytes: UInt64, rows: Int) {
    guard seconds > 0 else { return }
    b.measurement(csvMBps, Int((Double(csvBytes) / 1e6 / seconds).rounded()))
    b.measurement(rowsPerSecond, Int((Double(rows) / seconds).rounded()))
}

/// The options minute day, compressed and plain, in memory.
struct OptionsDay {
    let gzip: [UInt8]
    let csv: [UInt8]
    let rows: Int
}

func optionsDay(plain: Bool) throws -> OptionsDay {
    let gz = try Fixtures.read(try Fixtures.optionsGzip())
    return OptionsDay(gzip: gz, csv: plain ? try Fixtures.optionsCSV() : [], rows: Fixtures.optionsRows)
}

func convertOptions(_ dataset: Dataset, _ date: TradingDate) -> ConvertOptions {
    var o = ConvertOptions(outRoot: Fixtures.scratchRoot)
    o.dataset = dataset
    o.date = date
    return o
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: metrics,
        warmupIterations: 1,
        maxDuration: .seconds(30),
        maxIterations: 5
    )
    let day = Fixtures.optionsDate

    Benchmark("Inflate: options minute day (gzip in memory)") { benchmark, d in
        let t0 = now()
        let n = try ConvertStages.inflate(source: MemorySource(d.gzip))
        report(benchmark, seconds: now() - t0, csvBytes: n, rows: d.rows)
        blackHole(n)
    } setup: {
        try optionsDay(plain: false)
    }

    Benchmark("Parse: options minute day (CSV in memory)") { benchmark, d in
        let t0 = now()
        let c = try d.csv.withUnsafeBytes { try ConvertStages.parse(csv: $0, dataset: .optionsMinute, date: day) }
        report(benchmark, seconds: now() - t0, csvBytes: c.csvBytes, rows: c.rows)
        blackHole(c)
    } setup: {
        try optionsDay(plain: true)
    }

    Benchmark("Inflate+parse: options minute day (gzip in memory, 2 threads)") { benchmark, d in
        let t0 = now()
        let c = try ConvertStages.inflateAndParse(source: MemorySource(d.gzip), dataset: .optionsMinute, date: day)
        report(benchmark, seconds: now() - t0, csvBytes: c.csvBytes, rows: c.rows)
        blackHole(c)
    } setup: {
        try optionsDay(plain: false)
    }

    Benchmark("Parse+encode+write: options minute day (plain CSV in memory)") { benchmark, d in
        let t0 = now()
        let r = try Converter.convert(source: MemorySource(d.csv, name: "options.csv"),
                                      options: convertOptions(.optionsMinute, day))
        report(benchmark, seconds: now() - t0, csvBytes: r.csvBytes, rows: r.rows)
        blackHole(r.bytesOut)
    } setup: {
        try optionsDay(plain: true)
    }

    Benchmark("Convert: options minute day (csv.gz file)") { benchmark, path in
        let t0 = now()
        let r = try Converter.convert(path: path, options: convertOptions(.optionsMinute, day))
        report(benchmark, seconds: now() - t0, csvBytes: r.csvBytes, rows: r.rows)
        blackHole(r.bytesOut)
    } setup: {
        try Fixtures.optionsGzip()
    }

    Benchmark("Convert: stocks minute day (csv.gz file)") { benchmark, path in
        let t0 = now()
        let r = try Converter.convert(path: path, options: convertOptions(.stocksMinute, Fixtures.stocksDates[0]))
        report(benchmark, seconds: now() - t0, csvBytes: r.csvBytes, rows: r.rows)
        blackHole(r.bytesOut)
    } setup: {
        try Fixtures.stocksGzip(Fixtures.stocksDates[0])
    }
}
