import Foundation
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecCLI

/// `prune` deletes only goldens rnnspec wrote, and lists everything else it leaves.
@Suite final class PruneTests {
    final class Lines: @unchecked Sendable {
        var text = ""
        let lock = NSLock()
        func add(_ s: String) { lock.lock(); text += s; lock.unlock() }
    }

    func prune(_ p: TempProject, dryRun: Bool) throws -> (RNNSpecCLI.ExitStatus, String) {
        let lines = Lines()
        let front = FrontEnd(project: p.project, environment: [:], stdout: { lines.add($0) }, stderr: { lines.add($0) })
        let status = try front.prune(dryRun: dryRun)
        return (status, lines.text)
    }

    @Test func testPruneDeletesOnlyGoldensRNNSpecWroteAndLeavesTheRest() throws {
        let p = try TempProject()
        try p.writeCase("keep", simpleStepCase)
        try p.writeCase("gone", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.removeItem(at: p.root.appendingPathComponent("cases/gone.yaml"))
        let golden = p.root.appendingPathComponent("golden")
        // Not goldens: a case file someone put here, notes, a link to outside, a FIFO, an
        // empty file, a file whose first line is the header but with no format line.
        try simpleStepCase.write(to: golden.appendingPathComponent("a_case.yaml"), atomically: true, encoding: .utf8)
        try Data("# notes\n".utf8).write(to: golden.appendingPathComponent("notes.yaml"))
        try Data().write(to: golden.appendingPathComponent("empty.yaml"))
        try Data((GoldenStore.headerPrefix + "x\nnot the format\n").utf8).write(
            to: golden.appendingPathComponent("forged.yaml"))
        let outside = p.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: p.goldenURL("keep"), to: outside.appendingPathComponent("orphan.yaml"))
        try FileManager.default.createSymbolicLink(
            at: golden.appendingPathComponent("link.yaml"),
            withDestinationURL: outside.appendingPathComponent("orphan.yaml"))
        try FileManager.default.createSymbolicLink(
            at: golden.appendingPathComponent("dir"), withDestinationURL: outside)
        XCTAssertEqual(mkfifo(golden.appendingPathComponent("fifo.yaml").path, 0o644), 0)
        let before = snapshot(p.root)

        let (dryStatus, dry) = try prune(p, dryRun: true)
        XCTAssertEqual(dryStatus, .success)
        XCTAssertEqual(snapshot(p.root), before, "a dry run deletes nothing")
        let expectedLeft = """
            golden/a_case.yaml: not an rnnspec golden, left alone
            golden/empty.yaml: not an rnnspec golden, left alone
            golden/fifo.yaml: a FIFO (named pipe), left alone
            golden/forged.yaml: not an rnnspec golden, left alone
            golden/link.yaml: a symbolic link, left alone
            golden/notes.yaml: not an rnnspec golden, left alone

            """
        XCTAssertEqual(
            dry,
            "would delete golden/gone.yaml\n" + expectedLeft + "1 golden file with no case; 6 other files left alone\n")

        let (status, out) = try prune(p, dryRun: false)
        XCTAssertEqual(status, .success)
        XCTAssertEqual(
            out,
            "deleted golden/gone.yaml\n" + expectedLeft
                + "1 golden file with no case deleted; 6 other files left alone\n")
        var after = before
        after["golden/gone.yaml"] = nil
        XCTAssertEqual(snapshot(p.root), after, "only the orphan golden went")
    }

