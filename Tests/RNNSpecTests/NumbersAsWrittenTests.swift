import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Numbers are read as written: an overflowing literal is an error, not an infinity, and a
/// quoted or `!!str`-tagged scalar is a string, never a number.
@Suite final class NumbersAsWrittenTests {
    func check(_ input: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try TempProject()
        let text = simpleStepCase.replacingOccurrences(of: "x: [1.0, -1.0]", with: "x: \(input)")
        XCTAssertEqual(try p.loadError(text), expected, file: file, line: line)
    }

    @Test func testOverflowingLiteralsAreErrorsPointingAtThem() throws {
        try check(
            "[1.0, 1e999]",
            """
            cases/c.yaml:3:12: error: input 'x': an element: 1e999 overflows float64 (the largest is about 1.8e308); infinities are written .inf and -.inf
              x: [1.0, 1e999]
                       ^
            """)
        try check(
            "[-1e400, 1.0]",
            """
            cases/c.yaml:3:7: error: input 'x': an element: -1e400 overflows float64 (the largest is about 1.8e308); infinities are written .inf and -.inf
              x: [-1e400, 1.0]
                  ^
            """)
        try check(
            "{full: [2], value: 2e308}",
            """
            cases/c.yaml:3:25: error: input 'x': value: 2e308 overflows float64 (the largest is about 1.8e308); infinities are written .inf and -.inf
              x: {full: [2], value: 2e308}
                                    ^
            """)
        // The largest double, the infinities and NaN as YAML writes them, and underflow to a
        // subnormal or zero are all values.
        for ok in ["1.7976931348623157e308", ".inf", "-.inf", ".nan", "1e-400", "4.9e-324"] {
            let v = try decodeValue("[\(ok)]")
            guard case .real(let r) = v else { return XCTFail("\(ok): \(v)") }
            XCTAssertEqual(r.tensor.count, 1, ok)
        }
        XCTAssertNil(NumberText.parseReal("1e999"))
        XCTAssertTrue(NumberText.overflows("-1e400"))
        XCTAssertFalse(NumberText.overflows(".inf"))
    }

    @Test func testQuotedAndTaggedScalarsAreStrings() throws {
        try check(
            "[\"1.0\", 2.0]",
            """
            cases/c.yaml:3:7: error: input 'x': an element must be a number, found the string '1.0' (quoted, so a string, not a number or boolean; write numbers without quotes)
              x: ["1.0", 2.0]
                  ^
            """)
        try check(
            "['-1.0', 2.0]",
            """
            cases/c.yaml:3:7: error: input 'x': an element must be a number, found the string '-1.0' (quoted, so a string, not a number or boolean; write numbers without quotes)
              x: ['-1.0', 2.0]
                  ^
            """)
        try check(
            "[!!str 1.0, 2.0]",
            """
            cases/c.yaml:3:7: error: input 'x': an element must be a number, found the string '1.0' (tagged !!str, so a string, not a number or boolean; write numbers without quotes)
              x: [!!str 1.0, 2.0]
                  ^
            """)
        // Where a string is expected, a quoted number is that string.
        guard case .string(let s) = try decodeValue("[\"1.0\", '2', !!str 3]", kind: .string) else { return XCTFail() }
        XCTAssertEqual(s.scalars, ["1.0", "2", "3"])
        // An explicit !!float tag is still a number.
        guard case .real(let r) = try decodeValue("[!!float 1.5]") else { return XCTFail() }
        XCTAssertEqual(r.tensor.scalars, [1.5])
    }

    @Test func testQuotedIntegersAndBooleansAreStrings() throws {
        XCTAssertThrowsError(try decodeValue("[\"3\"]", kind: .integer)) { error in
            XCTAssertEqual(
                "\(error)",
                """
                cases/c.yaml:1:5: error: input 'x': an element must be an integer, found the string '3' (quoted, so a string, not a number or boolean; write numbers without quotes)
                x: ["3"]
                    ^
                """)
        }
        XCTAssertThrowsError(try decodeValue("['true']", kind: .boolean)) { error in
            XCTAssertTrue("\(error)".contains("must be true or false, found the string 'true' (quoted"), "\(error)")
        }
        let p = try TempProject()
        XCTAssertEqual(
            try p.loadError("kernel: attention.dot\nparams: {scaled: \"true\"}\n"),
            """
            cases/c.yaml:2:18: error: param 'scaled' must be true or false, found the string 'true' (quoted, so a string, not a number or boolean; write numbers without quotes)
            params: {scaled: "true"}
                             ^
            """)
        // Integers beyond 64 bits stay an error of their own.
        XCTAssertThrowsError(try decodeValue("[99999999999999999999]", kind: .integer)) { error in
            XCTAssertTrue("\(error)".contains("99999999999999999999 is too large for a 64-bit integer"), "\(error)")
        }
    }
}
