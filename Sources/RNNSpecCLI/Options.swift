import ArgumentParser
import Foundation
import RNNSpec

extension RecordMode: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension GradCheckMode: ExpressibleByArgument {}

/// Where the suite lives.
struct ProjectOptions: ParsableArguments {
    @Option(help: "The directory of the case files (default: cases/, or `cases:` in rnnspec.yaml).")
    var casesRoot: String?

    @Option(help: "The directory of the golden files (default: golden/, or `golden:` in rnnspec.yaml).")
    var goldenRoot: String?

    func frontEnd() throws -> FrontEnd {
        try Self.frontEnd(casesRoot: casesRoot, goldenRoot: goldenRoot)
    }

    /// The front end of a project with these roots (nil: the defaults); `run`'s fast path calls it with
    /// the two values it read.
    static func frontEnd(casesRoot: String?, goldenRoot: String?) throws -> FrontEnd {
        FrontEnd(project: try Project.locate(casesRoot: casesRoot, goldenRoot: goldenRoot))
    }
}

/// Which cases, and how many at once.
struct SelectionOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Cases run at once (default: the number of cores).")
    var jobs: Int?

    /// The `--jobs` values accepted (`run`'s fast path takes the same).
    static let jobsRange = 1...256

    @Option(
        help:
            "Only cases whose id matches: a glob ('theory/*', '*clip*'), or a plain word that the id contains ('clip')."
    )
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

    @Option(
        help: ArgumentHelp(
            "Seconds a case may run before its worker process is stopped (TIMEOUT); a case's `timeout:` overrides it.",
            valueName: "seconds"))
    var timeout: Double = RunOptions.defaultTimeout

    @Option(
        help: ArgumentHelp(
            "The memory cap of each worker process, e.g. 512M or 2G (default: a quarter of the machine's memory, at most 8G).",
            valueName: "size"))
    var maxMemory: ByteCount?

    @Option(
        help: ArgumentHelp(
            "Run every gradcheck in this mode, fast or full (default: each case's `mode:`, fast when it gives none).",
            valueName: "mode"))
    var gradcheck: GradCheckMode?

    func validate() throws {
        if let jobs, jobs < Self.jobsRange.lowerBound {
            throw ValidationError("--jobs must be at least \(Self.jobsRange.lowerBound)")
        }
        if let jobs, jobs > Self.jobsRange.upperBound {
            throw ValidationError("--jobs must be at most \(Self.jobsRange.upperBound) (each job is a worker process)")
        }
        if maxElements < 1 { throw ValidationError("--max-elements must be at least 1") }
        if maxFileBytes < 1 { throw ValidationError("--max-file-bytes must be at least 1") }
        if !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--timeout must be a number of seconds above 0 and at most 86400")
        }
        if let maxMemory, maxMemory.bytes < 64 << 20 {
            throw ValidationError("--max-memory must be at least 64M (a worker needs that much to start)")
        }
        if shard != nil && parsedShard == nil { throw ValidationError("--shard takes i/n with 1 ≤ i ≤ n, e.g. 1/4") }
    }

    var parsedShard: (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else { return nil }
        return (parts[0], parts[1])
    }

    var runOptions: RunOptions {
        var o = Self.defaultRunOptions
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

    /// The run options with every selection flag at its default.
    static var defaultRunOptions: RunOptions {
        var o = RunOptions()
        o.execution = .workers(.rnnspec(workerExecutable, maxMemoryBytes: o.maxMemoryBytes))
        return o
    }
}

/// Shell completion of kernel names (`kernels NAME`, `new KERNEL PATH`): the registry's names.
let kernelCompletion = CompletionKind.list(KernelRegistry.standard.names)

/// Shell completion of case paths: case files (`.yaml`, `.yml`) and directories.
let casePathCompletion = CompletionKind.file(extensions: ["yaml", "yml"])

/// This binary, which runs the worker processes: `/proc/self/exe` on Linux (`Bundle.main` lists the
/// binary's directory to find the bundle, which in a directory of thousands of files took milliseconds
/// of every run's start).
var workerExecutable: String { currentExecutablePath() }

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
