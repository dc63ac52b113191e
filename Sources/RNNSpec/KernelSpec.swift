import Foundation
import RNNKernels

/// What kind of value an input or output holds.
public enum ValueKind: String, Sendable {
    /// A real tensor (nested lists, `{shape, data}` or a generator).
    case real
    /// An integer tensor (token ids, indices).
    case integer
    /// A string tensor (tokens).
    case string
    /// A boolean tensor.
    case boolean
    /// A list of real tensors of any shapes (several gradients).
    case realList = "list of real tensors"
}

/// One dimension of a symbolic shape: a sum of terms, each a constant or a constant times a
/// symbol (`H`, `4*H`, `I+H`, `2*H+1`), or `?` for any extent.
public struct Dim: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// (coefficient, symbol) pairs; the empty symbol is the constant term.
    var terms: [(Int, String)]
    var isWildcard: Bool

    public init(stringLiteral text: String) { self.init(text) }

    public init(_ text: String) {
        let t = text.replacingOccurrences(of: " ", with: "")
        if t == "?" { terms = []; isWildcard = true; return }
        isWildcard = false
        terms = t.split(separator: "+").map { part in
            let factors = part.split(separator: "*")
            if factors.count == 2, let k = Int(factors[0]) { return (k, String(factors[1])) }
            if let k = Int(part) { return (k, "") }
            return (1, String(part))
        }
    }

    public var description: String {
        if isWildcard { return "?" }
        return terms.map { k, s in s.isEmpty ? "\(k)" : (k == 1 ? s : "\(k)*\(s)") }.joined(separator: "+")
    }

    public static func == (a: Dim, b: Dim) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    /// The symbols this dimension mentions.
    var symbols: [String] { terms.map(\.1).filter { !$0.isEmpty } }

    /// The extent under the bindings, or nil if a symbol is unbound.
    func evaluate(_ bindings: [String: Int]) -> Int? {
        var total = 0
        for (k, s) in terms {
            if s.isEmpty { total += k } else if let v = bindings[s] { total += k * v } else { return nil }
        }
        return total
    }

    /// If exactly one symbol is unbound, the value it must take for this dimension to equal
    /// `extent` (nil if there is none, or if it would not be a whole non-negative number).
    func solve(for extent: Int, _ bindings: [String: Int]) -> (String, Int)? {
        let unbound = terms.filter { !$0.1.isEmpty && bindings[$0.1] == nil }
        guard Set(unbound.map(\.1)).count == 1 else { return nil }
        let symbol = unbound[0].1
        let coefficient = unbound.reduce(0) { $0 + $1.0 }
        var rest = 0
        for (k, s) in terms where s != symbol { rest += s.isEmpty ? k : k * bindings[s]! }
        let remainder = extent - rest
        guard coefficient > 0, remainder >= 0, remainder % coefficient == 0 else { return nil }
        return (symbol, remainder / coefficient)
    }
}

/// A symbolic shape such as `[H, I]`; `[]` is a scalar.
public typealias Shape = [Dim]

/// A declared input of a kernel.
public struct InputSpec: Sendable {
    public var name: String
    public var kind: ValueKind
    /// The shapes the input may have; any one of them (e.g. `[T, I]` or `[T, B, I]`).
    /// Empty means any shape.
    public var shapes: [Shape]
    /// Whether a case may leave the input out.
    public var optional: Bool
    /// What the input is, for `rnnspec kernels` and `rnnspec new`.
    public var doc: String
    /// A YAML value that `rnnspec new` writes for this input; it must fit the other examples.
    public var example: String
    /// Whether `rnnspec new` writes the input uncommented. Required inputs always are; an
    /// optional one is written commented out unless it is marked with `inSkeleton()` (an input
    /// that the default params need, say).
    public var inSkeleton: Bool

    public init(_ name: String, _ kind: ValueKind = .real, shapes: [Shape], optional: Bool = false,
                doc: String, example: String) {
        self.name = name
        self.kind = kind
        self.shapes = shapes
        self.optional = optional
        self.doc = doc
        self.example = example
        self.inSkeleton = !optional
    }

    /// The same input, written uncommented by `rnnspec new`.
    public func inSkeleton(_ yes: Bool = true) -> InputSpec {
        var copy = self
        copy.inSkeleton = yes
        return copy
    }

    /// A real input with one shape.
    public static func real(_ name: String, _ shape: Shape, optional: Bool = false, _ doc: String, example: String) -> InputSpec {
        InputSpec(name, .real, shapes: [shape], optional: optional, doc: doc, example: example)
    }
}

