// One recurrent-cell core for the Elman RNN, the LSTM and the GRU, with every framework's
// conventions (gate order, bias split, GRU reset placement and update side, peepholes, clip,
// coupled input/forget gate, projection, activations) as data.
//
// Shape legend: B batch, I input, H hidden, P state size of h (H, or the projection size),
//   G gates (RNN 1, GRU 3, LSTM 4).
//   x [B, I], h_prev [B, P], c_prev [B, H]
//   W [G*H, I] input weights, R [G*H, P] recurrent weights, b_W [G*H], b_R [G*H],
//   peepholes p_i, p_f, p_o [H], projection W_hr [P, H]
//   gate blocks of W, R, b_W, b_R: rows k*H ..< (k+1)*H hold gate gateOrder[k].

/// The cell family.
public enum CellKind: String, Sendable, CaseIterable {
    case rnn, lstm, gru

    /// The number of gate blocks G.
    @inlinable public var gateCount: Int {
        switch self {
        case .rnn: return 1
        case .gru: return 3
        case .lstm: return 4
        }
    }
}

/// A gate block of the weights.
///
/// LSTM: `i` input, `f` forget, `g` cell candidate, `o` output. GRU: `z` update, `r` reset,
/// `n` candidate (new state). RNN: `a`, the one pre-activation.
public enum Gate: String, Sendable, CaseIterable {
    case i, f, g, o, z, r, n, a
}

/// Where the GRU reset gate applies.
public enum ResetPlacement: String, Sendable, CaseIterable {
    /// n = g(W_n x + b_Wn + R_n (r ⊙ h_prev) + b_Rn): seeds 000/003, ONNX `linear_before_reset: 0`,
    /// Keras `reset_after: false`.
    case beforeMatmul = "before_matmul"
    /// n = g(W_n x + b_Wn + r ⊙ (R_n h_prev + b_Rn)): PyTorch, ONNX `linear_before_reset: 1`,
    /// Keras `reset_after: true`.
    case afterMatmul = "after_matmul"
}

/// Which side of the GRU blend the update gate z weighs.
public enum UpdateSide: String, Sendable, CaseIterable {
    /// h = (1 − z) ⊙ h_prev + z ⊙ n: the seeds.
    case candidate
    /// h = z ⊙ h_prev + (1 − z) ⊙ n: PyTorch, ONNX, Keras.
    case previous
}

/// The conventions of a cell: everything except the weights.
public struct CellConventions: Sendable, Equatable {
    public var kind: CellKind
    /// The gate of each weight block, in storage order (LSTM PyTorch [i, f, g, o], ONNX [i, o, f, g],
    /// seed 000 [f, i, o, g]; GRU PyTorch [r, z, n], ONNX/Keras [z, r, n]; RNN [a]).
    public var gateOrder: [Gate]
    /// ONNX's f: the gates i, f, o, z, r (sigmoid).
    public var gateActivation: CellActivation
    /// ONNX's g: the LSTM cell candidate g, the GRU candidate n, the RNN hidden activation (tanh).
    public var candidateActivation: CellActivation
    /// ONNX's h: the LSTM output h = o ⊙ h(c) (tanh). Unused by RNN and GRU.
    public var outputActivation: CellActivation
    /// When set, every gate pre-activation is clamped to [−clip, clip] before its activation (ONNX `clip`).
    public var clip: Double?
    /// LSTM only: f = 1 − i, the forget block of the weights is ignored (ONNX `input_forget`).
    public var inputForget: Bool
    /// GRU only.
    public var resetPlacement: ResetPlacement
    /// GRU only.
    public var updateSide: UpdateSide

    @inlinable
    public init(kind: CellKind, gateOrder: [Gate]? = nil,
                gateActivation: CellActivation = .sigmoid, candidateActivation: CellActivation = .tanh,
                outputActivation: CellActivation = .tanh, clip: Double? = nil, inputForget: Bool = false,
                resetPlacement: ResetPlacement = .afterMatmul, updateSide: UpdateSide = .previous) {
        self.kind = kind
        self.gateOrder = gateOrder ?? CellConventions.defaultOrder(kind)
        precondition(Set(self.gateOrder) == Set(CellConventions.defaultOrder(kind)) && self.gateOrder.count == kind.gateCount,
                     "gate order \(self.gateOrder) does not list the gates of a \(kind) cell")
        self.gateActivation = gateActivation
        self.candidateActivation = candidateActivation
        self.outputActivation = outputActivation
        self.clip = clip
        self.inputForget = inputForget
        self.resetPlacement = resetPlacement
        self.updateSide = updateSide
    }

    /// PyTorch's order: LSTM [i, f, g, o], GRU [r, z, n], RNN [a].
    public static func defaultOrder(_ kind: CellKind) -> [Gate] {
        switch kind {
        case .rnn: return [.a]
        case .lstm: return [.i, .f, .g, .o]
        case .gru: return [.r, .z, .n]
        }
    }

    /// Row offset of a gate's block, in units of H.
    @inlinable
    public func block(_ gate: Gate) -> Int {
        guard let k = gateOrder.firstIndex(of: gate) else { preconditionFailure("a \(kind) cell has no gate \(gate)") }
        return k
    }
}

/// The weights of a cell, in the conventions' gate order.
public struct CellParameters<T: KernelScalar>: Sendable {
    /// Input weights W, [G*H, I].
    public var w: Tensor<T>
    /// Recurrent weights R, [G*H, P].
    public var r: Tensor<T>
    /// Input bias b_W, [G*H], or nil.
    public var bw: Tensor<T>?
    /// Recurrent bias b_R, [G*H], or nil (frameworks with one bias put it in b_W).
    public var br: Tensor<T>?
    /// LSTM peepholes, [H] each (ONNX P = [p_i, p_o, p_f]).
    public var peepholeI: Tensor<T>?
    public var peepholeF: Tensor<T>?
    public var peepholeO: Tensor<T>?
    /// LSTM projection W_hr, [P, H] (PyTorch `proj_size`).
    public var projection: Tensor<T>?

