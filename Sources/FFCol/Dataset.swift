// MARK: - Datasets and trading dates

/// One of the four aggregate datasets of the Polygon/Massive flat files.
public enum Dataset: String, CaseIterable, Sendable, Codable {
    case stocksDay = "stocks_day"
    case stocksMinute = "stocks_minute"
    case optionsDay = "options_day"
    case optionsMinute = "options_minute"

    /// The S3 key prefix of the dataset, e.g. `us_stocks_sip/minute_aggs_v1`.
    public var keyPrefix: String {
        switch self {
        case .stocksDay: return "us_stocks_sip/day_aggs_v1"
        case .stocksMinute: return "us_stocks_sip/minute_aggs_v1"
        case .optionsDay: return "us_options_opra/day_aggs_v1"
        case .optionsMinute: return "us_options_opra/minute_aggs_v1"
        }
    }

    /// True for the OPRA datasets, whose tickers are OCC symbols (`O:AAPL251017C00150000`).
    public var isOptions: Bool { self == .optionsDay || self == .optionsMinute }
    /// True for the minute-bar datasets.
    public var isMinute: Bool { self == .stocksMinute || self == .optionsMinute }

    /// The S3 key of the file for `date`: `PREFIX/YYYY/MM/YYYY-MM-DD.csv.gz`.
    public func key(for date: TradingDate) -> String {
        "\(keyPrefix)/\(date.yearString)/\(date.monthString)/\(date.description).csv.gz"
    }

    /// The dataset whose key prefix appears in `path`, if any.
    public static func detect(inPath path: String) -> Dataset? {
        for d in Dataset.allCases where path.contains(d.keyPrefix) { return d }
        for d in Dataset.allCases where path.contains(d.rawValue) { return d }
        return nil
    }
}

/// A calendar date (proleptic Gregorian), as in file names `YYYY-MM-DD`.
public struct TradingDate: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date, returning nil if it does not exist (2025-02-30).
    public init?(year: Int, month: Int, day: Int) {
        guard (1970...2200).contains(year), (1...12).contains(month),
              day >= 1, day <= TradingDate.daysIn(month: month, year: year) else { return nil }
        self.year = year; self.month = month; self.day = day
    }

    /// Parses `YYYY-MM-DD`; nil if malformed or not a real date.
    public init?(_ text: some StringProtocol) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                let d = Int(u[i]) - 48
                guard d >= 0, d <= 9 else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Days since 1970-01-01.
    public init(daysSinceEpoch z0: Int) {
        // Howard Hinnant's civil_from_days.
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = m <= 2 ? y + 1 : y
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int { ((daysSinceEpoch % 7) + 7 + 4) % 7 }

    public func adding(days: Int) -> TradingDate { TradingDate(daysSinceEpoch: daysSinceEpoch + days) }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        default: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        }
    }

    public static func < (a: TradingDate, b: TradingDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    var yearString: String { String(year) }
    var monthString: String { month < 10 ? "0\(month)" : "\(month)" }
    var dayString: String { day < 10 ? "0\(day)" : "\(day)" }
    public var description: String { "\(yearString)-\(monthString)-\(dayString)" }

    /// The last `DDDD-DD-DD` in a path that is shaped like a date but is not one (2025-02-30).
    public static func impossibleDate(inPath path: String) -> String? {
        let u = Array(path.utf8)
        guard u.count >= 10 else { return nil }
        func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        for i in stride(from: u.count - 10, through: 0, by: -1) {
            let s = u[i..<i + 10]
            let shape = s.enumerated().allSatisfy { k, b in k == 4 || k == 7 ? b == UInt8(ascii: "-") : digit(b) }
            if shape { return String(decoding: s, as: UTF8.self) }
        }
        return nil
    }

    /// Finds the last `YYYY-MM-DD` in a path or file name.
    public static func detect(inPath path: String) -> TradingDate? {
        let u = Array(path.utf8)
        guard u.count >= 10 else { return nil }
        var i = u.count - 10
        while i >= 0 {
            if u[i + 4] == UInt8(ascii: "-"), u[i + 7] == UInt8(ascii: "-"),
               let d = TradingDate(String(decoding: u[i..<i + 10], as: UTF8.self)) { return d }
            i -= 1
        }
        return nil
    }
}
