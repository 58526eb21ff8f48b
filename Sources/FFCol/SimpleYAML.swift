// MARK: - A YAML subset for configuration files

/// A reader for the small subset of YAML that ffcol's configuration files use:
/// nested maps of scalars, structured by indentation.
///
/// Supported: `key: value` lines, `key:` opening a nested map whose lines are indented deeper,
/// `#` comments (whole-line, or after a value when preceded by a space), blank lines,
/// single- and double-quoted strings (double quotes understand `\"`, `\\`, `\n`, `\t`;
/// single quotes understand `''`), and plain scalars. Not supported (and reported as an
/// error with the file and line): lists, flow collections `{}`/`[]`, anchors, multi-line
/// scalars, tabs used for indentation, duplicate keys.
///
/// Values stay strings; callers convert (`int(_:)`, `bool(_:)`) and name the key on failure.
public enum SimpleYAML {
    /// A node: a scalar string or a map keeping the keys' order.
    public indirect enum Node: Equatable, Sendable {
        case scalar(String)
        case map([(key: String, value: Node, line: Int)])

        public static func == (a: Node, b: Node) -> Bool {
            switch (a, b) {
            case let (.scalar(x), .scalar(y)): return x == y
            case let (.map(x), .map(y)):
                return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
            default: return false
            }
        }

        /// The child at `key` of a map; nil for a scalar or a missing key.
        public subscript(key: String) -> Node? {
            guard case let .map(entries) = self else { return nil }
            return entries.first(where: { $0.key == key })?.value
        }

        /// The node at a dotted path (`polygon.s3.bucket`).
        public func at(_ path: String) -> Node? {
            var node: Node? = self
            for part in path.split(separator: ".") { node = node?[String(part)] }
            return node
        }

        /// The scalar text, nil for a map.
        public var string: String? {
            if case let .scalar(s) = self { return s }
            return nil
        }
    }

