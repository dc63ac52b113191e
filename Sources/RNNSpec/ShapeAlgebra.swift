import Foundation
import RNNKernels

/// One dimension of a symbolic shape: a sum of terms, each a constant or a constant times a
/// symbol (`H`, `4*H`, `I+H`, `2*H+1`), or `?` for any extent.
public struct Dim: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// (coefficient, symbol) pairs; the empty symbol is the constant term.
    var terms: [(Int, String)]
    var isWildcard: Bool

    /// A dimension from its text (`"4*H"`).
    public init(stringLiteral text: String) { self.init(text) }

    /// Parses `H`, `4*H`, `I+H`, `2*H+1` or `?`.
    public init(_ text: String) {
        // Most dimensions are one symbol or one number (`hidden_features`, `T`, `3`): no '+', '*', ' '
        // or '?' to split on (the kernels' specs parse thousands of them at every process start).
        if !text.isEmpty, !text.utf8.contains(where: { $0 == 0x2B || $0 == 0x2A || $0 == 0x20 || $0 == 0x3F }) {
            isWildcard = false
            terms = [Int(text).map { ($0, "") } ?? (1, text)]
            return
        }
        let t = String(text.unicodeScalars.filter { $0 != " " })
        if t == "?" { terms = []; isWildcard = true; return }
        isWildcard = false
        terms = t.split(separator: "+").map { part in
            let factors = part.split(separator: "*")
            if factors.count == 2, let k = Int(factors[0]) { return (k, String(factors[1])) }
            if let k = Int(part) { return (k, "") }
            return (1, String(part))
        }
    }

    /// The dimension as written (`4*H+1`).
    public var description: String {
        if isWildcard { return "?" }
        return terms.map { k, s in s.isEmpty ? "\(k)" : (k == 1 ? s : "\(k)*\(s)") }.joined(separator: "+")
    }

    /// Equal when written the same.
    public static func == (a: Dim, b: Dim) -> Bool { a.description == b.description }
    /// Hashes the written form.
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
        // The one unbound symbol (it may appear in several terms) and the sum of its coefficients.
        var unbound: String? = nil
        var coefficient = 0
        for (k, s) in terms where !s.isEmpty && bindings[s] == nil {
            if let u = unbound, u != s { return nil }
            unbound = s
            let (c, overflow) = coefficient.addingReportingOverflow(k)
            if overflow { return nil }
            coefficient = c
        }
        guard let symbol = unbound else { return nil }
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
    /// The dimension that overflowed.
    public var dim: Dim
    /// The symbols' values at the time.
    public var bindings: [String: Int]

    /// "4*H+I overflows a 64-bit integer with H = 4611686018427387904, I = 1".
    public var description: String {
        let values = Set(dim.symbols).sorted().compactMap { s in bindings[s].map { "\(s) = \($0)" } }
        return "\(dim) overflows a 64-bit integer with \(values.joined(separator: ", "))"
    }
}

/// A symbolic shape such as `[H, I]`; `[]` is a scalar.
public typealias Shape = [Dim]

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

    /// One named factor of a size.
    public struct Factor: Sendable {
        /// The symbol, param or input the factor comes from.
        public var name: String
        /// Its value for this case.
        public var value: Int
        /// A factor `name` = `value`.
        public init(_ name: String, _ value: Int) { self.name = name; self.value = value }
    }

    /// The elements of `what`, as a product of named factors, blamed on a field (`param:steps`).
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
        "[" + factors.map(\.name).joined(separator: ", ") + "] = ["
            + factors.map { "\($0.value)" }.joined(separator: ", ") + "]"
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
                return (
                    "input:\(input)",
                    "input '\(input)' has an axis of \(extent) (shape \(value.shape.shapeText)); a kernel loops over its axes, "
                        + "so an extent may be at most \(operationCap) (\(ImpliedSize.operationsPerElement) per element of --max-elements \(limit)), "
                        + "even in a tensor with no elements"
                )
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
            let rule =
                size.isOperations
                ? "the limit is \(cap) (\(ImpliedSize.operationsPerElement) per element of --max-elements \(limit))"
                : "the limit is \(limit) per case (--max-elements)"
            return (size.blame, "\(subject) makes \(name) need \(amount) for \(size.what), \(size.factorText); \(rule)")
        }
        return nil
    }
}
