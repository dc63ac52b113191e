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
            try directory.writeAtomically(id + ".yaml" + GoldenStore.pendingSuffix, Data(golden.serialized().utf8), replace: true, createRoot: true)
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError("cannot write the pending golden: \(f.message); nothing was written", at: pendingLocation(id))
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
            try directory.renameFile(id + ".yaml" + GoldenStore.pendingSuffix, over: id + ".yaml", prefixBytes: 1 << 16,
                                     accept: GoldenStore.isWrittenByRNNSpec)
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError("not accepted: \(f.message)", at: pendingLocation(id))
        }
    }

    /// Rejects a pending golden: deletes the pending file (a regular file rnnspec wrote), nothing else.
    public func rejectPending(_ id: String) throws {
        try checkSeparateFromCases(id)
        do {
            guard try directory.removeFile(id + ".yaml" + GoldenStore.pendingSuffix, prefixBytes: 1 << 16, accept: GoldenStore.isWrittenByRNNSpec) else {
                throw SpecError("not rejected: the pending file is not a golden rnnspec wrote; left alone", at: pendingLocation(id))
            }
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError("not rejected: \(f.message)", at: pendingLocation(id))
        }
    }

    /// Deletes a case's pending golden if there is one (it is obsolete: its golden already holds
    /// these outputs). Returns whether one was deleted.
    func removeObsoletePending(_ id: String) -> Bool {
        guard (try? checkSeparateFromCases(id)) != nil else { return false }
        return (try? directory.removeFile(id + ".yaml" + GoldenStore.pendingSuffix, prefixBytes: 1 << 16, accept: GoldenStore.isWrittenByRNNSpec)) ?? false
    }
}

// MARK: - What changed: inputs and params, and how far outputs move

/// What changed between a golden and its case: the kernel, params or inputs, by name.
public enum GoldenChange {
    /// What changed between the computation a golden records and another one (the case now, or a
    /// pending golden), by name: `input 'W_hh' changed`, `param 'activation' changed`, `input 'b'
    /// added`. A format 1 golden has no per-input digests: then it says so.
    public static func changes(from old: Golden, kernel: String, digest: String, parts: CaseDigest.Parts?) -> [String] {
        var out: [String] = []
        if old.kernel != kernel { out.append("the kernel changed from '\(old.kernel)' to '\(kernel)'") }
        if old.digest == digest && old.kernel == kernel { return out }
        guard let before = old.parts, let after = parts else {
            if old.kernel == kernel {
                out.append("the kernel's params or inputs changed (the golden predates per-input digests, so rnnspec cannot say which; regenerating it records them)")
            }
            return out
        }
        func compare(_ what: String, _ a: [String: String], _ b: [String: String]) {
            for name in Set(a.keys).union(b.keys).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                switch (a[name], b[name]) {
                case let (x?, y?) where x != y: out.append("\(what) '\(name)' changed")
                case (nil, _?): out.append("\(what) '\(name)' added")
                case (_?, nil): out.append("\(what) '\(name)' removed")
                default: break
                }
            }
        }
        compare("param", before.params, after.params)
        compare("input", before.inputs, after.inputs)
        if out.isEmpty { out.append("the digest changed, though no input or param did (a changed canonical form?)") }
        return out
    }
}

/// How far one output moves from an old value to a new one: how many elements change, the largest
/// absolute and relative change with where, and the first changed elements.
public struct OutputDrift: Sendable {
    /// How an output changed.
    public enum Kind: String, Sendable { case unchanged, changed, added, removed, reshaped }
    /// One changed element.
    public struct Element: Sendable {
        /// Its index.
        public var index: [Int]
        /// The golden's value, as text.
        public var old: String
        /// The new value, as text.
        public var new: String
    }

    /// The output's name.
    public var name: String
    /// How it changed.
    public var kind: Kind
    /// `float64 [2, 3]`: the new value's type and shape (the old one's when removed).
    public var type: String
    /// The old one's, when the shape or type changed.
    public var oldType: String?
    /// Elements that changed.
    public var changed = 0
    /// Elements compared.
    public var total = 0
    /// The largest absolute change and where.
    public var maxAbs: (value: Double, index: [Int])? = nil
    /// The largest relative change and where.
    public var maxRel: (value: Double, index: [Int])? = nil
    /// The first changed elements, in row-major order.
    public var first: [Element] = []

