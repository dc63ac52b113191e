// The backward driver: backpropagation through time for any `runSequence` run (and `runStack`, layer by
// layer), with everything about the loss and the run as data (`SequenceBackwardSpec`): a loss head over the
// outputs (softmax cross-entropy or an upstream gradient), the first step in the loss, a truncation window,
// a mask, the direction (read from the run), the output layout, gradients of the final and per-step states,
// and which per-step state gradients to record (probes). Its entry points sit next to their forward passes:
// `cellSequenceForward` / `cellSequenceBackward` (a loss head, CellBPTT.swift) and `runSequence` /
// `runSequenceBackward` (upstream gradients, below); both call `sequenceBackward`.
//
// Shape legend: T steps, B batch, I input, H hidden, P state size of h, V classes, D directions.
//   x [T, B, I], h0 [B, P], c0 [B, H], mask [T, B] (true = a real step)
//   outputs, dOutputs [T, B, P]; probabilities [T, B, V]; stacked output, dOutput [T, B, D*P]

/// Everything the backward driver needs besides the cell and the forward run.
public struct SequenceBackwardSpec<T: KernelScalar>: Sendable {
    /// The loss read from the run's outputs: cross-entropy (with `probabilities`) or an upstream
    /// gradient dL/d(outputs) laid out like the outputs; nil for none.
    public var head: SequenceLossHead<T>?
    /// Cross-entropy: the softmax outputs of the forward pass, laid out like the outputs, [T, B, V].
    public var probabilities: Tensor<T>?
    /// The first output position whose head term enters the loss.
    public var lossFrom: Int = 0
    /// Truncation length in processing steps: no gradient flows from one window into the previous one
    /// (the state does, forward). nil: full BPTT.
    public var window: Int?
    /// [T, B], all real if nil; as given to `runSequence`.
    public var mask: Tensor<Bool>?
    /// As given to `runSequence`.
    public var maskedOutput: MaskedStepOutput = .zero
    /// As given to `runSequence`.
    public var outputsInProcessingOrder = false
    /// dL/d(hLast), [B, P]; zeros if nil.
    public var dhLast: Tensor<T>?
    /// dL/d(cLast), [B, H] (LSTM); zeros if nil.
    public var dcLast: Tensor<T>?
    /// dL/d(cell state after every step), [T, B, H] laid out like the outputs (LSTM); zeros if nil.
    public var dCellStates: Tensor<T>?
    /// Record dL/dh_t and (LSTM) dL/dc_t for every step in `CellSequenceGradients.dh` / `.dc`.
    public var recordStateGradients = false
    /// Compute dL/dx into `CellSequenceGradients.x`.
    public var inputGradient = false

    /// A spec with the given head and everything else at its default (full BPTT, no mask, nothing recorded).
    @inlinable
    public init(head: SequenceLossHead<T>? = nil, probabilities: Tensor<T>? = nil, lossFrom: Int = 0) {
        self.head = head
        self.probabilities = probabilities
        self.lossFrom = lossFrom
    }
}

/// Why the backward driver cannot run.
public enum SequenceBackwardError: Error, Equatable, CustomStringConvertible {
    /// The forward run kept no (or too few) step caches: it ran with `keepCaches: false`.
    case cachesNotKept(kept: Int, steps: Int)

    public var description: String {
        switch self {
        case .cachesNotKept(let kept, let steps):
            return
                "the forward run kept \(kept) step caches for \(steps) steps: run it with keepCaches: true for a backward pass"
        }
    }
}

/// Rows of the weight-gradient products the driver defers at a time (`accumulateWeightGradients` over a block
/// of steps), so that the gate gradients of a whole long sequence are never held at once.
@usableFromInline
let deferredGradientRows = 256