    @inlinable
    public init(w: Tensor<T>, r: Tensor<T>, bw: Tensor<T>? = nil, br: Tensor<T>? = nil,
                peepholeI: Tensor<T>? = nil, peepholeF: Tensor<T>? = nil, peepholeO: Tensor<T>? = nil,
                projection: Tensor<T>? = nil) {
        self.w = w
        self.r = r
        self.bw = bw
        self.br = br
        self.peepholeI = peepholeI
        self.peepholeF = peepholeF
        self.peepholeO = peepholeO
        self.projection = projection
    }
}

/// Gradients of a cell's weights; same shapes as `CellParameters` (biases, peepholes and the
/// projection always present, zero where the cell has none).
public struct CellGradients<T: KernelScalar>: Sendable {
    public var w: Tensor<T>
    public var r: Tensor<T>
    public var bw: Tensor<T>
    public var br: Tensor<T>
    public var peepholeI: Tensor<T>
    public var peepholeF: Tensor<T>
    public var peepholeO: Tensor<T>
    public var projection: Tensor<T>?

    /// Zeros shaped like the cell's weights.
    @inlinable
    public init(zerosLike cell: RecurrentCell<T>) {
        let gh = cell.conventions.kind.gateCount * cell.hiddenSize, h = cell.hiddenSize
        w = Tensor(zeros: [gh, cell.inputSize])
        r = Tensor(zeros: [gh, cell.stateSize])
        bw = Tensor(zeros: [gh])
        br = Tensor(zeros: [gh])
        peepholeI = Tensor(zeros: [h])
        peepholeF = Tensor(zeros: [h])
        peepholeO = Tensor(zeros: [h])
        projection = cell.parameters.projection.map { Tensor(zeros: $0.shape) }
    }
}

/// What one batched cell step computed: enough for the backward step.
public struct CellStepCache<T: KernelScalar>: Sendable {
    /// x [B, I], h_prev [B, P], c_prev [B, H] (LSTM).
    public var x: Tensor<T>
    public var hPrev: Tensor<T>
    public var cPrev: Tensor<T>?
    /// Gate pre-activations before clipping, [B, G*H], storage order (peepholes included).
    public var preactivations: Tensor<T>
    /// Gate values after their activations, [B, G*H], storage order (f = 1 − i under input_forget).
    public var gates: Tensor<T>
    /// GRU: R_n h_prev + b_Rn (after-matmul placement) or r ⊙ h_prev (before-matmul), [B, H].
    public var resetInput: Tensor<T>?
    /// LSTM: new cell state c, [B, H].
    public var c: Tensor<T>?
    /// LSTM: o ⊙ h(c) before the projection, [B, H].
    public var unprojected: Tensor<T>?
    /// New hidden state, [B, P].
    public var h: Tensor<T>

    @inlinable
    public init(x: Tensor<T>, hPrev: Tensor<T>, cPrev: Tensor<T>?, preactivations: Tensor<T>, gates: Tensor<T>,
                resetInput: Tensor<T>?, c: Tensor<T>?, unprojected: Tensor<T>?, h: Tensor<T>) {
        self.x = x
        self.hPrev = hPrev
        self.cPrev = cPrev
        self.preactivations = preactivations
        self.gates = gates
        self.resetInput = resetInput
        self.c = c
        self.unprojected = unprojected
        self.h = h
    }

    /// The values of one gate, [B, H] (from `gates`; `preactivation: true` for the pre-activation).
    @inlinable
    public func gate(_ gate: Gate, of conventions: CellConventions, preactivation: Bool = false) -> Tensor<T> {
        let source = preactivation ? preactivations : gates
        let b = source.shape[0], gh = source.shape[1], h = gh / conventions.kind.gateCount
        let k = conventions.block(gate)
        var out = [T]()
        out.reserveCapacity(b * h)
        for row in 0..<b { out.append(contentsOf: source.scalars[(row * gh + k * h)..<(row * gh + (k + 1) * h)]) }
        return Tensor(shape: [b, h], scalars: out)
    }
}

/// Gradients with respect to a step's inputs.
public struct CellInputGradients<T: KernelScalar>: Sendable {
    /// dL/dx, [B, I].
    public var x: Tensor<T>
    /// dL/dh_prev, [B, P].
    public var hPrev: Tensor<T>
    /// dL/dc_prev, [B, H] (LSTM).
    public var cPrev: Tensor<T>?

    @inlinable
    public init(x: Tensor<T>, hPrev: Tensor<T>, cPrev: Tensor<T>?) {
        self.x = x
        self.hPrev = hPrev
        self.cPrev = cPrev
    }
}

/// A recurrent cell: conventions plus weights.
///
/// RNN:  h = g(W x + b_W + R h_prev + b_R)
/// LSTM: a_k = W_k x + b_Wk + R_k h_prev + b_Rk (+ p_k ⊙ c_prev for k = i, f)
///       i = f(a_i), f = f(a_f) (or 1 − i), g = g(a_g), c = f ⊙ c_prev + i ⊙ g,
///       o = f(a_o + p_o ⊙ c), h = o ⊙ h(c) (then h = W_hr h with a projection)
/// GRU:  z = f(a_z), r = f(a_r),
///       n = g(W_n x + b_Wn + R_n (r ⊙ h_prev) + b_Rn)       (reset before the matmul)
///       n = g(W_n x + b_Wn + r ⊙ (R_n h_prev + b_Rn))       (reset after the matmul)
///       h = (1 − z) ⊙ h_prev + z ⊙ n  or  h = z ⊙ h_prev + (1 − z) ⊙ n
/// With `clip`, each pre-activation is clamped to [−clip, clip] before its activation.
public struct RecurrentCell<T: KernelScalar>: Sendable {
    public var conventions: CellConventions
    public var parameters: CellParameters<T>

    /// H.
    public var hiddenSize: Int { parameters.w.shape[0] / conventions.kind.gateCount }
    /// I.
    public var inputSize: Int { parameters.w.shape[1] }
    /// P: the size of h (the projection size, or H).
    public var stateSize: Int { parameters.projection?.shape[0] ?? hiddenSize }

