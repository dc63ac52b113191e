import Foundation

/// What the command line asks of a run; the CLI fills it from flags and calls `FrontEnd`.
public struct RunRequest: Sendable {
    public var paths: [String] = []
    public var options = RunOptions()
    public var format: ReportFormat = .text
    /// Where the `--format` report goes (standard output when nil).
    public var output: String? = nil
    public var junit: String? = nil
    /// Also write the HTML report to this file (`run --html FILE`, `report --output FILE`).
    public var html: String? = nil
    public var verbose = false
    /// The backend's command line, when the cases run on another implementation: the run then
    /// ends with a coverage table per kernel.
    public var backend: String? = nil
    /// List this many of the slowest cases after the results.
    public var slowest: Int? = nil
    /// Colour and the progress line, as the command line decided them for its terminal.
    public var display = DisplayOptions()
    public init() {}
}

/// Exit codes: 0 success, 1 failures, 2 usage or configuration error.
public enum ExitStatus: Int32, Sendable {
    case success = 0, failures = 1, usage = 2
}

/// The library side of the command line: runs, prints and writes reports, so that each
/// subcommand's `run()` is a few lines.
public struct FrontEnd: Sendable {
    public var project: Project
    /// Whether `CI=true` is set: then `run` never writes goldens.
    public var isCI: Bool
    /// The kernels: the standard ones, plus the fault kernels under `RNNSPEC_FAULT_KERNELS=1`.
    public var registry: KernelRegistry
    public var stdout: @Sendable (String) -> Void
    public var stderr: @Sendable (String) -> Void