/// Backpropagation through time for a `runSequence` run, adding into `g`.
///
///     dy_k = head and upstream gradient at output position k + (what a later masked step repeating y_k sends back)
///     real step:   dh_t, dc_t = dhState + dy_k, dcState → cell backward step → dhState, dcState (da kept)
///     masked step: the state passes through unchanged (dhState, dcState kept), dx_t = 0,
///                  dy_k flows to the previous output when `maskedOutput` is `.previous`
///     dW, dR, db += one product over the gate gradients of a block of steps (`deferredGradientRows`)
///
/// over processing steps k = T−1 … 0, starting from dhState = dhLast, dcState = dcLast, both reset to zero
/// at window boundaries. Cross-entropy: dy_k = W_hyᵀ (p_k − onehot(target_k)), and dW_hy, db_y accumulate.
///
/// - Parameters:
///   - cell: the cell the forward run used.
///   - run: the forward run, with its step caches.
///   - spec: what flows back: the loss head or upstream gradients, the window, mask and lengths, the final
///     state gradients, and whether to record per-step state gradients and compute dx.
///   - g: the gradients to add into (`CellSequenceGradients(zerosLike:...)`, with `x` set when
///     `spec.inputGradient`, `dh`/`dc` when `spec.recordStateGradients`).
/// - Throws: `SequenceBackwardError.cachesNotKept` when the run kept no step caches (`keepCaches: false`).
/// - Note: the step math is the cell core's `backwardStep`; this only routes gradients through time.
@inlinable
public func sequenceBackward<T: KernelScalar>(
    _ cell: RecurrentCell<T>, run: SequenceRun<T>, _ spec: SequenceBackwardSpec<T>,
    into g: inout CellSequenceGradients<T>
) throws(SequenceBackwardError) {
    let steps = run.outputs.shape[0], bsz = run.hLast.shape[0]
    guard run.cacheCount == steps && run.steps.count == steps else {
        throw .cachesNotKept(kept: run.cacheCount, steps: steps)
    }
    let s = cell.stateSize, h = cell.hiddenSize, inp = cell.inputSize
    let isLSTM = cell.conventions.kind == .lstm, gh = cell.conventions.kind.gateCount * h
    let mask = spec.mask
    if let dhLast = spec.dhLast { precondition(dhLast.shape == [bsz, s], "sequenceBackward: dhLast \(dhLast.shape)") }
    if let dcLast = spec.dcLast {
        precondition(isLSTM && dcLast.shape == [bsz, h], "sequenceBackward: dcLast \(dcLast.shape)")
    }
    if let d = spec.dCellStates {
        precondition(isLSTM && d.shape == [steps, bsz, h], "sequenceBackward: dCellStates \(d.shape)")
    }
    if let mask { precondition(mask.shape == [steps, bsz], "sequenceBackward: mask \(mask.shape)") }
    if spec.inputGradient {
        precondition(g.x?.shape == [steps, bsz, inp], "sequenceBackward: g.x must be [T, B, I] zeros")
    }
    if spec.recordStateGradients {
        precondition(g.dh?.shape == [steps, bsz, s], "sequenceBackward: g.dh must be [T, B, P] zeros")
    }
    switch spec.head {
    case .crossEntropy(let why, _, let targets)?:
        precondition(
            spec.probabilities?.shape == [steps, bsz, why.shape[0]] && targets.count == steps * bsz && g.why != nil,
            "sequenceBackward: the cross-entropy head needs the probabilities [T, B, V] and targets [T, B]")
    case .upstream(let dy)?:
        precondition(dy.shape == run.outputs.shape, "sequenceBackward: dy \(dy.shape) for outputs \(run.outputs.shape)")
    case nil: break
    }
    // The common case (a run the fused pass kept, no mask): the same steps in one kernel per block of steps.
    if cell.fusedSequenceBackward(run: run, spec, into: &g) { return }
    // The gate gradients of a block of steps and the matching rows of x and h_prev, in reverse processing
    // order: the weight gradients are one product over the block's rows instead of one per step.
    // (dRecurrent is da itself but for the GRU's n block: kept apart for the GRU only.)
    let separateRecurrent = cell.conventions.kind == .gru
    let blockSteps = Swift.max(1, deferredGradientRows / Swift.max(bsz, 1))
    var da = [T](), dRecurrent = [T](), xRows = [T](), hPrevRows = [T]()
    func flush() {
        if !da.isEmpty {
            cell.accumulateWeightGradients(
                da: da, dRecurrent: separateRecurrent ? dRecurrent : da, x: xRows, hPrev: hPrevRows,
                rows: da.count / gh, into: &g.cell)
        }
        da.removeAll(keepingCapacity: true); dRecurrent.removeAll(keepingCapacity: true)
        xRows.removeAll(keepingCapacity: true); hPrevRows.removeAll(keepingCapacity: true)
    }
    // R packed once for the T products dR_t · R (packing costs about four of them).
    let packedR = steps >= 8 ? cell.packedRecurrent() : nil
    var dhState = spec.dhLast?.scalars ?? [T](repeating: 0, count: bsz * s)
    var dcState: [T]? = isLSTM ? (spec.dcLast?.scalars ?? [T](repeating: 0, count: bsz * h)) : nil
    var dPrevOut = [T](repeating: 0, count: mask == nil ? 0 : bsz * s)
    for k in stride(from: steps - 1, through: 0, by: -1) {
        let t = run.steps[k], position = spec.outputsInProcessingOrder ? k : t
        if let window = spec.window, (k + 1) % window == 0, k + 1 < steps {
            dhState = [T](repeating: 0, count: bsz * s)
            if isLSTM { dcState = [T](repeating: 0, count: bsz * h) }
        }
        // The cell state after this step, read from outside: its gradient joins the one from later steps
        // (a masked step's carried state passes it on unchanged, as it does dcState).
        if let d = spec.dCellStates { for e in 0..<(bsz * h) { dcState![e] += d.scalars[position * bsz * h + e] } }
        // Without a mask the output's gradient goes straight into dh; with one it is gathered first and
        // reaches only the real rows.
        var dh = dhState, dc = dcState
        var dy = mask == nil ? [] : dPrevOut
        if mask == nil {
            addOutputGradient(spec, position: position, batch: bsz, outputs: run.outputs, into: &dh, g: &g)
        } else {
            addOutputGradient(spec, position: position, batch: bsz, outputs: run.outputs, into: &dy, g: &g)
        }
        var real = [Bool](repeating: true, count: mask == nil ? 0 : bsz)
        if let mask {
            var nextPrevOut = [T](repeating: 0, count: bsz * s)
            for b in 0..<bsz {
                real[b] = mask.scalars[t * bsz + b]
                if real[b] {
                    for j in 0..<s { dh[b * s + j] += dy[b * s + j] }
                } else {
                    // The cell's results are discarded at a masked step: nothing flows into them.
                    for j in 0..<s { dh[b * s + j] = 0 }
                    if spec.maskedOutput == .previous { for j in 0..<s { nextPrevOut[b * s + j] = dy[b * s + j] } }
                    if dc != nil { for j in 0..<h { dc![b * h + j] = 0 } }
                }
            }
            dPrevOut = nextPrevOut
        }
        if spec.recordStateGradients { g.dh!.scalars.replaceSubrange((t * bsz * s)..<((t + 1) * bsz * s), with: dh) }
        let cache = run.stepCache(k)
        let back = cell.backwardStep(
            cache, dh: Tensor(shape: [bsz, s], scalars: dh),
            dc: dc.map { Tensor(shape: [bsz, h], scalars: $0) }, packedR: packedR, into: &g.cell)
        // LSTM: dL/dc_t in full, through c_{t+1} and through h_t = o_t ⊙ act(c_t).
        if spec.recordStateGradients, let dcT = back.c {
            g.dc!.scalars.replaceSubrange((t * bsz * h)..<((t + 1) * bsz * h), with: dcT)
        }
        if spec.inputGradient {
            var dx = [T](repeating: 0, count: bsz * inp)
            gemm(back.da, cell.parameters.w.scalars, into: &dx, m: bsz, n: inp, k: gh)
            g.x!.scalars.replaceSubrange((t * bsz * inp)..<((t + 1) * bsz * inp), with: dx)
        }
        if da.isEmpty {
            da.reserveCapacity(blockSteps * bsz * gh)
            if separateRecurrent { dRecurrent.reserveCapacity(blockSteps * bsz * gh) }
            xRows.reserveCapacity(blockSteps * bsz * inp)
            hPrevRows.reserveCapacity(blockSteps * bsz * s)
        }
        da.append(contentsOf: back.da)
        if separateRecurrent { dRecurrent.append(contentsOf: back.dRecurrent) }
        xRows.append(contentsOf: cache.x.scalars)
        hPrevRows.append(contentsOf: cache.hPrev.scalars)
        if da.count >= blockSteps * bsz * gh { flush() }
        if mask == nil {
            dhState = back.hPrev.scalars
            dcState = back.cPrev?.scalars
        } else {
            for b in 0..<bsz where real[b] {
                for j in 0..<s { dhState[b * s + j] = back.hPrev.scalars[b * s + j] }
                if let cp = back.cPrev { for j in 0..<h { dcState![b * h + j] = cp.scalars[b * h + j] } }
            }
        }
    }
    flush()
    for e in 0..<(bsz * s) { g.h0.scalars[e] += dhState[e] }
    if let dcState { for e in 0..<(bsz * h) { g.c0!.scalars[e] += dcState[e] } }
}

