import Foundation
import RNNKernels

/// Compares values under the `allclose` rule: |a − e| ≤ abs + rel·|e| elementwise, equal
/// shapes, NaN only where the expected value is NaN, infinities equal; integers, strings and
/// booleans exactly.
public enum Comparison {
    /// Compares `actual` with `expected`; nil when they agree. `structure` is the output's declared
    /// time axis and gate blocks (resolved for the case's params), `options` how many differing
    /// elements are kept.
    public static func compare(
        actual: Value, expected: Value, tolerance: Tolerance,
        output: String, reference: Mismatch.Reference,
        structure: OutputLayout = OutputLayout(), options: ComparisonOptions = ComparisonOptions()
    ) -> Mismatch? {
        func mismatch(_ problem: String) -> Mismatch {
            Mismatch(
                output: output, reference: reference, problem: problem, shape: actual.shape, dtype: dtypeName(actual))
        }
        switch (actual, expected) {
        case (.real(let a), .real(let e)):
            guard a.shape == e.shape else {
                return mismatch("shape \(a.shape.shapeText), \(reference.rawValue) has shape \(e.shape.shapeText)")
            }
            return compareReals(
                a, e, tolerance, output: output, reference: reference, structure: structure, options: options)
        case (.integer(let a), .integer(let e)):
            return compareExact(
                a.shape, a.scalars.map(String.init), e.shape, e.scalars.map(String.init), "integer", output, reference,
                structure, options)
        case (.string(let a), .string(let e)):
            return compareExact(
                a.shape, a.scalars.map(YAMLText.quoted), e.shape, e.scalars.map(YAMLText.quoted), "string", output,
                reference, structure, options)
        case (.boolean(let a), .boolean(let e)):
            return compareExact(
                a.shape, a.scalars.map(String.init), e.shape, e.scalars.map(String.init), "boolean", output, reference,
                structure, options)
        case (.list(let a), .list(let e)):
            guard a.count == e.count else {
                return mismatch("a list of \(a.count) tensors, \(reference.rawValue) has \(e.count)")
            }
            for (k, (x, y)) in zip(a, e).enumerated() {
                if var m = compare(
                    actual: x, expected: y, tolerance: tolerance, output: output, reference: reference, options: options
                ) {
                    m.item = k
                    return m
                }
            }
            return nil
        default:
            return mismatch("\(actual.kindName) values, \(reference.rawValue) holds \(expected.kindName) values")
        }
    }

    /// `float64`, `float32`, `integer`, `string`, `boolean` (a list: its first item's).
    static func dtypeName(_ v: Value) -> String {
        switch v {
        case .real(let r): return r.dtype.rawValue
        case .integer: return "integer"
        case .string: return "string"
        case .boolean: return "boolean"
        case .list(let items): return items.first.map(dtypeName) ?? "float64"
        }
    }

    /// Real tensors of one shape under the `allclose` rule.
    static func compareReals(
        _ a: RealTensor, _ e: RealTensor, _ t: Tolerance, output: String, reference: Mismatch.Reference,
        structure: OutputLayout, options: ComparisonOptions
    ) -> Mismatch? {
        let shape = a.shape
        let xs = a.tensor.scalars, ys = e.tensor.scalars
        var m = Mismatch(
            output: output, reference: reference, problem: nil, shape: shape, dtype: a.dtype.rawValue, failing: 0,
            total: xs.count)
        m.tolerance = t
        var tracker = StructureTracker(structure, shape: shape)
        var worstAbs = -1.0, worstRel = -1.0
        for k in 0..<xs.count {
            let x = xs[k], y = ys[k]
            let ok: Bool
            var diff: Double, rel: Double
            let allowed = t.abs + t.rel * Swift.abs(y)
            if y.isNaN || x.isNaN {
                ok = x.isNaN && y.isNaN
                diff = .infinity; rel = .infinity
            } else if y.isInfinite || x.isInfinite {
                ok = x == y
                diff = .infinity; rel = .infinity
            } else {
                diff = Swift.abs(x - y)
                ok = diff <= allowed
                rel = y == 0 ? (diff == 0 ? 0 : .infinity) : diff / Swift.abs(y)
            }
            if ok { continue }
            m.failing += 1
            let isWorstAbs = diff > worstAbs, isWorstRel = rel > worstRel
            let needed = isWorstAbs || isWorstRel || m.elements.count < options.maxShown
            tracker.record(k)
            guard needed else { continue }
            let index = multiIndex(k, shape)
            var d = ElementDifference(
                index: index, actual: NumberText.format(x, dtype: a.dtype),
                expected: NumberText.format(y, dtype: e.dtype),
                actualValue: shown(x, a.dtype), expectedValue: shown(y, e.dtype),
                absDiff: diff, relDiff: rel, allowed: allowed.isFinite ? allowed : nil)
            tracker.annotate(&d)
            if isWorstAbs { worstAbs = diff; m.worstAbs = d }
            if isWorstRel { worstRel = rel; m.worstRel = d }
            if m.elements.count < options.maxShown { m.elements.append(d) }
        }
        guard m.failing > 0 else { return nil }
        tracker.finish(into: &m)
        return m
    }

    /// A value as the report carries it: float32 values as the double nearest float32's shortest decimal.
    static func shown(_ x: Double, _ dtype: DType) -> Double {
        guard dtype == .float32, x.isFinite else { return x }
        return Double(Float(x).description) ?? x
    }

    /// Integers, strings or booleans, compared for equality.
    static func compareExact(
        _ aShape: [Int], _ a: [String], _ eShape: [Int], _ e: [String], _ dtype: String,
        _ output: String, _ reference: Mismatch.Reference, _ structure: OutputLayout,
        _ options: ComparisonOptions
    ) -> Mismatch? {
        guard aShape == eShape else {
            return Mismatch(
                output: output, reference: reference,
                problem: "shape \(aShape.shapeText), \(reference.rawValue) has shape \(eShape.shapeText)",
                shape: aShape, dtype: dtype)
        }
        var m = Mismatch(
            output: output, reference: reference, problem: nil, shape: aShape, dtype: dtype, failing: 0, total: a.count)
        var tracker = StructureTracker(structure, shape: aShape)
        for k in 0..<a.count where a[k] != e[k] {
            m.failing += 1
            tracker.record(k)
            if m.elements.count < options.maxShown {
                var d = ElementDifference(index: multiIndex(k, aShape), actual: a[k], expected: e[k])
                tracker.annotate(&d)
                m.elements.append(d)
            }
        }
        guard m.failing > 0 else { return nil }
        tracker.finish(into: &m)
        return m
    }

    /// The index of flat position `k` in a row-major array of this shape.
    static func multiIndex(_ k: Int, _ shape: [Int]) -> [Int] {
        var rest = k
        var index = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}

/// A number in a few significant digits, for differences in messages.
func shortNumber(_ x: Double) -> String {
    if x == 0 || x.isNaN || x.isInfinite { return NumberText.format(x) }
    return String(format: "%.3g", x)
}
