import Foundation
import RNNSpec

/// What the command line asks of a run; the CLI fills it from flags and calls `FrontEnd`.
struct RunRequest: Sendable {
    var paths: [String] = []
    var options = RunOptions()
    var format: ReportFormat = .text
    /// Where the `--format` report goes (standard output when nil).
    var output: String? = nil
    var junit: String? = nil
    /// Also write the HTML report to this file (`run --html FILE`, `report --output FILE`).
    var html: String? = nil
    var verbose = false
    /// The backend's command line, when the cases run on another implementation: the run then
    /// ends with a coverage table per kernel.
    var backend: String? = nil
    /// List this many of the slowest cases after the results.
    var slowest: Int? = nil
    /// Colour and the progress line, as the command line decided them for its terminal.
    var display = DisplayOptions()
    init() {}
}

/// Exit codes: 0 success, 1 failures, 2 usage or configuration error.
enum ExitStatus: Int32, Sendable {
    case success = 0, failures = 1, usage = 2
}

/// The command line's side of each subcommand: calls the library, prints its text to standard
/// output and standard error and writes the report files, so that each subcommand's `run()` is a
/// few lines. Tests give it closures that collect the text.
struct FrontEnd: Sendable {
    var project: Project
    /// Whether `CI=true` is set: then `run` never writes goldens.
    var isCI: Bool
    /// The kernels: the standard ones, plus the fault kernels under `RNNSPEC_FAULT_KERNELS=1`.
    var registry: KernelRegistry
    var stdout: @Sendable (String) -> Void
    var stderr: @Sendable (String) -> Void

