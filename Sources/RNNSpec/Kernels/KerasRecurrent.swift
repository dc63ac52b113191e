import RNNKernels

/// `keras.SimpleRNN`, `keras.LSTM`, `keras.GRU`: the Keras 3 layers with their weight names,
/// arguments and defaults, over the shared cell core.
struct KerasRecurrentKernel: Kernel {
    let kind: CellKind
    /// The upstream-gradient inputs: d<output> for each differentiable output.
    var upstreams: [String] { kind == .lstm ? ["doutput", "dstate_h", "dstate_c"] : ["doutput", "dstate_h"] }

    var layerName: String {
        switch kind {
        case .rnn: return "SimpleRNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }

    /// Column blocks of kernel / recurrent_kernel / bias: LSTM i, f, c, o; GRU z, r, h.
    var gateOrder: [Gate] { KerasLayerConfig.gateOrder(kind) }

    static let activationNames = ["tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "softsign", "softplus", "elu"]

    static func activation(_ name: String) -> CellActivation {
        switch name {
        case "linear": return .identity
        case "hard_sigmoid": return CellActivation(.hardsigmoid, alpha: 1.0 / 6.0, beta: 0.5)
        case "elu": return CellActivation(.elu, alpha: 1)
        default: return CellActivation(CellActivation.Kind(rawValue: name)!)
        }
    }

    var spec: KernelSpec {
        let g = kind.gateCount
        let cols: Dim = g == 1 ? "units" : Dim("\(g)*units")
        let ex = { (shape: String, s: Int) in "{random: uniform, shape: \(shape), seed: \(s), low: -0.7, high: 0.7}" }
        var inputs: [InputSpec] = [
            InputSpec(
                "inputs", shapes: [["batch", "timesteps", "features"]], doc: "(batch, timesteps, features)",
                example: "{random: normal, shape: [1, 3, 2], seed: 1}"),
            .real(
                "kernel", ["features", cols], "kernel: input weights, column blocks \(gateOrder.map(\.rawValue))",
                example: ex("[2, \(g)]", 2)),
            .real("recurrent_kernel", ["units", cols], "recurrent_kernel", example: ex("[1, \(g)]", 3)),
        ]
        if kind == .gru {
            inputs.append(
                InputSpec(
                    "bias", shapes: [[cols], ["2", cols]], optional: true,
                    doc:
                        "bias: (3*units,) with reset_after false, (2, 3*units) = (input bias, recurrent bias) with reset_after true",
                    example: ex("[2, 3]", 4)
                ).inSkeleton())
        } else {
            inputs.append(
                InputSpec.real("bias", [cols], optional: true, "bias (with use_bias)", example: ex("[\(g)]", 4))
                    .inSkeleton())
        }
        inputs.append(
            InputSpec(
                "initial_state", .realList, shapes: [], optional: true,
                doc: kind == .lstm
                    ? "initial_state: [h, c], each (batch, units); zeros if absent"
                    : "initial_state: [h], (batch, units); zeros if absent",
                example: kind == .lstm ? "[[[0.1]], [[0.2]]]" : "[[[0.1]]]"))
        inputs.append(
            InputSpec(
                "mask", .boolean, shapes: [["batch", "timesteps"]], optional: true,
                doc: "mask (batch, timesteps): false steps keep the state and repeat the previous output",
                example: "[[true, true, false]]"))
        inputs.append(
            FrameworkGradients.upstream(
                "output", shapes: [["batch", "units"], ["batch", "timesteps", "units"]], like: "output",
                example: "[[1.0]]"))
        inputs.append(
            FrameworkGradients.upstream(
                "state_h", shapes: [["batch", "units"]], like: "state_h (with return_state)", example: "[[0.5]]"))
        if kind == .lstm {
            inputs.append(
                FrameworkGradients.upstream(
                    "state_c", shapes: [["batch", "units"]], like: "state_c (with return_state)", example: "[[0.5]]"))
        }
        var params: [ParamSpec] = [
            ParamSpec("units", .integer(min: 1, max: 1_000_000_000), "units"),
            ParamSpec(
                "activation", .choice(Self.activationNames), default: .string("tanh"),
                kind == .lstm
                    ? "activation of the candidate and of the cell output"
                    : "activation of the \(kind == .gru ? "candidate" : "state")"),
        ]
        if kind != .rnn {
            params.append(
                ParamSpec(
                    "recurrent_activation", .choice(Self.activationNames), default: .string("sigmoid"),
                    "recurrent_activation: the gates"))
        }
        params.append(ParamSpec("use_bias", .boolean, default: .boolean(true), "use_bias"))
        if kind == .gru {
            params.append(
                ParamSpec(
                    "reset_after", .boolean, default: .boolean(true),
                    "reset_after: apply r after the recurrent matmul (true) or to h before it (false)"))
        }
        params += [
            ParamSpec("return_sequences", .boolean, default: .boolean(false), "return_sequences"),
            ParamSpec("return_state", .boolean, default: .boolean(false), "return_state"),
            ParamSpec(
                "go_backwards", .boolean, default: .boolean(false),
                "go_backwards: read the sequence backwards; outputs in that order"),
            ParamSpec(
                "zero_output_for_mask", .boolean, default: .boolean(false),
                "zero_output_for_mask: masked steps output 0 instead of the previous output"),
            KerasLayerConfig.maskValueParam,
        ]
        var outputs: [OutputSpec] = [
            OutputSpec(
                "output", "(batch, units), or (batch, timesteps, units) with return_sequences", "the layer's output"
            )
            .time(AxisRule([.init(axis: 1, rank: 3)])),
            OutputSpec("state_h", "(batch, units)", optional: true, "final state h (with return_state)"),
        ]
        if kind == .lstm {
            outputs.append(
                OutputSpec("state_c", "(batch, units)", optional: true, "final carry state c (with return_state)"))
        }
        outputs.append(FrameworkGradients.lossOutput(upstreams))
        outputs += FrameworkGradients.gradientOutputs(["inputs", "kernel", "recurrent_kernel", "bias"]).map { o in
            // Column blocks of kernel, recurrent_kernel and bias in Keras' gate order (LSTM i, f, c, o; GRU z, r, h).
            if o.name == "dinputs" { return o.time(.axis(1)) }  // (batch, timesteps, features)
            guard kind != .rnn, ["dkernel", "drecurrent_kernel", "dbias"].contains(o.name) else { return o }
            return o.gates(
                GateBlocks.names(gateOrder, letters: kind == .lstm ? ["i", "f", "c", "o"] : ["z", "r", "h"]),
                along: .axis(-1))
        }
        outputs.append(
            OutputSpec(
                "dinitial_state", "(\(kind == .lstm ? 2 : 1), batch, units)", optional: true,
                "dloss/dinitial_state, \(kind == .lstm ? "[dh, dc]" : "[dh]") stacked (with an upstream gradient and initial_state)"
            ))
        let eq: String
        switch kind {
        case .rnn: eq = "h = activation(x·kernel + bias + h_prev·recurrent_kernel)"
        case .lstm:
            eq = """
                i, f, c~, o blocks of x·kernel + h_prev·recurrent_kernel + bias; i, f, o = recurrent_activation(·),
                c~ = activation(·); c = f⊙c_prev + i⊙c~; h = o⊙activation(c)
                """
        case .gru:
            eq = """
                z, r = recurrent_activation(blocks of x·kernel + b_in + h_prev·recurrent_kernel + b_rec)
                reset_after: hh = activation(x·W_h + b_in_h + r⊙(h_prev·U_h + b_rec_h)); else hh = activation(x·W_h + b_h + (r⊙h_prev)·U_h)
                h = z⊙h_prev + (1−z)⊙hh
                """
        }
        return KernelSpec(
            name: "keras.\(layerName)",
            summary: "keras.layers.\(layerName) (Keras 3): its weights, arguments, defaults, go_backwards and masks",
            doc: eq + """

                kernel is (features, blocks·units): the transpose of PyTorch's weight_ih. Masked steps keep the state and
                output the previous step's output (0 before the first real step), as Keras does. mask_value puts a
                keras.layers.Masking(mask_value) in front: a step whose features all equal mask_value is masked and its
                inputs become 0; with initial_state Keras drops that mask (the zeroed inputs stay).
                Backward: given doutput (and/or dstate_h\(kind == .lstm ? ", dstate_c" : "") with return_state), loss = Σ doutput⊙output + Σ dstate_h⊙state_h\(kind == .lstm ? " + Σ dstate_c⊙state_c" : "")
                and dinputs, dkernel, drecurrent_kernel, dbias (in bias's shape) and dinitial_state (when given).
                """,
            inputs: inputs, params: params, outputs: outputs, lossOutput: "loss",
            sizes: { c in
                let b = c.dim("batch", otherwise: 0), t = c.dim("timesteps", otherwise: 0), units = try c.int("units")
                return [
                    ImpliedSize("time steps", [("timesteps", t)], blame: "input:inputs"),
                    ImpliedSize(
                        "the states and gates", [("batch", b), ("G + 3", g + 3), ("units", units)],
                        blame: "input:inputs"),
                    ImpliedSize(
                        "output 'output'", [("batch", b), ("timesteps", t), ("units", units)], blame: "input:inputs"),
                    ImpliedSize(
                        "the step caches", [("batch", b), ("timesteps", t), ("G + 3", g + 3), ("units", units)],
                        blame: "input:inputs"),
                    .operations(
                        "the time loop",
                        [
                            ("batch", b), ("timesteps", t), ("G*units", g * units),
                            ("features + units", ImpliedSize.sum(c.dim("features", otherwise: 0), units)),
                        ],
                        blame: "input:inputs"),
                ]
            }
        ).rules([
            .required(["bias"], when: .param("use_bias", [.boolean(true)]), because: "use_bias is true"),
            .unused(["bias"], when: .param("use_bias", [.boolean(false)]), because: "use_bias is false"),
        ])
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let units = try c.int("units")
        let (inputs, mask, masking): (Tensor<T>, Tensor<Bool>?, Tensor<Bool>?) = try KerasLayerConfig.maskedInputs(
            c, inputs: try c.real("inputs"))
        let batch = inputs.shape[0], steps = inputs.shape[1], features = inputs.shape[2]
        if steps == 0, try !c.bool("return_sequences") {
            throw KernelError.input(
                "inputs",
                "inputs has no timesteps (timesteps = 0): without return_sequences the output is the last step's, and there is none"
            )
        }
        let layer = KerasLayerConfig(
            kind: kind, units: units, activation: try c.string("activation"),
            recurrentActivation: kind == .rnn ? nil : try c.string("recurrent_activation"),
            useBias: try c.bool("use_bias"), resetAfter: kind == .gru ? try c.bool("reset_after") : false)
        let (cell, bias): (RecurrentCell<T>, Tensor<T>?) = try layer.cell(
            c, features: features, kernel: "kernel", recurrentKernel: "recurrent_kernel", bias: "bias")

        var h0: Tensor<T>? = nil, c0: Tensor<T>? = nil
        if c.has("initial_state") {
            let states: [Tensor<T>] = try KerasLayerConfig.initialStates(
                c, layers: [layer], batch: batch, layerName: "keras.\(layerName)")
            h0 = states[0]
            if kind == .lstm { c0 = states[1] }
        }
        let backwards = try c.bool("go_backwards"), sequences = try c.bool("return_sequences"),
            withState = try c.bool("return_state")
        let maskedOutput: MaskedStepOutput = try c.bool("zero_output_for_mask") ? .zero : .previous
        let run = runSequence(
            cell, x: inputs.permuted([1, 0, 2]), h0: h0, c0: c0, mask: mask,
            direction: backwards ? .reverse : .forward, maskedOutput: maskedOutput,
            outputsInProcessingOrder: true,
            keepCaches: upstreams.contains(where: c.has))  // caches only for a backward pass
        var out = KernelOutputs()
        let output = sequences ? run.outputs.permuted([1, 0, 2]) : run.outputs.slice(steps - 1)
        out["output"] = .real(output)
        if withState {
            out["state_h"] = .real(run.hLast)
            if kind == .lstm { out["state_c"] = .real(run.cLast!) }
        }

        // Backward, when an upstream gradient is given.
        let upstream = try FrameworkGradients.given(
            c,
            [
                ("output", output), ("state_h", withState ? run.hLast : nil),
                ("state_c", withState ? run.cLast : nil),
            ])
        guard !upstream.isEmpty else { return out }
        out["loss"] = .real(upstreamLoss(upstream))
        // doutput → [timesteps, batch, units] in processing order (only the last position without return_sequences).
        let dOutputs: Tensor<T>? = try c.optionalReal("doutput").map { (d: Tensor<T>) in
            sequences
                ? d.permuted([1, 0, 2])
                : Tensor(
                    shape: [steps, batch, units],
                    scalars: [T](repeating: 0, count: (steps - 1) * batch * units) + d.scalars)
        }
        let grads = try runSequenceBackward(
            cell, run: run, mask: mask, maskedOutput: maskedOutput, outputsInProcessingOrder: true,
            dOutputs: dOutputs, dhLast: try c.optionalReal("dstate_h"), dcLast: try c.optionalReal("dstate_c"))
        out["dinputs"] = .real(KerasLayerConfig.maskingGradient(grads.x.permuted([1, 0, 2]), masking: masking))
        let kernels = grads.cell.kerasKernels
        out["dkernel"] = .real(kernels.kernel)
        out["drecurrent_kernel"] = .real(kernels.recurrentKernel)
        if let bias { out["dbias"] = .real(grads.cell.kerasBias(split: bias.rank == 2)) }
        if c.has("initial_state") {
            out["dinitial_state"] = .real(
                Tensor<T>.stacked([grads.h0] + (grads.c0.map { [$0] } ?? []), innerShape: [batch, units]))
        }
        return out
    }
}
