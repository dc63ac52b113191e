// A cell step forward: the input projection, one batched step (keeping what the backward step needs, or
// on reused buffers for a forward pass alone), and the GRU step with the reset before the product.
//
// Shape legend: B batch, I input, H hidden, P state size of h, G gates.
//   x [B, I], h_prev [B, P], c_prev [B, H]; pre-activations and gates [B, G*H], storage order

/// What a step keeps beyond its gates, by cell family.
public enum CellStepState<T: KernelScalar>: Sendable {
    case rnn
    /// c_prev and the new cell state c, [B, H]; o ⊙ act(c) before the projection, [B, H], when the
    /// cell has a projection.
    case lstm(cPrev: Tensor<T>, c: Tensor<T>, unprojected: Tensor<T>?)
    /// R_n h_prev + b_Rn (reset after the product) or r ⊙ h_prev (reset before), [B, H].
    case gru(resetInput: Tensor<T>)
}

/// What one batched cell step computed: enough for the backward step.
public struct CellStepCache<T: KernelScalar>: Sendable {
    /// The step's input x, [B, I].
    public var x: Tensor<T>
    /// The previous hidden state h_prev, [B, P].
    public var hPrev: Tensor<T>
    /// Gate pre-activations before clipping, [B, G*H], storage order (peepholes included). A single step
    /// keeps them; a sequence run keeps them only where the backward step reads them
    /// (`backwardReadsPreactivations`) or when asked (`keepPreactivations`), nil otherwise: the gate values
    /// alone then give every slope.
    public var preactivations: Tensor<T>?
    /// Gate values after their activations, [B, G*H], storage order (f = 1 − i under input_forget).
    public var gates: Tensor<T>
    /// What the cell family keeps besides (the LSTM's cell states, the GRU's reset input).
    public var state: CellStepState<T>
    /// New hidden state, [B, P].
    public var h: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(
        x: Tensor<T>, hPrev: Tensor<T>, preactivations: Tensor<T>?, gates: Tensor<T>, state: CellStepState<T>,
        h: Tensor<T>
    ) {
        self.x = x
        self.hPrev = hPrev
        self.preactivations = preactivations
        self.gates = gates
        self.state = state
        self.h = h
    }

    /// The values of one gate, [B, H] (from `gates`; `preactivation: true` for the pre-activation, which
    /// the step must have kept).
    @inlinable
    public func gate(_ gate: Gate, of conventions: CellConventions, preactivation: Bool = false) -> Tensor<T> {
        guard let source = preactivation ? preactivations : gates else {
            preconditionFailure(
                "gate: the step kept no pre-activations (runSequence(..., keepPreactivations: true) keeps them)")
        }
        let b = source.shape[0], gh = source.shape[1], h = gh / conventions.kind.gateCount
        let k = conventions.block(gate)
        var out = [T]()
        out.reserveCapacity(b * h)
        for row in 0..<b { out.append(contentsOf: source.scalars[(row * gh + k * h)..<(row * gh + (k + 1) * h)]) }
        return Tensor(shape: [b, h], scalars: out)
    }

    /// LSTM: the new cell state c, [B, H]; nil for the other families.
    @inlinable
    public var cellState: Tensor<T>? { state.cellState }
}

extension CellStepState {
    /// LSTM: the new cell state c, [B, H]; nil for the other families.
    @inlinable
    public var cellState: Tensor<T>? {
        if case .lstm(_, let c, _) = self { return c }
        return nil
    }
}

/// The working arrays of one cell step (`RecurrentCell.forwardInPlace`).
public struct StepBuffers<T: KernelScalar>: Sendable {
    /// [B, G*H]: the input part on entry, the pre-activations after the step.
    public var pre: [T]
    /// [B, G*H]: every gate's value.
    public var gates: [T]
    /// LSTM, [B, H]: the new cell state and o ⊙ act(c).
    public var c: [T]
    /// LSTM with a projection, [B, H]: o ⊙ act(c) before the projection.
    public var m: [T]
    /// GRU, [B, H]: R_n h_prev + b_Rn, and the new h.
    public var resetInput: [T]
    /// [B, P]: the hidden output (after the projection, when there is one).
    public var hOut: [T]