/// The type of a kernel parameter.
public indirect enum ParamType: Sendable, Equatable {
    case integer(min: Int?, max: Int?)
    case real
    case boolean
    case string
    /// One of the listed words.
    case choice([String])
    case integerList
    case realList
    case stringList

    public var description: String {
        switch self {
        case .integer(let lo, let hi):
            switch (lo, hi) {
            case let (l?, h?): return "integer in \(l)...\(h)"
            case let (l?, nil): return "integer ≥ \(l)"
            case let (nil, h?): return "integer ≤ \(h)"
            default: return "integer"
            }
        case .real: return "number"
        case .boolean: return "boolean"
        case .string: return "string"
        case .choice(let words): return "one of " + listPhrase(words)
        case .integerList: return "list of integers"
        case .realList: return "list of numbers"
        case .stringList: return "list of words"
        }
    }
}

/// The value of a kernel parameter.
public enum ParamValue: Sendable, Equatable, CustomStringConvertible {
    case integer(Int)
    case real(Double)
    case boolean(Bool)
    case string(String)
    case integerList([Int])
    case realList([Double])
    case stringList([String])

    /// The value as YAML writes it (strings double-quoted when they need it).
    public var description: String {
        switch self {
        case .integer(let v): return "\(v)"
        case .real(let v): return NumberText.format(v)
        case .boolean(let v): return v ? "true" : "false"
        case .string(let v): return YAMLText.scalar(v)
        case .integerList(let v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        case .realList(let v): return "[" + v.map { NumberText.format($0) }.joined(separator: ", ") + "]"
        case .stringList(let v): return "[" + v.map(YAMLText.scalar).joined(separator: ", ") + "]"
        }
    }
}

/// A declared parameter of a kernel.
public struct ParamSpec: Sendable {
    public var name: String
    public var type: ParamType
    /// The value when the case does not give one; nil makes the parameter required,
    /// unless `optional`.
    public var defaultValue: ParamValue?
    /// Whether a case may leave the parameter out even though it has no default.
    public var optional: Bool
    public var doc: String

    public init(_ name: String, _ type: ParamType, default defaultValue: ParamValue? = nil,
                optional: Bool = false, _ doc: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.optional = optional
        self.doc = doc
    }

    /// The `dtype` parameter that every kernel computing in `Float` or `Double` takes.
    public static let dtype = ParamSpec("dtype", .choice(["float64", "float32"]), default: .string("float64"),
                                        "the precision the kernel computes in")
}

/// A declared output of a kernel.
public struct OutputSpec: Sendable {
    public var name: String
    public var kind: ValueKind
    /// The shape, in the symbols of the inputs, for documentation.
    public var shape: String
    /// Whether the kernel may leave the output out (only produced under some params).
    public var optional: Bool
    public var doc: String

    public init(_ name: String, _ shape: String, optional: Bool = false, _ doc: String) {
        self.init(name, .real, shape, optional: optional, doc)
    }

    public init(_ name: String, _ kind: ValueKind, _ shape: String, optional: Bool = false, _ doc: String) {
        self.name = name
        self.kind = kind
        self.shape = shape
        self.optional = optional
        self.doc = doc
    }
}

/// Everything rnnspec knows about a kernel without running it.
public struct KernelSpec: Sendable {
    /// The registry name, `family.operation` (`rnn.step`).
    public var name: String
    /// One line.
    public var summary: String
    /// The equations and notes, a few lines.
    public var doc: String
    public var inputs: [InputSpec]
    public var params: [ParamSpec]
    public var outputs: [OutputSpec]
    /// Whether the kernel computes in Float or Double as the `dtype` param says.
    public var hasPrecision: Bool
    /// The scalar output that a `gradcheck:` differentiates, for kernels that report gradients.
    /// The gradient with respect to input `X` is the output `dX`.
    public var lossOutput: String?
    /// The plots the HTML report draws from this kernel's outputs (none by default).
    public var plots: [KernelPlot]

    public init(name: String, summary: String, doc: String = "", inputs: [InputSpec], params: [ParamSpec] = [],
                outputs: [OutputSpec], hasPrecision: Bool = true, lossOutput: String? = nil, plots: [KernelPlot] = []) {
        self.lossOutput = lossOutput
        self.plots = plots
        self.name = name
        self.summary = summary
        self.doc = doc
        self.inputs = inputs
        self.params = hasPrecision ? params + [.dtype] : params
        self.outputs = outputs
        self.hasPrecision = hasPrecision
    }

    public func input(_ name: String) -> InputSpec? { inputs.first { $0.name == name } }
    public func param(_ name: String) -> ParamSpec? { params.first { $0.name == name } }
    public func output(_ name: String) -> OutputSpec? { outputs.first { $0.name == name } }
}

/// A kernel rejected its inputs or parameters at run time (beyond what the declaration
/// checks), naming the input or parameter so that the error can point at its line.
public enum KernelError: Error, Sendable, Equatable {
    /// Something is wrong with this input.
    case input(String, String)
    /// Something is wrong with this parameter.
    case param(String, String)
    /// Something is wrong with the case as a whole.
    case invalid(String)
}

/// A kernel: its declaration and the adapter that calls `RNNKernels` with a case's values.
public protocol Kernel: Sendable {
    var spec: KernelSpec { get }
    /// Runs the kernel in precision `T` (`Double` unless the case sets `dtype: float32`).
    func run<T: KernelScalar>(_ context: KernelContext, as: T.Type) throws -> KernelOutputs
}

/// The outputs of one kernel run, in the order they were set.
public struct KernelOutputs: Sendable {
    public private(set) var entries: [(name: String, value: Value)] = []

