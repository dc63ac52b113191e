import Foundation
import RNNKernels
import TestAssertions
import Testing
import Yams

@testable import RNNSpec
@testable import RNNSpecBench

/// The fast composer gives, for every text it reads, the nodes `Yams.compose` gives (each node's kind,
/// string, style, tag and mark), and declines (nil) everything else: so a file reads the same whichever
/// path takes it.
@Suite final class FastComposerTests {
    /// Every node as text: kind, style, tag name, line:column, string; children indented.
    static func dump(_ node: Node, _ indent: String = "", into out: inout String) {
        let mark = node.mark.map { "\($0.line):\($0.column)" } ?? "-"
        switch node {
        case .scalar(let s):
            out += "\(indent)scalar \(s.style.rawValue) \(s.tag) \(mark) \(s.string.debugDescription)\n"
        case .sequence(let s):
            out += "\(indent)sequence \(s.style.rawValue) \(s.tag) \(mark)\n"
            for child in s { dump(child, indent + "  ", into: &out) }
        case .mapping(let m):
            out += "\(indent)mapping \(m.style.rawValue) \(m.tag) \(mark)\n"
            for (k, v) in m {
                dump(k, indent + "  ", into: &out)
                dump(v, indent + "    ", into: &out)
            }
        case .alias: out += "\(indent)alias \(mark)\n"
        }
    }

    static func dump(_ node: Node?) -> String {
        guard let node else { return "(empty)" }
        var out = ""
        dump(node, into: &out)
        return out
    }

    /// Whether the fast composer read `text`; fails the test where it differs from Yams.
    @discardableResult
    func check(_ text: String, _ context: String, maxDepth: Int = 64, maxScalars: Int = 1_000_000) -> Bool {
        guard let fast = FastComposer.compose(text, maxDepth: maxDepth, maxScalars: maxScalars) else { return false }
        do {
            let yams = try Yams.compose(yaml: text, .basic, .default, .utf8)
            let (a, b) = (Self.dump(fast).split(separator: "\n"), Self.dump(yams).split(separator: "\n"))
            if let k = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset
                ?? (a.count == b.count ? nil : min(a.count, b.count))
            {
                XCTFail(
                    "\(context): the nodes differ from node \(k): fast \(k < a.count ? a[k] : "(none)"), Yams \(k < b.count ? b[k] : "(none)"), for\n\(text)"
                )
            }
        } catch {
            XCTFail("\(context): the fast composer read a text Yams refuses (\(error)):\n\(text)")
        }
        return true
    }

