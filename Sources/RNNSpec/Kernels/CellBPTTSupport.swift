import RNNKernels

/// Unpacking shared by the sequence kernels: x is one sequence [T, I] or a batch [T, B, I]; states
/// are [N] or [B, N] and per-step tensors [T, N] or [T, B, N] accordingly.
struct SequenceBatching {
    let batched: Bool
    let steps: Int
    let batch: Int

    init<T: KernelScalar>(_ x: Tensor<T>) {
        batched = x.rank == 3
        steps = x.shape[0]
        batch = batched ? x.shape[1] : 1
    }

    /// [T, N] → [T, 1, N]; a batch stays as it is.
    func sequence<T: KernelScalar>(_ t: Tensor<T>) -> Tensor<T> {
        batched ? t : t.reshaped([t.shape[0], 1] + t.shape.dropFirst())
    }

    /// The optional state input `name`, [N] or [B, N] like x, as [B, N].
    func state<T: KernelScalar>(_ c: KernelContext, _ name: String) throws -> Tensor<T>? {
        guard let t: Tensor<T> = try c.optionalReal(name) else { return nil }
        guard t.rank == (batched ? 2 : 1) else {
            throw KernelError.input(
                name, "\(name) must be \(batched ? "[B, N]" : "[N]") like x's batching, found \(t.shape.shapeText)")
        }
        if batched && t.shape[0] != batch {
            throw KernelError.input(name, "\(name) has batch \(t.shape[0]) but x has batch \(batch)")
        }
        return batched ? t : t.reshaped([1] + t.shape)
    }

    /// [T, 1, N] → [T, N] and [1, N] → [N] when x was one sequence.
    func unbatch<T: KernelScalar>(_ t: Tensor<T>) -> Tensor<T> {
        guard !batched else { return t }
        return t.rank == 3 ? t.reshaped([t.shape[0], t.shape[2]]) : t.reshaped(Array(t.shape.dropFirst()))
    }
}

/// The inputs, params and outputs the BPTT kernels (lstm.bptt, gru.bptt) share, and their common run.
enum CellBPTT {
    /// x, targets / W_hy / b_y (cross-entropy head) or dy (upstream head), h0 (and c0 for the LSTM).
    static func inputs(lstm: Bool) -> [InputSpec] {
        [
            InputSpec(
                "x", shapes: [["T", "I"], ["T", "B", "I"]], doc: "the input sequence",
                example: "[[0.5, -1.0], [0.2, 0.3], [-0.4, 0.9]]"),
            InputSpec(
                "targets", .integer, shapes: [["T"], ["T", "B"]], optional: true,
                doc: "cross-entropy head: target class per step, in 0..<V", example: "[1, 0, 2]"
            ).inSkeleton(),
            .real(
                "W_hy", ["V", "H"], optional: true, "cross-entropy head: hidden-to-output weights",
                example: "{random: normal, shape: [3, 2], seed: 5, std: 0.5}"
            ).inSkeleton(),
            .real(
                "b_y", ["V"], optional: true, "cross-entropy head: output bias (zeros if absent)",
                example: "[0.0, 0.1, -0.1]"),
            InputSpec(
                "dy", shapes: [["T", "H"], ["T", "B", "H"]], optional: true,
                doc: "upstream head (instead of targets): dL/dh_t for every step; loss = Σ dy·h",
                example: "[[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]]"),
            InputSpec(
                "h0", shapes: [["H"], ["B", "H"]], optional: true, doc: "initial hidden state (zeros if absent)",
                example: "[0.1, -0.2]"),
        ]
            + (lstm
                ? [
                    InputSpec(
                        "c0", shapes: [["H"], ["B", "H"]], optional: true, doc: "initial cell state (zeros if absent)",
                        example: "[0.3, 0.0]")
                ] : [])
    }

    /// Time steps, the step caches (gates, states) and the softmax outputs, from x's shape, H and V.
    static func sizes(gates: Int) -> @Sendable (KernelContext) throws -> [ImpliedSize] {
        { c in
            let t = c.dim("T", otherwise: 0), b = c.dim("B"), h = c.dim("H", otherwise: 0), v = c.dim("V", otherwise: 0)
            return [
                ImpliedSize("time steps", [("T", t)], blame: "input:x"),
                ImpliedSize(
                    "the states and gates", [("B", b), ("G + 3", gates + 3), ("H + V", ImpliedSize.sum(h, v))],
                    blame: "input:x"),
                ImpliedSize("the step caches", [("T", t), ("B", b), ("G + 3", gates + 3), ("H", h)], blame: "input:x"),
                ImpliedSize("output 'p'", [("T", t), ("B", b), ("V", v)], blame: "input:x"),
                .operations(
                    "the time loop",
                    [
                        ("T", t), ("B", b), ("G", gates), ("H", h),
                        ("I + H + V", ImpliedSize.sum(c.dim("I", otherwise: 0), h, v)),
                    ], blame: "input:x"),
            ]
        }
    }

    /// The two loss heads exclude each other.
    static let headRules: [InputRule] = [
        .atMostOne(["targets", "dy"], because: "targets is the cross-entropy head, dy the upstream head"),
        .required(["W_hy"], when: .given("targets"), because: "the cross-entropy head needs W_hy"),
        .unused(["W_hy", "b_y"], when: .given("dy"), because: "the upstream head (dy) has no output layer"),
    ]

    static let params = [
        ParamSpec(
            "window", .integer(min: 1, max: 1_000_000_000), optional: true,
            "truncated-BPTT window length (full BPTT if absent)"),
        ParamSpec(
            "clip", .real, optional: true, allowsInfinity: true,
            "clip the weight gradients to this global norm, after the whole sequence is accumulated"),
    ]

