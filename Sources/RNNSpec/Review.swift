import Foundation
import RNNKernels

/// One pending golden, as `rnnspec review` shows it: why it is pending, what changed, how far each
/// output moves, and (for a new golden) the outputs themselves.
public struct ReviewItem: Sendable {
    /// Why a golden is pending: the case was NEW, STALE or failed.
    public enum Why: String, Sendable {
        /// No golden yet.
        case new = "NEW"
        /// The case's kernel, params or inputs changed since the golden was written.
        case stale = "STALE"
        /// The same computation gives other outputs (a kernel changed), or the golden cannot be read.
        case fail = "FAIL"
    }

    /// The case id.
    public var id: String
    /// Why it is pending.
    public var why: Why
    /// The pending file and the golden it would replace, as shown.
    public var pendingPath: String
    /// The golden the pending file would replace, as displayed.
    public var goldenPath: String
    /// STALE: what changed (`input 'W_hh' changed`).
    public var changes: [String] = []
    /// Every output's drift from the golden (empty for NEW).
    public var drifts: [OutputDrift] = []
    /// The pending golden.
    public var pending: Golden
    /// The golden it would replace, if there is one.
    public var current: Golden?
    /// Why accepting it would be wrong now (the case was deleted, or changed since the pending
    /// golden was written); nil when it can be accepted.
    public var problem: String?

    /// The item as text: a header line, then what changed, the drift of each output with its first
    /// changed elements, and for NEW the outputs.
    public func text(maxElements: Int = 10) -> String {
        var out = "\(id.escapedForDisplay): \(why.rawValue)"
        switch why {
        case .new: out += " (no golden yet)\n"
        case .stale: out += " (the case changed since its golden was written)\n"
        case .fail: out += current == nil ? " (the golden cannot be read)\n" : " (same case, other outputs)\n"
        }
        out += "  pending: \(pendingPath.escapedForDisplay) → \(goldenPath.escapedForDisplay)\n"
        for c in changes { out += "  \(c.escapedForDisplay)\n" }
        if let problem { out += "  cannot be accepted: \(problem.escapedForDisplay)\n" }
        if why == .new || current == nil {
            for (name, value) in pending.outputs {
                out += "  \(name.escapedForDisplay): \(ValueText.typeText(value))\n"
                for line in ValueText.lines(value) { out += "    \(line)\n" }
            }
        } else {
            for d in drifts { out += d.text(indent: "  ").escapedKeepingLines }
        }
        return out
    }
}

/// Builds review items and accepts or rejects pending goldens: the library side of `rnnspec review`,
/// `accept` and `reject`.
public struct Review: Sendable {
    /// The suite's roots.
    public var project: Project
    /// The kernels cases are loaded against.
    public var registry: KernelRegistry
    /// The limits cases and goldens are read under.
    public var limits: LoadLimits

    /// Pending goldens of `project`'s suite.
    public init(project: Project, registry: KernelRegistry = .standard, limits: LoadLimits = LoadLimits()) {
        self.project = project
        self.registry = registry
        self.limits = limits
    }

    var store: GoldenStore {
        var s = project.goldenStore
        s.limits = limits
        return s
    }

    /// The pending ids the arguments name, in order: all of them when there are none. An argument
    /// is a case id, a case file or directory (relative to the current directory or inside the
    /// cases root), or a pending or golden file; one that names no pending golden is a usage error.
    public func select(_ arguments: [String]) throws -> [String] {
        let all = store.allPendingIDs()
        if arguments.isEmpty { return all }
        var chosen = Set<ExactKey>()
        for argument in arguments {
            var matched = all.filter { matches(argument, $0) }
            if matched.isEmpty, let files = try? project.caseFiles([argument]) {
                let ids = Set(files.map { ExactKey($0.id) })
                matched = all.filter { ids.contains(ExactKey($0)) }
            }
            guard !matched.isEmpty else {
                throw UsageError(
                    "no pending golden for \(visibleText(argument)) (`rnnspec run --record pending` writes them; `rnnspec review` lists them)"
                )
            }
            for id in matched { chosen.insert(ExactKey(id)) }
        }
        return all.filter { chosen.contains(ExactKey($0)) }
    }

