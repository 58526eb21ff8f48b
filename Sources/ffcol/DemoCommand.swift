#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import FFCol
import FFColConvert

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a realistic options minute day, convert it, and scan a ticker from it, with timings.",
        discussion: """
        Writes DIR/flatfiles/us_options_opra/minute_aggs_v1/2025/09/2025-09-29.csv.gz (reused if \
        it is already there with the same row count and seed), converts it into DIR/data, then \
        looks up the SPY contracts and prints the busiest one's first bars.
        """)

    @Option(help: "Rows to generate (a full options minute day is about 5,500,000).")
    var rows: Int = 5_500_000

    @Option(help: "Working directory for the generated and converted files.")
    var dir: String = "demo-data"

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 42

    @Option(help: "Underlying to scan.")
    var underlying: String = "SPY"

    func validate() throws {
        if rows < 1 { throw ValidationError("--rows must be at least 1") }
    }

    func run() throws {
        TemporaryFiles.removeAllOnSignals()
        let date = TradingDate("2025-09-29")!
        let key = Dataset.optionsMinute.key(for: date)
        let input = "\(dir)/flatfiles/\(key)"
        let marker = input + ".rows-\(rows)-seed-\(seed)"
        try FFCWriter.makeDirectories(String(input[..<input.lastIndex(of: "/")!]))
        if access(input, F_OK) == 0 && access(marker, F_OK) == 0 {
            note("1. reusing \(input)")
        } else {
            unlink(input)
            note("1. generating \(rows) rows of options minute bars for \(date) -> \(input)")
            let t = monotonicSeconds()
            let s = try Synth.writeGzip(SynthOptions(dataset: .optionsMinute, date: date, rows: rows, seed: seed), to: input)
            note("   \(s.rows) rows, \(s.tickers) contracts, \(fmtBytes(UInt64(s.csvBytes))) of CSV, \(fmtBytes(UInt64(s.gzipBytes ?? 0))) gzipped, \(fmt2(monotonicSeconds() - t)) s")
            fclose(fopen(marker, "w"))
        }

        let root = "\(dir)/data"
        note("2. converting -> \(root)")
        var o = ConvertOptions(outRoot: root)
        let r = try Converter.convert(path: input, options: o)
        o.dataset = nil
        note("   \(r.rows) rows, \(r.tickers) contracts, \(r.chunks) chunks: \(fmtBytes(r.bytesIn)) gzip (\(fmtBytes(r.csvBytes)) CSV) -> \(fmtBytes(r.bytesOut)) .ffc in \(fmt2(r.seconds)) s")
        note("   \(fmtRate(Double(r.rows) / r.seconds)) rows/s, \(fmt2(Double(r.csvBytes) / r.seconds / 1e6)) MB/s of CSV; .ffc is \(fmt2(Double(r.bytesOut) / Double(r.bytesIn)))x the gzip size")

        note("3. scanning \(underlying) from \(r.output)")
        let t0 = monotonicSeconds()
        let f = try FFCFile(path: r.output)
        let t1 = monotonicSeconds()
        let contracts = try f.contracts(underlying: underlying)
        let t2 = monotonicSeconds()
        let bars = contracts.reduce(0) { $0 + $1.count }
        note("   open + footer check: \(micro(t1 - t0)); all \(contracts.count) \(underlying) contracts (\(bars) bars): \(micro(t2 - t1))")
        guard let busiest = contracts.max(by: { $0.count < $1.count }) else {
            note("   no \(underlying) contracts in the file"); return
        }
        f.dropCache()
        let t3 = monotonicSeconds()
        let one = try f.bars(ticker: busiest.ticker)!
        var volume = 0.0
        for bar in one { volume += bar.volume }
        let t4 = monotonicSeconds()
        note("   one contract, \(busiest.ticker): \(one.count) bars, volume \(Int(volume)), looked up and decoded in \(micro(t4 - t3))")
        note("")
        let printer = RowPrinter(format: .table, columns: Column.allCases, tz: .newYork, limit: 10)
        printer.begin()
        _ = printer.print(one)
        printer.end()
        note("\nTry: .build/release/ffcol scan --root \(root) --ticker \(underlying) --limit 20")
        note("     .build/release/ffcol inspect \(r.output)")
    }

    func micro(_ s: Double) -> String { s < 0.01 ? "\(Int((s * 1e6).rounded())) µs" : "\(fmt2(s * 1000)) ms" }
}
