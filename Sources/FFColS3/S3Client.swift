import CCurl
import FFCol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Credentials and configuration

/// S3 access keys. `description` never shows the secret.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String

    public init(accessKeyID: String, secretAccessKey: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    public var description: String { "S3Credentials(\(accessKeyID), secret: <redacted>)" }
    public var debugDescription: String { description }
}

/// Where and how to reach the bucket.
public struct S3Configuration: Sendable {
    /// `https://files.massive.com` or `http://127.0.0.1:PORT`; requests use path-style URLs.
    public var endpoint: String
    public var bucket: String
    public var region: String
    public var credentials: S3Credentials
    /// Seconds to establish a connection.
    public var connectTimeout: Int = 15
    /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is a stall.
    public var lowSpeedLimit: Int = 1024
    public var lowSpeedTime: Int = 30
    /// Receives one line per request (method, URL, status, timing); never a secret.
    public var trace: (@Sendable (String) -> Void)?

    public static let defaultEndpoint = "https://files.massive.com"
    public static let defaultBucket = "flatfiles"
    public static let defaultRegion = "us-east-1"

    public init(endpoint: String = S3Configuration.defaultEndpoint, bucket: String = S3Configuration.defaultBucket,
                region: String = S3Configuration.defaultRegion, credentials: S3Credentials) {
        var e = endpoint
        while e.hasSuffix("/") { e.removeLast() }
        self.endpoint = e
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
    }
}

/// Metadata of an object (from HEAD or a GET's headers).
public struct S3ObjectInfo: Sendable, Equatable {
    /// The ETag without quotes.
    public var etag: String
    /// The whole object's size (from Content-Length, or the total in Content-Range).
    public var size: Int64
    public var lastModified: String
}

/// The head of a GET response.
public struct S3ResponseHead: Sendable {
    public var status: Int
    /// Header names lowercased; the last value wins.
    public var headers: [String: String]

    public var etag: String? { headers["etag"].map(normalizeETag) }
    public var contentLength: Int64? { headers["content-length"].flatMap { Int64($0) } }
    /// `(start, end, total)` of a `Content-Range: bytes S-E/T` header.
    public var contentRange: (start: Int64, end: Int64, total: Int64?)? {
        guard let v = headers["content-range"], v.hasPrefix("bytes ") else { return nil }
        let rest = v.dropFirst(6)
        let parts = rest.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let se = parts[0].split(separator: "-")
        guard se.count == 2, let s = Int64(se[0]), let e = Int64(se[1]) else { return nil }
        return (s, e, Int64(parts[1]))
    }
}

// MARK: - The client

/// An S3 client on libcurl: GET (whole, ranged, streamed), HEAD, PUT, ListObjectsV2, with
/// path-style URLs and AWS Signature V4 (`CURLOPT_AWS_SIGV4`).
///
/// Signing facts (measured with libcurl 7.88): curl does not add `x-amz-content-sha256`, and
/// S3 refuses a request without it, so every request sends `UNSIGNED-PAYLOAD`; curl signs the
/// query string as given, so queries are built sorted by key with everything except
/// `A-Za-z0-9-_.~` percent-encoded; the region and service are given explicitly.
///
/// Thread safety: one client can be used from many threads; each request uses its own curl
/// handle. Requests are synchronous: a body sink is called on the calling thread.
public final class S3Client: @unchecked Sendable {
    public let configuration: S3Configuration

    /// Why libcurl could not be loaded, or nil once it is (loaded on first use: see
    /// Sources/CCurl).
    private static let libcurlLoadError: String? = {
        var buf = [CChar](repeating: 0, count: 512)
        return ffcol_curl_load(&buf, buf.count) == 0 ? nil : String(cString: buf)
    }()

    public init(_ configuration: S3Configuration) {
        self.configuration = configuration
    }

    // MARK: URLs

