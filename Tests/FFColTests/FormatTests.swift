import XCTest
@testable import FFCol
import FFColConvert
#if canImport(Glibc)
import Glibc
#endif

/// Damaged .ffc files: always a clear error, never a crash or wrong data.
final class FormatTests: XCTestCase {
    var dir = ""

    override func setUp() {
        var template = Array("/tmp/ffcol-fmt-XXXXXX".utf8CString)
        dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
    }
    override func tearDown() { _ = system("rm -rf '\(dir)'") }

    /// A valid file with several chunks.
    /// 40 tickers x 50 rows in chunks of ~300 rows; pages of at most `pageRows` rows (three
    /// pages a chunk by default), or format version 1 with nil.
    func makeFile(pageRows: Int? = 120) throws -> String {
        var csv = "ticker,volume,open,close,high,low,window_start,transactions\n"
        var ts: Int64 = 1_759_152_600_000_000_000
        for t in 0..<40 {
            for k in 0..<50 {
                ts += 60_000_000_000
                csv += "T\(100 + t),\(k + 1),\(Double(t) + 0.25),\(Double(k) / 4),\(Double(t) + 1.5),0.01,\(ts),\(k + 1)\n"
            }
            ts = 1_759_152_600_000_000_000
        }
        var o = ConvertOptions(outRoot: dir)
        o.dataset = .stocksMinute
        o.date = TradingDate("2025-09-29")
        o.targetChunkRows = 300
        o.pageRows = pageRows.map { .rows($0) } ?? .formatVersion1
        return try Converter.convert(source: MemorySource(Array(csv.utf8), name: "t.csv"), options: o).output
    }

    func bytes(_ p: String) -> [UInt8] {
        let f = fopen(p, "r")!
        defer { fclose(f) }
        fseek(f, 0, SEEK_END)
        let n = ftell(f)
        fseek(f, 0, SEEK_SET)
        var b = [UInt8](repeating: 0, count: n)
        _ = b.withUnsafeMutableBytes { fread($0.baseAddress, 1, n, f) }
        return b
    }
    func write(_ p: String, _ b: [UInt8]) {
        let f = fopen(p, "w")!
        _ = b.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }

    /// `file` (a whole file of major version `major`) with its footer replaced by `footer`,
    /// encoded as that version does (version 3: the block table too, with the entries'
    /// checksums), and the trailer's checksum fixed up, so that the new footer reaches the
    /// structural checks. The footer must encode to as many bytes as the one it replaces.
    func withFooter(_ file: [UInt8], _ footer: Footer, major: UInt16) -> [UInt8] {
        let enc = (major >= 3 ? footer.blockTable() : []) + footer.encode(major: major)
        let t = file.count - FFCFormat.trailerSize
        var b = file
        b.replaceSubrange(t - enc.count..<t, with: enc)
        let sum = XXH64.hash(footer.encode(major: major))
        for k in 0..<8 { b[t + 8 + k] = UInt8(truncatingIfNeeded: sum >> (8 * k)) }
        return b
    }

    /// A version 3 file rewritten as version 2 (the same blocks and pages; the block entries
    /// back in the footer, no block table): what a version 2 writer would have written.
    func asVersion2(_ file: [UInt8], _ footer: Footer) -> [UInt8] {
        let t = file.count - FFCFormat.trailerSize
        let old = footer.blockTable().count + footer.encode(major: 3).count
        let v2 = footer.encode(major: 2)
        var b = Array(file[0..<t - old]) + v2
        var w = ByteWriter()
        w.u64(UInt64(v2.count)); w.u64(XXH64.hash(v2))
        b += w.bytes + FFCFormat.endMagic
        b[8] = 2
        return b
    }

    /// Both files hold the same chunks: ticker names and every column's values, bit for bit.
    func assertSameChunks(_ x: FFCFile, _ y: FFCFile, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(x.chunkCount, y.chunkCount, file: file, line: line)
        for i in 0..<min(x.chunkCount, y.chunkCount) {
            let a = try x.chunk(i), b = try y.chunk(i)
            XCTAssertEqual(a.tickers.names, b.tickers.names, file: file, line: line)
            for c in Column.allCases {
                XCTAssertEqual(a.doubles(c)?.map(\.bitPattern), b.doubles(c)?.map(\.bitPattern), "chunk \(i) \(c.name)", file: file, line: line)
                XCTAssertEqual(a.int64s(c), b.int64s(c), "chunk \(i) \(c.name)", file: file, line: line)
            }
        }
    }

    /// Opens and fully verifies, mapped and read (`FFCFile.Access`); returns the error, or nil
    /// if the file is valid. Both ways must give the same outcome.
    func openAndVerify(_ b: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let p = dir + "/mutant.ffc"
        write(p, b)
        var outcomes: [Error?] = []
        for access in [FFCFile.Access.mapped, .read] {
            do {
                let f = try FFCFile(path: p, access: access)
                try f.verify()
                outcomes.append(nil)
            } catch {
                outcomes.append(error)
            }
        }
        XCTAssertEqual(outcomes[0].map { "\($0)" }, outcomes[1].map { "\($0)" }, "mapped and read differ", file: file, line: line)
        return outcomes[0]
    }