/// Adds the gradient of the head at output position `position` into `d` ([B, P]), and (cross-entropy) the
/// head's weight gradients into `g`.
@inlinable
func addOutputGradient<T: KernelScalar>(
    _ spec: SequenceBackwardSpec<T>, position: Int, batch bsz: Int, outputs: Tensor<T>,
    into d: inout [T], g: inout CellSequenceGradients<T>
) {
    guard position >= spec.lossFrom, let head = spec.head else { return }
    let s = outputs.shape[2]
    switch head {
    case .crossEntropy(let why, _, let targets):
        let v = why.shape[0]
        var dy = Array(spec.probabilities!.scalars[(position * bsz * v)..<((position + 1) * bsz * v)])
        for b in 0..<bsz { dy[b * v + targets[position * bsz + b]] -= 1 }
        let hT = Array(outputs.scalars[(position * bsz * s)..<((position + 1) * bsz * s)])
        gemm(dy, hT, into: &g.why!.scalars, m: v, n: s, k: bsz, transposeA: true, accumulate: true)
        if g.by != nil { addColumnSums(dy, rows: bsz, cols: v, into: &g.by!.scalars) }
        gemm(dy, why.scalars, into: &d, m: bsz, n: s, k: v, accumulate: true)
    case .upstream(let dy):
        for e in 0..<(bsz * s) { d[e] += dy.scalars[position * bsz * s + e] }
    }
}

