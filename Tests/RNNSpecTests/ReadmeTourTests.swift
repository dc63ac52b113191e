import Foundation
import TestAssertions
import Testing

/// The README's five-minute tour is a transcript: from "Add a case" on, every `$ rnnspec ...` line in its
/// code blocks is run, in order, in a copy of the suite's `cases/exercises` and `golden/exercises`, and
/// prints what the README shows (times aside; a `...` line stands for lines left out).
@Suite final class ReadmeTourTests {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func testTheTourPrintsWhatTheReadmeShows() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let tour = try XCTUnwrap(Self.section("## A five-minute tour", of: readme), "README.md has a five-minute tour")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-tour-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for sub in ["cases", "golden"] {
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: root.appendingPathComponent("\(sub)/exercises"),
                to: dir.appendingPathComponent("\(sub)/exercises"))
        }
        let casePath = "cases/exercises/my_case.yaml"
        let caseURL = dir.appendingPathComponent(casePath)
        /// The edits the tour's prose describes, made to the case before the first command of its section.
        let edits: [String: [(String, String)]] = [
            "### See a failure": [("h: {value: [2.0, 0.0]", "h: {value: [2.0, -0.5]")],
            "### Bless a change": [
                ("h: {value: [2.0, -0.5]", "h: {value: [2.0, 0.0]"),
                ("b_h: [0.0, 0.25]", "b_h: [0.0, 0.75]"),
                ("a: {value: [2.0, -0.5]", "a: {value: [2.0, 0.0]"),
            ],
        ]

        var heading = ""
        var started = false
        var edited: Set<String> = []
        var commands = 0
        for block in Self.blocks(tour) {
            heading = block.heading
            if heading == "### Add a case" { started = true }
            guard started else { continue }
            if block.info == "yaml" {
                XCTAssertTrue(
                    FileManager.default.fileExists(atPath: caseURL.path), "`rnnspec new` comes before the case's text")
                try block.lines.joined(separator: "\n").appending("\n").write(
                    to: caseURL, atomically: true, encoding: .utf8)
                continue
            }
            guard block.lines.first?.hasPrefix("$ rnnspec ") == true else { continue }
            if let changes = edits[heading], !edited.contains(heading) {
                var text = try String(contentsOf: caseURL, encoding: .utf8)
                for (old, new) in changes {
                    XCTAssertTrue(text.contains(old), "\(heading): the case holds \(old)")
                    text = text.replacingOccurrences(of: old, with: new)
                }
                try text.write(to: caseURL, atomically: true, encoding: .utf8)
                edited.insert(heading)
            }
            for (command, expected) in Self.transcript(block.lines) {
                let args = command.split(separator: " ").map(String.init).filter { $0 != "<" && $0 != "/dev/null" }
                let r = try runRNNSpec(Array(args.dropFirst()), in: dir)
                var actual = r.stdout.components(separatedBy: "\n")
                while actual.last == "" { actual.removeLast() }
                XCTAssertTrue(
                    Self.matches(expected.map(Self.timeless), actual.map(Self.timeless)),
                    "\(heading): `\(command)` printed\n\(r.stdout)\(r.stderr)\nbut the README shows\n\(expected.joined(separator: "\n"))"
                )
                commands += 1
            }
        }
        XCTAssertEqual(edited.count, edits.count, "the tour has the sections whose edits the test makes")
        XCTAssertGreaterThanOrEqual(commands, 9, "the tour's commands were run")
    }

    /// `... in 0.35 s` with the time left out.
    static func timeless(_ line: String) -> String { line.replacing(#/ in \d+(\.\d+)? s$/#, with: " in X s") }

    /// Whether `actual` is `expected`, where an expected line `...` (indented or not) stands for any lines.
    static func matches(_ expected: [String], _ actual: [String]) -> Bool {
        guard let first = expected.first else { return actual.isEmpty }
        if first.trimmingCharacters(in: .whitespaces) == "..." {
            let rest = Array(expected.dropFirst())
            return (0...actual.count).contains { matches(rest, Array(actual.dropFirst($0))) }
        }
        return actual.first == first && matches(Array(expected.dropFirst()), Array(actual.dropFirst()))
    }

    /// The text from the heading line to the next heading of the same level.
    static func section(_ heading: String, of text: String) -> String? {
        guard let start = text.range(of: "\n" + heading + "\n") else { return nil }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    /// The fenced code blocks, each with its info string and the `###` heading it is under.
    static func blocks(_ text: String) -> [(heading: String, info: String, lines: [String])] {
        var blocks: [(heading: String, info: String, lines: [String])] = []
        var heading = ""
        var open: (info: String, lines: [String])?
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("```") {
                if let block = open {
                    blocks.append((heading, block.info, block.lines))
                    open = nil
                } else {
                    open = (String(line.dropFirst(3)), [])
                }
            } else if open != nil {
                open!.lines.append(line)
            } else if line.hasPrefix("### ") {
                heading = line
            }
        }
        return blocks
    }

    /// Each `$ ` line of a console block with the lines it printed.
    static func transcript(_ lines: [String]) -> [(command: String, output: [String])] {
        var steps: [(command: String, output: [String])] = []
        for line in lines {
            if line.hasPrefix("$ ") {
                steps.append((String(line.dropFirst(2)), []))
            } else if !steps.isEmpty {
                steps[steps.count - 1].output.append(line)
            }
        }
        return steps
    }
}
