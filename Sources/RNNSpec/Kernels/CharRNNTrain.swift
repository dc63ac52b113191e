import RNNKernels

/// `charrnn.train`: the article's character-level RNN trained on a text, min-char-rnn's loop.
struct CharRNNTrainKernel: Kernel {
    static let maxHidden = 100_000

    /// a · b + 10,000 (a step's multiply-adds and its fixed costs), saturating at Int.max.
    static func perStep(_ a: Int, _ b: Int) -> Int { ImpliedSize.sum(product(a, b), 10_000) }

    /// The work of one training iteration: S · perStep(H, 6 V + 3 H) + 20 · (H (2 V + H + 1) + V) + 10,000, saturating.
    static func perIteration(_ s: Int, _ h: Int, _ v: Int) -> Int {
        let steps = product(s, perStep(h, ImpliedSize.sum(v, v, v, v, v, v, h, h, h)))
        let weights = ImpliedSize.sum(product(h, ImpliedSize.sum(v, v, h, 1)), v)
        return ImpliedSize.sum(steps, product(20, weights), 10_000)
    }

    /// a · b for non-negative factors, Int.max when it overflows.
    static func product(_ a: Int, _ b: Int) -> Int {
        let (p, overflow) = max(a, 0).multipliedReportingOverflow(by: max(b, 0))
        return overflow ? Int.max : p
    }

