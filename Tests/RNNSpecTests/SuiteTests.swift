import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Checks of the repository's own suite: every golden is current, every kernel has a case.
@Suite final class SuiteTests {
    var repoProject: Project { try! Project.locate(workingDirectory: repositoryRoot.path) }

    @Test func testEveryCaseInTheRepositoryPassesInCIMode() throws {
        var options = RunOptions()
        options.record = .none
        let report = try Runner(project: repoProject, options: options).run(paths: [])
        let failures = report.results.filter { !$0.status.isSuccess && !$0.status.isSkipped }
        XCTAssertGreaterThan(report.results.count, 0)
        XCTAssertTrue(
            failures.isEmpty,
            "run `swift run rnnspec run cases/` and fix or `rnnspec regen` these:\n"
                + failures.map { "\($0.status.rawValue): \($0.id)\n\($0.detailText())" }.joined(separator: "\n"))
        XCTAssertEqual(report.orphanGoldens, [], "golden files with no case: `rnnspec prune` deletes them")
    }

    /// Every case file of the repository, loaded once for the tests that only read them (loading the
    /// whole suite takes seconds in a debug build); nil and the error where a case does not load.
    static let loadedCases: [(id: String, loaded: Case?, error: String)] = {
        let project = try! Project.locate(workingDirectory: repositoryRoot.path)
        let runner = Runner(project: project, options: RunOptions())
        return try! project.caseFiles([]).map { file in
            do { return (file.id, try runner.load(url: file.url, id: file.id), "") } catch {
                return (file.id, nil, "\(error)")
            }
        }
    }()

    @Test func testEveryKernelHasACaseAndEveryCaseAKnownKernel() throws {
        var used: Set<String> = []
        XCTAssertEqual(Self.loadedCases.map(\.id), try repoProject.caseFiles([]).map(\.id))
        for (id, loaded, error) in Self.loadedCases {
            if let loaded {
                used.insert(loaded.kernel.spec.name)
            } else {
                XCTFail("cases/\(id).yaml does not load (an unknown kernel? `rnnspec kernels` lists them): \(error)")
            }
        }
        for name in KernelRegistry.standard.names where !used.contains(name) {
            XCTFail(
                "kernel \(name) has no case: add one under cases/ (`swift run rnnspec new \(name) cases/<folder>/<name>.yaml`), then `rnnspec regen` it"
            )
        }
    }

    /// Every gradient a kernel reports (an output d<input> for an input of the kernel) is checked
    /// against finite differences by some case's `gradcheck:`. The framework kernels' layers from the
    /// second on run the same code, so a gradcheck of layer 1 covers layers 2 and 3 (`_l1` stands for `_lN`).
    @Test func testEveryReportedGradientHasAGradcheckCase() throws {
        func layerClass(_ name: String) -> String {
            name.replacingOccurrences(of: #"_l[1-9]"#, with: "_l1", options: .regularExpression)
        }
        var checked: [String: Set<String>] = [:]
        for (id, loaded, error) in Self.loadedCases {
            let c = try XCTUnwrap(loaded, "cases/\(id).yaml: \(error)")
            if let g = c.gradcheck { checked[c.kernel.spec.name, default: []].formUnion(g.wrt.map(layerClass)) }
        }
        for kernel in KernelRegistry.standard.kernels where kernel.spec.lossOutput != nil {
            let spec = kernel.spec
            for input in spec.inputs where spec.output("d" + input.name) != nil {
                XCTAssertTrue(
                    checked[spec.name, default: []].contains(layerClass(input.name)),
                    "\(spec.name) reports d\(input.name), but no case gradchecks it: add \(input.name) to a case's gradcheck wrt (or a case with one)"
                )
            }
        }
    }

    @Test func testEveryKernelSkeletonRunsAsWritten() throws {
        let p = try TempProject()
        for kernel in KernelRegistry.standard.kernels {
            let url = try p.project.writeSkeleton(kernel: kernel.spec, path: "new/\(kernel.spec.name)")
            XCTAssertEqual(url.lastPathComponent, "\(kernel.spec.name).yaml")
        }
        let report = try p.run(record: .all)
        for r in report.results {
            XCTAssertEqual(
                r.status, .pass, "`rnnspec new \(r.kernel ?? r.id)` writes a case that does not run:\n\(r.detailText())"
            )
        }
        XCTAssertEqual(report.results.count, KernelRegistry.standard.kernels.count)
    }

    @Test func testEveryKernelDeclarationIsConsistent() {
        for kernel in KernelRegistry.standard.kernels {
            let spec = kernel.spec
            XCTAssertTrue(spec.name.contains("."), "\(spec.name): names are family.operation")
            XCTAssertFalse(spec.summary.isEmpty, "\(spec.name) needs a summary")
            XCTAssertFalse(spec.outputs.isEmpty, "\(spec.name) declares no outputs")
            let names = spec.inputs.map(\.name) + spec.params.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "\(spec.name) declares a name twice")
            for p in spec.params {
                if let d = p.defaultValue { XCTAssertFalse(d.description.isEmpty, "\(spec.name).\(p.name)") }
            }
            XCTAssertTrue(spec.describe().contains(spec.name))
        }
    }
}
