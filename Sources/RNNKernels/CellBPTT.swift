// Backpropagation through time for any `RecurrentCell` (RNN, LSTM, GRU) over a sequence, with
// a softmax cross-entropy head or an upstream gradient for every output step.
//
// Shape legend: T steps, B batch, I input, H hidden, P state size of h, V output classes.
//   x [T, B, I], h0 [B, P], c0 [B, H] (LSTM)
//   head: W_hy [V, P], b_y [V], targets [T, B]; or dy [T, B, P]
//   h [T, B, P], c [T, B, H], p [T, B, V]

/// The scalar loss read from a sequence's hidden states.
public enum SequenceLossHead<T: KernelScalar>: Sendable {
    /// p_t = softmax(W_hy h_t + b_y), L = Σ_t Σ_b −log p_t[b, target_t,b]; targets [T, B] flat.
    case crossEntropy(why: Tensor<T>, by: Tensor<T>?, targets: [Int])
    /// L = Σ_t Σ_b dy_t[b] · h_t[b], dy [T, B, P]: the gradient of any loss, chained.
    case upstream(dy: Tensor<T>)
}

/// What the forward pass over a sequence keeps for BPTT: the run (its step caches) and the head's values.
public struct CellSequenceCache<T: KernelScalar>: Sendable {
    /// The forward run, with its step caches (`runSequence(..., keepCaches: true)`).
    public var run: SequenceRun<T>
    /// Cross-entropy head: every softmax output, [T, B, V].
    public var p: Tensor<T>?
    /// The loss over the steps t ≥ `lossFrom`.
    public var loss: T
    /// The first step whose output enters the loss.
    public var lossFrom: Int

    /// Creates the result from its parts.
    @inlinable
    public init(run: SequenceRun<T>, p: Tensor<T>?, loss: T, lossFrom: Int) {
        self.run = run
        self.p = p
        self.loss = loss
        self.lossFrom = lossFrom
    }

    /// The cell's step caches, t = 0 … T−1.
    @inlinable
    public var steps: [CellStepCache<T>] { run.caches }
    /// Every h, [T, B, P].
    @inlinable
    public var h: Tensor<T> { run.outputs }
    /// LSTM: every c, [T, B, H] (gathered from the step caches when asked); nil for the other families.
    @inlinable
    public var c: Tensor<T>? {
        guard run.cacheCount > 0, case .lstm(_, let c0, _) = run.stepState(0) else { return nil }
        return Tensor(
            shape: [run.cacheCount] + c0.shape,
            scalars: (0..<run.cacheCount).flatMap { run.stepState($0).cellState?.scalars ?? [] })
    }
}

/// Gradients of a sequence loss: the cell's weights, the head, the initial state, and the
/// gradient reaching every state.
public struct CellSequenceGradients<T: KernelScalar>: Sendable {
    /// The gradients of the cell's weights.
    public var cell: CellGradients<T>
    /// Cross-entropy head: dW_hy [V, P] and db_y [V] (when the head has b_y).
    public var why: Tensor<T>?
    /// Cross-entropy head: db_y [V], when the head has b_y.
    public var by: Tensor<T>?
    /// dL/dh0 [B, P] and (LSTM) dL/dc0 [B, H], through the first window.
    public var h0: Tensor<T>
    /// dL/dc0 [B, H] (LSTM), through the first window.
    public var c0: Tensor<T>?
    /// dL/dx, [T, B, I] (time order), when asked (`inputGradient`).
    public var x: Tensor<T>?
    /// dL/dh_t for every t, [T, B, P], when asked (`recordStateGradients`): everything flowing into h_t
    /// (its output and step t+1), within its window.
    public var dh: Tensor<T>?
    /// LSTM, when asked (`recordStateGradients`): dL/dc_t in full for every t, through c_{t+1} and through
    /// h_t = o_t ⊙ act(c_t), [T, B, H].
    public var dc: Tensor<T>?

    /// Zeros for `cell` over `steps` steps of `batch` sequences; `dh`/`dc` only with
    /// `recordStateGradients`, `x` only with `inputGradient` (the backward driver keeps one step of
    /// them at a time otherwise).
    @inlinable
    public init(
        zerosLike cell: RecurrentCell<T>, head: SequenceLossHead<T>?, steps: Int, batch: Int,
        recordStateGradients: Bool = false, inputGradient: Bool = false
    ) {
        self.cell = CellGradients(zerosLike: cell)
        if case .crossEntropy(let why, let by, _)? = head {
            self.why = Tensor(zeros: why.shape)
            self.by = by.map { Tensor(zeros: $0.shape) }
        }
        let isLSTM = cell.conventions.kind == .lstm
        h0 = Tensor(zeros: [batch, cell.stateSize])
        c0 = isLSTM ? Tensor(zeros: [batch, cell.hiddenSize]) : nil
        if inputGradient { x = Tensor(zeros: [steps, batch, cell.inputSize]) }
        if recordStateGradients {
            dh = Tensor(zeros: [steps, batch, cell.stateSize])
            dc = isLSTM ? Tensor(zeros: [steps, batch, cell.hiddenSize]) : nil
        }
    }

