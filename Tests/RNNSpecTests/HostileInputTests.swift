import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Hostile case files and goldens: refused quickly, with a located message, never a hang.
@Suite final class HostileInputTests {
    /// The classic "billion laughs": nine levels of ten aliases each.
    static let billionLaughs: String = {
        var text = "kernel: rnn.step\nnotes: &l0 \"lol\"\n"
        for level in 1...9 {
            text +=
                "n\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        return text + "inputs:\n  x: *l9\n"
    }()

    @Test func testAliasBombIsRefusedQuickly() throws {
        let p = try TempProject()
        let start = Date()
        let error = try p.loadError(Self.billionLaughs)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(
            error,
            """
            cases/c.yaml:2:8: error: an anchor (&name): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out
            notes: &l0 "lol"
                   ^
            """)
    }

    @Test func testAliasAsAMappingKeyIsRefusedBeforeComposing() throws {
        // Yams hashes mapping keys while composing: an aliased key would be hashed in full.
        let p = try TempProject()
        let start = Date()
        let error = try p.loadError("kernel: rnn.step\n? *big\n: 1\n")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(
            error,
            """
            cases/c.yaml:2:3: error: an alias (*name): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out
            ? *big
              ^
            """)
    }

    @Test func testAliasBombInAGoldenIsUnresolvedQuickly() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.createDirectory(
            at: p.goldenURL("step").deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.billionLaughs.write(to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let start = Date()
        let r = try p.result("step")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertEqual(
            "\(r.error!)",
            """
            golden/step.yaml:2:8: error: an anchor (&name): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out
            notes: &l0 "lol"
                   ^
            """)
        // regen replaces it.
        XCTAssertEqual(try p.result("step", record: .failed).status, .pass)
        XCTAssertEqual(try p.result("step").status, .pass)
    }

    @Test func testDeepBlockNestingIsRefusedQuickly() throws {
        // `- - - 1` nests block sequences without a single bracket.
        let deep = "kernel: rnn.step\ninputs:\n  x:\n    " + String(repeating: "- ", count: 100_000) + "1\n"
        let p = try TempProject()
        let start = Date()
        let error = try p.loadError(deep)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(
            error.components(separatedBy: "\n")[0],
            "cases/c.yaml:4:129: error: nesting deeper than 64 levels; rnnspec files hold tensors of a few dimensions")
    }
}

/// Wrong numeric types in integer places, and NaN/Inf in inputs.
@Suite final class NumericInputTests {
    static let bptt = """
        kernel: rnn.bptt
        inputs:
          x: {random: normal, shape: [3, 2], seed: 1}
          targets: [0, 1, 2]
          W_xh: {random: normal, shape: [2, 2], seed: 2}
          W_hh: {random: normal, shape: [2, 2], seed: 3}
          W_hy: {random: normal, shape: [3, 2], seed: 4}

        """

    func check(_ targets: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try TempProject()
        XCTAssertEqual(
            try p.loadError(Self.bptt.replacingOccurrences(of: "[0, 1, 2]", with: targets)), expected, file: file,
            line: line)
    }

    @Test func testIntegersTooLargeForTheTargetType() throws {
        try check(
            "[0, 99999999999999999999, 2]",
            """
            cases/c.yaml:4:16: error: input 'targets': an element: 99999999999999999999 is too large for a 64-bit integer
              targets: [0, 99999999999999999999, 2]
                           ^
            """)
        // Fits 64 bits, but not the kernel's class range.
        try check(
            "[0, 9223372036854775807, 2]",
            """
            cases/c.yaml:4:12: error: target 9223372036854775807 is not a class index in 0..<3 (V = 3 from W_hy)
              targets: [0, 9223372036854775807, 2]
                       ^
            """)
    }

    @Test func testFloatWhereAnIntegerIndexBelongs() throws {
        try check(
            "[0, 1.0, 2]",
            """
            cases/c.yaml:4:16: error: input 'targets': an element must be an integer, found the number '1.0'; integers (indices, token ids, counts) are written without a decimal point or exponent
              targets: [0, 1.0, 2]
                           ^
            """)
        try check(
            "[0, 1e3, 2]",
            """
            cases/c.yaml:4:16: error: input 'targets': an element must be an integer, found the number '1e3'; integers (indices, token ids, counts) are written without a decimal point or exponent
              targets: [0, 1e3, 2]
                           ^
            """)
        try check(
            "[0, .nan, 2]",
            """
            cases/c.yaml:4:16: error: input 'targets': an element must be an integer, found '.nan'; integers (indices, token ids, counts) are written without a decimal point or exponent
              targets: [0, .nan, 2]
                           ^
            """)
        try check(
            "[0, one, 2]",
            """
            cases/c.yaml:4:16: error: input 'targets': an element must be an integer, found 'one'
              targets: [0, one, 2]
                           ^
            """)
        try check(
            "{range: 3}",
            """
            cases/c.yaml:4:12: error: input 'targets': expected a list of values, found a mapping
              targets: {range: 3}
                       ^
            """)
    }

    @Test func testNaNAndInfInputsAreComparedAsTheGoldenSays() throws {
        let p = try TempProject()
        try p.writeCase("nan", "kernel: activation.eval\ninputs:\n  x: [.nan, -.inf, 0.5]\n")
        XCTAssertEqual(try p.result("nan", record: .all).status, .pass)
        let golden = try XCTUnwrap(p.golden("nan"))
        let tanhLine = "    value: [.nan, -1.0, 0.46211715726000974]\n"
        XCTAssertTrue(
            golden.contains("  tanh:\n    type: real\n    dtype: float64\n    shape: [3]\n" + tanhLine), golden)
        // NaN in the golden matches NaN in the output; -inf in the input gives tanh −1 exactly.
        XCTAssertEqual(try p.result("nan").status, .pass)
        // A golden that holds a number where the output is NaN fails...
        try golden.replacingOccurrences(of: tanhLine, with: "    value: [0.5, -1.0, 0.46211715726000974]\n").write(
            to: p.goldenURL("nan"), atomically: true, encoding: .utf8)
        let numberExpected = try p.result("nan")
        XCTAssertEqual(numberExpected.status, .fail)
        XCTAssertTrue(
            numberExpected.detailText().contains("worst at [0]: actual .nan, expected 0.5"), numberExpected.detailText()
        )
        // ...and so does one that holds NaN (or an infinity) where the output is a number.
        try golden.replacingOccurrences(of: tanhLine, with: "    value: [.nan, -1.0, .nan]\n").write(
            to: p.goldenURL("nan"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try p.result("nan").status, .fail)
        try golden.replacingOccurrences(of: tanhLine, with: "    value: [.nan, -.inf, 0.46211715726000974]\n").write(
            to: p.goldenURL("nan"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try p.result("nan").status, .fail)
    }
}

extension NumericInputTests {
    @Test func testSignsWithoutDigitsAreNotTooLarge() throws {
        try check(
            "[0, -, 2]",
            """
            cases/c.yaml:4:16: error: input 'targets': an element must be an integer, found '-'
              targets: [0, -, 2]
                           ^
            """)
        try check(
            "[0, +-1, 2]",
            """
            cases/c.yaml:4:16: error: input 'targets': an element must be an integer, found '+-1'
              targets: [0, +-1, 2]
                           ^
            """)
    }
}