    /// Drift of every output, in the new outputs' order, then the removed ones; a list output is
    /// one drift per item (`h[0]`, `h[1]`, ...).
    public static func compare(old: [(name: String, value: Value)], new: [(name: String, value: Value)], maxElements: Int = 10) -> [OutputDrift] {
        var out: [OutputDrift] = []
        for (name, value) in new {
            let before = old.first { $0.name == name }?.value
            out += drifts(name, before, value, maxElements)
        }
        for (name, value) in old where !new.contains(where: { $0.name == name }) {
            out.append(OutputDrift(name: name, kind: .removed, type: ValueText.typeText(value)))
        }
        return out
    }

    static func drifts(_ name: String, _ old: Value?, _ new: Value, _ n: Int) -> [OutputDrift] {
        if case .list(let items) = new {
            if let old, case .list(let before) = old {
                var out: [OutputDrift] = []
                for (k, item) in items.enumerated() { out += drifts("\(name)[\(k)]", k < before.count ? before[k] : nil, item, n) }
                for k in items.count..<max(items.count, before.count) {
                    out.append(OutputDrift(name: "\(name)[\(k)]", kind: .removed, type: ValueText.typeText(before[k])))
                }
                return out
            }
            if old == nil { return [OutputDrift(name: name, kind: .added, type: ValueText.typeText(new))] }
        }
        return [drift(name, old, new, n)]
    }

    static func drift(_ name: String, _ old: Value?, _ new: Value, _ n: Int) -> OutputDrift {
        var d = OutputDrift(name: name, kind: .unchanged, type: ValueText.typeText(new))
        guard let old else { d.kind = .added; return d }
        let (a, b) = (ValueText.elements(old), ValueText.elements(new))
        guard let a, let b, ValueText.typeText(old) == ValueText.typeText(new) else {
            d.kind = old == new ? .unchanged : .reshaped
            if d.kind == .reshaped { d.oldType = ValueText.typeText(old) }
            return d
        }
        d.total = b.count
        let shape = new.shape
        for k in 0..<b.count where a[k].text != b[k].text {
            d.changed += 1
            let index = Comparison.multiIndex(k, shape)
            if d.first.count < n { d.first.append(Element(index: index, old: a[k].text, new: b[k].text)) }
            if let x = a[k].number, let y = b[k].number {
                let diff = Swift.abs(y - x)
                let rel = x == 0 ? Double.infinity : diff / Swift.abs(x)
                if diff.isNaN || d.maxAbs == nil || diff > d.maxAbs!.value { d.maxAbs = (diff.isNaN ? .infinity : diff, index) }
                if rel.isNaN || d.maxRel == nil || rel > d.maxRel!.value { d.maxRel = (rel.isNaN ? .infinity : rel, index) }
            }
        }
        d.kind = d.changed == 0 ? .unchanged : .changed
        return d
    }

    /// One line: `h: float64 [2]: 1 of 2 elements changed; max abs change 0.25 at [0], max rel change 0.295 at [0]`.
    public var summary: String {
        switch kind {
        case .unchanged: return "\(name): \(type): unchanged"
        case .added: return "\(name): \(type): new output"
        case .removed: return "\(name): \(type): removed"
        case .reshaped: return "\(name): was \(oldType ?? "?"), now \(type)"
        case .changed:
            var line = "\(name): \(type): \(changed) of \(total) element\(total == 1 ? "" : "s") changed"
            if let m = maxAbs { line += "; max abs change \(shortNumber(m.value)) at \(m.index.shapeText)" }
            if let m = maxRel { line += ", max rel change \(shortNumber(m.value)) at \(m.index.shapeText)" }
            return line
        }
    }

