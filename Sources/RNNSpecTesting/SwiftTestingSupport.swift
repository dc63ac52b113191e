#if canImport(Testing)
import Foundation
import RNNSpec
import Testing

/// Runs the suite and records one issue per case that did not pass, at the case file's line (the
/// failing `expect:` value's, or the `kernel:` field's), with the mismatch text. Call it inside a
/// Swift Testing `@Test`.
///
/// A suite that cannot run (a root or path that does not exist, a selection that matches no case)
/// is one issue at the call site.
///
/// - Returns: The run's report, or nil when the suite could not run.
@discardableResult
public func expectCasesPass(_ suite: CaseSuite, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> RunReport?
{
    let checked: (report: RunReport, issues: [CaseIssue])
    do { checked = try suite.check() } catch {
        Issue.record("rnnspec: the suite cannot run: \(error)", sourceLocation: sourceLocation)
        return nil
    }
    for issue in checked.issues { Issue.record(issue) }
    return checked.report
}

extension Issue {
    /// Records a case's issue at its file and line.
    @discardableResult
    public static func record(_ issue: CaseIssue) -> Issue {
        record(Comment(rawValue: issue.message), sourceLocation: issue.sourceLocation)
    }
}

extension CaseIssue {
    /// The issue's spot as Swift Testing's location; its file ID is the display path.
    public var sourceLocation: Testing.SourceLocation {
        // Swift Testing reads the module name from the file ID's first component.
        let fileID = displayPath.contains("/") ? displayPath : "rnnspec/" + displayPath
        return Testing.SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }
}
#endif
