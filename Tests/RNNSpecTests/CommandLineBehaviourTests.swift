import Foundation
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecCLI

/// The command line's promises: results stream as cases finish (piped too), colour only where
/// asked, a progress line on a terminal, `check` refusing what `run` would, orphans on any
/// spelling of the cases root, one error style, the exit codes of every command, and shell
/// completion of kernel names and case paths.
@Suite final class CommandLineBehaviourTests {
    func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
    }

    /// A suite whose golden for `a_fail` differs and whose `b_hang` runs until its 3 s timeout.
    func slowSuite() throws -> TempProject {
        let p = try TempProject()
        try p.writeCase("a_fail", simpleStepCase)
        try p.writeCase("b_hang", "kernel: fault.hang\ntimeout: 3\ninputs: {x: [1.0]}\n")
        _ = try p.run(["cases/a_fail.yaml"], record: .all)
        let golden = try XCTUnwrap(p.golden("a_fail"))
        try golden.replacingOccurrences(of: "0.8482836399575129", with: "0.5").write(
            to: p.goldenURL("a_fail"), atomically: true, encoding: .utf8)
        return p
    }

    @Test func testAFailingCaseIsPrintedAsSoonAsItIsKnownEvenWhenPiped() throws {
        try requireBinary()
        let p = try slowSuite()
        let process = Process()
        process.executableURL = rnnspecBinary
        process.arguments = ["run", "--jobs", "1"]
        process.currentDirectoryURL = p.root
        var env = ProcessInfo.processInfo.environment
        env["CI"] = nil
        env["RNNSPEC_FAULT_KERNELS"] = "1"
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let start = Date()
        try process.run()
        var seen = ""
        while !seen.contains("FAIL: a_fail") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        let shownAfter = Date().timeIntervalSince(start)
        XCTAssertTrue(seen.hasPrefix("FAIL: a_fail (1 of 2)\n"), seen)
        XCTAssertTrue(
            process.isRunning, "the failure is on the pipe while the slow case still runs (after \(shownAfter) s)")
        seen += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertTrue(seen.contains("TIMEOUT: b_hang (2 of 2)\n"), seen)
        XCTAssertTrue(seen.contains("Results: 1 FAIL, 1 TIMEOUT in "), seen)
        XCTAssertFalse(seen.contains("\u{1B}"), "no colour on a pipe")
    }

    @Test func testColourIsChosenByFlagAndNoColor() throws {
        try requireBinary()
        let p = try TempProject()
        try p.writeCase("x", simpleStepCase)  // NEW: no golden
        let always = try runRNNSpec(["run", "--color", "always"], in: p.root)
        XCTAssertEqual(always.status, 1)
        XCTAssertTrue(always.stdout.hasPrefix("\u{1B}[33mNEW\u{1B}[0m: x (1 of 1)\n"), always.stdout)
        XCTAssertTrue(always.stdout.contains("Results: 1 \u{1B}[33mNEW\u{1B}[0m in "), always.stdout)
        // An explicit --color always wins over NO_COLOR; never and auto on a pipe give none.
        XCTAssertTrue(
            try runRNNSpec(["run", "--color", "always"], in: p.root, environment: ["NO_COLOR": "1"]).stdout.contains(
                "\u{1B}[33m"))
        XCTAssertFalse(try runRNNSpec(["run", "--color", "never"], in: p.root).stdout.contains("\u{1B}"))
        XCTAssertFalse(try runRNNSpec(["run"], in: p.root).stdout.contains("\u{1B}"))
        let bad = try runRNNSpec(["run", "--color", "sometimes"], in: p.root)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("rnnspec: error: "), bad.stderr)
    }

    /// Runs the binary on a pseudo-terminal (`script`), standard output and error both on it.
    func onTerminal(_ args: [String], in dir: URL, environment: [String: String] = [:]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            throw XCTSkip("no script(1) for a pseudo-terminal")
        }
        let command = ([rnnspecBinary.path] + args).map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        process.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["CI"] = nil
        env["NO_COLOR"] = nil
        env["TERM"] = "xterm"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func testOnATerminalColourUnlessNoColorAndAProgressLine() throws {
        try requireBinary()
        let p = try slowSuite()
        let shown = try onTerminal(["run", "--jobs", "1"], in: p.root, environment: ["RNNSPEC_FAULT_KERNELS": "1"])
        XCTAssertTrue(shown.contains("\u{1B}[1;31mFAIL\u{1B}[0m: a_fail (1 of 2)"), shown)
        // While b_hang runs, the progress line counts the results so far and the seconds.
        XCTAssertTrue(shown.contains("\r\u{1B}[K[1/2] 1 \u{1B}[1;31mFAIL\u{1B}[0m  "), shown)
        let plain = try onTerminal(
            ["run", "--jobs", "1", "cases/a_fail.yaml"], in: p.root, environment: ["NO_COLOR": "1"])
        XCTAssertTrue(plain.contains("FAIL: a_fail (1 of 1)"), plain)
        XCTAssertFalse(plain.contains("\u{1B}["), plain)
    }

    @Test func testLiveReportWritesEachResultAndRedrawsTheProgressLine() {
        let out = OutputBox(), err = OutputBox()
        var display = DisplayOptions(color: false, progress: true)
        display.progressDelay = 0
        let live = LiveReport(
            display: display, verbose: false, streaming: true, totalKnown: true,
            stdout: { out.append($0) }, stderr: { err.append($0) })
        live.add(CaseResult(id: "b", path: "cases/b.yaml", kernel: "rnn.step", status: .pass), position: 2, files: 2)
        live.add(
            CaseResult(id: "a", path: "cases/a.yaml", kernel: "rnn.step", status: .new, notes: ["no golden yet"]),
            position: 1, files: 2)
        live.finish()
        XCTAssertEqual(
            out.text, "NEW: a (1 of 2)\n  no golden yet\n",
            "only what did not pass, as it comes, with its place in id order")
        XCTAssertTrue(err.text.hasPrefix("\r\u{1B}[K[1/2] 1 PASS  0.0 s"), err.text)
        XCTAssertTrue(err.text.contains("\r\u{1B}[K[2/2] 1 PASS, 1 NEW  "), err.text)
        XCTAssertTrue(err.text.hasSuffix("\r\u{1B}[K"), "the line is cleared at the end")
    }

    @Test func testCheckRefusesAKernelsInputRuleAtTheInputsLineAndReadsGoldens() throws {
        try requireBinary()
        let p = try TempProject()
        try p.writeCase(
            "gru",
            """
            kernel: gru.step
            inputs:
              x: [0.5, -1.0]
              h_prev: [0.1, -0.2]
              W_z: {random: normal, shape: [2, 4], seed: 1}
              W_r: {random: normal, shape: [2, 4], seed: 2}
              W_h: {random: normal, shape: [2, 4], seed: 3}
              b_r: [0.0, 0.1]

            """)
        try p.writeCase("fine", simpleStepCase)
        try p.writeCase("broken_golden", simpleStepCase)
        _ = try p.run(["cases/broken_golden.yaml"], record: .all)
        try "format: 1\ncase: [\n".write(to: p.goldenURL("broken_golden"), atomically: true, encoding: .utf8)
        let r = try runRNNSpec(["check"], in: p.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(
            r.stdout.contains(
                """
                UNRESOLVED: gru (3 of 3)
                  cases/gru.yaml:8:8: error: gru.step: give all of b_z, b_r and b_h or none; b_z and b_h are missing
                    b_r: [0.0, 0.1]
                         ^
                """), r.stdout)
        XCTAssertTrue(
            r.stdout.contains("UNRESOLVED: broken_golden (1 of 3)\n  golden/broken_golden.yaml:3:1: error: "), r.stdout)
        XCTAssertTrue(r.stdout.contains("Results: 1 PASS, 2 UNRESOLVED"), r.stdout)
        // The same rule is what `kernels NAME` and `new` say.
        XCTAssertTrue(
            try runRNNSpec(["kernels", "gru.step"], in: p.root).stdout.contains(
                "input rules (checked when a case loads):\n  give all of b_z, b_r, b_h or none\n"))
        XCTAssertEqual(try runRNNSpec(["new", "lstm.step", "cases/l.yaml"], in: p.root).status, 0)
        let skeleton = try String(contentsOf: p.root.appendingPathComponent("cases/l.yaml"), encoding: .utf8)
        XCTAssertTrue(skeleton.contains("#   when layout is torch: W_ih, W_hh are required (layout torch)\n"), skeleton)
        // run refuses it the same way, before the kernel runs.
        let run = try runRNNSpec(["run", "cases/gru.yaml"], in: p.root)
        XCTAssertTrue(
            run.stdout.contains("cases/gru.yaml:8:8: error: gru.step: give all of b_z, b_r and b_h or none"), run.stdout
        )
    }

    @Test func testInputRulesOfLayoutsPointAtTheUnusedInput() throws {
        let p = try TempProject()
        let text = try XCTUnwrap(KernelRegistry.standard.kernel(named: "lstm.step")).spec.skeleton()
            .replacingOccurrences(of: "  # W_ih:", with: "  W_ih:")
        let error = try p.loadError(text)
        XCTAssertTrue(
            error.contains(
                "error: lstm.step does not use input 'W_ih' (layout is concat_fiog; layout concat_fiog takes W, b); remove it\n  W_ih: "
            ), error)
    }

    @Test func testTorchStateDictRulesAreCheckedWhenTheCaseLoads() throws {
        let p = try TempProject()
        let skeleton = try XCTUnwrap(KernelRegistry.standard.kernel(named: "torch.GRU")).spec.skeleton()
        // weight_ih_l1 with num_layers 1 is not in the module's state_dict.
        let error = try p.loadError(skeleton.replacingOccurrences(of: "  # weight_ih_l1:", with: "  weight_ih_l1:"))
        XCTAssertTrue(
            error.contains(
                "error: torch.GRU does not use input 'weight_ih_l1' (num_layers is 1; not in the state_dict with fewer layers); remove it\n  weight_ih_l1: "
            ), error)
        let reverse = try p.loadError(
            skeleton.replacingOccurrences(of: "  # weight_hh_l0_reverse:", with: "  weight_hh_l0_reverse:"))
        XCTAssertTrue(reverse.contains("does not use input 'weight_hh_l0_reverse' (bidirectional is false;"), reverse)
        XCTAssertTrue(skeleton.contains("#   when bias is false: bias_ih_l0, bias_hh_l0, "), skeleton)
    }

    @Test func testOrphanGoldensOnEverySpellingOfTheWholeSuite() throws {
        let p = try TempProject()
        try p.writeCase("kept", simpleStepCase)
        try p.writeCase("gone", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.removeItem(at: p.root.appendingPathComponent("cases/gone.yaml"))
        let absolute = p.root.appendingPathComponent("cases").path
        for spelling in [[], ["cases"], ["./cases/"], ["cases/../cases"], [absolute], [absolute + "/"]] {
            XCTAssertEqual(try p.run(spelling).orphanGoldens, ["gone"], "\(spelling)")
        }
        XCTAssertEqual(
            try p.run(["cases/kept.yaml"]).orphanGoldens, [], "a part of the suite says nothing about orphans")
    }

    @Test func testEveryCommandsExitCodes() throws {
        try requireBinary()
        let p = try TempProject()
        try p.writeCase("ok", simpleStepCase)
        func status(_ args: [String], env: [String: String?] = [:]) throws -> Int32 {
            let r = try runRNNSpec(args, in: p.root, environment: env)
            if r.status == 2 {
                // One error style: `rnnspec: error: ...` or `FILE:LINE:COLUMN: error: ...`.
                let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
                XCTAssertTrue(
                    first.hasPrefix("rnnspec: error: ") || first.contains(": error: "), "\(args): \(r.stderr)")
            }
            return r.status
        }
        // 2: usage and configuration errors, for every command.
        for args in [
            ["run", "--bogus"], ["report", "--jobs", "0"], ["regen", "--max-failures", "1"],
            ["new", "no.such", "cases/n.yaml"],
            ["kernels", "no.such"], ["check", "cases/missing.yaml"], ["prune", "--bogus"], ["export"],
            ["serve", "--bogus"],
            ["show", "cases/missing.yaml"], ["schema", "extra"], ["bench", "--jobs", "0"],
            ["bench", "--rounds", "0"], ["bench", "--only", "runner", "--rounds", "2"],
            ["run", "--filter", "nothing"],
            ["regen"],
        ] {
            XCTAssertEqual(try status(args, env: args == ["regen"] ? ["CI": "true"] : [:]), 2, "\(args)")
        }
        // 0: success.
        XCTAssertEqual(try status(["regen"]), 0)
        for args in [
            ["run"], ["report", "--output", "r.html"], ["check"], ["kernels"], ["kernels", "rnn.step"], ["schema"],
            ["prune", "--dry-run"], ["show", "cases/ok.yaml"], ["export", "--to", "out"],
            ["new", "rnn.step", "cases/new.yaml"],
        ] {
            XCTAssertEqual(try status(args), 0, "\(args)")
        }
        // serve: 0 when its standard input ends (no request).
        let serve = Process()
        serve.executableURL = rnnspecBinary
        serve.arguments = ["serve"]
        serve.standardInput = FileHandle.nullDevice
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        serve.waitUntilExit()
        XCTAssertEqual(serve.terminationStatus, 0)
        // 1: failures, for the commands that have them.
        // STALE: no golden for it yet
        try p.writeCase("new", simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.25"))
        XCTAssertEqual(try status(["run"]), 1)
        XCTAssertEqual(try status(["report", "--output", "r.html"]), 1)
        try p.writeCase("bad", "kernel: rnn.step\ninputs: {x: [1.0]}\n")
        XCTAssertEqual(try status(["check"]), 1)
        XCTAssertEqual(try status(["regen"]), 1, "a case that cannot load is not regenerated")
        XCTAssertEqual(try status(["export", "--to", "out2"]), 1, "a case not exported")
    }

    @Test func testHelpDocumentsExitCodesAndMaxMismatchesReachesTheReport() throws {
        try requireBinary()
        let p = try TempProject()
        let help = try runRNNSpec(["--help"], in: p.root)
        XCTAssertEqual(help.status, 0)
        let words = help.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        for part in [
            "Exit codes (every command): 0 success; 1 failures: run, report and regen when a case did not pass",
            "check when a case does not load or its golden cannot be read", "2 a usage or configuration error",
            "Errors are printed as `rnnspec: error: ...`", "--generate-completion-script",
        ] {
            XCTAssertTrue(words.contains(part), part)
        }
        XCTAssertTrue(try runRNNSpec(["run", "--help"], in: p.root).stdout.contains("--max-mismatches"))
        // Both values of h changed in the golden: --max-mismatches 1 lists one of the two.
        try p.writeCase("step", simpleStepCase)
        XCTAssertEqual(try runRNNSpec(["regen"], in: p.root).status, 0)
        var lines = try XCTUnwrap(p.golden("step")).components(separatedBy: "\n")
        let h = try XCTUnwrap(lines.firstIndex(of: "  h:"))
        let value = try XCTUnwrap(lines[h...].firstIndex { $0.hasPrefix("    value: [") })
        lines[value] = "    value: [0.5, 0.5]"
        try lines.joined(separator: "\n").write(to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let one = try runRNNSpec(["run", "--max-mismatches", "1"], in: p.root)
        XCTAssertEqual(one.status, 1)
        XCTAssertTrue(one.stdout.contains("    first 1 of 2 differing elements:\n"), one.stdout)
        XCTAssertTrue(
            try runRNNSpec(["run"], in: p.root).stdout.contains("    differing elements:\n"), "all of them by default")
        XCTAssertEqual(try runRNNSpec(["run", "--max-mismatches", "-1"], in: p.root).status, 2)
    }

    @Test func testCompletionScriptCompletesKernelNamesAndCasePaths() throws {
        try requireBinary()
        let p = try TempProject()
        for shell in ["bash", "zsh", "fish"] {
            let r = try runRNNSpec(["--generate-completion-script", shell], in: p.root)
            XCTAssertEqual(r.status, 0)
            for name in ["rnn.step", "torch.LSTM", "onnx.GRU", "keras.SimpleRNN"] {
                XCTAssertTrue(r.stdout.contains(name), "\(shell): \(name)")
            }
            XCTAssertTrue(r.stdout.contains("yaml"), "\(shell): case files by extension")
        }
    }
}
