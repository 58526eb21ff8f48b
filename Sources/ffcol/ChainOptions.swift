import ArgumentParser
import FFCol

extension OptionType: ExpressibleByArgument {}

/// `ffcol scan` options that select contracts of an options chain.
struct ChainOptions: ParsableArguments {
    @Option(help: "Options underlying root (e.g. SPY, AAPL1); repeatable. Prints its contracts, narrowed by the options below.")
    var underlying: [String] = []

    @Option(help: "With --underlying: only contracts expiring on this date (YYYY-MM-DD).")
    var expiry: TradingDate?

    @Option(name: .customLong("expiry-from"), help: "With --underlying: only contracts expiring on or after this date.")
    var expiryFrom: TradingDate?

    @Option(name: .customLong("expiry-to"), help: "With --underlying: only contracts expiring on or before this date.")
    var expiryTo: TradingDate?

    @Option(help: "With --underlying: only this strike, in dollars (e.g. 600 or 172.5; exact to 0.001).")
    var strike: String?

    @Option(name: .customLong("strike-min"), help: "With --underlying: only strikes at or above this, in dollars.")
    var strikeMin: String?

    @Option(name: .customLong("strike-max"), help: "With --underlying: only strikes at or below this, in dollars.")
    var strikeMax: String?

    @Option(help: "With --underlying: only calls or only puts: call or put.")
    var type: OptionType?

    var narrows: Bool {
        expiry != nil || expiryFrom != nil || expiryTo != nil || strike != nil || strikeMin != nil || strikeMax != nil || type != nil
    }

    func validate() throws {
        if underlying.isEmpty && narrows {
            throw ValidationError("--expiry, --expiry-from, --expiry-to, --strike, --strike-min, --strike-max and --type need --underlying")
        }
        if expiry != nil && (expiryFrom != nil || expiryTo != nil) {
            throw ValidationError("use either --expiry or --expiry-from/--expiry-to")
        }
        if strike != nil && (strikeMin != nil || strikeMax != nil) {
            throw ValidationError("use either --strike or --strike-min/--strike-max")
        }
        for (name, v) in [("--strike", strike), ("--strike-min", strikeMin), ("--strike-max", strikeMax)] {
            if let v = v, ChainFilter.strikeThousandths(v) == nil {
                throw ValidationError("\(name) '\(v)' is not a strike in dollars (digits with at most three decimals)")
            }
        }
        if let a = expiryFrom, let b = expiryTo, b < a { throw ValidationError("--expiry-to \(b) is before --expiry-from \(a)") }
        if let a = strikeMin.flatMap(ChainFilter.strikeThousandths), let b = strikeMax.flatMap(ChainFilter.strikeThousandths), b < a {
            throw ValidationError("--strike-max is below --strike-min")
        }
    }

    var filter: ChainFilter {
        let k = strike.flatMap(ChainFilter.strikeThousandths)
        return ChainFilter(expiryFrom: expiry ?? expiryFrom, expiryTo: expiry ?? expiryTo,
                           strikeMinThousandths: k ?? strikeMin.flatMap(ChainFilter.strikeThousandths),
                           strikeMaxThousandths: k ?? strikeMax.flatMap(ChainFilter.strikeThousandths),
                           type: type)
    }
}
