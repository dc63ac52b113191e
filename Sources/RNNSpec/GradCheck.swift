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
            guard case .real(let x)? = base.inputs[name], case .real(let g)? = analytic["d" + name] else {
                throw base.error("gradcheck: the kernel did not report d\(name)", at: "gradcheck")
            }
            var numeric = [Double](repeating: 0, count: x.tensor.count)
            for i in 0..<x.tensor.count {
                numeric[i] = try (lossValue(base, name, x, i, +request.eps) - lossValue(base, name, x, i, -request.eps)) / (2 * request.eps)
            }
            let fd = Value.real(RealTensor(Tensor(shape: x.shape, scalars: numeric)))
            if var m = Comparison.compare(actual: .real(g), expected: fd, tolerance: request.tolerance, output: "d" + name, reference: .gradcheck) {
                m.detail = "\(request.location): " + m.detail
                mismatches.append(m)
            }
        }
        return mismatches
    }

    static func lossValue(_ c: Case, _ name: String, _ x: RealTensor, _ i: Int, _ delta: Double) throws -> Double {
        var shifted = c
        var t = x
        t.tensor.scalars[i] += delta
        shifted.inputs[name] = .real(t)
        let outputs = try Runner.execute(shifted)
        guard case .real(let l)? = outputs[c.kernel.spec.lossOutput ?? ""], l.tensor.count == 1 else {
            throw c.error("gradcheck: the kernel's loss output is not a scalar", at: "gradcheck")
        }
        return l.tensor.scalars[0]
    }
}