    @Test func testPruneListsNamesWithLineBreaksOnOneLine() throws {
        let p = try TempProject()
        try p.writeCase("keep", simpleStepCase)
        try p.writeCase("x\nPASS: forged", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.removeItem(at: p.root.appendingPathComponent("cases/x\nPASS: forged.yaml"))
        let (_, out) = try prune(p, dryRun: false)
        XCTAssertEqual(out, "deleted golden/x\\nPASS: forged.yaml\n1 golden file with no case deleted\n")
        XCTAssertNil(p.golden("x\nPASS: forged"))
    }

    @Test func testNamesThatAreNotUTF8AreReportedNotGuessedAt() throws {
        let p = try TempProject()
        try p.writeCase("keep", simpleStepCase)
        _ = try p.run(record: .all)
        let golden = p.root.appendingPathComponent("golden").path
        let cases = p.root.appendingPathComponent("cases").path
        // Names with the byte 0xFF, made through the C API (Swift strings are always UTF-8).
        for (dir, text) in [(golden, try XCTUnwrap(p.golden("keep"))), (cases, simpleStepCase)] {
            var name = Array((dir + "/bad").utf8CString.dropLast()).map { UInt8(bitPattern: $0) }
            name += [0xFF] + Array(".yaml".utf8) + [0]
            let fd = name.withUnsafeBufferPointer {
                $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
            }
            XCTAssertGreaterThanOrEqual(fd, 0)
            _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress!, $0.count - 1) }
            close(fd)
        }
        let before = snapshot(p.root)
        let r = try XCTUnwrap(p.run().results.first { $0.id != "keep" })
        XCTAssertEqual(
            "\(r.error!)",
            "cases/bad\u{FFFD}.yaml: error: cannot read the file: its name is not valid UTF-8 (shown with \u{FFFD}), so rnnspec cannot open it by name: rename it"
        )
        let (_, out) = try prune(p, dryRun: false)
        XCTAssertEqual(
            out,
            "golden/bad\u{FFFD}.yaml: a name that is not valid UTF-8, left alone\n0 golden files with no case deleted; 1 other file left alone\n"
        )
        XCTAssertEqual(snapshot(p.root), before)
    }

    @Test func testPruneRefusesWhenTheCasesRootIsMissingOrEmpty() throws {
        let p = try TempProject()
        try p.writeCase("c", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.removeItem(at: p.root.appendingPathComponent("cases/c.yaml"))
        let before = snapshot(p.root)
        XCTAssertThrowsError(try prune(p, dryRun: false)) { error in
            XCTAssertEqual(
                "\(error)",
                "error: there are no case files under the cases root cases/, so every golden would be deleted; refusing (check --cases-root or `cases:` in rnnspec.yaml)"
            )
        }
        try FileManager.default.removeItem(at: p.root.appendingPathComponent("cases"))
        XCTAssertThrowsError(try prune(p, dryRun: false)) { error in
            XCTAssertTrue("\(error)".hasPrefix("error: the cases root cases/ does not exist"), "\(error)")
        }
        var after = before
        after["cases/"] = nil
        XCTAssertEqual(snapshot(p.root), after)
    }
}

/// Case ids are compared by their Unicode scalars: two files are never one case.
@Suite final class ExactIdTests {
    let composed = "caf\u{E9}"
    let decomposed = "cafe\u{301}"

    @Test func testComposedAndDecomposedNamesAreAUsageErrorNamingBoth() throws {
        XCTAssertEqual(composed, decomposed, "Swift's String equality merges them")
        let p = try TempProject()
        try p.writeCase(composed, simpleStepCase)
        try p.writeCase(decomposed, simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.25"))
        try p.writeCase("other", simpleStepCase)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: p.root.appendingPathComponent("cases").path).count, 3,
            "two files on disk")
        XCTAssertThrowsError(try p.run()) { error in
            XCTAssertEqual(
                "\(error)",
                "error: cases/\(decomposed).yaml (cases/cafe\\u{301}.yaml) and cases/\(composed).yaml (cases/caf\\u{E9}.yaml) are 2 case files whose names differ only in Unicode normalisation (composed and decomposed accents); rnnspec gives each file its own id and will not confuse them: rename all but one"
            )
        }
        // Selecting only other files is fine.
        XCTAssertEqual(try p.run([p.root.appendingPathComponent("cases/other.yaml").path]).results.map(\.id), ["other"])
    }

    @Test func testAGoldenSpelledDifferentlyFromItsCaseIsNotItsGolden() throws {
        let p = try TempProject()
        try p.writeCase(composed, simpleStepCase)
        _ = try p.run(record: .all)
        // Rename the golden to the decomposed spelling: it is no longer this case's golden.
        try FileManager.default.moveItem(at: p.goldenURL(composed), to: p.goldenURL(decomposed))
        let r = try p.run()
        XCTAssertEqual(r.results.map(\.status), [.new])
        XCTAssertEqual(r.orphanGoldens.map { $0.unicodeScalars.map(\.value) }, [decomposed.unicodeScalars.map(\.value)])
        XCTAssertEqual(try p.project.prune(dryRun: false), ["golden/\(decomposed).yaml"])
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: p.root.appendingPathComponent("golden").path), [])
    }
}

