#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FFCol

// MARK: - One process per dataset and date

/// An exclusive lock on one dataset/date of an output root, held while a process writes that
/// date's `.ffc` (or raw file) and its records: `ROOT/.ffcol/locks/<dataset>/YYYY-MM-DD.lock`.
///
/// `flock(2)`: the kernel releases it when the holder exits, however it exits (SIGKILL, a
/// crash, a reboot), so a lock is never stale. The file holds who has it (pid, command line,
/// since when) for the message another process prints. The holder removes the file when it
/// releases; a process that opened the removed file notices (another inode) and tries again.
public final class DateLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32

    /// Who holds a lock, as written in its file.
    public struct Holder: Sendable, CustomStringConvertible {
        public var pid: Int32?
        public var command: String?
        public var since: String?
        public var description: String {
            guard let pid else { return "another process (it has not said which yet)" }
            var s = "pid \(pid)"
            if let command { s += " (\(command))" }
            if let since { s += " since \(since)" }
            return s
        }
    }

    public enum Attempt {
        case acquired(DateLock)
        case busy(Holder)
    }

    public static func path(root: String, dataset: Dataset, date: TradingDate) -> String {
        "\(root)/.ffcol/locks/\(dataset.rawValue)/\(date).lock"
    }

    /// Takes the lock if free; `.busy` with its holder if another process (or another thread
    /// of this one) has it. Throws if the lock file cannot be created (a read-only root, ...).
    /// Once acquired, the leftovers of killed runs for that date are removed (`StaleTemporaryFiles`).
    public static func tryAcquire(root: String, dataset: Dataset, date: TradingDate) throws -> Attempt {
        let a = try take(path(root: root, dataset: dataset, date: date), wait: false)
        if case .acquired = a { StaleTemporaryFiles.remove(root: root, dataset: dataset, date: date) }
        return a
    }

    /// Waits for the lock.
    public static func acquire(root: String, dataset: Dataset, date: TradingDate) throws -> DateLock {
        guard case .acquired(let l) = try take(path(root: root, dataset: dataset, date: date), wait: true) else {
            fatalError("a blocking flock returned busy")
        }
        StaleTemporaryFiles.remove(root: root, dataset: dataset, date: date)
        return l
    }

    /// The holder of the lock if a process holds it now, nil if nobody does (a record that
    /// says `in_progress` then belongs to a run that was killed). Takes a shared lock for an
    /// instant to ask the kernel; creates nothing.
    public static func currentHolder(root: String, dataset: Dataset, date: TradingDate) -> Holder? {
        let fd = open(path(root: root, dataset: dataset, date: date), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }  // no lock file: nobody holds it
        defer { close(fd) }
        var rc: Int32
        repeat { rc = flock(fd, LOCK_SH | LOCK_NB) } while rc != 0 && errno == EINTR
        if rc == 0 {
            _ = flock(fd, LOCK_UN)
            return nil
        }
        return readHolder(fd)
    }

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }
    deinit { release() }

    private static func take(_ path: String, wait: Bool) throws -> Attempt {
        let dir = String(path[..<path.lastIndex(of: "/")!])
        while true {
            try FFCWriter.makeDirectories(dir)
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let e = errno
                throw ConvertError(.io, file: path, "cannot create the lock file: \(errnoString(e))\(ioAdvice(e))")
            }
            var rc: Int32
            repeat { rc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) } while rc != 0 && errno == EINTR
            if rc != 0 {
                let e = errno
                if e == EWOULDBLOCK {
                    let h = readHolder(fd)
                    close(fd)
                    return .busy(h)
                }
                close(fd)
                throw ConvertError(.io, file: path, "cannot lock: \(errnoString(e))")
            }
            // The holder before us may have removed the file after we opened it: then our lock
            // is on a file nobody else will open. Try again with the current one.
            var a = stat(), b = stat()
            if fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev {
                close(fd)
                continue
            }
            let text = "pid \(getpid())\ncommand \(commandLine())\nsince \(utcNow())\n"
            _ = ftruncate(fd, 0)
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
            return .acquired(DateLock(path: path, fd: fd))
        }
    }

    /// Removes the lock file and releases the lock. Safe to call more than once.
    public func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    private static func readHolder(_ fd: Int32) -> Holder {
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        var h = Holder()
        guard n > 0 else { return h }
        for line in String(decoding: buf[0..<n], as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("pid ") { h.pid = Int32(line.dropFirst(4)) }
            if line.hasPrefix("command ") { h.command = String(line.dropFirst(8)) }
            if line.hasPrefix("since ") { h.since = String(line.dropFirst(6)) }
        }
        return h
    }

    /// This process's command line, printable, at most 200 characters.
    static func commandLine() -> String {
        var s = CommandLine.arguments.map { a in
            let b = a.split(separator: "/").last.map(String.init) ?? a
            return a == CommandLine.arguments.first ? b : a
        }.joined(separator: " ")
        s = String(s.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return s.count > 200 ? String(s.prefix(197)) + "..." : s
    }
}

/// Now, as `2026-01-02T03:04:05Z`.
func utcNow() -> String {
    var t = time(nil)
    var tm = tm()
    gmtime_r(&t, &tm)
    var buf = [CChar](repeating: 0, count: 32)
    strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
    return String(cString: buf)
}

func errnoString(_ e: Int32) -> String { String(cString: strerror(e)) }

/// What to do about a failed write or create, by errno ("" when there is nothing to add).
public func ioAdvice(_ e: Int32) -> String {
    switch e {
    case ENOSPC, EDQUOT: return " (the disk is full: free some space or use another output root, then run again)"
    case EROFS: return " (the file system is read-only: remount it read-write or use another output root)"
    case EACCES, EPERM: return " (permission denied: make the output root writable for this user or use another one)"
    case ENOTDIR: return " (a part of the path is a regular file, not a directory: use another output root)"
    default: return ""
    }
}

// MARK: - Leftovers of killed runs

public enum StaleTemporaryFiles {
    /// Removes the temporary files that killed or crashed runs left for one dataset/date: the
    /// hidden `.YYYY-MM-DD.ffc.tmp-*` next to the `.ffc`, `raw/<key>.tmp.*`, and the temporary
    /// names of its records. Call only while holding the date's `DateLock`: every writer of
    /// these files holds it, so none of them is being written. Returns the paths removed.
    @discardableResult
    public static func remove(root: String, dataset: Dataset, date: TradingDate) -> [String] {
        let ffc = Store(root: root).path(dataset: dataset, date: date)
        let raw = "\(root)/raw/\(dataset.key(for: date))"
        let candidates = [
            (ffc, { (_: String, base: String) in ".\(base).tmp-" }),
            (raw, { (_: String, base: String) in "\(base).tmp." }),
            ("\(root)/.ffcol/meta/\(dataset.rawValue)/\(date).json", { (_: String, base: String) in "\(base).tmp." }),
            ("\(root)/.ffcol/failed/\(dataset.rawValue)/\(date).txt", { (_: String, base: String) in "\(base).tmp-" }),
        ]
        var removed: [String] = []
        for (path, prefixOf) in candidates {
            guard let slash = path.lastIndex(of: "/") else { continue }
            let dir = String(path[..<slash]), base = String(path[path.index(after: slash)...])
            let prefix = prefixOf(dir, base)
            guard let d = opendir(dir) else { continue }
            var names: [String] = []
            while let e = readdir(d) {
                let name = direntName(e)
                if name.hasPrefix(prefix) { names.append(name) }
            }
            closedir(d)
            for n in names where unlink(dir + "/" + n) == 0 { removed.append(dir + "/" + n) }
        }
        return removed
    }
}
