#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The name of a directory entry returned by `readdir`.
///
/// Reads the name where it is, up to its NUL. Copying `e.pointee.d_name` (a 256-byte tuple)
/// instead reads past the end of the entry: glibc packs entries at their real length in its
/// read buffer, so the last ones in that buffer are shorter than `dirent` (AddressSanitizer:
/// heap-buffer-overflow).
public func direntName(_ e: UnsafePointer<dirent>) -> String {
    let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    return String(cString: (UnsafeRawPointer(e) + offset).assumingMemoryBound(to: CChar.self))
}
