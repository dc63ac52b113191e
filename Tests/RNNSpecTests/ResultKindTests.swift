import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

@Suite final class ResultKindTests {
    @Test func testNewThenPassAfterRecording() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        XCTAssertEqual(try p.result("step").status, .new)
        XCTAssertNil(p.golden("step"), "run without --record must not write")
        XCTAssertEqual(try p.result("step", record: .missing).status, .pass)
        XCTAssertNotNil(p.golden("step"))
        XCTAssertEqual(try p.result("step").status, .pass)
    }

    @Test func testFailWhenGoldenDiffers() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        let golden = try XCTUnwrap(p.golden("step"))
        try golden.replacingOccurrences(of: "0.8482836399575129", with: "0.84828").write(
            to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let r = try p.result("step")
        XCTAssertEqual(r.status, .fail)
        // The golden's file and the line of the output, the worst element with the limit allowed there.
        XCTAssertEqual(
            r.detailText(),
            """
            cases/step.yaml: output 'h' differs from the golden:
              golden/step.yaml:16:3: shape [2] float64: 1 of 2 elements differ from the golden beyond abs 1e-12, rel 1e-09
              worst at [0]: actual 0.8482836399575129, expected 0.84828, abs diff 3.64e-06, rel diff 4.29e-06 (allowed 8.49e-10)

            """)
        XCTAssertEqual(
            r.headline,
            "output 'h': 1 of 2 elements differ from the golden beyond abs 1e-12, rel 1e-09; worst at [0]: actual 0.8482836399575129, expected 0.84828 (abs diff 3.64e-06)"
        )
    }

    @Test func testStaleWhenCaseChanges() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        try p.writeCase("step", simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.25"))
        let r = try p.result("step")
        XCTAssertEqual(r.status, .stale)
        XCTAssertEqual(
            r.notes,
            [
                "the case changed since its golden was written: input 'W_hh' changed",
                "if regenerated, h: float64 [2]: 1 of 2 elements changed; max abs change 0.039 at [0], max rel change 0.046 at [0]",
                "if regenerated, a: float64 [2]: 1 of 2 elements changed; max abs change 0.125 at [0], max rel change 0.1 at [0]",
                "review the change (`rnnspec run --record pending cases/step.yaml`, then `rnnspec review`), or `rnnspec regen cases/step.yaml`",
            ])
        // Title, tags and tolerances are not part of the digest.
        try p.writeCase("step", "title: renamed\ntags: [x]\n" + simpleStepCase)
        XCTAssertEqual(try p.result("step").status, .pass)
    }

    @Test func testExpectFailureIsFailAndXfailTurnsItIntoXfail() throws {
        let p = try TempProject()
        let wrong = simpleStepCase + "expect:\n  h: {value: [0.9051, -0.7616], abs: 5e-5}\n"
        try p.writeCase("step", wrong)
        let r = try p.result("step", record: .all)
        XCTAssertEqual(r.status, .new, "a golden is not blessed when expectations fail")
        XCTAssertEqual(r.recording?.action, .refused)
        XCTAssertNil(p.golden("step"))
        try p.writeCase("step", "xfail: the issue's example expects tanh(1.5)\n" + wrong)
        _ = try p.run(record: .all)
        let x = try p.result("step")
        XCTAssertEqual(x.status, .xfail)
        XCTAssertEqual(x.reason, "the issue's example expects tanh(1.5)")
        try p.writeCase("step", "xfail: fixed since\n" + simpleStepCase)
        _ = try p.run(record: .failed)
        XCTAssertEqual(try p.result("step").status, .xpass)
    }

    @Test func testExpectationsAreCheckedEvenWithAMatchingGolden() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        try p.writeCase("step", simpleStepCase + "expect:\n  a: [1.25, -1.5]\n")
        let r = try p.result("step")
        XCTAssertEqual(r.status, .fail)
        XCTAssertEqual(r.mismatches.map(\.reference), [.expect])
        XCTAssertTrue(
            r.mismatches[0].lines[0].hasPrefix(
                "cases/step.yaml:8:6: shape [2] float64: 1 of 2 elements differ from the expect"),
            "\(r.mismatches[0].lines)")
    }

    @Test func testUnresolvedAndUnsupportedAndTheRunGoesOn() throws {
        let p = try TempProject()
        try p.writeCase("a_broken", "kernel: [")
        try p.writeCase("b_skipped", "skip: needs float16\n" + simpleStepCase)
        try p.writeCase("c_fine", simpleStepCase)
        let report = try p.run(record: .missing)
        XCTAssertEqual(report.results.map(\.status), [.unresolved, .unsupported, .pass])
        XCTAssertEqual(report.summaryLine, "1 passed, 1 failed, 1 skipped")
        XCTAssertEqual(report.results[1].reason, "needs float16")
    }

    @Test func testUnreadableGoldenIsUnresolvedAndRegenReplacesIt() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        let good = try XCTUnwrap(p.golden("step"))
        try String(good.prefix(120)).write(to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let r = try p.result("step")
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertEqual(
            "\(r.error!)",
            "golden/step.yaml:1:1: error: the golden file has no 'digest:' (truncated or hand-edited?); `rnnspec regen` rewrites it"
        )
        try "format: 7\ncase: step\nkernel: rnn.step\ndigest: x\noutputs: {}\n".write(
            to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        XCTAssertEqual(
            "\(try p.result("step").error!)",
            """
            golden/step.yaml:1:9: error: golden format 7 is newer than this rnnspec reads (2); update rnnspec or regenerate the golden
            format: 7
                    ^
            """)
        XCTAssertEqual(try p.result("step", record: .failed).status, .pass)
        XCTAssertEqual(p.golden("step"), good)
    }

    @Test func testGoldenForAnotherKernelIsStale() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        let g = try XCTUnwrap(p.golden("step")).replacingOccurrences(
            of: "kernel: \"rnn.step\"", with: "kernel: \"gru.step\"")
        try g.write(to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let r = try p.result("step")
        XCTAssertEqual(r.status, .stale)
        XCTAssertEqual(
            r.notes[0],
            "the case changed since its golden was written: the kernel changed from 'gru.step' to 'rnn.step'")
    }

    @Test func testFilterTagAndShardSelectCases() throws {
        let p = try TempProject()
        for k in 0..<5 { try p.writeCase("s/c\(k)", (k % 2 == 0 ? "tags: [even]\n" : "") + simpleStepCase) }
        XCTAssertEqual(try p.run { $0.filter = "s/c[12]" }.results.map(\.id), ["s/c1", "s/c2"])
        XCTAssertEqual(try p.run { $0.tags = ["even"] }.results.map(\.id), ["s/c0", "s/c2", "s/c4"])
        let shares = try (1...2).map { i in try p.run { $0.shard = (i, 2) }.results.map(\.id) }
        XCTAssertEqual(shares, [["s/c0", "s/c2", "s/c4"], ["s/c1", "s/c3"]])
    }

    @Test func testOrphanGoldensAreReportedAndPruned() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.copyItem(at: p.goldenURL("step"), to: p.goldenURL("gone"))
        XCTAssertEqual(try p.run().orphanGoldens, ["gone"])
        XCTAssertEqual(try p.project.prune(dryRun: true), ["golden/gone.yaml"])
        XCTAssertNotNil(p.golden("gone"))
        XCTAssertEqual(try p.project.prune(dryRun: false), ["golden/gone.yaml"])
        XCTAssertNil(p.golden("gone"))
    }
}