    /// Buffers for a step of `kind` over `batch` rows of `hidden` units, `pre` and `gates` given.
    @inlinable
    public init(pre: [T], gates: [T], kind: CellKind, batch: Int, hidden: Int) {
        self.pre = pre
        self.gates = gates
        c = [T](repeating: 0, count: kind == .lstm ? batch * hidden : 0)
        m = c
        resetInput = [T](repeating: 0, count: kind == .gru ? batch * hidden : 0)
        hOut = resetInput
    }
}

extension RecurrentCell {
    /// Whether b_R is added with b_W in the input projection (RNN, LSTM): every gate sees
    /// b_W + b_R. The GRU keeps b_R apart, because its reset gate multiplies R_n h_prev + b_Rn.
    @inlinable
    var foldsRecurrentBias: Bool { conventions.kind != .gru }

    /// The input part of every gate for `rows` rows of x at once: x Wᵀ + b_W (+ b_R for RNN and
    /// LSTM), [rows, G*H]. A sequence calls it once for all its steps ([T*B, I] → [T*B, G*H]),
    /// one matrix product instead of T.
    @inlinable
    public func projectInputs(_ x: [T], rows: Int) -> [T] {
        let gh = conventions.kind.gateCount * hiddenSize
        precondition(x.count == rows * inputSize, "projectInputs: \(x.count) values for \(rows) rows of \(inputSize)")
        return gemm(x, parameters.w.scalars, addingRow: projectionBias, m: rows, n: gh, k: inputSize, transposeB: true)
    }

    /// The bias the input projection starts from, [G*H]: b_W, plus b_R where the cell folds it in
    /// (`foldsRecurrentBias`), zeros without biases.
    @inlinable
    public var projectionBias: [T] {
        let gh = conventions.kind.gateCount * hiddenSize, p = parameters
        var bias = p.bw?.scalars ?? [T](repeating: 0, count: gh)
        if foldsRecurrentBias, let br = p.br { for j in 0..<gh { bias[j] += br.scalars[j] } }
        return bias
    }

    /// One step for a batch.
    ///
    /// Arguments:
    ///   - x: [B, I]. - hPrev: [B, P]. - cPrev: [B, H], LSTM only (zeros if nil).
    /// - Returns: the cache, holding every gate, c and h.
    @inlinable
    public func forward(x: Tensor<T>, hPrev: Tensor<T>, cPrev: Tensor<T>? = nil) -> CellStepCache<T> {
        precondition(x.rank == 2 && x.shape[1] == inputSize, "cell step: x \(x.shape)")
        return forward(x: x, projected: projectInputs(x.scalars, rows: x.shape[0]), hPrev: hPrev, cPrev: cPrev)
    }

    /// One step for a batch whose input part `projected` = `projectInputs(x)` is already computed
    /// ([B, G*H]; it becomes the step's pre-activations).
    ///
    /// - `split`: R regrouped by hidden unit (`splitRecurrent`), for a step whose threads
    ///   each compute their hidden units' share of the product and then their gates; nil computes
    ///   the product first (on up to 2 threads) and then the gates. Ignored where
    ///   `splitsByHiddenUnit` is false.
    @inlinable
    public func forward(
        x: Tensor<T>, projected: consuming [T], hPrev: Tensor<T>, cPrev: Tensor<T>? = nil,
        split: SplitRecurrent? = nil
    ) -> CellStepCache<T> {
        // (No copy of `parameters`: copying the struct retains and releases every weight tensor each step.)
        let conv = conventions
        let bsz = x.shape[0], inp = inputSize, h = hiddenSize, s = stateSize
        let gc = conv.kind.gateCount, gh = gc * h
        precondition(
            x.shape == [bsz, inp] && hPrev.shape == [bsz, s] && projected.count == bsz * gh,
            "cell step: x \(x.shape), h_prev \(hPrev.shape)")
        let gates = [T](repeating: 0, count: bsz * gh)
        if conv.kind == .gru && conv.resetPlacement == .beforeMatmul {
            return gruForwardResetBeforeProduct(x: x, pre: consume projected, gates: consume gates, hPrev: hPrev)
        }
        let isLSTM = conv.kind == .lstm
        let cp = isLSTM ? (cPrev ?? Tensor(zeros: [bsz, h])) : Tensor<T>(shape: [0], scalars: [])
        precondition(!isLSTM || cp.shape == [bsz, h], "cell step: c_prev \(cp.shape)")
        // The caller's arrays become the buffers, not copied.
        var b = StepBuffers(pre: consume projected, gates: consume gates, kind: conv.kind, batch: bsz, hidden: h)
        forwardInPlace(&b, batch: bsz, hPrev: hPrev.scalars, cPrev: cp.scalars, split: split)
        let pre = Tensor(shape: [bsz, gh], scalars: b.pre), gateValues = Tensor(shape: [bsz, gh], scalars: b.gates)
        switch conv.kind {
        case .rnn:
            return CellStepCache(
                x: x, hPrev: hPrev, preactivations: pre, gates: gateValues, state: .rnn,
                h: Tensor(shape: [bsz, h], scalars: b.gates))
        case .lstm:
            let unprojected = parameters.projection == nil ? nil : Tensor(shape: [bsz, h], scalars: b.m)
            return CellStepCache(
                x: x, hPrev: hPrev, preactivations: pre, gates: gateValues,
                state: .lstm(cPrev: cp, c: Tensor(shape: [bsz, h], scalars: b.c), unprojected: unprojected),
                h: Tensor(shape: [bsz, s], scalars: lstmState(b.m, rows: bsz)))
        case .gru:
            return CellStepCache(
                x: x, hPrev: hPrev, preactivations: pre, gates: gateValues,
                state: .gru(resetInput: Tensor(shape: [bsz, h], scalars: b.resetInput)),
                h: Tensor(shape: [bsz, h], scalars: b.hOut))
        }
    }