    /// Files read with pread give what the mapped file gives: footer, chunks, every ticker's
    /// bars; a file truncated while open is an error naming it, not a crash.
    func testReadAccessGivesWhatTheMappingGives() throws {
        let p = try makeFile()
        let m = try FFCFile(path: p), r = try FFCFile(path: p, access: .read)
        XCTAssertEqual(try m.footer, try r.footer)
        for i in 0..<m.chunkCount {
            let a = try m.chunk(i), b = try r.chunk(i)
            for c in Column.allCases where c.isFloat { XCTAssertEqual(a.doubles(c), b.doubles(c), "chunk \(i) \(c)") }
            for c in Column.allCases where !c.isFloat { XCTAssertEqual(a.int64s(c), b.int64s(c), "chunk \(i) \(c)") }
        }
        for t in 99...140 {
            let a = try m.bars(ticker: "T\(t)"), b = try r.bars(ticker: "T\(t)")
            XCTAssertEqual(a == nil, b == nil, "T\(t)")
            XCTAssertEqual(a.map { Array($0.close) }, b.map { Array($0.close) }, "T\(t)")
            XCTAssertEqual(a.map { Array($0.windowStart) }, b.map { Array($0.windowStart) }, "T\(t)")
            XCTAssertEqual(a.map { Array($0.volume) }, b.map { Array($0.volume) }, "T\(t)")
        }
        XCTAssertEqual(try r.bars(ticker: "T120")?.count, 50)
        // Truncated after it was opened: the next block read fails with the file's name.
        let t = try FFCFile(path: p, access: .read)
        XCTAssertEqual(truncate(p, off_t(FFCFormat.headerSize + 10)), 0)
        XCTAssertThrowsError(try t.verify()) { e in
            guard case .corrupt = e as? FFCError else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains(p), "\(e)")
        }
    }

    func testValidFileVerifies() throws {
        let p = try makeFile()
        let f = try FFCFile(path: p)
        XCTAssertGreaterThan(f.chunkCount, 3)
        try f.verify()
        XCTAssertEqual(f.rowCount, 2000)
        XCTAssertEqual(f.tickerCount, 40)
    }

    func testFlippedByteInAChunkIsAChecksumError() throws {
        let good = bytes(try makeFile())
        let f = try FFCFile(path: try makeFile())
        let block = try f.footer.chunks[2].columns[Column.close.rawValue].block
        var b = good
        b[Int(block.offset) + Int(block.storedSize) / 2] ^= 0x01
        let e = try XCTUnwrap(openAndVerify(b))
        XCTAssertEqual(e as? FFCError, .checksum(path: dir + "/mutant.ffc", chunk: 2, column: "close"), "\(e)")
        XCTAssertTrue("\(e)".contains("chunk 2"))
        XCTAssertTrue("\(e)".contains("mutant.ffc"))
    }

    func testTruncatedFooter() throws {
        let good = bytes(try makeFile())
        for cut in [1, 8, 24, 30, 100, good.count / 2, good.count - 17] {
            let e = try XCTUnwrap(openAndVerify(Array(good[0..<(good.count - cut)])), "cut \(cut)")
            XCTAssertTrue("\(e)".contains("mutant.ffc"), "\(e)")
            guard case .corrupt = e as? FFCError else { return XCTFail("cut \(cut): \(e)") }
        }
        XCTAssertNotNil(openAndVerify([]))
        XCTAssertNotNil(openAndVerify(Array(good[0..<16])))
    }

    /// Version 1 files (one block per column and chunk) read as before, with the same rows as
    /// the version 3 file of the same input.
    func testVersion1FilesStillRead() throws {
        let v2 = try FFCFile(path: try makeFile())
        let p1 = try makeFile(pageRows: nil)
        let v1 = try FFCFile(path: p1)
        XCTAssertEqual(v1.formatVersion.major, 1)
        XCTAssertEqual(v2.formatVersion.major, 3)
        XCTAssertNil(try v1.pageTable(0))
        XCTAssertEqual(try v2.pageTable(0)?.count, 3)
        XCTAssertTrue(try v1.footer.chunks.allSatisfy { !$0.isPaged })
        XCTAssertTrue(try v2.footer.chunks.allSatisfy { $0.isPaged })
        XCTAssertNil(openAndVerify(bytes(p1)))
        XCTAssertEqual(v1.chunkCount, v2.chunkCount)
        try assertSameChunks(v1, v2)
        for i in 0..<v1.chunkCount {
            // Chunk statistics do not depend on the pages.
            XCTAssertEqual(try v1.chunkMeta(i).columns.map(\.minBits), try v2.chunkMeta(i).columns.map(\.minBits))
            XCTAssertEqual(try v1.chunkMeta(i).columns.map(\.maxBits), try v2.chunkMeta(i).columns.map(\.maxBits))
        }
        for t in ["T100", "T117", "T139"] {
            let a = try XCTUnwrap(try v1.bars(ticker: t)), b = try XCTUnwrap(try v2.bars(ticker: t))
            XCTAssertEqual(a.count, 50)
            XCTAssertEqual((0..<a.count).map { a[$0].close }, (0..<b.count).map { b[$0].close })
        }
        // A version 1 column may not claim pages.
        let f = try FFCFile(path: p1)
        var footer = try f.footer
        footer.chunks[0].columns[Column.volume.rawValue].block.compression = BlockRef.paged
        let damaged = withFooter(bytes(p1), footer, major: 1)
        XCTAssertTrue("\(openAndVerify(damaged).map { "\($0)" } ?? "")".contains("unknown compression 2"))
    }

    /// Version 2 files (pages, block entries in the footer) read as before: the version 3
    /// file rewritten as version 2 gives the same footer, chunks and bars, mapped and read.
    func testVersion2FilesStillRead() throws {
        let p3 = try makeFile()
        let v3 = try FFCFile(path: p3)
        let p2 = dir + "/v2.ffc"
        write(p2, asVersion2(bytes(p3), try v3.footer))
        XCTAssertNil(openAndVerify(bytes(p2)))
        for access in [FFCFile.Access.mapped, .read] {
            let v2 = try FFCFile(path: p2, access: access)
            XCTAssertEqual(v2.formatVersion.major, 2)
            XCTAssertEqual(try v2.footer, try v3.footer)
            try assertSameChunks(v2, v3)
            for t in ["T100", "T117", "T139"] {
                XCTAssertEqual(try v2.bars(ticker: t).map { Array($0.close) }, try v3.bars(ticker: t).map { Array($0.close) })
            }
        }
        // The version 2 file labelled version 3 (and the reverse) fails the footer check.
        var b = bytes(p2)
        b[8] = 3
        XCTAssertNotNil(openAndVerify(b))
    }

    /// Version 3: a footer whose block table cannot fit between the header and the footer
    /// (here the file lost its blocks and its first entry) is rejected on open, naming it.
    func testBlockTableThatDoesNotFitIsAnError() throws {
        // One file for both: its footer records when it was written, so a second file made
        // a second later has another footer than `good`'s trailer checksums.
        let path = try makeFile()
        let good = bytes(path)
        let footer = try FFCFile(path: path).footer
        let table = footer.blockTable(), foot = footer.encode(major: 3)
        let tail = Array(good[(good.count - FFCFormat.trailerSize)...])
        let b = Array(good[0..<FFCFormat.headerSize]) + Array(table[FFCFormat.blockEntrySize...]) + foot + tail
        let e = try XCTUnwrap(openAndVerify(b))
        XCTAssertTrue("\(e)".contains("the block table of \(footer.chunks.count) chunks does not fit before the footer"), "\(e)")
        XCTAssertTrue("\(e)".contains("mutant.ffc"), "\(e)")
    }

    /// Version 3: each chunk's block entry is checked like a version 2 footer's entry (the
    /// same bytes give the same verdict and the same chunk entry), once its checksum in the
    /// footer matches; with the checksum left alone, any change is a checksum error naming the
    /// chunk. Every byte of one entry is mutated.
    func testBlockTableEntriesAreCheckedLikeVersion2Footers() throws {
        let p = try makeFile()
        let good = bytes(p)
        let f = try FFCFile(path: p)
        let footer = try f.footer
        let table = footer.blockTable(), foot3 = footer.encode(major: 3), foot2 = footer.encode(major: 2)
        let t = good.count - FFCFormat.trailerSize
        let tableStart = t - foot3.count - table.count
        XCTAssertEqual(Array(good[tableStart..<t]), table + foot3)
        let ci = 1, n = FFCFormat.blockEntrySize
        // Where chunk ci's entry is in the version 2 footer, and its checksum in the version 3 footer.
        let (in2, sumAt): (Int, Int) = try foot2.withUnsafeBytes { b2 in
            try foot3.withUnsafeBytes { b3 in
                let i2 = try FooterIndex(b2, path: "x", fileDataEnd: UInt64(tableStart), major: 2)
                let i3 = try FooterIndex(b3, path: "x", fileDataEnd: UInt64(t - foot3.count), major: 3)
                XCTAssertEqual(i3.dataEnd, UInt64(tableStart))
                return (i2.blocksInFooter(ci).baseAddress! - b2.baseAddress!, Int(i3.entries[ci]) + 24)
            }
        }
        XCTAssertEqual(Array(foot2[in2..<in2 + n]), Array(table[ci * n..<(ci + 1) * n]))
        var rejected = 0
        for k in 0..<n {
            for x: UInt8 in [0x41, 0x80] {
                var v2 = foot2
                v2[in2 + k] ^= x
                let expect: ChunkMeta? = v2.withUnsafeBytes {
                    (try? Footer.decode($0, path: "x", fileDataEnd: UInt64(tableStart), major: 2))?.chunks[ci]
                }
                var b = good
                b[tableStart + ci * n + k] ^= x
                // Unchanged checksum: a checksum error, mapped or read.
                let e = try XCTUnwrap(openAndVerify(b), "byte \(k)")
                XCTAssertTrue("\(e)".contains("chunk \(ci): block entry checksum mismatch"), "byte \(k): \(e)")
                // Checksum fixed up: the field checks decide, as for version 2.
                let sum = XXH64.hash(Array(b[tableStart + ci * n..<tableStart + (ci + 1) * n]))
                let fstart = t - foot3.count
                for j in 0..<8 { b[fstart + sumAt + j] = UInt8(truncatingIfNeeded: sum >> (8 * j)) }
                let fsum = XXH64.hash(Array(b[fstart..<t]))
                for j in 0..<8 { b[t + 8 + j] = UInt8(truncatingIfNeeded: fsum >> (8 * j)) }
                write(dir + "/mutant.ffc", b)
                for access in [FFCFile.Access.mapped, .read] {
                    let m = try FFCFile(path: dir + "/mutant.ffc", access: access)
                    let got = try? m.chunkMeta(ci)
                    XCTAssertEqual(got, expect, "byte \(k) ^ \(x), \(access)")
                }
                if expect == nil { rejected += 1 }
            }
        }
        XCTAssertGreaterThan(rejected, 100)
    }

    /// A page table that does not fit its chunk is an error naming what is wrong: pages that
    /// do not add up to the chunk's rows or to the column's bytes, unknown compressions and
    /// encodings, bytes missing or left over. And a version 2 column that is not stored as
    /// pages is rejected with the footer.
    func testDamagedPageTablesAreErrors() throws {
        let p = try makeFile()
        let f = try FFCFile(path: p)
        let meta = try f.chunkMeta(0)
        let t = try XCTUnwrap(try f.pageTable(0))
        var w = ByteWriter()
        let counts = (0..<t.count).map { t.rows($0).count }
        PageTable.encode(rowCounts: counts, blocks: t.blocks, into: &w)
        let good = w.bytes
        func decode(_ b: [UInt8]) -> String? {
            b.withUnsafeBytes { src in
                do { _ = try PageTable(decoding: src, meta: meta, fail: { FFCError.corrupt("t", $0) }); return nil } catch { return "\(error)" }
            }
        }
        XCTAssertNil(decode(good))
        XCTAssertEqual(try good.withUnsafeBytes { try PageTable(decoding: $0, meta: meta, fail: { FFCError.corrupt("t", $0) }) }, t)
        let entries = 4 + 4 * t.count  // first page entry (volume, page 0)
        var cases: [(String, (inout [UInt8]) -> Void)] = [
            ("page count 0", { $0[0] = 0; $0[1] = 0; $0[2] = 0; $0[3] = 0 }),
            ("bytes, expected", { $0.append(0) }),
            ("bytes, expected", { $0.removeLast() }),
            ("page row counts do not add up", { $0[5] &+= 1 }),
            ("pages cover", { $0[4] &-= 1 }),
            ("pages add up to", { $0[entries] &+= 1 }),
            ("compression 2", { $0[entries + 8] = 2 }),
            ("encoding 4", { $0[entries + 9] = 4 }),
            ("encoding 9", { $0[entries + 9] = 9 }),
            ("reserved", { $0[entries + 10] = 1 }),
        ]
        cases.append(("page table missing", { $0 = [1, 0] }))
        for (expect, damage) in cases {
            var b = good
            damage(&b)
            let e = decode(b)
            XCTAssertTrue(e?.contains(expect) ?? false, "\(expect): \(e ?? "accepted")")
        }
        // A paged (version 2 or 3) column stored as one block is rejected with its entry.
        var footer = try f.footer
        footer.chunks[0].columns[Column.close.rawValue].block.compression = 1
        let e = openAndVerify(withFooter(bytes(p), footer, major: 3))
        XCTAssertTrue("\(e.map { "\($0)" } ?? "")".contains("chunk 0 close: a version 3 column must be stored as pages"), "\(String(describing: e))")
    }

    /// Any row range of a paged chunk, within one page or across several, decodes to the same
    /// values as the whole chunk (readers do not rely on tickers staying inside a page).
    func testRowRangesAcrossPages() throws {
        for access in [FFCFile.Access.mapped, .read] {
            let f = try FFCFile(path: try makeFile(pageRows: 70), access: access)
            let meta = try f.chunkMeta(1)
            let whole = try f.chunk(1)
            let pages = try XCTUnwrap(try f.pageTable(1))
            XCTAssertGreaterThan(pages.count, 3)
            let n = Int(meta.rowCount)
            var ranges: [Range<Int>] = [0..<n, 0..<1, n - 1..<n, pages.rows(1), pages.rows(0).upperBound - 1..<pages.rows(2).lowerBound + 1]
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<20 { let a = Int.random(in: 0..<n, using: &rng); ranges.append(a..<Int.random(in: a + 1...n, using: &rng)) }
            for r in ranges {
                XCTAssertEqual(pages.pages(overlapping: r).count, Set(r.map { row in pages.rowEnds.firstIndex { $0 > row }! }).count, "\(r)")
                let dctx = ZstdDecompressor()
                var dec = ChunkDecoder(meta: meta, rows: r, pages: pages, withRaw: { b, what, body in
                    try f.withBlock(b, chunk: 1, what: what, dctx: dctx) { try body($0) }
                }, fail: { FFCError.corrupt($0, $1) })
                for c in Column.allCases {
                    if c.isFloat {
                        XCTAssertEqual(try dec.doubles(c).map(\.bitPattern), whole.doubles(c)![r].map(\.bitPattern), "\(c.name) \(r)")
                    } else {
                        XCTAssertEqual(try dec.int64s(c), Array(whole.int64s(c)![r]), "\(c.name) \(r)")
                    }
                }
            }
            // Without its page table a paged chunk is an error, not a guess.
            var bare = ChunkDecoder(meta: meta, withRaw: { _, _, _ in }, fail: { FFCError.corrupt($0, $1) })
            XCTAssertThrowsError(try bare.doubles(.volume))
        }
    }

    func testBadMagicAndUnknownVersion() throws {
        var b = bytes(try makeFile())
        b[0] = UInt8(ascii: "X")
        XCTAssertEqual(openAndVerify(b) as? FFCError, .notFFC(path: dir + "/mutant.ffc"))
        b = bytes(try makeFile())
        b[8] = 4  // major version 4
        let e = openAndVerify(b)
        XCTAssertEqual(e as? FFCError, .unsupportedVersion(path: dir + "/mutant.ffc", major: 4, minor: 0))
        XCTAssertTrue("\(e!)".contains("not supported"))
        // A version 3 file labelled 2 or 1 (or the reverse) fails the footer check, not silently.
        for major: UInt8 in [2, 1, 0] {
            b = bytes(try makeFile())
            b[8] = major
            XCTAssertNotNil(openAndVerify(b), "major version \(major)")
        }
    }

    /// Random damage anywhere: every mutant either still verifies (damage nowhere that
    /// matters, which cannot happen with checksums over everything) or throws; never a crash.
    func testRandomMutationsNeverCrash() throws {
        let good = bytes(try makeFile())
        var rng: UInt64 = 0x1234_5678
        func next() -> Int { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return Int(rng >> 1) }
        var detected = 0
        for i in 0..<400 {
            var b = good
            switch i % 4 {
            case 0: b[next() % b.count] ^= UInt8(1 + next() % 255)
            case 1: b = Array(b[0..<(next() % b.count)])
            case 2: for _ in 0..<8 { b[next() % b.count] = UInt8(next() % 256) }
            default:
                // Damage the footer region specifically.
                let k = b.count - 1 - next() % min(b.count - 1, 3000)
                b[k] ^= UInt8(1 + next() % 255)
            }
            if b == good { continue }
            if openAndVerify(b) != nil { detected += 1 } else { XCTFail("mutation \(i) went undetected") }
        }
        XCTAssertGreaterThan(detected, 350)
    }

    /// Found by FuzzFFC: a footer (with a valid checksum) claiming a block decodes to ~4 GB made
    /// the reader allocate that much before zstd could say the frame is smaller.
    /// (Version 1, where column sizes are in the footer; version 2 pages take the same check.)
    func testHugeRawSizeInFooterIsCorruptWithoutAllocating() throws {
        let p = try makeFile(pageRows: nil)
        var b = bytes(p)
        let f = try FFCFile(path: p)
        let enc = try f.footer.encode(major: 1)
        let t = b.count - FFCFormat.trailerSize
        let fstart = t - enc.count
        XCTAssertEqual(Array(b[fstart..<t]), enc)
        var footer = try f.footer
        footer.chunks[0].columns[Column.close.rawValue].block.rawSize = 0xFFFF_FFF0
        footer.chunks[0].columns[Column.close.rawValue].block.compression = 1
        let enc2 = footer.encode(major: 1)
        XCTAssertEqual(enc2.count, enc.count)
        b.replaceSubrange(fstart..<t, with: enc2)
        let sum = XXH64.hash(enc2)
        for k in 0..<8 { b[t + 8 + k] = UInt8(truncatingIfNeeded: sum >> (8 * k)) }
        let e = openAndVerify(b)
        XCTAssertNotNil(e)
        XCTAssertTrue("\(e.map { "\($0)" } ?? "")".contains("zstd frame header disagrees"), "\(String(describing: e))")
    }

    /// The footer checked in place on open (FooterIndex) accepts exactly the footers that
    /// Footer.decode accepts, and reads the same entries: single-byte mutations of the footer
    /// with its checksum fixed up, so that they reach the structural checks.
    /// (Version 2 footers: version 3 footers' block entries are checked as in
    /// `testBlockTableEntriesAreCheckedLikeVersion2Footers`.)
    func testFooterIndexAgreesWithFooterDecode() throws {
        let f = try FFCFile(path: try makeFile())
        let good = try f.footer.encode(major: 2)
        let dataEnd = UInt64(f.fileSize - FFCFormat.trailerSize - good.count)
        var rng = SystemRandomNumberGenerator()
        var rejected = 0
        for i in 0..<3000 {
            var b = good
            let at = i < good.count ? i : Int.random(in: 0..<b.count, using: &rng)
            b[at] ^= i < good.count ? 0x41 : UInt8.random(in: 1...255, using: &rng)
            // Both read the same bytes; the index's entries are read while they are valid.
            let (dec, idx): (Footer?, Footer?) = b.withUnsafeBytes { raw in
                ((try? Footer.decode(raw, path: "x", fileDataEnd: dataEnd)),
                 (try? FooterIndex(raw, path: "x", fileDataEnd: dataEnd, major: 2))?.footer())
            }
            XCTAssertEqual(dec == nil, idx == nil, "mutation at \(at): decode \(dec == nil ? "rejects" : "accepts"), index disagrees")
            if let d = dec, let x = idx {
                XCTAssertEqual(x, d)
            } else {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 100)
        XCTAssertEqual(good.withUnsafeBytes { try? FooterIndex($0, path: "x", fileDataEnd: dataEnd, major: 2).footer() }, try f.footer)
    }

    func testFooterRoundTrip() throws {
        let f = try FFCFile(path: try makeFile())
        let enc = try f.footer.encode(major: 2)
        let dec = try enc.withUnsafeBytes { try Footer.decode($0, path: "x", fileDataEnd: UInt64(f.fileSize), major: 2) }
        XCTAssertEqual(dec, try f.footer)
    }
}

