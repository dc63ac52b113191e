import Foundation
import RNNKernels

/// How one output differs from what it was compared with.
public struct Mismatch: Sendable, Equatable {
    /// What the output was compared with.
    public enum Reference: String, Sendable { case golden, expect, gradcheck = "finite differences" }

    /// The output's name.
    public var output: String
    /// What the output was compared with.
    public var reference: Reference
    /// The whole explanation, ready to print.
    public var detail: String
    /// Elements out of tolerance.
    public var failing: Int
    /// Elements compared.
    public var total: Int
    /// Where the reference stands in the case file: the `expect:` value's line (nil for a golden).
    public var location: SourceLocation? = nil
}

/// Compares values under the `allclose` rule: |a − e| ≤ abs + rel·|e| elementwise, equal
/// shapes, NaN only where the expected value is NaN, infinities equal; integers, strings and
/// booleans exactly.
public enum Comparison {
    /// The mismatch between `actual` and `expected` under `tolerance`, or nil when they match (the rule above).
    public static func compare(actual: Value, expected: Value, tolerance: Tolerance,
                               output: String, reference: Mismatch.Reference) -> Mismatch? {
        func mismatch(_ detail: String, failing: Int = 1, total: Int = 1) -> Mismatch {
            Mismatch(output: output, reference: reference, detail: detail, failing: failing, total: total)
        }
        switch (actual, expected) {
        case (.real(let a), .real(let e)):
            guard a.shape == e.shape else { return mismatch("shape \(a.shape.shapeText), \(reference.rawValue) has shape \(e.shape.shapeText)") }
            return compareReals(a.tensor, e.tensor, tolerance, output: output, reference: reference)
        case (.integer(let a), .integer(let e)):
            return compareExact(a.shape, a.scalars.map(String.init), e.shape, e.scalars.map(String.init), output, reference)
        case (.string(let a), .string(let e)):
            return compareExact(a.shape, a.scalars.map(YAMLText.quoted), e.shape, e.scalars.map(YAMLText.quoted), output, reference)
        case (.boolean(let a), .boolean(let e)):
            return compareExact(a.shape, a.scalars.map(String.init), e.shape, e.scalars.map(String.init), output, reference)
        case (.list(let a), .list(let e)):
            guard a.count == e.count else { return mismatch("a list of \(a.count) tensors, \(reference.rawValue) has \(e.count)") }
            for (k, (x, y)) in zip(a, e).enumerated() {
                if var m = compare(actual: x, expected: y, tolerance: tolerance, output: "\(output)[\(k)]", reference: reference) {
                    m.output = output
                    m.detail = "item \(k): " + m.detail
                    return m
                }
            }
            return nil
        default:
            return mismatch("\(actual.kindName) values, \(reference.rawValue) holds \(expected.kindName) values")
        }
    }

    static func compareReals(_ a: Tensor<Double>, _ e: Tensor<Double>, _ t: Tolerance,
                             output: String, reference: Mismatch.Reference) -> Mismatch? {
        var failing = 0
        var worst = -1
        var worstExcess = -Double.infinity
        for k in 0..<a.count {
            let x = a.scalars[k], y = e.scalars[k]
            let ok: Bool
            var excess: Double
            if y.isNaN || x.isNaN {
                ok = x.isNaN && y.isNaN
                excess = .infinity
            } else if y.isInfinite || x.isInfinite {
                ok = x == y
                excess = .infinity
            } else {
                let diff = Swift.abs(x - y)
                let allowed = t.abs + t.rel * Swift.abs(y)
                ok = diff <= allowed
                excess = allowed > 0 ? diff / allowed : (diff > 0 ? .infinity : 0)
            }
            if !ok {
                failing += 1
                if excess > worstExcess || worst < 0 { worstExcess = excess; worst = k }
            }
        }
        guard failing > 0 else { return nil }
        let x = a.scalars[worst], y = e.scalars[worst]
        let diff = Swift.abs(x - y)
        let rel = y == 0 ? (diff == 0 ? 0 : Double.infinity) : diff / Swift.abs(y)
        let index = multiIndex(worst, a.shape)
        var detail = "shape \(a.shape.shapeText): \(failing) of \(a.count) elements differ from the \(reference.rawValue) beyond \(t)\n"
        detail += "worst at \(index.shapeText): actual \(NumberText.format(x)), expected \(NumberText.format(y))"
        if !diff.isNaN { detail += ", abs diff \(shortNumber(diff)), rel diff \(shortNumber(rel))" }
        return Mismatch(output: output, reference: reference, detail: detail, failing: failing, total: a.count)
    }

    static func compareExact(_ aShape: [Int], _ a: [String], _ eShape: [Int], _ e: [String],
                             _ output: String, _ reference: Mismatch.Reference) -> Mismatch? {
        guard aShape == eShape else {
            return Mismatch(output: output, reference: reference,
                            detail: "shape \(aShape.shapeText), \(reference.rawValue) has shape \(eShape.shapeText)", failing: 1, total: 1)
        }
        let differing = zip(a, e).enumerated().filter { $0.element.0 != $0.element.1 }
        guard let first = differing.first else { return nil }
        let detail = "shape \(aShape.shapeText): \(differing.count) of \(a.count) elements differ from the \(reference.rawValue)\n"
            + "first at \(multiIndex(first.offset, aShape).shapeText): actual \(first.element.0), expected \(first.element.1)"
        return Mismatch(output: output, reference: reference, detail: detail, failing: differing.count, total: a.count)
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

    /// Largest absolute and relative change from `old` to `new`, elementwise over matching
    /// real values (for `regen`'s report); nil where the two are not comparable.
    public static func drift(from old: Value, to new: Value) -> (abs: Double, rel: Double)? {
        switch (old, new) {
        case (.real(let a), .real(let b)) where a.shape == b.shape:
            var maxAbs = 0.0, maxRel = 0.0
            for (x, y) in zip(a.tensor.scalars, b.tensor.scalars) {
                if x.isNaN && y.isNaN || x == y { continue }
                let d = Swift.abs(y - x)
                if d.isNaN { return (.infinity, .infinity) }
                maxAbs = Swift.max(maxAbs, d)
                maxRel = Swift.max(maxRel, x == 0 ? .infinity : d / Swift.abs(x))
            }
            return (maxAbs, maxRel)
        case (.list(let a), .list(let b)) where a.count == b.count:
            var result = (abs: 0.0, rel: 0.0)
            for (x, y) in zip(a, b) {
                guard let d = drift(from: x, to: y) else { return nil }
                result = (Swift.max(result.abs, d.abs), Swift.max(result.rel, d.rel))
            }
            return result
        default:
            return old == new ? (0, 0) : nil
        }
    }
}

/// A number in a few significant digits, for differences in messages.
func shortNumber(_ x: Double) -> String {
    if x == 0 || x.isNaN || x.isInfinite { return NumberText.format(x) }
    return String(format: "%.3g", x)
}
