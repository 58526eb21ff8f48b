#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import CIsal
import FFCol

// MARK: - Stage 1: compressed bytes -> CSV bytes

/// The gzip decoder: zlib (portable baseline) or ISA-L's igzip (several times faster on x86).
/// Both check each member's CRC-32 and length; the output is identical. Either way the member
/// headers are parsed by `GzipHeaderParser`; with zlib the deflate data is inflated raw and the
/// CRC-32 is computed with ISA-L's `crc32_gzip_refl` (zlib's own `crc32` took ~30% of the
/// inflating thread's instructions).
public enum InflateBackend: String, Sendable, CaseIterable {
    case zlib, isal
    /// The default: ISA-L.
    public static let preferred: InflateBackend = .isal
}

/// Streams a gzip (possibly multi-member) or plain input into fixed-size blocks.
/// A damaged or truncated file is an error naming the compressed byte offset.
final class InflateStream {
    let source: ByteSource
    let backend: InflateBackend
    private var inBuf: UnsafeMutableRawBufferPointer
    /// Unconsumed input: [inPtr, inPtr + inAvail) inside inBuf.
    private var inPtr: UnsafeMutablePointer<UInt8>
    private var inAvail = 0
    private var eof = false
    private var memberEnded = false
    /// The gzip member header is parsed here for both decoders (ISA-L 2.30 accepts reserved
    /// FLG bits and rejects a correct FHCRC). ISA-L then inflates the deflate data and checks
    /// the trailer (ISAL_GZIP_NO_HDR_VER); zlib inflates raw deflate data and the trailer is
    /// checked here against `memberCRC` and `memberBytes`.
    private var header = GzipHeaderParser()
    /// zlib path: the deflate data of the member has ended; the 8-byte trailer follows.
    private var deflateEnded = false
    private var trailer: UInt64 = 0
    private var trailerBytes = 0
    private var memberCRC: UInt32 = 0
    private var memberBytes: UInt64 = 0
    public private(set) var isGzip = false
    private var sniffed = false
    private var zs: UnsafeMutablePointer<z_stream>?
    private var isal: UnsafeMutablePointer<inflate_state>?
    /// Compressed bytes read from the source so far.
    private(set) var bytesIn: UInt64 = 0
    /// Decompressed bytes produced so far.
    private(set) var bytesOut: UInt64 = 0