final class CodecTests: XCTestCase {
    func roundTripInts(_ v: [Int64], file: StaticString = #filePath, line: UInt = #line) throws {
        var w = ByteWriter()
        v.withUnsafeBufferPointer { _ = IntCodec.encode($0, into: &w) }
        var out = [Int64](repeating: 0, count: v.count)
        try w.bytes.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try IntCodec.decode(src, into: $0, fail: { FFCError.corrupt("t", $0) }) }
        }
        XCTAssertEqual(out, v, file: file, line: line)
    }

    /// The block header the rule of `IntCodec.encode` gives, computed the plain way (a divide
    /// per value, the largest zigzag delta itself): mode, width, divisor.
    func referenceHeader(_ v: [Int64]) -> (mode: UInt8, width: UInt8, divisor: UInt64) {
        func width(_ m: UInt64) -> UInt8 { m == 0 ? 0 : m <= 0xFF ? 1 : m <= 0xFFFF ? 2 : m <= 0xFFFF_FFFF ? 4 : 8 }
        func zz(_ x: Int64) -> UInt64 { UInt64(bitPattern: (x << 1) ^ (x >> 63)) }
        var g: UInt64 = 0
        for i in 1..<v.count {
            var a = g, b = (v[i] &- v[i - 1]).magnitude
            while b != 0 { (a, b) = (b, a % b) }
            g = a
        }
        let mn = v.min()!, mx = v.max()!
        let range = UInt64(bitPattern: mx &- mn)
        if g == 0 || g == 1 << 63 || range >= 1 << 63 { g = 1 }
        let forWidth = width(range / g)
        var dmax: UInt64 = 0, dSmall = 0, fSmall = 0
        for i in v.indices {
            let d = i == 0 ? 0 : (v[i] &- v[i - 1]) / Int64(bitPattern: g)
            dmax = max(dmax, zz(d))
            if zz(d) < 256 { dSmall += 1 }
            if UInt64(bitPattern: v[i] &- mn) < (g < 1 << 55 ? 256 * g : .max) { fSmall += 1 }
        }
        let dWidth = width(dmax)
        let delta = dWidth < forWidth || (dWidth == forWidth && dSmall > fSmall)
        return (delta ? 1 : 0, delta ? dWidth : forWidth, g)
    }

    /// The encoder finds each block's statistics on the undivided values, with a bound on the
    /// largest delta's width: blocks whose largest divided delta sits at each width boundary,
    /// with divisors from 1 to 2^62, choose what the plain rule chooses, and decode exactly.
    func testIntegerModeAndWidthMatchThePlainRule() throws {
        var r: UInt64 = 11
        func next() -> UInt64 { r = r &* 6364136223846793005 &+ 1442695040888963407; return r >> 13 }
        var checked = 0
        var modes: Set<[UInt8]> = []
        for g: UInt64 in [1, 2, 3, 7, 10, 60_000_000_000, 1 << 20, (1 << 33) + 1, 1 << 54, (1 << 55) - 1, 1 << 55, 1 << 60, 1 << 62] {
            for target: Int64 in [0, 1, 126, 127, 128, 255, 256, 32_766, 32_767, 32_768, 65_535, 65_536,
                                  2_147_483_646, 2_147_483_647, 2_147_483_648, 1 << 40] {
                for sign: Int64 in [1, -1] {
                    // Divided deltas of at most `target`, one of exactly sign * target.
                    let n = 40 + Int(next() % 60)
                    var q: [Int64] = [0]
                    for k in 1..<n {
                        let step = k == n / 2 ? sign * target : Int64(next() % UInt64(max(target, 1) + 1)) * (next() % 2 == 0 ? 1 : -1)
                        q.append(q[k - 1] &+ step)
                    }
                    let base = Int64(bitPattern: next() << 20)
                    let v = q.map { base &+ $0 &* Int64(bitPattern: g) }
                    var w = ByteWriter()
                    let (mn, mx) = v.withUnsafeBufferPointer { IntCodec.encode($0, into: &w) }
                    XCTAssertEqual(mn, v.min()); XCTAssertEqual(mx, v.max())
                    let want = referenceHeader(v)
                    let divisor = w.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
                    XCTAssertEqual([w.bytes[0], w.bytes[1]], [want.mode, want.width], "g \(g), target \(sign * target)")
                    XCTAssertEqual(divisor, want.divisor, "g \(g), target \(sign * target)")
                    modes.insert([w.bytes[0], w.bytes[1]])
                    var out = [Int64](repeating: 0, count: v.count)
                    try w.bytes.withUnsafeBytes { src in
                        try out.withUnsafeMutableBufferPointer { try IntCodec.decode(src, into: $0, fail: { FFCError.corrupt("t", $0) }) }
                    }
                    XCTAssertEqual(out, v, "g \(g), target \(sign * target), mode \(w.bytes[0]), width \(w.bytes[1]), divisor \(divisor)")
                    checked += 1
                }
            }
        }
        // Ties at width 2 decided by deltas and offsets at the one-byte limits (-128g and 127g,
        // 255g and 256g).
        var ties = 0
        for g: Int64 in [1, 3, 60_000_000_000] {
            for _ in 0..<200 {
                let steps: [Int64] = [-129, -128, 127, 128, 0, 255, 256]
                var v: [Int64] = [Int64(next() % 600) * g]
                for _ in 0..<(20 + Int(next() % 40)) {
                    let s = steps[Int(next() % UInt64(steps.count))]
                    let x = next() % 5 == 0 ? Int64(next() % 600) * g : v.last! + s * g
                    v.append(max(0, min(x, 60_000 * g)))
                }
                var w = ByteWriter()
                _ = v.withUnsafeBufferPointer { IntCodec.encode($0, into: &w) }
                let want = referenceHeader(v)
                XCTAssertEqual([w.bytes[0], w.bytes[1]], [want.mode, want.width], "g \(g), \(v)")
                if want.width == 2 { ties += 1 }
                checked += 1
            }
        }
        XCTAssertGreaterThan(ties, 100)
        XCTAssertEqual(checked, 13 * 16 * 2 + 600)
        // Both modes at widths 1, 4 and 8, and deltas at width 2, were among them.
        XCTAssertTrue([[0, 1], [1, 1], [1, 2], [0, 4], [1, 4], [0, 8], [1, 8]].allSatisfy(modes.contains), "\(modes)")
    }

    func testIntegerCodecEdgeCases() throws {
        try roundTripInts([])
        try roundTripInts([7])
        try roundTripInts([5, 5, 5, 5])
        try roundTripInts([Int64.min, Int64.max, 0, -1, 1])
        try roundTripInts([Int64.max, Int64.min])
        try roundTripInts((0..<1000).map { 1_759_152_600_000_000_000 + Int64($0) * 60_000_000_000 })
        try roundTripInts((0..<1000).map { Int64($0 % 7) * -3 })
        var r: UInt64 = 99
        try roundTripInts((0..<5000).map { _ in r = r &* 6364136223846793005 &+ 1; return Int64(bitPattern: r) })
        try roundTripInts((0..<5000).map { _ in r = r &* 6364136223846793005 &+ 1; return Int64(bitPattern: r >> 40) })
    }

    func testDecodingARowRangeEqualsTheSliceOfAFullDecode() throws {
        var r: UInt64 = 3
        func next() -> UInt64 { r = r &* 6364136223846793005 &+ 1442695040888963407; return r >> 11 }
        /// A rising walk: deltas of step...2*step need `step`'s width, offsets a wider one.
        func walk(_ n: Int, step: Int64) -> [Int64] {
            var x: Int64 = 1 << 40
            return (0..<n).map { _ in x += step + Int64(next() % UInt64(step)); return x }
        }
        let sets: [[Int64]] = [
            (0..<3000).map { 1_759_152_600_000_000_000 + Int64($0) * 60_000_000_000 },   // delta, width 1
            (0..<3000).map { _ in Int64(next() % 300) },                                 // FOR, width 2
            (0..<3001).map { _ in Int64(next() % 4_000_000_000) },                       // FOR, width 4
            walk(3003, step: 300),                                                        // delta, width 2
            walk(2999, step: 1 << 20),                                                    // delta, width 4
            (0..<3000).map { _ in Int64(bitPattern: next() << 11) },                     // width 8
            (0..<3000).map { Int64($0 % 17) - 8 },
            [42, 42, 42],
        ]
        var widths: Set<[UInt8]> = []
        for v in sets {
            var w = ByteWriter()
            v.withUnsafeBufferPointer { _ = IntCodec.encode($0, into: &w) }
            widths.insert(Array(w.bytes[0..<3]))  // mode, width, flags
            for _ in 0..<40 {
                let a = Int(next() % UInt64(v.count)), b = a + Int(next() % UInt64(v.count - a + 1))
                var out = [Int64](repeating: 0, count: b - a)
                try w.bytes.withUnsafeBytes { src in
                    try out.withUnsafeMutableBufferPointer {
                        try IntCodec.decode(src, count: v.count, rows: a..<b, into: $0, fail: { FFCError.corrupt("t", $0) })
                    }
                }
                XCTAssertEqual(out, Array(v[a..<b]), "rows \(a)..<\(b)")
            }
        }
        // Byte planes of widths 2 and 4 in both modes are among them.
        XCTAssertTrue([[0, 2, 1], [0, 4, 1], [1, 2, 1], [1, 4, 1]].allSatisfy(widths.contains), "\(widths)")
    }

    func testFloatCodecIsBitExact() throws {
        var r: UInt64 = 5
        let sets: [[Double]] = [
            [147.3, 0.0125, 12, 17.74, 69.8616, 1e-05, 15],
            [0.0, -0.0, 1.5],
            [Double.nan, 1],
            [Double.infinity, -Double.infinity],
            [0.1, 0.2, 0.30000000000000004],
            (0..<2000).map { _ in r = r &* 6364136223846793005 &+ 1; return Double(r % 1_000_000) / 100 },
            (0..<2000).map { _ in r = r &* 6364136223846793005 &+ 1; return Double(bitPattern: r >> 2) },
            [4.9e-324, 1.7976931348623157e308],
        ]
        for s in sets {
            var w = ByteWriter()
            var scratch: [Int64] = []
            let enc = s.withUnsafeBufferPointer { FloatCodec.encode($0, scratch: &scratch, into: &w) }
            var out = [Double](repeating: 0, count: s.count)
            try w.bytes.withUnsafeBytes { src in
                if enc == .rawFloat {
                    try out.withUnsafeMutableBufferPointer { try FloatCodec.decodeRaw(src, into: $0, fail: { FFCError.corrupt("t", $0) }) }
                } else {
                    let d = try FloatCodec.decodeScaled(src, count: s.count, fail: { FFCError.corrupt("t", $0) })
                    out = FloatCodec.toDoubles(d.values, scale: d.scale)
                }
            }
            XCTAssertEqual(out.map(\.bitPattern), s.map(\.bitPattern), "\(s.prefix(4)) via \(enc)")
        }
    }

    func testPricesRelativeToTheOpenRoundTrip() throws {
        let o: [Double] = [1.5, 2, 0.0125, 100, 7.25], c: [Double] = [1.55, 2, 0.013, 99.5, 7.25]
        let h: [Double] = [1.6, 2, 0.013, 101, 7.25], l: [Double] = [1.4, 2, 0.0125, 99, 7.2]
        var scratch: [[Int64]] = Array(repeating: [], count: 4)
        let blocks = try XCTUnwrap(o.withUnsafeBufferPointer { a in c.withUnsafeBufferPointer { b in
            h.withUnsafeBufferPointer { x in l.withUnsafeBufferPointer { y in PriceCodec.encode([a, b, x, y], scratch: &scratch) } } } })
        var stored: [[UInt8]] = []
        var refs: [ColumnChunkMeta] = []
        var offset: UInt64 = 16
        for k in 0..<7 {
            let bytes = k >= 1 && k <= 4 ? blocks[k - 1] : [UInt8](repeating: 0, count: 24)
            stored.append(bytes)
            let enc: BlockEncoding = k == 1 ? .decimal : (k >= 2 && k <= 4 ? .relative : .integer)
            refs.append(ColumnChunkMeta(block: BlockRef(offset: offset, storedSize: UInt32(bytes.count), rawSize: UInt32(bytes.count),
                                                        compression: 0, encoding: enc.rawValue, checksum: 0), minBits: 0, maxBits: 0))
            offset += UInt64(bytes.count)
        }
        let meta = ChunkMeta(firstRow: 0, rowCount: 5, tickerCount: 1, firstTickerOrdinal: 0, firstTicker: [65], lastTicker: [65],
                             tickers: refs[0].block, columns: refs)
        var dec = ChunkDecoder(meta: meta, withRaw: { b, what, body in
            let k = refs.firstIndex { $0.block.offset == b.offset }!
            try stored[k].withUnsafeBytes { try body($0) }
        }, fail: { FFCError.corrupt($0, $1) })
        XCTAssertEqual(try dec.doubles(.low).map(\.bitPattern), l.map(\.bitPattern))
        XCTAssertEqual(try dec.doubles(.high).map(\.bitPattern), h.map(\.bitPattern))
        XCTAssertEqual(try dec.doubles(.close).map(\.bitPattern), c.map(\.bitPattern))
        XCTAssertEqual(try dec.doubles(.open).map(\.bitPattern), o.map(\.bitPattern))
        // Single-trade bar and body-edge high/low store zeros.
        XCTAssertEqual(blocks[2][1], UInt8(PriceCodec.Relation.highFromBody.rawValue))
    }

    func testPricesUseTheDecimalEncoding() {
        var w = ByteWriter()
        var scratch: [Int64] = []
        let e = [147.3, 0.0125, 12, 17.74].withUnsafeBufferPointer { FloatCodec.encode($0, scratch: &scratch, into: &w) }
        XCTAssertEqual(e, .decimal)
        XCTAssertEqual(w.bytes[0], 4)  // scale 4
    }

    func testXXH64KnownValues() {
        // Reference values of XXH64 with seed 0.
        XCTAssertEqual(XXH64.hash([]), 0xEF46_DB37_51D8_E999)
        XCTAssertEqual(XXH64.hash(Array("a".utf8)), 0xD24E_C4F1_A98C_6E5B)
        XCTAssertEqual(XXH64.hash(Array("abc".utf8)), 0x44BC_2CF5_AD77_0999)
        XCTAssertEqual(XXH64.hash(Array("Nobody inspects the spammish repetition".utf8)), 0xFBCE_A83C_8A37_8BF1)
    }
}