    /// A cell; the weights' shapes are checked against each other (callers check user input first).
    @inlinable
    public init(conventions: CellConventions, parameters p: CellParameters<T>) {
        let g = conventions.kind.gateCount
        precondition(p.w.rank == 2 && p.w.shape[0] % g == 0, "W must be [\(g)*H, I], found \(p.w.shape)")
        let h = p.w.shape[0] / g, s = p.projection?.shape[0] ?? h
        precondition(p.r.shape == [g * h, s], "R must be [\(g * h), \(s)], found \(p.r.shape)")
        for b in [p.bw, p.br].compactMap({ $0 }) { precondition(b.shape == [g * h], "biases must be [\(g * h)], found \(b.shape)") }
        for q in [p.peepholeI, p.peepholeF, p.peepholeO].compactMap({ $0 }) {
            precondition(conventions.kind == .lstm && q.shape == [h], "peepholes must be [\(h)] on an LSTM")
        }
        if let proj = p.projection { precondition(conventions.kind == .lstm && proj.shape == [s, h], "projection must be [P, H] on an LSTM") }
        self.conventions = conventions
        self.parameters = p
    }

    // MARK: helpers

    @inlinable
    func clamp(_ x: T) -> T {
        guard let c = conventions.clip else { return x }
        let b = T(c)
        return Swift.min(b, Swift.max(-b, x))
    }

    /// d clamp(x)/dx: 1 inside [−clip, clip] (ends included), 0 outside.
    @inlinable
    func clampSlope(_ x: T) -> T {
        guard let c = conventions.clip else { return 1 }
        return Swift.abs(x) <= T(c) ? 1 : 0
    }

    /// y[k] = act(clamp(a[k])) for k in 0..<n: the whole run at once (vectorized for the sigmoid
    /// and tanh), through a scratch copy only when the cell clips.
    @inlinable
    func activate(_ act: CellActivation, _ a: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count n: Int) {
        if conventions.clip == nil {
            act.apply(UnsafeBufferPointer(start: a, count: n), into: UnsafeMutableBufferPointer(start: y, count: n))
        } else {
            let clamped = (0..<n).map { clamp(a[$0]) }
            clamped.withUnsafeBufferPointer { act.apply($0, into: UnsafeMutableBufferPointer(start: y, count: n)) }
        }
    }

    /// Rows [k*H, (k+1)*H) of a [G*H, K] matrix, as a flat [H*K] array.
    @inlinable
    func rows(_ m: Tensor<T>, block k: Int) -> [T] {
        let h = hiddenSize, n = m.shape[1]
        return Array(m.scalars[(k * h * n)..<((k + 1) * h * n)])
    }

    // MARK: forward

    /// Whether b_R is added with b_W in the input projection (RNN, LSTM): every gate sees
    /// b_W + b_R. The GRU keeps b_R apart, because its reset gate multiplies R_n h_prev + b_Rn.
    @inlinable
    var foldsRecurrentBias: Bool { conventions.kind != .gru }

    /// The input part of every gate for `rows` rows of x at once: x Wᵀ + b_W (+ b_R for RNN and
    /// LSTM), [rows, G*H]. A sequence calls it once for all its steps ([T*B, I] → [T*B, G*H]),
    /// one matrix product instead of T.
    @inlinable
    public func projectInputs(_ x: [T], rows: Int) -> [T] {
        let gh = conventions.kind.gateCount * hiddenSize, p = parameters
        precondition(x.count == rows * inputSize, "projectInputs: \(x.count) values for \(rows) rows of \(inputSize)")
        var bias = p.bw?.scalars ?? [T](repeating: 0, count: gh)
        if foldsRecurrentBias, let br = p.br { for j in 0..<gh { bias[j] += br.scalars[j] } }
        var out = [T](repeating: 0, count: rows * gh)
        out.withUnsafeMutableBufferPointer { o in
            bias.withUnsafeBufferPointer { b in
                for row in 0..<rows { for j in 0..<gh { o[row * gh + j] = b[j] } }
            }
        }
        gemm(x, p.w.scalars, into: &out, m: rows, n: gh, k: inputSize, transposeB: true, accumulate: true)
        return out
    }

    /// One step for a batch.
    ///
    /// - Parameters:
    ///   - x: [B, I]. - hPrev: [B, P]. - cPrev: [B, H], LSTM only (zeros if nil).
    /// - Returns: the cache, holding every gate, c and h.
    @inlinable
    public func forward(x: Tensor<T>, hPrev: Tensor<T>, cPrev: Tensor<T>? = nil) -> CellStepCache<T> {
        precondition(x.rank == 2 && x.shape[1] == inputSize, "cell step: x \(x.shape)")
        return forward(x: x, projected: projectInputs(x.scalars, rows: x.shape[0]), hPrev: hPrev, cPrev: cPrev)
    }

    /// The recurrent weights regrouped for a step split over threads by hidden unit: part t holds
    /// the rows k*H + j of R for every gate block k and every j in `ranges[t]`, [G*|range|, P], so
    /// that each thread computes its share of h_prev Rᵀ and then every gate of its hidden units,
    /// with no synchronization in between (`forward(x:projected:hPrev:cPrev:split:)`).
    ///
    /// Each part is packed once (`packOperand`) for the step's product h_prev R_tᵀ, and R whole for
    /// the backward step's dR · R.
    public struct SplitRecurrent: Sendable {
        public var ranges: [Range<Int>]
        /// Part t's rows of R, packed as the [P, G*|range|] right operand of h_prev R_tᵀ.
        public var weights: [PackedOperand<T>]

        @inlinable
        public init(ranges: [Range<Int>], weights: [PackedOperand<T>]) {
            self.ranges = ranges
            self.weights = weights
        }
    }

    /// Whether a step can run split by hidden unit: every gate of unit j depends only on column j
    /// of each gate block (not so with a projection, or with the GRU reset applied before the product).
    @inlinable
    public var splitsByHiddenUnit: Bool {
        switch conventions.kind {
        case .rnn: return true
        case .lstm: return parameters.projection == nil
        case .gru: return conventions.resetPlacement == .afterMatmul
        }
    }