    init(source: ByteSource, backend: InflateBackend = .preferred, inputBlock: Int = 256 * 1024) {
        self.source = source
        self.backend = backend
        inBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: inputBlock, alignment: 64)
        inPtr = inBuf.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }
    deinit {
        if let z = zs { inflateEnd(z); z.deallocate() }
        isal?.deallocate()
        inBuf.deallocate()
    }

    /// Reads more input when none is left. Sets `eof` at the end of the source.
    private func refill() throws {
        guard !eof, inAvail == 0 else { return }
        let n = try source.read(into: inBuf)
        if n == 0 { eof = true; return }
        bytesIn += UInt64(n)
        inPtr = inBuf.baseAddress!.assumingMemoryBound(to: UInt8.self)
        inAvail = n
    }

    private func sniff() throws {
        sniffed = true
        try refill()
        // A source may hand out a single byte: make sure two are there to sniff the magic.
        if inAvail == 1, !eof {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: inBuf[1...]))
            if n == 0 { eof = true } else { bytesIn += UInt64(n); inAvail += n }
        }
        guard inAvail >= 2, inPtr[0] == 0x1F, inPtr[1] == 0x8B else { return }
        isGzip = true
        switch backend {
        case .zlib:
            let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            z.initialize(to: z_stream())
            guard ffcol_inflateInit2(z, -15) == Z_OK else {
                z.deallocate()
                throw ConvertError(.gzip, file: source.name, "zlib initialisation failed")
            }
            zs = z
            header = GzipHeaderParser()
        case .isal:
            let st = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
            isal_inflate_init(st)
            st.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR_VER)
            isal = st
            header = GzipHeaderParser()
        }
    }

    /// Fills `out` as far as possible; returns the byte count, 0 at the end of the input.
    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if !sniffed { try sniff() }
        if !isGzip {
            var filled = 0
            while filled < out.count {
                if inAvail == 0 { try refill(); if eof { break } }
                let n = min(inAvail, out.count - filled)
                // Safe: n <= inAvail bytes remain at inPtr, n <= free space in out.
                (out.baseAddress! + filled).copyMemory(from: inPtr, byteCount: n)
                inPtr += n; inAvail -= n; filled += n
            }
            bytesOut += UInt64(filled)
            return filled
        }
        var filled = 0
        while filled < out.count {
            if inAvail == 0 {
                try refill()
                if eof {
                    if memberEnded { break }
                    throw ConvertError(.gzip, file: source.name,
                        "truncated gzip data: the input ends at byte \(bytesIn) in the middle of a compressed stream")
                }
            }
            if memberEnded {
                // Another gzip member follows (multi-member file).
                try resetMember()
            }
            filled += try inflateSome(UnsafeMutableRawBufferPointer(rebasing: out[filled...]))
        }
        bytesOut += UInt64(filled)
        return filled
    }

    private func resetMember() throws {
        memberEnded = false
        deflateEnded = false
        trailer = 0; trailerBytes = 0; memberCRC = 0; memberBytes = 0
        header = GzipHeaderParser()
        if let z = zs { inflateReset(z) }
        if let st = isal {
            isal_inflate_reset(st)
            st.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR_VER)
        }
    }

    /// One decoder call on the pending input. Returns bytes written to `out`.
    private func inflateSome(_ out: UnsafeMutableRawBufferPointer) throws -> Int {
        let outPtr = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if !header.done {
            let before = inAvail
            let problem = header.consume(inPtr, count: inAvail)
            let used = header.lastConsumed
            inPtr += used; inAvail -= used
            if let problem {
                throw ConvertError(.gzip, file: source.name,
                    "corrupt gzip data near compressed byte \(bytesIn - UInt64(before) + UInt64(used)): \(problem)")
            }
            if !header.done || inAvail == 0 { return 0 }
        }
        if let z = zs {
            if deflateEnded {
                try readTrailer()
                return 0
            }
            z.pointee.next_in = inPtr; z.pointee.avail_in = uInt(inAvail)
            z.pointee.next_out = outPtr; z.pointee.avail_out = uInt(out.count)
            let ret = inflate(z, Z_NO_FLUSH)
            inPtr = z.pointee.next_in; inAvail = Int(z.pointee.avail_in)
            let produced = out.count - Int(z.pointee.avail_out)
            if produced > 0 {
                memberCRC = crc32_gzip_refl(memberCRC, outPtr, UInt64(produced))
                memberBytes &+= UInt64(produced)
            }
            if ret == Z_STREAM_END {
                deflateEnded = true
                if inAvail > 0 { try readTrailer() }
            } else if ret != Z_OK && ret != Z_BUF_ERROR {
                let msg = z.pointee.msg.map { String(cString: $0) } ?? "error \(ret)"
                throw ConvertError(.gzip, file: source.name, "corrupt gzip data near compressed byte \(bytesIn - UInt64(inAvail)): \(msg)")
            }
            return produced
        }
        let st = isal!
        st.pointee.next_in = inPtr; st.pointee.avail_in = UInt32(inAvail)
        st.pointee.next_out = outPtr; st.pointee.avail_out = UInt32(out.count)
        let end = inPtr + inAvail
        let ret = isal_inflate(st)
        // The position comes from next_in, checked to lie in the input buffer, and not from
        // avail_in: after an error ISA-L can leave avail_in wrong (UINT32_MAX for a damaged
        // member found by FuzzGzip, with next_in 7 bytes before the end of the input).
        let bufferStart = inBuf.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard let next = st.pointee.next_in, next >= bufferStart, next <= end else {
            throw ConvertError(.gzip, file: source.name,
                "corrupt gzip data in the compressed bytes up to \(bytesIn): the decoder lost its place in the input")
        }
        inPtr = next; inAvail = end - next
        let produced = out.count - Int(st.pointee.avail_out)
        if ret < 0 {
            let why: String
            switch ret {
            case ISAL_INCORRECT_CHECKSUM: why = "CRC-32 or length mismatch (the file is damaged)"
            default: why = "invalid deflate data (error \(ret))"
            }
            throw ConvertError(.gzip, file: source.name, "corrupt gzip data near compressed byte \(bytesIn - UInt64(inAvail)): \(why)")
        }
        if st.pointee.block_state == ISAL_BLOCK_FINISH { memberEnded = true }
        return produced
    }

    /// zlib path: takes trailer bytes (CRC-32, then ISIZE, little-endian) from the pending
    /// input; once all 8 are in, checks them and ends the member.
    private func readTrailer() throws {
        while trailerBytes < 8 && inAvail > 0 {
            // Safe: inAvail > 0 bytes remain at inPtr.
            trailer |= UInt64(inPtr[0]) << (8 * UInt64(trailerBytes))
            inPtr += 1; inAvail -= 1; trailerBytes += 1
        }
        guard trailerBytes == 8 else { return }
        let crc = UInt32(truncatingIfNeeded: trailer), size = UInt32(truncatingIfNeeded: trailer >> 32)
        guard crc == memberCRC, size == UInt32(truncatingIfNeeded: memberBytes) else {
            throw ConvertError(.gzip, file: source.name,
                "corrupt gzip data near compressed byte \(bytesIn - UInt64(inAvail)): CRC-32 or length mismatch (the file is damaged)")
        }
        memberEnded = true
    }
}

