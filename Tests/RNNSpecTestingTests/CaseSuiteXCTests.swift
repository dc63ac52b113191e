import Foundation
import RNNKernels
import RNNSpec
import RNNSpecTesting
import XCTest

/// `assertCasesPass` in XCTest: the failures it records are captured (not reported) where a test
/// checks them, by overriding the test case's failure recording.
final class CaseSuiteXCTests: XCTestCase {
    private struct Captured { var description: String, file: String, line: Int }
    private var captured: [Captured]? = nil

    #if !canImport(Darwin)
    override func recordFailure(
        withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool
    ) {
        if captured != nil {
            captured!.append(Captured(description: description, file: filePath, line: lineNumber))
        } else {
            super.recordFailure(withDescription: description, inFile: filePath, atLine: lineNumber, expected: expected)
        }
    }
    #endif

    /// Runs `body` and returns the failures it recorded instead of failing the test.
    private func capturing(_ body: () throws -> Void) rethrows -> [Captured] {
        captured = []
        defer { captured = nil }
        try body()
        return captured ?? []
    }

    func testRNNSpecsOwnKernelsPassTheExercises() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: repositoryFile("cases/exercises")).filter {
            $0.hasSuffix(".yaml")
        }
        let report = try XCTUnwrap(
            assertCasesPass(try CaseSuite(root: repositoryRoot.path, paths: ["cases/exercises"])))
        XCTAssertEqual(report.results.count, files.count)
        XCTAssertEqual(report.passed, files.count, report.text())
    }

    func testARegisteredKernelRunsInPlaceOfRNNSpecs() throws {
        let own = OwnGRUBlend()
        let suite = try CaseSuite(root: repositoryRoot.path, filter: "*gru_blend*", registering: [own])
        let report = try XCTUnwrap(assertCasesPass(suite))
        XCTAssertEqual(report.results.map(\.id), ["exercises/ex06_gru_blend"])
        XCTAssertEqual(report.passed, 1)
        XCTAssertEqual(own.counter.count, 1, "the registered kernel ran, not rnnspec's")
    }

    func testAFailingCaseIsAFailureAtItsExpectLine() throws {
        let suite = try CaseSuite(
            root: repositoryRoot.path, paths: ["cases/exercises/ex06_gru_blend.yaml"],
            registering: [OwnGRUBlend(swapped: true)])
        let failures = capturing { assertCasesPass(suite) }
        XCTAssertEqual(failures.count, 1)
        let failure = try XCTUnwrap(failures.first)
        XCTAssertEqual(failure.file, repositoryFile("cases/exercises/ex06_gru_blend.yaml"))
        XCTAssertEqual(
            failure.line,
            try lineNumber(in: "cases/exercises/ex06_gru_blend.yaml", startingWith: "  h:", after: "expect:"))
        XCTAssertTrue(failure.description.hasPrefix("FAIL: exercises/ex06_gru_blend\n"), failure.description)
        XCTAssertTrue(failure.description.contains("output 'h' differs from the expect"), failure.description)
        XCTAssertTrue(failure.description.contains("worst at [1]: actual -0.625, expected 0.125"), failure.description)
    }

    func testAGoldenMismatchIsAFailureAtTheKernelLine() throws {
        let scratch = try ScratchSuite()
        defer { scratch.remove() }
        try scratch.write(
            "blend",
            "# a blend with no expect: values; only its golden says what h is\nkernel: gru.blend\ninputs: {z: [0.5, 0.25], h_prev: [1.0, 2.0], h_tilde: [3.0, 4.0]}\n"
        )
        try scratch.recordGoldens()
        let failures = capturing {
            assertCasesPass(try! CaseSuite(root: scratch.root.path, registering: [OwnGRUBlend(swapped: true)]))
        }
        XCTAssertEqual(failures.map(\.file), [scratch.path("cases/blend.yaml")])
        XCTAssertEqual(failures.map(\.line), [2])
        XCTAssertTrue(failures.first?.description.contains("output 'h' differs from the golden") == true, "\(failures)")
        // rnnspec's own kernel agrees with the golden it wrote.
        XCTAssertEqual(assertCasesPass(try CaseSuite(root: scratch.root.path))?.passed, 1)
    }

    func testANewKernelIsDeclaredAndCheckedAgainstItsShapes() throws {
        let scratch = try ScratchSuite()
        defer { scratch.remove() }
        try scratch.write(
            "axpy",
            "kernel: demo.axpy\nparams: {alpha: 2}\ninputs:\n  x: [1.0, 2.0]\n  y: [0.5, 0.25]\nexpect:\n  out: [2.5, 4.25]\n"
        )
        try scratch.write("axpy_bad_shape", "kernel: demo.axpy\ninputs:\n  x: [1.0, 2.0]\n  y: [0.5, 0.25, 1.0]\n")
        // Without goldens the expect: values decide; the case whose shapes break the declaration is UNRESOLVED at its input.
        let suite = try CaseSuite(root: scratch.root.path, registering: [AXPYKernel()], requireGoldens: false)
        var report: RunReport?
        let failures = capturing { report = assertCasesPass(suite) }
        XCTAssertEqual(report?.results.map(\.status), [.pass, .unresolved])
        XCTAssertEqual(failures.map(\.file), [scratch.path("cases/axpy_bad_shape.yaml")])
        XCTAssertEqual(failures.map(\.line), [4])
        XCTAssertTrue(failures.first?.description.contains("UNRESOLVED: axpy_bad_shape") == true, "\(failures)")
        XCTAssertTrue(failures.first?.description.contains("expects [N]") == true, "\(failures)")
        // With goldens required, the case that has none fails as NEW, at its kernel line.
        var strict = suite
        strict.requireGoldens = true
        strict.paths = ["cases/axpy.yaml"]
        let newFailures = capturing { assertCasesPass(strict) }
        XCTAssertEqual(newFailures.map(\.line), [1])
        XCTAssertTrue(newFailures.first?.description.hasPrefix("NEW: axpy\n") == true, "\(newFailures)")
    }

    func testASuiteThatCannotRunIsAFailureAtTheCallSite() throws {
        let suite = try CaseSuite(root: repositoryRoot.path, filter: "no-case-has-this-id")
        let line = #line + 1
        let failures = capturing { XCTAssertNil(assertCasesPass(suite)) }
        XCTAssertEqual(failures.map(\.file), [#filePath])
        XCTAssertEqual(failures.map(\.line), [line])
        XCTAssertTrue(failures.first?.description.contains("no case under") == true, "\(failures)")
    }
}
