import RNNKernels

/// `keras.layers.Bidirectional` (Keras 3) around `SimpleRNN`, `LSTM` or `GRU`: a forward layer and a
/// backward layer (`go_backwards=True`) over the same sequence, merged by `merge_mode`.
struct KerasBidirectionalKernel: Kernel {
    static let layers = ["SimpleRNN", "LSTM", "GRU"]
    static let mergeModes = ["concat", "sum", "mul", "ave", "None"]
    static let sides = ["forward", "backward"]
    /// The upstream-gradient inputs: d<output> for each differentiable output.
    static let upstreams = [
        "doutput", "dforward_output", "dbackward_output", "dforward_state_h", "dforward_state_c",
        "dbackward_state_h", "dbackward_state_c",
    ]

    static func kind(_ layer: String) -> CellKind {
        switch layer {
        case "SimpleRNN": return .rnn
        case "LSTM": return .lstm
        default: return .gru
        }
    }

    var spec: KernelSpec {
        let ex = { (shape: String, s: Int) in "{random: uniform, shape: \(shape), seed: \(s), low: -0.7, high: 0.7}" }
        var inputs: [InputSpec] = [
            InputSpec(
                "inputs", shapes: [["batch", "timesteps", "features"]], doc: "(batch, timesteps, features)",
                example: "{random: normal, shape: [1, 3, 2], seed: 1}")
        ]
        for (k, side) in Self.sides.enumerated() {
            let path =
                k == 0
                ? "<name>/forward_<layer>/<layer>_cell"
                : "<name>/backward_<layer>/<layer>_cell (a backward_layer of its own keeps its own name)"
            inputs += [
                .real(
                    "\(side)_kernel", ["features", "?"],
                    "the \(side) layer's kernel (features, G*units), Keras path \(path)/kernel",
                    example: ex("[2, 1]", 2 + 10 * k)),
                .real(
                    "\(side)_recurrent_kernel", ["?", "?"], "the \(side) layer's recurrent_kernel (units, G*units)",
                    example: ex("[1, 1]", 3 + 10 * k)),
                InputSpec(
                    "\(side)_bias", shapes: [["?"], ["2", "?"]], optional: true,
                    doc:
                        "the \(side) layer's bias (with use_bias): (G*units,), or (2, 3*units) for a GRU with reset_after",
                    example: ex("[1]", 4 + 10 * k)
                ).inSkeleton(),
            ]
        }
        inputs.append(
            InputSpec(
                "initial_state", .realList, shapes: [], optional: true,
                doc:
                    "initial_state: the forward layer's states then the backward layer's ([h_f, h_b], or [h_f, c_f, h_b, c_b] for LSTM), each (batch, units); zeros if absent",
                example: "[[[0.1]], [[0.2]]]"))
        inputs.append(
            InputSpec(
                "mask", .boolean, shapes: [["batch", "timesteps"]], optional: true,
                doc: "mask (batch, timesteps), passed to both layers", example: "[[true, true, false]]"))
        inputs += [
            FrameworkGradients.upstream(
                "output", shapes: [["batch", "?"], ["batch", "timesteps", "?"]], like: "output", example: "[[1.0]]"),
            FrameworkGradients.upstream(
                "forward_output", shapes: [["batch", "?"], ["batch", "timesteps", "?"]],
                like: "forward_output (merge_mode None)", example: "[[1.0]]"),
            FrameworkGradients.upstream(
                "backward_output", shapes: [["batch", "?"], ["batch", "timesteps", "?"]],
                like: "backward_output (merge_mode None)", example: "[[1.0]]"),
        ]
        for side in Self.sides {
            for s in ["h", "c"] {
                inputs.append(
                    FrameworkGradients.upstream(
                        "\(side)_state_\(s)", shapes: [["batch", "?"]],
                        like: "\(side)_state_\(s) (with return_state\(s == "c" ? ", LSTM" : ""))", example: "[[0.5]]"))
            }
        }
        var params: [ParamSpec] = [
            ParamSpec("layer", .choice(Self.layers), "the wrapped layer: keras.layers.SimpleRNN, LSTM or GRU"),
            ParamSpec("units", .integer(min: 1, max: 1_000_000_000), "the wrapped layer's units"),
            ParamSpec(
                "activation", .choice(KerasRecurrentKernel.activationNames), default: .string("tanh"),
                "the wrapped layer's activation"),
            ParamSpec(
                "recurrent_activation", .choice(KerasRecurrentKernel.activationNames), optional: true,
                "LSTM and GRU: recurrent_activation (the gates; sigmoid if absent)"),
            ParamSpec("use_bias", .boolean, default: .boolean(true), "use_bias"),
            ParamSpec("reset_after", .boolean, optional: true, "GRU: reset_after (true if absent)"),
            ParamSpec("return_sequences", .boolean, default: .boolean(false), "return_sequences (of both layers)"),
            ParamSpec("return_state", .boolean, default: .boolean(false), "return_state (of both layers)"),
            ParamSpec(
                "merge_mode", .choice(Self.mergeModes), default: .string("concat"),
                "merge_mode: concat [forward ‖ backward], sum, mul, ave, or None (two outputs, forward_output and backward_output)"
            ),
        ]
        for name in ["units", "activation", "recurrent_activation", "use_bias", "reset_after"] {
            let p = params.first { $0.name == name }!
            params.append(
                ParamSpec(
                    "backward_" + name, p.type, optional: true,
                    "a backward_layer of its own (same class, go_backwards=True): its \(name) (the forward layer's if absent)"
                ))
        }
        params.append(KerasLayerConfig.maskValueParam)
        var outputs: [OutputSpec] = [
            OutputSpec(
                "output",
                "(batch, M), or (batch, timesteps, M) with return_sequences; M = units_f + units_b for concat, units otherwise",
                optional: true, "the merged output (merge_mode not None)"),
            OutputSpec(
                "forward_output", "(batch, units_f), or (batch, timesteps, units_f)", optional: true,
                "merge_mode None: the forward layer's output"),
            OutputSpec(
                "backward_output", "(batch, units_b), or (batch, timesteps, units_b)", optional: true,
                "merge_mode None: the backward layer's output, in time order with return_sequences"),
        ]
        for side in Self.sides {
            outputs.append(
                OutputSpec(
                    "\(side)_state_h", "(batch, units)", optional: true,
                    "the \(side) layer's final h (with return_state)"))
            outputs.append(
                OutputSpec(
                    "\(side)_state_c", "(batch, units)", optional: true,
                    "LSTM: the \(side) layer's final c (with return_state)"))
        }
        outputs.append(FrameworkGradients.lossOutput(Self.upstreams))
        outputs += FrameworkGradients.gradientOutputs(
            ["inputs"] + Self.sides.flatMap { ["\($0)_kernel", "\($0)_recurrent_kernel", "\($0)_bias"] })
        outputs.append(
            OutputSpec(
                "dinitial_state", "(S, batch, units)", optional: true,
                "dloss/dinitial_state, the states' gradients stacked in initial_state's order (with an upstream gradient and initial_state, when all states have the same units)"
            ))
        return KernelSpec(
            name: "keras.Bidirectional",
            summary:
                "keras.layers.Bidirectional (Keras 3) around SimpleRNN, LSTM or GRU: merge modes, a backward_layer of its own, states, masks",
            doc: """
                y_f = forward layer over inputs; y_b = backward layer (go_backwards=True) over inputs, its sequence flipped
                back to time order with return_sequences (without, its output is the one after reading the whole sequence
                backwards, at t = 0). merge_mode concat: [y_f ‖ y_b]; sum: y_f + y_b; mul: y_f ⊙ y_b; ave: (y_f + y_b)/2;
                None: forward_output = y_f, backward_output = y_b. return_state adds the forward layer's states, then the
                backward layer's (Keras' order: [output, h_f, (c_f,) h_b, (c_b)]). initial_state is split in half the same way.
                Both layers get the mask; Bidirectional sets zero_output_for_mask = return_sequences on both, so masked steps
                output 0 with return_sequences (mask_value: a Masking layer in front, as in keras.LSTM). The weights are the forward layer's then the backward layer's, each laid out as
                in keras.\\(Self.layers.joined(separator: "/keras.")) (kernel (features, G*units), blocks LSTM i, f, c, o, GRU z, r, h).
                Backward: loss = Σ upstream⊙output over the upstream gradients given (named after the outputs), and d<input>
                for inputs, both layers' weights and initial_state.
                """,
            inputs: inputs, params: params, outputs: outputs, lossOutput: "loss",
            sizes: { c in
                let b = c.dim("batch", otherwise: 0), t = c.dim("timesteps", otherwise: 0)
                let units = try c.int("units"), bu = try c.optionalInt("backward_units") ?? units
                let g = Self.kind(try c.string("layer")).gateCount, u = max(units, bu)
                return [
                    ImpliedSize("time steps", [("timesteps", t)], blame: "input:inputs"),
                    ImpliedSize(
                        "the states and gates", [("batch", b), ("2 directions", 2), ("G + 3", g + 3), ("units", u)],
                        blame: "input:inputs"),
                    ImpliedSize(
                        "output 'output'", [("batch", b), ("timesteps", t), ("2 directions", 2), ("units", u)],
                        blame: "input:inputs"),
                    ImpliedSize(
                        "the step caches",
                        [("batch", b), ("timesteps", t), ("2 directions", 2), ("G + 3", g + 3), ("units", u)],
                        blame: "input:inputs"),
                    .operations(
                        "the time loop",
                        [
                            ("batch", b), ("timesteps", t), ("2 directions", 2), ("G*units", g * u),
                            ("features + units", ImpliedSize.sum(c.dim("features", otherwise: 0), u)),
                        ], blame: "input:inputs"),
                ]
            })
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let layer = try c.string("layer"), kind = Self.kind(layer)
        func optionalBool(_ name: String) throws -> Bool? { c.params[name] == nil ? nil : try c.bool(name) }
        for name in ["recurrent_activation", "backward_recurrent_activation"]
        where kind == .rnn && c.params[name] != nil {
            throw KernelError.param(name, "keras.layers.SimpleRNN has no recurrent_activation")
        }
        for name in ["reset_after", "backward_reset_after"] where kind != .gru && c.params[name] != nil {
            throw KernelError.param(name, "only keras.layers.GRU has reset_after")
        }
        let forward = KerasLayerConfig(
            kind: kind, units: try c.int("units"), activation: try c.string("activation"),
            recurrentActivation: kind == .rnn ? nil : try c.optionalString("recurrent_activation") ?? "sigmoid",
            useBias: try c.bool("use_bias"), resetAfter: try optionalBool("reset_after") ?? true)
        let backward = KerasLayerConfig(
            kind: kind, units: try c.optionalInt("backward_units") ?? forward.units,
            activation: try c.optionalString("backward_activation") ?? forward.activation,
            recurrentActivation: kind == .rnn
                ? nil : try c.optionalString("backward_recurrent_activation") ?? forward.recurrentActivation,
            useBias: try optionalBool("backward_use_bias") ?? forward.useBias,
            resetAfter: try optionalBool("backward_reset_after") ?? forward.resetAfter)
        let mergeMode = try c.string("merge_mode")
        if mergeMode != "concat" && mergeMode != "None" && forward.units != backward.units {
            throw KernelError.param(
                "backward_units",
                "merge_mode \(mergeMode) combines the two outputs element by element: both layers need the same units, found \(forward.units) and \(backward.units)"
            )
        }
        let (inputs, mask, masking): (Tensor<T>, Tensor<Bool>?, Tensor<Bool>?) = try KerasLayerConfig.maskedInputs(
            c, inputs: try c.real("inputs"))
        let batch = inputs.shape[0], steps = inputs.shape[1], features = inputs.shape[2]
        let sequences = try c.bool("return_sequences"), withState = try c.bool("return_state")
        if steps == 0 && !sequences {
            throw KernelError.input(
                "inputs",
                "inputs has no timesteps (timesteps = 0): without return_sequences the output is the last step's, and there is none"
            )
        }
        let configs = [forward, backward]
        var cells = [RecurrentCell<T>](), biases = [Tensor<T>?]()
        for (side, config) in zip(Self.sides, configs) {
            let (cell, bias): (RecurrentCell<T>, Tensor<T>?) = try config.cell(
                c, features: features, kernel: "\(side)_kernel",
                recurrentKernel: "\(side)_recurrent_kernel", bias: "\(side)_bias")
            cells.append(cell)
            biases.append(bias)
        }
        var h0: [Tensor<T>?] = [nil, nil], c0: [Tensor<T>?] = [nil, nil]
        if c.has("initial_state") {
            let states: [Tensor<T>] = try KerasLayerConfig.initialStates(
                c, layers: configs, batch: batch, layerName: "keras.Bidirectional(\(layer))")
            let n = forward.stateCount
            for k in 0..<2 {
                h0[k] = states[k * n]
                if kind == .lstm { c0[k] = states[k * n + 1] }
            }
        }
        let maskedOutput: MaskedStepOutput = sequences ? .zero : .previous
        let x = inputs.permuted([1, 0, 2])
        let keepCaches = Self.upstreams.contains(where: c.has)
        let runs = (0..<2).map { k in
            runSequence(
                cells[k], x: x, h0: h0[k], c0: c0[k], mask: mask, direction: k == 0 ? .forward : .reverse,
                maskedOutput: maskedOutput, keepCaches: keepCaches)
        }
        // Each layer's output in Keras' form: the whole sequence in time order, or the last step read
        // (t = T−1 forward, t = 0 backward).
        let ys: [Tensor<T>] = (0..<2).map { k in
            sequences ? runs[k].outputs.permuted([1, 0, 2]) : runs[k].outputs.slice(k == 0 ? steps - 1 : 0)
        }
        var out = KernelOutputs()
        var merged: Tensor<T>? = nil
        switch mergeMode {
        case "None":
            out["forward_output"] = .real(ys[0])
            out["backward_output"] = .real(ys[1])
        case "concat":
            merged = concatenatedLastAxis(ys)
        default:
            let a = ys[0].scalars, b = ys[1].scalars
            let s: [T] = (0..<a.count).map { e in
                switch mergeMode {
                case "sum": return a[e] + b[e]
                case "mul": return a[e] * b[e]
                default: return (a[e] + b[e]) / 2
                }
            }
            merged = Tensor(shape: ys[0].shape, scalars: s)
        }
        if let merged { out["output"] = .real(merged) }
        if withState {
            for (k, side) in Self.sides.enumerated() {
                out["\(side)_state_h"] = .real(runs[k].hLast)
                if kind == .lstm { out["\(side)_state_c"] = .real(runs[k].cLast!) }
            }
        }

        // Backward, when an upstream gradient is given.
        var named: [(String, Tensor<T>?)] = [
            ("output", merged), ("forward_output", merged == nil ? ys[0] : nil),
            ("backward_output", merged == nil ? ys[1] : nil),
        ]
        for (k, side) in Self.sides.enumerated() {
            named.append(("\(side)_state_h", withState ? runs[k].hLast : nil))
            named.append(("\(side)_state_c", withState ? runs[k].cLast : nil))
        }
        let upstream = try FrameworkGradients.given(c, named.map { (name: $0.0, value: $0.1) })
        guard !upstream.isEmpty else { return out }
        out["loss"] = .real(upstreamLoss(upstream))
        // dy_f, dy_b in each layer's output shape.
        var dys: [Tensor<T>?] = [nil, nil]
        if merged != nil {
            if let d: Tensor<T> = try c.optionalReal("doutput") {
                switch mergeMode {
                case "concat":
                    let parts = splitLastAxis(d, widths: [forward.units, backward.units])
                    dys = [parts[0], parts[1]]
                case "mul":
                    dys = [
                        Tensor(shape: d.shape, scalars: zip(d.scalars, ys[1].scalars).map { $0 * $1 }),
                        Tensor(shape: d.shape, scalars: zip(d.scalars, ys[0].scalars).map { $0 * $1 }),
                    ]
                case "ave":
                    let half = Tensor(shape: d.shape, scalars: d.scalars.map { $0 / 2 })
                    dys = [half, half]
                default:
                    dys = [d, d]
                }
            }
        } else {
            dys = [try c.optionalReal("dforward_output"), try c.optionalReal("dbackward_output")]
        }
        var dx = [T](repeating: 0, count: steps * batch * features)
        var dStates = [Tensor<T>]()
        for (k, side) in Self.sides.enumerated() {
            let units = configs[k].units
            // dy → [timesteps, batch, units] in time order (only the step read last without return_sequences).
            let dOutputs: Tensor<T>? = dys[k].map { d in
                if sequences { return d.permuted([1, 0, 2]) }
                var full = [T](repeating: 0, count: steps * batch * units)
                let t = k == 0 ? steps - 1 : 0
                full.replaceSubrange((t * batch * units)..<((t + 1) * batch * units), with: d.scalars)
                return Tensor(shape: [steps, batch, units], scalars: full)
            }
            let grads = try runSequenceBackward(
                cells[k], run: runs[k], mask: mask, maskedOutput: maskedOutput,
                dOutputs: dOutputs, dhLast: try c.optionalReal("d\(side)_state_h"),
                dcLast: try c.optionalReal("d\(side)_state_c"))
            for e in 0..<dx.count { dx[e] += grads.x.scalars[e] }
            let kernels = grads.cell.kerasKernels
            out["d\(side)_kernel"] = .real(kernels.kernel)
            out["d\(side)_recurrent_kernel"] = .real(kernels.recurrentKernel)
            if let bias = biases[k] { out["d\(side)_bias"] = .real(grads.cell.kerasBias(split: bias.rank == 2)) }
            dStates.append(grads.h0)
            if let dc = grads.c0 { dStates.append(dc) }
        }
        out["dinputs"] = .real(
            KerasLayerConfig.maskingGradient(
                Tensor(shape: [steps, batch, features], scalars: dx).permuted([1, 0, 2]), masking: masking))
        if c.has("initial_state") && forward.units == backward.units {
            out["dinitial_state"] = .real(Tensor<T>.stacked(dStates, innerShape: [batch, forward.units]))
        }
        return out
    }
}
