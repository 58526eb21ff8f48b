import XCTest
import FFCol

final class CalendarTests: XCTestCase {
    func testPlaceholder() {}
}
