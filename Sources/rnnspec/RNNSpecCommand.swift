import ArgumentParser
import Foundation
import RNNSpec

@main
struct RNNSpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnspec",
        abstract: "Check recurrent-network math against case files and golden outputs.",
        discussion: """
        Case files (cases/**/*.yaml) describe one computation each; goldens (golden/**/*.yaml) hold the \
        blessed outputs. Start with `rnnspec run`, `rnnspec kernels` and `rnnspec new KERNEL PATH`.

        Exit codes (every command): 0 success; 1 failures: run, report and regen when a case did not pass \
        (or, under CI=true, a golden has no case), check when a case does not load or its golden cannot be read, \
        export when a case was not exported; 2 a usage or configuration error (a bad flag, a missing root, \
        an empty selection, a command that writes under CI=true). kernels, new, prune, show, schema, serve and \
        bench exit 0 or 2. Errors are printed as `rnnspec: error: ...`, or `FILE:LINE:COLUMN: error: ...` when \
        they point into a file.

        Shell completion: `rnnspec --generate-completion-script bash|zsh|fish` (see the README).
        """,
        version: RNNSpecRelease.version,
        subcommands: [Run.self, Report.self, Regen.self, Review.self, Accept.self, Reject.self, Init.self, New.self, Kernels.self, Check.self, Prune.self, Export.self, Bench.self, Serve.self, Show.self, Schema.self],
        defaultSubcommand: nil)

    /// Parses and runs, mapping usage errors to exit code 2. Every error is printed in one style:
    /// `rnnspec: error: ...`, or `FILE:LINE:COLUMN: error: ...` for an error located in a file.
    static func main() {
        // The worker command is started once per job and per fault: skip the parser's setup for it.
        if let code = Serve.fastPath(Array(CommandLine.arguments.dropFirst())) { Foundation.exit(code) }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("rnnspec: \(error)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        } catch let error as SpecError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }   // --help, --version
            // A bad flag or argument (the parser's "Error: ..."), or anything else: exit 2.
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            FileHandle.standardError.write(Data(("rnnspec: error: " + message.escapedKeepingLines + "\n").utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
    }
}

extension RecordMode: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension BenchSection: ExpressibleByArgument {}
extension GradCheckMode: ExpressibleByArgument {}

/// Where the suite lives.
struct ProjectOptions: ParsableArguments {
    @Option(help: "The directory of the case files (default: cases/, or `cases:` in rnnspec.yaml).")
    var casesRoot: String?

    @Option(help: "The directory of the golden files (default: golden/, or `golden:` in rnnspec.yaml).")
    var goldenRoot: String?

    func frontEnd() throws -> FrontEnd {
        FrontEnd(project: try Project.locate(casesRoot: casesRoot, goldenRoot: goldenRoot))
    }
}

/// Which cases, and how many at once.
struct SelectionOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Cases run at once (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Only cases whose id matches: a glob ('theory/*', '*clip*'), or a plain word that the id contains ('clip').")
    var filter: String?

    @Option(help: "Leave out cases whose id matches (a glob or a plain word, as --filter; repeatable).")
    var exclude: [String] = []

    @Option(help: "Only cases with this tag (repeatable).")
    var tag: [String] = []

    @Option(help: "Leave out cases with this tag (repeatable).")
    var excludeTag: [String] = []

    @Flag(help: "Accept a selection that matches no case (else it is an error, exit 2).")
    var allowEmpty = false

    @Option(help: "Run share i of n (1-based, e.g. 2/4): a deterministic split for CI matrices.")
    var shard: String?

    @Option(help: "The most scalars one case may hold.")
    var maxElements: Int = LoadLimits().maxElements

    @Option(help: "The largest case or golden file read, in bytes.")
    var maxFileBytes: Int = LoadLimits.defaultMaxFileBytes

    @Option(help: ArgumentHelp("Seconds a case may run before its worker process is stopped (TIMEOUT); a case's `timeout:` overrides it.", valueName: "seconds"))
    var timeout: Double = RunOptions.defaultTimeout

    @Option(help: ArgumentHelp("The memory cap of each worker process, e.g. 512M or 2G (default: a quarter of the machine's memory, at most 8G).", valueName: "size"))
    var maxMemory: ByteCount?

    @Option(help: ArgumentHelp("Run every gradcheck in this mode, fast or full (default: each case's `mode:`, fast when it gives none).", valueName: "mode"))
    var gradcheck: GradCheckMode?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if jobs ?? 0 > 256 { throw ValidationError("--jobs must be at most 256 (each job is a worker process)") }
        if maxElements < 1 { throw ValidationError("--max-elements must be at least 1") }
        if maxFileBytes < 1 { throw ValidationError("--max-file-bytes must be at least 1") }
        if !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must be a number of seconds above 0 and at most 86400") }
        if let maxMemory, maxMemory.bytes < 64 << 20 { throw ValidationError("--max-memory must be at least 64M (a worker needs that much to start)") }
        if shard != nil && parsedShard == nil { throw ValidationError("--shard takes i/n with 1 ≤ i ≤ n, e.g. 1/4") }
    }

    var parsedShard: (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else { return nil }
        return (parts[0], parts[1])
    }

    var runOptions: RunOptions {
        var o = RunOptions()
        if let jobs { o.jobs = jobs }
        o.filter = filter
        o.excludes = exclude
        o.tags = tag
        o.excludeTags = excludeTag
        o.allowEmpty = allowEmpty
        o.shard = parsedShard
        o.limits = LoadLimits(maxElements: maxElements, maxFileBytes: maxFileBytes)
        o.timeout = timeout
        o.gradcheckMode = gradcheck
        o.maxMemoryBytes = maxMemory?.bytes ?? RunOptions.defaultMaxMemoryBytes
        o.execution = .workers(.rnnspec(workerExecutable, maxMemoryBytes: o.maxMemoryBytes))
        return o
    }
}

/// Shell completion of kernel names (`kernels NAME`, `new KERNEL PATH`): the registry's names.
let kernelCompletion = CompletionKind.list(KernelRegistry.standard.names)

/// Shell completion of case paths: case files (`.yaml`, `.yml`) and directories.
let casePathCompletion = CompletionKind.file(extensions: ["yaml", "yml"])

/// This binary, which runs the worker processes.
var workerExecutable: String {
    Bundle.main.executablePath ?? CommandLine.arguments[0]
}

/// A size in bytes, written with an optional K, M or G suffix (powers of 1024; M when none).
struct ByteCount: ExpressibleByArgument {
    var bytes: Int

    init?(argument: String) {
        var text = argument.uppercased()
        if text.hasSuffix("B") { text.removeLast() }
        var shift = 20
        if let last = text.last, let s = ["K": 10, "M": 20, "G": 30][String(last)] { shift = s; text.removeLast() }
        guard let n = Int(text), n >= 0, n <= Int.max >> shift else { return nil }
        bytes = n << shift
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

        @Option(help: "Write goldens: missing (new ones only), failed (new, stale and failing), all, or pending (failed, as pending files for `rnnspec review`).")
        var record: RecordChoice = .none

        @Flag(help: "Write the goldens --record names as pending files beside them (golden/ID.yaml.pending), for `rnnspec review`, `accept` and `reject`; without --record, records failed.")
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

        @Option(help: ArgumentHelp("Run the cases on this implementation instead of rnnspec's kernels: a command that speaks the worker protocol (docs/worker-protocol.md), run by /bin/sh, e.g. 'python3 my_solutions.py'. Never writes goldens.", valueName: "command"))
        var backend: String?

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func validate() throws {
            if output != nil && format != .json { throw ValidationError("--output goes with --format json") }
            if backend != nil && (record != .none || pending) {
                throw ValidationError("--backend runs another implementation against the goldens; it never writes them (drop --record)")
            }
            if let backend, backend.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--backend needs a command") }
            if failFast && maxFailures != nil { throw ValidationError("--fail-fast is --max-failures 1; give one of them") }
            if let maxFailures, maxFailures < 1 { throw ValidationError("--max-failures must be at least 1") }
            if let slowest, slowest < 1 { throw ValidationError("--slowest must be at least 1") }
        }

        func run() throws {
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
            throw ExitCode(try project.frontEnd().run(request).rawValue)
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Run cases and write a self-contained HTML report: a summary, a card per case, and plots.",
            discussion: "The exit status is run's: 1 when a case did not pass (the report is written either way).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions
        @OptionGroup var display: DisplayFlags
        @OptionGroup var mismatches: MismatchFlags

        @Option(name: .shortAndLong, help: "The HTML file to write.")
        var output: String = "report.html"

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            var options = selection.runOptions
            options.comparison.maxShown = mismatches.maxMismatches
            throw ExitCode(try project.frontEnd().report(paths: paths, options: options, output: output,
                                                         display: display.display(textReport: true)).rawValue)
        }
    }

    struct Regen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "regen",
            abstract: "Rewrite goldens that are new, stale, unreadable or failing; report how far each output moved.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions
        @OptionGroup var display: DisplayFlags
        @OptionGroup var mismatches: MismatchFlags

        @Flag(help: "Rewrite every golden, passing ones included (unchanged bytes are left alone).")
        var all = false

        @Flag(help: "Write each golden as a pending file beside it (golden/ID.yaml.pending) for `rnnspec review`, `accept` and `reject`.")
        var pending = false

        @Flag(help: "Write nothing: print which goldens would be written and how far each output would move.")
        var dryRun = false

        @Argument(help: "Case files or directories, or case ids (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func validate() throws {
            if pending && dryRun { throw ValidationError("--pending writes pending files and --dry-run writes nothing; give one of them") }
        }

        func run() throws {
            var options = selection.runOptions
            options.comparison.maxShown = mismatches.maxMismatches
            options.recordTarget = dryRun ? .dryRun : pending ? .pending : .golden
            throw ExitCode(try project.frontEnd().regen(paths: paths, all: all, options: options,
                                                        display: display.display(textReport: true)).rawValue)
        }
    }

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Write a case skeleton for a kernel, with every input and param, that runs as written.")

        @OptionGroup var project: ProjectOptions

        @Argument(help: "The kernel (see `rnnspec kernels`).", completion: kernelCompletion)
        var kernel: String

        @Argument(help: "The new case file, under the cases root (.yaml is added if missing).", completion: .file(extensions: ["yaml"]))
        var path: String

        func run() throws {
            throw ExitCode(try project.frontEnd().new(kernel: kernel, path: path).rawValue)
        }
    }

    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernels",
            abstract: "List the kernels, or show one kernel's inputs, params and outputs.")

        @Argument(help: "A kernel name.", completion: kernelCompletion)
        var name: String?

        func run() throws {
            throw ExitCode(try FrontEnd(project: Project.locate()).kernels(name: name).rawValue)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate case files without running kernels.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions
        @OptionGroup var display: DisplayFlags

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            throw ExitCode(try project.frontEnd().check(paths: paths, options: selection.runOptions,
                                                        display: display.display(textReport: true)).rawValue)
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "prune", abstract: "Delete golden files that have no case.")

        @OptionGroup var project: ProjectOptions

        @Flag(help: "Only list them.")
        var dryRun = false

        func run() throws {
            throw ExitCode(try project.frontEnd().prune(dryRun: dryRun).rawValue)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write each case as a folder any tool can read: case.json and .npy files of its inputs, expect: values and golden outputs.",
            discussion: "The layout is described in the README (Export). The directory must be new, empty, or an earlier export; it may not lie under either root.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var selection: SelectionOptions

        @Option(help: ArgumentHelp("The directory to write.", valueName: "dir"))
        var to: String

        @Argument(help: "Case files or directories (default: the cases root).", completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            throw ExitCode(try project.frontEnd().export(paths: paths, to: to, options: selection.runOptions).rawValue)
        }
    }

    /// rnnspec's kernels as a backend: the worker process `run` and `regen` start.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve rnnspec's kernels over the worker protocol on standard input and output.",
            discussion: """
            `rnnspec run` starts its workers with this; `rnnspec run --backend 'rnnspec serve'` runs the suite \
            through the protocol as any backend would be run. The protocol: docs/worker-protocol.md.
            """)

        @Option(help: ArgumentHelp("The address-space cap of this process, in bytes.", valueName: "bytes"))
        var maxMemory: Int?

        @Flag(help: "Ignore a request's gradcheck, leaving the finite differences to `rnnspec run` (as most backends do).")
        var noFiniteDifferences = false

        func run() throws {
            throw ExitCode(Serve.serve(maxMemory: maxMemory, noFiniteDifferences: noFiniteDifferences))
        }

        static func serve(maxMemory: Int?, noFiniteDifferences: Bool) -> Int32 {
            if let maxMemory { WorkerServer.capMemory(bytes: maxMemory) }
            let registry = KernelRegistry.forEnvironment(ProcessInfo.processInfo.environment)
            return WorkerServer.serve(registry: registry, name: "rnnspec serve", finiteDifferences: !noFiniteDifferences)
        }

        /// `serve` as `rnnspec run` starts it (`serve`, `--max-memory N`, `--no-finite-differences`,
        /// each at most once), run without the argument parser; nil for any other command line.
        static func fastPath(_ arguments: [String]) -> Int32? {
            guard arguments.first == "serve" else { return nil }
            var maxMemory: Int? = nil, noFiniteDifferences = false
            var rest = arguments.dropFirst()
            while let flag = rest.popFirst() {
                switch flag {
                case "--max-memory" where maxMemory == nil:
                    guard let text = rest.popFirst(), let n = Int(text) else { return nil }
                    maxMemory = n
                case "--no-finite-differences" where !noFiniteDifferences:
                    noFiniteDifferences = true
                default:
                    return nil
                }
            }
            return serve(maxMemory: maxMemory, noFiniteDifferences: noFiniteDifferences)
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Measure the runner and the LSTM/GRU kernels, against NumPy in the same run.",
            discussion: """
            Run it from the repository's top directory in a release build: `swift run -c release rnnspec bench`. \
            It times `rnnspec run` on generated suites of 500, 1,000 and 2,000 small cases, the LSTM and GRU \
            forward and forward + BPTT at T=128 B=32 I=128 H=256 and at the notebooks' T=64 B=1 I=8 H=16, \
            and the same kernels in tools/bench/numpy_reference.py; the README's Performance section explains the table.
            """)

        @Flag(help: "One repetition per row and only the 2,000-case suite: a smoke test, not a measurement.")
        var quick = false

        @Option(name: .shortAndLong, help: "A --jobs value for the runner rows (repeatable; default 1 and 2).")
        var jobs: [Int] = []

        @Option(help: "The Python with NumPy that runs the reference (default: python3 on PATH).")
        var python: String?

        @Flag(help: "Do not run the NumPy reference.")
        var skipNumpy = false

        @Option(help: "What to measure: all, runner or kernels.")
        var only: BenchSection = .all

        @Option(help: "Write the generated suites under this directory and keep them (to profile `rnnspec run` on them).")
        var suiteDir: String?

        @Option(help: "Report format: text or json.")
        var format: ReportFormat = .text

        func validate() throws {
            if only == .kernels && suiteDir != nil { throw ValidationError("--only kernels writes no suite; drop --suite-dir") }
            if jobs.contains(where: { $0 < 1 }) { throw ValidationError("--jobs must be at least 1") }
            if skipNumpy && python != nil { throw ValidationError("--python and --skip-numpy contradict each other") }
            if only == .runner && (skipNumpy || python != nil) { throw ValidationError("--only runner runs no NumPy; drop --python/--skip-numpy") }
            if only == .kernels && !jobs.isEmpty { throw ValidationError("--only kernels runs no cases; drop --jobs") }
        }

        func run() throws {
            var options = BenchOptions()
            options.quick = quick
            if !jobs.isEmpty { options.jobs = jobs }
            if let python { options.python = python }
            options.skipNumPy = skipNumpy
            options.section = only
            options.format = format
            options.suiteDirectory = suiteDir
            throw ExitCode(try FrontEnd(project: Project.locate()).bench(options).rawValue)
        }
    }
}