    /// The summary, then the first changed elements as `index  old → new` (aligned), each line
    /// starting with `indent`.
    public func text(indent: String = "  ") -> String {
        var out = indent + summary + "\n"
        guard kind == .changed else { return out }
        let indexWidth = first.map { $0.index.shapeText.count }.max() ?? 0
        let oldWidth = first.map { $0.old.count }.max() ?? 0
        for e in first {
            out += indent + "    " + e.index.shapeText.padding(toLength: indexWidth, withPad: " ", startingAt: 0) + "  "
                + String(repeating: " ", count: oldWidth - e.old.count) + e.old + " → " + e.new + "\n"
        }
        if changed > first.count { out += indent + "    ... \(changed - first.count) more changed element\(changed - first.count == 1 ? "" : "s")\n" }
        return out
    }
}

/// Values as text for people: numbers in their dtype's shortest round-trip form (float32 in
/// float32's), a vector on one line, a matrix as rows with aligned columns, higher ranks as
/// matrices under their leading index.
public enum ValueText {
    /// `float64 [2, 3]`, `float32 [4]`, `int64 []`, `bool [2]`, `string [1]`, `list of 2`.
    public static func typeText(_ value: Value) -> String {
        switch value {
        case .real(let r): return "\(r.dtype.rawValue) \(r.shape.shapeText)"
        case .integer(let t): return "int64 \(t.shape.shapeText)"
        case .boolean(let t): return "bool \(t.shape.shapeText)"
        case .string(let t): return "string \(t.shape.shapeText)"
        case .list(let items): return "list of \(items.count)"
        }
    }

    /// Each element's text (and its number, for reals), row-major; nil for a list.
    static func elements(_ value: Value) -> [(text: String, number: Double?)]? {
        switch value {
        case .real(let r): return r.tensor.scalars.map { (NumberText.format($0, dtype: r.dtype), $0) }
        case .integer(let t): return t.scalars.map { (String($0), Double($0)) }
        case .boolean(let t): return t.scalars.map { ($0 ? "true" : "false", nil) }
        case .string(let t): return t.scalars.map { (YAMLText.quoted($0).escapedForDisplay, nil) }
        case .list: return nil
        }
    }

    /// The value as lines (without indentation): at most `maxRows` rows of at most `maxColumns`
    /// elements are shown, and what is left out is counted.
    public static func lines(_ value: Value, maxRows: Int = 24, maxColumns: Int = 16) -> [String] {
        if case .list(let items) = value {
            var out: [String] = []
            for (k, item) in items.enumerated() {
                out.append("item \(k): \(typeText(item))")
                out += lines(item, maxRows: maxRows, maxColumns: maxColumns).map { "  " + $0 }
            }
            return out
        }
        let texts = elements(value)!.map(\.text)
        let shape = value.shape
        if shape.isEmpty { return [texts[0]] }
        if texts.isEmpty { return ["[]"] }
        let columns = shape.last!
        let shownColumns = min(columns, maxColumns)
        func row(_ r: Int, widths: [Int]?) -> String {
            var items: [String] = []
            for c in 0..<shownColumns {
                let t = texts[r * columns + c]
                items.append(widths.map { String(repeating: " ", count: $0[c] - t.count) + t } ?? t)
            }
            if columns > shownColumns { items.append("... \(columns - shownColumns) more") }
            return "[" + items.joined(separator: ", ") + "]"
        }
        if shape.count == 1 { return [row(0, widths: nil)] }
        let rows = texts.count / columns
        let shownRows = min(rows, maxRows)
        var widths = [Int](repeating: 0, count: shownColumns)
        for r in 0..<shownRows { for c in 0..<shownColumns { widths[c] = max(widths[c], texts[r * columns + c].count) } }
        var out: [String] = []
        let rowsPerMatrix = shape[shape.count - 2]
        for r in 0..<shownRows {
            if shape.count > 2 && rowsPerMatrix > 0 && r % rowsPerMatrix == 0 {
                let lead = Comparison.multiIndex(r * columns, shape).dropLast(2).map(String.init)
                out.append("[" + (lead + [":", ":"]).joined(separator: ", ") + "]")
            }
            out.append((shape.count > 2 ? "  " : "") + row(r, widths: widths))
        }
        if rows > shownRows { out.append("... \(rows - shownRows) more row\(rows - shownRows == 1 ? "" : "s")") }
        return out
    }

