import Glibc
import FFCol
import FFColConvert
import CFuzzDriver
import FuzzSupport

// Input layout: byte 0 picks the split size, the mode (plain / gzip-wrapped) and the inflate
// backend; the rest is the file content. A conversion must either succeed, producing a file
// that verifies, or throw a ConvertError. Anything else (a crash, a trap, another error type)
// is a finding.

let workDir = makeWorkDir("fuzzcsv")

/// The bytes gzip-compressed in memory.
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    do {
        let w = try GzipWriter(sink: { out.append(contentsOf: $0) }, level: 1)
        try bytes.withUnsafeBytes { try w.write($0) }
        try w.close()
    } catch { fatalError("gzip of fuzz input failed: \(error)") }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let ctl = data[0]
    var body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let splits = [1, 2, 3, 7, 64, 4096, 1 << 20]
    let piece = splits[Int(ctl & 7) % splits.count]
    if ctl & 0x08 != 0 { body = gzip(body) }
    var o = ConvertOptions(outRoot: workDir + "/out")
    o.dataset = (ctl & 0x10) != 0 ? .optionsMinute : .stocksMinute
    o.date = TradingDate(year: 2025, month: 9, day: 29)
    o.inflate = (ctl & 0x20) != 0 ? .zlib : .isal
    o.strict = (ctl & 0x40) != 0
    o.blockSize = (ctl & 0x80) != 0 ? 4096 : 1 << 16
    o.targetChunkRows = (ctl & 0x80) != 0 ? 3 : 16_384
    o.sourceName = "fuzz.csv"
    do {
        let r = try Converter.convert(source: MemorySource(body, name: "fuzz.csv", piece: piece), options: o)
        let f = try FFCFile(path: r.output)
        try f.verify()
        precondition(f.rowCount == r.rows, "row count in the footer differs from the converter's")
        unlink(r.output)
    } catch is ConvertError {
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}

// SwiftPM links every executable with its own main, so libFuzzer's main is not used: run
// libFuzzer's driver from here with the usual command line (-max_total_time=N corpus/ ...).
var fuzzArgc = CommandLine.argc
var fuzzArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv) { data, size in fuzz(data!, size) })