    /// The LSTM's h from m = o ⊙ act(c), [rows, H]: m W_hrᵀ with a projection ([rows, P]), else m.
    @inlinable
    public func lstmState(_ m: [T], rows: Int) -> [T] {
        guard let proj = parameters.projection else { return m }
        var h = [T](repeating: 0, count: rows * stateSize)
        gemm(m, proj.scalars, into: &h, m: rows, n: stateSize, k: hiddenSize, transposeB: true)
        return h
    }

    /// The arithmetic of `forward` on caller-owned buffers, which a forward pass alone reuses from
    /// step to step (`runSequence(..., keepCaches: false)`).
    ///
    /// Arguments:
    ///   - b: `pre` holds the step's input part (`projectInputs`) on entry and the pre-activations on
    ///     return; `gates`, `c`, `m` (LSTM: o ⊙ act(c)), `resetInput` and `hOut` (GRU) are overwritten.
    ///   - hPrev: [B, P]. - cPrev: [B, H] for an LSTM (empty otherwise).
    /// - Precondition: not a GRU with the reset before the product (`gruForwardResetBeforeProduct`).
    @inlinable
    public func forwardInPlace(
        _ b: inout StepBuffers<T>, batch bsz: Int, hPrev: [T], cPrev: [T], split: SplitRecurrent?
    ) {
        let conv = conventions
        let h = hiddenSize, s = stateSize
        let gc = conv.kind.gateCount, gh = gc * h
        precondition(
            !(conv.kind == .gru && conv.resetPlacement == .beforeMatmul),
            "forwardInPlace: a GRU with the reset before the product")
        precondition(b.pre.count == bsz * gh && hPrev.count == bsz * s, "forwardInPlace: buffers for another batch")
        let isGRU = conv.kind == .gru
        // The buffers, moved out (not copied) for the unsafe pointers below, and back at the end.
        var pre = [T](), gates = [T](), c = [T](), m = [T](), resetInput = [T](), hOut = [T]()
        swap(&pre, &b.pre); swap(&gates, &b.gates); swap(&c, &b.c); swap(&m, &b.m)
        swap(&resetInput, &b.resetInput); swap(&hOut, &b.hOut)
        defer {
            swap(&pre, &b.pre); swap(&gates, &b.gates); swap(&c, &b.c); swap(&m, &b.m)
            swap(&resetInput, &b.resetInput); swap(&hOut, &b.hOut)
        }
        let useSplit = split != nil && splitsByHiddenUnit
        // Without a split: the whole recurrent product now, h_prev Rᵀ [B, G*H].
        var rec = [T]()
        if !useSplit {
            rec = [T](repeating: 0, count: bsz * gh)
            gemm(hPrev, parameters.r.scalars, into: &rec, m: bsz, n: gh, k: s, transposeB: true)
        }
        let br = isGRU ? parameters.br?.scalars : nil
        let pI = parameters.peepholeI?.scalars, pF = parameters.peepholeF?.scalars, pO = parameters.peepholeO?.scalars
        let gateAct = conv.gateActivation, candAct = conv.candidateActivation, outAct = conv.outputActivation
        let side = conv.updateSide

        withMutableBuffers(&pre, &gates, &c, &m) { aBuf, yBuf, cBuf, mBuf in
            withMutableBuffers(&resetInput, &hOut) { uBuf, hBuf in
                withBuffers(cPrev, hPrev) { cpBuf, hpBuf in
                    let aAll = aBuf.baseAddress!, yAll = yBuf.baseAddress!
                    /// Every gate of the hidden units j0 ..< j0+w for the given rows; `rec` points at
                    /// (row 0, block 0, unit j0) of h_prev Rᵀ laid out with these strides.
                    func gatesOf(
                        rows: Range<Int>, j0: Int, w: Int, rec: UnsafePointer<T>, rowStride: Int,
                        blockStride: Int
                    ) {
                        for row in rows {
                            let a = aAll + row * gh + j0, y = yAll + row * gh + j0,
                                r = rec + row * rowStride
                            switch conv.kind {
                            case .rnn:
                                for j in 0..<w { a[j] += r[j] }
                                activate(candAct, a, into: y, count: w)
                            case .lstm:
                                let ki = conv.block(.i) * h, kf = conv.block(.f) * h,
                                    kg = conv.block(.g) * h, ko = conv.block(.o) * h
                                for k in 0..<gc {
                                    for j in 0..<w { a[k * h + j] += r[k * blockStride + j] }
                                }
                                let cIn = cpBuf.baseAddress! + row * h + j0
                                let cOut = cBuf.baseAddress! + row * h + j0,
                                    mOut = mBuf.baseAddress! + row * h + j0
                                if let pI { for j in 0..<w { a[ki + j] += pI[j0 + j] * cIn[j] } }
                                if let pF { for j in 0..<w { a[kf + j] += pF[j0 + j] * cIn[j] } }
                                activate(gateAct, a + ki, into: y + ki, count: w)
                                if conv.inputForget {
                                    for j in 0..<w { y[kf + j] = 1 - y[ki + j] }
                                } else {
                                    activate(gateAct, a + kf, into: y + kf, count: w)
                                }
                                activate(candAct, a + kg, into: y + kg, count: w)
                                for j in 0..<w {
                                    cOut[j] = lstmCellState(
                                        forget: y[kf + j], input: y[ki + j], candidate: y[kg + j],
                                        previous: cIn[j])
                                }
                                if let pO { for j in 0..<w { a[ko + j] += pO[j0 + j] * cOut[j] } }
                                activate(gateAct, a + ko, into: y + ko, count: w)
                                outAct.apply(
                                    UnsafeBufferPointer(start: cOut, count: w),
                                    into: UnsafeMutableBufferPointer(start: mOut, count: w))
                                for j in 0..<w { mOut[j] *= y[ko + j] }
                            case .gru:
                                // Reset after the product: u = R_n h_prev + b_Rn, a_n += r ⊙ u.
                                let bz = conv.block(.z), brk = conv.block(.r), bn = conv.block(.n)
                                let kz = bz * h, kr = brk * h, kn = bn * h
                                let u = uBuf.baseAddress! + row * h + j0,
                                    hNew = hBuf.baseAddress! + row * h + j0
                                let hp = hpBuf.baseAddress! + row * s + j0
                                for j in 0..<w {
                                    a[kz + j] += r[bz * blockStride + j] + (br?[kz + j0 + j] ?? 0)
                                    a[kr + j] += r[brk * blockStride + j] + (br?[kr + j0 + j] ?? 0)
                                }
                                activate(gateAct, a + kz, into: y + kz, count: w)
                                activate(gateAct, a + kr, into: y + kr, count: w)
                                for j in 0..<w {
                                    u[j] = r[bn * blockStride + j] + (br?[kn + j0 + j] ?? 0)
                                    a[kn + j] += y[kr + j] * u[j]
                                }
                                activate(candAct, a + kn, into: y + kn, count: w)
                                for j in 0..<w {
                                    hNew[j] = gruBlend(
                                        update: y[kz + j], previous: hp[j], candidate: y[kn + j],
                                        side: side)
                                }
                            }
                        }
                    }
                    if useSplit, let split {
                        forEachPart(split.ranges.count) { t in
                            let range = split.ranges[t], w = range.count
                            var part = [T](repeating: 0, count: bsz * gc * w)
                            gemm(
                                hPrev, split.weights[t], into: &part, m: bsz, transposeA: false,
                                accumulate: false,
                                threads: split.ranges.count > 1 ? 1 : nil)
                            part.withUnsafeBufferPointer {
                                gatesOf(
                                    rows: 0..<bsz, j0: range.lowerBound, w: w, rec: $0.baseAddress!,
                                    rowStride: gc * w, blockStride: w)
                            }
                        }
                    } else {
                        rec.withUnsafeBufferPointer { r in
                            forEachRowRange(bsz, work: bsz * gh * 2) { rows in
                                gatesOf(
                                    rows: rows, j0: 0, w: h, rec: r.baseAddress!, rowStride: gh,
                                    blockStride: h)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The GRU step with the reset gate applied before the product (n = g(W_n x + b_Wn +
    /// R_n (r ⊙ h_prev) + b_Rn)): z and r first, then a second product, so not split by hidden unit.
    @inlinable
    func gruForwardResetBeforeProduct(x: Tensor<T>, pre: consuming [T], gates: consuming [T], hPrev: Tensor<T>)
        -> CellStepCache<T>
    {
        let conv = conventions, p = parameters
        precondition(
            conv.kind == .gru && conv.resetPlacement == .beforeMatmul,
            "gruForwardResetBeforeProduct on a \(conv.kind) cell")
        let bsz = x.shape[0], h = hiddenSize, s = stateSize
        let gh = conv.kind.gateCount * h
        var pre = consume pre, gates = consume gates
        // z and r: pre-activations += h_prev R_zrᵀ + b_Rzr (the n block of this product is unused).
        var rec = p.br?.scalars ?? [T](repeating: 0, count: gh)
        if bsz != 1 { rec = [T]((0..<bsz).map { _ in rec }.joined()) }  // bsz = 0: no rows
        gemm(hPrev.scalars, p.r.scalars, into: &rec, m: bsz, n: gh, k: s, transposeB: true, accumulate: true)
        let kz = conv.block(.z) * h, kr = conv.block(.r) * h, kn = conv.block(.n) * h
        let gateAct = conv.gateActivation, candAct = conv.candidateActivation, side = conv.updateSide
        for row in 0..<bsz {
            for j in 0..<h {
                pre[row * gh + kz + j] += rec[row * gh + kz + j]
                pre[row * gh + kr + j] += rec[row * gh + kr + j]
            }
        }
        pre.withUnsafeBufferPointer { a in
            gates.withUnsafeMutableBufferPointer { y in
                for row in 0..<bsz {
                    activate(gateAct, a.baseAddress! + row * gh + kz, into: y.baseAddress! + row * gh + kz, count: h)
                    activate(gateAct, a.baseAddress! + row * gh + kr, into: y.baseAddress! + row * gh + kr, count: h)
                }
            }
        }
        // n: q = r ⊙ h_prev, a_n += R_n q + b_Rn.
        var resetInput = [T](repeating: 0, count: bsz * h)
        for row in 0..<bsz {
            for j in 0..<h { resetInput[row * h + j] = gates[row * gh + kr + j] * hPrev.scalars[row * s + j] }
        }
        var u = [T](repeating: 0, count: bsz * h)
        if let br = p.br { for row in 0..<bsz { for j in 0..<h { u[row * h + j] = br.scalars[kn + j] } } }
        gemm(
            resetInput, rows(p.r, block: conv.block(.n)), into: &u, m: bsz, n: h, k: s, transposeB: true,
            accumulate: true)
        for row in 0..<bsz { for j in 0..<h { pre[row * gh + kn + j] += u[row * h + j] } }
        var hOut = [T](repeating: 0, count: bsz * h)
        pre.withUnsafeBufferPointer { a in
            gates.withUnsafeMutableBufferPointer { y in
                for row in 0..<bsz {
                    activate(candAct, a.baseAddress! + row * gh + kn, into: y.baseAddress! + row * gh + kn, count: h)
                }
            }
        }
        for row in 0..<bsz {
            for j in 0..<h {
                hOut[row * h + j] = gruBlend(
                    update: gates[row * gh + kz + j], previous: hPrev.scalars[row * h + j],
                    candidate: gates[row * gh + kn + j], side: side)
            }
        }
        return CellStepCache(
            x: x, hPrev: hPrev, preactivations: Tensor(shape: [bsz, gh], scalars: pre),
            gates: Tensor(shape: [bsz, gh], scalars: gates),
            state: .gru(resetInput: Tensor(shape: [bsz, h], scalars: resetInput)),
            h: Tensor(shape: [bsz, h], scalars: hOut))
    }
}
