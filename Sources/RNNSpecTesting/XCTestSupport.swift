#if canImport(XCTest)
import Foundation
import RNNSpec
import XCTest

extension XCTestCase {
    /// Runs the suite and records one test failure per case that did not pass, at the case file's
    /// line (the failing `expect:` value's, or the `kernel:` field's), with the mismatch text.
    ///
    /// A suite that cannot run (a root or path that does not exist, a selection that matches no
    /// case) is one failure at the call site.
    ///
    /// - Returns: The run's report, or nil when the suite could not run.
    @discardableResult
    public func assertCasesPass(_ suite: CaseSuite, file: StaticString = #filePath, line: UInt = #line) -> RunReport? {
        let checked: (report: RunReport, issues: [CaseIssue])
        do { checked = try suite.check() } catch {
            XCTFail("rnnspec: the suite cannot run: \(error)", file: file, line: line)
            return nil
        }
        for issue in checked.issues { record(issue) }
        return checked.report
    }

    /// Records a case's issue as a failure at its file and line.
    public func record(_ issue: CaseIssue) {
        #if canImport(Darwin)
        let location = XCTSourceCodeLocation(filePath: issue.filePath, lineNumber: issue.line)
        record(
            XCTIssue(
                type: .assertionFailure, compactDescription: issue.message,
                sourceCodeContext: XCTSourceCodeContext(location: location)))
        #else
        recordFailure(withDescription: issue.message, inFile: issue.filePath, atLine: issue.line, expected: true)
        #endif
    }
}
#endif
