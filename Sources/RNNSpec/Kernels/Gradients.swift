import RNNKernels

/// `grad.jacobian_norms`: norms of products of step Jacobians along a real run.
struct JacobianNormsKernel: Kernel {
    let spec = KernelSpec(
        name: "grad.jacobian_norms",
        summary:
            "Norms of products of step Jacobians over distance k: Elman diag(1-h^2) W_hh, or the LSTM cell path f_t",
        doc: """
            cell rnn: runs the Elman RNN on x from h0 and forms P_k = J_T ... J_{T-k+1} = dh_T/dh_{T-k} with
            J_t = diag(act'(a_t)) W_hh (= diag(1 - h_t^2) W_hh for tanh), k = 1..T.
            cell lstm: the cell-state path dc_T/dc_{T-k} = diag(f_T * ... * f_{T-k+1}) from the given forget gates.
            norms[k-1] = ||P_k|| (Frobenius, or spectral = largest singular value).
            """,
        inputs: [
            .real(
                "x", ["T", "I"], optional: true, "inputs of the Elman run (cell rnn)",
                example: "[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]"
            ).inSkeleton(),
            .real("h0", ["H"], optional: true, "initial state (zeros if absent)", example: "[0.0, 0.0]"),
            .real(
                "W_xh", ["H", "I"], optional: true, "input-to-hidden weights (cell rnn)",
                example: "{random: normal, shape: [2, 2], seed: 1, std: 0.5}"
            ).inSkeleton(),
            .real(
                "W_hh", ["H", "H"], optional: true, "hidden-to-hidden weights (cell rnn)",
                example: "{random: normal, shape: [2, 2], seed: 2, std: 0.5}"
            ).inSkeleton(),
            .real("b_h", ["H"], optional: true, "hidden bias (zeros if absent)", example: "[0.0, 0.0]"),
            .real(
                "forget_gates", ["T", "H"], optional: true, "f_1..f_T (cell lstm)",
                example: "[[0.9, 0.5], [0.9, 0.5], [0.9, 0.5]]"),
        ],
        params: [
            ParamSpec(
                "cell", .choice(["rnn", "lstm"]), default: .string("rnn"),
                "which Jacobian: Elman hidden path or LSTM cell path"),
            ParamSpec(
                "norm", .choice(MatrixNorm.allCases.map(\.rawValue)), default: .string("frobenius"), "matrix norm"),
            ParamSpec(
                "activation", .choice(CellActivation.elmanNames), default: .string("tanh"), "the Elman nonlinearity"),
        ],
        outputs: [
            OutputSpec("norms", "[T]", "||P_k|| for k = 1..T"),
            OutputSpec("products", "[T, H, H] or [T, H]", "P_k (rnn) or the diagonal of the cell-path product (lstm)"),
            OutputSpec("h", "[T, H]", optional: true, "the hidden states of the run (rnn)").time(.axis(0)),
        ],
        plots: [
            .lines(
                title: "Jacobian-product norms ‖P_k‖", outputs: ["norms"], x: "steps back k", y: "norm (log scale)",
                logY: true, firstX: 1), .trajectories(title: "Hidden-state trajectories h_t", output: "h"),
        ],
        sizes: { c in
            let lstm = try c.string("cell") == "lstm"
            let t = c.dim("T", otherwise: 0), h = c.dim("H", otherwise: 0)
            let blame = lstm ? "input:forget_gates" : "input:x"
            var sizes = [
                ImpliedSize("time steps", [("T", t)], blame: blame),
                ImpliedSize(
                    "output 'products'", lstm ? [("T", t), ("H", h)] : [("T", t), ("H", h), ("H", h)], blame: blame),
                ImpliedSize("the running product", lstm ? [("H", h)] : [("H", h), ("H", h)], blame: blame),
            ]
            if !lstm {
                // One H×H product per step, and for the spectral norm Jacobi sweeps over each (at most 64, about H³/2 each).
                sizes.append(
                    .operations("the Jacobian products", [("T", t), ("H", h), ("H", h), ("H", h)], blame: blame))
                if try c.string("norm") == "spectral" {
                    sizes.append(
                        .operations(
                            "the spectral norms", [("T", t), ("H", h), ("H", h), ("H", h), ("sweeps", 32)],
                            blame: "param:norm"))
                }
            }
            return sizes
        }
    ).rules([
        .unused(
            ["x", "h0", "W_xh", "W_hh", "b_h"], when: .param("cell", [.string("lstm")]),
            because: "cell lstm takes forget_gates only"),
        .unused(["forget_gates"], when: .param("cell", [.string("rnn")]), because: "forget_gates need cell: lstm"),
    ])

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let norm: MatrixNorm = try c.choice("norm")
        let r: JacobianNorms<T>
        if try c.string("cell") == "lstm" {
            for name in ["x", "h0", "W_xh", "W_hh", "b_h"] where c.has(name) {
                throw KernelError.input(name, "cell lstm takes forget_gates only; \(name) belongs to cell rnn")
            }
            r = cellPathJacobianNorms(forgetGates: try c.real("forget_gates"), norm: norm)
        } else {
            if c.has("forget_gates") { throw KernelError.input("forget_gates", "forget_gates need cell: lstm") }
            let whh: Tensor<T> = try c.real("W_hh")
            let cell = RecurrentCell<T>.elman(
                wxh: try c.real("W_xh"), whh: whh, bh: try c.optionalReal("b_h"), activation: try elmanActivation(c))
            r = elmanJacobianNorms(
                x: try c.real("x"), h0: try c.optionalReal("h0") ?? Tensor(zeros: [whh.shape[0]]), cell: cell,
                norm: norm)
        }
        var out = KernelOutputs()
        out["norms"] = .real(r.norms)
        out["products"] = .real(r.products)
        if let h = r.h { out["h"] = .real(h) }
        return out
    }
}

