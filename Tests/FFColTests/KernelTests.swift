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
