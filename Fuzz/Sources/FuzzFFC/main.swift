import Glibc
import FFCol
import FFColConvert
import CFuzzDriver
import FuzzSupport

// Input layout: byte 0 selects raw mode (the rest is a whole .ffc file) or mutation mode (the
// rest is a list of (offset, xor) edits applied to a small valid file built at startup).
// Opening and verifying must either succeed or throw FFCError; reading tickers after a
// successful open must not crash; the file mapped and the file read with pread must give the
// same outcome at every step.

let workDir = makeWorkDir("fuzzffc")

let validFile: [UInt8] = {
    var csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
    let t0: Int64 = 1_759_152_600_000_000_000
    for (i, tk) in ["A", "AAPL", "MSFT", "SPY", "ZZZZ"].enumerated() {
        for m in 0..<(3 + i) {
            csv += "\(tk),\(100 + m * 7),\(10 + i).5,\(10 + i).25,\(11 + i),\(9 + i),\(t0 + Int64(m) * 60_000_000_000),\(m + 1)\n"
        }
    }
    var o = ConvertOptions(outRoot: workDir + "/seed")
    o.dataset = .stocksMinute
    o.date = TradingDate(year: 2025, month: 9, day: 29)
    o.targetChunkRows = 4
    let r = try! Converter.convert(source: MemorySource(Array(csv.utf8), name: "seed.csv"), options: o)
    return readWholeFile(r.output)
}()

/// Where the valid file (format version 3) keeps each chunk's block entry (in the block table)
/// and that entry's checksum (in the footer's chunk record), found by walking the footer.
let entryPositions: [(entry: Int, checksum: Int)] = {
    let b = validFile
    precondition(b[8] == 3, "the seed file is expected in format version 3")
    func u(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
    let t = b.count - FFCFormat.trailerSize
    let fstart = t - u(t, 8)
    var at = fstart + 2
    for _ in 0..<7 { at += 1; at += 2 + u(at, 2) }     // schema: type, name
    at += 2 + u(at, 2)                                  // dataset
    at += 4 + 8 + 8                                     // date, rows, tickers
    let np = u(at, 4); at += 4
    for _ in 0..<np { at += 2 + u(at, 2); at += 4 + u(at, 4) }
    let n = u(at, 4); at += 4
    let table = fstart - n * FFCFormat.blockEntrySize
    var out: [(Int, Int)] = []
    for i in 0..<n {
        out.append((table + i * FFCFormat.blockEntrySize, at + 24))
        at += 32
        at += 2 + u(at, 2); at += 2 + u(at, 2)          // first and last ticker
    }
    precondition(at == t, "footer walk ended at \(at), the footer ends at \(t)")
    return out
}()

func check(_ bytes: [UInt8]) {
    let path = workDir + "/f.ffc"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    // Mapped and read with pread (FFCFile.Access): the same outcome, step by step.
    let outcomes = [FFCFile.Access.mapped, .read].map { access -> String in
        var seen = ""
        do {
            let f = try FFCFile(path: path, access: access)
            seen += "open \(f.rowCount) \(f.tickerCount) \(f.provenance("source") ?? "-");"
            do { try f.verify(); seen += "verified;" } catch { seen += "verify: \(error);" }
            for t in ["A", "AAPL", "SPY", "ZZZZZ", ""] {
                do { seen += "\(t): \(try f.bars(ticker: t).map { Array($0.close) } ?? []);" } catch { seen += "\(t): \(error);" }
            }
            do { try f.forEachTicker { _ in true }; seen += "all;" } catch { seen += "all: \(error);" }
        } catch let e as FFCError {
            seen += "open failed: \(e)"
        } catch {
            fatalError("unexpected error type: \(error)")
        }
        return seen
    }
    precondition(outcomes[0] == outcomes[1], "mapped and read differ:\n\(outcomes[0])\n\(outcomes[1])")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 {
        check(Array(rest))
        return 0
    }
    // Mutation mode: 3 bytes per edit (16-bit offset from the end or the start, xor byte);
    // byte 0 bit 1 also truncates by a count taken from the edits' first byte.
    var bytes = validFile
    var i = 0
    while i + 3 <= rest.count {
        let off = Int(rest[i]) | Int(rest[i + 1]) << 8
        let pos = (data[0] & 4) != 0 ? bytes.count - 1 - off % bytes.count : off % bytes.count
        bytes[pos] ^= rest[i + 2] == 0 ? 0xFF : rest[i + 2]
        i += 3
    }
    if data[0] & 2 != 0, let first = rest.first {
        bytes.removeLast(min(bytes.count, Int(first)))
    }
    // Bit 4: rewrite each block entry's checksum in the footer (where the valid file keeps it)
    // so that mutated entries reach their field checks; bit 3 then fixes the footer's.
    if data[0] & 16 != 0, bytes.count == validFile.count {
        for (e, c) in entryPositions {
            let sum = XXH64.hash(Array(bytes[e..<e + FFCFormat.blockEntrySize]))
            for k in 0..<8 { bytes[c + k] = UInt8(truncatingIfNeeded: sum >> (8 * k)) }
        }
    }
    // Bit 3: rewrite the footer checksum so the mutated footer reaches the decoder.
    if data[0] & 8 != 0, bytes.count >= FFCFormat.headerSize + FFCFormat.trailerSize {
        let t = bytes.count - FFCFormat.trailerSize
        var flen = 0
        for k in 0..<8 { flen |= Int(bytes[t + k]) << (8 * k) }
        if flen >= 0, flen <= t - FFCFormat.headerSize {
            let sum = XXH64.hash(Array(bytes[(t - flen)..<t]))
            for k in 0..<8 { bytes[t + 8 + k] = UInt8(truncatingIfNeeded: sum >> (8 * k)) }
        }
    }
    check(bytes)
    return 0
}

// SwiftPM links every executable with its own main, so libFuzzer's main is not used: run
// libFuzzer's driver from here with the usual command line (-max_total_time=N corpus/ ...).
var fuzzArgc = CommandLine.argc
var fuzzArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv) { data, size in fuzz(data!, size) })
