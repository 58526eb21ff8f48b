#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - A small work queue on threads

/// Runs `body` for every index in `0..<count` on up to `threads` threads (the calling thread
/// is one of them), each thread taking the next index when it is free, and returns the
/// results in index order. When `stop()` returns true, no further index is started.
/// `body` must be safe to call concurrently.
public func parallelMap<T>(count: Int, threads: Int, stop: @escaping @Sendable () -> Bool = { false },
                           _ body: @escaping (Int) -> T) -> [T?] {
    let q = WorkQueue<T>(count)
    let work: () -> Void = {
        while true {
            let i: Int = q.lock.withLock { defer { q.next += 1 }; return q.next }
            if i >= count || stop() { return }
            let r = body(i)
            q.lock.withLock { q.results[i] = r }
        }
    }
    let n = max(1, min(threads, count))
    let handles = (1..<n).compactMap { _ in startThread(work) }
    work()  // the calling thread works too
    for t in handles { pthread_join(t, nil) }
    return q.results
}

private final class WorkQueue<T>: @unchecked Sendable {
    let lock = Lock()
    var next = 0
    var results: [T?]
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

private final class WorkBox {
    let body: () -> Void
    init(_ b: @escaping () -> Void) { body = b }
}

/// A new thread running `body`, or nil if none could be started. The caller joins it.
private func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    var t = pthread_t()
    let ctx = Unmanaged.passRetained(WorkBox(body)).toOpaque()
    let rc = pthread_create(&t, nil, { raw in
        Unmanaged<WorkBox>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, ctx)
    if rc == 0 { return t }
    Unmanaged<WorkBox>.fromOpaque(ctx).release()
    return nil
}

// MARK: - Ordered read-ahead

/// Produces the values for indices `0..<count` on background threads, at most `ahead` indices
/// past the one the consumer is waiting for, and hands them out in index order: a consumer
/// that works through dates one by one finds the next date already decoded.
///
/// `next()` must be called from one thread at a time. Dropping the prefetcher (or calling
/// `cancel()`) stops the workers after the values they are producing and waits for them, so
/// no thread outlives it. `produce` must be safe to call concurrently.
///
/// With `consumerHelps`, a `next()` whose value is not ready produces the next index in the
/// window itself instead of sleeping: `threads` workers plus the consumer then keep
/// `threads + 1` cores busy, and when each value takes little time (one ticker of one date,
/// ~0.1 ms) the consumer is not woken from sleep for every value.
public final class OrderedPrefetch<T> {
    private let state: PrefetchState<T>
    private var threads: [pthread_t] = []
    private var taken = 0

    public init(count: Int, threads: Int, ahead: Int, consumerHelps: Bool = false, _ produce: @escaping (Int) -> T) {
        let s = PrefetchState<T>(count: count, ahead: max(1, ahead), helps: consumerHelps, produce: produce)
        state = s
        // One index needs no thread: it is produced by `next()` itself.
        let n = count > 1 ? max(0, min(threads, count)) : 0
        self.threads = (0..<n).compactMap { _ in startThread { s.work() } }
    }

    deinit { cancel() }

    /// The value for the next index, waiting for it if it is still being produced; nil after
    /// the last index (or after `cancel()`).
    public func next() -> T? {
        guard taken < state.count, !state.isCancelled else { return nil }
        let i = taken
        taken += 1
        // Without worker threads (none could be started, or one index only), produce here.
        if threads.isEmpty { return state.produce(i) }
        return state.take(i)
    }

    /// Stops the workers (values being produced are finished and dropped) and waits for them.
    public func cancel() {
        state.cancel()
        for t in threads { pthread_join(t, nil) }
        threads = []
    }
}

/// Calls `body(i, value)` for `i` in `0..<count` in order, the values produced ahead on
/// `threads` threads by an `OrderedPrefetch` (at most `ahead` past the one being handled).
/// Stops at the first error (from `produce` for the next index in order, or from `body`),
/// or when `body` returns false; returns false in that last case.
@discardableResult
public func forEachAhead<V>(count: Int, threads: Int, ahead: Int, _ produce: @escaping (Int) throws -> V,
                            _ body: (Int, V) throws -> Bool) throws -> Bool {
    let values = OrderedPrefetch(count: count, threads: threads, ahead: ahead) { i in Result { try produce(i) } }
    var i = 0
    while let v = values.next() {
        guard try body(i, v.get()) else { return false }
        i += 1
    }
    return true
}

private final class PrefetchState<T>: @unchecked Sendable {
    let count: Int
    let ahead: Int
    let helps: Bool
    let produce: (Int) -> T
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // All below under `mutex`.
    private var nextToProduce = 0
    private var waitingFor = 0
    private var cancelled = false
    private var ready: [Bool]
    private var values: [T?]

    init(count: Int, ahead: Int, helps: Bool, produce: @escaping (Int) -> T) {
        self.count = count; self.ahead = ahead; self.helps = helps; self.produce = produce
        ready = Array(repeating: false, count: count)
        values = Array(repeating: nil, count: count)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed); changed.deallocate()
        pthread_mutex_destroy(mutex); mutex.deallocate()
    }

    var isCancelled: Bool {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return cancelled
    }

    /// A worker: takes the next index while it is within `ahead` of the consumer.
    func work() {
        pthread_mutex_lock(mutex)
        while true {
            while !cancelled, nextToProduce < count, nextToProduce >= waitingFor + ahead {
                pthread_cond_wait(changed, mutex)
            }
            if cancelled || nextToProduce >= count { break }
            produceNext()
            pthread_cond_broadcast(changed)
        }
        pthread_mutex_unlock(mutex)
    }

    /// Produces index `nextToProduce` outside the lock (called and returning with it held).
    private func produceNext() {
        let i = nextToProduce
        nextToProduce += 1
        pthread_mutex_unlock(mutex)
        let v = produce(i)
        pthread_mutex_lock(mutex)
        values[i] = v
        ready[i] = true
    }

    /// The consumer: waits for index `i` (producing indices in the window meanwhile when it
    /// helps), takes its value and lets the workers move on.
    func take(_ i: Int) -> T {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        waitingFor = i
        pthread_cond_broadcast(changed)
        while !ready[i] {
            if helps, !cancelled, nextToProduce < count, nextToProduce < waitingFor + ahead {
                produceNext()
            } else {
                pthread_cond_wait(changed, mutex)
            }
        }
        let v = values[i]!
        values[i] = nil
        waitingFor = i + 1
        pthread_cond_broadcast(changed)
        return v
    }

    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}
