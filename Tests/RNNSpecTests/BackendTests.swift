import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// `rnnspec run --backend COMMAND`: the suite judged against another implementation over the
/// worker protocol, with the same goldens, expectations, tolerances and result kinds.
@Suite final class BackendTests {
    /// Directories removed when the test ends (Swift Testing makes one instance per test).
    var removedAtTheEnd: [URL] = []
    deinit { for dir in removedAtTheEnd { try? FileManager.default.removeItem(at: dir) } }

    func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
    }

    /// The seeds' cases and goldens in a temporary directory (without the training cases; CI runs the
    /// whole suite through `rnnspec serve` too).
    func seedSuite() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-backend-\(UUID().uuidString)")
        try copyQuickSeedSuite(to: dir)
        removedAtTheEnd.append(dir)
        return dir
    }

    @Test func testRNNSpecServeAsABackendPassesWhatAPlainRunPasses() throws {
        try requireBinary()
        let dir = try seedSuite()
        let plain = try runRNNSpec(["run"], in: dir, environment: ["CI": "true"])
        XCTAssertEqual(plain.status, 0, plain.stdout)
        let backend = try runRNNSpec(
            ["run", "--backend", "'\(rnnspecBinary.path)' serve --no-finite-differences"], in: dir,
            environment: ["CI": "true"])
        XCTAssertEqual(backend.status, 0, backend.stdout + backend.stderr)
        let summary = plain.stdout.split(separator: "\n").last!
        XCTAssertTrue(backend.stdout.contains("\n" + summary + "\n"), "the same counts: \(summary)\n\(backend.stdout)")
        XCTAssertTrue(
            backend.stdout.contains(
                "Coverage of '\(rnnspecBinary.path)' serve --no-finite-differences, by kernel:\nkernel "),
            backend.stdout)
        XCTAssertTrue(backend.stdout.contains("\nrnn.step "), backend.stdout)
    }

    @Test func testAGradcheckFailsThroughABackendWhereverTheDifferencesAreComputed() throws {
        try requireBinary()
        let p = try TempProject()
        try p.writeCase("right", "kernel: fault.square\ninputs: {x: [1.0, -2.0, 0.5]}\ngradcheck: {wrt: [x]}\n")
        try p.writeCase(
            "wrong",
            "kernel: fault.square\nparams: {wrong: true}\ninputs: {x: [1.0, -2.0, 0.5]}\ngradcheck: {wrt: [x]}\n")
        let env: [String: String?] = ["RNNSPEC_FAULT_KERNELS": "1"]
        XCTAssertEqual(
            try runRNNSpec(["regen"], in: p.root, environment: env).status, 1,
            "wrong fails its gradcheck, so it is not recorded")
        for serve in ["serve", "serve --no-finite-differences"] {
            let r = try runRNNSpec(
                ["run", "--backend", "'\(rnnspecBinary.path)' \(serve)", "cases/right.yaml", "cases/wrong.yaml"],
                in: p.root, environment: env)
            XCTAssertTrue(r.stdout.contains("NEW: wrong (2 of 2)\n"), serve + ": " + r.stdout)
            XCTAssertTrue(
                r.stdout.contains("output 'dx' differs from the finite differences:"), serve + ": " + r.stdout)
            XCTAssertFalse(r.stdout.contains("right ("), serve + ": " + r.stdout)
        }
    }

    /// A backend written for the test in sh: its hello lists the kernels it implements, and it
    /// answers every request with the reply given.
    func shellBackend(_ dir: URL, kernels: String, reply: String) throws -> String {
        let script = dir.appendingPathComponent("backend.sh")
        try """
        echo '{"protocol":1,"worker":"sh backend","kernels":[\(kernels)]}'
        while read -r line; do echo '\(reply)'; done

        """.write(to: script, atomically: true, encoding: .utf8)
        return "sh backend.sh"
    }

    @Test func testKernelsTheBackendDoesNotListAreUnsupportedAndTheTableSaysSo() throws {
        try requireBinary()
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        try p.writeCase("clip", "kernel: grad.clip_norm\ninputs: {g: [3.0, 4.0]}\nparams: {max_norm: 1.0}\n")
        XCTAssertEqual(try runRNNSpec(["regen"], in: p.root).status, 0)
        let backend = try shellBackend(
            p.root, kernels: #""rnn.step""#,
            reply:
                #"{"protocol":1,"id":"step","outputs":[{"name":"h","dtype":"float32","shape":[2],"data":"AAAAAAAAAAA="},{"name":"a","dtype":"float64","shape":[2],"data":"AAAAAAAA9D8AAAAAAADwvw=="}]}"#
        )
        let r = try runRNNSpec(["run", "--backend", backend], in: p.root)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("FAIL: step (2 of 2)\n"), r.stdout)
        XCTAssertTrue(
            r.stdout.contains(
                "output 'h' differs from the golden:\n    golden/step.yaml:16:3: computed in float32, the golden holds float64 values"
            ), r.stdout)
        XCTAssertFalse(r.stdout.contains("output 'a' differs"), "a matches: " + r.stdout)
        XCTAssertTrue(
            r.stdout.contains("UNSUPPORTED: clip (1 of 2)\n  reason: sh backend does not implement grad.clip_norm\n"),
            r.stdout)
        XCTAssertTrue(
            r.stdout.hasSuffix(
                """
                Coverage of sh backend.sh, by kernel:
                kernel          passed  failed  unsupported
                grad.clip_norm       0       0            1
                rnn.step             0       1            0
                total                0       1            1
                1 of 2 kernels implemented (a kernel with a passed or failed case)

                """), r.stdout)
    }

    @Test func testAnOutputOfTheWrongShapeIsALocatedFailAndTheRunGoesOn() throws {
        try requireBinary()
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        try p.writeCase("other", simpleStepCase)
        XCTAssertEqual(try runRNNSpec(["regen"], in: p.root).status, 0)
        // h with one element where the golden has two; `a` right; the same reply to both cases' ids is wrong for 'other'.
        let backend = try shellBackend(
            p.root, kernels: #""rnn.step""#,
            reply:
                #"{"protocol":1,"id":"step","outputs":[{"name":"h","dtype":"float64","shape":[1],"data":"AAAAAAAAAAA="},{"name":"a","dtype":"float64","shape":[2],"data":"AAAAAAAA9D8AAAAAAADwvw=="}]}"#
        )
        let r = try runRNNSpec(["run", "--backend", backend], in: p.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(
            r.stdout.contains(
                "FAIL: step (2 of 2)\n  cases/step.yaml: output 'h' differs from the golden:\n    golden/step.yaml:16:3: shape [1], golden has shape [2]"
            ), r.stdout)
        XCTAssertTrue(
            r.stdout.contains(
                "UNRESOLVED: other (1 of 2)\n  cases/other.yaml:1:9: error: the worker's reply does not follow the worker protocol: a reply for 'step' where 'other' was asked"
            ), r.stdout)
    }

    @Test func testBackendRunsNeverWriteGoldensAndABackendThatCannotStartExitsTwo() throws {
        try requireBinary()
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        let record = try runRNNSpec(["run", "--backend", "sh backend.sh", "--record", "missing"], in: p.root)
        XCTAssertEqual(record.status, 2)
        XCTAssertTrue(
            record.stderr.contains(
                "--backend runs another implementation against the goldens; it never writes them (drop --record)"),
            record.stderr)
        let missing = try runRNNSpec(["run", "--backend", "no-such-program --flag"], in: p.root)
        XCTAssertEqual(missing.status, 2, missing.stdout)
        XCTAssertEqual(
            missing.stderr,
            "rnnspec: error: cannot start a worker process: `no-such-program --flag` did not start: the worker exited with status 127 before answering; its last standard-error lines: /bin/sh: 1: exec: no-such-program: not found\n"
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: p.goldenURL("step").path))
    }
}