/// No command but `new` writes a case file, and `new` never overwrites.
@Suite final class CaseWriteTests {
    @Test func testNewRefusesExistingFilesLinksAndPathsOutsideTheRoot() throws {
        let p = try TempProject()
        try p.writeCase("exists", simpleStepCase)
        let outside = p.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("mine\n".utf8).write(to: outside.appendingPathComponent("target.yaml"))
        try FileManager.default.createSymbolicLink(
            at: p.root.appendingPathComponent("cases/link.yaml"),
            withDestinationURL: outside.appendingPathComponent("target.yaml"))
        try FileManager.default.createSymbolicLink(
            at: p.root.appendingPathComponent("cases/dangling.yaml"),
            withDestinationURL: outside.appendingPathComponent("new.yaml"))
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("cases/dir.yaml"), withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(p.root.appendingPathComponent("cases/fifo.yaml").path, 0o644), 0)
        let before = snapshot(p.root)
        let spec = try XCTUnwrap(KernelRegistry.standard.kernel(named: "rnn.step")).spec
        for (path, message) in [
            ("exists", "error: cases/exists.yaml exists already; rnnspec new never overwrites a case"),
            ("cases/exists.yaml", "error: cases/exists.yaml exists already; rnnspec new never overwrites a case"),
            ("link", "error: cases/link.yaml exists already as a symbolic link; rnnspec new never overwrites a case"),
            (
                "dangling",
                "error: cases/dangling.yaml exists already as a symbolic link; rnnspec new never overwrites a case"
            ),
            ("dir", "error: cases/dir.yaml exists already as a directory; rnnspec new never overwrites a case"),
            (
                "fifo",
                "error: cases/fifo.yaml exists already as a FIFO (named pipe); rnnspec new never overwrites a case"
            ),
            ("../outside/x", "error: ../outside/x.yaml leaves the cases root cases/"),
            (
                outside.appendingPathComponent("y").path,
                "error: \(outside.path)/y.yaml is outside the cases root cases/; give a path under it"
            ),
        ] {
            XCTAssertThrowsError(try p.project.writeSkeleton(kernel: spec, path: path), path) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
        XCTAssertEqual(snapshot(p.root), before)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: outside.appendingPathComponent("new.yaml").path),
            "not created through the dangling link")
        // And a fresh name is written, whole.
        let url = try p.project.writeSkeleton(kernel: spec, path: "fresh/one")
        XCTAssertEqual(
            try String(contentsOf: url, encoding: .utf8),
            CaseSchema.modeline(forCaseAt: "fresh/one.yaml") + spec.skeleton())
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: p.root.appendingPathComponent("cases/fresh").path),
            ["one.yaml"], "no temporary left")
    }

    @Test func testAGoldenHardLinkedToACaseFileIsReplacedNotWrittenThrough() throws {
        let p = try TempProject()
        let caseURL = try p.writeCase("c", simpleStepCase)
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("golden"), withIntermediateDirectories: true)
        XCTAssertEqual(link(caseURL.path, p.goldenURL("c").path), 0)
        let before = try Data(contentsOf: caseURL)
        XCTAssertEqual(try p.result("c").status, .unresolved, "a case file is not a golden")
        XCTAssertEqual(try p.result("c", record: .failed).recording?.action, .rewritten)
        XCTAssertEqual(
            try Data(contentsOf: caseURL), before, "the rename replaced the golden's name; the case file is untouched")
        XCTAssertEqual(try p.result("c").status, .pass)
    }

    @Test func testNoOtherCommandWritesACaseFile() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let s = try Sandbox()
        // A case whose golden is stale and one with none: every writing path is exercised.
        try s.project.writeCase("a", simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.75"))
        try s.project.writeCase("fresh", simpleStepCase)
        let cases = s.top.appendingPathComponent("cases")
        let before = snapshot(cases)
        for args in [
            ["run"], ["run", "--record", "all"], ["regen", "--all"], ["regen"], ["check"], ["prune"],
            ["prune", "--dry-run"],
            ["regen", "--golden-root", "cases"], ["regen", "--golden-root", "cases/sub"],
            ["prune", "--golden-root", "."],
        ] {
            _ = try runBinary(args, in: s.top)
            XCTAssertEqual(snapshot(cases), before, "\(args) changed a case file")
        }
        // Nor does a report land on a case file or a golden.
        let goldens = snapshot(s.top.appendingPathComponent("golden"))
        for (args, expected) in [
            (
                ["run", "--junit", "cases/a.yaml"],
                "rnnspec: error: cases/a.yaml is under the cases root cases/; reports are written elsewhere (rnnspec never writes a report over a case file)\n"
            ),
            (
                ["run", "--format", "json", "--output", "./cases/sub/new.json"],
                "rnnspec: error: ./cases/sub/new.json is under the cases root cases/; reports are written elsewhere (rnnspec never writes a report over a case file)\n"
            ),
            (
                ["run", "--junit", "golden/a.yaml"],
                "rnnspec: error: golden/a.yaml is under the golden root golden/; reports are written elsewhere (rnnspec never writes a report over a golden file)\n"
            ),
        ] {
            let r = try runBinary(args, in: s.top)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertEqual(r.stderr, expected)
        }
        XCTAssertEqual(snapshot(cases), before)
        XCTAssertEqual(snapshot(s.top.appendingPathComponent("golden")), goldens)
    }
}
