import RNNKernels

/// `rnn.step`: one Elman step, optionally with an output layer and its softmax.
struct RNNStepKernel: Kernel {
    let spec = KernelSpec(
        name: "rnn.step",
        summary: "One Elman RNN step: h = act(W_xh x + W_hh h_prev + b_h), with an optional output layer",
        doc: """
            a = W_xh x + W_hh h_prev + b_h,  h = act(a)
            with W_hy: y = W_hy h + b_y,  p = softmax(y)
            x may be one vector [I] or a batch [B, I] (then h_prev is [B, H]).
            """,
        inputs: [
            InputSpec("x", shapes: [["I"], ["B", "I"]], doc: "input at this step", example: "[1.0, -1.0]"),
            InputSpec("h_prev", shapes: [["H"], ["B", "H"]], doc: "previous hidden state", example: "[0.5, 0.0]"),
            .real("W_xh", ["H", "I"], "input-to-hidden weights", example: "{eye: 2}"),
            .real("W_hh", ["H", "H"], "hidden-to-hidden weights", example: "{eye: 2, scale: 0.5}"),
            .real("b_h", ["H"], optional: true, "hidden bias (zeros if absent)", example: "[0.0, 0.0]"),
            .real(
                "W_hy", ["V", "H"], optional: true, "hidden-to-output weights: adds outputs y and p",
                example: "[[1.0, -1.0], [-1.0, 1.0]]"),
            .real("b_y", ["V"], optional: true, "output bias (zeros if absent)", example: "[0.0, 0.0]"),
        ],
        params: [
            ParamSpec(
                "activation", .choice(CellActivation.elmanNames), default: .string("tanh"), "the hidden nonlinearity")
        ],
        outputs: [
            OutputSpec("h", "[H] or [B, H]", "new hidden state"),
            OutputSpec("a", "[H] or [B, H]", "pre-activation W_xh x + W_hh h_prev + b_h"),
            OutputSpec("y", "[V] or [B, V]", optional: true, "output logits W_hy h + b_y (with W_hy)"),
            OutputSpec("p", "[V] or [B, V]", optional: true, "softmax(y) (with W_hy)"),
        ],
        sizes: { c in
            [ImpliedSize("output 'p'", [("B", c.dim("B")), ("V", c.dim("V", otherwise: 0))], blame: "input:W_hy")]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x"), hPrev: Tensor<T> = try c.real("h_prev")
        guard x.rank == hPrev.rank else {
            throw KernelError.input(
                "h_prev",
                "h_prev must be batched like x: x has shape \(x.shape.shapeText), h_prev \(hPrev.shape.shapeText)")
        }
        let batched = x.rank == 2
        if batched && x.shape[0] != hPrev.shape[0] {
            throw KernelError.input("h_prev", "h_prev has batch \(hPrev.shape[0]) but x has batch \(x.shape[0])")
        }
        let cell = RecurrentCell<T>.elman(
            wxh: try c.real("W_xh"), whh: try c.real("W_hh"), bh: try c.optionalReal("b_h"),
            activation: try elmanActivation(c))
        if c.has("b_y") && !c.has("W_hy") { throw KernelError.input("b_y", "b_y needs W_hy (the output layer)") }
        let asBatch = { (t: Tensor<T>) in batched ? t : t.reshaped([1] + t.shape) }
        let unbatch = { (t: Tensor<T>) in batched ? t : t.reshaped([t.shape[1]]) }
        let step = cell.forward(x: asBatch(x), hPrev: asBatch(hPrev))
        var out = KernelOutputs()
        out["h"] = .real(unbatch(step.h))
        if let a = step.preactivations { out["a"] = .real(unbatch(a)) }
        if let why: Tensor<T> = try c.optionalReal("W_hy") {
            let (y, p) = affineSoftmax(step.h, weight: why, bias: try c.optionalReal("b_y"))
            out["y"] = .real(unbatch(y))
            out["p"] = .real(unbatch(p))
        }
        return out
    }
}

/// The Elman nonlinearity the `activation` param names (`CellActivation.elmanNames`).
func elmanActivation(_ c: KernelContext) throws -> CellActivation {
    let name = try c.string("activation")
    guard let activation = CellActivation(elmanName: name) else {
        throw KernelError.param("activation", "unknown activation '\(name)'")
    }
    return activation
}
