import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Paths that try to leave the cases root or the golden root.
@Suite final class PathSafetyTests {
    /// The byte-order comparison that sorts case files agrees with the standard library's on UTF-8 bytes,
    /// also where String's own order does not (NFD against NFC, a prefix, bytes above 0x7F, empty strings).
    @Test func testUTF8PrecedesIsTheOrderOfTheBytes() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["", "a", "b", "ab", "a/b", "Z", "é", "e\u{301}", "\u{301}", "日本", "😀", "/", ".yaml", "z\u{0}"]
        var strings = pieces
        for _ in 0..<400 {
            strings.append(
                (0..<Int.random(in: 0...4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined())
        }
        // A bridged or substring-backed string takes the same path.
        strings.append(String(Substring("xé/ab".dropFirst())))
        // A failure names the pair, so that it can be replayed without the random strings.
        var disagreements: [String] = []
        for a in strings {
            for b in strings where utf8Precedes(a, b) != a.utf8.lexicographicallyPrecedes(b.utf8) {
                disagreements.append("\(Array(a.utf8)) vs \(Array(b.utf8))")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(3))")
        // NFD "é" is canonically equal to NFC "é" (so not `<` it), but its bytes come first.
        #expect(utf8Precedes("e\u{301}", "é") && !("e\u{301}" < "é") && !utf8Precedes("é", "e\u{301}"))
        #expect(utf8Precedes("a", "ab") && !utf8Precedes("ab", "a") && !utf8Precedes("a", "a"))
        #expect(utf8Precedes("Z", "a") && utf8Precedes("z", "é") && utf8Precedes("", "a"))
    }

    func rnnspec(_ args: [String], in dir: URL) throws -> CommandOutput { try runRNNSpec(args, in: dir) }

    @Test func testDotDotArgumentsEscapingTheCasesRootAreRefused() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let p = try TempProject()
        try p.writeCase("c", simpleStepCase)
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("elsewhere"), withIntermediateDirectories: true)
        try simpleStepCase.write(
            to: p.root.appendingPathComponent("elsewhere/x.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            at: p.root.appendingPathComponent("cases/link"),
            withDestinationURL: p.root.appendingPathComponent("elsewhere"))
        let root = p.root.standardizedFileURL.path
        for (command, argument, expected) in [
            (
                "regen", "cases/../elsewhere",
                "cases/../elsewhere (which resolves to elsewhere) is outside the cases root cases/"
            ),
            (
                "run", "cases/../elsewhere/x.yaml",
                "cases/../elsewhere/x.yaml (which resolves to elsewhere/x.yaml) is outside the cases root cases/"
            ),
            ("regen", "cases/..", "cases/.. (which resolves to \(root)) is outside the cases root cases/"),
            (
                "check", "cases/../..",
                "cases/../.. (which resolves to \(p.root.deletingLastPathComponent().standardizedFileURL.path)) is outside the cases root cases/"
            ),
            ("regen", "cases/link", "cases/link (which resolves to elsewhere) is outside the cases root cases/"),
        ] {
            let r = try rnnspec([command, argument], in: p.root)
            XCTAssertEqual(r.status, 2, "\(command) \(argument)")
            XCTAssertEqual(r.stderr, "rnnspec: error: \(expected); cases must live under it (or set --cases-root)\n")
            XCTAssertEqual(r.stdout, "")
        }
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: p.root.appendingPathComponent("golden").path), "nothing was written")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: p.root.appendingPathComponent("elsewhere").path),
            ["x.yaml"])
    }

    @Test func testASymbolicLinkInsideTheGoldenRootIsNotWrittenThrough() throws {
        let p = try TempProject()
        try p.writeCase("sub/c", simpleStepCase)
        let outside = p.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("golden"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: p.root.appendingPathComponent("golden/sub"), withDestinationURL: outside)
        let r = try p.result("sub/c", record: .all)
        // Neither read nor written through the link: the link is named, nothing beyond it is touched.
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertEqual(
            r.error.map { "\($0)" },
            "golden/sub/c.yaml: error: golden/sub is a symbolic link (to \(outside.path)); rnnspec does not follow links under the golden root, so the golden is not read through it"
        )
        XCTAssertEqual(
            r.recording?.notes,
            [
                "golden/sub/c.yaml: error: cannot write the golden: golden/sub is a symbolic link (to \(outside.path)); rnnspec neither follows nor replaces links under the golden root; nothing was written"
            ])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [])
    }

    @Test func testCaseIdsWithOddCharactersStayInsideTheGoldenRootAndRoundTrip() throws {
        let p = try TempProject()
        let names = [
            "a b", "ü", "x\ny", "line\u{2028}sep", "nel\u{85}x", "#h", "-x", "*", "'q", "\"d", "&a", "[b]", "x: 1",
            "tab\tx", "back\\slash", "sub/x..y", "sub/dir.yaml.d/z", "{c}",
        ]
        for name in names { try p.writeCase(name, simpleStepCase) }
        let recorded = try p.run(record: .all)
        XCTAssertEqual(
            recorded.results.map(\.status), Array(repeating: .pass, count: names.count),
            recorded.results.map { "\($0.id): \($0.error.map { "\($0)" } ?? "")" }.joined(separator: "\n"))
        let again = try p.run()
        XCTAssertEqual(
            again.failed, 0,
            again.results.filter { !$0.status.isSuccess }.map { "\($0.id): \($0.error.map { "\($0)" } ?? "")" }.joined(
                separator: "\n"))
        // Every file under the project is a case or its golden; nothing else was written.
        var files: [String] = []
        let e = FileManager.default.enumerator(at: p.root, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in e
        where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            files.append(relativeID(of: url, under: p.root))
        }
        let expected = names.flatMap { ["cases/\($0)", "golden/\($0)"] }
        XCTAssertEqual(Set(files), Set(expected))
        XCTAssertEqual(files.count, expected.count)
        XCTAssertTrue(
            p.golden("x\ny")!.hasPrefix(
                "# Golden file written by rnnspec; do not edit. Regenerate: rnnspec regen \"x\\ny\"\nformat: 2\ncase: \"x\\ny\"\n"
            ), p.golden("x\ny")!)
    }

    @Test func testNewRefusesToWriteThroughALinkOutOfTheRoot() throws {
        let p = try TempProject()
        let outside = p.root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: p.root.appendingPathComponent("cases/link"), withDestinationURL: outside)
        let spec = try XCTUnwrap(KernelRegistry.standard.kernel(named: "rnn.step")).spec
        XCTAssertThrowsError(try p.project.writeSkeleton(kernel: spec, path: "cases/link/new")) { error in
            XCTAssertEqual(
                "\(error)",
                "error: cases/link/new.yaml resolves (through a symbolic link) outside the cases root cases/; refusing to write it"
            )
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [])
    }
}
