import Foundation
import RNNKernels

extension Runner {
    /// Check expectations: the outputs against the case's `expect:` values, independent of the golden.
    func expectationStage(_ c: Case, _ outputs: KernelOutputs) -> [Mismatch] {
        var mismatches: [Mismatch] = []
        for (name, e) in c.expectations {
            guard let actual = outputs[name] else {
                var m = Mismatch(
                    output: name, reference: .expect, problem: "the kernel did not produce '\(name)' with these params")
                m.location = e.location
                mismatches.append(m)
                continue
            }
            let tolerance = e.tolerance ?? c.goldenTolerance(for: name, dtype: dtype(of: actual))
            if var m = Comparison.compare(
                actual: actual, expected: e.value, tolerance: tolerance, output: name, reference: .expect,
                structure: layout(c, name, actual), options: options.comparison)
            {
                m.location = e.location
                mismatches.append(m)
            }
        }
        return mismatches
    }

    /// What the golden stage found.
    struct GoldenCheck {
        /// PASS when the golden matches or mismatches are listed; NEW, STALE or UNRESOLVED otherwise.
        var status: Status
        var old: Golden? = nil
        var mismatches: [Mismatch] = []
        var notes: [String] = []
        var error: SpecError? = nil
    }

    /// Compare with the golden: NEW, STALE, unreadable, or output by output.
    func goldenStage(_ c: Case, _ outputs: KernelOutputs) -> GoldenCheck {
        let store = goldenStore
        let old: Golden?
        do { old = try store.read(c.id) } catch {
            return GoldenCheck(
                status: .unresolved, notes: ["the golden cannot be read; `rnnspec regen \(c.path)` rewrites it"],
                error: asSpecError(error, path: store.display(store.url(for: c.id))))
        }
        guard let g = old else {
            return GoldenCheck(
                status: .new,
                notes: [
                    "no golden yet; see the outputs with `rnnspec show \(c.path)`, then `rnnspec regen \(c.path)` (or `rnnspec run --record pending` and `rnnspec review`)"
                ])
        }
        guard g.kernel == c.kernel.spec.name, g.digest == c.digest else {
            return GoldenCheck(status: .stale, old: g, notes: staleNotes(c, g, outputs))
        }
        var check = GoldenCheck(status: .pass, old: g)
        let file = store.displayPath(for: c.id)
        func located(_ m: Mismatch) -> Mismatch {
            var m = m
            // The output's name, indented by two spaces under `outputs:` (column 3).
            m.location = SourceLocation(file: file, line: g.outputLines[m.output] ?? 0, column: 3)
            return m
        }
        for (name, value) in outputs.entries {
            guard let expected = g.output(name) else {
                check.mismatches.append(
                    located(
                        Mismatch(output: name, reference: .golden, problem: "output '\(name)' is not in the golden")))
                continue
            }
            if case .real(let a) = value, case .real(let e) = expected, a.dtype != e.dtype {
                check.mismatches.append(
                    located(
                        Mismatch(
                            output: name, reference: .golden,
                            problem: "computed in \(a.dtype.rawValue), the golden holds \(e.dtype.rawValue) values",
                            shape: a.shape, dtype: a.dtype.rawValue)))
                continue
            }
            let tolerance = c.goldenTolerance(for: name, dtype: dtype(of: value))
            if let m = Comparison.compare(
                actual: value, expected: expected, tolerance: tolerance, output: name, reference: .golden,
                structure: layout(c, name, value), options: options.comparison)
            {
                check.mismatches.append(located(m))
            }
        }
        for (name, _) in g.outputs where outputs[name] == nil {
            check.mismatches.append(
                located(
                    Mismatch(
                        output: name, reference: .golden,
                        problem: "the golden has output '\(name)' but the kernel no longer produces it")))
        }
        return check
    }
}