    /// An error with the file name and the 1-based line.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let file: String
        public let line: Int
        public let message: String
        public var description: String { "\(file):\(line): \(message)" }
        public init(file: String, line: Int, message: String) {
            self.file = file; self.line = line; self.message = message
        }
    }

    /// Parses `text`; `file` names the source in errors.
    public static func parse(_ text: String, file: String = "<yaml>") throws -> Node {
        // Each entry: (indent, key, value?, line). A stack of open maps by indentation.
        final class Frame {
            let indent: Int
            var entries: [(key: String, value: Node, line: Int)] = []
            var pendingKey: (key: String, line: Int)?
            init(indent: Int) { self.indent = indent }
        }
        var stack: [Frame] = [Frame(indent: 0)]
        // Indentation of the children of the last `key:` line, set when the first child is seen.
        var expectChildDeeperThan: Int? = nil

        func fail(_ line: Int, _ msg: String) -> ParseError { ParseError(file: file, line: line, message: msg) }

        func closeTop() {
            let top = stack.removeLast()
            let parent = stack[stack.count - 1]
            if let pk = parent.pendingKey {
                parent.entries.append((pk.key, .map(top.entries), pk.line))
                parent.pendingKey = nil
            }
        }

        var lineNo = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            // Indentation.
            var indent = 0
            for ch in line {
                if ch == " " { indent += 1 } else if ch == "\t" {
                    throw fail(lineNo, "tab character in indentation; use spaces")
                } else { break }
            }
            let content = line.dropFirst(indent)
            if content.isEmpty || content.hasPrefix("#") { continue }
            if content == "---" { continue }
            if content.hasPrefix("- ") || content == "-" {
                throw fail(lineNo, "lists are not supported in this configuration file")
            }
            if content.hasPrefix("{") || content.hasPrefix("[") {
                throw fail(lineNo, "flow collections ({...}, [...]) are not supported")
            }

            // Close or open levels by indentation.
            if let deeper = expectChildDeeperThan {
                expectChildDeeperThan = nil
                if indent > deeper {
                    stack.append(Frame(indent: indent))
                } else {
                    // `key:` with nothing under it: an empty value.
                    let top = stack[stack.count - 1]
                    if let pk = top.pendingKey {
                        top.entries.append((pk.key, .scalar(""), pk.line)); top.pendingKey = nil
                    }
                }
            }
            while stack.count > 1 && indent < stack[stack.count - 1].indent { closeTop() }
            if indent != stack[stack.count - 1].indent {
                throw fail(lineNo, "unexpected indentation (\(indent) spaces, expected \(stack[stack.count - 1].indent))")
            }

            // key: value
            let (key, rest) = try splitKey(content, line: lineNo, fail: fail)
            let frame = stack[stack.count - 1]
            if frame.entries.contains(where: { $0.key == key }) {
                throw fail(lineNo, "duplicate key '\(key)'")
            }
            let value = try scalar(rest, line: lineNo, fail: fail)
            if let value {
                frame.entries.append((key, .scalar(value), lineNo))
            } else {
                frame.pendingKey = (key, lineNo)
                expectChildDeeperThan = indent
            }
        }
        if expectChildDeeperThan != nil {
            let top = stack[stack.count - 1]
            if let pk = top.pendingKey { top.entries.append((pk.key, .scalar(""), pk.line)); top.pendingKey = nil }
        }
        while stack.count > 1 { closeTop() }
        return .map(stack[0].entries)
    }

    // Splits `key: rest`; the key may be quoted.
    private static func splitKey(_ s: Substring, line: Int, fail: (Int, String) -> ParseError) throws -> (String, Substring) {
        if let q = s.first, q == "\"" || q == "'" {
            guard let end = s.dropFirst().firstIndex(of: q) else { throw fail(line, "unterminated quoted key") }
            let key = String(s[s.index(after: s.startIndex)..<end])
            let after = s[s.index(after: end)...]
            guard after.first == ":" else { throw fail(line, "expected ':' after the key") }
            return (key, after.dropFirst())
        }
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == ":" {
                let n = s.index(after: i)
                if n == s.endIndex || s[n] == " " {
                    let key = s[..<i].trimmingTrailingSpaces()
                    guard !key.isEmpty else { throw fail(line, "empty key") }
                    return (String(key), s[n...])
                }
            }
            i = s.index(after: i)
        }
        throw fail(line, "expected 'key: value'")
    }

    // The scalar after the colon; nil when there is none (a nested map follows).
    private static func scalar(_ rest: Substring, line: Int, fail: (Int, String) -> ParseError) throws -> String? {
        var s = rest.drop(while: { $0 == " " })
        if s.isEmpty || s.hasPrefix("#") { return nil }
        if s.first == "\"" {
            var out = ""
            var i = s.index(after: s.startIndex)
            while i < s.endIndex {
                let c = s[i]
                if c == "\"" {
                    try checkTrailing(s[s.index(after: i)...], line: line, fail: fail)
                    return out
                }
                if c == "\\" {
                    i = s.index(after: i)
                    guard i < s.endIndex else { break }
                    switch s[i] {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\": out.append("\\")
                    case "\"": out.append("\"")
                    case "/": out.append("/")
                    default: throw fail(line, "unsupported escape '\\\(s[i])' in a double-quoted string")
                    }
                } else {
                    out.append(c)
                }
                i = s.index(after: i)
            }
            throw fail(line, "unterminated double-quoted string")
        }
        if s.first == "'" {
            var out = ""
            var i = s.index(after: s.startIndex)
            while i < s.endIndex {
                let c = s[i]
                if c == "'" {
                    let n = s.index(after: i)
                    if n < s.endIndex && s[n] == "'" { out.append("'"); i = s.index(after: n); continue }
                    try checkTrailing(s[n...], line: line, fail: fail)
                    return out
                }
                out.append(c)
                i = s.index(after: i)
            }
            throw fail(line, "unterminated single-quoted string")
        }
        if s.first == "{" || s.first == "[" { throw fail(line, "flow collections ({...}, [...]) are not supported") }
        if s.first == "|" || s.first == ">" { throw fail(line, "multi-line scalars (| and >) are not supported") }
        if s.first == "&" || s.first == "*" { throw fail(line, "anchors and aliases are not supported") }
        // Plain scalar: a comment starts at " #".
        if let r = s.firstRange(of: " #") { s = s[..<r.lowerBound] }
        let v = s.trimmingTrailingSpaces()
        if v == "~" || v == "null" { return "" }
        return String(v)
    }

    private static func checkTrailing(_ s: Substring, line: Int, fail: (Int, String) -> ParseError) throws {
        let t = s.drop(while: { $0 == " " })
        if !t.isEmpty && !t.hasPrefix("#") { throw fail(line, "unexpected text after a quoted string") }
    }

    // MARK: Conversions with errors naming the key

    /// The integer at `path`, nil if absent; throws if present and not an integer.
    public static func int(_ root: Node, _ path: String, file: String) throws -> Int? {
        guard let node = root.at(path) else { return nil }
        guard let s = node.string, let v = Int(s) else {
            throw ParseError(file: file, line: line(of: path, in: root) ?? 0,
                             message: "'\(path)' must be an integer")
        }
        return v
    }

    /// The string at `path`, nil if absent or empty; throws if it is a map.
    public static func string(_ root: Node, _ path: String, file: String) throws -> String? {
        guard let node = root.at(path) else { return nil }
        guard let s = node.string else {
            throw ParseError(file: file, line: line(of: path, in: root) ?? 0,
                             message: "'\(path)' must be a single value, not a map")
        }
        return s.isEmpty ? nil : s
    }

    /// The line where the key at `path` was written.
    public static func line(of path: String, in root: Node) -> Int? {
        var node = root
        var line: Int?
        for part in path.split(separator: ".") {
            guard case let .map(entries) = node, let e = entries.first(where: { $0.key == part }) else { return nil }
            node = e.value; line = e.line
        }
        return line
    }
}

extension Substring {
    fileprivate func trimmingTrailingSpaces() -> Substring {
        var s = self
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
