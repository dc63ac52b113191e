import Foundation
import RNNKernels

extension Runner {
    /// A case that ended in the execute stage.
    struct Settled: Error {
        var status: Status
        var error: SpecError?
        var reason: String?
        var notes: [String] = []
    }

    /// Execute: the kernel runs (with the gradcheck's finite differences) in a worker or here.
    /// A case handed to the execute stage: done already (in this process, or refused before being
    /// sent), or sent to a worker whose reply is awaited.
    enum Submitted {
        case done(Result<ExecutionReply, Settled>)
        case sent(ExecutionRequest, deadline: Date, timeout: Double)
    }

    /// Execute, first half: runs the case here, or sends it to the thread's worker.
    func submit(_ c: Case, pool: WorkerPool?, worker: WorkerProcess?) -> Submitted {
        let request = ExecutionRequest(c)
        guard let pool, let worker else {
            do { return .done(.success(try checkedOutputs(c, Execution.run(request, registry: registry)))) } catch {
                return .done(.failure(Settled(status: .unresolved, error: Runner.located(c, error))))
            }
        }
        if let implemented = pool.kernels, !implemented.contains(c.kernel.spec.name) {
            return .done(
                .failure(
                    Settled(
                        status: .unsupported,
                        reason:
                            "\(pool.name.isEmpty ? "the backend" : pool.name) does not implement \(c.kernel.spec.name)")
                ))
        }
        do { try worker.ensureRunning() } catch {
            return .done(
                .failure(
                    Settled(
                        status: .unresolved, error: c.error("cannot restart the worker process: \(error)", at: "kernel")
                    )))
        }
        let timeout = c.timeout ?? options.timeout
        // A failed send shows as the worker's death when the reply is collected.
        _ = worker.submit(request)
        return .sent(request, deadline: Date().addingTimeInterval(timeout), timeout: timeout)
    }

    /// An execution failure located at the case's line for the field it names.
    static func located(_ c: Case, _ f: ExecutionFailure) -> SpecError {
        var key = f.at
        if key.hasPrefix("param:") && c.locations[key] == nil { key = "params" }
        return c.error(f.message, at: key)
    }

    /// Execute, second half: the worker's reply (or its fault) as outputs or a settled result.
    func complete(_ c: Case, _ submitted: Submitted, pool: WorkerPool?, worker: WorkerProcess?) -> Result<
        ExecutionReply, Settled
    > {
        guard case .sent(let request, let deadline, let timeout) = submitted, let worker else {
            if case .done(let result) = submitted { return result }
            return .failure(Settled(status: .unresolved, error: c.error("no worker process", at: "kernel")))
        }
        func located(_ f: ExecutionFailure) -> SpecError { Runner.located(c, f) }
        switch worker.collect(request, deadline: deadline, timeout: timeout, maxElements: options.limits.maxElements) {
        case .answered(.outputs(var reply)):
            if let plan = request.gradcheck, reply.gradients.isEmpty {
                // A backend that does not compute finite differences: run them through it.
                do {
                    let differences = try finiteDifferences(
                        request, plan, c.kernel.spec, worker: worker, deadline: deadline)
                    reply.gradients = differences.gradients
                    reply.directional = differences.directional
                } catch {
                    if error.at == Self.timeoutKey {
                        return .failure(
                            Settled(
                                status: .timeout,
                                error: c.error(
                                    "the case's gradcheck did not finish within \(NumberText.format(timeout)) s; its worker was stopped",
                                    at: "gradcheck")))
                    }
                    return .failure(Settled(status: .unresolved, error: located(error)))
                }
            }
            do { return .success(try checkedOutputs(c, reply)) } catch {
                return .failure(Settled(status: .unresolved, error: located(error)))
            }
        case .answered(.failure(let f)):
            return .failure(Settled(status: .unresolved, error: located(f)))
        case .answered(.unsupported(let reason)):
            return .failure(Settled(status: .unsupported, reason: reason))
        case .timedOut(let seconds):
            let source = c.timeout != nil ? "its timeout:" : "--timeout"
            return .failure(
                Settled(
                    status: .timeout,
                    error: c.error(
                        "the case did not finish within \(NumberText.format(seconds)) s (\(source)); its worker was stopped",
                        at: c.timeout != nil ? "timeout" : "kernel")))
        case .died(let death):
            let message =
                death.ranOutOfMemory
                ? "the case ran out of memory: its worker process hit the cap of \(options.maxMemoryBytes >> 20) MiB (--max-memory) and died: \(death)"
                : "the case crashed its worker process: \(death)"
            return .failure(Settled(status: .unresolved, error: c.error(message, at: "kernel"), notes: death.notes))
        case .violated(let what):
            return .failure(
                Settled(
                    status: .unresolved,
                    error: c.error("the worker's reply does not follow the worker protocol: \(what)", at: "kernel")))
        }
    }

