import Foundation
import RNNKernels

/// The result kinds, as LLVM lit names them, plus NEW and STALE for goldens.
public enum Status: String, Sendable, Codable, CaseIterable {
    case pass = "PASS"
    case fail = "FAIL"
    /// No golden yet.
    case new = "NEW"
    /// The case changed since its golden was written (the digest differs).
    case stale = "STALE"
    /// Marked `xfail:` and failed as expected.
    case xfail = "XFAIL"
    /// Marked `xfail:` but passed.
    case xpass = "XPASS"
    /// The case (or its golden) cannot be loaded, or the kernel rejected it.
    case unresolved = "UNRESOLVED"
    /// Marked `skip:`, or a backend does not implement the kernel.
    case unsupported = "UNSUPPORTED"
    /// The case ran longer than its time limit and its worker was stopped.
    case timeout = "TIMEOUT"

    /// Counted as passed in the summary line.
    public var isSuccess: Bool { self == .pass || self == .xfail }
    /// Counted as skipped.
    public var isSkipped: Bool { self == .unsupported }
}

/// When a run writes goldens.
public enum RecordMode: String, Sendable, CaseIterable {
    /// Never (the default of `run`).
    case none
    /// Only goldens that do not exist.
    case missing
    /// Goldens that are missing, stale, unreadable or differ from the outputs.
    case failed
    /// Every golden of a case that runs.
    case all
}

/// What happened to a golden during a recording run.
public struct Recording: Sendable, Codable {
    /// What was done with the golden.
    /// `pending`: written beside the golden for review (`RecordTarget.pending`); `wouldWrite`: a dry
    /// run's golden that would be created or rewritten.
    public enum Action: String, Sendable, Codable { case created, rewritten, unchanged, refused, pending, wouldWrite }
    /// What was done.
    public var action: Action
    /// Per output: how far it moved from the old golden, or why nothing was written.
    public var notes: [String]
}

/// The outcome of one case.
public struct CaseResult: Sendable {
    /// The case id: its path under the cases root without `.yaml`.
    public var id: String
    /// The case file as shown (relative to the working directory).
    public var path: String
    /// The kernel, when the case could be loaded.
    public var kernel: String?
    /// The verdict.
    public var status: Status
    /// The case's tags (empty when it cannot be loaded).
    public var tags: [String] = []
    /// For XFAIL/XPASS/UNSUPPORTED: the case's reason.
    public var reason: String?
    /// Each output that differs from an `expect:` value, the finite differences or the golden.
    public var mismatches: [Mismatch] = []
    /// The error of an UNRESOLVED or STALE result.
    public var error: SpecError?
    /// Further explanation lines (a STALE golden's hint, say).
    public var notes: [String] = []
    /// What happened to the golden, in a recording run.
    public var recording: Recording?
    /// How long the case took, in seconds.
    public var seconds: Double = 0
    /// The case, its outputs and its golden, when `RunOptions.keepArtifacts` is set.
    public var artifacts: CaseArtifacts? = nil
    /// The line of the case's `kernel:` field, when the case was loaded (nil when it could not be).
    public var location: SourceLocation? = nil

    /// A result from its parts.
    public init(
        id: String, path: String, kernel: String?, status: Status, reason: String? = nil,
        mismatches: [Mismatch] = [], error: SpecError? = nil, notes: [String] = [],
        recording: Recording? = nil, seconds: Double = 0
    ) {
        self.id = id
        self.path = path
        self.kernel = kernel
        self.status = status
        self.reason = reason
        self.mismatches = mismatches
        self.error = error
        self.notes = notes
        self.recording = recording
        self.seconds = seconds
    }
}

/// The results of a run, in case-id order.
public struct RunReport: Sendable {
    /// One result per case that ran, in case-id order.
    public var results: [CaseResult]
    /// Goldens with no case file (reported when the run covers the whole cases root).
    public var orphanGoldens: [String]
    /// The run's wall time.
    public var seconds: Double
    /// Selected cases that were not run because `--max-failures` was reached.
    public var notRun: Int = 0

    /// The number of results with this status.
    /// (Counted without copying the results: a filtered copy of 2,000 results, once per status, was 2%
    /// of a run of small cases.)
    public func count(_ status: Status) -> Int { results.count { $0.status == status } }
    /// PASS and XFAIL results.
    public var passed: Int { results.count { $0.status.isSuccess } }
    /// UNSUPPORTED results.
    public var skipped: Int { results.count { $0.status.isSkipped } }
    /// Every other result.
    public var failed: Int { results.count - passed - skipped }
    /// The case ids whose pending golden this run wrote (`RecordTarget.pending`).
    public var goldensPending: [String] {
        results.filter { $0.recording?.action == .pending }.map(\.id)
    }
    /// The case ids whose golden this run created or rewrote.
    public var goldensWritten: [String] {
        results.filter { $0.recording?.action == .created || $0.recording?.action == .rewritten }.map(\.id)
    }
    /// `N passed, N failed` (`, N skipped` when any were).
    public var summaryLine: String {
        var line = "\(passed) passed, \(failed) failed"
        if skipped > 0 { line += ", \(skipped) skipped" }
        if notRun > 0 { line += ", \(notRun) not run (--max-failures reached)" }
        return line
    }
}
