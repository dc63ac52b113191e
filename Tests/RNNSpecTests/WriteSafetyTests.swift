import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// Goldens under interrupted and concurrent `rnnspec regen` processes: every golden is always
/// one whole version, never a mixture or a prefix.
@Suite final class WriteSafetyTests {
    /// Directories removed when the test ends (Swift Testing makes one instance per test).
    var removedAtTheEnd: [URL] = []
    deinit { for dir in removedAtTheEnd { try? FileManager.default.removeItem(at: dir) } }

    var binary: URL { rnnspecBinary }

    /// A copy of the repository's suite whose goldens differ from what regen writes (an extra
    /// comment line), so that `regen --all` rewrites every one of them.
    struct Suite {
        var dir: URL
        /// Golden path (relative to `golden/`) → the old and the new bytes.
        var versions: [String: (old: Data, new: Data)]

        func resetToOld() throws {
            for (path, v) in versions { try v.old.write(to: dir.appendingPathComponent("golden/" + path)) }
        }
    }

    func makeSuite() throws -> Suite {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-writes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        removedAtTheEnd.append(dir)
        // The suite's quick folders (about a hundred cases; gradient and training cases take seconds),
        // so that many interrupted runs fit in a few seconds.
        try copyQuickSeedSuite(to: dir)
        var versions: [String: (Data, Data)] = [:]
        let goldenRoot = dir.appendingPathComponent("golden")
        for id in GoldenStore(root: goldenRoot).allIDs() {
            let new = try Data(contentsOf: goldenRoot.appendingPathComponent(id + ".yaml"))
            versions[id + ".yaml"] = (Data("# an older golden of this case\n".utf8) + new, new)
        }
        XCTAssertGreaterThan(versions.count, 50, "the suite should have many cases")
        let suite = Suite(dir: dir, versions: versions)
        try suite.resetToOld()
        return suite
    }

    func start(_ args: [String], in dir: URL) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        process.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["CI"] = nil
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Every golden is the old or the new file, whole, and parses; nothing else is listed as a
    /// golden. Returns how many are new.
    @discardableResult
    func checkGoldens(_ suite: Suite, _ context: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> Int
    {
        let store = GoldenStore(root: suite.dir.appendingPathComponent("golden"))
        XCTAssertEqual(
            Set(store.allIDs().map { $0 + ".yaml" }), Set(suite.versions.keys), "\(context): the goldens listed",
            file: file, line: line)
        var newCount = 0
        for (path, v) in suite.versions {
            let data = try Data(contentsOf: suite.dir.appendingPathComponent("golden/" + path))
            if data == v.new {
                newCount += 1
            } else {
                XCTAssertEqual(
                    data, v.old, "\(context): \(path) is neither the old nor the new golden (\(data.count) bytes)",
                    file: file, line: line)
            }
            let id = String(path.dropLast(5))
            XCTAssertNoThrow(try store.read(id), "\(context): \(path) does not parse", file: file, line: line)
        }
        return newCount
    }

    func temporaries(_ suite: Suite) -> [String] {
        FileManager.default.enumerator(atPath: suite.dir.appendingPathComponent("golden").path)!
            .compactMap { $0 as? String }.filter { $0.contains(".tmp-") }
    }

    @Test func testSIGKILLAtRandomPointsLeavesEveryGoldenWhole() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("no rnnspec binary at \(binary.path)")
        }
        let suite = try makeSuite()
        // How long an uninterrupted regen takes here.
        let t0 = Date()
        let full = try start(["regen", "--all"], in: suite.dir)
        full.waitUntilExit()
        let duration = Date().timeIntervalSince(t0)
        XCTAssertEqual(full.terminationStatus, 0)
        XCTAssertEqual(try checkGoldens(suite, "uninterrupted"), suite.versions.count)

