import Foundation
import RNNKernels

/// The precision a real tensor was computed in.
public enum DType: String, Sendable, CaseIterable, Codable {
    case float32, float64
}

/// A real tensor as rnnspec stores it: the values widened to `Double`, and the precision
/// they were computed in (which decides how they are printed in a golden file).
public struct RealTensor: Sendable, Equatable {
    /// The values, widened to `Double`.
    public var tensor: Tensor<Double>
    /// The precision they were computed in.
    public var dtype: DType

    /// A tensor of `Double` values computed in `dtype`.
    public init(_ tensor: Tensor<Double>, dtype: DType = .float64) {
        self.tensor = tensor
        self.dtype = dtype
    }

    /// Widens a kernel's tensor, remembering its precision.
    public init<T: KernelScalar>(_ tensor: Tensor<T>) {
        self.tensor = tensor.converted(to: Double.self)
        self.dtype = T.self == Float.self ? .float32 : .float64
    }

    /// The tensor's shape.
    public var shape: [Int] { tensor.shape }
}

/// A value of a case's input or a kernel's output.
public enum Value: Sendable, Equatable {
    /// Real numbers of any shape (a scalar has shape `[]`).
    case real(RealTensor)
    /// Integers of any shape: token ids, indices, counts, shapes.
    case integer(Tensor<Int>)
    /// Strings of any shape: tokens.
    case string(Tensor<String>)
    /// Booleans of any shape.
    case boolean(Tensor<Bool>)
    /// A list of values of possibly different shapes (several gradients, say).
    case list([Value])

    /// A real value from a kernel tensor.
    public static func real<T: KernelScalar>(_ t: Tensor<T>) -> Value { .real(RealTensor(t)) }
    /// A real scalar.
    public static func real<T: KernelScalar>(_ x: T) -> Value { .real(Tensor(scalar: x)) }
    /// An integer scalar.
    public static func integer(_ x: Int) -> Value { .integer(Tensor(scalar: x)) }
    /// An integer vector.
    public static func integers(_ xs: [Int]) -> Value { .integer(Tensor(xs)) }
    /// A list of real tensors.
    public static func reals<T: KernelScalar>(_ ts: [Tensor<T>]) -> Value { .list(ts.map { .real($0) }) }

    /// The kind of value, for messages: "real", "integer", "string", "boolean", "list".
    public var kindName: String {
        switch self {
        case .real: return "real"
        case .integer: return "integer"
        case .string: return "string"
        case .boolean: return "boolean"
        case .list: return "list"
        }
    }

    /// The shape (a list has the shape `[count]`).
    public var shape: [Int] {
        switch self {
        case .real(let r): return r.shape
        case .integer(let t): return t.shape
        case .string(let t): return t.shape
        case .boolean(let t): return t.shape
        case .list(let items): return [items.count]
        }
    }

    /// The number of scalars held, lists included.
    public var elementCount: Int {
        switch self {
        case .real(let r): return r.tensor.count
        case .integer(let t): return t.count
        case .string(let t): return t.count
        case .boolean(let t): return t.count
        case .list(let items): return items.reduce(0) { $0 + $1.elementCount }
        }
    }
}

/// Number spelling shared by case files and golden files.
enum NumberText {
    /// The shortest text that reads back as exactly `x` in the given precision, with YAML's
    /// spellings of the special values (`.nan`, `.inf`, `-.inf`).
    static func format(_ x: Double, dtype: DType = .float64) -> String {
        if x.isNaN { return ".nan" }
        if x.isInfinite { return x < 0 ? "-.inf" : ".inf" }
        switch dtype {
        case .float64: return x.description
        case .float32: return Float(x).description
        }
    }

    /// Reads a real number: decimal or exponent notation, YAML's `.nan`/`.inf` in their
    /// spellings, optionally signed. `nil` if the text is not a number, or if it is a finite
    /// literal too large for float64 (`1e999`: `overflows` says so), which must not silently
    /// become an infinity.
    static func parseReal(_ text: String) -> Double? {
        // The common case, every number rnnspec writes: only digits, signs, '.', 'e', 'E'.
        if isPlainNumber(text, exponent: true) {
            guard let v = fastDecimal(text) ?? Double(text), v.isFinite else { return nil }
            return v
        }
        let s = text.trimmingCharacters(in: .whitespaces)
        switch s {
        case ".nan", ".NaN", ".NAN", "nan", "NaN": return .nan
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "inf", "+inf": return .infinity
        case "-.inf", "-.Inf", "-.INF", "-inf": return -.infinity
        default: break
        }
        guard let first = s.unicodeScalars.first, "+-.0123456789".unicodeScalars.contains(first) else { return nil }
        guard s.unicodeScalars.allSatisfy({ "+-.0123456789eE".unicodeScalars.contains($0) }) else { return nil }
        guard let v = Double(s), v.isFinite else { return nil }
        return v
    }

    /// Whether the text is a finite decimal literal whose value is beyond float64's range
    /// (`1e999`, `-1e400`): `Double` would read it as an infinity.
    static func overflows(_ text: String) -> Bool {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty, s.unicodeScalars.allSatisfy({ "+-.0123456789eE".unicodeScalars.contains($0) }),
            let v = Double(s)
        else { return false }
        return v.isInfinite
    }

    /// Whether the text is non-empty and holds only ASCII digits, '+', '-' and (with `exponent`)
    /// '.', 'e', 'E': then the trimming and the special spellings of the general path do not apply.
    static func isPlainNumber(_ text: String, exponent: Bool) -> Bool {
        var any = false
        for b in text.utf8 {
            switch b {
            case 0x30...0x39, 0x2B, 0x2D: any = true
            case 0x2E, 0x65, 0x45: if !exponent { return false }
            default: return false
            }
        }
        return any
    }

    /// Reads `true` or `false` in YAML's three capitalisations; nil for anything else.
    static func parseBoolean(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// Reads an integer written without a fraction or exponent (`3`, `-12`, `+4`).
    static func parseInteger(_ text: String) -> Int? {
        if isPlainNumber(text, exponent: false) { return Int(text) }
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty, s.unicodeScalars.allSatisfy({ "+-0123456789".unicodeScalars.contains($0) }) else {
            return nil
        }
        return Int(s)
    }
}

extension Array where Element == Int {
    /// "[2, 3]" for messages.
    var shapeText: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
