import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// The exact text of every kind of load error, with its location and caret.
@Suite final class ErrorTextTests {
    func check(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try TempProject()
        XCTAssertEqual(try p.loadError(text), expected, file: file, line: line)
    }

    @Test func testUnknownKernelSuggestsClosest() throws {
        try check(
            "kernel: rnn.stpe\n",
            """
            cases/c.yaml:1:9: error: unknown kernel 'rnn.stpe'; did you mean 'rnn.step'?
            kernel: rnn.stpe
                    ^
            """)
    }

    @Test func testMissingKernel() throws {
        try check(
            "inputs: {}\n",
            "cases/c.yaml:1:1: error: missing 'kernel:': name the kernel this case runs (`rnnspec kernels` lists them)\ninputs: {}\n^"
        )
    }

    @Test func testUnknownTopLevelFieldNamesClosest() throws {
        try check(
            simpleStepCase + "tolerence: {abs: 1e-6}\n",
            """
            cases/c.yaml:7:1: error: unknown field 'tolerence' in the case; did you mean 'tolerance'?
            tolerence: {abs: 1e-6}
            ^
            """)
    }

    @Test func testUnknownInputListsValidOnes() throws {
        try check(
            simpleStepCase + "  W_hx: [1]\n",
            """
            cases/c.yaml:7:3: error: rnn.step has no input 'W_hx'; did you mean 'W_hh'? (its inputs: x, h_prev, W_xh, W_hh, b_h, W_hy, b_y)
              W_hx: [1]
              ^
            """)
    }

    @Test func testMissingInputs() throws {
        try check(
            "kernel: rnn.step\ninputs:\n  x: [1.0]\n",
            """
            cases/c.yaml:2:1: error: rnn.step needs inputs 'h_prev', 'W_xh' and 'W_hh'
            inputs:
            ^
            """)
    }

    @Test func testUnknownParamAndBadChoice() throws {
        try check(
            "kernel: rnn.step\nparams: {activaton: tanh}\n",
            """
            cases/c.yaml:2:10: error: rnn.step has no param 'activaton'; did you mean 'activation'? (its params: activation, dtype)
            params: {activaton: tanh}
                     ^
            """)
        try check(
            "kernel: rnn.step\nparams: {activation: tahn}\n",
            """
            cases/c.yaml:2:22: error: param 'activation' must be one of tanh, sigmoid, relu or identity, found 'tahn'; did you mean 'tanh'?
            params: {activation: tahn}
                                 ^
            """)
    }

    @Test func testMissingRequiredParam() throws {
        try check(
            "kernel: grad.clip_norm\ninputs: {g: [1.0]}\n",
            """
            cases/c.yaml:1:1: error: grad.clip_norm needs param 'max_norm' (number): the largest global norm allowed
            kernel: grad.clip_norm
            ^
            """)
    }

    @Test func testShapeMismatchNamesSymbolsAndTheirSource() throws {
        try check(
            simpleStepCase.replacingOccurrences(of: "{eye: 2, scale: 0.5}", with: "[[1, 0, 0], [0, 1, 0]]"),
            """
            cases/c.yaml:6:9: error: input 'W_hh' has shape [2, 3] but rnn.step expects [H, H]; axis 1 should be H = 2 (H = 2 from 'h_prev')
              W_hh: [[1, 0, 0], [0, 1, 0]]
                    ^
            """)
        try check(
            simpleStepCase.replacingOccurrences(of: "x: [1.0, -1.0]", with: "x: [[[1.0]]]"),
            """
            cases/c.yaml:3:6: error: input 'x' has shape [1, 1, 1] (rank 3) but rnn.step expects [I] or [B, I]
              x: [[[1.0]]]
                 ^
            """)
    }

    @Test func testRaggedListPointsAtTheRow() throws {
        try check(
            simpleStepCase.replacingOccurrences(of: "{eye: 2}", with: "[[1, 0], [0]]"),
            """
            cases/c.yaml:5:18: error: input 'W_xh': ragged list: item 1 has shape [1] but item 0 has shape [2]; every row must have the same length
              W_xh: [[1, 0], [0]]
                             ^
            """)
    }

    @Test func testWrongTypes() throws {
        try check(
            simpleStepCase.replacingOccurrences(of: "x: [1.0, -1.0]", with: "x: [1.0, one]"),
            """
            cases/c.yaml:3:12: error: input 'x': an element must be a number, found 'one'
              x: [1.0, one]
                       ^
            """)
        try check(
            "kernel: rnn.step\ninputs: [1, 2]\n",
            """
            cases/c.yaml:2:9: error: inputs must be a mapping (key: value lines), found a list
            inputs: [1, 2]
                    ^
            """)
    }

