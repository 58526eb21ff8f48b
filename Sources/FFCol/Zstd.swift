import CZstd

// MARK: - zstd one-shot compression with reusable contexts

/// A reusable zstd compression context (not thread-safe: one per thread).
public final class ZstdCompressor {
    private let cctx: OpaquePointer
    public let level: Int32
    /// Literals are stored as they are, not Huffman-coded (see `init(level:rawLiterals:)`).
    public let rawLiterals: Bool

    /// A context at `level` (Huffman-coded literals, zstd's default), or nil with `rawLiterals`
    /// if this libzstd does not take that parameter.
    ///
    /// `rawLiterals` sets ZSTD_c_literalCompressionMode (ZSTD_c_experimentalParam5 = 1002 in
    /// the zstd.h of libzstd 1.5.4, an experimental parameter: a libzstd that refuses it makes
    /// this initializer return nil) to ZSTD_ps_disable (2): the frames stay standard zstd frames that
    /// any decoder reads; the literals (bytes no match covers) are copied instead of
    /// Huffman-decoded, which is faster to decode and larger where they compress well.
    ///
    /// `acceleration` (levels 1 and 2, Huffman-coded literals only; 0: none) makes zstd's fast
    /// strategy skip ahead faster where it finds no match (ZSTD_c_targetLength, its
    /// acceleration factor). The literals stay Huffman-coded: the strategy would turn that
    /// off by itself once it accelerates, so ZSTD_c_literalCompressionMode is set to
    /// ZSTD_ps_enable (1); where libzstd refuses that, there is no acceleration.
    public init?(level: Int32 = 3, rawLiterals: Bool, acceleration: Int32 = 0) {
        guard let c = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        cctx = c
        self.level = level
        self.rawLiterals = rawLiterals
        guard ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) == 0 else { return nil }
        // Matches of at least 7 bytes (zstd's fast levels default to 5 on inputs of a page's
        // size): fewer, longer sequences, so a page decodes with less sequence work; column
        // pages are byte planes whose short repeats are better left to the literals.
        if level <= 2 { _ = ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, 7) }
        if rawLiterals {
            guard ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_cParameter(rawValue: 1002), 2)) == 0 else { return nil }
        } else if acceleration > 0, level <= 2,
                  ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_cParameter(rawValue: 1002), 1)) == 0 {
            _ = ZSTD_CCtx_setParameter(c, ZSTD_c_targetLength, acceleration)
        }
    }

    /// A context at `level` with zstd's default (Huffman-coded) literals.
    public convenience init(level: Int32 = 3) {
        // Safe: setting the level never fails (zstd clamps it); raw literals are not asked for.
        self.init(level: level, rawLiterals: false)!
    }
    deinit { ZSTD_freeCCtx(cctx); scratch.deallocate() }

    /// Where frames are compressed, grown as needed, and from where the caller copies each
    /// one: a frame is one page of one column (a few KB), and allocating and zeroing a
    /// destination of ZSTD_compressBound bytes for each cost more than copying the frame.
    private var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)

    /// `src` as one zstd frame, in this compressor's own buffer: valid until its next call.
    public func compressed(_ src: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let bound = ZSTD_compressBound(src.count)
        if scratch.count < bound {
            scratch.deallocate()
            scratch = .allocate(byteCount: max(bound, 2 * scratch.count), alignment: 16)
        }
        let n = ZSTD_compress2(cctx, scratch.baseAddress, scratch.count, src.baseAddress, src.count)
        // Misuse only: the destination is at least ZSTD_compressBound bytes.
        precondition(ZSTD_isError(n) == 0, "zstd compress failed: \(String(cString: ZSTD_getErrorName(n)))")
        return UnsafeRawBufferPointer(rebasing: scratch[0..<n])
    }
}

/// A buffer lent to one caller at a time and grown as needed; a caller that asks while it is
/// lent out gets a temporary one. Not thread-safe (one per decompression context).
final class LentBuffer {
    private var buffer: UnsafeMutableRawBufferPointer?
    private var inUse = false

    deinit { buffer?.deallocate() }

    /// Calls `body` with `count` bytes.
    func with<T>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        if inUse {
            let tmp = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
            defer { tmp.deallocate() }
            return try body(tmp)
        }
        if (buffer?.count ?? -1) < count {
            buffer?.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 64 << 10), alignment: 16)
        }
        inUse = true
        defer { inUse = false }
        // Safe: the buffer holds at least `count` bytes (grown above).
        return try body(UnsafeMutableRawBufferPointer(rebasing: buffer![0..<count]))
    }
}

/// A reusable zstd decompression context (not thread-safe: one per thread).
public final class ZstdDecompressor {
    private let dctx: OpaquePointer
    /// Decoded blocks, one at a time, so that decoding a column does not allocate per block.
    private let scratch = LentBuffer()
    /// Stored blocks read from a file (`FFCFile.Access.read`), one at a time.
    private let input = LentBuffer()
    /// All pages of one column of a chunk, read from a file at once (`FFCFile.chunk`).
    private let stage = LentBuffer()

    public init() {
        guard let d = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        dctx = d
    }
    deinit { ZSTD_freeDCtx(dctx) }

    /// Calls `body` with an output buffer of `count` bytes (the context's own unless it is
    /// already lent out).
    func withScratch<T>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try scratch.with(count, body)
    }

    /// Calls `body` with an input buffer of `count` bytes (likewise).
    func withInput<T>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try input.with(count, body)
    }

    /// Calls `body` with a staging buffer of `count` bytes (likewise).
    func withStage<T>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try stage.with(count, body)
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
