// The fused forward pass of a sequence: the whole time loop of an LSTM or a GRU (reset after the product) in
// one call to RNNKernelsSIMD (`rnn_sequence_forward_*`), which keeps every step's buffers, splits the batch
// rows between threads that run through every step alone (or, with large weights, the hidden units between
// threads that meet at a spinning barrier once per step), and fuses the gates after each step's product;
// for a backward pass it also writes the step caches into the run's tape. Bit-identical to the step-by-step
// path (`forwardInPlace`, and `forward` keeping caches), which the tests check.
//
// Shape legend: T steps, B batch, I input, H hidden, G gates.

import RNNKernelsSIMD

/// The arguments of one fused sequence forward pass (see `rnn_sequence_args_f32` in RNNKernelsSIMD.h).
@usableFromInline
struct FusedSequenceArguments<T> {
    var kind: Int32
    var reverse: Bool
    var processingOrder: Bool
    var updateSideCandidate: Bool
    var splitRows: Bool
    var steps: Int
    var batch: Int
    var hidden: Int
    var parts: Int
    var blocks: UnsafePointer<Int>
    var bounds: UnsafePointer<Int>
    var panels: UnsafePointer<UnsafePointer<T>?>
    var projected: UnsafePointer<T>?
    var inputs: UnsafePointer<T>?
    var inputSize: Int
    var inputPanels: UnsafePointer<UnsafePointer<T>?>?
    var inputBias: UnsafePointer<T>?
    var recurrentBias: UnsafePointer<T>?
    var hA: UnsafeMutablePointer<T>
    var hB: UnsafeMutablePointer<T>
    var c: UnsafeMutablePointer<T>?
    var out: UnsafeMutablePointer<T>
    var gatesOut: UnsafePointer<UnsafeMutablePointer<T>?>?
    var cellsOut: UnsafePointer<UnsafeMutablePointer<T>?>?
    var resetOut: UnsafePointer<UnsafeMutablePointer<T>?>?
}

/// The fused sequence kernel per scalar type (Float: `_f32`, Double: `_f64`).
protocol FusedSequenceScalar: KernelScalar {
    /// Runs the fused forward pass; false when it did not run (a thread could not be created for parts that
    /// meet every step), and nothing was written.
    static func fusedSequenceForward(_ args: FusedSequenceArguments<Self>) -> Bool
    static func fusedSequenceBackward(_ args: FusedBackwardArguments<Self>)
}

extension Float: FusedSequenceScalar {
    static func fusedSequenceForward(_ g: FusedSequenceArguments<Float>) -> Bool {
        var args = rnn_sequence_args_f32(
            kind: g.kind, reverse: g.reverse ? 1 : 0, processingOrder: g.processingOrder ? 1 : 0,
            updateSideCandidate: g.updateSideCandidate ? 1 : 0, splitRows: g.splitRows ? 1 : 0, steps: g.steps,
            batch: g.batch, hidden: g.hidden,
            parts: g.parts, blocks: g.blocks, bounds: g.bounds, panels: g.panels, projected: g.projected,
            inputs: g.inputs, inputSize: g.inputSize, inputPanels: g.inputPanels, inputBias: g.inputBias,
            recurrentBias: g.recurrentBias, hA: g.hA, hB: g.hB, c: g.c, out: g.out, gatesOut: g.gatesOut,
            cellsOut: g.cellsOut, resetOut: g.resetOut)
        return rnn_sequence_forward_f32(&args) != 0
    }
}

extension Double: FusedSequenceScalar {
    static func fusedSequenceForward(_ g: FusedSequenceArguments<Double>) -> Bool {
        var args = rnn_sequence_args_f64(
            kind: g.kind, reverse: g.reverse ? 1 : 0, processingOrder: g.processingOrder ? 1 : 0,
            updateSideCandidate: g.updateSideCandidate ? 1 : 0, splitRows: g.splitRows ? 1 : 0, steps: g.steps,
            batch: g.batch, hidden: g.hidden,
            parts: g.parts, blocks: g.blocks, bounds: g.bounds, panels: g.panels, projected: g.projected,
            inputs: g.inputs, inputSize: g.inputSize, inputPanels: g.inputPanels, inputBias: g.inputBias,
            recurrentBias: g.recurrentBias, hA: g.hA, hB: g.hB, c: g.c, out: g.out, gatesOut: g.gatesOut,
            cellsOut: g.cellsOut, resetOut: g.resetOut)
        return rnn_sequence_forward_f64(&args) != 0
    }
}

