import Foundation
import RNNKernels

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
        for r in 0..<shownRows {
            for c in 0..<shownColumns { widths[c] = max(widths[c], texts[r * columns + c].count) }
        }
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

/// A JSON string literal: `YAMLText.quoted(_:)`, whose double-quoted form is one.
func jsonString(_ s: String) -> String { YAMLText.quoted(s) }