    public init() {}

    public subscript(name: String) -> Value? {
        get { entries.first { $0.name == name }?.value }
        set {
            entries.removeAll { $0.name == name }
            if let newValue { entries.append((name, newValue)) }
        }
    }
}

/// A case's resolved inputs and parameters, with typed accessors for the adapters.
public struct KernelContext: Sendable {
    public let inputs: [String: Value]
    public let params: [String: ParamValue]
    /// The extents bound to the symbols of the input shapes (`H`, `I`, ...).
    public let dims: [String: Int]

    public init(inputs: [String: Value], params: [String: ParamValue], dims: [String: Int] = [:]) {
        self.inputs = inputs
        self.params = params
        self.dims = dims
    }

    public func has(_ name: String) -> Bool { inputs[name] != nil }

    /// A real input in precision `T`.
    public func real<T: KernelScalar>(_ name: String, as _: T.Type = T.self) throws -> Tensor<T> {
        guard let value = inputs[name] else { throw KernelError.input(name, "input '\(name)' is required") }
        guard case .real(let r) = value else { throw KernelError.input(name, "expected a real tensor, found \(value.kindName) values") }
        return r.tensor.converted(to: T.self)
    }

    /// A real input in precision `T`, or nil when the case leaves it out.
    public func optionalReal<T: KernelScalar>(_ name: String, as type: T.Type = T.self) throws -> Tensor<T>? {
        inputs[name] == nil ? nil : try real(name, as: type)
    }

    /// A list of real tensors; a single tensor counts as a list of one.
    public func realList<T: KernelScalar>(_ name: String, as _: T.Type = T.self) throws -> [Tensor<T>] {
        switch inputs[name] {
        case .real(let r)?: return [r.tensor.converted(to: T.self)]
        case .list(let items)?:
            return try items.map { item in
                guard case .real(let r) = item else { throw KernelError.input(name, "every item must be a real tensor") }
                return r.tensor.converted(to: T.self)
            }
        case nil: throw KernelError.input(name, "input '\(name)' is required")
        case let other?: throw KernelError.input(name, "expected a list of real tensors, found \(other.kindName) values")
        }
    }

    /// An integer input.
    public func integers(_ name: String) throws -> Tensor<Int> {
        guard case .integer(let t)? = inputs[name] else { throw KernelError.input(name, "expected integers") }
        return t
    }

    /// A string input.
    public func strings(_ name: String) throws -> Tensor<String> {
        guard case .string(let t)? = inputs[name] else { throw KernelError.input(name, "expected strings") }
        return t
    }

    public func int(_ name: String) -> Int {
        if case .integer(let v)? = params[name] { return v }
        preconditionFailure("param '\(name)' is not a declared integer")
    }

    public func optionalInt(_ name: String) -> Int? {
        if case .integer(let v)? = params[name] { return v }
        return nil
    }

    public func double(_ name: String) -> Double {
        switch params[name] {
        case .real(let v)?: return v
        case .integer(let v)?: return Double(v)
        default: preconditionFailure("param '\(name)' is not a declared number")
        }
    }

    public func optionalDouble(_ name: String) -> Double? { params[name] == nil ? nil : double(name) }

    public func bool(_ name: String) -> Bool {
        if case .boolean(let v)? = params[name] { return v }
        preconditionFailure("param '\(name)' is not a declared boolean")
    }

    public func string(_ name: String) -> String {
        if case .string(let v)? = params[name] { return v }
        preconditionFailure("param '\(name)' is not a declared string")
    }

    public func optionalString(_ name: String) -> String? {
        if case .string(let v)? = params[name] { return v }
        return nil
    }

    /// A `choice` param as an enum whose raw values are the choices.
    public func choice<E: RawRepresentable>(_ name: String, as _: E.Type = E.self) -> E where E.RawValue == String {
        guard let e = E(rawValue: string(name)) else { preconditionFailure("param '\(name)' has no case \(string(name))") }
        return e
    }

    public func integerList(_ name: String) -> [Int] {
        if case .integerList(let v)? = params[name] { return v }
        preconditionFailure("param '\(name)' is not a declared integer list")
    }

    public func optionalStringList(_ name: String) -> [String]? {
        if case .stringList(let v)? = params[name] { return v }
        return nil
    }

    public func realList(param name: String) -> [Double] {
        switch params[name] {
        case .realList(let v)?: return v
        case .integerList(let v)?: return v.map(Double.init)
        default: preconditionFailure("param '\(name)' is not a declared number list")
        }
    }
}