extension RecurrentCell {
    /// The cell's code in `rnn_sequence_forward_*` where the fused pass computes exactly what
    /// `forwardInPlace` does: an LSTM without peepholes or projection, or a GRU with the reset after the
    /// product, each with sigmoid gates, tanh candidate (and tanh output), no clip and no coupled input and
    /// forget gates, on a CPU with the packed kernels; nil elsewhere.
    @usableFromInline
    var fusedSequenceKind: Int32? {
        guard packedGemmAvailable else { return nil }
        let conv = conventions, p = parameters
        guard conv.clip == nil, !conv.inputForget, conv.gateActivation.kind == .sigmoid,
            conv.candidateActivation.kind == .tanh
        else { return nil }
        switch conv.kind {
        case .lstm:
            guard conv.outputActivation.kind == .tanh, p.projection == nil, p.peepholeI == nil, p.peepholeF == nil,
                p.peepholeO == nil
            else { return nil }
            return Int32(RNN_SEQUENCE_LSTM)
        case .gru:
            return conv.resetPlacement == .afterMatmul ? Int32(RNN_SEQUENCE_GRU) : nil
        case .rnn:
            return nil
        }
    }

    /// `runSequence(self, x:, h0:, c0:, direction:, outputsInProcessingOrder:, keepCaches:)` without a mask
    /// (nor probes, pre-activations or cell states), by the fused kernel; nil where it does not apply
    /// (`fusedSequenceKind`, empty shapes, or a step product the packed kernel would not run), or where it could
    /// not run (a thread could not be created for parts that meet every step), and the caller takes the
    /// step-by-step path. With `keepCaches` (where `fusedKeepsCaches`) the kernel also writes every
    /// step's gates and LSTM cell state or GRU reset input, which the run's tape keeps
    /// (`SequenceTape.FusedCaches`): the step caches the step-by-step path keeps, bit for bit.
    ///
    /// - Parameters: - x: [T, B, I]. - h0, c0: [B, H], zeros if nil. - order: the time index of each processed step.
    @usableFromInline
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func fusedSequenceRun(
        x: Tensor<T>, h0: Tensor<T>?, c0: Tensor<T>?, direction: SequenceDirection,
        outputsInProcessingOrder: Bool, order: [Int], keepCaches: Bool = false
    ) -> SequenceRun<T>? {
        guard let kind = fusedSequenceKind, let scalar = T.self as? any FusedSequenceScalar.Type else { return nil }
        let steps = x.shape[0], bsz = x.shape[1], h = hiddenSize
        guard steps > 0, bsz > 0, h > 0, inputSize > 0, !keepCaches || fusedKeepsCaches(steps: steps, batch: bsz)
        else { return nil }
        guard let parts = sequenceParts(batch: bsz), parts <= Int(RNN_SEQUENCE_MAX_PARTS) else { return nil }
        // The input projection per step inside the kernel (the same sums as one product over all steps, see
        // `rnn_sequence_args_f32`) where that product would run the blocked kernel and a step has two rows
        // or more; else all steps at once here.
        let perStep = fusedProjectsPerStep(steps: steps, batch: bsz)
        let byRows = fusedSplitsRows(batch: bsz, parts: parts, projectsPerStep: perStep)
        let split = splitRecurrent(parts: byRows ? 1 : parts)
        guard split.weights.allSatisfy(\.isPacked) else { return nil }
        let conv = conventions, gc = conv.kind.gateCount, isLSTM = conv.kind == .lstm
        // One part of several rows on an operand small enough to keep B as given: `gemm` would run the plain
        // loop there (another summation order), so the step-by-step path does.
        if parts == 1 && bsz > 1 && !split.weights[0].plain.isEmpty
            && gemmPackedThreads(m: bsz, n: gc * h, k: h, transposeA: false, transposeB: split.weights[0].transposed)
                == 0
        {
            return nil
        }
        let inputWeights = perStep ? packedByHiddenUnit(parameters.w.scalars, ranges: split.ranges, name: "W") : []
        guard inputWeights.allSatisfy(\.isPacked) else { return nil }
        let projected = perStep ? [T](repeating: 0, count: 1) : projectInputs(x.scalars, rows: steps * bsz)
        let inputBias = perStep ? projectionBias : [T](repeating: 0, count: 1)
        var hA = h0?.scalars ?? [T](repeating: 0, count: bsz * h)
        var hB = [T](repeating: 0, count: bsz * h)
        var c = isLSTM ? (c0?.scalars ?? [T](repeating: 0, count: bsz * h)) : [T](repeating: 0, count: 1)
        // Every element is written by the kernel.
        func written(_ n: Int) -> [T] { [T](unsafeUninitializedCapacity: n) { _, count in count = n } }
        var out = written(steps * bsz * h)
        let tape = keepCaches ? StepCacheBuffers<T>(steps: steps, gates: bsz * gc * h, state: bsz * h) : nil
        let cFirst = c
        let blocks = fusedGateBlocks
        let bounds =
            byRows
            ? (0...parts).map { $0 * bsz / parts } : [split.ranges[0].lowerBound] + split.ranges.map(\.upperBound)
        let bias = isLSTM ? [T](repeating: 0, count: 1) : (parameters.br?.scalars ?? [T](repeating: 0, count: gc * h))
        let panels: [UnsafePointer<T>?] = split.weights.map { UnsafePointer($0.panels!.base) }
        let inputPanels: [UnsafePointer<T>?] = inputWeights.map { UnsafePointer($0.panels!.base) }
        var ran = false
        withExtendedLifetime((split, inputWeights)) {
            withBuffers(projected, x.scalars, inputBias, bias) { projBuf, xBuf, inputBiasBuf, biasBuf in
                withBuffers(panels, inputPanels) { panelsBuf, inputPanelsBuf in
                    blocks.withUnsafeBufferPointer { blocksBuf in
                        bounds.withUnsafeBufferPointer { boundsBuf in
                            withMutableBases(&hA, &hB, &c, &out) { hABase, hBBase, cBase, outBase in
                                withBuffers(tape?.gates ?? [], tape?.states ?? []) { gatesBuf, statesBuf in
                                    let args = FusedSequenceArguments<T>(
                                        kind: kind, reverse: direction == .reverse,
                                        processingOrder: outputsInProcessingOrder,
                                        updateSideCandidate: conv.updateSide == .candidate, splitRows: byRows,
                                        steps: steps, batch: bsz, hidden: h, parts: parts,
                                        blocks: blocksBuf.baseAddress!,
                                        bounds: boundsBuf.baseAddress!, panels: panelsBuf.baseAddress!,
                                        projected: perStep ? nil : projBuf.baseAddress!,
                                        inputs: perStep ? xBuf.baseAddress! : nil, inputSize: inputSize,
                                        inputPanels: perStep ? inputPanelsBuf.baseAddress! : nil,
                                        inputBias: perStep ? inputBiasBuf.baseAddress! : nil,
                                        recurrentBias: isLSTM ? nil : biasBuf.baseAddress!,
                                        hA: hABase, hB: hBBase, c: isLSTM ? cBase : nil, out: outBase,
                                        gatesOut: keepCaches ? gatesBuf.baseAddress! : nil,
                                        cellsOut: keepCaches && isLSTM ? statesBuf.baseAddress! : nil,
                                        resetOut: keepCaches && !isLSTM ? statesBuf.baseAddress! : nil)
                                    ran = scalar.callFused(args)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Out of threads for parts that meet every step: the step-by-step path runs instead.
        guard ran else { return nil }
        var run = SequenceRun(
            outputs: Tensor(shape: [steps, bsz, h], scalars: out), hLast: Tensor(shape: [bsz, h], scalars: hA),
            cLast: isLSTM ? Tensor(shape: [bsz, h], scalars: c) : nil, caches: [], steps: order)
        if let tape {
            run.tape = SequenceTape(
                x: x, h0: h0?.scalars ?? [T](repeating: 0, count: bsz * h),
                outputsInProcessingOrder: outputsInProcessingOrder,
                fused: .init(batch: bsz, isLSTM: isLSTM, buffers: tape, c0: isLSTM ? cFirst : []))
        }
        return run
    }
}

extension RecurrentCell {
    /// The storage block of each gate in the order the fused kernels take them (`blocks` of
    /// `rnn_sequence_args_f32` and `rnn_sequence_backward_args_f32`): LSTM i, f, g, o; GRU z, r, n.
    @usableFromInline
    var fusedGateBlocks: [Int] {
        (conventions.kind == .lstm ? [Gate.i, .f, .g, .o] : [Gate.z, .r, .n]).map { conventions.block($0) }
    }

    /// Whether the fused pass splits the batch between its `parts` threads rather than the hidden units. Split
    /// by rows, each thread runs its rows through every step alone, never waiting for the other, but reads the
    /// whole of R (and of W, projecting per step) every step instead of its share. Measured with two threads on
    /// a 2-core Zen 4 (float32 LSTM, T=128 I=128, by rows against by units): H=256 B=32 18.8 against 19.3 ms,
    /// B=8 5.8 against 6.4 ms, or 20.7 ms when the host is busy and a thread waits at the barrier; H=512 B=32
    /// 59.3 against 57.9 ms, H=1024 B=4 81 against 37.5 ms (float64 H=256 B=32 40.6 against 40.9). So: by rows
    /// where each part has two rows or more (the tile kernels, whose sums do not depend on the rows beside
    /// them) and the weights a step reads take at most 4 MiB.
    @usableFromInline
    func fusedSplitsRows(batch: Int, parts: Int, projectsPerStep: Bool) -> Bool {
        let g = conventions.kind.gateCount, h = hiddenSize
        let bytes = g * h * (h + (projectsPerStep ? inputSize : 0)) * MemoryLayout<T>.size
        return parts > 1 && batch >= 2 * parts && bytes <= 4 << 20
    }

    /// Whether the fused pass may stand in for the step path keeping a run's step caches: where it computes
    /// the same bits and holds no more. The step path projects the inputs a block of `cachedProjectionRows`
    /// rows at a time. One block: the fused pass projects all steps alike (at once, or per step with the
    /// same sums). Several: only where every block runs the blocked kernel, whose sums the fused pass's
    /// per-step products repeat (`fusedProjectsPerStep`), holding one step's input part at a time; a short
    /// last block run by another kernel rounds otherwise (T=513 B=1, or T=257 B=2 I=64).
    @usableFromInline
    func fusedKeepsCaches(steps: Int, batch: Int) -> Bool {
        let blockSteps = Swift.max(1, cachedProjectionRows / Swift.max(batch, 1))
        if steps <= blockSteps { return true }
        guard fusedProjectsPerStep(steps: steps, batch: batch) else { return false }
        let gh = conventions.kind.gateCount * hiddenSize, lastSteps = steps - (steps - 1) / blockSteps * blockSteps
        return [blockSteps, lastSteps].allSatisfy {
            gemmRunsBlockedKernel(m: $0 * batch, n: gh, k: inputSize, transposeA: false, transposeB: true)
        }
    }

    /// Whether the fused pass computes each step's input projection inside its time loop (x_t W_partᵀ + b
    /// by the packed kernel on prepacked panels, per thread) rather than all steps at once before it: where
    /// the product over all steps would run the blocked kernel (`gemmRunsBlockedKernel`), whose sums the
    /// per-step products repeat exactly, and a step has two rows or more (one row takes the 1-row kernel).
    @usableFromInline
    func fusedProjectsPerStep(steps: Int, batch: Int) -> Bool {
        batch > 1
            && gemmRunsBlockedKernel(
                m: steps * batch, n: conventions.kind.gateCount * hiddenSize, k: inputSize, transposeA: false,
                transposeB: true)
    }
}

extension FusedSequenceScalar {
    /// Runs the kernel on arguments typed by the caller's generic scalar (which is Self).
    static func callFused<U>(_ args: FusedSequenceArguments<U>) -> Bool {
        fusedSequenceForward(unsafeBitCast(args, to: FusedSequenceArguments<Self>.self))
    }
}