/// Gradients of one direction of one layer (`runSequenceBackward`).
public struct SequenceRunGradients<T: KernelScalar>: Sendable {
    /// The cell's weights.
    public var cell: CellGradients<T>
    /// dL/dx, [T, B, I] (time order).
    public var x: Tensor<T>
    /// dL/dh0, [B, P].
    public var h0: Tensor<T>
    /// LSTM: dL/dc0, [B, H].
    public var c0: Tensor<T>?

    /// Creates the result from its parts.
    @inlinable
    public init(cell: CellGradients<T>, x: Tensor<T>, h0: Tensor<T>, c0: Tensor<T>?) {
        self.cell = cell
        self.x = x
        self.h0 = h0
        self.c0 = c0
    }
}

/// Backpropagation through a `runSequence` run for the upstream-weighted loss
///
///     L = Σ dOutputs ⊙ outputs + Σ dhLast ⊙ hLast (+ Σ dcLast ⊙ cLast + Σ dCellStates ⊙ cellStates):
///
/// `sequenceBackward` with `dOutputs` as the upstream head and the input gradient asked for.
///
/// Arguments:
///   - run: the forward run (its caches, in processing order).
///   - mask, maskedOutput, outputsInProcessingOrder: as given to `runSequence`.
///   - dOutputs: dL/d(outputs), [T, B, P], laid out like `run.outputs`; zeros if nil.
///   - dhLast: dL/d(hLast), [B, P]. - dcLast: dL/d(cLast), [B, H] (LSTM). Zeros if nil.
/// - Returns: the weight gradients, dL/dx, dL/dh0 (and dL/dc0).
/// - Throws: `SequenceBackwardError.cachesNotKept` when the run kept no step caches (`keepCaches: false`).
@inlinable
public func runSequenceBackward<T: KernelScalar>(
    _ cell: RecurrentCell<T>, run: SequenceRun<T>, mask: Tensor<Bool>? = nil,
    maskedOutput: MaskedStepOutput = .zero, outputsInProcessingOrder: Bool = false,
    dOutputs: Tensor<T>? = nil, dhLast: Tensor<T>? = nil, dcLast: Tensor<T>? = nil,
    dCellStates: Tensor<T>? = nil
) throws(SequenceBackwardError) -> SequenceRunGradients<T> {
    var spec = SequenceBackwardSpec<T>(head: dOutputs.map { .upstream(dy: $0) })
    spec.mask = mask
    spec.maskedOutput = maskedOutput
    spec.outputsInProcessingOrder = outputsInProcessingOrder
    spec.dhLast = dhLast
    spec.dcLast = dcLast
    spec.dCellStates = dCellStates
    spec.inputGradient = true
    let steps = run.outputs.shape[0], bsz = run.hLast.shape[0]
    var g = CellSequenceGradients(zerosLike: cell, head: spec.head, steps: steps, batch: bsz, inputGradient: true)
    try sequenceBackward(cell, run: run, spec, into: &g)
    return SequenceRunGradients(cell: g.cell, x: g.x!, h0: g.h0, c0: g.c0)
}

