import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Runs the built `rnnspec` binary over a temporary copy of the repository's suite.
@Suite final class EndToEndTests {
    /// Directories removed when the test ends (Swift Testing makes one instance per test).
    var removedAtTheEnd: [URL] = []
    deinit { for dir in removedAtTheEnd { try? FileManager.default.removeItem(at: dir) } }

    var binary: URL { rnnspecBinary }

    func rnnspec(_ args: [String], in dir: URL, ci: Bool = false) throws -> CommandOutput {
        try runRNNSpec(args, in: dir, environment: ["CI": ci ? "true" : nil])
    }

    func copyOfSuite() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // The seeds' folders: enough for the command-line behaviour; SuiteTests runs every case.
        try copyQuickSeedSuite(to: dir)
        removedAtTheEnd.append(dir)
        return dir
    }

    @Test func testStaleNewAndRegenByteForByte() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("no rnnspec binary at \(binary.path)")
        }
        let dir = try copyOfSuite()
        let clean = try rnnspec(["run", "cases/"], in: dir, ci: true)
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)
        XCTAssertTrue(clean.stdout.contains(" passed, 0 failed\n"))

        // A changed case goes STALE.
        let caseURL = dir.appendingPathComponent("cases/exercises/ex01_rnn_update.yaml")
        let original = try String(contentsOf: caseURL, encoding: .utf8)
        try original.replacingOccurrences(of: "h_prev: [0.5, 0.0]", with: "h_prev: [0.5, 0.25]").write(
            to: caseURL, atomically: true, encoding: .utf8)
        let stale = try rnnspec(["run"], in: dir, ci: true)
        XCTAssertEqual(stale.status, 1)
        XCTAssertTrue(stale.stdout.contains("STALE: exercises/ex01_rnn_update ("), stale.stdout)
        try original.write(to: caseURL, atomically: true, encoding: .utf8)

        // A deleted golden is NEW and fails under CI=true; --record is refused there.
        let goldenURL = dir.appendingPathComponent("golden/exercises/ex04_clip_to_norm_5.yaml")
        let blessed = try Data(contentsOf: goldenURL)
        try FileManager.default.removeItem(at: goldenURL)
        let new = try rnnspec(["run"], in: dir, ci: true)
        XCTAssertEqual(new.status, 1)
        XCTAssertTrue(new.stdout.contains("NEW: exercises/ex04_clip_to_norm_5 ("), new.stdout)
        let refused = try rnnspec(["run", "--record", "missing"], in: dir, ci: true)
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(
            refused.stderr,
            "rnnspec: error: CI=true is set, and `run --record missing` writes files; a CI run only checks the suite (unset CI to write)\n"
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: goldenURL.path))

        // regen restores it byte for byte, and touches nothing else.
        let regen = try rnnspec(["regen", "cases/exercises"], in: dir)
        XCTAssertEqual(regen.status, 0, regen.stdout + regen.stderr)
        XCTAssertTrue(
            regen.stdout.hasSuffix("1 golden written\n  wrote golden/exercises/ex04_clip_to_norm_5.yaml\n"),
            regen.stdout)
        XCTAssertEqual(try Data(contentsOf: goldenURL), blessed)
        XCTAssertEqual(try rnnspec(["run"], in: dir, ci: true).status, 0)
    }

    @Test func testUsageErrorsExitTwoAndReportsAreWritten() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no rnnspec binary") }
        let dir = try copyOfSuite()
        XCTAssertEqual(try rnnspec(["run", "--jobs", "0"], in: dir).status, 2)
        XCTAssertEqual(try rnnspec(["run", "--shard", "3/2"], in: dir).status, 2)
        let outside = try rnnspec(["run", "/"], in: dir)
        XCTAssertEqual(outside.status, 2)
        XCTAssertEqual(
            outside.stderr,
            "rnnspec: error: / is outside the cases root cases/; cases must live under it (or set --cases-root)\n")
        XCTAssertEqual(
            try rnnspec(["kernels", "rnn.stpe"], in: dir).stderr,
            "rnnspec: error: unknown kernel 'rnn.stpe'; did you mean 'rnn.step'?\n")

        let run = try rnnspec(
            ["run", "--format", "json", "--output", "r.json", "--junit", "r.xml", "--jobs", "1"], in: dir, ci: true)
        XCTAssertEqual(run.status, 0, run.stdout)
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("r.json")))
            as? [String: Any]
        XCTAssertEqual(json?["failed"] as? Int, 0)
        XCTAssertGreaterThan((json?["cases"] as? [Any])?.count ?? 0, 2)
        let xml = try String(contentsOf: dir.appendingPathComponent("r.xml"), encoding: .utf8)
        XCTAssertTrue(xml.contains("<testsuite name=\"rnnspec\""))
    }

    @Test func testNewWritesACaseThatRunsAndKernelsDescribesIt() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no rnnspec binary") }
        let dir = try copyOfSuite()
        let new = try rnnspec(["new", "rnn.step", "mine/first"], in: dir)
        XCTAssertEqual(new.status, 0, new.stderr)
        XCTAssertEqual(
            new.stdout,
            "wrote cases/mine/first.yaml\nnext: edit its values, then `rnnspec regen cases/mine/first.yaml` and review the golden it writes\n"
        )
        XCTAssertEqual(try rnnspec(["new", "rnn.step", "mine/first"], in: dir).status, 2, "never overwrites")
        XCTAssertEqual(try rnnspec(["regen", "cases/mine/first.yaml"], in: dir).status, 0)
        XCTAssertEqual(try rnnspec(["check"], in: dir).status, 0)
        let kernels = try rnnspec(["kernels", "rnn.step"], in: dir)
        XCTAssertTrue(kernels.stdout.hasPrefix("rnn.step: One Elman RNN step"), kernels.stdout)
        XCTAssertTrue(kernels.stdout.contains("  W_hh: [H, H] — hidden-to-hidden weights\n"), kernels.stdout)
    }
}
