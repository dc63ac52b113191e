import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Errors point at the right line and column, and quote it safely, whatever the file's line
/// endings and whatever characters it holds.
@Suite final class ErrorLocationTests {
    func check(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try TempProject()
        XCTAssertEqual(try p.loadError(text), expected, file: file, line: line)
    }

    func checkBytes(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try TempProject()
        try Data(bytes).write(to: p.root.appendingPathComponent("cases/c.yaml"))
        let r = try p.result("c")
        XCTAssertEqual(r.status, .unresolved, file: file, line: line)
        XCTAssertEqual(r.error.map { "\($0)" }, expected, file: file, line: line)
    }

    @Test func testCRLFFilesKeepTheQuotedLineAndCaret() throws {
        try check(
            "kernel: rnn.step\r\ninputs:\r\n  x: [1.0, -1.0]\r\n  bogus: 1\r\n",
            """
            cases/c.yaml:4:3: error: rnn.step has no input 'bogus' (its inputs: x, h_prev, W_xh, W_hh, b_h, W_hy, b_y)
              bogus: 1
              ^
            """)
        try check(
            "kernel: rnn.step\r\ninputs: {x: [1, 2}\r\n",
            """
            cases/c.yaml:2:18: error: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence
            inputs: {x: [1, 2}
                             ^
            """)
        try check(
            "kernel: rnn.stpe\r\n",
            """
            cases/c.yaml:1:9: error: unknown kernel 'rnn.stpe'; did you mean 'rnn.step'?
            kernel: rnn.stpe
                    ^
            """)
    }

    @Test func testOldMacLineEndingsAndUnicodeLineBreaksCountAsLibyamlCountsThem() throws {
        // A lone CR ends a line for libyaml: the marks and the quoted line agree.
        try check(
            "kernel: rnn.step\rinputs:\r  x: [1.0, -1.0]\r  bogus: 1\r",
            """
            cases/c.yaml:4:3: error: rnn.step has no input 'bogus' (its inputs: x, h_prev, W_xh, W_hh, b_h, W_hy, b_y)
              bogus: 1
              ^
            """)
        // Whatever line libyaml gives after a U+2028 or NEL in a string, the quoted line is the
        // one it means.
        for breakChar in ["\u{2028}", "\u{2029}", "\u{85}"] {
            let p = try TempProject()
            let text = try p.loadError("title: \"a\(breakChar)b\"\r\nkernel: rnn.step\r\ninputs:\r\n  bogus: 1\r\n")
            XCTAssertTrue(
                text.hasSuffix(
                    ":3: error: rnn.step has no input 'bogus' (its inputs: x, h_prev, W_xh, W_hh, b_h, W_hy, b_y)\n  bogus: 1\n  ^"
                ), text)
        }
    }

    @Test func testNestingErrorInACRLFFileIsAtItsLine() throws {
        let deep = String(repeating: "[", count: 70)
        let p = try TempProject()
        let text = try p.loadError("kernel: rnn.step\r\ninputs:\r\n  x: \(deep)\r\n")
        XCTAssertTrue(text.hasPrefix("cases/c.yaml:3:70: error: nesting deeper than 64 levels"), text)
        XCTAssertTrue(text.hasSuffix("\n  x: \(deep)\n" + String(repeating: " ", count: 69) + "^"), text)
    }

    @Test func testControlCharactersAreLocatedAndQuotedEscaped() throws {
        try check(
            "kernel: rnn.step\ninputs:\n  x: [1.0,\u{1} -1.0]\n",
            """
            cases/c.yaml:3:11: error: cannot read the file: control characters are not allowed (found U+0001)
              x: [1.0,\\u{1} -1.0]
                      ^
            """)
        // ESC in a comment of a CRLF file; the caret under the escape.
        try check(
            "kernel: rnn.step\r\n# \u{1B}[2J\u{1B}]0;x\u{7}\r\n",
            """
            cases/c.yaml:2:3: error: cannot read the file: control characters are not allowed (found U+001B)
            # \\u{1B}[2J\\u{1B}]0;x\\u{7}
              ^
            """)
        // After an escaped character, the caret still finds its column.
        try check(
            "title: \"\u{9B}\"\u{7F}\n",
            """
            cases/c.yaml:1:9: error: cannot read the file: control characters are not allowed (found U+009B)
            title: "\\u{9B}"\\u{7F}
                    ^
            """)
        // Wide characters and a combining accent before the character.
        try check(
            "kernel: rnn.step\r\ntitle: 中e\u{301}\u{FFFE}\r\n",
            """
            cases/c.yaml:2:11: error: cannot read the file: control characters are not allowed (found U+FFFE)
            title: 中é\\u{FFFE}
                      ^
            """)
        try check(
            "title: a\u{FFFF}\n",
            """
            cases/c.yaml:1:9: error: cannot read the file: control characters are not allowed (found U+FFFF)
            title: a\\u{FFFF}
                    ^
            """)
        try check(
            "title: a\u{0}b\n",
            """
            cases/c.yaml:1:9: error: cannot read the file: control characters are not allowed (found U+0000)
            title: a\\0b
                    ^
            """)
    }