    /// Whether an argument names a pending id: the id itself or a folder of ids, optionally
    /// spelled as a path under the golden or cases root, with `.yaml`, `.yml` or `.yaml.pending`.
    func matches(_ argument: String, _ id: String) -> Bool {
        var a = argument
        for suffix in [".yaml" + GoldenStore.pendingSuffix, ".yaml", ".yml"] where a.hasSuffix(suffix) {
            a.removeLast(suffix.count); break
        }
        while a.hasSuffix("/") { a.removeLast() }
        let absolute = URL(fileURLWithPath: a, relativeTo: project.workingDirectory).absoluteURL.standardizedFileURL
            .path
        // On bytes, as ids are: a `String` prefix compares characters, so it misses an id whose name
        // begins with a combining mark (the mark joins the slash) and takes a root's NFD twin for it.
        var candidates = [a]
        for root in [project.goldenRoot.path, project.casesRoot.path] {
            let prefix = root + "/"
            if absolute.utf8.starts(with: prefix.utf8) {
                candidates.append(String(decoding: absolute.utf8.dropFirst(prefix.utf8.count), as: UTF8.self))
            }
        }
        return candidates.contains {
            ExactKey($0) == ExactKey(id) || (!$0.isEmpty && id.utf8.starts(with: ($0 + "/").utf8))
        }
    }

    /// The case file of an id, nil when there is none.
    func caseURL(_ id: String) -> URL? {
        for ext in [".yaml", ".yml"] {
            let url = project.casesRoot.appendingPathComponent(id + ext)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }

    /// The review item of a pending id.
    public func item(_ id: String) throws -> ReviewItem {
        let store = self.store
        guard let pending = try store.readPending(id) else {
            throw UsageError("no pending golden for \(visibleText(id))")
        }
        let current = try? store.read(id)
        var item = ReviewItem(
            id: id, why: .new, pendingPath: store.display(store.pendingURL(for: id)),
            goldenPath: store.display(store.url(for: id)), pending: pending, current: current ?? nil)
        if let old = current ?? nil {
            if old.kernel != pending.kernel || old.digest != pending.digest {
                item.why = .stale
                item.changes = GoldenChange.changes(
                    from: old, kernel: pending.kernel, digest: pending.digest, parts: pending.parts)
            } else {
                item.why = .fail
            }
            item.drifts = OutputDrift.compare(old: old.outputs, new: pending.outputs)
        } else if store.current(id).exists {
            item.why = .fail
        }
        // The pending golden must still be what the case computes.
        if let url = caseURL(id) {
            var options = RunOptions()
            options.limits = limits
            do {
                let c = try Runner(project: project, options: options, registry: registry).load(url: url, id: id)
                if c.digest != pending.digest || c.kernel.spec.name != pending.kernel {
                    item.problem =
                        "the case changed since this pending golden was written; `rnnspec run --record pending \(project.display(url))` writes it again"
                }
            } catch {
                item.problem = "the case does not load: \(asSpecError(error, path: project.display(url)).message)"
            }
        } else {
            item.problem =
                "the case no longer exists (its golden would have no case); `rnnspec reject \(id)` removes the pending file"
        }
        return item
    }

    /// Accepts a pending golden (renames it over the golden), unless `item(_:)` finds a problem.
    public func accept(_ id: String) throws {
        let item = try self.item(id)
        if let problem = item.problem { throw UsageError("\(visibleText(id)) not accepted: \(problem)") }
        try store.acceptPending(id)
    }

    /// Rejects a pending golden: deletes the pending file only.
    public func reject(_ id: String) throws {
        guard try store.readPendingBytes(id) != nil else {
            throw UsageError("no pending golden for \(visibleText(id))")
        }
        try store.rejectPending(id)
    }
}

extension Case {
    /// The digest of each param and each input, which a golden keeps (format 2).
    public var digestParts: CaseDigest.Parts { CaseDigest.parts(params: params, inputs: inputs) }
}

extension Runner {
    /// A STALE result's notes: what changed since the golden was written (by name, when the golden
    /// has per-input digests), how far each output would move, and what to do.
    func staleNotes(_ c: Case, _ g: Golden, _ outputs: KernelOutputs) -> [String] {
        var notes = [
            "the case changed since its golden was written: "
                + GoldenChange.changes(from: g, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts)
                .joined(separator: "; ")
        ]
        for d in OutputDrift.compare(old: g.outputs, new: outputs.entries) {
            notes.append("if regenerated, " + d.summary)
        }
        notes.append(
            "review the change (`rnnspec run --record pending \(c.path)`, then `rnnspec review`), or `rnnspec regen \(c.path)`"
        )
        return notes
    }
}
