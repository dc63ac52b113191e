import RNNKernels

/// `torch.nn.RNNCell`, `LSTMCell`, `GRUCell`: one step of PyTorch's cells, with their parameter names,
/// batched (N, ·) or unbatched (·) inputs, over the shared cell core.
struct TorchCellKernel: Kernel {
    let kind: CellKind

    var moduleName: String {
        switch kind {
        case .rnn: return "RNNCell"
        case .lstm: return "LSTMCell"
        case .gru: return "GRUCell"
        }
    }

    /// The upstream-gradient inputs: d<output> for each output.
    var upstreams: [String] { kind == .lstm ? ["dh_1", "dc_1"] : ["dh_1"] }

    var spec: KernelSpec {
        let g = kind.gateCount
        let rows: Dim = g == 1 ? "hidden_size" : Dim("\(g)*hidden_size")
        let ex = { (shape: String, s: Int) in "{random: uniform, shape: \(shape), seed: \(s), low: -0.7, high: 0.7}" }
        let stateDoc = kind == .lstm ? "h_0 of hx = (h_0, c_0)" : "hx (the docs' 'hidden')"
        var inputs: [InputSpec] = [
            InputSpec(
                "input", shapes: [["N", "input_size"], ["input_size"]], doc: "input: (N, H_in), or unbatched (H_in)",
                example: "{random: normal, shape: [1, 1], seed: 1}"),
            InputSpec(
                "h_0", shapes: [["N", "hidden_size"], ["hidden_size"]], optional: true,
                doc: "\(stateDoc): (N, H), or (H) unbatched; zeros if absent", example: "[[0.1]]"),
        ]
        if kind == .lstm {
            inputs.append(
                InputSpec(
                    "c_0", shapes: [["N", "hidden_size"], ["hidden_size"]], optional: true,
                    doc: "c_0 of hx = (h_0, c_0): (N, H), or (H) unbatched; zeros if absent", example: "[[0.2]]"))
        }
        inputs += [
            .real(
                "weight_ih", [rows, "input_size"], "weight_ih: (\(g == 1 ? "" : "\(g)*")hidden_size, input_size)",
                example: ex("[\(g), 1]", 2)),
            .real(
                "weight_hh", [rows, "hidden_size"], "weight_hh: (\(g == 1 ? "" : "\(g)*")hidden_size, hidden_size)",
                example: ex("[\(g), 1]", 3)),
            InputSpec.real("bias_ih", [rows], optional: true, "bias_ih (with bias: true)", example: ex("[\(g)]", 4))
                .inSkeleton(),
            InputSpec.real("bias_hh", [rows], optional: true, "bias_hh (with bias: true)", example: ex("[\(g)]", 5))
                .inSkeleton(),
            FrameworkGradients.upstream(
                "h_1", shapes: [["N", "hidden_size"], ["hidden_size"]], like: "h_1", example: "[[1.0]]"),
        ]
        if kind == .lstm {
            inputs.append(
                FrameworkGradients.upstream(
                    "c_1", shapes: [["N", "hidden_size"], ["hidden_size"]], like: "c_1", example: "[[0.5]]"))
        }
        var params: [ParamSpec] = [
            ParamSpec("input_size", .integer(min: 0, max: 1_000_000_000), "input_size: H_in"),
            ParamSpec("hidden_size", .integer(min: 1, max: 1_000_000_000), "hidden_size: H"),
            ParamSpec("bias", .boolean, default: .boolean(true), "bias: whether bias_ih/bias_hh exist"),
        ]
        if kind == .rnn {
            params.append(
                ParamSpec("nonlinearity", .choice(["tanh", "relu"]), default: .string("tanh"), "nonlinearity"))
        }
        var outputs: [OutputSpec] = [
            OutputSpec(
                "h_1", "(N, H), or (H) unbatched",
                kind == .lstm ? "h_1 of the returned (h_1, c_1)" : "the next hidden state (the docs' h')")
        ]
        if kind == .lstm {
            outputs.append(OutputSpec("c_1", "(N, H), or (H) unbatched", "c_1 of the returned (h_1, c_1)"))
        }
        outputs.append(FrameworkGradients.lossOutput(upstreams))
        outputs += FrameworkGradients.gradientOutputs(
            ["input", "h_0"] + (kind == .lstm ? ["c_0"] : []) + ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        let equations: String
        switch kind {
        case .rnn: equations = "h' = act(W_ih x + b_ih + W_hh h + b_hh), act = nonlinearity"
        case .lstm:
            equations = """
                i, f, g, o = chunks of W_ih x + b_ih + W_hh h_0 + b_hh (gate order i, f, g, o)
                c_1 = σ(f)⊙c_0 + σ(i)⊙tanh(g);  h_1 = σ(o)⊙tanh(c_1)
                """
        case .gru:
            equations = """
                r, z = σ(chunks of W_ih x + b_ih + W_hh h + b_hh) (gate order r, z, n)
                n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn));  h' = (1−z)⊙n + z⊙h
                """
        }
        return KernelSpec(
            name: "torch.\(moduleName)",
            summary: "torch.nn.\(moduleName): one step, with PyTorch's parameter names, batched or unbatched",
            doc: equations + """

                The same step as one time step of torch.\(moduleName.dropLast(4)) layer 0 (whose weight_ih_l0 ... are these
                tensors); the cell has no _l0 suffix. Unbatched inputs (H_in) and states (H) give unbatched outputs.
                Backward: given dh_1\(kind == .lstm ? " (and/or dc_1)" : ""), loss = Σ dh_1⊙h_1\(kind == .lstm ? " + Σ dc_1⊙c_1" : "") and d<name> for
                input, h_0\(kind == .lstm ? ", c_0" : "") and every parameter (autograd's .grad).
                """,
            inputs: inputs, params: params, outputs: outputs, lossOutput: "loss", sizes: KernelSpec.boundedByInputs)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let hidden = try c.int("hidden_size"), inputSize = try c.int("input_size"), g = kind.gateCount
        let x: Tensor<T> = try c.real("input")
        guard x.shape.last == inputSize else {
            throw KernelError.input(
                "input", "input has inconsistent input_size: got \(x.shape.last ?? 0) expected \(inputSize)")
        }
        let h0: Tensor<T>? = try c.optionalReal("h_0"), c0: Tensor<T>? = kind == .lstm ? try c.optionalReal("c_0") : nil
        for (name, s) in [("h_0", h0), ("c_0", c0)] {
            if let s, s.rank != x.rank {
                throw KernelError.input(
                    name,
                    "\(moduleName): Expected \(name) to be \(x.rank)D like input (\(x.rank == 1 ? "unbatched" : "batched")), got \(s.rank)D \(s.shape.shapeText)"
                )
            }
        }
        let form = try StepBatching(x, [("h_0", h0), ("c_0", c0)])
        for (name, s) in [("h_0", h0), ("c_0", c0)] {
            if let s, s.shape.last != hidden {
                throw KernelError.input(
                    name, "\(name) has inconsistent hidden_size: got \(s.shape.last ?? 0) expected \(hidden)")
            }
        }
        let wih: Tensor<T> = try c.real("weight_ih"), whh: Tensor<T> = try c.real("weight_hh")
        guard wih.shape == [g * hidden, inputSize] else {
            throw KernelError.input(
                "weight_ih",
                "weight_ih must be (\(g == 1 ? "" : "\(g)*")hidden_size, input_size) = (\(g * hidden), \(inputSize)), found \(wih.shape.shapeText)"
            )
        }
        guard whh.shape == [g * hidden, hidden] else {
            throw KernelError.input(
                "weight_hh", "weight_hh must be (\(g * hidden), \(hidden)), found \(whh.shape.shapeText)")
        }
        var p = CellParameters(w: wih, r: whh)
        let hasBias = try c.bool("bias")
        if hasBias {
            try c.requireInputs(["bias_ih", "bias_hh"], because: "bias is true")
            p.bw = try c.real("bias_ih")
            p.br = try c.real("bias_hh")
            for (name, b) in [("bias_ih", p.bw!), ("bias_hh", p.br!)] where b.shape != [g * hidden] {
                throw KernelError.input(name, "\(name) must be (\(g * hidden)), found \(b.shape.shapeText)")
            }
        } else {
            try c.rejectInputs(["bias_ih", "bias_hh"], because: "bias is false")
        }
        let conventions = try TorchRecurrentKernel.conventions(kind, c)
        let cell = RecurrentCell(conventions: conventions, parameters: p)
        let step = cell.forward(
            x: form.batch(x), hPrev: form.batch(optional: h0) ?? Tensor(zeros: [form.batch, hidden]),
            cPrev: form.batch(optional: c0))
        var out = KernelOutputs()
        out["h_1"] = .real(form.unbatch(step.h))
        if let c1 = step.cellState { out["c_1"] = .real(form.unbatch(c1)) }

        let upstream = try FrameworkGradients.given(
            c, [("h_1", form.unbatch(step.h)), ("c_1", step.cellState.map(form.unbatch))])
        guard !upstream.isEmpty else { return out }
        out["loss"] = .real(upstreamLoss(upstream))
        var grads = CellGradients(zerosLike: cell)
        let dh: Tensor<T> = form.batch(optional: try c.optionalReal("dh_1")) ?? Tensor(zeros: [form.batch, hidden])
        let back = cell.backward(step, dh: dh, dc: form.batch(optional: try c.optionalReal("dc_1")), into: &grads)
        out["dinput"] = .real(form.unbatch(back.x))
        if h0 != nil { out["dh_0"] = .real(form.unbatch(back.hPrev)) }
        if let dc = back.cPrev, c0 != nil { out["dc_0"] = .real(form.unbatch(dc)) }
        out["dweight_ih"] = .real(grads.w)
        out["dweight_hh"] = .real(grads.r)
        if hasBias {
            out["dbias_ih"] = .real(grads.bw)
            out["dbias_hh"] = .real(grads.br)
        }
        return out
    }
}
