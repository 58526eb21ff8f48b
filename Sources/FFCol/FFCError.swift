// MARK: - Reader errors

/// Errors of the reader library. Every case names the file (or section) and what is wrong.
public enum FFCError: Error, CustomStringConvertible, Equatable {
    /// The file cannot be opened, read or mapped.
    case io(path: String, message: String)
    /// Not an .ffc file (bad magic).
    case notFFC(path: String)
    /// An .ffc version this reader does not know.
    case unsupportedVersion(path: String, major: Int, minor: Int)
    /// Structural damage: truncated file, bad lengths, offsets out of bounds.
    case corrupt(String, String)
    /// A stored block whose checksum does not match.
    case checksum(path: String, chunk: Int, column: String)
    /// A usage error (unknown dataset directory, bad query).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .io(path, m): return "\(path): \(m)"
        case let .notFFC(path): return "\(path): not an .ffc file (bad magic number)"
        case let .unsupportedVersion(path, a, b):
            return "\(path): .ffc format version \(a).\(b) is not supported by this reader (it reads major versions \(FFCFormat.readableMajors.lowerBound) to \(FFCFormat.readableMajors.upperBound)); upgrade ffcol"
        case let .corrupt(ctx, m): return "\(ctx): corrupt file: \(m)"
        case let .checksum(path, chunk, column):
            return "\(path): checksum mismatch in chunk \(chunk), column \(column): the file is corrupt; re-convert it"
        case let .invalidArgument(m): return m
        }
    }
}
