import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Strings a hostile or careless user can put in a file name or a YAML string, fed through the
/// text, JSON and JUnit reports: the text shows them escaped with no forged line, the JUnit
/// parses as XML and the JSON as JSON, and the strings come back where the format can hold them.
@Suite final class ReportSafetyTests {
    /// A noncharacter Swift does not accept in a literal.
    static let fdd0 = String(Unicode.Scalar(0xFDD0 as UInt32)!)

    static let hostile: [String] = [
        "cr\rhere",
        "lf\nPASS: forged (1 of 1)",
        "\nPASS: x",
        "\r\nPASS: x",
        "esc\u{1B}[31mred\u{1B}[0m\u{1B}[2K",
        "osc\u{1B}]0;title\u{07}bell",
        "nul\u{0}byte",
        "nonchar\u{FFFE}\u{FFFF}" + fdd0 + "\u{1FFFE}",
        "ls\u{2028}ps\u{2029}nel\u{85}",
        "bidi\u{202E}gnp.exe\u{202C}\u{202A}\u{202B}\u{202D}",
        "isolate\u{2066}x\u{2067}\u{2068}\u{2069}",
        "marks\u{200E}\u{200F}\u{061C}",
        "cdata]]>end<![CDATA[x",
        "quote\"apos'",
        "<tag attr=\"v\">&amp;&#0;</tag>",
        "del\u{7F}c1\u{80}\u{9B}31m",
        "invisible\u{200B}\u{200D}\u{FEFF}\u{2060}\u{00AD}\u{3164}",
        "tags\u{E0001}\u{E0041}",
        "tab\there",
        "backspace\u{8}\u{8}\u{8}PASS",
        "plain é 中 🙂 e\u{301}",
    ]

    /// Every status, the hostile strings in every field a report prints.
    func hostileReport() -> RunReport {
        var results: [CaseResult] = []
        let statuses = Status.allCases
        for (k, h) in Self.hostile.enumerated() {
            let source = SourceText(path: "cases/\(h).yaml", text: "a: 1\r\nb: \(h) tail\r\n")
            var r = CaseResult(
                id: "dir\(h)/case\(k)\(h)", path: "cases/dir\(h)/case\(k)\(h).yaml", kernel: "kernel\(h)",
                status: statuses[k % statuses.count])
            r.reason = "reason \(h)"
            r.error = SpecError(
                "message \(h)", at: source.location(line: 2, column: 4), snippet: source.snippet(line: 2, column: 4))
            // Strings a case can hold: they reach a mismatch as compared values, gate names never do.
            var values = Mismatch(
                output: "out\(h)", reference: .golden, problem: nil, shape: [1], dtype: "string", failing: 1, total: 1)
            values.elements = [ElementDifference(index: [0], actual: "actual \(h)", expected: "detail \(h)")]
            values.location = SourceLocation(file: "golden/\(h).yaml", line: 3, column: 0)
            r.mismatches = [values, Mismatch(output: "o", reference: .gradcheck, problem: "problem \(h)")]
            r.notes = ["note \(h)", "no golden yet; review the outputs, then `rnnspec regen \(r.path)`"]
            r.recording = Recording(action: .refused, notes: ["recording \(h)"])
            results.append(r)
        }
        results.append(CaseResult(id: "ok", path: "cases/ok.yaml", kernel: "rnn.step", status: .pass))
        return RunReport(results: results, orphanGoldens: Self.hostile.map { "orphan\($0)" }, seconds: 0.5)
    }

    /// Nothing that moves the cursor, clears, reorders or hides text: only line feeds (rnnspec's
    /// own) and tabs (in quoted source lines) among the characters `TextEscape` escapes.
    func assertPrintable(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for u in text.unicodeScalars where TextEscape.isUnsafe(u) && u != "\n" && u != "\t" {
            XCTFail(
                "\(what) holds the raw character U+\(String(u.value, radix: 16, uppercase: true))", file: file,
                line: line)
            return
        }
    }

