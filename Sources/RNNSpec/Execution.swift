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
    public init(
        id: String, kernel: String, params: [String: ParamValue], inputs: [String: Value],
        dims: [String: Int] = [:], gradcheck: GradCheckPlan? = nil
    ) {
        self.id = id
        self.kernel = kernel
        self.params = params
        self.inputs = inputs
        self.dims = dims
        self.gradcheck = gradcheck
    }

    /// The request that runs a loaded case.
    public init(_ c: Case) {
        self.init(
            id: c.id, kernel: c.kernel.spec.name, params: c.params, inputs: c.inputs, dims: c.dims,
            gradcheck: c.gradcheck.map(\.plan))
    }
}

/// How a gradcheck compares the analytic gradient with finite differences (`GradCheck` explains both).
public enum GradCheckMode: String, Sendable, Equatable, CaseIterable {
    /// The projections on a few seeded random directions: 1 + 2·directions runs of the kernel.
    case fast
    /// Every element: 1 + 2·(number of elements) runs of the kernel.
    case full
}

/// The part of a gradcheck that is computed where the kernel runs: which inputs, the step, the loss,
/// the mode (with its directions and their seed) and the tolerance a fast check falls back to full on.
public struct GradCheckPlan: Sendable, Equatable {
    /// The inputs to differentiate with respect to.
    public var wrt: [String]
    /// The step of the central difference.
    public var eps: Double
    /// The scalar output that is differentiated.
    public var loss: String
    /// Full (element by element) or fast (random directions).
    public var mode: GradCheckMode
    /// The number of random directions of a fast check.
    public var directions: Int
    /// The seed of the directions' generator (`SeededStream`).
    public var seed: UInt64
    /// The tolerance a fast check projects onto its directions.
    public var tolerance: Tolerance

    /// A plan from a case's `gradcheck:` settings.
    public init(
        wrt: [String], eps: Double, loss: String, mode: GradCheckMode = .full,
        directions: Int = GradCheck.defaultDirections, seed: UInt64 = GradCheck.defaultSeed,
        tolerance: Tolerance = GradCheck.defaultTolerance
    ) {
        self.wrt = wrt
        self.eps = eps
        self.loss = loss
        self.mode = mode
        self.directions = directions
        self.seed = seed
        self.tolerance = tolerance
    }
}

/// An analytic gradient next to its central finite differences, for one input.
public struct GradientPair: Sendable, Equatable {
    /// The gradient output's name, `d<input>`.
    public var name: String
    /// The kernel's own gradient.
    public var analytic: RealTensor
    /// The finite difference of every element (a full check, or a fast one that failed and fell
    /// back to full); nil after a fast check that passed.
    public var numeric: RealTensor?

    /// A gradient and, when they were computed element by element, its finite differences.
    public init(name: String, analytic: RealTensor, numeric: RealTensor?) {
        self.name = name
        self.analytic = analytic
        self.numeric = numeric
    }
}

/// The finite differences of one gradcheck: per input, the analytic gradient (and, element by
/// element, its finite differences when the check ran in full), and for a fast check the
/// directional derivative along each of the plan's directions.
public struct FiniteDifferences: Sendable, Equatable {
    /// Per input, the analytic gradient and (full mode) its finite differences.
    public var gradients: [GradientPair]
    /// (L(x + eps·u_j) − L(x − eps·u_j)) / (2·eps) for the plan's unit directions u_j; empty in full mode.
    public var directional: [Double]

    /// The differences of one gradcheck.
    public init(gradients: [GradientPair], directional: [Double] = []) {
        self.gradients = gradients
        self.directional = directional
    }
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
    /// A fast gradcheck's directional derivatives (`FiniteDifferences.directional`).
    public var directional: [Double]

    /// A reply from its outputs, gradients and a fast check's directional differences.
    public init(outputs: KernelOutputs, gradients: [GradientPair] = [], directional: [Double] = []) {
        self.outputs = outputs
        self.gradients = gradients
        self.directional = directional
    }

    /// A reply from the outputs and a gradcheck's finite differences.
    public init(outputs: KernelOutputs, _ differences: FiniteDifferences) {
        self.init(outputs: outputs, gradients: differences.gradients, directional: differences.directional)
    }
}

