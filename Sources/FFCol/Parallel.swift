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
    var handles: [pthread_t] = []
    for _ in 1..<n {
        var t = pthread_t()
        let ctx = Unmanaged.passRetained(WorkBox(work)).toOpaque()
        let rc = pthread_create(&t, nil, { raw in
            Unmanaged<WorkBox>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, ctx)
        if rc == 0 { handles.append(t) } else { Unmanaged<WorkBox>.fromOpaque(ctx).release() }
    }
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
