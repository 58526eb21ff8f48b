import Glibc
import FFCol
import FFColConvert
import CFuzzDriver
import FuzzSupport

// The block decoders behind the checksums: integer (frame of reference, delta, byte planes),
// decimal, raw Float64, relative prices and the ticker directory, reached through
// `ChunkDecoder` with decompressed blocks handed over as they are (no checksum, no zstd), so
// that every mutation reaches them. FuzzFFC cannot: its mutations of whole files stop at the
// block checksums.
//
// At start-up, three small files (stocks minute with fractional volumes, options minute,
// stocks day) are converted with small chunks in format version 1 (one block per column: the
// same block decoders read each page of a version 2 column) and every chunk's blocks
// decompressed. Input:
//   byte 0        which chunk (modulo the number of chunks)
//   bytes 1-4     the row range: two u16 bounds, each modulo rowCount + 1
//   byte 5        bit 0: change one column's encoding to byte 6 (mod 6);
//                 bit 1: add byte 7 (as a signed step) to the chunk's row count;
//                 bit 2: the same to its ticker count
//   bytes 8...    edits of 4 bytes: block (mod 8; 0 is the ticker directory, 1... the columns
//                 in schema order), u16 offset, xor (0: cut the block at that offset instead)
// Every decode must return exactly the rows asked for or throw; it must never trap or read
// outside the blocks (AddressSanitizer).

let workDir = makeWorkDir("fuzzblocks")

struct Sample {
    let meta: ChunkMeta
    /// Decompressed blocks: the ticker directory, then the columns in schema order.
    let raw: [[UInt8]]
}

let samples: [Sample] = {
    var out: [Sample] = []
    let date = TradingDate(year: 2025, month: 9, day: 29)!
    for (k, o) in [SynthOptions(dataset: .stocksMinute, date: date, rows: 6_000, seed: 1, fractionalVolume: true),
                   SynthOptions(dataset: .optionsMinute, date: date, rows: 6_000, seed: 2),
                   SynthOptions(dataset: .stocksDay, date: date, rows: 3_000, seed: 3)].enumerated() {
        var csv: [UInt8] = []
        _ = try! Synth.generate(o) { csv.append(contentsOf: $0) }
        var c = ConvertOptions(outRoot: "\(workDir)/seed\(k)")
        c.dataset = o.dataset
        c.date = date
        c.targetChunkRows = 700
        c.pageRows = .formatVersion1
        let r = try! Converter.convert(source: MemorySource(csv, name: "seed\(k).csv"), options: c)
        let bytes = readWholeFile(r.output)
        let f = try! FFCFile(path: r.output)
        let dctx = ZstdDecompressor()
        func raw(_ b: BlockRef) -> [UInt8] {
            let s = Array(bytes[Int(b.offset)..<Int(b.offset) + Int(b.storedSize)])
            if b.compression == 0 { return s }
            var d = [UInt8](repeating: 0, count: Int(b.rawSize))
            let ok = s.withUnsafeBytes { src in d.withUnsafeMutableBytes { dctx.decompress(src, into: $0) } }
            precondition(ok, "seed block does not decompress")
            return d
        }
        for i in 0..<f.chunkCount {
            let m = try! f.chunkMeta(i)
            out.append(Sample(meta: m, raw: [raw(m.tickers)] + m.columns.map { raw($0.block) }))
        }
    }
    return out
}()

struct Failure: Error { let what: String }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 8 else { return 0 }
    let s = samples[Int(data[0]) % samples.count]
    var meta = s.meta
    var raw = s.raw
    let flags = data[5]
    if flags & 1 != 0 {
        let c = Int(data[6] >> 3) % 7
        meta.columns[c].block.encoding = [0, 1, 2, 3, 4, 5][Int(data[6]) % 6]
    }
    let step = Int(Int8(bitPattern: data[7]))
    if flags & 2 != 0 { meta.rowCount = UInt32(max(1, Int(meta.rowCount) + step)) }
    if flags & 4 != 0 { meta.tickerCount = UInt32(max(1, Int(meta.tickerCount) + step)) }
    var i = 8
    while i + 4 <= size {
        let b = Int(data[i]) % raw.count
        let off = Int(data[i + 1]) | Int(data[i + 2]) << 8
        if data[i + 3] == 0 {
            raw[b].removeLast(raw[b].count - off % (raw[b].count + 1))
        } else if !raw[b].isEmpty {
            raw[b][off % raw[b].count] ^= data[i + 3]
        }
        i += 4
    }
    let n = Int(meta.rowCount)
    let a = (Int(data[1]) | Int(data[2]) << 8) % (n + 1), z = (Int(data[3]) | Int(data[4]) << 8) % (n + 1)
    let range = min(a, z)..<max(a, z)
    // Blocks are told apart by offset (every block of a chunk has its own).
    let offsets = [meta.tickers.offset] + meta.columns.map(\.block.offset)
    let blocks = raw
    var dec = ChunkDecoder(meta: meta, rows: range, withRaw: { b, _, body in
        guard let k = offsets.firstIndex(of: b.offset) else { fatalError("unknown block at \(b.offset)") }
        try blocks[k].withUnsafeBytes { try body($0) }
    }, fail: { what, m in Failure(what: "\(what): \(m)") })
    if let dir = try? dec.tickers() {
        // A directory that decodes has its counts right.
        precondition(dir.count == Int(meta.tickerCount), "directory of \(dir.count) tickers, meta says \(meta.tickerCount)")
        for t in 0..<dir.count { _ = dir.rows(t); _ = dir.name(t) }
    }
    for c in Column.allCases {
        if c.isFloat {
            if let v = try? dec.doubles(c) { precondition(v.count == range.count, "\(c.name): \(v.count) values for \(range)") }
        } else {
            if let v = try? dec.int64s(c) { precondition(v.count == range.count, "\(c.name): \(v.count) values for \(range)") }
        }
    }
    return 0
}

// SwiftPM links every executable with its own main, so libFuzzer's main is not used: run
// libFuzzer's driver from here with the usual command line (-max_total_time=N corpus/ ...).
var fuzzArgc = CommandLine.argc
var fuzzArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv) { data, size in fuzz(data!, size) })