    @Test func testTextEscapesEveryUserStringAndForgesNoLine() {
        let report = hostileReport()
        for text in [report.text(verbose: true), report.text(verbose: false)] {
            assertPrintable(text, "the text report")
            // Column 0 belongs to rnnspec: a header per result shown, the orphan note and the
            // two summary lines; every other line is indented.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let shown = report.results.enumerated().filter {
                text.contains("(\($0.offset + 1) of \(report.results.count))\n")
            }
            var headers: [String] = []
            for line in lines where !line.isEmpty && !line.hasPrefix("  ") {
                if line.hasPrefix("note: ") || line.hasPrefix("Results: ") || line == Substring(report.summaryLine) {
                    continue
                }
                headers.append(String(line))
            }
            XCTAssertEqual(
                headers,
                shown.map {
                    "\($0.element.status.rawValue): \($0.element.id.escapedForDisplay) (\($0.offset + 1) of \(report.results.count))"
                })
            XCTAssertFalse(
                lines.contains { $0.hasPrefix("PASS: x") || $0.hasPrefix("PASS: forged") || $0.hasPrefix("  PASS") })
        }
        let text = report.text(verbose: true)
        XCTAssertTrue(text.contains("PASS: ok (\(report.results.count) of \(report.results.count))\n"))
        // The escapes are visible, and each field shows up escaped.
        let escaped = [
            "cr\\rhere", "lf\\nPASS: forged (1 of 1)", "esc\\u{1B}[31mred\\u{1B}[0m\\u{1B}[2K",
            "osc\\u{1B}]0;title\\u{7}bell", "nul\\0byte", "nonchar\\u{FFFE}\\u{FFFF}\\u{FDD0}\\u{1FFFE}",
            "ls\\u{2028}ps\\u{2029}nel\\u{85}", "bidi\\u{202E}gnp.exe\\u{202C}\\u{202A}\\u{202B}\\u{202D}",
            "isolate\\u{2066}x\\u{2067}\\u{2068}\\u{2069}", "marks\\u{200E}\\u{200F}\\u{61C}", "cdata]]>end<![CDATA[x",
            "del\\u{7F}c1\\u{80}\\u{9B}31m", "invisible\\u{200B}\\u{200D}\\u{FEFF}\\u{2060}\\u{AD}\\u{3164}",
            "tags\\u{E0001}\\u{E0041}", "tab\\there", "backspace\\u{8}\\u{8}\\u{8}PASS", "plain é 中 🙂 e\u{301}",
        ]
        for expected in escaped {
            for field in [
                "reason ", "message ", "note ", "recording ", "detail ", "actual ", "problem ", "out", "orphan", "dir",
            ] {
                XCTAssertTrue(text.contains(field + expected), "\(field)\(expected) is not in the text report")
            }
        }
        // A mismatch's values are user text too: a line feed in one is escaped, never a new line.
        XCTAssertTrue(text.contains("actual lf\\nPASS: forged (1 of 1)"), text)
        // (A quoted line ends at the string's first line break, as the file's line would.)
        XCTAssertTrue(text.contains("\n  b: lf\n     ^\n"), text)
        XCTAssertTrue(text.contains("\n  b: tab\there tail\n     ^\n"), text)
        XCTAssertTrue(text.contains("\n  b: esc\\u{1B}[31mred\\u{1B}[0m\\u{1B}[2K tail\n     ^\n"), text)
    }

    @Test func testJSONIsValidAndCarriesTheStringsAsTheyAre() throws {
        let report = hostileReport()
        let json = report.json()
        assertPrintable(json, "the JSON report")
        for u in json.unicodeScalars where u.value >= 0x7F {
            XCTAssertFalse(TextEscape.isUnsafe(u), "raw U+\(String(u.value, radix: 16)) in the JSON")
        }
        XCTAssertTrue(json.contains("\\u2028"))
        XCTAssertTrue(json.contains("\\u202E"))
        XCTAssertTrue(json.contains("\\uD83F\\uDFFE"), "U+1FFFE as a surrogate pair")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let cases = try XCTUnwrap(doc["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, report.results.count)
        for (entry, r) in zip(cases, report.results) {
            XCTAssertEqual(entry["id"] as? String, r.id)
            XCTAssertEqual(entry["path"] as? String, r.path)
            XCTAssertEqual(entry["kernel"] as? String, r.kernel)
            XCTAssertEqual(entry["status"] as? String, r.status.rawValue)
            XCTAssertEqual(entry["reason"] as? String, r.reason)
            if let error = r.error {
                let e = try XCTUnwrap(entry["error"] as? [String: Any])
                XCTAssertEqual(e["message"] as? String, error.message)
                XCTAssertEqual(e["file"] as? String, error.location.file)
                XCTAssertEqual(e["line"] as? Int, 2)
                XCTAssertEqual(e["column"] as? Int, 4)
            }
            if !r.status.isSuccess {
                XCTAssertEqual(entry["message"] as? String, r.detailText())
                XCTAssertEqual(entry["headline"] as? String, r.headline)
                // The mismatches as fields, the user's strings as they are.
                let mismatches = try XCTUnwrap(entry["mismatches"] as? [[String: Any]])
                XCTAssertEqual(mismatches.first?["output"] as? String, r.mismatches[0].output)
                let elements = try XCTUnwrap(mismatches.first?["elements"] as? [[String: Any]])
                XCTAssertEqual(elements.first?["actual"] as? String, r.mismatches[0].elements[0].actual)
                XCTAssertEqual(mismatches.last?["problem"] as? String, r.mismatches[1].problem)
            }
        }
        XCTAssertEqual(doc["orphan_goldens"] as? [String], report.orphanGoldens)
        let counts = try XCTUnwrap(doc["counts"] as? [String: Int])
        for s in Status.allCases { XCTAssertEqual(counts[s.rawValue], report.count(s)) }
    }

    /// What a JUnit attribute holds after parsing: the original text, with only the characters
    /// XML 1.0 forbids replaced by their visible escape.
    func xmlVisible(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if XMLText.isAllowed(u) { out.unicodeScalars.append(u) } else { out += TextEscape.escape(u) }
        }
        return out
    }

    @Test func testJUnitIsWellFormedAndCarriesNamesAndReasons() throws {
        // The parser is strict enough for this test to mean something.
        XCTAssertFalse(XMLParser(data: Data("<a>\u{FFFF}</a>".utf8)).parse())
        XCTAssertFalse(XMLParser(data: Data("<a>\u{1B}</a>".utf8)).parse())
        XCTAssertFalse(XMLParser(data: Data("<a b=\"<\"/>".utf8)).parse())

        let report = hostileReport()
        let xml = report.junit()
        for u in xml.unicodeScalars {
            XCTAssertTrue(XMLText.isAllowed(u), "U+\(String(u.value, radix: 16)) in the JUnit")
        }
        let parsed = try JUnitDocument.parse(xml)
        XCTAssertEqual(parsed.testcases.count, report.results.count)
        for (tc, r) in zip(parsed.testcases, report.results) {
            let parts = r.id.split(separator: "/", omittingEmptySubsequences: false)
            XCTAssertEqual(tc.name, xmlVisible(String(parts.last!)))
            XCTAssertEqual(
                tc.classname, parts.count == 1 ? "cases" : xmlVisible(parts.dropLast().joined(separator: ".")))
            switch r.status {
            case .pass, .xfail:
                XCTAssertNil(tc.kind)
            case .unsupported:
                XCTAssertEqual(tc.kind, "skipped")
                XCTAssertEqual(tc.message, xmlVisible(r.reason!))
            case .unresolved:
                XCTAssertEqual(tc.kind, "error")
                XCTAssertEqual(tc.body, r.detailText())
            default:
                XCTAssertEqual(tc.kind, "failure")
                // The headline in the message, the whole text in the body.
                XCTAssertEqual(tc.message, xmlVisible("\(r.status.rawValue): \(r.headline)"))
                XCTAssertEqual(tc.body, r.detailText())
            }
        }
        // Strings XML can hold come back unchanged, line breaks in attributes included.
        XCTAssertTrue(parsed.testcases.contains { $0.name == "case1lf\nPASS: forged (1 of 1)" })
        XCTAssertTrue(parsed.testcases.contains { $0.name == "case0cr\rhere" })
        XCTAssertTrue(parsed.testcases.contains { $0.name == "case12cdata]]>end<![CDATA[x" })
        XCTAssertTrue(
            parsed.testcases.contains { $0.name == "case7nonchar\\u{FFFE}\\u{FFFF}" + Self.fdd0 + "\u{1FFFE}" })
        XCTAssertEqual(parsed.suiteAttributes["tests"], "\(report.results.count)")
        XCTAssertEqual(parsed.suiteAttributes["errors"], "\(report.count(.unresolved))")
        XCTAssertEqual(parsed.suiteAttributes["skipped"], "\(report.skipped)")
        XCTAssertEqual(parsed.suiteAttributes["failures"], "\(report.failed - report.count(.unresolved))")
    }

    @Test func testEmptyAndOrdinaryReportsStayWellFormed() throws {
        let empty = RunReport(results: [], orphanGoldens: [], seconds: 0)
        XCTAssertEqual(try JUnitDocument.parse(empty.junit()).testcases.count, 0)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(empty.json().utf8)))
        XCTAssertEqual(empty.text(), "Results: no cases in 0.00 s\n0 passed, 0 failed\n")
        // Ordinary text passes through unchanged.
        XCTAssertEqual("exercises/ex01 é 中 🙂".escapedForDisplay, "exercises/ex01 é 中 🙂")
        XCTAssertEqual("a\tb".escapedForDisplay(keepingTabs: true), "a\tb")
        XCTAssertEqual(
            "\u{1B}[2J\r\n\u{0}\u{7F}\u{9B}\u{2028}\u{202E}\u{FFFF}".escapedForDisplay,
            "\\u{1B}[2J\\r\\n\\0\\u{7F}\\u{9B}\\u{2028}\\u{202E}\\u{FFFF}")
        XCTAssertEqual("\(UsageError("cases/x\nPASS: y is outside"))", "error: cases/x\\nPASS: y is outside")
        XCTAssertEqual("\(SourceLocation(file: "a\u{1B}b.yaml", line: 0, column: 0))", "a\\u{1B}b.yaml")
    }

    /// Real files with hostile names, reasons and kernel names, through the runner and all
    /// three reports, and through `rnnspec check` and `rnnspec run` on the command line.
    @Test func testHostileFilesEndToEnd() throws {
        let p = try TempProject()
        let skip = "skip: \"\\nPASS: forged \\e[31m \\uFFFE \\u2028 \\u202E ]]> <&\\\" \\0\"\n"
        try p.writeCase("x\nPASS: y", simpleStepCase + skip)
        try p.writeCase("esc\u{1B}[2J\r\u{202E}\u{FFFF}", simpleStepCase + "skip: \"\\t\\r\\n\\x85\\x9b\"\n")
        try p.writeCase(
            "kernel", simpleStepCase.replacingOccurrences(of: "rnn.step", with: "\"rnn.step\\uFFFF\\n\\e[2JPASS: k\""))
        try p.writeCase("field", simpleStepCase + "  \"W\\u2028\\nPASS: f\": 1\n")
        try p.writeCase("ok", simpleStepCase)
        let report = try p.run(record: .missing)
        XCTAssertEqual(report.results.count, 5)
        XCTAssertEqual(report.count(.unsupported), 2)
        XCTAssertEqual(report.count(.unresolved), 2)
        let text = report.text(verbose: true)
        assertPrintable(text, "the text report")
        let zeroColumn = text.split(separator: "\n").filter { !$0.hasPrefix(" ") }
        XCTAssertEqual(zeroColumn.filter { $0.hasPrefix("PASS") }, ["PASS: ok (4 of 5)"], text)
        XCTAssertTrue(text.contains("UNSUPPORTED: x\\nPASS: y ("), text)
        XCTAssertTrue(
            text.contains("reason: \\nPASS: forged \\u{1B}[31m \\u{FFFE} \\u{2028} \\u{202E} ]]> <&\" \\0\n"), text)
        XCTAssertTrue(text.contains("unknown kernel 'rnn.step\\u{FFFF}\\n\\u{1B}[2JPASS: k'"), text)
        XCTAssertTrue(text.contains("has no input 'W\\u{2028}\\nPASS: f'"), text)
        let junit = try JUnitDocument.parse(report.junit())
        XCTAssertTrue(junit.testcases.contains { $0.name == "x\nPASS: y" })
        XCTAssertTrue(
            junit.testcases.contains {
                $0.message == "\nPASS: forged \\u{1B}[31m \\u{FFFE} \u{2028} \u{202E} ]]> <&\" \\0"
            },
            "\(junit.testcases.map(\.message))")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let reasons = (json["cases"] as? [[String: Any]])?.compactMap { $0["reason"] as? String }
        XCTAssertTrue(
            reasons?.contains("\nPASS: forged \u{1B}[31m \u{FFFE} \u{2028} \u{202E} ]]> <&\" \u{0}") == true,
            "\(reasons ?? [])")

        // The command line prints the same report.
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        for args in [["check"], ["run", "--junit", "r.xml", "--format", "json", "--output", "r.json"]] {
            let out = try runBinary(args, in: p.root)
            XCTAssertEqual(out.status, 1, out.stdout + out.stderr)
            assertPrintable(out.stdout, "rnnspec \(args[0])'s output")
            assertPrintable(out.stderr, "rnnspec \(args[0])'s errors")
            XCTAssertFalse(
                out.stdout.split(separator: "\n").contains {
                    $0.hasPrefix("PASS: forged") || $0.hasPrefix("PASS: y") || $0.hasPrefix("PASS: k")
                        || $0.hasPrefix("PASS: f")
                }, out.stdout)
        }
        XCTAssertEqual(
            try JUnitDocument.parse(String(contentsOf: p.root.appendingPathComponent("r.xml"), encoding: .utf8))
                .testcases.count, 5)
        XCTAssertNotNil(
            try JSONSerialization.jsonObject(with: Data(contentsOf: p.root.appendingPathComponent("r.json"))))
    }

    /// A small in-test fuzzer: a valid case and a golden, mangled with the characters above
    /// (and bytes that are not UTF-8) at random places, through the loaders; every error, in
    /// every format, stays safe and well-formed, and its caret line is only a caret. 1,000 mangled
    /// files (3,000 with RNNSPEC_FULL_TESTS=1; `Fuzz/` fuzzes the loaders for longer).
    @Test func testRandomlyMangledFilesGiveSafeErrorsInEveryFormat() throws {
        var rng = SplitMix(state: 0x5EED)
        let golden = Golden(
            caseID: "c", kernel: "rnn.step", digest: "d",
            outputs: [("h", .real(RealTensor(Tensor<Double>([0.5, -0.25]))))]
        ).serialized()
        let bases = [simpleStepCase, simpleStepCase.replacingOccurrences(of: "\n", with: "\r\n"), golden]
        let pieces: [[UInt8]] =
            [
                "\r", "\n", "\r\n", "\t", "\u{0}", "\u{1B}[2J", "\u{7F}", "\u{85}", "\u{9B}", "\u{2028}", "\u{2029}",
                "\u{202E}", "\u{2066}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}", "中", "e\u{301}", "🙂", "\"", "'", "[", "{",
                "]", ":",
                "- ", "#", "&", "*", "!", "%", "]]>", "<", "\nPASS: x\n",
            ].map { Array($0.utf8) }
            + [[0xFF], [0xC0, 0x80], [0xE4, 0xB8], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]]
        var results: [CaseResult] = []
        let files = fullTests ? 3000 : 1000
        for k in 0..<files {
            let base = bases[k % bases.count]
            var bytes = Array(base.utf8)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(bytes.count + 1))
                bytes.insert(contentsOf: pieces[Int(rng.next() % UInt64(pieces.count))], at: at)
            }
            let path = "cases/m\(k)\u{1B}\n.yaml"
            var error: SpecError? = nil
            if k % bases.count == 2 {
                if let text = String(validatingUTF8Data: Data(bytes)) {
                    do { _ = try Golden.parse(SourceText(path: path, text: text)) } catch let e as SpecError {
                        error = e
                    }
                }
            } else {
                do {
                    _ = try CaseLoader(limits: LoadLimits(maxElements: 10_000)).load(
                        data: Data(bytes), id: "m\(k)", displayPath: path)
                } catch let e as SpecError { error = e }
            }
            guard let error else { continue }
            let description = "\(error)"
            assertPrintable(description, "the error for \(bytes)")
            let lines = description.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertTrue(lines.count == 1 || lines.count == 3, description)
            if lines.count == 3 {
                XCTAssertTrue(
                    lines[2].hasSuffix("^") && lines[2].dropLast().allSatisfy { $0 == " " || $0 == "\t" }, description)
                XCTAssertLessThanOrEqual(lines[1].count, 2 * 80 + 6 + 10 * 4, "a quoted line is cut around the caret")
            }
            results.append(CaseResult(id: "m\(k)\r", path: path, kernel: nil, status: .unresolved, error: error))
        }
        XCTAssertGreaterThan(results.count, files / 3)
        let report = RunReport(results: results, orphanGoldens: [], seconds: 1)
        let text = report.text()
        assertPrintable(text, "the text report")
        XCTAssertEqual(text.split(separator: "\n").filter { !$0.hasPrefix(" ") }.count, results.count + 2)
        XCTAssertEqual(try JUnitDocument.parse(report.junit()).testcases.count, results.count)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        XCTAssertEqual((json["cases"] as? [Any])?.count, results.count)
    }

    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func runBinary(_ args: [String], in dir: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = rnnspecBinary
        process.arguments = args
        process.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["CI"] = "true"
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// A JUnit file read back with Foundation's XML parser (libxml2 on Linux).
struct JUnitDocument {
    struct TestCase {
        var classname = "", name = ""
        /// `failure`, `error` or `skipped`; nil for a passing case.
        var kind: String? = nil
        var message: String? = nil
        var body = ""
    }
    var suiteAttributes: [String: String] = [:]
    var testcases: [TestCase] = []

    struct NotWellFormed: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ xml: String) throws -> JUnitDocument {
        let parser = XMLParser(data: Data(xml.utf8))
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else {
            throw NotWellFormed(
                description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")\n\(xml)")
        }
        return delegate.document
    }

    final class Delegate: NSObject, XMLParserDelegate {
        var document = JUnitDocument()
        var inBody = false

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            switch elementName {
            case "testsuite": document.suiteAttributes = attributeDict
            case "testcase":
                document.testcases.append(
                    TestCase(classname: attributeDict["classname"] ?? "", name: attributeDict["name"] ?? ""))
            case "failure", "error", "skipped":
                document.testcases[document.testcases.count - 1].kind = elementName
                document.testcases[document.testcases.count - 1].message = attributeDict["message"]
                inBody = true
            default: break
            }
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            if ["failure", "error", "skipped"].contains(elementName) { inBody = false }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inBody { document.testcases[document.testcases.count - 1].body += string }
        }
    }
}