    /// The weight gradients (cell weights and biases, then the head), the tensors clipping by
    /// global norm acts on. Biases and peepholes the cell does not have are left out.
    @inlinable
    public func weightGradients(of cell: RecurrentCell<T>) -> [Tensor<T>] {
        let p = cell.parameters
        var out = [self.cell.w, self.cell.r]
        if p.bw != nil { out.append(self.cell.bw) }
        if p.br != nil { out.append(self.cell.br) }
        if p.peepholeI != nil { out.append(self.cell.peepholeI) }
        if p.peepholeF != nil { out.append(self.cell.peepholeF) }
        if p.peepholeO != nil { out.append(self.cell.peepholeO) }
        if let proj = self.cell.projection { out.append(proj) }
        if let why { out.append(why) }
        if let by { out.append(by) }
        return out
    }
}

extension CellSequenceGradients {
    /// Clips the weight gradients (`weightGradients(of:)`, the initial-state gradients excluded) to
    /// global norm `maxNorm`, as `clipByGlobalNorm` does, after the whole sequence has been accumulated.
    ///
    /// - Returns: the global norm before clipping.
    @inlinable
    public mutating func clipWeights(maxNorm: T, of cell: RecurrentCell<T>) -> T {
        let result = clipByGlobalNorm(weightGradients(of: cell), maxNorm: maxNorm)
        guard result.scale != 1 else { return result.norm }
        func scale(_ t: inout Tensor<T>) { t = Tensor(shape: t.shape, scalars: t.scalars.map { $0 * result.scale }) }
        scale(&self.cell.w); scale(&self.cell.r); scale(&self.cell.bw); scale(&self.cell.br)
        scale(&self.cell.peepholeI); scale(&self.cell.peepholeF); scale(&self.cell.peepholeO)
        if self.cell.projection != nil { scale(&self.cell.projection!) }
        if why != nil { scale(&why!) }
        if by != nil { scale(&by!) }
        return result.norm
    }
}

/// Forward pass of a cell over a sequence with a loss head, keeping every step's cache.
///
///     h_t, c_t = cell(x_t, h_{t−1}, c_{t−1})
///     L = Σ_{t ≥ lossFrom} Σ_b −log softmax(W_hy h_t + b_y)[target_t,b]     (cross-entropy)
///     L = Σ_{t ≥ lossFrom} Σ_b dy_t · h_t                                  (upstream)
///
/// Arguments:
///   - x: [T, B, I]. - h0: [B, P], zeros if nil. - c0: [B, H] (LSTM), zeros if nil.
///   - probeH, probeC: values added to the states after every step, [T, B, P] and [T, B, H] (an LSTM
///     without peepholes or projection): `cellSequenceBackward` then reports dh[t] = dL/dprobeH_t and
///     dc[t] = dL/dprobeC_t (`RecurrentCell.probed`). nil adds nothing.
///   - lossFrom: the first step whose output enters the loss (0: every step; T−1: the last one).
/// - Returns: the run with its step caches, the softmax outputs and the loss.
/// - Note: the forward recurrence is `runSequence`'s; this adds the head. `cellSequenceBackward` is its
///   backward pass.
@inlinable
public func cellSequenceForward<T: KernelScalar>(
    _ cell: RecurrentCell<T>, x: Tensor<T>, h0: Tensor<T>? = nil,
    c0: Tensor<T>? = nil, probeH: Tensor<T>? = nil, probeC: Tensor<T>? = nil,
    head: SequenceLossHead<T>, lossFrom: Int = 0
) -> CellSequenceCache<T> {
    let run = runSequence(cell, x: x, h0: h0, c0: c0, keepCaches: true, probeH: probeH, probeC: probeC)
    let (loss, probabilities) = sequenceHeadLoss(run.outputs, head: head, lossFrom: lossFrom)
    return CellSequenceCache(run: run, p: probabilities, loss: loss, lossFrom: lossFrom)
}

/// The loss of `cellSequenceForward` alone: the same recurrence and head without the step caches (a
/// gradcheck's finite-difference runs need no backward pass), bit for bit the same loss.
///
/// Arguments: as `cellSequenceForward`'s (without probes).
@inlinable
public func cellSequenceLoss<T: KernelScalar>(
    _ cell: RecurrentCell<T>, x: Tensor<T>, h0: Tensor<T>? = nil, c0: Tensor<T>? = nil,
    head: SequenceLossHead<T>, lossFrom: Int = 0
) -> T {
    let run = runSequence(cell, x: x, h0: h0, c0: c0, keepCaches: false)
    return sequenceHeadLoss(run.outputs, head: head, lossFrom: lossFrom).0
}

