import Foundation
import RNNKernels

extension Runner {
    /// Runs one loaded case through the stages after execution and returns its result.
    func evaluate(_ c: Case, executed: Result<ExecutionReply, Settled>, start: Date) -> CaseResult {
        var result = CaseResult(id: c.id, path: c.path, kernel: c.kernel.spec.name, status: .unresolved)
        result.tags = c.tags
        defer { result.seconds = Date().timeIntervalSince(start) }
        result.location = c.locations["kernel"]
        if options.keepArtifacts { result.artifacts = CaseArtifacts(case: c) }
        let reply: ExecutionReply
        switch executed {
        case .success(let r): reply = r
        case .failure(let settled):
            result.status = settled.status
            result.error = settled.error
            result.reason = settled.reason
            result.notes = settled.notes
            return result
        }
        result.artifacts?.outputs = reply.outputs
        result.artifacts?.gradients = reply.gradients
        result.artifacts?.directional = reply.directional
        result.mismatches += expectationStage(c, reply.outputs)
        if let request = c.gradcheck {
            result.mismatches += GradCheck.compare(
                reply.gradients, directional: reply.directional, request, options: options.comparison
            ) { name, shape in
                c.kernel.spec.output(name)?.layout(params: c.params, shape: shape) ?? OutputLayout()
            }
        }
        let expectFailed = !result.mismatches.isEmpty
        var golden = goldenStage(c, reply.outputs)
        result.artifacts?.golden = golden.old
        result.mismatches += golden.mismatches
        result.notes += golden.notes
        if result.error == nil { result.error = golden.error }
        if let recording = recordStage(c, reply.outputs, golden: golden, expectFailed: expectFailed) {
            result.recording = recording
            // Only a golden written over the old one blesses the outputs; a pending one awaits review.
            if [.created, .rewritten, .unchanged].contains(recording.action) {
                golden = GoldenCheck(status: .pass)
                result.mismatches.removeAll { $0.reference == .golden }
                result.notes.removeAll()
                if !expectFailed { result.error = nil }
            }
        }
        verdictStage(c, golden: golden.status, into: &result)
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// Verdict: the golden's status first (NEW, STALE, UNRESOLVED), then XFAIL/XPASS, then FAIL/PASS.
    func verdictStage(_ c: Case, golden: Status, into result: inout CaseResult) {
        let failed = !result.mismatches.isEmpty
        if golden != .pass {
            result.status = golden
        } else if let reason = c.xfail {
            result.status = failed ? .xfail : .xpass
            result.reason = reason
        } else {
            result.status = failed ? .fail : .pass
        }
    }
}