extension RNNSpecCommand {
    /// `rnnspec show CASE [--npz FILE]` (NpzExport.swift).
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Run one case and print its outputs next to its golden's and its expect: values; --npz writes them for NumPy (np.load).")

        @OptionGroup var project: ProjectOptions

        @Argument(help: "The case: its file (relative to the current directory or inside the cases root) or its id.", completion: casePathCompletion)
        var path: String

        @Option(help: "Write the outputs to this .npz file.")
        var npz: String?

        @Option(help: "text, or json (for scripts): the outputs next to the golden's and the expect: values.")
        var format: ReportFormat = .text

        @Option(help: "The most scalars the case may hold (default 50,000,000).")
        var maxElements: Int?

        func run() throws {
            var options = RunOptions()
            if let maxElements { options.limits = LoadLimits(maxElements: maxElements) }
            throw ExitCode(try project.frontEnd().show(casePath: path, npz: npz, options: options, format: format).rawValue)
        }
    }
}

extension RNNSpecCommand {
    /// `rnnspec schema` (CaseSchema.swift).
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Print the JSON Schema (draft 2020-12) of case files, from the kernel registry (for editors: rnnspec schema > rnnspec.schema.json).")

        func run() throws {
            writeAll(STDOUT_FILENO, CaseSchema.text())
        }
    }
}
