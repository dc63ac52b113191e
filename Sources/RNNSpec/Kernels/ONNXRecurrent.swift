import RNNKernels

/// `onnx.RNN`, `onnx.LSTM`, `onnx.GRU`: the ONNX operators (opset 22) with their input names,
/// attributes and outputs, over the shared cell core.
struct ONNXRecurrentKernel: Kernel {
    let kind: CellKind
    /// The upstream-gradient inputs: d<output> for each differentiable output.
    var upstreams: [String] { kind == .lstm ? ["dY", "dY_h", "dY_c"] : ["dY", "dY_h"] }

    var opName: String {
        switch kind {
        case .rnn: return "RNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }

    /// The gate blocks of W, R and B: RNN [i], LSTM [i, o, f, c], GRU [z, r, h].
    var gateOrder: [Gate] {
        switch kind {
        case .rnn: return [.a]
        case .lstm: return [.i, .o, .f, .g]
        case .gru: return [.z, .r, .n]
        }
    }

    /// The default activations of one direction.
    var defaultActivations: [String] {
        switch kind {
        case .rnn: return ["Tanh"]
        case .lstm: return ["Sigmoid", "Tanh", "Tanh"]
        case .gru: return ["Sigmoid", "Tanh"]
        }
    }

    var spec: KernelSpec {
        let g = kind.gateCount
        let rows: Dim = g == 1 ? "hidden_size" : Dim("\(g)*hidden_size")
        let ex = { (shape: String, s: Int) in "{random: uniform, shape: \(shape), seed: \(s), low: -0.7, high: 0.7}" }
        var inputs: [InputSpec] = [
            InputSpec(
                "X", shapes: [["?", "?", "input_size"]],
                doc:
                    "[seq_length, batch_size, input_size] (layout 0) or [batch_size, seq_length, input_size] (layout 1)",
                example: "{random: normal, shape: [3, 1, 2], seed: 1}"),
            .real(
                "W", ["num_directions", rows, "input_size"],
                "input weights, gate blocks \(kind == .rnn ? "[i]" : kind == .lstm ? "[i, o, f, c]" : "[z, r, h]")",
                example: ex("[1, \(g), 2]", 2)),
            .real("R", ["num_directions", rows, "hidden_size"], "recurrence weights", example: ex("[1, \(g), 1]", 3)),
            .real(
                "B", ["num_directions", Dim("\(2 * g)*hidden_size")], optional: true,
                "biases [Wb, Rb] concatenated; zeros if absent", example: ex("[1, \(2 * g)]", 4)),
            InputSpec(
                "sequence_lens", .integer, shapes: [["batch_size"]], optional: true,
                doc: "per-sequence lengths in 0...seq_length; all seq_length if absent", example: "[3]"),
            InputSpec(
                "initial_h", shapes: [["?", "?", "hidden_size"]], optional: true,
                doc:
                    "[num_directions, batch_size, hidden_size] (layout 1: [batch_size, num_directions, hidden_size]); zeros if absent",
                example: "[[[0.1]]]"),
        ]
        if kind == .lstm {
            inputs.append(
                InputSpec(
                    "initial_c", shapes: [["?", "?", "hidden_size"]], optional: true,
                    doc: "like initial_h, for the cell state; zeros if absent", example: "[[[0.2]]]"))
            inputs.append(
                .real(
                    "P", ["num_directions", "3*hidden_size"], optional: true, "peepholes [Pi, Po, Pf]; zeros if absent",
                    example: ex("[1, 3]", 5)))
        }
        inputs.append(
            FrameworkGradients.upstream(
                "Y", shapes: [["?", "?", "?", "hidden_size"]], like: "Y (in its layout)",
                example: "[[[[1.0]]], [[[-0.5]]], [[[0.25]]]]"))
        inputs.append(
            FrameworkGradients.upstream("Y_h", shapes: [["?", "?", "hidden_size"]], like: "Y_h", example: "[[[0.5]]]"))
        if kind == .lstm {
            inputs.append(
                FrameworkGradients.upstream(
                    "Y_c", shapes: [["?", "?", "hidden_size"]], like: "Y_c", example: "[[[0.5]]]"))
        }
        var params: [ParamSpec] = [
            ParamSpec(
                "activations", .stringList, optional: true,
                "activation functions, a list ([\(defaultActivations.joined(separator: ", "))] per direction if absent; case-insensitive)"
            ),
            ParamSpec(
                "activation_alpha", .realList, optional: true,
                "alphas, consumed in order by the activations that take one"),
            ParamSpec(
                "activation_beta", .realList, optional: true,
                "betas, consumed in order by the activations that take one"),
            ParamSpec(
                "clip", .real, optional: true, allowsInfinity: true,
                "cell clip threshold: pre-activations clamped to [-clip, clip]; none if absent"),
            ParamSpec(
                "direction", .choice(["forward", "reverse", "bidirectional"]), default: .string("forward"), "direction"),
            ParamSpec(
                "hidden_size", .integer(min: 1, max: 1_000_000_000), optional: true, "hidden_size (checked against R)"),
        ]
        if kind == .lstm {
            params.append(
                ParamSpec(
                    "input_forget", .integer(min: 0, max: 1), default: .integer(0),
                    "couple the input and forget gates (f = 1 − i) if 1"))
        }
        if kind == .gru {
            params.append(
                ParamSpec(
                    "linear_before_reset", .integer(min: 0, max: 1), default: .integer(0),
                    "1: apply the reset gate to (R_h H + Rb_h), after the matmul"))
        }
        params.append(
            ParamSpec(
                "layout", .integer(min: 0, max: 1), default: .integer(0),
                "0: sequence-major; 1: batch-major X, Y, initial_h, Y_h"))
        var outputs: [OutputSpec] = [
            OutputSpec(
                "Y",
                "[seq_length, num_directions, batch_size, hidden_size] (layout 1: [batch_size, seq_length, num_directions, hidden_size])",
                "every step's hidden state; 0 past a sequence's length"
            )
            .time(AxisRule([.init(axis: 1, when: "layout", is: [.integer(1)]), .init(axis: 0)])),
            OutputSpec(
                "Y_h",
                "[num_directions, batch_size, hidden_size] (layout 1: [batch_size, num_directions, hidden_size])",
                "the last hidden state (after each sequence's last real step)"),
        ]
        if kind == .lstm { outputs.append(OutputSpec("Y_c", "like Y_h", "the last cell state")) }
        outputs.append(FrameworkGradients.lossOutput(upstreams))
        outputs += FrameworkGradients.gradientOutputs(
            inputs.filter { $0.kind == .real && !upstreams.contains($0.name) }.map(\.name))
        // dW [D, G*H, I] and dR [D, G*H, H] hold ONNX's gate blocks (LSTM i, o, f, c; GRU z, r, h), dB [D, 2*G*H]
        // the W biases then the R biases, dP [D, 3*H] the peepholes i, o, f.
        if kind != .rnn {
            let letters = kind == .lstm ? ["i", "o", "f", "c"] : ["z", "r", "h"]
            let gates = GateBlocks.names(gateOrder, letters: letters)
            outputs = outputs.map { o in
                switch o.name {
                case "dW", "dR": return o.gates(gates, along: .axis(1))
                case "dB": return o.gates(gates.map { "Wb" + $0 } + gates.map { "Rb" + $0 }, along: .axis(1))
                case "dP":
                    return o.gates(
                        ["p" + GateBlocks.name(.i), "p" + GateBlocks.name(.o), "p" + GateBlocks.name(.f)],
                        along: .axis(1))
                default: return o
                }
            }
        }
        // dX is shaped like X: [seq_length, batch_size, input_size], or batch first with layout 1.
        outputs = outputs.map {
            $0.name == "dX"
                ? $0.time(AxisRule([.init(axis: 1, when: "layout", is: [.integer(1)]), .init(axis: 0)])) : $0
        }
        let eq: String
        switch kind {
        case .rnn: eq = "Ht = f(Xt*(Wi^T) + Ht-1*(Ri^T) + Wbi + Rbi)"
        case .lstm:
            eq = """
                it = f(Xt*(Wi^T) + Ht-1*(Ri^T) + Pi (.) Ct-1 + Wbi + Rbi); ft = f(... + Pf (.) Ct-1 ...); ct = g(...)
                Ct = ft (.) Ct-1 + it (.) ct; ot = f(... + Po (.) Ct ...); Ht = ot (.) h(Ct)
                """
        case .gru:
            eq = """
                zt = f(Xt*(Wz^T) + Ht-1*(Rz^T) + Wbz + Rbz); rt = f(... r ...)
                ht = g(Xt*(Wh^T) + (rt (.) Ht-1)*(Rh^T) + Rbh + Wbh)            (linear_before_reset 0)
                ht = g(Xt*(Wh^T) + (rt (.) (Ht-1*(Rh^T) + Rbh)) + Wbh)          (linear_before_reset 1)
                Ht = (1 - zt) (.) ht + zt (.) Ht-1
                """
        }
        return KernelSpec(
            name: "onnx.\(opName)",
            summary: "The ONNX \(opName) operator (opset 22): its inputs, attributes, defaults and output layouts",
            doc: eq + """

                Activations: Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu,
                Softsign, Softplus; alpha/beta consumed as ONNX Runtime does (in order, by the functions that take them,
                defaults LeakyRelu 0.01, HardSigmoid 0.2/0.5, Elu 1.0, otherwise 0). With direction bidirectional,
                activations lists the forward direction's functions, then the reverse direction's (as ONNX Runtime requires).
                sequence_lens: steps past a sequence's length output 0; Y_h is the state after its last real step
                (the reverse direction starts there). A length of 0 gives Y = 0, Y_h = 0\(kind == .lstm ? " and Y_c = 0" : "")
                for that sequence (not initial_h\(kind == .lstm ? "/initial_c" : "")), as ONNX Runtime does.
                clip clamps every gate pre-activation.
                Backward: given dY (and/or dY_h\(kind == .lstm ? ", dY_c" : "")), loss = Σ dY⊙Y + Σ dY_h⊙Y_h\(kind == .lstm ? " + Σ dY_c⊙Y_c" : "") and
                dX, dW, dR, dinitial_h\(kind == .lstm ? ", dinitial_c" : ""), and dB\(kind == .lstm ? ", dP" : "") when given, in the inputs' layouts.
                At a clip boundary the slope is 1.
                """,
            inputs: inputs, params: params, outputs: outputs, lossOutput: "loss",
            sizes: { c in
                let x = c.shape("X") ?? [], h = c.extent("R", 2, otherwise: 0), d = c.extent("R", 0)
                let x0 = x.count == 3 ? x[0] : 0, x1 = x.count == 3 ? x[1] : 0
                // Either axis of X may be the batch (layout), whose states exist even with no steps.
                return [
                    ImpliedSize(
                        "the states and gates",
                        [("X.shape[0]", x0), ("num_directions", d), ("G + 3", g + 3), ("hidden_size", h)],
                        blame: "input:X"),
                    ImpliedSize(
                        "the states and gates",
                        [("X.shape[1]", x1), ("num_directions", d), ("G + 3", g + 3), ("hidden_size", h)],
                        blame: "input:X"),
                    ImpliedSize("time steps", [("X.shape[0]", x0)], blame: "input:X"),
                    ImpliedSize("time steps", [("X.shape[1]", x1)], blame: "input:X"),
                    ImpliedSize(
                        "output 'Y'",
                        [("X.shape[0]", x0), ("X.shape[1]", x1), ("num_directions", d), ("hidden_size", h)],
                        blame: "input:X"),
                    ImpliedSize(
                        "the step caches",
                        [
                            ("X.shape[0]", x0), ("X.shape[1]", x1), ("num_directions", d), ("G + 3", g + 3),
                            ("hidden_size", h),
                        ],
                        blame: "input:X"),
                    .operations(
                        "the time loop",
                        [
                            ("X.shape[0]", x0), ("X.shape[1]", x1), ("num_directions", d), ("G", g), ("hidden_size", h),
                            ("input_size + hidden_size", ImpliedSize.sum(x.last ?? 0, h)),
                        ], blame: "input:X"),
                ]
            })
    }

    /// The activations of each direction, alpha/beta consumed in ONNX Runtime's order.
    func activations(_ c: KernelContext, directions: Int) throws -> [[CellActivation]] {
        let perDirection = defaultActivations.count
        var names = Array(repeating: defaultActivations, count: directions).flatMap { $0 }
        if let list = try c.optionalStringList("activations") { names = list }
        guard names.count == perDirection * directions else {
            throw KernelError.param(
                "activations",
                "onnx.\(opName) takes \(perDirection) activation(s) per direction (\(perDirection * directions) for \(directions) direction(s)), found \(names.count)"
            )
        }
        var alphas = c.params["activation_alpha"] == nil ? [] : try c.realList(param: "activation_alpha")
        var betas = c.params["activation_beta"] == nil ? [] : try c.realList(param: "activation_beta")
        var acts = [CellActivation]()
        for name in names {
            guard let kind = CellActivation.Kind(rawValue: name.lowercased()) else {
                throw KernelError.param(
                    "activations",
                    "unknown activation '\(name)'; expected one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus"
                )
            }
            let usage = CellActivation.onnxUsage(kind)
            var a = CellActivation(kind)
            if usage.alpha { a.alpha = alphas.isEmpty ? usage.defaultAlpha : alphas.removeFirst() }
            if usage.beta { a.beta = betas.isEmpty ? usage.defaultBeta : betas.removeFirst() }
            acts.append(a)
        }
        return (0..<directions).map { Array(acts[($0 * perDirection)..<(($0 + 1) * perDirection)]) }
    }

    /// `t` [num_directions, batch_size, hidden_size] with the entries of the batch indices where `empty` is true set to 0.
    func zeroingSequences<T: KernelScalar>(_ t: Tensor<T>, _ empty: [Bool]) -> Tensor<T> {
        guard empty.contains(true) else { return t }
        var t = t
        let batch = t.shape[1], hidden = t.shape[2]
        for d in 0..<t.shape[0] {
            for b in 0..<batch where empty[b] {
                for j in 0..<hidden { t.scalars[(d * batch + b) * hidden + j] = 0 }
            }
        }
        return t
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let layout = try c.int("layout")
        let direction = try c.string("direction")
        let d = direction == "bidirectional" ? 2 : 1
        var x: Tensor<T> = try c.real("X")
        if layout == 1 { x = x.permuted([1, 0, 2]) }
        let steps = x.shape[0], batch = x.shape[1]
        let w: Tensor<T> = try c.real("W"), r: Tensor<T> = try c.real("R")
        let g = kind.gateCount
        guard w.shape[0] == d else {
            throw KernelError.input("W", "W has num_directions = \(w.shape[0]) but direction \(direction) needs \(d)")
        }
        let hidden = r.shape[2]
        if let hs = try c.optionalInt("hidden_size"), hs != hidden {
            throw KernelError.param(
                "hidden_size",
                "hidden_size is \(hs) but R has hidden_size \(hidden) ([num_directions, \(g)*hidden_size, hidden_size] = \(r.shape.shapeText))"
            )
        }
        let b: Tensor<T>? = try c.optionalReal("B")
        let p: Tensor<T>? = kind == .lstm ? try c.optionalReal("P") : nil

        func state(_ name: String) throws -> [Tensor<T>?] {
            guard var t: Tensor<T> = try c.optionalReal(name) else { return Array(repeating: nil, count: d) }
            if layout == 1 { t = t.permuted([1, 0, 2]) }
            guard t.shape == [d, batch, hidden] else {
                let expected =
                    layout == 1
                    ? "[batch_size, num_directions, hidden_size] = [\(batch), \(d), \(hidden)]"
                    : "[num_directions, batch_size, hidden_size] = [\(d), \(batch), \(hidden)]"
                throw KernelError.input(
                    name,
                    "\(name) must be \(expected), found \((layout == 1 ? t.permuted([1, 0, 2]) : t).shape.shapeText)")
            }
            return (0..<d).map { t.slice($0) }
        }
        let h0 = try state("initial_h")
        let c0 = kind == .lstm ? try state("initial_c") : Array(repeating: nil, count: d)

        var mask: Tensor<Bool>? = nil
        var empty = [Bool](repeating: false, count: batch)  // sequences of length 0
        if c.has("sequence_lens") {
            let lengths = try c.integers("sequence_lens").scalars
            guard lengths.count == batch else {
                throw KernelError.input(
                    "sequence_lens", "sequence_lens must be [batch_size] = [\(batch)], found [\(lengths.count)]")
            }
            if let bad = lengths.first(where: { $0 < 0 || $0 > steps }) {
                throw KernelError.input(
                    "sequence_lens", "every length must be in 0...seq_length = 0...\(steps), found \(bad)")
            }
            mask = lengthMask(lengths: lengths, steps: steps)
            empty = lengths.map { $0 == 0 }
        }

        let acts = try activations(c, directions: d)
        var clip: Double? = nil
        if let cl = try c.optionalDouble("clip") {
            guard cl > 0 else { throw KernelError.param("clip", "clip must be > 0, found \(cl)") }
            clip = cl
        }
        let directions: [SequenceDirection] =
            direction == "forward" ? [.forward] : direction == "reverse" ? [.reverse] : [.forward, .reverse]
        var runs = [SequenceRun<T>]()
        var cells = [RecurrentCell<T>]()
        for k in 0..<d {
            let a = acts[k]
            let conventions: CellConventions
            switch kind {
            case .rnn:
                conventions = CellConventions(kind: .rnn, gateOrder: gateOrder, candidateActivation: a[0], clip: clip)
            case .lstm:
                conventions = CellConventions(
                    kind: .lstm, gateOrder: gateOrder, gateActivation: a[0], candidateActivation: a[1],
                    outputActivation: a[2], clip: clip, inputForget: try c.int("input_forget") == 1)
            case .gru:
                conventions = CellConventions(
                    kind: .gru, gateOrder: gateOrder, gateActivation: a[0], candidateActivation: a[1], clip: clip,
                    resetPlacement: try c.int("linear_before_reset") == 1 ? .afterMatmul : .beforeMatmul,
                    updateSide: .previous)
            }
            let cell = RecurrentCell(conventions: conventions, parameters: .onnx(w: w, r: r, b: b, p: p, direction: k))
            cells.append(cell)
            // Step caches only for a backward pass.
            let backward = upstreams.contains(where: c.has)
            runs.append(
                runSequence(
                    cell, x: x, h0: h0[k], c0: c0[k], mask: mask, direction: directions[k], maskedOutput: .zero,
                    keepCaches: backward))
        }
        // Y [seq_length, num_directions, batch_size, hidden_size].
        var y = Tensor.stacked(runs.map(\.outputs), innerShape: [steps, batch, hidden]).permuted([1, 0, 2, 3])
        // A sequence of length 0 has Y_h = 0 (and Y_c = 0) in ONNX Runtime, not its initial state.
        var yh = zeroingSequences(Tensor.stacked(runs.map(\.hLast), innerShape: [batch, hidden]), empty)
        var yc =
            kind == .lstm
            ? zeroingSequences(Tensor.stacked(runs.map { $0.cLast! }, innerShape: [batch, hidden]), empty) : nil
        if layout == 1 {
            y = y.permuted([2, 0, 1, 3])
            yh = yh.permuted([1, 0, 2])
            yc = yc?.permuted([1, 0, 2])
        }
        var out = KernelOutputs()
        out["Y"] = .real(y)
        out["Y_h"] = .real(yh)
        if let yc { out["Y_c"] = .real(yc) }

        // Backward, when an upstream gradient is given: each direction in layout 0.
        let upstream = try FrameworkGradients.given(c, [("Y", y), ("Y_h", yh), ("Y_c", yc)])
        guard !upstream.isEmpty else { return out }
        out["loss"] = .real(upstreamLoss(upstream))
        // dY → [num_directions, seq_length, batch_size, hidden_size]; dY_h, dY_c → [num_directions, batch_size, hidden_size].
        let dY: Tensor<T>? = try c.optionalReal("dY").map {
            (layout == 1 ? $0.permuted([1, 2, 0, 3]) : $0).permuted([1, 0, 2, 3])
        }
        // Y_h, Y_c of a length-0 sequence are constant 0: its dY_h, dY_c reach nothing (not initial_h, initial_c).
        func perDirection(_ name: String) throws -> Tensor<T>? {
            try c.optionalReal(name).map { zeroingSequences(layout == 1 ? $0.permuted([1, 0, 2]) : $0, empty) }
        }
        let dYh = try perDirection("dY_h"), dYc = try perDirection("dY_c")
        let grads = try (0..<d).map { k in
            try runSequenceBackward(
                cells[k], run: runs[k], mask: mask, maskedOutput: .zero,
                dOutputs: dY?.slice(k), dhLast: dYh?.slice(k), dcLast: dYc?.slice(k))
        }
        var dX = grads[0].x
        for g in grads.dropFirst() { for e in 0..<dX.count { dX.scalars[e] += g.x.scalars[e] } }
        func inLayout(_ t: Tensor<T>) -> Tensor<T> { layout == 1 ? t.permuted([1, 0, 2]) : t }
        out["dX"] = .real(inLayout(dX))
        let weights = CellGradients.onnx(grads.map(\.cell))
        out["dW"] = .real(weights.w)
        out["dR"] = .real(weights.r)
        if b != nil { out["dB"] = .real(weights.b) }
        if p != nil { out["dP"] = .real(weights.p) }
        out["dinitial_h"] = .real(inLayout(Tensor.stacked(grads.map(\.h0), innerShape: [batch, hidden])))
        if kind == .lstm {
            out["dinitial_c"] = .real(inLayout(Tensor.stacked(grads.map { $0.c0! }, innerShape: [batch, hidden])))
        }
        return out
    }
}
