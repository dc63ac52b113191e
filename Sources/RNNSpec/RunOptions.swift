import Foundation
import RNNKernels

/// Options of a run.
public struct RunOptions: Sendable {
    /// Cases run at once; default: the number of cores.
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    /// A glob over case ids (`lstm/*`, `*clip*`); a pattern without `*`, `?` or `[` matches the ids
    /// that contain it.
    public var filter: String? = nil
    /// Leave out cases whose id matches any of these (the same matching as `filter`).
    public var excludes: [String] = []
    /// Only cases with any of these tags.
    public var tags: [String] = []
    /// Leave out cases with any of these tags.
    public var excludeTags: [String] = []
    /// Whether a selection that matches no case is accepted (else it is a usage error).
    public var allowEmpty = false
    /// Stop starting cases once this many have failed (`--max-failures`, `--fail-fast` is 1).
    public var maxFailures: Int? = nil
    /// Run the i-th (1-based) of n deterministic shares of the cases.
    public var shard: (index: Int, count: Int)? = nil
    /// When goldens are written (`.none`: never).
    public var record: RecordMode = .none
    /// Where recorded goldens go: over the golden, into a pending file beside it, or nowhere.
    public var recordTarget: RecordTarget = .golden
    /// The size limits cases and goldens are read under.
    public var limits = LoadLimits()
    /// Where kernels run: in worker processes (isolated, with the limits below) or in this process.
    public var execution: ExecutionMode = .inProcess
    /// Seconds a case may run before its worker is killed (a case's `timeout:` overrides it).
    public var timeout: Double = RunOptions.defaultTimeout
    /// The memory cap of each worker, in bytes (shown in messages; the worker command applies it).
    public var maxMemoryBytes: Int = RunOptions.defaultMaxMemoryBytes
    /// Keep each case's outputs and golden on its result (`CaseResult.artifacts`), for the HTML report.
    public var keepArtifacts = false
    /// How much of each mismatch is kept (`--max-mismatches`).
    public var comparison = ComparisonOptions()
    /// Run every case's gradcheck in this mode instead of its own (`--gradcheck`).
    public var gradcheckMode: GradCheckMode? = nil

    /// Seconds a case may run in a worker by default.
    public static let defaultTimeout: Double = 120
    /// A quarter of the machine's memory, at most 8 GiB and at least 1 GiB: two workers at the cap
    /// leave the machine half its memory.
    public static var defaultMaxMemoryBytes: Int {
        let quarter = Int(min(ProcessInfo.processInfo.physicalMemory / 4, UInt64(Int.max)))
        return min(8 << 30, max(1 << 30, quarter))
    }

    /// The defaults: every case, in this process, on all cores, writing nothing.
    public init() {}
}
