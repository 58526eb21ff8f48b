import FFCol
import FFColConvert
import Foundation

// MARK: - A download as a ByteSource

/// Adapts the body of an S3 object into a `ByteSource`, so a converter can read a download
/// as it arrives (socket -> inflate -> parser -> writer) without the bytes landing on disk.
///
/// ```swift
/// let source = S3ObjectByteSource(client: client, key: Dataset.stocksDay.key(for: date))
/// let n = try source.read(into: buffer)   // starts the transfer, blocks until bytes arrive
/// ...                                     // read until 0 (end) or an error is thrown
/// let result = source.result              // ETag, size, retries, bytes once finished
/// ```
///
/// Threads: the transfer runs on its own thread (started by `start()` or by the first
/// `read`); `read(into:)` is called from one consumer thread. Between them sits a bounded
/// queue of at most `capacity` bytes: when it is full the transfer thread waits (curl's
/// write callback blocks), so memory stays bounded whatever the speeds. A consumer slower
/// than the stall limit for `lowSpeedTime` seconds makes curl see a stall; the transfer is
/// then resumed with a Range request, which is harmless.
///
/// Errors: retryable failures are retried and resumed inside (`RetryPolicy`); the consumer
/// only sees bytes in order, each once. A final failure is thrown from `read(into:)` after
/// the bytes that arrived before it. If the object changes (new ETag) after bytes were
/// already handed out, `read` throws `S3Error` `.changed` — the consumer must start over.
///
/// `tee`, if given, sees every chunk on the transfer thread before it is queued (for
/// `--keep-raw`); an error it throws stops the transfer and is thrown by `read`.
///
/// `cancel()` (or deinit) stops the transfer; every later `read` throws `S3Error` `.cancelled`.
public final class S3ObjectByteSource: ByteSource, @unchecked Sendable {
    public let name: String
    public let client: S3Client
    public let key: String
    public let policy: RetryPolicy
    public let capacity: Int
    private let tee: ((UnsafeRawBufferPointer) throws -> Void)?
    private let onRetry: ((RetryEvent) -> Void)?

    private let cond = NSCondition()
    private var chunks: [[UInt8]] = []
    private var headOffset = 0          // bytes already read from chunks[0]
    private var queued = 0              // bytes in the queue
    private var finished = false
    private var failure: Error?
    private var cancelled = false
    private var started = false
    private var delivered: Int64 = 0
    private var _result: FetchResult?

    /// - Parameters:
    ///   - capacity: the most bytes held between the transfer and the reader (default 4 MiB).
    ///   - tee: sees each chunk first (on the transfer thread).
    ///   - onRetry: called on the transfer thread before each retry.
    public init(client: S3Client, key: String, policy: RetryPolicy = RetryPolicy(), capacity: Int = 4 << 20,
                tee: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
                onRetry: ((RetryEvent) -> Void)? = nil) {
        precondition(capacity > 0, "capacity must be positive")
        self.client = client
        self.key = key
        self.name = key
        self.policy = policy
        self.capacity = capacity
        self.tee = tee
        self.onRetry = onRetry
    }

    deinit { cancel() }

    /// The transfer's outcome once the end of the stream was reached; nil before.
    public var result: FetchResult? {
        cond.lock(); defer { cond.unlock() }
        return _result
    }

    /// Bytes handed to the reader so far.
    public var bytesRead: Int64 {
        cond.lock(); defer { cond.unlock() }
        return delivered
    }

    /// Starts the transfer (idempotent; `read` calls it).
    public func start() {
        cond.lock()
        if started { cond.unlock(); return }
        started = true
        cond.unlock()
        // The thread keeps the source alive until the transfer ends; the source must not keep
        // the thread (a cycle: neither was ever freed, nor the client and tee behind them).
        let t = Thread { [self] in self.transfer() }
        t.name = "ffcol-s3-\(key)"
        t.start()
    }

    /// Stops the transfer; a waiting `read` throws `.cancelled`.
    public func cancel() {
        cond.lock()
        if !finished { cancelled = true }
        cond.broadcast()
        cond.unlock()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if buffer.isEmpty { return 0 }
        start()
        cond.lock()
        defer { cond.unlock() }
        while chunks.isEmpty && !finished && !cancelled { cond.wait() }
        if cancelled { throw S3Error(.cancelled, key: key) }
        if chunks.isEmpty {
            if let failure { throw failure }
            return 0
        }
        var n = 0
        while n < buffer.count, !chunks.isEmpty {
            let c = chunks[0]
            let k = min(buffer.count - n, c.count - headOffset)
            c.withUnsafeBytes { src in
                (buffer.baseAddress! + n).copyMemory(from: src.baseAddress! + headOffset, byteCount: k)
            }
            n += k
            headOffset += k
            if headOffset == c.count { chunks.removeFirst(); headOffset = 0 }
        }
        queued -= n
        delivered += Int64(n)
        cond.broadcast()
        return n
    }

    // MARK: The transfer thread

    private struct Stop: Error {}

    private func transfer() {
        var handedOut = false
        do {
            let r = try client.fetch(
                key: key, policy: policy, onRetry: onRetry,
                restart: { [self] in
                    // Only possible while nothing was queued yet.
                    if handedOut { throw S3Error(.changed("the object was replaced while being read"), key: key) }
                },
                sink: { [self] buf in
                    if let tee { try tee(buf) }
                    cond.lock()
                    defer { cond.unlock() }
                    while queued >= capacity && !cancelled { cond.wait() }
                    if cancelled { throw Stop() }
                    chunks.append([UInt8](buf))
                    queued += buf.count
                    handedOut = true
                    cond.broadcast()
                })
            cond.lock()
            _result = r
            finished = true
            cond.broadcast()
            cond.unlock()
        } catch {
            cond.lock()
            failure = (error is Stop) ? S3Error(.cancelled, key: key) : error
            finished = true
            cond.broadcast()
            cond.unlock()
        }
    }
}