    let spec = KernelSpec(
        name: "charrnn.train",
        summary:
            "Train the article's character-level Elman RNN on a text (SGD or Adagrad, global-norm clipping, lr schedule), then sample from it",
        doc: """
            Characters are Unicode scalars; the vocabulary is vocab or sorted(set(text)). Each iteration n takes S = seq_length
            characters at p (targets: the next S), starting again at p = 0 with h = 0 when p + S + 1 >= len(text) or n = 0, and
            otherwise carrying h from the previous chunk: h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), p_t = softmax(W_hy h_t + b_y),
            loss = sum_t -log p_t[target_t], gradients by BPTT (the rnn.bptt driver). smooth_loss = 0.999 smooth_loss + 0.001 loss
            from -log(1/V) S. grad_norm = ||(dW_xh, dW_hh, dW_hy, db_h, db_y)||, then clip_gradients(grads, clip).
            lr = base_lr * decay_rate ** (n / decay_steps). sgd: W -= lr dW; adagrad: m += dW^2, W += -lr dW / sqrt(m + epsilon).
            Initial weights: the inputs, or np.random.seed(init_seed) and W_hh, W_xh, W_hy = randn(...) * 0.01 in that order, zero biases.
            After training: np.random.seed(sample_seed), then sample_n characters from the final h and character sample_seed_index,
            each np.random.choice(range(V), p=p.ravel()) (the article's sample).
            """,
        inputs: [
            InputSpec(
                "text", .string, shapes: [[]], doc: "the training text (a block scalar `|` keeps its line ends)",
                example: "\"hello world, hello moon\\n\""),
            InputSpec(
                "vocab", .string, shapes: [["V"]], optional: true,
                doc: "the characters, in index order (sorted(set(text)) if absent)",
                example: "[\"\\n\", \" \", \",\", d, e, h, l, m, n, o, r, w]"),
            .real(
                "W_xh", ["H", "V"], optional: true,
                "initial input-to-hidden weights (with W_hh and W_hy; else init_seed draws them)",
                example: "{random: normal, shape: [8, 12], seed: 1, std: 0.01}"
            ).inSkeleton(),
            .real(
                "W_hh", ["H", "H"], optional: true, "initial hidden-to-hidden weights",
                example: "{random: normal, shape: [8, 8], seed: 2, std: 0.01}"
            ).inSkeleton(),
            .real(
                "W_hy", ["V", "H"], optional: true, "initial hidden-to-output weights",
                example: "{random: normal, shape: [12, 8], seed: 3, std: 0.01}"
            ).inSkeleton(),
            .real("b_h", ["H"], optional: true, "initial hidden bias (zeros if absent)", example: "{zeros: [8]}"),
            .real("b_y", ["V"], optional: true, "initial output bias (zeros if absent)", example: "{zeros: [12]}"),
        ],
        params: [
            ParamSpec(
                "hidden_size", .integer(min: 1, max: CharRNNTrainKernel.maxHidden), optional: true,
                "H (required with init_seed; with weight inputs it must match them)"),
            ParamSpec(
                "seq_length", .integer(min: 1, max: 1_000_000_000),
                "S, characters per iteration (at most len(text) - 1)"),
            ParamSpec("iterations", .integer(min: 0, max: 1_000_000_000), "K, the number of updates"),
            ParamSpec(
                "optimizer", .choice(CharRNNOptimizer.allCases.map(\.rawValue)), default: .string("adagrad"),
                "sgd or min-char-rnn's adagrad"),
            ParamSpec("base_lr", .real, default: .real(0.1), "the learning rate at n = 0 (> 0)"),
            ParamSpec(
                "decay_rate", .real, default: .real(1),
                "the schedule's factor per decay_steps iterations (> 0; 1 keeps lr constant)"),
            ParamSpec("decay_steps", .real, default: .real(1), "iterations per factor of decay_rate (> 0)"),
            ParamSpec(
                "clip", .real, optional: true, allowsInfinity: true,
                "clip the gradients to this global norm (the article's clip_gradients; none if absent)"),
            ParamSpec("epsilon", .real, default: .real(1e-8), "adagrad's epsilon under the square root"),
            ParamSpec(
                "init_seed", .integer(min: 0, max: 4_294_967_295), optional: true,
                "np.random.seed for the article's weight draw (instead of weight inputs)"),
            ParamSpec(
                "sample_n", .integer(min: 0, max: 1_000_000_000), default: .integer(0),
                "characters to sample after training"),
            ParamSpec(
                "sample_seed", .integer(min: 0, max: 4_294_967_295), default: .integer(0),
                "np.random.seed before sampling"),
            ParamSpec(
                "sample_seed_index", .integer(min: 0, max: 1_000_000_000), default: .integer(0),
                "the character index the sample starts from"),
        ],
        outputs: [
            OutputSpec("loss", "[K]", "sum over the chunk of -log p[target], each iteration"),
            OutputSpec("smooth_loss", "[K]", "min-char-rnn's smooth_loss after each iteration"),
            OutputSpec("grad_norm", "[K]", "global norm of the gradients before clipping"),
            OutputSpec("lr", "[K]", "the learning rate each iteration used"),
            OutputSpec("W_xh", "[H, V]", "final weights"),
            OutputSpec("W_hh", "[H, H]", "final weights"),
            OutputSpec("W_hy", "[V, H]", "final weights"),
            OutputSpec("b_h", "[H]", "final hidden bias"),
            OutputSpec("b_y", "[V]", "final output bias"),
            OutputSpec("h", "[H]", "the hidden state carried out of the last iteration (the sample starts from it)"),
            OutputSpec("vocab", .string, "[V]", "the characters, in index order"),
            OutputSpec("sample", .integer, "[sample_n]", "the sampled character indices"),
            OutputSpec("sample_text", .string, "[]", "the sample as text"),
        ],
        plots: [
            .lines(
                title: "Training loss per iteration", outputs: ["loss", "smooth_loss"], x: "iteration n",
                y: "loss (sum over seq_length characters)"),
            .lines(
                title: "Gradient norm before clipping", outputs: ["grad_norm"], x: "iteration n",
                y: "global norm (log scale)", logY: true),
        ],
        curves: ["loss", "smooth_loss", "grad_norm"],
        sizes: { c in
            let perStep = CharRNNTrainKernel.perStep, perIteration = CharRNNTrainKernel.perIteration
            let text = try c.strings("text")
            let n = text.scalars.first?.unicodeScalars.count ?? 0
            let v = c.dims["V"] ?? Set(text.scalars.first?.unicodeScalars.map(\.value) ?? []).count
            let hiddenParam = try c.optionalInt("hidden_size") ?? 0
            let h = c.dims["H"] ?? hiddenParam
            let k = try c.int("iterations"), s = try c.int("seq_length"), samples = try c.int("sample_n")
            let blameH = c.dims["H"] != nil ? "input:W_hh" : "param:hidden_size"
            return [
                ImpliedSize("the text's character indices", [("N", n)], blame: "input:text"),
                ImpliedSize("the curves", [("4 curves", 4), ("iterations", k)], blame: "param:iterations"),
                ImpliedSize(
                    "the weights, gradients and Adagrad memories",
                    [("3", 3), ("H", h), ("H + 2 V + 2", ImpliedSize.sum(h, v, v, 2))], blame: blameH),
                ImpliedSize(
                    "one iteration's inputs, states and outputs",
                    [("seq_length", s), ("4 (V + H)", ImpliedSize.sum(v, h, v, h, v, h, v, h))],
                    blame: "param:seq_length"),
                // Per iteration: each step's multiply-adds (forward and backward) and 10,000 for its fixed
                // costs, then 20 per weight (clipping and the update) and 10,000 more.
                .operations(
                    "the training loop",
                    [
                        ("iterations", k),
                        (
                            "seq_length (H (6 V + 3 H) + 10000) + 20 weights + 10000",
                            perIteration(s, h, v)
                        ),
                    ], blame: "param:iterations"),
                ImpliedSize(
                    "output 'sample'", [("sample_n", samples), ("V + H", ImpliedSize.sum(v, h))],
                    blame: "param:sample_n"),
                .operations(
                    "the sampling steps",
                    [("sample_n", samples), ("H (H + V) + 10000 per step", perStep(h, ImpliedSize.sum(h, v)))],
                    blame: "param:sample_n"),
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        guard let text = try c.strings("text").scalars.first else {
            throw KernelError.input("text", "text must be one string")
        }
        let vocab: [String]
        if c.has("vocab") {
            vocab = try c.strings("vocab").scalars
            var seen = Set<String>()
            for ch in vocab {
                guard ch.unicodeScalars.count == 1 else {
                    throw KernelError.input(
                        "vocab", "each vocab entry is one character (one Unicode scalar), found \(YAMLText.quoted(ch))")
                }
                guard seen.insert(ch).inserted else {
                    throw KernelError.input("vocab", "vocab lists \(YAMLText.quoted(ch)) twice")
                }
            }
        } else {
            vocab = sortedVocabulary(text)
        }
        let data: [Int]
        switch characterIndices(text, vocab: vocab) {
        case .success(let d): data = d
        case .failure(let e):
            throw KernelError.input(
                "text",
                "the text's character \(YAMLText.quoted(e.character)) (at position \(e.position)) is not in the vocabulary"
            )
        }
        let v = vocab.count
        let s = try c.int("seq_length")
        guard data.count >= s + 1 else {
            throw KernelError.param(
                "seq_length",
                "seq_length \(s) needs a text of at least \(s + 1) characters (inputs and the next character as targets); the text has \(data.count)"
            )
        }

        let given = ["W_xh", "W_hh", "W_hy"].filter(c.has)
        let initial: CharRNNWeights<T>
        if let seed = try c.optionalInt("init_seed") {
            if let name = given.first ?? ["b_h", "b_y"].first(where: c.has) {
                throw KernelError.input(
                    name, "init_seed draws the initial weights; give either init_seed or the weight inputs, not both")
            }
            guard let h = try c.optionalInt("hidden_size") else {
                throw KernelError.param("init_seed", "init_seed needs hidden_size")
            }
            initial = CharRNNWeights(articleInitVocabSize: v, hiddenSize: h, seed: UInt32(seed))
        } else {
            guard given.count == 3 else {
                let missing = ["W_xh", "W_hh", "W_hy"].filter { !c.has($0) }
                throw KernelError.invalid(
                    "give the initial weights W_xh, W_hh and W_hy (missing: \(missing.joined(separator: ", "))), or init_seed and hidden_size to draw them as the article does"
                )
            }
            let wxh: Tensor<T> = try c.real("W_xh"), whh: Tensor<T> = try c.real("W_hh"),
                why: Tensor<T> = try c.real("W_hy")
            let h = whh.shape[0]
            guard wxh.shape[1] == v else {
                throw KernelError.input(
                    "W_xh", "W_xh has \(wxh.shape[1]) columns but the vocabulary has \(v) characters")
            }
            if let hp = try c.optionalInt("hidden_size"), hp != h {
                throw KernelError.param("hidden_size", "hidden_size \(hp) does not match the weights' H = \(h)")
            }
            initial = CharRNNWeights(
                wxh: wxh, whh: whh, why: why, bh: try c.optionalReal("b_h") ?? Tensor(zeros: [h]),
                by: try c.optionalReal("b_y") ?? Tensor(zeros: [v]))
        }

        let optimizer: CharRNNOptimizer = try c.choice("optimizer")
        let baseLR = try c.double("base_lr"), rate = try c.double("decay_rate"), steps = try c.double("decay_steps")
        guard baseLR > 0 else { throw KernelError.param("base_lr", "base_lr must be > 0, found \(baseLR)") }
        guard rate > 0 else { throw KernelError.param("decay_rate", "decay_rate must be > 0, found \(rate)") }
        guard steps > 0 else { throw KernelError.param("decay_steps", "decay_steps must be > 0, found \(steps)") }
        let epsilon = try c.double("epsilon")
        guard epsilon >= 0 else { throw KernelError.param("epsilon", "epsilon must be ≥ 0, found \(epsilon)") }
        let clip = try c.optionalDouble("clip")
        if let clip, !(clip >= 0) { throw KernelError.param("clip", "clip must be ≥ 0, found \(clip)") }
        let config = CharRNNTrainingConfig<T>(
            seqLength: s, iterations: try c.int("iterations"), optimizer: optimizer, baseLR: baseLR,
            decayRate: rate, decaySteps: steps, clipNorm: clip.map { T($0) }, epsilon: T(epsilon))
        let r = trainCharRNN(data: data, initial: initial, config: config)

        let seedIndex = try c.int("sample_seed_index")
        guard seedIndex < v else {
            throw KernelError.param("sample_seed_index", "sample_seed_index must be < V = \(v)")
        }
        let w = r.weights
        let sample: CharSample<T>
        do {
            sample = try sampleCharactersNumPyLegacy(
                cell: w.cell, why: w.why, by: w.by, h0: r.h, seedIndex: seedIndex,
                count: try c.int("sample_n"), seed: UInt32(try c.int("sample_seed")))
        } catch let e as NumPyRandomError {
            throw KernelError.invalid(
                "the trained model's distribution cannot be sampled: np.random.choice refuses p: \(e)")
        }

        var out = KernelOutputs()
        out["loss"] = .real(r.loss)
        out["smooth_loss"] = .real(r.smoothLoss)
        out["grad_norm"] = .real(r.gradNorm)
        out["lr"] = .real(r.learningRate)
        out["W_xh"] = .real(w.wxh)
        out["W_hh"] = .real(w.whh)
        out["W_hy"] = .real(w.why)
        out["b_h"] = .real(w.bh)
        out["b_y"] = .real(w.by)
        out["h"] = .real(r.h)
        out["vocab"] = .string(Tensor(vocab))
        out["sample"] = .integers(sample.indices)
        out["sample_text"] = .string(Tensor(scalar: sample.indices.map { vocab[$0] }.joined()))
        return out
    }
}
