import RNNKernels

/// `flax.LSTMCell`, `flax.OptimizedLSTMCell`, `flax.GRUCell`, `flax.SimpleCell`: Flax's recurrent cells
/// inside its `RNN` or `Bidirectional` wrapper, with the parameter paths of the wrapper's state
/// (NNX, the default, or linen, whose cells name and group their parameters differently), over
/// the shared cell core.
struct FlaxRecurrentKernel: Kernel {
    enum CellName: String, CaseIterable {
        case lstm = "LSTMCell", optimizedLSTM = "OptimizedLSTMCell", gru = "GRUCell", simple = "SimpleCell"

        var kind: CellKind {
            switch self {
            case .lstm, .optimizedLSTM: return .lstm
            case .gru: return .gru
            case .simple: return .rnn
            }
        }
    }

    enum API: String, CaseIterable { case nnx, linen }

    /// Which side of the cell a parameter belongs to.
    enum Side { case input, recurrent }

    /// One parameter of a cell: its path inside the cell (`ii.kernel`), its side, whether it is a
    /// kernel (in, k*H) or a bias (k*H), and the first of the k consecutive gate blocks it covers.
    struct Slot {
        let path: String
        let side: Side
        let isKernel: Bool
        let firstBlock: Int
        let blocks: Int
    }

    let cell: CellName
    var kind: CellKind { cell.kind }

    static let upstreams = ["doutputs", "dcarry"]

