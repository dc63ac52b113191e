import Foundation
import RNNKernels

/// Where a recording run puts the goldens it writes.
public enum RecordTarget: String, Sendable {
    /// Over the golden (`run --record`, `regen`).
    case golden
    /// Beside it, as `<golden>.yaml.pending`, for `rnnspec review` / `accept` / `reject`.
    case pending
    /// Nowhere: the run says what it would write and how far each output would move
    /// (`regen --dry-run`).
    case dryRun
}

// MARK: - Pending goldens in the store

extension GoldenStore {
    /// What a pending golden's name adds to its golden's: `golden/x.yaml.pending`. The name does
    /// not end in `.yaml`, so case discovery, comparison, orphan detection and `prune` never see it.
    public static let pendingSuffix = ".pending"

    /// The pending golden of a case id.
    public func pendingURL(for id: String) -> URL {
        root.appendingPathComponent(id + ".yaml" + GoldenStore.pendingSuffix)
    }

    func pendingLocation(_ id: String) -> SourceLocation {
        SourceLocation(file: display(pendingURL(for: id)), line: 0, column: 0)
    }

    /// Writes a golden as a pending file beside its golden, atomically, through the confined layer
    /// (as `write`: no link followed or replaced, nothing outside the root).
    public func writePending(_ golden: Golden) throws {
        let id = golden.caseID
        try checkSeparateFromCases(id)
        do {
            try directory.writeAtomically(
                id + ".yaml" + GoldenStore.pendingSuffix, Data(golden.serialized().utf8), replace: true,
                createRoot: true)
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError(
                "cannot write the pending golden: \(f.message); nothing was written", at: pendingLocation(id))
        }
    }

    /// The bytes of a case's pending golden, nil when there is none.
    public func readPendingBytes(_ id: String) throws -> Data? {
        do {
            return try directory.read(id + ".yaml" + GoldenStore.pendingSuffix, maxBytes: limits.maxFileBytes)
        } catch let f as ConfinedDirectory.Failure {
            if f.kind == .notFound || f.kind == .notDirectory { return nil }
            throw SpecError("cannot read the pending golden: \(f.message)", at: pendingLocation(id))
        }
    }

    /// A case's pending golden, nil when there is none.
    public func readPending(_ id: String) throws -> Golden? {
        guard let data = try readPendingBytes(id) else { return nil }
        return try Golden.parse(data: data, path: display(pendingURL(for: id)), limits: limits)
    }

    /// The case ids that have a pending golden, sorted by their bytes.
    public func allPendingIDs() -> [String] {
        let suffix = ".yaml" + GoldenStore.pendingSuffix
        return directory.walk(suffix: suffix).filter { $0.kind == .file }.map { String($0.path.dropLast(suffix.count)) }
    }

    /// Accepts a pending golden: renames it over the golden, atomically (a reader sees the old
    /// golden or the new one, whole). Only a regular file rnnspec wrote is renamed, and never
    /// over a symbolic link.
    public func acceptPending(_ id: String) throws {
        try checkSeparateFromCases(id)
        do {
            try directory.renameFile(
                id + ".yaml" + GoldenStore.pendingSuffix, over: id + ".yaml", prefixBytes: 1 << 16,
                accept: GoldenStore.isWrittenByRNNSpec)
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError("not accepted: \(f.message)", at: pendingLocation(id))
        }
    }

    /// Rejects a pending golden: deletes the pending file (a regular file rnnspec wrote), nothing else.
    public func rejectPending(_ id: String) throws {
        try checkSeparateFromCases(id)
        do {
            guard
                try directory.removeFile(
                    id + ".yaml" + GoldenStore.pendingSuffix, prefixBytes: 1 << 16,
                    accept: GoldenStore.isWrittenByRNNSpec)
            else {
                throw SpecError(
                    "not rejected: the pending file is not a golden rnnspec wrote; left alone", at: pendingLocation(id))
            }
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError("not rejected: \(f.message)", at: pendingLocation(id))
        }
    }

    /// Deletes a case's pending golden if there is one (it is obsolete: its golden already holds
    /// these outputs). Returns whether one was deleted.
    func removeObsoletePending(_ id: String) -> Bool {
        guard (try? checkSeparateFromCases(id)) != nil else { return false }
        return
            (try? directory.removeFile(
                id + ".yaml" + GoldenStore.pendingSuffix, prefixBytes: 1 << 16, accept: GoldenStore.isWrittenByRNNSpec))
            ?? false
    }
}
