import Foundation
import RNNKernels

/// What one execution of a case asks for: a kernel, its parameters (defaults filled in) and its
/// inputs, and optionally the finite-difference gradients of a gradcheck. This is what crosses the
/// worker protocol (`WorkerProtocol.swift`), so it holds values, never file locations.
public struct ExecutionRequest: Sendable {
    /// The case id, echoed in the reply.
    public var id: String
    /// The kernel's registry name.
    public var kernel: String
    /// The parameters, every default filled in.
    public var params: [String: ParamValue]
    /// The inputs by name.
    public var inputs: [String: Value]
    /// The extents bound to the symbols of the input shapes (rnnspec's own kernels read them).
    public var dims: [String: Int]
    /// The gradcheck to compute with the outputs, if any.
    public var gradcheck: GradCheckPlan?

    /// A request from its parts.
    public init(id: String, kernel: String, params: [String: ParamValue], inputs: [String: Value],
                dims: [String: Int] = [:], gradcheck: GradCheckPlan? = nil) {
        self.id = id
        self.kernel = kernel
        self.params = params
        self.inputs = inputs
        self.dims = dims
        self.gradcheck = gradcheck
    }

    /// The request that runs a loaded case.
    public init(_ c: Case) {
        self.init(id: c.id, kernel: c.kernel.spec.name, params: c.params, inputs: c.inputs, dims: c.dims,
                  gradcheck: c.gradcheck.map { GradCheckPlan(wrt: $0.wrt, eps: $0.eps, loss: $0.loss) })
    }
}

/// The part of a gradcheck that is computed where the kernel runs: which inputs, the step, the loss.
public struct GradCheckPlan: Sendable, Equatable {
    /// The inputs to differentiate with respect to.
    public var wrt: [String]
    /// The step of the central difference.
    public var eps: Double
    /// The scalar output that is differentiated.
    public var loss: String
}

/// An analytic gradient next to its central finite differences, for one input.
public struct GradientPair: Sendable, Equatable {
    /// The gradient output's name, `d<input>`.
    public var name: String
    /// The kernel's own gradient.
    public var analytic: RealTensor
    /// The central finite differences, in the same shape.
    public var numeric: RealTensor
}

/// Why an execution produced no outputs, with the case field it points at (`input:x`, `param:n`,
/// `params`, `kernel`, `gradcheck`) so that the coordinator can locate it in the case file.
public struct ExecutionFailure: Error, Sendable, Equatable {
    /// What went wrong.
    public var message: String
    /// The case field it points at: `input:NAME`, `param:NAME`, `params`, `kernel` or `gradcheck`.
    public var at: String

    /// A failure with its message and the field it points at.
    public init(_ message: String, at: String) {
        self.message = message
        self.at = at
    }
}

/// What an execution returned.
public struct ExecutionReply: Sendable {
    /// The kernel's outputs.
    public var outputs: KernelOutputs
    /// One pair per gradcheck input, in the plan's order.
    public var gradients: [GradientPair]

    /// A reply from its outputs and gradients.
    public init(outputs: KernelOutputs, gradients: [GradientPair] = []) {
        self.outputs = outputs
        self.gradients = gradients
    }
}

/// The execution stage: runs a request's kernel in this process. A worker process calls this for
/// every request it reads; a library user without workers calls it directly.
public enum Execution {
    /// Runs the kernel (and the gradcheck's finite differences) of a request.
    public static func run(_ request: ExecutionRequest, registry: KernelRegistry) throws(ExecutionFailure) -> ExecutionReply {
        guard let kernel = registry.kernel(named: request.kernel) else {
            throw ExecutionFailure("unknown kernel '\(request.kernel)'", at: "kernel")
        }
        return try run(request, kernel: kernel)
    }

    /// Runs a request on the given kernel.
    public static func run(_ request: ExecutionRequest, kernel: any Kernel) throws(ExecutionFailure) -> ExecutionReply {
        let outputs = try outputs(kernel, request.inputs, request.params, request.dims)
        guard let plan = request.gradcheck else { return ExecutionReply(outputs: outputs) }
        return ExecutionReply(outputs: outputs, gradients: try gradients(kernel, request, plan))
    }

