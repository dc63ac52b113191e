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
            names.enumerated().map { Slot(path: $0.element, side: side, isKernel: kernel, firstBlock: $0.offset, blocks: 1) }
        }
        switch (cell, api) {
        case (.lstm, _), (.optimizedLSTM, .linen):
            // Input Dense layers have no bias; the recurrent ones do (their sum needs only one).
            let ins = ["ii", api == .nnx ? "if_" : "if", "ig", "io"], hs = ["hi", "hf", "hg", "ho"]
            return perGate(ins.map { $0 + ".kernel" }, .input, kernel: true) + perGate(hs.map { $0 + ".kernel" }, .recurrent, kernel: true)
                + perGate(hs.map { $0 + ".bias" }, .recurrent, kernel: false)
        case (.optimizedLSTM, .nnx):
            return [Slot(path: "dense_i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 4),
                    Slot(path: "dense_h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 4),
                    Slot(path: "dense_h.bias", side: .recurrent, isKernel: false, firstBlock: 0, blocks: 4)]
        case (.gru, .nnx):
            // No recurrent bias at all: W_hn h enters r ⊙ (W_hn h) without one.
            return [Slot(path: "dense_i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 3),
                    Slot(path: "dense_i.bias", side: .input, isKernel: false, firstBlock: 0, blocks: 3),
                    Slot(path: "dense_h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 3)]
        case (.gru, .linen):
            return perGate(["ir.kernel", "iz.kernel", "in.kernel"], .input, kernel: true)
                + perGate(["ir.bias", "iz.bias", "in.bias"], .input, kernel: false)
                + perGate(["hr.kernel", "hz.kernel", "hn.kernel"], .recurrent, kernel: true)
                + [Slot(path: "hn.bias", side: .recurrent, isKernel: false, firstBlock: 2, blocks: 1)]
        case (.simple, .nnx):
            return [Slot(path: "dense_i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 1),
                    Slot(path: "dense_i.bias", side: .input, isKernel: false, firstBlock: 0, blocks: 1),
                    Slot(path: "dense_h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 1)]
        case (.simple, .linen):
            return [Slot(path: "i.kernel", side: .input, isKernel: true, firstBlock: 0, blocks: 1),
                    Slot(path: "i.bias", side: .input, isKernel: false, firstBlock: 0, blocks: 1),
                    Slot(path: "h.kernel", side: .recurrent, isKernel: true, firstBlock: 0, blocks: 1)]
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
            InputSpec("inputs", shapes: [["?", "?", "in_features"], ["T", "in_features"]],
                      doc: "inputs: (batch, time, in_features), (time, batch, in_features) with time_major, or (time, in_features) without a batch axis",
                      example: "{random: normal, shape: [1, 3, 1], seed: 1}"),
            InputSpec("initial_carry", shapes: [],
                      optional: true,
                      doc: "initial_carry: " + (kind == .lstm ? "the tuple (c, h) stacked, (2, batch, hidden_features)" : "(batch, hidden_features)")
                        + "; with Bidirectional the pair (forward, backward) stacked in front; the cell's initialize_carry (zeros) if absent",
                      example: kind == .lstm ? "[[[0.1]], [[0.2]]]" : "[[0.1]]"),
            InputSpec("seq_lengths", .integer, shapes: [["?"], []], optional: true,
                      doc: "seq_lengths (batch,): steps past a length still run (their outputs are not zeroed); the carry is the one after step length−1 "
                        + "(0 wraps to the last step, as Flax indexes); reverse flips each sequence within its length",
                      example: "[3]"),
        ]
        var seen = Set<String>()
        for (k, prefix) in Self.prefixes.enumerated() {
            for api in API.allCases {
                for slot in Self.slots(cell, api) where !seen.contains(prefix + slot.path) {
                    let name = prefix + slot.path
                    seen.insert(name)
                    let cols: Dim = slot.blocks == 1 ? "hidden_features" : Dim("\(slot.blocks)*hidden_features")
                    let shape: Shape = slot.isKernel ? [slot.side == .input ? "in_features" : "hidden_features", cols] : [cols]
                    let exShape = slot.isKernel ? "[1, \(slot.blocks)]" : "[\(slot.blocks)]"
                    let apis = API.allCases.filter { a in Self.slots(cell, a).contains { $0.path == slot.path } }.map(\.rawValue)
                    let doc = "\(name): \(slot.side == .input ? "input" : "recurrent") Dense \(slot.isKernel ? "kernel (in, out)" : "bias")"
                        + (slot.blocks == 1 && g > 1 ? ", gate \(CellConventions.defaultOrder(kind)[slot.firstBlock].rawValue)" : slot.blocks > 1 ? ", column blocks \(CellConventions.defaultOrder(kind).map(\.rawValue))" : "")
                        + " (\(apis.joined(separator: ", "))\(k == 0 ? ", wrapper RNN" : ", wrapper Bidirectional"))"
                    let inSkeleton = k == 0 && api == .nnx
                    inputs.append(InputSpec(name, .real, shapes: [shape], optional: true, doc: doc,
                                            example: ex(exShape, 10 * (k + 1) + inputs.count)).inSkeleton(inSkeleton))
                }
            }
        }
        inputs.append(FrameworkGradients.upstream("outputs", shapes: [["?", "?", "?"], ["?", "?"]], like: "outputs",
                                                  example: "[[[1.0], [-0.5], [0.25]]]"))
        inputs.append(InputSpec("dcarry", shapes: [], optional: true,
                                doc: "upstream gradient dL/dcarry, shaped like carry (with return_carry); with it the kernel reports loss and the gradients",
                                example: kind == .lstm ? "[[[0.5]], [[0.5]]]" : "[[0.5]]"))
        var params: [ParamSpec] = [
            ParamSpec("in_features", .integer(min: 0, max: 1_000_000_000), "in_features"),
            ParamSpec("hidden_features", .integer(min: 1, max: 1_000_000_000), "hidden_features"),
            ParamSpec("api", .choice(API.allCases.map(\.rawValue)), default: .string("nnx"),
                      "nnx (flax.nnx, Flax 0.12) or linen (flax.linen): the parameter names and grouping"),
            ParamSpec("wrapper", .choice(["RNN", "Bidirectional"]), default: .string("RNN"),
                      "RNN(cell) or Bidirectional(RNN(cell), RNN(cell)) (merge_fn concatenate: forward ‖ backward)"),
            ParamSpec("time_major", .boolean, default: .boolean(false), "time_major: inputs and outputs are (time, batch, ·)"),
            ParamSpec("return_carry", .boolean, default: .boolean(false), "return_carry: also return the final carry"),
            ParamSpec("reverse", .boolean, default: .boolean(false), "reverse (RNN): read each sequence backwards (within its length); outputs in that order"),
            ParamSpec("keep_order", .boolean, default: .boolean(false), "keep_order (RNN, with reverse): flip the outputs back to time order"),
        ]
        if kind != .rnn {
            params.append(ParamSpec("gate_fn", .choice(Self.activationNames), default: .string("sigmoid"), "gate_fn: the gates"))
        }
        params.append(ParamSpec("activation_fn", .choice(Self.activationNames), default: .string("tanh"),
                                kind == .lstm ? "activation_fn: the candidate g and the output tanh(c)" : kind == .gru ? "activation_fn: the candidate n" : "activation_fn"))
        if kind == .rnn {
            params.append(ParamSpec("residual", .boolean, default: .boolean(false), "residual: h' = act(x·W_i + b_i + h·W_h + h)"))
        }
        let carryShape = kind == .lstm ? "(2, batch, hidden_features) = (c, h)" : "(batch, hidden_features)"
        var outputs: [OutputSpec] = [
            OutputSpec("outputs", "(batch, time, hidden_features), time-major or without a batch axis like inputs; 2*hidden_features with Bidirectional",
                       "every step's output h, padding steps included"),
            OutputSpec("carry", "\(carryShape); (2, …) = (forward, backward) with Bidirectional", optional: true,
                       "the final carry (with return_carry): after step seq_length−1 with seq_lengths"),
        ]
        outputs.append(FrameworkGradients.lossOutput(Self.upstreams))
        outputs += FrameworkGradients.gradientOutputs(inputs.filter { $0.kind == .real && !Self.upstreams.contains($0.name) }.map(\.name))
        let eq: String
        switch kind {
        case .rnn: eq = "h' = activation_fn(x·W_i + b_i + h·W_h (+ h with residual))"
        case .lstm: eq = """
            i, f, o = gate_fn(x·W_ik + h·W_hk + b_hk), g = activation_fn(x·W_ig + h·W_hg + b_hg); c' = f⊙c + i⊙g; h' = o⊙activation_fn(c'); carry (c, h)
            """
        case .gru: eq = """
            r, z = gate_fn(x·W_ir + b_ir + h·W_hr), gate_fn(x·W_iz + b_iz + h·W_hz); n = activation_fn(x·W_in + b_in + r⊙(h·W_hn (+ b_hn in linen)))
            h' = (1−z)⊙n + z⊙h
            """
        }
        return KernelSpec(
            name: "flax.\(cell.rawValue)",
            summary: "flax \(cell.rawValue) in RNN or Bidirectional (NNX or linen): parameter paths, carry, reverse, keep_order, seq_lengths",
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
                return [ImpliedSize("time steps", [("T", steps)], blame: "input:inputs"),
                        ImpliedSize("output 'outputs'", rows + [("D", d), ("hidden_features", hidden)], blame: "input:inputs"),
                        ImpliedSize("the step caches", rows + [("D", d), ("G + 3", g + 3), ("hidden_features", hidden)], blame: "input:inputs"),
                        .operations("the time loop", rows + [("D", d), ("G*hidden_features", g * hidden),
                                                             ("in_features + hidden_features", ImpliedSize.sum(x.last ?? 0, hidden))], blame: "input:inputs")]
            })
    }

    /// Flax's `flip_sequences`: position t of sequence b reads position (T−1−t+L_b) mod T (the first L_b
    /// steps reversed, the padding after them reversed too); without lengths, T−1−t. An involution.
    static func flip<T: KernelScalar>(_ t: Tensor<T>, lengths: [Int]?) -> Tensor<T> {
        let steps = t.shape[0], bsz = t.shape[1], w = t.shape[2]
        var out = [T](repeating: 0, count: t.count)
        for s in 0..<steps {
            for b in 0..<bsz {
                let src = lengths.map { (steps - 1 - s + $0[b]) % steps } ?? (steps - 1 - s)
                out.replaceSubrange(((s * bsz + b) * w)..<((s * bsz + b + 1) * w), with: t.scalars[((src * bsz + b) * w)..<((src * bsz + b + 1) * w)])
            }
        }
        return Tensor(shape: t.shape, scalars: out)
    }

    /// One `RNN` pass of a cell: the outputs in the order returned, the carry, and what the backward pass needs.
    struct Pass<T: KernelScalar> {
        let cell: RecurrentCell<T>
        let run: SequenceRun<T>
        let reverse: Bool
        let keepOrder: Bool
        /// The processing step each sequence's carry is read after (nil: the last, T−1).
        let carryStep: [Int]?
        let outputs: Tensor<T>
        /// h [B, H], and c [B, H] for an LSTM.
        let carryH: Tensor<T>
        let carryC: Tensor<T>?
    }

    static func pass<T: KernelScalar>(_ cell: RecurrentCell<T>, x: Tensor<T>, h0: Tensor<T>?, c0: Tensor<T>?, lengths: [Int]?,
                                      sliceCarry: Bool, reverse: Bool, keepOrder: Bool, keepCaches: Bool) -> Pass<T> {
        let steps = x.shape[0], bsz = x.shape[1], h = cell.hiddenSize
        let lstm = cell.conventions.kind == .lstm
        let xp = reverse ? flip(x, lengths: lengths) : x
        let run = runSequence(cell, x: xp, h0: h0, c0: c0, keepCaches: keepCaches, recordCellStates: lstm)
        let outputs = reverse && keepOrder ? flip(run.outputs, lengths: lengths) : run.outputs
        var carryStep: [Int]? = nil
        var carryH = run.hLast, carryC = run.cLast
        if sliceCarry, let lengths, steps > 0 {
            // _select_last_carry: carries[seq_lengths − 1], a length of 0 indexing −1 (the last step).
            let idx = lengths.map { ($0 - 1 + steps) % steps }
            carryStep = idx
            func pick(_ all: Tensor<T>) -> Tensor<T> {
                var out = [T]()
                for b in 0..<bsz { out += all.scalars[((idx[b] * bsz + b) * h)..<((idx[b] * bsz + b + 1) * h)] }
                return Tensor(shape: [bsz, h], scalars: out)
            }
            carryH = pick(run.outputs)
            carryC = run.cellStates.map(pick)
        }
        return Pass(cell: cell, run: run, reverse: reverse, keepOrder: keepOrder, carryStep: carryStep, outputs: outputs,
                    carryH: carryH, carryC: carryC)
    }

    static func passBackward<T: KernelScalar>(_ p: Pass<T>, lengths: [Int]?, dOutputs: Tensor<T>?, dCarryH: Tensor<T>?, dCarryC: Tensor<T>?)
        throws -> SequenceRunGradients<T> {
        let bsz = p.run.outputs.shape[1], steps = p.run.outputs.shape[0], h = p.cell.hiddenSize
        var dOut = dOutputs.map { p.reverse && p.keepOrder ? flip($0, lengths: lengths) : $0 } ?? Tensor(zeros: [steps, bsz, h])
        var dCells: Tensor<T>? = nil
        var dhLast = dCarryH, dcLast = dCarryC
        if let idx = p.carryStep {
            // The carry was read after step idx[b]: its gradient joins that step's output (h) and cell state (c).
            dhLast = nil
            dcLast = nil
            if p.cell.conventions.kind == .lstm { dCells = Tensor(zeros: [steps, bsz, h]) }
            for b in 0..<bsz {
                let base = (idx[b] * bsz + b) * h
                for j in 0..<h {
                    if let dCarryH { dOut.scalars[base + j] += dCarryH.scalars[b * h + j] }
                    if let dCarryC { dCells!.scalars[base + j] += dCarryC.scalars[b * h + j] }
                }
            }
        }
        var g = try runSequenceBackward(p.cell, run: p.run, dOutputs: dOut, dhLast: dhLast, dcLast: dcLast, dCellStates: dCells)
        if p.reverse { g.x = flip(g.x, lengths: lengths) }
        return g
    }

    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let api = try c.choice("api", as: API.self)
        let bidirectional = try c.string("wrapper") == "Bidirectional"
        let timeMajor = try c.bool("time_major"), returnCarry = try c.bool("return_carry")
        let reverse = try c.bool("reverse"), keepOrder = try c.bool("keep_order")
        let inFeatures = try c.int("in_features"), hidden = try c.int("hidden_features")
        let g = kind.gateCount, lstm = kind == .lstm
        if bidirectional && (reverse || keepOrder) {
            throw KernelError.param(reverse ? "reverse" : "keep_order",
                                    "Bidirectional ignores reverse and keep_order (its forward RNN reads forward, its backward RNN reverses with keep_order): leave them false")
        }

        // inputs → [T, B, I].
        let raw: Tensor<T> = try c.real("inputs")
        guard raw.rank == 2 || raw.rank == 3 else {
            throw KernelError.input("inputs", "inputs must be (batch, time, in_features), (time, batch, in_features) or (time, in_features), found \(raw.shape.shapeText)")
        }
        let unbatched = raw.rank == 2
        let x = unbatched ? raw.reshaped([raw.shape[0], 1, raw.shape[1]]) : timeMajor ? raw : raw.permuted([1, 0, 2])
        let steps = x.shape[0], batch = x.shape[1]
        guard x.shape[2] == inFeatures else {
            throw KernelError.input("inputs", "inputs has \(x.shape[2]) features in its last axis, but in_features is \(inFeatures)")
        }
        var lengths: [Int]? = nil
        if c.has("seq_lengths") {
            let l = try c.integers("seq_lengths")
            guard l.shape == (unbatched ? [] : [batch]) else {
                throw KernelError.input("seq_lengths", unbatched ? "seq_lengths must be a scalar for inputs without a batch axis, found \(l.shape.shapeText)"
                                                                 : "seq_lengths must be (batch,) = (\(batch),), found \(l.shape.shapeText)")
            }
            if let bad = l.scalars.first(where: { $0 < 0 || $0 > steps }) {
                throw KernelError.input("seq_lengths", "every length must be in 0...time = 0...\(steps), found \(bad)")
            }
            if steps == 0 { throw KernelError.input("seq_lengths", "seq_lengths needs at least one time step to select a carry from") }
            lengths = l.scalars
        }

        // Parameters, by their paths in the wrapper's state.
        let prefixes = bidirectional ? Array(Self.prefixes.dropFirst()) : [Self.prefixes[0]]
        let slots = Self.slots(cell, api)
        let allowed = Set(prefixes.flatMap { p in slots.map { p + $0.path } })
        for name in c.inputs.keys.sorted() where Self.prefixes.contains(where: { name.hasPrefix($0) }) && !allowed.contains(name) {
            throw KernelError.input(name, "\(name) is not in the state of \(api == .nnx ? "nnx" : "linen").\(bidirectional ? "Bidirectional(RNN(\(cell.rawValue)), RNN(\(cell.rawValue)))" : "RNN(\(cell.rawValue))")")
        }
        var conventions: CellConventions
        let act = Self.activation(try c.string("activation_fn"))
        switch kind {
        case .rnn: conventions = CellConventions(kind: .rnn, candidateActivation: act)
        case .lstm: conventions = CellConventions(kind: .lstm, gateActivation: Self.activation(try c.string("gate_fn")), candidateActivation: act, outputActivation: act)
        case .gru: conventions = CellConventions(kind: .gru, gateActivation: Self.activation(try c.string("gate_fn")), candidateActivation: act,
                                                 resetPlacement: .afterMatmul, updateSide: .previous)
        }
        let residual = kind == .rnn ? try c.bool("residual") : false
        var cells = [RecurrentCell<T>]()
        for prefix in prefixes {
            try c.requireInputs(slots.map { prefix + $0.path }, because: "\(api.rawValue).\(cell.rawValue) has these parameters")
            var inK = Tensor<T>(zeros: [inFeatures, g * hidden]), recK = Tensor<T>(zeros: [hidden, g * hidden])
            var inB: Tensor<T>? = nil, recB: Tensor<T>? = nil
            for slot in slots {
                let name = prefix + slot.path
                let t: Tensor<T> = try c.real(name)
                let rows = slot.side == .input ? inFeatures : hidden, cols = slot.blocks * hidden
                let expected = slot.isKernel ? [rows, cols] : [cols]
                guard t.shape == expected else {
                    throw KernelError.input(name, "\(name) must be \(expected.shapeText) (\(slot.isKernel ? "\(slot.side == .input ? "in_features" : "hidden_features"), " : "")\(slot.blocks == 1 ? "" : "\(slot.blocks)*")hidden_features), found \(t.shape.shapeText)")
                }
                let offset = slot.firstBlock * hidden
                if slot.isKernel {
                    for r in 0..<rows {
                        for j in 0..<cols {
                            let v = t.scalars[r * cols + j]
                            if slot.side == .input { inK.scalars[r * g * hidden + offset + j] = v } else { recK.scalars[r * g * hidden + offset + j] = v }
                        }
                    }
                } else {
                    var b = (slot.side == .input ? inB : recB) ?? Tensor<T>(zeros: [g * hidden])
                    for j in 0..<cols { b.scalars[offset + j] = t.scalars[j] }
                    if slot.side == .input { inB = b } else { recB = b }
                }
            }
            if residual { for j in 0..<hidden { recK.scalars[j * hidden + j] += 1 } }  // h·W_h + h = h·(W_h + 1)
            cells.append(RecurrentCell(conventions: conventions,
                                       parameters: .flax(inputKernel: inK, recurrentKernel: recK, inputBias: inB, recurrentBias: recB)))
        }

        // initial_carry: [(forward, backward) ×] [(c, h) ×] batch × hidden.
        let d = prefixes.count
        let carryShape = (bidirectional ? [2] : []) + (lstm ? [2] : []) + (unbatched ? [] : [batch]) + [hidden]
        var h0: [Tensor<T>?] = Array(repeating: nil, count: d), c0: [Tensor<T>?] = Array(repeating: nil, count: d)
        if let t: Tensor<T> = try c.optionalReal("initial_carry") {
            guard t.shape == carryShape else {
                throw KernelError.input("initial_carry", "initial_carry must be \(carryShape.shapeText) = \(bidirectional ? "(forward, backward) × " : "")\(lstm ? "(c, h) × " : "")\(unbatched ? "" : "batch × ")hidden_features, found \(t.shape.shapeText)")
            }
            let per = t.reshaped([d, lstm ? 2 : 1, batch, hidden])
            for k in 0..<d {
                let dir = per.slice(k)
                if lstm { c0[k] = dir.slice(0); h0[k] = dir.slice(1) } else { h0[k] = dir.slice(0) }
            }
        }

        let backward = Self.upstreams.contains(where: c.has)
        let directions: [(reverse: Bool, keepOrder: Bool)] = bidirectional ? [(false, false), (true, true)] : [(reverse, keepOrder)]
        let passes = (0..<d).map { k in
            Self.pass(cells[k], x: x, h0: h0[k], c0: c0[k], lengths: lengths, sliceCarry: bidirectional || returnCarry,
                      reverse: directions[k].reverse, keepOrder: directions[k].keepOrder, keepCaches: backward)
        }
        func external(_ t: Tensor<T>) -> Tensor<T> {
            unbatched ? t.reshaped([t.shape[0], t.shape[2]]) : timeMajor ? t : t.permuted([1, 0, 2])
        }
        let outputs = external(concatenatedLastAxis(passes.map(\.outputs)))
        var carry: Tensor<T>? = nil
        if returnCarry {
            let parts = passes.flatMap { p in lstm ? [p.carryC!, p.carryH] : [p.carryH] }
            carry = Tensor.stacked(parts, innerShape: [batch, hidden]).reshaped(carryShape)
        }
        var out = KernelOutputs()
        out["outputs"] = .real(outputs)
        if let carry { out["carry"] = .real(carry) }

        let upstream = try FrameworkGradients.given(c, [("outputs", outputs), ("carry", carry)])
        guard !upstream.isEmpty else { return out }
        out["loss"] = .real(upstreamLoss(upstream))
        let dOutParts: [Tensor<T>]? = try c.optionalReal("doutputs").map { (t: Tensor<T>) in
            let tm = unbatched ? t.reshaped([steps, 1, t.shape[1]]) : timeMajor ? t : t.permuted([1, 0, 2])
            return splitLastAxis(tm, widths: Array(repeating: hidden, count: d))
        }
        let dCarry: Tensor<T>? = try c.optionalReal("dcarry").map { $0.reshaped([d, lstm ? 2 : 1, batch, hidden]) }
        var dx: Tensor<T>? = nil
        var dCarry0 = [Tensor<T>]()
        for k in 0..<d {
            let dk = dCarry?.slice(k)
            let grads = try Self.passBackward(passes[k], lengths: lengths, dOutputs: dOutParts?[k],
                                          dCarryH: dk.map { $0.slice(lstm ? 1 : 0) }, dCarryC: lstm ? dk.map { $0.slice(0) } : nil)
            dx = dx.map { acc in Tensor(shape: acc.shape, scalars: zip(acc.scalars, grads.x.scalars).map { $0 + $1 }) } ?? grads.x
            dCarry0 += lstm ? [grads.c0!, grads.h0] : [grads.h0]
            let kernels = grads.cell.flaxKernels
            for slot in slots {
                let cols = slot.blocks * hidden, offset = slot.firstBlock * hidden
                let value: Tensor<T>
                if slot.isKernel {
                    let full = slot.side == .input ? kernels.input : kernels.recurrent
                    value = splitColumns(splitColumns(full, at: offset).1, at: cols).0
                } else {
                    let full = slot.side == .input ? grads.cell.bw : grads.cell.br
                    value = Tensor(shape: [cols], scalars: Array(full.scalars[offset..<(offset + cols)]))
                }
                out["d" + prefixes[k] + slot.path] = .real(value)
            }
        }
        out["dinputs"] = .real(unbatched ? dx!.reshaped(raw.shape) : timeMajor ? dx! : dx!.permuted([1, 0, 2]))
        if c.has("initial_carry") {
            out["dinitial_carry"] = .real(Tensor.stacked(dCarry0, innerShape: [batch, hidden]).reshaped(carryShape))
        }
        return out
    }
}
