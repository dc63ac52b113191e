import Foundation
import RNNKernels

/// What `rnnspec show` prints and writes for one case: its outputs next to the golden's and the
/// case's `expect:` values, the curves its kernel declares, and the `.npz` arrays of the outputs.
package enum CaseOutputsText {
    /// The `.npz` arrays of a kernel's outputs: reals as float64 (float32 outputs as float32),
    /// integers as int64, booleans as bool; a list of tensors as NAME_0, NAME_1, ...; strings
    /// have no NumPy numeric form and are left out (their names are returned).
    package static func npzArrays(_ outputs: KernelOutputs) -> (
        arrays: [(name: String, array: NpyArray)], skipped: [String]
    ) {
        var arrays: [(name: String, array: NpyArray)] = [], skipped: [String] = []
        func add(_ name: String, _ value: Value) {
            if case .list(let items) = value {
                for (k, item) in items.enumerated() { add("\(name)_\(k)", item) }
            } else if let array = NpyArray(value) {
                arrays.append((name, array))
            } else {
                skipped.append(name)
            }
        }
        for (name, value) in outputs.entries { add(name, value) }
        return (arrays, skipped)
    }

    /// A 1-D curve (a loss per iteration) in a few lines: its first, last and smallest values with their
    /// indices, then every k-th value, k chosen so that about ten are listed (k = ⌈count / 10⌉):
    ///
    ///     loss, 500 values: first 85.0329 [0], last 0.104901 [499], min 0.0981234 [497]
    ///       every k-th, k = 50: [0] 85.0329  [50] 61.2 ...  [450] 0.3  [499] 0.104901
    ///
    /// Numbers have six significant digits; NaN is `nan` and is never the minimum.
    package static func curveSummary(_ name: String, _ values: [Double]) -> String {
        func f(_ x: Double) -> String {
            x.isNaN ? "nan" : x.isInfinite ? (x < 0 ? "-inf" : "inf") : String(format: "%.6g", x)
        }
        guard let first = values.first, let last = values.last else { return "\(name), 0 values\n" }
        var text =
            "\(name), \(values.count) value\(values.count == 1 ? "" : "s"): first \(f(first)) [0], last \(f(last)) [\(values.count - 1)]"
        if let m = values.indices.filter({ !values[$0].isNaN }).min(by: { values[$0] < values[$1] }) {
            text += ", min \(f(values[m])) [\(m)]"
        }
        let k = (values.count + 9) / 10
        var picks = Array(stride(from: 0, to: values.count, by: k))
        if picks.last != values.count - 1 { picks.append(values.count - 1) }
        text += "\n  every k-th, k = \(k): " + picks.map { "[\($0)] \(f(values[$0]))" }.joined(separator: "  ") + "\n"
        return text
    }

    /// Runs one case in this process, as `rnnspec show` does; a kernel's failure is thrown as an
    /// error located at the case file.
    package static func execute(_ c: Case) throws -> KernelOutputs {
        do { return try Execution.run(ExecutionRequest(c), kernel: c.kernel).outputs } catch {
            throw Runner.located(c, error)
        }
    }

    /// The text or JSON `rnnspec show` prints for a case and its computed outputs: each output
    /// next to the golden's value and the case's `expect:` value, shape-aware.
    package static func text(_ c: Case, _ outputs: KernelOutputs, store: GoldenStore, format: ReportFormat) -> String {
        let goldenPath = store.display(store.url(for: c.id))
        var golden: Golden? = nil
        var state = "missing", changes: [String] = [], goldenError: String? = nil
        do {
            golden = try store.read(c.id)
            if let g = golden {
                if g.kernel == c.kernel.spec.name && g.digest == c.digest {
                    state = "current"
                } else {
                    state = "stale"
                    changes = GoldenChange.changes(
                        from: g, kernel: c.kernel.spec.name, digest: c.digest, parts: c.digestParts)
                }
            }
        } catch {
            state = "unreadable"
            goldenError = "\(asSpecError(error, path: goldenPath))"
        }
        let expectations = Dictionary(
            c.expectations.map { ($0.output, $0.expectation) }, uniquingKeysWith: { a, _ in a })

        if format == .json {
            var out =
                "{\"id\": \(jsonString(c.id)), \"path\": \(jsonString(c.path)), \"kernel\": \(jsonString(c.kernel.spec.name)),\n"
            out +=
                " \"golden\": {\"path\": \(jsonString(goldenPath)), \"state\": \"\(state)\", \"changes\": [\(changes.map(jsonString).joined(separator: ", "))]"
            if let goldenError { out += ", \"error\": \(jsonString(goldenError))" }
            out += "},\n \"outputs\": ["
            var first = true
            for (name, value) in outputs.entries {
                out += first ? "\n" : ",\n"
                first = false
                out +=
                    "  {\"name\": \(jsonString(name)), \"type\": \(jsonString(ValueText.typeText(value))), \"computed\": \(ValueText.json(value))"
                if let g = golden?.output(name) {
                    let d = OutputDrift.compare(old: [(name, g)], new: [(name, value)])
                    let changed =
                        d.reduce(0) { $0 + $1.changed }
                        + d.filter { $0.kind == .reshaped || $0.kind == .added || $0.kind == .removed }.count
                    out += ", \"golden\": \(ValueText.json(g)), \"elementsDifferingFromGolden\": \(changed)"
                } else {
                    out += ", \"golden\": null"
                }
                if let e = expectations[name] {
                    let t = e.tolerance ?? c.goldenTolerance(for: name, dtype: dtypeOf(value))
                    let ok =
                        Comparison.compare(
                            actual: value, expected: e.value, tolerance: t, output: name, reference: .expect) == nil
                    out +=
                        ", \"expect\": {\"value\": \(ValueText.json(e.value)), \"abs\": \(NumberText.format(t.abs)), \"rel\": \(NumberText.format(t.rel)), \"source\": \(e.source.map(jsonString) ?? "null"), \"matches\": \(ok)}"
                } else {
                    out += ", \"expect\": null"
                }
                out += "}"
            }
            return out + "\n ]}\n"
        }

        var out = "\(visibleText(c.id)) (\(visibleText(c.path))): \(c.kernel.spec.name)\n"
        switch state {
        case "current": out += "golden: \(visibleText(goldenPath))\n"
        case "stale":
            out += "golden: \(visibleText(goldenPath)) is STALE: \(changes.joined(separator: "; ").escapedForDisplay)\n"
        case "unreadable":
            out += "golden: \(visibleText(goldenPath)) cannot be read: \((goldenError ?? "").escapedForDisplay)\n"
        default:
            out +=
                "golden: none yet (NEW; `rnnspec run --record pending \(visibleText(c.path))` writes one for review)\n"
        }
        func block(_ label: String, _ value: Value, _ suffix: String = "") -> String {
            let lines = ValueText.lines(value)
            if lines.count == 1 { return "  \(label) \(lines[0])\(suffix)\n" }
            return "  \(label)\(suffix)\n" + lines.map { "    \($0)\n" }.joined()
        }
        for (name, value) in outputs.entries {
            out += "\(visibleText(name)): \(ValueText.typeText(value))\n"
            out += block("computed:", value)
            if let g = golden?.output(name) {
                let drifts = OutputDrift.compare(old: [(name, g)], new: [(name, value)])
                if drifts.allSatisfy({ $0.kind == .unchanged }) {
                    out += "  golden:   identical to computed\n"
                } else {
                    out += block("golden:  ", g)
                    for d in drifts where d.kind != .unchanged {
                        out += d.text(indent: "  computed vs golden: ").escapedKeepingLines
                    }
                }
            } else if golden != nil {
                out += "  golden:   (no such output in the golden)\n"
            }
            if let e = expectations[name] {
                let t = e.tolerance ?? c.goldenTolerance(for: name, dtype: dtypeOf(value))
                let ok =
                    Comparison.compare(actual: value, expected: e.value, tolerance: t, output: name, reference: .expect)
                    == nil
                let note =
                    " (\(ok ? "matches" : "DIFFERS") within abs \(NumberText.format(t.abs)), rel \(NumberText.format(t.rel))\(e.source.map { "; source: \($0.escapedForDisplay)" } ?? ""))"
                out += block("expect:  ", e.value, note)
            }
        }
        return out
    }

    static func dtypeOf(_ value: Value) -> DType {
        switch value {
        case .real(let r): return r.dtype
        case .list(let items): return items.first.map(dtypeOf) ?? .float64
        default: return .float64
        }
    }
}

extension NpyArray {
    /// A tensor as NumPy holds it: reals as float64 (float32 outputs as float32), integers as int64,
    /// booleans as bool; nil for strings and lists, which `.npy` cannot hold without pickling.
    package init?(_ value: Value) {
        switch value {
        case .real(let r):
            self.init(
                dtype: .float(bytes: r.dtype == .float32 ? 4 : 8), shape: r.shape, values: .reals(r.tensor.scalars))
        case .integer(let t): self.init(dtype: .int(bytes: 8), shape: t.shape, values: .integers(t.scalars))
        case .boolean(let t): self.init(dtype: .bool, shape: t.shape, values: .booleans(t.scalars))
        case .string, .list: return nil
        }
    }
}