    /// The parameters of the cell as `nnx.state` (NNX) or the `params` collection (linen) holds them,
    /// gate blocks in the order LSTM i, f, g, o; GRU r, z, n.
    static func slots(_ cell: CellName, _ api: API) -> [Slot] {
        func perGate(_ names: [String], _ side: Side, kernel: Bool) -> [Slot] {
            names.enumerated().map {
                Slot(path: $0.element, side: side, isKernel: kernel, firstBlock: $0.offset, blocks: 1)
            }
        }
        switch (cell, api) {
        case (.lstm, _), (.optimizedLSTM, .linen):
            // Input Dense layers have no bias; the recurrent ones do (their sum needs only one).
            let ins = ["ii", api == .nnx ? "if_" : "if", "ig", "io"], hs = ["hi", "hf", "hg", "ho"]
            return perGate(ins.map { $0 + ".kernel" }, .input, kernel: true)
                + perGate(hs.map { $0 + ".kernel" }, .recurrent, kernel: true)
                + perGate(hs.map { $0 + ".bias" }, .recurrent, kernel: false)
        case (.optimizedLSTM, .nnx):
            return [
                Slot(path: "dense_i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 4),
                Slot(path: "dense_h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 4),
                Slot(path: "dense_h.bias", side: .recurrent, isKernel: false, firstBlock: 0, blocks: 4),
            ]
        case (.gru, .nnx):
            // No recurrent bias at all: W_hn h enters r ⊙ (W_hn h) without one.
            return [
                Slot(path: "dense_i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 3),
                Slot(path: "dense_i.bias", side: .input, isKernel: false, firstBlock: 0, blocks: 3),
                Slot(path: "dense_h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 3),
            ]
        case (.gru, .linen):
            return perGate(["ir.kernel", "iz.kernel", "in.kernel"], .input, kernel: true)
                + perGate(["ir.bias", "iz.bias", "in.bias"], .input, kernel: false)
                + perGate(["hr.kernel", "hz.kernel", "hn.kernel"], .recurrent, kernel: true)
                + [Slot(path: "hn.bias", side: .recurrent, isKernel: false, firstBlock: 2, blocks: 1)]
        case (.simple, .nnx):
            return [
                Slot(path: "dense_i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 1),
                Slot(path: "dense_i.bias", side: .input, isKernel: false, firstBlock: 0, blocks: 1),
                Slot(path: "dense_h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 1),
            ]
        case (.simple, .linen):
            return [
                Slot(path: "i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 1),
                Slot(path: "i.bias", side: .input, isKernel: false, firstBlock: 0, blocks: 1),
                Slot(path: "h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 1),
            ]
        }
    }

    /// The path prefixes of the cells in the wrapper's state: `cell.` (RNN), `forward_rnn.cell.` and
    /// `backward_rnn.cell.` (Bidirectional).
    static let prefixes = ["cell.", "forward_rnn.cell.", "backward_rnn.cell."]

    static let activationNames = ["tanh", "sigmoid", "relu", "softsign", "softplus", "elu", "hard_sigmoid", "identity"]

    static func activation(_ name: String) -> CellActivation {
        switch name {
        case "identity": return .identity
        case "hard_sigmoid": return CellActivation(.hardsigmoid, alpha: 1.0 / 6.0, beta: 0.5)  // relu6(x + 3) / 6
        case "elu": return CellActivation(.elu, alpha: 1)
        default: return CellActivation(CellActivation.Kind(rawValue: name)!)
        }
    }

    var spec: KernelSpec {
        let g = kind.gateCount
        let ex = { (shape: String, s: Int) in "{random: uniform, shape: \(shape), seed: \(s), low: -0.7, high: 0.7}" }
        var inputs: [InputSpec] = [
            InputSpec(
                "inputs", shapes: [["?", "?", "in_features"], ["T", "in_features"]],
                doc:
                    "inputs: (batch, time, in_features), (time, batch, in_features) with time_major, or (time, in_features) without a batch axis",
                example: "{random: normal, shape: [1, 3, 1], seed: 1}"),
            InputSpec(
                "initial_carry", shapes: [],
                optional: true,
                doc: "initial_carry: "
                    + (kind == .lstm
                        ? "the tuple (c, h) stacked, (2, batch, hidden_features)" : "(batch, hidden_features)")
                    + "; with Bidirectional the pair (forward, backward) stacked in front; the cell's initialize_carry (zeros) if absent",
                example: kind == .lstm ? "[[[0.1]], [[0.2]]]" : "[[0.1]]"),
            InputSpec(
                "seq_lengths", .integer, shapes: [["?"], []], optional: true,
                doc:
                    "seq_lengths (batch,): steps past a length still run (their outputs are not zeroed); the carry is the one after step length−1 "
                    + "(0 wraps to the last step, as Flax indexes); reverse flips each sequence within its length",
                example: "[3]"),
        ]
        var seen = Set<String>()
        let slotsByAPI = API.allCases.map { (api: $0, slots: Self.slots(cell, $0)) }
        for (k, prefix) in Self.prefixes.enumerated() {
            for (api, apiSlots) in slotsByAPI {
                for slot in apiSlots where !seen.contains(prefix + slot.path) {
                    let name = prefix + slot.path
                    seen.insert(name)
                    let cols: Dim = slot.blocks == 1 ? "hidden_features" : Dim("\(slot.blocks)*hidden_features")
                    let shape: Shape =
                        slot.isKernel ? [slot.side == .input ? "in_features" : "hidden_features", cols] : [cols]
                    let exShape = slot.isKernel ? "[1, \(slot.blocks)]" : "[\(slot.blocks)]"
                    let apis = slotsByAPI.filter { $0.slots.contains { $0.path == slot.path } }.map(\.api.rawValue)
                    let doc =
                        "\(name): \(slot.side == .input ? "input" : "recurrent") Dense \(slot.isKernel ? "kernel (in, out)" : "bias")"
                        + (slot.blocks == 1 && g > 1
                            ? ", gate \(CellConventions.defaultOrder(kind)[slot.firstBlock].rawValue)"
                            : slot.blocks > 1
                                ? ", column blocks \(CellConventions.defaultOrder(kind).map(\.rawValue))" : "")
                        + " (\(apis.joined(separator: ", "))\(k == 0 ? ", wrapper RNN" : ", wrapper Bidirectional"))"
                    let inSkeleton = k == 0 && api == .nnx
                    inputs.append(
                        InputSpec(
                            name, .real, shapes: [shape], optional: true, doc: doc,
                            example: ex(exShape, 10 * (k + 1) + inputs.count)
                        ).inSkeleton(inSkeleton))
                }
            }
        }
        inputs.append(
            FrameworkGradients.upstream(
                "outputs", shapes: [["?", "?", "?"], ["?", "?"]], like: "outputs",
                example: "[[[1.0], [-0.5], [0.25]]]"))
        inputs.append(
            InputSpec(
                "dcarry", shapes: [], optional: true,
                doc:
                    "upstream gradient dL/dcarry, shaped like carry (with return_carry); with it the kernel reports loss and the gradients",
                example: kind == .lstm ? "[[[0.5]], [[0.5]]]" : "[[0.5]]"))
        var params: [ParamSpec] = [
            ParamSpec("in_features", .integer(min: 0, max: 1_000_000_000), "in_features"),
            ParamSpec("hidden_features", .integer(min: 1, max: 1_000_000_000), "hidden_features"),
            ParamSpec(
                "api", .choice(API.allCases.map(\.rawValue)), default: .string("nnx"),
                "nnx (flax.nnx, Flax 0.12) or linen (flax.linen): the parameter names and grouping"),
            ParamSpec(
                "wrapper", .choice(["RNN", "Bidirectional"]), default: .string("RNN"),
                "RNN(cell) or Bidirectional(RNN(cell), RNN(cell)) (merge_fn concatenate: forward ‖ backward)"),
            ParamSpec(
                "time_major", .boolean, default: .boolean(false), "time_major: inputs and outputs are (time, batch, ·)"),
            ParamSpec("return_carry", .boolean, default: .boolean(false), "return_carry: also return the final carry"),
            ParamSpec(
                "reverse", .boolean, default: .boolean(false),
                "reverse (RNN): read each sequence backwards (within its length); outputs in that order"),
            ParamSpec(
                "keep_order", .boolean, default: .boolean(false),
                "keep_order (RNN, with reverse): flip the outputs back to time order"),
        ]
        if kind != .rnn {
            params.append(
                ParamSpec("gate_fn", .choice(Self.activationNames), default: .string("sigmoid"), "gate_fn: the gates"))
        }
        params.append(
            ParamSpec(
                "activation_fn", .choice(Self.activationNames), default: .string("tanh"),
                kind == .lstm
                    ? "activation_fn: the candidate g and the output tanh(c)"
                    : kind == .gru ? "activation_fn: the candidate n" : "activation_fn"))
        if kind == .rnn {
            params.append(
                ParamSpec("residual", .boolean, default: .boolean(false), "residual: h' = act(x·W_i + b_i + h·W_h + h)")
            )
        }
        let carryShape = kind == .lstm ? "(2, batch, hidden_features) = (c, h)" : "(batch, hidden_features)"
        var outputs: [OutputSpec] = [
            OutputSpec(
                "outputs",
                "(batch, time, hidden_features), time-major or without a batch axis like inputs; 2*hidden_features with Bidirectional",
                "every step's output h, padding steps included"),
            OutputSpec(
                "carry", "\(carryShape); (2, …) = (forward, backward) with Bidirectional", optional: true,
                "the final carry (with return_carry): after step seq_length−1 with seq_lengths"),
        ]
        outputs.append(FrameworkGradients.lossOutput(Self.upstreams))
        outputs += FrameworkGradients.gradientOutputs(
            inputs.filter { $0.kind == .real && !Self.upstreams.contains($0.name) }.map(\.name))
        let eq: String
        switch kind {
        case .rnn: eq = "h' = activation_fn(x·W_i + b_i + h·W_h (+ h with residual))"
        case .lstm:
            eq = """
                i, f, o = gate_fn(x·W_ik + h·W_hk + b_hk), g = activation_fn(x·W_ig + h·W_hg + b_hg); c' = f⊙c + i⊙g; h' = o⊙activation_fn(c'); carry (c, h)
                """
        case .gru:
            eq = """
                r, z = gate_fn(x·W_ir + b_ir + h·W_hr), gate_fn(x·W_iz + b_iz + h·W_hz); n = activation_fn(x·W_in + b_in + r⊙(h·W_hn (+ b_hn in linen)))
                h' = (1−z)⊙n + z⊙h
                """
        }
        return KernelSpec(
            name: "flax.\(cell.rawValue)",
            summary:
                "flax \(cell.rawValue) in RNN or Bidirectional (NNX or linen): parameter paths, carry, reverse, keep_order, seq_lengths",
            doc: eq + """

                Kernels are (in, out) Dense kernels (the transposes of PyTorch's weights). Parameters are named by their path in the
                wrapper's state: cell.<path> (RNN), forward_rnn.cell.<path> and backward_rnn.cell.<path> (Bidirectional, whose backward
                RNN runs with reverse and keep_order). With seq_lengths, padding steps run on (outputs not zeroed) and the carry is the
                one after each sequence's last real step; reverse flips each sequence within its length, padding staying at the end.
                Backward: given doutputs and/or dcarry, loss = Σ doutputs⊙outputs + Σ dcarry⊙carry and d<path> for every parameter,
                dinputs and dinitial_carry (when given), as jax.grad gives them.
                """,
            inputs: inputs, params: params, outputs: outputs, lossOutput: "loss",
            sizes: { c in
                let x = c.shape("inputs") ?? []
                let rows = x.dropLast().enumerated().map { ("inputs.shape[\($0.offset)]", $0.element) }
                let steps = x.count >= 2 ? x.dropLast().max()! : 0
                let d = try c.string("wrapper") == "Bidirectional" ? 2 : 1, hidden = try c.int("hidden_features")
                return [
                    ImpliedSize("time steps", [("T", steps)], blame: "input:inputs"),
                    ImpliedSize(
                        "output 'outputs'", rows + [("D", d), ("hidden_features", hidden)], blame: "input:inputs"),
                    ImpliedSize(
                        "the step caches", rows + [("D", d), ("G + 3", g + 3), ("hidden_features", hidden)],
                        blame: "input:inputs"),
                    .operations(
                        "the time loop",
                        rows + [
                            ("D", d), ("G*hidden_features", g * hidden),
                            ("in_features + hidden_features", ImpliedSize.sum(x.last ?? 0, hidden)),
                        ], blame: "input:inputs"),
                ]
            })
    }
}
