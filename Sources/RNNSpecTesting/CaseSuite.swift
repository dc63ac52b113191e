import Foundation
import RNNSpec

/// A directory of rnnspec cases (or a filtered part of it) to run inside a test, against rnnspec's
/// kernels or kernels registered in this process.
///
/// The suite's root is a directory holding `cases/` and `golden/`, or a `rnnspec.yaml` that names
/// them (in the root or a parent), as for the `rnnspec` command. Kernels run in the test's own
/// process (``RunOptions/execution`` is `.inProcess`): a kernel that traps stops the test process,
/// and no time or memory limit applies.
///
/// ```swift
/// let suite = try CaseSuite(root: packageRoot, paths: ["cases/gru"], registering: [MyGRUBlend()])
/// assertCasesPass(suite)          // XCTest
/// expectCasesPass(suite)          // Swift Testing
/// ```
public struct CaseSuite: Sendable {
    /// Where the cases and goldens are; paths in ``paths`` are relative to its working directory.
    public var project: Project
    /// Case files or directories under the cases root; empty runs the whole cases root.
    public var paths: [String]
    /// The kernels cases name: rnnspec's own, with the registered ones added or in their place.
    public var registry: KernelRegistry
    /// The run's options (filter, tags, tolerances of loading, jobs); kernels run in this process.
    public var options: RunOptions
    /// Whether a case without a golden file fails (NEW). When false, such a case is judged by its
    /// `expect:` values alone: its result is PASS when they all match, FAIL when one does not (an
    /// `xfail:` is not applied to such a case), so a suite of cases that carry `expect:` values needs
    /// no goldens.
    /// A case with neither a golden nor `expect:` values then checks nothing and passes.
    public var requireGoldens: Bool

    /// A suite under `root`, run against rnnspec's kernels with `kernels` registered on top
    /// (``RNNSpec/KernelRegistry/registering(_:)``: a kernel with a registered name replaces rnnspec's).
    ///
    /// - Parameters:
    ///   - root: The directory with `cases/` and `golden/`, or with (or below) a `rnnspec.yaml`.
    ///   - paths: Case files or directories, relative to `root`; none runs every case.
    ///   - filter: A glob over case ids (`gru/*`), or a word the ids contain.
    ///   - tags: Only cases with any of these tags.
    ///   - kernels: Kernels to run in place of rnnspec's (same name) or beside them (new name).
    ///   - requireGoldens: See ``requireGoldens``.
    /// - Throws: A `UsageError` when the roots cannot be used (no cases directory, say).
    public init(
        root: String, paths: [String] = [], filter: String? = nil, tags: [String] = [],
        registering kernels: [any Kernel] = [], requireGoldens: Bool = true
    ) throws {
        let project = try Project.locate(workingDirectory: URL(fileURLWithPath: root).standardizedFileURL.path)
        try project.validate(for: .run)
        var options = RunOptions()
        options.filter = filter
        options.tags = tags
        options.execution = .inProcess
        self.init(
            project: project, paths: paths, registry: KernelRegistry.standard.registering(kernels),
            options: options, requireGoldens: requireGoldens)
    }

    /// A suite from its parts, for full control of the project, the registry and the options.
    /// `options.execution` is used as given.
    public init(
        project: Project, paths: [String] = [], registry: KernelRegistry, options: RunOptions,
        requireGoldens: Bool = true
    ) {
        self.project = project
        self.paths = paths
        self.registry = registry
        self.options = options
        self.requireGoldens = requireGoldens
    }

    /// Runs the selected cases (nothing is written: goldens are recorded by `rnnspec regen`). Without
    /// ``requireGoldens``, NEW results are judged by their `expect:` values (see there).
    /// Throws a `UsageError` when the selection matches no case or a path is outside the cases root.
    public func run() throws -> RunReport {
        var options = self.options
        options.record = .none
        var report = try Runner(project: project, options: options, registry: registry).run(paths: paths)
        if !requireGoldens {
            for k in report.results.indices where report.results[k].status == .new {
                report.results[k] = Self.judgedWithoutGolden(report.results[k])
            }
        }
        return report
    }

    /// A NEW result judged by its `expect:` values alone: PASS or FAIL, without the "no golden yet" note.
    static func judgedWithoutGolden(_ result: CaseResult) -> CaseResult {
        var r = result
        r.notes.removeAll { $0.hasPrefix("no golden yet") }
        r.status = r.mismatches.isEmpty && r.error == nil ? .pass : .fail
        return r
    }

    /// Runs the selected cases and returns the report with one ``CaseIssue`` per case that did not pass.
    public func check() throws -> (report: RunReport, issues: [CaseIssue]) {
        let report = try run()
        return (report, issues(in: report))
    }

    /// One ``CaseIssue`` per result that counts as failed: FAIL, XPASS, NEW, STALE, UNRESOLVED and
    /// TIMEOUT. PASS, XFAIL and UNSUPPORTED (`skip:`) results give none.
    public func issues(in report: RunReport) -> [CaseIssue] {
        report.results.compactMap { result in
            if result.status.isSuccess || result.status.isSkipped { return nil }
            return CaseIssue(result, workingDirectory: project.workingDirectory)
        }
    }
}

/// A case that did not pass, located in its case file: what a test records as a failure.
public struct CaseIssue: Sendable, Equatable, CustomStringConvertible {
    /// The case id (`exercises/ex06_gru_blend`).
    public var caseID: String
    /// The result (FAIL, NEW, STALE, UNRESOLVED, ...).
    public var status: Status
    /// The absolute path of the file the issue points at: the case file, or the golden file when
    /// that is what cannot be read.
    public var filePath: String
    /// The path as rnnspec prints it (relative to the suite's working directory).
    public var displayPath: String
    /// The 1-based line: the first failing `expect:` value's, the error's, or the `kernel:` field's.
    public var line: Int
    /// The 1-based column of that spot.
    public var column: Int
    /// The status and case id, then the mismatch or error text as `rnnspec run` prints it.
    public var message: String

    /// The issue of a result, its relative paths resolved against `workingDirectory`.
    public init(_ result: CaseResult, workingDirectory: URL) {
        // In the case file: an `expect:` entry or the `gradcheck:` (a golden mismatch's location is the golden file's).
        let spot: RNNSpec.SourceLocation =
            result.mismatches.lazy.filter { $0.reference != .golden }.compactMap(\.location).first
            ?? result.error?.location
            ?? result.location
            ?? RNNSpec.SourceLocation(file: result.path, line: 1, column: 1)
        caseID = result.id
        status = result.status
        displayPath = spot.file
        filePath =
            spot.file.hasPrefix("/")
            ? spot.file
            : workingDirectory.appendingPathComponent(spot.file).standardizedFileURL.path
        line = max(1, spot.line)
        column = max(1, spot.column)
        var text = "\(result.status.rawValue): \(result.id)\n" + result.detailText()
        while text.hasSuffix("\n") { text.removeLast() }
        message = text
    }

    /// `path:line:column: STATUS: id` and the detail lines.
    public var description: String { "\(displayPath):\(line):\(column): \(message)" }
}
