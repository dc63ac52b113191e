import Foundation
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecCLI

@Suite final class RecordTests {
    @Test func testRecordModesWriteOnlyWhatTheyName() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        try p.writeCase("b", simpleStepCase)
        _ = try p.run(["cases/a.yaml"], record: .missing)
        XCTAssertNotNil(p.golden("a"))
        XCTAssertNil(p.golden("b"))
        // missing: leaves a stale golden alone.
        try p.writeCase("a", simpleStepCase.replacingOccurrences(of: "0.5, 0.0]", with: "0.25, 0.0]"))
        let staleBytes = p.golden("a")
        XCTAssertEqual(try p.run(["cases/a.yaml"], record: .missing).results.map(\.status), [.stale])
        XCTAssertEqual(p.golden("a"), staleBytes)
        // failed: rewrites stale and new ones.
        let report = try p.run(record: .failed)
        XCTAssertEqual(report.results.map(\.status), [.pass, .pass])
        XCTAssertEqual(report.results.map { $0.recording?.action }, [.rewritten, .created])
        XCTAssertNotEqual(p.golden("a"), staleBytes)
    }

    @Test func testPassingGoldensAreUntouchedAndRegenIsByteStable() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        _ = try p.run(record: .all)
        let before = try XCTUnwrap(p.golden("a"))
        let modified =
            try FileManager.default.attributesOfItem(atPath: p.goldenURL("a").path)[.modificationDate] as? Date
        let failed = try p.run(record: .failed)
        XCTAssertNil(failed.results[0].recording, "a passing golden is not touched by --record failed")
        let all = try p.run(record: .all)
        XCTAssertEqual(all.results[0].recording?.action, .unchanged)
        XCTAssertEqual(p.golden("a"), before)
        let after = try FileManager.default.attributesOfItem(atPath: p.goldenURL("a").path)[.modificationDate] as? Date
        XCTAssertEqual(modified, after)
    }

    @Test func testRegenReportsHowFarOutputsMoved() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        _ = try p.run(record: .all)
        let g = try XCTUnwrap(p.golden("a")).replacingOccurrences(of: "0.8482836399575129", with: "0.8482836399575127")
        try g.write(to: p.goldenURL("a"), atomically: true, encoding: .utf8)
        let within = try p.result("a", record: .failed)
        XCTAssertNil(within.recording, "a change within tolerance is not failing, so regen leaves it")
        let r = try p.result("a", record: .all)
        XCTAssertEqual(r.status, .pass)
        XCTAssertEqual(r.recording?.action, .rewritten)
        XCTAssertEqual(r.recording?.notes, ["h: moved by at most abs 2.22e-16, rel 2.62e-16", "a: unchanged"])
    }

    @Test func testCIModeRefusesEveryCommandThatWrites() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("golden"), withIntermediateDirectories: true)
        try "# Golden file written by rnnspec; do not edit.\nformat: 1\n".write(
            to: p.goldenURL("orphan"), atomically: true, encoding: .utf8)
        let output = OutputBox()
        let frontEnd = FrontEnd(
            project: p.project, environment: ["CI": "true"], stdout: output.append, stderr: output.append)
        var request = RunRequest()
        request.options.record = .all
        func refusal(_ body: () throws -> RNNSpecCLI.ExitStatus) -> String {
            do { _ = try body(); return "(no error)" } catch { return "\(error)" }
        }
        XCTAssertEqual(
            refusal { try frontEnd.run(request) },
            "error: CI=true is set, and `run --record all` writes files; a CI run only checks the suite (unset CI to write)"
        )
        XCTAssertEqual(
            refusal { try frontEnd.regen(paths: [], all: false, options: RunOptions()) },
            "error: CI=true is set, and `regen` writes files; a CI run only checks the suite (unset CI to write)")
        XCTAssertEqual(
            refusal { try frontEnd.new(kernel: "rnn.step", path: "cases/b.yaml") },
            "error: CI=true is set, and `new` writes files; a CI run only checks the suite (unset CI to write)")
        XCTAssertEqual(
            refusal { try frontEnd.prune(dryRun: false) },
            "error: CI=true is set, and `prune` (deleting goldens) writes files; a CI run only checks the suite (unset CI to write)"
        )
        XCTAssertNil(p.golden("a"))
        XCTAssertNotNil(p.golden("orphan"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: p.root.appendingPathComponent("cases/b.yaml").path))
        XCTAssertEqual(output.text, "", "nothing ran")
        // A run without --record, and prune --dry-run, write nothing and go ahead.
        XCTAssertEqual(try frontEnd.run(RunRequest()), .failures)
        XCTAssertTrue(output.text.contains("0 passed, 1 failed\n"), output.text)
        XCTAssertEqual(try frontEnd.prune(dryRun: true), .success)
    }

    @Test func testOrphanGoldensFailAWholeSuiteRunUnderCI() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        try p.writeCase("b", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.removeItem(at: p.root.appendingPathComponent("cases/b.yaml"))
        let output = OutputBox()
        let local = FrontEnd(project: p.project, environment: [:], stdout: output.append, stderr: output.append)
        XCTAssertEqual(try local.run(RunRequest()), .success, "outside CI an orphan is a note")
        XCTAssertTrue(
            output.text.contains("note: 1 golden file has no case (`rnnspec prune` deletes them):\n  b\n"), output.text)
        let ciOutput = OutputBox()
        let ci = FrontEnd(
            project: p.project, environment: ["CI": "true"], stdout: ciOutput.append, stderr: ciOutput.append)
        XCTAssertEqual(try ci.run(RunRequest()), .failures)
        XCTAssertTrue(
            ciOutput.text.hasSuffix(
                "error: CI=true: 1 golden file has no case; rename the case back or `rnnspec prune`\n"), ciOutput.text)
        var some = RunRequest()
        some.paths = [p.root.appendingPathComponent("cases/a.yaml").path]
        XCTAssertEqual(try ci.run(some), .success, "a run of part of the suite does not judge orphans")
    }

    @Test func testTagSelectionComesBeforeRecordingAndEveryWriteIsNamed() throws {
        let p = try TempProject()
        try p.writeCase("tagged", simpleStepCase + "tags: [keep]\n")
        try p.writeCase("other", simpleStepCase + "tags: [other]\n")
        try p.writeCase("untagged", simpleStepCase)
        let output = OutputBox()
        let frontEnd = FrontEnd(project: p.project, environment: [:], stdout: output.append, stderr: output.append)
        var options = RunOptions()
        options.tags = ["keep"]
        XCTAssertEqual(try frontEnd.regen(paths: [], all: false, options: options), .success)
        XCTAssertNotNil(p.golden("tagged"))
        XCTAssertNil(p.golden("other"), "regen --tag keep must not write a golden of a case without the tag")
        XCTAssertNil(p.golden("untagged"))
        XCTAssertTrue(output.text.hasSuffix("1 golden written\n  wrote golden/tagged.yaml\n"), output.text)

        // run --record failed --tag keeps to the tag as well, and says what it wrote.
        let output2 = OutputBox()
        var request = RunRequest()
        request.options.tags = ["other"]
        request.options.record = .failed
        let frontEnd2 = FrontEnd(project: p.project, environment: [:], stdout: output2.append, stderr: output2.append)
        XCTAssertEqual(try frontEnd2.run(request), .success)
        XCTAssertNotNil(p.golden("other"))
        XCTAssertNil(p.golden("untagged"))
        XCTAssertTrue(output2.text.hasSuffix("1 golden written\n  wrote golden/other.yaml\n"), output2.text)
    }

    @Test func testAtomicWriteLeavesNoTemporaryFilesAndReplacesWhole() throws {
        let p = try TempProject()
        try p.writeCase("deep/er/a", simpleStepCase)
        _ = try p.run(record: .all)
        let dir = p.root.appendingPathComponent("golden/deep/er")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.yaml"])
    }

    @Test func testReadOnlyGoldenDirectoryGivesAClearErrorAndKeepsTheOldFile() throws {
        guard getuid() != 0 else { throw XCTSkip("root ignores directory permissions") }
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        _ = try p.run(record: .all)
        let old = p.golden("a")
        try p.writeCase("a", simpleStepCase.replacingOccurrences(of: "0.5, 0.0]", with: "0.25, 0.0]"))
        let dir = p.root.appendingPathComponent("golden").path
        chmod(dir, 0o555)
        defer { chmod(dir, 0o755) }
        let r = try p.result("a", record: .failed)
        XCTAssertEqual(r.recording?.action, .refused)
        XCTAssertEqual(p.golden("a"), old)
    }
}

final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""
    var text: String { lock.lock(); defer { lock.unlock() }; return buffer }
    func append(_ s: String) { lock.lock(); buffer += s; lock.unlock() }
}
