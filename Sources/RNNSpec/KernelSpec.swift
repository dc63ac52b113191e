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

/// A declared input of a kernel.
public struct InputSpec: Sendable {
    /// The input's name in case files (`W_hh`).
    public var name: String
    /// What kind of value it holds.
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

    /// An input that may have any of `shapes` (in symbols such as `["H", "I"]`).
    public init(
        _ name: String, _ kind: ValueKind = .real, shapes: [Shape], optional: Bool = false,
        doc: String, example: String
    ) {
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
    public static func real(_ name: String, _ shape: Shape, optional: Bool = false, _ doc: String, example: String)
        -> InputSpec
    {
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

    /// The type as messages name it: `integer in 1...64`, `one of tanh, relu`.
    public var description: String {
        switch self {
        case .integer(let lo, let hi):
            switch (lo, hi) {
            case (Int.min?, Int.max?): return "any 64-bit integer"
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
    /// The parameter's name under `params:`.
    public var name: String
    /// Its type (checked when a case is loaded).
    public var type: ParamType
    /// The value when the case does not give one; nil makes the parameter required,
    /// unless `optional`.
    public var defaultValue: ParamValue?
    /// Whether a case may leave the parameter out even though it has no default.
    public var optional: Bool
    /// What the parameter does, one line.
    public var doc: String
    /// For a number (or list of numbers): whether `.inf` and `-.inf` are meaningful values (a clip
    /// threshold of `.inf` clips nothing, say). NaN is never a meaningful parameter.
    public var allowsInfinity: Bool

    /// A parameter with its type, default and description.
    public init(
        _ name: String, _ type: ParamType, default defaultValue: ParamValue? = nil,
        optional: Bool = false, allowsInfinity: Bool = false, _ doc: String
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.optional = optional
        self.allowsInfinity = allowsInfinity
        self.doc = doc
    }

    /// What is wrong with `value` for this parameter beyond its type (an integer outside the declared
    /// range, a NaN or an infinity where none is meaningful), or nil. The loader reports it at the
    /// parameter's line.
    public func problem(with value: ParamValue) -> String? {
        let what = "param '\(name)'"
        switch (type, value) {
        case (.integer(let lo, let hi), .integer(let v)):
            let low = lo ?? Int.min, high = hi ?? Int.max
            if v < low || v > high { return "\(what) must be an integer in \(low)...\(high), found \(v)" }
        case (_, .real(let v)):
            return nonFiniteProblem([v])
        case (_, .realList(let vs)):
            return nonFiniteProblem(vs)
        default: break
        }
        return nil
    }

    private func nonFiniteProblem(_ values: [Double]) -> String? {
        let what = "param '\(name)'"
        if values.contains(where: \.isNaN) { return "\(what) must be a number, found .nan" }
        if !allowsInfinity, let bad = values.first(where: \.isInfinite) {
            return "\(what) must be a finite number, found \(bad < 0 ? "-.inf" : ".inf")"
        }
        return nil
    }

    /// The `dtype` parameter that every kernel computing in `Float` or `Double` takes.
    public static let dtype = ParamSpec(
        "dtype", .choice(["float64", "float32"]), default: .string("float64"),
        "the precision the kernel computes in")
}

/// A declared output of a kernel.
public struct OutputSpec: Sendable {
    /// The output's name (in goldens and `expect:`).
    public var name: String
    /// What kind of value it holds.
    public var kind: ValueKind
    /// The shape, in the symbols of the inputs, for documentation.
    public var shape: String
    /// Whether the kernel may leave the output out (only produced under some params).
    public var optional: Bool
    /// What the output is, one line.
    public var doc: String
    /// The output's time axis and gate blocks, for the mismatch report (`OutputStructure.swift`).
    public var structure = OutputStructure()

    /// A real output.
    public init(_ name: String, _ shape: String, optional: Bool = false, _ doc: String) {
        self.init(name, .real, shape, optional: optional, doc)
    }

    /// An output of the given kind.
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
    /// The declared inputs, in the order `rnnspec new` writes them.
    public var inputs: [InputSpec]
    /// The declared parameters (`dtype` added last when the kernel has a precision).
    public var params: [ParamSpec]
    /// The declared outputs.
    public var outputs: [OutputSpec]
    /// Whether the kernel computes in Float or Double as the `dtype` param says.
    public var hasPrecision: Bool
    /// The scalar output that a `gradcheck:` differentiates, for kernels that report gradients.
    /// The gradient with respect to input `X` is the output `dX`.
    public var lossOutput: String?
    /// The plots the HTML report draws from this kernel's outputs (none by default).
    public var plots: [KernelPlot]
    /// 1-D outputs that `rnnspec show` prints as a compact curve (first, last, min, every k-th value),
    /// such as a loss per iteration (none by default).
    public var curves: [String]
    /// Which optional inputs go together (`InputRules.swift`): checked when a case loads.
    public var inputRules: [InputRule] = []

    /// The sizes a case's params and input shapes imply (elements of outputs, of caches, and of the
    /// work: steps, samples, bins, windows), evaluated by the loader before the kernel runs so that
    /// `--max-elements` refuses `steps: 1e12` before anything is allocated. Required: every kernel
    /// says what it will allocate and loop over (`KernelSpec.boundedByInputs` for kernels whose
    /// outputs and work are a fixed multiple of their inputs' elements).
    public var sizes: @Sendable (KernelContext) throws -> [ImpliedSize]

    /// A kernel's declaration. With `hasPrecision` (the default) the `dtype` parameter is added: the kernel then runs in `Float` for `dtype: float32`, in `Double` otherwise.
    public init(
        name: String, summary: String, doc: String = "", inputs: [InputSpec], params: [ParamSpec] = [],
        outputs: [OutputSpec], hasPrecision: Bool = true, lossOutput: String? = nil, plots: [KernelPlot] = [],
        curves: [String] = [], sizes: @escaping @Sendable (KernelContext) throws -> [ImpliedSize]
    ) {
        self.sizes = sizes
        self.plots = plots
        self.curves = curves
        self.lossOutput = lossOutput
        self.name = name
        self.summary = summary
        self.doc = doc
        self.inputs = inputs
        self.params = hasPrecision ? params + [.dtype] : params
        self.outputs = outputs
        self.hasPrecision = hasPrecision
    }

    /// The input called `name`, or nil.
    public func input(_ name: String) -> InputSpec? { inputs.first { $0.name == name } }
    /// The parameter called `name`, or nil.
    public func param(_ name: String) -> ParamSpec? { params.first { $0.name == name } }
    /// The output called `name`, or nil.
    public func output(_ name: String) -> OutputSpec? { outputs.first { $0.name == name } }
}