    /// The value as JSON: nested arrays of numbers (NaN and infinities as the strings "nan",
    /// "inf", "-inf"), integers, booleans or strings; a list as an array of its items.
    public static func json(_ value: Value) -> String {
        func number(_ x: Double, _ dtype: DType) -> String {
            if x.isNaN { return "\"nan\"" }
            if x.isInfinite { return x < 0 ? "\"-inf\"" : "\"inf\"" }
            return NumberText.format(x, dtype: dtype)
        }
        let texts: [String]
        switch value {
        case .list(let items): return "[" + items.map(json).joined(separator: ", ") + "]"
        case .real(let r): texts = r.tensor.scalars.map { number($0, r.dtype) }
        case .integer(let t): texts = t.scalars.map(String.init)
        case .boolean(let t): texts = t.scalars.map { $0 ? "true" : "false" }
        case .string(let t): texts = t.scalars.map(jsonString)
        }
        let shape = value.shape
        var k = 0
        func nest(_ axis: Int) -> String {
            if axis == shape.count { defer { k += 1 }; return texts[k] }
            return "[" + (0..<shape[axis]).map { _ in nest(axis + 1) }.joined(separator: ", ") + "]"
        }
        return nest(0)
    }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 {
                out += String(format: "\\u%04x", u.value)
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

// MARK: - Review items

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
                throw UsageError("no pending golden for \(visibleText(argument)) (`rnnspec run --record pending` writes them; `rnnspec review` lists them)")
            }
            for id in matched { chosen.insert(ExactKey(id)) }
        }
        return all.filter { chosen.contains(ExactKey($0)) }
    }

    /// Whether an argument names a pending id: the id itself or a folder of ids, optionally
    /// spelled as a path under the golden or cases root, with `.yaml`, `.yml` or `.yaml.pending`.
    func matches(_ argument: String, _ id: String) -> Bool {
        var a = argument
        for suffix in [".yaml" + GoldenStore.pendingSuffix, ".yaml", ".yml"] where a.hasSuffix(suffix) { a.removeLast(suffix.count); break }
        while a.hasSuffix("/") { a.removeLast() }
        let absolute = URL(fileURLWithPath: a, relativeTo: project.workingDirectory).absoluteURL.standardizedFileURL.path
        var candidates = [a]
        for root in [project.goldenRoot.path, project.casesRoot.path] where absolute.hasPrefix(root + "/") {
            candidates.append(String(absolute.dropFirst(root.count + 1)))
        }
        return candidates.contains { ExactKey($0) == ExactKey(id) || (!$0.isEmpty && id.hasPrefix($0 + "/")) }
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
        var item = ReviewItem(id: id, why: .new, pendingPath: store.display(store.pendingURL(for: id)),
                              goldenPath: store.display(store.url(for: id)), pending: pending, current: current ?? nil)
        if let old = current ?? nil {
            if old.kernel != pending.kernel || old.digest != pending.digest {
                item.why = .stale
                item.changes = GoldenChange.changes(from: old, kernel: pending.kernel, digest: pending.digest, parts: pending.parts)
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
                    item.problem = "the case changed since this pending golden was written; `rnnspec run --record pending \(project.display(url))` writes it again"
                }
            } catch {
                item.problem = "the case does not load: \(asSpecError(error, path: project.display(url)).message)"
            }
        } else {
            item.problem = "the case no longer exists (its golden would have no case); `rnnspec reject \(id)` removes the pending file"
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
        guard try store.readPendingBytes(id) != nil else { throw UsageError("no pending golden for \(visibleText(id))") }
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
        var notes = ["the case changed since its golden was written: " + GoldenChange.changes(from: g, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts).joined(separator: "; ")]
        for d in OutputDrift.compare(old: g.outputs, new: outputs.entries) {
            notes.append("if regenerated, " + d.summary)
        }
        notes.append("review the change (`rnnspec run --record pending \(c.path)`, then `rnnspec review`), or `rnnspec regen \(c.path)`")
        return notes
    }
}
