import FFCol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Settings: flags > environment > files

/// Values given on the command line; nil means "not given".
public struct S3Overrides: Sendable {
    public var endpoint: String?
    public var bucket: String?
    public var region: String?
    public var root: String?
    public var maxConcurrent: Int?
    public init(endpoint: String? = nil, bucket: String? = nil, region: String? = nil,
                root: String? = nil, maxConcurrent: Int? = nil) {
        self.endpoint = endpoint; self.bucket = bucket; self.region = region
        self.root = root; self.maxConcurrent = maxConcurrent
    }
}

/// The resolved settings of a run and where each came from.
///
/// Sources, highest precedence first:
/// 1. flags (`--endpoint-url`, `--bucket`, `--region`, `--root`, `--max-concurrent`);
/// 2. environment: keys from `POLYGON_S3_ACCESS_KEY_ID`/`POLYGON_S3_SECRET_ACCESS_KEY`, else
///    `MASSIVE_S3_ACCESS_KEY_ID`/`MASSIVE_S3_SECRET_ACCESS_KEY`, else
///    `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (always as a pair from one family);
///    `POLYGON_S3_ENDPOINT_URL` (or `MASSIVE_S3_ENDPOINT_URL`), `POLYGON_S3_BUCKET` (or
///    `MASSIVE_S3_BUCKET`), `FFCOL_S3_REGION`, `FFCOL_ROOT`, `FFCOL_MAX_CONCURRENT`;
/// 3. `config/credentials.yaml` (`polygon: s3: access_key_id, secret_access_key,
///    endpoint_url, bucket`; a warning if group or others can read it);
/// 4. `config/ffcol.yaml` (`root`, `max_concurrent`, `s3: endpoint_url, bucket, region`);
/// 5. defaults (`https://files.massive.com`, `flatfiles`, `us-east-1`, root `data`, 4).
public struct S3Settings: Sendable {
    public var endpoint = S3Configuration.defaultEndpoint
    public var bucket = S3Configuration.defaultBucket
    public var region = S3Configuration.defaultRegion
    public var root = "data"
    public var maxConcurrent = 4
    public var credentials: S3Credentials?
    /// Where each setting came from (`flag`, `env POLYGON_S3_BUCKET`, `config/ffcol.yaml:3`,
    /// `default`), for `--verbose`. Never contains a secret.
    public var origin: [String: String] = [:]
    /// Warnings to show the user (a credentials file readable by others).
    public var warnings: [String] = []

    public init() {}

    /// Resolves the settings. `configDirectory` holds `ffcol.yaml` and `credentials.yaml`;
    /// missing files are fine, malformed ones throw with the file and line.
    public static func resolve(overrides: S3Overrides = S3Overrides(),
                               environment: [String: String],
                               configDirectory: String = "config") throws -> S3Settings {
        var s = S3Settings()
        for k in ["endpoint", "bucket", "region", "root", "max_concurrent"] { s.origin[k] = "default" }

        // 4. config/ffcol.yaml
        let ffcolPath = configDirectory + "/ffcol.yaml"
        if let text = readTextFile(ffcolPath) {
            let y = try SimpleYAML.parse(text, file: ffcolPath)
            func at(_ p: String) -> String { "\(ffcolPath):\(SimpleYAML.line(of: p, in: y) ?? 0)" }
            if let v = try SimpleYAML.string(y, "root", file: ffcolPath) { s.root = v; s.origin["root"] = at("root") }
            if let v = try SimpleYAML.int(y, "max_concurrent", file: ffcolPath) {
                s.maxConcurrent = v; s.origin["max_concurrent"] = at("max_concurrent")
            }
            if let v = try SimpleYAML.string(y, "s3.endpoint_url", file: ffcolPath) { s.endpoint = v; s.origin["endpoint"] = at("s3.endpoint_url") }
            if let v = try SimpleYAML.string(y, "s3.bucket", file: ffcolPath) { s.bucket = v; s.origin["bucket"] = at("s3.bucket") }
            if let v = try SimpleYAML.string(y, "s3.region", file: ffcolPath) { s.region = v; s.origin["region"] = at("s3.region") }
        }

        // 3. config/credentials.yaml
        let credPath = configDirectory + "/credentials.yaml"
        if let text = readTextFile(credPath) {
            var st = stat()
            if stat(credPath, &st) == 0, (st.st_mode & 0o044) != 0 {
                let mode = String(st.st_mode & 0o777, radix: 8)
                s.warnings.append("warning: \(credPath) is readable by group or others (mode \(mode)); run: chmod 600 \(credPath)")
            }
            let y = try SimpleYAML.parse(text, file: credPath)
            let base = y.at("polygon.s3") != nil ? "polygon.s3" : (y.at("massive.s3") != nil ? "massive.s3" : "polygon.s3")
            func at(_ p: String) -> String { "\(credPath):\(SimpleYAML.line(of: p, in: y) ?? 0)" }
            let id = try SimpleYAML.string(y, base + ".access_key_id", file: credPath)
            let secret = try SimpleYAML.string(y, base + ".secret_access_key", file: credPath)
            if let id, let secret {
                s.credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret)
                s.origin["credentials"] = at(base + ".access_key_id")
            } else if (id == nil) != (secret == nil) {
                throw SimpleYAML.ParseError(file: credPath, line: SimpleYAML.line(of: base, in: y) ?? 0,
                                            message: "\(base) needs both access_key_id and secret_access_key")
            }
            if let v = try SimpleYAML.string(y, base + ".endpoint_url", file: credPath) { s.endpoint = v; s.origin["endpoint"] = at(base + ".endpoint_url") }
            if let v = try SimpleYAML.string(y, base + ".bucket", file: credPath) { s.bucket = v; s.origin["bucket"] = at(base + ".bucket") }
        }

