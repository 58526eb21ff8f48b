// MARK: - Little-endian byte building and bounds-checked reading

/// Appends little-endian integers and length-prefixed strings to a byte array.
public struct ByteWriter {
    public var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    @inlinable public mutating func u8(_ v: UInt8) { bytes.append(v) }
    @inlinable public mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inlinable public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inlinable public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inlinable public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    public mutating func str16(_ s: [UInt8]) { u16(UInt16(s.count)); bytes.append(contentsOf: s) }
    public mutating func str32(_ s: [UInt8]) { u32(UInt32(s.count)); bytes.append(contentsOf: s) }
}

/// Reads little-endian values from a byte range, checking every read against its end.
/// A read past the end throws `FFCError.corrupt` with `what` naming the structure.
public struct ByteReader {
    public let base: UnsafeRawBufferPointer
    public private(set) var offset: Int
    let context: String

    public init(_ base: UnsafeRawBufferPointer, context: String) {
        self.base = base; self.offset = 0; self.context = context
    }

    public var remaining: Int { base.count - offset }

    /// Checks that `n` bytes remain (one check for several unchecked reads below).
    @inline(__always) public func require(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= base.count - offset else {
            throw FFCError.corrupt(context, "\(what()) runs past the end of its section (offset \(offset), needs \(n) bytes, \(base.count - offset) left)")
        }
    }
    // Unchecked reads at `offset + at`: only after `require` covered them.
    @inline(__always) func peekU64(_ at: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset &+ at, as: UInt64.self)) }
    @inline(__always) func peekU32(_ at: Int) -> UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset &+ at, as: UInt32.self)) }
    @inline(__always) func peekU16(_ at: Int) -> UInt16 { UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset &+ at, as: UInt16.self)) }
    @inline(__always) func peekU8(_ at: Int) -> UInt8 { base[offset &+ at] }
    @inline(__always) mutating func advance(_ n: Int) { offset &+= n }

    @inline(__always) mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= base.count - offset else {
            throw FFCError.corrupt(context, "\(what()) runs past the end of its section (offset \(offset), needs \(n) bytes, \(base.count - offset) left)")
        }
    }
    public mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 {
        try need(1, what()); defer { offset += 1 }
        return base[offset]
    }
    public mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 {
        try need(2, what()); defer { offset += 2 }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    public mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 {
        try need(4, what()); defer { offset += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    public mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 {
        try need(8, what()); defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    public mutating func i64(_ what: @autoclosure () -> String) throws -> Int64 { Int64(bitPattern: try u64(what())) }
    public mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> [UInt8] {
        try need(n, what()); defer { offset += n }
        return Array(base[offset..<offset + n])
    }
    public mutating func str16(_ what: @autoclosure () -> String) throws -> [UInt8] { try bytes(Int(try u16(what())), what()) }
    public mutating func str32(_ what: @autoclosure () -> String) throws -> [UInt8] { try bytes(Int(try u32(what())), what()) }
}
