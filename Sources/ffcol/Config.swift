#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import FFCol

/// Settings from `config/ffcol.yaml` (or the file named by `FFCOL_CONFIG`), and `FFCOL_ROOT`.
struct Settings {
    var root = "data"
    var path: String?

    static func load() -> Settings {
        var s = Settings()
        let env = getenv("FFCOL_CONFIG").map { String(cString: $0) }
        let path = env ?? "config/ffcol.yaml"
        if let text = readTextFile(path) {
            s.path = path
            do {
                let y = try SimpleYAML.parse(text, file: path)
                if let r = try SimpleYAML.string(y, "root", file: path), !r.isEmpty { s.root = r }
            } catch {
                note("ffcol: warning: ignoring \(error)")
            }
        } else if env != nil {
            note("ffcol: warning: FFCOL_CONFIG names \(path), which cannot be read")
        }
        if let r = getenv("FFCOL_ROOT").map({ String(cString: $0) }), !r.isEmpty { s.root = r }
        return s
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

func readTextFile(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

extension Dataset: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension TradingDate: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// Exit with a message (stderr) and a status.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
    init(description: String) { self.description = description }
}
