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

    /// The extent under the bindings, or nil if a symbol is unbound; throws `DimOverflow`
    /// (with the numbers) when the arithmetic overflows 64 bits, never traps.
    func evaluate(_ bindings: [String: Int]) throws -> Int? {
        var total = 0
        for (k, s) in terms {
            var term = k
            if !s.isEmpty {
                guard let v = bindings[s] else { return nil }
                let (p, overflow) = k.multipliedReportingOverflow(by: v)
                if overflow { throw DimOverflow(dim: self, bindings: bindings) }
                term = p
            }
            let (sum, overflow) = total.addingReportingOverflow(term)
            if overflow { throw DimOverflow(dim: self, bindings: bindings) }
            total = sum
        }
        return total
    }

    /// If exactly one symbol is unbound, the value it must take for this dimension to equal
    /// `extent` (nil if there is none, if it would not be a whole non-negative number, or if
    /// the arithmetic overflows).
    func solve(for extent: Int, _ bindings: [String: Int]) -> (String, Int)? {
        let unbound = terms.filter { !$0.1.isEmpty && bindings[$0.1] == nil }
        guard Set(unbound.map(\.1)).count == 1 else { return nil }
        let symbol = unbound[0].1
        var coefficient = 0
        for (k, _) in unbound {
            let (c, overflow) = coefficient.addingReportingOverflow(k)
            if overflow { return nil }
            coefficient = c
        }
        var rest = 0
        for (k, s) in terms where s != symbol {
            var term = k
            if !s.isEmpty {
                let (p, overflow) = k.multipliedReportingOverflow(by: bindings[s]!)
                if overflow { return nil }
                term = p
            }
            let (sum, overflow) = rest.addingReportingOverflow(term)
            if overflow { return nil }
            rest = sum
        }
        let (remainder, overflow) = extent.subtractingReportingOverflow(rest)
        guard !overflow, coefficient > 0, remainder >= 0, remainder % coefficient == 0 else { return nil }
        return (symbol, remainder / coefficient)
    }
}

/// A declared dimension whose value under the bindings overflows a 64-bit integer.
public struct DimOverflow: Error, Sendable, CustomStringConvertible {
    public var dim: Dim
    public var bindings: [String: Int]