    init(
        project: Project, environment: [String: String] = ProcessInfo.processInfo.environment,
        stdout: @escaping @Sendable (String) -> Void = { writeAll(STDOUT_FILENO, $0) },
        stderr: @escaping @Sendable (String) -> Void = { writeAll(STDERR_FILENO, $0) }
    ) {
        self.project = project
        self.isCI = ["true", "1", "yes"].contains((environment["CI"] ?? "").lowercased())
        self.registry = KernelRegistry.forEnvironment(environment)
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Refuses a command that writes when `CI=true`: a CI run checks the suite, it never changes it.
    func refuseUnderCI(_ what: String) throws {
        if isCI {
            throw UsageError(
                "CI=true is set, and \(what) writes files; a CI run only checks the suite (unset CI to write)")
        }
    }

    /// `rnnspec run`.
    func run(_ request: RunRequest) throws -> ExitStatus {
        if request.options.record != .none && request.options.recordTarget != .dryRun {
            try refuseUnderCI(
                "`run --record \(request.options.record.rawValue)\(request.options.recordTarget == .pending ? " --pending" : "")`"
            )
        }
        try project.validate(for: request.options.record == .none ? .run : .record)
        for destination in [request.output, request.junit, request.html].compactMap({ $0 }) {
            try project.checkReportDestination(destination)
        }
        let report = try execute(request)
        if request.options.record != .none { stdout(writtenSummary(report, target: request.options.recordTarget)) }
        if isCI && !report.orphanGoldens.isEmpty {
            // A renamed or deleted case leaves its golden behind: a CI run fails until it is pruned.
            stderr(
                "rnnspec: error: CI=true: \(report.orphanGoldens.count) golden file\(report.orphanGoldens.count == 1 ? " has" : "s have") no case; rename the case back or `rnnspec prune`\n"
            )
            return .failures
        }
        return report.failed == 0 ? .success : .failures
    }

    /// `rnnspec regen`: re-bless goldens that are new, stale, unreadable or failing (all with
    /// `all`), and say how far each output moved.
    /// With `options.recordTarget` `.pending` the goldens go into pending files for review; with
    /// `.dryRun` nothing is written and the run says what would be.
    func regen(paths: [String], all: Bool, options: RunOptions, display: DisplayOptions = DisplayOptions()) throws
        -> ExitStatus
    {
        if options.recordTarget != .dryRun {
            try refuseUnderCI(options.recordTarget == .pending ? "`regen --pending`" : "`regen`")
        }
        var request = RunRequest()
        request.display = display
        request.paths = paths
        request.options = options
        request.options.record = all ? .all : .failed
        try project.validate(for: .record)
        let report = try execute(request)
        stdout(writtenSummary(report, target: options.recordTarget))
        if options.recordTarget == .dryRun { return .success }
        return report.failed == 0 ? .success : .failures
    }

    /// `N goldens written`, and the file of each; for a pending run `N goldens pending review` and
    /// each pending file; for a dry run `N goldens would be written` and each golden.
    func writtenSummary(_ report: RunReport, target: RecordTarget = .golden) -> String {
        let store = project.goldenStore
        func plural(_ n: Int) -> String { "\(n) golden\(n == 1 ? "" : "s")" }
        switch target {
        case .pending:
            let pending = report.goldensPending
            var out =
                "\(plural(pending.count)) pending review (`rnnspec review`, or `rnnspec accept`/`rnnspec reject`); 0 goldens written\n"
            for id in pending { out += "  pending \(store.display(store.pendingURL(for: id)))\n" }
            return out
        case .dryRun:
            let would = report.results.filter { $0.recording?.action == .wouldWrite }.map(\.id)
            var out = "\(plural(would.count)) would be written (dry run: nothing was written)\n"
            for id in would { out += "  would write \(store.display(store.url(for: id)))\n" }
            return out
        case .golden:
            let written = report.goldensWritten
            var out = "\(plural(written.count)) written\n"
            for id in written { out += "  wrote \(store.display(store.url(for: id)))\n" }
            return out
        }
    }

    func execute(_ request: RunRequest) throws -> RunReport {
        var options = request.options
        if request.html != nil { options.keepArtifacts = true }
        let runner = Runner(project: project, options: options, registry: registry)
        // The text report goes to standard output as cases finish; JSON on standard output comes whole at the end.
        let streaming = request.format == .text || request.output != nil
        let live = LiveReport(
            display: request.display, verbose: request.verbose, streaming: streaming,
            totalKnown: options.tags.isEmpty && options.excludeTags.isEmpty, stdout: stdout, stderr: stderr)
        let report: RunReport
        do {
            report = try runner.run(
                paths: request.paths,
                onResult: { result, position, files in live.add(result, position: position, files: files) })
        } catch {
            live.finish()
            throw error
        }
        live.finish()
        if request.format == .json {
            if let output = request.output { try writeReport(report.json(), to: output) } else { stdout(report.json()) }
        }
        if streaming { stdout(report.footer(color: request.display.color)) }
        if let junit = request.junit { try writeReport(report.junit(), to: junit) }
        if let backend = request.backend, request.format == .text || request.output != nil {
            stdout(report.coverageTable(backend: backend))
        }
        if let n = request.slowest, request.format == .text || request.output != nil { stdout(report.slowest(n)) }
        if let html = request.html { try writeReport(report.html(info: runInfo()), to: html) }
        return report
    }

    func writeReport(_ text: String, to path: String) throws {
        try project.checkReportDestination(path)
        let url = URL(fileURLWithPath: path, relativeTo: project.workingDirectory)
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw UsageError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// `rnnspec check`: load and validate case files without running kernels.
    func check(paths: [String], options: RunOptions, display: DisplayOptions = DisplayOptions()) throws -> ExitStatus {
        try project.validate(for: .check)
        let runner = Runner(project: project, options: options, registry: registry)
        let results = try runner.check(paths)
        let report = RunReport(checked: results)
        stdout(report.text(color: display.color))
        return report.failed == 0 ? .success : .failures
    }

    /// `rnnspec export [PATH...] --to DIR`.
    func export(paths: [String], to directory: String, options: RunOptions) throws -> ExitStatus {
        try project.validate(for: .check)
        let summary = try SuiteExport(project: project, registry: registry, options: options).export(
            paths: paths, to: directory)
        for (id, why) in summary.skipped { stdout("not exported: \(id.escapedForDisplay): \(why.escapedForDisplay)\n") }
        if !summary.withoutGolden.isEmpty {
            stdout(
                "exported without golden outputs (new or stale; `rnnspec regen` first): \(summary.withoutGolden.map(\.escapedForDisplay).joined(separator: ", "))\n"
            )
        }
        stdout(
            "exported \(summary.exported.count) case\(summary.exported.count == 1 ? "" : "s") to \(directory.escapedForDisplay)\n"
        )
        return summary.skipped.isEmpty ? .success : .failures
    }

    /// `rnnspec kernels [NAME]`.
    func kernels(name: String?) throws -> ExitStatus {
        let registry = KernelRegistry.standard
        guard let name else { stdout(registry.listing()); return .success }
        stdout(try registry.kernelOrUsageError(named: name).spec.describe())
        return .success
    }

    /// `rnnspec new KERNEL PATH`.
    func new(kernel name: String, path: String) throws -> ExitStatus {
        try refuseUnderCI("`new`")
        let kernel = try KernelRegistry.standard.kernelOrUsageError(named: name)
        try project.validate(for: .new)
        let url = try project.writeSkeleton(kernel: kernel.spec, path: path)
        let shown = project.display(url).escapedForDisplay
        stdout("wrote \(shown)\nnext: edit its values, then `rnnspec regen \(shown)` and review the golden it writes\n")
        return .success
    }

    /// `rnnspec prune [--dry-run]`: deletes only goldens rnnspec wrote that have no case, lists
    /// each, and lists what it leaves alone. Refuses (exit 2) when the roots are missing or
    /// confused, or when there are no case files at all.
    func prune(dryRun: Bool) throws -> ExitStatus {
        if !dryRun { try refuseUnderCI("`prune` (deleting goldens)") }
        let report = try project.pruneReport(dryRun: dryRun)
        for path in report.deleted { stdout((dryRun ? "would delete " : "deleted ") + path.escapedForDisplay + "\n") }
        for (path, why) in report.leftAlone { stdout("\(path.escapedForDisplay): \(why)\n") }
        let n = report.deleted.count
        var line = "\(n) golden file\(n == 1 ? "" : "s") with no case" + (dryRun ? "" : " deleted")
        if !report.leftAlone.isEmpty {
            line += "; \(report.leftAlone.count) other file\(report.leftAlone.count == 1 ? "" : "s") left alone"
        }
        stdout(line + "\n")
        return .success
    }
}

// MARK: - The HTML report (`rnnspec report`, `run --html FILE`)

extension FrontEnd {
    /// `rnnspec report [PATH...] --output FILE`: runs the selected cases as `run` does and writes the
    /// HTML report of that run (from the outputs the run produced), then prints the text report.
    func report(paths: [String], options: RunOptions, output: String, display: DisplayOptions = DisplayOptions()) throws
        -> ExitStatus
    {
        var request = RunRequest()
        request.display = display
        request.paths = paths
        request.options = options
        request.html = output
        let status = try run(request)
        stdout("wrote \(output.escapedForDisplay)\n")
        return status
    }

    /// The date, the commit of the working directory (when git knows it) and the machine.
    func runInfo() -> RunInfo {
        var info = RunInfo(
            command: CommandLine.arguments.map { ($0 as NSString).lastPathComponent == "rnnspec" ? "rnnspec" : $0 }
                .joined(separator: " "))
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", project.workingDirectory.path, "describe", "--always", "--dirty"]
        let pipe = Pipe()
        git.standardOutput = pipe
        git.standardError = FileHandle.nullDevice
        if (try? git.run()) != nil {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            git.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if git.terminationStatus == 0 && !text.isEmpty { info.commit = text }
        }
        return info
    }
}