/// Incremental parser of one gzip member header (RFC 1952 section 2.3), fed bytes in pieces
/// of any size. Checks what zlib checks: the magic, CM = 8, reserved FLG bits clear, and the
/// header CRC-16 when FHCRC is set.
struct GzipHeaderParser {
    private enum Field { case fixed, extraLength, extra, name, comment, headerCRC, done }
    private var field = Field.fixed
    private var flags: UInt8 = 0
    /// Bytes seen of the current fixed-size field; the FEXTRA length once known.
    private var index = 0
    private var extraLeft = 0
    private var storedCRC: UInt16 = 0
    /// CRC-32 of the header bytes before FHCRC.
    private var crc: UInt = crc32(0, nil, 0)
    /// Bytes the last `consume` call used.
    private(set) var lastConsumed = 0
    var done: Bool { field == .done }

    /// Consumes header bytes from `p`, stopping at the end of the header. Returns a
    /// description of the problem if the header is invalid (`lastConsumed` then counts the
    /// bytes up to the offending field).
    mutating func consume(_ p: UnsafePointer<UInt8>, count: Int) -> String? {
        var i = 0
        defer { lastConsumed = i }
        var crcFrom = 0
        func addCRC(_ to: Int) {
            // Safe: crcFrom <= to <= count, all within the caller's count bytes at p.
            if to > crcFrom { crc = crc32(crc, p + crcFrom, uInt(to - crcFrom)) }
            crcFrom = to
        }
        while i < count, field != .done {
            // Safe: i < count.
            let b = p[i]
            switch field {
            case .fixed:
                switch index {
                case 0 where b != 0x1F, 1 where b != 0x8B:
                    return "not a gzip member (bad magic bytes)"
                case 2 where b != 8:
                    return "unsupported compression method \(b) in the gzip header (only deflate, 8)"
                case 3:
                    if b & 0xE0 != 0 { return "reserved gzip header flags set (0x\(String(b, radix: 16)))" }
                    flags = b
                default: break
                }
                i += 1; index += 1
                if index == 10 { index = 0; field = next(after: .fixed) }
            case .extraLength:
                extraLeft |= Int(b) << (8 * index)
                i += 1; index += 1
                if index == 2 { index = 0; field = extraLeft > 0 ? .extra : next(after: .extra) }
            case .extra:
                let n = min(extraLeft, count - i)
                i += n; extraLeft -= n
                if extraLeft == 0 { field = next(after: .extra) }
            case .name, .comment:
                // Safe: count - i bytes remain at p + i.
                if let z = memchr(p + i, 0, count - i) {
                    i = UnsafeRawPointer(p).distance(to: UnsafeRawPointer(z)) + 1
                    field = next(after: field)
                } else {
                    i = count
                }
            case .headerCRC:
                if index == 0 { addCRC(i) }
                storedCRC |= UInt16(b) << (8 * index)
                i += 1; crcFrom = i; index += 1
                if index == 2 {
                    index = 0; field = .done
                    if storedCRC != UInt16(truncatingIfNeeded: crc) {
                        return "gzip header CRC mismatch (the file is damaged)"
                    }
                }
            case .done:
                break
            }
        }
        addCRC(i)
        return nil
    }

