import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }

/// Goldens and case files are read, written and deleted through one confined layer: no link
/// leads out of a root, nothing that is not a regular file is read, nothing blocks.
@Suite final class ConfinedFileTests {
    /// Runs `body` on another thread and fails (instead of hanging the suite) if it takes
    /// longer than `seconds`.
    func withinSeconds<T>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.result = Result { try body() }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success, let result = box.result else {
            XCTFail("\(what) took more than \(seconds) s (blocked?)")
            throw XCTSkip("blocked")
        }
        return try result.get()
    }

    @Test func testAGoldenLinkedToAnOutsideFileIsUnresolvedNamingTheLinkAndNeverQuotingIt() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let s = try Sandbox()
        let outsideFile = s.top.appendingPathComponent("outside/notes.yaml")
        try FileManager.default.removeItem(at: s.project.goldenURL("a"))
        try FileManager.default.createSymbolicLink(at: s.project.goldenURL("a"), withDestinationURL: outsideFile)
        let before = snapshot(s.top)
        let run = try runBinary(
            ["run", "--junit", "report.xml", "--format", "json", "--output", "report.json"], in: s.top)
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stdout.contains("UNRESOLVED: a ("), run.stdout)
        XCTAssertTrue(
            run.stdout.contains(
                "golden/a.yaml: error: the golden file is a symbolic link (to \(outsideFile.path)); rnnspec does not follow links under the golden root: remove it and `rnnspec regen` writes the golden"
            ), run.stdout)
        for text in [
            run.stdout, run.stderr, try String(contentsOf: s.top.appendingPathComponent("report.xml"), encoding: .utf8),
            try String(contentsOf: s.top.appendingPathComponent("report.json"), encoding: .utf8),
        ] {
            XCTAssertFalse(text.contains("SECRET"), "the outside file is never read:\n\(text)")
        }
        // regen neither follows nor replaces the link.
        let regen = try runBinary(["regen", "--all"], in: s.top)
        XCTAssertEqual(regen.status, 1)
        XCTAssertTrue(
            regen.stdout.contains(
                "cannot write the golden: the golden file is a symbolic link (to \(outsideFile.path)); rnnspec neither follows nor replaces links under the golden root; nothing was written"
            ), regen.stdout)
        for name in ["report.xml", "report.json"] {
            try FileManager.default.removeItem(at: s.top.appendingPathComponent(name))
        }
        XCTAssertEqual(snapshot(s.top), before)
    }

    @Test func testAGoldenDirectoryLinkedOutsideIsNeverEntered() throws {
        let p = try TempProject()
        try p.writeCase("sub/c", simpleStepCase)
        _ = try p.run(record: .all)
        let outside = p.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        // What a killed writer would leave, with a pid that cannot be alive, and a golden.
        try Data("left by someone else\n".utf8).write(to: outside.appendingPathComponent(".c.yaml.tmp-2147483646-1"))
        try FileManager.default.copyItem(at: p.goldenURL("sub/c"), to: outside.appendingPathComponent("c.yaml"))
        try FileManager.default.removeItem(at: p.root.appendingPathComponent("golden/sub"))
        try FileManager.default.createSymbolicLink(
            at: p.root.appendingPathComponent("golden/sub"), withDestinationURL: outside)
        let before = snapshot(p.root)
        for record in [RecordMode.none, .all, .failed] {
            let r = try p.result("sub/c", record: record)
            XCTAssertEqual(r.status, .unresolved, "\(record)")
            XCTAssertTrue("\(r.error!)".contains("golden/sub is a symbolic link"), "\(r.error!)")
        }
        XCTAssertEqual(try p.run().orphanGoldens, [], "nothing is listed through the link")
        XCTAssertEqual(try p.project.pruneReport(dryRun: false).deleted, [])
        XCTAssertEqual(snapshot(p.root), before, "the temporary and the golden outside are untouched")
    }

    @Test func testFIFOsAndDevicesNamedYamlDoNotBlock() throws {
        let p = try TempProject()
        try p.writeCase("ok", simpleStepCase)
        _ = try p.run(record: .all)
        XCTAssertEqual(mkfifo(p.root.appendingPathComponent("cases/fifo.yaml").path, 0o644), 0)
        XCTAssertEqual(mkfifo(p.root.appendingPathComponent("golden/pipe.yaml").path, 0o644), 0)
        try p.writeCase("pipe", simpleStepCase)
        try FileManager.default.createSymbolicLink(
            atPath: p.root.appendingPathComponent("cases/tofifo.yaml").path, withDestinationPath: "fifo.yaml")
        try FileManager.default.createSymbolicLink(
            atPath: p.root.appendingPathComponent("cases/null.yaml").path, withDestinationPath: "/dev/zero")
        let project = p.project
        let report = try withinSeconds(20, "a run over FIFOs") {
            var options = RunOptions()
            options.jobs = 2
            options.record = .all
            return try Runner(project: project, options: options).run(paths: [])
        }
        let byID = Dictionary(uniqueKeysWithValues: report.results.map { ($0.id, $0) })
        XCTAssertEqual(byID["ok"]?.status, .pass)
        XCTAssertEqual(
            byID["tofifo"].map { "\($0.error!)" },
            "cases/tofifo.yaml: error: cannot read the file: cases/tofifo.yaml is a FIFO (named pipe), not a regular file"
        )
        XCTAssertEqual(
            byID["null"].map { "\($0.error!)" },
            "cases/null.yaml: error: the file resolves (through a symbolic link) outside the cases root cases/; refusing to read it"
        )
        XCTAssertEqual(byID["pipe"]?.status, .unresolved)
        XCTAssertEqual(
            byID["pipe"].map { "\($0.error!)" },
            "golden/pipe.yaml: error: the golden path is a FIFO (named pipe), not a file; move it away and `rnnspec regen` writes the golden"
        )
        XCTAssertEqual(byID["pipe"]?.recording?.action, .refused, "a FIFO is not replaced")
        XCTAssertNil(byID["fifo"], "a FIFO is not listed as a case")
        // Named on the command line, a FIFO is read without blocking too.
        let fifoPath = p.root.appendingPathComponent("cases/fifo.yaml").path
        let named = try withinSeconds(20, "a FIFO named as a path") {
            try Runner(project: project, options: RunOptions()).run(paths: [fifoPath])
        }
        XCTAssertEqual(
            named.results.map { "\($0.error!)" },
            ["cases/fifo.yaml: error: cannot read the file: cases/fifo.yaml is a FIFO (named pipe), not a regular file"]
        )
        // A FIFO as rnnspec.yaml.
        XCTAssertEqual(mkfifo(p.root.appendingPathComponent("rnnspec.yaml").path, 0o644), 0)
        let root = p.root.path
        XCTAssertThrowsError(
            try withinSeconds(20, "a FIFO as rnnspec.yaml") { try Project.locate(workingDirectory: root) }
        ) { error in
            XCTAssertEqual(
                "\(error)",
                "rnnspec.yaml: error: cannot read the configuration file: rnnspec.yaml is a FIFO (named pipe), not a regular file"
            )
        }
    }

    @Test func testDanglingAndLoopingLinksAndDirectoriesNamedYaml() throws {
        let p = try TempProject()
        try p.writeCase("x.yaml/inner", simpleStepCase)  // a directory named x.yaml
        try FileManager.default.createSymbolicLink(
            atPath: p.root.appendingPathComponent("cases/dangling.yaml").path, withDestinationPath: "nowhere.yaml")
        try FileManager.default.createSymbolicLink(
            atPath: p.root.appendingPathComponent("cases/loop.yaml").path, withDestinationPath: "loop.yaml")
        try FileManager.default.createSymbolicLink(
            atPath: p.root.appendingPathComponent("cases/dirloop").path, withDestinationPath: ".")
        let report = try p.run(record: .all)
        let byID = Dictionary(uniqueKeysWithValues: report.results.map { ($0.id, $0) })
        XCTAssertEqual(Set(byID.keys), ["x.yaml/inner", "dangling", "loop"])
        XCTAssertEqual(byID["x.yaml/inner"]?.status, .pass)
        XCTAssertNotNil(p.golden("x.yaml/inner"))
        XCTAssertEqual(
            byID["dangling"].map { "\($0.error!)" },
            "cases/dangling.yaml: error: cannot read the file: cases/dangling.yaml is a symbolic link to nowhere.yaml, which does not exist"
        )
        XCTAssertEqual(
            byID["loop"].map { "\($0.error!)" },
            "cases/loop.yaml: error: cannot read the file: cases/loop.yaml: too many levels of symbolic links (a loop?)"
        )

        // Goldens: a dangling link, a loop, a directory where the golden belongs.
        try p.writeCase("g1", simpleStepCase)
        try p.writeCase("g2", simpleStepCase)
        try FileManager.default.createSymbolicLink(
            atPath: p.goldenURL("g1").path, withDestinationPath: "/nonexistent/g1.yaml")
        try FileManager.default.createSymbolicLink(atPath: p.goldenURL("g2").path, withDestinationPath: "g2.yaml")
        let again = try p.run(record: .failed)
        let g = Dictionary(uniqueKeysWithValues: again.results.map { ($0.id, $0) })
        XCTAssertEqual(
            g["g1"].map { "\($0.error!)" },
            "golden/g1.yaml: error: the golden file is a symbolic link (to /nonexistent/g1.yaml); rnnspec does not follow links under the golden root: remove it and `rnnspec regen` writes the golden"
        )
        XCTAssertEqual(
            g["g2"].map { "\($0.error!)" },
            "golden/g2.yaml: error: the golden file is a symbolic link (to g2.yaml); rnnspec does not follow links under the golden root: remove it and `rnnspec regen` writes the golden"
        )
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "/nonexistent/g1.yaml"), "never created through a dangling link")
    }

    @Test func testVeryLongNamesGetTheirGoldenAndTheirTemporariesCleanedUp() throws {
        let p = try TempProject()
        let long = String(repeating: "n", count: 250)  // 255 bytes with .yaml: NAME_MAX
        let wide = String(repeating: "é", count: 125)  // 250 bytes of UTF-8
        try p.writeCase(long, simpleStepCase)
        try p.writeCase("d/" + wide, simpleStepCase)
        let report = try p.run(record: .all)
        XCTAssertEqual(
            report.results.map(\.status), [.pass, .pass],
            report.results.map { "\($0.error.map { "\($0)" } ?? "")" }.joined())
        XCTAssertNotNil(p.golden(long))
        // A temporary a killed writer left for the long name is removed by the next write.
        let prefix = ConfinedDirectory.temporaryPrefix(for: long + ".yaml")
        XCTAssertLessThan(prefix.utf8.count + 22, 256)
        let temp = p.root.appendingPathComponent("golden/\(prefix)2147483646-7")
        try Data("partial".utf8).write(to: temp)
        try p.writeCase(long, simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.125"))
        XCTAssertEqual(try p.result(long, record: .failed).recording?.action, .rewritten)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.path))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: p.root.appendingPathComponent("golden").path).sorted(),
            ["d", long + ".yaml"])
    }

    /// Tests run as root, where permissions are ignored: the binary runs as `nobody` through
    /// setpriv(1) to meet files it may not read and directories it may not write.
    @Test func testUnreadableFilesAndUnwritableDirectoriesAreErrorsNamingTheFile() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
            FileManager.default.isExecutableFile(atPath: rnnspecBinary.path)
        else { throw XCTSkip("needs root, setpriv and the binary") }
        let s = try Sandbox()
        chmod(s.project.goldenURL("a").path, 0)
        chmod(s.top.appendingPathComponent("cases/sub/b.yaml").path, 0)
        let before = snapshot(s.top)
        func asNobody(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try runBinary(
                ["--reuid=65534", "--regid=65534", "--clear-groups", rnnspecBinary.path] + args, in: s.top,
                executable: "/usr/bin/setpriv")
        }
        let probe = try asNobody(["kernels"])
        guard probe.status == 0 else { throw XCTSkip("the binary does not run as nobody here: \(probe.stderr)") }
        let run = try asNobody(["run"])
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssertTrue(
            run.stdout.contains(
                "golden/a.yaml: error: cannot read the golden file: cannot open golden/a.yaml: Permission denied"),
            run.stdout)
        XCTAssertTrue(
            run.stdout.contains(
                "cases/sub/b.yaml: error: cannot read the file: cannot open cases/sub/b.yaml: Permission denied"),
            run.stdout)
        let regen = try asNobody(["regen", "--all"])
        XCTAssertEqual(regen.status, 1)
        XCTAssertTrue(
            regen.stdout.contains("cannot write the golden: Permission denied; the old file is unchanged"), regen.stdout
        )
        XCTAssertEqual(snapshot(s.top), before)
    }

    /// No time-of-check gap: while another thread keeps swapping a golden directory for a
    /// link to outside, thousands of writes, reads and clean-ups never touch the outside.
    @Test func testSwappingAGoldenDirectoryForALinkMidWriteNeverReachesOutside() throws {
        let p = try TempProject()
        let golden = p.root.appendingPathComponent("golden")
        let outside = p.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(
            at: golden.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("left by a dead writer\n".utf8).write(to: outside.appendingPathComponent(".c.yaml.tmp-2147483646-1"))
        try FileManager.default.createSymbolicLink(
            at: golden.appendingPathComponent("link"), withDestinationURL: outside)
        let before = snapshot(outside)
        let store = GoldenStore(root: golden)
        let stop = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let g = golden.path
        Thread.detachNewThread {
            // sub (a directory) and link (to outside) trade places, over and over.
            while stop.wait(timeout: .now()) == .timedOut {
                rename(g + "/sub", g + "/real")
                rename(g + "/link", g + "/sub")
                rename(g + "/sub", g + "/link")
                rename(g + "/real", g + "/sub")
            }
            finished.signal()
        }
        var written = 0, refused = 0
        let deadline = Date().addingTimeInterval(2)
        var k = 0
        while Date() < deadline {
            k += 1
            let golden = Golden(caseID: "sub/c", kernel: "k", digest: String(k, radix: 16), outputs: [])
            do { try store.write(golden); written += 1 } catch { refused += 1 }
            store.removeAbandonedTemporaries("sub/c")
            _ = try? store.read("sub/c")
        }
        stop.signal()
        finished.wait()
        XCTAssertEqual(snapshot(outside), before, "after \(written) writes and \(refused) refusals")
        XCTAssertGreaterThan(written + refused, 100)
    }

    @Test func testTheLayerRefusesPathsThatLeaveTheRoot() throws {
        let p = try TempProject()
        let dir = ConfinedDirectory(root: p.root.appendingPathComponent("cases"), policy: .never, rootName: "cases")
        for bad in ["../x.yaml", "a/../../x.yaml", "/etc/passwd", "a//b.yaml", "./x.yaml", ""] {
            XCTAssertThrowsError(try dir.read(bad), bad)
            XCTAssertThrowsError(try dir.writeAtomically(bad, Data("x".utf8), replace: true, createRoot: false), bad)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: p.root.appendingPathComponent("x.yaml").path))
        // A size limit stops reading at the limit.
        try p.writeCase("big", String(repeating: "#\n", count: 1000))
        XCTAssertThrowsError(try dir.read("big.yaml", maxBytes: 100)) { error in
            XCTAssertEqual((error as? ConfinedDirectory.Failure)?.kind, .tooLarge)
        }
        XCTAssertEqual(try dir.read("big.yaml", maxBytes: 2000)?.count, 2000)

        // The cases side follows links that stay inside, and refuses a directory link that
        // leaves, for reading and for writing.
        let outside = p.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("SECRET".utf8).write(to: outside.appendingPathComponent("x.yaml"))
        try FileManager.default.createSymbolicLink(
            atPath: p.root.appendingPathComponent("cases/out").path, withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(
            atPath: p.root.appendingPathComponent("cases/in").path, withDestinationPath: ".")
        let cases = ConfinedDirectory(root: p.root.appendingPathComponent("cases"), policy: .inside, rootName: "cases")
        XCTAssertEqual(try cases.read("in/big.yaml")?.count, 2000)
        XCTAssertThrowsError(try cases.read("out/x.yaml")) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .outside)
        }
        XCTAssertThrowsError(
            try cases.writeAtomically("out/new.yaml", Data("x".utf8), replace: false, createRoot: false)
        ) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .outside)
        }
        XCTAssertThrowsError(
            try cases.writeAtomically("out/deeper/new.yaml", Data("x".utf8), replace: false, createRoot: false))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), ["x.yaml"])
        // The golden side follows no link at all, even one that stays inside.
        XCTAssertThrowsError(try dir.read("in/big.yaml")) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .symbolicLink)
        }
    }
}
