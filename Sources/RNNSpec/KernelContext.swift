import Foundation
import RNNKernels

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
    /// The name cases give in `kernel:`, `spec.name`. The default reads the spec; a kernel whose spec
    /// takes time to build may give its name without building it (the registry indexes kernels by
    /// name and builds a spec only when a case, a listing or a check reads it).
    var name: String { get }
    var spec: KernelSpec { get }
    /// Runs the kernel in precision `T` (`Double` unless the case sets `dtype: float32`).
    func run<T: KernelScalar>(_ context: KernelContext, as: T.Type) throws -> KernelOutputs
}

extension Kernel {
    /// `spec.name`.
    public var name: String { spec.name }
}

/// The outputs of one kernel run, in the order they were set.
public struct KernelOutputs: Sendable {
    /// The outputs and their values, in the order they were set.
    public private(set) var entries: [(name: String, value: Value)] = []

    /// No outputs yet.
    public init() {}

    /// The outputs of a loss-only run (`KernelContext.lossOnly`): `loss` alone.
    static func loss(_ value: Value) -> KernelOutputs {
        var out = KernelOutputs()
        out["loss"] = value
        return out
    }

    /// The output called `name`; setting it replaces an earlier value, setting nil removes it.
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
    /// The inputs by name.
    public let inputs: [String: Value]
    /// The parameters by name, every default filled in.
    public let params: [String: ParamValue]
    /// The extents bound to the symbols of the input shapes (`H`, `I`, ...).
    public let dims: [String: Int]
    /// Whether the caller needs only the kernel's loss output (`KernelSpec.lossOutput`): a gradcheck's
    /// finite-difference runs. A kernel may then skip its backward pass and report the loss alone (the
    /// loss must be what a full run reports, bit for bit); one that ignores this reports everything.
    public var lossOnly = false

    /// A context from a case's values.
    public init(inputs: [String: Value], params: [String: ParamValue], dims: [String: Int] = [:]) {
        self.inputs = inputs
        self.params = params
        self.dims = dims
    }

    /// Whether the case gives the input.
    public func has(_ name: String) -> Bool { inputs[name] != nil }

    /// A real input in precision `T`.
    public func real<T: KernelScalar>(_ name: String, as _: T.Type = T.self) throws -> Tensor<T> {
        guard let value = inputs[name] else { throw KernelError.input(name, "input '\(name)' is required") }
        guard case .real(let r) = value else {
            throw KernelError.input(name, "expected a real tensor, found \(value.kindName) values")
        }
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
                guard case .real(let r) = item else {
                    throw KernelError.input(name, "every item must be a real tensor")
                }
                return r.tensor.converted(to: T.self)
            }
        case nil: throw KernelError.input(name, "input '\(name)' is required")
        case let other?:
            throw KernelError.input(name, "expected a list of real tensors, found \(other.kindName) values")
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

    /// An integer param, or nil when the case leaves it out.
    public func optionalInt(_ name: String) throws -> Int? {
        if params[name] == nil { return nil }
        return try int(name)
    }

    /// A number param (an integer is widened).
    public func double(_ name: String) throws -> Double {
        switch params[name] {
        case .real(let v)?: return v
        case .integer(let v)?: return Double(v)
        default:
            throw KernelError.param(name, "param '\(name)' is not a declared number (a bug in the kernel's adapter)")
        }
    }

    /// A number param, or nil when the case leaves it out.
    public func optionalDouble(_ name: String) throws -> Double? { params[name] == nil ? nil : try double(name) }

    /// A boolean param.
    public func bool(_ name: String) throws -> Bool {
        if case .boolean(let v)? = params[name] { return v }
        throw KernelError.param(name, "param '\(name)' is not a declared boolean (a bug in the kernel's adapter)")
    }

    /// A string or `choice` param.
    public func string(_ name: String) throws -> String {
        if case .string(let v)? = params[name] { return v }
        throw KernelError.param(name, "param '\(name)' is not a declared string (a bug in the kernel's adapter)")
    }

    /// A string param, or nil when the case leaves it out.
    public func optionalString(_ name: String) throws -> String? {
        if params[name] == nil { return nil }
        return try string(name)
    }

    /// A `choice` param as an enum whose raw values are the choices.
    public func choice<E: RawRepresentable>(_ name: String, as _: E.Type = E.self) throws -> E
    where E.RawValue == String {
        let word = try string(name)
        guard let e = E(rawValue: word) else {
            throw KernelError.param(name, "param '\(name)' has no choice '\(word)' (a bug in the kernel's adapter)")
        }
        return e
    }

    /// A list-of-integers param.
    public func integerList(_ name: String) throws -> [Int] {
        if case .integerList(let v)? = params[name] { return v }
        throw KernelError.param(name, "param '\(name)' is not a declared integer list (a bug in the kernel's adapter)")
    }

    /// A list-of-words param, or nil when the case leaves it out.
    public func optionalStringList(_ name: String) throws -> [String]? {
        switch params[name] {
        case nil: return nil
        case .stringList(let v)?: return v
        default:
            throw KernelError.param(
                name, "param '\(name)' is not a declared list of words (a bug in the kernel's adapter)")
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

    /// A list-of-numbers param (integers widened).
    public func realList(param name: String) throws -> [Double] {
        switch params[name] {
        case .realList(let v)?: return v
        case .integerList(let v)?: return v.map(Double.init)
        default:
            throw KernelError.param(
                name, "param '\(name)' is not a declared number list (a bug in the kernel's adapter)")
        }
    }
}
