import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// The golden reader's numbers straight from the bytes (`Golden.appendReals`, C's strtod) are the
/// numbers `NumberText.parseReal` reads, bit for bit, and it declines every item that reader refuses.
@Suite struct GoldenNumberTests {
    /// The item alone, in a row of one, and in a row of three.
    func fast(_ item: String, float32: Bool = false) -> [Double]? {
        var alone: [Double] = [], one: [Double] = [], three: [Double] = []
        let a = Golden.appendReals("    value: " + item, from: 11, row: false, float32, &alone)
        let b = Golden.appendReals("    value: [" + item + "]", from: 11, row: true, float32, &one)
        let c = Golden.appendReals("      - [1.5, \(item), -2]", from: 8, row: true, float32, &three)
        XCTAssertEqual(a, b, item)
        XCTAssertEqual(b, c, item)
        guard a, b, c else { return nil }
        XCTAssertEqual(alone.map(\.bitPattern), one.map(\.bitPattern), item)
        XCTAssertEqual(three.count, 3, item)
        XCTAssertEqual(three.first, 1.5)
        XCTAssertEqual(three.last, -2)
        XCTAssertEqual(three.dropFirst().first?.bitPattern, one.first?.bitPattern, item)
        return alone
    }

    @Test func testItemsReadAsNumberTextReadsThem() {
        var items = [
            "0", "-0", "-0.0", "1", "+1", "1.5", "-.5", ".5", "5.", "00.5", "1e5", "1E+5", "1e-5", "2.5e-3",
            "4.9e-324", "2.2250738585072014e-308", "1e-400", "1.7976931348623157e308", "1.7976931348623159e308",
            "1e999", "-1e999", "1e", "e5", "+", "-", ".", "..5", "1.2.3", "--1", "1e5e5", "0x1p3", "inf", "nan",
            ".nan", ".inf", "1_000", " 1", "1 ", "", "1,5", "[1]", "0.1000000000000000055511151231257827",
            "123456789012345678901234567890", "-9007199254740993",
        ]
        var stream = SeededStream(seed: 0x60_1DE2)
        for _ in 0..<2_000 {
            let bits = stream.next()
            let d = Double(bitPattern: bits)
            if d.isFinite { items.append(d.description) }
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: bits >> 7))
            if f.isFinite { items.append(f.description) }
            items.append((stream.nextNormal() * 1e3).description)
        }
        var read = 0
        for item in items {
            let expected = NumberText.parseReal(item)
            let plain = !item.isEmpty && item.utf8.allSatisfy { "0123456789+-.eE".utf8.contains($0) }
            let got = fast(item)
            if let got {
                read += 1
                XCTAssertEqual(got.first?.bitPattern, expected?.bitPattern, "item '\(item)'")
            } else {
                XCTAssertTrue(expected == nil || !plain, "'\(item)' is a plain number the fast path declined")
            }
            // float32 outputs: the value rounded to float32.
            if let got32 = fast(item, float32: true), let e = expected {
                XCTAssertEqual(got32.first?.bitPattern, Double(Float(e)).bitPattern, "item '\(item)' as float32")
            }
        }
        XCTAssertGreaterThan(read, 6_000)
        // Layout: exactly ", " between items, brackets around a row, nothing after.
        var out: [Double] = []
        for row in ["[1,2]", "[1 , 2]", "[1,  2]", "[1, 2", "1, 2]", "[1, 2] ", "[]", "[, 1]", "[1, ]"] {
            XCTAssertFalse(Golden.appendReals(row, from: 0, row: true, false, &out), row)
        }
    }
}
