#if canImport(Glibc)
import Glibc
#endif
import Foundation

// MARK: - What the fuzz targets share

/// Directories made by `makeWorkDir`, removed by the exit handler.
nonisolated(unsafe) private var workDirs: [String] = []

/// A new scratch directory for a target's files, in /dev/shm where there is one (the runs'
/// files stay off the disk), else /tmp. Removed at a normal exit; after a finding libFuzzer
/// exits without running exit handlers, and the directory stays for inspection.
public func makeWorkDir(_ name: String) -> String {
    for base in ["/dev/shm", "/tmp"] {
        var t = Array("\(base)/ffcol-\(name)-XXXXXX".utf8CString)
        if let p = mkdtemp(&t) {
            if workDirs.isEmpty {
                atexit { for d in workDirs { try? FileManager.default.removeItem(atPath: d) } }
            }
            let dir = String(cString: p)
            workDirs.append(dir)
            return dir
        }
    }
    fatalError("mkdtemp failed in /dev/shm and /tmp")
}

/// The whole content of a file.
public func readWholeFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}
