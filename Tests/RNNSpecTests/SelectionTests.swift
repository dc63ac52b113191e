import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Which cases a run takes: filters, exclusions, tags, empty selections, `--max-failures`, `*.yml`.
@Suite final class SelectionTests {
    func project() throws -> TempProject {
        let p = try TempProject()
        try p.writeCase("clip/a", simpleStepCase + "tags: [fast]\n")
        try p.writeCase("clip/b", simpleStepCase + "tags: [slow]\n")
        try p.writeCase("step/c", simpleStepCase)
        return p
    }

    func ids(_ p: TempProject, _ configure: (inout RunOptions) -> Void) throws -> [String] {
        try p.run(configure: configure).results.map(\.id)
    }

    @Test func testFilterExcludeAndTags() throws {
        let p = try project()
        XCTAssertEqual(
            try ids(p) { $0.filter = "clip" }, ["clip/a", "clip/b"], "a plain word matches ids that contain it")
        XCTAssertEqual(try ids(p) { $0.filter = "clip" }, try ids(p) { $0.filter = "*clip*" })
        XCTAssertEqual(try ids(p) { $0.filter = "c*" }, ["clip/a", "clip/b"], "a glob matches the whole id")
        XCTAssertEqual(try ids(p) { $0.excludes = ["b", "step/*"] }, ["clip/a"])
        XCTAssertEqual(
            try ids(p) {
                $0.tags = ["fast", "slow"]; $0.excludeTags = ["slow"]
            }, ["clip/a"])
        XCTAssertEqual(try ids(p) { $0.excludeTags = ["fast"] }, ["clip/b", "step/c"])
    }

    @Test func testAnEmptySelectionIsAnErrorNamingWhatMatchedNothing() throws {
        let p = try project()
        XCTAssertThrowsError(try p.run { $0.filter = "lstm" }) {
            XCTAssertEqual(
                "\($0)",
                "error: no case under the cases root cases/ matches --filter lstm (--allow-empty accepts an empty selection)"
            )
        }
        XCTAssertThrowsError(
            try p.run {
                $0.tags = ["gpu"]; $0.excludes = ["x"]
            }
        ) {
            XCTAssertEqual(
                "\($0)",
                "error: no case under the cases root cases/ matches --exclude x --tag gpu (--allow-empty accepts an empty selection)"
            )
        }
        XCTAssertEqual(
            try p.run {
                $0.filter = "lstm"; $0.allowEmpty = true
            }.results.count, 0)
        let empty = try TempProject()
        XCTAssertThrowsError(try empty.run()) {
            XCTAssertEqual(
                "\($0)",
                "error: no case files (*.yaml) under the cases root cases/; `rnnspec new KERNEL PATH` writes one (--allow-empty accepts an empty run)"
            )
        }
    }

    @Test func testMaxFailuresStopsStartingCases() throws {
        let p = try TempProject()
        for k in 0..<6 { try p.writeCase("c\(k)", simpleStepCase) }  // no goldens: each is NEW, a failure
        let report = try p.run {
            $0.maxFailures = 2; $0.jobs = 1
        }
        XCTAssertEqual(report.results.count, 2)
        XCTAssertEqual(report.notRun, 4)
        XCTAssertEqual(report.summaryLine, "0 passed, 2 failed, 4 not run (--max-failures reached)")
        XCTAssertEqual(try p.run { $0.jobs = 1 }.results.count, 6)
    }

    @Test func testYmlCaseFilesRunAndOneIdHasOneFile() throws {
        let p = try TempProject()
        let yml = p.root.appendingPathComponent("cases/short.yml")
        try simpleStepCase.write(to: yml, atomically: true, encoding: .utf8)
        let report = try p.run(record: .all)
        XCTAssertEqual(report.results.map(\.id), ["short"])
        XCTAssertEqual(report.results.first?.path, "cases/short.yml")
        XCTAssertNotNil(p.golden("short"))
        try p.writeCase("short", simpleStepCase)
        XCTAssertThrowsError(try p.run()) {
            XCTAssertEqual(
                "\($0)",
                "error: cases/short.yaml and cases/short.yml are two case files with one id, 'short' (and one golden); rename one"
            )
        }
    }

    @Test func testSlowestListsTheSlowestCasesFirst() {
        var fast = CaseResult(id: "fast", path: "f", kernel: nil, status: .pass)
        fast.seconds = 0.001
        var slow = CaseResult(id: "slow", path: "s", kernel: nil, status: .pass)
        slow.seconds = 1.5
        let report = RunReport(results: [fast, slow], orphanGoldens: [], seconds: 2)
        XCTAssertEqual(report.slowest(1), "Slowest 1 case:\n     1.500 s  slow\n")
        XCTAssertEqual(report.slowest(5), "Slowest 2 cases:\n     1.500 s  slow\n     0.001 s  fast\n")
    }

    @Test func testVersionFlag() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let r = try runRNNSpec(["--version"], in: FileManager.default.temporaryDirectory)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("0."), r.stdout)
    }
}