    /// The field after `f`, skipping those FLG says are absent.
    private func next(after f: Field) -> Field {
        let order: [(Field, UInt8)] = [(.extraLength, 4), (.name, 8), (.comment, 16), (.headerCRC, 2)]
        var k: Int
        switch f {
        case .fixed: k = 0
        case .extraLength, .extra: k = 1
        case .name: k = 2
        case .comment: k = 3
        case .headerCRC, .done: return .done
        }
        while k < order.count {
            if flags & order[k].1 != 0 { return order[k].0 }
            k += 1
        }
        return .done
    }
}

// MARK: - Stage 2a: blocks -> complete lines

/// Joins lines split across blocks. Invariant: what it hands the parser is a run of whole
/// lines (ending in `\n`, or the last line of the input).
struct LineAssembler {
    var carry: [UInt8] = []
    let maxLine: Int

    init(maxLine: Int = 1 << 20) { self.maxLine = maxLine; carry.reserveCapacity(4096) }

    mutating func feed(_ block: UnsafeRawBufferPointer, parser: inout CSVParser, sink: inout RowSink) throws {
        guard let base = block.baseAddress, block.count > 0 else { return }
        var rest = block
        if !carry.isEmpty {
            guard let nl = memchr(base, 10, block.count) else {
                carry.append(contentsOf: block)
                try checkCarry(parser)
                return
            }
            let k = base.distance(to: UnsafeRawPointer(nl)) + 1
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[0..<k]))
            _ = try carry.withUnsafeBytes { try parser.parseLines($0, into: &sink) }
            carry.removeAll(keepingCapacity: true)
            rest = UnsafeRawBufferPointer(rebasing: block[k...])
        }
        guard rest.count > 0 else { return }
        // The last newline is near the end (lines are short): scan backwards.
        var k = rest.count
        while k > 0, rest[k - 1] != 10 { k -= 1 }
        if k > 0 {
            try parser.parseLines(UnsafeRawBufferPointer(rebasing: rest[0..<k]), into: &sink)
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[k...]))
        } else {
            carry.append(contentsOf: rest)
        }
        try checkCarry(parser)
    }

    func checkCarry(_ parser: CSVParser) throws {
        if carry.count > maxLine {
            throw ConvertError(.lineTooLong, file: parser.fileName, line: parser.line + 1,
                               "a line is longer than \(maxLine) bytes; this is not a flat file")
        }
    }

    /// At the end of the input: the last line, if it has no newline.
    mutating func finish(parser: inout CSVParser, sink: inout RowSink) throws {
        if !carry.isEmpty {
            _ = try carry.withUnsafeBytes { try parser.parseLines($0, into: &sink) }
            carry.removeAll()
        }
    }
}
