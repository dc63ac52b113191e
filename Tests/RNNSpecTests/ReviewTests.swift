import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecCLI

/// The review loop: pending goldens (`run --record pending`, `regen --pending`), `review`, `accept`,
/// `reject`, `regen --dry-run`, STALE naming what changed, and `show`.
@Suite final class ReviewTests {
    /// Every regular file under the project with its bytes.
    func snapshot(_ root: URL) -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        for case let url as URL in e where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
        {
            out[url.path] = try? Data(contentsOf: url)
        }
        return out
    }

    func frontEnd(_ p: TempProject, _ output: OutputBox, ci: Bool = false) -> FrontEnd {
        FrontEnd(
            project: p.project, environment: ci ? ["CI": "true"] : [:], stdout: output.append, stderr: output.append)
    }

    func pendingURL(_ p: TempProject, _ id: String) -> URL {
        p.root.appendingPathComponent("golden/\(id).yaml.pending")
    }

    /// A project with a blessed case `a`, then `a`'s W_hh changed (STALE) and a new case `b` (NEW).
    func staleAndNew() throws -> TempProject {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        _ = try p.run(record: .all)
        try p.writeCase("a", simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.25"))
        try p.writeCase("b", simpleStepCase.replacingOccurrences(of: "x: [1.0, -1.0]", with: "x: [2.0, 0.5]"))
        return p
    }

    @Test func testPendingRecordingWritesBesideTheGoldenAndHidesIt() throws {
        let p = try staleAndNew()
        let before = try XCTUnwrap(p.golden("a"))
        let report = try p.run(record: .failed) { $0.recordTarget = .pending }
        XCTAssertEqual(report.goldensPending, ["a", "b"])
        XCTAssertEqual(report.goldensWritten, [])
        // Not blessed: the results stay STALE and NEW, the goldens are as they were.
        XCTAssertEqual(report.results.map(\.status), [.stale, .new])
        XCTAssertEqual(p.golden("a"), before)
        XCTAssertNil(p.golden("b"))
        // Beside the golden, whole, with no temporary file left.
        let pendingA = try String(contentsOf: pendingURL(p, "a"), encoding: .utf8)
        XCTAssertTrue(pendingA.contains("value: [0.8093010702017809, -0.7615941559557649]"), pendingA)
        let files = try FileManager.default.contentsOfDirectory(atPath: p.root.appendingPathComponent("golden").path)
            .sorted()
        XCTAssertEqual(files, ["a.yaml", "a.yaml.pending", "b.yaml.pending"])
        // Hidden from comparison, orphan detection, prune and case discovery.
        XCTAssertEqual(try p.run().results.map(\.status), [.stale, .new])
        XCTAssertEqual(p.project.goldenStore.allIDs(), ["a"])
        XCTAssertEqual(try p.project.orphanGoldens(), [])
        XCTAssertEqual(try p.project.pruneReport(dryRun: true).deleted, [])
        XCTAssertTrue(listYAML(under: p.root.appendingPathComponent("golden")).isEmpty == false)
        XCTAssertFalse(
            listYAML(under: p.root.appendingPathComponent("golden")).contains {
                $0.lastPathComponent.hasSuffix(".pending")
            })
        // The run says how many are pending, and names each file.
        let output = OutputBox()
        var request = RunRequest()
        request.options.record = .failed
        request.options.recordTarget = .pending
        XCTAssertEqual(try frontEnd(p, output).run(request), .failures)
        XCTAssertTrue(
            output.text.hasSuffix(
                """
                2 goldens pending review (`rnnspec review`, or `rnnspec accept`/`rnnspec reject`); 0 goldens written
                  pending golden/a.yaml.pending
                  pending golden/b.yaml.pending

                """), output.text)
        // Once the golden holds the outputs, a pending run deletes the obsolete pending file.
        try p.writeCase("b", simpleStepCase.replacingOccurrences(of: "x: [1.0, -1.0]", with: "x: [2.0, 0.5]"))
        _ = try p.run(["cases/b.yaml"], record: .all)
        _ = try p.run(["cases/b.yaml"], record: .failed) { $0.recordTarget = .pending }
        XCTAssertFalse(FileManager.default.fileExists(atPath: pendingURL(p, "b").path))
    }

    @Test func testPendingThroughTheCommandLineAndRefusedUnderCI() throws {
        let p = try staleAndNew()
        let run = try runRNNSpec(["run", "--record", "pending"], in: p.root)
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stdout.contains("2 goldens pending review"), run.stdout)
        try FileManager.default.removeItem(at: pendingURL(p, "a"))
        let flag = try runRNNSpec(["run", "--record", "missing", "--pending"], in: p.root)
        XCTAssertTrue(flag.stdout.contains("1 golden pending review"), flag.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pendingURL(p, "a").path), "missing: only the new one")
        let regen = try runRNNSpec(["regen", "--pending"], in: p.root)
        XCTAssertTrue(regen.stdout.contains("2 goldens pending review"), regen.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pendingURL(p, "a").path))
        let tree = snapshot(p.root)
        for args in [
            ["run", "--record", "pending"], ["run", "--pending"], ["regen", "--pending"], ["accept", "--all"],
            ["reject", "--all"],
        ] {
            let r = try runRNNSpec(args, in: p.root, environment: ["CI": "true"])
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains("CI=true is set"), r.stderr)
        }
        XCTAssertEqual(snapshot(p.root), tree)
    }

    @Test func testAcceptRenamesOverTheGoldenAndRejectDeletesOnlyThePendingFile() throws {
        let p = try staleAndNew()
        _ = try p.run(record: .failed) { $0.recordTarget = .pending }
        let pendingA = try Data(contentsOf: pendingURL(p, "a"))
        let goldenA = try XCTUnwrap(p.golden("a"))
        let output = OutputBox()
        let fe = frontEnd(p, output)
        // Accepting needs ids or --all.
        XCTAssertThrowsError(try fe.accept([], all: false)) {
            XCTAssertTrue("\($0)".contains("give their case ids"), "\($0)")
        }
        XCTAssertThrowsError(try fe.accept(["nope"], all: false)) {
            XCTAssertTrue("\($0)".contains("no pending golden for nope"), "\($0)")
        }
        XCTAssertEqual(try fe.reject(["cases/a.yaml"], all: false), .success)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pendingURL(p, "a").path))
        XCTAssertEqual(p.golden("a"), goldenA, "reject leaves the golden alone")
        XCTAssertEqual(try fe.accept(["b"], all: false), .success)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pendingURL(p, "b").path))
        XCTAssertEqual(try p.run(["cases/b.yaml"]).results.map(\.status), [.pass])
        XCTAssertEqual(output.text, "rejected a: deleted golden/a.yaml.pending\naccepted b: golden/b.yaml\n")
        // Accepting is the rename of the pending bytes, as they were.
        _ = try p.run(["cases/a.yaml"], record: .failed) { $0.recordTarget = .pending }
        XCTAssertEqual(try fe.accept([], all: true), .success)
        XCTAssertEqual(try Data(contentsOf: p.goldenURL("a")), pendingA)
        XCTAssertEqual(try p.run().results.map(\.status), [.pass, .pass])
        // A case changed since its pending golden was written is not accepted.
        try p.writeCase("a", simpleStepCase)
        _ = try p.run(["cases/a.yaml"], record: .failed) { $0.recordTarget = .pending }
        try p.writeCase("a", simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.75"))
        XCTAssertEqual(try fe.accept(["a"], all: false), .failures)
        XCTAssertTrue(
            output.text.contains("a not accepted: the case changed since this pending golden was written"), output.text)
        XCTAssertEqual(try Data(contentsOf: p.goldenURL("a")), pendingA)
    }

    @Test func testReviewItemsSayWhyWhatChangedAndHowFar() throws {
        let p = try staleAndNew()
        _ = try p.run(record: .failed) { $0.recordTarget = .pending }
        // FAIL: the same computation, other outputs (as after a kernel change).
        try p.writeCase("c", simpleStepCase)
        _ = try p.run(["cases/c.yaml"], record: .all)
        var golden = try XCTUnwrap(try p.project.goldenStore.read("c"))
        golden.outputs[0].value = .real(RealTensor(Tensor(shape: [2], scalars: [0.8482836399575129, -0.75])))
        try p.project.goldenStore.writePending(golden)

        let fe = frontEnd(p, OutputBox())
        let items = try fe.reviewItems([])
        XCTAssertEqual(items.map(\.id), ["a", "b", "c"])
        XCTAssertEqual(items.map(\.why), [.stale, .new, .fail])
        XCTAssertEqual(
            items[0].text(),
            """
            a: STALE (the case changed since its golden was written)
              pending: golden/a.yaml.pending → golden/a.yaml
              input 'W_hh' changed
              h: float64 [2]: 1 of 2 elements changed; max abs change 0.039 at [0], max rel change 0.046 at [0]
                  [0]  0.8482836399575129 → 0.8093010702017809
              a: float64 [2]: 1 of 2 elements changed; max abs change 0.125 at [0], max rel change 0.1 at [0]
                  [0]  1.25 → 1.125

            """)
        XCTAssertEqual(
            items[1].text(),
            """
            b: NEW (no golden yet)
              pending: golden/b.yaml.pending → golden/b.yaml
              h: float64 [2]
                [0.9780261147388137, 0.46211715726000974]
              a: float64 [2]
                [2.25, 0.5]

            """)
        XCTAssertTrue(items[2].text().contains("c: FAIL (same case, other outputs)\n"), items[2].text())
        XCTAssertTrue(items[2].text().contains("    [1]  -0.7615941559557649 → -0.75\n"), items[2].text())
        XCTAssertNil(items[2].problem, "the pending golden's digest is the case's: it can be accepted")
        XCTAssertEqual(items[0].problem, nil)
        // Selection by id, by case path, by pending file.
        XCTAssertEqual(try fe.reviewItems(["b"]).map(\.id), ["b"])
        XCTAssertEqual(try fe.reviewItems(["cases/a.yaml", "golden/c.yaml.pending"]).map(\.id), ["a", "c"])
    }

    @Test func testReviewWithoutATerminalListsAndSaysWhatToDo() throws {
        let p = try staleAndNew()
        _ = try p.run(record: .failed) { $0.recordTarget = .pending }
        let r = try runRNNSpec(["review"], in: p.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("(1 of 2) a: STALE"), r.stdout)
        XCTAssertTrue(r.stdout.contains("(2 of 2) b: NEW"), r.stdout)
        XCTAssertTrue(
            r.stdout.contains("standard input is not a terminal, so nothing was decided: `rnnspec accept ID...`"),
            r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pendingURL(p, "a").path))
    }

    /// `rnnspec review` on a pseudo-terminal: keys without Enter, a help line for an unknown key.
    @Test func testReviewOnATerminalAcceptsRejectsAndSkipsWithSingleKeys() throws {
        let p = try staleAndNew()
        try p.writeCase("c", simpleStepCase.replacingOccurrences(of: "x: [1.0, -1.0]", with: "x: [0.0, 0.0]"))
        _ = try p.run(record: .failed) { $0.recordTarget = .pending }
        let goldenA = try XCTUnwrap(p.golden("a"))

        // A pseudo-terminal pair: /dev/ptmx, unlocked, and its /dev/pts/N (Linux).
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        XCTAssertGreaterThanOrEqual(master, 0)
        var unlock: Int32 = 0, number: UInt32 = 0
        XCTAssertEqual(ioctl(master, UInt(0x4004_5431), &unlock), 0)  // TIOCSPTLCK
        XCTAssertEqual(ioctl(master, UInt(0x8004_5430), &number), 0)  // TIOCGPTN
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        XCTAssertGreaterThanOrEqual(slave, 0)
        let process = Process()
        process.executableURL = rnnspecBinary
        process.arguments = ["review"]
        process.currentDirectoryURL = p.root
        var env = ProcessInfo.processInfo.environment
        env["CI"] = nil
        process.environment = env
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
        close(slave)
        let screen = OutputBox()
        // Signalled when the terminal has nothing more to read (the child and our end of it closed).
        let drained = DispatchSemaphore(value: 0)
        let reader = Thread {
            defer { drained.signal() }
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { return }
                screen.append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
        }
        reader.start()
        let prompt = "accept, reject, skip or quit? [a/r/s/q/?] "
        func waitForPrompts(_ n: Int) {
            let deadline = Date().addingTimeInterval(60)
            while screen.text.components(separatedBy: prompt).count - 1 < n && Date() < deadline { usleep(20_000) }
        }
        for (k, key) in ["x", "r", "a", "s"].enumerated() {
            waitForPrompts(k + 1)
            _ = key.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress!, 1) }
        }
        process.waitUntilExit()
        // What the child wrote last may still be in the terminal: read it all before looking (under
        // load the summary line was sometimes not read yet).
        _ = drained.wait(timeout: .now() + 30)
        let text = screen.text.replacingOccurrences(of: "\r", with: "")
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("(1 of 3) a: STALE"), text)
        XCTAssertTrue(
            text.contains(
                "x\na accept (the pending file replaces the golden)   r reject (delete the pending file)   s skip   q quit   ? help\n"
            ), text)
        XCTAssertTrue(text.contains("r\nrejected: deleted golden/a.yaml.pending\n"), text)
        XCTAssertTrue(text.contains("(2 of 3) b: NEW"), text)
        XCTAssertTrue(text.contains("a\naccepted: golden/b.yaml\n"), text)
        XCTAssertTrue(text.contains("accepted 1, rejected 1, 1 still pending\n"), text)
        XCTAssertEqual(p.golden("a"), goldenA)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pendingURL(p, "a").path))
        XCTAssertNotNil(p.golden("b"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: pendingURL(p, "c").path), "skipped")
        close(master)
    }

    @Test func testRegenDryRunWritesNothingAndSaysHowFarOutputsWouldMove() throws {
        let p = try staleAndNew()
        let tree = snapshot(p.root)
        let output = OutputBox()
        var options = RunOptions()
        options.recordTarget = .dryRun
        XCTAssertEqual(try frontEnd(p, output).regen(paths: [], all: false, options: options), .success)
        XCTAssertEqual(snapshot(p.root), tree, "byte-identical")
        XCTAssertTrue(
            output.text.contains(
                "golden would be written (dry run):\n    h: would move by at most abs 0.039, rel 0.046\n    a: would move by at most abs 0.125, rel 0.1\n"
            ), output.text)
        XCTAssertTrue(
            output.text.hasSuffix(
                "2 goldens would be written (dry run: nothing was written)\n  would write golden/a.yaml\n  would write golden/b.yaml\n"
            ), output.text)
        // Through the binary, under CI=true too (it writes nothing).
        let r = try runRNNSpec(["regen", "--dry-run", "--all"], in: p.root, environment: ["CI": "true"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("2 goldens would be written"), r.stdout)
        XCTAssertEqual(snapshot(p.root), tree, "byte-identical")
    }

    @Test func testStaleNamesTheChangedInputsAndParamsAndHowFarOutputsWouldMove() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        _ = try p.run(record: .all)
        try p.writeCase(
            "a",
            "params: {activation: relu}\n"
                + simpleStepCase.replacingOccurrences(of: "h_prev: [0.5, 0.0]", with: "h_prev: [0.5, 1.0]"))
        let r = try p.result("a")
        XCTAssertEqual(r.status, .stale)
        XCTAssertEqual(
            r.notes,
            [
                "the case changed since its golden was written: param 'activation' changed; input 'h_prev' changed",
                "if regenerated, h: float64 [2]: 2 of 2 elements changed; max abs change 0.762 at [1], max rel change 1 at [1]",
                "if regenerated, a: float64 [2]: 1 of 2 elements changed; max abs change 0.5 at [1], max rel change 0.5 at [1]",
                "review the change (`rnnspec run --record pending cases/a.yaml`, then `rnnspec review`), or `rnnspec regen cases/a.yaml`",
            ])
        // A golden of format 1 (no per-input digests) still reads, and says it cannot tell which.
        var old = try XCTUnwrap(try p.project.goldenStore.read("a"))
        old.parts = nil
        try p.project.goldenStore.write(old)
        XCTAssertTrue(p.golden("a")!.contains("format: 1\n"))
        XCTAssertFalse(p.golden("a")!.contains("digests:"))
        XCTAssertEqual(
            try p.result("a").notes.first,
            "the case changed since its golden was written: the kernel's params or inputs changed (the golden predates per-input digests, so rnnspec cannot say which; regenerating it records them)"
        )
    }

    @Test func testGoldenFormat2ReadsTheSameThroughBothParsers() throws {
        let parts = CaseDigest.Parts(
            params: ["n": "00000000000000ab", "activation": "0123456789abcdef"], inputs: ["x": "fedcba9876543210"])
        let g = Golden(caseID: "t/x", kernel: "k.x", digest: "d", parts: parts, outputs: [("h", .real(0.5))])
        let text = g.serialized()
        XCTAssertEqual(
            text,
            """
            # Golden file written by rnnspec; do not edit. Regenerate: rnnspec regen t/x
            format: 2
            case: "t/x"
            kernel: "k.x"
            digest: d
            digests:
              params:
                activation: 0123456789abcdef
                "n": 00000000000000ab
              inputs:
                x: fedcba9876543210
            outputs:
              h:
                type: real
                dtype: float64
                shape: []
                value: 0.5

            """)
        let fast = try XCTUnwrap(Golden.parseCanonical(text))
        let yaml = try Golden.parseYAML(SourceText(path: "g", text: text))
        XCTAssertEqual(fast.parts, parts)
        XCTAssertEqual(yaml.parts, parts)
        XCTAssertEqual(fast.serialized(), text)
        XCTAssertEqual(yaml.serialized(), text)
        // No params: `{}`.
        let empty = Golden(
            caseID: "t/x", kernel: "k.x", digest: "d", parts: CaseDigest.Parts(params: [:], inputs: ["x": "ab"]),
            outputs: [("h", .real(0.5))])
        XCTAssertTrue(empty.serialized().contains("digests:\n  params: {}\n  inputs:\n    x: ab\n"))
        XCTAssertEqual(Golden.parseCanonical(empty.serialized())?.parts, empty.parts)
    }

    @Test func testShowPrintsComputedGoldenAndExpectShapeAwareAndAsJSON() throws {
        let p = try TempProject()
        try p.writeCase(
            "m",
            """
            kernel: rnn.step
            params: {dtype: float32}
            inputs:
              x: [[1.0, -1.0], [0.1, 0.2]]
              h_prev: [[0.5, 0.0], [0.0, 0.0]]
              W_xh: {eye: 2}
              W_hh: {eye: 2, scale: 0.5}
            expect:
              a: {value: [[1.25, -1.0], [0.1, 0.2]], source: "by hand"}

            """)
        _ = try p.run(record: .all)
        let output = OutputBox()
        XCTAssertEqual(try frontEnd(p, output).show(casePath: "m", npz: nil, options: RunOptions()), .success)
        XCTAssertEqual(
            output.text,
            """
            m (cases/m.yaml): rnn.step
            golden: golden/m.yaml
            h: float32 [2, 2]
              computed:
                [  0.8482836, -0.76159424]
                [0.099667996,  0.19737533]
              golden:   identical to computed
            a: float32 [2, 2]
              computed:
                [1.25, -1.0]
                [ 0.1,  0.2]
              golden:   identical to computed
              expect:   (matches within abs 1e-06, rel 1e-05; source: by hand)
                [1.25, -1.0]
                [ 0.1,  0.2]

            """)
        let json = OutputBox()
        XCTAssertEqual(
            try frontEnd(p, json).show(casePath: "cases/m.yaml", npz: nil, options: RunOptions(), format: .json),
            .success)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any])
        XCTAssertEqual(object["id"] as? String, "m")
        XCTAssertEqual((object["golden"] as? [String: Any])?["state"] as? String, "current")
        let outputs = try XCTUnwrap(object["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.map { $0["name"] as? String }, ["h", "a"])
        XCTAssertEqual(outputs[0]["type"] as? String, "float32 [2, 2]")
        XCTAssertTrue(
            json.text.contains("\"computed\": [[0.8482836, -0.76159424], [0.099667996, 0.19737533]]"), json.text)
        XCTAssertEqual((outputs[1]["expect"] as? [String: Any])?["matches"] as? Bool, true)
        XCTAssertEqual(outputs[0]["elementsDifferingFromGolden"] as? Int, 0)
    }

    @Test func testInitMakesASuiteThatRunsAndRefusesANonEmptyDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        let made = try runRNNSpec(["init"], in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(
            try String(contentsOf: dir.appendingPathComponent("rnnspec.yaml"), encoding: .utf8),
            "# rnnspec's roots, relative to this file.\ncases: cases\ngolden: golden\n")
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: dir.appendingPathComponent("golden/example/rnn_step.yaml").path))
        let run = try runRNNSpec(["run"], in: dir)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("1 passed, 0 failed"), run.stdout)
        let again = try runRNNSpec(["init"], in: dir)
        XCTAssertEqual(again.status, 2)
        XCTAssertEqual(
            again.stderr,
            "rnnspec: error: . is not empty (cases, golden, rnnspec.yaml); `rnnspec init` makes a new suite only in an empty directory\n"
        )
        // A new directory is made; CI=true refuses.
        XCTAssertEqual(try runRNNSpec(["init", "sub"], in: dir).status, 0)
        XCTAssertEqual(try runRNNSpec(["run"], in: dir.appendingPathComponent("sub")).status, 0)
        XCTAssertEqual(try runRNNSpec(["init", "ci"], in: dir, environment: ["CI": "true"]).status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("ci").path))
    }

    /// A missing cases root is named as missing by every command that reads cases.
    @Test func testAMissingCasesRootIsSaidToBeMissing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-nocases-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("elsewhere"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try simpleStepCase.write(to: dir.appendingPathComponent("elsewhere/x.yaml"), atomically: true, encoding: .utf8)
        for args in [
            ["run"], ["run", "elsewhere/x.yaml"], ["check"], ["regen"], ["show", "elsewhere/x.yaml"], ["review"],
            ["accept", "--all"], ["export", "--to", "out"],
        ] {
            let r = try runRNNSpec(args, in: dir)
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains("the cases root cases/ does not exist"), "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("symbolic link"), "\(args): \(r.stderr)")
        }
    }

    /// A case as a path from the current directory, a path inside the cases root, or its id; and the
    /// golden's `Regenerate:` line, pasted as it is.
    @Test func testEveryCommandTakesACaseAsPathOrIdAndTheRegenerateLineWorks() throws {
        let p = try TempProject()
        try p.writeCase("dir/one", simpleStepCase)
        try simpleStepCase.write(
            to: p.root.appendingPathComponent("cases/dir/two.yml"), atomically: true, encoding: .utf8)
        try p.writeCase("it's here", simpleStepCase)
        for spelling in ["cases/dir/one.yaml", "dir/one.yaml", "dir/one", "dir/two", "dir/two.yml"] {
            let r = try runRNNSpec(["regen", spelling], in: p.root)
            XCTAssertEqual(r.status, 0, "\(spelling): \(r.stdout)\(r.stderr)")
            let s = try runRNNSpec(["show", spelling], in: p.root)
            XCTAssertEqual(s.status, 0, "\(spelling): \(s.stderr)")
            XCTAssertTrue(s.stdout.hasPrefix("dir/"), s.stdout)
            XCTAssertEqual(try runRNNSpec(["check", spelling], in: p.root).status, 0, spelling)
        }
        XCTAssertEqual(try runRNNSpec(["run", "dir"], in: p.root).status, 0)
        let missing = try runRNNSpec(["run", "dir/three"], in: p.root)
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(
            missing.stderr,
            "rnnspec: error: no such case file, directory or case id: dir/three (nor cases/dir/three[.yaml] in the cases root)\n"
        )
        // From a subdirectory, relative to it.
        let sub = try runRNNSpec(
            ["show", "one.yaml", "--cases-root", "../../cases", "--golden-root", "../../golden"],
            in: p.root.appendingPathComponent("cases/dir"))
        XCTAssertEqual(sub.status, 0, sub.stderr)

        // The Regenerate: line of each golden, run as written by a shell with rnnspec on PATH.
        _ = try runRNNSpec(["regen"], in: p.root)
        for id in ["dir/one", "dir/two", "it's here"] {
            let header = try XCTUnwrap(p.golden(id)?.split(separator: "\n").first)
            let command = try XCTUnwrap(header.range(of: "Regenerate: ").map { String(header[$0.upperBound...]) })
            try FileManager.default.removeItem(at: p.goldenURL(id))
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", command]
            shell.currentDirectoryURL = p.root
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = rnnspecBinary.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            env["CI"] = nil
            shell.environment = env
            shell.standardOutput = FileHandle.nullDevice
            try shell.run()
            shell.waitUntilExit()
            XCTAssertEqual(shell.terminationStatus, 0, command)
            XCTAssertNotNil(p.golden(id), command)
        }
        XCTAssertTrue(
            p.golden("it's here")!.hasPrefix(
                "# Golden file written by rnnspec; do not edit. Regenerate: rnnspec regen 'it'\\''s here'\n"))
    }
}