    static let timeoutKey = "(timeout)"

    /// A gradcheck's finite differences computed here, each run of the kernel a request to the worker,
    /// all of them within the case's deadline.
    func finiteDifferences(
        _ request: ExecutionRequest, _ plan: GradCheckPlan, _ spec: KernelSpec,
        worker: WorkerProcess, deadline: Date
    ) throws(ExecutionFailure) -> FiniteDifferences {
        try Execution.gradients(request, plan, spec: spec) { (inputs, params, _) throws(ExecutionFailure) in
            var shifted = request
            shifted.inputs = inputs
            shifted.params = params
            shifted.gradcheck = nil
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw ExecutionFailure("", at: Self.timeoutKey) }
            switch worker.startingIfNeeded(shifted, timeout: remaining, maxElements: options.limits.maxElements) {
            case .success(.answered(.outputs(let reply))): return reply.outputs
            case .success(.answered(.failure(let f))):
                throw ExecutionFailure("gradcheck: a run with a perturbed input failed: \(f.message)", at: f.at)
            case .success(.answered(.unsupported(let why))):
                throw ExecutionFailure(
                    "gradcheck: a run with a perturbed input is unsupported: \(why)", at: "gradcheck")
            case .success(.timedOut): throw ExecutionFailure("", at: Self.timeoutKey)
            case .success(.died(let death)):
                throw ExecutionFailure(
                    "gradcheck: the worker died during a run with a perturbed input: \(death)", at: "gradcheck")
            case .success(.violated(let what)):
                throw ExecutionFailure(
                    "gradcheck: the worker's reply does not follow the worker protocol: \(what)", at: "gradcheck")
            case .failure(let error):
                throw ExecutionFailure("gradcheck: cannot restart the worker process: \(error)", at: "gradcheck")
            }
        }
    }

    /// The outputs of a reply, checked against the kernel's declaration (a worker may be any program).
    func checkedOutputs(_ c: Case, _ reply: ExecutionReply) throws(ExecutionFailure) -> ExecutionReply {
        try Execution.checkDeclared(reply.outputs, c.kernel.spec)
        guard let plan = c.gradcheck else { return reply }
        var reply = reply
        // In the plan's order: a fast check's directions run over the inputs in that order.
        var ordered: [GradientPair] = []
        for name in plan.wrt {
            guard let pair = reply.gradients.first(where: { $0.name == "d" + name }) else {
                throw ExecutionFailure("gradcheck: no finite differences came back for \(name)", at: "gradcheck")
            }
            if let numeric = pair.numeric, pair.analytic.shape != numeric.shape {
                throw ExecutionFailure(
                    "gradcheck: \(pair.name) has shape \(pair.analytic.shape) but its finite differences \(numeric.shape)",
                    at: "gradcheck")
            }
            ordered.append(pair)
        }
        reply.gradients = ordered
        if ordered.contains(where: { $0.numeric == nil })
            && (plan.mode != .fast || reply.directional.count != plan.directions)
        {
            throw ExecutionFailure(
                "gradcheck: \(reply.directional.count) directional differences came back for the \(plan.mode == .fast ? plan.directions : 0) directions of a \(plan.mode.rawValue) check",
                at: "gradcheck")
        }
        return reply
    }

    /// Runs a case's kernel in this process, in its precision, and checks the outputs against the
    /// declaration; errors point at the case's lines.
    public static func execute(_ c: Case) throws -> KernelOutputs {
        do {
            return try Execution.run(
                ExecutionRequest(
                    id: c.id, kernel: c.kernel.spec.name, params: c.params, inputs: c.inputs, dims: c.dims),
                kernel: c.kernel
            ).outputs
        } catch {
            throw Runner.located(c, error)
        }
    }

    /// The output's declared time axis and gate blocks, resolved for the case's params and the value's shape.
    func layout(_ c: Case, _ name: String, _ value: Value) -> OutputLayout {
        c.kernel.spec.output(name)?.layout(params: c.params, shape: value.shape) ?? OutputLayout()
    }

    func dtype(of value: Value) -> DType {
        switch value {
        case .real(let r): return r.dtype
        case .list(let items): return items.first.map(dtype(of:)) ?? .float64
        default: return .float64
        }
    }
}
