import FFCol

/// A pull source of bytes (a file, stdin, or an HTTP body being received).
///
/// Contract: `read(into:)` fills a prefix of `buffer` and returns its length; it returns 0
/// only at the end of the stream and throws on an error. It is called from one thread at a time.
public protocol ByteSource: AnyObject {
    /// A name for messages: a path, `-` for stdin, or an S3 key.
    var name: String { get }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Whether `read` returns without waiting for another process or the network (a regular
    /// file, memory). The converter then reads it from whichever of its threads is free
    /// instead of giving reading and inflating a thread of their own.
    var readsWithoutWaiting: Bool { get }
}

extension ByteSource {
    public var readsWithoutWaiting: Bool { false }
}
