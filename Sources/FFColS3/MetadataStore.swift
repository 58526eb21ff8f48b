import FFCol
import FFColConvert
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Durable per-date records

/// What happened to one dataset/date, kept in `ROOT/.ffcol/meta/<dataset>/YYYY-MM-DD.json`.
///
/// One small file per date, replaced atomically (temp name, fsync, rename, fsync of the
/// directory): a crash leaves the previous record or the new one, never a torn one, and two
/// processes working on different dates never touch the same file. Two processes on the same
/// date: the last writer wins, and each writes a complete record.
public struct DateRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// The file is mirrored (or converted) and verified.
        case done
        /// The last attempt failed; `lastError` says why.
        case failed
        /// No file for that date (404 or absent from the listing).
        case skipped
        /// A run is converting the date now (`holder` says which), or was killed while it did:
        /// not done; the next run converts it.
        case inProgress = "in_progress"
    }

    public var dataset: String
    public var date: String
    public var key: String
    public var status: Status
    /// The source object's ETag (without quotes) and size.
    public var etag: String?
    public var size: Int64?
    public var lastModified: String?
    /// Bytes received in the last run for this date (resumed ranges included).
    public var bytesDownloaded: Int64
    /// Bytes written to the output (the raw file, or an `.ffc` file).
    public var bytesWritten: Int64
    /// Records converted (0 for a raw download).
    public var records: Int64
    /// Retries in the last run for this date.
    public var retries: Int
    public var durationSeconds: Double
    public var lastError: String?
    /// The output path relative to the root.
    public var output: String?
    /// ISO 8601 UTC time of the update.
    public var updatedAt: String
    /// With `in_progress`: the process converting the date (`pid N since TIME`).
    public var holder: String?

    public init(dataset: String, date: String, key: String, status: Status) {
        self.dataset = dataset; self.date = date; self.key = key; self.status = status
        self.bytesDownloaded = 0; self.bytesWritten = 0; self.records = 0; self.retries = 0
        self.durationSeconds = 0; self.updatedAt = isoNow()
    }
}

/// Reads and writes `DateRecord`s under a root.
public struct MetadataStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func directory(_ dataset: Dataset) -> String { "\(root)/.ffcol/meta/\(dataset.rawValue)" }
    public func path(_ dataset: Dataset, _ date: TradingDate) -> String { "\(directory(dataset))/\(date).json" }

    /// The record of a date, nil if none or unreadable (an unreadable record is treated as absent).
    public func load(_ dataset: Dataset, _ date: TradingDate) -> DateRecord? {
        guard let data = FileManager.default.contents(atPath: path(dataset, date)) else { return nil }
        return try? JSONDecoder().decode(DateRecord.self, from: data)
    }

    /// Writes a record atomically.
    public func save(_ record: DateRecord, dataset: Dataset, date: TradingDate) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try enc.encode(record)
        data.append(0x0A)
        try writeFileAtomically(path(dataset, date), bytes: [UInt8](data))
    }

    /// All records of a dataset in `from...to` (all if nil), sorted by date.
    public func records(_ dataset: Dataset, from: TradingDate? = nil, to: TradingDate? = nil) -> [DateRecord] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory(dataset)) else { return [] }
        var out: [DateRecord] = []
        for n in names where n.hasSuffix(".json") && n.count == 15 {
            guard let d = TradingDate(n.prefix(10)) else { continue }
            if let from, d < from { continue }
            if let to, d > to { continue }
            if let r = load(dataset, d) { out.append(r) }
        }
        return out.sorted { $0.date < $1.date }
    }
}

// MARK: - Atomic file writes

/// Creates the directories of `path` (like `mkdir -p`).
func makeDirectories(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}

/// A temp name unique to this process and call: `NAME.tmp.<pid>.<n>`.
func temporaryName(for path: String) -> String {
    "\(path).tmp.\(getpid()).\(tempCounter.next())"
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
let tempCounter = Counter()

/// Writes `bytes` to `path` atomically: temp name, fsync, rename, fsync of the directory.
func writeFileAtomically(_ path: String, bytes: [UInt8]) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try makeDirectories(dir)
    let tmp = temporaryName(for: path)
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw posixError("cannot create \(tmp)") }
    TemporaryFiles.register(tmp)
    defer { TemporaryFiles.unregister(tmp) }
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
        if n < 0 { if errno == EINTR { continue }; let e = posixError("cannot write \(tmp)"); close(fd); unlink(tmp); throw e }
        off += n
    }
    if fsync(fd) != 0 { let e = posixError("cannot fsync \(tmp)"); close(fd); unlink(tmp); throw e }
    close(fd)
    try renameDurably(tmp, to: path)
}

/// rename(2) then fsync of the destination directory.
func renameDurably(_ from: String, to: String) throws {
    if rename(from, to) != 0 { let e = posixError("cannot rename \(from) to \(to)"); unlink(from); throw e }
    let dir = (to as NSString).deletingLastPathComponent
    let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
    if dfd >= 0 { _ = fsync(dfd); close(dfd) }
}

struct PosixError: Error, CustomStringConvertible {
    let description: String
}

func posixError(_ what: String) -> PosixError {
    let e = errno
    return PosixError(description: "\(what): \(String(cString: strerror(e)))\(ioAdvice(e))")
}

func isoNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}
