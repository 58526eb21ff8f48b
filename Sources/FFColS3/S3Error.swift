import CCurl

// MARK: - Errors of the S3 layer

/// An error from an S3 request: what happened, on which key, and whether retrying can help.
///
/// Messages never contain a secret: the request's Authorization header and the credentials
/// are never copied into an error.
public struct S3Error: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The server answered with an HTTP error; `code`/`message` come from the XML body.
        case http(status: Int, code: String?, message: String?)
        /// The transfer failed below HTTP (connection refused or reset, timeout, stall,
        /// truncated body); `curlCode` is libcurl's CURLcode.
        case transport(curlCode: Int, message: String)
        /// The body did not match what the server announced (length or ETag).
        case integrity(String)
        /// The object changed while being read (ETag differs from the first response).
        case changed(String)
        /// A malformed response (listing XML that cannot be read).
        case protocolError(String)
        /// The consumer of the body stopped the transfer.
        case cancelled
        /// Missing or invalid configuration (no credentials, bad endpoint).
        case configuration(String)

        /// The text of a transport, integrity, changed, protocol or configuration error.
        public var message: String {
            switch self {
            case let .http(_, _, m): return m ?? ""
            case let .transport(_, m), let .integrity(m), let .changed(m), let .protocolError(m), let .configuration(m): return m
            case .cancelled: return "cancelled"
            }
        }
    }

    public let kind: Kind
    /// The S3 key (or `bucket/prefix` for a listing) the request was about.
    public let key: String

    public init(_ kind: Kind, key: String) { self.kind = kind; self.key = key }

    /// The HTTP status, if the server answered.
    public var status: Int? {
        if case let .http(s, _, _) = kind { return s }
        return nil
    }

    /// The S3 error code (`NoSuchKey`, `SignatureDoesNotMatch`, `SlowDown`, ...), if any.
    public var code: String? {
        if case let .http(_, c, _) = kind { return c }
        return nil
    }

    /// True for 404 / NoSuchKey: no file for that key.
    public var isNotFound: Bool { status == 404 }

    /// True when a retry can succeed: 5xx, 429, SlowDown, RequestTimeout, timeouts, resets,
    /// stalls, truncated bodies, an integrity mismatch after a transfer that looked complete.
    public var isRetryable: Bool {
        switch kind {
        case let .http(status, code, _):
            if status >= 500 || status == 429 { return true }
            if let code, ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"].contains(code) { return true }
            return false
        case let .transport(c, _):
            let retryable: [CURLcode] = [
                CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING,
                CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM,
                CURLE_SSL_CONNECT_ERROR, CURLE_COULDNT_RESOLVE_HOST, CURLE_WEIRD_SERVER_REPLY,
            ]
            return retryable.contains { Int($0.rawValue) == c }
        case .integrity: return true
        case .changed: return true
        case .protocolError, .cancelled, .configuration: return false
        }
    }

    public var description: String {
        switch kind {
        case let .http(status, code, message):
            var s = "\(key): HTTP \(status)"
            if let code { s += " \(code)" }
            if let message, !message.isEmpty { s += ": \(message)" }
            switch status {
            case 403:
                if code == "SignatureDoesNotMatch" {
                    s += " (the secret access key is wrong for this access key ID, or the clock is off)"
                } else if code == "InvalidAccessKeyId" {
                    s += " (the access key ID is not known: check POLYGON_S3_ACCESS_KEY_ID or config/credentials.yaml; use the S3 keys from the dashboard, not the REST API key)"
                } else {
                    s += " (access denied: the S3 keys may be wrong, your plan may not include this dataset or this much history, or the file may not be published yet)"
                }
            case 404: s += " (no file for this key: weekend, holiday, or not yet published)"
            default: break
            }
            return s
        case let .transport(c, message): return "\(key): transfer failed (curl \(c)): \(message)"
        case let .integrity(m): return "\(key): integrity check failed: \(m)"
        case let .changed(m): return "\(key): object changed during the transfer: \(m)"
        case let .protocolError(m): return "\(key): unexpected response: \(m)"
        case .cancelled: return "\(key): cancelled"
        case let .configuration(m): return m
        }
    }
}
