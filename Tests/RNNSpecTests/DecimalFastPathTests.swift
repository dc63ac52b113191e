import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// `NumberText.fastDecimal` (Clinger's fast path) reads a number exactly as `strtod` (Swift's
/// `Double(_:)`) does whenever it reads it at all, and declines what is not a plain decimal literal.
@Suite struct DecimalFastPathTests {
    /// The fast reading of `text`, checked bit for bit against `Double(text)` when it gives one.
    @discardableResult
    func check(_ text: String, _ comment: String = "") -> Double? {
        guard let fast = NumberText.fastDecimal(text) else { return nil }
        let slow = Double(text)
        XCTAssertEqual(fast.bitPattern, slow?.bitPattern, "\(text) \(comment)")
        return fast
    }

    /// Shortest round-trip numbers as rnnspec writes them (a golden's values): every one read is
    /// strtod's double; every float32 value of a notebook's magnitude and about half the float64
    /// ones take the fast path.
    @Test func testShortestRoundTripNumbersReadAsStrtodReadsThem() {
        var stream = SeededStream(seed: 17)
        var taken64 = 0, taken32 = 0
        let count = 20_000
        for k in 0..<count {
            let scale = [1e-3, 0.1, 1, 10, 1e3][k % 5]
            let x = stream.nextNormal() * scale
            if check(x.description) != nil { taken64 += 1 }
            if check(Float(x).description, "float32") != nil { taken32 += 1 }
            // Any bit pattern: rarely taken, never wrong.
            let any = Double(bitPattern: stream.next())
            if any.isFinite { check(any.description, "bits") }
            check(Float(bitPattern: UInt32(truncatingIfNeeded: stream.next())).description, "float32 bits")
        }
        XCTAssertEqual(taken32, count)
        XCTAssertGreaterThan(taken64, count * 4 / 10)
    }

    /// Decimal strings of every digit count, point position and exponent near the fast path's edges.
    @Test func testRandomDecimalLiteralsReadAsStrtodReadsThem() {
        var stream = SeededStream(seed: 18)
        var taken = 0
        for _ in 0..<50_000 {
            let digits = 1 + Int(stream.next() % 22)
            var text = (0..<digits).map { _ in String(stream.next() % 10) }.joined()
            let point = Int(stream.next() % UInt64(digits + 2))
            if point <= digits { text.insert(".", at: text.index(text.startIndex, offsetBy: point)) }
            if stream.next() % 2 == 0 { text = "-" + text }
            if stream.next() % 2 == 0 { text += "e\(Int(stream.next() % 61) - 30)" }
            if check(text) != nil { taken += 1 }
        }
        XCTAssertGreaterThan(taken, 10_000)
    }

    /// The edges: signs and zeros, 2⁵³, 10²², leading zeros, a point at either end; and what is not a
    /// plain literal, which is left to `strtod`.
    @Test func testEdgesAndDeclines() {
        let read: [(String, Double)] = [
            ("0", 0), ("-0", -0.0), ("-0.0", -0.0), ("+1.5", 1.5), ("1.", 1), (".5", 0.5), ("007", 7),
            ("9007199254740992", 9_007_199_254_740_992), ("1e22", 1e22), ("1e-22", 1e-22),
            ("0.0000000000000000000001", 1e-22), ("1.5E+3", 1500), ("1.5e-3", 0.0015), ("0e9999", 0),
            ("0.30000000000000004", 0.30000000000000004), ("123456789012345678e-20", 0.00123456789012345678),
        ]
        for (text, value) in read {
            let fast = NumberText.fastDecimal(text)
            if text == "0.30000000000000004" || text == "123456789012345678e-20" {
                XCTAssertNil(fast, text)  // 17 and 18 digits above 2⁵³: strtod's
            } else {
                XCTAssertEqual(fast?.bitPattern, value.bitPattern, text)
            }
            check(text)
        }
        for text in [
            "", ".", "-", "+", "e5", "1e", "1e+", "--1", "+-1", "1e+-3", "1.2.3", "1..", "1e5.0", " 1", "1 ", "0x10",
            "inf", "nan", "1_000", "9007199254740993", "1e23", "1e-23", "12345678901234567890", "1e99999",
        ] {
            XCTAssertNil(NumberText.fastDecimal(text), text)
        }
    }
}
