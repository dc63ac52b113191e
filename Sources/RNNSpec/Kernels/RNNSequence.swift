import RNNKernels

/// `rnn.sequence`: an Elman RNN unrolled over T steps, forward, reverse or bidirectional.
struct RNNSequenceKernel: Kernel {
    let spec = KernelSpec(
        name: "rnn.sequence",
        summary: "Elman RNN unrolled over T steps from h0: every h, the last h, and y/p with an output layer",
        doc: """
            h_t = act(W_xh x_t + W_hh h_{t-1} + b_h) for t = 0..T-1 from h0 (zeros if absent).
            direction: reverse runs t = T-1..0 (state reported at position t); bidirectional runs both with
            the *_reverse weights (default: the forward ones) and concatenates [h_fwd; h_rev] on the feature axis.
            With W_hy: y_t = W_hy h_t + b_y, p_t = softmax(y_t) (W_hy is [V, 2H] when bidirectional).
            x is [T, I] (one sequence) or [T, B, I] (a batch, time first); T = 0 gives empty outputs and h_last = h0.
            """,
        inputs: [
            InputSpec(
                "x", shapes: [["T", "I"], ["T", "B", "I"]], doc: "inputs, time first",
                example: "[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]"),
            InputSpec(
                "h0", shapes: [["H"], ["B", "H"]], optional: true, doc: "initial state (zeros if absent)",
                example: "[0.0, 0.0]"),
            .real(
                "W_xh", ["H", "I"], "input-to-hidden weights",
                example: "{random: normal, shape: [2, 2], seed: 1, std: 0.5}"),
            .real(
                "W_hh", ["H", "H"], "hidden-to-hidden weights",
                example: "{random: normal, shape: [2, 2], seed: 2, std: 0.5}"),
            .real("b_h", ["H"], optional: true, "hidden bias (zeros if absent)", example: "[0.1, -0.1]"),
            .real(
                "W_hy", ["V", "?"], optional: true,
                "hidden-to-output weights [V, H] ([V, 2H] bidirectional): adds y and p",
                example: "[[1.0, -1.0], [-1.0, 1.0]]"),
            .real("b_y", ["V"], optional: true, "output bias (zeros if absent)", example: "[0.0, 0.0]"),
            .real(
                "W_xh_reverse", ["H", "I"], optional: true, "reverse direction's W_xh (bidirectional)",
                example: "{random: normal, shape: [2, 2], seed: 3, std: 0.5}"),
            .real(
                "W_hh_reverse", ["H", "H"], optional: true, "reverse direction's W_hh (bidirectional)",
                example: "{random: normal, shape: [2, 2], seed: 4, std: 0.5}"),
            .real(
                "b_h_reverse", ["H"], optional: true, "reverse direction's b_h (bidirectional)", example: "[0.0, 0.0]"),
            InputSpec(
                "h0_reverse", shapes: [["H"], ["B", "H"]], optional: true,
                doc: "reverse direction's initial state (bidirectional; zeros if absent)", example: "[0.0, 0.0]"),
        ],
        params: [
            ParamSpec(
                "activation", .choice(CellActivation.elmanNames), default: .string("tanh"), "the hidden nonlinearity"),
            ParamSpec(
                "direction", .choice(["forward", "reverse", "bidirectional"]), default: .string("forward"),
                "forward, reverse, or bidirectional (concatenated on the feature axis)"),
        ],
        outputs: [
            OutputSpec("h", "[T, D*H] or [T, B, D*H]", "the state at every position").time(.axis(0)),
            OutputSpec(
                "h_last", "[D*H] or [B, D*H]", "the final state of each direction (reverse's is after position 0)"),
            OutputSpec("a", "[T, D*H] or [T, B, D*H]", "pre-activations W_xh x_t + W_hh h + b_h").time(.axis(0)),
            OutputSpec("y", "[T, V] or [T, B, V]", optional: true, "output logits (with W_hy)").time(.axis(0)),
            OutputSpec("p", "[T, V] or [T, B, V]", optional: true, "softmax(y) over V (with W_hy)").time(.axis(0)),
        ],
        plots: [.trajectories(title: "Hidden-state trajectories h_t", output: "h")],
        sizes: { c in
            let t = c.dim("T", otherwise: 0), b = c.dim("B"), h = c.dim("H", otherwise: 0),
                v = c.extent("W_hy", 0, otherwise: 0)
            let d = try c.string("direction") == "bidirectional" ? 2 : 1
            return [
                ImpliedSize("time steps", [("T", t)], blame: "input:x"),
                ImpliedSize("the states", [("B", b), ("D", d), ("H", h)], blame: "input:x"),
                ImpliedSize("output 'h'", [("T", t), ("B", b), ("D", d), ("H", h)], blame: "input:x"),
                ImpliedSize("output 'p'", [("T", t), ("B", b), ("V", v)], blame: "input:x"),
                .operations(
                    "the time loop",
                    [
                        ("T", t), ("B", b), ("D", d), ("H", h),
                        ("I + H + V", ImpliedSize.sum(c.dim("I", otherwise: 0), h, v)),
                    ], blame: "input:x"),
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let direction = try c.string("direction"), bidirectional = direction == "bidirectional"
        let activation = try elmanActivation(c)
        let x: Tensor<T> = try c.real("x")
        let batched = x.rank == 3
        let xb = batched ? x : x.reshaped([x.shape[0], 1, x.shape[1]])
        let b = xb.shape[1]
        let wxh: Tensor<T> = try c.real("W_xh"), whh: Tensor<T> = try c.real("W_hh")
        let hSize = whh.shape[0]
        func initial(_ name: String) throws -> Tensor<T>? {
            guard let h: Tensor<T> = try c.optionalReal(name) else { return nil }
            if h.rank == 2 && !batched {
                throw KernelError.input(name, "\(name) is batched [B, H] but x is one sequence [T, I]")
            }
            if h.rank == 1 && batched {
                throw KernelError.input(name, "x is a batch [T, B, I]: give \(name) as [B, H]")
            }
            if batched && h.shape[0] != b {
                throw KernelError.input(name, "\(name) has batch \(h.shape[0]) but x has batch \(b)")
            }
            return batched ? h : h.reshaped([1, hSize])
        }
        let h0 = try initial("h0") ?? Tensor(zeros: [b, hSize])
        let reverseNames = ["W_xh_reverse", "W_hh_reverse", "b_h_reverse", "h0_reverse"]
        if !bidirectional, let given = reverseNames.first(where: c.has) {
            throw KernelError.input(given, "\(given) is only used with direction: bidirectional")
        }
        let dirs = bidirectional ? 2 : 1
        if let why: Tensor<T> = try c.optionalReal("W_hy"), why.shape[1] != dirs * hSize {
            throw KernelError.input(
                "W_hy",
                "W_hy must be [V, \(dirs == 2 ? "2*H" : "H")] = [\(why.shape[0]), \(dirs * hSize)], found \(why.shape.shapeText)"
            )
        }
        if c.has("b_y") && !c.has("W_hy") { throw KernelError.input("b_y", "b_y needs W_hy (the output layer)") }
        let bh: Tensor<T>? = try c.optionalReal("b_h")
        var cells = [RecurrentCell<T>.elman(wxh: wxh, whh: whh, bh: bh, activation: activation)]
        var directions: [SequenceDirection] = [direction == "reverse" ? .reverse : .forward], h0s: [Tensor<T>?] = [h0]
        if bidirectional {
            cells.append(
                .elman(
                    wxh: try c.optionalReal("W_xh_reverse") ?? wxh, whh: try c.optionalReal("W_hh_reverse") ?? whh,
                    bh: try c.optionalReal("b_h_reverse") ?? bh, activation: activation))
            directions.append(.reverse)
            h0s.append(try initial("h0_reverse"))
        }
        let r = runStack([cells], directions: directions, x: xb, h0: [h0s], keepPreactivations: true)
        let hLast = concatenatedLastAxis(r.runs[0].map(\.hLast))
        // One sequence: drop the batch axis of length 1 again.
        func seq(_ t: Tensor<T>) -> Tensor<T> { batched ? t : t.reshaped([t.shape[0], t.shape[2]]) }
        var out = KernelOutputs()
        out["h"] = .real(seq(r.output))
        out["h_last"] = .real(batched ? hLast : hLast.reshaped([hLast.shape[1]]))
        out["a"] = .real(seq(concatenatedLastAxis(zip(cells, r.runs[0]).map { $0.preactivations(of: $1) })))
        if let why: Tensor<T> = try c.optionalReal("W_hy") {
            let (y, p) = affineSoftmax(r.output, weight: why, bias: try c.optionalReal("b_y"))
            out["y"] = .real(seq(y))
            out["p"] = .real(seq(p))
        }
        return out
    }
}
