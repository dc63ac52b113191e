import RNNKernels

/// `grad.through_time`: how the gradient of the last step's loss reaches every earlier state, for
/// an RNN, LSTM or GRU on the same inputs: vanishing and exploding gradients, measured.
struct GradThroughTimeKernel: Kernel {
    let spec = KernelSpec(
        name: "grad.through_time",
        summary: "‖dL/dh_t‖ (and ‖dL/dc_t‖ for the LSTM) for every t, L the loss at the last step",
        doc: """
            cell rnn | lstm | gru in PyTorch's layout and conventions (W_ih [G*H, I], W_hh [G*H, H], b_ih, b_hh;
            G = 1, 4 (rows i, f, g, o), 3 (rows r, z, n)). L = −log softmax(W_hy h_T + b_y)[target], or L = dy·h_T.
            dh_norm[t] = ‖dL/dh_t‖ (over the batch and the features), by BPTT through the cell core.
            dc_norm[t] = ‖dL/dc_t‖ in full: through h_t = o_t⊙tanh(c_t) and through c_{t+1} = f_{t+1}⊙c_t + ….
            dh0, dc0: the gradients reaching the initial state.
            probe_h, probe_c (zeros): added to h_t and c_t after each step, so dprobe_h and dprobe_c are dL/dh_t and
            dL/dc_t in full, gradchecked like any input; the norms are theirs.
            x is [T, I] or [T, B, I] (then h0, c0, dy are [B, H]).
            """,
        inputs: [
            InputSpec(
                "x", shapes: [["T", "I"], ["T", "B", "I"]], doc: "the input sequence",
                example: "[[0.5, -1.0], [0.2, 0.3], [-0.4, 0.9]]"),
            InputSpec(
                "W_ih", shapes: [], doc: "input weights [G*H, I] (G = 1, 4, 3 for rnn, lstm, gru)",
                example: "{random: normal, shape: [2, 2], seed: 1, std: 0.5}"),
            InputSpec(
                "W_hh", shapes: [], doc: "recurrent weights [G*H, H]",
                example: "{random: normal, shape: [2, 2], seed: 2, std: 0.5}"),
            InputSpec("b_ih", shapes: [], optional: true, doc: "input bias [G*H]", example: "[0.0, 0.1]"),
            InputSpec("b_hh", shapes: [], optional: true, doc: "recurrent bias [G*H]", example: "[0.1, 0.0]"),
            InputSpec(
                "h0", shapes: [["H"], ["B", "H"]], optional: true, doc: "initial hidden state (zeros if absent)",
                example: "[0.1, -0.2]"),
            InputSpec(
                "c0", shapes: [["H"], ["B", "H"]], optional: true, doc: "lstm: initial cell state (zeros if absent)",
                example: "[0.3, 0.0]"),
            InputSpec(
                "target", .integer, shapes: [[], ["B"]], optional: true,
                doc: "cross-entropy head: the class at the last step",
                example: "1"
            ).inSkeleton(),
            InputSpec(
                "W_hy", shapes: [["V", "H"]], optional: true, doc: "cross-entropy head: output weights",
                example: "{random: normal, shape: [3, 2], seed: 5, std: 0.5}"
            ).inSkeleton(),
            InputSpec(
                "b_y", shapes: [["V"]], optional: true, doc: "cross-entropy head: output bias",
                example: "[0.0, 0.1, -0.1]"),
            InputSpec(
                "dy", shapes: [["H"], ["B", "H"]], optional: true, doc: "upstream head (instead of target): L = dy·h_T",
                example: "[1.0, 0.0]"),
            InputSpec(
                "probe_h", shapes: [["T", "H"], ["T", "B", "H"]], optional: true,
                doc: "added to h_t after every step (zeros: no change); dprobe_h = dL/dh_t", example: "{zeros: [3, 2]}"),
            InputSpec(
                "probe_c", shapes: [["T", "H"], ["T", "B", "H"]], optional: true,
                doc: "lstm: added to c_t after every step, before h_t = o_t⊙tanh(c_t); dprobe_c = dL/dc_t",
                example: "{zeros: [3, 2]}"),
        ],
        params: [
            ParamSpec(
                "cell", .choice(CellKind.allCases.map(\.rawValue)), default: .string("rnn"),
                "the cell: rnn (tanh), lstm or gru")
        ],
        outputs: [
            OutputSpec("loss", "[]", "the loss at the last step"),
            OutputSpec("dh_norm", "[T]", "‖dL/dh_t‖ for t = 0 … T−1").time(.axis(0)),
            OutputSpec("dc_norm", "[T]", optional: true, "lstm: ‖dL/dc_t‖ for t = 0 … T−1").time(.axis(0)),
            OutputSpec("dh0", "[H] or [B, H]", "dL/dh0"),
            OutputSpec("dc0", "[H] or [B, H]", optional: true, "lstm: dL/dc0"),
            OutputSpec(
                "dprobe_h", "like probe_h", optional: true,
                "with probe_h: dL/dh_t for every t (dh_norm[t] is its norm at t)"),
            OutputSpec(
                "dprobe_c", "like probe_c", optional: true,
                "with probe_c: dL/dc_t for every t (dc_norm[t] is its norm at t)"),
        ],
        lossOutput: "loss",
        plots: [
            .lines(
                title: "Gradient through time: ‖dL/dh_t‖ (and ‖dL/dc_t‖)", outputs: ["dh_norm", "dc_norm"],
                x: "time step t", y: "gradient norm (log scale)", logY: true)
        ],
        sizes: { c in
            let x = c.shape("x") ?? []
            let t = x.first ?? 0, b = x.count == 3 ? x[1] : 1, h = c.extent("W_hh", -1, otherwise: 0)
            let g = (try c.choice("cell", as: CellKind.self)).gateCount
            return [
                ImpliedSize("time steps", [("T", t)], blame: "input:x"),
                ImpliedSize("the states and gates", [("B", b), ("G + 3", g + 3), ("H", h)], blame: "input:x"),
                ImpliedSize("the step caches", [("T", t), ("B", b), ("G + 3", g + 3), ("H", h)], blame: "input:x"),
                .operations(
                    "the time loop",
                    [("T", t), ("B", b), ("G", g), ("H", h), ("I + H", ImpliedSize.sum(x.last ?? 0, h))],
                    blame: "input:x"),
            ]
        }
    ).rules([
        .unused(
            ["c0", "probe_c"], when: .param("cell", [.string("rnn"), .string("gru")]),
            because: "only the lstm cell has a cell state"),
        .atMostOne(["target", "dy"], because: "target is the cross-entropy head, dy the upstream head"),
        .required(["W_hy"], when: .given("target"), because: "the cross-entropy head needs W_hy"),
    ])

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let xIn: Tensor<T> = try c.real("x")
        let form = SequenceBatching(xIn)
        let kind: CellKind = try c.choice("cell")
        let w: Tensor<T> = try c.real("W_ih"), r: Tensor<T> = try c.real("W_hh")
        let g = kind.gateCount
        guard w.rank == 2, w.shape[0] % g == 0, w.shape[1] == xIn.shape.last! else {
            throw KernelError.input(
                "W_ih", "W_ih must be [\(g)*H, \(xIn.shape.last!)] for a \(kind) cell, found \(w.shape.shapeText)")
        }
        let h = w.shape[0] / g
        guard r.shape == [g * h, h] else {
            throw KernelError.input("W_hh", "W_hh must be [\(g * h), \(h)], found \(r.shape.shapeText)")
        }
        for name in ["b_ih", "b_hh"] {
            if let b: Tensor<T> = try c.optionalReal(name), b.shape != [g * h] {
                throw KernelError.input(name, "\(name) must be [\(g * h)], found \(b.shape.shapeText)")
            }
        }
        if kind != .lstm { try c.rejectInputs(["c0"], because: "only the lstm cell has a cell state") }
        let cell = RecurrentCell(
            conventions: CellConventions(kind: kind),
            parameters: CellParameters(w: w, r: r, bw: try c.optionalReal("b_ih"), br: try c.optionalReal("b_hh")))
        let x = form.sequence(xIn)
        let steps = form.steps, bsz = form.batch
        guard steps > 0 else {
            throw KernelError.input("x", "x needs at least one step: the loss is taken at the last step (T = 0)")
        }
        let head: SequenceLossHead<T>
        switch (c.has("target"), c.has("dy")) {
        case (true, true): throw KernelError.input("dy", "give either target (cross-entropy head) or dy, not both")
        case (false, false):
            throw KernelError.input("x", "give target with W_hy (cross-entropy head) or dy (upstream head)")
        case (true, false):
            try c.requireInputs(["W_hy"], because: "the cross-entropy head needs W_hy")
            let why: Tensor<T> = try c.real("W_hy"), target = try c.integers("target")
            guard why.rank == 2, why.shape[1] == h else {
                throw KernelError.input(
                    "W_hy", "W_hy must be [V, \(h)] (H = \(h) from W_ih), found \(why.shape.shapeText)")
            }
            guard target.count == bsz else { throw KernelError.input("target", "one target per sequence: \(bsz)") }
            if let bad = target.scalars.first(where: { !(0..<why.shape[0]).contains($0) }) {
                throw KernelError.input("target", "target \(bad) is not a class index in 0..<\(why.shape[0])")
            }
            // Only the last step enters the loss (lossFrom); the earlier targets are placeholders.
            head = .crossEntropy(
                why: why, by: try c.optionalReal("b_y"),
                targets: Array((0..<steps).map { _ in target.scalars }.joined()))
        case (false, true):
            let dyLast: Tensor<T> = try form.state(c, "dy")!
            guard dyLast.shape == [bsz, h] else { throw KernelError.input("dy", "dy must have \(h) features (H)") }
            head = .upstream(
                dy: Tensor(
                    shape: [steps, bsz, h], scalars: [T](repeating: 0, count: (steps - 1) * bsz * h) + dyLast.scalars))
        }
        let h0: Tensor<T>? = try form.state(c, "h0"), c0: Tensor<T>? = kind == .lstm ? try form.state(c, "c0") : nil
        for (name, t) in [("h0", h0), ("c0", c0)] where t != nil && t!.shape[1] != h {
            throw KernelError.input(name, "\(name) must have \(h) features (H), found \(t!.shape[1])")
        }
        if kind != .lstm { try c.rejectInputs(["probe_c"], because: "only the lstm cell has a cell state") }
        let probeH: Tensor<T>? = try probe(c, "probe_h", form, width: h),
            probeC: Tensor<T>? = try probe(c, "probe_c", form, width: h)
        let cache = cellSequenceForward(
            cell, x: x, h0: h0, c0: c0, probeH: probeH, probeC: probeC, head: head, lossFrom: steps - 1)
        var grads = CellSequenceGradients(
            zerosLike: cell, head: head, steps: steps, batch: bsz, recordStateGradients: true)
        cellSequenceBackward(cell, cache: cache, head: head, into: &grads)
        var out = KernelOutputs()
        out["loss"] = .real(cache.loss)
        if let dh = grads.dh { out["dh_norm"] = .real(stepNorms(dh)) }
        if let dc = grads.dc { out["dc_norm"] = .real(stepNorms(dc)) }
        out["dh0"] = .real(form.unbatch(grads.h0))
        if let dc0 = grads.c0 { out["dc0"] = .real(form.unbatch(dc0)) }
        if probeH != nil, let dh = grads.dh { out["dprobe_h"] = .real(form.unbatch(dh)) }
        if probeC != nil, let dc = grads.dc { out["dprobe_c"] = .real(form.unbatch(dc)) }
        return out
    }

    /// A probe input, [T, H] or [T, B, H] like x, as [T, B, H].
    func probe<T: KernelScalar>(_ c: KernelContext, _ name: String, _ form: SequenceBatching, width: Int) throws
        -> Tensor<T>?
    {
        guard let t: Tensor<T> = try c.optionalReal(name) else { return nil }
        let expected = form.batched ? [form.steps, form.batch, width] : [form.steps, width]
        guard t.shape == expected else {
            throw KernelError.input(
                name, "\(name) must be \(expected.shapeText) like the states h_t, found \(t.shape.shapeText)")
        }
        return form.sequence(t)
    }
}