/// `init.weights`: He and Xavier initialisation from the seeded stream.
struct InitWeightsKernel: Kernel {
    let spec = KernelSpec(
        name: "init.weights",
        summary: "He or Xavier initialisation (normal or uniform) from a seeded, platform-independent stream",
        doc: """
            he: std = sqrt(2/fan_in) (the article's randn(n_in, n_out) * sqrt(2.0/n_in)); xavier: std = sqrt(2/(fan_in + fan_out)).
            normal: w = std * z; uniform: w = bound * (2u - 1), bound = sqrt(3) * std. Draws in row-major order from the same
            SplitMix64 / polar-method stream as the case files' random generator (same seed, same numbers).
            stream numpy_legacy draws as the article's NumPy: np.random.seed(seed), then np.random.randn(*shape) * std
            (normal) or np.random.uniform(-b, b, size=shape) with b = np.sqrt(6.0/d) (uniform), d = fan_in (he) or fan_in + fan_out.
            layout in_out gives W [fan_in, fan_out] (the article), out_in gives [fan_out, fan_in] (PyTorch).
            """,
        inputs: [],
        params: [
            ParamSpec("scheme", .choice(InitScheme.allCases.map(\.rawValue)), "he or xavier"),
            ParamSpec(
                "distribution", .choice(InitDistribution.allCases.map(\.rawValue)), default: .string("normal"),
                "normal or uniform"),
            ParamSpec("fan_in", .integer(min: 1, max: 1_000_000_000), "n_in"),
            ParamSpec("fan_out", .integer(min: 1, max: 1_000_000_000), "n_out"),
            ParamSpec(
                "seed", .integer(min: Int.min, max: Int.max), "the stream's seed (0 ... 2**32 - 1 for numpy_legacy)"),
            ParamSpec(
                "layout", .choice(["in_out", "out_in"]), default: .string("in_out"),
                "W [fan_in, fan_out] or [fan_out, fan_in]"),
            ParamSpec(
                "stream", .choice(["rnnspec", "numpy_legacy"]), default: .string("rnnspec"),
                "rnnspec: rnnspec's seeded stream; numpy_legacy: np.random.seed(seed), then randn(*shape) * std or uniform(-b, b), bit for bit"
            ),
        ],
        outputs: [
            OutputSpec("W", "[fan_in, fan_out] or [fan_out, fan_in]", "the weights"),
            OutputSpec("std", "[]", "the target standard deviation"),
            OutputSpec("bound", "[]", "sqrt(3) * std, the uniform half-width"),
            OutputSpec("sample_mean", "[]", "mean of W"),
            OutputSpec("sample_std", "[]", "standard deviation of W (divide by N)"),
        ],
        sizes: { c in
            let fanIn = try c.int("fan_in"), fanOut = try c.int("fan_out")
            return [
                ImpliedSize(
                    "output 'W'", [("fan_in", fanIn), ("fan_out", fanOut)],
                    blame: fanIn >= fanOut ? "param:fan_in" : "param:fan_out")
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let fanIn = try c.int("fan_in"), fanOut = try c.int("fan_out"), seed = try c.int("seed")
        let shape = try c.string("layout") == "in_out" ? [fanIn, fanOut] : [fanOut, fanIn]
        let scheme: InitScheme = try c.choice("scheme"), distribution: InitDistribution = try c.choice("distribution")
        let r: InitializedWeights<T>
        if try c.string("stream") == "numpy_legacy" {
            guard seed >= 0, seed <= Int(UInt32.max) else {
                throw KernelError.param(
                    "seed",
                    "param 'seed' must be between 0 and 2**32 - 1 for stream numpy_legacy (np.random.seed), found \(seed)"
                )
            }
            var stream = NumPyRandomState(seed: UInt32(seed))
            r = initializeWeights(
                shape: shape, fanIn: fanIn, fanOut: fanOut, scheme: scheme, distribution: distribution, stream: &stream)
        } else {
            var stream = SeededStream(seed: UInt64(bitPattern: Int64(seed)))
            r = initializeWeights(
                shape: shape, fanIn: fanIn, fanOut: fanOut, scheme: scheme, distribution: distribution, stream: &stream)
        }
        var out = KernelOutputs()
        out["W"] = .real(r.weights)
        out["std"] = .real(r.std)
        out["bound"] = .real(r.bound)
        out["sample_mean"] = .real(r.sampleMean)
        out["sample_std"] = .real(r.sampleStd)
        return out
    }
}

/// `charrnn.sample`: sample characters from a character-level RNN.
struct CharRNNSampleKernel: Kernel {
    let spec = KernelSpec(
        name: "charrnn.sample",
        summary:
            "Sample n characters from a char-level Elman RNN with temperature, by inverse CDF of a seeded uniform stream",
        doc: """
            x_0 = onehot(seed_index); h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h); p_t = softmax((W_hy h_t + b_y) / temperature);
            i_t = first i with p_0 + ... + p_i > u_t, u_t from the seeded stream; x_{t+1} = onehot(i_t).
            With vocab the sampled characters are returned as strings too.
            """,
        inputs: [
            .real(
                "W_xh", ["H", "V"], "input-to-hidden weights (one-hot inputs)",
                example: "{random: normal, shape: [3, 4], seed: 1, std: 0.5}"),
            .real(
                "W_hh", ["H", "H"], "hidden-to-hidden weights",
                example: "{random: normal, shape: [3, 3], seed: 2, std: 0.5}"),
            .real(
                "W_hy", ["V", "H"], "hidden-to-output weights",
                example: "{random: normal, shape: [4, 3], seed: 3, std: 0.5}"),
            .real("b_h", ["H"], optional: true, "hidden bias (zeros if absent)", example: "[0.0, 0.0, 0.0]"),
            .real("b_y", ["V"], optional: true, "output bias (zeros if absent)", example: "[0.0, 0.0, 0.0, 0.0]"),
            .real("h0", ["H"], optional: true, "initial state (zeros if absent)", example: "[0.0, 0.0, 0.0]"),
            InputSpec(
                "vocab", .string, shapes: [["V"]], optional: true, doc: "the characters, to return the sample as text",
                example: "[h, e, l, o]"),
        ],
        params: [
            ParamSpec("seed_index", .integer(min: 0, max: 1_000_000_000), "the first input character"),
            ParamSpec("n", .integer(min: 0, max: 1_000_000_000), "how many characters to sample"),
            ParamSpec("temperature", .real, default: .real(1), "softmax temperature (> 0)"),
            ParamSpec("seed", .integer(min: Int.min, max: Int.max), "the uniform stream's seed"),
            ParamSpec(
                "stream", .choice(["rnnspec", "numpy_legacy"]), optional: true,
                "absent or rnnspec: inverse CDF of rnnspec's seeded stream; numpy_legacy: np.random.seed(seed), then np.random.choice(range(V), p=p.ravel()) per step, as the article's sample()"
            ),
        ],
        outputs: [
            OutputSpec("indices", .integer, "[n]", "sampled character indices").time(.axis(0)),
            OutputSpec("probabilities", "[n]", "probability of each sampled index when drawn").time(.axis(0)),
            OutputSpec("p", "[n, V]", "the distribution at each step").time(.axis(0)),
            OutputSpec("u", "[n]", "the uniform number that chose each index").time(.axis(0)),
            OutputSpec("h", "[n, H]", "hidden state after each step").time(.axis(0)),
            OutputSpec("chars", .string, "[n]", optional: true, "the sampled characters (with vocab)"),
        ],
        plots: [
            .temperatureSweep(
                title: "Sampling distribution of the first character against temperature", probabilities: "p",
                temperature: "temperature", labelsFrom: "vocab"),
            .trajectories(title: "Hidden state while sampling", output: "h"),
        ],
        sizes: { c in
            let n = try c.int("n"), v = c.dim("V", otherwise: 0), h = c.dim("H", otherwise: 0)
            return [
                ImpliedSize("sampling steps", [("n", n)], blame: "param:n"),
                ImpliedSize("output 'p'", [("n", n), ("V", v)], blame: "param:n"),
                ImpliedSize("output 'h'", [("n", n), ("H", h)], blame: "param:n"),
                .operations(
                    "the sampling steps", [("n", n), ("H", h), ("H + V", ImpliedSize.sum(h, v))], blame: "param:n"),
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let temperature = try c.double("temperature")
        // In float32 a tiny temperature rounds to 0 and a huge one to infinity.
        guard temperature > 0, T(temperature) > 0, T(temperature).isFinite else {
            throw KernelError.param(
                "temperature", "temperature must be > 0 and finite in \(T.self), found \(temperature)")
        }
        let why: Tensor<T> = try c.real("W_hy"), whh: Tensor<T> = try c.real("W_hh")
        let seedIndex = try c.int("seed_index")
        guard seedIndex < why.shape[0] else {
            throw KernelError.param("seed_index", "seed_index must be < V = \(why.shape[0])")
        }
        let cell = RecurrentCell<T>.elman(wxh: try c.real("W_xh"), whh: whh, bh: try c.optionalReal("b_h"))
        let h0: Tensor<T> = try c.optionalReal("h0") ?? Tensor(zeros: [whh.shape[0]])
        let by: Tensor<T>? = try c.optionalReal("b_y")
        let r: CharSample<T>
        if try c.optionalString("stream") == "numpy_legacy" {  // the article's np.random.choice (NumPyRandom.swift)
            guard let seed = UInt32(exactly: try c.int("seed")) else {
                throw KernelError.param("seed", "np.random.seed takes 0 ≤ seed < 2**32, found \(try c.int("seed"))")
            }
            do {
                r = try sampleCharactersNumPyLegacy(
                    cell: cell, why: why, by: by, h0: h0, seedIndex: seedIndex, count: try c.int("n"),
                    temperature: T(temperature), seed: seed)
            } catch let e as NumPyRandomError { throw KernelError.param("stream", "np.random.choice refuses p: \(e)") }
        } else {
            var stream = SeededStream(seed: UInt64(bitPattern: Int64(try c.int("seed"))))
            r = sampleCharacters(
                cell: cell, why: why, by: by, h0: h0, seedIndex: seedIndex, count: try c.int("n"),
                temperature: T(temperature), stream: &stream)
        }
        var out = KernelOutputs()
        out["indices"] = .integers(r.indices)
        out["probabilities"] = .real(r.probabilities)
        out["p"] = .real(r.distributions)
        out["u"] = .real(r.uniforms)
        out["h"] = .real(r.h)
        if c.has("vocab") {
            let vocab = try c.strings("vocab").scalars
            out["chars"] = .string(Tensor(r.indices.map { vocab[$0] }))
        }
        return out
    }
}