    /// Percent-encodes everything except `A-Za-z0-9-_.~` (and `/` when `keepSlash`).
    public static func percentEncode(_ s: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 15)]))
            }
        }
        return out
    }

    /// A canonical query string: sorted by key (then value), both percent-encoded.
    public static func canonicalQuery(_ items: [(String, String)]) -> String {
        items.map { (percentEncode($0.0), percentEncode($0.1)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The path-style URL of `key` (or of the bucket when `key` is empty).
    public func url(key: String, query: [(String, String)] = []) -> String {
        var u = configuration.endpoint + "/" + S3Client.percentEncode(configuration.bucket)
        if !key.isEmpty { u += "/" + S3Client.percentEncode(key, keepSlash: true) }
        if !query.isEmpty { u += "?" + S3Client.canonicalQuery(query) }
        return u
    }

    // MARK: Operations

    /// HEAD: the object's ETag, size and Last-Modified.
    public func head(key: String) throws -> S3ObjectInfo {
        let r = try perform(method: "HEAD", url: url(key: key), key: key)
        return S3ObjectInfo(etag: r.head.etag ?? "", size: r.head.contentLength ?? 0,
                            lastModified: r.head.headers["last-modified"] ?? "")
    }

    /// GET the whole object into memory (small objects: listings, tests).
    public func getData(key: String) throws -> [UInt8] {
        try perform(method: "GET", url: url(key: key), key: key).body
    }

    /// GET, streaming: `sink` receives the body bytes as they arrive and returns false to
    /// stop (the call then throws `.cancelled`). `rangeStart` asks for `bytes=N-`;
    /// `ifMatch` makes the server refuse (412) if the object's ETag changed.
    /// `onHead` sees the response head before the first body byte.
    @discardableResult
    public func get(key: String, rangeStart: Int64? = nil, ifMatch: String? = nil,
                    onHead: ((S3ResponseHead) -> Void)? = nil,
                    sink: @escaping (UnsafeRawBufferPointer) -> Bool) throws -> S3ResponseHead {
        var headers: [String] = []
        if let rangeStart { headers.append("Range: bytes=\(rangeStart)-") }
        if let ifMatch { headers.append("If-Match: \"\(ifMatch)\"") }
        return try perform(method: "GET", url: url(key: key), key: key, extraHeaders: headers,
                           onHead: onHead, sink: sink).head
    }

    /// PUT a small object; returns its ETag.
    @discardableResult
    public func put(key: String, body: [UInt8], contentType: String = "application/octet-stream") throws -> String {
        let r = try perform(method: "PUT", url: url(key: key), key: key,
                            extraHeaders: ["Content-Type: \(contentType)"], upload: body)
        return r.head.etag ?? ""
    }

    /// Creates the configured bucket (tests and local mirrors; the provider's bucket exists).
    public func createBucket() throws {
        _ = try perform(method: "PUT", url: url(key: ""), key: configuration.bucket, upload: [])
    }

    /// DELETE an object (tests).
    public func delete(key: String) throws {
        _ = try perform(method: "DELETE", url: url(key: key), key: key)
    }

    /// One page of ListObjectsV2.
    public func listPage(prefix: String, maxKeys: Int = 1000, continuationToken: String? = nil) throws -> S3ListPage {
        var q: [(String, String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys))]
        if let continuationToken { q.append(("continuation-token", continuationToken)) }
        let what = configuration.bucket + "/" + prefix
        let r = try perform(method: "GET", url: url(key: "", query: q), key: what)
        return try S3XML.parseList(r.body, key: what)
    }

    /// All objects under `prefix`, following continuation tokens.
    public func list(prefix: String, maxKeys: Int = 1000) throws -> [S3Object] {
        var out: [S3Object] = []
        var token: String? = nil
        var pages = 0
        repeat {
            let page = try listPage(prefix: prefix, maxKeys: maxKeys, continuationToken: token)
            out += page.objects
            token = page.nextContinuationToken
            pages += 1
            if pages > 1_000_000 { throw S3Error(.protocolError("listing does not end"), key: prefix) }
        } while token != nil
        return out
    }

    // MARK: The request machinery

    struct Result {
        var head: S3ResponseHead
        var body: [UInt8]
    }

    /// The per-request state the curl callbacks see.
    final class Transfer {
        var status = 0
        var headers: [String: String] = [:]
        var headDelivered = false
        var onHead: ((S3ResponseHead) -> Void)?
        var sink: ((UnsafeRawBufferPointer) -> Bool)?
        var body: [UInt8] = []
        var cancelled = false
        var upload: [UInt8] = []
        var uploadOffset = 0

        var isSuccess: Bool { (200..<300).contains(status) }
    }

    func perform(method: String, url: String, key: String, extraHeaders: [String] = [],
                 upload: [UInt8]? = nil, onHead: ((S3ResponseHead) -> Void)? = nil,
                 sink: ((UnsafeRawBufferPointer) -> Bool)? = nil) throws -> Result {
        if let why = S3Client.libcurlLoadError {
            throw S3Error(.configuration("cannot load libcurl, which ffcol needs to talk to S3: \(why) "
                + "(install it: apt-get install libcurl4)"), key: key)
        }
        guard let h = ffcol_curl_easy_init() else {
            throw S3Error(.configuration("libcurl could not create a handle"), key: key)
        }
        defer { ffcol_curl_easy_cleanup(h) }
        let t = Transfer()
        t.onHead = onHead
        t.sink = sink
        let cfg = configuration
        let started = monotonicSeconds()

        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { ffcol_curl_slist_free_all(list) }
        // No "Expect:" override here: curl would sign the header it then leaves out, and S3
        // would refuse the signature.
        let headers = ["x-amz-content-sha256: UNSIGNED-PAYLOAD"] + extraHeaders
        for line in headers { list = ffcol_curl_slist_append(list, line) }

        let errbuf = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        defer { errbuf.deallocate() }
        errbuf[0] = 0

        ffcol_curl_setopt_ptr(h, CURLOPT_URL, url)
        ffcol_curl_setopt_ptr(h, CURLOPT_AWS_SIGV4, "aws:amz:\(cfg.region):s3")
        ffcol_curl_setopt_ptr(h, CURLOPT_USERNAME, cfg.credentials.accessKeyID)
        ffcol_curl_setopt_ptr(h, CURLOPT_PASSWORD, cfg.credentials.secretAccessKey)
        ffcol_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, list)
        ffcol_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errbuf)
        ffcol_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        ffcol_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, cfg.connectTimeout)
        ffcol_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, cfg.lowSpeedLimit)
        ffcol_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, cfg.lowSpeedTime)
        ffcol_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        // Never send credentials anywhere but the endpoint; no curl-side debug output.
        ffcol_curl_setopt_long(h, CURLOPT_VERBOSE, 0)
        ffcol_curl_setopt_ptr(h, CURLOPT_USERAGENT, "ffcol")

        switch method {
        case "GET": ffcol_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD": ffcol_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        case "PUT":
            ffcol_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
            t.upload = upload ?? []
            ffcol_curl_setopt_off(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(t.upload.count))
            ffcol_curl_setopt_read(h, s3ReadCallback)
            // curl sends "Expect: 100-continue" with a body; servers that never answer it
            // (moto) would cost a second per upload.
            ffcol_curl_setopt_long(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 100)
        default: ffcol_curl_setopt_ptr(h, CURLOPT_CUSTOMREQUEST, method)
        }

        let box = Unmanaged.passRetained(t)
        defer { box.release() }
        let ctx = box.toOpaque()
        ffcol_curl_setopt_write(h, s3WriteCallback)
        ffcol_curl_setopt_ptr(h, CURLOPT_WRITEDATA, ctx)
        ffcol_curl_setopt_header(h, s3HeaderCallback)
        ffcol_curl_setopt_ptr(h, CURLOPT_HEADERDATA, ctx)
        if method == "PUT" { ffcol_curl_setopt_ptr(h, CURLOPT_READDATA, ctx) }

        let rc = ffcol_curl_easy_perform(h)
        var status = 0
        ffcol_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        if status != 0 { t.status = status }
        let head = S3ResponseHead(status: t.status, headers: t.headers)

        if let trace = cfg.trace {
            let ms = Int((monotonicSeconds() - started) * 1000)
            var line = "\(method) \(url)"
            for x in headers { line += " [\(x)]" }
            line += " [Authorization: AWS4-HMAC-SHA256 Credential=\(cfg.credentials.accessKeyID)/... Signature=<redacted>]"
            line += " -> "
            line += rc == CURLE_OK ? "\(t.status)" : "curl \(rc.rawValue) (status \(t.status))"
            if let e = head.etag { line += " etag=\(e)" }
            if let l = head.contentLength { line += " length=\(l)" }
            line += " \(ms) ms"
            trace(line)
        }

        if t.cancelled { throw S3Error(.cancelled, key: key) }
        // An HTTP error answer is reported as such even if the transfer then failed.
        if t.status >= 300 {
            let (code, message) = S3XML.parseError(t.body)
            throw S3Error(.http(status: t.status, code: code, message: message), key: key)
        }
        if rc != CURLE_OK {
            var msg = String(cString: errbuf)
            if msg.isEmpty { msg = String(cString: ffcol_curl_easy_strerror(rc)) }
            throw S3Error(.transport(curlCode: Int(rc.rawValue), message: redact(msg)), key: key)
        }
        return Result(head: head, body: t.body)
    }

    /// Removes the secret from a message, should a library ever echo it.
    func redact(_ s: String) -> String {
        let secret = configuration.credentials.secretAccessKey
        guard !secret.isEmpty, s.contains(secret) else { return s }
        return s.replacingAll(secret, with: "<redacted>")
    }
}