/// The execution stage: runs a request's kernel in this process. A worker process calls this for
/// every request it reads; a library user without workers calls it directly.
public enum Execution {
    /// Runs the kernel (and the gradcheck's finite differences) of a request.
    public static func run(_ request: ExecutionRequest, registry: KernelRegistry) throws(ExecutionFailure)
        -> ExecutionReply
    {
        guard let kernel = registry.kernel(named: request.kernel) else {
            throw ExecutionFailure("unknown kernel '\(request.kernel)'", at: "kernel")
        }
        return try run(request, kernel: kernel)
    }

    /// Runs a request on the given kernel.
    public static func run(_ request: ExecutionRequest, kernel: any Kernel) throws(ExecutionFailure) -> ExecutionReply {
        let outputs = try outputs(kernel, request.inputs, request.params, request.dims)
        guard let plan = request.gradcheck else { return ExecutionReply(outputs: outputs) }
        return ExecutionReply(outputs: outputs, try gradients(kernel, request, plan))
    }

    /// Runs a kernel in the case's precision and checks the outputs against its declaration.
    static func outputs(
        _ kernel: any Kernel, _ inputs: [String: Value], _ params: [String: ParamValue],
        _ dims: [String: Int], lossOnly: Bool = false
    ) throws(ExecutionFailure) -> KernelOutputs {
        var context = KernelContext(inputs: inputs, params: params, dims: dims)
        context.lossOnly = lossOnly
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
        try checkDeclared(outputs, kernel.spec, lossOnly: lossOnly)
        return outputs
    }

    /// Checks outputs against the kernel's declaration: none undeclared, every required one there (of a
    /// loss-only run, the loss output when it is required).
    static func checkDeclared(_ outputs: KernelOutputs, _ spec: KernelSpec, lossOnly: Bool = false)
        throws(ExecutionFailure)
    {
        for (name, _) in outputs.entries where spec.output(name) == nil {
            throw ExecutionFailure("kernel \(spec.name) produced an undeclared output '\(name)'", at: "kernel")
        }
        for output in spec.outputs
        where !output.optional && outputs[output.name] == nil && (!lossOnly || output.name == spec.lossOutput) {
            throw ExecutionFailure("kernel \(spec.name) did not produce its output '\(output.name)'", at: "kernel")
        }
    }

    /// The finite differences of a gradcheck, with the kernel run here, in Double (see the next function).
    static func gradients(_ kernel: any Kernel, _ request: ExecutionRequest, _ plan: GradCheckPlan)
        throws(ExecutionFailure) -> FiniteDifferences
    {
        try gradients(request, plan, spec: kernel.spec) { (inputs, params, lossOnly) throws(ExecutionFailure) in
            try outputs(kernel, inputs, params, request.dims, lossOnly: lossOnly)
        }
    }

