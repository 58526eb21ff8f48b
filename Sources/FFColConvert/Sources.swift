#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Byte sources: files and stdin

/// Reads a file (or stdin for `-`) with plain read(2) calls.
public final class FileSource: ByteSource {
    public let name: String
    private var fd: Int32
    private let ownsFD: Bool
    /// Size in bytes when known (regular files).
    public let size: UInt64?

    public init(path: String) throws {
        if path == "-" {
            name = "<stdin>"; fd = 0; ownsFD = false; size = nil
            return
        }
        name = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConvertError(.io, file: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        ownsFD = true
        var st = stat()
        if fstat(fd, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw ConvertError(.io, file: path, "is a directory, expected a .csv.gz or .csv file")
            }
            size = (st.st_mode & S_IFMT) == S_IFREG ? UInt64(st.st_size) : nil
        } else {
            size = nil
        }
    }
    deinit { if ownsFD { close(fd) } }

    /// A regular file; not stdin, a pipe or a device.
    public var readsWithoutWaiting: Bool { size != nil }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ConvertError(.io, file: name, "read failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Bytes from memory (tests, benchmarks), handed out in pieces of at most `piece` bytes.
public final class MemorySource: ByteSource {
    public let name: String
    let bytes: [UInt8]
    var pos = 0
    let piece: Int
    public init(_ bytes: [UInt8], name: String = "<memory>", piece: Int = 1 << 20) {
        self.bytes = bytes; self.name = name; self.piece = max(1, piece)
    }
    public var readsWithoutWaiting: Bool { true }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, piece, bytes.count - pos)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + pos, byteCount: n)
        }
        pos += n
        return n
    }
}
