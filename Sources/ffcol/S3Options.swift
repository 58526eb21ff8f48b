import ArgumentParser
import FFCol
import FFColS3
import Foundation

// MARK: - Options shared by the S3 commands

/// Where the bucket is and where files go. Flags win over the environment, which wins over
/// `config/credentials.yaml`, which wins over `config/ffcol.yaml`.
struct S3Options: ParsableArguments {
    @Option(name: .customLong("endpoint-url"),
            help: "S3 endpoint (default https://files.massive.com; env POLYGON_S3_ENDPOINT_URL).")
    var endpoint: String?

    @Option(help: "Bucket (default flatfiles; env POLYGON_S3_BUCKET).")
    var bucket: String?

    @Option(help: "Region used in the SigV4 signature (default us-east-1; env FFCOL_S3_REGION).")
    var region: String?

    @Option(help: "Output root: raw files under ROOT/raw, records under ROOT/.ffcol (default data; env FFCOL_ROOT; root: in config/ffcol.yaml).")
    var root: String?

    @Option(name: .customLong("config-dir"), help: "Directory holding ffcol.yaml and credentials.yaml.")
    var configDir: String = "config"

    @Flag(name: .shortAndLong, help: "Trace each request (method, URL, status, timing) and each retry on stderr; secrets are never printed.")
    var verbose = false

    func settings(maxConcurrent: Int? = nil) throws -> S3Settings {
        let s = try S3Settings.resolve(
            overrides: S3Overrides(endpoint: endpoint, bucket: bucket, region: region, root: root, maxConcurrent: maxConcurrent),
            environment: ProcessInfo.processInfo.environment, configDirectory: configDir)
        for w in s.warnings { printErr(w) }
        if verbose {
            for k in s.origin.keys.sorted() { printErr("setting \(k) from \(s.origin[k]!)") }
        }
        return s
    }
}

/// A dataset name: `stocks_day`, `stocks_minute`, `options_day`, `options_minute`, or a key
/// prefix such as `us_stocks_sip/day_aggs_v1`.
func parseDataset(_ s: String) throws -> Dataset {
    if let d = Dataset(rawValue: s) { return d }
    if let d = Dataset.allCases.first(where: { $0.keyPrefix == s || $0.keyPrefix + "/" == s }) { return d }
    throw ValidationError("unknown dataset '\(s)'; use one of: \(Dataset.allCases.map(\.rawValue).joined(separator: ", "))")
}

func parseDate(_ s: String, _ flag: String) throws -> TradingDate {
    guard let d = TradingDate(s) else { throw ValidationError("\(flag) must be a date YYYY-MM-DD, got '\(s)'") }
    return d
}

func printErr(_ s: String) {
    FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
}


func formatBytes(_ n: Int64) -> String {
    let v = Double(n)
    if v >= 1e9 { return String(format: "%.2f GB", v / 1e9) }
    if v >= 1e6 { return String(format: "%.1f MB", v / 1e6) }
    if v >= 1e3 { return String(format: "%.1f kB", v / 1e3) }
    return "\(n) B"
}

func formatDuration(_ s: Double) -> String {
    let t = Int(s.rounded())
    return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
}

func jsonString<T: Encodable>(_ v: T) -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try! e.encode(v), as: UTF8.self)
}
