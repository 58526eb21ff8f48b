// The reader-library side of scripts/compare.py, timed in-process like the Python peers.
//
//   compare-reader scan ROOT DATASET TICKER RUNS     one ticker, every date, all columns
//   compare-reader sum ROOT DATASET COLUMN RUNS      one column over every row of every date
//
// Prints one JSON object: the best wall time of RUNS runs, the rows seen and a checksum.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ s: String) -> Never {
    fputs("compare-reader: \(s)\n", stderr)
    exit(2)
}

let args = CommandLine.arguments
guard args.count == 6, let runs = Int(args[5]), runs > 0 else {
    fail("usage: compare-reader scan|sum ROOT DATASET TICKER|COLUMN RUNS")
}
guard let dataset = Dataset(rawValue: args[3]) else { fail("unknown dataset \(args[3])") }
// Every run opens the files anew through a new Store: nothing decoded is carried from one
// run to the next (the page cache is warm after the first run, as for the Python peers).
let root = args[2]

func scan(_ ticker: String) throws -> (Int, Double) {
    let store = Store(root: root)
    var rows = 0, sum = 0.0
    var it = store.bars(ticker: ticker, dataset: dataset).makeIterator()
    while let day = it.next() {
        rows += day.count
        for bar in day { sum += bar.close + bar.volume + Double(bar.windowStart & 1) }
    }
    if let e = it.error { throw e }
    return (rows, sum)
}

/// One column over every row of every date, decoded on both cores with the reader's
/// parallel chunk scan; per-thread partial sums are added at the end.
final class Partials: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    var rows = 0, total = 0.0
    init() { pthread_mutex_init(&mutex, nil) }
    func add(_ r: Int, _ t: Double) {
        pthread_mutex_lock(&mutex); rows += r; total += t; pthread_mutex_unlock(&mutex)
    }
}

func sum(_ column: Column) throws -> (Int, Double) {
    let store = Store(root: root)
    let p = Partials()
    try store.forEachChunk(dataset: dataset, columns: [column]) { _, c in
        // Four accumulators: the additions are independent, so they pipeline.
        var t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0
        if let v = c.doubles(column) {
            v.withUnsafeBufferPointer { b in
                var i = 0
                while i + 4 <= b.count { t0 += b[i]; t1 += b[i + 1]; t2 += b[i + 2]; t3 += b[i + 3]; i += 4 }
                while i < b.count { t0 += b[i]; i += 1 }
            }
            p.add(v.count, (t0 + t1) + (t2 + t3))
        } else if let v = c.int64s(column) {
            for x in v { t0 += Double(x) }
            p.add(v.count, t0)
        }
    }
    return (p.rows, p.total)
}

var best = Double.infinity
var result = (0, 0.0)
do {
    for _ in 0..<runs {
        let t0 = seconds()
        switch args[1] {
        case "scan": result = try scan(args[4])
        case "sum":
            guard let c = Column(name: args[4]) else { fail("unknown column \(args[4])") }
            result = try sum(c)
        default: fail("unknown command \(args[1])")
        }
        best = min(best, seconds() - t0)
    }
} catch {
    fail("\(error)")
}
print("{\"seconds\": \(best), \"rows\": \(result.0), \"checksum\": \(result.1)}")