        // Kill delays from a seeded stream (printed on failure through `context`): the delays repeat
        // from run to run, though where they land still depends on the machine's speed.
        var generator = SeededStream(seed: 0x5EED_0B17)
        var outcomes: [String] = []
        // At least 6 kills whatever the machine's load (10 with RNNSPEC_FULL_TESTS=1); more while the
        // budget lasts (2 s, up to 20 kills; 10 s and up to 40 kills in the full form).
        let deadline = Date().addingTimeInterval(fullTests ? 10 : 2)
        var runs = 0
        while runs < (fullTests ? 10 : 6) || (runs < (fullTests ? 40 : 20) && Date() < deadline) {
            runs += 1
            try suite.resetToOld()
            let delay = Double.random(in: 0...(duration * 1.1), using: &generator)
            let process = try start(["regen", "--all"], in: suite.dir)
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let context = "run \(runs), killed after \(Int(delay * 1000)) ms"
            let newCount = try checkGoldens(suite, context)
            outcomes.append(
                "\(Int(delay * 1000))ms:\(newCount)"
                    + (temporaries(suite).isEmpty ? "" : "+\(temporaries(suite).count)tmp"))
            // The next regen finishes the job, whatever the killed one left behind.
            if runs % 3 == 0 {
                let finish = try start(["regen", "--all"], in: suite.dir)
                finish.waitUntilExit()
                XCTAssertEqual(finish.terminationStatus, 0, context)
                XCTAssertEqual(try checkGoldens(suite, context + ", then regen"), suite.versions.count)
                XCTAssertEqual(
                    temporaries(suite), [], context + ": regen removes the temporary files of killed writers")
            }
        }
        print("SIGKILL runs (delay:new goldens of \(suite.versions.count)): " + outcomes.joined(separator: " "))
    }

    @Test func testConcurrentRegensLeaveEveryGoldenValid() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("no rnnspec binary at \(binary.path)")
        }
        let suite = try makeSuite()
        for round in 1...3 {
            try suite.resetToOld()
            let a = try start(["regen", "--all"], in: suite.dir)
            let b = try start(["regen", "--all", "--jobs", "1"], in: suite.dir)
            a.waitUntilExit()
            b.waitUntilExit()
            XCTAssertEqual(a.terminationStatus, 0, "round \(round)")
            XCTAssertEqual(b.terminationStatus, 0, "round \(round)")
            XCTAssertEqual(try checkGoldens(suite, "round \(round)"), suite.versions.count)
            // No temporary file is left behind by processes that finished.
            XCTAssertEqual(temporaries(suite), [], "round \(round)")
        }
    }
}

/// A golden that cannot be written: a clear error naming the file, and the old golden intact.
/// Tests run as root on CI, where permissions are ignored, so the failures are made otherwise.
@Suite final class FailedWriteTests {
    @Test func testGoldenDirectoryPathIsAFile() throws {
        let p = try TempProject()
        try p.writeCase("deep/c", simpleStepCase)
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("golden"), withIntermediateDirectories: true)
        try Data("not a directory\n".utf8).write(to: p.root.appendingPathComponent("golden/deep"))
        let r = try p.result("deep/c", record: .all)
        XCTAssertEqual(r.status, .new)
        XCTAssertEqual(r.recording?.action, .refused)
        XCTAssertEqual(
            r.recording?.notes,
            [
                "golden/deep/c.yaml: error: cannot create the directory for the golden: golden/deep is a file, not a directory; nothing was written"
            ])
        XCTAssertEqual(
            try String(contentsOf: p.root.appendingPathComponent("golden/deep"), encoding: .utf8), "not a directory\n")
    }

    @Test func testGoldenPathIsADirectory() throws {
        let p = try TempProject()
        try p.writeCase("c", simpleStepCase)
        try FileManager.default.createDirectory(
            at: p.goldenURL("c").appendingPathComponent("keep"), withIntermediateDirectories: true)
        let r = try p.result("c", record: .all)
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertEqual(
            "\(r.error!)",
            "golden/c.yaml: error: the golden path is a directory, not a file; move it away and `rnnspec regen` writes the golden"
        )
        XCTAssertEqual(
            r.recording?.notes,
            ["golden/c.yaml: error: cannot write the golden: Is a directory; the old file is unchanged"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: p.goldenURL("c").appendingPathComponent("keep").path))
    }

    /// A full disk, imitated by a file-size limit of 0 (`ulimit -f 0`): every write fails with EFBIG.
    @Test func testFullDiskKeepsTheOldGolden() throws {
        let binary = rnnspecBinary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("no rnnspec binary at \(binary.path)")
        }
        let p = try TempProject()
        try p.writeCase("c", simpleStepCase)
        _ = try p.run(record: .all)
        let old = try Data(contentsOf: p.goldenURL("c"))
        try p.writeCase("c", simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.25"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f 0 && exec \"$0\" regen --all", binary.path]
        process.currentDirectoryURL = p.root
        var env = ProcessInfo.processInfo.environment
        env["CI"] = nil  // regen refuses under CI=true, which CI sets
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "not killed by SIGXFSZ")
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertTrue(
            stdout.contains(
                """
                  golden not written
                    golden/c.yaml: error: cannot write the golden: File too large; the old file is unchanged

                """), stdout)
        XCTAssertTrue(stdout.hasSuffix("0 goldens written\n"), stdout)
        XCTAssertEqual(try Data(contentsOf: p.goldenURL("c")), old)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: p.root.appendingPathComponent("golden").path),
            ["c.yaml"], "no temporary file is left")
    }
}