    /// R regrouped into `parts` ranges of hidden units (see `SplitRecurrent`).
    @inlinable
    public func splitRecurrent(parts: Int) -> SplitRecurrent {
        let h = hiddenSize, s = stateSize, gc = conventions.kind.gateCount
        let ranges = (0..<parts).map { t in (t * h / parts)..<((t + 1) * h / parts) }
        let weights = ranges.map { range -> PackedOperand<T> in
            var part = [T]()
            part.reserveCapacity(gc * range.count * s)
            for k in 0..<gc { part.append(contentsOf: parameters.r.scalars[((k * h + range.lowerBound) * s)..<((k * h + range.upperBound) * s)]) }
            return packOperand(part, k: s, n: gc * range.count, transposed: true)
        }
        return SplitRecurrent(ranges: ranges, weights: weights)
    }

    /// The split a sequence of batch `batch` should run its steps with: R regrouped in two parts
    /// when a step's product is large enough for two threads to pay (2^21 multiply-adds, about
    /// B=32, H=128 for an LSTM), else one part (R packed once, every unit on the calling thread);
    /// nil where the cell does not split (`splitsByHiddenUnit`).
    @inlinable
    public func sequenceSplit(batch: Int) -> SplitRecurrent? {
        guard splitsByHiddenUnit else { return nil }
        let work = batch * conventions.kind.gateCount * hiddenSize * stateSize
        let threads = packedGemmAvailable && elementwiseThreads > 1 && hiddenSize >= 16 && work >= 1 << 21
        return splitRecurrent(parts: threads ? elementwiseThreads : 1)
    }

