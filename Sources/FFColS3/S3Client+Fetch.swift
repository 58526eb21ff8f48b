import FFCol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Retries with backoff, and resumable GET

/// When and how long to wait before retrying.
public struct RetryPolicy: Sendable {
    /// Retries after the first attempt (so at most `maxRetries + 1` attempts).
    public var maxRetries: Int = 8
    /// The first delay in seconds; it doubles each retry up to `maxDelay`.
    public var baseDelay: Double = 0.5
    public var maxDelay: Double = 30

    public init(maxRetries: Int = 8, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxRetries = maxRetries; self.baseDelay = baseDelay; self.maxDelay = maxDelay
    }

    /// Exponential backoff with jitter: uniformly in [d/2, d], d = min(maxDelay, base * 2^retry).
    public func delay(retry: Int) -> Double {
        let d = min(maxDelay, baseDelay * Double(1 << min(retry, 30)))
        return d / 2 + Double.random(in: 0...(d / 2))
    }
}

/// The outcome of a resumable GET.
public struct FetchResult: Sendable {
    /// The version read (ETag without quotes).
    public var etag: String
    /// The object's size; equals the bytes delivered to the sink.
    public var size: Int64
    public var lastModified: String
    /// Bytes received over the network, resumed ranges and discarded restarts included.
    public var bytesReceived: Int64
    public var retries: Int
    public var seconds: Double
}

/// A retry about to happen (for statistics and `--verbose`).
public struct RetryEvent: Sendable {
    public var key: String
    public var error: S3Error
    /// 1 for the first retry.
    public var retry: Int
    public var delay: Double
    /// Where the next request resumes (0: from the start).
    public var resumeAt: Int64
}

extension S3Client {
    /// Runs `body` with retries on retryable S3 errors.
    public func withRetries<T>(key: String, policy: RetryPolicy, onRetry: ((RetryEvent) -> Void)? = nil,
                               _ body: () throws -> T) throws -> T {
        var retry = 0
        while true {
            do { return try body() } catch let e as S3Error where e.isRetryable && retry < policy.maxRetries {
                retry += 1
                let d = policy.delay(retry: retry - 1)
                onRetry?(RetryEvent(key: key, error: e, retry: retry, delay: d, resumeAt: 0))
                sleepSeconds(d)
            }
        }
    }

