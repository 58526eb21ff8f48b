import XCTest
@testable import FFCol
#if canImport(Glibc)
import Glibc
#endif

/// Flips bits of one stored byte of a column block in a converted file (so reading that block
/// fails its checksum) and returns the chunk index: the chunk that holds `ticker`, or `chunk`.
@discardableResult
func damageBlock(_ path: String, ticker: String? = nil, chunk: Int = 0, column: Column, byte k: UInt64, mask: UInt8) throws -> Int {
    let f = try FFCFile(path: path)
    let ci = try ticker.map { try XCTUnwrap(f.chunkIndex(containing: Array($0.utf8)), "no chunk holds \($0)") } ?? chunk
    let b = try f.footer.chunks[ci].columns[column.rawValue].block
    precondition(k < UInt64(b.storedSize), "byte \(k) is outside the block")
    let fd = open(path, O_RDWR)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var byte: UInt8 = 0
    guard pread(fd, &byte, 1, off_t(b.offset + k)) == 1 else { throw FFCError.io(path: path, message: "pread") }
    byte ^= mask
    guard pwrite(fd, &byte, 1, off_t(b.offset + k)) == 1 else { throw FFCError.io(path: path, message: "pwrite") }
    return ci
}
