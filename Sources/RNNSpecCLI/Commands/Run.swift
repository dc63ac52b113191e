import ArgumentParser
import Foundation
import RNNSpec

/// `--record`'s values: the library's record modes, and `pending` (failed, into pending files).
enum RecordChoice: String, ExpressibleByArgument, CaseIterable {
    case none, missing, failed, all, pending

    /// The record mode and where the goldens go; `--pending` alone records failed.
    func resolved(pending flag: Bool) -> (RecordMode, RecordTarget) {
        switch self {
        case .pending: return (.failed, .pending)
        case .none: return flag ? (.failed, .pending) : (.none, .golden)
        case .missing: return (.missing, flag ? .pending : .golden)
        case .failed: return (.failed, flag ? .pending : .golden)
        case .all: return (.all, flag ? .pending : .golden)
        }
    }
}

extension RNNSpecCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run cases and compare their outputs with expectations and goldens.",
            discussion: "Writes nothing unless --record is given; with CI=true in the environment it never writes.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions
        @OptionGroup var display: DisplayFlags
        @OptionGroup var mismatches: MismatchFlags

        @Option(
            help:
                "Write goldens: missing (new ones only), failed (new, stale and failing), all, or pending (failed, as pending files for `rnnspec review`)."
        )
        var record: RecordChoice = .none

        @Flag(
            help:
                "Write the goldens --record names as pending files beside them (golden/ID.yaml.pending), for `rnnspec review`, `accept` and `reject`; without --record, records failed."
        )
        var pending = false

        @Option(help: "Report format: text or json.")
        var format: ReportFormat = .text

        @Option(help: "Write the --format report to this file instead of standard output.")
        var output: String?

        @Option(help: "Also write a JUnit XML report to this file.")
        var junit: String?

        @Option(help: "Also write the HTML report (plots, a card per case) to this file.")
        var html: String?

        @Flag(name: .shortAndLong, help: "List passing cases too.")
        var verbose = false

        @Flag(help: "Stop starting cases after the first failure (as --max-failures 1).")
        var failFast = false

        @Option(help: "Stop starting cases once this many have failed; the rest are counted as not run.")
        var maxFailures: Int?

        @Option(help: "List the N slowest cases after the results.")
        var slowest: Int?

        @Option(
            help: ArgumentHelp(
                "Run the cases on this implementation instead of rnnspec's kernels: a command that speaks the worker protocol (docs/worker-protocol.md), run by /bin/sh, e.g. 'python3 my_solutions.py'. Never writes goldens.",
                valueName: "command"))
        var backend: String?

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func validate() throws {
            if output != nil && format != .json { throw ValidationError("--output goes with --format json") }
            if backend != nil && (record != .none || pending) {
                throw ValidationError(
                    "--backend runs another implementation against the goldens; it never writes them (drop --record)")
            }
            if let backend, backend.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--backend needs a command")
            }
            if failFast && maxFailures != nil {
                throw ValidationError("--fail-fast is --max-failures 1; give one of them")
            }
            if let maxFailures, maxFailures < 1 { throw ValidationError("--max-failures must be at least 1") }
            if let slowest, slowest < 1 { throw ValidationError("--slowest must be at least 1") }
        }

        func run() throws {
            throw ExitCode(try project.frontEnd().run(request).rawValue)
        }

        /// What the parsed flags ask `FrontEnd.run` for.
        var request: RunRequest {
            var request = RunRequest()
            request.paths = paths
            request.options = selection.runOptions
            (request.options.record, request.options.recordTarget) = record.resolved(pending: pending)
            request.format = format
            request.output = output
            request.junit = junit
            request.html = html
            request.verbose = verbose
            request.options.maxFailures = failFast ? 1 : maxFailures
            request.slowest = slowest
            request.options.comparison.maxShown = mismatches.maxMismatches
            request.display = display.display(textReport: format == .text || output != nil)
            if let backend {
                request.options.execution = .workers(.shell(backend))
                request.backend = backend
            }
            return request
        }

        /// `run` followed by case paths alone (none starting with `-`), the command a notebook user
        /// types most, with at most one each of `--jobs N`, `--cases-root DIR` and `--golden-root DIR`:
        /// run without the argument parser, whose reflection over this command's options took a quarter
        /// of a one-case run. The request and roots are the ones the parser gives for the same
        /// arguments (`RunFastPathTests` compares them); nil for any other command line.
        static func fastPath(_ arguments: [String]) -> (() throws -> Void)? {
            guard let (request, roots) = fastArguments(arguments) else { return nil }
            return {
                let frontEnd = try ProjectOptions.frontEnd(casesRoot: roots.casesRoot, goldenRoot: roots.goldenRoot)
                throw ExitCode(try frontEnd.run(request).rawValue)
            }
        }

        /// What `fastPath` runs: the request and the roots (`ProjectOptions`' two values); nil when the
        /// parser must read the command line.
        static func fastArguments(_ arguments: [String]) -> (RunRequest, (casesRoot: String?, goldenRoot: String?))? {
            guard arguments.first == "run" else { return nil }
            var paths: [String] = []
            var jobs: Int? = nil
            var roots: (casesRoot: String?, goldenRoot: String?) = (nil, nil)
            var rest = arguments.dropFirst()
            while let argument = rest.popFirst() {
                if argument == "--cases-root" || argument == "--golden-root" {
                    // Once each, with a value the parser takes as it is (not empty, not like a flag).
                    guard let value = rest.popFirst(), !value.isEmpty, !value.hasPrefix("-") else { return nil }
                    if argument == "--cases-root" {
                        guard roots.casesRoot == nil else { return nil }
                        roots.casesRoot = value
                    } else {
                        guard roots.goldenRoot == nil else { return nil }
                        roots.goldenRoot = value
                    }
                } else if argument == "--jobs" || argument == "-j" {
                    // One `--jobs N` in the range the parser accepts; anything else is the parser's.
                    guard jobs == nil, let text = rest.popFirst(), let n = Int(text),
                        SelectionOptions.jobsRange.contains(n)
                    else {
                        return nil
                    }
                    jobs = n
                } else if argument.hasPrefix("-") {
                    return nil
                } else {
                    paths.append(argument)
                }
            }
            var request = defaultRequest(paths: paths)
            if let jobs { request.options.jobs = jobs }
            return (request, roots)
        }

        /// The request of `run PATH...` with every flag at its default.
        static func defaultRequest(paths: [String]) -> RunRequest {
            var request = RunRequest()
            request.paths = paths
            request.options = SelectionOptions.defaultRunOptions
            (request.options.record, request.options.recordTarget) = RecordChoice.none.resolved(pending: false)
            request.options.comparison.maxShown = MismatchFlags.defaultMaxMismatches
            request.display = DisplayFlags.defaultDisplay(textReport: true)
            return request
        }
    }
}
