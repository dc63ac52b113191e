// Backward passes of `runSequence` and `runStack`: the gradients of an upstream-weighted loss
//
//     L = Σ dOutputs ⊙ outputs + Σ dhLast ⊙ hLast (+ Σ dcLast ⊙ cLast + Σ dCellStates ⊙ cellStates)
//
// with respect to every cell's weights, the input sequence and the initial states, routed step by
// step (masked steps, reverse direction, outputs in processing order, stacked layers) through the
// cell core's `backward`.
//
// Shape legend: T steps, B batch, I input, H hidden, P state size of h, D directions.
//   x [T, B, I], h0 [B, P], c0 [B, H], mask [T, B] (true = a real step)
//   outputs, dOutputs [T, B, P]; stacked output, dOutput [T, B, D*P]

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

/// Backpropagation through a `runSequence` run.
///
///     dy_k   = dOutputs[position k] + (what a later masked step repeating y_k sends back)
///     real step:   dh_t, dc_t = dhState + dy_k, dcState → cell.backward → dhState, dcState, dx_t
///     masked step: the state passes through unchanged (dhState, dcState kept), dx_t = 0,
///                  dy_k flows to the previous output when `maskedOutput` is `.previous`
///
/// processing steps k = T−1 … 0, starting from dhState = dhLast, dcState = dcLast.
///
/// Arguments:
///   - run: the forward run (its caches, in processing order).
///   - mask, maskedOutput, outputsInProcessingOrder: as given to `runSequence`.
///   - dOutputs: dL/d(outputs), [T, B, P], laid out like `run.outputs`; zeros if nil.
///   - dhLast: dL/d(hLast), [B, P]. - dcLast: dL/d(cLast), [B, H] (LSTM). Zeros if nil.
/// - Returns: the weight gradients, dL/dx, dL/dh0 (and dL/dc0).
/// - Precondition: the run kept its step caches (`runSequence(..., keepCaches: true)`, the default).
/// - Note: the step math is the cell core's `backward`; this only routes gradients through time.
@inlinable
public func runSequenceBackward<T: KernelScalar>(
    _ cell: RecurrentCell<T>, run: SequenceRun<T>, mask: Tensor<Bool>? = nil,
    maskedOutput: MaskedStepOutput = .zero, outputsInProcessingOrder: Bool = false,
    dOutputs: Tensor<T>? = nil, dhLast: Tensor<T>? = nil, dcLast: Tensor<T>? = nil,
    dCellStates: Tensor<T>? = nil
) -> SequenceRunGradients<T> {
    let steps = run.outputs.shape[0], bsz = run.hLast.shape[0]
    precondition(run.caches.count == steps && run.steps.count == steps,
                 "runSequenceBackward: the run kept \(run.caches.count) step caches for \(steps) steps (keepCaches: false?)")
    let s = cell.stateSize, h = cell.hiddenSize, inp = cell.inputSize
    let isLSTM = cell.conventions.kind == .lstm
    if let dOutputs { precondition(dOutputs.shape == run.outputs.shape, "runSequenceBackward: dOutputs \(dOutputs.shape) for outputs \(run.outputs.shape)") }
    if let dhLast { precondition(dhLast.shape == [bsz, s], "runSequenceBackward: dhLast \(dhLast.shape)") }
    if let dcLast { precondition(isLSTM && dcLast.shape == [bsz, h], "runSequenceBackward: dcLast \(dcLast.shape)") }
    if let dCellStates { precondition(isLSTM && dCellStates.shape == [steps, bsz, h], "runSequenceBackward: dCellStates \(dCellStates.shape)") }
    var grads = CellGradients(zerosLike: cell)
    var dx = [T](repeating: 0, count: steps * bsz * inp)
    var dhState = dhLast?.scalars ?? [T](repeating: 0, count: bsz * s)
    var dcState: [T]? = isLSTM ? (dcLast?.scalars ?? [T](repeating: 0, count: bsz * h)) : nil
    var dPrevOut = [T](repeating: 0, count: bsz * s)
    for k in stride(from: steps - 1, through: 0, by: -1) {
        let t = run.steps[k], position = outputsInProcessingOrder ? k : t
        var dy = dPrevOut
        if let dOutputs { for e in 0..<(bsz * s) { dy[e] += dOutputs.scalars[position * bsz * s + e] } }
        // The cell state after this step, read from outside: its gradient joins the one from later steps
        // (a masked step's carried state passes it on unchanged, as it does dcState).
        if let dCellStates { for e in 0..<(bsz * h) { dcState![e] += dCellStates.scalars[position * bsz * h + e] } }
        var dh = dhState, dc = dcState
        var nextPrevOut = [T](repeating: 0, count: bsz * s)
        var real = [Bool](repeating: true, count: bsz)
        for b in 0..<bsz {
            real[b] = mask?.scalars[t * bsz + b] ?? true
            if real[b] {
                for j in 0..<s { dh[b * s + j] += dy[b * s + j] }
            } else {
                // The cell's results are discarded at a masked step: nothing flows into them.
                for j in 0..<s { dh[b * s + j] = 0 }
                if maskedOutput == .previous { for j in 0..<s { nextPrevOut[b * s + j] = dy[b * s + j] } }
                if dc != nil { for j in 0..<h { dc![b * h + j] = 0 } }
            }
        }
        let back = cell.backward(run.caches[k], dh: Tensor(shape: [bsz, s], scalars: dh),
                                 dc: dc.map { Tensor(shape: [bsz, h], scalars: $0) }, into: &grads)
        dx.replaceSubrange((t * bsz * inp)..<((t + 1) * bsz * inp), with: back.x.scalars)
        for b in 0..<bsz where real[b] {
            for j in 0..<s { dhState[b * s + j] = back.hPrev.scalars[b * s + j] }
            if let cp = back.cPrev { for j in 0..<h { dcState![b * h + j] = cp.scalars[b * h + j] } }
        }
        dPrevOut = nextPrevOut
    }
    return SequenceRunGradients(cell: grads, x: Tensor(shape: [steps, bsz, inp], scalars: dx),
                                h0: Tensor(shape: [bsz, s], scalars: dhState),
                                c0: dcState.map { Tensor(shape: [bsz, h], scalars: $0) })
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

/// Backpropagation through a `runStack` run: the last layer first; each layer's dL/d(input) is the
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
) -> StackRunGradients<T> {
    precondition(run.runs.count == layers.count, "runStackBackward: \(run.runs.count) layer runs for \(layers.count) layers")
    var cells = [[CellGradients<T>]](repeating: [], count: layers.count)
    var h0 = [[Tensor<T>]](repeating: [], count: layers.count)
    var c0 = [[Tensor<T>?]](repeating: [], count: layers.count)
    var dLayerOut = dOutput
    var dInput: Tensor<T>? = nil
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
        let parts = dLayerOut.map { splitLastAxis($0, widths: layers[l].map(\.stateSize)) }
        var sum: [T]? = nil
        for (d, cell) in layers[l].enumerated() {
            let g = runSequenceBackward(cell, run: run.runs[l][d], mask: mask, maskedOutput: maskedOutput,
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
