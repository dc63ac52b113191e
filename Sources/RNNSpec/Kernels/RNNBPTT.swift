import RNNKernels

/// `rnn.bptt`: seed 002's `forward_backward_pass`, done: an Elman RNN with a softmax output
/// layer, cross-entropy against integer targets summed over steps, and every gradient.
struct RNNBPTTKernel: Kernel {
    let spec = KernelSpec(
        name: "rnn.bptt",
        summary: "Elman RNN forward pass with softmax cross-entropy, and backpropagation through time",
        doc: """
            h_t = act(W_xh x_t + W_hh h_{t-1} + b_h), p_t = softmax(W_hy h_t + b_y),
            loss = Σ_t −log p_t[target_t]; gradients of loss w.r.t. every weight and h0.
            window: truncated BPTT (state carries across windows, gradient does not).
            clip: the weight gradients are clipped by their global norm (grad_norm is the norm before).
            x is [T, I] (targets [T]) or [T, B, I] (targets [T, B]).
            """,
        inputs: [
            InputSpec(
                "x", shapes: [["T", "I"], ["T", "B", "I"]], doc: "inputs (one-hot rows for a character model)",
                example: "[[1, 0, 0], [0, 1, 0], [0, 0, 1]]"),
            InputSpec(
                "targets", .integer, shapes: [["T"], ["T", "B"]], doc: "target class per step, in 0..<V",
                example: "[1, 2, 0]"),
            InputSpec(
                "h0", shapes: [["H"], ["B", "H"]], optional: true, doc: "initial hidden state (zeros if absent)",
                example: "[0.0, 0.0]"),
            .real(
                "W_xh", ["H", "I"], "input-to-hidden weights",
                example: "{random: normal, shape: [2, 3], seed: 1, std: 0.5}"),
            .real(
                "W_hh", ["H", "H"], "hidden-to-hidden weights",
                example: "{random: normal, shape: [2, 2], seed: 2, std: 0.5}"),
            .real("b_h", ["H"], optional: true, "hidden bias (zeros if absent)", example: "[0.1, -0.1]"),
            .real(
                "W_hy", ["V", "H"], "hidden-to-output weights",
                example: "{random: normal, shape: [3, 2], seed: 3, std: 0.5}"),
            .real("b_y", ["V"], optional: true, "output bias (zeros if absent)", example: "[0.0, 0.1, -0.1]"),
        ],
        params: [
            ParamSpec(
                "activation", .choice(CellActivation.elmanNames), default: .string("tanh"), "the hidden nonlinearity"),
            ParamSpec(
                "window", .integer(min: 1, max: 1_000_000_000), optional: true,
                "truncated-BPTT window length (full BPTT if absent)"),
            ParamSpec(
                "clip", .real, optional: true, allowsInfinity: true, "clip the weight gradients to this global norm"),
        ],
        outputs: [
            OutputSpec("loss", "[]", "Σ over steps (and batch) of −log p[target]"),
            OutputSpec("h", "[T, H] or [T, B, H]", "every hidden state").time(.axis(0)),
            OutputSpec("p", "[T, V] or [T, B, V]", "every softmax output").time(.axis(0)),
            OutputSpec("dW_xh", "[H, I]", "dloss/dW_xh"),
            OutputSpec("dW_hh", "[H, H]", "dloss/dW_hh"),
            OutputSpec("db_h", "[H]", "dloss/db_h"),
            OutputSpec("dW_hy", "[V, H]", "dloss/dW_hy"),
            OutputSpec("db_y", "[V]", "dloss/db_y"),
            OutputSpec("dh0", "[H] or [B, H]", "dloss/dh0 (through the first window)"),
            OutputSpec("grad_norm", "[]", "global norm of the weight gradients before clipping"),
        ],
        lossOutput: "loss",
        sizes: { c in
            let t = c.dim("T", otherwise: 0), b = c.dim("B"), h = c.dim("H", otherwise: 0), v = c.dim("V", otherwise: 0)
            return [
                ImpliedSize("time steps", [("T", t)], blame: "input:x"),
                ImpliedSize(
                    "the states and output gradients", [("B", b), ("H + V", ImpliedSize.sum(h, v))], blame: "input:x"),
                ImpliedSize("output 'h'", [("T", t), ("B", b), ("H", h)], blame: "input:x"),
                ImpliedSize("output 'p'", [("T", t), ("B", b), ("V", v)], blame: "input:x"),
                .operations(
                    "the time loop",
                    [("T", t), ("B", b), ("H", h), ("I + H + V", ImpliedSize.sum(c.dim("I", otherwise: 0), h, v))],
                    blame: "input:x"),
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x"), targets = try c.integers("targets")
        let batched = x.rank == 3
        let steps = x.shape[0], batch = batched ? x.shape[1] : 1
        guard targets.shape == Array(x.shape.dropLast()) else {
            throw KernelError.input(
                "targets",
                "targets must have shape \(Array(x.shape.dropLast()).shapeText) to match x, found \(targets.shape.shapeText)"
            )
        }
        let cell = RecurrentCell<T>.elman(
            wxh: try c.real("W_xh"), whh: try c.real("W_hh"), bh: try c.optionalReal("b_h"),
            activation: try elmanActivation(c))
        let why: Tensor<T> = try c.real("W_hy")
        let hn = cell.hiddenSize, v = why.shape[0]
        if let bad = targets.scalars.first(where: { !(0..<v).contains($0) }) {
            throw KernelError.input("targets", "target \(bad) is not a class index in 0..<\(v) (V = \(v) from W_hy)")
        }
        let h0: Tensor<T> = try c.optionalReal("h0") ?? Tensor(zeros: batched ? [batch, hn] : [hn])
        guard h0.rank == (batched ? 2 : 1) else {
            throw KernelError.input("h0", "h0 must be \(batched ? "[B, H]" : "[H]") like x's batching")
        }
        if batched && h0.shape[0] != batch {
            throw KernelError.input("h0", "h0 has batch \(h0.shape[0]) but x has batch \(batch)")
        }

        let head = SequenceLossHead<T>.crossEntropy(
            why: why, by: try c.optionalReal("b_y") ?? Tensor(zeros: [v]), targets: targets.scalars)
        let xs = x.reshaped([steps, batch, cell.inputSize]), h0s = h0.reshaped([batch, hn])
        if c.lossOnly { return .loss(.real(cellSequenceLoss(cell, x: xs, h0: h0s, head: head))) }
        let cache = cellSequenceForward(cell, x: xs, h0: h0s, head: head)
        var g = CellSequenceGradients(zerosLike: cell, head: head, steps: steps, batch: batch)
        cellSequenceBackward(cell, cache: cache, head: head, window: try c.optionalInt("window"), into: &g)
        // Seed 002's `clip_gradients` order.
        var weightGrads = [
            g.cell.w, g.cell.r, g.why ?? Tensor(zeros: why.shape), g.cell.bw, g.by ?? Tensor(zeros: [v]),
        ]
        let clip = clipByGlobalNorm(weightGrads, maxNorm: T(try c.optionalDouble("clip") ?? .infinity))
        if try c.optionalDouble("clip") != nil { weightGrads = clip.clipped }

        var out = KernelOutputs()
        out["loss"] = .real(cache.loss)
        out["h"] = .real(cache.h.reshaped(batched ? [steps, batch, hn] : [steps, hn]))
        if let p = cache.p { out["p"] = .real(p.reshaped(batched ? [steps, batch, v] : [steps, v])) }
        out["dW_xh"] = .real(weightGrads[0])
        out["dW_hh"] = .real(weightGrads[1])
        out["dW_hy"] = .real(weightGrads[2])
        out["db_h"] = .real(weightGrads[3])
        out["db_y"] = .real(weightGrads[4])
        out["dh0"] = .real(g.h0.reshaped(h0.shape))
        out["grad_norm"] = .real(clip.norm)
        return out
    }
}
