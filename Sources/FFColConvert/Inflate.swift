#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import FFCol

// MARK: - Stage 1: compressed bytes -> CSV bytes

/// Streams a gzip (possibly multi-member) or plain input into fixed-size blocks.
/// zlib checks each member's CRC-32 and length: a damaged or truncated file is an error
/// naming the compressed byte offset.
final class InflateStream {
    let source: ByteSource
    private var strm = z_stream()
    private var inBuf: UnsafeMutableRawBufferPointer
    private var inited = false
    private var eof = false
    private var memberEnded = false
    public private(set) var isGzip = false
    private var sniffed = false
    /// Compressed bytes read from the source so far.
    private(set) var bytesIn: UInt64 = 0
    /// Decompressed bytes produced so far.
    private(set) var bytesOut: UInt64 = 0

    init(source: ByteSource, inputBlock: Int = 256 * 1024) {
        self.source = source
        inBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: inputBlock, alignment: 64)
    }
    deinit {
        if inited { inflateEnd(&strm) }
        inBuf.deallocate()
    }

    private func refill() throws {
        guard !eof else { return }
        var n = 0
        repeat { n = try source.read(into: inBuf) } while n < 0
        if n == 0 { eof = true; return }
        bytesIn += UInt64(n)
        strm.next_in = inBuf.baseAddress!.assumingMemoryBound(to: Bytef.self)
        strm.avail_in = uInt(n)
    }

    /// Fills `out` as far as possible; returns the byte count, 0 at the end of the input.
    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if !sniffed {
            sniffed = true
            try refill()
            // A source may hand out a single byte: make sure two are there to sniff the magic.
            if strm.avail_in == 1, !eof {
                var n = 0
                repeat { n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: inBuf[1...])) } while n < 0
                if n == 0 { eof = true } else { bytesIn += UInt64(n); strm.avail_in += uInt(n) }
            }
            if strm.avail_in >= 2, inBuf[0] == 0x1F, inBuf[1] == 0x8B {
                isGzip = true
                guard ffcol_inflateInit2(&strm, 15 + 16) == Z_OK else {
                    throw ConvertError(.gzip, file: source.name, "zlib initialisation failed")
                }
                inited = true
            }
        }
        if !isGzip {
            var filled = 0
            while filled < out.count {
                if strm.avail_in == 0 { try refill(); if eof { break } }
                let n = min(Int(strm.avail_in), out.count - filled)
                // Safe: n <= avail_in bytes remain at next_in, n <= free space in out.
                (out.baseAddress! + filled).copyMemory(from: UnsafeRawPointer(strm.next_in), byteCount: n)
                strm.next_in += n; strm.avail_in -= uInt(n); filled += n
            }
            bytesOut += UInt64(filled)
            return filled
        }
        strm.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
        strm.avail_out = uInt(out.count)
        while strm.avail_out > 0 {
            if strm.avail_in == 0 {
                try refill()
                if eof {
                    if memberEnded { break }
                    throw ConvertError(.gzip, file: source.name,
                        "truncated gzip data: the input ends at byte \(bytesIn) in the middle of a compressed stream")
                }
            }
            if memberEnded {
                // Another gzip member follows (multi-member file).
                inflateReset(&strm)
                memberEnded = false
            }
            let ret = inflate(&strm, Z_NO_FLUSH)
            if ret == Z_STREAM_END {
                memberEnded = true
            } else if ret != Z_OK && ret != Z_BUF_ERROR {
                let msg = strm.msg.map { String(cString: $0) } ?? "error \(ret)"
                let at = bytesIn - UInt64(strm.avail_in)
                throw ConvertError(.gzip, file: source.name, "corrupt gzip data near compressed byte \(at): \(msg)")
            }
        }
        let n = out.count - Int(strm.avail_out)
        bytesOut += UInt64(n)
        return n
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
