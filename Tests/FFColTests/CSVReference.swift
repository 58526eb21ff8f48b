@testable import FFCol

/// A row of a generated CSV, parsed straight from the text (the reference the reader is checked against).
struct CSVRow: Equatable {
    var ticker: String
    var volume, open, close, high, low: Double
    var windowStart, transactions: Int64

    var bar: Bar {
        Bar(volume: volume, open: open, close: close, high: high, low: low, windowStart: windowStart, transactions: transactions)
    }

    static func parse(_ csv: [UInt8]) -> [CSVRow] {
        var out: [CSVRow] = []
        for (i, line) in csv.split(separator: 10).enumerated() where i > 0 {
            var l = line
            if l.last == 13 { l = l.dropLast() }
            let f = l.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            out.append(CSVRow(ticker: f[0], volume: Double(f[1])!, open: Double(f[2])!, close: Double(f[3])!, high: Double(f[4])!,
                              low: Double(f[5])!, windowStart: Int64(f[6])!, transactions: Int64(f[7])!))
        }
        return out
    }
}