    /// The finite differences of a gradcheck, with the kernel run by `evaluate` (here, or by a
    /// backend over the worker protocol), every run in float64 whatever the case's dtype: one run for
    /// the analytic gradients `d<input>`, then central differences of the scalar loss L.
    ///
    /// Full mode, element by element (2 runs per element of every `wrt` input):
    ///
    ///     fd_i = (L(x + eps·e_i) − L(x − eps·e_i)) / (2·eps)
    ///
    /// Fast mode, along each of the plan's seeded unit directions u_j over all `wrt` elements at once
    /// (2 runs per direction, whatever the number of elements):
    ///
    ///     fd_j = (L(x + eps·u_j) − L(x − eps·u_j)) / (2·eps)
    ///
    /// A fast check that fails `GradCheck.fastVerdict` is done again in full, so that the report can
    /// name the worst element; so is one over no more elements than it has directions (no more runs).
    static func gradients(
        _ request: ExecutionRequest, _ plan: GradCheckPlan, spec: KernelSpec,
        evaluate: ([String: Value], [String: ParamValue], _ lossOnly: Bool) throws(ExecutionFailure) -> KernelOutputs
    ) throws(ExecutionFailure) -> FiniteDifferences {
        var params = request.params
        if params["dtype"] != nil { params["dtype"] = .string("float64") }
        let analytic = try evaluate(request.inputs, params, false)
        if analytic[plan.loss] == nil {
            // Kernels whose loss exists only under some inputs (the framework kernels' upstream gradients).
            let when = spec.output(plan.loss).map { "; \(plan.loss) is \($0.doc)" } ?? ""
            throw ExecutionFailure(
                "gradcheck: \(spec.name) reported no '\(plan.loss)' for this case\(when)", at: "gradcheck")
        }
        func lossValue(_ changed: [String: Value]) throws(ExecutionFailure) -> Double {
            var inputs = request.inputs
            for (name, value) in changed { inputs[name] = value }
            // Only the loss is needed: a kernel may skip its backward pass.
            let shifted = try evaluate(inputs, params, spec.lossOutput != nil)
            guard case .real(let l)? = shifted[spec.lossOutput ?? plan.loss], l.tensor.count == 1 else {
                throw ExecutionFailure("gradcheck: the kernel's loss output is not a scalar", at: "gradcheck")
            }
            return l.tensor.scalars[0]
        }
        // Each wrt input: its value, its real tensors, and the kernel's gradient of it.
        var checked: [(name: String, original: Value, parts: [RealTensor], gradient: RealTensor)] = []
        for name in plan.wrt {
            guard let original = request.inputs[name], let parts = GradCheck.perturbable(original),
                case .real(let g)? = analytic["d" + name]
            else {
                throw ExecutionFailure("gradcheck: the kernel did not report d\(name)", at: "gradcheck")
            }
            let count = parts.reduce(0) { $0 + $1.tensor.count }
            guard g.tensor.count == count else {
                throw ExecutionFailure(
                    "gradcheck: d\(name) has \(g.tensor.count) elements for the \(count) of \(name)", at: "gradcheck")
            }
            guard !checked.contains(where: { $0.name == name }) else {
                throw ExecutionFailure("gradcheck: wrt lists \(name) twice", at: "gradcheck")
            }
            checked.append((name, original, parts, g))
        }
        func full() throws(ExecutionFailure) -> [GradientPair] {
            var pairs: [GradientPair] = []
            for c in checked {
                var numeric = [Double]()
                numeric.reserveCapacity(c.gradient.tensor.count)
                for (k, part) in c.parts.enumerated() {
                    for i in 0..<part.tensor.count {
                        var plus = c.parts, minus = c.parts
                        plus[k].tensor.scalars[i] += plan.eps
                        minus[k].tensor.scalars[i] -= plan.eps
                        let up = try lossValue([c.name: GradCheck.rebuilt(c.original, plus)])
                        let down = try lossValue([c.name: GradCheck.rebuilt(c.original, minus)])
                        numeric.append((up - down) / (2 * plan.eps))
                    }
                }
                pairs.append(
                    GradientPair(
                        name: "d" + c.name, analytic: c.gradient,
                        numeric: RealTensor(Tensor(shape: c.gradient.shape, scalars: numeric))))
            }
            return pairs
        }
        let total = checked.reduce(0) { $0 + $1.gradient.tensor.count }
        guard plan.mode == .fast, total > plan.directions else { return FiniteDifferences(gradients: try full()) }

        let directions = GradCheck.directions(seed: plan.seed, count: plan.directions, length: total)
        var directional: [Double] = []
        for u in directions {
            var plus: [String: Value] = [:], minus: [String: Value] = [:]
            var offset = 0
            for c in checked {
                var up = c.parts, down = c.parts
                for k in c.parts.indices {
                    for i in 0..<c.parts[k].tensor.count {
                        up[k].tensor.scalars[i] += plan.eps * u[offset]
                        down[k].tensor.scalars[i] -= plan.eps * u[offset]
                        offset += 1
                    }
                }
                plus[c.name] = GradCheck.rebuilt(c.original, up)
                minus[c.name] = GradCheck.rebuilt(c.original, down)
            }
            directional.append((try lossValue(plus) - lossValue(minus)) / (2 * plan.eps))
        }
        let gradients = checked.map(\.gradient)
        if GradCheck.fastVerdict(gradients, directional, directions: directions, tolerance: plan.tolerance).passed {
            return FiniteDifferences(
                gradients: checked.map { GradientPair(name: "d" + $0.name, analytic: $0.gradient, numeric: nil) },
                directional: directional)
        }
        return FiniteDifferences(gradients: try full(), directional: directional)
    }
}
