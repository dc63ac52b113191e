import RNNKernels

extension FlaxRecurrentKernel {
    /// Flax's `flip_sequences`: position t of sequence b reads position (T−1−t+L_b) mod T (the first L_b
    /// steps reversed, the padding after them reversed too); without lengths, T−1−t. An involution.
    static func flip<T: KernelScalar>(_ t: Tensor<T>, lengths: [Int]?) -> Tensor<T> {
        let steps = t.shape[0], bsz = t.shape[1], w = t.shape[2]
        var out = [T](repeating: 0, count: t.count)
        for s in 0..<steps {
            for b in 0..<bsz {
                let src = lengths.map { (steps - 1 - s + $0[b]) % steps } ?? (steps - 1 - s)
                out.replaceSubrange(
                    ((s * bsz + b) * w)..<((s * bsz + b + 1) * w),
                    with: t.scalars[((src * bsz + b) * w)..<((src * bsz + b + 1) * w)])
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

    static func pass<T: KernelScalar>(
        _ cell: RecurrentCell<T>, x: Tensor<T>, h0: Tensor<T>?, c0: Tensor<T>?, lengths: [Int]?,
        sliceCarry: Bool, reverse: Bool, keepOrder: Bool, keepCaches: Bool
    ) -> Pass<T> {
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
        return Pass(
            cell: cell, run: run, reverse: reverse, keepOrder: keepOrder, carryStep: carryStep, outputs: outputs,
            carryH: carryH, carryC: carryC)
    }

    static func passBackward<T: KernelScalar>(
        _ p: Pass<T>, lengths: [Int]?, dOutputs: Tensor<T>?, dCarryH: Tensor<T>?, dCarryC: Tensor<T>?
    )
        throws -> SequenceRunGradients<T>
    {
        let bsz = p.run.outputs.shape[1], steps = p.run.outputs.shape[0], h = p.cell.hiddenSize
        var dOut =
            dOutputs.map { p.reverse && p.keepOrder ? flip($0, lengths: lengths) : $0 }
            ?? Tensor(zeros: [steps, bsz, h])
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
        var g = try runSequenceBackward(
            p.cell, run: p.run, dOutputs: dOut, dhLast: dhLast, dcLast: dcLast, dCellStates: dCells)
        if p.reverse { g.x = flip(g.x, lengths: lengths) }
        return g
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let api = try c.choice("api", as: API.self)
        let bidirectional = try c.string("wrapper") == "Bidirectional"
        let timeMajor = try c.bool("time_major"), returnCarry = try c.bool("return_carry")
        let reverse = try c.bool("reverse"), keepOrder = try c.bool("keep_order")
        let inFeatures = try c.int("in_features"), hidden = try c.int("hidden_features")
        let g = kind.gateCount, lstm = kind == .lstm
        if bidirectional && (reverse || keepOrder) {
            throw KernelError.param(
                reverse ? "reverse" : "keep_order",
                "Bidirectional ignores reverse and keep_order (its forward RNN reads forward, its backward RNN reverses with keep_order): leave them false"
            )
        }

        // inputs → [T, B, I].
        let raw: Tensor<T> = try c.real("inputs")
        guard raw.rank == 2 || raw.rank == 3 else {
            throw KernelError.input(
                "inputs",
                "inputs must be (batch, time, in_features), (time, batch, in_features) or (time, in_features), found \(raw.shape.shapeText)"
            )
        }
        let unbatched = raw.rank == 2
        let x = unbatched ? raw.reshaped([raw.shape[0], 1, raw.shape[1]]) : timeMajor ? raw : raw.permuted([1, 0, 2])
        let steps = x.shape[0], batch = x.shape[1]
        guard x.shape[2] == inFeatures else {
            throw KernelError.input(
                "inputs", "inputs has \(x.shape[2]) features in its last axis, but in_features is \(inFeatures)")
        }
        var lengths: [Int]? = nil
        if c.has("seq_lengths") {
            let l = try c.integers("seq_lengths")
            guard l.shape == (unbatched ? [] : [batch]) else {
                throw KernelError.input(
                    "seq_lengths",
                    unbatched
                        ? "seq_lengths must be a scalar for inputs without a batch axis, found \(l.shape.shapeText)"
                        : "seq_lengths must be (batch,) = (\(batch),), found \(l.shape.shapeText)")
            }
            if let bad = l.scalars.first(where: { $0 < 0 || $0 > steps }) {
                throw KernelError.input("seq_lengths", "every length must be in 0...time = 0...\(steps), found \(bad)")
            }
            if steps == 0 {
                throw KernelError.input(
                    "seq_lengths", "seq_lengths needs at least one time step to select a carry from")
            }
            lengths = l.scalars
        }

        // Parameters, by their paths in the wrapper's state.
        let prefixes = bidirectional ? Array(Self.prefixes.dropFirst()) : [Self.prefixes[0]]
        let slots = Self.slots(cell, api)
        let allowed = Set(prefixes.flatMap { p in slots.map { p + $0.path } })
        for name in c.inputs.keys.sorted()
        where Self.prefixes.contains(where: { name.hasPrefix($0) }) && !allowed.contains(name) {
            throw KernelError.input(
                name,
                "\(name) is not in the state of \(api == .nnx ? "nnx" : "linen").\(bidirectional ? "Bidirectional(RNN(\(cell.rawValue)), RNN(\(cell.rawValue)))" : "RNN(\(cell.rawValue))")"
            )
        }
        var conventions: CellConventions
        let act = Self.activation(try c.string("activation_fn"))
        switch kind {
        case .rnn: conventions = CellConventions(kind: .rnn, candidateActivation: act)
        case .lstm:
            conventions = CellConventions(
                kind: .lstm, gateActivation: Self.activation(try c.string("gate_fn")), candidateActivation: act,
                outputActivation: act)
        case .gru:
            conventions = CellConventions(
                kind: .gru, gateActivation: Self.activation(try c.string("gate_fn")), candidateActivation: act,
                resetPlacement: .afterMatmul, updateSide: .previous)
        }
        let residual = kind == .rnn ? try c.bool("residual") : false
        var cells = [RecurrentCell<T>]()
        for prefix in prefixes {
            try c.requireInputs(
                slots.map { prefix + $0.path }, because: "\(api.rawValue).\(cell.rawValue) has these parameters")
            var inK = Tensor<T>(zeros: [inFeatures, g * hidden]), recK = Tensor<T>(zeros: [hidden, g * hidden])
            var inB: Tensor<T>? = nil, recB: Tensor<T>? = nil
            for slot in slots {
                let name = prefix + slot.path
                let t: Tensor<T> = try c.real(name)
                let rows = slot.side == .input ? inFeatures : hidden, cols = slot.blocks * hidden
                let expected = slot.isKernel ? [rows, cols] : [cols]
                guard t.shape == expected else {
                    throw KernelError.input(
                        name,
                        "\(name) must be \(expected.shapeText) (\(slot.isKernel ? "\(slot.side == .input ? "in_features" : "hidden_features"), " : "")\(slot.blocks == 1 ? "" : "\(slot.blocks)*")hidden_features), found \(t.shape.shapeText)"
                    )
                }
                let offset = slot.firstBlock * hidden
                if slot.isKernel {
                    for r in 0..<rows {
                        for j in 0..<cols {
                            let v = t.scalars[r * cols + j]
                            if slot.side == .input {
                                inK.scalars[r * g * hidden + offset + j] = v
                            } else {
                                recK.scalars[r * g * hidden + offset + j] = v
                            }
                        }
                    }
                } else {
                    var b = (slot.side == .input ? inB : recB) ?? Tensor<T>(zeros: [g * hidden])
                    for j in 0..<cols { b.scalars[offset + j] = t.scalars[j] }
                    if slot.side == .input { inB = b } else { recB = b }
                }
            }
            if residual { for j in 0..<hidden { recK.scalars[j * hidden + j] += 1 } }  // h·W_h + h = h·(W_h + 1)
            cells.append(
                RecurrentCell(
                    conventions: conventions,
                    parameters: .flax(inputKernel: inK, recurrentKernel: recK, inputBias: inB, recurrentBias: recB)))
        }

        // initial_carry: [(forward, backward) ×] [(c, h) ×] batch × hidden.
        let d = prefixes.count
        let carryShape = (bidirectional ? [2] : []) + (lstm ? [2] : []) + (unbatched ? [] : [batch]) + [hidden]
        var h0: [Tensor<T>?] = Array(repeating: nil, count: d), c0: [Tensor<T>?] = Array(repeating: nil, count: d)
        if let t: Tensor<T> = try c.optionalReal("initial_carry") {
            guard t.shape == carryShape else {
                throw KernelError.input(
                    "initial_carry",
                    "initial_carry must be \(carryShape.shapeText) = \(bidirectional ? "(forward, backward) × " : "")\(lstm ? "(c, h) × " : "")\(unbatched ? "" : "batch × ")hidden_features, found \(t.shape.shapeText)"
                )
            }
            let per = t.reshaped([d, lstm ? 2 : 1, batch, hidden])
            for k in 0..<d {
                let dir = per.slice(k)
                if lstm { c0[k] = dir.slice(0); h0[k] = dir.slice(1) } else { h0[k] = dir.slice(0) }
            }
        }

        let backward = Self.upstreams.contains(where: c.has)
        let directions: [(reverse: Bool, keepOrder: Bool)] =
            bidirectional ? [(false, false), (true, true)] : [(reverse, keepOrder)]
        let passes = (0..<d).map { k in
            Self.pass(
                cells[k], x: x, h0: h0[k], c0: c0[k], lengths: lengths, sliceCarry: bidirectional || returnCarry,
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
            let grads = try Self.passBackward(
                passes[k], lengths: lengths, dOutputs: dOutParts?[k],
                dCarryH: dk.map { $0.slice(lstm ? 1 : 0) }, dCarryC: lstm ? dk.map { $0.slice(0) } : nil)
            dx =
                dx.map { acc in Tensor(shape: acc.shape, scalars: zip(acc.scalars, grads.x.scalars).map { $0 + $1 }) }
                ?? grads.x
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
