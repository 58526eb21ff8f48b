// MARK: - Converter errors

/// Errors of the converter. Each names the input (file or key), and where possible the line,
/// column and offending text, or the byte offset in the compressed input.
public struct ConvertError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case badHeader = "bad header"
        case fieldCount = "wrong field count"
        case badValue = "bad value"
        case lineTooLong = "line too long"
        case emptyInput = "empty input"
        case gzip = "bad gzip data"
        case io = "I/O error"
        case usage = "usage"
        case strict = "window_start outside the file's date"
        case cancelled = "cancelled"
    }
    public var kind: Kind
    public var file: String
    /// 1-based line number in the decompressed CSV, if the error is about a line.
    public var line: Int?
    public var column: String?
    public var text: String?
    public var message: String

    public init(_ kind: Kind, file: String, line: Int? = nil, column: String? = nil, text: String? = nil, _ message: String) {
        self.kind = kind; self.file = file; self.line = line; self.column = column; self.text = text; self.message = message
    }

    public var description: String {
        var s = file
        if let l = line { s += ":\(l)" }
        s += ": " + kind.rawValue
        if let c = column { s += " in column '\(c)'" }
        s += ": " + message
        if let t = text { s += " (found '\(t)')" }
        return s
    }
}
