import Glibc
import FFCol
import FFColConvert
import CFuzzDriver

// The gzip input path on its own (no CSV, no output file): arbitrary bytes as a whole input
// file, inflated by both decoders (zlib and ISA-L) with arbitrary read splits and output block
// sizes. Byte 0 picks the split and the block size; the rest is the file.
// Either both decoders throw a ConvertError, or both return the same decompressed size.
// Anything else (a crash, a trap, another error type, a disagreement) is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let ctl = data[0]
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let splits = [1, 2, 3, 7, 64, 4096, 65536, 1 << 20]
    let blocks = [61, 4096, 1 << 16, 1 << 16]
    let piece = splits[Int(ctl & 7)]
    let block = blocks[Int(ctl >> 3) & 3]
    var sizes: [UInt64?] = []
    var errors: [ConvertError?] = []
    for backend in [InflateBackend.zlib, .isal] {
        do {
            let n = try ConvertStages.inflate(source: MemorySource(body, name: "fuzz.csv.gz", piece: piece),
                                              blockSize: block, backend: backend)
            sizes.append(n); errors.append(nil)
        } catch let e as ConvertError {
            sizes.append(nil); errors.append(e)
        } catch {
            fatalError("unexpected error type from \(backend): \(error)")
        }
    }
    if sizes[0] != sizes[1] {
        func show(_ i: Int) -> String { sizes[i].map { "\($0) bytes" } ?? "\(errors[i]!)" }
        fatalError("the decoders disagree: zlib \(show(0)), isal \(show(1))")
    }
    return 0
}

// SwiftPM links every executable with its own main, so libFuzzer's main is not used: run
// libFuzzer's driver from here with the usual command line (-max_total_time=N corpus/ ...).
var fuzzArgc = CommandLine.argc
var fuzzArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv) { data, size in fuzz(data!, size) })