    @Test func testInvalidBytesAreLocatedAndQuotedEscaped() throws {
        try checkBytes(
            Array("kernel: rnn.step\r\ntitle: é中".utf8) + [0xFF] + Array("x\r\n".utf8),
            """
            cases/c.yaml:2:10: error: the file is not valid UTF-8 (invalid byte 0xFF at byte 30); save it as UTF-8
            title: é中\\x{FF}x
                      ^
            """)
        // A byte-order mark is not a column; a truncated sequence at the end of the file.
        try checkBytes(
            [0xEF, 0xBB, 0xBF] + Array("a: \u{1B}".utf8) + [0xE4, 0xB8],
            """
            cases/c.yaml:1:5: error: the file is not valid UTF-8 (invalid byte 0xE4 at byte 7); save it as UTF-8
            a: \\u{1B}\\x{E4}\\x{B8}
                     ^
            """)
    }

    @Test func testUnreadableGoldenIsLocatedAtItsLine() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        let good = try XCTUnwrap(p.golden("step"))
        var lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[3] += "\u{1B}[2J"
        try lines.joined(separator: "\n").write(to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let text = "\(try XCTUnwrap(p.result("step").error))"
        XCTAssertTrue(
            text.hasPrefix(
                "golden/step.yaml:4:\(lines[3].unicodeScalars.count - 3): error: cannot read the file: control characters are not allowed (found U+001B)\n"
            ), text)
        XCTAssertTrue(text.contains("\\u{1B}[2J\n"), text)

        try Data(Array(good.utf8.prefix(20)) + [0xC0, 0x80]).write(to: p.goldenURL("step"))
        let bytes = "\(try XCTUnwrap(p.result("step").error))"
        XCTAssertTrue(
            bytes.hasPrefix(
                "golden/step.yaml:1:21: error: the golden file is not valid UTF-8 (invalid byte 0xC0 at byte 20; corrupt?)"
            ), bytes)
    }

    @Test func testMessagesAndPathsPrintOnOneSafeLine() throws {
        let p = try TempProject()
        let text = try p.loadError(simpleStepCase + "  \"a\\e[2J\\r\\nPASS: b\\u202E\": 1\n", id: "d\u{1B}\r\n")
        XCTAssertEqual(text.split(separator: "\n").count, 3, text)
        XCTAssertTrue(
            text.hasPrefix(
                "cases/d\\u{1B}\\r\\n.yaml:7:3: error: rnn.step has no input 'a\\u{1B}[2J\\r\\nPASS: b\\u{202E}'"), text
        )
        XCTAssertFalse(text.unicodeScalars.contains { TextEscape.isUnsafe($0) && $0 != "\n" }, text)
    }

    @Test func testLongLinesAreCutAroundTheColumn() throws {
        let a = String(repeating: "a", count: 100_000)
        try check(
            "title: \"\(a)\u{1}\(a)\"\n",
            """
            cases/c.yaml:1:100009: error: cannot read the file: control characters are not allowed (found U+0001)
            ...\(a.prefix(80))\\u{1}\(a.prefix(79))...
            \(String(repeating: " ", count: 83))^
            """)
        try checkBytes(
            Array("title: \(a)".utf8) + [0xFF] + Array("\(a)\n".utf8),
            """
            cases/c.yaml:1:100008: error: the file is not valid UTF-8 (invalid byte 0xFF at byte 100007); save it as UTF-8
            ...\(a.prefix(80))\\x{FF}\(a.prefix(79))...
            \(String(repeating: " ", count: 83))^
            """)
        // Near the start of a long line: no cut before.
        XCTAssertEqual(SourceText(path: "f", text: "ab" + a).snippet(line: 1, column: 2), "ab\(a.prefix(158))...\n ^")
    }

    @Test func testSnippetEdges() {
        let s = SourceText(path: "f", text: "a\r\n\r\nb\rc\u{2028}d")
        XCTAssertEqual(s.snippet(line: 1, column: 2), "a\n ^")
        XCTAssertEqual(s.snippet(line: 2, column: 1), "\n^")
        XCTAssertEqual(s.snippet(line: 3, column: 1), "b\n^")
        XCTAssertEqual(s.snippet(line: 4, column: 1), "c\n^")
        XCTAssertEqual(s.snippet(line: 5, column: 2), "d\n ^")
        // Columns past the end of the line, or not positive, never trap or allocate wildly.
        XCTAssertEqual(s.snippet(line: 5, column: 3), "d\n ^")
        XCTAssertEqual(s.snippet(line: 5, column: Int.max), "d\n ^")
        XCTAssertEqual(s.snippet(line: 5, column: Int.min), "d\n^")
        XCTAssertNil(s.snippet(line: Int.max, column: 1))
        XCTAssertNil(s.snippet(line: Int.min, column: 1))
        XCTAssertNil(s.snippet(line: 6, column: 1))
        XCTAssertNil(s.snippet(line: 0, column: 1))
        XCTAssertEqual(SourceText(path: "f", text: "").snippet(line: 1, column: 1), "\n^")
        XCTAssertEqual(SourceText(path: "f", text: "x\n").snippet(line: 2, column: 1), "\n^")
    }
}
