import ArgumentParser
import FFCol

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe an .ffc file: provenance, schema, chunks, sizes and compression per column, tickers.")

    @Argument(help: "The .ffc file.")
    var file: String

    @Flag(help: "List every ticker with its chunk and row count.")
    var tickers = false

    @Flag(help: "List every chunk.")
    var chunks = false

    func run() throws {
        let f = try FFCFile(path: file)
        let footer = try f.footer
        let o = Output()
        o.text("file:      \(file)\n")
        o.text("format:    .ffc \(f.formatVersion.major).\(f.formatVersion.minor), \(f.fileSize) bytes\n")
        o.text("dataset:   \(f.dataset)\ndate:      \(f.date)\n")
        // Versions 2 and 3: each chunk's page table (in its ticker directory) gives the pages' encodings.
        let pageTables = try (0..<f.chunkCount).map { try f.pageTable($0) }
        let pageCount = pageTables.reduce(0) { $0 + ($1?.count ?? 0) }
        o.text("rows:      \(f.rowCount)\ntickers:   \(f.tickerCount)\nchunks:    \(f.chunkCount)"
               + (pageCount > 0 ? ", \(pageCount) pages" : "") + "\n")
        o.text("provenance:\n")
        for (k, v) in footer.provenance { o.text("  \(k): \(v)\n") }
        o.text("\ncolumn          type     encodings              stored        raw    ratio  bytes/row\n")
        var tickStored = 0, tickRaw = 0
        for c in footer.chunks { tickStored += Int(c.tickers.storedSize); tickRaw += Int(c.tickers.rawSize) }
        func line(_ name: String, _ type: String, _ encs: String, _ stored: Int, _ raw: Int) {
            let ratio = stored > 0 ? Double(raw) / Double(stored) : 0
            let bpr = f.rowCount > 0 ? Double(stored) / Double(f.rowCount) : 0
            o.text(pad(name, 15) + " " + pad(type, 8) + " " + pad(encs, 18) + lpad(String(stored), 11) + lpad(String(raw), 11)
                   + lpad(fmt2(ratio) + "x", 9) + lpad(fmt2(bpr), 11) + "\n")
        }
        line("ticker", "string", "tickers", tickStored, tickRaw)
        for c in Column.allCases {
            var stored = 0, raw = 0
            var encs: [String: Int] = [:]
            for (i, ch) in footer.chunks.enumerated() {
                let b = ch.columns[c.rawValue].block
                stored += Int(b.storedSize); raw += Int(b.rawSize)
                if let t = pageTables[i] {
                    for j in 0..<t.count { encs[BlockEncoding(rawValue: t.block(c, j).encoding)?.name ?? "?", default: 0] += 1 }
                } else {
                    encs[BlockEncoding(rawValue: b.encoding)?.name ?? "?", default: 0] += 1
                }
            }
            let e = encs.sorted { $0.value > $1.value }.map { "\($0.key)" }.joined(separator: "+")
            line(c.name, c.isFloat ? "float64" : "int64", e, stored, raw)
        }
        if chunks {
            o.text("\nchunk  first_row     rows  tickers  pages  first ticker .. last ticker\n")
            for (i, c) in footer.chunks.enumerated() {
                o.text(lpad(String(i), 5) + lpad(String(c.firstRow), 11) + lpad(String(c.rowCount), 9) + lpad(String(c.tickerCount), 9)
                       + lpad(pageTables[i].map { String($0.count) } ?? "-", 7)
                       + "  " + String(decoding: c.firstTicker, as: UTF8.self) + " .. " + String(decoding: c.lastTicker, as: UTF8.self) + "\n")
            }
        }
        if tickers {
            o.text("\nticker                  chunk     rows\n")
            for ci in 0..<f.chunkCount {
                let dc = try f.chunk(ci, columns: [])
                for t in 0..<dc.tickers.count {
                    o.text(pad(dc.tickers.nameString(t), 22) + lpad(String(ci), 7) + lpad(String(dc.tickers.rows(t).count), 9) + "\n")
                }
                o.maybeFlush()
            }
        } else {
            let first = footer.chunks.first.map { String(decoding: $0.firstTicker, as: UTF8.self) } ?? ""
            let last = footer.chunks.last.map { String(decoding: $0.lastTicker, as: UTF8.self) } ?? ""
            o.text("\ntickers from \(first) to \(last) (--tickers lists them)\n")
        }
        o.flush()
    }
}

func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum of .ffc files under a root (or of the files named).",
        discussion: "Decodes every block of every file and checks its XXH64 checksum, the footer and the row order. Exit status 1 if any file is corrupt.")

    @Argument(help: "Roots or .ffc files (default: root in config/ffcol.yaml, else ./data).")
    var paths: [String] = []

    @Flag(name: .shortAndLong, help: "Print only problems and the summary.")
    var quiet = false

    func run() throws {
        let targets = paths.isEmpty ? [Settings.load().root] : paths
        var files: [String] = []
        var temps: [String] = []
        for t in targets {
            let (f, tmp) = FFCFinder.find(t)
            if f.isEmpty && tmp.isEmpty && !t.hasSuffix(".ffc") {
                note("ffcol verify: no .ffc files under \(t)")
            }
            files += f; temps += tmp
        }
        var bad = 0
        let t0 = monotonicSeconds()
        var rows = 0
        for p in files {
            do {
                let f = try FFCFile(path: p)
                try f.verify()
                rows += f.rowCount
                if !quiet { note("ok      \(p) (\(f.rowCount) rows, \(f.chunkCount) chunks)") }
            } catch {
                bad += 1
                note("CORRUPT \(error)")
            }
        }
        for t in temps { note("note: leftover temporary file from an interrupted run (not output; safe to delete): \(t)") }
        note("verified \(files.count) file\(files.count == 1 ? "" : "s"), \(rows) rows in \(fmt2(monotonicSeconds() - t0)) s: \(bad == 0 ? "all OK" : "\(bad) CORRUPT")")
        if bad > 0 { throw ExitCode(1) }
        if files.isEmpty { throw ExitCode(1) }
    }
}

import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

enum FFCFinder {
    /// .ffc files and leftover temporary files under a path.
    static func find(_ path: String) -> ([String], [String]) {
        var st = stat()
        guard stat(path, &st) == 0 else { return ([], []) }
        if (st.st_mode & S_IFMT) != S_IFDIR { return ([path], []) }
        var files: [String] = [], temps: [String] = []
        var seen = Set<[UInt64]>()
        func walk(_ dir: String) {
            var s = stat()
            guard stat(dir, &s) == 0, seen.insert([UInt64(s.st_dev), UInt64(s.st_ino)]).inserted, let d = opendir(dir) else { return }
            defer { closedir(d) }
            var names: [String] = []
            while let e = readdir(d) {
                names.append(direntName(e))
            }
            for name in names.sorted() where name != "." && name != ".." {
                let p = dir + "/" + name
                var t = stat()
                guard stat(p, &t) == 0 else { continue }
                if (t.st_mode & S_IFMT) == S_IFDIR {
                    if name != ".ffcol" { walk(p) }
                } else if name.hasPrefix("."), name.contains(".ffc.tmp-") {
                    temps.append(p)
                } else if name.hasSuffix(".ffc"), !name.hasPrefix(".") {
                    files.append(p)
                }
            }
        }
        walk(path)
        return (files, temps)
    }
}