    /// One step for a batch whose input part `projected` = `projectInputs(x)` is already computed
    /// ([B, G*H]; it becomes the step's pre-activations).
    ///
    /// - Parameter split: R regrouped by hidden unit (`splitRecurrent`), for a step whose threads
    ///   each compute their hidden units' share of the product and then their gates; nil computes
    ///   the product first (on up to 2 threads) and then the gates. Ignored where
    ///   `splitsByHiddenUnit` is false.
    @inlinable
    public func forward(x: Tensor<T>, projected: consuming [T], hPrev: Tensor<T>, cPrev: Tensor<T>? = nil,
                        split: SplitRecurrent? = nil) -> CellStepCache<T> {
        // (No copy of `parameters`: copying the struct retains and releases every weight tensor each step.)
        let conv = conventions
        let bsz = x.shape[0], inp = inputSize, h = hiddenSize, s = stateSize
        let gc = conv.kind.gateCount, gh = gc * h
        precondition(x.shape == [bsz, inp] && hPrev.shape == [bsz, s] && projected.count == bsz * gh,
                     "cell step: x \(x.shape), h_prev \(hPrev.shape)")
        var pre = consume projected    // the caller's array becomes the pre-activations, not copied
        var gates = [T](repeating: 0, count: bsz * gh)
        if conv.kind == .gru && conv.resetPlacement == .beforeMatmul {
            return gruForwardResetBeforeProduct(x: x, pre: pre, gates: gates, hPrev: hPrev)
        }
        let isLSTM = conv.kind == .lstm
        let cp = isLSTM ? (cPrev ?? Tensor(zeros: [bsz, h])) : Tensor<T>(shape: [0], scalars: [])
        precondition(!isLSTM || cp.shape == [bsz, h], "cell step: c_prev \(cp.shape)")
        var buffers = StepBuffers(pre: consume pre, gates: consume gates, kind: conv.kind, batch: bsz, hidden: h)
        forwardInPlace(&buffers, batch: bsz, hPrev: hPrev.scalars, cPrev: cp.scalars, split: split)
        pre = buffers.pre
        gates = buffers.gates
        let c = buffers.c, m = buffers.m, resetInput = buffers.resetInput, hOut = buffers.hOut
        switch conv.kind {
        case .rnn:
            let hT = Tensor(shape: [bsz, h], scalars: gates)
            return CellStepCache(x: x, hPrev: hPrev, cPrev: nil, preactivations: Tensor(shape: [bsz, gh], scalars: pre),
                                 gates: hT.reshaped([bsz, gh]), resetInput: nil, c: nil, unprojected: nil, h: hT)
        case .lstm:
            let hLSTM = lstmState(m, rows: bsz)
            return CellStepCache(x: x, hPrev: hPrev, cPrev: cp, preactivations: Tensor(shape: [bsz, gh], scalars: pre),
                                 gates: Tensor(shape: [bsz, gh], scalars: gates), resetInput: nil,
                                 c: Tensor(shape: [bsz, h], scalars: c),
                                 unprojected: parameters.projection == nil ? nil : Tensor(shape: [bsz, h], scalars: m),
                                 h: Tensor(shape: [bsz, s], scalars: hLSTM))
        case .gru:
            return CellStepCache(x: x, hPrev: hPrev, cPrev: nil, preactivations: Tensor(shape: [bsz, gh], scalars: pre),
                                 gates: Tensor(shape: [bsz, gh], scalars: gates),
                                 resetInput: Tensor(shape: [bsz, h], scalars: resetInput), c: nil, unprojected: nil,
                                 h: Tensor(shape: [bsz, h], scalars: hOut))
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
    /// - Parameters:
    ///   - b: `pre` holds the step's input part (`projectInputs`) on entry and the pre-activations on
    ///     return; `gates`, `c`, `m` (LSTM: o ⊙ act(c)), `resetInput` and `hOut` (GRU) are overwritten.
    ///   - hPrev: [B, P]. - cPrev: [B, H] for an LSTM (empty otherwise).
    /// - Precondition: not a GRU with the reset before the product (`gruForwardResetBeforeProduct`).
    @inlinable
    public func forwardInPlace(_ b: inout StepBuffers<T>, batch bsz: Int, hPrev: [T], cPrev: [T], split: SplitRecurrent?) {
        let conv = conventions
        let h = hiddenSize, s = stateSize
        let gc = conv.kind.gateCount, gh = gc * h
        precondition(!(conv.kind == .gru && conv.resetPlacement == .beforeMatmul), "forwardInPlace: a GRU with the reset before the product")
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

        pre.withUnsafeMutableBufferPointer { aBuf in
        gates.withUnsafeMutableBufferPointer { yBuf in
        c.withUnsafeMutableBufferPointer { cBuf in
        m.withUnsafeMutableBufferPointer { mBuf in
        resetInput.withUnsafeMutableBufferPointer { uBuf in
        hOut.withUnsafeMutableBufferPointer { hBuf in
        cPrev.withUnsafeBufferPointer { cpBuf in
        hPrev.withUnsafeBufferPointer { hpBuf in
            let aAll = aBuf.baseAddress!, yAll = yBuf.baseAddress!
            /// Every gate of the hidden units j0 ..< j0+w for the given rows; `rec` points at
            /// (row 0, block 0, unit j0) of h_prev Rᵀ laid out with these strides.
            func gatesOf(rows: Range<Int>, j0: Int, w: Int, rec: UnsafePointer<T>, rowStride: Int, blockStride: Int) {
                for row in rows {
                    let a = aAll + row * gh + j0, y = yAll + row * gh + j0, r = rec + row * rowStride
                    switch conv.kind {
                    case .rnn:
                        for j in 0..<w { a[j] += r[j] }
                        activate(candAct, a, into: y, count: w)
                    case .lstm:
                        let ki = conv.block(.i) * h, kf = conv.block(.f) * h, kg = conv.block(.g) * h, ko = conv.block(.o) * h
                        for k in 0..<gc { for j in 0..<w { a[k * h + j] += r[k * blockStride + j] } }
                        let cIn = cpBuf.baseAddress! + row * h + j0
                        let cOut = cBuf.baseAddress! + row * h + j0, mOut = mBuf.baseAddress! + row * h + j0
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
                            cOut[j] = lstmCellState(forget: y[kf + j], input: y[ki + j], candidate: y[kg + j], previous: cIn[j])
                        }
                        if let pO { for j in 0..<w { a[ko + j] += pO[j0 + j] * cOut[j] } }
                        activate(gateAct, a + ko, into: y + ko, count: w)
                        outAct.apply(UnsafeBufferPointer(start: cOut, count: w), into: UnsafeMutableBufferPointer(start: mOut, count: w))
                        for j in 0..<w { mOut[j] *= y[ko + j] }
                    case .gru:
                        // Reset after the product: u = R_n h_prev + b_Rn, a_n += r ⊙ u.
                        let bz = conv.block(.z), brk = conv.block(.r), bn = conv.block(.n)
                        let kz = bz * h, kr = brk * h, kn = bn * h
                        let u = uBuf.baseAddress! + row * h + j0, hNew = hBuf.baseAddress! + row * h + j0
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
                        for j in 0..<w { hNew[j] = gruBlend(update: y[kz + j], previous: hp[j], candidate: y[kn + j], side: side) }
                    }
                }
            }
            if useSplit, let split {
                forEachPart(split.ranges.count) { t in
                    let range = split.ranges[t], w = range.count
                    var part = [T](repeating: 0, count: bsz * gc * w)
                    gemm(hPrev, split.weights[t], into: &part, m: bsz, transposeA: false, accumulate: false,
                         threads: split.ranges.count > 1 ? 1 : nil)
                    part.withUnsafeBufferPointer {
                        gatesOf(rows: 0..<bsz, j0: range.lowerBound, w: w, rec: $0.baseAddress!, rowStride: gc * w, blockStride: w)
                    }
                }
            } else {
                rec.withUnsafeBufferPointer { r in
                    forEachRowRange(bsz, work: bsz * gh * 2) { rows in
                        gatesOf(rows: rows, j0: 0, w: h, rec: r.baseAddress!, rowStride: gh, blockStride: h)
                    }
                }
            }
        }}}}}}}}

    }

    /// The GRU step with the reset gate applied before the product (n = g(W_n x + b_Wn +
    /// R_n (r ⊙ h_prev) + b_Rn)): z and r first, then a second product, so not split by hidden unit.
    @inlinable
    func gruForwardResetBeforeProduct(x: Tensor<T>, pre: consuming [T], gates: consuming [T], hPrev: Tensor<T>) -> CellStepCache<T> {
        let conv = conventions, p = parameters
        precondition(conv.kind == .gru && conv.resetPlacement == .beforeMatmul, "gruForwardResetBeforeProduct on a \(conv.kind) cell")
        let bsz = x.shape[0], h = hiddenSize, s = stateSize
        let gh = conv.kind.gateCount * h
        var pre = consume pre, gates = consume gates
        // z and r: pre-activations += h_prev R_zrᵀ + b_Rzr (the n block of this product is unused).
        var rec = p.br?.scalars ?? [T](repeating: 0, count: gh)
        if bsz > 1 { rec = [T]((0..<bsz).map { _ in rec }.joined()) }
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
        gemm(resetInput, rows(p.r, block: conv.block(.n)), into: &u, m: bsz, n: h, k: s, transposeB: true, accumulate: true)
        for row in 0..<bsz { for j in 0..<h { pre[row * gh + kn + j] += u[row * h + j] } }
        var hOut = [T](repeating: 0, count: bsz * h)
        pre.withUnsafeBufferPointer { a in
            gates.withUnsafeMutableBufferPointer { y in
                for row in 0..<bsz { activate(candAct, a.baseAddress! + row * gh + kn, into: y.baseAddress! + row * gh + kn, count: h) }
            }
        }
        for row in 0..<bsz {
            for j in 0..<h {
                hOut[row * h + j] = gruBlend(update: gates[row * gh + kz + j], previous: hPrev.scalars[row * h + j],
                                             candidate: gates[row * gh + kn + j], side: side)
            }
        }
        return CellStepCache(x: x, hPrev: hPrev, cPrev: nil, preactivations: Tensor(shape: [bsz, gh], scalars: pre),
                             gates: Tensor(shape: [bsz, gh], scalars: gates),
                             resetInput: Tensor(shape: [bsz, h], scalars: resetInput), c: nil, unprojected: nil,
                             h: Tensor(shape: [bsz, h], scalars: hOut))
    }

    // MARK: backward

    /// The backward step: adds dL/d(weights) into `grads` and returns dL/dx, dL/dh_prev, dL/dc_prev.
    ///
    /// - Parameters:
    ///   - cache: the forward step's cache.
    ///   - dh: dL/dh for this step's h, [B, P] (everything flowing into h: the output and the next step).
    ///   - dc: dL/dc from the next step, [B, H] (LSTM; zeros if nil).
    /// - Note: at a clip boundary the slope is 1; activations use one-sided derivatives at kinks.
    ///   This is `backwardStep` followed by `accumulateWeightGradients` for the one step; a
    ///   sequence defers the second to one product over all its steps.
    @inlinable
    public func backward(_ cache: CellStepCache<T>, dh: Tensor<T>, dc: Tensor<T>? = nil,
                         into grads: inout CellGradients<T>) -> CellInputGradients<T> {
        let bsz = cache.x.shape[0], inp = inputSize, gh = conventions.kind.gateCount * hiddenSize
        let step = backwardStep(cache, dh: dh, dc: dc, into: &grads)
        accumulateWeightGradients(da: step.da, dRecurrent: step.dRecurrent, x: cache.x.scalars,
                                  hPrev: cache.hPrev.scalars, rows: bsz, into: &grads)
        var dx = [T](repeating: 0, count: bsz * inp)
        gemm(step.da, parameters.w.scalars, into: &dx, m: bsz, n: inp, k: gh)
        return CellInputGradients(x: Tensor(shape: [bsz, inp], scalars: dx), hPrev: step.hPrev, cPrev: step.cPrev)
    }

    /// The weight gradients that are products over rows: dW += daᵀ x, db_W += Σ da,
    /// dR += dRᵀ h_prev, db_R += Σ dR, where dR = `dRecurrent`.
    ///
    /// - Parameters:
    ///   - da: dL/d(input part of the pre-activations), [rows, G*H]. - dRecurrent: dL/d(h_prev Rᵀ + b_R), [rows, G*H].
    ///   - x: [rows, I]. - hPrev: [rows, P].
    ///   - rows: B for one step, or T*B for a whole sequence at once.
    @inlinable
    public func accumulateWeightGradients(da: [T], dRecurrent: [T], x: [T], hPrev: [T], rows: Int,
                                          into grads: inout CellGradients<T>) {
        let gh = conventions.kind.gateCount * hiddenSize
        gemm(da, x, into: &grads.w.scalars, m: gh, n: inputSize, k: rows, transposeA: true, accumulate: true)
        gemm(dRecurrent, hPrev, into: &grads.r.scalars, m: gh, n: stateSize, k: rows, transposeA: true, accumulate: true)
        addColumnSums(da, rows: rows, cols: gh, into: &grads.bw.scalars)
        addColumnSums(dRecurrent, rows: rows, cols: gh, into: &grads.br.scalars)
    }

    /// R packed as the right operand of the backward step's dR · R ([G*H, P]).
    @inlinable
    public func packedRecurrent() -> PackedOperand<T> {
        packOperand(parameters.r.scalars, k: conventions.kind.gateCount * hiddenSize, n: stateSize, transposed: false)
    }

    /// Whether the backward step lets each thread multiply its own rows of the gate gradients by the packed R
    /// right after computing them (LSTM, and GRU with the reset after the product): R must have panels and
    /// the product be large enough for two threads (2^21 multiply-adds).
    @inlinable
    func fusesRowProduct(batch: Int, packedR: PackedOperand<T>?) -> Bool {
        (packedR?.isPacked ?? false) && batch * conventions.kind.gateCount * hiddenSize * stateSize >= 1 << 21
    }

    /// dh_prev += dR · R, [B, G*H] · [G*H, P].
    @inlinable
    func dhPrevProduct(_ dRec: [T], into dhPrev: inout [T], rows: Int, packedR: PackedOperand<T>?) {
        if let packedR {
            gemm(dRec, packedR, into: &dhPrev, m: rows, accumulate: true)
        } else {
            gemm(dRec, parameters.r.scalars, into: &dhPrev, m: rows, n: stateSize, k: conventions.kind.gateCount * hiddenSize, accumulate: true)
        }
    }

    /// The part of the backward step that must run step by step: the gradients of the gate
    /// pre-activations and of the previous state. Adds into `grads` only what is not a product
    /// over rows (peepholes, projection, and the GRU's n block of R when the reset applies before
    /// the product); `accumulateWeightGradients` adds the rest.
    ///
    /// - Parameter packedR: R packed as the [G*H, P] right operand (`packedRecurrent()`), for a sequence
    ///   that runs many steps with the same R; nil multiplies by R as stored.
    /// - Returns: da [B, G*H] (input part), dRecurrent [B, G*H] (recurrent part; equal to da but for
    ///   the GRU's n block), dL/dh_prev [B, P], dL/dc_prev [B, H] (LSTM).
    @inlinable
    public func backwardStep(_ cache: CellStepCache<T>, dh: Tensor<T>, dc: Tensor<T>? = nil,
                             packedR: PackedOperand<T>? = nil,
                             into grads: inout CellGradients<T>) -> CellStepGradients<T> {
        let conv = conventions, p = parameters
        let bsz = cache.x.shape[0], h = hiddenSize, s = stateSize
        let gh = conv.kind.gateCount * h
        precondition(dh.shape == [bsz, s], "cell backward: dh \(dh.shape)")
        let pre = cache.preactivations.scalars, gates = cache.gates.scalars
        // dL/d(pre-activation) per gate, storage order.
        var da = [T](repeating: 0, count: bsz * gh)
        var dhPrev = [T](repeating: 0, count: bsz * s)
        /// act'(clamp(x)) · clamp'(x), from the stored output y = act(clamp(x)).
        @inline(__always) func slope(_ act: CellActivation, _ x: T, _ y: T) -> T {
            act.derivative(clamp(x), output: y) * clampSlope(x)
        }

        switch conv.kind {
        case .rnn:
            let act = conv.candidateActivation
            for j in 0..<(bsz * gh) { da[j] = dh.scalars[j] * slope(act, pre[j], gates[j]) }
            dhPrevProduct(da, into: &dhPrev, rows: bsz, packedR: packedR)
            return CellStepGradients(da: da, dRecurrent: da, hPrev: Tensor(shape: [bsz, s], scalars: dhPrev), cPrev: nil)

        case .lstm:
            let ki = conv.block(.i) * h, kf = conv.block(.f) * h, kg = conv.block(.g) * h, ko = conv.block(.o) * h
            let c = cache.c!.scalars, cp = cache.cPrev!.scalars
            let gateAct = conv.gateActivation, candAct = conv.candidateActivation, outAct = conv.outputActivation
            // dm = dL/d(o ⊙ h(c)).
            var dm = dh.scalars
            if let proj = p.projection, var dproj = grads.projection {
                dm = [T](repeating: 0, count: bsz * h)
                gemm(dh.scalars, proj.scalars, into: &dm, m: bsz, n: h, k: s)
                gemm(dh.scalars, cache.unprojected!.scalars, into: &dproj.scalars, m: s, n: h, k: bsz, transposeA: true, accumulate: true)
                grads.projection = dproj
            }
            let dcNext = dc?.scalars ?? [T](repeating: 0, count: bsz * h)
            // h(c), as the forward pass computed it.
            var hcAll = [T](repeating: 0, count: bsz * h)
            c.withUnsafeBufferPointer { cb in hcAll.withUnsafeMutableBufferPointer { outAct.apply(cb, into: $0) } }
            let pI = p.peepholeI?.scalars, pF = p.peepholeF?.scalars, pO = p.peepholeO?.scalars
            var dcp = [T](repeating: 0, count: bsz * h), dcTotal = dcp
            let inputForget = conv.inputForget
            // With R packed and a product large enough for two threads, each thread multiplies its own
            // rows of da right after computing them.
            let fusedProduct = fusesRowProduct(batch: bsz, packedR: packedR)
            // Rows are independent: two threads for a large batch. The peepholes' gradients are
            // sums over rows, added from da afterwards.
            da.withUnsafeMutableBufferPointer { daBuf in
            dcp.withUnsafeMutableBufferPointer { dcpBuf in
            dcTotal.withUnsafeMutableBufferPointer { totalBuf in
            gates.withUnsafeBufferPointer { gates in
            pre.withUnsafeBufferPointer { pre in
            c.withUnsafeBufferPointer { c in
            cp.withUnsafeBufferPointer { cp in
            dm.withUnsafeBufferPointer { dm in
            dcNext.withUnsafeBufferPointer { dcNext in
            hcAll.withUnsafeBufferPointer { hcAll in
            dhPrev.withUnsafeMutableBufferPointer { dhpBuf in
                let da = daBuf.baseAddress!
                forEachRowRange(bsz, work: bsz * h * 8) { rows in
                    defer {
                        // Each thread's rows of dh_prev = da · R too: one hand-off per step.
                        if fusedProduct, let packedR {
                            gemmRows(UnsafePointer(da + rows.lowerBound * gh), packedR, into: dhpBuf.baseAddress! + rows.lowerBound * s,
                                     m: rows.count, accumulate: true)
                        }
                    }
                    for row in rows {
                        let base = row * gh
                        for j in 0..<h {
                            let q = row * h + j
                            let iv = gates[base + ki + j], fv = gates[base + kf + j], gv = gates[base + kg + j], ov = gates[base + ko + j]
                            let hc = hcAll[q]
                            let dOut = dm[q]
                            var dcv = dcNext[q] + dOut * ov * outAct.derivative(c[q], output: hc)
                            totalBuf[q] = dcv
                            let dao = dOut * hc * slope(gateAct, pre[base + ko + j], ov)
                            da[base + ko + j] = dao
                            if let pO { dcv += dao * pO[j] }
                            var di = dcv * gv
                            let df = dcv * cp[q]
                            let dg = dcv * iv
                            var dcPrevQ = dcv * fv
                            if inputForget {
                                di -= df
                            } else {
                                let daf = df * slope(gateAct, pre[base + kf + j], fv)
                                da[base + kf + j] = daf
                                if let pF { dcPrevQ += daf * pF[j] }
                            }
                            let dai = di * slope(gateAct, pre[base + ki + j], iv)
                            da[base + ki + j] = dai
                            if let pI { dcPrevQ += dai * pI[j] }
                            da[base + kg + j] = dg * slope(candAct, pre[base + kg + j], gv)
                            dcpBuf[q] = dcPrevQ
                        }
                    }
                }
            }}}}}}}}}}}
            for row in 0..<bsz {
                for j in 0..<h {
                    let q = row * h + j
                    if pO != nil { grads.peepholeO.scalars[j] += da[row * gh + ko + j] * c[q] }
                    if pF != nil && !inputForget { grads.peepholeF.scalars[j] += da[row * gh + kf + j] * cp[q] }
                    if pI != nil { grads.peepholeI.scalars[j] += da[row * gh + ki + j] * cp[q] }
                }
            }
            if !fusedProduct { dhPrevProduct(da, into: &dhPrev, rows: bsz, packedR: packedR) }
            return CellStepGradients(da: da, dRecurrent: da, hPrev: Tensor(shape: [bsz, s], scalars: dhPrev),
                                     cPrev: Tensor(shape: [bsz, h], scalars: dcp), c: dcTotal)

        case .gru:
            let kz = conv.block(.z) * h, kr = conv.block(.r) * h, kn = conv.block(.n) * h
            let hp = cache.hPrev.scalars, ri = cache.resetInput!.scalars
            let gateAct = conv.gateActivation, candAct = conv.candidateActivation
            if conv.resetPlacement == .afterMatmul {
                // u = R_n h_prev + b_Rn; a_n += r ⊙ u. dRecurrent: the z and r blocks as da, the n block
                // dL/du = dL/da_n ⊙ r. Rows are independent: two threads for a large batch, each also
                // multiplying its rows of dRecurrent by R when R is packed.
                var dRec = [T](repeating: 0, count: bsz * gh)
                let fusedProduct = fusesRowProduct(batch: bsz, packedR: packedR)
                let candidateSide = conv.updateSide == .candidate
                da.withUnsafeMutableBufferPointer { daBuf in
                dRec.withUnsafeMutableBufferPointer { recBuf in
                dhPrev.withUnsafeMutableBufferPointer { dhpBuf in
                dh.scalars.withUnsafeBufferPointer { dhBuf in
                gates.withUnsafeBufferPointer { gates in
                pre.withUnsafeBufferPointer { pre in
                hp.withUnsafeBufferPointer { hp in
                ri.withUnsafeBufferPointer { ri in
                    let da = daBuf.baseAddress!, dRec = recBuf.baseAddress!, dhPrev = dhpBuf.baseAddress!
                    forEachRowRange(bsz, work: bsz * h * 6) { rows in
                        for row in rows {
                            let base = row * gh
                            for j in 0..<h {
                                let q = row * h + j, d = dhBuf[q]
                                let z = gates[base + kz + j], nv = gates[base + kn + j], r = gates[base + kr + j]
                                let dz: T, dnv: T
                                if candidateSide {
                                    dz = d * (nv - hp[q]); dnv = d * z; dhPrev[q] += d * (1 - z)
                                } else {
                                    dz = d * (hp[q] - nv); dnv = d * (1 - z); dhPrev[q] += d * z
                                }
                                da[base + kz + j] = dz * slope(gateAct, pre[base + kz + j], z)
                                let dn = dnv * slope(candAct, pre[base + kn + j], nv)
                                da[base + kn + j] = dn
                                da[base + kr + j] = dn * ri[q] * slope(gateAct, pre[base + kr + j], r)
                                dRec[base + kz + j] = da[base + kz + j]
                                dRec[base + kr + j] = da[base + kr + j]
                                dRec[base + kn + j] = dn * r
                            }
                        }
                        if fusedProduct, let packedR {
                            gemmRows(UnsafePointer(dRec + rows.lowerBound * gh), packedR, into: dhPrev + rows.lowerBound * s,
                                     m: rows.count, accumulate: true)
                        }
                    }
                }}}}}}}}
                if !fusedProduct { dhPrevProduct(dRec, into: &dhPrev, rows: bsz, packedR: packedR) }
                return CellStepGradients(da: da, dRecurrent: dRec, hPrev: Tensor(shape: [bsz, s], scalars: dhPrev), cPrev: nil)
            }
            var dn = [T](repeating: 0, count: bsz * h)    // dL/d(a_n)
            for row in 0..<bsz {
                let base = row * gh
                for j in 0..<h {
                    let q = row * h + j, d = dh.scalars[q]
                    let z = gates[base + kz + j], nv = gates[base + kn + j]
                    let dz: T, dnv: T
                    if conv.updateSide == .candidate {
                        dz = d * (nv - hp[q]); dnv = d * z; dhPrev[q] += d * (1 - z)
                    } else {
                        dz = d * (hp[q] - nv); dnv = d * (1 - z); dhPrev[q] += d * z
                    }
                    da[base + kz + j] = dz * slope(gateAct, pre[base + kz + j], z)
                    dn[q] = dnv * slope(candAct, pre[base + kn + j], nv)
                    da[base + kn + j] = dn[q]
                }
            }
            // Reset before the product. dRecurrent: the z and r blocks as da; the n block 0 (R_n
            // multiplies r ⊙ h_prev, not h_prev: its gradients are added here).
            var dRec = da
            do {
                // q = r ⊙ h_prev; a_n += R_n q + b_Rn.
                let rn = rows(p.r, block: conv.block(.n))
                var dq = [T](repeating: 0, count: bsz * s)
                gemm(dn, rn, into: &dq, m: bsz, n: s, k: h)
                var dRn = [T](repeating: 0, count: h * s)
                gemm(dn, ri, into: &dRn, m: h, n: s, k: bsz, transposeA: true)
                let off = conv.block(.n) * h * s
                for e in 0..<(h * s) { grads.r.scalars[off + e] += dRn[e] }
                for row in 0..<bsz { for j in 0..<h { grads.br.scalars[kn + j] += dn[row * h + j] } }
                for row in 0..<bsz {
                    for j in 0..<h {
                        let q = row * h + j, r = gates[row * gh + kr + j]
                        da[row * gh + kr + j] = dq[q] * hp[q] * slope(gateAct, pre[row * gh + kr + j], r)
                        dRec[row * gh + kr + j] = da[row * gh + kr + j]
                        dRec[row * gh + kn + j] = 0
                        dhPrev[q] += dq[q] * r
                    }
                }
            }
            dhPrevProduct(dRec, into: &dhPrev, rows: bsz, packedR: packedR)
            return CellStepGradients(da: da, dRecurrent: dRec, hPrev: Tensor(shape: [bsz, s], scalars: dhPrev), cPrev: nil)
        }
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
    public var m: [T]
    /// GRU, [B, H]: R_n h_prev + b_Rn, and the new h.
    public var resetInput: [T]
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

/// What `RecurrentCell.backwardStep` returns: the gradients of one step's gate pre-activations
/// and of its previous state.
public struct CellStepGradients<T: KernelScalar>: Sendable {
    /// dL/d(x Wᵀ + b_W), [B, G*H].
    public var da: [T]
    /// dL/d(h_prev Rᵀ + b_R), [B, G*H] (the GRU's n block: see `backwardStep`).
    public var dRecurrent: [T]
    /// dL/dh_prev, [B, P].
    public var hPrev: Tensor<T>
    /// dL/dc_prev, [B, H] (LSTM).
    public var cPrev: Tensor<T>?
    /// LSTM: dL/dc of this step in full, through c_next (`dc`) and through h = o ⊙ act(c), [B, H]
    /// (the output gate's peephole path excluded: it is the gradient a perturbation of c made
    /// after o is computed would see).
    public var c: [T]?

    @inlinable
    public init(da: [T], dRecurrent: [T], hPrev: Tensor<T>, cPrev: Tensor<T>?, c: [T]? = nil) {
        self.da = da
        self.dRecurrent = dRecurrent
        self.hPrev = hPrev
        self.cPrev = cPrev
        self.c = c
    }
}

/// out[j] += Σ_row m[row, j] for a row-major [rows, cols] matrix.
@inlinable
func addColumnSums<T: KernelScalar>(_ m: [T], rows: Int, cols: Int, into out: inout [T]) {
    for row in 0..<rows { for j in 0..<cols { out[j] += m[row * cols + j] } }
}