/// The loss a head reads from every state h [T, B, P], over the steps t ≥ lossFrom, and the
/// cross-entropy head's softmax outputs [T, B, V].
@inlinable
public func sequenceHeadLoss<T: KernelScalar>(_ hAll: Tensor<T>, head: SequenceLossHead<T>, lossFrom: Int) -> (
    T, Tensor<T>?
) {
    let steps = hAll.shape[0], bsz = hAll.shape[1], s = hAll.shape[2]
    var loss: T = 0
    switch head {
    case .crossEntropy(let why, let by, let targets):
        let v = why.shape[0]
        precondition(
            why.shape == [v, s] && targets.count == steps * bsz,
            "sequenceHeadLoss: W_hy \(why.shape), \(targets.count) targets")
        let (logits, p) = affineSoftmax(hAll, weight: why, bias: by)
        for row in (lossFrom * bsz)..<(steps * bsz) {
            // log-softmax, not log(softmax): finite even where the probability underflows.
            loss -= logSoftmax(Array(logits.scalars[(row * v)..<((row + 1) * v)]))[targets[row]]
        }
        return (loss, p)
    case .upstream(let dy):
        precondition(dy.shape == hAll.shape, "sequenceHeadLoss: dy \(dy.shape) for h \(hAll.shape)")
        for k in (lossFrom * bsz * s)..<(steps * bsz * s) { loss += dy.scalars[k] * hAll.scalars[k] }
        return (loss, nil)
    }
}

/// y = W z + b over the last axis of z, and softmax(y) over that axis.
///
/// - Parameters:
///   - z: [..., K].
///   - weight: [V, K].
///   - bias: [V] (zeros if nil).
/// - Returns: y and p, both [..., V].
@inlinable
public func affineSoftmax<T: KernelScalar>(_ z: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) -> (
    Tensor<T>, Tensor<T>
) {
    let v = weight.shape[0], k = weight.shape[1]
    precondition(z.shape.last == k, "affineSoftmax: z \(z.shape), W \(weight.shape)")
    let rows = k == 0 ? z.shape.dropLast().reduce(1, *) : z.count / k
    var y = [T](repeating: 0, count: rows * v)
    if let bias { for r in 0..<rows { for j in 0..<v { y[r * v + j] = bias.scalars[j] } } }
    gemm(z.scalars, weight.scalars, into: &y, m: rows, n: v, k: k, transposeB: true, accumulate: true)
    var p = [T]()
    p.reserveCapacity(rows * v)
    for r in 0..<rows { p.append(contentsOf: softmax(Array(y[(r * v)..<((r + 1) * v)]))) }
    let shape = Array(z.shape.dropLast()) + [v]
    return (Tensor(shape: shape, scalars: y), Tensor(shape: shape, scalars: p))
}

/// Backpropagation through time for `cellSequenceForward`, adding into `g`: `sequenceBackward` with the
/// cache's head, probabilities and first loss step.
///
///     dh_t = ∂L/∂h_t (head) + dh_prev from step t+1      (cross-entropy: W_hyᵀ (p_t − onehot))
///     dh_{t−1}, dc_{t−1} = cell.backward(step t, dh_t, dc_t)   (adds the weight gradients)
///
/// Arguments:
///   - window: truncation length; no gradient flows from one window of `window` steps into the
///     previous one (the state does, in the forward pass). nil: full BPTT. dL/dh0 (dc0) is what
///     reaches the initial state through the first window.
///   - g: `dh` and `dc` are filled when they are there (`recordStateGradients`).
@inlinable
public func cellSequenceBackward<T: KernelScalar>(
    _ cell: RecurrentCell<T>, cache: CellSequenceCache<T>,
    head: SequenceLossHead<T>, window: Int? = nil,
    into g: inout CellSequenceGradients<T>
) {
    var spec = SequenceBackwardSpec(head: head, probabilities: cache.p, lossFrom: cache.lossFrom)
    spec.window = window
    spec.recordStateGradients = g.dh != nil
    do {
        try sequenceBackward(cell, run: cache.run, spec, into: &g)
    } catch {
        // `cellSequenceForward` always keeps the caches: only a hand-made cache gets here.
        preconditionFailure("cellSequenceBackward: \(error)")
    }
}

/// Per-step norms of a [T, B, N] tensor: ‖a_t‖ over the batch and features, [T].
@inlinable
public func stepNorms<T: KernelScalar>(_ a: Tensor<T>) -> Tensor<T> {
    let steps = a.shape[0], n = a.count / Swift.max(steps, 1)
    return Tensor(
        (0..<steps).map { t in
            var sum: T = 0
            for k in (t * n)..<((t + 1) * n) { sum += a.scalars[k] * a.scalars[k] }
            return sum.squareRoot()
        })
}
