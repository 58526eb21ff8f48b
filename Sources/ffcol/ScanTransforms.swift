import ArgumentParser
import FFCol

extension Session: ExpressibleByArgument {}

extension BarInterval: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { ["5m", "15m", "30m", "1h", "1d"] }
}

/// What `ffcol scan` does to each ticker's bars of a date before printing them:
/// session filter, then split adjustment, then resampling.
struct BarTransform {
    let session: Session
    let resample: BarInterval?
    let splits: SplitTable?
    let asOf: TradingDate

    init(scan: ScanCommand, dataset: Dataset, lastDate: TradingDate) throws {
        session = scan.session
        resample = scan.resample
        asOf = scan.asOf ?? lastDate
        if !dataset.isMinute && (session == .regular || resample != nil) {
            throw Failure("--session regular and --resample need a minute dataset (stocks_minute or options_minute), not \(dataset.rawValue)")
        }
        if let path = scan.adjustSplits {
            do { splits = try SplitTable(path: path) } catch let e as SplitsFileError { throw Failure("\(e)") }
        } else {
            splits = nil
        }
    }

    var isIdentity: Bool { session == .extended && resample == nil && splits == nil }

    /// The columns to decode: all of them when bars are transformed.
    func loadColumns(_ printed: [Column]) -> [Column] { isIdentity ? printed : Column.allCases }

    /// Prints `b` transformed; false once the printer's limit is reached.
    func print(_ b: Bars, _ printer: RowPrinter) -> Bool {
        let v = b.restricted(to: session)
        if splits == nil && resample == nil { return printer.print(v) }
        var c = splits?.adjusted(v, asOf: asOf) ?? BarColumns(v)
        if let iv = resample { c = Resampler.resample(c, interval: iv, session: session) }
        return printer.print(ticker: v.ticker, c)
    }
}
