import Foundation
import RNNKernels

extension Runner {
    /// Record: writes the golden when the record mode asks for it and the outputs do not
    /// contradict the case's `expect:` values; nil when nothing was asked.
    func recordStage(_ c: Case, _ outputs: KernelOutputs, golden check: GoldenCheck, expectFailed: Bool) -> Recording? {
        let wanted: Bool
        switch options.record {
        case .none: wanted = false
        case .missing: wanted = check.status == .new
        case .failed: wanted = check.status != .pass || !check.mismatches.isEmpty
        case .all: wanted = true
        }
        guard wanted else {
            // A pending golden of a case that now passes against its golden is obsolete.
            if options.recordTarget == .pending && check.status == .pass && check.mismatches.isEmpty {
                _ = goldenStore.removeObsoletePending(c.id)
            }
            return nil
        }
        if expectFailed && c.xfail == nil {
            return Recording(
                action: .refused,
                notes: ["not recorded: the outputs fail the case's expect: values, which a golden must not contradict"])
        }
        let golden = Golden(
            caseID: c.id, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts, outputs: outputs.entries)
        do { return try record(golden, replacing: check.old, store: goldenStore) } catch {
            return Recording(action: .refused, notes: ["\(asSpecError(error, path: c.path))"])
        }
    }

    /// Writes a golden unless its bytes would not change, and says how far each output moved.
    func record(_ golden: Golden, replacing old: Golden?, store: GoldenStore) throws -> Recording {
        let target = options.recordTarget
        if target != .dryRun { store.removeAbandonedTemporaries(golden.caseID) }
        let newText = golden.serialized()
        let current = store.current(golden.caseID)
        if let data = current.bytes, data == Data(newText.utf8) {
            // A pending golden of these outputs is obsolete: the golden holds them already.
            if target == .pending { _ = store.removeObsoletePending(golden.caseID) }
            return Recording(action: .unchanged, notes: [])
        }
        let existed = current.exists
        switch target {
        case .golden: try store.write(golden)
        case .pending: try store.writePending(golden)
        case .dryRun: break
        }
        let action: Recording.Action =
            target == .pending ? .pending : target == .dryRun ? .wouldWrite : existed ? .rewritten : .created
        guard let old else {
            return Recording(
                action: action,
                notes: existed ? ["the old golden could not be read"] : target == .golden ? [] : ["new golden"])
        }
        var notes: [String] = []
        for (name, value) in golden.outputs {
            guard let before = old.output(name) else { notes.append("\(name): new output"); continue }
            if let d = Comparison.drift(from: before, to: value) {
                notes.append(
                    d.abs == 0 && d.rel == 0
                        ? "\(name): unchanged"
                        : "\(name): \(target == .golden ? "moved" : "would move") by at most abs \(shortNumber(d.abs)), rel \(shortNumber(d.rel))"
                )
            } else {
                notes.append("\(name): changed shape or type")
            }
        }
        for (name, _) in old.outputs where golden.output(name) == nil { notes.append("\(name): removed") }
        return Recording(action: action, notes: notes)
    }
}
