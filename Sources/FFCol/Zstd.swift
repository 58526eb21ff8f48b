import CZstd

// MARK: - zstd one-shot compression with reusable contexts

/// A reusable zstd compression context (not thread-safe: one per thread).
public final class ZstdCompressor {
    private let cctx: OpaquePointer
    public let level: Int32

    public init(level: Int32 = 3) {
        guard let c = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        cctx = c
        self.level = level
    }
    deinit { ZSTD_freeCCtx(cctx) }

    /// Compresses `src` into `dst` (replacing its contents) as one zstd frame.
    public func compress(_ src: UnsafeRawBufferPointer, into dst: inout [UInt8]) {
        let bound = ZSTD_compressBound(src.count)
        if dst.count < bound { dst = [UInt8](repeating: 0, count: bound) }
        let n = dst.withUnsafeMutableBytes { d in
            ZSTD_compressCCtx(cctx, d.baseAddress, d.count, src.baseAddress, src.count, level)
        }
        // Misuse only: the destination is at least ZSTD_compressBound bytes.
        precondition(ZSTD_isError(n) == 0, "zstd compress failed: \(String(cString: ZSTD_getErrorName(n)))")
        dst.removeSubrange(n...)
    }
}

/// A reusable zstd decompression context (not thread-safe: one per thread).
public final class ZstdDecompressor {
    private let dctx: OpaquePointer

    public init() {
        guard let d = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        dctx = d
    }
    deinit {
        ZSTD_freeDCtx(dctx)
        scratch?.deallocate()
    }

    /// A reusable output buffer (one decoded block at a time), so that decoding a column does
    /// not allocate per block.
    private var scratch: UnsafeMutableRawBufferPointer?
    private var scratchInUse = false

    /// Calls `body` with a buffer of `count` bytes: the context's own (grown as needed) unless
    /// it is already lent out, then a temporary one.
    func withScratch<T>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        if scratchInUse {
            let tmp = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
            defer { tmp.deallocate() }
            return try body(tmp)
        }
        if (scratch?.count ?? -1) < count {
            scratch?.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 64 << 10), alignment: 16)
        }
        scratchInUse = true
        defer { scratchInUse = false }
        // Safe: the buffer holds at least `count` bytes (grown above).
        return try body(UnsafeMutableRawBufferPointer(rebasing: scratch![0..<count]))
    }

    /// The decoded size a frame's header declares, or nil if the header is damaged or does not say.
    public static func frameContentSize(_ src: UnsafeRawBufferPointer) -> UInt64? {
        let n = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        // ZSTD_CONTENTSIZE_UNKNOWN and _ERROR are the two largest values.
        return n >= UInt64.max - 1 ? nil : n
    }

    /// Decompresses one frame of exactly `expected` bytes into `dst`. Returns false when the
    /// frame is corrupt or its size differs (the caller turns that into an error with a location).
    public func decompress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Bool {
        let n = ZSTD_decompressDCtx(dctx, dst.baseAddress, dst.count, src.baseAddress, src.count)
        return ZSTD_isError(n) == 0 && n == dst.count
    }
}

/// A process-wide pool of decompression contexts (creating one costs a few microseconds and
/// about 100 KB), shared by every open file.
enum DecompressorPool {
    nonisolated(unsafe) private static var free: [ZstdDecompressor] = []
    private static let lock = Lock()
    static func take() -> ZstdDecompressor { lock.withLock { free.popLast() } ?? ZstdDecompressor() }
    static func give(_ d: ZstdDecompressor) { lock.withLock { if free.count < 16 { free.append(d) } } }
}
