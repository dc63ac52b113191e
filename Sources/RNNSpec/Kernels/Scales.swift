import RNNKernels

/// `grad.repeated_scale`: scale^k, the gradient-scale proxy of a repeated Jacobian.
struct RepeatedScaleKernel: Kernel {
    let spec = KernelSpec(
        name: "grad.repeated_scale",
        summary: "scale^k for k = 1..steps and several scales: how a repeated factor shrinks or grows a gradient",
        doc: """
            values[s, k-1] = scales[s]^k (pow, as NumPy's scale ** steps); last = scales^steps.
            Below 1 the product vanishes, above 1 it explodes; steps = 0 gives an empty table and last = 1.
            """,
        inputs: [
            .real("scales", ["S"], "the per-step factors", example: "[0.8, 1.0, 1.2]")
        ],
        params: [
            ParamSpec("steps", .integer(min: 0, max: 1_000_000_000), "K, the largest distance")
        ],
        outputs: [
            OutputSpec("values", "[S, K]", "scale^k for k = 1..K"),
            OutputSpec("last", "[S]", "scale^K"),
        ],
        plots: [
            .lines(
                title: "Repeated-Jacobian gradient scale: scale^k", outputs: ["values"], x: "steps k",
                y: "scale^k (log scale)", logY: true, rowsFrom: "scales", firstX: 1)
        ],
        sizes: { c in
            [
                ImpliedSize(
                    "output 'values'", [("S", c.dim("S", otherwise: 0)), ("steps", try c.int("steps"))],
                    blame: "param:steps")
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let scales: Tensor<T> = try c.real("scales"), steps = try c.int("steps")
        let r = repeatedScale(scales: scales.scalars, steps: steps)
        var out = KernelOutputs()
        out["values"] = .real(r.values)
        out["last"] = .real(r.last)
        return out
    }
}

/// `memory.decay`: f^k, the share of the cell state left after k steps of a constant forget gate.
struct MemoryDecayKernel: Kernel {
    let spec = KernelSpec(
        name: "memory.decay",
        summary: "Forget-gate memory decay f^k for k = 0..steps-1, with half-life and timescale",
        doc: """
            remaining[s, k] = f_s^k (k = 0..steps-1, as np.arange(0, steps)); half_life = ln(1/2)/ln f
            (+inf for f = 1: nothing decays; NumPy's np.log(0.5)/np.log(1.0) gives -inf there, since ln 1 is +0);
            timescale = 1/(1 - f) (infinite for f = 1).
            """,
        inputs: [
            .real("forget", ["S"], "forget-gate values", example: "[0.5, 0.8, 0.95, 0.99]")
        ],
        params: [
            ParamSpec("steps", .integer(min: 0, max: 1_000_000_000), "N, the number of steps listed (k = 0..N-1)")
        ],
        outputs: [
            OutputSpec("remaining", "[S, N]", "f^k"),
            OutputSpec("half_life", "[S]", "steps until half remains"),
            OutputSpec("timescale", "[S]", "1/(1 - f)"),
        ],
        plots: [
            .lines(
                title: "Forget-gate memory decay: f^k", outputs: ["remaining"], x: "steps k",
                y: "share of the cell state left", rowsFrom: "forget")
        ],
        sizes: { c in
            [
                ImpliedSize(
                    "output 'remaining'", [("S", c.dim("S", otherwise: 0)), ("steps", try c.int("steps"))],
                    blame: "param:steps")
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let f: Tensor<T> = try c.real("forget")
        if let bad = f.scalars.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw KernelError.input("forget", "forget-gate values lie in [0, 1], found \(bad)")
        }
        let r = memoryDecay(forget: f.scalars, steps: try c.int("steps"))
        var out = KernelOutputs()
        out["remaining"] = .real(r.remaining)
        out["half_life"] = .real(r.halfLife)
        out["timescale"] = .real(r.timescale)
        return out
    }
}

/// `memory.leaky`: the leaky integrator s_t = f s_{t-1} + (1 - f) u_t.
struct LeakyMemoryKernel: Kernel {
    let spec = KernelSpec(
        name: "memory.leaky",
        summary: "Leaky memory s_t = f s_{t-1} + (1 - f) u_t for several forget factors f",
        doc: """
            Evaluated as f*s + (1-f)*u left to right from s0 (zeros if absent), t = 1..T.
            s is the trajectory per f; s_last is s_T (s0 when T = 0).
            """,
        inputs: [
            .real("forget", ["S"], "forget factors f", example: "[0.2, 0.8, 0.95]"),
            .real("u", ["T"], "the input sequence, shared by every f", example: "{ones: [20]}"),
            .real("s0", ["S"], optional: true, "initial state per f (zeros if absent)", example: "[0.0, 0.0, 0.0]"),
        ],
        outputs: [
            OutputSpec("s", "[S, T]", "s_1..s_T per f").time(.axis(1)),
            OutputSpec("s_last", "[S]", "s_T per f"),
        ],
        plots: [
            .lines(
                title: "Leaky memory: s_t = f s_{t-1} + (1 - f) u_t", outputs: ["s"], x: "time step t", y: "state s_t",
                rowsFrom: "forget", firstX: 1)
        ],
        sizes: { c in
            [
                ImpliedSize(
                    "output 's'", [("S", c.dim("S", otherwise: 0)), ("T", c.dim("T", otherwise: 0))], blame: "input:u")
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let f: Tensor<T> = try c.real("forget"), u: Tensor<T> = try c.real("u")
        let s0: Tensor<T>? = try c.optionalReal("s0")
        if let s0, s0.count != f.count {
            throw KernelError.input("s0", "s0 needs one value per forget factor (\(f.count)), found \(s0.count)")
        }
        let r = leakyMemory(forget: f.scalars, inputs: u.scalars, initial: s0?.scalars)
        var out = KernelOutputs()
        out["s"] = .real(r.trajectories)
        out["s_last"] = .real(r.last)
        return out
    }
}

/// `seq.probability`: the probability of a sequence from its step probabilities.
struct SequenceProbabilityKernel: Kernel {
    let spec = KernelSpec(
        name: "seq.probability",
        summary: "Sequence probability as the product of step probabilities, and its log as a sum of logs",
        doc: """
            p = p_1 * p_2 * ... * p_T (left to right); logp = sum_t log p_t.
            Long sequences underflow p to 0 while logp stays finite; T = 0 gives p = 1, logp = 0.
            """,
        inputs: [
            .real("probs", ["T"], "conditional probability of each step's token", example: "[0.8, 0.6, 0.5]")
        ],
        outputs: [
            OutputSpec("p", "[]", "product of the probabilities"),
            OutputSpec("logp", "[]", "sum of their logs"),
            OutputSpec("log_probs", "[T]", "log of each").time(.axis(0)),
        ],
        sizes: KernelSpec.boundedByInputs)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let probs: Tensor<T> = try c.real("probs")
        if let bad = probs.scalars.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw KernelError.input("probs", "probabilities lie in [0, 1], found \(bad)")
        }
        let r = sequenceProbability(probs.scalars)
        var out = KernelOutputs()
        out["p"] = .real(r.probability)
        out["logp"] = .real(r.logProbability)
        out["log_probs"] = .real(r.logProbabilities)
        return out
    }
}

/// `schedule.exp_decay`: exponential learning-rate decay.
struct ExpDecayKernel: Kernel {
    let spec = KernelSpec(
        name: "schedule.exp_decay",
        summary: "Learning rate base_lr * rate^(epoch / decay_steps), optionally with the exponent floored (stepwise)",
        doc: """
            lr = base_lr * rate ** (epoch / decay_steps); stepwise: rate ** floor(epoch / decay_steps).
            """,
        inputs: [
            .real("epochs", ["N"], "the epochs (or steps) to evaluate at", example: "{range: 11}")
        ],
        params: [
            ParamSpec("base_lr", .real, "the learning rate at epoch 0"),
            ParamSpec("rate", .real, "the decay factor per decay_steps epochs"),
            ParamSpec("decay_steps", .real, "epochs per factor of rate (> 0)"),
            ParamSpec("stepwise", .boolean, default: .boolean(false), "floor the exponent (staircase)"),
        ],
        outputs: [
            OutputSpec("lr", "[N]", "the learning rate at each epoch"),
            OutputSpec("exponent", "[N]", "epoch / decay_steps (floored when stepwise)"),
        ],
        sizes: KernelSpec.boundedByInputs)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let steps = try c.double("decay_steps")
        guard steps > 0 else { throw KernelError.param("decay_steps", "decay_steps must be > 0, found \(steps)") }
        let rate = try c.double("rate")
        guard rate > 0 else { throw KernelError.param("rate", "rate must be > 0, found \(rate)") }
        let epochs: Tensor<T> = try c.real("epochs")
        let r = exponentialDecay(
            epochs: epochs.scalars, base: T(try c.double("base_lr")), rate: T(rate), steps: T(steps),
            stepwise: try c.bool("stepwise"))
        var out = KernelOutputs()
        out["lr"] = .real(Tensor(r.rate))
        out["exponent"] = .real(Tensor(r.exponent))
        return out
    }
}