    /// GETs `key` into `sink`, retrying on retryable errors and resuming with
    /// `Range: bytes=N-` plus `If-Match: <etag>` from the byte reached, so the bytes given to
    /// `sink` are exactly the object's bytes, once each, in order.
    ///
    /// At the end the length is checked against Content-Length (or the Content-Range total)
    /// and every resumed response against the first ETag. If the object changed during the
    /// transfer (412, or a different ETag), `restart` is called to discard what the sink has
    /// received and the object is read again from byte 0; without `restart` the call throws
    /// `.changed`. An error thrown by `sink` stops the transfer and is rethrown as is.
    public func fetch(key: String, policy: RetryPolicy = RetryPolicy(),
                      onRetry: ((RetryEvent) -> Void)? = nil,
                      restart: (() throws -> Void)? = nil,
                      sink: (UnsafeRawBufferPointer) throws -> Void) throws -> FetchResult {
        let started = monotonicSeconds()
        var offset: Int64 = 0          // bytes delivered to the sink
        var etag: String? = nil        // the version pinned by the first response
        var total: Int64? = nil
        var lastModified = ""
        var received: Int64 = 0
        var retries = 0

        func retryOrThrow(_ e: S3Error) throws {
            guard e.isRetryable, retries < policy.maxRetries else { throw e }
            retries += 1
            let d = policy.delay(retry: retries - 1)
            onRetry?(RetryEvent(key: key, error: e, retry: retries, delay: d, resumeAt: offset))
            sleepSeconds(d)
        }
        func startOver(_ why: String) throws {
            guard let restart else { throw S3Error(.changed(why), key: key) }
            try restart()
            offset = 0; etag = nil; total = nil
        }

        while true {
            var sinkError: Error? = nil
            var mismatch: S3Error? = nil
            var skip: Int64 = 0   // bytes to drop when a server ignores Range and sends 200
            let resuming = offset > 0
            let requestStart = offset
            let head: S3ResponseHead
            do {
                head = try withUnsafeSink { (buf: UnsafeRawBufferPointer) -> Bool in
                    var b = buf
                    if skip > 0 {
                        let k = Int(min(skip, Int64(b.count)))
                        skip -= Int64(k)
                        received += Int64(k)
                        b = UnsafeRawBufferPointer(rebasing: b[k...])
                        if b.isEmpty { return true }
                    }
                    do { try sink(b) } catch { sinkError = error; return false }
                    offset += Int64(b.count)
                    received += Int64(b.count)
                    return true
                } run: { sinkClosure in
                    try self.get(key: key, rangeStart: resuming ? requestStart : nil,
                                 ifMatch: resuming ? etag : nil,
                                 onHead: { h in
                                     if let m = Self.checkHead(h, key: key, resuming: resuming, offset: requestStart,
                                                               etag: etag, total: total) {
                                         mismatch = m
                                         return
                                     }
                                     if !resuming || h.status == 200 {
                                         etag = h.etag ?? ""
                                         total = h.contentLength
                                         lastModified = h.headers["last-modified"] ?? ""
                                         if resuming { skip = requestStart }
                                     }
                                 },
                                 sink: { buf in mismatch == nil && sinkClosure(buf) })
                }
            } catch let e as S3Error {
                if case .cancelled = e.kind {
                    if let sinkError { throw sinkError }
                    if let m = mismatch {
                        if case .changed = m.kind { try startOver(m.description); retries += 1; continue }
                        try retryOrThrow(m); continue
                    }
                    throw e
                }
                if resuming && e.status == 412 {
                    try startOver("ETag no longer \(etag ?? "?") (412 Precondition Failed)")
                    retries += 1
                    continue
                }
                if resuming && e.status == 416, let t = total, offset == t {
                    // Everything had arrived; the connection failed after the last byte.
                    return FetchResult(etag: etag ?? "", size: t, lastModified: lastModified,
                                       bytesReceived: received, retries: retries, seconds: monotonicSeconds() - started)
                }
                try retryOrThrow(e)
                continue
            }
            // A body that never reached the sink (empty object): take the head now.
            if etag == nil {
                etag = head.etag ?? ""
                total = head.contentLength
                lastModified = head.headers["last-modified"] ?? ""
            }
            if let t = total, offset != t {
                let e = S3Error(.integrity("received \(offset) bytes, Content-Length says \(t)"), key: key)
                if offset > t { try startOver(e.description); retries += 1; continue }
                try retryOrThrow(e)
                continue
            }
            return FetchResult(etag: etag ?? "", size: offset, lastModified: lastModified,
                               bytesReceived: received, retries: retries, seconds: monotonicSeconds() - started)
        }
    }

    /// Checks a response head against what the transfer expects; nil if it fits.
    static func checkHead(_ h: S3ResponseHead, key: String, resuming: Bool, offset: Int64,
                          etag: String?, total: Int64?) -> S3Error? {
        guard resuming else { return nil }
        if let e = h.etag, let etag, e != etag {
            return S3Error(.changed("ETag changed from \(etag) to \(e)"), key: key)
        }
        if h.status == 206 {
            guard let cr = h.contentRange, cr.start == offset else {
                return S3Error(.integrity("resumed at \(offset) but Content-Range is \(h.headers["content-range"] ?? "absent")"), key: key)
            }
            if let t = total, let ct = cr.total, ct != t {
                return S3Error(.changed("size changed from \(t) to \(ct)"), key: key)
            }
        }
        return nil
    }

    // Lets a non-escaping closure be used where an escaping one is required, for the
    // duration of `run` only (the sink is never called after `get` returns).
    private func withUnsafeSink<T>(_ sink: (UnsafeRawBufferPointer) -> Bool,
                                   run: (@escaping (UnsafeRawBufferPointer) -> Bool) throws -> T) rethrows -> T {
        try withoutActuallyEscaping(sink) { try run($0) }
    }
}

func sleepSeconds(_ s: Double) {
    guard s > 0 else { return }
    var ts = timespec(tv_sec: Int(s), tv_nsec: Int((s - Double(Int(s))) * 1e9))
    var rem = timespec()
    while nanosleep(&ts, &rem) != 0 && errno == EINTR { ts = rem }
}
