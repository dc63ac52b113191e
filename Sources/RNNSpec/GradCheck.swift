import Foundation
import RNNKernels

/// A case's request to check a kernel's analytic gradients against finite differences.
public struct GradCheckRequest: Sendable {
    /// The inputs to differentiate with respect to.
    public var wrt: [String]
    /// The step of the central difference.
    public var eps: Double
    public var tolerance: Tolerance
    /// The kernel's scalar output that is differentiated.
    public var loss: String
    public var location: SourceLocation
}

/// Gradient checks: the finite differences are computed where the kernel runs
/// (`Execution.gradients`); this compares them with the analytic gradients.
public enum GradCheck {
    /// One mismatch per input whose analytic gradient (`d<input>`) disagrees with its central
    /// finite differences under the request's tolerance. `layout` gives the gradient output's
    /// declared time axis and gate blocks.
    public static func compare(_ pairs: [GradientPair], _ request: GradCheckRequest,
                               options: ComparisonOptions = ComparisonOptions(),
                               layout: (String, [Int]) -> OutputLayout = { _, _ in OutputLayout() }) -> [Mismatch] {
        pairs.compactMap { pair in
            guard var m = Comparison.compare(actual: .real(pair.analytic), expected: .real(pair.numeric),
                                             tolerance: request.tolerance, output: pair.name, reference: .gradcheck,
                                             structure: layout(pair.name, pair.analytic.shape), options: options) else { return nil }
            m.location = request.location
            return m
        }
    }

    /// The real tensors of an input that a gradcheck perturbs: the tensor itself, or each tensor of a
    /// list of them (Keras's `initial_state`), whose gradient the kernel reports stacked.
    static func perturbable(_ value: Value) -> [RealTensor]? {
        switch value {
        case .real(let x): return [x]
        case .list(let items):
            let parts = items.compactMap { item -> RealTensor? in if case .real(let r) = item { return r } else { return nil } }
            return parts.isEmpty || parts.count != items.count ? nil : parts
        default: return nil
        }
    }

    /// `original` with its tensors replaced by `parts`.
    static func rebuilt(_ original: Value, _ parts: [RealTensor]) -> Value {
        if case .list = original { return .list(parts.map { .real($0) }) }
        return .real(parts[0])
    }
}