// MARK: - curl callbacks (C function pointers; the context is an unretained Transfer)

private func s3WriteCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ n: Int, _ ctx: UnsafeMutableRawPointer?) -> Int {
    let count = size * n
    guard let ptr, let ctx else { return count }
    let t = Unmanaged<S3Client.Transfer>.fromOpaque(ctx).takeUnretainedValue()
    let buf = UnsafeRawBufferPointer(start: ptr, count: count)
    if t.isSuccess, let sink = t.sink {
        if !t.headDelivered { t.headDelivered = true; t.onHead?(S3ResponseHead(status: t.status, headers: t.headers)) }
        if !sink(buf) { t.cancelled = true; return 0 }
        return count
    }
    // Bodies of errors and of non-streamed requests are kept (errors capped at 1 MiB).
    if !t.isSuccess && t.body.count > 1 << 20 { return count }
    t.body.append(contentsOf: buf)
    return count
}

private func s3HeaderCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ n: Int, _ ctx: UnsafeMutableRawPointer?) -> Int {
    let count = size * n
    guard let ptr, let ctx else { return count }
    let t = Unmanaged<S3Client.Transfer>.fromOpaque(ctx).takeUnretainedValue()
    // Trim CR/LF as bytes: "\r\n" is one Character, so String.hasSuffix("\n") misses it.
    var raw = UnsafeRawBufferPointer(start: ptr, count: count)[...]
    while let last = raw.last, last == 10 || last == 13 { raw = raw.dropLast() }
    let line = String(decoding: raw, as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new response (after 100 Continue, for instance): start over.
        let parts = line.split(separator: " ", maxSplits: 2)
        t.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        t.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        var value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
        while let l = value.last, l == " " || l == "\t" { value = value.dropLast() }
        t.headers[name] = String(value)
    }
    return count
}

private func s3ReadCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ n: Int, _ ctx: UnsafeMutableRawPointer?) -> Int {
    guard let ptr, let ctx else { return 0 }
    let t = Unmanaged<S3Client.Transfer>.fromOpaque(ctx).takeUnretainedValue()
    let room = size * n
    let left = t.upload.count - t.uploadOffset
    let k = min(room, left)
    if k > 0 {
        t.upload.withUnsafeBytes { src in
            UnsafeMutableRawPointer(ptr).copyMemory(from: src.baseAddress! + t.uploadOffset, byteCount: k)
        }
        t.uploadOffset += k
    }
    return k
}

// MARK: - Small helpers

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}