    public init(project: Project, environment: [String: String] = ProcessInfo.processInfo.environment,
                stdout: @escaping @Sendable (String) -> Void = { writeAll(STDOUT_FILENO, $0) },
                stderr: @escaping @Sendable (String) -> Void = { writeAll(STDERR_FILENO, $0) }) {
        // A file-size limit or a full disk under `> report.txt` must give an error, not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        self.project = project
        self.isCI = ["true", "1", "yes"].contains((environment["CI"] ?? "").lowercased())
        self.registry = KernelRegistry.forEnvironment(environment)
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Refuses a command that writes when `CI=true`: a CI run checks the suite, it never changes it.
    func refuseUnderCI(_ what: String) throws {
        if isCI {
            throw UsageError("CI=true is set, and \(what) writes files; a CI run only checks the suite (unset CI to write)")
        }
    }

    /// `rnnspec run`.
    public func run(_ request: RunRequest) throws -> ExitStatus {
        if request.options.record != .none { try refuseUnderCI("`run --record \(request.options.record.rawValue)`") }
        try project.validate(for: request.options.record == .none ? .run : .record)
        for destination in [request.output, request.junit, request.html].compactMap({ $0 }) { try project.checkReportDestination(destination) }
        let report = try execute(request)
        if request.options.record != .none { stdout(writtenSummary(report)) }
        if isCI && !report.orphanGoldens.isEmpty {
            // A renamed or deleted case leaves its golden behind: a CI run fails until it is pruned.
            stderr("rnnspec: error: CI=true: \(report.orphanGoldens.count) golden file\(report.orphanGoldens.count == 1 ? " has" : "s have") no case; rename the case back or `rnnspec prune`\n")
            return .failures
        }
        return report.failed == 0 ? .success : .failures
    }

    /// `rnnspec regen`: re-bless goldens that are new, stale, unreadable or failing (all with
    /// `all`), and say how far each output moved.
    public func regen(paths: [String], all: Bool, options: RunOptions, display: DisplayOptions = DisplayOptions()) throws -> ExitStatus {
        try refuseUnderCI("`regen`")
        var request = RunRequest()
        request.display = display
        request.paths = paths
        request.options = options
        request.options.record = all ? .all : .failed
        try project.validate(for: .record)
        let report = try execute(request)
        stdout(writtenSummary(report))
        return report.failed == 0 ? .success : .failures
    }

    /// `N goldens written`, and the file of each.
    func writtenSummary(_ report: RunReport) -> String {
        let written = report.goldensWritten
        var out = "\(written.count) golden\(written.count == 1 ? "" : "s") written\n"
        let store = project.goldenStore
        for id in written { out += "  wrote \(store.display(store.url(for: id)))\n" }
        return out
    }

    func execute(_ request: RunRequest) throws -> RunReport {
        var options = request.options
        if request.html != nil { options.keepArtifacts = true }
        let runner = Runner(project: project, options: options, registry: registry)
        // The text report goes to standard output as cases finish; JSON on standard output comes whole at the end.
        let streaming = request.format == .text || request.output != nil
        let live = LiveReport(display: request.display, verbose: request.verbose, streaming: streaming,
                              totalKnown: options.tags.isEmpty && options.excludeTags.isEmpty, stdout: stdout, stderr: stderr)
        let report: RunReport
        do {
            report = try runner.run(paths: request.paths, onResult: { result, position, files in live.add(result, position: position, files: files) })
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
        if let backend = request.backend, request.format == .text || request.output != nil { stdout(report.coverageTable(backend: backend)) }
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
    public func check(paths: [String], options: RunOptions, display: DisplayOptions = DisplayOptions()) throws -> ExitStatus {
        try project.validate(for: .check)
        let runner = Runner(project: project, options: options, registry: registry)
        let results = try runner.check(paths)
        let report = RunReport(results: results, orphanGoldens: [], seconds: 0)
        stdout(report.text(color: display.color))
        return report.failed == 0 ? .success : .failures
    }

    /// `rnnspec export [PATH...] --to DIR`.
    public func export(paths: [String], to directory: String, options: RunOptions) throws -> ExitStatus {
        try project.validate(for: .check)
        let summary = try SuiteExport(project: project, registry: registry, options: options).export(paths: paths, to: directory)
        for (id, why) in summary.skipped { stdout("not exported: \(visibleText(id)): \(visibleText(why))\n") }
        if !summary.withoutGolden.isEmpty {
            stdout("exported without golden outputs (new or stale; `rnnspec regen` first): \(summary.withoutGolden.map(visibleText).joined(separator: ", "))\n")
        }
        stdout("exported \(summary.exported.count) case\(summary.exported.count == 1 ? "" : "s") to \(visibleText(directory))\n")
        return summary.skipped.isEmpty ? .success : .failures
    }

    /// `rnnspec kernels [NAME]`.
    public func kernels(name: String?) throws -> ExitStatus {
        let registry = KernelRegistry.standard
        guard let name else { stdout(registry.listing()); return .success }
        guard let kernel = registry.kernel(named: name) else {
            let near = closestMatches(to: name, in: registry.names)
            throw UsageError("unknown kernel '\(name)'" + (near.isEmpty ? "; `rnnspec kernels` lists them" : "; did you mean \(listPhrase(near.map { "'\($0)'" }))?"))
        }
        stdout(kernel.spec.describe())
        return .success
    }

    /// `rnnspec new KERNEL PATH`.
    public func new(kernel name: String, path: String) throws -> ExitStatus {
        try refuseUnderCI("`new`")
        guard let kernel = KernelRegistry.standard.kernel(named: name) else {
            let near = closestMatches(to: name, in: KernelRegistry.standard.names)
            throw UsageError("unknown kernel '\(name)'" + (near.isEmpty ? "; `rnnspec kernels` lists them" : "; did you mean \(listPhrase(near.map { "'\($0)'" }))?"))
        }
        try project.validate(for: .new)
        let url = try project.writeSkeleton(kernel: kernel.spec, path: path)
        let shown = visibleText(project.display(url))
        stdout("wrote \(shown)\nnext: edit its values, then `rnnspec regen \(shown)` and review the golden it writes\n")
        return .success
    }

    /// `rnnspec prune [--dry-run]`: deletes only goldens rnnspec wrote that have no case, lists
    /// each, and lists what it leaves alone. Refuses (exit 2) when the roots are missing or
    /// confused, or when there are no case files at all.
    public func prune(dryRun: Bool) throws -> ExitStatus {
        if !dryRun { try refuseUnderCI("`prune` (deleting goldens)") }
        let report = try project.pruneReport(dryRun: dryRun)
        for path in report.deleted { stdout((dryRun ? "would delete " : "deleted ") + visibleText(path) + "\n") }
        for (path, why) in report.leftAlone { stdout("\(visibleText(path)): \(why)\n") }
        let n = report.deleted.count
        var line = "\(n) golden file\(n == 1 ? "" : "s") with no case" + (dryRun ? "" : " deleted")
        if !report.leftAlone.isEmpty { line += "; \(report.leftAlone.count) other file\(report.leftAlone.count == 1 ? "" : "s") left alone" }
        stdout(line + "\n")
        return .success
    }
}

/// Writes text to a file descriptor; a failed write (a full disk under `> report.txt`) loses
/// the text but never crashes the run (FileHandle.write would trap).
public func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}

// MARK: - The HTML report (`rnnspec report`, `run --html FILE`)

extension FrontEnd {
    /// `rnnspec report [PATH...] --output FILE`: runs the selected cases as `run` does and writes the
    /// HTML report of that run (from the outputs the run produced), then prints the text report.
    public func report(paths: [String], options: RunOptions, output: String, display: DisplayOptions = DisplayOptions()) throws -> ExitStatus {
        var request = RunRequest()
        request.display = display
        request.paths = paths
        request.options = options
        request.html = output
        let status = try run(request)
        stdout("wrote \(visibleText(output))\n")
        return status
    }

    /// The date, the commit of the working directory (when git knows it) and the machine.
    func runInfo() -> RunInfo {
        var info = RunInfo(command: CommandLine.arguments.map { ($0 as NSString).lastPathComponent == "rnnspec" ? "rnnspec" : $0 }.joined(separator: " "))
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
