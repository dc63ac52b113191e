import RNNKernels

/// `gru.bptt`: a GRU over a sequence in gru.step's weight layout and conventions, a cross-entropy
/// or upstream-gradient head, and backpropagation through time to every weight and the initial state.
struct GRUBPTTKernel: Kernel {
    static let weightNames = ["W_z", "W_r", "W_h"], biasNames = ["b_z", "b_r", "b_h"]

    let spec = KernelSpec(
        name: "gru.bptt",
        summary: "GRU sequence forward pass with a loss head, and backpropagation through time",
        doc: """
            h_t = gru.step(x_t, h_{t-1}) with W_z, W_r, W_h over the concatenated input and gru.step's
            concat_order, reset and update_side params.
            Head: targets + W_hy (+ b_y): p_t = softmax(W_hy h_t + b_y), loss = Σ_t −log p_t[target_t];
            or dy: loss = Σ_t dy_t·h_t, so any loss's dL/dh_t can be chained in.
            Outputs the gradient of the loss w.r.t. every given weight and bias (d<input name>) and dh0.
            window: truncated BPTT (state carries across windows, gradient does not).
            clip: the weight gradients are clipped by their global norm after accumulation (grad_norm is the norm before).
            x is [T, I] or [T, B, I] (then h0 is [B, H], targets [T, B], dy [T, B, H]).
            """,
        inputs: CellBPTT.inputs(lstm: false)
            + GRUStepKernel().spec.inputs.filter { !["x", "h_prev"].contains($0.name) },
        params: GRUStepKernel().spec.params.filter { $0.name != "dtype" } + CellBPTT.params,
        outputs: CellBPTT.outputs(lstm: false)
            + (GRUBPTTKernel.weightNames + GRUBPTTKernel.biasNames).map {
                OutputSpec("d" + $0, "like \($0)", optional: $0.hasPrefix("b"), "dloss/d\($0)")
            },
        lossOutput: "loss",
        sizes: CellBPTT.sizes(gates: 3)
    ).rules([GRUStepKernel.biasRule] + CellBPTT.headRules)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x")
        let cell: RecurrentCell<T> = try GRUStepKernel.cell(c, inputSize: x.shape.last!)
        let (shared, gradients) = try CellBPTT.run(c, cell: cell)
        guard let g = gradients else { return shared }
        var out = shared
        let h = cell.hiddenSize
        let m = g.cell.concatenated(order: try c.choice("concat_order"))
        for (k, name) in Self.weightNames.enumerated() { out["d" + name] = .real(rowBlock(m, k, size: h)) }
        if c.has("b_z") {
            for (k, name) in Self.biasNames.enumerated() { out["d" + name] = .real(rowBlock(g.cell.bw, k, size: h)) }
        }
        return out
    }
}
