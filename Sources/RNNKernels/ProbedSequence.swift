// A cell sequence with probes added to its states, so that the gradient reaching every state is
// the gradient with respect to an input, which central differences can check.
//
// Shape legend: T steps, B batch, I input, H hidden, P state size of h.
//   x [T, B, I], h0 [B, P], c0 [B, H], probeH [T, B, P], probeC [T, B, H]

/// `cellSequenceForward` with probes added to the states after every step:
///
///     c'_t = c_t + probeC_t,   h'_t = o_t ⊙ act(c'_t) + probeH_t     (LSTM)
///     h'_t = h_t + probeH_t                                         (RNN, GRU)
///
/// h'_t and c'_t feed step t+1 and the head. With zero probes the values are
/// `cellSequenceForward`'s (up to rounding); `cellSequenceBackward` on the returned cache then reports
/// dh[t] = dL/dprobeH_t and dc[t] = dL/dprobeC_t, the full gradients reaching h_t and c_t.
///
/// - Parameters:
///   - probeH: [T, B, P], zeros if nil. - probeC: [T, B, H] (LSTM), zeros if nil.
/// - Returns: the cache, whose step caches hold c'_t (what h'_t and step t+1 read) and h'_t.
/// - Precondition: an LSTM probed on c has no peepholes and no projection (o_t and h_t are then
///   exactly o_t ⊙ act(c)).
@inlinable
public func probedSequenceForward<T: KernelScalar>(
    _ cell: RecurrentCell<T>, x: Tensor<T>, h0: Tensor<T>? = nil, c0: Tensor<T>? = nil,
    probeH: Tensor<T>? = nil, probeC: Tensor<T>? = nil, head: SequenceLossHead<T>, lossFrom: Int = 0
) -> CellSequenceCache<T> {
    let steps = x.shape[0], bsz = x.shape[1], s = cell.stateSize, h = cell.hiddenSize
    let conv = cell.conventions, isLSTM = conv.kind == .lstm
    if let probeH { precondition(probeH.shape == [steps, bsz, s], "probedSequenceForward: probeH \(probeH.shape)") }
    if let probeC {
        let p = cell.parameters
        precondition(isLSTM && probeC.shape == [steps, bsz, h], "probedSequenceForward: probeC \(probeC.shape)")
        precondition(p.projection == nil && p.peepholeI == nil && p.peepholeF == nil && p.peepholeO == nil,
                     "probedSequenceForward: a c probe needs an LSTM without peepholes or projection")
    }
    var hState = h0 ?? Tensor(zeros: [bsz, s])
    var cState: Tensor<T>? = isLSTM ? (c0 ?? Tensor(zeros: [bsz, h])) : nil
    var caches = [CellStepCache<T>]()
    // The input part of every step at once, as `runSequence` computes it.
    let gh = conv.kind.gateCount * h
    let projected = cell.projectInputs(x.scalars, rows: steps * bsz)
    let split = cell.sequenceSplit(batch: bsz)
    for t in 0..<steps {
        var cache = cell.forward(x: x.slice(t), projected: Array(projected[(t * bsz * gh)..<((t + 1) * bsz * gh)]),
                                 hPrev: hState, cPrev: cState, split: split)
        if let probeC, case .lstm(let cPrev, let cStep, _) = cache.state {
            let o = cache.gate(.o, of: conv).scalars
            var c = cStep.scalars, hNew = c
            for k in 0..<(bsz * h) { c[k] += probeC.scalars[t * bsz * h + k] }
            // h = o ⊙ act(c), with the buffer form of act the cell itself uses.
            c.withUnsafeBufferPointer { cb in hNew.withUnsafeMutableBufferPointer { conv.outputActivation.apply(cb, into: $0) } }
            for k in 0..<(bsz * h) { hNew[k] *= o[k] }
            cache.state = .lstm(cPrev: cPrev, c: Tensor(shape: [bsz, h], scalars: c), unprojected: nil)
            cache.h = Tensor(shape: [bsz, s], scalars: hNew)
        }
        if let probeH {
            for k in 0..<(bsz * s) { cache.h.scalars[k] += probeH.scalars[t * bsz * s + k] }
        }
        hState = cache.h
        cState = cache.cellState
        caches.append(cache)
    }
    let hAll = Tensor.stacked(caches.map(\.h), innerShape: [bsz, s])
    let (loss, p) = sequenceHeadLoss(hAll, head: head, lossFrom: lossFrom)
    return CellSequenceCache(steps: caches, h: hAll, c: isLSTM ? Tensor.stacked(caches.compactMap(\.cellState), innerShape: [bsz, h]) : nil,
                             p: p, loss: loss, lossFrom: lossFrom)
}
