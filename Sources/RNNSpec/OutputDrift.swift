import Foundation
import RNNKernels

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
                out.append(
                    "the kernel's params or inputs changed (the golden predates per-input digests, so rnnspec cannot say which; regenerating it records them)"
                )
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
    public static func compare(
        old: [(name: String, value: Value)], new: [(name: String, value: Value)], maxElements: Int = 10
    ) -> [OutputDrift] {
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
                for (k, item) in items.enumerated() {
                    out += drifts("\(name)[\(k)]", k < before.count ? before[k] : nil, item, n)
                }
                for k in items.count..<max(items.count, before.count) {
                    out.append(OutputDrift(name: "\(name)[\(k)]", kind: .removed, type: ValueText.typeText(before[k])))
                }
                return out
            }
            if old == nil { return [OutputDrift(name: name, kind: .added, type: ValueText.typeText(new))] }
        }
        return [drift(name, old, new, n)]
    }

    /// The drift of one value (not a list). An element changes when its text in the golden
    /// would change: for real values, when the numbers differ (or only the sign of a zero does)
    /// and are not both NaN, compared without formatting them; only the first `n` changed
    /// elements are formatted.
    static func drift(_ name: String, _ old: Value?, _ new: Value, _ n: Int) -> OutputDrift {
        var d = OutputDrift(name: name, kind: .unchanged, type: ValueText.typeText(new))
        guard let old else { d.kind = .added; return d }
        let shape = new.shape
        if case .real(let a) = old, case .real(let b) = new, a.dtype == b.dtype, a.shape == b.shape {
            let (x, y) = (a.tensor.scalars, b.tensor.scalars)
            d.total = y.count
            for k in 0..<y.count where x[k].bitPattern != y[k].bitPattern && !(x[k].isNaN && y[k].isNaN) {
                d.count(
                    k, shape, n, old: NumberText.format(x[k], dtype: a.dtype),
                    new: NumberText.format(y[k], dtype: b.dtype), numbers: (x[k], y[k]))
            }
            d.kind = d.changed == 0 ? .unchanged : .changed
            return d
        }
        let (a, b) = (ValueText.elements(old), ValueText.elements(new))
        guard let a, let b, ValueText.typeText(old) == ValueText.typeText(new) else {
            d.kind = old == new ? .unchanged : .reshaped
            if d.kind == .reshaped { d.oldType = ValueText.typeText(old) }
            return d
        }
        d.total = b.count
        for k in 0..<b.count where a[k].text != b[k].text {
            let numbers = a[k].number.flatMap { x in b[k].number.map { (x, $0) } }
            d.count(k, shape, n, old: a[k].text, new: b[k].text, numbers: numbers)
        }
        d.kind = d.changed == 0 ? .unchanged : .changed
        return d
    }

    /// Counts element `k` as changed: among the first `n` it is kept with its texts, and its
    /// absolute and relative change (a NaN one counts as infinite) feed the maxima.
    private mutating func count(
        _ k: Int, _ shape: [Int], _ n: Int, old: @autoclosure () -> String, new: @autoclosure () -> String,
        numbers: (Double, Double)?
    ) {
        changed += 1
        let index = Comparison.multiIndex(k, shape)
        if first.count < n { first.append(Element(index: index, old: old(), new: new())) }
        guard let (x, y) = numbers else { return }
        let diff = Swift.abs(y - x)
        let rel = diff == 0 ? 0 : x == 0 ? Double.infinity : diff / Swift.abs(x)
        if diff.isNaN || maxAbs == nil || diff > maxAbs!.value { maxAbs = (diff.isNaN ? .infinity : diff, index) }
        if rel.isNaN || maxRel == nil || rel > maxRel!.value { maxRel = (rel.isNaN ? .infinity : rel, index) }
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
            out +=
                indent + "    " + e.index.shapeText.padding(toLength: indexWidth, withPad: " ", startingAt: 0) + "  "
                + String(repeating: " ", count: oldWidth - e.old.count) + e.old + " → " + e.new + "\n"
        }
        if changed > first.count {
            out +=
                indent
                + "    ... \(changed - first.count) more changed element\(changed - first.count == 1 ? "" : "s")\n"
        }
        return out
    }
}

extension Comparison {
    /// Largest absolute and relative change from `old` to `new` (for the notes of a rewritten
    /// golden): the maxima of `OutputDrift`'s comparison, over every item of a list; nil where the
    /// two are not comparable (another shape, type or number of items, or changed booleans or
    /// strings).
    public static func drift(from old: Value, to new: Value) -> (abs: Double, rel: Double)? {
        var result = (abs: 0.0, rel: 0.0)
        for d in OutputDrift.drifts("", old, new, 0) {
            switch d.kind {
            case .unchanged: continue
            case .changed:
                guard let abs = d.maxAbs?.value, let rel = d.maxRel?.value else { return nil }  // booleans or strings
                result = (Swift.max(result.abs, abs), Swift.max(result.rel, rel))
            case .added, .removed, .reshaped: return nil
            }
        }
        return result
    }
}
