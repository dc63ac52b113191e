import RNNKernels

/// `lstm.bptt`: an LSTM over a sequence in lstm.step's weight layouts, a cross-entropy or
/// upstream-gradient head, and backpropagation through time to every weight and the initial state.
struct LSTMBPTTKernel: Kernel {
    let spec = KernelSpec(
        name: "lstm.bptt",
        summary: "LSTM sequence forward pass with a loss head, and backpropagation through time",
        doc: """
            h_t, c_t = lstm.step(x_t, h_{t-1}, c_{t-1}) in the weight layout `layout` (as lstm.step).
            Head: targets + W_hy (+ b_y): p_t = softmax(W_hy h_t + b_y), loss = Σ_t −log p_t[target_t];
            or dy: loss = Σ_t dy_t·h_t, so any loss's dL/dh_t can be chained in.
            Outputs the gradient of the loss w.r.t. every given weight and bias (d<input name>) and dh0, dc0.
            window: truncated BPTT (state carries across windows, gradient does not).
            clip: the weight gradients are clipped by their global norm after accumulation (grad_norm is the norm before).
            x is [T, I] or [T, B, I] (then h0, c0 are [B, H], targets [T, B], dy [T, B, H]).
            """,
        inputs: CellBPTT.inputs(lstm: true)
            + LSTMStepKernel().spec.inputs.filter { !["x", "h_prev", "c_prev"].contains($0.name) },
        params: LSTMStepKernel().spec.params.filter { $0.name != "dtype" } + CellBPTT.params,
        outputs: CellBPTT.outputs(lstm: true)
            + (LSTMStepKernel.concatNames + LSTMStepKernel.separateNames + LSTMStepKernel.torchNames).map { name in
                let o = OutputSpec("d" + name, "like \(name)", optional: true, "dloss/d\(name) (when \(name) is given)")
                // Stacked gate rows: concat_fiog's W and b (f, i, o, g), torch's W_ih, W_hh, b_ih, b_hh (i, f, g, o).
                if LSTMStepKernel.concatNames.contains(name) {
                    return o.gates(GateBlocks.names([.f, .i, .o, .g]), along: .axis(0))
                }
                if LSTMStepKernel.torchNames.contains(name) {
                    return o.gates(GateBlocks.names([.i, .f, .g, .o]), along: .axis(0))
                }
                return o
            },
        lossOutput: "loss",
        sizes: CellBPTT.sizes(gates: 4)
    ).rules(LSTMStepKernel.layoutRules + CellBPTT.headRules)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x")
        let (cell, layout): (RecurrentCell<T>, LSTMStepKernel.Layout) = try LSTMStepKernel.cell(
            c, inputSize: x.shape.last!)
        let (shared, gradients) = try CellBPTT.run(c, cell: cell)
        guard let g = gradients else { return shared }
        var out = shared
        let h = cell.hiddenSize, conventions = cell.conventions
        switch layout {
        case .concatFIOG:
            out["dW"] = .real(g.cell.concatenated(order: .xh))
            if c.has("b") { out["db"] = .real(g.cell.bw) }
        case .separate:
            for k in ["f", "i", "o", "g"] {
                let block = conventions.block(Gate(rawValue: k)!)
                out["dW_\(k)"] = .real(rowBlock(g.cell.w, block, size: h))
                out["dU_\(k)"] = .real(rowBlock(g.cell.r, block, size: h))
                if c.has("b_\(k)") { out["db_\(k)"] = .real(rowBlock(g.cell.bw, block, size: h)) }
            }
        case .torch:
            out["dW_ih"] = .real(g.cell.w)
            out["dW_hh"] = .real(g.cell.r)
            if c.has("b_ih") { out["db_ih"] = .real(g.cell.bw) }
            if c.has("b_hh") { out["db_hh"] = .real(g.cell.br) }
        }
        return out
    }
}