final class TimeTests: XCTestCase {
    func testDayFileMidnight() {
        XCTAssertEqual(EasternTime.unixNanos(date: TradingDate("2025-09-29")!, minuteOfDay: 0), 1_759_118_400_000_000_000)
    }
    func testDSTTransitions() {
        // 2025-03-09: clocks spring forward; 09:30 EDT = 13:30 UTC. 2025-03-07: 09:30 EST = 14:30 UTC.
        XCTAssertEqual(EasternTime.format(unixNanos: EasternTime.unixNanos(date: TradingDate("2025-03-10")!, minuteOfDay: 570), utc: true), "2025-03-10T13:30:00Z")
        XCTAssertEqual(EasternTime.format(unixNanos: EasternTime.unixNanos(date: TradingDate("2025-03-07")!, minuteOfDay: 570), utc: true), "2025-03-07T14:30:00Z")
        XCTAssertEqual(EasternTime.format(unixNanos: EasternTime.unixNanos(date: TradingDate("2025-11-03")!, minuteOfDay: 570), utc: true), "2025-11-03T14:30:00Z")
        XCTAssertEqual(EasternTime.format(unixNanos: EasternTime.unixNanos(date: TradingDate("2025-10-31")!, minuteOfDay: 570), utc: true), "2025-10-31T13:30:00Z")
        // Old rules: 2006 DST began 2006-04-02.
        XCTAssertEqual(EasternTime.parts(unixNanos: 1_143_900_000_000_000_000).offset, -18_000)  // 2006-04-01
        XCTAssertEqual(EasternTime.parts(unixNanos: 1_144_080_000_000_000_000).offset, -14_400)  // 2006-04-03
        // Exactly at the switch: 2025-03-09 07:00 UTC is 03:00 EDT.
        let p = EasternTime.parts(unixNanos: 1_741_503_600_000_000_000)
        XCTAssertEqual(p.hour, 3); XCTAssertEqual(p.offset, -14_400)
        XCTAssertEqual(EasternTime.format(unixNanos: 1_759_152_600_000_000_000, utc: false), "2025-09-29T09:30:00-04:00")
    }
    func testDates() {
        XCTAssertNil(TradingDate("2025-02-30"))
        XCTAssertNil(TradingDate("2025-13-01"))
        XCTAssertEqual(TradingDate("2024-02-29")?.description, "2024-02-29")
        XCTAssertEqual(TradingDate("2025-09-29")?.weekday, 1)
        XCTAssertEqual(TradingDate.detect(inPath: "us_stocks_sip/day_aggs_v1/2025/09/2025-09-29.csv.gz"), TradingDate("2025-09-29"))
        XCTAssertEqual(Dataset.detect(inPath: "x/us_options_opra/minute_aggs_v1/2025/09/2025-09-29.csv.gz"), .optionsMinute)
        for d in stride(from: -1000, to: 40000, by: 37) {
            XCTAssertEqual(TradingDate(daysSinceEpoch: d).daysSinceEpoch, d)
        }
    }
}