    /// Runs a kernel in the case's precision and checks the outputs against its declaration.
    static func outputs(_ kernel: any Kernel, _ inputs: [String: Value], _ params: [String: ParamValue],
                        _ dims: [String: Int]) throws(ExecutionFailure) -> KernelOutputs {
        let context = KernelContext(inputs: inputs, params: params, dims: dims)
        let outputs: KernelOutputs
        do {
            if case .string("float32")? = params["dtype"] {
                outputs = try kernel.run(context, as: Float.self)
            } else {
                outputs = try kernel.run(context, as: Double.self)
            }
        } catch let error as KernelError {
            switch error {
            case .input(let name, let message): throw ExecutionFailure(message, at: "input:\(name)")
            case .param(let name, let message): throw ExecutionFailure(message, at: "param:\(name)")
            case .invalid(let message): throw ExecutionFailure(message, at: "kernel")
            }
        } catch let error as ExecutionFailure {
            throw error
        } catch {
            throw ExecutionFailure("\(error)", at: "kernel")
        }
        try checkDeclared(outputs, kernel.spec)
        return outputs
    }

    /// Checks outputs against the kernel's declaration: none undeclared, every required one there.
    static func checkDeclared(_ outputs: KernelOutputs, _ spec: KernelSpec) throws(ExecutionFailure) {
        for (name, _) in outputs.entries where spec.output(name) == nil {
            throw ExecutionFailure("kernel \(spec.name) produced an undeclared output '\(name)'", at: "kernel")
        }
        for output in spec.outputs where !output.optional && outputs[output.name] == nil {
            throw ExecutionFailure("kernel \(spec.name) did not produce its output '\(output.name)'", at: "kernel")
        }
    }

    /// Central finite differences of the kernel's scalar loss, element by element, in Double:
    ///
    ///     fd_i = (L(x + eps·e_i) − L(x − eps·e_i)) / (2·eps)
    ///
    /// next to the kernel's own `d<input>` output (also computed in Double).
    static func gradients(_ kernel: any Kernel, _ request: ExecutionRequest, _ plan: GradCheckPlan) throws(ExecutionFailure) -> [GradientPair] {
        try gradients(request, plan, spec: kernel.spec) { (inputs, params) throws(ExecutionFailure) in
            try outputs(kernel, inputs, params, request.dims)
        }
    }

    /// The finite differences of a gradcheck, with the kernel run by `evaluate` (here, or by a
    /// backend over the worker protocol): the analytic gradients from one run in float64, then two
    /// runs per element of every `wrt` input.
    static func gradients(_ request: ExecutionRequest, _ plan: GradCheckPlan, spec: KernelSpec,
                          evaluate: ([String: Value], [String: ParamValue]) throws(ExecutionFailure) -> KernelOutputs) throws(ExecutionFailure) -> [GradientPair] {
        var params = request.params
        if params["dtype"] != nil { params["dtype"] = .string("float64") }
        let analytic = try evaluate(request.inputs, params)
        if analytic[plan.loss] == nil {
            // Kernels whose loss exists only under some inputs (the framework kernels' upstream gradients).
            let when = spec.output(plan.loss).map { "; \(plan.loss) is \($0.doc)" } ?? ""
            throw ExecutionFailure("gradcheck: \(spec.name) reported no '\(plan.loss)' for this case\(when)", at: "gradcheck")
        }
        func lossValue(_ name: String, _ value: Value) throws(ExecutionFailure) -> Double {
            var inputs = request.inputs
            inputs[name] = value
            let shifted = try evaluate(inputs, params)
            guard case .real(let l)? = shifted[spec.lossOutput ?? plan.loss], l.tensor.count == 1 else {
                throw ExecutionFailure("gradcheck: the kernel's loss output is not a scalar", at: "gradcheck")
            }
            return l.tensor.scalars[0]
        }
        var pairs: [GradientPair] = []
        for name in plan.wrt {
            guard let original = request.inputs[name], let parts = GradCheck.perturbable(original),
                  case .real(let g)? = analytic["d" + name] else {
                throw ExecutionFailure("gradcheck: the kernel did not report d\(name)", at: "gradcheck")
            }
            let count = parts.reduce(0) { $0 + $1.tensor.count }
            guard g.tensor.count == count else {
                throw ExecutionFailure("gradcheck: d\(name) has \(g.tensor.count) elements for the \(count) of \(name)", at: "gradcheck")
            }
            var numeric = [Double]()
            numeric.reserveCapacity(count)
            for (k, part) in parts.enumerated() {
                for i in 0..<part.tensor.count {
                    var plus = parts, minus = parts
                    plus[k].tensor.scalars[i] += plan.eps
                    minus[k].tensor.scalars[i] -= plan.eps
                    let up = try lossValue(name, GradCheck.rebuilt(original, plus))
                    let down = try lossValue(name, GradCheck.rebuilt(original, minus))
                    numeric.append((up - down) / (2 * plan.eps))
                }
            }
            pairs.append(GradientPair(name: "d" + name, analytic: g, numeric: RealTensor(Tensor(shape: g.shape, scalars: numeric))))
        }
        return pairs
    }
}