    @Test func testShapeDataCountMismatch() throws {
        try check(
            simpleStepCase.replacingOccurrences(of: "{eye: 2}", with: "{shape: [2, 2], data: [1, 2, 3]}"),
            """
            cases/c.yaml:5:31: error: input 'W_xh': shape [2, 2] needs 4 numbers but data has 3
              W_xh: {shape: [2, 2], data: [1, 2, 3]}
                                          ^
            """)
    }

    @Test func testGeneratorTyposAndLimits() throws {
        try check(
            simpleStepCase.replacingOccurrences(of: "{eye: 2}", with: "{ey: 2}"),
            """
            cases/c.yaml:5:10: error: input 'W_xh': unknown field 'ey'; did you mean 'eye'?
              W_xh: {ey: 2}
                     ^
            """)
        try check(
            simpleStepCase.replacingOccurrences(of: "{eye: 2}", with: "{zeros: [100000, 100000]}"),
            """
            cases/c.yaml:5:17: error: input 'W_xh' needs 10000000000 elements, over the limit of 50000000 per case (raise it with --max-elements)
              W_xh: {zeros: [100000, 100000]}
                            ^
            """)
        try check(
            simpleStepCase.replacingOccurrences(of: "{eye: 2}", with: "{zeros: [-2, 2]}"),
            """
            cases/c.yaml:5:17: error: input 'W_xh': dimension -2 is negative; a shape lists extents ≥ 0
              W_xh: {zeros: [-2, 2]}
                            ^
            """)
    }

    @Test func testDuplicateKeysAndInvalidYAMLAndEmptyFiles() throws {
        try check(
            simpleStepCase + "  x: [1.0, -1.0]\n",
            """
            cases/c.yaml:3:3: error: duplicate key 'x' in a mapping: each key may appear once
              x: [1.0, -1.0]
              ^
            """)
        try check(
            "",
            "cases/c.yaml:1:1: error: the file is empty; a case is a mapping with at least 'kernel:' and 'inputs:' (see `rnnspec new`)"
        )
        try check(
            "- a\n- b\n",
            """
            cases/c.yaml:1:1: error: a case file must be a mapping (key: value lines), found a list
            - a
            ^
            """)
        try check(
            "kernel: rnn.step\ninputs: {x: [1, 2}\n",
            """
            cases/c.yaml:2:18: error: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence
            inputs: {x: [1, 2}
                             ^
            """)
    }

    @Test func testInvalidUTF8() throws {
        let p = try TempProject()
        let url = p.root.appendingPathComponent("cases/c.yaml")
        try Data("kernel: rnn.step\ntitle: caf".utf8 + [0xE9, 0x0A]).write(to: url)
        XCTAssertEqual(
            "\(try p.result("c").error!)",
            "cases/c.yaml:2:11: error: the file is not valid UTF-8 (invalid byte 0xE9 at byte 27); save it as UTF-8\ntitle: caf\\x{E9}\n          ^"
        )
    }

    @Test func testKernelRejectionPointsAtTheInput() throws {
        try check(
            simpleStepCase + "  b_y: [0.0, 0.0]\n",
            """
            cases/c.yaml:7:8: error: b_y needs W_hy (the output layer)
              b_y: [0.0, 0.0]
                   ^
            """)
    }

    @Test func testDeepNestingIsRefusedQuickly() throws {
        let deep =
            "kernel: rnn.step\ninputs:\n  x: " + String(repeating: "[", count: 100_000)
            + String(repeating: "]", count: 100_000) + "\n"
        let p = try TempProject()
        let start = Date()
        let error = try p.loadError(deep)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertTrue(error.hasPrefix("cases/c.yaml:3:70: error: nesting deeper than 64 levels"), error)
    }

    @Test func testSymlinkOutsideTheRootIsRefused() throws {
        let p = try TempProject()
        let outside = p.root.appendingPathComponent("outside.yaml")
        try simpleStepCase.write(to: outside, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            at: p.root.appendingPathComponent("cases/link.yaml"), withDestinationURL: outside)
        let r = try p.result("link")
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertEqual(
            "\(r.error!)",
            "cases/link.yaml: error: the file resolves (through a symbolic link) outside the cases root cases/; refusing to read it"
        )
    }

    @Test func testPathOutsideTheRootIsAUsageError() throws {
        let p = try TempProject()
        XCTAssertThrowsError(try p.run(["/tmp"])) { error in
            XCTAssertEqual(
                "\(error)",
                "error: /tmp is outside the cases root cases/; cases must live under it (or set --cases-root)")
        }
    }
}
