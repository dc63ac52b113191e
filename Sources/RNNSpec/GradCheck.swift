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

/// Central finite differences of a kernel's scalar loss, element by element, in Double.
public enum GradCheck {
    /// For every element x_i of every input in `wrt`:
    ///
    ///     fd_i = (L(x + eps·e_i) − L(x − eps·e_i)) / (2·eps)
    ///
    /// compared with the kernel's own `d<input>` output (computed in Double) under the
    /// request's tolerance. Returns one mismatch per input whose gradient disagrees.
    public static func check(_ c: Case, _ request: GradCheckRequest) throws -> [Mismatch] {
        var base = c
        base.params["dtype"] = c.params["dtype"] == nil ? nil : .string("float64")
        let analytic = try Runner.execute(base)
        if analytic[request.loss] == nil {
            // Kernels whose loss exists only under some inputs (the framework kernels' upstream gradients).
            let when = base.kernel.spec.output(request.loss).map { "; \(request.loss) is \($0.doc)" } ?? ""
            throw base.error("gradcheck: \(base.kernel.spec.name) reported no '\(request.loss)' for this case\(when)", at: "gradcheck")
        }
        var mismatches: [Mismatch] = []
        for name in request.wrt {
            guard let original = base.inputs[name], let parts = perturbable(original),
                  case .real(let g)? = analytic["d" + name] else {
                throw base.error("gradcheck: the kernel did not report d\(name)", at: "gradcheck")
            }
            let count = parts.reduce(0) { $0 + $1.tensor.count }
            guard g.tensor.count == count else {
                throw base.error("gradcheck: d\(name) has \(g.tensor.count) elements for the \(count) of \(name)", at: "gradcheck")
            }
            var numeric = [Double]()
            numeric.reserveCapacity(count)
            for (k, part) in parts.enumerated() {
                for i in 0..<part.tensor.count {
                    func loss(_ delta: Double) throws -> Double {
                        var shifted = parts
                        shifted[k].tensor.scalars[i] += delta
                        return try lossValue(base, name, rebuilt(original, shifted))
                    }
                    numeric.append(try (loss(+request.eps) - loss(-request.eps)) / (2 * request.eps))
                }
            }
            let fd = Value.real(RealTensor(Tensor(shape: g.shape, scalars: numeric)))
            if var m = Comparison.compare(actual: .real(g), expected: fd, tolerance: request.tolerance, output: "d" + name, reference: .gradcheck) {
                m.detail = "\(request.location): " + m.detail
                mismatches.append(m)
            }
        }
        return mismatches
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

    static func lossValue(_ c: Case, _ name: String, _ value: Value) throws -> Double {
        var shifted = c
        shifted.inputs[name] = value
        let outputs = try Runner.execute(shifted)
        guard case .real(let l)? = outputs[c.kernel.spec.lossOutput ?? ""], l.tensor.count == 1 else {
            throw c.error("gradcheck: the kernel's loss output is not a scalar", at: "gradcheck")
        }
        return l.tensor.scalars[0]
    }
}
