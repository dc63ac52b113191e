import RNNKernels

/// `torch.RNN`, `torch.LSTM`, `torch.GRU`: the `torch.nn` modules, with their parameter names,
/// `state_dict` weight names and tensor layouts, over the shared cell core.
struct TorchRecurrentKernel: Kernel {
    let kind: CellKind
    /// The upstream-gradient inputs: d<output> for each differentiable output.
    var upstreams: [String] { kind == .lstm ? ["doutput", "dh_n", "dc_n"] : ["doutput", "dh_n"] }
    static let maxLayers = 4

    var moduleName: String {
        switch kind {
        case .rnn: return "RNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }

    /// PyTorch's symbols: G*H_cell rows (H_cell = hidden_size; H_out = proj_size or hidden_size).
    var gateRows: Dim {
        switch kind {
        case .rnn: return "H_cell"
        case .gru: return "3*H_cell"
        case .lstm: return "4*H_cell"
        }
    }

    /// PyTorch's conventions for a cell kind, shared by the modules and the cells: the LSTM's gates
    /// [i, f, g, o]; the GRU's [r, z, n] with the reset applied after the product and z weighting
    /// h_prev; the Elman cell's nonlinearity from its `nonlinearity` param (tanh or relu).
    static func conventions(_ kind: CellKind, _ c: KernelContext) throws -> CellConventions {
        switch kind {
        case .rnn:
            return CellConventions(
                kind: .rnn, candidateActivation: try c.string("nonlinearity") == "relu" ? .relu : .tanh)
        case .lstm: return CellConventions(kind: .lstm)
        case .gru: return CellConventions(kind: .gru, resetPlacement: .afterMatmul, updateSide: .previous)
        }
    }

    static func weightNames(_ kind: CellKind, layer l: Int, suffix: String) -> [String] {
        var names = [
            "weight_ih_l\(l)\(suffix)", "weight_hh_l\(l)\(suffix)", "bias_ih_l\(l)\(suffix)", "bias_hh_l\(l)\(suffix)",
        ]
        if kind == .lstm { names.append("weight_hr_l\(l)\(suffix)") }
        return names
    }

    var spec: KernelSpec { declaration.rules(inputRules) }

    /// The module's state_dict decides which weights a case may give: layers past num_layers and the
    /// reverse direction without bidirectional are not in it.
    var inputRules: [InputRule] {
        var rules: [InputRule] = [
            .unused(
                (0..<Self.maxLayers).flatMap { Self.weightNames(kind, layer: $0, suffix: "_reverse") },
                when: .param("bidirectional", [.boolean(false)]), because: "not in the state_dict without bidirectional"
            ),
            .unused(
                (0..<Self.maxLayers).flatMap { l in
                    ["", "_reverse"].flatMap { ["bias_ih_l\(l)\($0)", "bias_hh_l\(l)\($0)"] }
                },
                when: .param("bias", [.boolean(false)]), because: "bias is false"),
            .required(["bias_ih_l0", "bias_hh_l0"], when: .param("bias", [.boolean(true)]), because: "bias is true"),
        ]
        for l in 1..<Self.maxLayers {
            rules.append(
                .unused(
                    ["", "_reverse"].flatMap { Self.weightNames(kind, layer: l, suffix: $0) },
                    when: .param("num_layers", (1...l).map { .integer($0) }),
                    because: "not in the state_dict with fewer layers"))
            rules.append(
                .required(
                    ["weight_ih_l\(l)", "weight_hh_l\(l)"],
                    when: .param("num_layers", ((l + 1)...Self.maxLayers).map { .integer($0) }),
                    because: "layer \(l)'s weights"))
        }
        return rules
    }

    var declaration: KernelSpec {
        var inputs: [InputSpec] = [
            InputSpec(
                "input", shapes: [["?", "?", "H_in"], ["L", "H_in"]],
                doc: "(L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in)",
                example: "{random: normal, shape: [3, 1, 1], seed: 1}"),
            InputSpec(
                "h_0", shapes: [["?", "?", "H_out"], ["?", "H_out"]], optional: true,
                doc:
                    "initial hidden state (D*num_layers, N, H_out), or (D*num_layers, H_out) unbatched; zeros if absent",
                example: "[[[0.1]]]"),
        ]
        if kind == .lstm {
            inputs.append(
                InputSpec(
                    "c_0", shapes: [["?", "?", "H_cell"], ["?", "H_cell"]], optional: true,
                    doc: "initial cell state (D*num_layers, N, H_cell); zeros if absent", example: "[[[0.2]]]"))
        }
        inputs.append(
            InputSpec(
                "lengths", .integer, shapes: [["N"]], optional: true,
                doc:
                    "per-sequence lengths: packed-sequence semantics (pack_padded_sequence, enforce_sorted=False, then pad_packed_sequence)",
                example: "[3]"))
        let rows = gateRows
        let hh: Dim = kind == .lstm ? "H_out" : "H_cell"
        for l in 0..<Self.maxLayers {
            for suffix in ["", "_reverse"] {
                let first = l == 0 && suffix == ""
                let ih: Shape = l == 0 ? [rows, "H_in"] : [rows, "?"]
                let seed = 10 * l + (suffix.isEmpty ? 1 : 5)
                let g = kind.gateCount
                let ex = { (shape: String, s: Int) in
                    "{random: uniform, shape: \(shape), seed: \(s), low: -0.7, high: 0.7}"
                }
                inputs.append(
                    .real(
                        "weight_ih_l\(l)\(suffix)", ih, optional: !first,
                        "weight_ih_l\(l)\(suffix): input-hidden weights of layer \(l)\(suffix.isEmpty ? "" : ", reverse direction")"
                            + (l > 0 ? " (G*H_cell, D*H_out)" : ""), example: ex("[\(g), 1]", seed)))
                inputs.append(
                    .real(
                        "weight_hh_l\(l)\(suffix)", [rows, hh], optional: !first,
                        "weight_hh_l\(l)\(suffix): hidden-hidden weights", example: ex("[\(g), 1]", seed + 1)))
                inputs.append(
                    InputSpec.real(
                        "bias_ih_l\(l)\(suffix)", [rows], optional: true,
                        "bias_ih_l\(l)\(suffix) (with bias: true)", example: ex("[\(g)]", seed + 2)
                    ).inSkeleton(first))
                inputs.append(
                    InputSpec.real(
                        "bias_hh_l\(l)\(suffix)", [rows], optional: true,
                        "bias_hh_l\(l)\(suffix) (with bias: true)", example: ex("[\(g)]", seed + 3)
                    ).inSkeleton(first))
                if kind == .lstm {
                    inputs.append(
                        .real(
                            "weight_hr_l\(l)\(suffix)", ["H_out", "H_cell"], optional: true,
                            "weight_hr_l\(l)\(suffix): projection (with proj_size > 0)", example: ex("[1, 1]", seed + 4)
                        ))
                }
            }
        }
        inputs.append(
            FrameworkGradients.upstream(
                "output", shapes: [["?", "?", "?"], ["?", "?"]], like: "output",
                example: "[[[1.0]], [[-0.5]], [[0.25]]]"))
        inputs.append(
            FrameworkGradients.upstream(
                "h_n", shapes: [["?", "?", "H_out"], ["?", "H_out"]], like: "h_n", example: "[[[0.5]]]"))
        if kind == .lstm {
            inputs.append(
                FrameworkGradients.upstream(
                    "c_n", shapes: [["?", "?", "H_cell"], ["?", "H_cell"]], like: "c_n", example: "[[[0.5]]]"))
        }
        var params: [ParamSpec] = [
            ParamSpec("input_size", .integer(min: 0, max: 1_000_000_000), "input_size: H_in"),
            ParamSpec("hidden_size", .integer(min: 1, max: 1_000_000_000), "hidden_size: H_cell"),
            ParamSpec("num_layers", .integer(min: 1, max: Self.maxLayers), default: .integer(1), "num_layers"),
        ]
        if kind == .rnn {
            params.append(
                ParamSpec("nonlinearity", .choice(["tanh", "relu"]), default: .string("tanh"), "nonlinearity"))
        }
        params += [
            ParamSpec("bias", .boolean, default: .boolean(true), "bias: whether bias_ih/bias_hh exist"),
            ParamSpec("batch_first", .boolean, default: .boolean(false), "batch_first: input and output are (N, L, ·)"),
            ParamSpec("bidirectional", .boolean, default: .boolean(false), "bidirectional (D = 2)"),
            ParamSpec(
                "total_length", .integer(min: 1, max: 1_000_000_000), optional: true,
                "with lengths: pad_packed_sequence(..., total_length=T): output has T steps (≥ max(lengths)) instead of max(lengths)"
            ),
        ]
        if kind == .lstm {
            params.append(
                ParamSpec(
                    "proj_size", .integer(min: 0, max: 1_000_000_000), default: .integer(0), "proj_size: H_out when > 0"
                ))
        }
        var outputs: [OutputSpec] = [
            OutputSpec(
                "output", "(L, N, D*H_out), (N, L, D*H_out) with batch_first, (L, D*H_out) unbatched",
                "last layer's h at every step, directions concatenated; zeros past a sequence's length, L = max(lengths) with lengths (total_length if given)"
            )
            .time(AxisRule([.init(axis: 1, rank: 3, when: "batch_first", is: [.boolean(true)]), .init(axis: 0)])),
            OutputSpec(
                "h_n", "(D*num_layers, N, H_out)",
                "final hidden state of every layer and direction (layer-major, then direction)"),
        ]
        if kind == .lstm { outputs.append(OutputSpec("c_n", "(D*num_layers, N, H_cell)", "final cell state")) }
        outputs.append(FrameworkGradients.lossOutput(upstreams))
        outputs += FrameworkGradients.gradientOutputs(
            inputs.filter { $0.kind == .real && !upstreams.contains($0.name) }.map(\.name))
        // The gradients of weight_ih, weight_hh, bias_ih and bias_hh hold G*H_cell rows in PyTorch's gate order.
        if kind != .rnn {
            let gates = GateBlocks.names(CellConventions.defaultOrder(kind))
            outputs = outputs.map { o in
                ["dweight_ih_l", "dweight_hh_l", "dbias_ih_l", "dbias_hh_l"].contains(where: o.name.hasPrefix)
                    ? o.gates(gates, along: .axis(0)) : o
            }
        }
        // dinput is shaped like input: time first, second with batch_first.
        outputs = outputs.map {
            $0.name == "dinput"
                ? $0.time(
                    AxisRule([.init(axis: 1, rank: 3, when: "batch_first", is: [.boolean(true)]), .init(axis: 0)])) : $0
        }
        let equations: String
        switch kind {
        case .rnn: equations = "h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = nonlinearity"
        case .lstm:
            equations = """
                i, f, g, o = chunks of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh (gate order i, f, g, o)
                c_t = σ(f)⊙c_{t-1} + σ(i)⊙tanh(g);  h_t = σ(o)⊙tanh(c_t);  with proj_size: h_t = W_hr h_t
                """
        case .gru:
            equations = """
                r, z = σ(chunks of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (gate order r, z, n)
                n = tanh(W_in x_t + b_in + r⊙(W_hn h_{t-1} + b_hn));  h_t = (1−z)⊙n + z⊙h_{t-1}
                """
        }
        return KernelSpec(
            name: "torch.\(moduleName)",
            summary:
                "torch.nn.\(moduleName): \(kind == .rnn ? "Elman RNN" : kind.rawValue.uppercased()) layers with PyTorch's names, layouts and packed-sequence lengths",
            doc: equations + """

                Weights are named as in the module's state_dict; layer l > 0 reads the previous layer's output
                (D*H_out features). h_n/c_n are layer-major then direction (index = layer*D + direction).
                With lengths: steps past a sequence's length output 0 and its final state is the one after its
                last real step; the reverse direction starts there (PyTorch packed sequences). output has
                max(lengths) steps, or total_length (pad_packed_sequence's argument, which may exceed L).
                Backward: given doutput (and/or dh_n\(kind == .lstm ? ", dc_n" : "")), loss = Σ doutput⊙output + Σ dh_n⊙h_n\(kind == .lstm ? " + Σ dc_n⊙c_n" : "")
                and d<name> for input, h_0\(kind == .lstm ? ", c_0" : "") and every state_dict weight given (autograd's .grad).
                """,
            inputs: inputs, params: params, outputs: outputs, lossOutput: "loss",
            sizes: { [g = kind.gateCount] c in
                let x = c.shape("input") ?? []
                // (L, N, H_in), (N, L, H_in) or (L, H_in): every axis but the last is steps or batch.
                let rows = x.dropLast().enumerated().map { ("input.shape[\($0.offset)]", $0.element) }
                let steps = x.count >= 2 ? x.dropLast().max()! : 0
                let layers = try c.int("num_layers"), d = try c.bool("bidirectional") ? 2 : 1,
                    hidden = try c.int("hidden_size")
                // Either axis may be the batch (batch_first), whose states exist even with no steps.
                let states = rows.map {
                    ImpliedSize(
                        "the states and gates",
                        [$0, ("num_layers", layers), ("D", d), ("G + 3", g + 3), ("hidden_size", hidden)],
                        blame: "input:input")
                }
                // pad_packed_sequence's total_length may make output longer than the input.
                let batch = x.count == 3 ? x[try c.bool("batch_first") ? 0 : 1] : 1
                let padded =
                    try c.optionalInt("total_length").map {
                        [
                            ImpliedSize(
                                "output 'output' (total_length)",
                                [("total_length", $0), ("N", batch), ("D", d), ("hidden_size", hidden)],
                                blame: "param:total_length")
                        ]
                    } ?? []
                return states + padded + [
                    ImpliedSize("time steps", [("L", steps)], blame: "input:input"),
                    ImpliedSize("output 'output'", rows + [("D", d), ("hidden_size", hidden)], blame: "input:input"),
                    ImpliedSize(
                        "the step caches",
                        rows + [("num_layers", layers), ("D", d), ("G + 3", g + 3), ("hidden_size", hidden)],
                        blame: "input:input"),
                    .operations(
                        "the time loop",
                        rows + [
                            ("num_layers", layers), ("D", d), ("G*hidden_size", g * hidden),
                            (
                                "max(input_size, D*hidden_size) + hidden_size",
                                ImpliedSize.sum(max(x.last ?? 0, d * hidden), hidden)
                            ),
                        ],
                        blame: "input:input"),
                ]
            })
    }
}