        // 2. environment
        func env(_ k: String) -> String? { environment[k].flatMap { $0.isEmpty ? nil : $0 } }
        for (idName, secretName) in [("POLYGON_S3_ACCESS_KEY_ID", "POLYGON_S3_SECRET_ACCESS_KEY"),
                                     ("MASSIVE_S3_ACCESS_KEY_ID", "MASSIVE_S3_SECRET_ACCESS_KEY"),
                                     ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")] {
            if let id = env(idName), let secret = env(secretName) {
                s.credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret)
                s.origin["credentials"] = "env \(idName)"
                break
            }
        }
        for (name, key) in [("POLYGON_S3_ENDPOINT_URL", "endpoint"), ("MASSIVE_S3_ENDPOINT_URL", "endpoint"),
                            ("POLYGON_S3_BUCKET", "bucket"), ("MASSIVE_S3_BUCKET", "bucket"),
                            ("FFCOL_S3_REGION", "region"), ("FFCOL_ROOT", "root")] {
            guard let v = env(name), !(s.origin[key] ?? "").hasPrefix("env ") else { continue }
            switch key {
            case "endpoint": s.endpoint = v
            case "bucket": s.bucket = v
            case "region": s.region = v
            default: s.root = v
            }
            s.origin[key] = "env \(name)"
        }
        if let v = env("FFCOL_MAX_CONCURRENT") {
            guard let n = Int(v) else {
                throw S3Error(.configuration("FFCOL_MAX_CONCURRENT must be an integer, got '\(v)'"), key: "")
            }
            s.maxConcurrent = n; s.origin["max_concurrent"] = "env FFCOL_MAX_CONCURRENT"
        }

        // 1. flags
        if let v = overrides.endpoint { s.endpoint = v; s.origin["endpoint"] = "flag --endpoint-url" }
        if let v = overrides.bucket { s.bucket = v; s.origin["bucket"] = "flag --bucket" }
        if let v = overrides.region { s.region = v; s.origin["region"] = "flag --region" }
        if let v = overrides.root { s.root = v; s.origin["root"] = "flag --root" }
        if let v = overrides.maxConcurrent { s.maxConcurrent = v; s.origin["max_concurrent"] = "flag --max-concurrent" }

        guard s.maxConcurrent >= 1 && s.maxConcurrent <= 64 else {
            throw S3Error(.configuration("max_concurrent must be between 1 and 64 (from \(s.origin["max_concurrent"] ?? "?"))"), key: "")
        }
        guard s.endpoint.hasPrefix("http://") || s.endpoint.hasPrefix("https://") else {
            throw S3Error(.configuration("the endpoint must start with http:// or https:// (got '\(s.endpoint)' from \(s.origin["endpoint"] ?? "?"))"), key: "")
        }
        return s
    }

    /// The client configuration; throws a clear error if no keys were found.
    public func configuration() throws -> S3Configuration {
        guard let credentials else {
            throw S3Error(.configuration("""
                no S3 credentials: set POLYGON_S3_ACCESS_KEY_ID and POLYGON_S3_SECRET_ACCESS_KEY \
                (or the MASSIVE_ / AWS_ names), or write config/credentials.yaml \
                (see config/credentials.example.yaml). Use the S3 keys from the dashboard, not the REST API key.
                """), key: "")
        }
        return S3Configuration(endpoint: endpoint, bucket: bucket, region: region, credentials: credentials)
    }
}

/// The file's text, nil if it does not exist or cannot be read.
func readTextFile(_ path: String) -> String? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
