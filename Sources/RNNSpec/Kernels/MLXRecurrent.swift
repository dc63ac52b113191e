import RNNKernels

/// `mlx.RNN`, `mlx.GRU`, `mlx.LSTM`: Apple MLX's `mlx.nn` recurrent layers with their parameter
/// names (`Wxh`, `Whh`, `bias`; `Wx`, `Wh`, `b`, `bhn`; `Wx`, `Wh`, `bias`), call arguments and
/// returns, over the shared cell core.
struct MLXRecurrentKernel: Kernel {
    let kind: CellKind

    /// The upstream-gradient inputs: d<output> for each output (the LSTM returns its cell states too).
    var upstreams: [String] { kind == .lstm ? ["dall_hidden", "dall_cell"] : ["dall_hidden"] }

    var layerName: String {
        switch kind {
        case .rnn: return "RNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }

    /// The module's parameters: input weights, recurrent weights, bias(es).
    var weightNames: [String] {
        switch kind {
        case .rnn: return ["Wxh", "Whh", "bias"]
        case .gru: return ["Wx", "Wh", "b", "bhn"]
        case .lstm: return ["Wx", "Wh", "bias"]
        }
    }

    /// `nonlinearity` callables of `mlx.nn` the RNN accepts here, by their function names.
    static let nonlinearities = ["tanh", "relu", "sigmoid", "softsign", "softplus", "elu", "leaky_relu"]

    static func activation(_ name: String) -> CellActivation {
        switch name {
        case "elu": return CellActivation(.elu, alpha: 1)  // nn.elu(x, alpha=1.0)
        case "leaky_relu": return CellActivation(.leakyrelu, alpha: 0.01)  // nn.leaky_relu(x, negative_slope=0.01)
        default: return CellActivation(CellActivation.Kind(rawValue: name)!)
        }
    }

    var spec: KernelSpec {
        let g = kind.gateCount
        let rows: Dim = g == 1 ? "H" : Dim("\(g)*H")
        let ex = { (shape: String, s: Int) in "{random: uniform, shape: \(shape), seed: \(s), low: -0.7, high: 0.7}" }
        var inputs: [InputSpec] = [
            InputSpec(
                "x", shapes: [["N", "L", "D"], ["L", "D"]], doc: "x: (N, L, D) batched, or (L, D) without a batch axis",
                example: "{random: normal, shape: [1, 3, 1], seed: 1}"),
            InputSpec(
                "hidden", shapes: [["N", "H"], ["H"]], optional: true,
                doc:
                    "hidden: the initial hidden state (N, H), or (H) without a batch axis; None (absent) acts as zeros",
                example: "[[0.1]]"),
        ]
        if kind == .lstm {
            inputs.append(
                InputSpec(
                    "cell", shapes: [["N", "H"], ["H"]], optional: true,
                    doc: "cell: the initial cell state, shaped like hidden; None (absent) acts as zeros",
                    example: "[[0.2]]"))
        }
        let w = weightNames
        inputs.append(
            .real(
                w[0], [rows, "D"],
                "\(w[0]): input weights (\(g == 1 ? "" : "\(g)*")H, D), row blocks \(gateOrder.map(\.rawValue))",
                example: ex("[\(g), 1]", 2)))
        inputs.append(
            .real(
                w[1], [rows, "H"], "\(w[1]): recurrent weights (\(g == 1 ? "" : "\(g)*")H, H)",
                example: ex("[\(g), 1]", 3)))
        inputs.append(
            InputSpec.real(
                w[2], [rows], optional: true,
                kind == .gru
                    ? "b: the input-side bias of r, z, n (3*H); absent with bias=False"
                    : "bias: (\(g == 1 ? "" : "\(g)*")H); absent with bias=False",
                example: ex("[\(g)]", 4)
            ).inSkeleton())
        if kind == .gru {
            inputs.append(
                InputSpec.real(
                    "bhn", ["H"], optional: true,
                    "bhn: the recurrent bias of n, inside the reset (H); absent with bias=False",
                    example: ex("[1]", 5)
                ).inSkeleton())
        }
        inputs.append(
            FrameworkGradients.upstream(
                "all_hidden", shapes: [["N", "L", "H"], ["L", "H"]], like: "all_hidden",
                example: "[[[1.0], [-0.5], [0.25]]]"))
        if kind == .lstm {
            inputs.append(
                FrameworkGradients.upstream(
                    "all_cell", shapes: [["N", "L", "H"], ["L", "H"]], like: "all_cell",
                    example: "[[[0.5], [0.5], [0.5]]]"))
        }
        var params: [ParamSpec] = [
            ParamSpec("input_size", .integer(min: 0, max: 1_000_000_000), "input_size: D"),
            ParamSpec("hidden_size", .integer(min: 1, max: 1_000_000_000), "hidden_size: H"),
        ]
        if kind == .rnn {
            params.append(
                ParamSpec(
                    "nonlinearity", .choice(Self.nonlinearities), default: .string("tanh"),
                    "nonlinearity: the mlx.nn function passed as the callable (None is tanh); elu with alpha 1, leaky_relu with negative_slope 0.01"
                ))
        }
        var outputs: [OutputSpec] = [
            OutputSpec(
                "all_hidden", "(N, L, H), or (L, H) without a batch axis",
                "the hidden state after every step (what the layer returns\(kind == .lstm ? " first" : ""))")
        ]
        if kind == .lstm {
            outputs.append(
                OutputSpec(
                    "all_cell", "(N, L, H), or (L, H) without a batch axis",
                    "the cell state after every step (what the layer returns second)"))
        }
        outputs.append(FrameworkGradients.lossOutput(upstreams))
        outputs += FrameworkGradients.gradientOutputs(
            inputs.filter { $0.kind == .real && !upstreams.contains($0.name) }.map(\.name))
        let eq: String
        switch kind {
        case .rnn: eq = "h_t = nonlinearity(Wxh x_t + bias + Whh h_{t-1})"
        case .lstm:
            eq = """
                i, f, g, o = row blocks of Wx x_t + bias + Wh h_{t-1};  c_t = σ(f)⊙c_{t-1} + σ(i)⊙tanh(g);  h_t = σ(o)⊙tanh(c_t)
                """
        case .gru:
            eq = """
                r, z = σ(blocks of Wx x_t + b + Wh h_{t-1}) (row blocks r, z, n);  n = tanh(Wx_n x_t + b_n + r⊙(Wh_n h_{t-1} + bhn))
                h_t = (1−z)⊙n + z⊙h_{t-1}
                """
        }
        return KernelSpec(
            name: "mlx.\(layerName)",
            summary: "mlx.nn.\(layerName) (MLX): its parameters, call arguments and returns",
            doc: eq + """

                Weights are (out, in) as in PyTorch; bias=False is a case without the bias tensor(s). One layer, one direction, no lengths or masks: every step is real.
                An absent hidden\(kind == .lstm ? "/cell" : "") (None) gives the same numbers as zeros. There must be at least one step.
                Backward: given \(upstreams.joined(separator: " and/or ")), loss = \(upstreams.map { "Σ \($0)⊙\($0.dropFirst())" }.joined(separator: " + "))
                and dx, d\(weightNames.joined(separator: ", d")) (mx.grad) and dhidden\(kind == .lstm ? ", dcell" : "") when given.
                """,
            inputs: inputs, params: params, outputs: outputs, lossOutput: "loss",
            sizes: { c in
                let x = c.shape("x") ?? []
                let b = x.count == 3 ? x[0] : 1, t = x.count >= 2 ? x[x.count - 2] : 0, h = try c.int("hidden_size")
                return [
                    ImpliedSize("time steps", [("L", t)], blame: "input:x"),
                    ImpliedSize(
                        "the states and gates", [("N", b), ("G + 3", g + 3), ("hidden_size", h)], blame: "input:x"),
                    ImpliedSize("output 'all_hidden'", [("N", b), ("L", t), ("hidden_size", h)], blame: "input:x"),
                    ImpliedSize(
                        "the step caches", [("N", b), ("L", t), ("G + 3", g + 3), ("hidden_size", h)], blame: "input:x"),
                    .operations(
                        "the time loop",
                        [
                            ("N", b), ("L", t), ("G*hidden_size", g * h),
                            ("D + hidden_size", ImpliedSize.sum(x.last ?? 0, h)),
                        ], blame: "input:x"),
                ]
            })
    }

    /// Row blocks of Wx / Wh / b: LSTM i, f, g, o; GRU r, z, n.
    var gateOrder: [Gate] { CellConventions.defaultOrder(kind) }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let g = kind.gateCount, hiddenSize = try c.int("hidden_size"), inputSize = try c.int("input_size")
        let raw: Tensor<T> = try c.real("x")
        let unbatched = raw.rank == 2
        let x = unbatched ? raw.reshaped([raw.shape[0], 1, raw.shape[1]]) : raw.permuted([1, 0, 2])  // → [L, N, D]
        let steps = x.shape[0], batch = x.shape[1]
        guard x.shape[2] == inputSize else {
            throw KernelError.input(
                "x", "x has \(x.shape[2]) features in its last axis, but input_size is \(inputSize)")
        }
        guard steps > 0 else {
            throw KernelError.input(
                "x",
                "x has no steps (L = 0): mlx.nn.\(layerName) stacks the states of its steps and there are none (mx.stack raises)"
            )
        }
        let names = weightNames
        let wx: Tensor<T> = try c.real(names[0]), wh: Tensor<T> = try c.real(names[1])
        guard wx.shape == [g * hiddenSize, inputSize] else {
            throw KernelError.input(
                names[0],
                "\(names[0]) must be (\(g == 1 ? "" : "\(g)*")hidden_size, input_size) = (\(g * hiddenSize), \(inputSize)), found \(wx.shape.shapeText)"
            )
        }
        guard wh.shape == [g * hiddenSize, hiddenSize] else {
            throw KernelError.input(
                names[1],
                "\(names[1]) must be (\(g == 1 ? "" : "\(g)*")hidden_size, hidden_size) = (\(g * hiddenSize), \(hiddenSize)), found \(wh.shape.shapeText)"
            )
        }
        var p = CellParameters(w: wx, r: wh)
        let biasNames = kind == .gru ? ["b", "bhn"] : ["bias"]
        // The constructor's bias=False leaves the bias tensors out; their presence is the flag.
        if biasNames.contains(where: c.has) {
            try c.requireInputs(biasNames, because: "mlx.nn.GRU(bias=True) has both b and bhn")
            let b: Tensor<T> = try c.real(biasNames[0])
            guard b.shape == [g * hiddenSize] else {
                throw KernelError.input(
                    biasNames[0], "\(biasNames[0]) must be (\(g * hiddenSize)), found \(b.shape.shapeText)")
            }
            p.bw = b
            if kind == .gru {
                let bhn: Tensor<T> = try c.real("bhn")
                guard bhn.shape == [hiddenSize] else {
                    throw KernelError.input(
                        "bhn", "bhn must be (hidden_size) = (\(hiddenSize)), found \(bhn.shape.shapeText)")
                }
                p.br = CellParameters<T>.mlxRecurrentBias(bhn: bhn)
            }
        }
        let conventions: CellConventions
        switch kind {
        case .rnn:
            conventions = CellConventions(
                kind: .rnn, candidateActivation: Self.activation(try c.string("nonlinearity")))
        case .lstm: conventions = CellConventions(kind: .lstm)
        case .gru: conventions = CellConventions(kind: .gru, resetPlacement: .afterMatmul, updateSide: .previous)
        }
        let cell = RecurrentCell(conventions: conventions, parameters: p)

        func state(_ name: String) throws -> Tensor<T>? {
            guard let t: Tensor<T> = try c.optionalReal(name) else { return nil }
            let expected = unbatched ? [hiddenSize] : [batch, hiddenSize]
            guard t.shape == expected else {
                throw KernelError.input(
                    name,
                    "\(name) must be \(unbatched ? "(H)" : "(N, H)") = \(expected.shapeText) for x \(raw.shape.shapeText), found \(t.shape.shapeText)"
                )
            }
            return t.reshaped([batch, hiddenSize])
        }
        let h0 = try state("hidden"), c0 = kind == .lstm ? try state("cell") : nil
        let backward = upstreams.contains(where: c.has)
        let run = runSequence(cell, x: x, h0: h0, c0: c0, keepCaches: backward, recordCellStates: kind == .lstm)
        func external(_ t: Tensor<T>) -> Tensor<T> {
            unbatched ? t.reshaped([steps, hiddenSize]) : t.permuted([1, 0, 2])
        }
        func timeMajor(_ t: Tensor<T>) -> Tensor<T> {
            unbatched ? t.reshaped([steps, 1, hiddenSize]) : t.permuted([1, 0, 2])
        }
        var out = KernelOutputs()
        let allHidden = external(run.outputs)
        let allCell = run.cellStates.map(external)
        out["all_hidden"] = .real(allHidden)
        if let allCell { out["all_cell"] = .real(allCell) }

        let upstream = try FrameworkGradients.given(c, [("all_hidden", allHidden), ("all_cell", allCell)])
        guard !upstream.isEmpty else { return out }
        out["loss"] = .real(upstreamLoss(upstream))
        let grads = try runSequenceBackward(
            cell, run: run, dOutputs: try c.optionalReal("dall_hidden").map(timeMajor),
            dCellStates: try c.optionalReal("dall_cell").map(timeMajor))
        out["dx"] = .real(unbatched ? grads.x.reshaped(raw.shape) : grads.x.permuted([1, 0, 2]))
        out["d" + names[0]] = .real(grads.cell.w)
        out["d" + names[1]] = .real(grads.cell.r)
        if p.bw != nil {
            out["d" + biasNames[0]] = .real(grads.cell.bw)
            if kind == .gru { out["dbhn"] = .real(grads.cell.mlxBhn) }
        }
        let stateShape = unbatched ? [hiddenSize] : [batch, hiddenSize]
        if h0 != nil { out["dhidden"] = .real(grads.h0.reshaped(stateShape)) }
        if c0 != nil { out["dcell"] = .real(grads.c0!.reshaped(stateShape)) }
        return out
    }
}
