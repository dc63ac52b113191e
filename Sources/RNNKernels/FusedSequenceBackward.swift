// The backward pass of a fused forward run: backpropagation through time for an LSTM or a GRU (reset after the
// product) whose step caches the fused forward pass wrote (`SequenceTape.FusedCaches`), a block of steps per
// call to RNNKernelsSIMD (`rnn_sequence_backward_*`), which splits the batch rows between threads that run
// through every step of the block without meeting, reading the tape in place. The weight gradients are
// `accumulateWeightGradients` over each block, as `sequenceBackward` computes them. Bit-identical to the
// step-by-step driver (`backwardStep` per step), which the tests check.
//
// Shape legend: T steps, B batch, I input, H hidden, G gates.

import RNNKernelsSIMD

/// The arguments of one block of the fused backward pass (see `rnn_sequence_backward_args_f32`).
@usableFromInline
struct FusedBackwardArguments<T> {
    var kind: Int32
    var updateSideCandidate: Bool
    var steps: Int
    var batch: Int
    var hidden: Int
    var parts: Int
    var blocks: UnsafePointer<Int>
    var bounds: UnsafePointer<Int>
    var panels: UnsafePointer<T>
    var gates: UnsafePointer<UnsafePointer<T>?>
    var states: UnsafePointer<UnsafePointer<T>?>
    var cPrev: UnsafePointer<UnsafePointer<T>?>?
    var hPrev: UnsafePointer<UnsafePointer<T>?>
    var dy: UnsafePointer<UnsafePointer<T>?>
    var dh: UnsafeMutablePointer<T>
    var dc: UnsafeMutablePointer<T>?
    var da: UnsafeMutablePointer<T>
    var dRecurrent: UnsafeMutablePointer<T>?
}

extension Float {
    static func fusedSequenceBackward(_ g: FusedBackwardArguments<Float>) {
        var args = rnn_sequence_backward_args_f32(
            kind: g.kind, updateSideCandidate: g.updateSideCandidate ? 1 : 0, steps: g.steps, batch: g.batch,
            hidden: g.hidden, parts: g.parts, blocks: g.blocks, bounds: g.bounds, panels: g.panels, gates: g.gates,
            states: g.states, cPrev: g.cPrev, hPrev: g.hPrev, dy: g.dy, dh: g.dh, dc: g.dc, da: g.da,
            dRecurrent: g.dRecurrent)
        rnn_sequence_backward_f32(&args)
    }
}

extension Double {
    static func fusedSequenceBackward(_ g: FusedBackwardArguments<Double>) {
        var args = rnn_sequence_backward_args_f64(
            kind: g.kind, updateSideCandidate: g.updateSideCandidate ? 1 : 0, steps: g.steps, batch: g.batch,
            hidden: g.hidden, parts: g.parts, blocks: g.blocks, bounds: g.bounds, panels: g.panels, gates: g.gates,
            states: g.states, cPrev: g.cPrev, hPrev: g.hPrev, dy: g.dy, dh: g.dh, dc: g.dc, da: g.da,
            dRecurrent: g.dRecurrent)
        rnn_sequence_backward_f64(&args)
    }
}

extension FusedSequenceScalar {
    /// Runs the backward kernel on arguments typed by the caller's generic scalar (which is Self).
    static func callFusedBackward<U>(_ args: FusedBackwardArguments<U>) {
        fusedSequenceBackward(unsafeBitCast(args, to: FusedBackwardArguments<Self>.self))
    }
}

extension RecurrentCell {
    /// The batch rows of each thread of the backward step: `forEachRowRange`'s split for the step's work
    /// (`rowRangeCount`), as the step-by-step path's.
    @usableFromInline
    func backwardRowBounds(batch: Int) -> [Int] {
        let parts = rowRangeCount(batch, work: batch * hiddenSize * (conventions.kind == .lstm ? 8 : 6))
        return (0...parts).map { $0 * batch / parts }
    }