    static func outputs(lstm: Bool) -> [OutputSpec] {
        [
            OutputSpec("loss", "[]", "Σ over steps (and batch) of −log p[target], or Σ dy·h"),
            OutputSpec("h", "[T, H] or [T, B, H]", "every hidden state").time(.axis(0)),
        ] + (lstm ? [OutputSpec("c", "[T, H] or [T, B, H]", "every cell state").time(.axis(0))] : []) + [
            OutputSpec("p", "[T, V] or [T, B, V]", optional: true, "cross-entropy head: every softmax output").time(
                .axis(0)),
            OutputSpec("dW_hy", "[V, H]", optional: true, "cross-entropy head: dloss/dW_hy"),
            OutputSpec("db_y", "[V]", optional: true, "cross-entropy head: dloss/db_y (with b_y)"),
            OutputSpec("dh0", "[H] or [B, H]", "dloss/dh0 (through the first window)"),
        ] + (lstm ? [OutputSpec("dc0", "[H] or [B, H]", "dloss/dc0 (through the first window)")] : []) + [
            OutputSpec("grad_norm", "[]", "global norm of the weight gradients before clipping")
        ]
    }

    /// Reads the head, runs the forward pass and BPTT, clips; returns the shared outputs and the
    /// (clipped) gradients for the adapter to name in its layout.
    /// The gradients are nil for a loss-only run (`KernelContext.lossOnly`), whose outputs are the loss.
    static func run<T: KernelScalar>(_ c: KernelContext, cell: RecurrentCell<T>) throws -> (
        KernelOutputs, CellSequenceGradients<T>?
    ) {
        let xIn: Tensor<T> = try c.real("x")
        let form = SequenceBatching(xIn)
        let x = form.sequence(xIn)
        let s = cell.stateSize, lstm = cell.conventions.kind == .lstm
        let head: SequenceLossHead<T>
        switch (c.has("targets"), c.has("dy")) {
        case (true, true):
            throw KernelError.input("dy", "give either targets (cross-entropy head) or dy (upstream head), not both")
        case (false, false):
            throw KernelError.input("x", "give targets with W_hy (cross-entropy head) or dy (upstream head)")
        case (true, false):
            try c.requireInputs(["W_hy"], because: "the cross-entropy head needs W_hy")
            let targets = try c.integers("targets")
            guard targets.shape == Array(xIn.shape.dropLast()) else {
                throw KernelError.input(
                    "targets",
                    "targets must have shape \(Array(xIn.shape.dropLast()).shapeText) to match x, found \(targets.shape.shapeText)"
                )
            }
            let why: Tensor<T> = try c.real("W_hy")
            guard why.shape[1] == s else {
                throw KernelError.input("W_hy", "W_hy must be [V, \(s)], found \(why.shape.shapeText)")
            }
            let v = why.shape[0]
            if let bad = targets.scalars.first(where: { !(0..<v).contains($0) }) {
                throw KernelError.input(
                    "targets", "target \(bad) is not a class index in 0..<\(v) (V = \(v) from W_hy)")
            }
            head = .crossEntropy(why: why, by: try c.optionalReal("b_y"), targets: targets.scalars)
        case (false, true):
            try c.rejectInputs(["W_hy", "b_y"], because: "the upstream head (dy) has no output layer")
            let dy: Tensor<T> = try c.real("dy")
            guard dy.shape == Array(xIn.shape.dropLast()) + [s] else {
                throw KernelError.input(
                    "dy",
                    "dy must have shape \((Array(xIn.shape.dropLast()) + [s]).shapeText) to match x and h, found \(dy.shape.shapeText)"
                )
            }
            head = .upstream(dy: form.sequence(dy))
        }
        let h0: Tensor<T>? = try form.state(c, "h0"), c0: Tensor<T>? = lstm ? try form.state(c, "c0") : nil
        if let h0, h0.shape[1] != s {
            throw KernelError.input("h0", "h0 must have \(s) features (H), found \(h0.shape[1])")
        }
        if let c0, c0.shape[1] != cell.hiddenSize {
            throw KernelError.input("c0", "c0 must have \(cell.hiddenSize) features (H), found \(c0.shape[1])")
        }

        if c.lossOnly { return (.loss(.real(cellSequenceLoss(cell, x: x, h0: h0, c0: c0, head: head))), nil) }
        let cache = cellSequenceForward(cell, x: x, h0: h0, c0: c0, head: head)
        var g = CellSequenceGradients(zerosLike: cell, head: head, steps: form.steps, batch: form.batch)
        cellSequenceBackward(cell, cache: cache, head: head, window: try c.optionalInt("window"), into: &g)
        let norm = g.clipWeights(maxNorm: T(try c.optionalDouble("clip") ?? .infinity), of: cell)

        var out = KernelOutputs()
        out["loss"] = .real(cache.loss)
        out["h"] = .real(form.unbatch(cache.h))
        if let cs = cache.c { out["c"] = .real(form.unbatch(cs)) }
        if let p = cache.p { out["p"] = .real(form.unbatch(p)) }
        if let why = g.why { out["dW_hy"] = .real(why) }
        if let by = g.by { out["db_y"] = .real(by) }
        out["dh0"] = .real(form.unbatch(g.h0))
        if let dc0 = g.c0 { out["dc0"] = .real(form.unbatch(dc0)) }
        out["grad_norm"] = .real(norm)
        return (out, g)
    }
}
