import XCTest
import CFFColKernels

/// The C loops of Sources/CFFColKernels against plain Swift, for every length up to a few SSE2
/// blocks plus a tail.
final class KernelTests: XCTestCase {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }

    func testDelimiters32EqualsTheScalarDefinition() {
        // Bytes drawn mostly from the interesting ones, then all 256 values in every position.
        let interesting: [UInt8] = [0x2C, 0x0A, 0x0D, 0x20, 0x1F, 0x7E, 0x7F, 0x80, 0xFF, 0x00, 0x41, 0x30]
        var blocks: [[UInt8]] = (0..<5000).map { _ in
            (0..<32).map { _ in next() % 3 == 0 ? UInt8(truncatingIfNeeded: next()) : interesting[Int(next() % 12)] }
        }
        for v in 0...255 { for i in [0, 15, 16, 31] { var b = [UInt8](repeating: 0x41, count: 32); b[i] = UInt8(v); blocks.append(b) } }
        for b in blocks {
            var unprintable: UInt32 = 0
            let got = ffcol_delimiters32(b, &unprintable)
            var want: UInt32 = 0, wantBad: UInt32 = 0
            for (i, x) in b.enumerated() {
                if x == 0x2C || x == 0x0A || x == 0x0D { want |= 1 << UInt32(i) }
                if x < 0x20 || x > 0x7E { wantBad |= 1 << UInt32(i) }
            }
            XCTAssertEqual(got, want, "\(b)")
            XCTAssertEqual(unprintable, wantBad, "\(b)")
        }
    }

    func testEqual32EqualsTheScalarDefinition() {
        // Two 32-byte windows of one buffer, overlapping or not, with bytes drawn from a few values
        // so that many are equal.
        for _ in 0..<5000 {
            let buffer = (0..<80).map { _ in UInt8(truncatingIfNeeded: next() % 4) }
            let a = Int(next() % 48), b = Int(next() % 48)
            let got = buffer.withUnsafeBufferPointer { ffcol_equal32($0.baseAddress! + a, $0.baseAddress! + b) }
            var want: UInt32 = 0
            for i in 0..<32 where buffer[a + i] == buffer[b + i] { want |= 1 << UInt32(i) }
            XCTAssertEqual(got, want, "a \(a) b \(b)")
        }
    }

    func testGatherPlanesEqualsTheScalarDefinition() {
        for n in 0...70 {
            let planes = (0..<4).map { _ in (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
            var got2 = [UInt32](repeating: 0xDEAD_BEEF, count: n + 1)
            var got4 = got2
            ffcol_gather_planes2(planes[0], planes[1], &got2, n)
            ffcol_gather_planes4(planes[0], planes[1], planes[2], planes[3], &got4, n)
            let want2 = (0..<n).map { UInt32(planes[0][$0]) | UInt32(planes[1][$0]) << 8 }
            let want4 = (0..<n).map { i in
                UInt32(planes[0][i]) | UInt32(planes[1][i]) << 8 | UInt32(planes[2][i]) << 16 | UInt32(planes[3][i]) << 24
            }
            XCTAssertEqual(Array(got2.prefix(n)), want2, "n \(n)")
            XCTAssertEqual(Array(got4.prefix(n)), want4, "n \(n)")
            // Nothing is written past n.
            XCTAssertEqual(got2[n], 0xDEAD_BEEF)
            XCTAssertEqual(got4[n], 0xDEAD_BEEF)
        }
    }
}