    /// `sequenceBackward` for a run the fused pass kept the caches of, without a mask, window, cell-state
    /// gradients, recorded state gradients or input gradient, and with an upstream head or none; false (and
    /// `g` untouched) elsewhere, or where the step-by-step path would run dR · R otherwise than by rows on
    /// packed panels (fewer than 8 steps, or a step too small for `fusesRowProduct`).
    ///
    /// Per block of `deferredGradientRows` rows of steps, from the last processing step back: the kernel's
    /// steps (gate gradients and dh_prev, dc_prev), then the weight gradients over the block.
    @usableFromInline
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func fusedSequenceBackward(
        run: SequenceRun<T>, _ spec: SequenceBackwardSpec<T>, into g: inout CellSequenceGradients<T>
    ) -> Bool {
        guard let kind = fusedSequenceKind, let scalar = T.self as? any FusedSequenceScalar.Type,
            let tape = run.tape, let fused = tape.fused, spec.mask == nil, spec.window == nil,
            spec.dCellStates == nil, !spec.recordStateGradients, !spec.inputGradient
        else { return false }
        var upstream: Tensor<T>? = nil
        switch spec.head {
        case nil: break
        case .upstream(let dy)?: upstream = dy
        case .crossEntropy?: return false
        }
        let steps = run.outputs.shape[0], bsz = run.hLast.shape[0], h = hiddenSize, inp = inputSize
        let conv = conventions, gc = conv.kind.gateCount, gh = gc * h, isLSTM = conv.kind == .lstm
        guard steps >= 8, stateSize == h, fused.steps == steps else { return false }
        let packedR = packedRecurrent()
        guard fusesRowProduct(batch: bsz, packedR: packedR), let panels = packedR.panels else { return false }
        let bounds = backwardRowBounds(batch: bsz)
        guard bounds.count - 1 <= Int(RNN_SEQUENCE_MAX_PARTS) else { return false }
        let blocks = fusedGateBlocks
        let blockSteps = Swift.max(1, deferredGradientRows / Swift.max(bsz, 1))
        let stride = bsz * h
        var dhState = spec.dhLast?.scalars ?? [T](repeating: 0, count: stride)
        var dcState = isLSTM ? (spec.dcLast?.scalars ?? [T](repeating: 0, count: stride)) : [T](repeating: 0, count: 1)
        // The output position of processing step k in the head's layout (dy) and in the tape's (outputs).
        func headPosition(_ k: Int) -> Int { spec.outputsInProcessingOrder ? k : run.steps[k] }
        func tapePosition(_ k: Int) -> Int { tape.outputsInProcessingOrder ? k : run.steps[k] }
        let dyScalars = upstream?.scalars ?? [T](repeating: 0, count: 1)
        withExtendedLifetime((packedR, fused)) {
            withBuffers(run.outputs.scalars, tape.h0, fused.c0.isEmpty ? [0] : fused.c0, dyScalars) {
                outputs, h0, c0, dy in
                blocks.withUnsafeBufferPointer { blocksBuf in
                    bounds.withUnsafeBufferPointer { boundsBuf in
                        var k = steps - 1
                        while k >= 0 {
                            let n = Swift.min(blockSteps, k + 1), taken = (0..<n).map { k - $0 }
                            // Step kk's h_prev: the output of the step before it in processing, or h0.
                            func hPrev(_ kk: Int) -> UnsafePointer<T> {
                                kk == 0 ? h0.baseAddress! : outputs.baseAddress! + tapePosition(kk - 1) * stride
                            }
                            let gates = taken.map { UnsafePointer(fused.buffers.gates[$0]) }
                            let states = taken.map { UnsafePointer(fused.buffers.states[$0]) }
                            let cPrev: [UnsafePointer<T>?] =
                                isLSTM
                                ? taken.map { $0 == 0 ? c0.baseAddress! : UnsafePointer(fused.buffers.states[$0 - 1]) }
                                : []
                            let hPrevs: [UnsafePointer<T>?] = taken.map { hPrev($0) }
                            let dys: [UnsafePointer<T>?] = taken.map {
                                upstream != nil && headPosition($0) >= spec.lossFrom
                                    ? dy.baseAddress! + headPosition($0) * stride : nil
                            }
                            var da = [T](unsafeUninitializedCapacity: n * bsz * gh) { _, c in c = n * bsz * gh }
                            var dRec =
                                isLSTM
                                ? [T]() : [T](unsafeUninitializedCapacity: n * bsz * gh) { _, c in c = n * bsz * gh }
                            withBuffers(gates, states, cPrev, hPrevs) { gatesBuf, statesBuf, cPrevBuf, hPrevBuf in
                                dys.withUnsafeBufferPointer { dyBuf in
                                    withMutableBuffers(&dhState, &dcState) { dhBuf, dcBuf in
                                        withMutableBuffers(&da, &dRec) { daBuf, dRecBuf in
                                            let args = FusedBackwardArguments<T>(
                                                kind: kind, updateSideCandidate: conv.updateSide == .candidate,
                                                steps: n, batch: bsz, hidden: h, parts: bounds.count - 1,
                                                blocks: blocksBuf.baseAddress!, bounds: boundsBuf.baseAddress!,
                                                panels: UnsafePointer(panels.base), gates: gatesBuf.baseAddress!,
                                                states: statesBuf.baseAddress!,
                                                cPrev: isLSTM ? cPrevBuf.baseAddress! : nil,
                                                hPrev: hPrevBuf.baseAddress!, dy: dyBuf.baseAddress!,
                                                dh: dhBuf.baseAddress!, dc: isLSTM ? dcBuf.baseAddress! : nil,
                                                da: daBuf.baseAddress!, dRecurrent: isLSTM ? nil : dRecBuf.baseAddress!)
                                            scalar.callFusedBackward(args)
                                        }
                                    }
                                }
                            }
                            // The block's rows of x and h_prev, in the order of its gate gradients.
                            var xRows = [T](), hPrevRows = [T]()
                            xRows.reserveCapacity(n * bsz * inp)
                            hPrevRows.reserveCapacity(n * stride)
                            for kk in taken {
                                let t = run.steps[kk]
                                xRows.append(contentsOf: tape.x.scalars[(t * bsz * inp)..<((t + 1) * bsz * inp)])
                                hPrevRows.append(contentsOf: UnsafeBufferPointer(start: hPrev(kk), count: stride))
                            }
                            accumulateWeightGradients(
                                da: da, dRecurrent: isLSTM ? da : dRec, x: xRows, hPrev: hPrevRows, rows: n * bsz,
                                into: &g.cell)
                            k -= n
                        }
                    }
                }
            }
        }
        for e in 0..<stride { g.h0.scalars[e] += dhState[e] }
        if isLSTM { for e in 0..<stride { g.c0!.scalars[e] += dcState[e] } }
        return true
    }
}