    /// `text` with 1 to `edits` seeded edits: a byte of `alphabet` inserted or put in place of one, or
    /// a byte deleted.
    static func mutant(of text: String, edits: Int, _ alphabet: [UInt8], _ stream: inout SeededStream) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<(1 + Int(stream.next() % UInt64(edits))) {
            let at = Int(stream.next() % UInt64(bytes.count))
            let b = alphabet[Int(stream.next() % UInt64(alphabet.count))]
            switch stream.next() % 3 {
            case 0: bytes.insert(b, at: at)
            case 1: bytes.remove(at: at)
            default: bytes[at] = b
            }
            if bytes.isEmpty { bytes = [0x61] }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func texts(under dir: URL) -> [(String, String)] {
        let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
        return (files ?? []).filter { $0.pathExtension == "yaml" }.sorted { $0.path < $1.path }.compactMap { url in
            (try? String(contentsOf: url, encoding: .utf8)).map { (url.path, $0) }
        }
    }

    /// The repository's cases, the fuzz corpus, the schema fixtures and a generated bench suite: every
    /// file the fast composer reads gives Yams' nodes, and it reads most of them.
    @Test func testEveryFileItReadsGivesYamsNodes() {
        var files = Self.texts(under: repositoryRoot.appendingPathComponent("cases"))
        let repoCount = files.count
        files += Self.texts(under: repositoryRoot.appendingPathComponent("Fuzz/corpus"))
        files += Self.texts(under: repositoryRoot.appendingPathComponent("Tests/Fixtures"))
        files += BenchSuite.cases(count: 24).map { ($0.id, $0.text) }
        XCTAssertGreaterThan(repoCount, 300)
        var read = 0, repoRead = 0
        for (index, (path, text)) in files.enumerated() where check(text, path) {
            read += 1
            if index < repoCount { repoRead += 1 }
        }
        // Most case files are in the subset; the rest (block scalars, long lists, ...) take Yams' path.
        XCTAssertGreaterThan(Double(repoRead) / Double(repoCount), 0.95, "read \(repoRead) of \(repoCount)")
        XCTAssertTrue(
            BenchSuite.cases(count: 12).allSatisfy {
                FastComposer.compose($0.text, maxDepth: 64, maxScalars: 1_000_000) != nil
            })
        XCTAssertGreaterThan(read, 0)
    }

    /// Texts at the edges of the subset: each is read the same as Yams reads it, or declined.
    @Test func testEdgesAreReadAsYamsReadsThemOrDeclined() {
        let accepted = [
            "a: 1\n", "a: 1", "a:   x  y  # c\nb: 2\n", "# top\n\na: [1, 2]  # c\n# end\n",
            "a:\n  b: 1\n  c:\n    d: [x, 'y', \"z\"]\ne: -0.5\n", "a:\n- 1\n- [2, 3]\nb: 4\n",
            "a:\n  - 1\n  - {x: 1, y: [2]}\n", "a: [[1, 2],\n    [3, 4]]\n", "a: [1,\n  # c\n  2]\n",
            "a: {}\nb: []\n", "'a b': \"c d\"\n", "a: b:c\n", "a: x#y\n", "a: -x\n", "a: [-1, -x, +2]\n",
            "a: {k: v, l: [1, {m: n}]}\n", "a: null\nb: ~\nc: true\n", "a: [ 1 ,2 ]\n",
            // Quoted scalars over several lines, folded; text outside ASCII (columns count characters).
            "a: \"x  \n   y\"\nb: 1\n", "a: 'x\n\n  y\n\n\n  z'\n", "a: [\"p\n   q\", 2]\n",
            "t: \"§2 ‖x‖ · y\"\nb: [é, ü]\nc: 1\n", "t: ‖x‖ # ü\nk: {a: ×}\n",
            "x: [[ü, 1], [ß, 2], {k: é, l: ü}, \"‖\", 3]\ny: [é,\n  ü, 1]\n", "é: 1\n",
        ]
        for text in accepted { XCTAssertTrue(check(text, "accepted"), "declined:\n\(text)") }
        let declined = [
            "", "# only\n", "- a\n", "a\n", "  a: 1\n", "a: 1\na: 2\n", "a:\nb: 1\n", "a: |\n  x\n",
            "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: \"x\\ty\"\n", "a: 'it''s'\n", "a: [1, 2,]\n", "a: [1,, 2]\n",
            "a: {b: 1, b: 2}\n", "a: [1, 2\n", "a: [1,\n2]\n", "a: x\n  y\n", "a:\n  - b: 1\n", "a:\t1\n",
            "a: 1\r\n", "---\na: 1\n", "%YAML 1.1\n---\na: 1\n", "a: [x: 1]\n", "a: ? x\n",
            "a: {b}\n", "a: 1 # c\n b: 2\n", "a: [a#b]\n", "a: [a:b]\n", "a: \"x\"y\n",
            "a: \"x\ny\"\n", "\"a\n b\": 1\n", "a: \"x\n---\"\n", "a: x\u{85}y\n", "a: x\u{2028}y\n",
            "\u{FEFF}a: 1\n", "a: \u{1}\n", "a: \"unterminated\n",
        ]
        for text in declined {
            XCTAssertNil(
                FastComposer.compose(text, maxDepth: 64, maxScalars: 1_000_000).map(Self.dump),
                "read:\n\(text)")
        }
        // The limits: deeper nesting or more scalars than allowed are left to the general path's errors.
        XCTAssertNil(FastComposer.compose("a: [[[1]]]\n", maxDepth: 3, maxScalars: 100).map(Self.dump))
        XCTAssertTrue(check("a: [[[1]]]\n", "depth", maxDepth: 5))
        XCTAssertNil(FastComposer.compose("a: [1, 2, 3]\n", maxDepth: 64, maxScalars: 3).map(Self.dump))
        // Long lists are the general path's to pack.
        let long = "a: [" + (0..<64).map(String.init).joined(separator: ", ") + "]\n"
        XCTAssertNil(FastComposer.compose(long, maxDepth: 64, maxScalars: 1_000_000).map(Self.dump))
    }

    /// A long line outside ASCII is read in linear time: each mark's column counts on from the last one
    /// on its line, so the bytes counted are at most the text's (counting from the line's start for
    /// each mark counts about 10⁸ here, and took 47 s for a 655 KB line of 216,000 numbers in a release
    /// build).
    @Test func testALongLineOutsideASCIIIsReadInLinearTime() throws {
        let inner = "[" + Array(repeating: "1", count: 20).joined(separator: ", ") + "]"
        let middle = "[" + Array(repeating: inner, count: 20).joined(separator: ", ") + "]"
        let outer = "[" + Array(repeating: middle, count: 20).joined(separator: ", ") + "]"
        let text = "t: é\nx: " + outer + "\n"
        let (composed, columnBytes) = FastComposer.composeCounting(text, maxDepth: 64, maxScalars: 1_000_000)
        let root = try XCTUnwrap(composed)
        XCTAssertLessThanOrEqual(columnBytes, text.utf8.count, "columns were counted from the line's start again")
        // The last scalar's column: characters, not bytes (é is two bytes on line 1, none on line 2).
        let last = try XCTUnwrap(root["x"]?.sequence?.last?.sequence?.last?.sequence?.last)
        XCTAssertEqual(last.mark?.line, 2)
        XCTAssertEqual(last.mark?.column, text.split(separator: "\n")[1].count - 3)
    }

    /// Seeded mutations of case files (a character inserted, deleted or replaced from YAML's
    /// punctuation): whatever the fast composer reads, Yams reads the same.
    @Test func testMutatedFilesAreReadAsYamsReadsThemOrDeclined() {
        let sources =
            Self.texts(under: repositoryRoot.appendingPathComponent("cases")).prefix(60).map(\.1)
            + BenchSuite.cases(count: 12).map(\.text)
        let alphabet = Array(" \n:-,[]{}#'\"&*!|>?%@`\\x1.e".utf8)
        var stream = SeededStream(seed: 0xFA57_C0DE)
        var read = 0
        let count = fullTests ? 20_000 : 1_000
        for k in 0..<count {
            let mutant = Self.mutant(of: sources[k % sources.count], edits: 3, alphabet, &stream)
            if check(mutant, "mutant \(k)") { read += 1 }
        }
        XCTAssertGreaterThan(read, count / 10, "most mutants should still be in the subset")
    }
}