    /// "4*H+I overflows a 64-bit integer with H = 4611686018427387904, I = 1".
    public var description: String {
        let values = Set(dim.symbols).sorted().compactMap { s in bindings[s].map { "\(s) = \($0)" } }
        return "\(dim) overflows a 64-bit integer with \(values.joined(separator: ", "))"
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
    public var name: String
    public var type: ParamType
    /// The value when the case does not give one; nil makes the parameter required,
    /// unless `optional`.
    public var defaultValue: ParamValue?
    /// Whether a case may leave the parameter out even though it has no default.
    public var optional: Bool
    public var doc: String
    /// For a number (or list of numbers): whether `.inf` and `-.inf` are meaningful values (a clip
    /// threshold of `.inf` clips nothing, say). NaN is never a meaningful parameter.
    public var allowsInfinity: Bool

    public init(_ name: String, _ type: ParamType, default defaultValue: ParamValue? = nil,
                optional: Bool = false, allowsInfinity: Bool = false, _ doc: String) {
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
    /// The output's time axis and gate blocks, for the mismatch report (`OutputStructure.swift`).
    public var structure = OutputStructure()

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

    public init(name: String, summary: String, doc: String = "", inputs: [InputSpec], params: [ParamSpec] = [],
                outputs: [OutputSpec], hasPrecision: Bool = true, lossOutput: String? = nil, plots: [KernelPlot] = [],
                curves: [String] = [], sizes: @escaping @Sendable (KernelContext) throws -> [ImpliedSize]) {
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

    public func input(_ name: String) -> InputSpec? { inputs.first { $0.name == name } }
    public func param(_ name: String) -> ParamSpec? { params.first { $0.name == name } }
    public func output(_ name: String) -> OutputSpec? { outputs.first { $0.name == name } }
}

/// One quantity a case implies before its kernel runs: the elements of an output or a cache, or the
/// iterations of a loop, as a product of named factors (`[S, steps] = [3, 1000000000000]`).
public struct ImpliedSize: Sendable {
    /// What is counted: `output 'values'`, `sampling steps`.
    public var what: String
    /// The factors, each named after the symbol, param or input it comes from.
    public var factors: [Factor]
    /// The field the count is blamed on, where an error points: `param:NAME` or `input:NAME`.
    public var blame: String
    /// Whether the count is arithmetic (multiply-adds of the time loop) rather than elements held:
    /// it may reach `ImpliedSize.operationsPerElement` times the element limit.
    public var isOperations: Bool = false

    /// Multiply-adds allowed per element of `--max-elements` (5·10⁹ by default: seconds, not hours).
    public static let operationsPerElement = 100

    /// The multiply-adds of a computation, as a product of named factors.
    public static func operations(_ what: String, _ factors: [(String, Int)], blame: String) -> ImpliedSize {
        var size = ImpliedSize(what, factors, blame: blame)
        size.isOperations = true
        return size
    }

    public struct Factor: Sendable {
        public var name: String
        public var value: Int
        public init(_ name: String, _ value: Int) { self.name = name; self.value = value }
    }

    public init(_ what: String, _ factors: [(String, Int)], blame: String) {
        self.what = what
        self.factors = factors.map { Factor($0.0, $0.1) }
        self.blame = blame
    }

    /// a + b + ..., saturating at Int.max (a factor of Int.max makes the product overflow: refused).
    /// Factors come from shapes, whose extents may be near 2^62 in a zero-size tensor.
    public static func sum(_ terms: Int...) -> Int {
        var total = 0
        for t in terms {
            let (s, overflow) = total.addingReportingOverflow(max(t, 0))
            if overflow { return Int.max }
            total = s
        }
        return total
    }

    /// The product of the factors (a negative factor counts as 0), or nil when it overflows 64 bits.
    public var count: Int? {
        var total = 1
        for f in factors {
            let v = max(f.value, 0)
            if v == 0 { return 0 }
            let (p, overflow) = total.multipliedReportingOverflow(by: v)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// `[S, steps] = [3, 1000000000000]`.
    public var factorText: String {
        "[" + factors.map(\.name).joined(separator: ", ") + "] = [" + factors.map { "\($0.value)" }.joined(separator: ", ") + "]"
    }
}

extension KernelSpec {
    /// For kernels whose outputs and work are at most a fixed multiple of their inputs' elements
    /// (elementwise kernels, reductions): nothing beyond what the input limit already bounds.
    public static let boundedByInputs: @Sendable (KernelContext) throws -> [ImpliedSize] = { _ in [] }

    /// The first implied size over `limit`, as the field to blame and a message with the numbers;
    /// nil when every size fits.
    public func sizeProblem(_ context: KernelContext, limit: Int) -> (blame: String, message: String)? {
        let implied: [ImpliedSize]
        do { implied = try sizes(context) } catch let error as KernelError {
            switch error {
            case .input(let name, let message): return ("input:\(name)", message)
            case .param(let name, let message): return ("param:\(name)", message)
            case .invalid(let message): return ("kernel", message)
            }
        } catch {
            return ("kernel", "\(error)")
        }
        let scaled = limit.multipliedReportingOverflow(by: ImpliedSize.operationsPerElement)
        let operationCap = scaled.overflow ? Int.max : scaled.partialValue
        // Kernels loop over axes (rows, sequences, steps): an extent beyond the arithmetic allowed is
        // refused even in a tensor with no elements ([0, 2^40] holds nothing but a loop over its axis 1 hangs).
        for (input, value) in context.inputs.sorted(by: { $0.key < $1.key }) {
            if let extent = value.shape.first(where: { $0 > operationCap }) {
                return ("input:\(input)", "input '\(input)' has an axis of \(extent) (shape \(value.shape.shapeText)); a kernel loops over its axes, "
                        + "so an extent may be at most \(operationCap) (\(ImpliedSize.operationsPerElement) per element of --max-elements \(limit)), "
                        + "even in a tensor with no elements")
            }
        }
        for size in implied {
            let count = size.count
            let cap = size.isOperations ? operationCap : limit
            if let count, count <= cap { continue }
            let blamed = size.blame.split(separator: ":", maxSplits: 1).map(String.init)
            let subject = blamed.count == 2 ? "\(blamed[0]) '\(blamed[1])'" : size.blame
            let unit = size.isOperations ? "multiply-adds" : "elements"
            let amount = count.map { "\($0) \(unit)" } ?? "more than 2^63 \(unit) (the product overflows 64 bits)"
            let rule = size.isOperations ? "the limit is \(cap) (\(ImpliedSize.operationsPerElement) per element of --max-elements \(limit))"
                                         : "the limit is \(limit) per case (--max-elements)"
            return (size.blame, "\(subject) makes \(name) need \(amount) for \(size.what), \(size.factorText); \(rule)")
        }
        return nil
    }
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

    /// An integer param. A param that is not a declared integer is the adapter's mistake: an error for
    /// this case (UNRESOLVED), never a trap.
    public func int(_ name: String) throws -> Int {
        if case .integer(let v)? = params[name] { return v }
        throw KernelError.param(name, "param '\(name)' is not a declared integer (a bug in the kernel's adapter)")
    }

    public func optionalInt(_ name: String) throws -> Int? {
        if params[name] == nil { return nil }
        return try int(name)
    }

    public func double(_ name: String) throws -> Double {
        switch params[name] {
        case .real(let v)?: return v
        case .integer(let v)?: return Double(v)
        default: throw KernelError.param(name, "param '\(name)' is not a declared number (a bug in the kernel's adapter)")
        }
    }

    public func optionalDouble(_ name: String) throws -> Double? { params[name] == nil ? nil : try double(name) }

    public func bool(_ name: String) throws -> Bool {
        if case .boolean(let v)? = params[name] { return v }
        throw KernelError.param(name, "param '\(name)' is not a declared boolean (a bug in the kernel's adapter)")
    }

    public func string(_ name: String) throws -> String {
        if case .string(let v)? = params[name] { return v }
        throw KernelError.param(name, "param '\(name)' is not a declared string (a bug in the kernel's adapter)")
    }

    public func optionalString(_ name: String) throws -> String? {
        if params[name] == nil { return nil }
        return try string(name)
    }

    /// A `choice` param as an enum whose raw values are the choices.
    public func choice<E: RawRepresentable>(_ name: String, as _: E.Type = E.self) throws -> E where E.RawValue == String {
        let word = try string(name)
        guard let e = E(rawValue: word) else {
            throw KernelError.param(name, "param '\(name)' has no choice '\(word)' (a bug in the kernel's adapter)")
        }
        return e
    }

    public func integerList(_ name: String) throws -> [Int] {
        if case .integerList(let v)? = params[name] { return v }
        throw KernelError.param(name, "param '\(name)' is not a declared integer list (a bug in the kernel's adapter)")
    }

    public func optionalStringList(_ name: String) throws -> [String]? {
        switch params[name] {
        case nil: return nil
        case .stringList(let v)?: return v
        default: throw KernelError.param(name, "param '\(name)' is not a declared list of words (a bug in the kernel's adapter)")
        }
    }

    /// The extent bound to a shape symbol, or `otherwise` when no input bound it.
    public func dim(_ symbol: String, otherwise: Int = 1) -> Int { dims[symbol] ?? otherwise }

    /// The shape of an input as given, or nil when the case leaves it out.
    public func shape(_ name: String) -> [Int]? { inputs[name]?.shape }

    /// The extent of an input's axis (from the end when negative), or `otherwise` when the input or axis is absent.
    public func extent(_ name: String, _ axis: Int, otherwise: Int = 1) -> Int {
        guard let s = shape(name) else { return otherwise }
        let k = axis < 0 ? s.count + axis : axis
        return s.indices.contains(k) ? s[k] : otherwise
    }

    public func realList(param name: String) throws -> [Double] {
        switch params[name] {
        case .realList(let v)?: return v
        case .integerList(let v)?: return v.map(Double.init)
        default: throw KernelError.param(name, "param '\(name)' is not a declared number list (a bug in the kernel's adapter)")
        }
    }
}