/// Gradients of a `runStack` run.
public struct StackRunGradients<T: KernelScalar>: Sendable {
    /// cells[layer][direction].
    public var cells: [[CellGradients<T>]]
    /// dL/dx, [T, B, I].
    public var x: Tensor<T>
    /// h0[layer][direction] [B, P]; c0[layer][direction] [B, H] (LSTM).
    public var h0: [[Tensor<T>]]
    /// The gradient of each layer and direction's initial cell state (LSTM), or nil.
    public var c0: [[Tensor<T>?]]

    /// Creates the result from its parts.
    @inlinable
    public init(cells: [[CellGradients<T>]], x: Tensor<T>, h0: [[Tensor<T>]], c0: [[Tensor<T>?]]) {
        self.cells = cells
        self.x = x
        self.h0 = h0
        self.c0 = c0
    }
}

/// Backpropagation through a `runStack` run (`runSequenceBackward` per layer and direction): the last layer first; each layer's dL/d(input) is the
/// sum over its directions, and it is what the layer below receives for its concatenated outputs.
///
/// Arguments:
///   - layers, directions, mask, maskedOutput: as given to `runStack`.
///   - dOutput: dL/d(run.output), [T, B, D*P]; zeros if nil.
///   - dhLast, dcLast: dhLast[l][d] [B, P], dcLast[l][d] [B, H]; nil for zeros.
@inlinable
public func runStackBackward<T: KernelScalar>(
    _ layers: [[RecurrentCell<T>]], directions: [SequenceDirection], run: StackRun<T>,
    mask: Tensor<Bool>? = nil, maskedOutput: MaskedStepOutput = .zero,
    dOutput: Tensor<T>? = nil, dhLast: [[Tensor<T>?]]? = nil, dcLast: [[Tensor<T>?]]? = nil
) throws(SequenceBackwardError) -> StackRunGradients<T> {
    precondition(
        run.runs.count == layers.count, "runStackBackward: \(run.runs.count) layer runs for \(layers.count) layers")
    var cells = [[CellGradients<T>]](repeating: [], count: layers.count)
    var h0 = [[Tensor<T>]](repeating: [], count: layers.count)
    var c0 = [[Tensor<T>?]](repeating: [], count: layers.count)
    var dLayerOut = dOutput
    var dInput: Tensor<T>? = nil
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
        let parts = dLayerOut.map { splitLastAxis($0, widths: layers[l].map(\.stateSize)) }
        var sum: [T]? = nil
        for (d, cell) in layers[l].enumerated() {
            let g = try runSequenceBackward(
                cell, run: run.runs[l][d], mask: mask, maskedOutput: maskedOutput,
                dOutputs: parts?[d], dhLast: dhLast?[l][d], dcLast: dcLast?[l][d])
            cells[l].append(g.cell)
            h0[l].append(g.h0)
            c0[l].append(g.c0)
            if sum == nil { sum = g.x.scalars } else { for e in 0..<g.x.count { sum![e] += g.x.scalars[e] } }
            dInput = Tensor(shape: g.x.shape, scalars: sum!)
        }
        dLayerOut = dInput
    }
    return StackRunGradients(cells: cells, x: dInput!, h0: h0, c0: c0)
}

/// The inverse of `concatenatedLastAxis`: parts of the given widths along the last axis.
@inlinable
public func splitLastAxis<T: KernelScalar>(_ t: Tensor<T>, widths: [Int]) -> [Tensor<T>] {
    let n = t.shape.last ?? 0, outer = n == 0 ? 0 : t.count / n
    precondition(widths.reduce(0, +) == n, "splitLastAxis: widths \(widths) for \(t.shape)")
    var offset = 0
    return widths.map { w in
        var part = [T]()
        part.reserveCapacity(outer * w)
        for o in 0..<outer { part.append(contentsOf: t.scalars[(o * n + offset)..<(o * n + offset + w)]) }
        offset += w
        return Tensor(shape: Array(t.shape.dropLast()) + [w], scalars: part)
    }
}

/// Σ_k Σ upstream_k ⊙ value_k: the scalar loss whose gradient with respect to each value is its
/// upstream (how the framework kernels turn upstream gradients into a loss to differentiate).
@inlinable
public func upstreamLoss<T: KernelScalar>(_ pairs: [(upstream: Tensor<T>, value: Tensor<T>)]) -> T {
    var sum: T = 0
    for (u, v) in pairs {
        precondition(u.shape == v.shape, "upstreamLoss: upstream \(u.shape) for a value \(v.shape)")
        for e in 0..<u.count { sum += u.scalars[e] * v.scalars[e] }
    }
    return sum
}
